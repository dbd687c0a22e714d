// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IInvestorRegistry} from "./IInvestorRegistry.sol";

/// @title IPermissionedToken
/// @notice The ERC-20 compatible core shared by kessai's security tokens and deposit tokens.
///
/// Transfers need an eligible sender and receiver, an unpaused token, unfrozen accounts and enough
/// free balance (balance − held − frozen); `canTransfer` answers with a {Restriction} code before a
/// transaction, and a refused transfer reverts with the same code.
///
/// A hold locks units for a notary (a settlement contract) while they stay in the holder's balance. It
/// is identified by (holder, notary, id), so nobody can squat another holder's id, and the token keeps
/// its amount: the amounts of an account's holds always sum to its held total, and a notary can
/// execute or release only its own holds. Held units cannot be transferred, redeemed, frozen, held
/// twice or seized. The notary executes a hold (moves exactly its units to a recipient, whose
/// eligibility is checked) or releases it; after the expiry the holder may release it. A holder cannot
/// be its own notary, and in approval mode only notaries holding NOTARY_ROLE move held units.
///
/// Two powers are kept apart: NOTARY_ROLE places holds for holders, locks (`notaryHold`: holds without
/// expiry whose record the notary keeps and reports in its own events) and executes or releases its
/// own; SETTLER_ROLE moves any holder's free units without a hold (`notaryTransfer`: one-step signed
/// settlement, net cash positions). The transfer agent's desk needs only the first.
///
/// An authority reaches held units in two explicit steps: `forceReleaseHold` ends a named hold (the
/// notary's execution then fails and its release does nothing), then `forcedTransfer` moves the units.
///
/// Enforcement is split across roles: pausing, the blocklist, freezing (a whole account or part of a
/// balance), forced transfers (including court-ordered seizure), and wallet recovery.
interface IPermissionedToken {
    /// @notice Why a transfer is refused. `None` means it would succeed.
    enum Restriction {
        None,
        Paused,
        SenderNotEligible,
        ReceiverNotEligible,
        SenderFrozen,
        ReceiverFrozen,
        InsufficientFreeBalance,
        InvestorClassNotAllowed,
        CountryNotAllowed,
        HolderLimitReached,
        LockedUp,
        ApprovalRequired,
        InvalidReceiver,
        SenderBlocked,
        ReceiverBlocked,
        TransfersEnded
    }

    /// @notice Thrown when a transfer is refused; `code` says why (see {canTransfer}).
    error TokenTransferRestricted(Restriction code, address from, address to, uint256 amount);

    /// @notice Thrown when `account` is not eligible in the token's registry (issues, holds).
    error TokenAccountNotEligible(address account);

    /// @notice Thrown when `account` is frozen.
    error TokenAccountFrozen(address account);

    /// @notice Thrown when `account` is on the blocklist.
    error TokenAccountBlocked(address account);

    /// @notice Thrown when `account` is a wallet whose holdings were recovered to another wallet.
    error TokenAccountRecovered(address account, address newWallet);

    /// @notice Thrown when `account`'s free balance (balance − held − frozen) is below `needed`.
    error TokenInsufficientFreeBalance(address account, uint256 free, uint256 needed);

    /// @notice Thrown when unfreezing more than is frozen.
    error TokenInsufficientFrozen(address account, uint256 frozen, uint256 requested);

    /// @notice Thrown when an amount argument is zero.
    error TokenZeroAmount();

    /// @notice Thrown when an address argument is the zero address.
    error TokenZeroAddress();

    /// @notice Thrown when batch arguments have different lengths.
    error TokenLengthMismatch();

    /// @notice Thrown when an issue would take the supply above the token's cap.
    error TokenSupplyCapExceeded(uint256 cap);

    /// @notice Thrown when the token is paused and the operation is not an enforcement action.
    error TokenPaused();

    /// @notice Thrown when a recovery's new wallet already holds, has holds or is frozen, or equals the old.
    error TokenRecoveryInvalid(address lostWallet, address newWallet);

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

    /// @notice Thrown when a notary frees more of `account`'s units than are held.
    error TokenInsufficientHeld(address account, uint256 held, uint256 requested);

    /// @notice Thrown when freezing would take `account`'s frozen units to `total`, above the `cap` the
    /// frozen field holds.
    error TokenFrozenCapExceeded(address account, uint256 total, uint256 cap);

    /// @notice Thrown when a forced transfer's receiver (after recovery forwarding) is its sender.
    error TokenForcedTransferToSelf(address account);

    /// @notice Thrown when a holder names itself as the notary of its own hold.
    error TokenHoldSelfNotary(address holder);

    /// @notice Thrown when a recovery would make the chain of recoveries ending at the new wallet longer
    /// than `maxRecoveries`.
    error TokenRecoveryChainTooLong(address lostWallet, uint256 maxRecoveries);

    /// @notice Thrown when a notary executes a hold for an amount other than the held amount.
    error TokenHoldAmountMismatch(bytes32 id, uint256 held, uint256 requested);

