//! Security token wallet recovery (balances, holds, freezes and pending requests move to the new
//! wallet; later transfers are forwarded) and approval mode (transfers become requests the transfer
//! agent decides, and expire). Each refusal asserts the decoded error and that nothing moved.

use crate::support::{
    self, on_revm_and_anvil,
    security::{Fixture, refused},
    u,
};
use kessai_bindings::{
    Restriction,
    alloy::primitives::{Address, keccak256},
    security_token::SecurityToken as St,
    transfer_approvals::TransferApprovals,
};
use kessai_deployer::chain::Chain;

async fn wallet_recovery_moves_balance_holds_and_freezes_and_forwards_later_transfers<C: Chain>(chain: C) {
    let mut f = Fixture::new(chain).await;
    let (alice, bob, notary) = (f.alice, f.bob, f.p.agent);
    let fresh = Address::repeat_byte(0xfe);
    let unregistered = Address::repeat_byte(0xfd);
    f.register(fresh, 0, 392).await;
    f.watch_account(fresh);
    f.watch_account(unregistered);
    let id = keccak256("pending-trade");
    f.send(alice, St::holdCall { notary, id, amount: u(300), expiry: f.now + 86_400 }).await.expect("hold");
    f.watch_hold(alice, notary, id);
    f.authority(St::freezeUnitsCall { account: alice, amount: u(100) }).await.expect("freeze");

    let recover = |lost: Address, new: Address| St::recoverWalletCall {
        lostWallet: lost,
        newWallet: new,
        documentRef: keccak256("kyc-case-9"),
    };
    for (new, error) in [
        (bob, "TokenRecoveryInvalid"),
        (alice, "TokenRecoveryInvalid"),
        (Address::ZERO, "TokenRecoveryInvalid"),
        (unregistered, "TokenAccountNotEligible"),
    ] {
        refused!(f, f.authority(recover(alice, new)).await, error);
    }

    f.authority(recover(alice, fresh)).await.expect("recover");
    assert_eq!(f.read(St::balanceOfCall { account: alice }).await, u(0));
    assert_eq!(f.read(St::balanceOfCall { account: fresh }).await, u(1_000));
    assert_eq!(f.read(St::heldBalanceOfCall { account: fresh }).await, u(300));
    assert_eq!(f.read(St::frozenBalanceOfCall { account: fresh }).await, u(100));
    assert_eq!(f.read(St::recoveredToCall { lostWallet: alice }).await, fresh);
    refused!(f, f.authority(recover(alice, unregistered)).await, "TokenRecoveryInvalid");

    // The pending hold settles from the new wallet; units sent to the lost wallet arrive at the new one.
    f.send(notary, St::executeHoldCall { holder: alice, id, to: bob, amount: u(300) }).await.expect("execute");
    f.send(bob, St::transferCall { to: alice, amount: u(50) }).await.expect("send to lost wallet");
    assert_eq!(f.read(St::balanceOfCall { account: fresh }).await, u(750));
    assert_eq!(f.read(St::balanceOfCall { account: alice }).await, u(0));
    // The lost wallet can do nothing.
    f.assert_refused(alice, bob, 1, Restriction::SenderFrozen).await;
    refused!(
        f,
        f.send(alice, St::holdCall { notary, id: keccak256("after"), amount: u(1), expiry: f.now + 86_400 }).await,
        "TokenAccountRecovered"
    );
}

on_revm_and_anvil!(
    wallet_recovery_moves_balance_holds_and_freezes_and_forwards_later_transfers,
    wallet_recovery_moves_balance_holds_and_freezes_and_forwards_later_transfers_on_revm,
    wallet_recovery_moves_balance_holds_and_freezes_and_forwards_later_transfers_on_anvil
);

