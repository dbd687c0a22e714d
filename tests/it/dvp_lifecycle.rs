//! The DvP state machine: every transition, every path to settlement (locked, approved first,
//! signed payment, signed creation, one-transaction signed settlement, batches gross and netted),
//! cancellation and expiry, and each refusal with its named error and nothing moved.

use crate::support::{
    self,
    market::{CASH, Market, UNITS, market, refuse, refused},
    on_revm_and_anvil, u,
};
use kessai_bindings::{
    Restriction,
    alloy::{
        primitives::{Address, B256, Bytes, Log, U256, keccak256},
        signers::{SignerSync, local::PrivateKeySigner},
        sol_types::{SolCall, SolEvent},
    },
    dvp::DvP,
    reentrant_token::ReentrantToken,
    security_token::SecurityToken,
    trade_id,
};
use kessai_deployer::{
    chain::{Chain, Tx},
    ops::{SettleCheck, TradeSignatures},
    signing::{self, Instruction},
};

fn events<E: SolEvent>(logs: &[Log], from: Address) -> Vec<E> {
    logs.iter().filter(|l| l.address == from).filter_map(|l| E::decode_log_data(&l.data).ok()).collect()
}

async fn three_step_trade<C: Chain>(chain: C) {
    let mut m = market(chain).await;
    let (seller, buyer) = (m.p.seller, m.p.buyer);
    let trade = m.standard();
    let id = trade_id(m.p.seller, "three-step");
    let (s0, b0) = (m.position(seller).await, m.position(buyer).await);

    let r = m.suite.create_trade(&mut m.chain, id, &trade).await.expect("create");
    let created = events::<DvP::TradeCreated>(&r.logs, m.suite.dvp);
    assert_eq!(created.len(), 1);
    assert_eq!(
        (created[0].id, created[0].units, created[0].amount, created[0].agent),
        (id, trade.units, trade.amount, trade.agent)
    );
    assert_eq!(m.status(id).await, 1);
    assert_eq!(m.position(seller).await.units_held, trade.units, "the units stay in the seller's balance, locked");
    assert_eq!(m.position(seller).await.units, s0.units);
    assert_eq!(m.check(id, &trade).await, SettleCheck::AwaitingPayment);

    let r = m.suite.pay(&mut m.chain, id, &trade).await.expect("pay");
    assert_eq!(events::<DvP::TradePaid>(&r.logs, m.suite.dvp).len(), 1);
    assert_eq!(m.status(id).await, 1 | 2);
    assert_eq!(m.position(buyer).await.cash_held, trade.amount);
    assert_eq!(m.check(id, &trade).await, SettleCheck::AwaitingApproval);

    let r = m.suite.approve(&mut m.chain, id, &trade).await.expect("approve settles");
    assert_eq!(events::<DvP::TradeSettled>(&r.logs, m.suite.dvp).len(), 1);
    assert_eq!(m.status(id).await, 1 | 2 | 4 | 8);
    let (s1, b1) = (m.position(seller).await, m.position(buyer).await);
    assert_eq!(
        (s1.units, s1.units_held, s1.cash, s1.cash_held),
        (s0.units - trade.units, U256::ZERO, s0.cash + trade.amount, U256::ZERO)
    );
    assert_eq!(
        (b1.units, b1.units_held, b1.cash, b1.cash_held),
        (b0.units + trade.units, U256::ZERO, b0.cash - trade.amount, U256::ZERO)
    );
    assert_eq!(m.check(id, &trade).await, SettleCheck::NotOpen);
}

on_revm_and_anvil!(
    three_step_trade,
    three_step_trade_locks_each_leg_then_settles_both_on_approval,
    three_step_trade_settles_the_same_on_anvil
);

#[tokio::test]
async fn payment_after_approval_settles_at_once_without_locking_cash() {
    let mut m = market(support::revm()).await;
    let (id, trade) = m.created("approved-first").await;
    m.suite.approve(&mut m.chain, id, &trade).await.expect("approve");
    assert_eq!(m.status(id).await, 1 | 4);
    assert_eq!(m.check(id, &trade).await, SettleCheck::AwaitingPayment);
    let b0 = m.position(m.p.buyer).await;
    let r = m.suite.pay(&mut m.chain, id, &trade).await.expect("payment settles");
    assert_eq!(events::<DvP::TradeSettled>(&r.logs, m.suite.dvp).len(), 1);
    assert_eq!(m.status(id).await, 1 | 2 | 4 | 8);
    let b1 = m.position(m.p.buyer).await;
    assert_eq!((b1.cash, b1.units, b1.cash_held), (b0.cash - trade.amount, b0.units + trade.units, U256::ZERO));
}

