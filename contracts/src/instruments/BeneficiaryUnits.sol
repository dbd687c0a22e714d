// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IBeneficiaryUnits} from "../interfaces/IBeneficiaryUnits.sol";
import {SecurityToken} from "../token/SecurityToken.sol";
import {PaymentRounds} from "./PaymentRounds.sol";

/// @title BeneficiaryUnits
/// @notice The distributions of a real-estate fund, paid in a deposit token per unit held at each
/// record date, and the cancellation of all units at the end of the fund's term.
/// @dev The asset manager (ISSUER_ROLE) declares each payment with its record date; the record date
/// is scheduled on the unit token then. Roles as in {PaymentRounds}.
contract BeneficiaryUnits is PaymentRounds, IBeneficiaryUnits {
    Payment[] private _payments;
    bool private _terminationDeclared;
    bool private _terminated;

    /// @param units_ The fund's unit token.
    /// @param cash_ The deposit token distributions are paid in.
    /// @param admin Receives DEFAULT_ADMIN_ROLE.
    /// @param manager Receives ISSUER_ROLE (the asset manager).
    /// @param payingAgent Receives PAYING_AGENT_ROLE.
    constructor(SecurityToken units_, IERC20 cash_, address admin, address manager, address payingAgent)
        PaymentRounds(units_, cash_, admin, manager, payingAgent)
    {}

    /// @notice Declares a distribution of `perUnit` per unit held at `recordDate`, payable from
    /// `paymentDate`; with `termination`, the final payment that also cancels the units.
    /// @dev Requirements: the caller has ISSUER_ROLE; no termination was declared; `recordDate` is in
    /// the future and after earlier record dates; `paymentDate` is not before `recordDate`.
    function declarePayment(uint64 recordDate, uint64 paymentDate, uint256 perUnit, bool termination)
        external
        onlyRole(ISSUER_ROLE)
        returns (uint256 payment)
    {
        if (_terminationDeclared || paymentDate < recordDate) revert FundInvalidPayment();
        // slither-disable-next-line reentrancy-no-eth — the fund's own unit token, fixed at construction; the record number it returns is needed before the write
        uint16 record = _units.scheduleRecordDate(recordDate);
        _payments.push(Payment({date: paymentDate, record: record, perUnit: perUnit, cancelsUnits: termination}));
        _terminationDeclared = termination;
        payment = _payments.length;
        emit PaymentDeclared(payment, recordDate, paymentDate, perUnit, termination);
    }

    /// @notice Number of declared payments.
    function paymentCount() external view returns (uint256) {
        return _payments.length;
    }

    /// @notice Whether the fund's units have all been cancelled.
    function terminated() external view returns (bool) {
        return _terminated;
    }

    function _payment(uint256 payment) internal view override returns (Payment memory) {
        if (payment == 0 || payment > _payments.length) revert PaymentNotDue(payment, 0);
        return _payments[payment - 1];
    }

    /// @dev Closed once terminated; every declared payment's unpaid entitlements are still owed (their
    /// record dates all precede the termination's, so they have passed).
    function _closedAndOwed() internal view override returns (bool closed, uint256 owed) {
        if (!_terminated) return (false, 0);
        for (uint256 payment = 1; payment <= _payments.length; ++payment) {
            owed += _owed(payment);
        }
        return (true, owed);
    }

    function _afterPayment(uint256, Payment memory p, bool completed) internal override {
        if (completed && p.cancelsUnits && !_terminated) {
            _terminated = true;
            emit FundTerminated();
        }
    }
}
