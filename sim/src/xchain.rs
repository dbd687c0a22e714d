//! Cross-chain settlement replayed in-process, with faults: two revm engines — the asset chain like
//! ibet for Fin (Berlin, chain id 1010032) and the payment chain — each with its own clock, the
//! attestors and relayers that `kessai attest` and `kessai relay` run (the same
//! [`kessai_deployer::xchain::relay`] code, over the [`Chain`] trait), and a seeded schedule of events
//! checked after every one of them.
//!
//! **Events.** From the seed: a seller locks a new trade on A (due a few seconds to a minute ahead on
//! B's clock); a payer pays one; a block on either chain (its clock moves one to three seconds); an
//! honest attestor's pass; a pass of one of three relayers (one sending on both chains, one on B
//! only, one on A only); and the faults: a relayer crashes and a new one starts from the chains alone;
//! a faulty attestor (k−1 = 1 of the 3, threshold 2) signs a random state of a random trade, true or
//! not; a chain halts for a stretch of events — it neither makes blocks nor answers anyone, so the
//! passes that need it fail as against a stopped node — then resumes.
//!
//! **Invariants**, after every event, read from the chains themselves (not through the halts):
//! - each chain's supplies are what was issued ([`SUPPLY`]);
//! - A's outcome follows B's record: units are delivered only for a trade B committed and returned
//!   only for one B aborted ([`OUTCOMES`]);
//! - every party holds what the outcomes say: the seller's units less those delivered (and holds on
//!   those locked and not yet ended), the buyer's plus those delivered, the payer's cash less that
//!   committed (and holds on that paid and not yet ended), the payee's plus that committed — so each
//!   trade moved both legs or neither, once ([`HOLDINGS`]).
//!
//! At the end every fault is healed, both clocks pass every deadline and the attestors and relayers
//! pass until nothing is left to do: then every trade must have ended on both chains ([`ENDED`]).
//! A failure names the seed, the event and the invariant; the run is reproducible from the seed.

pub mod bench;
mod faults;
pub mod generator;
mod halting;
pub mod html;
mod ledger;
mod scenario;
mod world;

pub use halting::Halting;
pub use ledger::Latency;
pub use scenario::{
    ChainLine, HaltLine, StepLine, TradeLine, XScenario, XScenarioReport, run_scenario, run_scenario_on_anvil,
};

use crate::rng::Rng;
use kessai_deployer::{DeployerError, chain::Chain};
use serde::Serialize;
use world::World;

/// The asset chain's id (ibet for Fin's).
pub const ASSET_CHAIN: u64 = 1_010_032;
/// The payment chain's id.
pub const PAYMENT_CHAIN: u64 = 31_337;

/// Supplies equal what was issued on each chain.
pub const SUPPLY: &str = "supply";
/// A's outcome of each trade follows B's record.
pub const OUTCOMES: &str = "outcomes";
/// Every party holds what the outcomes say.
pub const HOLDINGS: &str = "holdings";
/// After healing and passing every deadline, every trade has ended on both chains.
pub const ENDED: &str = "ended";

/// What a run draws.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Options {
    /// Events after the setup.
    pub steps: usize,
    /// Percent of events that halt a chain (when none is halted).
    pub halt_percent: u64,
    /// Percent of events that crash a relayer (a new one starts from the chains).
    pub crash_percent: u64,
    /// Percent of events in which the faulty attestors sign something.
    pub faulty_percent: u64,
    /// Attestors that sign anything, together (of 3, threshold 2): 1 is the trust model's k−1; 2
    /// lets them prove what never happened, which the invariants must catch.
    pub faulty: usize,
    /// The verifiers' threshold as deployed (of 3 attestors). 2 is the model; 1 is a verifier off by
    /// one, which accepts what a single faulty attestor signs — a run must catch it.
    pub threshold: u8,
    /// Percent of events in which a hostile account submits a delivery and a return of a random
    /// trade with whatever proof the inbox allows, whatever B recorded.
    pub hostile_percent: u64,
    /// Percent of events that delay the attestors' mail to the relayers for 3 to 40 events (then
    /// it arrives shuffled, a fifth of it twice).
    pub delay_percent: u64,
    /// Percent of events that set one chain's clock 0 to 30 seconds ahead of the other's.
    pub skew_percent: u64,
    /// Percent of events in which the authority rotates an honest attestor out on both chains.
    pub rotate_percent: u64,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            steps: 2_000,
            halt_percent: 1,
            crash_percent: 2,
            faulty_percent: 5,
            faulty: 1,
            threshold: 2,
            hostile_percent: 3,
            delay_percent: 1,
            skew_percent: 1,
            rotate_percent: 1,
        }
    }
}