#[tokio::test]
async fn trade_without_agent_settles_on_payment_and_refuses_approval() {
    let mut m = market(support::revm()).await;
    let trade = m.trade(m.p.seller, m.p.buyer, 10, 100_000, Address::ZERO);
    let id = trade_id(m.p.seller, "no-agent");
    m.suite.create_trade(&mut m.chain, id, &trade).await.expect("create");
    refuse!(m, &[id], "DvPUnauthorized", m.suite.approve(&mut m.chain, id, &trade).await);
    m.suite.pay(&mut m.chain, id, &trade).await.expect("payment settles");
    assert_eq!(m.status(id).await, 1 | 2 | 8);
}

#[tokio::test]
async fn agent_settles_from_the_buyers_signed_payment_instruction() {
    let mut m = market(support::revm()).await;
    let (id, trade) = m.created("signed-payment").await;
    let buyer_sig = m.sign(m.p.buyer, id, &trade, Instruction::Pay).await;
    let seller_sig = m.sign(m.p.seller, id, &trade, Instruction::Pay).await;

    // The seller's signature is not the buyer's payment instruction; only the agent may submit.
    let args = refuse!(
        m,
        &[id],
        "DvPInvalidSignature",
        m.suite.settle_with_payment(&mut m.chain, m.p.agent, id, &trade, &seller_sig).await
    );
    assert_eq!(args[1], m.p.buyer.to_string());
    refuse!(
        m,
        &[id],
        "DvPUnauthorized",
        m.suite.settle_with_payment(&mut m.chain, m.carol, id, &trade, &buyer_sig).await
    );

    let b0 = m.position(m.p.buyer).await;
    m.suite.settle_with_payment(&mut m.chain, m.p.agent, id, &trade, &buyer_sig).await.expect("steps 4-6");
    assert_eq!(m.status(id).await, 1 | 2 | 4 | 8);
    let b1 = m.position(m.p.buyer).await;
    assert_eq!((b1.units, b1.cash), (b0.units + trade.units, b0.cash - trade.amount));
    assert_eq!(m.position(m.p.seller).await.units_held, U256::ZERO);
    refuse!(
        m,
        &[id],
        "DvPInvalidStatus",
        m.suite.settle_with_payment(&mut m.chain, m.p.agent, id, &trade, &buyer_sig).await
    );
}

#[tokio::test]
async fn signed_creation_locks_both_legs_and_without_an_agent_settles_at_once() {
    let mut m = market(support::revm()).await;
    let trade = m.standard();
    let id = trade_id(m.p.seller, "signed-creation");
    let sigs = m.signatures(id, &trade, Instruction::Lock).await;
    // Anyone may submit both parties' signatures: here a broker (carol's account).
    m.suite.create_signed_trade(&mut m.chain, m.carol, id, &trade, &sigs).await.expect("create from signatures");
    assert_eq!(m.status(id).await, 1 | 2);
    assert_eq!(m.position(m.p.seller).await.units_held, trade.units);
    assert_eq!(m.position(m.p.buyer).await.cash_held, trade.amount);
    m.suite.approve(&mut m.chain, id, &trade).await.expect("agent settles");
    assert_eq!(m.status(id).await, 1 | 2 | 4 | 8);

    let direct = m.trade(m.p.seller, m.p.buyer, 5, 50_000, Address::ZERO);
    let id = trade_id(m.p.seller, "signed-creation-no-agent");
    let sigs = m.signatures(id, &direct, Instruction::Lock).await;
    let s0 = m.position(m.p.seller).await;
    m.suite.create_signed_trade(&mut m.chain, m.carol, id, &direct, &sigs).await.expect("settles at once");
    assert_eq!(m.status(id).await, 1 | 2 | 8);
    assert_eq!(m.position(m.p.seller).await.cash, s0.cash + direct.amount);
    // Both signatures are needed: a missing one is refused with the party named.
    let id = trade_id(m.p.seller, "signed-creation-one-signature");
    let mut sigs = m.signatures(id, &direct, Instruction::Lock).await;
    sigs.buyer = Bytes::new();
    let args = refuse!(
        m,
        &[id],
        "DvPInvalidSignature",
        m.suite.create_signed_trade(&mut m.chain, m.carol, id, &direct, &sigs).await
    );
    assert_eq!(args[1], m.p.buyer.to_string());
}

