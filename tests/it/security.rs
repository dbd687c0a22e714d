//! Security token rules: every refusal asserts the decoded error and that balances, holds, freezes
//! and supply did not change.

use crate::support;
use kessai_bindings::{
    Restriction, RevertError,
    alloy::{
        primitives::{Address, B256, U256, keccak256},
        sol_types::SolCall,
    },
    investor_registry::InvestorRegistry,
    security_token::SecurityToken as St,
    transfer_approvals::TransferApprovals,
};
use kessai_deployer::{DeployerError, chain::Chain, ops::Suite, plan};
use kessai_sim::demo::{self, DemoParties};

/// A deployed suite with three registered investors holding units: alice 1,000, bob 100, carol 0.
pub struct Fixture<C: Chain> {
    pub chain: C,
    pub suite: Suite,
    pub p: DemoParties,
    pub alice: Address,
    pub bob: Address,
    pub carol: Address,
    pub now: u64,
}

/// What a refused operation must leave unchanged.
#[derive(Debug, PartialEq, Eq)]
pub struct State {
    accounts: Vec<(U256, U256, U256, bool)>,
    supply: U256,
}

impl<C: Chain> Fixture<C> {
    pub async fn new(mut chain: C) -> Self {
        let p = support::parties();
        let d = plan::execute(&mut chain, &plan::suite_plan(&demo::demo_spec(&p))).await.expect("deploy");
        let suite = Suite::from_deployment(&d).expect("suite");
        let now = chain.timestamp().await.expect("time");
        let (alice, bob, carol) = (p.seller, p.buyer, Address::repeat_byte(0xca));
        let mut f = Self { chain, suite, p, alice, bob, carol, now };
        for who in [alice, bob, carol] {
            f.register(who, 0, 392).await;
        }
        f.issuer(St::issueCall { to: alice, amount: U256::from(1_000) }).await.expect("issue alice");
        f.issuer(St::issueCall { to: bob, amount: U256::from(100) }).await.expect("issue bob");
        f
    }

    pub async fn register(&mut self, who: Address, class: u8, country: u16) {
        let call = InvestorRegistry::registerCall {
            account: who,
            investorClass: class,
            country,
            kycExpiry: self.now + 365 * 86_400,
            dataHash: keccak256(who),
        };
        self.chain.send_call(self.p.suite.registrar, self.suite.registry, &call).await.expect("register");
    }

    pub async fn send<T: SolCall>(&mut self, from: Address, call: T) -> Result<(), DeployerError> {
        self.chain.send_call(from, self.suite.security, &call).await.map(|_| ())
    }
    pub async fn issuer<T: SolCall>(&mut self, call: T) -> Result<(), DeployerError> {
        self.send(self.p.suite.issuer, call).await
    }
    pub async fn operator<T: SolCall>(&mut self, call: T) -> Result<(), DeployerError> {
        self.send(self.p.suite.operator, call).await
    }
    pub async fn authority<T: SolCall>(&mut self, call: T) -> Result<(), DeployerError> {
        self.send(self.p.suite.authority, call).await
    }
    pub async fn read<T: SolCall>(&mut self, call: T) -> T::Return {
        self.chain.read(self.suite.security, &call).await.expect("read")
    }

    pub async fn state(&mut self) -> State {
        let mut accounts = Vec::new();
        for who in [self.alice, self.bob, self.carol] {
            accounts.push((
                self.read(St::balanceOfCall { account: who }).await,
                self.read(St::heldBalanceOfCall { account: who }).await,
                self.read(St::frozenBalanceOfCall { account: who }).await,
                self.read(St::isFrozenCall { account: who }).await,
            ));
        }
        State { accounts, supply: self.read(St::totalSupplyCall {}).await }
    }

    pub async fn restriction(&mut self, from: Address, to: Address, amount: u64) -> Restriction {
        let code = self.read(St::canTransferCall { from, to, amount: U256::from(amount) }).await;
        Restriction::from_code(code).expect("known code")
    }

    /// Asserts that `from` sending `amount` to `to` is refused with `expected`, by `canTransfer` and by
    /// `transfer`, and that nothing changed.
    pub async fn assert_refused(&mut self, from: Address, to: Address, amount: u64, expected: Restriction) {
        assert_eq!(self.restriction(from, to, amount).await, expected, "canTransfer");
        let before = self.state().await;
        let err = revert(self.send(from, St::transferCall { to, amount: U256::from(amount) }).await);
        assert_eq!(err.name, "TokenTransferRestricted", "{err}");
        assert_eq!(err.args[0], (expected as u8).to_string(), "{err}");
        assert!(err.message.contains(expected.message()), "{err}");
        assert_eq!(self.state().await, before, "a refused transfer moved nothing");
    }

