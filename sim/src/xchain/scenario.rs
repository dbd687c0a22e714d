//! Cross-chain scenario files: a timeline of trades and faults on the two chains, replayed
//! in-process with the attestors and relayers running, checked after every moment against the same
//! invariants as the property runs, and against the outcomes the file expects.
//!
//! ```toml
//! title = "A trade paid in time settles; a trade caught by a halt of the payment chain returns"
//!
//! [chains.asset]            # the security token's chain: ibet for Fin's rules (Berlin, id 1010032)
//! name = "ibet for Fin"
//! [chains.payment]          # the deposit token's chain (id 31337)
//! name = "DCP"
//!
//! [[steps]]
//! at = 0                    # seconds from the start
//! lock = "T1"               # the seller locks trade T1 ...
//! units = 100
//! amount = 1000000
//! due_in = 600              # ... due 600 s ahead on the payment chain's clock
//!
//! [[steps]]
//! at = 5
//! pay = "T1"                # the payer pays it
//!
//! [[steps]]
//! at = 60
//! halt = "payment"          # the payment chain stops: no blocks, no answers ...
//! duration = 7200           # ... for two hours
//!
//! [[expect]]
//! trade = "T1"
//! asset = "delivered"       # delivered | returned | locked
//! payment = "Committed"     # None | Paid | Committed | Aborted
//! ```
//!
//! The other steps are `crash_relayer = N` (relayer 0 sends on both chains, 1 on the payment chain
//! only, 2 on the asset chain only; a new one starts from the chains alone) and `sign_falsely =
//! "T1"` with `state = "committed"` (or `locked`, `aborted`): the faulty attestors
//! (`[cross_chain] faulty_attestors`, default 1 of the 3, threshold 2) sign it whatever the chains
//! recorded. `delay_proofs = true` with `duration = N` holds the attestors' mail to the relayers
//! for N seconds (it then arrives shuffled, part of it twice); `rotate_attestor = 0` (or 1) has the
//! authority replace that honest attestor on both verifiers (its signatures stop counting: a
//! `hostile` step then tries them, a stale proof); `skew = "asset"` with `lead = 20` runs that
//! chain's clock 20 seconds ahead of the other's. Every moment a step names, and the twenty seconds after it, each live chain makes a
//! block and every attestor and relayer passes; a halt's end and each trade's deadline are moments
//! too. After the last one every halt ends, both clocks pass every deadline and the actors finish;
//! the expectations are checked then.

use super::{
    Failure, Options,
    world::{ChainSpec, Move, Pin, World},
};
use alloy::providers::Provider;
use kessai_bindings::{alloy::primitives::B256, cross_chain::states};
use kessai_deployer::{
    DeployerError,
    anvil::{self, AnvilInstance, AnvilOptions},
    profile::{ChainProfile, Hardfork},
    rpc::RpcChain,
};
use serde::{Deserialize, Serialize};
use std::{
    collections::{BTreeMap, BTreeSet},
    fmt,
};

/// Seconds after each moment in which the chains make blocks and the actors pass.
const SETTLE: u64 = 20;

/// A parsed cross-chain scenario file.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct XScenario {
    /// What the scenario shows.
    #[serde(default)]
    pub title: String,
    /// The two chains, `asset` and `payment`.
    pub chains: BTreeMap<String, XChain>,
    /// The attestors.
    #[serde(default)]
    pub cross_chain: XSettings,
    /// The timeline.
    #[serde(default)]
    pub steps: Vec<XStep>,
    /// The outcomes expected at the end.
    #[serde(default)]
    pub expect: Vec<XExpect>,
}

/// One chain of a scenario.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct XChain {
    /// Its name in reports.
    #[serde(default)]
    pub name: String,
    /// Its chain id (default: 1010032 for the asset chain, ibet for Fin's; 31337 for the payment
    /// chain).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chain_id: Option<u64>,
    /// Its EVM rules (default: `berlin` for the asset chain, `cancun` for the payment chain).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hardfork: Option<Hardfork>,
    /// Seconds between its blocks when no transaction makes one (default 1).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub block_time: Option<u64>,
    /// Its gas price: 0, the only one the simulator models (ibet for Fin and the deposit chains are
    /// gas-free; a priced chain changes no settlement outcome, only the senders' fees).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gas_price: Option<u64>,
    /// Seconds each transaction's block moves its clock (default 1: each transaction mined alone,
    /// a second after the last; 0: transactions share their second, as in the blocks of a busy
    /// chain — what a generated day of many trades needs).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tx_seconds: Option<u64>,
    /// Seconds its clock runs ahead of the other chain's from the start (default 0).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lead: Option<u64>,
}