    /// @notice Thrown when a forced transfer needs more than the free and frozen units of `account`:
    /// the rest is held, and each hold must first be ended with {forceReleaseHold}.
    error TokenUnitsHeld(address account, uint256 reachable, uint256 requested);

    /// @notice Emitted when units of `holder` are held for `notary` until `expiry`.
    event HoldPlaced(
        address indexed holder, address indexed notary, bytes32 indexed id, uint256 amount, uint64 expiry
    );

    /// @notice Emitted when a notary moved held units to `to`.
    event HoldExecuted(address indexed holder, address indexed notary, bytes32 indexed id, address to, uint256 amount);

    /// @notice Emitted when a hold ended without moving units.
    event HoldReleased(address indexed holder, address indexed notary, bytes32 indexed id, uint256 amount);

    /// @notice Emitted when the admin switched the built-in settlement contract's notary powers on or off.
    event SettlementEnabledSet(address indexed by, address indexed settlement, bool enabled);

    /// @notice Emitted when the token was paused or unpaused.
    event PauseSet(address indexed by, bool paused);

    /// @notice Emitted when an account was put on or taken off the blocklist.
    event AccountBlockedSet(address indexed account, bool blocked);

    /// @notice Emitted when a whole account was frozen or unfrozen.
    event AccountFrozenSet(address indexed account, bool frozen);

    /// @notice Emitted when `amount` units of `account` were frozen; `totalFrozen` is the new total.
    event UnitsFrozen(address indexed account, uint256 amount, uint256 totalFrozen);

    /// @notice Emitted when an authority ended the hold (holder, notary, id) of `amount` units on order
    /// `documentRef`: the notary can no longer execute it; its release does nothing.
    event HoldForceReleased(
        address indexed holder, address indexed notary, bytes32 indexed id, uint256 amount, bytes32 documentRef
    );

    /// @notice Emitted when `amount` units of `account` were unfrozen; `totalFrozen` is the new total.
    event UnitsUnfrozen(address indexed account, uint256 amount, uint256 totalFrozen);

    /// @notice Emitted on a forced transfer. `courtOrderOverride` is set when the receiver's
    /// eligibility was not required.
    event ForcedTransfer(
        address indexed from,
        address indexed to,
        uint256 amount,
        string reason,
        bytes32 indexed documentRef,
        bool courtOrderOverride
    );

    /// @notice Emitted when all holdings of `lostWallet` moved to `newWallet`.
    event WalletRecovered(address indexed lostWallet, address indexed newWallet, bytes32 indexed documentRef);

    /// @notice The registry that decides who may hold this token.
    function registry() external view returns (IInvestorRegistry);

    /// @notice The reason a transfer of `amount` from `from` to `to` would be refused now (`None` if not).
    function canTransfer(address from, address to, uint256 amount) external view returns (Restriction);

    /// @notice A sentence explaining `code`.
    function messageFor(Restriction code) external pure returns (string memory);

    /// @notice Units of `account` that are held.
    function heldBalanceOf(address account) external view returns (uint256);

    /// @notice Units of `account` that are frozen.
    function frozenBalanceOf(address account) external view returns (uint256);

    /// @notice Units of `account` that can be transferred, redeemed or held now.
    function freeBalanceOf(address account) external view returns (uint256);

    /// @notice True when the whole account is frozen.
    function isFrozen(address account) external view returns (bool);

    /// @notice True when the token is paused.
    function paused() external view returns (bool);

    /// @notice The wallet that now holds what `lostWallet` held: the last wallet of its chain of
    /// recoveries (zero if it was not recovered).
    function recoveredTo(address lostWallet) external view returns (address);

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

    /// @notice Ends the hold (holder, notary, id) on an authority's order so that its units can be
    /// reached by a forced transfer.
    function forceReleaseHold(address holder, address notary, bytes32 id, bytes32 documentRef) external;

    /// @notice A trusted notary locks `amount` of `holder`'s units as its hold `id`, without expiry.
    function notaryHold(address holder, bytes32 id, uint256 amount) external;

    /// @notice A trusted notary moves all `amount` units of its hold `id` on `holder` to `to`.
    function notaryExecute(address holder, bytes32 id, address to, uint256 amount) external;

    /// @notice A trusted notary ends its hold `id` of `amount` units on `holder` (nothing when the hold
    /// was ended by an authority).
    function notaryRelease(address holder, bytes32 id, uint256 amount) external;

    /// @notice A settler moves `amount` free units from `from` to `to` under the transfer rules
    /// (signed settlement, netted cash positions).
    function notaryTransfer(address from, address to, uint256 amount) external;

    /// @notice The reason a notary's move of `amount` from `from` to `to` would be refused now (`None` if
    /// not). With `fromHeld`, the units come out of `from`'s held units (a locked settlement leg);
    /// otherwise out of its free balance.
    function canDeliver(address from, address to, uint256 amount, bool fromHeld) external view returns (Restriction);
}
