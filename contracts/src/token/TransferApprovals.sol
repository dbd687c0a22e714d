// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IPermissionedToken} from "../interfaces/IPermissionedToken.sol";
import {ITransferApprovals} from "../interfaces/ITransferApprovals.sol";

/// @title TransferApprovals
/// @notice The transfer agent's desk for tokens in approval mode: requests become holds, decisions
/// execute or release them. It needs NOTARY_ROLE on every token it serves.
/// @dev Roles:
/// - DEFAULT_ADMIN_ROLE grants and revokes roles.
/// - TRANSFER_AGENT_ROLE approves and rejects requests (the registrar / transfer agent).
contract TransferApprovals is AccessControl, ITransferApprovals {
    /// @notice Approves and rejects requests.
    bytes32 public constant TRANSFER_AGENT_ROLE = keccak256("TRANSFER_AGENT_ROLE");

    /// @notice How long a request stays pending before its sender may withdraw it.
    uint64 public constant REQUEST_TTL = 7 days;

    struct Request {
        address token;
        address from;
        address to;
        uint256 amount;
    }

    mapping(bytes32 id => Request) private _requests;
    uint256 private _nonce;

    /// @param admin Receives DEFAULT_ADMIN_ROLE.
    /// @param agent Receives TRANSFER_AGENT_ROLE.
    constructor(address admin, address agent) {
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(TRANSFER_AGENT_ROLE, agent);
    }

    /// @notice Requests a transfer of `amount` of `token` from the caller to `to`; the units are held
    /// for this contract until the agent decides or {REQUEST_TTL} passes.
    /// @dev Requirements: the token's hold rules (eligible, unfrozen caller with enough free units,
    /// token not paused) and this contract holds NOTARY_ROLE on the token.
    function requestTransfer(address token, address to, uint256 amount) external returns (bytes32 id) {
        id = keccak256(abi.encode(address(this), token, msg.sender, ++_nonce));
        uint64 expiry = uint64(block.timestamp) + REQUEST_TTL;
        _requests[id] = Request({token: token, from: msg.sender, to: to, amount: amount});
        emit TransferRequested(id, token, msg.sender, to, amount, expiry);
        IPermissionedToken(token).holdFor(msg.sender, id, amount, expiry);
    }

    /// @notice Approves request `id`: the held units move to the receiver now.
    /// @dev Requirements: the caller has TRANSFER_AGENT_ROLE; the request is pending and its hold has
    /// not expired; the token's transfer rules allow the move now.
    function approve(bytes32 id) external onlyRole(TRANSFER_AGENT_ROLE) {
        Request memory q = _take(id);
        emit TransferApproved(id, msg.sender);
        IPermissionedToken(q.token).executeHold(q.from, id, q.to, q.amount);
    }

    /// @notice Rejects request `id` with `reason`; the units are released.
    /// @dev Requirements: the caller has TRANSFER_AGENT_ROLE; the request is pending.
    function reject(bytes32 id, string calldata reason) external onlyRole(TRANSFER_AGENT_ROLE) {
        Request memory q = _take(id);
        emit TransferRejected(id, msg.sender, reason);
        // slither-disable-next-line unused-return — only whether the hold still exists matters, not its expiry
        (uint256 held,) = IPermissionedToken(q.token).holdOf(q.from, address(this), id);
        if (held != 0) IPermissionedToken(q.token).releaseHold(q.from, address(this), id);
    }

    /// @notice The pending request `id` (all zero when none).
    function requestOf(bytes32 id) external view returns (Request memory) {
        return _requests[id];
    }

    function _take(bytes32 id) private returns (Request memory q) {
        q = _requests[id];
        if (q.from == address(0)) revert ApprovalRequestNotPending(id);
        delete _requests[id];
    }
}
