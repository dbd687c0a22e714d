//! Generated workloads: market-scale settlement scenarios built in Rust from a few parameters
//! (investors, trades per day, days, failure rates), reproducible by seed.
//!
//! A [`Workload`] is the market's trades, decided once: who sells what to whom, for how much, and
//! which trades are meant to fail and how (an ineligible buyer, a buyer short of cash, an agent that
//! never approves, an instruction that arrives after the deadline). From it,
//! [`Workload::scenario`] writes the timeline of one settlement model as an ordinary
//! [`Scenario`](crate::scenario::Scenario):
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

/// A generated market: parties, their funding, and every trade with its intended outcome.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Workload {
    /// The parameters it was generated from.
    pub params: GenParams,
    /// Every party: the five suite roles, the agent, then the investors.
    pub parties: Vec<Party>,
    /// Investors registered in both registries and funded with units and cash.
    pub eligible: Vec<PartyId>,
    /// Bank customers without a securities account (funded with cash only).
    pub outsiders: Vec<PartyId>,
    /// The settlement agent.
    pub agent: PartyId,
    /// The trades, in order.
    pub trades: Vec<GenTrade>,
    /// Seconds from one day's start to the next.
    pub day_length: u64,
    /// Seconds of one settlement window.
    pub window_length: u64,
}

/// Free units and cash per party: the generator's ledger.
#[derive(Clone, Debug)]
struct Ledger {
    units: Vec<u64>,
    cash: Vec<u128>,
}

