// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IInvestorRegistry} from "./IInvestorRegistry.sol";

/// @title IPermissionedToken
/// @notice The ERC-20 compatible core shared by kessai's security tokens and deposit tokens: only
/// eligible accounts send and receive, and units can be held for a notary (a settlement contract)
/// while staying in the holder's balance.
///
/// A hold is identified by (holder, notary, id), so nobody can squat another holder's id. Held units
/// cannot be transferred, redeemed or held twice. The notary executes a hold (moves the units to a
/// recipient, whose eligibility is checked) or releases it; after the expiry the holder may release it.
interface IPermissionedToken {
    /// @notice Thrown when `account` is not eligible in the token's registry.
    error TokenAccountNotEligible(address account);

    /// @notice Thrown when `account`'s free balance (balance minus held) is below `needed`.
    error TokenInsufficientFreeBalance(address account, uint256 free, uint256 needed);

    /// @notice Thrown when an amount argument is zero.
    error TokenZeroAmount();

    /// @notice Thrown when a hold with this (holder, notary, id) already exists.
    error TokenHoldExists(address holder, address notary, bytes32 id);

    /// @notice Thrown when no hold exists for (holder, notary, id).
    error TokenHoldNotFound(address holder, address notary, bytes32 id);

    /// @notice Thrown when a hold's expiry is not in the future at creation.
    error TokenHoldExpiryInPast(uint64 expiry);

    /// @notice Thrown when a notary tries to execute a hold after its expiry.
    error TokenHoldExpired(bytes32 id, uint64 expiry);

    /// @notice Thrown when the holder tries to release a hold before its expiry.
    error TokenHoldNotExpired(bytes32 id, uint64 expiry);

    /// @notice Thrown when `caller` is neither the hold's notary nor, after expiry, its holder.
    error TokenHoldUnauthorized(bytes32 id, address caller);

    /// @notice Thrown when a notary executes a hold for an amount other than the held amount.
    error TokenHoldAmountMismatch(bytes32 id, uint256 held, uint256 requested);

    /// @notice Emitted when units of `holder` are held for `notary` until `expiry`.
    event HoldPlaced(
        address indexed holder, address indexed notary, bytes32 indexed id, uint256 amount, uint64 expiry
    );

    /// @notice Emitted when a notary moved held units to `to`.
    event HoldExecuted(address indexed holder, address indexed notary, bytes32 indexed id, address to, uint256 amount);

    /// @notice Emitted when a hold ended without moving units.
    event HoldReleased(address indexed holder, address indexed notary, bytes32 indexed id, uint256 amount);

    /// @notice The registry that decides who may hold this token.
    function registry() external view returns (IInvestorRegistry);

    /// @notice Units of `account` that are held.
    function heldBalanceOf(address account) external view returns (uint256);

    /// @notice Units of `account` that can be transferred, redeemed or held now.
    function freeBalanceOf(address account) external view returns (uint256);

    /// @notice The amount and expiry of the hold (holder, notary, id); zero when none.
    function holdOf(address holder, address notary, bytes32 id) external view returns (uint256 amount, uint64 expiry);

    /// @notice Holds `amount` of the caller's units for `notary` until `expiry`.
    function hold(address notary, bytes32 id, uint256 amount, uint64 expiry) external;

    /// @notice Holds `amount` of `holder`'s units for the caller, a notary trusted by the token admin.
    function holdFor(address holder, bytes32 id, uint256 amount, uint64 expiry) external;

    /// @notice Moves the whole hold (holder, caller, id) to `to`.
    function executeHold(address holder, bytes32 id, address to, uint256 amount) external;

    /// @notice Ends the hold (holder, notary, id) without moving units.
    function releaseHold(address holder, address notary, bytes32 id) external;
}