    /// Asserts that `result` is the revert `name` and that nothing changed since `before`.
    pub async fn assert_unchanged(&mut self, result: Result<(), DeployerError>, name: &str, before: &State) {
        let err = revert(result);
        assert_eq!(err.name, name, "{err}");
        assert_eq!(&self.state().await, before, "{name}: state changed");
    }
}

pub fn revert(result: Result<(), DeployerError>) -> RevertError {
    match result {
        Err(DeployerError::Revert(e)) => e,
        other => panic!("expected a revert, got {other:?}"),
    }
}

fn u(n: u64) -> U256 {
    U256::from(n)
}

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
    f.operator(St::setCountryAllowedCall { country: 840, allowed: true, countryRuleOn: true }).await.expect("country");
    f.assert_refused(alice, carol, 1, Restriction::CountryNotAllowed).await;
    f.operator(St::setCountryAllowedCall { country: 392, allowed: true, countryRuleOn: true }).await.expect("country");
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

#[tokio::test]
async fn every_transfer_rule_refuses_with_its_code_on_revm() {
    every_transfer_rule_refuses_with_its_code(support::revm()).await;
}

#[tokio::test]
async fn every_transfer_rule_refuses_with_its_code_on_anvil() {
    let (_node, chain) = support::anvil();
    every_transfer_rule_refuses_with_its_code(chain).await;
}

#[tokio::test]
async fn holder_limit_is_enforced_on_issues_and_transfers() {
    let mut f = Fixture::new(support::revm()).await;
    let before = f.state().await;
    let limit = St::setRulesCall { allowedClasses: 0, maxHolders: 2, lockupUntil: 0, approvalRequired: false };
    let result = f.operator(limit.clone()).await;
    f.assert_unchanged(result, "SecurityHolderLimitNeedsEmptySupply", &before).await;
    // A fresh token with the limit set before the first issue.
    let mut g = Fixture::new(support::revm()).await;
    let (alice, bob, carol) = (g.alice, g.bob, g.carol);
    g.issuer(St::redeemCall { from: alice, amount: u(1_000) }).await.expect("redeem");
    g.issuer(St::redeemCall { from: bob, amount: u(100) }).await.expect("redeem");
    g.operator(limit).await.expect("limit");
    g.issuer(St::issueCall { to: alice, amount: u(10) }).await.expect("first holder");
    g.issuer(St::issueCall { to: bob, amount: u(10) }).await.expect("second holder");
    let before = g.state().await;
    let result = g.issuer(St::issueCall { to: carol, amount: u(1) }).await;
    g.assert_unchanged(result, "TokenTransferRestricted", &before).await;
    g.assert_refused(alice, carol, 1, Restriction::HolderLimitReached).await;
    // Leaving frees a place.
    g.send(bob, St::transferCall { to: alice, amount: u(10) }).await.expect("bob leaves");
    g.send(alice, St::transferCall { to: carol, amount: u(1) }).await.expect("carol joins");
    let rules = g.read(St::rulesCall {}).await;
    assert_eq!(rules.holderCount, 2);
}

#[tokio::test]
async fn holds_lock_units_in_the_balance_until_executed_or_released() {
    let mut f = Fixture::new(support::revm()).await;
    let (alice, bob, carol, notary) = (f.alice, f.bob, f.carol, f.p.agent);
    let id = keccak256("hold-1");
    let expiry = f.now + 3_600;
    f.send(alice, St::holdCall { notary, id, amount: u(400), expiry }).await.expect("hold");
    assert_eq!(f.read(St::freeBalanceOfCall { account: alice }).await, u(600));

    let before = f.state().await;
    let again = f.send(alice, St::holdCall { notary, id, amount: u(1), expiry }).await;
    f.assert_unchanged(again, "TokenHoldExists", &before).await;
    let too_much = f.send(alice, St::holdCall { notary, id: keccak256("hold-2"), amount: u(601), expiry }).await;
    f.assert_unchanged(too_much, "TokenInsufficientFreeBalance", &before).await;
    let early = f.send(alice, St::releaseHoldCall { holder: alice, notary, id }).await;
    f.assert_unchanged(early, "TokenHoldNotExpired", &before).await;
    let stranger = f.send(bob, St::releaseHoldCall { holder: alice, notary, id }).await;
    f.assert_unchanged(stranger, "TokenHoldUnauthorized", &before).await;
    let wrong_amount = f.send(notary, St::executeHoldCall { holder: alice, id, to: carol, amount: u(399) }).await;
    f.assert_unchanged(wrong_amount, "TokenHoldAmountMismatch", &before).await;
    let outsider = Address::repeat_byte(0x77);
    let ineligible = f.send(notary, St::executeHoldCall { holder: alice, id, to: outsider, amount: u(400) }).await;
    f.assert_unchanged(ineligible, "TokenTransferRestricted", &before).await;

    f.send(notary, St::executeHoldCall { holder: alice, id, to: carol, amount: u(400) }).await.expect("execute");
    assert_eq!(f.read(St::balanceOfCall { account: carol }).await, u(400));
    assert_eq!(f.read(St::heldBalanceOfCall { account: alice }).await, u(0));

    // After expiry the holder may release; the notary may no longer execute.
    let id2 = keccak256("hold-3");
    f.send(alice, St::holdCall { notary, id: id2, amount: u(100), expiry }).await.expect("hold 2");
    f.chain.advance_time(7_200).await.expect("time");
    let before = f.state().await;
    let late = f.send(notary, St::executeHoldCall { holder: alice, id: id2, to: carol, amount: u(100) }).await;
    f.assert_unchanged(late, "TokenHoldExpired", &before).await;
    f.send(alice, St::releaseHoldCall { holder: alice, notary, id: id2 }).await.expect("release after expiry");
    assert_eq!(f.read(St::heldBalanceOfCall { account: alice }).await, u(0));
}