impl Workload {
    /// Generates a workload; the same parameters always give the same workload.
    pub fn generate(params: &GenParams) -> Result<Self, ScenarioError> {
        let bad = |m: String| Err(ScenarioError::Setup(format!("cannot generate the workload: {m}")));
        let r = params.rates;
        for (name, rate) in
            [("ineligible", r.ineligible), ("cash", r.cash), ("agent-rejects", r.agent_rejects), ("expiry", r.expiry)]
        {
            if !(0.0..=1.0).contains(&rate) {
                return bad(format!("the {name} failure rate is {rate}: expected a probability from 0 to 1"));
            }
        }
        let total = r.ineligible + r.cash + r.agent_rejects + r.expiry;
        if total > 1.0 + 1e-9 {
            return bad(format!("the failure rates add up to {total}: expected at most 1"));
        }
        if params.windows == 0 {
            return bad("a day needs at least one settlement window".into());
        }
        if params.max_batch == 0 {
            return bad("a netted batch needs room for at least one trade".into());
        }
        let outsiders = if r.ineligible > 0.0 {
            ((params.investors as f64 * r.ineligible).ceil() as usize).clamp(1, params.investors)
        } else {
            0
        };
        let eligible_count = params.investors.saturating_sub(outsiders);
        if eligible_count < 2 {
            return bad(format!(
                "{} investors leave {eligible_count} eligible to trade ({outsiders} are kept ineligible for the \
                 ineligible-buyer rate): expected at least 2",
                params.investors
            ));
        }

        // Layout of a day: windows long enough for their transactions, with a wide margin.
        let windows = params.windows.min(params.trades_per_day.max(1));
        let per_window = params.trades_per_day.div_ceil(windows) as u64;
        let window_length = (10 * per_window + 600).max(3_600);
        let closing = OPENING + windows as u64 * window_length;
        let end_of_day_txs = 2 * params.trades_per_day as u64;
        let day_length = (closing + window_length + end_of_day_txs + 3_600).div_ceil(DAY) * DAY;

        let mut parties: Vec<Party> = Role::SUITE
            .iter()
            .map(|role| Party {
                name: role.name().into(),
                role: *role,
                class: 2,
                country: 392,
                kyc_valid_for: KYC,
                address: None,
            })
            .collect();
        let horizon = params.days as u64 * day_length + 30 * DAY;
        let kyc = KYC.max(horizon);
        let agent = parties.len();
        parties.push(Party {
            name: "agent".into(),
            role: Role::Agent,
            class: 2,
            country: 392,
            kyc_valid_for: kyc,
            address: None,
        });
        let width = digits(params.investors);
        let mut eligible = Vec::with_capacity(eligible_count);
        for i in 1..=eligible_count {
            eligible.push(parties.len());
            parties.push(Party {
                name: format!("inv{i:0width$}"),
                role: Role::Investor,
                class: 0,
                country: 392,
                kyc_valid_for: kyc,
                address: None,
            });
        }
        let mut outsider_ids = Vec::with_capacity(outsiders);
        for i in 1..=outsiders {
            outsider_ids.push(parties.len());
            parties.push(Party {
                name: format!("outsider{i:0width$}"),
                role: Role::Investor,
                class: 0,
                country: 392,
                kyc_valid_for: kyc,
                address: None,
            });
        }

        let mut rng = Rng::from_state(params.seed ^ 0x6b65_7373_6169_2121);
        let mut ledger = Ledger { units: vec![0; parties.len()], cash: vec![0; parties.len()] };
        for p in &eligible {
            ledger.units[*p] = UNITS_PER_INVESTOR;
            ledger.cash[*p] = CASH_PER_INVESTOR;
        }
        for p in &outsider_ids {
            ledger.cash[*p] = CASH_PER_INVESTOR;
        }

        let mut trades = Vec::with_capacity(params.trades_per_day * params.days);
        for day in 0..params.days {
            // Units locked until the end of the day by trades that will be released then.
            let mut locked_until_eod: Vec<(PartyId, u64)> = Vec::new();
            for (window, count) in window_sizes(params.trades_per_day, windows).into_iter().enumerate() {
                for _ in 0..count {
                    let kind = pick_kind(&mut rng, &r);
                    let trade = pick_trade(&mut rng, &mut ledger, &eligible, &outsider_ids, kind, day, window);
                    match trade.kind {
                        TradeKind::Normal => {
                            ledger.units[trade.seller] -= trade.units;
                            ledger.units[trade.buyer] += trade.units;
                            ledger.cash[trade.buyer] -= trade.amount;
                            ledger.cash[trade.seller] += trade.amount;
                        }
                        TradeKind::AgentRejects | TradeKind::Expires => {
                            ledger.units[trade.seller] -= trade.units;
                            locked_until_eod.push((trade.seller, trade.units));
                        }
                        TradeKind::IneligibleBuyer | TradeKind::InsufficientCash => {}
                    }
                    trades.push(trade);
                }
            }
            for (seller, units) in locked_until_eod {
                ledger.units[seller] += units;
            }
        }
        Ok(Self {
            params: params.clone(),
            parties,
            eligible,
            outsiders: outsider_ids,
            agent,
            trades,
            day_length,
            window_length,
        })
    }

    /// Trades of each kind.
    pub fn kinds(&self) -> Vec<(TradeKind, usize)> {
        TradeKind::ALL.iter().map(|k| (*k, self.trades.iter().filter(|t| t.kind == *k).count())).collect()
    }

    /// The trade's name in the scenario: `d<day>-<number in the day>`.
    fn trade_name(&self, index: usize) -> String {
        let per_day = self.params.trades_per_day.max(1);
        let width = digits(per_day);
        format!("d{}-{:0width$}", index / per_day + 1, index % per_day + 1)
    }

    fn window_time(&self, day: usize, window: usize) -> u64 {
        day as u64 * self.day_length + OPENING + window as u64 * self.window_length
    }

    fn closing_time(&self, day: usize) -> u64 {
        let windows = self.params.windows.min(self.params.trades_per_day.max(1));
        self.window_time(day, windows)
    }

    /// The scenario that settles this workload under `settlement`: setup (registrations and
    /// funding), then each day's windows, then the day's releases.
    pub fn scenario(&self, settlement: Settlement) -> Scenario {
        self.build(settlement).0
    }

