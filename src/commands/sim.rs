//! `kessai sim`: replay settlement scenarios in-process (revm) or on a node.

use super::{GlobalArgs, Reported, engine};
use clap::{Args, Subcommand};
use eyre::WrapErr;
use kessai_sim::{
    report::{self, Zone, thousands},
    scenario::{
        self, RunReport, Scenario, StepOutcome,
        run::{self, Totals},
    },
};
use serde::Serialize;
use std::{
    path::{Path, PathBuf},
    time::{Duration, Instant},
};

/// Generated workloads, parallel runs and the benchmark (`kessai sim gen`, `kessai sim bench`).
mod workloads;

/// Property runs (`kessai sim prop`).
mod prop;

/// Settlement scenarios: replay a scenario file on the in-process engine or a real node.
#[derive(Debug, Args)]
pub struct SimCommand {
    /// What to do.
    #[command(subcommand)]
    command: SimSubcommand,
}

#[derive(Debug, Subcommand)]
enum SimSubcommand {
    /// Replay a scenario file and check its expectations (exits non-zero if one fails).
    Run(RunArgs),
    /// Generate a market-scale workload: write it as a scenario file, replay it, or settle it gross
    /// and netted side by side.
    Gen(workloads::GenArgs),
    /// Settlements per second: in-process engine vs raw revm vs Anvil (batched, and one at a time).
    Bench(workloads::BenchArgs),
    /// Random step sequences checked after every step against the settlement invariants; a
    /// failing sequence is shrunk and written as a scenario file that `sim run` replays.
    Prop(prop::PropArgs),
    /// List the step kinds a scenario file may use, with the fields each takes (from the parser's
    /// step table).
    Steps,
}

#[derive(Debug, Args)]
struct RunArgs {
    /// The scenario file (TOML; see scenarios/ for examples).
    file: PathBuf,
    /// Replay on a freshly spawned Anvil instead of in-process.
    #[arg(long, conflicts_with = "rpc_url")]
    anvil: bool,
    /// Replay on this node (a development chain: the scenario moves its clock). Parties use
    /// Anvil's development keys unless KESSAI_KEYS or KESSAI_KEYSTORE name others (suite roles
    /// first: operator, registrar, issuer, bank, authority; then the other parties in file order; a
    /// party with an `address` gets that account's key).
    #[arg(long, env = "KESSAI_RPC_URL")]
    rpc_url: Option<String>,
    /// More scenario files: all of them replay in parallel, each on its own in-process chain, and
    /// the results print in the files' order.
    #[arg(value_name = "MORE")]
    more: Vec<PathBuf>,
    /// Threads for several files (default: the machine's cores).
    #[arg(long)]
    jobs: Option<usize>,
    /// The rules of the in-process engine or the spawned Anvil.
    #[command(flatten)]
    local: engine::LocalChainArgs,
    /// Also write an HTML report here: one self-contained page with plots of balances and
    /// liquidity over time, gas by operation and settlement outcomes, and every step.
    #[arg(long, value_name = "FILE")]
    html: Option<PathBuf>,
    /// The time zone of the reports' dates: UTC, an IANA name (Asia/Tokyo, from the time zone
    /// database built into kessai) or an offset from UTC (+09:00). `--json` keeps unix times.
    #[arg(long, value_name = "ZONE", default_value = "UTC")]
    tz: Zone,
}

/// The machine-readable output of `kessai sim run --json`.
#[derive(Serialize)]
struct JsonOutput<'a> {
    engine: &'a str,
    file: &'a std::path::Path,
    passed: bool,
    totals: Totals,
    elapsed_ms: u128,
    report: &'a RunReport,
}

impl SimCommand {
    /// Runs the subcommand.
    pub async fn execute(self, global: GlobalArgs) -> eyre::Result<()> {
        match self.command {
            SimSubcommand::Run(args) => args.execute(global).await,
            SimSubcommand::Gen(args) => args.execute(global).await,
            SimSubcommand::Bench(args) => args.execute(global).await,
            SimSubcommand::Prop(args) => args.execute(global),
            SimSubcommand::Steps => {
                if global.json {
                    println!("{}", serde_json::to_string_pretty(&step_table_json())?);
                } else {
                    print!("{}", step_table_text());
                }
                Ok(())
            }
        }
    }
}

