// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {IERC1271} from "@openzeppelin/contracts/interfaces/IERC1271.sol";

/// @title SignatureLib
/// @notice Checks that `signature` over `digest` comes from `signer`: by ECDSA recovery first (no
/// account access for ordinary keys), then, when the signer is a contract, by ERC-1271
/// `isValidSignature`. (OpenZeppelin's SignatureChecker pulls in code that needs the Cancun MCOPY
/// opcode; kessai targets pre-Shanghai chains.)
library SignatureLib {
    /// @dev Half the secp256k1 order: larger `s` values are the malleable twins of valid signatures.
    uint256 private constant HALF_ORDER = 0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0;

    /// @notice True when `signature` is `signer`'s over `digest`.
    function isValid(address signer, bytes32 digest, bytes memory signature) internal view returns (bool) {
        // slither-disable-next-line unused-return — the error argument only details a failure already in `err`
        (address recovered, ECDSA.RecoverError err,) = ECDSA.tryRecover(digest, signature);
        if (err == ECDSA.RecoverError.NoError && recovered == signer && signer != address(0)) return true;
        return _isValidERC1271(signer, digest, signature);
    }

    /// @notice {isValid} for a signature in calldata: a 65-byte (r, s, v) or 64-byte EIP-2098 compact
    /// (r, vs) signature is recovered in place without copying it to memory.
    function isValidCalldata(address signer, bytes32 digest, bytes calldata signature) internal view returns (bool) {
        uint256 length = signature.length;
        if ((length == 65 || length == 64) && signer != address(0)) {
            bytes32 r = bytes32(signature[0:32]);
            uint256 s = uint256(bytes32(signature[32:64]));
            uint8 v;
            if (length == 65) {
                v = uint8(signature[64]);
            } else {
                // EIP-2098: the top bit of `vs` is v - 27, the rest is s.
                v = uint8(s >> 255) + 27;
                s &= ~uint256(1 << 255);
            }
            if (s <= HALF_ORDER && ecrecover(digest, v, r, bytes32(s)) == signer) return true;
        }
        return _isValidERC1271(signer, digest, signature);
    }

    function _isValidERC1271(address signer, bytes32 digest, bytes memory signature) private view returns (bool) {
        if (signer.code.length == 0) return false;
        (bool ok, bytes memory result) =
            signer.staticcall(abi.encodeCall(IERC1271.isValidSignature, (digest, signature)));
        return ok && result.length >= 32 && abi.decode(result, (bytes32)) == bytes32(IERC1271.isValidSignature.selector);
    }
}