async fn signed_settlement<C: Chain>(chain: C) {
    let mut m = market(chain).await;
    let trade = m.standard();
    let id = trade_id(m.p.seller, "signed-settlement");
    let sigs = m.signatures(id, &trade, Instruction::Settle).await;

    // Only the agent named in the terms may submit; altered terms do not match the signatures.
    refuse!(m, &[id], "DvPUnauthorized", m.suite.settle_signed(&mut m.chain, m.carol, id, &trade, &sigs).await);
    let mut altered = trade.clone();
    altered.amount = u(1);
    let args = refuse!(
        m,
        &[id],
        "DvPInvalidSignature",
        m.suite.settle_signed(&mut m.chain, m.p.agent, id, &altered, &sigs).await
    );
    assert_eq!(args[1], m.p.seller.to_string());

    let (s0, b0) = (m.position(m.p.seller).await, m.position(m.p.buyer).await);
    let r = m.suite.settle_signed(&mut m.chain, m.p.agent, id, &trade, &sigs).await.expect("one transaction");
    assert_eq!(events::<DvP::TradeSettledBySignatures>(&r.logs, m.suite.dvp).len(), 1);
    let transfers = events::<SecurityToken::Transfer>(&r.logs, m.suite.security);
    assert_eq!((transfers[0].from, transfers[0].to, transfers[0].value), (m.p.seller, m.p.buyer, trade.units));
    assert_eq!(m.status(id).await, 1 | 2 | 4 | 8);
    let (s1, b1) = (m.position(m.p.seller).await, m.position(m.p.buyer).await);
    assert_eq!((s1.units, s1.cash), (s0.units - trade.units, s0.cash + trade.amount));
    assert_eq!((b1.units, b1.cash), (b0.units + trade.units, b0.cash - trade.amount));
    // A replayed instruction is refused: the id settled once.
    refuse!(m, &[id], "DvPTradeExists", m.suite.settle_signed(&mut m.chain, m.p.agent, id, &trade, &sigs).await);
}

on_revm_and_anvil!(
    signed_settlement,
    signed_settlement_moves_both_legs_in_one_transaction_once,
    signed_settlement_runs_the_same_on_anvil
);

#[tokio::test]
async fn signed_settlement_accepts_full_signatures_and_refuses_expired_terms() {
    let mut m = market(support::revm()).await;
    let trade = m.standard();
    let id = trade_id(m.p.seller, "full-signatures");
    let chain_id = m.chain.chain_id().await.expect("chain id");
    let full = |key: &PrivateKeySigner| {
        let digest = signing::trade_digest(chain_id, m.suite.dvp, id, &trade, Instruction::Settle);
        Bytes::from(key.sign_hash_sync(&digest).expect("sign").as_bytes().to_vec())
    };
    let sigs = TradeSignatures { seller: full(&support::key(m.p.seller)), buyer: full(&support::key(m.p.buyer)) };
    assert_eq!(sigs.seller.len(), 65);
    for instruction in [Instruction::Lock, Instruction::Settle, Instruction::Pay] {
        let on_chain = m.suite.trade_digest(&mut m.chain, id, &trade, instruction).await.expect("digest");
        assert_eq!(
            on_chain,
            signing::trade_digest(chain_id, m.suite.dvp, id, &trade, instruction),
            "off-chain digest equals DvP.tradeDigest for {instruction:?}"
        );
    }
    m.suite.settle_signed(&mut m.chain, m.p.agent, id, &trade, &sigs).await.expect("65-byte signatures");

    let mut late = m.standard();
    late.deadline = m.chain.timestamp().await.expect("time") - 1;
    let id = trade_id(m.p.seller, "late");
    let sigs = m.signatures(id, &late, Instruction::Settle).await;
    refuse!(m, &[id], "DvPTradeExpired", m.suite.settle_signed(&mut m.chain, m.p.agent, id, &late, &sigs).await);
}