    /// The state every trade ends in under `settlement`, as the generator's ledger predicts.
    pub fn expected_states(&self, settlement: Settlement) -> Vec<TradeState> {
        self.build(settlement).1
    }

    fn build(&self, settlement: Settlement) -> (Scenario, Vec<TradeState>) {
        let p = &self.params;
        let mut steps = Vec::new();
        let setup = |action| Step { action, expect: Expect::default(), origin: Origin::Setup, note: None };
        for id in &self.eligible {
            steps.push(setup(Action::Register { party: *id, registry: Registry::Securities }));
            steps.push(setup(Action::Register { party: *id, registry: Registry::Bank }));
        }
        for id in &self.outsiders {
            steps.push(setup(Action::Register { party: *id, registry: Registry::Bank }));
        }
        let mut ledger = Ledger { units: vec![0; self.parties.len()], cash: vec![0; self.parties.len()] };
        let mut funded: Vec<PartyId> = self.eligible.iter().chain(&self.outsiders).copied().collect();
        funded.sort_unstable();
        for id in funded {
            if self.eligible.contains(&id) {
                steps.push(setup(Action::Issue { to: id, units: U256::from(UNITS_PER_INVESTOR) }));
                ledger.units[id] = UNITS_PER_INVESTOR;
            }
            // In the pilot's cycle nobody holds deposit tokens between trades: they are issued for a
            // purchase and redeemed after it.
            if settlement == Settlement::Dcjpy {
                continue;
            }
            let reference = format!("FUND-{}", self.parties[id].name);
            steps.push(setup(Action::Deposit {
                to: Holder::Party(id),
                amount: U256::from(CASH_PER_INVESTOR),
                reference,
            }));
            ledger.cash[id] = CASH_PER_INVESTOR;
        }

        let trades: Vec<TradeDef> = self
            .trades
            .iter()
            .enumerate()
            .map(|(i, t)| {
                let short = matches!(t.kind, TradeKind::AgentRejects | TradeKind::Expires);
                let deadline = if short {
                    // Past by the end of the day's trading, and well after the trade is created.
                    self.window_time(t.day, t.window) + self.window_length / 2
                } else {
                    self.closing_time(t.day)
                };
                TradeDef {
                    name: self.trade_name(i),
                    terms: TradeTerms {
                        seller: t.seller,
                        buyer: t.buyer,
                        agent: Some(self.agent),
                        units: U256::from(t.units),
                        amount: U256::from(t.amount),
                        deadline,
                    },
                }
            })
            .collect();

        let mut timeline = Timeline { steps, number: 0 };
        let mut states = vec![TradeState::Missing; self.trades.len()];
        let mut index = 0;
        for day in 0..p.days {
            let mut end_of_day: Vec<TradeId> = Vec::new();
            let windows = p.windows.min(p.trades_per_day.max(1));
            for (window, count) in window_sizes(p.trades_per_day, windows).into_iter().enumerate() {
                timeline.push(Action::Advance(Advance::Until(self.window_time(day, window))), None, None);
                let mut paid: Vec<TradeId> = Vec::new();
                for t in index..index + count {
                    self.trade_steps(
                        settlement,
                        t,
                        &mut timeline,
                        &mut ledger,
                        &mut states,
                        &mut paid,
                        &mut end_of_day,
                    );
                }
                index += count;
                if settlement == Settlement::Netted && !paid.is_empty() {
                    let close = self.window_time(day, window) + self.window_length * 3 / 4;
                    timeline.push(Action::Advance(Advance::Until(close)), None, None);
                    for batch in paid.chunks(p.max_batch) {
                        timeline.push(
                            Action::Batch { trades: batch.to_vec(), netted: true, by: self.agent },
                            None,
                            None,
                        );
                        for t in batch {
                            let g = &self.trades[*t];
                            ledger.units[g.buyer] += g.units;
                            ledger.cash[g.seller] += g.amount;
                            states[*t] = TradeState::Settled;
                        }
                    }
                }
            }
            if end_of_day.is_empty() {
                continue;
            }
            timeline.push(Action::Advance(Advance::Until(self.closing_time(day))), None, None);
            for t in end_of_day {
                let g = &self.trades[t];
                if g.kind == TradeKind::Expires {
                    let late = match settlement {
                        Settlement::Gross => Action::SettleWithPayment { trade: t, by: self.agent, signatures_of: t },
                        Settlement::Netted | Settlement::Instructed | Settlement::Dcjpy => Action::Approve { trade: t },
                    };
                    timeline.push(late, Some(EXPIRED), Some("the settlement instruction arrives after the deadline"));
                }
                let note = (g.kind == TradeKind::AgentRejects)
                    .then_some("the agent never approved: the seller takes its units back after the deadline");
                timeline.push(Action::Release { trade: t, by: g.seller }, None, note);
                ledger.units[g.seller] += g.units;
                if settlement != Settlement::Gross && states[t] == TradeState::Paid {
                    ledger.cash[g.buyer] += g.amount;
                    if settlement == Settlement::Dcjpy {
                        self.redeem(g.buyer, g.amount, Some(UNSETTLED), &mut timeline, &mut ledger);
                    }
                }
                states[t] = TradeState::Expired;
            }
        }

        let r = &p.rates;
        let description = format!(
            "Generated by kessai sim gen: {} investors ({} ineligible), {} trades a day for {} days in {} settlement \
             windows a day, seed {}; failure rates: ineligible buyer {}, short of cash {}, agent never approves {}, \
             expiry {}; {} settlement.",
            p.investors,
            self.outsiders.len(),
            p.trades_per_day,
            p.days,
            p.windows.min(p.trades_per_day.max(1)),
            p.seed,
            r.ineligible,
            r.cash,
            r.agent_rejects,
            r.expiry,
            settlement.name()
        );
        let scenario = Scenario {
            name: format!("generated market, seed {} ({})", p.seed, settlement.name()),
            description: Some(description),
            start: p.start,
            instrument: Instrument {
                token: TokenNames { name: "Kessai Green Bond 2031".into(), symbol: "KGB31".into() },
                bond: None,
            },
            cash: TokenNames { name: "DCJPY (Kessai Bank)".into(), symbol: "DCJPY".into() },
            parties: self.parties.clone(),
            trades,
            programmes: Vec::new(),
            watch: Vec::new(),
            steps: timeline.steps,
        };
        (scenario, states)
    }

