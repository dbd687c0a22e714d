//! Security token rules: every refusal asserts the decoded error and that balances, holds, freezes
//! and supply did not change.

use crate::support::{
    self, on_revm_and_anvil,
    security::{Fixture, refused, revert},
    u,
};
use kessai_bindings::{
    Restriction,
    alloy::{
        primitives::{Address, B256, keccak256},
        sol_types::SolCall,
    },
    investor_registry::InvestorRegistry,
    security_token::SecurityToken as St,
    transfer_approvals::TransferApprovals,
};
use kessai_deployer::chain::Chain;

async fn every_transfer_rule_refuses_with_its_code<C: Chain>(chain: C) {
    let mut f = Fixture::new(chain).await;
    let (alice, bob, carol) = (f.alice, f.bob, f.carol);
    assert_eq!(f.restriction(alice, bob, 10).await, Restriction::None);

    // Free balance: held and frozen units do not move.
    f.send(alice, St::holdCall { notary: f.p.agent, id: B256::ZERO, amount: u(600), expiry: f.now + 86_400 })
        .await
        .expect("hold");
    f.authority(St::freezeUnitsCall { account: alice, amount: u(300) }).await.expect("freeze units");
    f.assert_refused(alice, bob, 101, Restriction::InsufficientFreeBalance).await;
    assert_eq!(f.restriction(alice, bob, 100).await, Restriction::None);

    // Eligibility of both sides.
    let outsider = Address::repeat_byte(0x99);
    f.assert_refused(alice, outsider, 1, Restriction::ReceiverNotEligible).await;
    f.chain
        .send_call(f.p.suite.registrar, f.suite.registry, &InvestorRegistry::revokeCall { account: bob })
        .await
        .expect("revoke");
    f.assert_refused(bob, carol, 1, Restriction::SenderNotEligible).await;
    f.assert_refused(alice, bob, 1, Restriction::ReceiverNotEligible).await;
    f.register(bob, 0, 392).await;

    // Account freezes, both sides.
    f.authority(St::setAccountFrozenCall { account: carol, frozen: true }).await.expect("freeze carol");
    f.assert_refused(alice, carol, 1, Restriction::ReceiverFrozen).await;
    f.authority(St::setAccountFrozenCall { account: carol, frozen: false }).await.expect("unfreeze carol");
    f.authority(St::setAccountFrozenCall { account: bob, frozen: true }).await.expect("freeze bob");
    f.assert_refused(bob, carol, 1, Restriction::SenderFrozen).await;
    f.authority(St::setAccountFrozenCall { account: bob, frozen: false }).await.expect("unfreeze bob");

    // Pause.
    f.operator(St::setPausedCall { paused_: true }).await.expect("pause");
    f.assert_refused(alice, bob, 1, Restriction::Paused).await;
    f.operator(St::setPausedCall { paused_: false }).await.expect("unpause");

    // Per-token rules: classes, countries, lock-up, approval mode.
    f.operator(St::setRulesCall { allowedClasses: 0b110, maxHolders: 0, lockupUntil: 0, approvalRequired: false })
        .await
        .expect("rules");
    f.assert_refused(alice, carol, 1, Restriction::InvestorClassNotAllowed).await;
    f.operator(St::setRulesCall { allowedClasses: 0, maxHolders: 0, lockupUntil: 0, approvalRequired: false })
        .await
        .expect("rules");
    f.operator(St::setCountryAllowedCall { country: 840, allowed: true }).await.expect("country");
    f.operator(St::setCountryRuleCall { on: true }).await.expect("country rule");
    f.assert_refused(alice, carol, 1, Restriction::CountryNotAllowed).await;
    f.operator(St::setCountryAllowedCall { country: 392, allowed: true }).await.expect("country");
    // Setting, not toggling: allowing a country twice leaves it allowed.
    f.operator(St::setCountryAllowedCall { country: 392, allowed: true }).await.expect("country again");
    assert!(f.read(St::isCountryAllowedCall { country: 392 }).await);
    assert_eq!(f.restriction(alice, carol, 1).await, Restriction::None);
    let until = f.now + 30 * 86_400;
    f.operator(St::setRulesCall { allowedClasses: 0, maxHolders: 0, lockupUntil: until, approvalRequired: false })
        .await
        .expect("lockup");
    f.assert_refused(alice, bob, 1, Restriction::LockedUp).await;
    f.issuer(St::issueCall { to: carol, amount: u(5) }).await.expect("issues are not locked up");
    f.operator(St::setRulesCall { allowedClasses: 0, maxHolders: 0, lockupUntil: 0, approvalRequired: true })
        .await
        .expect("approval mode");
    f.assert_refused(alice, bob, 1, Restriction::ApprovalRequired).await;
    f.operator(St::setRulesCall { allowedClasses: 0, maxHolders: 0, lockupUntil: 0, approvalRequired: false })
        .await
        .expect("rules off");
    f.assert_refused(alice, Address::ZERO, 1, Restriction::InvalidReceiver).await;

    // KYC expiry ends eligibility without any transaction.
    f.chain.advance_time(366 * 86_400).await.expect("time");
    f.assert_refused(alice, bob, 1, Restriction::SenderNotEligible).await;
}