impl XScenario {
    /// The settings of the asset chain (`asset`) or the payment chain, with their defaults.
    pub(super) fn chain(&self, asset: bool) -> ChainSpec {
        let c = self.chains.get(if asset { "asset" } else { "payment" }).cloned().unwrap_or_default();
        let default = ChainSpec::default_for(asset);
        ChainSpec {
            chain_id: c.chain_id.unwrap_or(default.chain_id),
            hardfork: c.hardfork.unwrap_or(default.hardfork),
            block_time: c.block_time.unwrap_or(default.block_time),
            tx_seconds: c.tx_seconds.unwrap_or(default.tx_seconds),
            lead: c.lead.unwrap_or(default.lead),
        }
    }
}

/// The attestors of a scenario.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct XSettings {
    /// Attestors that sign what `sign_falsely` steps say (of 3).
    #[serde(default = "one")]
    pub faulty_attestors: usize,
    /// The verifiers' threshold as deployed (default 2 of 3; 1 shows what a verifier off by one lets
    /// a single faulty attestor do).
    #[serde(default = "two")]
    pub threshold: u8,
}

fn one() -> usize {
    1
}

fn two() -> u8 {
    2
}

impl Default for XSettings {
    fn default() -> Self {
        Self { faulty_attestors: one(), threshold: two() }
    }
}

/// One step of the timeline: exactly one of `lock`, `pay`, `halt`, `crash_relayer`, `sign_falsely`.
#[derive(Clone, Default, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct XStep {
    /// Seconds from the start.
    pub at: u64,
    /// Lock a new trade under this label.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lock: Option<String>,
    /// Its units (default 10).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub units: Option<u64>,
    /// Its amount (default 1,000).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub amount: Option<u64>,
    /// Seconds from now to its deadline on the payment chain's clock (default 60).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub due_in: Option<u64>,
    /// Pay the trade with this label.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pay: Option<String>,
    /// Halt this chain (`asset` or `payment`) ...
    #[serde(skip_serializing_if = "Option::is_none")]
    pub halt: Option<String>,
    /// ... for this many seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration: Option<u64>,
    /// Crash relayer N (0, 1 or 2); a new one starts from the chains alone.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub crash_relayer: Option<usize>,
    /// The faulty attestors sign a state of the trade with this label ...
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sign_falsely: Option<String>,
    /// ... this state: `locked`, `committed` or `aborted`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// A hostile account submits a delivery and a return of the trade with this label, each with
    /// whatever proof the attestors' signatures make (a retired attestor's included: a stale
    /// proof), whatever the payment chain recorded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hostile: Option<String>,
    /// The attestors' mail to the relayers is held for `duration` seconds, then arrives shuffled,
    /// a fifth of it twice.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delay_proofs: Option<bool>,
    /// The authority replaces honest attestor N (0 or 1) with a new one on both verifiers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rotate_attestor: Option<usize>,
    /// This chain's clock (`asset` or `payment`) runs ahead of the other's ...
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skew: Option<String>,
    /// ... by this many seconds (0 ends the skew).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lead: Option<u64>,
}

/// An outcome expected at the end.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct XExpect {
    /// The trade's label.
    pub trade: String,
    /// On the asset chain: `delivered`, `returned` or `locked`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub asset: Option<String>,
    /// On the payment chain: `None`, `Paid`, `Committed` or `Aborted`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payment: Option<String>,
}

impl XStep {
    /// A step at `at` seconds that says nothing yet.
    pub(super) fn at(at: u64) -> Self {
        Self { at, ..Self::default() }
    }
}