    /// `party` redeems `amount` deposit tokens into its deposit account (the pilot's step 7, or a
    /// buyer returning what was issued for a trade that did not settle).
    fn redeem(&self, party: PartyId, amount: u128, note: Option<&str>, timeline: &mut Timeline, ledger: &mut Ledger) {
        let account = format!("DEPOSIT-{}", self.parties[party].name);
        timeline.push(Action::Withdraw { party, amount: U256::from(amount), account }, None, note);
        ledger.cash[party] -= amount;
    }

    /// The steps of trade `t` in its window, with the ledger's prediction of each.
    #[allow(clippy::too_many_arguments)]
    fn trade_steps(
        &self,
        settlement: Settlement,
        t: TradeId,
        timeline: &mut Timeline,
        ledger: &mut Ledger,
        states: &mut [TradeState],
        paid: &mut Vec<TradeId>,
        end_of_day: &mut Vec<TradeId>,
    ) {
        let g = &self.trades[t];
        let cancel = Action::Cancel { trade: t, by: g.seller };
        if ledger.units[g.seller] < g.units {
            timeline.push(
                Action::CreateTrade { trade: t },
                Some(INSUFFICIENT),
                Some("the seller's units are still locked by trades waiting for settlement"),
            );
            return;
        }
        timeline.push(Action::CreateTrade { trade: t }, None, None);
        ledger.units[g.seller] -= g.units;
        states[t] = TradeState::Open;
        let eligible_buyer = g.kind != TradeKind::IneligibleBuyer;
        match settlement {
            Settlement::Gross => {
                if matches!(g.kind, TradeKind::AgentRejects | TradeKind::Expires) {
                    end_of_day.push(t);
                    return;
                }
                let settle = Action::SettleWithPayment { trade: t, by: self.agent, signatures_of: t };
                let affordable = ledger.cash[g.buyer] >= g.amount;
                if eligible_buyer && affordable {
                    timeline.push(settle, None, None);
                    ledger.units[g.buyer] += g.units;
                    ledger.cash[g.buyer] -= g.amount;
                    ledger.cash[g.seller] += g.amount;
                    states[t] = TradeState::Settled;
                    return;
                }
                let why = if eligible_buyer {
                    "the buyer's free cash is short of the price"
                } else {
                    "the buyer has no securities account: the security leg is refused"
                };
                timeline.push(settle, Some(RESTRICTED), Some(why));
                timeline.push(cancel, None, None);
                ledger.units[g.seller] += g.units;
                states[t] = TradeState::Cancelled;
            }
            Settlement::Netted | Settlement::Instructed | Settlement::Dcjpy => {
                if settlement == Settlement::Dcjpy && g.kind != TradeKind::InsufficientCash {
                    let reference = format!("DCJPY-{}", self.trade_name(t));
                    let issue = Action::Deposit { to: Holder::Party(g.buyer), amount: U256::from(g.amount), reference };
                    timeline.push(issue, None, None);
                    ledger.cash[g.buyer] += g.amount;
                }
                if ledger.cash[g.buyer] < g.amount {
                    timeline.push(
                        Action::Pay { trade: t },
                        Some(INSUFFICIENT),
                        Some("the buyer's free cash is short of the price"),
                    );
                    timeline.push(cancel, None, None);
                    ledger.units[g.seller] += g.units;
                    states[t] = TradeState::Cancelled;
                    return;
                }
                timeline.push(Action::Pay { trade: t }, None, None);
                ledger.cash[g.buyer] -= g.amount;
                states[t] = TradeState::Paid;
                match g.kind {
                    TradeKind::IneligibleBuyer => {
                        timeline.push(
                            Action::Approve { trade: t },
                            Some(RESTRICTED),
                            Some("the buyer has no securities account: the security leg is refused"),
                        );
                        timeline.push(cancel, None, None);
                        ledger.units[g.seller] += g.units;
                        ledger.cash[g.buyer] += g.amount;
                        states[t] = TradeState::Cancelled;
                        if settlement == Settlement::Dcjpy {
                            self.redeem(g.buyer, g.amount, Some(UNSETTLED), timeline, ledger);
                        }
                    }
                    TradeKind::AgentRejects | TradeKind::Expires => end_of_day.push(t),
                    TradeKind::Normal | TradeKind::InsufficientCash if settlement == Settlement::Netted => paid.push(t),
                    TradeKind::Normal | TradeKind::InsufficientCash => {
                        timeline.push(Action::Approve { trade: t }, None, None);
                        ledger.units[g.buyer] += g.units;
                        ledger.cash[g.seller] += g.amount;
                        states[t] = TradeState::Settled;
                        if settlement == Settlement::Dcjpy {
                            self.redeem(g.seller, g.amount, None, timeline, ledger);
                        }
                    }
                }
            }
        }
    }
}

