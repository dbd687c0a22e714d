//! `kessai sim prop --cross-chain`: settlement across two in-process chains with faults, checked
//! after every event ([`kessai_sim::xchain`]); independent seeds run in parallel, results in seed
//! order.

use super::{GlobalArgs, Reported, output};
use eyre::WrapErr;
use kessai_sim::{
    parallel,
    xchain::{self, Options, Run},
};
use serde::Serialize;
use std::{fmt, path::Path};

/// Every seed's run and a verdict over all of them.
#[derive(Serialize)]
struct CrossChainReport {
    steps: usize,
    options: Options,
    passed: bool,
    runs: Vec<Run>,
}

/// Runs `options.steps` events for each seed, prints each run (text or `--json`), writes the first
/// failure's short scenario to `out` (or prints it), and fails if an invariant broke.
pub(super) fn execute(
    options: Options,
    seeds: &[u64],
    jobs: usize,
    out: Option<&Path>,
    global: GlobalArgs,
) -> eyre::Result<()> {
    let steps = options.steps;
    output::progress(
        global,
        format_args!(
            "cross-chain property run: {} seed(s) × {steps} events on {} thread(s); {} of 3 attestors faulty, \
             verifiers' threshold {}",
            seeds.len(),
            jobs.min(seeds.len()),
            options.faulty,
            options.threshold
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
    let shrunk = report.runs.iter().filter_map(|r| r.failure.as_ref()?.scenario.as_deref()).next();
    match (shrunk, out) {
        (Some(text), Some(path)) => {
            std::fs::write(path, text).wrap_err_with(|| format!("cannot write {}", path.display()))?;
            output::progress(
                global,
                format_args!("wrote the shrunk scenario to {} (kessai sim run replays it)", path.display()),
            );
        }
        (Some(text), None) if !global.json => println!("\n{text}"),
        _ => {}
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
