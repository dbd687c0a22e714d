// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IInvestorRegistry} from "../interfaces/IInvestorRegistry.sol";

/// @title InvestorRegistry
/// @notice Who may hold an operator's permissioned tokens. One registry serves many tokens.
/// @dev Roles:
/// - DEFAULT_ADMIN_ROLE grants and revokes roles; it cannot register investors itself.
/// - REGISTRAR_ROLE registers, updates and revokes investors and marks settlement facilities.
contract InvestorRegistry is AccessControl, IInvestorRegistry {
    /// @notice Registers, updates and revokes investors; marks facilities.
    bytes32 public constant REGISTRAR_ROLE = keccak256("REGISTRAR_ROLE");

    uint8 private constant STATUS_ACTIVE = 1;
    uint8 private constant STATUS_REVOKED = 2;
    uint8 private constant STATUS_FACILITY = 3;

    mapping(address account => Investor) private _investors;
    mapping(address account => bytes32) private _dataHashes;

    /// @param admin Receives DEFAULT_ADMIN_ROLE.
    /// @param registrar Receives REGISTRAR_ROLE.
    constructor(address admin, address registrar) {
        if (admin == address(0) || registrar == address(0)) revert RegistryZeroAddress();
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(REGISTRAR_ROLE, registrar);
    }

    /// @notice Registers `account` as an active investor, or updates its record.
    /// @dev Requirements:
    /// - the caller has REGISTRAR_ROLE;
    /// - `account` is not the zero address;
    /// - `kycExpiry` is in the future.
    function register(
        address account,
        InvestorClass investorClass,
        uint16 country,
        uint64 kycExpiry,
        bytes32 dataHash
    ) external onlyRole(REGISTRAR_ROLE) {
        if (account == address(0)) revert RegistryZeroAddress();
        if (kycExpiry <= block.timestamp) revert RegistryKycExpiryInPast(account, kycExpiry);
        _investors[account] =
            Investor({kycExpiry: kycExpiry, country: country, investorClass: investorClass, status: STATUS_ACTIVE});
        _dataHashes[account] = dataHash;
        emit InvestorRegistered(account, investorClass, country, kycExpiry, dataHash);
    }

    /// @notice Revokes `account`'s eligibility; its record stays for audit.
    /// @dev Requirements:
    /// - the caller has REGISTRAR_ROLE;
    /// - `account` is an active investor.
    function revoke(address account) external onlyRole(REGISTRAR_ROLE) {
        Investor storage investor = _investors[account];
        if (investor.status != STATUS_ACTIVE) revert RegistryNotRegistered(account);
        investor.status = STATUS_REVOKED;
        emit InvestorRevoked(account);
    }

    /// @notice Marks `account` as a settlement facility (always eligible) or removes the mark.
    /// @dev Requirements:
    /// - the caller has REGISTRAR_ROLE;
    /// - `account` is not the zero address.
    function setFacility(address account, bool isFacility) external onlyRole(REGISTRAR_ROLE) {
        if (account == address(0)) revert RegistryZeroAddress();
        _investors[account].status = isFacility ? STATUS_FACILITY : STATUS_REVOKED;
        emit FacilitySet(account, isFacility);
    }

    /// @inheritdoc IInvestorRegistry
    function isEligible(address account) external view returns (bool) {
        Investor storage investor = _investors[account];
        uint8 status = investor.status;
        return status == STATUS_FACILITY || (status == STATUS_ACTIVE && investor.kycExpiry > block.timestamp);
    }

    /// @inheritdoc IInvestorRegistry
    function investorOf(address account) external view returns (Investor memory) {
        return _investors[account];
    }

    /// @inheritdoc IInvestorRegistry
    function dataHashOf(address account) external view returns (bytes32) {
        return _dataHashes[account];
    }
}
