//! The security token's fixture: a deployed suite with three registered investors holding units,
//! the state every refusal must leave unchanged, and the checks that a refusal names its error and
//! moved nothing ([`refused!`]).

use crate::support;
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

    /// Asserts that `result` is the revert `name` and that nothing changed since `before`; returns the
    /// decoded error.
    pub async fn assert_unchanged(
        &mut self,
        result: Result<(), DeployerError>,
        name: &str,
        before: &State,
    ) -> RevertError {
        let err = revert(result);
        assert_eq!(err.name, name, "{err}");
        assert_eq!(&self.state().await, before, "{name}: state changed");
        err
    }
}

/// The decoded revert of a refused call.
pub fn revert(result: Result<(), DeployerError>) -> RevertError {
    match result {
        Err(DeployerError::Revert(e)) => e,
        other => panic!("expected a revert, got {other:?}"),
    }
}

/// Snapshots the fixture `$f`'s [`State`], runs `$op`, and asserts that it reverted with `$name` and
/// that nothing changed; yields the decoded error.
macro_rules! refused {
    ($f:ident, $op:expr, $name:expr) => {{
        let before = $f.state().await;
        let result = $op;
        $f.assert_unchanged(result, $name, &before).await
    }};
}
pub(crate) use refused;