on_revm_and_anvil!(
    every_transfer_rule_refuses_with_its_code,
    every_transfer_rule_refuses_with_its_code_on_revm,
    every_transfer_rule_refuses_with_its_code_on_anvil
);

#[tokio::test]
async fn holder_limit_is_enforced_on_issues_and_transfers() {
    let mut f = Fixture::new(support::revm()).await;
    let limit = St::setRulesCall { allowedClasses: 0, maxHolders: 2, lockupUntil: 0, approvalRequired: false };
    refused!(f, f.operator(limit.clone()).await, "SecurityHolderLimitNeedsEmptySupply");
    // A fresh token with the limit set before the first issue.
    let mut g = Fixture::new(support::revm()).await;
    let (alice, bob, carol) = (g.alice, g.bob, g.carol);
    g.issuer(St::redeemCall { from: alice, amount: u(1_000) }).await.expect("redeem");
    g.issuer(St::redeemCall { from: bob, amount: u(100) }).await.expect("redeem");
    g.operator(limit).await.expect("limit");
    g.issuer(St::issueCall { to: alice, amount: u(10) }).await.expect("first holder");
    g.issuer(St::issueCall { to: bob, amount: u(10) }).await.expect("second holder");
    refused!(g, g.issuer(St::issueCall { to: carol, amount: u(1) }).await, "TokenTransferRestricted");
    g.assert_refused(alice, carol, 1, Restriction::HolderLimitReached).await;
    // Leaving frees a place.
    g.send(bob, St::transferCall { to: alice, amount: u(10) }).await.expect("bob leaves");
    g.send(alice, St::transferCall { to: carol, amount: u(1) }).await.expect("carol joins");
    let rules = g.read(St::rulesCall {}).await;
    assert_eq!(rules.holderCount, 2);
}

