//! Property runs: random step sequences drawn from the scenario model's step kinds, replayed on the
//! in-process engine and checked after every step against invariants; a sequence that breaks one is
//! shrunk and written out as a scenario file that `kessai sim run` replays to the same failure.
//!
//! **Sequences.** [`generate`] builds a [`Scenario`] from a seed: the five suite roles, four
//! investors (`alice`, `bob`, `carol`, `dave`) and a settlement `agent`, a setup that registers and
//! funds the investors, then random steps — registration and revocation, security issue, redeem and
//! transfer, deposit issue and redemption, trades created, created from signatures, paid, approved,
//! settled with the buyer's signed payment or from both signatures, cancelled, released, settled in
//! gross and netted batches, and time advancing. The generator keeps a forecast of the state
//! so that most steps are ones that can succeed, and mixes in ones that must be refused (an
//! ineligible party, too little free balance, a passed deadline, a stranger, a wrong signature). The
//! forecast only steers the choice: the checks below never trust it.
//!
//! **Invariants.** After every step the checker reads what the step could have changed — the status
//! of the trades it names, the positions of the parties it concerns, both supplies — and updates a
//! [`Model`] from what it observed: the explicit issues and redemptions of successful steps, and
//! each trade's status change, applied whole (a trade that became settled moved both its legs). The
//! [`standard`] invariants then compare:
//!
//! - [`STATUSES`]: each trade's status changed exactly as the step's kind says (created, paid,
//!   approved, settled, cancelled, released), only for the trades the step names, only if the step
//!   succeeded; statuses never lose a flag;
//! - [`NO_PARTIAL_SETTLEMENT`]: every party's units and cash equal the model's — each settled trade
//!   moved both legs in full, and nothing else moved;
//! - [`HOLDS`]: every party's held units and held cash equal the sum over its open trades (units it
//!   sells, cash it has paid);
//! - [`SUPPLY`]: both supplies equal the explicit issues minus the explicit redemptions, and (on a
//!   full sweep) the parties hold all of it.
//!
//! Every [`CheckOptions::sweep_every`] steps, and after the last, a **full sweep** reads every
//! party's position and every trade's status, so a change the step should not have made anywhere is
//! caught too. Invariants are values ([`Invariant`], built with [`invariant`]): a caller adds its
//! own to the list, which is how the tests inject a false one to exercise shrinking.
//!
//! **Shrinking.** When an invariant breaks, the sequence up to the failing step is shrunk by delta
//! debugging (remove chunks, then single steps, while the same invariant still breaks) into a
//! 1-minimal sequence; then each trade that was created and later paid, approved or settled is tried
//! as one signed step instead (`settle_signed`, `create_signed_trade`), and shrinking resumes while
//! that keeps the failure. It is written as a scenario file ([`write::write`]) in which every step
//! that was refused expects its error and the last step expects what the invariant expected, so
//! `kessai sim run` on the file fails exactly there; [`Failure::reproduced`] records that the
//! written file, parsed back and checked, breaks the same invariant at the same step.
//!
//! ```no_run
//! use kessai_sim::property::{self, Options};
//!
//! let run = property::run(7, &Options { steps: 10_000, ..Options::default() }, &property::standard(), None)?;
//! if let Some(failure) = &run.failure {
//!     std::fs::write("failing.toml", &failure.toml)?;
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use crate::rng::Rng;
use crate::{
    RevmChain, RevmOptions, parallel,
    scenario::{
        ScenarioError,
        model::{
            Action, Advance, BalanceExpect, DAY, Expect, Holder, Instrument, Origin, Party, PartyId, Registry, Role,
            Scenario, Step, SupplyExpect, TokenNames, TradeDef, TradeId, TradeState, TradeTerms,
        },
        parse,
        run::{Balances, Runner, StepOutcome, StepResult},
        write,
    },
};
use alloy::{
    primitives::{B256, U256},
    signers::local::PrivateKeySigner,
};
use kessai_bindings::TradeFlags;
use kessai_deployer::{anvil, chain::Chain};
use serde::{Deserialize, Serialize};
use std::{
    collections::BTreeSet,
    sync::atomic::{AtomicU64, Ordering},
    time::{Duration, Instant},
};

// The DvP's status flags as raw bits, for the model's arithmetic (defined once, in
// `kessai_bindings::TradeFlags`).
/// Status flag: the trade exists.
pub const CREATED: u8 = TradeFlags::CREATED.bits();
/// Status flag: the buyer paid (its cash is held, or moved).
pub const PAID: u8 = TradeFlags::PAID.bits();
/// Status flag: the settlement agent approved.
pub const APPROVED: u8 = TradeFlags::APPROVED.bits();
/// Status flag: both legs moved.
pub const SETTLED: u8 = TradeFlags::SETTLED.bits();
/// Status flag: a party cancelled.
pub const CANCELLED: u8 = TradeFlags::CANCELLED.bits();
/// Status flag: released after the deadline.
pub const EXPIRED: u8 = TradeFlags::EXPIRED.bits();
/// The final flags.
pub const FINAL: u8 = TradeFlags::FINAL.bits();

/// Whether a trade with these status flags is open: created and not final (its locks stand).
pub fn is_open(flags: u8) -> bool {
    flags & CREATED != 0 && flags & FINAL == 0
}

/// Name of the invariant: statuses change exactly as each step's kind says.
pub const STATUSES: &str = "statuses";
/// Name of the invariant: balances equal the model (settled trades moved both legs, nothing else moved).
pub const NO_PARTIAL_SETTLEMENT: &str = "no-partial-settlement";
/// Name of the invariant: held amounts equal the sum over open trades.
pub const HOLDS: &str = "holds";
/// Name of the invariant: supplies change only by explicit issues and redemptions.
pub const SUPPLY: &str = "supply";

// ---------------------------------------------------------------- the model

/// What the checker expects of the chain, kept from what it observed: balances changed by the
/// explicit issues and redemptions of successful steps and by each trade's status changes.
#[derive(Clone, Debug)]
pub struct Model {
    units: Vec<U256>,
    cash: Vec<U256>,
    statuses: Vec<u8>,
    open: BTreeSet<TradeId>,
    /// Security token supply.
    pub units_supply: U256,
    /// Deposit token supply.
    pub cash_supply: U256,
}

impl Model {
    fn new(scenario: &Scenario) -> Self {
        let n = scenario.parties.len();
        Self {
            units: vec![U256::ZERO; n],
            cash: vec![U256::ZERO; n],
            statuses: vec![0; scenario.trades.len()],
            open: BTreeSet::new(),
            units_supply: U256::ZERO,
            cash_supply: U256::ZERO,
        }
    }

    /// Trade `trade`'s status flags, as last observed.
    pub fn status(&self, trade: TradeId) -> u8 {
        self.statuses[trade]
    }

    /// The open trades.
    pub fn open_trades(&self) -> impl Iterator<Item = TradeId> + '_ {
        self.open.iter().copied()
    }

    /// The position `party` should have: its units and cash, and as held amounts the sum over its
    /// open trades (units it sells; cash it has paid).
    pub fn position(&self, scenario: &Scenario, party: PartyId) -> Balances {
        let mut b = Balances { units: self.units[party], cash: self.cash[party], ..Default::default() };
        for t in &self.open {
            let terms = &scenario.trades[*t].terms;
            if terms.seller == party {
                b.units_held += terms.units;
            }
            if terms.buyer == party && self.statuses[*t] & PAID != 0 {
                b.cash_held += terms.amount;
            }
        }
        b
    }

    /// The effects of a successful step other than trade status changes: explicit issues,
    /// redemptions and transfers.
    fn apply_step(&mut self, action: &Action) {
        match action {
            Action::Issue { to, units } => {
                self.units[*to] = self.units[*to].wrapping_add(*units);
                self.units_supply = self.units_supply.wrapping_add(*units);
            }
            Action::Redeem { from, units } => {
                self.units[*from] = self.units[*from].wrapping_sub(*units);
                self.units_supply = self.units_supply.wrapping_sub(*units);
            }
            Action::Transfer { from, to, units } => {
                self.units[*from] = self.units[*from].wrapping_sub(*units);
                self.units[*to] = self.units[*to].wrapping_add(*units);
            }
            Action::Deposit { to: Holder::Party(to), amount, .. } => {
                self.cash[*to] = self.cash[*to].wrapping_add(*amount);
                self.cash_supply = self.cash_supply.wrapping_add(*amount);
            }
            Action::Withdraw { party, amount, .. } => {
                self.cash[*party] = self.cash[*party].wrapping_sub(*amount);
                self.cash_supply = self.cash_supply.wrapping_sub(*amount);
            }
            _ => {}
        }
    }

    /// A trade's observed status change, applied whole: settling moves both legs.
    fn apply_change(&mut self, scenario: &Scenario, change: &StatusChange) {
        let terms = &scenario.trades[change.trade].terms;
        let (was, is) = (change.before & SETTLED != 0, change.after & SETTLED != 0);
        if was != is {
            let (u, a) = (terms.units, terms.amount);
            let (s, b) = (terms.seller, terms.buyer);
            if is {
                self.units[s] = self.units[s].wrapping_sub(u);
                self.units[b] = self.units[b].wrapping_add(u);
                self.cash[b] = self.cash[b].wrapping_sub(a);
                self.cash[s] = self.cash[s].wrapping_add(a);
            } else {
                self.units[s] = self.units[s].wrapping_add(u);
                self.units[b] = self.units[b].wrapping_sub(u);
                self.cash[b] = self.cash[b].wrapping_add(a);
                self.cash[s] = self.cash[s].wrapping_sub(a);
            }
        }
        self.statuses[change.trade] = change.after;
        if is_open(change.after) {
            self.open.insert(change.trade);
        } else {
            self.open.remove(&change.trade);
        }
    }
}

