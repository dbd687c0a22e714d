// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IDvP} from "../interfaces/IDvP.sol";
import {IPermissionedToken} from "../interfaces/IPermissionedToken.sol";
import {TradeStatus, TradeStatusLib, TradeRecord, TradeRecordLib} from "../libraries/TradeStatus.sol";

/// @title DvP
/// @notice Atomic delivery versus payment of kessai security tokens against deposit tokens.
/// @dev Both legs are holds placed by this contract (it needs NOTARY_ROLE on both tokens), so units and
/// cash stay in the parties' balances until the final step, which executes both holds in one
/// transaction. The contract has no admin and holds no funds. State is written before any token call;
/// a token that calls back finds the trade already in its new state.
contract DvP is IDvP {
    mapping(bytes32 id => TradeRecord) private _trades;

    /// @notice Creates trade `id` and holds the seller's units until the deadline.
    /// @dev Requirements:
    /// - the caller is `trade.seller`;
    /// - no trade `id` exists; the terms are well formed; the deadline is in the future;
    /// - the seller is eligible and has `trade.units` free units.
    function createTrade(bytes32 id, Trade calldata trade) external {
        if (msg.sender != trade.seller) revert DvPUnauthorized(id, msg.sender);
        if (TradeRecord.unwrap(_trades[id]) != bytes32(0)) revert DvPTradeExists(id);
        if (
            trade.units == 0 || trade.amount == 0 || trade.buyer == address(0) || trade.seller == trade.buyer
                || trade.security == address(0) || trade.cash == address(0)
        ) revert DvPInvalidTerms();
        if (trade.deadline <= block.timestamp) revert DvPTradeExpired(id, trade.deadline);

        _trades[id] = TradeRecordLib.pack(_hash(trade), TradeStatus.wrap(TradeStatusLib.CREATED));
        emit TradeCreated(
            id,
            trade.seller,
            trade.buyer,
            trade.security,
            trade.units,
            trade.cash,
            trade.amount,
            trade.agent,
            trade.deadline
        );
        IPermissionedToken(trade.security).holdFor(trade.seller, id, trade.units, trade.deadline);
    }

    /// @notice Holds the buyer's payment; settles both legs at once when no approval is outstanding.
    /// @dev Requirements:
    /// - the caller is `trade.buyer`; the trade is open, unpaid and before its deadline;
    /// - the buyer has `trade.amount` free deposit tokens; if settling, both parties are eligible.
    function pay(bytes32 id, Trade calldata trade) external {
        if (msg.sender != trade.buyer) revert DvPUnauthorized(id, msg.sender);
        TradeStatus status = _openTrade(id, trade, TradeStatusLib.PAID);
        status = status.with(TradeStatusLib.PAID);
        bool settles = trade.agent == address(0) || status.has(TradeStatusLib.APPROVED);
        if (settles) status = status.with(TradeStatusLib.SETTLED);
        _trades[id] = TradeRecordLib.pack(_hash(trade), status);
        emit TradePaid(id);

        IPermissionedToken(trade.cash).holdFor(trade.buyer, id, trade.amount, trade.deadline);
        if (settles) _deliver(id, trade);
    }

    /// @notice Records the settlement agent's approval; settles both legs at once if the buyer has paid.
    /// @dev Requirements:
    /// - the caller is `trade.agent` (not zero); the trade is open, not yet approved and before its deadline;
    /// - if settling, both parties are eligible.
    function approve(bytes32 id, Trade calldata trade) external {
        if (trade.agent == address(0) || msg.sender != trade.agent) revert DvPUnauthorized(id, msg.sender);
        TradeStatus status = _openTrade(id, trade, TradeStatusLib.APPROVED);
        status = status.with(TradeStatusLib.APPROVED);
        bool settles = status.has(TradeStatusLib.PAID);
        if (settles) status = status.with(TradeStatusLib.SETTLED);
        _trades[id] = TradeRecordLib.pack(_hash(trade), status);
        emit TradeApproved(id, msg.sender);

        if (settles) _deliver(id, trade);
    }

    /// @notice Cancels an unsettled trade and releases its holds.
    /// @dev Requirements:
    /// - the caller is the seller, the buyer or the agent; the trade is open.
    function cancel(bytes32 id, Trade calldata trade) external {
        if (msg.sender != trade.seller && msg.sender != trade.buyer && (msg.sender != trade.agent || trade.agent == address(0)))
        {
            revert DvPUnauthorized(id, msg.sender);
        }
        TradeStatus status = _openTrade(id, trade, 0);
        _trades[id] = TradeRecordLib.pack(_hash(trade), status.with(TradeStatusLib.CANCELLED));
        emit TradeCancelled(id, msg.sender);
        _releaseHolds(id, trade, status);
    }

    /// @notice Releases the holds of an unsettled trade after its deadline. Anyone may call.
    /// @dev Requirements:
    /// - the trade is open and its deadline has passed.
    function release(bytes32 id, Trade calldata trade) external {
        TradeRecord record = _trades[id];
        if (!record.matches(_hash(trade))) revert DvPTradeNotFound(id);
        TradeStatus status = record.status();
        if (!status.isOpen()) revert DvPInvalidStatus(id, TradeStatus.unwrap(status));
        if (block.timestamp <= trade.deadline) revert DvPTradeNotExpired(id, trade.deadline);
        _trades[id] = TradeRecordLib.pack(_hash(trade), status.with(TradeStatusLib.EXPIRED));
        emit TradeExpired(id);
        _releaseHolds(id, trade, status);
    }

    /// @inheritdoc IDvP
    function statusOf(bytes32 id) external view returns (TradeStatus) {
        return _trades[id].status();
    }

    /// @inheritdoc IDvP
    function hashTerms(Trade calldata trade) external pure returns (bytes32) {
        return _hash(trade);
    }

    /// @dev Loads an open trade matching `trade`, before its deadline, without flag `step` set yet.
    function _openTrade(bytes32 id, Trade calldata trade, uint8 step) private view returns (TradeStatus status) {
        TradeRecord record = _trades[id];
        if (TradeRecord.unwrap(record) == bytes32(0) || !record.matches(_hash(trade))) revert DvPTradeNotFound(id);
        status = record.status();
        if (!status.isOpen() || (step != 0 && status.has(step))) {
            revert DvPInvalidStatus(id, TradeStatus.unwrap(status));
        }
        if (block.timestamp > trade.deadline) revert DvPTradeExpired(id, trade.deadline);
    }

    /// @dev The atomic final step: both holds execute in this transaction, or the transaction reverts.
    function _deliver(bytes32 id, Trade calldata trade) private {
        IPermissionedToken(trade.security).executeHold(trade.seller, id, trade.buyer, trade.units);
        IPermissionedToken(trade.cash).executeHold(trade.buyer, id, trade.seller, trade.amount);
        emit TradeSettled(id);
    }

    /// @dev Releases whichever legs are still held. A holder may already have released an expired hold
    /// on the token itself; that leg is skipped so the trade can always be closed.
    function _releaseHolds(bytes32 id, Trade calldata trade, TradeStatus status) private {
        _releaseIfHeld(IPermissionedToken(trade.security), trade.seller, id);
        if (status.has(TradeStatusLib.PAID)) _releaseIfHeld(IPermissionedToken(trade.cash), trade.buyer, id);
    }

    function _releaseIfHeld(IPermissionedToken token, address holder, bytes32 id) private {
        (uint256 amount,) = token.holdOf(holder, address(this), id);
        if (amount != 0) token.releaseHold(holder, address(this), id);
    }

    function _hash(Trade calldata trade) private pure returns (bytes32) {
        return keccak256(abi.encode(trade));
    }
}
