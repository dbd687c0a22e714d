// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IPermissionedToken} from "./IPermissionedToken.sol";

/// @title IDepositToken
/// @notice A bank-issued tokenized deposit (1 token = 1 yen). Every issue is backed by a debit of the
/// customer's deposit account, named by a unique reference; every redemption names the deposit account
/// to credit. The events let the bank reconcile token supply with its ledger at any block.
///
/// Minting is split across minters, each with a total allowance and a rate limit per period, set by
/// the master minter: a compromised minter key can issue at most what its limits leave. Holders can
/// approve by EIP-2612 permit and transfer by EIP-3009 authorization; contract wallets sign through
/// ERC-1271. Every signature path applies the same pause, blocklist, freeze and eligibility checks.
interface IDepositToken is IPermissionedToken {
    /// @notice A minter's limits and usage.
    /// @param allowance Total that may still be issued.
    /// @param limitPerPeriod Most that may be issued within one period.
    /// @param period Length of a rate-limit period in seconds.
    /// @param windowStart Start of the current period.
    /// @param issuedInWindow Issued since `windowStart`.
    struct Minter {
        uint128 allowance;
        uint128 limitPerPeriod;
        uint64 period;
        uint64 windowStart;
        uint128 issuedInWindow;
    }

    /// @notice Thrown when a deposit reference has already been used for an issue.
    error DepositReferenceUsed(bytes32 depositRef);

    /// @notice Thrown when a reference argument is zero.
    error DepositZeroReference();

    /// @notice Thrown when `account` is not a configured minter.
    error DepositNotMinter(address account);

    /// @notice Thrown when an issue exceeds the minter's remaining allowance.
    error DepositMinterAllowanceExceeded(address minter, uint256 allowance, uint256 amount);

    /// @notice Thrown when an issue exceeds what the minter may still issue in the current period.
    error DepositRateLimitExceeded(address minter, uint256 remaining, uint256 amount, uint64 periodEnds);

    /// @notice Thrown when a minter's configuration is invalid (zero period with a limit).
    error DepositInvalidMinterConfig();

    /// @notice Thrown when a permit's deadline has passed.
    error DepositPermitExpired(uint256 deadline);

    /// @notice Thrown when a signature does not come from `signer`.
    error DepositInvalidSignature(address signer);

    /// @notice Thrown when an authorization is used before `validAfter`.
    error DepositAuthorizationNotYetValid(uint256 validAfter);

    /// @notice Thrown when an authorization is used at or after `validBefore`.
    error DepositAuthorizationExpired(uint256 validBefore);

    /// @notice Thrown when an authorization nonce was already used or cancelled.
    error DepositAuthorizationUsed(address authorizer, bytes32 nonce);

    /// @notice Thrown when `receiveWithAuthorization` is called by someone other than the payee.
    error DepositCallerNotPayee(address caller, address payee);

    /// @notice Emitted when the bank issued `amount` to `to` against the ledger entry `depositRef`.
    event DepositIssued(address indexed to, uint256 amount, bytes32 indexed depositRef, address indexed minter);

    /// @notice Emitted when `amount` of `from` was redeemed into the deposit account `accountRef`.
    event DepositRedeemed(address indexed from, uint256 amount, bytes32 indexed accountRef);

    /// @notice Emitted when the master minter configured `minter`.
    event MinterConfigured(address indexed minter, uint256 allowance, uint256 limitPerPeriod, uint64 period);

    /// @notice Emitted when the master minter removed `minter`.
    event MinterRemoved(address indexed minter);

    /// @notice Emitted when an EIP-3009 authorization was used.
    event AuthorizationUsed(address indexed authorizer, bytes32 indexed nonce);

    /// @notice Emitted when an EIP-3009 authorization was cancelled.
    event AuthorizationCanceled(address indexed authorizer, bytes32 indexed nonce);

    /// @notice Issues `amount` to `to` against the deposit ledger entry `depositRef` (used once).
    function issue(address to, uint256 amount, bytes32 depositRef) external;

    /// @notice Burns `amount` of the caller's free balance, to be credited to deposit account `accountRef`.
    function redeem(uint256 amount, bytes32 accountRef) external;

    /// @notice True when `depositRef` has been used for an issue.
    function isReferenceUsed(bytes32 depositRef) external view returns (bool);

    /// @notice The configuration and usage of `minter`.
    function minterOf(address minter) external view returns (Minter memory);
}