#[tokio::test]
async fn enforcement_roles_are_separated() {
    let mut f = Fixture::new(support::revm()).await;
    let alice = f.alice;
    let before = f.state().await;
    let freeze = St::setAccountFrozenCall { account: alice, frozen: true };
    let result = f.issuer(freeze.clone()).await;
    f.assert_unchanged(result, "AccessControlUnauthorizedAccount", &before).await;
    let result = f.operator(freeze).await;
    f.assert_unchanged(result, "AccessControlUnauthorizedAccount", &before).await;
    let pause = St::setPausedCall { paused_: true };
    let result = f.authority(pause).await;
    f.assert_unchanged(result, "AccessControlUnauthorizedAccount", &before).await;
    let issue = St::issueCall { to: alice, amount: u(1) };
    let result = f.authority(issue).await;
    f.assert_unchanged(result, "AccessControlUnauthorizedAccount", &before).await;
    let recover = St::recoverWalletCall { lostWallet: alice, newWallet: f.carol, documentRef: B256::ZERO };
    let result = f.issuer(recover).await;
    f.assert_unchanged(result, "AccessControlUnauthorizedAccount", &before).await;
}

#[tokio::test]
async fn forced_transfer_moves_frozen_units_and_respects_the_receiver_unless_court_ordered() {
    let mut f = Fixture::new(support::revm()).await;
    let (alice, carol) = (f.alice, f.carol);
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
    let before = f.state().await;
    let result = f.authority(forced(outsider, 500, false)).await;
    f.assert_unchanged(result, "TokenAccountNotEligible", &before).await;
    let result = f.authority(forced(carol, 1_001, false)).await;
    f.assert_unchanged(result, "TokenInsufficientFreeBalance", &before).await;
    f.authority(forced(carol, 500, false)).await.expect("forced transfer");
    assert_eq!(f.read(St::balanceOfCall { account: carol }).await, u(500));
    assert_eq!(f.read(St::frozenBalanceOfCall { account: alice }).await, u(500), "400 unfrozen as needed");
    f.authority(forced(outsider, 10, true)).await.expect("court-ordered override");
    assert_eq!(f.read(St::balanceOfCall { account: outsider }).await, u(10));
}

#[tokio::test]
async fn wallet_recovery_moves_balance_holds_and_freezes_and_forwards_later_transfers() {
    let mut f = Fixture::new(support::revm()).await;
    let (alice, bob, notary) = (f.alice, f.bob, f.p.agent);
    let fresh = Address::repeat_byte(0xfe);
    f.register(fresh, 0, 392).await;
    let id = keccak256("pending-trade");
    f.send(alice, St::holdCall { notary, id, amount: u(300), expiry: f.now + 86_400 }).await.expect("hold");
    f.authority(St::freezeUnitsCall { account: alice, amount: u(100) }).await.expect("freeze");

    let before = f.state().await;
    let to_holder = St::recoverWalletCall { lostWallet: alice, newWallet: bob, documentRef: B256::ZERO };
    let result = f.authority(to_holder).await;
    f.assert_unchanged(result, "TokenRecoveryInvalid", &before).await;

    let recover = St::recoverWalletCall { lostWallet: alice, newWallet: fresh, documentRef: keccak256("kyc-case-9") };
    f.authority(recover).await.expect("recover");
    assert_eq!(f.read(St::balanceOfCall { account: alice }).await, u(0));
    assert_eq!(f.read(St::balanceOfCall { account: fresh }).await, u(1_000));
    assert_eq!(f.read(St::heldBalanceOfCall { account: fresh }).await, u(300));
    assert_eq!(f.read(St::frozenBalanceOfCall { account: fresh }).await, u(100));
    assert_eq!(f.read(St::recoveredToCall { lostWallet: alice }).await, fresh);

    // The pending hold settles from the new wallet; units sent to the lost wallet arrive at the new one.
    f.send(notary, St::executeHoldCall { holder: alice, id, to: bob, amount: u(300) }).await.expect("execute");
    f.send(bob, St::transferCall { to: alice, amount: u(50) }).await.expect("send to lost wallet");
    assert_eq!(f.read(St::balanceOfCall { account: fresh }).await, u(750));
    assert_eq!(f.read(St::balanceOfCall { account: alice }).await, u(0));
    // The lost wallet can do nothing.
    let before = f.state().await;
    let err = revert(f.send(alice, St::transferCall { to: bob, amount: u(1) }).await);
    assert_eq!(err.args[0], (Restriction::SenderFrozen as u8).to_string());
    assert_eq!(f.state().await, before);
}