impl XScenario {
    /// Whether `text` is a cross-chain scenario: it has a `[chains]` table (a single-chain scenario
    /// has none).
    pub fn is_cross_chain(text: &str) -> bool {
        toml::from_str::<toml::Table>(text).is_ok_and(|t| t.contains_key("chains"))
    }

    /// Parses `text`; `origin` names it in errors. Refuses a file without exactly the chains `asset`
    /// and `payment`, or a step that does not say one thing.
    pub fn parse(text: &str, origin: &str) -> Result<Self, DeployerError> {
        let scenario: Self =
            toml::from_str(text).map_err(|e| DeployerError::Config(format!("scenario {origin}: {e}")))?;
        let names: Vec<&str> = scenario.chains.keys().map(String::as_str).collect();
        if names != ["asset", "payment"] {
            return Err(DeployerError::Config(format!(
                "scenario {origin}: [chains] names {names:?}: a cross-chain scenario has [chains.asset] (the security \
                 token's chain) and [chains.payment] (the deposit token's)"
            )));
        }
        for (name, chain) in &scenario.chains {
            if chain.gas_price.is_some_and(|p| p != 0) {
                return Err(DeployerError::Config(format!(
                    "scenario {origin}: [chains.{name}] gas_price = {}: the simulator models gas-free chains only \
                     (gas_price = 0); fees change no settlement outcome",
                    chain.gas_price.unwrap_or_default()
                )));
            }
            if chain.block_time == Some(0) {
                return Err(DeployerError::Config(format!(
                    "scenario {origin}: [chains.{name}] block_time = 0: give the seconds between blocks (1 or more)"
                )));
            }
        }
        let ids = (scenario.chain(true).chain_id, scenario.chain(false).chain_id);
        if ids.0 == ids.1 {
            return Err(DeployerError::Config(format!(
                "scenario {origin}: both chains have chain id {}: a statement names its chain, so the two must differ",
                ids.0
            )));
        }
        for (i, step) in scenario.steps.iter().enumerate() {
            let said = [
                step.lock.is_some(),
                step.pay.is_some(),
                step.halt.is_some(),
                step.crash_relayer.is_some(),
                step.sign_falsely.is_some(),
                step.hostile.is_some(),
                step.delay_proofs.is_some(),
                step.rotate_attestor.is_some(),
                step.skew.is_some(),
            ];
            if said.iter().filter(|s| **s).count() != 1 {
                return Err(DeployerError::Config(format!(
                    "scenario {origin}: step {} (at {} s) must say one of lock, pay, halt, crash_relayer, sign_falsely, \
                     hostile, delay_proofs, rotate_attestor, skew",
                    i + 1,
                    step.at
                )));
            }
            for (what, chain) in [("halt", &step.halt), ("skew", &step.skew)] {
                if chain.as_deref().is_some_and(|c| c != "asset" && c != "payment") {
                    return Err(DeployerError::Config(format!(
                        "scenario {origin}: step {}: {what} names `asset` or `payment`",
                        i + 1
                    )));
                }
            }
            if step.sign_falsely.is_some() && state_of(step.state.as_deref()).is_none() {
                return Err(DeployerError::Config(format!(
                    "scenario {origin}: step {}: sign_falsely needs state = \"locked\", \"committed\" or \"aborted\"",
                    i + 1
                )));
            }
        }
        Ok(scenario)
    }
}

fn state_of(name: Option<&str>) -> Option<u8> {
    match name? {
        "locked" => Some(states::LOCKED),
        "committed" => Some(states::COMMITTED),
        "aborted" => Some(states::ABORTED),
        _ => None,
    }
}

/// What a step did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct StepLine {
    /// Seconds from the start.
    pub at: u64,
    /// The step and its result.
    pub what: String,
}

/// Where a trade ended.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TradeLine {
    /// Its label.
    pub label: String,
    /// Its terms hash.
    pub terms_hash: B256,
    /// On the asset chain: `delivered`, `returned` or `locked`.
    pub asset: String,
    /// On the payment chain.
    pub payment: String,
    /// Units and cash it moves.
    pub units: u128,
    /// See `units`.
    pub amount: u128,
    /// Seconds from the start when it was locked, and paid.
    pub locked_at: u64,
    /// See `locked_at`.
    pub paid_at: Option<u64>,
    /// Seconds from the start when B's outcome was first seen, and A's end.
    pub decided_at: Option<u64>,
    /// See `decided_at`.
    pub ended_at: Option<u64>,
}

