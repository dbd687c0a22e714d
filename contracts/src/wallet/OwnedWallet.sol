// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {IERC1271} from "@openzeppelin/contracts/interfaces/IERC1271.sol";

/// @title OwnedWallet
/// @notice A minimal contract wallet for institutional custody: it holds tokens, executes calls its
/// owner sends, and answers ERC-1271 for signatures made by its owner's key — so it can sign deposit
/// token permits, authorizations and DvP instructions like an externally owned account.
/// @dev The owner signs `hash` bound to this wallet: the EIP-191 version-0 digest ("data with intended
/// validator") keccak256(0x19 ‖ 0x00 ‖ wallet ‖ hash). So a signature the owner gives for one wallet is
/// never valid for another wallet of the same key, nor is a plain signature of the key over `hash`.
contract OwnedWallet is IERC1271 {
    /// @notice Thrown when someone other than the owner calls {execute}.
    error WalletNotOwner(address caller);

    /// @notice Thrown when an executed call reverted; carries its revert data.
    error WalletCallFailed(bytes reason);

    /// @notice Emitted after each executed call.
    event Executed(address indexed target, bytes data);

    address private immutable _owner;

    /// @param owner_ The key that controls the wallet.
    constructor(address owner_) {
        _owner = owner_;
    }

    /// @notice The controlling key.
    function owner() external view returns (address) {
        return _owner;
    }

    /// @notice Calls `target` with `data`.
    /// @dev Requirements: the caller is the owner; the call succeeds.
    function execute(address target, bytes calldata data) external returns (bytes memory result) {
        if (msg.sender != _owner) revert WalletNotOwner(msg.sender);
        bool ok;
        (ok, result) = target.call(data);
        if (!ok) revert WalletCallFailed(result);
        emit Executed(target, data);
    }

    /// @notice The digest the owner signs for `hash` on this wallet (EIP-191 version 0, this wallet as
    /// the intended validator).
    function digestFor(bytes32 hash) public view returns (bytes32 digest) {
        address wallet = address(this);
        assembly ("memory-safe") {
            let m := mload(0x40)
            mstore(m, shl(240, 0x1900))
            mstore(add(m, 2), shl(96, wallet))
            mstore(add(m, 22), hash)
            digest := keccak256(m, 54)
        }
    }

    /// @inheritdoc IERC1271
    function isValidSignature(bytes32 hash, bytes calldata signature) external view returns (bytes4) {
        // slither-disable-next-line unused-return — the error argument only details a failure already in `err`
        (address signer, ECDSA.RecoverError err,) = ECDSA.tryRecover(digestFor(hash), signature);
        return err == ECDSA.RecoverError.NoError && signer == _owner ? IERC1271.isValidSignature.selector : bytes4(0xffffffff);
    }
}