/// Why a buyer redeems in the pilot's cycle without having bought.
const UNSETTLED: &str = "the trade did not settle: the buyer redeems the deposit tokens issued for it";

/// Default KYC validity (as the file format's): three years.
const KYC: u64 = 3 * 365 * DAY;

/// The timeline being written, numbering its steps.
struct Timeline {
    steps: Vec<Step>,
    number: usize,
}

impl Timeline {
    fn push(&mut self, action: Action, error: Option<&str>, note: Option<&str>) {
        self.number += 1;
        let expect = Expect { error: error.map(str::to_string), ..Expect::default() };
        self.steps.push(Step {
            action,
            expect,
            origin: Origin::Timeline { number: self.number, line: 0 },
            note: note.map(str::to_string),
        });
    }
}

fn digits(n: usize) -> usize {
    n.max(1).to_string().len()
}

/// `total` trades over `windows` windows, the first ones one larger.
fn window_sizes(total: usize, windows: usize) -> Vec<usize> {
    let windows = windows.max(1);
    (0..windows).map(|w| total / windows + usize::from(w < total % windows)).collect()
}

fn pick_kind(rng: &mut Rng, r: &FailureRates) -> TradeKind {
    let mut u = rng.unit();
    for (rate, kind) in [
        (r.ineligible, TradeKind::IneligibleBuyer),
        (r.cash, TradeKind::InsufficientCash),
        (r.agent_rejects, TradeKind::AgentRejects),
        (r.expiry, TradeKind::Expires),
    ] {
        if u < rate {
            return kind;
        }
        u -= rate;
    }
    TradeKind::Normal
}

