// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title IPaymentRounds
/// @notice Payments in a deposit token to the holders of a security token as of a record date: bond
/// coupons and redemptions, fund distributions and final cancellations. A payment runs in batches
/// that can be retried or overlap: a holder is never paid twice for the same payment.
interface IPaymentRounds {
    /// @notice Thrown when payment `payment` does not exist or is not due yet (`paymentDate`).
    error PaymentNotDue(uint256 payment, uint64 paymentDate);

    /// @notice Thrown when the contract holds too little of the deposit token for the next holder.
    error PaymentInsufficientFunds(uint256 available, uint256 needed);

    /// @notice Thrown when leftover cash is asked for while the instrument's payments are still running.
    error PaymentRoundsOpen();

    /// @notice Thrown when `requested` exceeds the `leftover` cash (what the contract holds beyond what
    /// its payments still owe), or is zero.
    error PaymentLeftoverExceeded(uint256 leftover, uint256 requested);

    /// @notice Emitted when `amount` of cash no payment needs any more was returned to `to`.
    event LeftoverReturned(address indexed to, uint256 amount, address indexed by);

    /// @notice Emitted when one holder was paid for `payment`.
    event HolderPaid(uint256 indexed payment, address indexed holder, address payee, uint256 units, uint256 amount);

    /// @notice Emitted when the deposit token refused a holder's payment (e.g. not a bank customer, or
    /// frozen); the holder stays unpaid and a later batch can retry.
    event HolderPaymentFailed(uint256 indexed payment, address indexed holder, bytes reason);

    /// @notice Emitted when a paid holder's units could not be cancelled (they moved, or are held or
    /// frozen, since the record date); the issuer cancels them separately.
    event UnitsNotCancelled(address indexed holder, uint256 units);

    /// @notice Emitted when every unit at the record date of `payment` has been paid.
    event PaymentCompleted(uint256 indexed payment, uint256 units, uint256 amount);

    /// @notice Pays `holders` their entitlement for `payment`.
    function pay(uint256 payment, address[] calldata holders) external;

    /// @notice Returns `amount` of the cash no payment still owes to `to`, once the instrument's
    /// payments are closed.
    function returnLeftover(address to, uint256 amount) external;

    /// @notice Whether the payments are closed, the cash they still owe (unpaid entitlements), and the
    /// leftover (cash held beyond that).
    function leftover() external view returns (bool closed, uint256 owed, uint256 available);

    /// @notice Whether `holder` has been paid for `payment`.
    function isPaid(uint256 payment, address holder) external view returns (bool);

    /// @notice What `holder` is owed for `payment` (zero once paid).
    function entitlement(uint256 payment, address holder) external view returns (uint256 units, uint256 amount);

    /// @notice Units paid so far for `payment`, and the units at its record date.
    function progress(uint256 payment) external view returns (uint256 paidUnits, uint256 recordUnits);
}
