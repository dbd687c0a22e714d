// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IStraightBond} from "../interfaces/IStraightBond.sol";
import {SecurityToken} from "../token/SecurityToken.sol";
import {PaymentRounds} from "./PaymentRounds.sol";

/// @title StraightBond
/// @notice A straight bond: typed terms, a status, coupons and the redemption paid in a deposit token
/// to the holders of its unit token as of each record date, and green-bond reports.
/// @dev Payment `n` for n in 1..couponCount is coupon n (face × rate ÷ 10,000 ÷ coupons per year per
/// unit); payment `couponCount + 1` is the redemption (redemption value per unit, units cancelled) —
/// at maturity, or on an earlier coupon date at the call price when the issuer called the bond.
/// Each coupon has a record date `recordOffset` before its payment date; the redemption shares the
/// last coupon's (or the called coupon's), and transfers between investors end on that date, so the
/// register the redemption pays is final. The bond stores the unit token's record number of its first
/// coupon, so the unit token may have record dates of its own scheduled before. Roles as in
/// {PaymentRounds}; the issuer also publishes reports and declares a default.
contract StraightBond is PaymentRounds, IStraightBond {
    Terms private _terms;
    uint64[] private _couponDates;
    Status private _status;
    uint16 private _calledAt; // coupon number on whose date the bond is called; 0 = not called
    uint16 private _firstRecord; // the unit token's record number of coupon 1; 0 = not scheduled
    uint128 private _callPrice;
    uint256 private _reports;

    /// @param units_ The bond's unit token.
    /// @param cash_ The deposit token payments are made in.
    /// @param terms_ The bond's terms.
    /// @param couponDates_ Coupon payment dates, increasing, the last equal to the maturity date.
    /// @param admin Receives DEFAULT_ADMIN_ROLE.
    /// @param issuer Receives ISSUER_ROLE.
    /// @param payingAgent Receives PAYING_AGENT_ROLE.
    constructor(
        SecurityToken units_,
        IERC20 cash_,
        Terms memory terms_,
        uint64[] memory couponDates_,
        address admin,
        address issuer,
        address payingAgent
    ) PaymentRounds(units_, cash_, admin, issuer, payingAgent) {
        uint256 n = couponDates_.length;
        if (
            address(units_) == address(0) || address(cash_) == address(0) || terms_.faceValue == 0
                || terms_.maturityDate <= terms_.issueDate || n == 0 || couponDates_[n - 1] != terms_.maturityDate
                || (terms_.couponsPerYear != 1 && terms_.couponsPerYear != 2 && terms_.couponsPerYear != 4
                    && terms_.couponsPerYear != 12)
        ) revert BondInvalidTerms();
        for (uint256 i = 1; i < n; ++i) {
            if (couponDates_[i] <= couponDates_[i - 1]) revert BondInvalidTerms();
        }
        if (couponDates_[0] <= terms_.issueDate + terms_.recordOffset) revert BondInvalidTerms();
        _terms = terms_;
        _couponDates = couponDates_;
    }

    /// @notice Schedules every coupon's record date on the unit token, keeps the record number of the
    /// first (the others follow it: they are scheduled together), and ends transfers between investors
    /// at the redemption's record date. Call once, after this contract received ISSUER_ROLE on the unit
    /// token. Anyone may call.
    /// @dev Requirements: not scheduled before; the record dates are in the future and after any
    /// already scheduled on the unit token.
    function scheduleRecordDates() external {
        if (_firstRecord != 0) revert BondRecordDatesScheduled();
        uint32 offset = _terms.recordOffset;
        uint256 n = _couponDates.length;
        // The next numbers the unit token gives, fixed before any call to it.
        uint256 first = uint256(_units.recordCount()) + 1;
        if (first + n - 1 > type(uint16).max) revert BondInvalidTerms();
        _firstRecord = uint16(first);
        for (uint256 i; i < n; ++i) {
            if (_units.scheduleRecordDate(_couponDates[i] - offset) != first + i) revert BondInvalidTerms();
        }
        _units.setTransfersEnd(_couponDates[n - 1] - offset);
    }

    /// @notice The unit token's record number of coupon `coupon` (1-based); 0 before the record dates
    /// were scheduled.
    function recordOf(uint16 coupon) external view returns (uint16) {
        if (_firstRecord == 0) return 0;
        if (coupon == 0 || coupon > _couponDates.length) revert BondInvalidTerms();
        return _firstRecord + coupon - 1;
    }

    /// @notice The terms.
    function terms() external view returns (Terms memory) {
        return _terms;
    }

    /// @notice The coupon payment dates.
    function couponDates() external view returns (uint64[] memory) {
        return _couponDates;
    }

    /// @notice The lifecycle status.
    function status() external view returns (Status) {
        return _status;
    }

    /// @notice Coupon paid per unit on each coupon date.
    function couponPerUnit() public view returns (uint256) {
        Terms memory t = _terms;
        return uint256(t.faceValue) * t.couponRateBps / 10_000 / t.couponsPerYear;
    }

    /// @notice Number of payments: the coupons and the redemption.
    function paymentCount() public view returns (uint256) {
        return _couponDates.length + 1;
    }

    /// @notice Calls the bond early on the date of coupon `coupon`: that coupon is still paid, later
    /// coupons are cancelled, and the redemption pays `pricePerUnit` on that date to the holders at
    /// that coupon's record date.
    /// @dev Requirements: the caller has ISSUER_ROLE; the bond is Issued; `coupon` is before the last
    /// coupon and its record date has not passed.
    function callBond(uint16 coupon, uint128 pricePerUnit) external onlyRole(ISSUER_ROLE) {
        if (_status != Status.Issued) revert BondInvalidStatus(_status);
        if (coupon == 0 || coupon >= _couponDates.length) revert BondInvalidTerms();
        uint64 record = _couponDates[coupon - 1] - _terms.recordOffset;
        if (block.timestamp >= record) revert BondInvalidTerms();
        _calledAt = coupon;
        _callPrice = pricePerUnit;
        _setStatus(Status.Called);
        // The redemption's record date moved to the called coupon's.
        if (_firstRecord != 0) _units.setTransfersEnd(record);
    }

    /// @notice The coupon on whose date the bond was called (0 if not called) and the call price.
    function callTerms() external view returns (uint16 coupon, uint128 pricePerUnit) {
        return (_calledAt, _callPrice);
    }

    /// @notice Records that the issuer defaulted: no further payments run.
    /// @dev Requirements: the caller has ISSUER_ROLE; the bond is not redeemed.
    function declareDefault() external onlyRole(ISSUER_ROLE) {
        if (_status == Status.Redeemed) revert BondInvalidStatus(_status);
        _setStatus(Status.Defaulted);
    }

    /// @notice Publishes a use-of-proceeds or impact report (green bond tracking). Append-only: a
    /// report can be superseded by a later one, never changed.
    /// @dev Requirements: the caller has ISSUER_ROLE.
    function publishReport(bytes32 contentHash, string calldata uri) external onlyRole(ISSUER_ROLE) {
        emit ReportPublished(_reports++, contentHash, uri);
    }

    /// @notice Number of reports published.
    function reportCount() external view returns (uint256) {
        return _reports;
    }

    function _payment(uint256 payment) internal view override returns (Payment memory p) {
        uint256 n = _couponDates.length;
        if (payment == 0 || payment > n + 1) revert PaymentNotDue(payment, 0);
        uint16 calledAt = _calledAt;
        bool redemption = payment > n;
        // A called bond pays no coupon after the call date.
        if (!redemption && calledAt != 0 && payment > calledAt) revert PaymentNotDue(payment, 0);
        uint256 first = _firstRecord;
        if (first == 0) revert BondRecordDatesNotScheduled();
        uint256 last = calledAt != 0 ? calledAt : n;
        uint256 coupon = redemption ? last : payment;
        // The record numbers were given by the unit token (below 2^16).
        p.record = uint16(first + coupon - 1);
        p.date = _couponDates[coupon - 1];
        p.perUnit = redemption ? (calledAt != 0 ? _callPrice : _terms.redemptionValue) : couponPerUnit();
        p.cancelsUnits = redemption;
    }

    /// @dev A defaulted bond pays nothing more. A redeemed bond refuses only the redemption again: its
    /// coupons (all due on or before the redemption date) stay payable, so the final coupon due the
    /// same day and retries of failed coupon payments still run after the redemption completed.
    function _beforePayment(uint256, Payment memory p) internal override {
        Status s = _status;
        if (s == Status.Defaulted || (s == Status.Redeemed && p.cancelsUnits)) revert BondInvalidStatus(s);
        if (p.cancelsUnits && s == Status.Issued) _setStatus(Status.Matured);
    }

    /// @dev Closed once redeemed: the redemption is complete, so only unpaid coupons are still owed
    /// (at most the coupon count, fixed at construction). A defaulted bond stays open: its cash is the
    /// holders' until the paying agent settles the default off-chain.
    function _closedAndOwed() internal view override returns (bool closed, uint256 owed) {
        if (_status != Status.Redeemed) return (false, 0);
        uint256 last = _calledAt != 0 ? _calledAt : _couponDates.length;
        for (uint256 coupon = 1; coupon <= last; ++coupon) {
            owed += _owed(coupon);
        }
        return (true, owed);
    }

    function _afterPayment(uint256, Payment memory p, bool completed) internal override {
        if (completed && p.cancelsUnits) _setStatus(Status.Redeemed);
    }

    function _setStatus(Status s) private {
        _status = s;
        emit StatusChanged(s);
    }
}
