// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title IStraightBond
/// @notice The terms and lifecycle of a straight bond whose units are a security token. Payments
/// (see IPaymentRounds): 1..n are the coupons, n + 1 the redemption at maturity.
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

    /// @notice Thrown when the coupons' record dates are scheduled a second time.
    error BondRecordDatesScheduled();

    /// @notice Thrown when a payment is asked for before the coupons' record dates were scheduled.
    error BondRecordDatesNotScheduled();

    /// @notice Thrown when the bond's status does not allow the action.
    error BondInvalidStatus(Status status);

    /// @notice Emitted when the bond's status changed.
    event StatusChanged(Status status);

    /// @notice Emitted when the issuer published a use-of-proceeds or impact report (append-only).
    event ReportPublished(uint256 indexed index, bytes32 contentHash, string uri);
}
