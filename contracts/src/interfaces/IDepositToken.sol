// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IPermissionedToken} from "./IPermissionedToken.sol";

/// @title IDepositToken
/// @notice A bank-issued tokenized deposit (1 token = 1 yen). Every issue is backed by a debit of the
/// customer's deposit account, named by a unique reference; every redemption names the deposit account
/// to credit. The events let the bank reconcile token supply with its ledger at any block.
interface IDepositToken is IPermissionedToken {
    /// @notice Thrown when a deposit reference has already been used for an issue.
    error DepositReferenceUsed(bytes32 depositRef);

    /// @notice Thrown when a reference argument is zero.
    error DepositZeroReference();

    /// @notice Emitted when the bank issued `amount` to `to` against the ledger entry `depositRef`.
    event DepositIssued(address indexed to, uint256 amount, bytes32 indexed depositRef);

    /// @notice Emitted when `from` redeemed `amount` into the deposit account `accountRef`.
    event DepositRedeemed(address indexed from, uint256 amount, bytes32 indexed accountRef);

    /// @notice Issues `amount` to `to` against the deposit ledger entry `depositRef` (used once).
    function issue(address to, uint256 amount, bytes32 depositRef) external;

    /// @notice Burns `amount` of the caller's free balance, to be credited to deposit account `accountRef`.
    function redeem(uint256 amount, bytes32 accountRef) external;

    /// @notice True when `depositRef` has been used for an issue.
    function isReferenceUsed(bytes32 depositRef) external view returns (bool);
}