// ---------------------------------------------------------------- invariants

/// A trade's status before and after a step (as read from the chain).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusChange {
    /// The trade.
    pub trade: TradeId,
    /// Its flags before the step (the model's).
    pub before: u8,
    /// Its flags read after the step.
    pub after: u8,
}

/// What the checker saw after one step, for the invariants to judge.
#[derive(Debug)]
pub struct Observation<'a> {
    /// The scenario being checked.
    pub scenario: &'a Scenario,
    /// The step's position, from 0.
    pub index: usize,
    /// The step.
    pub step: &'a Step,
    /// What the runner recorded of it.
    pub outcome: &'a StepOutcome,
    /// The model after the step: explicit issues and redemptions of the step (if it succeeded), and
    /// the status changes below, applied.
    pub model: &'a Model,
    /// Status of the trades the step names (and of every trade on a full sweep, listed when it
    /// differs from the model).
    pub changes: &'a [StatusChange],
    /// Positions read after the step: the parties the step concerns (every party on a full sweep).
    pub positions: &'a [(PartyId, Balances)],
    /// (security, deposit) supplies read after the step.
    pub supplies: (U256, U256),
    /// Whether this is a full sweep.
    pub sweep: bool,
}

impl Observation<'_> {
    /// Whether the step succeeded.
    pub fn succeeded(&self) -> bool {
        self.outcome.result == StepResult::Ok
    }

    /// A trade's name.
    pub fn trade_name(&self, trade: TradeId) -> &str {
        &self.scenario.trades[trade].name
    }

    /// A party's name.
    pub fn party_name(&self, party: PartyId) -> &str {
        &self.scenario.parties[party].name
    }

    /// "step #12 (pay: bob pays for trade t3), which succeeded" — for messages; setup steps are
    /// "setup step 3" (from 1).
    pub fn describe_step(&self) -> String {
        let result = match &self.outcome.result {
            StepResult::Ok => "succeeded".to_string(),
            StepResult::Failed { error, .. } => format!("failed with {error}"),
        };
        let label = match self.outcome.origin {
            Origin::Setup => format!("setup step {}", self.index + 1),
            Origin::Timeline { number, .. } => format!("step #{number}"),
        };
        format!("{label} ({}: {}), which {result}", self.outcome.kind, self.outcome.description)
    }
}

/// An invariant that did not hold: what is wrong, and the expectation that would have held had it
/// held (written into the shrunk scenario's failing step, so that replaying it fails there).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Violation {
    /// What is wrong, in words.
    pub message: String,
    /// Expectations of the failing step that encode the invariant.
    pub expect: Box<Expect>,
}

impl Violation {
    /// A violation with its message and expectation.
    pub fn new(message: impl Into<String>, expect: Expect) -> Self {
        Self { message: message.into(), expect: Box::new(expect) }
    }
}

