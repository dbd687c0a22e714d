//! ERC-20 `Transfer` events on every balance change of the security token (issue, redeem, transfer,
//! hold execution, forced transfer, wallet recovery), so that an indexer that knows only ERC-20
//! rebuilds the token's balances and supply from the events alone.

use crate::support::{self, security::Fixture, u};
use kessai_bindings::{
    alloy::{
        primitives::{Address, Log, U256, keccak256},
        sol_types::SolEvent,
    },
    security_token::SecurityToken as St,
};
use kessai_deployer::chain::Chain;
use std::collections::BTreeMap;

/// The `Transfer(from, to, value)` events `token` emitted among `logs`, in order.
fn transfers(logs: &[Log], token: Address) -> Vec<(Address, Address, U256)> {
    logs.iter()
        .filter(|l| l.address == token)
        .filter_map(|l| St::Transfer::decode_log(l).ok())
        .map(|e| (e.from, e.to, e.value))
        .collect()
}

#[tokio::test]
async fn every_balance_change_emits_an_erc20_transfer_with_its_values() {
    let mut f = Fixture::new(support::revm()).await;
    let (alice, bob, carol, notary) = (f.alice, f.bob, f.carol, f.p.agent);
    let (token, issuer, authority) = (f.suite.security, f.p.suite.issuer, f.p.suite.authority);
    let zero = Address::ZERO;

    let r = f.chain.send_call(issuer, token, &St::issueCall { to: carol, amount: u(5) }).await.expect("issue");
    assert_eq!(transfers(&r.logs, token), [(zero, carol, u(5))], "issue");
    let r = f.chain.send_call(issuer, token, &St::redeemCall { from: bob, amount: u(10) }).await.expect("redeem");
    assert_eq!(transfers(&r.logs, token), [(bob, zero, u(10))], "redeem");
    let batch = St::batchIssueCall { to: vec![bob, carol], amounts: vec![u(3), u(4)] };
    let r = f.chain.send_call(issuer, token, &batch).await.expect("batch issue");
    assert_eq!(transfers(&r.logs, token), [(zero, bob, u(3)), (zero, carol, u(4))], "batch issue");
    let r = f.chain.send_call(alice, token, &St::transferCall { to: bob, amount: u(1) }).await.expect("transfer");
    assert_eq!(transfers(&r.logs, token), [(alice, bob, u(1))], "transfer");

    // A hold moves no balance and emits no Transfer; its execution does.
    let id = keccak256("hold");
    let hold = St::holdCall { notary, id, amount: u(20), expiry: f.now + 3_600 };
    let r = f.chain.send_call(alice, token, &hold).await.expect("hold");
    assert_eq!(transfers(&r.logs, token), [], "hold");
    let execute = St::executeHoldCall { holder: alice, id, to: carol, amount: u(20) };
    let r = f.chain.send_call(notary, token, &execute).await.expect("execute");
    assert_eq!(transfers(&r.logs, token), [(alice, carol, u(20))], "hold execution");

    // A forced transfer reports the move and, separately, its reason and order.
    let (reason, order) = ("Tokyo District Court order 2026-(ワ)-123", keccak256("order-123"));
    f.authority(St::freezeUnitsCall { account: alice, amount: u(900) }).await.expect("freeze units");
    let forced = St::forcedTransferCall {
        from: alice,
        to: carol,
        amount: u(30),
        reason: reason.into(),
        documentRef: order,
        courtOrderOverride: false,
    };
    let r = f.chain.send_call(authority, token, &forced).await.expect("forced transfer");
    assert_eq!(transfers(&r.logs, token), [(alice, carol, u(30))], "forced transfer");
    let event = r.logs.iter().find_map(|l| St::ForcedTransfer::decode_log(l).ok()).expect("ForcedTransfer event");
    assert_eq!(event.address, token);
    assert_eq!((event.from, event.to, event.amount), (alice, carol, u(30)));
    assert_eq!((event.reason.as_str(), event.documentRef, event.courtOrderOverride), (reason, order, false));

    // Recovery moves the whole balance in one Transfer; later transfers to the lost wallet are
    // reported as arriving at the new one.
    let fresh = Address::repeat_byte(0xfe);
    f.register(fresh, 0, 392).await;
    let case = keccak256("kyc-case-9");
    let recover = St::recoverWalletCall { lostWallet: alice, newWallet: fresh, documentRef: case };
    let r = f.chain.send_call(authority, token, &recover).await.expect("recover");
    assert_eq!(transfers(&r.logs, token), [(alice, fresh, u(949))], "recovery");
    let event = r.logs.iter().find_map(|l| St::WalletRecovered::decode_log(l).ok()).expect("WalletRecovered event");
    assert_eq!((event.lostWallet, event.newWallet, event.documentRef), (alice, fresh, case));
    let r = f.chain.send_call(bob, token, &St::transferCall { to: alice, amount: u(2) }).await.expect("to lost");
    assert_eq!(transfers(&r.logs, token), [(bob, fresh, u(2))], "transfer to a recovered wallet");

    // The events alone give every balance and the supply.
    let logs: Vec<_> = f.chain.logs(&[token], 0, None).await.expect("logs").into_iter().map(|l| l.log).collect();
    let mut balances: BTreeMap<Address, U256> = BTreeMap::new();
    let mut supply = U256::ZERO;
    for (from, to, value) in transfers(&logs, token) {
        if from == zero {
            supply += value;
        } else {
            let b = balances.entry(from).or_default();
            *b = b.checked_sub(value).unwrap_or_else(|| panic!("{from} sent more than its events gave it"));
        }
        if to == zero {
            supply -= value;
        } else {
            *balances.entry(to).or_default() += value;
        }
    }
    assert_eq!(supply, f.read(St::totalSupplyCall {}).await, "supply from events");
    for (account, balance) in &balances {
        assert_eq!(*balance, f.read(St::balanceOfCall { account: *account }).await, "balance of {account}");
    }
    let expected = [(alice, 0), (bob, 92), (carol, 59), (fresh, 951)];
    for (account, units) in expected {
        assert_eq!(balances.get(&account).copied().unwrap_or_default(), u(units), "{account}");
    }
    assert_eq!(supply, u(1_102));
}