#[tokio::test]
async fn the_recovered_wallet_releases_an_expired_hold_of_the_lost_one() {
    let mut f = Fixture::new(support::revm()).await;
    let (alice, bob, notary) = (f.alice, f.bob, f.p.agent);
    let fresh = Address::repeat_byte(0xfe);
    f.register(fresh, 0, 392).await;
    f.watch_account(fresh);
    let id = keccak256("stranded-hold");
    f.send(alice, St::holdCall { notary, id, amount: u(300), expiry: f.now + 3_600 }).await.expect("hold");
    f.watch_hold(alice, notary, id);
    let recover = St::recoverWalletCall { lostWallet: alice, newWallet: fresh, documentRef: keccak256("kyc-case-11") };
    f.authority(recover).await.expect("recover");
    assert_eq!(f.read(St::heldBalanceOfCall { account: fresh }).await, u(300));

    // Before the expiry only the notary may release; a stranger never may.
    let release = St::releaseHoldCall { holder: alice, notary, id };
    refused!(f, f.send(fresh, release.clone()).await, "TokenHoldNotExpired");
    f.chain.advance_time(3_601).await.expect("past the expiry");
    refused!(f, f.send(bob, release.clone()).await, "TokenHoldUnauthorized");
    // After it, the investor's new wallet frees the units the lost wallet locked.
    f.send(fresh, release).await.expect("the new wallet releases");
    assert_eq!(f.read(St::heldBalanceOfCall { account: fresh }).await, u(0));
    assert_eq!(f.read(St::freeBalanceOfCall { account: fresh }).await, u(1_000));
}

#[tokio::test]
async fn wallet_recovery_moves_pending_transfer_requests_to_the_new_wallet() {
    let mut f = Fixture::new(support::revm()).await;
    let (alice, bob, carol, agent) = (f.alice, f.bob, f.carol, f.p.suite.registrar);
    let fresh = Address::repeat_byte(0xfe);
    f.register(fresh, 0, 392).await;
    f.watch_account(fresh);
    f.operator(approval_mode(true)).await.expect("approval mode");
    let approved = f.request(alice, bob, 70).await;
    let rejected = f.request(alice, carol, 30).await;
    let recover = St::recoverWalletCall { lostWallet: alice, newWallet: fresh, documentRef: keccak256("kyc-case-10") };
    f.authority(recover).await.expect("recover");
    assert_eq!(f.read(St::heldBalanceOfCall { account: fresh }).await, u(100), "the requests' units moved");
    assert_eq!(f.read(St::heldBalanceOfCall { account: alice }).await, u(0));
    assert_eq!(f.read(St::freeBalanceOfCall { account: fresh }).await, u(900));

    f.desk(agent, TransferApprovals::approveCall { id: approved }).await.expect("approve");
    assert_eq!(f.read(St::balanceOfCall { account: bob }).await, u(170));
    assert_eq!(f.read(St::balanceOfCall { account: fresh }).await, u(930), "settled from the new wallet");
    assert_eq!(f.read(St::heldBalanceOfCall { account: fresh }).await, u(30));
    let reject = TransferApprovals::rejectCall { id: rejected, reason: "receiver over concentration limit".into() };
    f.desk(agent, reject).await.expect("reject");
    assert_eq!(f.read(St::heldBalanceOfCall { account: fresh }).await, u(0));
    assert_eq!(f.read(St::freeBalanceOfCall { account: fresh }).await, u(930));
    assert_eq!(f.read(St::balanceOfCall { account: carol }).await, u(0));
}

fn approval_mode(on: bool) -> St::setRulesCall {
    St::setRulesCall { allowedClasses: 0, maxHolders: 0, lockupUntil: 0, approvalRequired: on }
}