/// The EIP-712 types the tooling derives from the bindings' `IDvP.Trade` are the ones whose hashes
/// the contract declares.
#[tokio::test]
async fn the_eip712_types_derived_from_the_bindings_hash_to_the_dvps_constants() {
    let mut m = market(support::revm()).await;
    let dvp = m.suite.dvp;
    let trade = m.chain.read(dvp, &DvP::TRADE_TYPEHASHCall {}).await.expect("TRADE_TYPEHASH");
    assert_eq!(trade, keccak256(signing::trade_type()));
    for (instruction, constant) in [
        (Instruction::Lock, m.chain.read(dvp, &DvP::LOCK_TYPEHASHCall {}).await.expect("LOCK_TYPEHASH")),
        (Instruction::Settle, m.chain.read(dvp, &DvP::SETTLE_TYPEHASHCall {}).await.expect("SETTLE_TYPEHASH")),
        (Instruction::Pay, m.chain.read(dvp, &DvP::PAY_TYPEHASHCall {}).await.expect("PAY_TYPEHASH")),
    ] {
        assert_eq!(constant, keccak256(instruction.eip712_type()), "{instruction:?}");
    }
}

#[tokio::test]
async fn cancellation_releases_exactly_the_locked_legs() {
    let mut m = market(support::revm()).await;
    let trade = m.standard();
    let s0 = m.position(m.p.seller).await;
    let b0 = m.position(m.p.buyer).await;

    // The seller cancels before payment: only the units were locked.
    let a = trade_id(m.p.seller, "cancel-a");
    m.suite.create_trade(&mut m.chain, a, &trade).await.expect("create");
    let args = refuse!(m, &[a], "DvPUnauthorized", m.suite.cancel(&mut m.chain, m.carol, a, &trade).await);
    assert_eq!(args[1], m.carol.to_string());
    let r = m.suite.cancel(&mut m.chain, m.p.seller, a, &trade).await.expect("seller cancels");
    assert_eq!(events::<DvP::TradeCancelled>(&r.logs, m.suite.dvp)[0].by, m.p.seller);
    assert_eq!(m.status(a).await, 1 | 16);

    // The buyer cancels after paying: both legs are released.
    let b = trade_id(m.p.seller, "cancel-b");
    m.create_and_pay(b, &trade).await;
    m.suite.cancel(&mut m.chain, m.p.buyer, b, &trade).await.expect("buyer cancels");
    assert_eq!(m.status(b).await, 1 | 2 | 16);

    // The agent cancels an approved trade.
    let c = trade_id(m.p.seller, "cancel-c");
    m.suite.create_trade(&mut m.chain, c, &trade).await.expect("create");
    m.suite.approve(&mut m.chain, c, &trade).await.expect("approve");
    m.suite.cancel(&mut m.chain, m.p.agent, c, &trade).await.expect("agent cancels");
    assert_eq!(m.position(m.p.seller).await, s0, "every lock released, nothing moved");
    assert_eq!(m.position(m.p.buyer).await, b0);

    // A cancelled trade is final.
    refuse!(m, &[a, b, c], "DvPInvalidStatus", m.suite.pay(&mut m.chain, a, &trade).await);
    refuse!(m, &[a, b, c], "DvPInvalidStatus", m.suite.cancel(&mut m.chain, m.p.seller, b, &trade).await);
    refuse!(m, &[a, b, c], "DvPInvalidStatus", m.suite.approve(&mut m.chain, c, &trade).await);
}

#[tokio::test]
async fn after_the_deadline_steps_are_refused_and_anyone_releases_the_locks() {
    let mut m = market(support::revm()).await;
    let b0 = m.position(m.p.buyer).await;
    let s0 = m.position(m.p.seller).await;
    let (id, trade) = m.paid("expiring").await;
    refuse!(m, &[id], "DvPTradeNotExpired", m.suite.release(&mut m.chain, m.carol, id, &trade).await);

    let now = m.chain.timestamp().await.expect("time");
    m.chain.advance_time(trade.deadline - now + 1).await.expect("past the deadline");
    assert_eq!(m.check(id, &trade).await, SettleCheck::Expired);
    refuse!(m, &[id], "DvPTradeExpired", m.suite.approve(&mut m.chain, id, &trade).await);
    let r = m.suite.release(&mut m.chain, m.carol, id, &trade).await.expect("anyone releases");
    assert_eq!(events::<DvP::TradeExpired>(&r.logs, m.suite.dvp).len(), 1);
    assert_eq!(m.status(id).await, 1 | 2 | 32);
    assert_eq!(m.position(m.p.buyer).await, b0);
    assert_eq!(m.position(m.p.seller).await, s0);
    refuse!(m, &[id], "DvPInvalidStatus", m.suite.release(&mut m.chain, m.carol, id, &trade).await);

    // An expired, unpaid trade refuses the payment.
    let late = trade_id(m.p.seller, "expired-unpaid");
    let mut t = trade.clone();
    t.deadline = m.chain.timestamp().await.expect("time") + 10;
    m.suite.create_trade(&mut m.chain, late, &t).await.expect("create");
    m.chain.advance_time(11).await.expect("time");
    refuse!(m, &[late], "DvPTradeExpired", m.suite.pay(&mut m.chain, late, &t).await);
}

