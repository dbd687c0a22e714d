// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title IInvestorRegistry
/// @notice Eligibility of accounts to hold an operator's permissioned tokens. An account is eligible when
/// it is an active investor whose KYC has not expired, or a settlement facility (a contract such as a
/// bond's paying agent that must hold tokens). Personal data never goes on-chain: the registry keeps
/// only a hash committing to the off-chain record.
interface IInvestorRegistry {
    /// @notice Investor class, as the securities company classified the investor.
    enum InvestorClass {
        Retail,
        Professional,
        Institutional
    }

    /// @notice Registry status of an account.
    enum Status {
        Unknown,
        Active,
        Revoked,
        Facility
    }

    /// @notice What the registry stores of an account (one storage slot).
    /// @param kycExpiry Unix time after which the account is no longer eligible.
    /// @param country ISO 3166-1 numeric country code.
    /// @param investorClass The investor's class.
    /// @param status Active, revoked or facility.
    struct Investor {
        uint64 kycExpiry;
        uint16 country;
        InvestorClass investorClass;
        Status status;
    }

    /// @notice What a token needs to decide on a transfer: eligibility now, class and country.
    struct Profile {
        bool eligible;
        InvestorClass investorClass;
        uint16 country;
    }

    /// @notice Thrown when an account argument is the zero address.
    error RegistryZeroAddress();

    /// @notice Thrown when a registration's KYC expiry is not in the future.
    error RegistryKycExpiryInPast(address account, uint64 kycExpiry);

    /// @notice Thrown when revoking an account that is not an active investor.
    error RegistryNotRegistered(address account);

    /// @notice Thrown when batch arguments have different lengths.
    error RegistryLengthMismatch();

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

    /// @notice The transfer-relevant profile of `account`.
    function profile(address account) external view returns (Profile memory);

    /// @notice The profiles of a sender and a receiver in one call, each packed in a word for the
    /// tokens' hot path: bit 0 eligible now, bits 8-15 investor class, bits 16-31 country.
    function packedProfiles(address from, address to) external view returns (uint256, uint256);

    /// @notice Returns the registry's record of `account` (all zero when unknown).
    function investorOf(address account) external view returns (Investor memory);

    /// @notice Returns the hash committing to `account`'s off-chain personal data.
    function dataHashOf(address account) external view returns (bytes32);
}