/// A property checked after every step.
pub trait Invariant: Send + Sync {
    /// Its name (reports, and matching the same failure while shrinking).
    fn name(&self) -> &str;
    /// Judges one step.
    fn check(&self, observation: &Observation<'_>) -> Result<(), Violation>;
}

struct FnInvariant<F> {
    name: String,
    check: F,
}

impl<F> Invariant for FnInvariant<F>
where
    F: Fn(&Observation<'_>) -> Result<(), Violation> + Send + Sync,
{
    fn name(&self) -> &str {
        &self.name
    }

    fn check(&self, observation: &Observation<'_>) -> Result<(), Violation> {
        (self.check)(observation)
    }
}

/// An invariant from a name and a function.
pub fn invariant<F>(name: impl Into<String>, check: F) -> Box<dyn Invariant>
where
    F: Fn(&Observation<'_>) -> Result<(), Violation> + Send + Sync + 'static,
{
    Box::new(FnInvariant { name: name.into(), check })
}

/// The standard invariants: [`STATUSES`], [`NO_PARTIAL_SETTLEMENT`], [`HOLDS`], [`SUPPLY`], in the
/// order they are checked.
pub fn standard() -> Vec<Box<dyn Invariant>> {
    vec![
        invariant(STATUSES, check_statuses),
        invariant(NO_PARTIAL_SETTLEMENT, check_balances),
        invariant(HOLDS, check_holds),
        invariant(SUPPLY, check_supply),
    ]
}

/// A deliberately false invariant for exploration: no trade ever gains the flag of `state`
/// (settled, cancelled, expired, paid or approved; `None` for other states). When it breaks, the
/// shrunk sequence is a short scenario that reaches the state.
pub fn never(state: TradeState) -> Option<Box<dyn Invariant>> {
    let flag = match state {
        TradeState::Settled => SETTLED,
        TradeState::Cancelled => CANCELLED,
        TradeState::Expired => EXPIRED,
        TradeState::Paid => PAID,
        TradeState::Approved => APPROVED,
        TradeState::Missing | TradeState::Open => return None,
    };
    Some(invariant(format!("never-{}", state.name()), move |obs| {
        match obs.changes.iter().find(|c| c.after & flag != 0 && c.before & flag == 0) {
            None => Ok(()),
            Some(c) => Err(Violation::new(
                format!("trade {} became {} at {}", obs.trade_name(c.trade), state.name(), obs.describe_step()),
                Expect { trades: vec![(c.trade, TradeState::from_flags(c.before))], ..Default::default() },
            )),
        }
    }))
}

/// The flags trade `trade` must have after `action` succeeded, given its flags before.
fn flags_after(action: &Action, scenario: &Scenario, trade: TradeId, before: u8) -> u8 {
    let has_agent = scenario.trades[trade].terms.agent.is_some();
    match action {
        Action::CreateTrade { .. } => CREATED,
        Action::CreateSignedTrade { .. } if has_agent => CREATED | PAID,
        Action::CreateSignedTrade { .. } => CREATED | PAID | SETTLED,
        Action::SettleSigned { .. } => CREATED | PAID | APPROVED | SETTLED,
        Action::Pay { .. } if !has_agent || before & APPROVED != 0 => before | PAID | SETTLED,
        Action::Pay { .. } => before | PAID,
        Action::Approve { .. } if before & PAID != 0 => before | APPROVED | SETTLED,
        Action::Approve { .. } => before | APPROVED,
        Action::SettleWithPayment { .. } => before | CREATED | PAID | APPROVED | SETTLED,
        Action::Cancel { .. } => before | CANCELLED,
        Action::Release { .. } => before | EXPIRED,
        Action::Batch { .. } => before | APPROVED | SETTLED,
        Action::Offer { .. } => CREATED,
        _ => before,
    }
}

fn flag_names(flags: u8) -> String {
    let names: Vec<&str> = [
        (CREATED, "created"),
        (PAID, "paid"),
        (APPROVED, "approved"),
        (SETTLED, "settled"),
        (CANCELLED, "cancelled"),
        (EXPIRED, "expired"),
    ]
    .iter()
    .filter(|(f, _)| flags & f != 0)
    .map(|(_, n)| *n)
    .collect();
    if names.is_empty() { "none".into() } else { names.join("+") }
}

fn check_statuses(obs: &Observation<'_>) -> Result<(), Violation> {
    let named = trades_of(&obs.step.action);
    for c in obs.changes {
        let expected = if obs.succeeded() && named.contains(&c.trade) {
            flags_after(&obs.step.action, obs.scenario, c.trade, c.before)
        } else {
            c.before
        };
        if c.after != expected {
            let why = if !named.contains(&c.trade) {
                "the step does not name this trade"
            } else if !obs.succeeded() {
                "a refused step changes nothing"
            } else {
                "that is not what this kind of step does"
            };
            return Err(Violation::new(
                format!(
                    "after {}, trade {} has status {} (flags {}) but should have {} (flags {}): {why}",
                    obs.describe_step(),
                    obs.trade_name(c.trade),
                    flag_names(c.after),
                    c.after,
                    flag_names(expected),
                    expected
                ),
                Expect { trades: vec![(c.trade, TradeState::from_flags(expected))], ..Default::default() },
            ));
        }
    }
    Ok(())
}

/// The trades whose status changed in this observation, rendered for a message.
fn changes_text(obs: &Observation<'_>) -> String {
    let changed: Vec<String> = obs
        .changes
        .iter()
        .filter(|c| c.before != c.after)
        .map(|c| format!("{} {} -> {}", obs.trade_name(c.trade), flag_names(c.before), flag_names(c.after)))
        .collect();
    if changed.is_empty() { "no trade changed status".into() } else { format!("trades: {}", changed.join(", ")) }
}

fn check_balances(obs: &Observation<'_>) -> Result<(), Violation> {
    let mut wrong = Vec::new();
    let mut expect = Expect::default();
    for (party, got) in obs.positions {
        let want = obs.model.position(obs.scenario, *party);
        if got.units != want.units || got.cash != want.cash {
            wrong.push(format!(
                "{} has {} units and ¥{} but should have {} units and ¥{}",
                obs.party_name(*party),
                got.units,
                got.cash,
                want.units,
                want.cash
            ));
            expect.balances.push((
                Holder::Party(*party),
                BalanceExpect { units: Some(want.units), cash: Some(want.cash), ..Default::default() },
            ));
        }
    }
    if wrong.is_empty() {
        return Ok(());
    }
    Err(Violation::new(
        format!(
            "after {}: {} ({}; a settled trade moves both legs in full, anything else moves nothing)",
            obs.describe_step(),
            wrong.join("; "),
            changes_text(obs)
        ),
        expect,
    ))
}

fn check_holds(obs: &Observation<'_>) -> Result<(), Violation> {
    let mut wrong = Vec::new();
    let mut expect = Expect::default();
    for (party, got) in obs.positions {
        let want = obs.model.position(obs.scenario, *party);
        if got.units_held != want.units_held || got.cash_held != want.cash_held {
            wrong.push(format!(
                "{} holds {} units and ¥{} but its open trades hold {} units and ¥{}",
                obs.party_name(*party),
                got.units_held,
                got.cash_held,
                want.units_held,
                want.cash_held
            ));
            expect.balances.push((
                Holder::Party(*party),
                BalanceExpect {
                    units_held: Some(want.units_held),
                    cash_held: Some(want.cash_held),
                    ..Default::default()
                },
            ));
        }
    }
    if wrong.is_empty() {
        return Ok(());
    }
    let open: Vec<&str> = obs.model.open_trades().map(|t| obs.trade_name(t)).collect();
    Err(Violation::new(
        format!("after {}: {} (open trades: {})", obs.describe_step(), wrong.join("; "), open.join(", ")),
        expect,
    ))
}

fn check_supply(obs: &Observation<'_>) -> Result<(), Violation> {
    let (units, cash) = obs.supplies;
    let (want_units, want_cash) = (obs.model.units_supply, obs.model.cash_supply);
    let expect =
        Expect { supply: Some(SupplyExpect { units: Some(want_units), cash: Some(want_cash) }), ..Default::default() };
    if units != want_units || cash != want_cash {
        return Err(Violation::new(
            format!(
                "after {}: supplies are {units} units and ¥{cash} but issues minus redemptions make {want_units} \
                 units and ¥{want_cash}",
                obs.describe_step()
            ),
            expect,
        ));
    }
    if obs.sweep {
        let held = obs
            .positions
            .iter()
            .fold((U256::ZERO, U256::ZERO), |(u, c), (_, b)| (u.wrapping_add(b.units), c.wrapping_add(b.cash)));
        if held != (units, cash) {
            return Err(Violation::new(
                format!(
                    "after {}: the parties hold {} units and ¥{} in all but the supplies are {units} units and ¥{cash}",
                    obs.describe_step(),
                    held.0,
                    held.1
                ),
                expect,
            ));
        }
    }
    Ok(())
}

// ---------------------------------------------------------------- what a step touches

/// The trades whose status `action` may change.
pub fn trades_of(action: &Action) -> Vec<TradeId> {
    match action {
        Action::CreateTrade { trade }
        | Action::CreateSignedTrade { trade, .. }
        | Action::Pay { trade }
        | Action::Approve { trade }
        | Action::SettleWithPayment { trade, .. }
        | Action::SettleSigned { trade, .. }
        | Action::Cancel { trade, .. }
        | Action::Release { trade, .. } => vec![*trade],
        Action::Batch { trades, .. } => {
            let mut v = trades.clone();
            v.sort_unstable();
            v.dedup();
            v
        }
        Action::Offer { allotments, .. } => allotments.clone(),
        _ => Vec::new(),
    }
}

/// Every trade `action` refers to (those it may change, and those whose signatures it uses).
fn referenced_trades(action: &Action) -> Vec<TradeId> {
    let mut v = trades_of(action);
    if let Action::CreateSignedTrade { signatures_of, .. }
    | Action::SettleWithPayment { signatures_of, .. }
    | Action::SettleSigned { signatures_of, .. } = action
    {
        v.push(*signatures_of);
    }
    v
}

/// The trade a step defines in a scenario file (its first such step states the terms).
fn defines(action: &Action) -> Option<TradeId> {
    match action {
        Action::CreateTrade { trade }
        | Action::CreateSignedTrade { trade, .. }
        | Action::SettleSigned { trade, .. } => Some(*trade),
        _ => None,
    }
}

/// The parties whose positions `action` may change.
fn parties_of(scenario: &Scenario, action: &Action) -> Vec<PartyId> {
    let mut v = match action {
        Action::Issue { to, .. } => vec![*to],
        Action::Redeem { from, .. } => vec![*from],
        Action::Transfer { from, to, .. } => vec![*from, *to],
        Action::Deposit { to: Holder::Party(p), .. } | Action::Withdraw { party: p, .. } => vec![*p],
        _ => trades_of(action)
            .into_iter()
            .flat_map(|t| [scenario.trades[t].terms.seller, scenario.trades[t].terms.buyer])
            .collect(),
    };
    v.sort_unstable();
    v.dedup();
    v
}

/// Refuses scenarios the checker does not model (bonds and their payments, deposits to the
/// instrument).
fn supported(scenario: &Scenario) -> Result<(), ScenarioError> {
    if scenario.instrument.bond.is_some() {
        return Err(ScenarioError::Setup(
            "the property checker models plain security units, not a bond: remove [instrument.bond]".into(),
        ));
    }
    for (i, step) in scenario.steps.iter().enumerate() {
        let unsupported = matches!(
            step.action,
            Action::PaymentRound { .. }
                | Action::AddProgramme { .. }
                | Action::ClaimBenefit { .. }
                | Action::Deposit { to: Holder::Instrument, .. }
        );
        if unsupported {
            return Err(ScenarioError::Setup(format!(
                "step {i} is a `{}` step, which the property checker does not model",
                step.action.kind()
            )));
        }
    }
    Ok(())
}

// ---------------------------------------------------------------- checking a scenario

/// How a scenario is checked.
#[derive(Clone, Copy, Debug)]
pub struct CheckOptions {
    /// A full sweep (every party's position, every trade's status) every this many steps, and after
    /// the last; 1 sweeps after every step, 0 only after the last.
    pub sweep_every: usize,
}

impl Default for CheckOptions {
    fn default() -> Self {
        Self { sweep_every: 1_000 }
    }
}

/// Counts over a checked run.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stats {
    /// Steps executed.
    pub steps: usize,
    /// Steps that succeeded.
    pub succeeded: usize,
    /// Transactions mined.
    pub transactions: u64,
    /// Gas they used.
    pub gas_used: u64,
    /// Per step kind: (kind, steps, succeeded).
    pub kinds: Vec<(String, usize, usize)>,
    /// Refused steps by error name: (error, steps).
    pub refused: Vec<(String, usize)>,
    /// Trades created on chain.
    pub created: usize,
    /// Trades settled.
    pub settled: usize,
    /// Trades cancelled.
    pub cancelled: usize,
    /// Trades released after their deadline.
    pub expired: usize,
    /// Full sweeps made.
    pub sweeps: usize,
}

impl Stats {
    fn record(&mut self, outcome: &StepOutcome) {
        self.steps += 1;
        let ok = outcome.result == StepResult::Ok;
        self.succeeded += usize::from(ok);
        self.transactions += u64::from(outcome.transactions);
        self.gas_used += outcome.gas_used;
        match self.kinds.iter_mut().find(|(k, ..)| *k == outcome.kind) {
            Some((_, n, s)) => {
                *n += 1;
                *s += usize::from(ok);
            }
            None => self.kinds.push((outcome.kind.clone(), 1, usize::from(ok))),
        }
        if let Some(error) = outcome.result.error() {
            match self.refused.iter_mut().find(|(e, _)| e == error) {
                Some((_, n)) => *n += 1,
                None => self.refused.push((error.to_string(), 1)),
            }
        }
    }

    fn transition(&mut self, change: &StatusChange) {
        let new = change.after & !change.before;
        self.created += usize::from(new & CREATED != 0);
        self.settled += usize::from(new & SETTLED != 0);
        self.cancelled += usize::from(new & CANCELLED != 0);
        self.expired += usize::from(new & EXPIRED != 0);
    }
}

/// An invariant that broke, where, and how.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Found {
    /// The invariant's name.
    pub invariant: String,
    /// The step after which it broke (position from 0).
    pub index: usize,
    /// What is wrong.
    pub message: String,
    /// The expectation that would have held (see [`Violation::expect`]).
    pub expect: Expect,
}

/// The result of checking a scenario.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checked {
    /// Counts.
    pub stats: Stats,
    /// Each executed step's error name, if it was refused.
    pub errors: Vec<Option<String>>,
    /// The first invariant that broke, if any (the run stops there).
    pub found: Option<Found>,
}