#[tokio::test]
async fn settlement_is_refused_and_nothing_moves_when_a_party_is_frozen_or_a_token_paused() {
    let mut m = market(support::revm()).await;
    let (id, trade) = m.paid("frozen").await;
    let authority = m.p.suite.authority;
    m.suite.set_frozen(&mut m.chain, authority, m.suite.security, m.p.seller, true).await.expect("freeze");
    assert_eq!(m.check(id, &trade).await, SettleCheck::SecurityLegRestricted(Restriction::SenderFrozen));
    let args = refuse!(m, &[id], "TokenTransferRestricted", m.suite.approve(&mut m.chain, id, &trade).await);
    assert_eq!(args[0], (Restriction::SenderFrozen as u8).to_string());
    m.suite.set_frozen(&mut m.chain, authority, m.suite.security, m.p.seller, false).await.expect("unfreeze");

    let bank = m.p.suite.bank;
    m.suite.set_paused(&mut m.chain, bank, m.suite.deposit, true).await.expect("pause");
    assert_eq!(m.check(id, &trade).await, SettleCheck::CashLegRestricted(Restriction::Paused));
    let args = refuse!(m, &[id], "TokenTransferRestricted", m.suite.approve(&mut m.chain, id, &trade).await);
    assert_eq!(args[0], (Restriction::Paused as u8).to_string());
    m.suite.set_paused(&mut m.chain, bank, m.suite.deposit, false).await.expect("resume");

    // A buyer whose KYC the registrar revoked cannot receive the units.
    m.suite.revoke(&mut m.chain, m.suite.registry, m.p.suite.registrar, m.p.buyer).await.expect("revoke");
    assert_eq!(m.check(id, &trade).await, SettleCheck::SecurityLegRestricted(Restriction::ReceiverNotEligible));
    refuse!(m, &[id], "TokenTransferRestricted", m.suite.approve(&mut m.chain, id, &trade).await);
}

#[tokio::test]
async fn locks_need_free_balance_the_right_caller_and_unique_well_formed_terms() {
    let mut m = market(support::revm()).await;
    let trade = m.standard();
    let id = trade_id(m.p.seller, "refusals");
    let mut too_many = trade.clone();
    too_many.units = u(UNITS + 1);
    let args =
        refuse!(m, &[id], "TokenInsufficientFreeBalance", m.suite.create_trade(&mut m.chain, id, &too_many).await);
    assert_eq!(args[0], m.p.seller.to_string());
    let mut malformed = trade.clone();
    malformed.units = U256::ZERO;
    refuse!(m, &[id], "DvPInvalidTerms", m.suite.create_trade(&mut m.chain, id, &malformed).await);
    let create_by_buyer = DvP::createTradeCall { id, trade: trade.clone() };
    refuse!(m, &[id], "DvPUnauthorized", m.chain.send_call(m.p.buyer, m.suite.dvp, &create_by_buyer).await);

    m.suite.create_trade(&mut m.chain, id, &trade).await.expect("create");
    refuse!(m, &[id], "DvPTradeExists", m.suite.create_trade(&mut m.chain, id, &trade).await);
    let pay_by_carol = DvP::payCall { id, trade: trade.clone() };
    refuse!(m, &[id], "DvPUnauthorized", m.chain.send_call(m.carol, m.suite.dvp, &pay_by_carol).await);
    let approve_by_seller = DvP::approveCall { id, trade: trade.clone() };
    refuse!(m, &[id], "DvPUnauthorized", m.chain.send_call(m.p.seller, m.suite.dvp, &approve_by_seller).await);
    let mut other_terms = trade.clone();
    other_terms.amount = u(1);
    refuse!(m, &[id], "DvPTradeNotFound", m.suite.pay(&mut m.chain, id, &other_terms).await);
    assert_eq!(m.check(id, &other_terms).await, SettleCheck::TradeNotFound);

    // The units are locked: the seller cannot sell them twice or transfer them away.
    let second = trade_id(m.p.seller, "second-sale");
    let mut rest = trade.clone();
    rest.units = u(UNITS - 99);
    refuse!(m, &[id, second], "TokenInsufficientFreeBalance", m.suite.create_trade(&mut m.chain, second, &rest).await);
    let transfer = SecurityToken::transferCall { to: m.carol, amount: u(UNITS - 99) };
    refuse!(m, &[id], "TokenTransferRestricted", m.chain.send_call(m.p.seller, m.suite.security, &transfer).await);

    // A buyer without the cash cannot pay.
    let mut rich = trade.clone();
    rich.amount = u(CASH + 1);
    let rich_id = trade_id(m.p.seller, "rich");
    rich.units = u(1);
    m.suite.create_trade(&mut m.chain, rich_id, &rich).await.expect("create");
    refuse!(m, &[rich_id], "TokenInsufficientFreeBalance", m.suite.pay(&mut m.chain, rich_id, &rich).await);
}