/// A random member of `pool` satisfying `ok`: a few random draws, then the best by `score`.
fn pick(
    rng: &mut Rng,
    pool: &[PartyId],
    ok: impl Fn(PartyId) -> bool,
    score: impl Fn(PartyId) -> u128,
) -> Option<PartyId> {
    if pool.is_empty() {
        return None;
    }
    for _ in 0..16 {
        let p = pool[rng.below(pool.len() as u64) as usize];
        if ok(p) {
            return Some(p);
        }
    }
    pool.iter().copied().filter(|p| ok(*p)).max_by_key(|p| score(*p))
}

fn pick_trade(
    rng: &mut Rng,
    ledger: &mut Ledger,
    eligible: &[PartyId],
    outsiders: &[PartyId],
    mut kind: TradeKind,
    day: usize,
    window: usize,
) -> GenTrade {
    let units_of = |l: &Ledger, p: PartyId| u128::from(l.units[p]);
    // Some eligible investor has free units: units are conserved, and locks last at most a day.
    let seller = pick(rng, eligible, |p| ledger.units[p] > 0, |p| units_of(ledger, p))
        .or_else(|| eligible.first().copied())
        .unwrap_or_default();
    let mut units = 1 + rng.below(ledger.units[seller].clamp(1, MAX_LOT));
    let price = MIN_PRICE + u128::from(rng.below(PRICE_SPREAD + 1));
    let others = |p: PartyId| p != seller;
    let (buyer, amount) = match kind {
        TradeKind::IneligibleBuyer => {
            let buyer = outsiders[rng.below(outsiders.len() as u64) as usize];
            (buyer, u128::from(units) * price)
        }
        TradeKind::InsufficientCash => {
            let buyer = pick(rng, eligible, others, |p| ledger.cash[p]).unwrap_or(seller);
            let value = u128::from(units) * price;
            (buyer, ledger.cash[buyer] + 1 + u128::from(rng.below(value as u64)))
        }
        TradeKind::Normal | TradeKind::AgentRejects | TradeKind::Expires => {
            let value = u128::from(units) * price;
            let buyer = pick(rng, eligible, |p| others(p) && ledger.cash[p] >= value, |p| ledger.cash[p])
                .or_else(|| pick(rng, eligible, others, |p| ledger.cash[p]))
                .unwrap_or(seller);
            if ledger.cash[buyer] < value {
                // Nobody can afford the lot: the richest buyer takes what it can.
                units = (ledger.cash[buyer] / price).min(u128::from(units)) as u64;
                if units == 0 {
                    units = 1;
                    kind = TradeKind::InsufficientCash;
                    (buyer, ledger.cash[buyer] + 1)
                } else {
                    (buyer, u128::from(units) * price)
                }
            } else {
                (buyer, value)
            }
        }
    };
    GenTrade { kind, day, window, seller, buyer, units, amount }
}

/// Refused steps of a run, by error name.
pub type Refusals = Vec<(String, usize)>;

