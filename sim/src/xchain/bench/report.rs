//! The report of a cross-chain benchmark run: each engine's rate, the goals with what was measured,
//! the latencies, the gas of a settlement on each chain, and how it all prints.

use super::{Row, XBenchOptions, in_process::Mined};
use crate::report::thousands;
use kessai_deployer::xchain::bench::Percentiles;
use serde::Serialize;
use std::fmt;

/// One engine's measurement.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct XEngine {
    /// Short name: `in-process`, `raw-revm`, `anvil-batched`, `anvil-single`.
    pub engine: String,
    /// Threads (or, for Anvil, nodes driven at once) the timed part used.
    pub threads: usize,
    /// What was measured.
    pub description: String,
    /// Complete cross-chain settlements.
    pub settlements: usize,
    /// Transactions executed on both chains.
    pub transactions: usize,
    /// Wall-clock seconds of the timed part.
    pub seconds: f64,
    /// Complete settlements per second.
    pub settlements_per_second: f64,
    /// Gas the asset chain's transactions used.
    pub gas_asset: u64,
    /// Gas the payment chain's transactions used.
    pub gas_payment: u64,
    /// Of `gas_asset`, what Anvil charged beyond Berlin's rules (its pre-London refund gap); zero
    /// for every other engine.
    pub refund_gap: u64,
    /// Party balances read after the run and found as the trades say.
    pub balances_checked: usize,
}

impl XEngine {
    /// `in-process (2 threads)` and the like.
    pub fn label(&self) -> String {
        let plural = if self.threads == 1 { "" } else { "s" };
        match self.engine.as_str() {
            "anvil-batched" => "two Anvils, batched".into(),
            "anvil-single" => "two Anvils, one at a time".into(),
            name => format!("{name} ({} thread{plural})", self.threads),
        }
    }
}

/// Mean gas of one settlement's transactions, from the in-process recording.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct XGas {
    /// The seller's lock on the asset chain.
    pub lock: u64,
    /// The relayer's delivery on the asset chain.
    pub deliver: u64,
    /// The payer's payment on the payment chain.
    pub pay: u64,
    /// The relayer's commit on the payment chain.
    pub commit: u64,
}

impl XGas {
    /// The means over the recorded settlements (`[lock, deliver, …]` and `[pay, commit, …]`).
    pub(super) fn of(asset: &[Mined], payment: &[Mined]) -> Self {
        let mean = |txs: &[Mined], at: usize| {
            let gas: Vec<u64> = txs.iter().skip(at).step_by(2).map(|m| m.gas).collect();
            gas.iter().sum::<u64>() / gas.len().max(1) as u64
        };
        Self { lock: mean(asset, 0), deliver: mean(asset, 1), pay: mean(payment, 0), commit: mean(payment, 1) }
    }
}

/// A goal, and how this run compares with it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct XGoal {
    /// What the goal asks.
    pub goal: String,
    /// The bound.
    pub target: f64,
    /// Whether the measure must reach the bound (`true`) or stay within it.
    pub at_least: bool,
    /// What this run measured; `None` when an engine it needs did not run.
    pub measured: Option<f64>,
    /// Whether the goal was met; `None` when not measured.
    pub met: Option<bool>,
}

/// Everything a run measured.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct XBenchReport {
    /// What was asked.
    pub options: XBenchOptions,
    /// Seller/payer pairs the settlements were shared among.
    pub pairs: usize,
    /// Each engine, in the order measured.
    pub engines: Vec<XEngine>,
    /// Whether every engine used the same gas for every transaction (checked: the run fails on any
    /// other difference than [`Self::anvil_refund_gap`]).
    pub gas_identical: bool,
    /// Gas Anvil charged beyond Berlin's rules on the asset chain, in all (it refunds a cleared slot
    /// by London's 4,800 instead of 15,000); zero when it charged none.
    pub anvil_refund_gap: u64,
    /// Mean gas of a settlement's transactions.
    pub gas_per_settlement: XGas,
    /// Seconds of simulated block time from the payment's block to both legs final, in-process.
    pub simulated_latency: Percentiles,
    /// Seconds of wall time from sending the payment to both legs final, two Anvils one at a time.
    pub anvil_latency: Option<Percentiles>,
    /// The goals and what this run measured.
    pub goals: Vec<XGoal>,
    /// Seconds spent signing the attestations (untimed in every engine).
    pub signing_seconds: f64,
    /// Whether this is an optimised build (revm in a debug build is about 50× slower).
    pub release_build: bool,
}

impl XBenchReport {
    /// The measurement of `engine` on `threads`, if it ran.
    pub fn engine(&self, engine: &str, threads: usize) -> Option<&XEngine> {
        self.engines.iter().find(|e| e.engine == engine && e.threads == threads)
    }
}

