//! `kessai sim prop --cross-chain`: settlement across two in-process chains with faults, checked
//! after every event ([`kessai_sim::xchain`]); independent seeds run in parallel, results in seed
//! order.

use super::{GlobalArgs, Reported, output};
use kessai_sim::{
    parallel,
    xchain::{self, Options, Run},
};
use serde::Serialize;
use std::fmt;

/// Every seed's run and a verdict over all of them.
#[derive(Serialize)]
struct CrossChainReport {
    steps: usize,
    options: Options,
    passed: bool,
    runs: Vec<Run>,
}

/// Runs `steps` events for each seed with `faulty` faulty attestors, prints each run (text or
/// `--json`) and fails if an invariant broke.
pub(super) fn execute(steps: usize, faulty: usize, seeds: &[u64], jobs: usize, global: GlobalArgs) -> eyre::Result<()> {
    let options = Options { steps, faulty, ..Options::default() };
    output::progress(
        global,
        format_args!(
            "cross-chain property run: {} seed(s) × {steps} events on {} thread(s); {faulty} of 3 attestors faulty",
            seeds.len(),
            jobs.min(seeds.len())
        ),
    );
    let runs = parallel::map(seeds, jobs, |seed| parallel::drive(|| xchain::run(*seed, &options)));
    let runs = runs.into_iter().collect::<Result<Vec<Run>, _>>()?;
    let passed = runs.iter().all(|r| r.failure.is_none());
    let report = CrossChainReport { steps, options, passed, runs };
    output::print_document(global, &report)?;
    if passed {
        return Ok(());
    }
    let failing: Vec<String> = report.runs.iter().filter(|r| r.failure.is_some()).map(|r| r.seed.to_string()).collect();
    Err(Reported(format!("an invariant broke (seed {})", failing.join(", "))).into())
}

impl fmt::Display for CrossChainReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for run in &self.runs {
            writeln!(f, "{run}")?;
        }
        let verdict = if self.passed { "every invariant held" } else { "an invariant broke" };
        write!(f, "{} seed(s) × {} events: {verdict}", self.runs.len(), self.steps)
    }
}
