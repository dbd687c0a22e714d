// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {IERC1271} from "@openzeppelin/contracts/interfaces/IERC1271.sol";

/// @title SignatureLib
/// @notice Checks that `signature` over `digest` comes from `signer`: by ECDSA recovery for accounts
/// without code, by ERC-1271 `isValidSignature` for contract wallets. (OpenZeppelin's SignatureChecker
/// pulls in code that needs the Cancun MCOPY opcode; kessai targets pre-Shanghai chains.)
library SignatureLib {
    /// @notice True when `signature` is `signer`'s over `digest`.
    function isValid(address signer, bytes32 digest, bytes memory signature) internal view returns (bool) {
        if (signer.code.length == 0) {
            (address recovered, ECDSA.RecoverError err,) = ECDSA.tryRecover(digest, signature);
            return err == ECDSA.RecoverError.NoError && recovered == signer;
        }
        (bool ok, bytes memory result) =
            signer.staticcall(abi.encodeCall(IERC1271.isValidSignature, (digest, signature)));
        return ok && result.length >= 32 && abi.decode(result, (bytes32)) == bytes32(IERC1271.isValidSignature.selector);
    }
}
