//! `kessai sim`: replay settlement scenarios in-process (revm) or on a node.

use super::{GlobalArgs, Reported, engine, output};
use clap::{Args, Subcommand};
use eyre::WrapErr;
use kessai_sim::{
    report::{self, Zone, thousands},
    scenario::{
        self, RunReport, Scenario, StepOutcome,
        run::{self, Totals},
    },
    xchain,
};
use serde::{Serialize, Serializer};
use std::{
    fmt,
    path::{Path, PathBuf},
    time::{Duration, Instant},
};

/// Generated workloads, parallel runs and the benchmark (`kessai sim gen`, `kessai sim bench`).
mod workloads;

/// Property runs (`kessai sim prop`).
mod prop;
mod xprop;

/// The cross-chain benchmark (`kessai sim bench --cross-chain`).
mod xbench;
/// Generated cross-chain days (`kessai sim gen --cross-chain`).
mod xgen;

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
    /// liquidity over time, gas by operation and settlement outcomes, and every step; for a
    /// cross-chain file, both chains on one time axis, the liquidity locked on each and the
    /// settlement latency as a distribution.
    #[arg(long, value_name = "FILE")]
    html: Option<PathBuf>,
    /// The time zone of the reports' dates: UTC, an IANA name (Asia/Tokyo, from the time zone
    /// database built into kessai) or an offset from UTC (+09:00). `--json` keeps unix times.
    #[arg(long, value_name = "ZONE", default_value = "UTC")]
    tz: Zone,
}

impl SimCommand {
    /// Runs the subcommand.
    pub async fn execute(self, global: GlobalArgs) -> eyre::Result<()> {
        match self.command {
            SimSubcommand::Run(args) => args.execute(global).await,
            SimSubcommand::Gen(args) => args.execute(global).await,
            SimSubcommand::Bench(args) => args.execute(global).await,
            SimSubcommand::Prop(args) => args.execute(global),
            SimSubcommand::Steps => output::print_document(global, &StepTable::new()),
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
        if let Some(x) = self.cross_chain()? {
            let report = if self.anvil {
                xchain::run_scenario_on_anvil(&x).await?
            } else {
                kessai_sim::parallel::drive(|| xchain::run_scenario(&x))?
            };
            if let Some(path) = &self.html {
                std::fs::write(path, xchain::html::html(&report))
                    .wrap_err_with(|| format!("cannot write the HTML report to {}", path.display()))?;
            }
            output::print_document(global, &report)?;
            if let Some(path) = &self.html {
                output::progress(global, format_args!("HTML report: {}", path.display()));
            }
            if report.passed() {
                return Ok(());
            }
            return Err(
                Reported(format!("{}: an invariant or an expectation did not hold", self.file.display())).into()
            );
        }
        let scenario = scenario::load(&self.file)?;
        let began = Instant::now();
        let (engine, report) = self.replay(&scenario, global).await?;
        let replay = Replay::new(engine, self.file.clone(), report, began.elapsed());
        if let Some(path) = &self.html {
            self.write_html(path, &replay)?;
        }
        output::print_document(global, &Summary { replay: &replay, zone: &self.tz, html: self.html.as_deref() })?;
        replay.verdict()
    }

    /// The file as a cross-chain scenario (it has `[chains]`): replayed in-process, or with `--anvil`
    /// on two Anvils spawned for it.
    fn cross_chain(&self) -> eyre::Result<Option<xchain::XScenario>> {
        let text = std::fs::read_to_string(&self.file)
            .wrap_err_with(|| format!("cannot read the scenario {}", self.file.display()))?;
        if !xchain::XScenario::is_cross_chain(&text) {
            return Ok(None);
        }
        if self.rpc_url.is_some() {
            eyre::bail!(
                "{} is a cross-chain scenario: it replays in-process or with --anvil on two Anvils it spawns (not on \
                 --rpc-url, which names one node)",
                self.file.display()
            );
        }
        Ok(Some(xchain::XScenario::parse(&text, &self.file.display().to_string())?))
    }

    /// Replays `scenario` on the engine asked for, printing each step (unless `--json`) under a
    /// progress line: (engine name, report).
    async fn replay(&self, scenario: &Scenario, global: GlobalArgs) -> eyre::Result<(&'static str, RunReport)> {
        // A progress line on stderr (only a terminal's, never with --json) for long runs.
        let progress = if global.json {
            report::Progress::hidden()
        } else {
            report::Progress::new([("steps", scenario.steps.len() as u64)])
        };
        let mut done = 0;
        let print = |outcome: &StepOutcome, time: u64| {
            done += 1;
            progress.suspend(|| output::progress(global, StepLine { outcome, time, zone: &self.tz }));
            progress.set(0, done);
        };
        let replayed = if self.anvil || self.rpc_url.is_some() {
            let (_anvil, mut chain) =
                engine::connect_with(self.rpc_url.clone(), global, Default::default(), &self.local.anvil())?;
            let keys = engine::signers()?;
            output::progress(
                global,
                format_args!("scenario: {} ({})\nengine: JSON-RPC node", scenario.name, self.file.display()),
            );
            ("rpc", run::run_timed(&mut chain, scenario, &keys, print).await?)
        } else {
            // Anvil's development keys first, then derived ones: any number of parties runs in-process.
            let (mut chain, keys) = kessai_sim::parallel::in_process_chain_with(scenario, &self.local.revm());
            output::progress(
                global,
                format_args!(
                    "scenario: {} ({})\nengine: {}",
                    scenario.name,
                    self.file.display(),
                    self.local.describe()
                ),
            );
            ("revm", run::run_timed(&mut chain, scenario, &keys, print).await?)
        };
        progress.finish();
        Ok(replayed)
    }

    /// Writes the HTML report of the replay to `path`.
    fn write_html(&self, path: &Path, replay: &Replay) -> eyre::Result<()> {
        let info = report::PageInfo {
            engine: replay.engine.to_string(),
            file: Some(self.file.display().to_string()),
            elapsed: Some(replay.elapsed),
            zone: self.tz.clone(),
        };
        std::fs::write(path, report::html(&replay.report, &info))
            .wrap_err_with(|| format!("cannot write the HTML report to {}", path.display()))
    }
}

/// A step as `kessai sim run` prints it while the scenario replays.
struct StepLine<'a> {
    outcome: &'a StepOutcome,
    time: u64,
    zone: &'a Zone,
}