/// One chain as the scenario set it up.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ChainLine {
    /// `asset` or `payment`.
    pub side: String,
    /// Its name in the file.
    pub name: String,
    /// Its chain id, as the chain reported it.
    pub chain_id: u64,
    /// Its EVM rules.
    pub hardfork: Hardfork,
    /// Seconds between the blocks no transaction makes.
    pub block_time: u64,
}

/// A stretch of time a chain was halted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct HaltLine {
    /// `asset` or `payment`.
    pub chain: String,
    /// Seconds from the start when it stopped, and when it resumed.
    pub from: u64,
    /// See `from`.
    pub to: u64,
}

/// A replayed cross-chain scenario.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct XScenarioReport {
    /// The scenario's title.
    pub title: String,
    /// Whether every invariant and expectation held.
    pub passed: bool,
    /// The asset chain, then the payment chain.
    pub chains: Vec<ChainLine>,
    /// Each step's result, in time order.
    pub steps: Vec<StepLine>,
    /// Each trade's end.
    pub trades: Vec<TradeLine>,
    /// The halts, in time order.
    pub halts: Vec<HaltLine>,
    /// Seconds from the start of each block the chains made between transactions: asset, payment.
    pub blocks: (Vec<u64>, Vec<u64>),
    /// Settlement latency in simulated time.
    pub latency: super::Latency,
    /// A broken invariant, if any.
    pub failure: Option<Failure>,
    /// Expectations that did not hold.
    pub unmet: Vec<String>,
}

impl XScenarioReport {
    /// Whether every invariant and expectation held.
    pub fn passed(&self) -> bool {
        self.passed
    }
}

/// Replays `scenario` in-process.
pub async fn run_scenario(scenario: &XScenario) -> Result<XScenarioReport, DeployerError> {
    let chains = [scenario.chain(true), scenario.chain(false)];
    play(World::new(scenario.cross_chain.threshold, &chains).await?, scenario).await
}

/// Replays `scenario` on two Anvils it spawns, gas-free, with each chain's id and rules (by default
/// A like ibet for Fin: Berlin, chain id 1010032; B at Cancun, chain id 31337), both from the
/// in-process engine's genesis time. A halt stops a node answering the actors and making blocks, as
/// in-process.
pub async fn run_scenario_on_anvil(scenario: &XScenario) -> Result<XScenarioReport, DeployerError> {
    let node = |spec: ChainSpec| {
        AnvilInstance::spawn(&AnvilOptions {
            hardfork: Some(spec.hardfork.name().into()),
            chain_id: spec.chain_id,
            ..AnvilOptions::emulating(ChainProfile::Ibet)
        })
    };
    let (a_spec, b_spec) = (scenario.chain(true), scenario.chain(false));
    let (a_node, b_node) = (node(a_spec)?, node(b_spec)?);
    let a = RpcChain::connect(&a_node.endpoint(), anvil::dev_signers())?;
    let b = RpcChain::connect(&b_node.endpoint(), anvil::dev_signers())?;
    // Each block as many seconds after the last as on the in-process engine, whatever the wall
    // clock does.
    for (chain, spec) in [(&a, a_spec), (&b, b_spec)] {
        let _: serde_json::Value = chain
            .retry("anvil_setBlockTimestampInterval", || {
                chain
                    .provider()
                    .raw_request::<_, serde_json::Value>("anvil_setBlockTimestampInterval".into(), (spec.tx_seconds,))
            })
            .await?;
    }
    let world = World::on(a, b, scenario.cross_chain.threshold).await?.with(&[a_spec, b_spec]);
    play(world, scenario).await
}

