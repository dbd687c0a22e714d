//! Security token rules: every refusal asserts the decoded error and that balances, holds, freezes
//! and supply did not change.

use crate::support;
pub(crate) use crate::support::u;
use kessai_bindings::{
    Restriction, RevertError,
    alloy::{
        primitives::{Address, B256, U256, keccak256},
        sol_types::{SolCall, SolEvent},
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
    /// Accounts whose token position and registry record [`State`] covers (alice, bob, carol and
    /// any added with [`Fixture::watch_account`]).
    watched_accounts: Vec<Address>,
    /// Holds (holder, notary, id) whose amount and expiry [`State`] covers.
    watched_holds: Vec<(Address, Address, B256)>,
    /// Transfer requests whose record [`State`] covers.
    watched_requests: Vec<B256>,
}

/// What a refused operation must leave unchanged: every watched account's position and registry
/// record, the supply, and the watched holds and transfer requests.
#[derive(Debug, PartialEq, Eq)]
pub struct State {
    accounts: Vec<AccountState>,
    supply: U256,
    holds: Vec<(U256, u64)>,
    requests: Vec<(Address, Address, Address, U256)>,
}

/// One account as the token and the registry see it.
#[derive(Debug, PartialEq, Eq)]
struct AccountState {
    account: Address,
    balance: U256,
    held: U256,
    frozen_units: U256,
    frozen: bool,
    recovered_to: Address,
    eligible: bool,
    /// (KYC expiry, country, investor class, status) of the registry record.
    record: (u64, u16, u8, u8),
    data_hash: B256,
}

impl<C: Chain> Fixture<C> {
    pub async fn new(mut chain: C) -> Self {
        let p = support::parties();
        let d = plan::execute(&mut chain, &plan::suite_plan(&demo::demo_spec(&p))).await.expect("deploy");
        let suite = Suite::from_deployment(&d).expect("suite");
        let now = chain.timestamp().await.expect("time");
        let (alice, bob, carol) = (p.seller, p.buyer, Address::repeat_byte(0xca));
        let mut f = Self {
            chain,
            suite,
            p,
            alice,
            bob,
            carol,
            now,
            watched_accounts: vec![alice, bob, carol],
            watched_holds: Vec::new(),
            watched_requests: Vec::new(),
        };
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

    /// Sends a registry call from `from`.
    pub async fn registry<T: SolCall>(&mut self, from: Address, call: T) -> Result<(), DeployerError> {
        self.chain.send_call(from, self.suite.registry, &call).await.map(|_| ())
    }
    /// Sends a call to the transfer agent's desk from `from`.
    pub async fn desk<T: SolCall>(&mut self, from: Address, call: T) -> Result<(), DeployerError> {
        self.chain.send_call(from, self.suite.approvals, &call).await.map(|_| ())
    }

    /// `from` requests a transfer of `amount` to `to` at the desk; returns the request id, watched
    /// from now on.
    pub async fn request(&mut self, from: Address, to: Address, amount: u64) -> B256 {
        let desk = self.suite.approvals;
        let call =
            TransferApprovals::requestTransferCall { token: self.suite.security, to, amount: U256::from(amount) };
        let receipt = self.chain.send_call(from, desk, &call).await.expect("request");
        let id = receipt
            .logs
            .iter()
            .find_map(|l| TransferApprovals::TransferRequested::decode_log(l).ok().filter(|e| e.address == desk))
            .map(|e| e.id)
            .expect("request event");
        self.watched_requests.push(id);
        self.watched_holds.push((from, desk, id));
        id
    }

    /// Adds `account` to what [`State`] covers.
    pub fn watch_account(&mut self, account: Address) {
        self.watched_accounts.push(account);
    }
    /// Adds the hold (holder, notary, id) to what [`State`] covers.
    pub fn watch_hold(&mut self, holder: Address, notary: Address, id: B256) {
        self.watched_holds.push((holder, notary, id));
    }

    pub async fn state(&mut self) -> State {
        let registry = self.suite.registry;
        let mut accounts = Vec::new();
        for account in self.watched_accounts.clone() {
            let record =
                self.chain.read(registry, &InvestorRegistry::investorOfCall { account }).await.expect("record");
            accounts.push(AccountState {
                account,
                balance: self.read(St::balanceOfCall { account }).await,
                held: self.read(St::heldBalanceOfCall { account }).await,
                frozen_units: self.read(St::frozenBalanceOfCall { account }).await,
                frozen: self.read(St::isFrozenCall { account }).await,
                recovered_to: self.read(St::recoveredToCall { lostWallet: account }).await,
                eligible: self
                    .chain
                    .read(registry, &InvestorRegistry::isEligibleCall { account })
                    .await
                    .expect("eligible"),
                record: (record.kycExpiry, record.country, record.investorClass, record.status),
                data_hash: self
                    .chain
                    .read(registry, &InvestorRegistry::dataHashOfCall { account })
                    .await
                    .expect("hash"),
            });
        }
        let mut holds = Vec::new();
        for (holder, notary, id) in self.watched_holds.clone() {
            let hold = self.read(St::holdOfCall { holder, notary, id }).await;
            holds.push((hold._0, hold._1));
        }
        let mut requests = Vec::new();
        for id in self.watched_requests.clone() {
            let q =
                self.chain.read(self.suite.approvals, &TransferApprovals::requestOfCall { id }).await.expect("request");
            requests.push((q.token, q.from, q.to, q.amount));
        }
        State { accounts, supply: self.read(St::totalSupplyCall {}).await, holds, requests }
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

    let before = f.state().await;
    let again = f.send(alice, St::holdCall { notary, id, amount: u(1), expiry }).await;
    f.assert_unchanged(again, "TokenHoldExists", &before).await;
    let too_much = f.send(alice, St::holdCall { notary, id: keccak256("hold-x"), amount: u(601), expiry }).await;
    f.assert_unchanged(too_much, "TokenInsufficientFreeBalance", &before).await;
    let zero = f.send(alice, St::holdCall { notary, id: keccak256("hold-x"), amount: u(0), expiry }).await;
    f.assert_unchanged(zero, "TokenZeroAmount", &before).await;
    let past = f.send(alice, St::holdCall { notary, id: keccak256("hold-x"), amount: u(1), expiry: f.now }).await;
    f.assert_unchanged(past, "TokenHoldExpiryInPast", &before).await;
    let early = f.send(alice, St::releaseHoldCall { holder: alice, notary, id }).await;
    f.assert_unchanged(early, "TokenHoldNotExpired", &before).await;
    let stranger = f.send(bob, St::releaseHoldCall { holder: alice, notary, id }).await;
    f.assert_unchanged(stranger, "TokenHoldUnauthorized", &before).await;
    let not_notary = f.send(bob, St::executeHoldCall { holder: alice, id, to: carol, amount: u(400) }).await;
    f.assert_unchanged(not_notary, "TokenHoldNotFound", &before).await;
    let wrong_amount = f.send(notary, St::executeHoldCall { holder: alice, id, to: carol, amount: u(399) }).await;
    f.assert_unchanged(wrong_amount, "TokenHoldAmountMismatch", &before).await;
    let outsider = Address::repeat_byte(0x77);
    let ineligible = f.send(notary, St::executeHoldCall { holder: alice, id, to: outsider, amount: u(400) }).await;
    f.assert_unchanged(ineligible, "TokenTransferRestricted", &before).await;

    f.send(notary, St::executeHoldCall { holder: alice, id, to: carol, amount: u(400) }).await.expect("execute");
    assert_eq!(f.read(St::balanceOfCall { account: carol }).await, u(400));
    assert_eq!(f.read(St::balanceOfCall { account: alice }).await, u(600));
    assert_eq!(f.read(St::heldBalanceOfCall { account: alice }).await, u(0));
    assert_eq!(f.read(St::holdOfCall { holder: alice, notary, id }).await._0, u(0), "an executed hold is gone");

    // Before expiry the notary may release; the holder may not.
    let id2 = keccak256("hold-2");
    f.send(alice, St::holdCall { notary, id: id2, amount: u(100), expiry }).await.expect("hold 2");
    f.watch_hold(alice, notary, id2);
    let before = f.state().await;
    let early = f.send(alice, St::releaseHoldCall { holder: alice, notary, id: id2 }).await;
    f.assert_unchanged(early, "TokenHoldNotExpired", &before).await;
    f.send(notary, St::releaseHoldCall { holder: alice, notary, id: id2 }).await.expect("notary releases");
    assert_eq!(f.read(St::heldBalanceOfCall { account: alice }).await, u(0));
    assert_eq!(f.read(St::freeBalanceOfCall { account: alice }).await, u(600));
    let before = f.state().await;
    let twice = f.send(notary, St::releaseHoldCall { holder: alice, notary, id: id2 }).await;
    f.assert_unchanged(twice, "TokenHoldNotFound", &before).await;
    let released = f.send(notary, St::executeHoldCall { holder: alice, id: id2, to: carol, amount: u(100) }).await;
    f.assert_unchanged(released, "TokenHoldNotFound", &before).await;

    // After expiry the holder may release; the notary may no longer execute.
    let id3 = keccak256("hold-3");
    f.send(alice, St::holdCall { notary, id: id3, amount: u(100), expiry }).await.expect("hold 3");
    f.watch_hold(alice, notary, id3);
    f.chain.advance_time(7_200).await.expect("time");
    let before = f.state().await;
    let late = f.send(notary, St::executeHoldCall { holder: alice, id: id3, to: carol, amount: u(100) }).await;
    f.assert_unchanged(late, "TokenHoldExpired", &before).await;
    f.send(alice, St::releaseHoldCall { holder: alice, notary, id: id3 }).await.expect("release after expiry");
    assert_eq!(f.read(St::heldBalanceOfCall { account: alice }).await, u(0));
    assert_eq!(f.read(St::freeBalanceOfCall { account: alice }).await, u(600));
}

#[tokio::test]
async fn holds_lock_units_in_the_balance_until_executed_or_released_on_revm() {
    holds_lock_units_in_the_balance_until_executed_or_released(support::revm()).await;
}

#[tokio::test]
async fn holds_lock_units_in_the_balance_until_executed_or_released_on_anvil() {
    let (_node, chain) = support::anvil();
    holds_lock_units_in_the_balance_until_executed_or_released(chain).await;
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
    let before = f.state().await;
    let result = f.authority(forced(outsider, 500, false)).await;
    f.assert_unchanged(result, "TokenAccountNotEligible", &before).await;
    // An order reaches every unit (held ones last) but never more than the balance.
    let result = f.authority(forced(carol, 1_001, false)).await;
    f.assert_unchanged(result, "ERC20InsufficientBalance", &before).await;
    for not_enforcer in [f.p.suite.issuer, f.p.suite.operator, f.p.suite.registrar, alice] {
        let result = f.send(not_enforcer, forced(carol, 500, false)).await;
        f.assert_unchanged(result, "AccessControlUnauthorizedAccount", &before).await;
    }

    // A frozen receiver is refused unless the order overrides it.
    f.authority(St::setAccountFrozenCall { account: bob, frozen: true }).await.expect("freeze bob");
    let before = f.state().await;
    let result = f.authority(forced(bob, 10, false)).await;
    f.assert_unchanged(result, "TokenAccountFrozen", &before).await;
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

#[tokio::test]
async fn forced_transfer_moves_frozen_units_and_respects_the_receiver_unless_court_ordered_on_revm() {
    forced_transfer_moves_frozen_units_and_respects_the_receiver_unless_court_ordered(support::revm()).await;
}

#[tokio::test]
async fn forced_transfer_moves_frozen_units_and_respects_the_receiver_unless_court_ordered_on_anvil() {
    let (_node, chain) = support::anvil();
    forced_transfer_moves_frozen_units_and_respects_the_receiver_unless_court_ordered(chain).await;
}

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
    let result = f.send(alice, hold).await;
    f.assert_unchanged(result, "TokenPaused", &before).await;
    let result = f.issuer(St::issueCall { to: carol, amount: u(1) }).await;
    f.assert_unchanged(result, "TokenPaused", &before).await;
    let result = f.issuer(St::batchIssueCall { to: vec![carol], amounts: vec![u(1)] }).await;
    f.assert_unchanged(result, "TokenPaused", &before).await;
    let result = f.issuer(St::redeemCall { from: bob, amount: u(1) }).await;
    f.assert_unchanged(result, "TokenPaused", &before).await;
    let result = f.issuer(St::batchRedeemCall { from: vec![bob], amounts: vec![u(1)] }).await;
    f.assert_unchanged(result, "TokenPaused", &before).await;
    let result = f.send(alice, St::approveCall { spender: bob, amount: u(1) }).await;
    f.assert_unchanged(result, "TokenPaused", &before).await;
    let request = TransferApprovals::requestTransferCall { token: f.suite.security, to: bob, amount: u(1) };
    let result = f.desk(alice, request).await;
    f.assert_unchanged(result, "TokenPaused", &before).await;
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
    let result = f.authority(St::unfreezeUnitsCall { account: alice, amount: u(0) }).await;
    f.assert_unchanged(result, "TokenZeroAmount", &before).await;
    let result = f.operator(St::unfreezeUnitsCall { account: alice, amount: u(100) }).await;
    f.assert_unchanged(result, "AccessControlUnauthorizedAccount", &before).await;
    let result = f.authority(St::freezeUnitsCall { account: alice, amount: u(901) }).await;
    f.assert_unchanged(result, "TokenInsufficientFreeBalance", &before).await;

    f.authority(St::unfreezeUnitsCall { account: alice, amount: u(100) }).await.expect("unfreeze");
    assert_eq!(f.read(St::frozenBalanceOfCall { account: alice }).await, u(0));
    assert_eq!(f.read(St::freeBalanceOfCall { account: alice }).await, u(1_000));
    let before = f.state().await;
    let result = f.authority(St::unfreezeUnitsCall { account: alice, amount: u(1) }).await;
    f.assert_unchanged(result, "TokenInsufficientFrozen", &before).await;
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