/// The goals, from the engines' rates.
pub(super) fn goals(engines: &[Row]) -> Vec<XGoal> {
    let rate = |engine: &str, threads: usize| {
        engines.iter().find(|(e, _)| e.engine == engine && e.threads == threads).map(|(e, _)| e.settlements_per_second)
    };
    let ratio = |a: Option<f64>, b: Option<f64>| Some(a? / b?);
    let in_process = rate("in-process", 2);
    let goal = |goal: &str, target: f64, at_least: bool, measured: Option<f64>| XGoal {
        goal: goal.into(),
        target,
        at_least,
        measured,
        met: measured.map(|m| if at_least { m >= target } else { m <= target }),
    };
    vec![
        goal("in-process, two threads: settlements/s", 3_000.0, true, in_process),
        goal("raw revm ÷ in-process rate, one thread", 1.25, false, ratio(rate("raw-revm", 1), rate("in-process", 1))),
        goal("raw revm ÷ in-process rate, two threads", 1.25, false, ratio(rate("raw-revm", 2), in_process)),
        goal("in-process, two threads ÷ one thread", 1.6, true, ratio(in_process, rate("in-process", 1))),
        goal("in-process (two threads) ÷ two Anvils batched", 5.0, true, ratio(in_process, rate("anvil-batched", 2))),
        goal(
            "in-process (two threads) ÷ two Anvils one at a time",
            100.0,
            true,
            ratio(in_process, rate("anvil-single", 1)),
        ),
    ]
}

/// A number with two decimals below 100 and none above, thousands grouped.
fn figure(x: f64) -> String {
    if x.abs() < 100.0 { format!("{x:.2}") } else { thousands(x.round() as u64) }
}

impl fmt::Display for XBenchReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let o = &self.options;
        writeln!(
            f,
            "{} complete cross-chain DvP settlements among {} seller/payer pairs, seed {}: lock + deliver on the asset \
             chain (1010032, Berlin), pay + commit on the payment chain (31337, Cancun), proofs of 2 of 3 attestors \
             signed beforehand ({:.1} s){}",
            thousands(o.trades as u64),
            self.pairs,
            o.seed,
            self.signing_seconds,
            if self.release_build { "" } else { "\nDEBUG BUILD: revm is ~50× slower; measure with --release" }
        )?;
        self.write_engines(f)?;
        writeln!(f, "goals (measured in this run, reported, never asserted):")?;
        for g in &self.goals {
            let bound = format!("{} {}", if g.at_least { "≥" } else { "≤" }, figure(g.target));
            let (measured, verdict) = match (g.measured, g.met) {
                (Some(m), Some(met)) => (figure(m), if met { "met" } else { "NOT MET" }),
                _ => ("-".into(), "not measured"),
            };
            writeln!(f, "  {:<52} {:>9}  measured {:>9}  {verdict}", g.goal, bound, measured)?;
        }
        self.write_latency_and_gas(f)
    }
}

impl XBenchReport {
    /// The engines' table: rates, and each relative to the in-process engine on two threads.
    fn write_engines(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let base = self.engine("in-process", 2).map(|e| e.settlements_per_second);
        writeln!(
            f,
            "  {:<28} {:>11} {:>12} {:>9} {:>13} {:>8}",
            "engine", "settlements", "transactions", "seconds", "settlements/s", "ratio"
        )?;
        for e in &self.engines {
            let ratio = base.map_or("-".into(), |b| format!("{:.3}×", e.settlements_per_second / b.max(1e-9)));
            writeln!(
                f,
                "  {:<28} {:>11} {:>12} {:>9.3} {:>13} {:>8}",
                e.label(),
                thousands(e.settlements as u64),
                thousands(e.transactions as u64),
                e.seconds,
                figure(e.settlements_per_second),
                ratio
            )?;
        }
        writeln!(f, "  (ratio: settlements/s relative to the in-process engine on two threads)")
    }

    /// The latencies, the gas of a settlement, and whether the engines agreed on gas and balances.
    fn write_latency_and_gas(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let l = &self.simulated_latency;
        writeln!(f, "latency from the payment to both legs final (commit and delivery):")?;
        writeln!(f, "  in-process, simulated block time:   p50 {:.0} s   p99 {:.0} s", l.p50, l.p99)?;
        match &self.anvil_latency {
            Some(l) => writeln!(
                f,
                "  two Anvils one at a time, wall time: p50 {:.1} ms   p99 {:.1} ms",
                l.p50 * 1e3,
                l.p99 * 1e3
            )?,
            None => writeln!(f, "  two Anvils one at a time: not measured (--skip-anvil)")?,
        }
        let g = &self.gas_per_settlement;
        writeln!(
            f,
            "gas per settlement: asset chain {} (lock {} + deliver {}), payment chain {} (pay {} + commit {})",
            thousands(g.lock + g.deliver),
            thousands(g.lock),
            thousands(g.deliver),
            thousands(g.pay + g.commit),
            thousands(g.pay),
            thousands(g.commit)
        )?;
        let balances: Vec<String> = self.engines.iter().map(|e| e.balances_checked.to_string()).collect();
        write!(
            f,
            "every engine used the same gas for every transaction{}; balances checked after each run: {}",
            if self.anvil_refund_gap == 0 {
                String::new()
            } else {
                format!(
                    ", except that Anvil charged {} more on the Berlin asset chain (its pre-London refund of a cleared \
                     slot)",
                    thousands(self.anvil_refund_gap)
                )
            },
            balances.join(", ")
        )
    }
}