/// Checks `scenario` step by step against `invariants` on `chain`, with party `i` using `keys[i]`;
/// stops at the first violation. `progress` (if given) counts executed steps.
pub async fn check_on<C: Chain>(
    chain: &mut C,
    scenario: &Scenario,
    keys: &[PrivateKeySigner],
    invariants: &[Box<dyn Invariant>],
    options: &CheckOptions,
    progress: Option<&AtomicU64>,
) -> Result<Checked, ScenarioError> {
    supported(scenario)?;
    let mut runner = Runner::deploy(chain, scenario, keys).await?;
    let suite = *runner.suite();
    let ids: Vec<B256> = (0..scenario.trades.len()).map(|t| runner.trade_id(t)).collect();
    let everyone: Vec<PartyId> = (0..scenario.parties.len()).collect();

    // The model starts from the deployed chain (empty balances, unless the plan funds someone).
    let mut model = Model::new(scenario);
    for p in &everyone {
        let b: Balances = suite.position(chain, runner.account(*p)).await?.into();
        model.units[*p] = b.units;
        model.cash[*p] = b.cash;
    }
    (model.units_supply, model.cash_supply) = suite.supplies(chain).await?;

    let mut known = vec![false; scenario.trades.len()];
    let mut known_list: Vec<TradeId> = Vec::new();
    let mut stats = Stats::default();
    let mut errors = Vec::with_capacity(scenario.steps.len());
    let mut found = None;
    let last = scenario.steps.len().saturating_sub(1);
    for (index, step) in scenario.steps.iter().enumerate() {
        let outcome = runner.execute_step(chain, index, step).await?;
        stats.record(&outcome);
        errors.push(outcome.result.error().map(str::to_string));
        for t in referenced_trades(&step.action) {
            if !known[t] {
                known[t] = true;
                known_list.push(t);
            }
        }
        if outcome.result == StepResult::Ok {
            model.apply_step(&step.action);
        }
        let sweep = index == last || (options.sweep_every > 0 && (index + 1) % options.sweep_every == 0);
        stats.sweeps += usize::from(sweep);

        let named = trades_of(&step.action);
        let mut changes = Vec::with_capacity(named.len());
        for t in if sweep { &known_list } else { &named } {
            let after = suite.trade_status(chain, ids[*t]).await?;
            let before = model.status(*t);
            if before != after || named.contains(t) {
                changes.push(StatusChange { trade: *t, before, after });
            }
        }
        for c in &changes {
            model.apply_change(scenario, c);
            stats.transition(c);
        }
        let parties = if sweep { everyone.clone() } else { parties_of(scenario, &step.action) };
        let mut positions = Vec::with_capacity(parties.len());
        for p in parties {
            positions.push((p, Balances::from(suite.position(chain, runner.account(p)).await?)));
        }
        let supplies = suite.supplies(chain).await?;
        let observation = Observation {
            scenario,
            index,
            step,
            outcome: &outcome,
            model: &model,
            changes: &changes,
            positions: &positions,
            supplies,
            sweep,
        };
        for inv in invariants {
            if let Err(v) = inv.check(&observation) {
                found = Some(Found { invariant: inv.name().to_string(), index, message: v.message, expect: *v.expect });
                break;
            }
        }
        if let Some(p) = progress {
            p.fetch_add(1, Ordering::Relaxed);
        }
        if found.is_some() {
            break;
        }
    }
    Ok(Checked { stats, errors, found })
}

/// Settings of the in-process chain property runs use: the default hard fork, a fixed genesis time
/// (scenarios are relative to their start, so any time gives the same run).
fn revm_options() -> RevmOptions {
    RevmOptions::default()
}

/// [`check_on`] on a fresh in-process chain with Anvil's development keys.
pub fn check(
    scenario: &Scenario,
    invariants: &[Box<dyn Invariant>],
    options: &CheckOptions,
    progress: Option<&AtomicU64>,
) -> Result<Checked, ScenarioError> {
    let mut chain = RevmChain::new(&revm_options(), &anvil::dev_accounts());
    parallel::block_on(check_on(&mut chain, scenario, &anvil::dev_signers(), invariants, options, progress))
}

// ---------------------------------------------------------------- property runs

/// Settings of a property run.
#[derive(Clone, Copy, Debug)]
pub struct Options {
    /// Random steps after the setup.
    pub steps: usize,
    /// How the sequence is checked.
    pub check: CheckOptions,
    /// Shrink a failing sequence (otherwise the whole prefix up to the failure is written).
    pub shrink: bool,
    /// Most candidate sequences replayed while shrinking.
    pub shrink_budget: usize,
}

impl Default for Options {
    fn default() -> Self {
        Self { steps: 10_000, check: CheckOptions::default(), shrink: true, shrink_budget: 5_000 }
    }
}

/// A broken invariant, its shrunk sequence and the scenario file that replays it.
#[derive(Clone, Debug)]
pub struct Failure {
    /// The violation in the generated sequence.
    pub found: Found,
    /// The shrunk sequence as a scenario: refused steps expect their errors, the last step expects
    /// what the invariant expected.
    pub shrunk: Scenario,
    /// The violation in the shrunk sequence (at its last step).
    pub shrunk_found: Found,
    /// Candidate sequences replayed while shrinking.
    pub candidates: usize,
    /// The shrunk scenario as a scenario file.
    pub toml: String,
    /// Whether the file, parsed back and checked, breaks the same invariant at the same step.
    pub reproduced: bool,
}

/// The result of one seed.
#[derive(Clone, Debug)]
pub struct PropertyRun {
    /// The seed.
    pub seed: u64,
    /// Steps of the generated sequence (setup included).
    pub generated: usize,
    /// What the check counted.
    pub stats: Stats,
    /// The failure, if an invariant broke.
    pub failure: Option<Failure>,
    /// Wall-clock time, shrinking included.
    pub elapsed: Duration,
}

/// Generates the sequence of `seed`, checks it, and shrinks a failure. `progress` counts steps
/// checked (not those replayed while shrinking).
pub fn run(
    seed: u64,
    options: &Options,
    invariants: &[Box<dyn Invariant>],
    progress: Option<&AtomicU64>,
) -> Result<PropertyRun, ScenarioError> {
    let started = Instant::now();
    let scenario = generate(seed, options.steps);
    let checked = check(&scenario, invariants, &options.check, progress)?;
    let failure = match &checked.found {
        None => None,
        Some(found) => Some(explain(&scenario, found, invariants, options)?),
    };
    Ok(PropertyRun { seed, generated: scenario.steps.len(), stats: checked.stats, failure, elapsed: started.elapsed() })
}

/// Runs independent seeds on up to `threads` threads; results come back in seed order.
pub fn run_seeds(
    seeds: &[u64],
    options: &Options,
    invariants: &[Box<dyn Invariant>],
    threads: usize,
    progress: Option<&AtomicU64>,
) -> Vec<Result<PropertyRun, ScenarioError>> {
    parallel::map(seeds, threads, |seed| run(*seed, options, invariants, progress))
}

/// Shrinks (if asked) the prefix up to a violation and writes it as a scenario file.
fn explain(
    scenario: &Scenario,
    found: &Found,
    invariants: &[Box<dyn Invariant>],
    options: &Options,
) -> Result<Failure, ScenarioError> {
    // Short sequences sweep after every step, so a violation is seen where it happens; long ones (a
    // late failure, or no shrinking) sweep as the run did, which sees it at the same steps.
    let sweep = |len: usize| CheckOptions { sweep_every: if len <= 2_000 { 1 } else { options.check.sweep_every } };
    // The steps up to the failure; collapsing a trade's steps appends new ones after them.
    let mut work = Scenario {
        name: scenario.name.clone(),
        description: scenario.description.clone(),
        start: scenario.start,
        instrument: scenario.instrument.clone(),
        cash: scenario.cash.clone(),
        parties: scenario.parties.clone(),
        trades: scenario.trades.clone(),
        programmes: scenario.programmes.clone(),
        watch: scenario.watch.clone(),
        steps: scenario.steps[..=found.index].to_vec(),
    };
    let fails = |work: &Scenario, candidate: &[usize]| -> Result<bool, ScenarioError> {
        if !writable(work, candidate) {
            return Ok(false);
        }
        let checked = check(&subset(work, candidate), invariants, &sweep(candidate.len()), None)?;
        Ok(checked.found.is_some_and(|f| f.invariant == found.invariant))
    };
    let mut kept: Vec<usize> = (0..=found.index).collect();
    let mut candidates = 0;
    if options.shrink {
        loop {
            let budget = options.shrink_budget.saturating_sub(candidates);
            let (smaller, tried) = ddmin(kept, |c| fails(&work, c), budget)?;
            candidates += tried;
            kept = smaller;
            // Then try doing each trade's steps in one signed step; if that keeps the failure, shrink again.
            let budget = options.shrink_budget.saturating_sub(candidates);
            let collapsed = collapse(
                &mut work,
                &kept,
                |w, c| {
                    candidates += 1;
                    fails(w, c)
                },
                budget,
            )?;
            match collapsed {
                Some(collapsed) => kept = collapsed,
                None => break,
            }
        }
    }
    let mut shrunk = subset(&work, &kept);
    let checked = check(&shrunk, invariants, &sweep(shrunk.steps.len()), None)?;
    let shrunk_found = checked.found.clone().unwrap_or_else(|| found.clone());
    shrunk.steps.truncate(shrunk_found.index + 1);
    for (step, error) in shrunk.steps.iter_mut().zip(&checked.errors) {
        step.expect = Expect::default();
        // `TxFailed` (no revert data) is not an error a scenario file can name.
        step.expect.error = error.clone().filter(|e| crate::scenario::events::is_known_error(e));
    }
    if let Some(last) = shrunk.steps.last_mut() {
        let e = &shrunk_found.expect;
        if e.error.is_some() {
            last.expect.error.clone_from(&e.error);
        }
        last.expect.events.clone_from(&e.events);
        last.expect.balances.clone_from(&e.balances);
        last.expect.supply.clone_from(&e.supply);
        last.expect.trades.clone_from(&e.trades);
        last.note = Some(format!("breaks `{}`: {}", shrunk_found.invariant, shrunk_found.message));
    }
    shrunk.name = format!("{}: `{}` breaks", scenario.name, found.invariant);
    shrunk.description = Some(if options.shrink {
        format!(
            "Shrunk from {} steps to {} (delta debugging, and trades collapsed into signed steps); the last step \
             fails the invariant's expectation.",
            found.index + 1,
            shrunk.steps.len()
        )
    } else {
        format!("The {} steps up to the failure; the last step fails the invariant's expectation.", shrunk.steps.len())
    });
    shrunk.watch =
        (0..shrunk.parties.len()).filter(|p| shrunk.parties[*p].role == Role::Investor).map(Holder::Party).collect();
    let toml = write::write(&shrunk)?;
    let reproduced = match parse::parse(&toml) {
        Ok(parsed) => check(&parsed, invariants, &sweep(parsed.steps.len()), None)?
            .found
            .is_some_and(|f| f.invariant == shrunk_found.invariant && f.index + 1 == parsed.steps.len()),
        Err(_) => false,
    };
    Ok(Failure { found: found.clone(), shrunk, shrunk_found, candidates, toml, reproduced })
}

