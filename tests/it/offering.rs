//! Primary offering through the DvP machinery: allotted units are delivered against payment
//! atomically on the issue date; an investor who does not pay receives nothing and the units return.

use crate::support;
use kessai_bindings::alloy::primitives::{Address, B256, U256, keccak256};
use kessai_deployer::{
    DeployerError,
    chain::Chain,
    ops::{Allotment, Position, Suite},
    plan,
};
use kessai_sim::demo;

#[tokio::test]
async fn allotments_are_delivered_against_payment_atomically_on_the_issue_date() {
    let chain = &mut support::revm();
    let p = support::parties();
    let d = plan::execute(chain, &plan::suite_plan(&demo::demo_spec(&p))).await.expect("deploy");
    let suite = Suite::from_deployment(&d).expect("suite");
    let now = chain.timestamp().await.expect("time");
    // The underwriter is the issuer's distributing securities company: an eligible institution.
    let underwriter = p.suite.issuer;
    let investors = [p.seller, p.buyer, Address::repeat_byte(0x71)];
    for who in [underwriter].iter().chain(&investors) {
        let r = demo::registration(now, "investor");
        suite.register(chain, suite.registry, p.suite.registrar, *who, r).await.expect("register");
        suite.register(chain, suite.bank_registry, p.suite.bank, *who, r).await.expect("bank");
    }
    for (i, who) in investors.iter().enumerate() {
        let r = format!("SUB-{i}");
        suite.issue_deposit(chain, p.suite.bank, *who, U256::from(500_000), keccak256(r)).await.expect("cash");
    }
    suite.issue_security(chain, p.suite.issuer, underwriter, U256::from(150)).await.expect("issue to underwriter");
    let allot =
        |investor, units: u64| Allotment { investor, units: U256::from(units), amount: U256::from(units * 10_000) };
    let allotments = [allot(investors[0], 50), allot(investors[1], 40), allot(investors[2], 60)];
    let issue_date = demo::deadline_after(now);
    let trades = suite.offer(chain, underwriter, p.agent, &allotments, issue_date).await.expect("offer");

    // Two investors pay their subscription; the third does not.
    for (id, trade) in &trades[..2] {
        suite.pay(chain, *id, trade).await.expect("subscription payment");
    }
    // Nothing is delivered before the agent's approval on the issue date.
    let position = suite.position(chain, investors[0]).await.expect("position");
    assert_eq!((position.units, position.cash_held), (U256::ZERO, U256::from(500_000)));

    for (id, trade) in &trades[..2] {
        suite.approve(chain, *id, trade).await.expect("delivery against payment");
    }
    let unpaid = suite.approve(chain, trades[2].0, &trades[2].1).await;
    assert!(unpaid.is_ok(), "approval of the unpaid allotment is recorded but cannot settle");
    assert_eq!(suite.trade_status(chain, trades[2].0).await.expect("status"), 1 | 4, "approved, not paid, not settled");

    for (who, units, cash) in [(investors[0], 50, 0), (investors[1], 40, 100_000), (investors[2], 0, 500_000)] {
        let pos = suite.position(chain, who).await.expect("position");
        assert_eq!(pos.units, U256::from(units));
        assert_eq!(pos.cash, U256::from(cash));
        assert_eq!(pos.cash_held, U256::ZERO);
    }
    // After the issue date the unpaid allotment is released back to the underwriter.
    chain.advance_time(issue_date - now + 1).await.expect("after the issue date");
    let release = kessai_bindings::dvp::DvP::releaseCall { id: trades[2].0, trade: trades[2].1.clone() };
    chain.send_call(p.agent, suite.dvp, &release).await.expect("release");
    let uw = suite.position(chain, underwriter).await.expect("underwriter");
    assert_eq!((uw.units, uw.units_held, uw.cash), (U256::from(60), U256::ZERO, U256::from(900_000)));

    // A released allotment can no longer be paid: refused, and nothing moves.
    let accounts: Vec<Address> = [underwriter].into_iter().chain(investors).collect();
    let before = snapshot(chain, &suite, &accounts, trades[2].0).await;
    let again = suite.pay(chain, trades[2].0, &trades[2].1).await;
    match again {
        Err(DeployerError::Revert(e)) => assert_eq!(e.name, "DvPInvalidStatus", "{e}"),
        other => panic!("expected DvPInvalidStatus, got {other:?}"),
    }
    assert_eq!(snapshot(chain, &suite, &accounts, trades[2].0).await, before, "a refused payment moved something");
}

/// The positions of `accounts`, both supplies and the status of trade `id`.
async fn snapshot<C: Chain>(
    chain: &mut C,
    suite: &Suite,
    accounts: &[Address],
    id: B256,
) -> (Vec<Position>, (U256, U256), u8) {
    let mut positions = Vec::new();
    for who in accounts {
        positions.push(suite.position(chain, *who).await.expect("position"));
    }
    let supplies = suite.supplies(chain).await.expect("supplies");
    (positions, supplies, suite.trade_status(chain, id).await.expect("status"))
}