async fn holds_lock_units_in_the_balance_until_executed_or_released<C: Chain>(chain: C) {
    let mut f = Fixture::new(chain).await;
    let (alice, bob, carol, notary) = (f.alice, f.bob, f.carol, f.p.agent);
    let id = keccak256("hold-1");
    let expiry = f.now + 3_600;
    f.send(alice, St::holdCall { notary, id, amount: u(400), expiry }).await.expect("hold");
    f.watch_hold(alice, notary, id);
    let placed = f.read(St::holdOfCall { holder: alice, notary, id }).await;
    assert_eq!((placed._0, placed._1), (u(400), expiry));
    assert_eq!(f.read(St::freeBalanceOfCall { account: alice }).await, u(600));
    assert_eq!(f.read(St::balanceOfCall { account: alice }).await, u(1_000), "held units stay in the balance");

    refused!(f, f.send(alice, St::holdCall { notary, id, amount: u(1), expiry }).await, "TokenHoldExists");
    refused!(
        f,
        f.send(alice, St::holdCall { notary, id: keccak256("hold-x"), amount: u(601), expiry }).await,
        "TokenInsufficientFreeBalance"
    );
    refused!(
        f,
        f.send(alice, St::holdCall { notary, id: keccak256("hold-x"), amount: u(0), expiry }).await,
        "TokenZeroAmount"
    );
    refused!(
        f,
        f.send(alice, St::holdCall { notary, id: keccak256("hold-x"), amount: u(1), expiry: f.now }).await,
        "TokenHoldExpiryInPast"
    );
    refused!(f, f.send(alice, St::releaseHoldCall { holder: alice, notary, id }).await, "TokenHoldNotExpired");
    refused!(f, f.send(bob, St::releaseHoldCall { holder: alice, notary, id }).await, "TokenHoldUnauthorized");
    refused!(
        f,
        f.send(bob, St::executeHoldCall { holder: alice, id, to: carol, amount: u(400) }).await,
        "TokenHoldNotFound"
    );
    refused!(
        f,
        f.send(notary, St::executeHoldCall { holder: alice, id, to: carol, amount: u(399) }).await,
        "TokenHoldAmountMismatch"
    );
    let outsider = Address::repeat_byte(0x77);
    refused!(
        f,
        f.send(notary, St::executeHoldCall { holder: alice, id, to: outsider, amount: u(400) }).await,
        "TokenTransferRestricted"
    );

    f.send(notary, St::executeHoldCall { holder: alice, id, to: carol, amount: u(400) }).await.expect("execute");
    assert_eq!(f.read(St::balanceOfCall { account: carol }).await, u(400));
    assert_eq!(f.read(St::balanceOfCall { account: alice }).await, u(600));
    assert_eq!(f.read(St::heldBalanceOfCall { account: alice }).await, u(0));
    assert_eq!(f.read(St::holdOfCall { holder: alice, notary, id }).await._0, u(0), "an executed hold is gone");

    // Before expiry the notary may release; the holder may not.
    let id2 = keccak256("hold-2");
    f.send(alice, St::holdCall { notary, id: id2, amount: u(100), expiry }).await.expect("hold 2");
    f.watch_hold(alice, notary, id2);
    refused!(f, f.send(alice, St::releaseHoldCall { holder: alice, notary, id: id2 }).await, "TokenHoldNotExpired");
    f.send(notary, St::releaseHoldCall { holder: alice, notary, id: id2 }).await.expect("notary releases");
    assert_eq!(f.read(St::heldBalanceOfCall { account: alice }).await, u(0));
    assert_eq!(f.read(St::freeBalanceOfCall { account: alice }).await, u(600));
    refused!(f, f.send(notary, St::releaseHoldCall { holder: alice, notary, id: id2 }).await, "TokenHoldNotFound");
    refused!(
        f,
        f.send(notary, St::executeHoldCall { holder: alice, id: id2, to: carol, amount: u(100) }).await,
        "TokenHoldNotFound"
    );

    // After expiry the holder may release; the notary may no longer execute.
    let id3 = keccak256("hold-3");
    f.send(alice, St::holdCall { notary, id: id3, amount: u(100), expiry }).await.expect("hold 3");
    f.watch_hold(alice, notary, id3);
    f.chain.advance_time(7_200).await.expect("time");
    refused!(
        f,
        f.send(notary, St::executeHoldCall { holder: alice, id: id3, to: carol, amount: u(100) }).await,
        "TokenHoldExpired"
    );
    f.send(alice, St::releaseHoldCall { holder: alice, notary, id: id3 }).await.expect("release after expiry");
    assert_eq!(f.read(St::heldBalanceOfCall { account: alice }).await, u(0));
    assert_eq!(f.read(St::freeBalanceOfCall { account: alice }).await, u(600));
}

on_revm_and_anvil!(
    holds_lock_units_in_the_balance_until_executed_or_released,
    holds_lock_units_in_the_balance_until_executed_or_released_on_revm,
    holds_lock_units_in_the_balance_until_executed_or_released_on_anvil
);

