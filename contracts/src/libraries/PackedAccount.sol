// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @notice A token account packed in one word: balance (bits 0-79), held units (80-159), frozen units
/// (160-231), flags (232-239) and record epoch (240-255). One SLOAD reads it, one SSTORE writes it.
type PackedAccount is uint256;

using AccountLib for PackedAccount global;

/// @title AccountLib
/// @notice Field access for {PackedAccount}. Setters expect values that fit their field (amounts below
/// 2^80, frozen below 2^72): callers keep every amount under the token's supply cap of 2^80 − 1.
library AccountLib {
    uint256 private constant MASK80 = (1 << 80) - 1;
    uint256 private constant MASK72 = (1 << 72) - 1;

    /// @notice Account flag: frozen by the enforcement authority.
    uint256 internal constant FROZEN = 1;
    /// @notice Account flag: the wallet was recovered to another wallet.
    uint256 internal constant RECOVERED = 2;
    /// @notice Account flag: on the blocklist.
    uint256 internal constant BLOCKED = 4;

    /// @notice Units owned, held and frozen ones included.
    function balance(PackedAccount a) internal pure returns (uint256) {
        return PackedAccount.unwrap(a) & MASK80;
    }

    /// @notice Units held for notaries.
    function held(PackedAccount a) internal pure returns (uint256) {
        return (PackedAccount.unwrap(a) >> 80) & MASK80;
    }

    /// @notice Units frozen by the enforcement authority.
    function frozen(PackedAccount a) internal pure returns (uint256) {
        return (PackedAccount.unwrap(a) >> 160) & MASK72;
    }

    /// @notice Account flags.
    function flags(PackedAccount a) internal pure returns (uint256) {
        return (PackedAccount.unwrap(a) >> 232) & 0xff;
    }

    /// @notice Record epoch of the account's last balance change.
    function epoch(PackedAccount a) internal pure returns (uint16) {
        return uint16(PackedAccount.unwrap(a) >> 240);
    }

    /// @notice Units that can move now: balance − held − frozen (never negative: holds and freezes are
    /// only placed on free units).
    function free(PackedAccount a) internal pure returns (uint256) {
        return balance(a) - held(a) - frozen(a);
    }

    /// @notice `a` with its balance set to `v`.
    function withBalance(PackedAccount a, uint256 v) internal pure returns (PackedAccount) {
        return PackedAccount.wrap((PackedAccount.unwrap(a) & ~MASK80) | v);
    }

    /// @notice `a` with its held units set to `v`.
    function withHeld(PackedAccount a, uint256 v) internal pure returns (PackedAccount) {
        return PackedAccount.wrap((PackedAccount.unwrap(a) & ~(MASK80 << 80)) | (v << 80));
    }

    /// @notice `a` with its frozen units set to `v`.
    function withFrozen(PackedAccount a, uint256 v) internal pure returns (PackedAccount) {
        return PackedAccount.wrap((PackedAccount.unwrap(a) & ~(MASK72 << 160)) | (v << 160));
    }

    /// @notice `a` with its flags set to `v`.
    function withFlags(PackedAccount a, uint256 v) internal pure returns (PackedAccount) {
        return PackedAccount.wrap((PackedAccount.unwrap(a) & ~(uint256(0xff) << 232)) | (v << 232));
    }

    /// @notice `a` with its record epoch set to `v`.
    function withEpoch(PackedAccount a, uint16 v) internal pure returns (PackedAccount) {
        return PackedAccount.wrap((PackedAccount.unwrap(a) & ~(uint256(0xffff) << 240)) | (uint256(v) << 240));
    }
}
