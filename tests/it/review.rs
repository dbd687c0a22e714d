//! The attacks of the external contract review (issue 14), each run as described: every one must now
//! fail with a named error and move nothing (balances, held units, holder count, trade states).

use crate::{
    security::{Fixture, u},
    support,
};
use kessai_bindings::{
    Restriction,
    alloy::primitives::{Address, U256},
    security_token::SecurityToken as St,
};
use kessai_deployer::chain::Chain;

/// The holder count and the number of watched accounts with a non-zero balance, which it must equal
/// when every holder is watched.
async fn holders<C: Chain>(f: &mut Fixture<C>, accounts: &[Address]) -> (u32, u32) {
    let count = f.read(St::rulesCall {}).await.holderCount;
    let mut nonzero = 0;
    for &account in accounts {
        if f.read(St::balanceOfCall { account }).await != U256::ZERO {
            nonzero += 1;
        }
    }
    (count, nonzero)
}

/// Finding 1: a zero-unit `transferFrom` out of an empty account, sent by anyone, counted as "the
/// sender left". Zero-unit transfers stay valid ERC-20 calls, but they no longer move the count: the
/// limit keeps binding and whole-position exits keep working.
#[tokio::test]
async fn zero_unit_transfers_from_empty_accounts_cannot_empty_the_holder_count() {
    let mut f = Fixture::new(support::revm()).await;
    let (alice, bob, carol, attacker) = (f.alice, f.bob, f.carol, f.p.agent);
    f.issuer(St::redeemCall { from: alice, amount: u(1_000) }).await.expect("redeem");
    f.issuer(St::redeemCall { from: bob, amount: u(100) }).await.expect("redeem");
    let limit = St::setRulesCall { allowedClasses: 0, maxHolders: 2, lockupUntil: 0, approvalRequired: false };
    f.operator(limit).await.expect("limit");
    f.issuer(St::issueCall { to: alice, amount: u(10) }).await.expect("first holder");
    f.issuer(St::issueCall { to: bob, amount: u(10) }).await.expect("second holder");
    let everyone = [alice, bob, carol];
    assert_eq!(holders(&mut f, &everyone).await, (2, 2));

    // The attack: anyone, twice, moves zero units from carol (registered, empty) to a holder.
    let before = f.state().await;
    for _ in 0..2 {
        f.send(attacker, St::transferFromCall { from: carol, to: alice, amount: u(0) })
            .await
            .expect("a zero-unit transfer is a valid ERC-20 call");
    }
    assert_eq!(f.state().await, before, "zero units moved nothing");
    assert_eq!(holders(&mut f, &everyone).await, (2, 2), "the holder count did not move");

    // The limit still binds: a third holder is refused, by the code and by the transfer.
    f.assert_refused(alice, carol, 1, Restriction::HolderLimitReached).await;
    let before = f.state().await;
    let result = f.issuer(St::issueCall { to: carol, amount: u(1) }).await;
    f.assert_unchanged(result, "TokenTransferRestricted", &before).await;
    assert_eq!(holders(&mut f, &everyone).await, (2, 2));

    // Whole-position exits still work and free a place, exactly once.
    f.send(bob, St::transferCall { to: alice, amount: u(10) }).await.expect("bob leaves");
    assert_eq!(holders(&mut f, &everyone).await, (1, 1));
    f.issuer(St::redeemCall { from: alice, amount: u(20) }).await.expect("alice redeems all");
    assert_eq!(holders(&mut f, &everyone).await, (0, 0));
    f.issuer(St::issueCall { to: carol, amount: u(5) }).await.expect("carol joins");
    assert_eq!(holders(&mut f, &everyone).await, (1, 1));
}