/// Replays `scenario` in `world`.
async fn play<C: Pin>(mut world: World<C>, scenario: &XScenario) -> Result<XScenarioReport, DeployerError> {
    let start = world.now;
    let mut moments = BTreeSet::new();
    for step in &scenario.steps {
        let ends = [Some(step.at), step.duration.map(|d| step.at + d), step.due_in.map(|d| step.at + d + 1)];
        for end in ends.into_iter().flatten() {
            moments.extend(end..=end + SETTLE);
        }
    }
    // The steps by time, each moment's in the file's order.
    let mut at: BTreeMap<u64, Vec<&XStep>> = BTreeMap::new();
    for step in &scenario.steps {
        at.entry(step.at).or_default().push(step);
    }
    let mut labels: BTreeMap<String, B256> = BTreeMap::new();
    let mut lines = Vec::new();
    let mut halt_ends: Vec<(u64, bool)> = Vec::new();
    let mut stats = super::Stats::default();
    for (event, t) in moments.into_iter().enumerate() {
        world.now = start + t;
        halt_ends.retain(|(end, asset)| {
            if *end == t {
                if *asset { world.a.halted = false } else { world.b.halted = false }
            }
            *end > t
        });
        // A delay's end: the mail held arrives, in an order drawn from the moment.
        if world.mail.delay_left > 0 && world.mail.delay_until <= t {
            world.mail.delay_left = 1;
            world.tick_delay(&mut crate::rng::Rng::from_state(t), &mut stats)?;
        }
        world.block(kessai_deployer::xchain::plan::Side::Asset).await?;
        world.block(kessai_deployer::xchain::plan::Side::Payment).await?;
        world.passes(&mut stats).await?;
        for step in at.remove(&t).unwrap_or_default() {
            let what =
                take(&mut world, step, &mut labels, &mut halt_ends, &mut stats, scenario.cross_chain.faulty_attestors)
                    .await?;
            lines.push(StepLine { at: t, what });
        }
        if let Some(failure) = world.check(event).await? {
            return Ok(report(scenario, &world, start, lines, &labels, Some(failure)));
        }
    }
    // Every halt and delay ends, both clocks pass every deadline, the actors finish.
    world.a.halted = false;
    world.b.halted = false;
    world.release()?;
    let last = world.ledger.trades.values().filter_map(|s| s.terms.as_ref()).map(|t| t.deadline).max().unwrap_or(0);
    world.now = world.now.max(last) + 1;
    for side in [kessai_deployer::xchain::plan::Side::Asset, kessai_deployer::xchain::plan::Side::Payment] {
        world.block(side).await?;
    }
    for round in 0..8 {
        world.passes(&mut stats).await?;
        if let Some(failure) = world.check(usize::MAX - 8 + round).await? {
            return Ok(report(scenario, &world, start, lines, &labels, Some(failure)));
        }
    }
    let failure = world.all_ended(usize::MAX);
    Ok(report(scenario, &world, start, lines, &labels, failure))
}

