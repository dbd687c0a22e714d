//! Generated workloads: market-scale settlement scenarios built in Rust from a few parameters
//! (investors, trades per day, days, failure rates), reproducible by seed.
//!
//! A [`Workload`] is the market's trades, decided once: who sells what to whom, for how much, and
//! which trades are meant to fail and how (an ineligible buyer, a buyer short of cash, an agent that
//! never approves, an instruction that arrives after the deadline). From it,
//! [`Workload::scenario`] writes the timeline of one settlement model as an ordinary
//! [`Scenario`]:
//!
//! - [`Settlement::Gross`], the pilot's flow per trade: the seller creates the trade (its units are
//!   locked) and the settlement agent settles it at once with the buyer's signed payment
//!   instruction, both legs in one transaction;
//! - [`Settlement::Netted`], DvP model 3: the seller creates, the buyer pays (its cash is locked),
//!   and at the close of each settlement window the agent settles the window's paid trades in netted
//!   batches, moving only each party's net cash position;
//! - [`Settlement::Instructed`], per trade, one instruction from each party: the seller creates
//!   (units locked), the buyer pays (cash locked), the agent approves (both legs move in that
//!   transaction);
//! - [`Settlement::Dcjpy`], the pilot's whole cycle per trade: as `Instructed`, with the bank issuing
//!   the price to the buyer just before it pays and the seller redeeming the proceeds just after;
//!   nobody is funded ahead, so nobody holds deposit tokens between trades.
//!
//! The generator keeps its own ledger of every investor's free units and cash under each model, so
//! every step that must fail carries the named error it fails with; a replay whose expectations all
//! hold shows that the chain did what the ledger predicted. [`SettlementStats`] reads a replay's
//! report back into the figures that compare the two models: trades settled and failed, cash that
//! had to move, peak cash locked.
//!
//! Clock: both engines mine one block per transaction and a block's timestamp is one second after
//! the previous one, so a window holds as many seconds as it has transactions, with a wide margin;
//! a trading "day" of more transactions than seconds stretches accordingly in chain time.
//!
//! ```
//! use kessai_sim::workload::{GenParams, Settlement, Workload};
//!
//! let params = GenParams { investors: 6, trades_per_day: 20, days: 2, seed: 7, ..GenParams::default() };
//! let workload = Workload::generate(&params).expect("valid parameters");
//! let scenario = workload.scenario(Settlement::Gross);
//! assert_eq!(scenario.trades.len(), 40);
//! // The same seed gives the same scenario.
//! assert_eq!(Workload::generate(&params).expect("valid").scenario(Settlement::Gross), scenario);
//! ```

use crate::rng::Rng;
use crate::scenario::{
    ScenarioError,
    model::{
        Action, Advance, DAY, Expect, Holder, Instrument, Origin, Party, PartyId, Registry, Role, Scenario, Step,
        TokenNames, TradeDef, TradeId, TradeState, TradeTerms,
    },
    run::{RunReport, StepOutcome},
};
use alloy::{
    primitives::{U256, keccak256},
    signers::local::PrivateKeySigner,
};
use kessai_deployer::anvil;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// Keys for `n` parties: Anvil's ten development keys first (so a small scenario runs on Anvil
/// unchanged), then keys derived from a public constant. For simulation and development chains only.
pub fn party_keys(n: usize) -> Vec<PrivateKeySigner> {
    let mut keys = anvil::dev_signers();
    let mut i: u64 = 0;
    while keys.len() < n {
        let secret = keccak256([b"kessai sim party key".as_slice(), &i.to_be_bytes()].concat());
        // A keccak output is a valid secp256k1 secret key unless it is zero or above the group order
        // (probability about 2^-128); such an index is skipped.
        if let Ok(key) = PrivateKeySigner::from_bytes(&secret) {
            keys.push(key);
        }
        i += 1;
    }
    keys.truncate(n);
    keys
}

/// How trades are meant to fail: each rate is the probability that a generated trade fails that
/// way (they add up to at most 1; the rest are ordinary trades).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct FailureRates {
    /// The buyer is a bank customer without a securities account (not eligible for the units).
    pub ineligible: f64,
    /// The trade costs more than the buyer's free cash.
    pub cash: f64,
    /// The settlement agent never approves; the seller releases the trade after its deadline.
    pub agent_rejects: f64,
    /// The settlement instruction arrives after the trade's deadline; the trade is then released.
    pub expiry: f64,
}