/// What a replay of one settlement model of a workload did, read back from its report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SettlementStats {
    /// The model.
    pub settlement: Settlement,
    /// Trades in the workload.
    pub trades: usize,
    /// Trades that settled.
    pub settled: usize,
    /// Trades that did not settle, by what the generator meant them to do (`normal`: a trade that
    /// failed only because this model left a party short of free units or cash).
    pub unsettled: Vec<(TradeKind, usize)>,
    /// Refused steps by error name.
    pub refusals: Refusals,
    /// Value of the settled trades (the cash that moves when every trade pays in full).
    #[serde(with = "crate::decimal")]
    pub settled_value: U256,
    /// Deposit tokens that actually moved between parties.
    #[serde(with = "crate::decimal")]
    pub cash_moved: U256,
    /// Deposit-token transfers between parties.
    pub cash_transfers: u64,
    /// Largest total of deposit tokens locked for trades at any point.
    #[serde(with = "crate::decimal")]
    pub peak_cash_locked: U256,
    /// Transactions mined after setup.
    pub transactions: u64,
    /// Gas of those transactions.
    pub gas_used: u64,
    /// Whether the chain did what the generator's ledger predicted (every expectation held, and
    /// every trade ended in its predicted state).
    pub as_predicted: bool,
}

impl SettlementStats {
    /// Reads the figures of a replay of `workload.scenario(settlement)`.
    pub fn from_report(workload: &Workload, settlement: Settlement, report: &RunReport) -> Self {
        let expected = workload.expected_states(settlement);
        let scenario_trades = workload.trades.len();
        let by_name: HashMap<String, TradeId> = (0..scenario_trades).map(|i| (workload.trade_name(i), i)).collect();
        let mut settled = 0;
        let mut settled_value = U256::ZERO;
        let mut unsettled: HashMap<TradeKind, usize> = HashMap::new();
        let mut matches_prediction = report.final_state.trades.len() == scenario_trades;
        for (i, (name, state)) in report.final_state.trades.iter().enumerate() {
            let Some(t) = by_name.get(name).map(|t| &workload.trades[*t]) else { continue };
            if *state == TradeState::Settled {
                settled += 1;
                settled_value += U256::from(t.amount);
            } else {
                *unsettled.entry(t.kind).or_default() += 1;
            }
            matches_prediction &= expected.get(i) == Some(state);
        }

        let mut refusals: HashMap<String, usize> = HashMap::new();
        let mut cash_moved = U256::ZERO;
        let mut cash_transfers = 0;
        let mut locked: HashMap<TradeId, u128> = HashMap::new();
        let mut locked_total: u128 = 0;
        let mut peak: u128 = 0;
        let mut transactions = 0;
        let mut gas_used = 0;
        for step in report.steps.iter().filter(|s| s.origin != Origin::Setup) {
            if let Some(e) = step.result.error() {
                *refusals.entry(e.to_string()).or_default() += 1;
            }
            transactions += u64::from(step.transactions);
            gas_used += step.gas_used;
            let (moved, transfers) = cash_movements(step);
            cash_moved += moved;
            cash_transfers += transfers;
            for event in step.events.iter().filter(|e| e.contract == "dvp") {
                let Some(t) = event.args.first().and_then(|(_, v)| by_name.get(v)).copied() else { continue };
                match event.name.as_str() {
                    "TradePaid" => {
                        locked.insert(t, workload.trades[t].amount);
                        locked_total += workload.trades[t].amount;
                    }
                    "TradeSettled" | "TradeCancelled" | "TradeExpired" => {
                        if let Some(a) = locked.remove(&t) {
                            locked_total -= a;
                        }
                    }
                    _ => {}
                }
            }
            peak = peak.max(locked_total);
        }
        let mut unsettled: Vec<(TradeKind, usize)> = unsettled.into_iter().collect();
        unsettled.sort();
        let mut refusals: Refusals = refusals.into_iter().collect();
        refusals.sort();
        Self {
            settlement,
            trades: scenario_trades,
            settled,
            unsettled,
            refusals,
            settled_value,
            cash_moved,
            cash_transfers,
            peak_cash_locked: U256::from(peak),
            transactions,
            gas_used,
            as_predicted: matches_prediction && report.passed(),
        }
    }

