//! The DvP fixture: a deployed suite with three investors holding both tokens ([`Market`]), the
//! snapshot every refusal must leave unchanged, and [`refuse!`], which asserts a refusal's named
//! error and that nothing moved.

use crate::support::{self, u};
use kessai_bindings::{
    alloy::primitives::{Address, B256, Bytes, U256, keccak256},
    trade_id,
};
use kessai_deployer::{
    DeployerError,
    chain::Chain,
    ops::{Position, SettleCheck, Suite, Trade, TradeSignatures},
    plan,
    signing::{self, Instruction},
};
use kessai_sim::demo::{self, DemoParties};

/// A deployed suite with three investors (seller, buyer, carol) holding both tokens.
pub struct Market<C> {
    pub chain: C,
    pub suite: Suite,
    pub p: DemoParties,
    pub carol: Address,
    pub deadline: u64,
}

/// Everything a refusal must leave untouched.
#[derive(Debug, PartialEq, Eq)]
pub struct Snapshot {
    positions: Vec<Position>,
    supplies: (U256, U256),
    statuses: Vec<u8>,
}

/// Units of the security token each investor holds at the start.
pub const UNITS: u64 = 1_000;
/// Yen of deposit tokens each investor holds at the start.
pub const CASH: u64 = 50_000_000;

/// Deploys the demo suite on `chain` and opens the accounts of the seller, the buyer and carol.
pub async fn market<C: Chain>(mut chain: C) -> Market<C> {
    let p = support::parties();
    let carol = kessai_deployer::anvil::dev_accounts()[8];
    let d = plan::execute(&mut chain, &plan::suite_plan(&demo::demo_spec(&p))).await.expect("deploy");
    let suite = Suite::from_deployment(&d).expect("suite");
    let now = chain.timestamp().await.expect("time");
    for (i, who) in [p.seller, p.buyer, carol].into_iter().enumerate() {
        open_account(&mut chain, (&suite, &p), who, now, keccak256(format!("MARKET-{i}"))).await;
    }
    Market { chain, suite, p, carol, deadline: demo::deadline_after(now) }
}

/// Registers `who` as an investor and as the bank's customer (KYC valid from `now`), and gives it
/// [`UNITS`] units and [`CASH`] yen of deposit tokens (issued against the bank's ledger entry
/// `cash_ref`).
pub async fn open_account<C: Chain>(
    chain: &mut C,
    (suite, p): (&Suite, &DemoParties),
    who: Address,
    now: u64,
    cash_ref: B256,
) {
    let r = demo::registration(now, "investor");
    suite.register(chain, suite.registry, p.suite.registrar, who, r).await.expect("register");
    suite.register(chain, suite.bank_registry, p.suite.bank, who, r).await.expect("customer");
    suite.issue_security(chain, p.suite.issuer, who, u(UNITS)).await.expect("units");
    suite.issue_deposit(chain, p.suite.bank, who, u(CASH), cash_ref).await.expect("cash");
}

impl<C: Chain> Market<C> {
    pub fn trade(&self, seller: Address, buyer: Address, units: u64, amount: u64, agent: Address) -> Trade {
        Trade {
            security: self.suite.security,
            seller,
            buyer,
            cash: self.suite.deposit,
            agent,
            units: u(units),
            amount: u(amount),
            deadline: self.deadline,
        }
    }

    /// The standard trade: the seller sells 100 units to the buyer for ¥1,000,000, with the agent.
    pub fn standard(&self) -> Trade {
        self.trade(self.p.seller, self.p.buyer, 100, 1_000_000, self.p.agent)
    }

    /// The standard trade, created by the seller under its reference `reference` (the units locked);
    /// returns its id and terms.
    pub async fn created(&mut self, reference: &str) -> (B256, Trade) {
        let (id, trade) = (trade_id(self.p.seller, reference), self.standard());
        self.suite.create_trade(&mut self.chain, id, &trade).await.expect("create");
        (id, trade)
    }

    /// The standard trade under `reference`, created and paid (both legs locked).
    pub async fn paid(&mut self, reference: &str) -> (B256, Trade) {
        let (id, trade) = self.created(reference).await;
        self.suite.pay(&mut self.chain, id, &trade).await.expect("pay");
        (id, trade)
    }

    /// Creates trade `id` on `trade`'s terms and pays it.
    pub async fn create_and_pay(&mut self, id: B256, trade: &Trade) {
        self.suite.create_trade(&mut self.chain, id, trade).await.expect("create");
        self.suite.pay(&mut self.chain, id, trade).await.expect("pay");
    }

    /// Everything a refusal must leave untouched, with the status of the trades `ids`.
    pub async fn snapshot(&mut self, ids: &[B256]) -> Snapshot {
        let mut positions = Vec::new();
        for who in [self.p.seller, self.p.buyer, self.carol, self.p.agent] {
            positions.push(self.suite.position(&mut self.chain, who).await.expect("position"));
        }
        let supplies = self.suite.supplies(&mut self.chain).await.expect("supplies");
        let mut statuses = Vec::new();
        for id in ids {
            statuses.push(self.suite.trade_status(&mut self.chain, *id).await.expect("status"));
        }
        Snapshot { positions, supplies, statuses }
    }

    pub async fn position(&mut self, who: Address) -> Position {
        self.suite.position(&mut self.chain, who).await.expect("position")
    }

    pub async fn status(&mut self, id: B256) -> u8 {
        self.suite.trade_status(&mut self.chain, id).await.expect("status")
    }

    pub async fn check(&mut self, id: B256, trade: &Trade) -> SettleCheck {
        self.suite.can_settle(&mut self.chain, id, trade).await.expect("canSettle")
    }

    pub async fn sign(&mut self, who: Address, id: B256, trade: &Trade, instruction: Instruction) -> Bytes {
        let chain_id = self.chain.chain_id().await.expect("chain id");
        signing::sign_trade(&support::key(who), chain_id, self.suite.dvp, id, trade, instruction).expect("sign")
    }

    pub async fn signatures(&mut self, id: B256, trade: &Trade, instruction: Instruction) -> TradeSignatures {
        TradeSignatures {
            seller: self.sign(trade.seller, id, trade, instruction).await,
            buyer: self.sign(trade.buyer, id, trade, instruction).await,
        }
    }
}

/// Asserts that `result` is the revert `name` and returns its decoded arguments.
pub fn refused<T: std::fmt::Debug>(result: Result<T, DeployerError>, name: &str) -> Vec<String> {
    match result {
        Err(DeployerError::Revert(e)) => {
            assert_eq!(e.name, name, "unexpected revert: {e}");
            assert!(!e.message.is_empty() && !e.message.starts_with("the contract reverted with"), "{e}");
            e.args
        }
        other => panic!("expected revert {name}, got {other:?}"),
    }
}

/// Runs `$call`, asserts it is refused with `$name` and that the market's snapshot over `$ids`
/// (positions in both tokens, supplies, trade states) is unchanged; returns the error's arguments.
macro_rules! refuse {
    ($m:expr, $ids:expr, $name:expr, $call:expr) => {{
        let before = $m.snapshot($ids).await;
        let args = $crate::support::market::refused($call, $name);
        assert_eq!($m.snapshot($ids).await, before, "{} moved something", $name);
        args
    }};
}
pub(crate) use refuse;