/// Takes one step; says what happened.
async fn take<C: Pin>(
    world: &mut World<C>,
    step: &XStep,
    labels: &mut BTreeMap<String, B256>,
    halt_ends: &mut Vec<(u64, bool)>,
    stats: &mut super::Stats,
    faulty: usize,
) -> Result<String, DeployerError> {
    let find = |label: &str, labels: &BTreeMap<String, B256>| labels.get(label).copied();
    if let Some(label) = &step.lock {
        let (units, amount, due_in) =
            (step.units.unwrap_or(10), step.amount.unwrap_or(1_000), step.due_in.unwrap_or(60));
        return Ok(match world.lock_trade(units, amount, due_in).await? {
            Some(hash) => {
                labels.insert(label.clone(), hash);
                format!("{label} locked: {units} units for {amount}, due in {due_in} s on the payment chain")
            }
            None => format!("{label} not locked: a chain is halted or the deadline has passed on the asset chain"),
        });
    }
    if let Some(label) = &step.pay {
        let Some(hash) = find(label, labels) else { return Ok(format!("pay {label}: no such trade was locked")) };
        return Ok(match world.pay_trade(hash).await? {
            Ok(()) => format!("{label} paid"),
            Err(why) => format!("{label} not paid: {why}"),
        });
    }
    if let Some(chain) = &step.halt {
        let duration = step.duration.unwrap_or(60);
        let asset = chain == "asset";
        if asset {
            world.a.halted = true
        } else {
            world.b.halted = true
        }
        halt_ends.push((step.at + duration, asset));
        return Ok(format!("the {chain} chain halts for {duration} s"));
    }
    if step.delay_proofs.is_some() {
        let duration = step.duration.unwrap_or(60);
        world.delay(usize::MAX, stats);
        world.mail.delay_until = step.at + duration;
        return Ok(format!("the attestors' mail to the relayers is held for {duration} s"));
    }
    if let Some(slot) = step.rotate_attestor {
        return Ok(if world.rotate(slot, faulty, stats).await? {
            format!("the authority rotates attestor {slot} out on both chains")
        } else {
            "no rotation: a chain is halted".into()
        });
    }
    if let Some(chain) = &step.skew {
        let lead = step.lead.unwrap_or(0);
        world.skew(chain == "asset", lead, stats);
        return Ok(format!("the {chain} chain's clock runs {lead} s ahead"));
    }
    if let Some(i) = step.crash_relayer {
        let i = i.min(world.relayers.len() - 1);
        world.relayers[i] = world.relayer(i);
        return Ok(format!("relayer {i} crashes; a new one starts from the chains"));
    }
    if let Some(label) = &step.hostile {
        let Some(hash) = find(label, labels) else { return Ok(format!("hostile {label}: no such trade")) };
        let refused = world.hostile_on(hash).await?;
        return Ok(format!(
            "a hostile delivery and return of {label}: {} of 2 refused ({})",
            refused.len(),
            refused.join(", ")
        ));
    }
    let label = step.sign_falsely.as_deref().unwrap_or_default();
    let state = state_of(step.state.as_deref()).unwrap_or(states::COMMITTED);
    let Some(hash) = find(label, labels) else { return Ok(format!("sign_falsely {label}: no such trade")) };
    world.sign_falsely(hash, state, faulty)?;
    Ok(format!("{faulty} faulty attestor(s) sign that {label} is {}", step.state.as_deref().unwrap_or_default()))
}

fn report<C: Pin>(
    scenario: &XScenario,
    world: &World<C>,
    start: u64,
    steps: Vec<StepLine>,
    labels: &BTreeMap<String, B256>,
    failure: Option<Failure>,
) -> XScenarioReport {
    let mut trades = Vec::new();
    for (label, hash) in labels {
        let seen = &world.ledger.trades[hash];
        let asset = match seen.ended.first() {
            Some(true) => "delivered",
            Some(false) => "returned",
            None => "locked",
        };
        let payment = match seen.decided {
            Some(states::COMMITTED) => "Committed",
            Some(_) => "Aborted",
            None if seen.paid => "Paid",
            None => "None",
        };
        let (units, amount) = seen.terms.as_ref().map_or((0, 0), |t| (t.units.to(), t.amount.to()));
        trades.push(TradeLine {
            label: label.clone(),
            terms_hash: *hash,
            asset: asset.into(),
            payment: payment.into(),
            units,
            amount,
            locked_at: seen.locked_at.saturating_sub(start),
            paid_at: seen.paid_at.map(|t| t.saturating_sub(start)),
            decided_at: seen.decided_at.map(|t| t.saturating_sub(start)),
            ended_at: seen.ended_at.map(|t| t.saturating_sub(start)),
        });
    }
    let mut unmet = Vec::new();
    for e in &scenario.expect {
        let Some(line) = trades.iter().find(|t| t.label == e.trade) else {
            unmet.push(format!("{}: expected, but no such trade was locked", e.trade));
            continue;
        };
        if let Some(asset) = e.asset.as_deref().filter(|a| *a != line.asset) {
            unmet.push(format!("{}: expected {asset} on the asset chain, found {}", e.trade, line.asset));
        }
        if let Some(payment) = e.payment.as_deref().filter(|p| *p != line.payment) {
            unmet.push(format!("{}: expected {payment} on the payment chain, found {}", e.trade, line.payment));
        }
    }
    let passed = failure.is_none() && unmet.is_empty();
    let halts = scenario
        .steps
        .iter()
        .filter_map(|s| {
            let chain = s.halt.clone()?;
            Some(HaltLine { chain, from: s.at, to: s.at + s.duration.unwrap_or(60) })
        })
        .collect();
    let since = |times: &[u64]| times.iter().map(|t| t.saturating_sub(start)).collect();
    let blocks = (since(&world.block_times.0), since(&world.block_times.1));
    let chains = [("asset", world.asset_end.chain_id), ("payment", world.payment_end.chain_id)]
        .into_iter()
        .map(|(side, chain_id)| {
            let spec = scenario.chain(side == "asset");
            let name = scenario.chains.get(side).map(|c| c.name.clone()).unwrap_or_default();
            ChainLine { side: side.into(), name, chain_id, hardfork: spec.hardfork, block_time: spec.block_time }
        })
        .collect();
    XScenarioReport {
        title: scenario.title.clone(),
        passed,
        chains,
        steps,
        trades,
        halts,
        blocks,
        latency: world.ledger.latency(),
        failure,
        unmet,
    }
}

