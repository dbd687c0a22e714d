// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title IBeneficiaryUnits
/// @notice Distributions of a real-estate fund (beneficiary units) and the cancellation of its units
/// at the end of its term. Each declared payment is a distribution per unit held at its record date;
/// the termination payment also cancels the units.
interface IBeneficiaryUnits {
    /// @notice Thrown when a payment's dates are inconsistent or the fund has been terminated.
    error FundInvalidPayment();

    /// @notice Emitted when a distribution (or the termination payment) was declared.
    event PaymentDeclared(uint256 indexed payment, uint64 recordDate, uint64 paymentDate, uint256 perUnit, bool termination);

    /// @notice Emitted when every unit was cancelled after the termination payment.
    event FundTerminated();
}
