// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title IStraightBond
/// @notice The terms, lifecycle and payments of a straight bond whose units are a {ISecurityToken}.
/// Coupons and the redemption are paid in a deposit token to every holder as of a record date, in
/// batches that can be retried: a holder is never paid twice for the same payment.
interface IStraightBond {
    /// @notice Bond terms. Amounts are in deposit-token units (yen) per bond unit.
    /// @param faceValue Face value of one unit.
    /// @param couponRateBps Annual coupon rate in basis points.
    /// @param couponsPerYear Coupon payments per year (1, 2, 4 or 12).
    /// @param redemptionValue Paid per unit at maturity.
    /// @param issueDate Issue date.
    /// @param maturityDate Maturity (and last coupon) date.
    /// @param recordOffset Seconds between a payment's record date and its payment date.
    struct Terms {
        uint128 faceValue;
        uint16 couponRateBps;
        uint8 couponsPerYear;
        uint128 redemptionValue;
        uint64 issueDate;
        uint64 maturityDate;
        uint32 recordOffset;
    }

    /// @notice Lifecycle status.
    enum Status {
        Issued,
        Matured,
        Redeemed,
        Called,
        Defaulted
    }

    /// @notice Thrown when the terms are inconsistent (dates, rate, frequency, payment dates).
    error BondInvalidTerms();

    /// @notice Thrown when payment `payment` does not exist or is not due yet.
    error BondPaymentNotDue(uint256 payment, uint64 paymentDate);

    /// @notice Thrown when the bond's status does not allow the action.
    error BondInvalidStatus(Status status);

    /// @notice Thrown when the bond contract holds too little of the deposit token for the batch.
    error BondInsufficientFunds(uint256 available, uint256 needed);

    /// @notice Emitted when one holder was paid for payment `payment` (coupon number, or the redemption).
    event HolderPaid(uint256 indexed payment, address indexed holder, address payee, uint256 units, uint256 amount);

    /// @notice Emitted when a holder could not be paid (the deposit token refused the transfer); the
    /// holder stays unpaid and a later batch can retry.
    event HolderPaymentFailed(uint256 indexed payment, address indexed holder, bytes reason);

    /// @notice Emitted when a redeemed holder's units could not be cancelled at payment (they moved,
    /// or are held or frozen, since the record date); the issuer cancels them separately.
    event UnitsNotCancelled(address indexed holder, uint256 units);

    /// @notice Emitted when every unit at the record date of `payment` has been paid.
    event PaymentCompleted(uint256 indexed payment, uint256 units, uint256 amount);

    /// @notice Emitted when the bond's status changed.
    event StatusChanged(Status status);

    /// @notice Emitted when the issuer published a use-of-proceeds or impact report (append-only).
    event ReportPublished(uint256 indexed index, bytes32 contentHash, string uri);
}