impl fmt::Display for XScenarioReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{}", self.title)?;
        for c in &self.chains {
            writeln!(
                f,
                "  {} chain {}: chain id {}, {}, a block every {} s, gas-free",
                c.side,
                c.name,
                c.chain_id,
                c.hardfork.name(),
                c.block_time
            )?;
        }
        for s in &self.steps {
            writeln!(f, "  {:>6} s  {}", s.at, s.what)?;
        }
        for t in &self.trades {
            let at = |x: Option<u64>| x.map_or("-".to_string(), |s| format!("{s} s"));
            writeln!(
                f,
                "  trade {}: asset chain {}, payment chain {} (decided at {}, ended at {})",
                t.label,
                t.asset,
                t.payment,
                at(t.decided_at),
                at(t.ended_at)
            )?;
        }
        writeln!(f, "  settlement latency (payment to both legs final, simulated time): {}", self.latency)?;
        if let Some(x) = &self.failure {
            writeln!(f, "FAILED: {}: {}", x.invariant, x.message)?;
        }
        for u in &self.unmet {
            writeln!(f, "UNMET: {u}")?;
        }
        write!(f, "{}", if self.passed() { "every invariant and expectation held" } else { "FAILED" })
    }
}

/// A failure of a random run as a short scenario: the failing trade's moves alone, a second apart,
/// with the run's attestors and threshold. `None` unless the failure names a trade and the scenario,
/// replayed, breaks the same invariant.
pub(super) async fn shrunk<C: Pin>(
    world: &World<C>,
    seed: u64,
    options: &Options,
    failure: &Failure,
) -> Result<Option<String>, DeployerError> {
    let Some(trade) = failure.trade else { return Ok(None) };
    let mut text = format!(
        "# Shrunk from `kessai sim prop --cross-chain` seed {seed}: {} broke at event {}.\n\
         title = \"seed {seed}: {}\"\n\n[chains.asset]\n[chains.payment]\n\n[cross_chain]\n\
         faulty_attestors = {}\nthreshold = {}\n",
        failure.invariant, failure.event, failure.invariant, options.faulty, options.threshold
    );
    let moves = world.moves.iter().filter(|(h, _)| *h == trade).map(|(_, m)| m);
    for (at, m) in moves.enumerate() {
        text.push_str(&format!("\n[[steps]]\nat = {at}\n"));
        text.push_str(&match m {
            Move::Lock { units, amount, due_in } => {
                format!("lock = \"T1\"\nunits = {units}\namount = {amount}\ndue_in = {due_in}\n")
            }
            Move::Pay => "pay = \"T1\"\n".into(),
            Move::SignFalsely(state) => {
                let name = match *state {
                    states::LOCKED => "locked",
                    states::ABORTED => "aborted",
                    _ => "committed",
                };
                format!("sign_falsely = \"T1\"\nstate = \"{name}\"\n")
            }
            Move::Hostile => "hostile = \"T1\"\n".into(),
        });
    }
    let parsed = XScenario::parse(&text, "the shrunk scenario")?;
    let replayed = Box::pin(run_scenario(&parsed)).await?;
    Ok(replayed.failure.filter(|f| f.invariant == failure.invariant).map(|_| text))
}