impl RunArgs {
    /// Replays the scenario file (or several in parallel), reports it and fails if an expectation did
    /// not hold.
    async fn execute(self, global: GlobalArgs) -> eyre::Result<()> {
        if self.html.is_some() && !self.more.is_empty() {
            eyre::bail!("--html reports one scenario: give one file");
        }
        if !self.more.is_empty() {
            if self.anvil || self.rpc_url.is_some() {
                eyre::bail!(
                    "several scenario files replay in parallel in-process: give one file with --anvil or --rpc-url"
                );
            }
            let files: Vec<PathBuf> = std::iter::once(self.file).chain(self.more).collect();
            return workloads::run_files(&files, self.jobs, &self.local.revm(), global);
        }
        let scenario = scenario::load(&self.file)?;
        let began = Instant::now();
        let (engine, report) = self.replay(&scenario, global.json).await?;
        let elapsed = began.elapsed();
        if let Some(path) = &self.html {
            self.write_html(path, engine, &report, elapsed)?;
        }
        self.print(engine, &report, elapsed, global.json)?;
        if report.passed() {
            Ok(())
        } else {
            let totals = report.totals();
            Err(Reported(format!(
                "{} of {} expectations of {} did not hold",
                totals.failed_checks,
                totals.checks,
                self.file.display()
            ))
            .into())
        }
    }

    /// Replays `scenario` on the engine asked for, printing each step (unless `quiet`) under a
    /// progress line: (engine name, report).
    async fn replay(&self, scenario: &Scenario, quiet: bool) -> eyre::Result<(&'static str, RunReport)> {
        // A progress line on stderr (only a terminal's, never with --json) for long runs.
        let progress = if quiet {
            report::Progress::hidden()
        } else {
            report::Progress::new([("steps", scenario.steps.len() as u64)])
        };
        let mut done = 0;
        let print = |outcome: &StepOutcome, time: u64| {
            done += 1;
            if !quiet {
                progress.suspend(|| print!("{}", report::text::step(outcome, time, &self.tz)));
            }
            progress.set(0, done);
        };
        let replayed = if self.anvil || self.rpc_url.is_some() {
            let (_anvil, mut chain) =
                engine::connect_with(self.rpc_url.clone(), quiet, Default::default(), &self.local.anvil())?;
            let keys = engine::signers()?;
            if !quiet {
                println!("scenario: {} ({})\nengine: JSON-RPC node", scenario.name, self.file.display());
            }
            ("rpc", run::run_timed(&mut chain, scenario, &keys, print).await?)
        } else {
            // Anvil's development keys first, then derived ones: any number of parties runs in-process.
            let (mut chain, keys) = kessai_sim::parallel::in_process_chain_with(scenario, &self.local.revm());
            if !quiet {
                println!("scenario: {} ({})\nengine: {}", scenario.name, self.file.display(), self.local.describe());
            }
            ("revm", run::run_timed(&mut chain, scenario, &keys, print).await?)
        };
        progress.finish();
        Ok(replayed)
    }

    /// Writes the HTML report of the run to `path`.
    fn write_html(&self, path: &Path, engine: &str, report: &RunReport, elapsed: Duration) -> eyre::Result<()> {
        let info = report::PageInfo {
            engine: engine.to_string(),
            file: Some(self.file.display().to_string()),
            elapsed: Some(elapsed),
            zone: self.tz.clone(),
        };
        std::fs::write(path, report::html(report, &info))
            .wrap_err_with(|| format!("cannot write the HTML report to {}", path.display()))
    }

    /// Prints the run's result: the whole report as JSON, or its summary (and where the HTML report is).
    fn print(&self, engine: &str, report: &RunReport, elapsed: Duration, json: bool) -> eyre::Result<()> {
        if json {
            let output = JsonOutput {
                engine,
                file: &self.file,
                passed: report.passed(),
                totals: report.totals(),
                elapsed_ms: elapsed.as_millis(),
                report,
            };
            println!("{}", serde_json::to_string_pretty(&output).wrap_err("cannot write the report as JSON")?);
        } else {
            print!("{}", report::text::summary(report, elapsed.as_secs_f64(), &self.tz));
            if let Some(path) = &self.html {
                println!("HTML report: {}", path.display());
            }
        }
        Ok(())
    }
}

/// The step table for `kessai sim steps --json`.
fn step_table_json() -> serde_json::Value {
    let kinds: Vec<serde_json::Value> = scenario::steps::KINDS
        .iter()
        .map(|k| serde_json::json!({ "do": k.name, "about": k.about, "required": k.required, "optional": k.optional }))
        .collect();
    serde_json::json!({ "steps": kinds, "every_step_takes": ["note", "expect"] })
}

/// The step table as `kessai sim steps` prints it (and the README shows it): each kind with its
/// fields (optional ones marked `?`) and what it does.
pub fn step_table_text() -> String {
    let mut out = String::new();
    for k in scenario::steps::KINDS {
        let fields: Vec<String> =
            k.required.iter().map(|f| f.to_string()).chain(k.optional.iter().map(|f| format!("{f}?"))).collect();
        out.push_str(&format!("{:<20} {}\n    {}\n", k.name, fields.join(" "), k.about));
    }
    out.push_str("every step also takes `note` and `expect` (error, events, balances, supply, trades)\n");
    out
}
