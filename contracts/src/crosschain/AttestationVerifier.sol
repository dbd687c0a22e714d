// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IAttestationVerifier} from "../interfaces/IAttestationVerifier.sol";
import {CrossChainTerms} from "../libraries/CrossChainTerms.sol";

/// @title AttestationVerifier
/// @notice k-of-n attestations of another chain's settlement records (see {IAttestationVerifier}).
/// @dev Roles: DEFAULT_ADMIN_ROLE grants and revokes roles; AUTHORITY_ROLE rotates the attestor set.
/// The set is kept as each member's epoch number: rotating bumps the epoch, so every old member drops
/// out in one write, and a check costs one storage read per signature.
contract AttestationVerifier is AccessControl, IAttestationVerifier {
    /// @notice Rotates the attestor set and its threshold.
    bytes32 public constant AUTHORITY_ROLE = keccak256("AUTHORITY_ROLE");

    /// @notice The largest attestor set.
    uint256 public constant MAX_ATTESTORS = 32;

    bytes32 private constant ATTESTATION_TYPEHASH =
        keccak256("Attestation(uint256 chainId,address source,bytes32 tradeId,uint8 state,bytes32 termsHash)");

    bytes32 private constant DOMAIN_SEPARATOR = keccak256(
        abi.encode(
            keccak256("EIP712Domain(string name,string version)"), keccak256("kessai attestation"), keccak256("1")
        )
    );

    /// @dev Half the secp256k1 order: larger `s` values are the malleable twins of valid signatures.
    uint256 private constant HALF_ORDER = 0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0;

    struct SetInfo {
        uint64 epoch;
        uint8 threshold;
        uint8 size;
    }

    SetInfo private _set;
    mapping(address attestor => uint64 epoch) private _epochOf;

    /// @param admin Receives DEFAULT_ADMIN_ROLE.
    /// @param authority Receives AUTHORITY_ROLE.
    /// @param attestors The first attestor set.
    /// @param threshold Signatures a statement needs.
    constructor(address admin, address authority, address[] memory attestors, uint8 threshold) {
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(AUTHORITY_ROLE, authority);
        _install(attestors, threshold, authority);
    }

    /// @inheritdoc IAttestationVerifier
    function attestorSet() external view returns (uint64 epoch, uint8 threshold, uint8 size) {
        SetInfo memory s = _set;
        return (s.epoch, s.threshold, s.size);
    }

    /// @inheritdoc IAttestationVerifier
    function isAttestor(address account) external view returns (bool) {
        return account != address(0) && _epochOf[account] == _set.epoch;
    }

    /// @inheritdoc IAttestationVerifier
    function attestationDigest(uint256 chainId, address source, bytes32 tradeId, uint8 state, bytes32 termsHash)
        public
        pure
        returns (bytes32)
    {
        bytes32 structHash = keccak256(abi.encode(ATTESTATION_TYPEHASH, chainId, source, tradeId, state, termsHash));
        return keccak256(abi.encodePacked(hex"1901", DOMAIN_SEPARATOR, structHash));
    }

    /// @notice Returns when at least the threshold of current attestors signed the statement.
    /// @dev Requirements: `proof` is whole 65-byte signatures with strictly ascending signers, each an
    /// attestor of the current set, at least `threshold` of them. Extra valid signatures are accepted.
    function verify(
        uint256 chainId,
        address source,
        bytes32 tradeId,
        CrossChainTerms.State state,
        bytes32 termsHash,
        bytes calldata proof
    ) external view {
        if (proof.length % 65 != 0) revert VerifierMalformedProof(proof.length);
        uint256 count = proof.length / 65;
        SetInfo memory s = _set;
        if (count < s.threshold) revert VerifierBelowThreshold(count, s.threshold);
        bytes32 digest = attestationDigest(chainId, source, tradeId, uint8(state), termsHash);
        address previous = address(0);
        for (uint256 i; i < count; ++i) {
            address signer = _recover(digest, proof[i * 65:i * 65 + 65]);
            if (signer == address(0) || _epochOf[signer] != s.epoch) revert VerifierUnknownAttestor(i, signer);
            if (signer <= previous) revert VerifierSignersNotAscending(i, signer);
            previous = signer;
        }
    }

    /// @notice Installs a new attestor set and threshold.
    /// @dev Requirements: the caller has AUTHORITY_ROLE; 1 to {MAX_ATTESTORS} distinct non-zero
    /// attestors; a threshold from 1 to the set's size.
    function rotate(address[] calldata attestors, uint8 threshold) external onlyRole(AUTHORITY_ROLE) {
        _install(attestors, threshold, msg.sender);
    }

    function _install(address[] memory attestors, uint8 threshold, address by) private {
        uint256 size = attestors.length;
        if (size == 0 || size > MAX_ATTESTORS || threshold == 0 || threshold > size) {
            revert VerifierInvalidSet(size, threshold);
        }
        // Cannot overflow: one epoch per rotation, each a transaction.
        uint64 epoch;
        unchecked {
            epoch = _set.epoch + 1;
        }
        for (uint256 i; i < size; ++i) {
            address a = attestors[i];
            if (a == address(0) || _epochOf[a] == epoch) revert VerifierInvalidSet(size, threshold);
            _epochOf[a] = epoch;
        }
        _set = SetInfo({epoch: epoch, threshold: threshold, size: uint8(size)});
        emit AttestorsRotated(by, epoch, attestors, threshold);
    }

    /// @dev The signer of a 65-byte (r, s, v) signature; zero when it recovers to nobody or `s` is in the
    /// upper half (a malleable twin).
    function _recover(bytes32 digest, bytes calldata signature) private pure returns (address) {
        bytes32 r = bytes32(signature[0:32]);
        uint256 s = uint256(bytes32(signature[32:64]));
        uint8 v = uint8(signature[64]);
        if (s > HALF_ORDER) return address(0);
        return ecrecover(digest, v, r, bytes32(s));
    }
}