/// A shrinking step deletion cannot take: a trade created and then paid, approved or settled in
/// later steps is replaced by one step that does it all from both parties' signatures
/// (`settle_signed`, or `create_signed_trade`), placed where its last step was. Returns the first
/// such candidate (steps of `work`, to which the new step is appended) that still fails.
fn collapse(
    work: &mut Scenario,
    kept: &[usize],
    mut fails: impl FnMut(&Scenario, &[usize]) -> Result<bool, ScenarioError>,
    budget: usize,
) -> Result<Option<Vec<usize>>, ScenarioError> {
    let mut tries = 0;
    let mut seen = BTreeSet::new();
    for &first in kept {
        let Action::CreateTrade { trade } = work.steps[first].action else { continue };
        if !seen.insert(trade) {
            continue;
        }
        let on_trade: Vec<usize> =
            kept.iter().copied().filter(|i| referenced_trades(&work.steps[*i].action).contains(&trade)).collect();
        if on_trade.len() < 2 {
            continue;
        }
        let Some(&last) = on_trade.last() else { continue };
        let terms = &work.trades[trade].terms;
        let by = terms.agent.unwrap_or(terms.seller);
        for action in [
            Action::SettleSigned { trade, by, signatures_of: trade },
            Action::CreateSignedTrade { trade, by, signatures_of: trade },
        ] {
            if tries >= budget {
                return Ok(None);
            }
            tries += 1;
            work.steps.push(Step { action, expect: Expect::default(), origin: Origin::Setup, note: None });
            let new = work.steps.len() - 1;
            let candidate: Vec<usize> = kept
                .iter()
                .filter(|i| !on_trade.contains(i) || **i == last)
                .map(|i| if *i == last { new } else { *i })
                .collect();
            if fails(work, &candidate)? {
                return Ok(Some(candidate));
            }
        }
    }
    Ok(None)
}

/// Delta debugging (complements only): removes chunks of `items`, then ever smaller ones down to
/// single items, while `fails` still holds; the result is 1-minimal unless the budget of `fails`
/// calls runs out. Returns the kept items and the number of calls.
pub fn ddmin<E>(
    mut items: Vec<usize>,
    mut fails: impl FnMut(&[usize]) -> Result<bool, E>,
    budget: usize,
) -> Result<(Vec<usize>, usize), E> {
    let mut n = 2;
    let mut tries = 0;
    while items.len() >= 2 {
        let chunk = items.len().div_ceil(n);
        let mut reduced = false;
        let mut start = 0;
        while start < items.len() {
            if tries >= budget {
                return Ok((items, tries));
            }
            let end = (start + chunk).min(items.len());
            let candidate: Vec<usize> = items[..start].iter().chain(&items[end..]).copied().collect();
            tries += 1;
            if fails(&candidate)? {
                items = candidate;
                n = (n - 1).max(2);
                reduced = true;
                break;
            }
            start = end;
        }
        if !reduced {
            if n >= items.len() {
                break;
            }
            n = (2 * n).min(items.len());
        }
    }
    Ok((items, tries))
}

/// Whether the steps at `indices` can be written as a scenario file: every trade a step refers to
/// is defined by that step or an earlier one.
fn writable(scenario: &Scenario, indices: &[usize]) -> bool {
    let mut defined = vec![false; scenario.trades.len()];
    for i in indices {
        let action = &scenario.steps[*i].action;
        if let Some(t) = defines(action) {
            defined[t] = true;
        }
        if referenced_trades(action).iter().any(|t| !defined[*t]) {
            return false;
        }
        if let Action::Approve { trade } = action
            && scenario.trades[*trade].terms.agent.is_none()
        {
            return false;
        }
    }
    true
}

/// The scenario with only the steps at `indices` (in that order), and only the trades they refer
/// to (renumbered in order of first reference); steps are numbered as a file would number them.
pub fn subset(scenario: &Scenario, indices: &[usize]) -> Scenario {
    let mut map: Vec<Option<TradeId>> = vec![None; scenario.trades.len()];
    let mut trades = Vec::new();
    let mut steps = Vec::with_capacity(indices.len());
    for (number, i) in indices.iter().enumerate() {
        let step = &scenario.steps[*i];
        let mut referenced = referenced_trades(&step.action);
        referenced.extend(step.expect.trades.iter().map(|(t, _)| *t));
        for t in referenced {
            if map[t].is_none() {
                map[t] = Some(trades.len());
                trades.push(scenario.trades[t].clone());
            }
        }
        let m = |t: &TradeId| map[*t].unwrap_or_default();
        let action = match &step.action {
            Action::CreateTrade { trade } => Action::CreateTrade { trade: m(trade) },
            Action::CreateSignedTrade { trade, by, signatures_of } => {
                Action::CreateSignedTrade { trade: m(trade), by: *by, signatures_of: m(signatures_of) }
            }
            Action::Pay { trade } => Action::Pay { trade: m(trade) },
            Action::Approve { trade } => Action::Approve { trade: m(trade) },
            Action::SettleWithPayment { trade, by, signatures_of } => {
                Action::SettleWithPayment { trade: m(trade), by: *by, signatures_of: m(signatures_of) }
            }
            Action::SettleSigned { trade, by, signatures_of } => {
                Action::SettleSigned { trade: m(trade), by: *by, signatures_of: m(signatures_of) }
            }
            Action::Cancel { trade, by } => Action::Cancel { trade: m(trade), by: *by },
            Action::Release { trade, by } => Action::Release { trade: m(trade), by: *by },
            Action::Batch { trades, netted, by } => {
                Action::Batch { trades: trades.iter().map(m).collect(), netted: *netted, by: *by }
            }
            Action::Offer { underwriter, agent, deadline, allotments } => Action::Offer {
                underwriter: *underwriter,
                agent: *agent,
                deadline: *deadline,
                allotments: allotments.iter().map(m).collect(),
            },
            other => other.clone(),
        };
        let mut expect = step.expect.clone();
        for (t, _) in &mut expect.trades {
            *t = m(t);
        }
        steps.push(Step {
            action,
            expect,
            origin: Origin::Timeline { number: number + 1, line: 0 },
            note: step.note.clone(),
        });
    }
    Scenario { trades, steps, ..scenario.clone() }
}

// ---------------------------------------------------------------- the generator

/// The investors of a generated sequence.
pub const INVESTORS: [&str; 4] = ["alice", "bob", "carol", "dave"];
const FIRST_INVESTOR: PartyId = Role::SUITE.len();
const AGENT: PartyId = FIRST_INVESTOR + INVESTORS.len();
const HOUR: u64 = 3_600;
/// KYC long enough for any run (a run advances the clock by about three years per 100,000 steps).
const KYC: u64 = 100 * 365 * DAY;
/// Units and cash each investor is funded with.
const FUND_UNITS: u64 = 1_000;
const FUND_CASH: u64 = 1_000_000;

/// The generator's forecast of a trade.
#[derive(Clone, Debug)]
struct Forecast {
    seller: usize,
    buyer: usize,
    agent: bool,
    units: u64,
    amount: u64,
    deadline: u64,
    status: u8,
}

/// The generator: a forecast of the state that steers the choice of steps.
struct Gen {
    rng: Rng,
    /// Seconds after the start: the last clock target (the chain runs a few seconds ahead, one per
    /// transaction; targets are on the half hour and deadlines on the hour, so the forecast of
    /// "past the deadline" is right).
    now: u64,
    securities: [bool; 4],
    bank: [bool; 4],
    units: [u64; 4],
    units_held: [u64; 4],
    cash: [u64; 4],
    cash_held: [u64; 4],
    trades: Vec<Forecast>,
    defs: Vec<TradeDef>,
    open: Vec<TradeId>,
    steps: Vec<Step>,
    references: usize,
    /// Whether the forecast expects the step just drawn to succeed.
    ok: bool,
    /// That expectation for every step drawn (setup included).
    expected: Vec<bool>,
}

fn step(action: Action, origin: Origin) -> Step {
    Step { action, expect: Expect::default(), origin, note: None }
}

/// The parties of a generated scenario: the suite roles (as the parser declares them), the
/// investors, and the agent.
fn parties() -> Vec<Party> {
    let mut parties: Vec<Party> = Role::SUITE
        .iter()
        .map(|r| Party {
            name: r.name().into(),
            role: *r,
            class: 2,
            country: 392,
            kyc_valid_for: 3 * 365 * DAY,
            address: None,
        })
        .collect();
    for name in INVESTORS {
        parties.push(Party {
            name: name.into(),
            role: Role::Investor,
            class: 0,
            country: 392,
            kyc_valid_for: KYC,
            address: None,
        });
    }
    parties.push(Party {
        name: "agent".into(),
        role: Role::Agent,
        class: 2,
        country: 392,
        kyc_valid_for: KYC,
        address: None,
    });
    parties
}

/// The random sequence of `seed`: a setup (each investor registered in both registries and funded
/// with 1,000 units and ¥1,000,000), then `steps` random steps.
pub fn generate(seed: u64, steps: usize) -> Scenario {
    generate_with_forecast(seed, steps).0
}