#[tokio::test]
async fn enforcement_roles_are_separated() {
    let mut f = Fixture::new(support::revm()).await;
    let alice = f.alice;
    let freeze = St::setAccountFrozenCall { account: alice, frozen: true };
    refused!(f, f.issuer(freeze.clone()).await, "AccessControlUnauthorizedAccount");
    refused!(f, f.operator(freeze).await, "AccessControlUnauthorizedAccount");
    let pause = St::setPausedCall { paused_: true };
    refused!(f, f.authority(pause).await, "AccessControlUnauthorizedAccount");
    let issue = St::issueCall { to: alice, amount: u(1) };
    refused!(f, f.authority(issue).await, "AccessControlUnauthorizedAccount");
    let recover = St::recoverWalletCall { lostWallet: alice, newWallet: f.carol, documentRef: B256::ZERO };
    refused!(f, f.issuer(recover).await, "AccessControlUnauthorizedAccount");
}

async fn forced_transfer_moves_frozen_units_and_respects_the_receiver_unless_court_ordered<C: Chain>(chain: C) {
    let mut f = Fixture::new(chain).await;
    let (alice, bob, carol) = (f.alice, f.bob, f.carol);
    f.authority(St::freezeUnitsCall { account: alice, amount: u(900) }).await.expect("freeze");
    let forced = |to: Address, amount: u64, court: bool| St::forcedTransferCall {
        from: alice,
        to,
        amount: u(amount),
        reason: "court order 2026-123".into(),
        documentRef: keccak256("order-123"),
        courtOrderOverride: court,
    };
    let outsider = Address::repeat_byte(0x55);
    f.watch_account(outsider);
    refused!(f, f.authority(forced(outsider, 500, false)).await, "TokenAccountNotEligible");
    // An order reaches every unit (held ones last) but never more than the balance.
    refused!(f, f.authority(forced(carol, 1_001, false)).await, "ERC20InsufficientBalance");
    for not_enforcer in [f.p.suite.issuer, f.p.suite.operator, f.p.suite.registrar, alice] {
        refused!(f, f.send(not_enforcer, forced(carol, 500, false)).await, "AccessControlUnauthorizedAccount");
    }

    // A frozen receiver is refused unless the order overrides it.
    f.authority(St::setAccountFrozenCall { account: bob, frozen: true }).await.expect("freeze bob");
    refused!(f, f.authority(forced(bob, 10, false)).await, "TokenAccountFrozen");
    f.authority(forced(bob, 10, true)).await.expect("court-ordered move to a frozen account");
    assert_eq!(f.read(St::balanceOfCall { account: bob }).await, u(110));
    f.authority(St::setAccountFrozenCall { account: bob, frozen: false }).await.expect("unfreeze bob");

    // Frozen units move, unfrozen as needed: 90 free, so 410 of the 900 frozen are released.
    f.authority(forced(carol, 500, false)).await.expect("forced transfer");
    assert_eq!(f.read(St::balanceOfCall { account: carol }).await, u(500));
    assert_eq!(f.read(St::balanceOfCall { account: alice }).await, u(490));
    assert_eq!(f.read(St::frozenBalanceOfCall { account: alice }).await, u(490), "410 unfrozen as needed");
    f.authority(forced(outsider, 10, true)).await.expect("court-ordered override");
    assert_eq!(f.read(St::balanceOfCall { account: outsider }).await, u(10));
    assert_eq!(f.read(St::totalSupplyCall {}).await, u(1_100), "forced transfers create and destroy nothing");
}

on_revm_and_anvil!(
    forced_transfer_moves_frozen_units_and_respects_the_receiver_unless_court_ordered,
    forced_transfer_moves_frozen_units_and_respects_the_receiver_unless_court_ordered_on_revm,
    forced_transfer_moves_frozen_units_and_respects_the_receiver_unless_court_ordered_on_anvil
);

