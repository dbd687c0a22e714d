// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {TradeStatus} from "../libraries/TradeStatus.sol";
import {IPermissionedToken} from "./IPermissionedToken.sol";

/// @title IDvP
/// @notice Delivery versus payment of a security token against a deposit token. Both legs are locked
/// in the parties' own balances, and the final step moves both legs in one transaction or neither.
///
/// Lifecycle (the DCJPY pilot's steps): the seller creates the trade, which locks the seller's units
/// (step 1); the buyer pays, which locks the buyer's deposit tokens (steps 3-4); the settlement agent,
/// when the trade names one, approves (step 5); whichever of payment and approval comes last settles
/// both legs atomically (step 6). When the buyer's instruction reaches the agent as a signature
/// instead, the agent's one transaction verifies it, takes the payment and settles
/// ({settleWithPayment}: steps 4-6 at once).
///
/// Other paths to the same end:
/// - anyone holding both parties' EIP-712 signatures over the terms may create the trade with both
///   legs locked at once ({createSignedTrade}), or settle it in one transaction without prior locks
///   ({settleSigned}; the agent submits it when the trade names one); each path has its own signed
///   type ({Instruction});
/// - the agent settles many paid trades at once, all or nothing ({settleBatch}), or with only the net
///   cash positions moving ({settleBatchNetted}, DvP model 3).
///
/// Cancellation: before settlement the seller, the buyer or the agent may cancel; after the deadline
/// anyone may release the locks. Nothing can stay locked past a trade's deadline.
///
/// Trade ids are bound to the seller: the top 20 bytes of an id are the seller's address, the low 12
/// bytes the seller's own reference (the tooling uses the first 12 bytes of keccak256(reference)).
/// Only the seller consents to a trade under its ids, so nobody can squat another seller's id.
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

    /// @notice What a signature instructs; each is its own EIP-712 type wrapping the terms, so a
    /// signature given for one path cannot drive another.
    /// - `Lock`: `LockTrade(Trade terms)`, both parties agree to a trade with both legs locked
    ///   ({createSignedTrade});
    /// - `Settle`: `SettleTrade(Trade terms)`, both parties instruct a one-transaction settlement from
    ///   their free balances ({settleSigned});
    /// - `Pay`: `PayTrade(Trade terms)`, the buyer's payment instruction for a trade the seller created
    ///   ({settleWithPayment}).
    enum Instruction {
        Lock,
        Settle,
        Pay
    }

    /// @notice What stands between a trade and its settlement now. For an open trade whose legs would
    /// both pass the tokens' rules, the answer names the step that remains: `AwaitingPayment` (the
    /// buyer has not paid; if no approval is outstanding, the payment settles) or `AwaitingApproval`
    /// (paid; the agent's approval settles).
    enum SettleCheck {
        TradeNotFound,
        NotOpen,
        Expired,
        SecurityLegRestricted,
        CashLegRestricted,
        AwaitingPayment,
        AwaitingApproval
    }

    /// @notice Thrown when trade `id` does not carry `seller` in its top 20 bytes.
    error DvPTradeIdNotBound(bytes32 id, address seller);

    /// @notice Thrown when a trade with this id already exists (or a signed instruction was replayed).
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

    /// @notice Thrown when `signer`'s EIP-712 signature over trade `id` is missing or invalid.
    error DvPInvalidSignature(bytes32 id, address signer);

    /// @notice Thrown when a batch settles a trade that is not yet paid.
    error DvPTradeNotPaid(bytes32 id);

    /// @notice Thrown when a batch is empty or its arrays differ in length.
    error DvPInvalidBatch();

    /// @notice Thrown when a netted batch mixes deposit tokens: trade `id` pays in `cash`, not `expected`.
    error DvPBatchMixedCash(bytes32 id, address expected, address cash);

    /// @notice Thrown when a netted batch's cash legs would be refused for `party` (the gross batch of
    /// the same trades would revert): `code` says why.
    error DvPBatchCashRestricted(address party, IPermissionedToken.Restriction code);

    /// @notice Emitted when trade `id` was created; the seller's units are locked from now on.
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

    /// @notice Emitted when the buyer paid: the buyer's deposit tokens are locked.
    event TradePaid(bytes32 indexed id);

    /// @notice Emitted when the settlement agent approved the trade.
    event TradeApproved(bytes32 indexed id, address indexed agent);

    /// @notice Emitted when both legs moved.
    event TradeSettled(bytes32 indexed id);

    /// @notice Emitted when trade `id` was created and settled in one transaction from both parties'
    /// signatures ({settleSigned}). The two legs are the tokens' `Transfer` events of the same
    /// transaction (seller to buyer in the security token, buyer to seller in the deposit token); the
    /// agent, when the terms name one, sent the transaction.
    event TradeSettledBySignatures(bytes32 indexed id, address indexed seller, address indexed buyer);

    /// @notice Emitted when a party cancelled the trade and its locks were released.
    event TradeCancelled(bytes32 indexed id, address indexed by);

    /// @notice Emitted when an expired trade's locks were released.
    event TradeExpired(bytes32 indexed id);

    /// @notice Emitted when a batch settled: `grossCash` is what the trades pay in total, `netCash`
    /// what actually moved (equal for a gross batch); the difference is the liquidity saved.
    event BatchSettled(bytes32 indexed batchId, address indexed agent, uint256 trades, uint256 grossCash, uint256 netCash);

    /// @notice Creates trade `id` and locks the seller's units until settlement, cancellation or release.
    function createTrade(bytes32 id, Trade calldata trade) external;

    /// @notice Creates trade `id` from both parties' signatures and locks both legs.
    function createSignedTrade(bytes32 id, Trade calldata trade, bytes calldata sellerSig, bytes calldata buyerSig)
        external;

    /// @notice Settles trade `id` in one transaction from both parties' signatures, without prior locks.
    function settleSigned(bytes32 id, Trade calldata trade, bytes calldata sellerSig, bytes calldata buyerSig)
        external;

    /// @notice Settles trade `id` from the buyer's signed payment instruction: the seller's locked units
    /// and the buyer's payment move in one transaction (pilot steps 4-6, submitted by the agent).
    function settleWithPayment(bytes32 id, Trade calldata trade, bytes calldata buyerSig) external;

    /// @notice Locks the buyer's payment; settles when no approval is outstanding.
    function pay(bytes32 id, Trade calldata trade) external;

    /// @notice Records the agent's approval; settles when the buyer has paid.
    function approve(bytes32 id, Trade calldata trade) external;

    /// @notice Approves and settles paid trades at once, all or nothing.
    function settleBatch(bytes32[] calldata ids, Trade[] calldata trades) external;

    /// @notice Approves and settles paid trades at once, moving only each party's net cash position.
    function settleBatchNetted(bytes32[] calldata ids, Trade[] calldata trades) external;

    /// @notice Cancels an unsettled trade and releases its locks.
    function cancel(bytes32 id, Trade calldata trade) external;

    /// @notice Releases the locks of an unsettled trade after its deadline.
    function release(bytes32 id, Trade calldata trade) external;

    /// @notice The status flags of trade `id` (zero when it does not exist).
    function statusOf(bytes32 id) external view returns (TradeStatus);

    /// @notice What stands between trade `id` and its settlement now, with the token's restriction
    /// code when a leg is refused.
    function canSettle(bytes32 id, Trade calldata trade)
        external
        view
        returns (SettleCheck check, IPermissionedToken.Restriction restriction);

    /// @notice The hash under which trade `id`'s terms are stored: their EIP-712 struct hash,
    /// keccak256(abi.encode(TRADE_TYPEHASH, id, trade)).
    function hashTerms(bytes32 id, Trade calldata trade) external pure returns (bytes32);

    /// @notice The EIP-712 digest a party signs to give `instruction` for trade `id` on these terms.
    function tradeDigest(bytes32 id, Trade calldata trade, Instruction instruction) external view returns (bytes32);
}
