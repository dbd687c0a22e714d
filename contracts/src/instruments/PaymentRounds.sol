// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {IPaymentRounds} from "../interfaces/IPaymentRounds.sol";
import {SecurityToken} from "../token/SecurityToken.sol";

/// @title PaymentRounds
/// @notice The one payment engine of kessai's instruments: pays holders of a security token, as of a
/// record date, in a deposit token held by this contract, in retryable batches.
/// @dev The contract must be a settlement facility in the bank's registry (it holds the cash) and hold
/// ISSUER_ROLE on the unit token (it schedules record dates and cancels redeemed units). Instruments
/// define their payments through {_payment} and react through {_beforePayment}/{_afterPayment}.
///
/// Roles: DEFAULT_ADMIN_ROLE; PAYING_AGENT_ROLE runs batches (the trust bank); ISSUER_ROLE is the
/// instrument's issuer, which takes back the cash no payment needs once the payments are closed.
abstract contract PaymentRounds is AccessControl, IPaymentRounds {
    using SafeERC20 for IERC20;

    /// @notice Runs payment batches.
    bytes32 public constant PAYING_AGENT_ROLE = keccak256("PAYING_AGENT_ROLE");
    /// @notice The instrument's issuer.
    bytes32 public constant ISSUER_ROLE = keccak256("ISSUER_ROLE");

    /// @dev What an instrument says about one of its payments.
    struct Payment {
        uint64 date;
        uint16 record;
        uint256 perUnit;
        bool cancelsUnits;
    }

    struct Batch {
        uint256 payment;
        uint16 record;
        uint256 perUnit;
        uint256 available;
        uint256 paidUnits;
        bool cancelsUnits;
    }

    SecurityToken internal immutable _units;
    IERC20 internal immutable _cash;
    mapping(uint256 payment => mapping(address holder => bool)) private _paid;
    mapping(uint256 payment => uint256) private _paidUnits;

    constructor(SecurityToken units_, IERC20 cash_, address admin, address issuer, address payingAgent) {
        _units = units_;
        _cash = cash_;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(ISSUER_ROLE, issuer);
        _grantRole(PAYING_AGENT_ROLE, payingAgent);
    }

    /// @notice The unit token.
    function units() external view returns (SecurityToken) {
        return _units;
    }

    /// @notice The deposit token payments are made in.
    function cash() external view returns (IERC20) {
        return _cash;
    }

    /// @inheritdoc IPaymentRounds
    function isPaid(uint256 payment, address holder) external view returns (bool) {
        return _paid[payment][holder];
    }

    /// @inheritdoc IPaymentRounds
    function progress(uint256 payment) external view returns (uint256 paidUnits, uint256 recordUnits) {
        return (_paidUnits[payment], _units.supplyAtRecord(_payment(payment).record));
    }

    /// @inheritdoc IPaymentRounds
    function entitlement(uint256 payment, address holder) external view returns (uint256 units_, uint256 amount) {
        if (_paid[payment][holder]) return (0, 0);
        Payment memory p = _payment(payment);
        units_ = _units.balanceAtRecord(holder, p.record);
        amount = units_ * p.perUnit;
    }

    /// @inheritdoc IPaymentRounds
    function leftover() public view returns (bool closed, uint256 owed, uint256 available) {
        (closed, owed) = _closedAndOwed();
        uint256 balance = _cash.balanceOf(address(this));
        available = balance > owed ? balance - owed : 0;
    }

    /// @notice Returns `amount` of the cash no payment still owes to `to` (the issuer's account), once
    /// the instrument's payments are closed (a redeemed bond, a terminated fund). Cash owed to holders
    /// not yet paid (a failed payment being retried) stays.
    /// @dev Requirements:
    /// - the caller has ISSUER_ROLE;
    /// - the payments are closed ({_closedAndOwed});
    /// - `amount` is positive and at most the leftover; the deposit token accepts the transfer to `to`.
    function returnLeftover(address to, uint256 amount) external onlyRole(ISSUER_ROLE) {
        (bool closed,, uint256 available) = leftover();
        if (!closed) revert PaymentRoundsOpen();
        if (amount == 0 || amount > available) revert PaymentLeftoverExceeded(available, amount);
        _cash.safeTransfer(to, amount);
        emit LeftoverReturned(to, amount, msg.sender);
    }

    /// @notice Pays `holders` their entitlement for `payment`. Holders already paid, or with no units
    /// at the record date, are skipped. A holder whose payment the deposit token refuses stays unpaid
    /// and is reported. When the payment cancels units (redemption, termination), each paid holder's
    /// units are cancelled as they are paid.
    /// @dev Requirements:
    /// - the caller has PAYING_AGENT_ROLE;
    /// - the payment exists, its date has passed, and the instrument allows it ({_beforePayment});
    /// - this contract holds enough deposit tokens for the batch.
    function pay(uint256 payment, address[] calldata holders) external onlyRole(PAYING_AGENT_ROLE) {
        Payment memory p = _payment(payment);
        if (block.timestamp < p.date) revert PaymentNotDue(payment, p.date);
        _beforePayment(payment, p);
        Batch memory b = Batch({
            payment: payment,
            record: p.record,
            perUnit: p.perUnit,
            available: _cash.balanceOf(address(this)),
            paidUnits: _paidUnits[payment],
            cancelsUnits: p.cancelsUnits
        });
        for (uint256 i; i < holders.length; ++i) {
            _payHolder(b, holders[i]);
        }
        // slither-disable-next-line reentrancy-no-eth — the calls go to the suite's own tokens, fixed at construction, and every holder is marked paid before its transfer
        _paidUnits[payment] = b.paidUnits;
        // slither-disable-next-line incorrect-equality — unit counts: complete when every record-date unit is paid
        bool completed = b.paidUnits == _units.supplyAtRecord(b.record);
        if (completed) emit PaymentCompleted(payment, b.paidUnits, b.paidUnits * b.perUnit);
        _afterPayment(payment, p, completed);
    }

    /// @dev The payment numbered `payment`; reverts with {PaymentNotDue} when there is none.
    function _payment(uint256 payment) internal view virtual returns (Payment memory);

    /// @dev Whether the instrument's payments are closed (no new payment can become due) and the cash
    /// still owed to holders for the payments that remain payable; not closed by default.
    function _closedAndOwed() internal view virtual returns (bool closed, uint256 owed) {}

    /// @dev What `payment` still owes: its record-date units not yet paid, times the amount per unit.
    function _owed(uint256 payment) internal view returns (uint256) {
        Payment memory p = _payment(payment);
        return (_units.supplyAtRecord(p.record) - _paidUnits[payment]) * p.perUnit;
    }

    /// @dev Hook before a batch: the instrument may refuse it (status) or move its status.
    function _beforePayment(uint256 payment, Payment memory p) internal virtual {}

    /// @dev Hook after a batch; `completed` when every record-date unit is paid.
    function _afterPayment(uint256 payment, Payment memory p, bool completed) internal virtual {}

    /// @dev Pays one holder of a batch, unless already paid or holding nothing at the record date.
    function _payHolder(Batch memory b, address holder) private {
        if (_paid[b.payment][holder]) return;
        uint256 owned = _units.balanceAtRecord(holder, b.record);
        // slither-disable-next-line incorrect-equality — a unit count, not a balance anyone can nudge
        if (owned == 0) return;
        uint256 amount = owned * b.perUnit;
        if (amount > b.available) revert PaymentInsufficientFunds(b.available, amount);
        address payee = _units.recoveredTo(holder);
        if (payee == address(0)) payee = holder;
        _paid[b.payment][holder] = true;
        // A refusal (a revert, or a token answering false) leaves the holder unpaid for a retry.
        bool transferred = false;
        bytes memory reason = "";
        // slither-disable-next-line reentrancy-no-eth — the suite's own deposit token, fixed at construction; the holder is marked paid first
        try _cash.transfer(payee, amount) returns (bool ok) {
            transferred = ok;
        } catch (bytes memory why) {
            reason = why;
        }
        if (!transferred) {
            _paid[b.payment][holder] = false;
            emit HolderPaymentFailed(b.payment, holder, reason);
            return;
        }
        // Cannot overflow: bounded by the supply at the record date and the funds held.
        unchecked {
            b.available -= amount;
            b.paidUnits += owned;
        }
        emit HolderPaid(b.payment, holder, payee, owned, amount);
        if (b.cancelsUnits) {
            // Units that moved, or are held or frozen, since the record date stay for the issuer
            // to cancel; the payment itself is final either way.
            try _units.redeem(payee, owned) {}
            catch {
                emit UnitsNotCancelled(holder, owned);
            }
        }
    }
}