/// Parameters of a generated workload.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GenParams {
    /// Investors (eligible ones and, when the ineligible rate is set, bank-only customers).
    pub investors: usize,
    /// Trades per day.
    pub trades_per_day: usize,
    /// Days.
    pub days: usize,
    /// Seed of the pseudo-random choices.
    pub seed: u64,
    /// Settlement windows per day (the netted model settles once per window).
    pub windows: usize,
    /// Most trades in one netted batch (a window's paid trades settle in batches of at most this
    /// many; a batch's gas grows with its trades and parties, within the block gas limit).
    pub max_batch: usize,
    /// Failure rates.
    pub rates: FailureRates,
    /// Unix time of the start; `None` starts at the next UTC midnight on the chain.
    pub start: Option<u64>,
}

impl Default for GenParams {
    fn default() -> Self {
        Self {
            investors: 20,
            trades_per_day: 100,
            days: 1,
            seed: 1,
            windows: 6,
            max_batch: DEFAULT_MAX_BATCH,
            rates: FailureRates::default(),
            start: None,
        }
    }
}

/// What a generated trade is meant to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TradeKind {
    /// Settles (unless the settlement model leaves a party short).
    Normal,
    /// The buyer is not eligible to hold the units: refused, then cancelled.
    IneligibleBuyer,
    /// The buyer cannot pay: refused, then cancelled.
    InsufficientCash,
    /// The agent never approves: released after the deadline.
    AgentRejects,
    /// Settlement is attempted after the deadline: refused, then released.
    Expires,
}

impl TradeKind {
    /// Every kind, in report order.
    pub const ALL: [TradeKind; 5] =
        [Self::Normal, Self::IneligibleBuyer, Self::InsufficientCash, Self::AgentRejects, Self::Expires];

    /// The kind in words.
    pub fn describe(self) -> &'static str {
        match self {
            Self::Normal => "ordinary",
            Self::IneligibleBuyer => "ineligible buyer",
            Self::InsufficientCash => "buyer short of cash",
            Self::AgentRejects => "agent never approved",
            Self::Expires => "instruction after the deadline",
        }
    }
}

/// How a workload's trades settle.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Settlement {
    /// Each trade on its own: created by the seller, settled at once by the agent with the buyer's
    /// signed payment instruction (the pilot's flow).
    Gross,
    /// Trades are paid (cash locked) as they come and settled in netted batches at the close of each
    /// settlement window (DvP model 3).
    Netted,
    /// Each trade on its own, each party sending its own instruction (steps 1 and 4–6): the
    /// seller creates the trade (its units are locked), the buyer pays (its cash is locked), the
    /// settlement agent approves and both legs move.
    Instructed,
    /// The pilot's whole cycle per trade: the seller creates the trade (step 1), the bank issues the
    /// price in deposit tokens to the buyer from its deposit account (step 3), the buyer pays (step 4),
    /// the agent approves and both legs move (steps 5 and 6), and the seller redeems the proceeds into
    /// its deposit account (step 7). Nobody holds deposit tokens between trades: a buyer meant to be
    /// short of cash gets no issuance, and the buyer of a trade that does not settle redeems what was
    /// issued for it.
    Dcjpy,
}

impl Settlement {
    /// The model's name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Gross => "gross",
            Self::Netted => "netted",
            Self::Instructed => "instructed",
            Self::Dcjpy => "dcjpy",
        }
    }
}

/// One generated trade.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GenTrade {
    /// What it is meant to do.
    pub kind: TradeKind,
    /// Day (from 0).
    pub day: usize,
    /// Settlement window of the day (from 0).
    pub window: usize,
    /// Seller (a party of the scenario).
    pub seller: PartyId,
    /// Buyer.
    pub buyer: PartyId,
    /// Units.
    pub units: u64,
    /// Price in yen (deposit tokens).
    pub amount: u128,
}

/// Units issued to each eligible investor at setup.
pub const UNITS_PER_INVESTOR: u64 = 10_000;
/// Deposit tokens issued to each investor at setup (¥100m).
pub const CASH_PER_INVESTOR: u128 = 100_000_000;
/// Largest lot, in units.
pub const MAX_LOT: u64 = 100;
/// Lowest price per unit, in yen.
pub const MIN_PRICE: u128 = 9_000;
/// Spread of prices per unit above [`MIN_PRICE`], in yen.
pub const PRICE_SPREAD: u64 = 2_000;
/// Default of [`GenParams::max_batch`].
pub const DEFAULT_MAX_BATCH: usize = 100;
/// Opening time of the first settlement window, seconds after midnight.
const OPENING: u64 = 9 * 3_600;
/// Errors the generated scenarios expect.
const RESTRICTED: &str = "TokenTransferRestricted";
const INSUFFICIENT: &str = "TokenInsufficientFreeBalance";
const EXPIRED: &str = "DvPTradeExpired";

mod build;
mod stats;
#[cfg(test)]
mod tests;

pub use build::*;
pub use stats::*;
