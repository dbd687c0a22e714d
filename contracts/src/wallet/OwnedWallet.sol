// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {IERC1271} from "@openzeppelin/contracts/interfaces/IERC1271.sol";

/// @title OwnedWallet
/// @notice A minimal contract wallet for institutional custody: it holds tokens, executes calls its
/// owner sends, and answers ERC-1271 for signatures made by its owner's key — so it can sign deposit
/// token permits and authorizations like an externally owned account.
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

    /// @inheritdoc IERC1271
    function isValidSignature(bytes32 hash, bytes calldata signature) external view returns (bytes4) {
        // slither-disable-next-line unused-return — the error argument only details a failure already in `err`
        (address signer, ECDSA.RecoverError err,) = ECDSA.tryRecover(hash, signature);
        return err == ECDSA.RecoverError.NoError && signer == _owner ? IERC1271.isValidSignature.selector : bytes4(0xffffffff);
    }
}
