// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {CrossChainTerms} from "../libraries/CrossChainTerms.sol";

/// @title IVerifier
/// @notice Proves to one chain what a contract on another chain recorded: that trade `tradeId` under
/// terms hash `termsHash` reached `state` in contract `source` on chain `chainId`.
///
/// The settlement contracts ask only this question, so the kind of proof can change without touching
/// them: {AttestationVerifier} checks k-of-n signatures from a registered attestor set; a light-client
/// verifier (QBFT commit seals over a block header, then a storage proof of the record's slot) answers
/// the same call from the source chain's own consensus.
interface IVerifier {
    /// @notice Returns when `proof` shows the statement; reverts with the verifier's named error
    /// otherwise. Every field is part of what is proven, so a proof of one statement never passes for
    /// another chain, contract, trade, state or terms hash.
    function verify(
        uint256 chainId,
        address source,
        bytes32 tradeId,
        CrossChainTerms.State state,
        bytes32 termsHash,
        bytes calldata proof
    ) external view;
}