#[tokio::test]
async fn approval_mode_turns_transfers_into_requests_the_agent_decides() {
    let mut f = Fixture::new(support::revm()).await;
    let (alice, bob) = (f.alice, f.bob);
    f.operator(St::setRulesCall { allowedClasses: 0, maxHolders: 0, lockupUntil: 0, approvalRequired: true })
        .await
        .expect("approval mode");
    let desk = f.suite.approvals;
    let request = TransferApprovals::requestTransferCall { token: f.suite.security, to: bob, amount: u(70) };
    let receipt = f.chain.send_call(alice, desk, &request).await.expect("request");
    let id = receipt.logs.iter().find(|l| l.address == desk).map(|l| l.topics()[1]).expect("request event");
    assert_eq!(f.read(St::heldBalanceOfCall { account: alice }).await, u(70));

    // Only the transfer agent decides.
    let before = f.state().await;
    let err = revert(f.chain.send_call(alice, desk, &TransferApprovals::approveCall { id }).await.map(|_| ()));
    assert_eq!(err.name, "AccessControlUnauthorizedAccount");
    assert_eq!(f.state().await, before);

    f.chain.send_call(f.p.suite.registrar, desk, &TransferApprovals::approveCall { id }).await.expect("approve");
    assert_eq!(f.read(St::balanceOfCall { account: bob }).await, u(170));
    assert_eq!(f.read(St::heldBalanceOfCall { account: alice }).await, u(0));
    let err =
        revert(f.chain.send_call(f.p.suite.registrar, desk, &TransferApprovals::approveCall { id }).await.map(|_| ()));
    assert_eq!(err.name, "ApprovalRequestNotPending");

    let receipt = f.chain.send_call(alice, desk, &request).await.expect("second request");
    let id = receipt.logs.iter().find(|l| l.address == desk).map(|l| l.topics()[1]).expect("request event");
    let reject = TransferApprovals::rejectCall { id, reason: "receiver over concentration limit".into() };
    f.chain.send_call(f.p.suite.registrar, desk, &reject).await.expect("reject");
    assert_eq!(f.read(St::heldBalanceOfCall { account: alice }).await, u(0));
    assert_eq!(f.read(St::balanceOfCall { account: bob }).await, u(170));
}

#[tokio::test]
async fn record_dates_fix_balances_however_units_move_afterwards() {
    let mut f = Fixture::new(support::revm()).await;
    let (alice, bob, carol) = (f.alice, f.bob, f.carol);
    let r1 = f.now + 1_000;
    let r2 = f.now + 2_000;
    f.issuer(St::scheduleRecordDateCall { date: r1 }).await.expect("record 1");
    f.issuer(St::scheduleRecordDateCall { date: r2 }).await.expect("record 2");
    let before = f.state().await;
    let stale = f.issuer(St::scheduleRecordDateCall { date: r1 }).await;
    f.assert_unchanged(stale, "SecurityRecordDateInvalid", &before).await;
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
    let before = f.state().await;
    let bad = St::batchIssueCall { to: vec![carol, outsider], amounts: vec![u(5), u(5)] };
    let result = f.issuer(bad).await;
    f.assert_unchanged(result, "TokenAccountNotEligible", &before).await;
    let mismatch = St::batchIssueCall { to: vec![carol], amounts: vec![u(5), u(5)] };
    let result = f.issuer(mismatch).await;
    f.assert_unchanged(result, "TokenLengthMismatch", &before).await;
    let bad = St::batchTransferCall { to: vec![bob, outsider], amounts: vec![u(5), u(5)] };
    let result = f.send(alice, bad).await;
    f.assert_unchanged(result, "TokenTransferRestricted", &before).await;
    let bad = St::batchRedeemCall { from: vec![alice, bob], amounts: vec![u(5), u(101)] };
    let result = f.issuer(bad).await;
    f.assert_unchanged(result, "TokenInsufficientFreeBalance", &before).await;

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
