// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {IDvP} from "../interfaces/IDvP.sol";
import {IPermissionedToken} from "../interfaces/IPermissionedToken.sol";
import {SignatureLib} from "../libraries/SignatureLib.sol";
import {TradeStatus, TradeStatusLib, TradeRecord, TradeRecordLib} from "../libraries/TradeStatus.sol";

/// @title DvP
/// @notice Atomic delivery versus payment of kessai security tokens against deposit tokens.
/// @dev Both legs are notary locks placed by this contract (it needs NOTARY_ROLE on both tokens): the
/// trade record here is the lock's record and the tokens keep the parties' held totals, so units and
/// cash stay in the parties' balances until the final step, which moves both legs in one transaction.
/// The contract has no admin and keeps no funds. Every state change is written before any token call
/// (batches write every trade first), so a token that calls back finds the trades already in their
/// new state and cannot settle, cancel or release them a second time.
contract DvP is IDvP, EIP712 {
    /// @notice The EIP-712 type of a trade's terms: its struct hash is the hash the trade is stored under.
    bytes32 public constant TRADE_TYPEHASH = keccak256(
        "Trade(bytes32 id,address security,address seller,address buyer,address cash,address agent,uint256 units,uint256 amount,uint64 deadline)"
    );
    /// @notice The type both parties sign for {createSignedTrade}.
    bytes32 public constant LOCK_TYPEHASH = keccak256(
        "LockTrade(Trade terms)Trade(bytes32 id,address security,address seller,address buyer,address cash,address agent,uint256 units,uint256 amount,uint64 deadline)"
    );
    /// @notice The type both parties sign for {settleSigned}.
    bytes32 public constant SETTLE_TYPEHASH = keccak256(
        "SettleTrade(Trade terms)Trade(bytes32 id,address security,address seller,address buyer,address cash,address agent,uint256 units,uint256 amount,uint64 deadline)"
    );
    /// @notice The type the buyer signs for {settleWithPayment}.
    bytes32 public constant PAY_TYPEHASH = keccak256(
        "PayTrade(Trade terms)Trade(bytes32 id,address security,address seller,address buyer,address cash,address agent,uint256 units,uint256 amount,uint64 deadline)"
    );

    uint8 private constant ALL_STEPS =
        TradeStatusLib.CREATED | TradeStatusLib.PAID | TradeStatusLib.APPROVED | TradeStatusLib.SETTLED;

    /// @dev A trade's storage: a struct around the record so that a function hashes the trade's slot
    /// once (a storage pointer) and reads and writes through it.
    struct TradeCell {
        TradeRecord record;
    }

    mapping(bytes32 id => TradeCell) private _trades;

    constructor() EIP712("kessai DvP", "1") {}

    // ---------------------------------------------------------------- trade lifecycle

    /// @notice Creates trade `id` and locks the seller's units until settlement, cancellation or, after
    /// the deadline, release.
    /// @dev Requirements:
    /// - the caller is `trade.seller`;
    /// - no trade `id` exists; the terms are well formed; the deadline is in the future;
    /// - the seller is eligible, not frozen and has `trade.units` free units.
    function createTrade(bytes32 id, Trade calldata trade) external {
        if (msg.sender != trade.seller) revert DvPUnauthorized(id, msg.sender);
        _create(id, trade, _hash(id, trade), TradeStatusLib.CREATED);
        IPermissionedToken(trade.security).notaryHold(trade.seller, id, trade.units);
    }

    /// @notice Creates trade `id` from both parties' EIP-712 `LockTrade` signatures (see {tradeDigest})
    /// and locks both legs: the seller's units and the buyer's payment. A trade without an agent
    /// settles at once.
    /// @dev Anyone may submit the signatures (a broker, the settlement agent). Requirements:
    /// - both `LockTrade` signatures are valid for (id, trade) (ECDSA, or ERC-1271 for contract wallets);
    /// - as for {createTrade} and {pay}.
    function createSignedTrade(bytes32 id, Trade calldata trade, bytes calldata sellerSig, bytes calldata buyerSig)
        external
    {
        bytes32 h = _hash(id, trade);
        _requireSignatures(id, trade, _digest(LOCK_TYPEHASH, h), sellerSig, buyerSig);
        bool settles = trade.agent == address(0);
        uint8 status = TradeStatusLib.CREATED | TradeStatusLib.PAID;
        if (settles) status |= TradeStatusLib.SETTLED;
        _create(id, trade, h, status);
        emit TradePaid(id);
        if (settles) {
            _deliverFree(id, trade);
        } else {
            IPermissionedToken(trade.security).notaryHold(trade.seller, id, trade.units);
            IPermissionedToken(trade.cash).notaryHold(trade.buyer, id, trade.amount);
        }
    }

    /// @notice Settles trade `id` in one transaction from both parties' EIP-712 `SettleTrade`
    /// signatures: no prior locks, both legs move from the parties' free balances, or nothing moves.
    /// @dev For pre-approved counterparties whose signed instructions reach the settlement agent.
    /// Requirements:
    /// - when the trade names an agent, the caller is the agent (its call is the approval); otherwise anyone;
    /// - both `SettleTrade` signatures are valid for (id, trade); no trade `id` exists (a replay reverts);
    /// - the terms are well formed and the deadline has not passed;
    /// - both legs pass the tokens' transfer rules.
    function settleSigned(bytes32 id, Trade calldata trade, bytes calldata sellerSig, bytes calldata buyerSig)
        external
    {
        if (trade.agent != address(0) && msg.sender != trade.agent) revert DvPUnauthorized(id, msg.sender);
        bytes32 h = _hash(id, trade);
        _requireSignatures(id, trade, _digest(SETTLE_TYPEHASH, h), sellerSig, buyerSig);
        _store(id, trade, h, ALL_STEPS);
        emit TradeSettledBySignatures(id, trade.seller, trade.buyer);
        IPermissionedToken(trade.security).notaryTransfer(trade.seller, trade.buyer, trade.units);
        IPermissionedToken(trade.cash).notaryTransfer(trade.buyer, trade.seller, trade.amount);
    }

    /// @notice Settles trade `id` from the buyer's EIP-712 `PayTrade` signature over the terms (its
    /// payment instruction, see {tradeDigest}): the seller's locked units go to the buyer and the buyer's
    /// payment goes to the seller in this transaction, or nothing moves. The pilot's steps 4-6 in one
    /// transaction by the settlement agent, which verifies the instruction before submitting it.
    /// @dev Requirements:
    /// - when the trade names an agent, the caller is the agent; otherwise anyone;
    /// - the trade is open, unpaid and before its deadline; the buyer's signature is valid;
    /// - both legs pass the transfer rules (the payment comes from the buyer's free balance).
    function settleWithPayment(bytes32 id, Trade calldata trade, bytes calldata buyerSig) external {
        if (trade.agent != address(0) && msg.sender != trade.agent) revert DvPUnauthorized(id, msg.sender);
        (TradeStatus status, bytes32 h, TradeCell storage cell) = _openTrade(id, trade, TradeStatusLib.PAID);
        if (!SignatureLib.isValidCalldata(trade.buyer, _digest(PAY_TYPEHASH, h), buyerSig)) {
            revert DvPInvalidSignature(id, trade.buyer);
        }
        cell.record = TradeRecordLib.pack(h, status.with(ALL_STEPS));
        emit TradePaid(id);
        if (trade.agent != address(0) && !status.has(TradeStatusLib.APPROVED)) emit TradeApproved(id, msg.sender);

        IPermissionedToken(trade.security).notaryExecute(trade.seller, id, trade.buyer, trade.units);
        IPermissionedToken(trade.cash).notaryTransfer(trade.buyer, trade.seller, trade.amount);
        emit TradeSettled(id);
    }

    /// @notice Locks the buyer's payment; settles both legs at once when no approval is outstanding
    /// (pilot steps 4 and 6 in one transaction).
    /// @dev Requirements:
    /// - the caller is `trade.buyer`; the trade is open, unpaid and before its deadline;
    /// - the buyer has `trade.amount` free deposit tokens; if settling, both legs pass the transfer rules.
    function pay(bytes32 id, Trade calldata trade) external {
        if (msg.sender != trade.buyer) revert DvPUnauthorized(id, msg.sender);
        (TradeStatus status, bytes32 h, TradeCell storage cell) = _openTrade(id, trade, TradeStatusLib.PAID);
        status = status.with(TradeStatusLib.PAID);
        bool settles = trade.agent == address(0) || status.has(TradeStatusLib.APPROVED);
        if (settles) status = status.with(TradeStatusLib.SETTLED);
        cell.record = TradeRecordLib.pack(h, status);
        emit TradePaid(id);

        if (settles) {
            // The payment settles at once: it moves straight from the buyer's free balance.
            IPermissionedToken(trade.security).notaryExecute(trade.seller, id, trade.buyer, trade.units);
            IPermissionedToken(trade.cash).notaryTransfer(trade.buyer, trade.seller, trade.amount);
            emit TradeSettled(id);
        } else {
            IPermissionedToken(trade.cash).notaryHold(trade.buyer, id, trade.amount);
        }
    }

    /// @notice Records the settlement agent's approval (pilot step 5); settles both legs at once if the
    /// buyer has paid.
    /// @dev Requirements:
    /// - the caller is `trade.agent` (not zero); the trade is open, not yet approved and before its deadline;
    /// - if settling, both legs pass the transfer rules.
    function approve(bytes32 id, Trade calldata trade) external {
        if (trade.agent == address(0) || msg.sender != trade.agent) revert DvPUnauthorized(id, msg.sender);
        (TradeStatus status, bytes32 h, TradeCell storage cell) = _openTrade(id, trade, TradeStatusLib.APPROVED);
        status = status.with(TradeStatusLib.APPROVED);
        bool settles = status.has(TradeStatusLib.PAID);
        if (settles) status = status.with(TradeStatusLib.SETTLED);
        cell.record = TradeRecordLib.pack(h, status);
        emit TradeApproved(id, msg.sender);

        if (settles) _deliverHeld(id, trade);
    }

    /// @notice Approves and settles paid trades at once: every trade settles, or the whole batch
    /// reverts and nothing moves.
    /// @dev Requirements:
    /// - the arrays are non-empty and of equal length;
    /// - the caller is the agent of every trade; every trade is open, paid, unapproved and before its deadline;
    /// - every leg passes the transfer rules.
    function settleBatch(bytes32[] calldata ids, Trade[] calldata trades) external {
        uint256 gross = _approveBatch(ids, trades);
        for (uint256 i; i < ids.length; ++i) {
            _deliverHeld(ids[i], trades[i]);
        }
        emit BatchSettled(keccak256(abi.encode(ids)), msg.sender, ids.length, gross, gross);
    }

    /// @notice Approves and settles paid trades at once, moving only each party's net cash position
    /// (DvP model 3): every security leg is delivered, the net payers pay the net receivers out of
    /// their locked payments and the rest of the cash locks is released. All or nothing.
    /// @dev It refuses exactly what {settleBatch} of the same trades refuses: before anything moves,
    /// every party must be able to pay what it locked and to receive (deposit token not paused, party
    /// eligible, neither blocked nor frozen, its payments still held), whether or not its position
    /// nets to zero. Net payments come out of the trades' own cash locks (in parts where a lock pays
    /// several receivers) and the rest of each lock is released, so every lock ends and payments
    /// follow wallet recovery like the gross legs. Requirements: as for {settleBatch}; every trade pays
    /// in the same deposit token.
    function settleBatchNetted(bytes32[] calldata ids, Trade[] calldata trades) external {
        uint256 gross = _approveBatch(ids, trades);
        bytes32 batchId = keccak256(abi.encode(ids));
        IPermissionedToken cash = IPermissionedToken(trades[0].cash);

        // Net position per party: paid (locked) and received, over the whole batch.
        address[] memory parties = new address[](2 * ids.length);
        uint256[] memory paid = new uint256[](2 * ids.length);
        uint256[] memory received = new uint256[](2 * ids.length);
        uint256 n = 0;
        for (uint256 i; i < ids.length; ++i) {
            Trade calldata t = trades[i];
            if (t.cash != address(cash)) revert DvPBatchMixedCash(ids[i], address(cash), t.cash);
            uint256 b;
            (b, n) = _slot(parties, n, t.buyer);
            paid[b] += t.amount;
            uint256 s;
            (s, n) = _slot(parties, n, t.seller);
            received[s] += t.amount;
        }
        // The checks the gross legs would meet, for every party, netting or not (a view: nothing moves).
        for (uint256 k; k < n; ++k) {
            IPermissionedToken.Restriction code = cash.canDeliver(parties[k], parties[k], paid[k], true);
            if (code != IPermissionedToken.Restriction.None) revert DvPBatchCashRestricted(parties[k], code);
        }
        for (uint256 i; i < ids.length; ++i) {
            Trade calldata t = trades[i];
            IPermissionedToken(t.security).notaryExecute(t.seller, ids[i], t.buyer, t.units);
            emit TradeSettled(ids[i]);
        }
        uint256 net = _payNetPositions(ids, trades, cash, parties, n, paid, received);
        emit BatchSettled(batchId, msg.sender, ids.length, gross, net);
    }

    /// @notice Cancels an unsettled trade and releases its locks.
    /// @dev Requirements:
    /// - the caller is the seller, the buyer or the agent; the trade is open (a cancel after the
    ///   deadline is allowed: it releases the locks like {release}).
    function cancel(bytes32 id, Trade calldata trade) external {
        if (
            msg.sender != trade.seller && msg.sender != trade.buyer
                && (msg.sender != trade.agent || trade.agent == address(0))
        ) revert DvPUnauthorized(id, msg.sender);
        (TradeStatus status, bytes32 h, TradeCell storage cell) = _loadOpen(id, trade);
        cell.record = TradeRecordLib.pack(h, status.with(TradeStatusLib.CANCELLED));
        emit TradeCancelled(id, msg.sender);
        _releaseLocks(id, trade, status);
    }

    /// @notice Releases the locks of an unsettled trade after its deadline. Anyone may call.
    /// @dev Requirements:
    /// - the trade is open and its deadline has passed.
    function release(bytes32 id, Trade calldata trade) external {
        (TradeStatus status, bytes32 h, TradeCell storage cell) = _loadOpen(id, trade);
        if (block.timestamp <= trade.deadline) revert DvPTradeNotExpired(id, trade.deadline);
        cell.record = TradeRecordLib.pack(h, status.with(TradeStatusLib.EXPIRED));
        emit TradeExpired(id);
        _releaseLocks(id, trade, status);
    }

    // ---------------------------------------------------------------- views

    /// @inheritdoc IDvP
    function statusOf(bytes32 id) external view returns (TradeStatus) {
        return _trades[id].record.status();
    }

    /// @inheritdoc IDvP
    /// @dev The order of the answers: existence, status, deadline, the security leg, the cash leg (from
    /// the locked payment once paid, else from the free balance), then the missing steps.
    function canSettle(bytes32 id, Trade calldata trade)
        external
        view
        returns (SettleCheck, IPermissionedToken.Restriction)
    {
        IPermissionedToken.Restriction none = IPermissionedToken.Restriction.None;
        TradeRecord record = _trades[id].record;
        if (TradeRecord.unwrap(record) == bytes32(0) || !record.matches(_hash(id, trade))) {
            return (SettleCheck.TradeNotFound, none);
        }
        TradeStatus status = record.status();
        if (!status.isOpen()) return (SettleCheck.NotOpen, none);
        if (block.timestamp > trade.deadline) return (SettleCheck.Expired, none);
        IPermissionedToken.Restriction r =
            IPermissionedToken(trade.security).canDeliver(trade.seller, trade.buyer, trade.units, true);
        if (r != none) return (SettleCheck.SecurityLegRestricted, r);
        bool paid = status.has(TradeStatusLib.PAID);
        r = IPermissionedToken(trade.cash).canDeliver(trade.buyer, trade.seller, trade.amount, paid);
        if (r != none) return (SettleCheck.CashLegRestricted, r);
        // An open trade that is paid has an agent whose approval is missing (else it would have settled).
        return (paid ? SettleCheck.AwaitingApproval : SettleCheck.AwaitingPayment, none);
    }

    /// @inheritdoc IDvP
    function hashTerms(bytes32 id, Trade calldata trade) external pure returns (bytes32) {
        return _hash(id, trade);
    }

    /// @inheritdoc IDvP
    function tradeDigest(bytes32 id, Trade calldata trade, Instruction instruction) external view returns (bytes32) {
        bytes32 typehash =
            instruction == Instruction.Lock ? LOCK_TYPEHASH : instruction == Instruction.Settle ? SETTLE_TYPEHASH : PAY_TYPEHASH;
        return _digest(typehash, _hash(id, trade));
    }

    // ---------------------------------------------------------------- internal

    /// @dev Checks the terms and stores the new trade with `status`; emits {TradeCreated}.
    function _create(bytes32 id, Trade calldata trade, bytes32 h, uint8 status) private {
        _store(id, trade, h, status);
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
    }

    /// @dev Checks the terms and stores the new trade `id` under terms hash `h` with `status`. The id
    /// must carry the seller in its top 20 bytes: ids are global, and every path that creates a trade
    /// needs the seller's consent (its call or its signature), so binding the id to the seller leaves
    /// nobody able to take another seller's id first and block its trade.
    function _store(bytes32 id, Trade calldata trade, bytes32 h, uint8 status) private {
        if (address(bytes20(id)) != trade.seller) revert DvPTradeIdNotBound(id, trade.seller);
        TradeCell storage cell = _trades[id];
        if (TradeRecord.unwrap(cell.record) != bytes32(0)) revert DvPTradeExists(id);
        if (
            trade.units == 0 || trade.amount == 0 || trade.buyer == address(0) || trade.seller == trade.buyer
                || trade.security == address(0) || trade.cash == address(0)
        ) revert DvPInvalidTerms();
        if (trade.deadline < block.timestamp) revert DvPTradeExpired(id, trade.deadline);
        cell.record = TradeRecordLib.pack(h, TradeStatus.wrap(status));
    }

    /// @dev The EIP-712 digest of the instruction `typehash` over the terms whose struct hash is `h`.
    function _digest(bytes32 typehash, bytes32 h) private view returns (bytes32) {
        return _hashTypedDataV4(keccak256(abi.encode(typehash, h)));
    }

    function _requireSignatures(
        bytes32 id,
        Trade calldata trade,
        bytes32 digest,
        bytes calldata sellerSig,
        bytes calldata buyerSig
    ) private view {
        if (!SignatureLib.isValidCalldata(trade.seller, digest, sellerSig)) {
            revert DvPInvalidSignature(id, trade.seller);
        }
        if (!SignatureLib.isValidCalldata(trade.buyer, digest, buyerSig)) revert DvPInvalidSignature(id, trade.buyer);
    }

    /// @dev Loads an existing trade matching `trade` that has not reached a final state.
    /// Returns its status, terms hash and storage cell.
    function _loadOpen(bytes32 id, Trade calldata trade)
        private
        view
        returns (TradeStatus status, bytes32 h, TradeCell storage cell)
    {
        h = _hash(id, trade);
        cell = _trades[id];
        TradeRecord record = cell.record;
        if (TradeRecord.unwrap(record) == bytes32(0) || !record.matches(h)) revert DvPTradeNotFound(id);
        status = record.status();
        if (!status.isOpen()) revert DvPInvalidStatus(id, TradeStatus.unwrap(status));
    }

    /// @dev Loads an open trade, before its deadline, without flag `step` set yet.
    function _openTrade(bytes32 id, Trade calldata trade, uint8 step)
        private
        view
        returns (TradeStatus status, bytes32 h, TradeCell storage cell)
    {
        (status, h, cell) = _loadOpen(id, trade);
        if (status.has(step)) revert DvPInvalidStatus(id, TradeStatus.unwrap(status));
        if (block.timestamp > trade.deadline) revert DvPTradeExpired(id, trade.deadline);
    }

    /// @dev Validates a batch and writes every trade as approved and settled before any token call.
    /// Returns the batch's gross cash.
    function _approveBatch(bytes32[] calldata ids, Trade[] calldata trades) private returns (uint256 gross) {
        if (ids.length == 0 || ids.length != trades.length) revert DvPInvalidBatch();
        for (uint256 i; i < ids.length; ++i) {
            bytes32 id = ids[i];
            Trade calldata t = trades[i];
            if (t.agent == address(0) || msg.sender != t.agent) revert DvPUnauthorized(id, msg.sender);
            (TradeStatus status, bytes32 h, TradeCell storage cell) = _openTrade(id, t, TradeStatusLib.APPROVED);
            if (!status.has(TradeStatusLib.PAID)) revert DvPTradeNotPaid(id);
            cell.record = TradeRecordLib.pack(h, status.with(TradeStatusLib.APPROVED | TradeStatusLib.SETTLED));
            emit TradeApproved(id, msg.sender);
            gross += t.amount;
        }
    }

    /// @dev Pays the net cash positions of a netted batch out of its trades' cash locks: each trade's
    /// lock pays what its buyer still owes, greedily to the net receivers in order, and the rest of the
    /// lock is released. `paid` and `received` are the parties' gross sums on entry; returns the cash
    /// that moved.
    function _payNetPositions(
        bytes32[] calldata ids,
        Trade[] calldata trades,
        IPermissionedToken cash,
        address[] memory parties,
        uint256 n,
        uint256[] memory paid,
        uint256[] memory received
    ) private returns (uint256 net) {
        // From here on `paid` is what each party owes net and `received` what it is due net.
        for (uint256 k; k < n; ++k) {
            if (paid[k] > received[k]) {
                (paid[k], received[k]) = (paid[k] - received[k], 0);
                net += paid[k];
            } else {
                (paid[k], received[k]) = (0, received[k] - paid[k]);
            }
        }
        uint256 r = 0;
        for (uint256 i; i < ids.length; ++i) {
            (uint256 b,) = _slot(parties, n, trades[i].buyer);
            r = _payFromLock(cash, ids[i], trades[i], b, r, parties, paid, received);
        }
    }

    /// @dev Pays what party `b` (trade `id`'s buyer) still owes out of the trade's cash lock, to the net
    /// receivers from index `r` on, and releases the rest of the lock; returns the receiver index to
    /// go on from.
    function _payFromLock(
        IPermissionedToken cash,
        bytes32 id,
        Trade calldata trade,
        uint256 b,
        uint256 r,
        address[] memory parties,
        uint256[] memory owes,
        uint256[] memory due
    ) private returns (uint256) {
        uint256 lock = trade.amount;
        while (owes[b] != 0 && lock != 0) {
            while (due[r] == 0) ++r;
            uint256 x = owes[b] < lock ? owes[b] : lock;
            if (due[r] < x) x = due[r];
            owes[b] -= x;
            due[r] -= x;
            lock -= x;
            cash.notaryExecute(trade.buyer, id, parties[r], x);
        }
        if (lock != 0) cash.notaryRelease(trade.buyer, id, lock);
        return r;
    }

    /// @dev The index of `party` in `parties[0..n)`, appending it when absent; returns the new length.
    function _slot(address[] memory parties, uint256 n, address party) private pure returns (uint256, uint256) {
        for (uint256 k; k < n; ++k) {
            if (parties[k] == party) return (k, n);
        }
        parties[n] = party;
        return (n, n + 1);
    }

    /// @dev The atomic final step of a locked trade: both legs move in this transaction, or it reverts.
    function _deliverHeld(bytes32 id, Trade calldata trade) private {
        IPermissionedToken(trade.security).notaryExecute(trade.seller, id, trade.buyer, trade.units);
        IPermissionedToken(trade.cash).notaryExecute(trade.buyer, id, trade.seller, trade.amount);
        emit TradeSettled(id);
    }

    /// @dev The atomic final step without prior locks: both legs move from free balances, or it reverts.
    function _deliverFree(bytes32 id, Trade calldata trade) private {
        IPermissionedToken(trade.security).notaryTransfer(trade.seller, trade.buyer, trade.units);
        IPermissionedToken(trade.cash).notaryTransfer(trade.buyer, trade.seller, trade.amount);
        emit TradeSettled(id);
    }

    /// @dev Frees the legs this trade locked: the seller's units always, the buyer's cash once paid.
    function _releaseLocks(bytes32 id, Trade calldata trade, TradeStatus status) private {
        IPermissionedToken(trade.security).notaryRelease(trade.seller, id, trade.units);
        if (status.has(TradeStatusLib.PAID)) {
            IPermissionedToken(trade.cash).notaryRelease(trade.buyer, id, trade.amount);
        }
    }

    /// @dev The terms hash a trade is stored under: its EIP-712 struct hash, so the digest the parties
    /// sign is one more hash away.
    /// The terms are hashed straight from calldata: a Trade is eight static words, so its calldata
    /// bytes are its ABI encoding. Every path that stores a record reads each field through Solidity,
    /// which rejects dirty (non-canonical) words, so a stored hash always comes from canonical terms.
    function _hash(bytes32 id, Trade calldata trade) private pure returns (bytes32 h) {
        bytes32 typehash = TRADE_TYPEHASH;
        assembly ("memory-safe") {
            let m := mload(0x40)
            mstore(m, typehash)
            mstore(add(m, 0x20), id)
            calldatacopy(add(m, 0x40), trade, 0x100)
            h := keccak256(m, 0x140)
        }
    }
}