#[tokio::test]
async fn pause_stops_holds_issues_redemptions_and_hold_execution_but_not_enforcement() {
    let mut f = Fixture::new(support::revm()).await;
    let (alice, bob, carol, notary) = (f.alice, f.bob, f.carol, f.p.agent);
    let id = keccak256("placed-before-the-pause");
    f.send(alice, St::holdCall { notary, id, amount: u(100), expiry: f.now + 86_400 }).await.expect("hold");
    f.watch_hold(alice, notary, id);
    f.operator(St::setPausedCall { paused_: true }).await.expect("pause");
    assert!(f.read(St::pausedCall {}).await);

    let before = f.state().await;
    let hold = St::holdCall { notary, id: keccak256("during"), amount: u(1), expiry: f.now + 86_400 };
    refused!(f, f.send(alice, hold).await, "TokenPaused");
    refused!(f, f.issuer(St::issueCall { to: carol, amount: u(1) }).await, "TokenPaused");
    refused!(f, f.issuer(St::batchIssueCall { to: vec![carol], amounts: vec![u(1)] }).await, "TokenPaused");
    refused!(f, f.issuer(St::redeemCall { from: bob, amount: u(1) }).await, "TokenPaused");
    refused!(f, f.issuer(St::batchRedeemCall { from: vec![bob], amounts: vec![u(1)] }).await, "TokenPaused");
    refused!(f, f.send(alice, St::approveCall { spender: bob, amount: u(1) }).await, "TokenPaused");
    let request = TransferApprovals::requestTransferCall { token: f.suite.security, to: bob, amount: u(1) };
    refused!(f, f.desk(alice, request).await, "TokenPaused");
    let err = revert(f.send(notary, St::executeHoldCall { holder: alice, id, to: bob, amount: u(100) }).await);
    assert_eq!(err.name, "TokenTransferRestricted", "{err}");
    assert_eq!(err.args[0], (Restriction::Paused as u8).to_string(), "{err}");
    assert_eq!(f.state().await, before, "a paused hold execution moved something");

    // Enforcement works while paused.
    let forced = St::forcedTransferCall {
        from: alice,
        to: carol,
        amount: u(10),
        reason: "regulator instruction".into(),
        documentRef: keccak256("fsa-1"),
        courtOrderOverride: false,
    };
    f.authority(forced).await.expect("forced transfer while paused");
    assert_eq!(f.read(St::balanceOfCall { account: carol }).await, u(10));

    f.operator(St::setPausedCall { paused_: false }).await.expect("unpause");
    f.send(notary, St::executeHoldCall { holder: alice, id, to: bob, amount: u(100) }).await.expect("execute");
    f.issuer(St::issueCall { to: carol, amount: u(1) }).await.expect("issue");
    f.issuer(St::redeemCall { from: bob, amount: u(1) }).await.expect("redeem");
    assert_eq!(f.read(St::balanceOfCall { account: bob }).await, u(199));
    assert_eq!(f.read(St::totalSupplyCall {}).await, u(1_100));
}

#[tokio::test]
async fn unfreezing_more_units_than_are_frozen_is_refused() {
    let mut f = Fixture::new(support::revm()).await;
    let alice = f.alice;
    f.authority(St::freezeUnitsCall { account: alice, amount: u(100) }).await.expect("freeze");
    let before = f.state().await;
    let err = revert(f.authority(St::unfreezeUnitsCall { account: alice, amount: u(101) }).await);
    assert_eq!(err.name, "TokenInsufficientFrozen", "{err}");
    assert_eq!(err.args, [alice.to_string(), "100".into(), "101".into()], "{err}");
    assert_eq!(f.state().await, before, "a refused unfreeze changed something");
    refused!(f, f.authority(St::unfreezeUnitsCall { account: alice, amount: u(0) }).await, "TokenZeroAmount");
    refused!(
        f,
        f.operator(St::unfreezeUnitsCall { account: alice, amount: u(100) }).await,
        "AccessControlUnauthorizedAccount"
    );
    refused!(
        f,
        f.authority(St::freezeUnitsCall { account: alice, amount: u(901) }).await,
        "TokenInsufficientFreeBalance"
    );

    f.authority(St::unfreezeUnitsCall { account: alice, amount: u(100) }).await.expect("unfreeze");
    assert_eq!(f.read(St::frozenBalanceOfCall { account: alice }).await, u(0));
    assert_eq!(f.read(St::freeBalanceOfCall { account: alice }).await, u(1_000));
    refused!(f, f.authority(St::unfreezeUnitsCall { account: alice, amount: u(1) }).await, "TokenInsufficientFrozen");
}

