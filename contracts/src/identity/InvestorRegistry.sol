// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IInvestorRegistry} from "../interfaces/IInvestorRegistry.sol";

/// @title InvestorRegistry
/// @notice Who may hold an operator's permissioned tokens. One registry serves many tokens; a bank
/// deploys its own for its deposit token's customers.
/// @dev Roles:
/// - DEFAULT_ADMIN_ROLE grants and revokes roles; it cannot register investors itself.
/// - REGISTRAR_ROLE registers, updates and revokes investors (singly or in batches) and marks
///   settlement facilities.
contract InvestorRegistry is AccessControl, IInvestorRegistry {
    /// @notice Registers, updates and revokes investors; marks facilities.
    bytes32 public constant REGISTRAR_ROLE = keccak256("REGISTRAR_ROLE");

    mapping(address account => Investor) private _investors;
    mapping(address account => bytes32) private _dataHashes;

    /// @param admin Receives DEFAULT_ADMIN_ROLE.
    /// @param registrar Receives REGISTRAR_ROLE.
    constructor(address admin, address registrar) {
        if (admin == address(0) || registrar == address(0)) revert RegistryZeroAddress();
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(REGISTRAR_ROLE, registrar);
    }

    /// @notice Registers `account` as an active investor, or updates its record (re-activating it).
    /// @dev Requirements:
    /// - the caller has REGISTRAR_ROLE;
    /// - `account` is not the zero address; `kycExpiry` is in the future.
    function register(
        address account,
        InvestorClass investorClass,
        uint16 country,
        uint64 kycExpiry,
        bytes32 dataHash
    ) external onlyRole(REGISTRAR_ROLE) {
        _register(account, investorClass, country, kycExpiry, dataHash);
    }

    /// @notice Registers or updates many investors; all-or-nothing.
    /// @dev Requirements: as for {register}, for every entry; all arrays have the same length.
    function registerBatch(
        address[] calldata accounts,
        InvestorClass[] calldata classes,
        uint16[] calldata countries,
        uint64[] calldata kycExpiries,
        bytes32[] calldata dataHashes
    ) external onlyRole(REGISTRAR_ROLE) {
        uint256 n = accounts.length;
        if (classes.length != n || countries.length != n || kycExpiries.length != n || dataHashes.length != n) {
            revert RegistryLengthMismatch();
        }
        for (uint256 i; i < n; ++i) {
            _register(accounts[i], classes[i], countries[i], kycExpiries[i], dataHashes[i]);
        }
    }

    /// @notice Revokes `account`'s eligibility; its record stays for audit.
    /// @dev Requirements:
    /// - the caller has REGISTRAR_ROLE;
    /// - `account` is an active investor.
    function revoke(address account) external onlyRole(REGISTRAR_ROLE) {
        _revoke(account);
    }

    /// @notice Revokes many investors; all-or-nothing.
    /// @dev Requirements: as for {revoke}, for every account.
    function revokeBatch(address[] calldata accounts) external onlyRole(REGISTRAR_ROLE) {
        for (uint256 i; i < accounts.length; ++i) {
            _revoke(accounts[i]);
        }
    }

    /// @notice Marks `account` as a settlement facility (always eligible), or, with `isFacility` false,
    /// revokes it: whatever it was before (a facility or an active investor), it is then not eligible
    /// until registered again.
    /// @dev Requirements:
    /// - the caller has REGISTRAR_ROLE;
    /// - `account` is not the zero address.
    function setFacility(address account, bool isFacility) external onlyRole(REGISTRAR_ROLE) {
        if (account == address(0)) revert RegistryZeroAddress();
        _investors[account].status = isFacility ? Status.Facility : Status.Revoked;
        emit FacilitySet(account, isFacility);
    }

    /// @inheritdoc IInvestorRegistry
    function isEligible(address account) external view returns (bool) {
        return _packed(_investors[account]) & 1 != 0;
    }

    /// @inheritdoc IInvestorRegistry
    function profile(address account) external view returns (Profile memory) {
        return _profile(account);
    }

    /// @inheritdoc IInvestorRegistry
    function packedProfiles(address from, address to) external view returns (uint256, uint256) {
        return (_packed(_investors[from]), _packed(_investors[to]));
    }

    /// @inheritdoc IInvestorRegistry
    function investorOf(address account) external view returns (Investor memory) {
        return _investors[account];
    }

    /// @inheritdoc IInvestorRegistry
    function dataHashOf(address account) external view returns (bytes32) {
        return _dataHashes[account];
    }

    function _register(
        address account,
        InvestorClass investorClass,
        uint16 country,
        uint64 kycExpiry,
        bytes32 dataHash
    ) private {
        if (account == address(0)) revert RegistryZeroAddress();
        if (kycExpiry <= block.timestamp) revert RegistryKycExpiryInPast(account, kycExpiry);
        _investors[account] =
            Investor({kycExpiry: kycExpiry, country: country, investorClass: investorClass, status: Status.Active});
        _dataHashes[account] = dataHash;
        emit InvestorRegistered(account, investorClass, country, kycExpiry, dataHash);
    }

    function _revoke(address account) private {
        Investor storage investor = _investors[account];
        if (investor.status != Status.Active) revert RegistryNotRegistered(account);
        investor.status = Status.Revoked;
        emit InvestorRevoked(account);
    }

    function _profile(address account) private view returns (Profile memory) {
        uint256 packed = _packed(_investors[account]);
        return Profile({
            eligible: packed & 1 != 0,
            investorClass: InvestorClass((packed >> 8) & 0xff),
            country: uint16(packed >> 16)
        });
    }

    /// @dev Reads the record's slot once and packs it without copying the struct to memory (this runs
    /// on every transfer of every token that uses the registry). The slot holds kycExpiry in bits
    /// 0-63, country in 64-79, the class in 80-87 and the status in 88-95.
    function _packed(Investor storage investor) private view returns (uint256 packed) {
        uint256 word;
        assembly ("memory-safe") {
            word := sload(investor.slot)
        }
        uint256 status = (word >> 88) & 0xff;
        packed = (((word >> 64) & 0xffff) << 16) | (((word >> 80) & 0xff) << 8);
        if (
            status == uint256(Status.Facility)
                || (status == uint256(Status.Active) && uint64(word) > block.timestamp)
        ) packed |= 1;
    }
}