impl fmt::Display for StepLine<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = report::text::step(self.outcome, self.time, self.zone);
        f.write_str(text.strip_suffix('\n').unwrap_or(&text))
    }
}

/// A scenario file's replay: with `--json` the whole report; as text one line (a file among
/// several), or with [`Summary`] the report's summary.
#[derive(Serialize)]
struct Replay {
    /// `revm` or `rpc`.
    engine: &'static str,
    file: PathBuf,
    passed: bool,
    totals: Totals,
    #[serde(rename = "elapsed_ms", serialize_with = "millis")]
    elapsed: Duration,
    report: RunReport,
}

impl Replay {
    fn new(engine: &'static str, file: PathBuf, report: RunReport, elapsed: Duration) -> Self {
        Self { engine, file, passed: report.passed(), totals: report.totals(), elapsed, report }
    }

    /// Fails (the replay already printed) when an expectation did not hold.
    fn verdict(&self) -> eyre::Result<()> {
        if self.passed {
            return Ok(());
        }
        let t = &self.totals;
        let message =
            format!("{} of {} expectations of {} did not hold", t.failed_checks, t.checks, self.file.display());
        Err(Reported(message).into())
    }
}

/// `✓ file: steps, expectations, transactions, gas; seconds`.
impl fmt::Display for Replay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let t = &self.totals;
        write!(
            f,
            "{} {}: {} steps ({} failed as steps), {} of {} expectations held, {} transactions, {} gas; {:.2} s",
            if self.passed { "✓" } else { "✗" },
            self.file.display(),
            t.steps,
            t.failed,
            t.checks - t.failed_checks,
            t.checks,
            thousands(t.transactions),
            thousands(t.gas_used),
            self.elapsed.as_secs_f64()
        )
    }
}

/// One file's replay as `kessai sim run FILE` prints it: the report's summary (and where the HTML
/// report is); the whole replay with `--json`.
#[derive(Serialize)]
#[serde(transparent)]
struct Summary<'a> {
    replay: &'a Replay,
    #[serde(skip)]
    zone: &'a Zone,
    #[serde(skip)]
    html: Option<&'a Path>,
}

impl fmt::Display for Summary<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let summary = report::text::summary(&self.replay.report, self.replay.elapsed.as_secs_f64(), self.zone);
        f.write_str(summary.strip_suffix('\n').unwrap_or(&summary))?;
        if let Some(path) = self.html {
            write!(f, "\nHTML report: {}", path.display())?;
        }
        Ok(())
    }
}

/// Writes a duration as whole milliseconds (the `elapsed_ms` fields).
fn millis<S: Serializer>(elapsed: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u128(elapsed.as_millis())
}

/// What every step takes besides its kind's fields.
const EVERY_STEP_TAKES: [&str; 2] = ["note", "expect"];

/// The step kinds a scenario file may use (`kessai sim steps`), from the parser's step table.
#[derive(Serialize)]
struct StepTable {
    every_step_takes: [&'static str; 2],
    steps: Vec<StepDoc>,
}

/// A step kind: what it does and its fields (keys in alphabetical order, as `--json` has always
/// printed them).
#[derive(Serialize)]
struct StepDoc {
    about: &'static str,
    #[serde(rename = "do")]
    name: &'static str,
    optional: &'static [&'static str],
    required: &'static [&'static str],
}

impl StepTable {
    fn new() -> Self {
        let steps = scenario::steps::KINDS
            .iter()
            .map(|k| StepDoc { about: k.about, name: k.name, optional: k.optional, required: k.required })
            .collect();
        Self { every_step_takes: EVERY_STEP_TAKES, steps }
    }
}

/// The step table as `kessai sim steps` prints it (and the README shows it): each kind with its
/// fields (optional ones marked `?`) and what it does.
impl fmt::Display for StepTable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for k in &self.steps {
            let fields: Vec<String> =
                k.required.iter().map(|f| f.to_string()).chain(k.optional.iter().map(|f| format!("{f}?"))).collect();
            write!(f, "{:<20} {}\n    {}\n", k.name, fields.join(" "), k.about)?;
        }
        let takes: Vec<String> = self.every_step_takes.iter().map(|t| format!("`{t}`")).collect();
        write!(f, "every step also takes {} (error, events, balances, supply, trades)", takes.join(" and "))
    }
}