#[tokio::test]
async fn batch_settlement_is_all_or_nothing() {
    let mut m = market(support::revm()).await;
    let (seller, buyer, carol, agent) = (m.p.seller, m.p.buyer, m.carol, m.p.agent);
    let terms = [
        m.trade(seller, buyer, 10, 100_000, agent),
        m.trade(seller, carol, 20, 200_000, agent),
        m.trade(carol, buyer, 30, 300_000, agent),
    ];
    let mut trades = Vec::new();
    for (i, t) in terms.iter().enumerate() {
        let id = trade_id(t.seller, format!("batch-{i}"));
        m.suite.create_trade(&mut m.chain, id, t).await.expect("create");
        trades.push((id, t.clone()));
    }
    let ids: Vec<B256> = trades.iter().map(|(id, _)| *id).collect();
    // Unpaid trades, an empty batch and a stranger are refused.
    refuse!(m, &ids, "DvPTradeNotPaid", m.suite.settle_batch(&mut m.chain, agent, &trades, false).await);
    refuse!(m, &ids, "DvPInvalidBatch", m.suite.settle_batch(&mut m.chain, agent, &[], false).await);
    for (id, t) in &trades {
        m.suite.pay(&mut m.chain, *id, t).await.expect("pay");
    }
    refuse!(m, &ids, "DvPUnauthorized", m.suite.settle_batch(&mut m.chain, carol, &trades, false).await);
    // One bad leg (carol frozen in the deposit token) refuses the whole batch.
    m.suite.set_frozen(&mut m.chain, m.p.suite.bank, m.suite.deposit, carol, true).await.expect("freeze");
    refuse!(m, &ids, "TokenTransferRestricted", m.suite.settle_batch(&mut m.chain, agent, &trades, false).await);
    m.suite.set_frozen(&mut m.chain, m.p.suite.bank, m.suite.deposit, carol, false).await.expect("unfreeze");

    let batch = m.suite.settle_batch(&mut m.chain, agent, &trades, false).await.expect("batch");
    assert_eq!((batch.trades, batch.gross_cash, batch.net_cash), (u(3), u(600_000), u(600_000)));
    for id in ids {
        assert_eq!(m.status(id).await, 1 | 2 | 4 | 8);
    }
    for who in [seller, buyer, carol] {
        let p = m.position(who).await;
        assert_eq!((p.units_held, p.cash_held), (U256::ZERO, U256::ZERO));
    }
}

