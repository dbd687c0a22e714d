// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IPermissionedToken} from "./IPermissionedToken.sol";

/// @title ISecurityToken
/// @notice A permissioned security token (bond units, beneficiary units): issued and redeemed by its
/// issuer, with optional transfer rules (investor classes, countries, holder limit, lock-up), an
/// optional transfer-approval mode (see ITransferApprovals), and record dates at which every holder's balance is fixed for
/// payments, however units move afterwards.
interface ISecurityToken is IPermissionedToken {
    /// @notice Thrown when a record date is not after the previous one or not in the future.
    error SecurityRecordDateInvalid(uint64 date);

    /// @notice Thrown when asking for a record date that has not passed (or does not exist).
    error SecurityRecordNotReached(uint16 record);

    /// @notice Thrown when a holder limit is introduced after units were issued.
    error SecurityHolderLimitNeedsEmptySupply();

    /// @notice Thrown when an end of transfers is in the past or beyond 2106 (the field's range).
    error SecurityTransfersEndInvalid(uint64 date);

    /// @notice Emitted when the issuer issued `amount` units to `to`.
    event Issued(address indexed to, uint256 amount);

    /// @notice Emitted when the issuer redeemed `amount` units of `from`.
    event Redeemed(address indexed from, uint256 amount);

    /// @notice Emitted when the transfer rules changed.
    event RulesSet(uint8 allowedClasses, uint32 maxHolders, uint64 lockupUntil, bool approvalRequired);

    /// @notice Emitted when a country was allowed or disallowed (when the country rule is on).
    event CountryAllowed(uint16 indexed country, bool allowed);

    /// @notice Emitted when the country rule was switched on or off.
    event CountryRuleSet(bool on);

    /// @notice Emitted when the end of transfers between investors was set (0: no end).
    event TransfersEndSet(uint64 date);

    /// @notice Emitted when record date number `record` was scheduled.
    event RecordDateScheduled(uint16 indexed record, uint64 date);

    /// @notice Issues `amount` new units to `to`.
    function issue(address to, uint256 amount) external;

    /// @notice Redeems (burns) `amount` free units of `from`.
    function redeem(address from, uint256 amount) external;

    /// @notice Balance of `account` at record date number `record` (1-based).
    function balanceAtRecord(address account, uint16 record) external view returns (uint256);

    /// @notice Total supply at record date number `record` (1-based).
    function supplyAtRecord(uint16 record) external view returns (uint256);

    /// @notice Number of record dates that have passed.
    function recordsPassed() external view returns (uint16);

    /// @notice The date of record number `record` (1-based).
    function recordDate(uint16 record) external view returns (uint64);
}
