// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {CrossChainTerms} from "../libraries/CrossChainTerms.sol";
import {IVerifier} from "./IVerifier.sol";

/// @title ICrossChainPayment
/// @notice The payment chain's side of a cross-chain DvP (chain B: the deposit token). Its record is
/// the trade's outcome, decided on this chain's clock alone:
/// - `Committed` ({commit}), at or before the terms' deadline, given proof that the seller's units are
///   locked on the asset chain under the same terms hash; in the same transaction the payer's cash
///   moves to the payee (from the hold {pay} placed, from the payer's free balance when the payer
///   commits itself, or by the payer's signed payment instruction);
/// - `Aborted` ({abort}) by anyone after the deadline, or earlier when payer and payee both agree
///   ({agreeAbort}); a paid hold is released.
/// Both are terminal and stored, so the asset chain can be shown either.
interface ICrossChainPayment {
    /// @notice Thrown when terms are malformed or do not name this chain and contract as the payment side.
    error XPaymentInvalidTerms();

    /// @notice Thrown when `caller` may not take this step (not the payer, or not a party).
    error XPaymentUnauthorized(bytes32 termsHash, address caller);

    /// @notice Thrown when a commit or payment comes after the deadline.
    error XPaymentDeadlinePassed(bytes32 termsHash, uint64 deadline);

    /// @notice Thrown when an abort by anyone comes at or before the deadline.
    error XPaymentDeadlineNotPassed(bytes32 termsHash, uint64 deadline);

    /// @notice Thrown when the trade is not in a state that allows the step (`state` is where it is).
    error XPaymentInvalidState(bytes32 termsHash, CrossChainTerms.State state);

    /// @notice Thrown when an unpaid trade's commit carries no valid payment instruction from `payer`.
    error XPaymentInvalidSignature(bytes32 termsHash, address payer);

    /// @notice Emitted when the payer locked `amount` for the trade.
    event Paid(bytes32 indexed termsHash, address indexed payer, uint256 amount);

    /// @notice Emitted when the trade committed: `amount` moved from the payer to the payee.
    event Committed(bytes32 indexed termsHash, bytes32 indexed id, address indexed payee, uint256 amount);

    /// @notice Emitted when `party` agreed to abort the trade before its deadline.
    event AbortAgreed(bytes32 indexed termsHash, address indexed party);

    /// @notice Emitted when the trade aborted (a paid hold was released to the payer).
    event Aborted(bytes32 indexed termsHash, bytes32 indexed id, address indexed by);

    /// @notice The verifier of the asset chain's locks.
    function verifier() external view returns (IVerifier);

    /// @notice The trade's state here.
    function stateOf(bytes32 termsHash) external view returns (CrossChainTerms.State);

    /// @notice The EIP-712 digest the payer signs to instruct payment of `termsHash` (this chain and
    /// contract's domain, type `PayCrossChain(bytes32 termsHash)`).
    function paymentDigest(bytes32 termsHash) external view returns (bytes32);

    /// @notice Locks the payer's cash for the trade.
    function pay(CrossChainTerms.Terms calldata terms) external;

    /// @notice Commits the trade, moving the cash to the payee.
    function commit(CrossChainTerms.Terms calldata terms, bytes calldata lockProof, bytes calldata payerSignature)
        external;

    /// @notice Aborts the trade after its deadline.
    function abort(CrossChainTerms.Terms calldata terms) external;

    /// @notice A party's agreement to abort before the deadline; the second party's agreement aborts.
    function agreeAbort(CrossChainTerms.Terms calldata terms) external;
}
