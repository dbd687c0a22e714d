// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {TradeStatus} from "../libraries/TradeStatus.sol";

/// @title IDvP
/// @notice Delivery versus payment of a security token against a deposit token. Both legs are locked
/// with holds in the parties' own balances, and the final step moves both legs in one transaction or
/// neither.
///
/// Lifecycle (the DCJPY pilot's steps): the seller creates the trade, which holds the seller's units
/// (step 1); the buyer pays, which holds the buyer's deposit tokens (steps 3-4); the settlement agent,
/// when the trade names one, approves (step 5); whichever of payment and approval comes last settles
/// both legs atomically (step 6). Any party may cancel before settlement; after the deadline anyone
/// may release the holds.
interface IDvP {
    /// @notice The terms of a trade. Only their hash is stored; every call passes them again.
    /// @param security The security token delivered by the seller.
    /// @param seller The account delivering `units`.
    /// @param buyer The account paying `amount`.
    /// @param cash The deposit token paid by the buyer.
    /// @param agent The settlement agent that must approve, or the zero address for none.
    /// @param units Security units delivered.
    /// @param amount Deposit tokens paid.
    /// @param deadline Last second at which the trade can settle.
    struct Trade {
        address security;
        address seller;
        address buyer;
        address cash;
        address agent;
        uint256 units;
        uint256 amount;
        uint64 deadline;
    }

    /// @notice Thrown when a trade with this id already exists.
    error DvPTradeExists(bytes32 id);

    /// @notice Thrown when no trade with this id exists, or the terms passed do not match it.
    error DvPTradeNotFound(bytes32 id);

    /// @notice Thrown when `caller` may not perform this step of trade `id`.
    error DvPUnauthorized(bytes32 id, address caller);

    /// @notice Thrown when the trade's deadline has passed.
    error DvPTradeExpired(bytes32 id, uint64 deadline);

    /// @notice Thrown when releasing a trade whose deadline has not passed.
    error DvPTradeNotExpired(bytes32 id, uint64 deadline);

    /// @notice Thrown when the trade is not in a state that allows the step (status flags attached).
    error DvPInvalidStatus(bytes32 id, uint8 status);

    /// @notice Thrown when trade terms are malformed (zero amount, zero address, seller equals buyer).
    error DvPInvalidTerms();

    /// @notice Emitted when the seller created trade `id`; the seller's units are held from now on.
    event TradeCreated(
        bytes32 indexed id,
        address indexed seller,
        address indexed buyer,
        address security,
        uint256 units,
        address cash,
        uint256 amount,
        address agent,
        uint64 deadline
    );

    /// @notice Emitted when the buyer paid: the buyer's deposit tokens are held.
    event TradePaid(bytes32 indexed id);

    /// @notice Emitted when the settlement agent approved the trade.
    event TradeApproved(bytes32 indexed id, address indexed agent);

    /// @notice Emitted when both legs moved.
    event TradeSettled(bytes32 indexed id);

    /// @notice Emitted when a party cancelled the trade and its holds were released.
    event TradeCancelled(bytes32 indexed id, address indexed by);

    /// @notice Emitted when an expired trade's holds were released.
    event TradeExpired(bytes32 indexed id);

    /// @notice Creates trade `id` and holds the seller's units until the deadline.
    function createTrade(bytes32 id, Trade calldata trade) external;

    /// @notice Holds the buyer's payment; settles when no approval is outstanding.
    function pay(bytes32 id, Trade calldata trade) external;

    /// @notice Records the agent's approval; settles when the buyer has paid.
    function approve(bytes32 id, Trade calldata trade) external;

    /// @notice Cancels an unsettled trade and releases its holds.
    function cancel(bytes32 id, Trade calldata trade) external;

    /// @notice Releases the holds of an unsettled trade after its deadline.
    function release(bytes32 id, Trade calldata trade) external;

    /// @notice The status flags of trade `id` (zero when it does not exist).
    function statusOf(bytes32 id) external view returns (TradeStatus);

    /// @notice The hash under which terms are stored: keccak256(abi.encode(trade)).
    function hashTerms(Trade calldata trade) external pure returns (bytes32);
}