#[tokio::test]
async fn approval_mode_turns_transfers_into_requests_the_agent_decides() {
    let mut f = Fixture::new(support::revm()).await;
    let (alice, bob, agent) = (f.alice, f.bob, f.p.suite.registrar);
    f.operator(approval_mode(true)).await.expect("approval mode");
    let id = f.request(alice, bob, 70).await;
    assert_eq!(f.read(St::heldBalanceOfCall { account: alice }).await, u(70));

    // Only the transfer agent decides.
    for stranger in [alice, bob, f.p.suite.operator] {
        refused!(f, f.desk(stranger, TransferApprovals::approveCall { id }).await, "AccessControlUnauthorizedAccount");
        refused!(
            f,
            f.desk(stranger, TransferApprovals::rejectCall { id, reason: "no".into() }).await,
            "AccessControlUnauthorizedAccount"
        );
    }

    f.desk(agent, TransferApprovals::approveCall { id }).await.expect("approve");
    assert_eq!(f.read(St::balanceOfCall { account: bob }).await, u(170));
    assert_eq!(f.read(St::heldBalanceOfCall { account: alice }).await, u(0));
    refused!(f, f.desk(agent, TransferApprovals::approveCall { id }).await, "ApprovalRequestNotPending");
    refused!(
        f,
        f.desk(agent, TransferApprovals::rejectCall { id, reason: "late".into() }).await,
        "ApprovalRequestNotPending"
    );

    let id = f.request(alice, bob, 70).await;
    let reject = TransferApprovals::rejectCall { id, reason: "receiver over concentration limit".into() };
    f.desk(agent, reject).await.expect("reject");
    assert_eq!(f.read(St::heldBalanceOfCall { account: alice }).await, u(0));
    assert_eq!(f.read(St::balanceOfCall { account: bob }).await, u(170));
    refused!(f, f.desk(agent, TransferApprovals::approveCall { id }).await, "ApprovalRequestNotPending");
}

#[tokio::test]
async fn transfer_requests_expire_after_the_request_ttl() {
    let mut f = Fixture::new(support::revm()).await;
    let (alice, bob, desk, agent) = (f.alice, f.bob, f.suite.approvals, f.p.suite.registrar);
    f.operator(approval_mode(true)).await.expect("approval mode");
    let ttl = f.chain.read(desk, &TransferApprovals::REQUEST_TTLCall {}).await.expect("ttl");
    assert_eq!(ttl, 7 * 86_400);
    let before_request = f.chain.timestamp().await.expect("time");
    let withdrawn = f.request(alice, bob, 70).await;
    let after_request = f.chain.timestamp().await.expect("time");
    let lapsed = f.request(alice, bob, 30).await;
    let hold = f.read(St::holdOfCall { holder: alice, notary: desk, id: withdrawn }).await;
    assert_eq!(hold._0, u(70));
    let requested_at = hold._1 - ttl;
    assert!((before_request..=after_request).contains(&requested_at), "the request holds its units for the TTL");

    // Before the TTL the sender cannot take the units back.
    refused!(
        f,
        f.send(alice, St::releaseHoldCall { holder: alice, notary: desk, id: withdrawn }).await,
        "TokenHoldNotExpired"
    );

    // After it the agent can no longer approve; the sender may withdraw; the agent may still reject.
    f.chain.advance_time(ttl + 1).await.expect("past the TTL");
    refused!(f, f.desk(agent, TransferApprovals::approveCall { id: withdrawn }).await, "TokenHoldExpired");
    f.send(alice, St::releaseHoldCall { holder: alice, notary: desk, id: withdrawn }).await.expect("withdraw");
    assert_eq!(f.read(St::heldBalanceOfCall { account: alice }).await, u(30));
    refused!(f, f.desk(agent, TransferApprovals::approveCall { id: withdrawn }).await, "TokenHoldNotFound");
    f.desk(agent, TransferApprovals::rejectCall { id: withdrawn, reason: "withdrawn".into() }).await.expect("close");
    f.desk(agent, TransferApprovals::rejectCall { id: lapsed, reason: "lapsed".into() }).await.expect("reject");
    assert_eq!(f.read(St::heldBalanceOfCall { account: alice }).await, u(0));
    refused!(f, f.desk(agent, TransferApprovals::approveCall { id: lapsed }).await, "ApprovalRequestNotPending");
    assert_eq!(f.read(St::balanceOfCall { account: alice }).await, u(1_000));
    assert_eq!(f.read(St::balanceOfCall { account: bob }).await, u(100));
}
