// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {CrossChainTerms} from "../libraries/CrossChainTerms.sol";
import {IPermissionedToken} from "./IPermissionedToken.sol";
import {IVerifier} from "./IVerifier.sol";

/// @title ICrossChainDelivery
/// @notice The asset chain's side of a cross-chain DvP (chain A: the security token).
///
/// The seller locks the units under the trade's terms hash ({lock}): a hold owned by this contract,
/// placed only when the delivery to the buyer would pass the token's rules now. From then on only
/// the payment chain's outcome moves them: {deliver} to the buyer with proof that chain B committed,
/// {returnUnits} to the seller with proof that chain B aborted. Chain A has no timeout of its own, so
/// no clock race can give one party both legs.
///
/// The token keeps the lock (the hold (seller, this contract, terms hash)); this contract keeps only
/// which trade ids each seller has used, as bits: a trade id locks once, ever, so the same terms can
/// never be locked (and delivered) twice. Sellers that number their trades in sequence share storage
/// words (a lock then writes 2,900 gas of state instead of 22,100).
///
/// The one exception is the emergency procedure for a payment chain that has stopped for good: an
/// AUTHORITY_ROLE holder proposes a destination (buyer or seller) for a locked trade with a document
/// reference, `unwindApprovals` distinct authorities approve that same destination, and after
/// {unwindDelay} from the proposal anyone may carry it out ({approveResolution}, {resolve}).
interface ICrossChainDelivery {
    /// @notice Thrown when terms are malformed: a zero id, amount or address, the seller as buyer, both
    /// chains the same, or terms that do not name this chain and contract as the asset side.
    error XDeliveryInvalidTerms();

    /// @notice Thrown when `caller` is not the terms' seller.
    error XDeliveryNotSeller(address caller, address seller);

    /// @notice Thrown when locking terms whose payment deadline has passed on this chain's clock.
    error XDeliveryTermsExpired(bytes32 termsHash, uint64 deadline);

    /// @notice Thrown when the delivery to the buyer would be refused now (`code` says why), so the
    /// units are not locked and the payment chain can never commit the trade.
    error XDeliveryRestricted(bytes32 termsHash, IPermissionedToken.Restriction code);

    /// @notice Thrown when `seller` already used trade id `id` (each id locks once).
    error XDeliveryIdUsed(address seller, bytes32 id);

    /// @notice Thrown when no units are locked for trade `termsHash` (never locked, or already delivered,
    /// returned or resolved).
    error XDeliveryNotLocked(bytes32 termsHash);

    /// @notice Thrown when an emergency resolution is carried out before `notBefore` (its first approval
    /// plus {unwindDelay}), or without enough approvals (`approvals` of `needed`).
    error XDeliveryResolutionNotReady(bytes32 termsHash, uint64 notBefore, uint256 approvals, uint256 needed);

    /// @notice Thrown when an authority approves the same resolution of a trade twice.
    error XDeliveryAlreadyApproved(bytes32 termsHash, address authority);

    /// @notice Emitted when the seller's units were locked for trade `termsHash`. The event carries the
    /// whole terms, so a relayer rebuilds every open trade from the chain alone.
    event Locked(bytes32 indexed termsHash, address indexed seller, address indexed buyer, CrossChainTerms.Terms terms);

    /// @notice Emitted when the locked units went to the buyer on proof that the payment chain committed.
    event Delivered(bytes32 indexed termsHash, address indexed buyer, uint256 units);

    /// @notice Emitted when the locked units were freed for the seller on proof that the payment chain aborted.
    event Returned(bytes32 indexed termsHash, address indexed seller, uint256 units);

    /// @notice Emitted when `authority` approved the emergency resolution of `termsHash` towards the
    /// buyer (`toBuyer`) or the seller; `approvals` counts the distinct approvals of that destination,
    /// and the first approval of a trade starts the delay (`notBefore`).
    event ResolutionApproved(
        bytes32 indexed termsHash,
        address indexed authority,
        bool toBuyer,
        bytes32 documentRef,
        uint256 approvals,
        uint64 notBefore
    );

    /// @notice Emitted when the emergency procedure moved the units to the buyer (`toBuyer`) or freed them
    /// for the seller.
    event Resolved(bytes32 indexed termsHash, bool toBuyer, uint256 units);

    /// @notice The verifier of the payment chain's outcomes.
    function verifier() external view returns (IVerifier);

    /// @notice Seconds from an emergency resolution's first approval until it may be carried out.
    function unwindDelay() external view returns (uint64);

    /// @notice Distinct authority approvals the emergency procedure needs.
    function unwindApprovals() external view returns (uint8);

    /// @notice True when `seller` has used trade id `id`.
    function isIdUsed(address seller, bytes32 id) external view returns (bool);

    /// @notice True while the trade's units are locked here. Before the lock and after the trade ended
    /// (delivered, returned or resolved: this contract's events say which) it is false, and once locked
    /// its id stays used.
    function isLocked(CrossChainTerms.Terms calldata terms) external view returns (bool);

    /// @notice The terms hash of `terms` (the same on both chains).
    function termsHash(CrossChainTerms.Terms calldata terms) external pure returns (bytes32);

    /// @notice Locks the seller's units under the terms.
    function lock(CrossChainTerms.Terms calldata terms) external;

    /// @notice Delivers the locked units to the buyer, given proof that the payment chain committed.
    function deliver(CrossChainTerms.Terms calldata terms, bytes calldata commitProof) external;

    /// @notice Frees the locked units for the seller, given proof that the payment chain aborted.
    function returnUnits(CrossChainTerms.Terms calldata terms, bytes calldata abortProof) external;

    /// @notice An authority's approval of the emergency resolution of a locked trade.
    function approveResolution(CrossChainTerms.Terms calldata terms, bool toBuyer, bytes32 documentRef) external;

    /// @notice Carries out an approved emergency resolution once its delay has passed.
    function resolve(CrossChainTerms.Terms calldata terms, bool toBuyer) external;
}
