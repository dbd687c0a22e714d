//! DvP refusals: each asserts the decoded, named error and that nothing moved.

use crate::support;
use kessai_bindings::{
    Restriction,
    alloy::primitives::{Address, B256, U256, keccak256},
};
use kessai_deployer::{
    DeployerError,
    chain::Chain,
    ops::{Position, Suite, Trade},
};
use kessai_sim::demo::{self, DemoParties};

/// Everything a refusal must leave untouched.
#[derive(Debug, PartialEq, Eq)]
struct Snapshot {
    seller: Position,
    buyer: Position,
    agent: Position,
    supplies: (U256, U256),
    status: u8,
}

async fn snapshot<C: Chain>(chain: &mut C, suite: &Suite, p: &DemoParties, id: B256) -> Snapshot {
    Snapshot {
        seller: suite.position(chain, p.seller).await.expect("seller"),
        buyer: suite.position(chain, p.buyer).await.expect("buyer"),
        agent: suite.position(chain, p.agent).await.expect("agent"),
        supplies: suite.supplies(chain).await.expect("supplies"),
        status: suite.trade_status(chain, id).await.expect("status"),
    }
}

fn expect_revert(result: Result<impl std::fmt::Debug, DeployerError>, name: &str) -> kessai_bindings::RevertError {
    match result {
        Err(DeployerError::Revert(e)) => {
            assert_eq!(e.name, name, "unexpected revert: {e}");
            assert!(!e.message.is_empty());
            e
        }
        other => panic!("expected revert {name}, got {other:?}"),
    }
}

/// Deploys the suite, registers the seller on both registries and the buyer only with the bank
/// (not with the securities registrar), issues units and cash, and returns a trade between them.
async fn suite_with_unregistered_buyer<C: Chain>(chain: &mut C, agent: Address) -> (Suite, DemoParties, B256, Trade) {
    let p = support::parties();
    let deployment = kessai_deployer::plan::execute(chain, &kessai_deployer::plan::suite_plan(&demo::demo_spec(&p)))
        .await
        .expect("deploy");
    let suite = Suite::from_deployment(&deployment).expect("suite");
    let now = chain.timestamp().await.expect("time");
    let reg = |n| demo::registration(now, n);
    suite.register(chain, suite.registry, p.suite.registrar, p.seller, reg("seller")).await.expect("reg seller");
    suite.register(chain, suite.bank_registry, p.suite.bank, p.seller, reg("seller")).await.expect("bank seller");
    suite.register(chain, suite.bank_registry, p.suite.bank, p.buyer, reg("buyer")).await.expect("bank buyer");
    suite.issue_security(chain, p.suite.issuer, p.seller, U256::from(1_000)).await.expect("issue");
    suite
        .issue_deposit(chain, p.suite.bank, p.buyer, U256::from(demo::TRADE_AMOUNT), keccak256("DEP-T1"))
        .await
        .expect("deposit");
    let mut trade = demo::demo_trade(&suite, &p, demo::deadline_after(now));
    trade.agent = agent;
    let id = kessai_bindings::trade_id(trade.seller, "trade-unregistered-buyer");
    suite.create_trade(chain, id, &trade).await.expect("create");
    (suite, p, id, trade)
}

async fn settlement_refused_when_buyer_not_eligible<C: Chain>(chain: &mut C) {
    let agent = support::parties().agent;
    let (suite, p, id, trade) = suite_with_unregistered_buyer(chain, agent).await;
    suite.pay(chain, id, &trade).await.expect("pay holds the buyer's cash");

    let before = snapshot(chain, &suite, &p, id).await;
    assert_eq!(before.status, 1 | 2, "created and paid");
    assert_eq!(before.seller.units_held, trade.units);
    assert_eq!(before.buyer.cash_held, trade.amount);

    let err = expect_revert(suite.approve(chain, id, &trade).await, "TokenTransferRestricted");
    let code = Restriction::ReceiverNotEligible as u8;
    assert_eq!(err.args, vec![code.to_string(), p.seller.to_string(), p.buyer.to_string(), trade.units.to_string()]);
    assert!(err.message.contains("receiver is not an eligible investor"), "{}", err.message);
    assert_eq!(snapshot(chain, &suite, &p, id).await, before, "nothing moved, no hold or status changed");
}

async fn payment_refused_when_buyer_not_eligible_and_no_agent<C: Chain>(chain: &mut C) {
    let (suite, p, id, trade) = suite_with_unregistered_buyer(chain, Address::ZERO).await;
    let before = snapshot(chain, &suite, &p, id).await;
    let err = expect_revert(suite.pay(chain, id, &trade).await, "TokenTransferRestricted");
    assert_eq!(err.args[0], (Restriction::ReceiverNotEligible as u8).to_string());
    assert_eq!(err.args[2], p.buyer.to_string());
    assert_eq!(snapshot(chain, &suite, &p, id).await, before, "the payment hold was not placed either");
}

#[tokio::test]
async fn settle_reverts_when_buyer_not_eligible_on_revm() {
    settlement_refused_when_buyer_not_eligible(&mut support::revm()).await;
}

#[tokio::test]
async fn settle_reverts_when_buyer_not_eligible_on_anvil() {
    let (_node, mut chain) = support::anvil();
    settlement_refused_when_buyer_not_eligible(&mut chain).await;
}

#[tokio::test]
async fn pay_reverts_atomically_when_buyer_not_eligible_without_agent() {
    payment_refused_when_buyer_not_eligible_and_no_agent(&mut support::revm()).await;
}

#[tokio::test]
async fn dvp_steps_refuse_wrong_callers_and_double_settlement() {
    let chain = &mut support::revm();
    let parties = support::parties();
    let report = demo::run(chain, &parties, &crate::support::key(parties.buyer), |_| {}).await.expect("demo");
    let suite = Suite::from_deployment(&report.deployment).expect("suite");
    let id = report.trade_id;
    let before = snapshot(chain, &suite, &parties, id).await;
    assert_eq!(before.status, 1 | 2 | 4 | 8);

    // Settled trades cannot be approved, paid or cancelled again.
    let trade = demo::demo_trade(&suite, &parties, report.deadline);
    expect_revert(suite.approve(chain, id, &trade).await, "DvPInvalidStatus");
    expect_revert(suite.pay(chain, id, &trade).await, "DvPInvalidStatus");
    expect_revert(suite.cancel(chain, parties.seller, id, &trade).await, "DvPInvalidStatus");
    // Someone else cannot act for the buyer, and altered terms are not the trade.
    let mut forged = trade.clone();
    forged.buyer = parties.agent;
    expect_revert(suite.cancel(chain, parties.suite.issuer, id, &trade).await, "DvPUnauthorized");
    expect_revert(suite.cancel(chain, parties.agent, id, &forged).await, "DvPTradeNotFound");
    assert_eq!(snapshot(chain, &suite, &parties, id).await, before);
}