#[tokio::test]
async fn netted_batch_moves_only_net_cash_and_ends_where_gross_settlement_would() {
    // The same trades settled gross on one market and netted on another end in the same balances.
    let build = |m: &Market<kessai_sim::RevmChain>| {
        let (s, b, c, a) = (m.p.seller, m.p.buyer, m.carol, m.p.agent);
        vec![
            m.trade(s, b, 10, 1_000_000, a),
            m.trade(b, c, 5, 600_000, a),
            m.trade(c, s, 7, 900_000, a),
            m.trade(b, s, 2, 250_000, a),
        ]
    };
    let mut ends = Vec::new();
    let mut receipts = Vec::new();
    for netted in [false, true] {
        let mut m = market(support::revm()).await;
        let mut trades = Vec::new();
        for (i, t) in build(&m).into_iter().enumerate() {
            let id = trade_id(t.seller, format!("net-{i}"));
            m.create_and_pay(id, &t).await;
            trades.push((id, t));
        }
        let batch = m.suite.settle_batch(&mut m.chain, m.p.agent, &trades, netted).await.expect("batch");
        let cash_moves = events::<SecurityToken::Transfer>(&batch.receipt.logs, m.suite.deposit).len();
        let unit_moves = events::<SecurityToken::Transfer>(&batch.receipt.logs, m.suite.security).len();
        receipts.push((batch.gross_cash, batch.net_cash, cash_moves, unit_moves));
        let mut end = Vec::new();
        for who in [m.p.seller, m.p.buyer, m.carol] {
            end.push(m.position(who).await);
        }
        ends.push((end, m.suite.supplies(&mut m.chain).await.expect("supplies")));
    }
    assert_eq!(ends[0], ends[1], "netting changes how cash moves, not where it ends");
    // Cash: the buyer pays the seller 1,000,000; carol pays the buyer 600,000; the seller pays carol
    // 900,000 and the buyer 250,000. Net: seller -150,000, buyer -150,000, carol +300,000: two
    // transfers of ¥150,000 to carol instead of four totalling ¥2,750,000.
    assert_eq!(receipts[0], (u(2_750_000), u(2_750_000), 4, 4));
    assert_eq!(receipts[1], (u(2_750_000), u(300_000), 2, 4), "every security leg delivered, two net cash moves");
}

#[tokio::test]
async fn netted_batch_refuses_mixed_deposit_tokens() {
    let mut m = market(support::revm()).await;
    let (id, t) = m.paid("mixed-a").await;
    let mut other = t.clone();
    other.cash = m.suite.security; // a second cash token (any token the DvP may lock in)
    other.units = u(1);
    other.amount = u(1);
    let id2 = trade_id(m.p.seller, "mixed-b");
    m.create_and_pay(id2, &other).await;
    let args = refuse!(
        m,
        &[id, id2],
        "DvPBatchMixedCash",
        m.suite.settle_batch(&mut m.chain, m.p.agent, &[(id, t), (id2, other)], true).await
    );
    assert_eq!(args[0], id2.to_string());
}

/// Deploys the hostile token and gives `holder` units of it.
async fn reentrant_token<C: Chain>(m: &mut Market<C>, holder: Address) -> Address {
    let r = m
        .chain
        .send(Tx { from: m.p.suite.operator, to: None, data: ReentrantToken::BYTECODE.clone() })
        .await
        .expect("deploy");
    let token = r.contract_address.expect("address");
    m.chain.send_call(holder, token, &ReentrantToken::mintCall { to: holder, amount: u(1_000) }).await.expect("mint");
    token
}

async fn reentry<C: Chain>(m: &mut Market<C>, token: Address) -> (bool, bool, Bytes) {
    let r = m.chain.read(token, &ReentrantToken::reentryCall {}).await.expect("reentry");
    (r.reentered, r.succeeded, r.result)
}

