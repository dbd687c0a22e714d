// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title ReentrantToken
/// @notice A hostile test fixture, never to be deployed on a real chain: a token that implements the
/// notary calls the DvP contract makes and, on the first of them, calls back into a target (the DvP)
/// with armed calldata. It proves that a token calling back cannot break a settlement's atomicity:
/// the DvP writes every state change before it calls a token, so the callback finds the trade
/// already settled, cancelled or locked.
/// @dev Balances are a plain ledger; nothing here is access controlled. `bubble` decides whether a
/// failed callback reverts the whole transaction (then nothing may have moved) or is swallowed (then
/// the outer step must complete exactly once).
contract ReentrantToken {
    /// @notice Thrown by the fixture's ledger when a move exceeds the balance or held units.
    error ReentrantTokenInsufficient(address account);

    mapping(address account => uint256) public balanceOf;
    mapping(address account => uint256) public heldBalanceOf;
    uint256 public totalSupply;

    address private _target;
    bytes private _payload;
    bool private _bubble;
    bool private _reentered;
    bool private _reentrySucceeded;
    bytes private _reentryResult;

    /// @notice Creates `amount` units for `to`.
    function mint(address to, uint256 amount) external {
        balanceOf[to] += amount;
        totalSupply += amount;
    }

    /// @notice Arms the callback: on the next notary call, call `target` with `payload` once.
    function arm(address target, bytes calldata payload, bool bubble) external {
        _target = target;
        _payload = payload;
        _bubble = bubble;
        _reentered = false;
    }

    /// @notice Whether the callback ran, whether it succeeded, and what it returned or reverted with.
    function reentry() external view returns (bool reentered, bool succeeded, bytes memory result) {
        return (_reentered, _reentrySucceeded, _reentryResult);
    }

    /// @notice Notary lock: calls back, then adds to the held units.
    function notaryHold(address holder, bytes32, uint256 amount) external {
        _callBack();
        if (balanceOf[holder] - heldBalanceOf[holder] < amount) revert ReentrantTokenInsufficient(holder);
        heldBalanceOf[holder] += amount;
    }

    /// @notice Notary execution: calls back, then moves held units.
    function notaryExecute(address holder, bytes32, address to, uint256 amount) external {
        _callBack();
        if (heldBalanceOf[holder] < amount) revert ReentrantTokenInsufficient(holder);
        heldBalanceOf[holder] -= amount;
        balanceOf[holder] -= amount;
        balanceOf[to] += amount;
    }

    /// @notice Notary release: calls back, then frees held units.
    function notaryRelease(address holder, bytes32, uint256 amount) external {
        _callBack();
        if (heldBalanceOf[holder] < amount) revert ReentrantTokenInsufficient(holder);
        heldBalanceOf[holder] -= amount;
    }

    /// @notice Notary transfer: calls back, then moves free units.
    function notaryTransfer(address from, address to, uint256 amount) external {
        _callBack();
        if (balanceOf[from] - heldBalanceOf[from] < amount) revert ReentrantTokenInsufficient(from);
        balanceOf[from] -= amount;
        balanceOf[to] += amount;
    }

    /// @notice Always allows (restriction code 0).
    function canDeliver(address, address, uint256, bool) external pure returns (uint8) {
        return 0;
    }

    function _callBack() private {
        if (_payload.length == 0 || _reentered) return;
        _reentered = true;
        (bool ok, bytes memory result) = _target.call(_payload);
        _reentrySucceeded = ok;
        _reentryResult = result;
        if (!ok && _bubble) {
            assembly ("memory-safe") {
                revert(add(result, 0x20), mload(result))
            }
        }
    }
}
