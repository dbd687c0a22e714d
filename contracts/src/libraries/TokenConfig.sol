// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @notice A permissioned token's configuration packed in one word, read with one SLOAD on every
/// transfer and kept on the stack (no copy to memory). Flags in bits 0-3 (paused, transfer approval
/// required, country rule on, built-in settlement notary disabled), then the allowed investor classes
/// (8-15), the holder limit (16-47), the holder count (48-79), the lock-up end (80-143), the record
/// epoch (144-159), the next record date (160-223) and the end of transfers (224-255, seconds; it fits
/// until 2106). The rule fields are used by security tokens; a deposit token leaves them zero.
type TokenConfig is uint256;

using ConfigLib for TokenConfig global;

/// @title ConfigLib
/// @notice Field access for {TokenConfig}. Setters take their field's own type, so every value fits.
library ConfigLib {
    uint256 private constant PAUSED = 1;
    uint256 private constant APPROVAL_REQUIRED = 2;
    uint256 private constant COUNTRY_RULE = 4;
    uint256 private constant SETTLEMENT_DISABLED = 8;

    uint256 private constant CLASSES_AT = 8;
    uint256 private constant MAX_HOLDERS_AT = 16;
    uint256 private constant HOLDER_COUNT_AT = 48;
    uint256 private constant LOCKUP_AT = 80;
    uint256 private constant EPOCH_AT = 144;
    uint256 private constant NEXT_RECORD_AT = 160;
    uint256 private constant TRANSFERS_END_AT = 224;

    /// @notice Transfers, holds, approvals, issues and redemptions are paused.
    function paused(TokenConfig c) internal pure returns (bool) {
        return TokenConfig.unwrap(c) & PAUSED != 0;
    }

    /// @notice Transfers between investors need an approval (security tokens).
    function approvalRequired(TokenConfig c) internal pure returns (bool) {
        return TokenConfig.unwrap(c) & APPROVAL_REQUIRED != 0;
    }

    /// @notice Receivers' countries must be allowed (security tokens).
    function countryRule(TokenConfig c) internal pure returns (bool) {
        return TokenConfig.unwrap(c) & COUNTRY_RULE != 0;
    }

    /// @notice The admin switched off the built-in settlement notary.
    function settlementDisabled(TokenConfig c) internal pure returns (bool) {
        return TokenConfig.unwrap(c) & SETTLEMENT_DISABLED != 0;
    }

    /// @notice Bit i set: investor class i may receive; 0: every class.
    function allowedClasses(TokenConfig c) internal pure returns (uint8) {
        return uint8(TokenConfig.unwrap(c) >> CLASSES_AT);
    }

    /// @notice Most holders allowed; 0: no limit.
    function maxHolders(TokenConfig c) internal pure returns (uint32) {
        return uint32(TokenConfig.unwrap(c) >> MAX_HOLDERS_AT);
    }

    /// @notice Holders now, counted only while a limit is set.
    function holderCount(TokenConfig c) internal pure returns (uint32) {
        return uint32(TokenConfig.unwrap(c) >> HOLDER_COUNT_AT);
    }

    /// @notice Transfers between investors are refused before this time.
    function lockupUntil(TokenConfig c) internal pure returns (uint64) {
        return uint64(TokenConfig.unwrap(c) >> LOCKUP_AT);
    }

    /// @notice Record dates passed.
    function epoch(TokenConfig c) internal pure returns (uint16) {
        return uint16(TokenConfig.unwrap(c) >> EPOCH_AT);
    }

    /// @notice The next record date; 0: none scheduled.
    function nextRecordDate(TokenConfig c) internal pure returns (uint64) {
        return uint64(TokenConfig.unwrap(c) >> NEXT_RECORD_AT);
    }

    /// @notice Transfers between investors end at this time (a redemption's record date); 0: never.
    function transfersEnd(TokenConfig c) internal pure returns (uint32) {
        return uint32(TokenConfig.unwrap(c) >> TRANSFERS_END_AT);
    }

    /// @notice `c` with the pause flag set to `on`.
    function withPaused(TokenConfig c, bool on) internal pure returns (TokenConfig) {
        return _flag(c, PAUSED, on);
    }

    /// @notice `c` with the approval flag set to `on`.
    function withApprovalRequired(TokenConfig c, bool on) internal pure returns (TokenConfig) {
        return _flag(c, APPROVAL_REQUIRED, on);
    }

    /// @notice `c` with the country rule set to `on`.
    function withCountryRule(TokenConfig c, bool on) internal pure returns (TokenConfig) {
        return _flag(c, COUNTRY_RULE, on);
    }

    /// @notice `c` with the built-in settlement notary disabled when `on`.
    function withSettlementDisabled(TokenConfig c, bool on) internal pure returns (TokenConfig) {
        return _flag(c, SETTLEMENT_DISABLED, on);
    }

    /// @notice `c` with the allowed classes set to `v`.
    function withAllowedClasses(TokenConfig c, uint8 v) internal pure returns (TokenConfig) {
        return _field(c, CLASSES_AT, type(uint8).max, v);
    }

    /// @notice `c` with the holder limit set to `v`.
    function withMaxHolders(TokenConfig c, uint32 v) internal pure returns (TokenConfig) {
        return _field(c, MAX_HOLDERS_AT, type(uint32).max, v);
    }

    /// @notice `c` with the holder count set to `v`.
    function withHolderCount(TokenConfig c, uint32 v) internal pure returns (TokenConfig) {
        return _field(c, HOLDER_COUNT_AT, type(uint32).max, v);
    }

    /// @notice `c` with the lock-up end set to `v`.
    function withLockupUntil(TokenConfig c, uint64 v) internal pure returns (TokenConfig) {
        return _field(c, LOCKUP_AT, type(uint64).max, v);
    }

    /// @notice `c` with the record epoch set to `v`.
    function withEpoch(TokenConfig c, uint16 v) internal pure returns (TokenConfig) {
        return _field(c, EPOCH_AT, type(uint16).max, v);
    }

    /// @notice `c` with the next record date set to `v`.
    function withNextRecordDate(TokenConfig c, uint64 v) internal pure returns (TokenConfig) {
        return _field(c, NEXT_RECORD_AT, type(uint64).max, v);
    }

    /// @notice `c` with the end of transfers set to `v`.
    function withTransfersEnd(TokenConfig c, uint32 v) internal pure returns (TokenConfig) {
        return _field(c, TRANSFERS_END_AT, type(uint32).max, v);
    }

    function _flag(TokenConfig c, uint256 bit, bool on) private pure returns (TokenConfig) {
        uint256 w = TokenConfig.unwrap(c);
        return TokenConfig.wrap(on ? w | bit : w & ~bit);
    }

    function _field(TokenConfig c, uint256 at, uint256 mask, uint256 v) private pure returns (TokenConfig) {
        return TokenConfig.wrap((TokenConfig.unwrap(c) & ~(mask << at)) | (v << at));
    }
}