/// [`generate`], and whether the generator's forecast expects each step to succeed.
fn generate_with_forecast(seed: u64, steps: usize) -> (Scenario, Vec<bool>) {
    let mut g = Gen {
        rng: Rng::from_state(seed ^ 0x6b65_7373_6169_7072),
        now: 0,
        securities: [true; 4],
        bank: [true; 4],
        units: [FUND_UNITS; 4],
        units_held: [0; 4],
        cash: [FUND_CASH; 4],
        cash_held: [0; 4],
        trades: Vec::new(),
        defs: Vec::new(),
        open: Vec::new(),
        steps: Vec::with_capacity(steps + 3 * INVESTORS.len()),
        references: 0,
        ok: true,
        expected: vec![true; 3 * INVESTORS.len()],
    };
    for i in 0..INVESTORS.len() {
        g.steps.push(step(Action::Register { party: FIRST_INVESTOR + i, registry: Registry::Both }, Origin::Setup));
    }
    for i in 0..INVESTORS.len() {
        g.steps.push(step(Action::Issue { to: FIRST_INVESTOR + i, units: U256::from(FUND_UNITS) }, Origin::Setup));
    }
    for (i, name) in INVESTORS.iter().enumerate() {
        let to = Holder::Party(FIRST_INVESTOR + i);
        let reference = format!("FUND-{name}");
        g.steps.push(step(Action::Deposit { to, amount: U256::from(FUND_CASH), reference }, Origin::Setup));
    }
    for number in 1..=steps {
        let action = g.next_action();
        g.expected.push(g.ok);
        g.steps.push(step(action, Origin::Timeline { number, line: 0 }));
    }
    let scenario = Scenario {
        name: format!("property run, seed {seed}"),
        description: Some(format!("{steps} random steps over four investors and a settlement agent")),
        start: None,
        instrument: Instrument { token: TokenNames { name: "Kessai Units".into(), symbol: "KSU".into() }, bond: None },
        cash: TokenNames { name: "DCJPY (Kessai Bank)".into(), symbol: "DCJPY".into() },
        parties: parties(),
        trades: g.defs,
        programmes: Vec::new(),
        watch: Vec::new(),
        steps: g.steps,
    };
    (scenario, g.expected)
}

impl Gen {
    fn party(i: usize) -> PartyId {
        FIRST_INVESTOR + i
    }

    fn free_units(&self, i: usize) -> u64 {
        self.units[i].saturating_sub(self.units_held[i])
    }

    fn free_cash(&self, i: usize) -> u64 {
        self.cash[i].saturating_sub(self.cash_held[i])
    }

    fn investor(&mut self) -> usize {
        self.rng.below(INVESTORS.len() as u64) as usize
    }

    /// Two different investors.
    fn pair(&mut self) -> (usize, usize) {
        let s = self.investor();
        let b = (s + 1 + self.rng.below(INVESTORS.len() as u64 - 1) as usize) % INVESTORS.len();
        (s, b)
    }

    fn live(&self, t: TradeId) -> bool {
        let f = &self.trades[t];
        is_open(f.status) && self.now <= f.deadline
    }

    /// A trade to act on: usually one of `preferred`, else any trade (most of which must refuse);
    /// mostly none when nothing is preferred (the step becomes another).
    fn pick_trade(&mut self, preferred: &[TradeId]) -> Option<TradeId> {
        if !preferred.is_empty() && self.rng.chance(85) {
            return self.rng.pick(preferred);
        }
        let n = self.trades.len() as u64;
        (n > 0 && (!preferred.is_empty() || self.rng.chance(25))).then(|| self.rng.below(n) as usize)
    }

    fn open_where(&self, f: impl Fn(&Forecast) -> bool) -> Vec<TradeId> {
        self.open.iter().copied().filter(|t| self.live(*t) && f(&self.trades[*t])).collect()
    }

    /// Whether both legs of trade `t` would pass, units and cash from holds or from free balances.
    fn legs_pass(&self, t: TradeId, units_held: bool, cash_held: bool) -> bool {
        let f = &self.trades[t];
        let (s, b) = (f.seller, f.buyer);
        self.securities[s]
            && self.securities[b]
            && self.bank[s]
            && self.bank[b]
            && (units_held || self.free_units(s) >= f.units)
            && (cash_held || self.free_cash(b) >= f.amount)
    }

    fn settle(&mut self, t: TradeId, units_held: bool, cash_held: bool) {
        let f = self.trades[t].clone();
        if units_held {
            self.units_held[f.seller] -= f.units;
        }
        if cash_held {
            self.cash_held[f.buyer] -= f.amount;
        }
        self.units[f.seller] -= f.units;
        self.units[f.buyer] += f.units;
        self.cash[f.buyer] -= f.amount;
        self.cash[f.seller] += f.amount;
        self.close(t, SETTLED);
    }

    fn release(&mut self, t: TradeId, flag: u8) {
        let f = self.trades[t].clone();
        self.units_held[f.seller] -= f.units;
        if f.status & PAID != 0 {
            self.cash_held[f.buyer] -= f.amount;
        }
        self.close(t, flag);
    }

    fn close(&mut self, t: TradeId, flag: u8) {
        self.trades[t].status |= flag;
        self.open.retain(|o| *o != t);
    }

    /// New terms: mostly affordable, sometimes too large or already past their deadline.
    fn new_trade(&mut self) -> TradeId {
        let (s, b) = self.pair();
        let agent = self.rng.chance(65);
        let units = if self.rng.chance(6) { self.free_units(s) + self.rng.range(1, 20) } else { self.rng.range(1, 60) };
        let amount = if self.rng.chance(4) {
            self.free_cash(b) + self.rng.range(1, 50_000)
        } else {
            units * self.rng.range(1_000, 5_000)
        };
        let deadline = if self.rng.chance(4) && self.now >= HOUR {
            // Already passed: creating it must refuse.
            self.now / HOUR * HOUR
        } else {
            (self.now / HOUR + self.rng.range(1, 48)) * HOUR
        };
        let id = self.defs.len();
        self.defs.push(TradeDef {
            name: format!("t{}", id + 1),
            terms: TradeTerms {
                seller: Self::party(s),
                buyer: Self::party(b),
                agent: agent.then_some(AGENT),
                units: U256::from(units),
                amount: U256::from(amount),
                deadline,
            },
        });
        self.trades.push(Forecast { seller: s, buyer: b, agent, units, amount, deadline, status: 0 });
        id
    }

    /// Whose signatures a signed step submits: the trade's own, now and then another trade's.
    fn signatures_of(&mut self, t: TradeId) -> TradeId {
        if t > 0 && self.rng.chance(5) { self.rng.below(t as u64) as usize } else { t }
    }

    /// Who submits an agent's step: the agent, now and then someone else.
    fn submitter(&mut self, t: TradeId) -> PartyId {
        let f = &self.trades[t];
        let default = if f.agent { AGENT } else { Self::party(f.seller) };
        if self.rng.chance(8) { Self::party(self.investor()) } else { default }
    }

    fn next_action(&mut self) -> Action {
        let roll = self.rng.below(100);
        self.ok = true;
        let action = match roll {
            0..3 => self.register(),
            3..4 => self.revoke(),
            4..7 => self.issue(),
            7..8 => self.redeem(),
            8..11 => self.transfer(),
            11..14 => self.deposit(),
            14..16 => self.withdraw(),
            16..33 => Some(self.create_trade()),
            33..38 => Some(self.create_signed_trade()),
            38..43 => Some(self.settle_signed()),
            43..59 => self.pay(),
            59..69 => self.approve(),
            69..76 => self.settle_with_payment(),
            76..81 => self.cancel(),
            81..87 => self.release_step(),
            87..95 => self.batch(),
            _ => None,
        };
        // A step with nothing to act on becomes a new trade, or time passing.
        action.unwrap_or_else(|| if self.rng.chance(70) { self.create_trade() } else { self.advance() })
    }

    fn register(&mut self) -> Option<Action> {
        let revoked: Vec<usize> = (0..INVESTORS.len()).filter(|i| !self.securities[*i] || !self.bank[*i]).collect();
        // Mostly a revoked investor is registered again, in both registries.
        let (i, registry) = match self.rng.pick(&revoked) {
            Some(i) if self.rng.chance(80) => (i, Registry::Both),
            _ => {
                let i = self.investor();
                let registry = match self.rng.below(4) {
                    0 => Registry::Securities,
                    1 => Registry::Bank,
                    _ => Registry::Both,
                };
                (i, registry)
            }
        };
        if registry != Registry::Bank {
            self.securities[i] = true;
        }
        if registry != Registry::Securities {
            self.bank[i] = true;
        }
        Some(Action::Register { party: Self::party(i), registry })
    }

    fn revoke(&mut self) -> Option<Action> {
        let i = self.investor();
        let registry = match self.rng.below(3) {
            0 => Registry::Securities,
            1 => Registry::Bank,
            _ => Registry::Both,
        };
        // Revoking an inactive record refuses; `both` revokes the securities side first, which stays
        // revoked when the bank side then refuses.
        self.ok = match registry {
            Registry::Securities => self.securities[i],
            Registry::Bank => self.bank[i],
            Registry::Both => self.securities[i] && self.bank[i],
        };
        if registry != Registry::Bank {
            self.securities[i] = false;
        }
        if self.ok && registry != Registry::Securities {
            self.bank[i] = false;
        }
        Some(Action::Revoke { party: Self::party(i), registry })
    }

