// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IStraightBond} from "../interfaces/IStraightBond.sol";
import {SecurityToken} from "../token/SecurityToken.sol";

/// @title StraightBond
/// @notice A straight bond: typed terms, a status, and coupon and redemption payments in a deposit
/// token to the holders of its unit token as of each record date.
/// @dev The bond contract must be a settlement facility in the bank's registry (it holds the cash to
/// pay out) and hold ISSUER_ROLE on its unit token (it schedules the record dates and cancels the
/// units it redeems). The paying agent funds it with deposit tokens before each payment.
///
/// Payment `n` for n in 1..couponCount is coupon n; payment `couponCount + 1` is the redemption at
/// maturity (face redemption value per unit, with the units cancelled). Each payment has its own
/// record date, `recordOffset` seconds before its payment date; the last coupon and the redemption
/// share the maturity record date.
///
/// Roles:
/// - DEFAULT_ADMIN_ROLE grants and revokes roles.
/// - PAYING_AGENT_ROLE runs payment batches (the trust bank).
/// - ISSUER_ROLE publishes green-bond reports and records calls and defaults.
contract StraightBond is AccessControl, IStraightBond {
    /// @notice Runs payment batches.
    bytes32 public constant PAYING_AGENT_ROLE = keccak256("PAYING_AGENT_ROLE");
    /// @notice Publishes reports; records calls and defaults.
    bytes32 public constant ISSUER_ROLE = keccak256("ISSUER_ROLE");

    SecurityToken private immutable _units;
    IERC20 private immutable _cash;
    Terms private _terms;
    uint64[] private _paymentDates;
    Status private _status;
    uint256 private _reports;

    struct Batch {
        uint256 payment;
        uint16 record;
        uint256 perUnit;
        uint256 available;
        uint256 paidUnits;
        bool redemption;
    }

    mapping(uint256 payment => mapping(address holder => bool)) private _paid;
    mapping(uint256 payment => uint256) private _paidUnits;

    /// @param units The bond's unit token.
    /// @param cash The deposit token payments are made in.
    /// @param terms The bond's terms.
    /// @param couponDates Coupon payment dates, increasing, the last equal to the maturity date.
    /// @param admin Receives DEFAULT_ADMIN_ROLE.
    /// @param issuer Receives ISSUER_ROLE.
    /// @param payingAgent Receives PAYING_AGENT_ROLE.
    constructor(
        SecurityToken units,
        IERC20 cash,
        Terms memory terms,
        uint64[] memory couponDates,
        address admin,
        address issuer,
        address payingAgent
    ) {
        uint256 n = couponDates.length;
        if (
            address(units) == address(0) || address(cash) == address(0) || terms.faceValue == 0
                || terms.maturityDate <= terms.issueDate || n == 0 || couponDates[n - 1] != terms.maturityDate
                || (terms.couponsPerYear != 1 && terms.couponsPerYear != 2 && terms.couponsPerYear != 4
                    && terms.couponsPerYear != 12)
        ) revert BondInvalidTerms();
        for (uint256 i = 1; i < n; ++i) {
            if (couponDates[i] <= couponDates[i - 1]) revert BondInvalidTerms();
        }
        if (couponDates[0] <= terms.issueDate + terms.recordOffset) revert BondInvalidTerms();
        _units = units;
        _cash = cash;
        _terms = terms;
        _paymentDates = couponDates;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(ISSUER_ROLE, issuer);
        _grantRole(PAYING_AGENT_ROLE, payingAgent);
    }

    /// @notice Schedules the record date of every payment on the unit token. Call once, after this
    /// contract received ISSUER_ROLE on the unit token. Anyone may call.
    /// @dev Requirements: the record dates are in the future and after any already scheduled.
    function scheduleRecordDates() external {
        uint32 offset = _terms.recordOffset;
        for (uint256 i; i < _paymentDates.length; ++i) {
            _units.scheduleRecordDate(_paymentDates[i] - offset);
        }
    }

    // ---------------------------------------------------------------- views

    /// @notice The unit token.
    function units() external view returns (SecurityToken) {
        return _units;
    }

    /// @notice The deposit token payments are made in.
    function cash() external view returns (IERC20) {
        return _cash;
    }

    /// @notice The terms.
    function terms() external view returns (Terms memory) {
        return _terms;
    }

    /// @notice The coupon payment dates.
    function couponDates() external view returns (uint64[] memory) {
        return _paymentDates;
    }

    /// @notice The lifecycle status.
    function status() external view returns (Status) {
        return _status;
    }

    /// @notice Coupon paid per unit on each coupon date: face × rate ÷ 10,000 ÷ coupons per year.
    function couponPerUnit() public view returns (uint256) {
        Terms memory t = _terms;
        return uint256(t.faceValue) * t.couponRateBps / 10_000 / t.couponsPerYear;
    }

    /// @notice Number of payments: the coupons and the redemption.
    function paymentCount() public view returns (uint256) {
        return _paymentDates.length + 1;
    }

    /// @notice Whether `holder` has been paid for `payment`.
    function isPaid(uint256 payment, address holder) external view returns (bool) {
        return _paid[payment][holder];
    }

    /// @notice Units paid so far for `payment`, and the units at its record date.
    function progress(uint256 payment) external view returns (uint256 paidUnits, uint256 recordUnits) {
        return (_paidUnits[payment], _units.supplyAtRecord(_record(payment)));
    }

    /// @notice What `holder` is owed for `payment` (zero once paid).
    function entitlement(uint256 payment, address holder) public view returns (uint256 units_, uint256 amount) {
        if (_paid[payment][holder]) return (0, 0);
        units_ = _units.balanceAtRecord(holder, _record(payment));
        amount = units_ * _amountPerUnit(payment);
    }

    // ---------------------------------------------------------------- payments

    /// @notice Pays `holders` their entitlement for `payment`. Holders already paid, or with no units
    /// at the record date, are skipped, so a batch can be retried or overlap another. A holder whose
    /// payment the deposit token refuses (e.g. not a bank customer) stays unpaid and is reported.
    /// For the redemption, the holder's units are cancelled as they are paid.
    /// @dev Requirements:
    /// - the caller has PAYING_AGENT_ROLE;
    /// - the payment is due (its date has passed) and the bond is not defaulted;
    /// - this contract holds enough deposit tokens for the batch.
    function pay(uint256 payment, address[] calldata holders) external onlyRole(PAYING_AGENT_ROLE) {
        uint64 date = _paymentDate(payment);
        if (block.timestamp < date) revert BondPaymentNotDue(payment, date);
        Status s = _status;
        if (s == Status.Defaulted || s == Status.Redeemed) revert BondInvalidStatus(s);
        bool redemption = payment == paymentCount();
        if (redemption && s == Status.Issued) {
            _status = Status.Matured;
            emit StatusChanged(Status.Matured);
        }
        Batch memory b = Batch({
            payment: payment,
            record: _record(payment),
            perUnit: _amountPerUnit(payment),
            available: _cash.balanceOf(address(this)),
            paidUnits: _paidUnits[payment],
            redemption: redemption
        });
        for (uint256 i; i < holders.length; ++i) {
            _payHolder(b, holders[i]);
        }
        _paidUnits[payment] = b.paidUnits;
        if (b.paidUnits == _units.supplyAtRecord(b.record)) {
            emit PaymentCompleted(payment, b.paidUnits, b.paidUnits * b.perUnit);
            if (redemption) {
                _status = Status.Redeemed;
                emit StatusChanged(Status.Redeemed);
            }
        }
    }

    /// @dev Pays one holder of a batch, unless already paid or holding nothing at the record date.
    function _payHolder(Batch memory b, address holder) private {
        if (_paid[b.payment][holder]) return;
        uint256 owned = _units.balanceAtRecord(holder, b.record);
        if (owned == 0) return;
        uint256 amount = owned * b.perUnit;
        if (amount > b.available) revert BondInsufficientFunds(b.available, amount);
        address payee = _units.recoveredTo(holder);
        if (payee == address(0)) payee = holder;
        _paid[b.payment][holder] = true;
        try _cash.transfer(payee, amount) {
            // Cannot overflow: bounded by the supply at the record date and the funds held.
            unchecked {
                b.available -= amount;
                b.paidUnits += owned;
            }
            emit HolderPaid(b.payment, holder, payee, owned, amount);
            if (b.redemption) {
                // Units that moved, or are held or frozen, since the record date stay for the issuer to
                // cancel; the payment itself is final either way.
                try _units.redeem(payee, owned) {}
                catch {
                    emit UnitsNotCancelled(holder, owned);
                }
            }
        } catch (bytes memory reason) {
            _paid[b.payment][holder] = false;
            emit HolderPaymentFailed(b.payment, holder, reason);
        }
    }

    // ---------------------------------------------------------------- issuer

    /// @notice Records that the issuer defaulted: no further payments run.
    /// @dev Requirements: the caller has ISSUER_ROLE; the bond is not redeemed.
    function declareDefault() external onlyRole(ISSUER_ROLE) {
        if (_status == Status.Redeemed) revert BondInvalidStatus(_status);
        _status = Status.Defaulted;
        emit StatusChanged(Status.Defaulted);
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

    // ---------------------------------------------------------------- internal

    function _paymentDate(uint256 payment) private view returns (uint64) {
        uint256 n = _paymentDates.length;
        if (payment == 0 || payment > n + 1) revert BondPaymentNotDue(payment, 0);
        return payment > n ? _paymentDates[n - 1] : _paymentDates[payment - 1];
    }

    /// @dev The record number on the unit token: payment i has record i; the redemption shares the
    /// last coupon's record.
    function _record(uint256 payment) private view returns (uint16) {
        uint256 n = _paymentDates.length;
        _paymentDate(payment);
        // n is the number of scheduled coupon records, far below 2^16.
        return uint16(payment > n ? n : payment);
    }

    function _amountPerUnit(uint256 payment) private view returns (uint256) {
        return payment > _paymentDates.length ? _terms.redemptionValue : couponPerUnit();
    }
}
