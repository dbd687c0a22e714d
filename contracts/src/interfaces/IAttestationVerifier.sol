// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IVerifier} from "./IVerifier.sol";

/// @title IAttestationVerifier
/// @notice An {IVerifier} that accepts a statement when at least `threshold` attestors of the current
/// set signed it. An attestor signs a chain's record only once it is final there, and never two
/// conflicting states of one trade; up to `threshold - 1` faulty attestors can prove nothing.
///
/// A proof is the attestors' 65-byte (r, s, v) signatures laid end to end, ordered by the signers'
/// addresses, strictly ascending (so no attestor counts twice). Each signs the EIP-712 struct
/// `Attestation(uint256 chainId,address source,bytes32 tradeId,uint8 state,bytes32 termsHash)` under
/// the domain ("kessai attestation", version 1): the statement carries its own chain and contract, so
/// the same signatures prove it on any chain, and no field can be swapped for another trade's.
interface IAttestationVerifier is IVerifier {
    /// @notice Thrown when a proof's length is not a whole number of 65-byte signatures.
    error VerifierMalformedProof(uint256 length);

    /// @notice Thrown when fewer than `threshold` valid signatures are given (`given` counted).
    error VerifierBelowThreshold(uint256 given, uint256 threshold);

    /// @notice Thrown when signature `index` is not from an attestor of the current set (`signer` is who
    /// it recovers to, zero when it recovers to nobody).
    error VerifierUnknownAttestor(uint256 index, address signer);

    /// @notice Thrown when signature `index` is not ordered after the one before it (signers must be
    /// strictly ascending, so an attestor's signature counts once).
    error VerifierSignersNotAscending(uint256 index, address signer);

    /// @notice Thrown when a new attestor set is empty, too large, holds the zero address or a duplicate,
    /// or its threshold is zero or above its size.
    error VerifierInvalidSet(uint256 size, uint256 threshold);

    /// @notice Emitted when `by` installed attestor set number `epoch` with its threshold.
    event AttestorsRotated(address indexed by, uint64 indexed epoch, address[] attestors, uint8 threshold);

    /// @notice The current set's number (starts at 1), threshold and size.
    function attestorSet() external view returns (uint64 epoch, uint8 threshold, uint8 size);

    /// @notice True when `account` is an attestor of the current set.
    function isAttestor(address account) external view returns (bool);

    /// @notice The EIP-712 digest attestors sign for a statement.
    function attestationDigest(uint256 chainId, address source, bytes32 tradeId, uint8 state, bytes32 termsHash)
        external
        view
        returns (bytes32);

    /// @notice Replaces the attestor set and threshold; attestations of the old set stop counting at once.
    function rotate(address[] calldata attestors, uint8 threshold) external;
}
