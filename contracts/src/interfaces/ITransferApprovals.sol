// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title ITransferApprovals
/// @notice Transfer requests for tokens in approval mode. A request holds the sender's units for this
/// contract (they stay in the sender's balance); the transfer agent approves (the hold executes under
/// the token's transfer rules) or rejects with a reason (the hold is released). A request not decided
/// by its expiry can be withdrawn by the sender on the token itself (`releaseHold`).
interface ITransferApprovals {
    /// @notice Thrown when request `id` does not exist or was already decided.
    error ApprovalRequestNotPending(bytes32 id);

    /// @notice Emitted when `from` asked to transfer `amount` of `token` to `to`; the units are held.
    event TransferRequested(
        bytes32 indexed id, address indexed token, address indexed from, address to, uint256 amount, uint64 expiry
    );

    /// @notice Emitted when the transfer agent approved request `id` and the units moved.
    event TransferApproved(bytes32 indexed id, address indexed agent);

    /// @notice Emitted when the transfer agent rejected request `id`; the units are free again.
    event TransferRejected(bytes32 indexed id, address indexed agent, string reason);

    /// @notice Requests a transfer of `amount` of `token` from the caller to `to`.
    function requestTransfer(address token, address to, uint256 amount) external returns (bytes32 id);

    /// @notice Approves request `id`.
    function approve(bytes32 id) external;

    /// @notice Rejects request `id` with `reason`.
    function reject(bytes32 id, string calldata reason) external;
}
