//! The report of a run of the cross-chain benchmark: the latency percentiles, where the time goes,
//! how the run compares with the goal, and how the report prints.

use super::BenchOptions;
use serde::Serialize;
use std::fmt;

/// Latency percentiles, in seconds (nearest rank).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct Percentiles {
    /// Median.
    pub p50: f64,
    /// 90th percentile.
    pub p90: f64,
    /// 99th percentile.
    pub p99: f64,
    /// Largest.
    pub max: f64,
    /// Mean.
    pub mean: f64,
}

impl Percentiles {
    /// The percentiles of `samples` (seconds); all zero when there are none.
    pub fn of(samples: &[f64]) -> Self {
        if samples.is_empty() {
            return Self::default();
        }
        let mut sorted = samples.to_vec();
        sorted.sort_by(f64::total_cmp);
        let rank = |q: f64| sorted[((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len()) - 1];
        Self {
            p50: rank(0.50),
            p90: rank(0.90),
            p99: rank(0.99),
            max: sorted[sorted.len() - 1],
            mean: sorted.iter().sum::<f64>() / sorted.len() as f64,
        }
    }
}

/// Where the time goes: for each milestone of a trade, the seconds from its payment's block to it
/// over the trades that reached it (negative when it came before; `None` when none did).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct Stages {
    /// The lock's block on A.
    pub lock_included: Option<Percentiles>,
    /// The lock signed by the threshold of attestors.
    pub lock_attested: Option<Percentiles>,
    /// The commit's block on B.
    pub commit_included: Option<Percentiles>,
    /// The commit signed by the threshold of attestors (after its confirmations).
    pub commit_attested: Option<Percentiles>,
    /// The delivery's block on A: both legs final.
    pub delivered: Option<Percentiles>,
}

/// The goal and how the run compares.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Goal {
    /// The median latency the goal allows, in seconds.
    pub p50_target: f64,
    /// The 99th percentile it allows.
    pub p99_target: f64,
    /// Whether the measured median is within it.
    pub p50_met: bool,
    /// Whether the measured 99th percentile is within it.
    pub p99_met: bool,
}

/// The attestors of a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Attestors {
    /// In the verifiers' sets.
    pub configured: usize,
    /// Running (the others are absent).
    pub running: usize,
    /// Signatures a statement needs.
    pub threshold: u8,
}

/// The result of a run.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BenchReport {
    /// What was run.
    pub options: BenchOptions,
    /// Seller/payer pairs that submitted.
    pub sender_pairs: usize,
    /// The attestors.
    pub attestors: Attestors,
    /// Trades whose lock and payment were both accepted.
    pub submitted: usize,
    /// Trades delivered on A (both legs final).
    pub settled: usize,
    /// The first refusal of a lock or payment, if any.
    pub first_send_error: Option<String>,
    /// Seconds spent spawning, deploying and funding.
    pub setup_s: f64,
    /// Seconds from the first submission to the last delivery.
    pub wall_s: f64,
    /// Settled trades per second over `wall_s`.
    pub throughput: f64,
    /// Seconds from each trade's payment block to its delivery block.
    pub latency: Percentiles,
    /// Medians of the milestones between.
    pub stages: Stages,
    /// Relayer passes that failed (a node not answering), and steps the contracts refused.
    pub relayer_failed_passes: usize,
    /// Steps the contracts refused (including repeats).
    pub relayer_refusals: usize,
    /// Attestor passes that failed.
    pub attestor_failed_passes: usize,
    /// The comparison with the goal.
    pub goal: Goal,
}

impl fmt::Display for BenchReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let o = &self.options;
        let Attestors { configured: n, running, threshold: k } = self.attestors;
        writeln!(
            f,
            "cross-chain settlement on two Anvils with {} s blocks: {} trades at {}/s from {} seller/payer pairs, \
             {running} of {n} attestors running ({k} of {n} needed), 1 relayer (a task per chain), passes every {} ms",
            o.block_time, o.trades, o.rate, self.sender_pairs, o.poll_ms
        )?;
        writeln!(
            f,
            "settled {} of {} ({} submitted) in {:.1} s: {:.1} trades/s; setup {:.1} s",
            self.settled, o.trades, self.submitted, self.wall_s, self.throughput, self.setup_s
        )?;
        if let Some(error) = &self.first_send_error {
            writeln!(f, "a lock or payment was refused: {error}")?;
        }
        if self.relayer_failed_passes + self.relayer_refusals + self.attestor_failed_passes > 0 {
            writeln!(
                f,
                "relayer: {} failed passes, {} refused steps; attestors: {} failed passes",
                self.relayer_failed_passes, self.relayer_refusals, self.attestor_failed_passes
            )?;
        }
        let l = &self.latency;
        writeln!(f, "latency from the payment's block to the delivery's block (wall time):")?;
        writeln!(
            f,
            "  p50 {:.2} s   p90 {:.2} s   p99 {:.2} s   max {:.2} s   mean {:.2} s",
            l.p50, l.p90, l.p99, l.max, l.mean
        )?;
        writeln!(f, "where the time goes (seconds from the payment's block):")?;
        writeln!(f, "  {:<28} {:>6} {:>6} {:>6}", "", "p50", "p90", "max")?;
        let s = &self.stages;
        for (what, at) in [
            ("lock in its block on A", s.lock_included),
            ("lock attested", s.lock_attested),
            ("commit in its block on B", s.commit_included),
            ("commit attested", s.commit_attested),
            ("delivery in its block on A", s.delivered),
        ] {
            match at {
                Some(p) => writeln!(f, "  {what:<28} {:>+6.2} {:>+6.2} {:>+6.2}", p.p50, p.p90, p.max)?,
                None => writeln!(f, "  {what:<28} {:>6}", "-")?,
            }
        }
        let met = |ok: bool| if ok { "met" } else { "missed" };
        write!(
            f,
            "goal p50 ≤ {} s: {} ({:.2} s); p99 ≤ {} s: {} ({:.2} s)",
            self.goal.p50_target,
            met(self.goal.p50_met),
            l.p50,
            self.goal.p99_target,
            met(self.goal.p99_met),
            l.p99
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_take_the_nearest_rank_and_stay_ordered() {
        let samples: Vec<f64> = (1..=100).map(f64::from).collect();
        let p = Percentiles::of(&samples);
        assert_eq!((p.p50, p.p90, p.p99, p.max), (50.0, 90.0, 99.0, 100.0));
        assert!((p.mean - 50.5).abs() < 1e-9);
        let one = Percentiles::of(&[2.5]);
        assert_eq!((one.p50, one.p99, one.max), (2.5, 2.5, 2.5));
        assert_eq!(Percentiles::of(&[]), Percentiles::default());
    }
}
