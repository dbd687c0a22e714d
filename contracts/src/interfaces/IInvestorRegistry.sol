// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title IInvestorRegistry
/// @notice Eligibility of accounts to hold an operator's permissioned tokens. An account is eligible when
/// it is an active, KYC-current investor or a settlement facility. Personal data never goes on-chain:
/// the registry keeps only a hash committing to the off-chain record.
interface IInvestorRegistry {
    /// @notice Investor class, as the securities company classified the investor.
    enum InvestorClass {
        Retail,
        Professional,
        Institutional
    }

    /// @notice What the registry knows of an account.
    /// @param kycExpiry Unix time after which the account is no longer eligible.
    /// @param country ISO 3166-1 numeric country code.
    /// @param investorClass The investor's class.
    /// @param status 0 = unknown, 1 = active investor, 2 = revoked, 3 = settlement facility.
    struct Investor {
        uint64 kycExpiry;
        uint16 country;
        InvestorClass investorClass;
        uint8 status;
    }

    /// @notice Thrown when an account argument is the zero address.
    error RegistryZeroAddress();

    /// @notice Thrown when a registration's KYC expiry is not in the future.
    error RegistryKycExpiryInPast(address account, uint64 kycExpiry);

    /// @notice Thrown when revoking an account that is not an active investor.
    error RegistryNotRegistered(address account);

    /// @notice Emitted when an investor is registered or their record is updated.
    event InvestorRegistered(
        address indexed account, InvestorClass investorClass, uint16 country, uint64 kycExpiry, bytes32 dataHash
    );

    /// @notice Emitted when an investor's eligibility is revoked.
    event InvestorRevoked(address indexed account);

    /// @notice Emitted when an account is marked (or unmarked) as a settlement facility.
    event FacilitySet(address indexed account, bool isFacility);

    /// @notice Returns true when `account` may send and receive the operator's tokens now.
    function isEligible(address account) external view returns (bool);

    /// @notice Returns the registry's record of `account` (all zero when unknown).
    function investorOf(address account) external view returns (Investor memory);

    /// @notice Returns the hash committing to `account`'s off-chain personal data.
    function dataHashOf(address account) external view returns (bytes32);
}