/// How often each kind of event happened.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Stats {
    /// Trades locked.
    pub locked: usize,
    /// Trades paid.
    pub paid: usize,
    /// Trades delivered on A.
    pub delivered: usize,
    /// Trades returned on A.
    pub returned: usize,
    /// Relayer and attestor passes that failed (a halted chain).
    pub failed_passes: usize,
    /// Relayer crashes.
    pub crashes: usize,
    /// Halts.
    pub halts: usize,
    /// Statements the faulty attestors signed.
    pub faulty_signatures: usize,
    /// Hostile submissions the contracts refused.
    pub hostile_refused: usize,
    /// Delays of the attestors' mail.
    pub delays: usize,
    /// Attestations that arrived twice.
    pub duplicated: usize,
    /// Changes of clock skew.
    pub skews: usize,
    /// Attestor set rotations.
    pub rotations: usize,
    /// Settlement latency in simulated time (from payment to both legs final).
    pub latency: Latency,
}

/// A run's result: its statistics, and the first broken invariant if any.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Run {
    /// The seed.
    pub seed: u64,
    /// Events run (including the final healing passes).
    pub events: usize,
    /// What happened.
    pub stats: Stats,
    /// The first broken invariant.
    pub failure: Option<Failure>,
}

/// A broken invariant.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Failure {
    /// The invariant's name.
    pub invariant: &'static str,
    /// The event after which it broke (0-based; the final healing counts from `steps`).
    pub event: usize,
    /// What was found.
    pub message: String,
    /// The trade it concerns, when one does.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trade: Option<kessai_bindings::alloy::primitives::B256>,
    /// A short cross-chain scenario file — that trade's moves alone, a second apart — which
    /// `kessai sim run` replays to the same broken invariant (only when it does).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scenario: Option<String>,
}

/// Runs `options.steps` events from `seed` and checks every invariant after each one.
pub async fn run(seed: u64, options: &Options) -> Result<Run, DeployerError> {
    let chains = [world::ChainSpec::default_for(true), world::ChainSpec::default_for(false)];
    let mut world = World::new(options.threshold, &chains).await?;
    let mut rng = Rng::from_state(seed ^ 0x0c05_5c4a_1d5e_ed01);
    let mut stats = Stats::default();
    for event in 0..options.steps {
        world.event(&mut rng, options, &mut stats).await?;
        if let Some(mut failure) = world.check(event).await? {
            failure.scenario = scenario::shrunk(&world, seed, options, &failure).await?;
            return Ok(world.finish(seed, event + 1, stats, Some(failure)));
        }
    }
    // Heal, pass every deadline, and let the actors finish.
    world.resume();
    world.release()?;
    world.a.chain.advance_time(120).await?;
    world.b.chain.advance_time(120).await?;
    let mut events = options.steps;
    for _ in 0..8 {
        world.passes(&mut stats).await?;
        events += 1;
        if let Some(failure) = world.check(events).await? {
            return Ok(world.finish(seed, events, stats, Some(failure)));
        }
    }
    let failure = world.all_ended(events);
    Ok(world.finish(seed, events, stats, failure))
}

impl std::fmt::Display for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = &self.stats;
        write!(
            f,
            "seed {}: {} events; {} trades locked, {} paid, {} delivered, {} returned; faults: {} halts, {} relayer \
             crashes, {} faulty signatures, {} hostile submissions refused ({} passes failed against a halted chain), \
             {} delays of the attestors' mail ({} attestations arrived twice), {} clock skews, {} attestor rotations",
            self.seed,
            self.events,
            s.locked,
            s.paid,
            s.delivered,
            s.returned,
            s.halts,
            s.crashes,
            s.faulty_signatures,
            s.hostile_refused,
            s.failed_passes,
            s.delays,
            s.duplicated,
            s.skews,
            s.rotations
        )?;
        write!(f, "; latency {}", s.latency)?;
        match &self.failure {
            None => write!(f, "; every invariant held"),
            Some(x) => write!(f, "\nFAILED after event {}: {}: {}", x.event, x.invariant, x.message),
        }
    }
}