#[tokio::test]
async fn a_token_calling_back_cannot_settle_twice_or_half() {
    let mut m = market(support::revm()).await;
    let seller = m.p.seller;
    let token = reentrant_token(&mut m, seller).await;
    // The hostile token is also the trade's agent, so its callbacks pass the DvP's caller checks.
    let mut trade = m.trade(m.p.seller, m.p.buyer, 100, 1_000_000, token);
    trade.security = token;
    let id = trade_id(m.p.seller, "reentrant");
    let dvp = m.suite.dvp;
    let arm = |call: Vec<u8>, bubble| ReentrantToken::armCall { target: dvp, payload: call.into(), bubble };
    let approve = DvP::approveCall { id, trade: trade.clone() }.abi_encode();
    let cancel = DvP::cancelCall { id, trade: trade.clone() }.abi_encode();
    let units_of = |who| ReentrantToken::balanceOfCall { account: who };

    // While the seller's units are being locked, the agent-token approves through its callback: the
    // trade already exists (it was written before the lock), so the approval is recorded.
    m.chain.send_call(m.p.seller, token, &arm(approve, false)).await.expect("arm");
    m.suite.create_trade(&mut m.chain, id, &trade).await.expect("create");
    assert!(reentry(&mut m, token).await.1, "the callback's approval went through");
    assert_eq!(m.status(id).await, 1 | 4);

    // The buyer's payment settles; during delivery the token tries to cancel. With the failure
    // bubbled up, the whole payment reverts: nothing moved on either token.
    m.chain.send_call(m.p.seller, token, &arm(cancel.clone(), true)).await.expect("arm");
    let before = m.snapshot(&[id]).await;
    let buyer_units = m.chain.read(token, &units_of(m.p.buyer)).await.expect("units");
    let args = refused(m.suite.pay(&mut m.chain, id, &trade).await, "DvPInvalidStatus");
    assert_eq!(args[1], (1u8 | 2 | 4 | 8).to_string(), "the callback found the trade already settled");
    assert_eq!(m.snapshot(&[id]).await, before, "the payment reverted, nothing moved");
    assert_eq!(m.chain.read(token, &units_of(m.p.buyer)).await.expect("units"), buyer_units);

    // With the failure swallowed, the payment settles exactly once and the cancel has no effect.
    m.chain.send_call(m.p.seller, token, &arm(cancel, false)).await.expect("arm");
    let b0 = m.position(m.p.buyer).await;
    m.suite.pay(&mut m.chain, id, &trade).await.expect("payment settles");
    let (reentered, succeeded, result) = reentry(&mut m, token).await;
    assert!(reentered && !succeeded, "the callback ran and was refused");
    assert_eq!(kessai_bindings::RevertError::decode(&result).name, "DvPInvalidStatus");
    assert_eq!(m.status(id).await, 1 | 2 | 4 | 8);
    assert_eq!(m.position(m.p.buyer).await.cash, b0.cash - trade.amount, "paid once");
    let units = m.chain.read(token, &units_of(m.p.buyer)).await.expect("units");
    assert_eq!(units, buyer_units + trade.units, "delivered once");
}

#[tokio::test]
async fn a_replayed_signed_settlement_inside_a_callback_is_refused() {
    let mut m = market(support::revm()).await;
    let seller = m.p.seller;
    let token = reentrant_token(&mut m, seller).await;
    let mut trade = m.trade(m.p.seller, m.p.buyer, 100, 1_000_000, Address::ZERO);
    trade.security = token;
    let id = trade_id(m.p.seller, "reentrant-signed");
    let sigs = m.signatures(id, &trade, Instruction::Settle).await;
    let replay = DvP::settleSignedCall {
        id,
        trade: trade.clone(),
        sellerSig: sigs.seller.clone(),
        buyerSig: sigs.buyer.clone(),
    };
    let arm = ReentrantToken::armCall { target: m.suite.dvp, payload: replay.abi_encode().into(), bubble: false };
    m.chain.send_call(m.p.seller, token, &arm).await.expect("arm");
    let b0 = m.position(m.p.buyer).await;
    m.suite.settle_signed(&mut m.chain, m.carol, id, &trade, &sigs).await.expect("settles once");
    let (reentered, succeeded, result) = reentry(&mut m, token).await;
    assert!(reentered && !succeeded);
    assert_eq!(kessai_bindings::RevertError::decode(&result).name, "DvPTradeExists");
    assert_eq!(m.position(m.p.buyer).await.cash, b0.cash - trade.amount, "paid once");
    let units = m.chain.read(token, &ReentrantToken::balanceOfCall { account: m.p.buyer }).await.expect("units");
    assert_eq!(units, trade.units, "delivered once");
}

#[tokio::test]
async fn the_token_admin_can_switch_off_the_settlement_contract() {
    let mut m = market(support::revm()).await;
    let trade = m.standard();
    let id = trade_id(m.p.seller, "switched-off");
    let off = SecurityToken::setSettlementEnabledCall { enabled: false };
    m.chain.send_call(m.p.suite.operator, m.suite.security, &off).await.expect("switch off");
    let args =
        refuse!(m, &[id], "AccessControlUnauthorizedAccount", m.suite.create_trade(&mut m.chain, id, &trade).await);
    assert_eq!(args[0], m.suite.dvp.to_string());
    let stranger = SecurityToken::setSettlementEnabledCall { enabled: true };
    refuse!(
        m,
        &[id],
        "AccessControlUnauthorizedAccount",
        m.chain.send_call(m.carol, m.suite.security, &stranger).await
    );
    m.chain.send_call(m.p.suite.operator, m.suite.security, &stranger).await.expect("switch on");
    m.suite.create_trade(&mut m.chain, id, &trade).await.expect("create");
}