#[tokio::test]
async fn record_dates_fix_balances_however_units_move_afterwards() {
    let mut f = Fixture::new(support::revm()).await;
    let (alice, bob, carol) = (f.alice, f.bob, f.carol);
    let r1 = f.now + 1_000;
    let r2 = f.now + 2_000;
    f.issuer(St::scheduleRecordDateCall { date: r1 }).await.expect("record 1");
    f.issuer(St::scheduleRecordDateCall { date: r2 }).await.expect("record 2");
    refused!(f, f.issuer(St::scheduleRecordDateCall { date: r1 }).await, "SecurityRecordDateInvalid");
    let err = revert(
        f.chain
            .call(alice, f.suite.security, St::balanceAtRecordCall { account: alice, record: 1 }.abi_encode().into())
            .await
            .map(|_| ()),
    );
    assert_eq!(err.name, "SecurityRecordNotReached");

    f.chain.advance_time(1_500).await.expect("past record 1");
    // Moves after record 1: alice sends 300 to carol, bob's units are redeemed, carol gets new units.
    f.send(alice, St::transferCall { to: carol, amount: u(300) }).await.expect("transfer");
    f.issuer(St::redeemCall { from: bob, amount: u(100) }).await.expect("redeem");
    f.issuer(St::issueCall { to: carol, amount: u(50) }).await.expect("issue");
    f.chain.advance_time(1_000).await.expect("past record 2");
    f.send(carol, St::transferCall { to: alice, amount: u(10) }).await.expect("transfer after record 2");

    let at = |account, record| St::balanceAtRecordCall { account, record };
    assert_eq!(f.read(at(alice, 1)).await, u(1_000));
    assert_eq!(f.read(at(bob, 1)).await, u(100));
    assert_eq!(f.read(at(carol, 1)).await, u(0));
    assert_eq!(f.read(St::supplyAtRecordCall { record: 1 }).await, u(1_100));
    assert_eq!(f.read(at(alice, 2)).await, u(700));
    assert_eq!(f.read(at(bob, 2)).await, u(0));
    assert_eq!(f.read(at(carol, 2)).await, u(350));
    assert_eq!(f.read(St::supplyAtRecordCall { record: 2 }).await, u(1_050));
    assert_eq!(f.read(St::recordsPassedCall {}).await, 2);
}

#[tokio::test]
async fn batches_are_all_or_nothing() {
    let mut f = Fixture::new(support::revm()).await;
    let (alice, bob, carol) = (f.alice, f.bob, f.carol);
    let outsider = Address::repeat_byte(0x66);
    let bad = St::batchIssueCall { to: vec![carol, outsider], amounts: vec![u(5), u(5)] };
    refused!(f, f.issuer(bad).await, "TokenAccountNotEligible");
    let mismatch = St::batchIssueCall { to: vec![carol], amounts: vec![u(5), u(5)] };
    refused!(f, f.issuer(mismatch).await, "TokenLengthMismatch");
    let bad = St::batchTransferCall { to: vec![bob, outsider], amounts: vec![u(5), u(5)] };
    refused!(f, f.send(alice, bad).await, "TokenTransferRestricted");
    let bad = St::batchRedeemCall { from: vec![alice, bob], amounts: vec![u(5), u(101)] };
    refused!(f, f.issuer(bad).await, "TokenInsufficientFreeBalance");

    f.issuer(St::batchIssueCall { to: vec![carol, bob], amounts: vec![u(5), u(7)] }).await.expect("batch issue");
    f.send(alice, St::batchTransferCall { to: vec![bob, carol], amounts: vec![u(1), u(2)] }).await.expect("batch");
    f.issuer(St::batchRedeemCall { from: vec![carol], amounts: vec![u(7)] }).await.expect("batch redeem");
    assert_eq!(f.read(St::balanceOfCall { account: bob }).await, u(108));
    assert_eq!(f.read(St::balanceOfCall { account: carol }).await, u(0));
    assert_eq!(f.read(St::totalSupplyCall {}).await, u(1_105));
}

#[tokio::test]
async fn transfer_to_oneself_changes_nothing() {
    let mut f = Fixture::new(support::revm()).await;
    let alice = f.alice;
    let before = f.state().await;
    f.send(alice, St::transferCall { to: alice, amount: u(10) }).await.expect("self transfer");
    assert_eq!(f.state().await, before);
}