    fn issue(&mut self) -> Option<Action> {
        let i = self.investor();
        let units = self.rng.range(1, 300);
        self.ok = self.securities[i];
        if self.ok {
            self.units[i] += units;
        }
        Some(Action::Issue { to: Self::party(i), units: U256::from(units) })
    }

    fn redeem(&mut self) -> Option<Action> {
        let i = self.investor();
        let free = self.free_units(i);
        let units = if self.rng.chance(90) && free > 0 { self.rng.range(1, free.min(200)) } else { free + 1 };
        self.ok = units <= free;
        if self.ok {
            self.units[i] -= units;
        }
        Some(Action::Redeem { from: Self::party(i), units: U256::from(units) })
    }

    fn transfer(&mut self) -> Option<Action> {
        let (from, to) = self.pair();
        let free = self.free_units(from);
        let units = if self.rng.chance(90) && free > 0 { self.rng.range(1, free.min(100)) } else { free + 1 };
        self.ok = units <= free && self.securities[from] && self.securities[to];
        if self.ok {
            self.units[from] -= units;
            self.units[to] += units;
        }
        Some(Action::Transfer { from: Self::party(from), to: Self::party(to), units: U256::from(units) })
    }

    fn deposit(&mut self) -> Option<Action> {
        let i = self.investor();
        let amount = self.rng.range(1, 500) * 1_000;
        self.ok = self.bank[i];
        if self.ok {
            self.cash[i] += amount;
        }
        self.references += 1;
        let reference = format!("DEP-{}", self.references);
        Some(Action::Deposit { to: Holder::Party(Self::party(i)), amount: U256::from(amount), reference })
    }

    fn withdraw(&mut self) -> Option<Action> {
        let i = self.investor();
        let free = self.free_cash(i);
        let amount = if self.rng.chance(90) && free > 0 { self.rng.range(1, free.min(400_000)) } else { free + 1 };
        self.ok = amount <= free;
        if self.ok {
            self.cash[i] -= amount;
        }
        let account = format!("ACC-{}", INVESTORS[i]);
        Some(Action::Withdraw { party: Self::party(i), amount: U256::from(amount), account })
    }

    fn create_trade(&mut self) -> Action {
        let t = self.new_trade();
        let f = self.trades[t].clone();
        self.ok = self.securities[f.seller] && self.free_units(f.seller) >= f.units && f.deadline >= self.now;
        if self.ok {
            self.units_held[f.seller] += f.units;
            self.trades[t].status = CREATED;
            self.open.push(t);
        }
        Action::CreateTrade { trade: t }
    }

    fn create_signed_trade(&mut self) -> Action {
        let t = self.new_trade();
        let signatures_of = self.signatures_of(t);
        let f = self.trades[t].clone();
        let by = if self.rng.chance(50) { AGENT } else { Self::party(f.seller) };
        let ok = signatures_of == t && f.deadline >= self.now;
        self.ok = false;
        if ok && f.agent {
            if self.securities[f.seller]
                && self.bank[f.buyer]
                && self.free_units(f.seller) >= f.units
                && self.free_cash(f.buyer) >= f.amount
            {
                self.ok = true;
                self.units_held[f.seller] += f.units;
                self.cash_held[f.buyer] += f.amount;
                self.trades[t].status = CREATED | PAID;
                self.open.push(t);
            }
        } else if ok && !f.agent && self.legs_pass(t, false, false) {
            self.ok = true;
            self.trades[t].status = CREATED | PAID;
            self.settle(t, false, false);
        }
        Action::CreateSignedTrade { trade: t, by, signatures_of }
    }

    fn settle_signed(&mut self) -> Action {
        // Now and then an existing trade: a replay, which must refuse.
        if !self.trades.is_empty() && self.rng.chance(5) {
            let t = self.rng.below(self.trades.len() as u64) as usize;
            let by = self.submitter(t);
            self.ok = false;
            return Action::SettleSigned { trade: t, by, signatures_of: t };
        }
        let t = self.new_trade();
        let signatures_of = self.signatures_of(t);
        let by = self.submitter(t);
        let f = self.trades[t].clone();
        let authorised = !f.agent || by == AGENT;
        self.ok = authorised && signatures_of == t && f.deadline >= self.now && self.legs_pass(t, false, false);
        if self.ok {
            self.trades[t].status = CREATED | PAID | APPROVED;
            self.settle(t, false, false);
        }
        Action::SettleSigned { trade: t, by, signatures_of }
    }

    fn pay(&mut self) -> Option<Action> {
        let unpaid = self.open_where(|f| f.status & PAID == 0);
        let t = self.pick_trade(&unpaid)?;
        self.ok = false;
        if self.live(t) && self.trades[t].status & PAID == 0 {
            let f = self.trades[t].clone();
            if !f.agent || f.status & APPROVED != 0 {
                if self.legs_pass(t, true, false) {
                    self.ok = true;
                    self.trades[t].status |= PAID;
                    self.settle(t, true, false);
                }
            } else if self.bank[f.buyer] && self.free_cash(f.buyer) >= f.amount {
                self.ok = true;
                self.trades[t].status |= PAID;
                self.cash_held[f.buyer] += f.amount;
            }
        }
        Some(Action::Pay { trade: t })
    }

    fn approve(&mut self) -> Option<Action> {
        let waiting = self.open_where(|f| f.agent && f.status & APPROVED == 0);
        let with_agent: Vec<TradeId> = if waiting.is_empty() || self.rng.chance(15) {
            (0..self.trades.len()).filter(|t| self.trades[*t].agent).collect()
        } else {
            waiting
        };
        let t = self.rng.pick(&with_agent)?;
        self.ok = false;
        if self.live(t) && self.trades[t].status & APPROVED == 0 {
            if self.trades[t].status & PAID != 0 {
                if self.legs_pass(t, true, true) {
                    self.ok = true;
                    self.trades[t].status |= APPROVED;
                    self.settle(t, true, true);
                }
            } else {
                self.ok = true;
                self.trades[t].status |= APPROVED;
            }
        }
        Some(Action::Approve { trade: t })
    }

    fn settle_with_payment(&mut self) -> Option<Action> {
        let unpaid = self.open_where(|f| f.status & PAID == 0);
        let t = self.pick_trade(&unpaid)?;
        let signatures_of = self.signatures_of(t);
        let by = self.submitter(t);
        let f = self.trades[t].clone();
        let authorised = !f.agent || by == AGENT;
        self.ok =
            authorised && signatures_of == t && self.live(t) && f.status & PAID == 0 && self.legs_pass(t, true, false);
        if self.ok {
            self.trades[t].status |= PAID | APPROVED;
            self.settle(t, true, false);
        }
        Some(Action::SettleWithPayment { trade: t, by, signatures_of })
    }

    fn cancel(&mut self) -> Option<Action> {
        let open = self.open.clone();
        let t = self.pick_trade(&open)?;
        let f = self.trades[t].clone();
        let mut by = vec![Self::party(f.seller), Self::party(f.buyer)];
        if f.agent {
            by.push(AGENT);
        }
        let by = if self.rng.chance(10) {
            // A stranger: an investor who is neither seller nor buyer, or the agent of an agentless trade.
            (0..INVESTORS.len()).map(Self::party).find(|p| !by.contains(p)).unwrap_or(AGENT)
        } else {
            self.rng.pick(&by).unwrap_or(AGENT)
        };
        let allowed = by == Self::party(f.seller) || by == Self::party(f.buyer) || (f.agent && by == AGENT);
        self.ok = allowed && is_open(f.status);
        if self.ok {
            self.release(t, CANCELLED);
        }
        Some(Action::Cancel { trade: t, by })
    }

    fn release_step(&mut self) -> Option<Action> {
        let expired: Vec<TradeId> = self.open.iter().copied().filter(|t| self.now > self.trades[*t].deadline).collect();
        let t = match self.rng.pick(&expired) {
            Some(t) if self.rng.chance(90) => t,
            _ => {
                let open = self.open.clone();
                self.pick_trade(&open)?
            }
        };
        let by = if self.rng.chance(50) { AGENT } else { Self::party(self.investor()) };
        self.ok = is_open(self.trades[t].status) && self.now > self.trades[t].deadline;
        if self.ok {
            self.release(t, EXPIRED);
        }
        Some(Action::Release { trade: t, by })
    }

    fn batch(&mut self) -> Option<Action> {
        let ready = self.open_where(|f| f.agent && f.status & PAID != 0 && f.status & APPROVED == 0);
        let mut chosen: Vec<TradeId> = Vec::new();
        for _ in 0..self.rng.range(1, 4) {
            if let Some(t) = self.rng.pick(&ready)
                && !chosen.contains(&t)
            {
                chosen.push(t);
            }
        }
        if chosen.is_empty() {
            // Nothing to settle yet: pay for something instead.
            return self.pay();
        }
        // Now and then a trade that cannot be in a batch: the whole batch must refuse.
        if self.rng.chance(12) && !self.trades.is_empty() {
            let t = self.rng.below(self.trades.len() as u64) as usize;
            if !chosen.contains(&t) {
                chosen.push(t);
            }
        }
        let netted = self.rng.chance(50);
        let by = if self.rng.chance(8) { Self::party(self.investor()) } else { AGENT };
        let valid = by == AGENT
            && chosen.iter().all(|t| {
                let f = &self.trades[*t];
                f.agent && self.live(*t) && f.status & PAID != 0 && f.status & APPROVED == 0
            })
            && chosen.iter().all(|t| self.legs_pass(*t, true, true));
        self.ok = valid;
        if valid {
            for t in &chosen {
                self.trades[*t].status |= APPROVED;
                self.settle(*t, true, true);
            }
        }
        Some(Action::Batch { trades: chosen, netted, by })
    }