    /// Trades that did not settle.
    pub fn failed(&self) -> usize {
        self.unsettled.iter().map(|(_, n)| n).sum()
    }
}

/// Deposit tokens moved between parties in a step (mints and burns excluded), and the transfers.
fn cash_movements(step: &StepOutcome) -> (U256, u64) {
    let mut moved = U256::ZERO;
    let mut transfers = 0;
    for event in step.events.iter().filter(|e| e.contract == "deposit" && e.name == "Transfer") {
        let arg = |name: &str| event.args.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str());
        if arg("from") == Some("address(0)") || arg("to") == Some("address(0)") {
            continue;
        }
        if let Some(value) = arg("value").and_then(|v| U256::from_str_radix(v, 10).ok()) {
            moved += value;
            transfers += 1;
        }
    }
    (moved, transfers)
}

/// Gross and netted settlement of the same workload, side by side.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NettingComparison {
    /// Seed of the workload.
    pub seed: u64,
    /// Per-trade settlement.
    pub gross: SettlementStats,
    /// Netted batches per settlement window.
    pub netted: SettlementStats,
}

impl NettingComparison {
    /// Cash that had to move netted, as a fraction of gross (1.0 when gross moved nothing).
    pub fn cash_moved_ratio(&self) -> f64 {
        let g = f64::from(self.gross.cash_moved);
        if g == 0.0 { 1.0 } else { f64::from(self.netted.cash_moved) / g }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_generator_is_reproducible_by_seed() {
        let params = GenParams { investors: 8, trades_per_day: 30, days: 3, seed: 42, ..GenParams::default() };
        let a = Workload::generate(&params).expect("valid");
        let b = Workload::generate(&params).expect("valid");
        assert_eq!(a, b);
        let c = Workload::generate(&GenParams { seed: 43, ..params }).expect("valid");
        assert_ne!(a.trades, c.trades);
    }

    #[test]
    fn failure_rates_pick_kinds_in_proportion() {
        let rates = FailureRates { ineligible: 0.1, cash: 0.1, agent_rejects: 0.1, expiry: 0.1 };
        let params = GenParams { investors: 30, trades_per_day: 2_000, days: 1, rates, ..GenParams::default() };
        let w = Workload::generate(&params).expect("valid");
        for (kind, n) in w.kinds() {
            let expected = if kind == TradeKind::Normal { 1_200 } else { 200 };
            assert!(n.abs_diff(expected) < expected / 4, "{kind:?}: {n}");
        }
        assert_eq!(w.outsiders.len(), 3, "a tenth of the investors are ineligible");
    }

    #[test]
    fn bad_parameters_are_refused_with_the_reason() {
        let rates = FailureRates { cash: 0.7, expiry: 0.7, ..FailureRates::default() };
        let err = Workload::generate(&GenParams { rates, ..GenParams::default() }).expect_err("rates above 1");
        assert!(err.to_string().contains("add up to 1.4"), "{err}");
        let err = Workload::generate(&GenParams { investors: 1, ..GenParams::default() }).expect_err("one investor");
        assert!(err.to_string().contains("expected at least 2"), "{err}");
    }

    #[test]
    fn party_keys_start_with_anvils_and_are_distinct() {
        let keys = party_keys(25);
        assert_eq!(keys.len(), 25);
        assert_eq!(keys[0].address(), anvil::dev_accounts()[0]);
        let mut addresses: Vec<_> = keys.iter().map(PrivateKeySigner::address).collect();
        addresses.sort();
        addresses.dedup();
        assert_eq!(addresses.len(), 25);
        assert_eq!(party_keys(3).len(), 3);
    }
}
