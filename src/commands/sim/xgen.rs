//! `kessai sim gen --cross-chain`: a generated day of cross-chain trades with faults
//! ([`kessai_sim::xchain::generator`]), written as a scenario file or replayed in-process at once
//! with a summary: what settled, what returned, the settlement latency, and how long the replay took.

use super::{GlobalArgs, Reported, output, thousands};
use eyre::WrapErr;
use kessai_sim::{
    parallel,
    xchain::{
        self, Latency, XScenarioReport,
        generator::{self, XGenParams},
    },
};
use serde::Serialize;
use std::{fmt, path::Path, time::Instant};

/// A replayed generated day, summed up (the steps themselves are in the file).
#[derive(Serialize)]
struct DaySummary<'a> {
    params: &'a XGenParams,
    passed: bool,
    trades: usize,
    delivered: usize,
    returned: usize,
    steps: usize,
    latency: &'a Latency,
    seconds: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    failure: Option<String>,
    unmet: &'a [String],
}

/// Generates the day; writes it to `out` (or prints it), or replays it when `run`.
pub(super) fn execute(params: &XGenParams, out: Option<&Path>, run: bool, global: GlobalArgs) -> eyre::Result<()> {
    let scenario = generator::generate(params);
    let text = generator::write(&scenario);
    match out {
        Some(path) => {
            std::fs::write(path, &text).wrap_err_with(|| format!("cannot write {}", path.display()))?;
            if !run {
                output::progress(global, format_args!("wrote {} (kessai sim run replays it)", path.display()));
            }
        }
        None if run => {}
        None => {
            output::print_file(&text);
            return Ok(());
        }
    }
    if !run {
        return Ok(());
    }
    output::progress(
        global,
        format_args!("replaying {} cross-chain trades in-process …", thousands(params.trades as u64)),
    );
    let started = Instant::now();
    let report = parallel::drive(|| xchain::run_scenario(&scenario))?;
    let seconds = started.elapsed().as_secs_f64();
    let summary = summarize(params, &report, scenario.steps.len(), seconds);
    output::print_document(global, &summary)?;
    if summary.passed { Ok(()) } else { Err(Reported("an invariant broke in the generated day".into()).into()) }
}

fn summarize<'a>(params: &'a XGenParams, report: &'a XScenarioReport, steps: usize, seconds: f64) -> DaySummary<'a> {
    let count = |outcome: &str| report.trades.iter().filter(|t| t.asset == outcome).count();
    DaySummary {
        params,
        passed: report.passed,
        trades: report.trades.len(),
        delivered: count("delivered"),
        returned: count("returned"),
        steps,
        latency: &report.latency,
        seconds,
        failure: report.failure.as_ref().map(|f| format!("{}: {}", f.invariant, f.message)),
        unmet: &report.unmet,
    }
}

impl fmt::Display for DaySummary<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{} trades locked ({} steps, faults at {:.1} % of trades each): {} delivered, {} returned",
            thousands(self.trades as u64),
            thousands(self.steps as u64),
            self.params.rates.halt * 100.0,
            thousands(self.delivered as u64),
            thousands(self.returned as u64)
        )?;
        writeln!(f, "settlement latency (payment to both legs final, simulated time): {}", self.latency)?;
        writeln!(
            f,
            "replayed in-process in {:.1} s ({:.0} trades/s)",
            self.seconds,
            self.trades as f64 / self.seconds
        )?;
        match &self.failure {
            Some(failure) => write!(f, "FAILED: {failure}"),
            None => write!(f, "every invariant held"),
        }
    }
}