    fn advance(&mut self) -> Action {
        // Targets on the half hour; deadlines are on the hour.
        self.now = (self.now / HOUR + self.rng.range(1, 24)) * HOUR + HOUR / 2;
        Action::Advance(Advance::Until(self.now))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_sequence() {
        let (a, b) = (generate(3, 500), generate(3, 500));
        assert_eq!(a, b);
        assert_ne!(a.steps, generate(4, 500).steps);
        assert_eq!(a.steps.len(), 500 + 3 * INVESTORS.len());
        let kinds: BTreeSet<&str> = a.steps.iter().map(|s| s.action.kind()).collect();
        for kind in [
            "register",
            "revoke",
            "issue",
            "deposit",
            "withdraw",
            "create_trade",
            "create_signed_trade",
            "pay",
            "approve",
            "settle_with_payment",
            "settle_signed",
            "cancel",
            "release",
            "batch",
            "advance",
        ] {
            assert!(kinds.contains(kind), "500 steps draw a `{kind}` step: {kinds:?}");
        }
        let netted: BTreeSet<bool> = a
            .steps
            .iter()
            .filter_map(|s| if let Action::Batch { netted, .. } = s.action { Some(netted) } else { None })
            .collect();
        assert_eq!(netted.len(), 2, "gross and netted batches");
    }

    /// Runs the standard invariants on one observation of `pay t1` (a trade without agent, alice
    /// selling 10 units to bob for ¥1,000, which settles); returns the first that breaks.
    fn judge(positions: &[(PartyId, Balances)], supplies: (u64, u64), after: u8) -> Option<(String, Violation)> {
        let (a, b) = (FIRST_INVESTOR, FIRST_INVESTOR + 1);
        let mut scenario = generate(1, 0);
        let terms = TradeTerms {
            seller: a,
            buyer: b,
            agent: None,
            units: U256::from(10),
            amount: U256::from(1_000),
            deadline: DAY,
        };
        scenario.trades.push(TradeDef { name: "t1".into(), terms });
        let step = Step {
            action: Action::Pay { trade: 0 },
            expect: Expect::default(),
            origin: Origin::Timeline { number: 1, line: 0 },
            note: None,
        };
        let outcome = StepOutcome {
            index: 12,
            origin: step.origin,
            kind: "pay".into(),
            description: "bob pays for trade t1".into(),
            note: None,
            result: StepResult::Ok,
            gas_used: 1,
            transactions: 1,
            events: Vec::new(),
            state: Vec::new(),
            checks: Vec::new(),
        };
        let mut model = Model::new(&scenario);
        (model.units[a], model.cash[b]) = (U256::from(100), U256::from(5_000));
        (model.units_supply, model.cash_supply) = (U256::from(100), U256::from(5_000));
        model.apply_change(&scenario, &StatusChange { trade: 0, before: 0, after: CREATED });
        let changes = [StatusChange { trade: 0, before: CREATED, after }];
        model.apply_change(&scenario, &changes[0]);
        let observation = Observation {
            scenario: &scenario,
            index: 12,
            step: &step,
            outcome: &outcome,
            model: &model,
            changes: &changes,
            positions,
            supplies: (U256::from(supplies.0), U256::from(supplies.1)),
            sweep: false,
        };
        standard().iter().find_map(|i| i.check(&observation).err().map(|v| (i.name().to_string(), v)))
    }

    #[test]
    fn each_standard_invariant_catches_what_it_guards() {
        let (a, b) = (FIRST_INVESTOR, FIRST_INVESTOR + 1);
        let at = |units: u64, held: u64, cash: u64| Balances {
            units: U256::from(units),
            units_held: U256::from(held),
            cash: U256::from(cash),
            cash_held: U256::ZERO,
        };
        let settled = CREATED | PAID | SETTLED;
        // Both legs moved, nothing held, supplies unchanged: every invariant holds.
        assert_eq!(judge(&[(a, at(90, 0, 1_000)), (b, at(10, 0, 4_000))], (100, 5_000), settled), None);

        // Only the security leg moved.
        let (name, v) = judge(&[(a, at(90, 0, 0)), (b, at(10, 0, 5_000))], (100, 5_000), settled).expect("breaks");
        assert_eq!(name, NO_PARTIAL_SETTLEMENT, "{}", v.message);
        assert!(v.message.contains("alice has 90 units and ¥0 but should have 90 units and ¥1000"), "{}", v.message);
        assert!(v.message.contains("t1 created -> created+paid+settled"), "{}", v.message);
        let want = BalanceExpect { units: Some(U256::from(90)), cash: Some(U256::from(1_000)), ..Default::default() };
        assert_eq!(v.expect.balances[0], (Holder::Party(a), want));

        // Settled, but the seller's units stay held.
        let (name, v) = judge(&[(a, at(90, 10, 1_000)), (b, at(10, 0, 4_000))], (100, 5_000), settled).expect("breaks");
        assert_eq!(name, HOLDS, "{}", v.message);
        assert_eq!(v.expect.balances[0].1.units_held, Some(U256::ZERO));

        // A unit appeared from nowhere (in nobody's watched balance).
        let (name, v) = judge(&[(a, at(90, 0, 1_000)), (b, at(10, 0, 4_000))], (101, 5_000), settled).expect("breaks");
        assert_eq!(name, SUPPLY, "{}", v.message);
        assert_eq!(v.expect.supply, Some(SupplyExpect { units: Some(U256::from(100)), cash: Some(U256::from(5_000)) }));

        // A payment that cancels the trade instead.
        let (name, v) =
            judge(&[(a, at(100, 0, 0)), (b, at(0, 0, 5_000))], (100, 5_000), CREATED | CANCELLED).expect("breaks");
        assert_eq!(name, STATUSES, "{}", v.message);
        assert!(v.message.contains("should have created+paid+settled"), "{}", v.message);
        assert_eq!(v.expect.trades, [(0, TradeState::Settled)]);
    }

    #[test]
    fn the_forecast_steers_most_steps_right() {
        let (scenario, expected) = generate_with_forecast(9, 3_000);
        let checked = check(&scenario, &standard(), &CheckOptions::default(), None).expect("runs");
        assert_eq!(checked.found, None);
        let wrong: Vec<(usize, &str, bool, &Option<String>)> = expected
            .iter()
            .zip(&checked.errors)
            .enumerate()
            .filter(|(_, (ok, error))| **ok != error.is_none())
            .map(|(i, (ok, error))| (i, scenario.steps[i].action.kind(), *ok, error))
            .collect();
        assert!(wrong.len() * 100 < expected.len(), "{} of {} forecasts wrong: {wrong:?}", wrong.len(), expected.len());
    }

    #[test]
    fn a_generated_sequence_is_written_and_parsed_back_unchanged() {
        let scenario = generate(11, 400);
        let all: Vec<usize> = (0..scenario.steps.len()).collect();
        let mut sub = subset(&scenario, &all);
        sub.watch = vec![Holder::Party(FIRST_INVESTOR), Holder::Party(FIRST_INVESTOR + 1)];
        sub.steps[20].expect = Expect {
            error: Some("DvPTradeExpired".into()),
            balances: vec![(
                Holder::Party(FIRST_INVESTOR),
                BalanceExpect { units: Some(U256::from(5)), ..Default::default() },
            )],
            supply: Some(SupplyExpect { units: Some(U256::from(7)), cash: None }),
            trades: vec![(0, TradeState::Settled)],
            ..Default::default()
        };
        sub.steps[20].note = Some("a \"quoted\" note".into());
        let toml = write::write(&sub).expect("writes");
        let parsed = parse::parse(&toml).unwrap_or_else(|e| panic!("{e}\n{toml}"));
        assert_eq!(parsed.parties, sub.parties);
        assert_eq!(parsed.trades, sub.trades);
        assert_eq!(parsed.watch, sub.watch);
        assert_eq!(parsed.steps.len(), sub.steps.len());
        for (i, (p, s)) in parsed.steps.iter().zip(&sub.steps).enumerate() {
            assert_eq!((&p.action, &p.expect, &p.note), (&s.action, &s.expect, &s.note), "step {i}");
        }
    }

    #[test]
    fn a_trade_used_before_it_is_defined_is_not_writable() {
        let scenario = generate(5, 300);
        let create =
            scenario.steps.iter().position(|s| matches!(s.action, Action::CreateTrade { .. })).expect("a create");
        let user = (create + 1..scenario.steps.len())
            .find(|i| {
                let t = defines(&scenario.steps[create].action);
                defines(&scenario.steps[*i].action).is_none()
                    && referenced_trades(&scenario.steps[*i].action).iter().any(|r| Some(*r) == t)
            })
            .expect("a later step on the same trade");
        assert!(writable(&scenario, &[create, user]));
        assert!(!writable(&scenario, &[user]));
        assert!(write::write(&subset(&scenario, &[user])).is_err());
    }

    #[test]
    fn ddmin_finds_a_one_minimal_subset() {
        // Fails when it holds 3, 7 and 11 together.
        let fails = |c: &[usize]| Ok::<_, ()>([3, 7, 11].iter().all(|x| c.contains(x)));
        let (kept, tries) = ddmin((0..40).collect(), fails, 10_000).expect("no error");
        assert_eq!(kept, [3, 7, 11]);
        assert!(tries < 200, "{tries} tries");
        let (kept, _) = ddmin((0..40).collect(), fails, 3).expect("no error");
        assert!(kept.len() > 3, "an exhausted budget stops early");
    }
}
