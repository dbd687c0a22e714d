//! `kessai sim gen`, `kessai sim bench`, and several scenario files at once for `kessai sim run`:
//! generated market workloads (written out, replayed, or settled gross and netted side by side),
//! independent runs in parallel across cores, and the engines' benchmark.

use super::{GlobalArgs, Replay, output, thousands};
use crate::commands::Reported;
use clap::Args;
use eyre::WrapErr;
use kessai_bindings::alloy::primitives::U256;
use kessai_sim::{
    RevmOptions,
    bench::{self, BenchOptions, BenchReport},
    parallel,
    scenario::{self, Scenario, write},
    workload::{FailureRates, GenParams, NettingComparison, Settlement, SettlementStats, TradeKind, Workload},
    xchain,
};
use serde::Serialize;
use std::{
    fmt,
    path::{Path, PathBuf},
    time::Instant,
};

/// Arguments of `kessai sim gen`.
#[derive(Debug, Args)]
pub(super) struct GenArgs {
    /// Investors (eligible ones, plus bank-only customers when --fail-ineligible is set).
    #[arg(long, default_value_t = 20)]
    investors: usize,
    /// Trades per day.
    #[arg(long, default_value_t = 100)]
    trades_per_day: usize,
    /// Days of trading.
    #[arg(long, default_value_t = 1)]
    days: usize,
    /// Seed of the workload (the same seed gives the same scenario).
    #[arg(long, default_value_t = 1, conflicts_with = "seeds")]
    seed: u64,
    /// Several seeds, run in parallel: `1..8` (the eight seeds 1 to 8) or `1,5,9`. Needs --run or
    /// --compare-netting, or --out (one file per seed).
    #[arg(long)]
    seeds: Option<String>,
    /// Settlement windows per day (the netted model settles at the close of each).
    #[arg(long, default_value_t = 6)]
    windows: usize,
    /// Most trades in one netted batch (a window's paid trades settle in batches of this size).
    #[arg(long, default_value_t = kessai_sim::workload::DEFAULT_MAX_BATCH)]
    max_batch: usize,
    /// Probability that a trade's buyer is not eligible for the units.
    #[arg(long, default_value_t = 0.0)]
    fail_ineligible: f64,
    /// Probability that a trade costs more than the buyer's free cash.
    #[arg(long, default_value_t = 0.0)]
    fail_cash: f64,
    /// Probability that the agent never approves a trade (released after its deadline).
    #[arg(long, default_value_t = 0.0)]
    fail_agent_rejects: f64,
    /// Probability that a trade's settlement instruction arrives after its deadline.
    #[arg(long, default_value_t = 0.0)]
    fail_expiry: f64,
    /// How the generated scenario settles: `gross` (per trade, the pilot's flow: the agent settles
    /// with the buyer's signed instruction), `netted` (batches per settlement window) or
    /// `instructed` (per trade, one instruction per party: the seller creates, the buyer pays, the
    /// agent approves) or `dcjpy` (as `instructed`, with the bank issuing the price to the buyer
    /// first and the seller redeeming the proceeds after: the pilot's whole cycle).
    #[arg(long, default_value = "gross", value_parser = ["gross", "netted", "instructed", "dcjpy"])]
    settlement: String,
    /// Write the scenario file here (several seeds: one file each, the seed before the extension)
    /// instead of printing it.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Replay the generated scenario in-process and report what settled and what failed.
    #[arg(long)]
    run: bool,
    /// Settle the same workload gross and netted, in-process, and compare liquidity and fails.
    #[arg(long, conflicts_with = "run")]
    compare_netting: bool,
    /// Threads for parallel runs (default: the machine's cores).
    #[arg(long)]
    jobs: Option<usize>,
    /// Generate a cross-chain day instead: --trades-per-day trades locked on the asset chain and
    /// paid on the payment chain over six hours of trading, with every fault at --fault-rate.
    #[arg(long, conflicts_with_all = [
        "investors", "days", "seeds", "windows", "max_batch", "fail_ineligible", "fail_cash",
        "fail_agent_rejects", "fail_expiry", "settlement", "compare_netting", "jobs",
    ])]
    cross_chain: bool,
    /// With --cross-chain: the share of trades that come with each fault (never paid, paid late, a
    /// halt of either chain, a relayer crash, a faulty attestor's signature, a hostile submission, a
    /// delay of the attestations, an attestor rotation, a clock skew).
    #[arg(long, default_value_t = 0.01, requires = "cross_chain")]
    fault_rate: f64,
}

/// Arguments of `kessai sim bench`.
#[derive(Debug, Args)]
pub(super) struct BenchArgs {
    /// Complete DvP settlements to measure in each flow.
    #[arg(long, default_value_t = 10_000)]
    trades: usize,
    /// Settlements Anvil one at a time replays: the first of the workload (it settles tens per
    /// second, and its rate only falls as its chain grows, so a shorter run flatters it). Default
    /// 1,000; 200 with --cross-chain.
    #[arg(long)]
    single_trades: Option<usize>,
    /// Seed of the generated workload.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Investors trading.
    #[arg(long, default_value_t = 100)]
    investors: usize,
    /// Measure only the in-process engine and raw revm.
    #[arg(long)]
    skip_anvil: bool,
    /// Transactions per JSON-RPC batch on Anvil.
    #[arg(long, default_value_t = 200)]
    batch_size: usize,
    /// Which flow to measure: `dcjpy` (the pilot's whole cycle: the bank issues the price to the
    /// buyer, createTrade, pay, approve, the seller redeems the proceeds), `instructed` (createTrade,
    /// pay, approve, each from its own party), `gross` (createTrade, then the agent's
    /// settleWithPayment with the buyer's signed instruction), or `all`, one after the other.
    #[arg(long, default_value = "all", value_parser = ["all", "dcjpy", "instructed", "gross"])]
    flow: String,
    /// EVM rules of every engine (the in-process engine, raw revm and Anvil).
    #[arg(long, default_value = "cancun")]
    hardfork: kessai_deployer::profile::Hardfork,
    /// Measure complete cross-chain settlements instead (lock and deliver on a Berlin asset chain,
    /// pay and commit on a Cancun payment chain): in-process on one thread and two, raw revm, and two
    /// Anvils batched and one at a time.
    #[arg(long, conflicts_with_all = ["investors", "flow", "hardfork"])]
    cross_chain: bool,
}

/// Parses `1..8` (inclusive), `1..=8`, `5` or `1,5,9`.
pub(super) fn parse_seeds(text: &str) -> eyre::Result<Vec<u64>> {
    let text = text.trim();
    let number = |s: &str| {
        s.trim().parse::<u64>().wrap_err_with(|| format!("bad seed `{s}` in --seeds {text}: expected a whole number"))
    };
    if let Some((a, b)) = text.split_once("..") {
        let (a, b) = (number(a)?, number(b.trim_start_matches('='))?);
        if b < a {
            eyre::bail!("--seeds {text}: the range is empty (write low..high)");
        }
        return Ok((a..=b).collect());
    }
    text.split(',').map(number).collect()
}

impl GenArgs {
    fn params(&self, seed: u64) -> GenParams {
        GenParams {
            investors: self.investors,
            trades_per_day: self.trades_per_day,
            days: self.days,
            seed,
            windows: self.windows,
            max_batch: self.max_batch,
            rates: FailureRates {
                ineligible: self.fail_ineligible,
                cash: self.fail_cash,
                agent_rejects: self.fail_agent_rejects,
                expiry: self.fail_expiry,
            },
            start: None,
        }
    }

    fn settlement(&self) -> Settlement {
        match self.settlement.as_str() {
            "netted" => Settlement::Netted,
            "instructed" => Settlement::Instructed,
            "dcjpy" => Settlement::Dcjpy,
            _ => Settlement::Gross,
        }
    }

    /// Generates the workloads, then writes or prints their scenario files, replays them, or settles
    /// them both ways.
    pub(super) async fn execute(self, global: GlobalArgs) -> eyre::Result<()> {
        if self.cross_chain {
            if !(0.0..=1.0).contains(&self.fault_rate) {
                eyre::bail!("--fault-rate {}: give a share of trades from 0 to 1 (0.01 is 1 %)", self.fault_rate);
            }
            let params = kessai_sim::xchain::generator::XGenParams {
                trades: self.trades_per_day,
                seed: self.seed,
                rates: kessai_sim::xchain::generator::XFaultRates::all(self.fault_rate),
                ..Default::default()
            };
            return super::xgen::execute(&params, self.out.as_deref(), self.run, global);
        }
        let seeds = match &self.seeds {
            Some(text) => parse_seeds(text)?,
            None => vec![self.seed],
        };
        let workloads =
            seeds.iter().map(|seed| Workload::generate(&self.params(*seed))).collect::<Result<Vec<_>, _>>()?;
        let jobs = self.jobs.unwrap_or_else(parallel::default_threads);
        if self.compare_netting {
            return compare(&workloads, jobs, global);
        }
        let settlement = self.settlement();
        let scenarios: Vec<Scenario> = workloads.iter().map(|w| w.scenario(settlement)).collect();
        match &self.out {
            Some(out) => self.write(out, &seeds, &scenarios, global)?,
            None if self.run => {}
            None if seeds.len() > 1 => {
                eyre::bail!("several seeds print several files: give --out FILE (or --run / --compare-netting)")
            }
            None => {
                output::print_file(&write::write(&scenarios[0])?);
                return Ok(());
            }
        }
        if self.run { replay(&workloads, &scenarios, settlement, jobs, global) } else { Ok(()) }
    }

    /// Writes each seed's scenario file under `out` (the seed added to the name when several), saying
    /// so unless the scenarios are replayed next.
    fn write(&self, out: &Path, seeds: &[u64], scenarios: &[Scenario], global: GlobalArgs) -> eyre::Result<()> {
        for (seed, s) in seeds.iter().zip(scenarios) {
            let path = if seeds.len() == 1 { out.to_path_buf() } else { with_seed(out, *seed) };
            write::save(s, &path)?;
            if !self.run {
                output::progress(
                    global,
                    format_args!("wrote {} ({} steps, {} trades)", path.display(), s.steps.len(), s.trades.len()),
                );
            }
        }
        Ok(())
    }
}

/// Replays each workload's scenario in-process (in parallel) and prints how each settled; fails if
/// one did not settle as its generator predicted.
fn replay(
    workloads: &[Workload],
    scenarios: &[Scenario],
    settlement: Settlement,
    jobs: usize,
    global: GlobalArgs,
) -> eyre::Result<()> {
    let began = Instant::now();
    let reports = parallel::map(scenarios, jobs, |s| {
        let t = Instant::now();
        parallel::run_in_process(s).map(|r| (r, t.elapsed().as_secs_f64()))
    });
    let elapsed = began.elapsed().as_secs_f64();
    let mut runs = output::List::new(global);
    for (workload, result) in workloads.iter().zip(reports) {
        let seed = workload.params.seed;
        let (report, seconds) = result.wrap_err_with(|| format!("replaying the workload of seed {seed}"))?;
        let stats = SettlementStats::from_report(workload, settlement, &report);
        runs.push(GenRun { seed, seconds, stats, workload });
    }
    let runs = match workloads.len() {
        1 => runs.end()?,
        n => runs.end_with(format_args!("{n} runs on {} threads: {elapsed:.2} s", jobs.min(n)))?,
    };
    if runs.iter().all(|r| r.stats.as_predicted) {
        Ok(())
    } else {
        Err(Reported("a generated workload did not settle as its generator predicted".into()).into())
    }
}

/// `market.toml` → `market-seed7.toml`.
fn with_seed(path: &Path, seed: u64) -> PathBuf {
    let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    let name = match path.extension() {
        Some(ext) => format!("{stem}-seed{seed}.{}", ext.to_string_lossy()),
        None => format!("{stem}-seed{seed}"),
    };
    path.with_file_name(name)
}

/// How one seed's generated workload settled (`kessai sim gen --run`).
#[derive(Serialize)]
struct GenRun<'a> {
    seed: u64,
    seconds: f64,
    stats: SettlementStats,
    #[serde(skip)]
    workload: &'a Workload,
}

/// The workload, what settled, the failures generated and the refusals met, and whether it all went
/// as the generator predicted.
impl fmt::Display for GenRun<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (p, stats) = (&self.workload.params, &self.stats);
        write!(
            f,
            "seed {}: {} trades over {} day(s) among {} investors, {} settlement: {} settled, {} did not",
            self.seed,
            thousands(stats.trades as u64),
            p.days,
            p.investors,
            stats.settlement.name(),
            thousands(stats.settled as u64),
            thousands(stats.failed() as u64)
        )?;
        let generated: Vec<String> = self
            .workload
            .kinds()
            .into_iter()
            .filter(|(k, n)| *n > 0 && *k != TradeKind::Normal)
            .map(|(k, n)| format!("{n} {}", k.describe()))
            .collect();
        if !generated.is_empty() {
            write!(f, "\n  failures generated: {}", generated.join(", "))?;
        }
        if !stats.refusals.is_empty() {
            let refused: Vec<String> = stats.refusals.iter().map(|(e, n)| format!("{e} ×{n}")).collect();
            write!(f, "\n  refusals: {}", refused.join(", "))?;
        }
        write!(
            f,
            "\n  {}; {} transactions, {} gas; {:.2} s",
            if stats.as_predicted {
                "every step and every trade's final state as the generator predicted"
            } else {
                "NOT as the generator predicted"
            },
            thousands(stats.transactions),
            thousands(stats.gas_used),
            self.seconds
        )
    }
}

/// Settles each workload gross and netted (all runs in parallel) and prints them side by side.
fn compare(workloads: &[Workload], jobs: usize, global: GlobalArgs) -> eyre::Result<()> {
    let runs: Vec<(usize, Settlement)> =
        (0..workloads.len()).flat_map(|i| [(i, Settlement::Gross), (i, Settlement::Netted)]).collect();
    let results = parallel::map(&runs, jobs, |(i, settlement)| {
        parallel::run_in_process(&workloads[*i].scenario(*settlement))
            .map(|report| SettlementStats::from_report(&workloads[*i], *settlement, &report))
    });
    let mut comparisons = Vec::new();
    let mut results = results.into_iter();
    for workload in workloads {
        let (Some(gross), Some(netted)) = (results.next(), results.next()) else { break };
        let seed = workload.params.seed;
        let comparison = NettingComparison {
            seed,
            gross: gross.wrap_err_with(|| format!("settling seed {seed} gross"))?,
            netted: netted.wrap_err_with(|| format!("settling seed {seed} netted"))?,
        };
        comparisons.push(Comparison { comparison, workload });
    }
    let mut list = output::List::new(global);
    for comparison in comparisons {
        list.push(comparison);
    }
    let comparisons = list.end()?;
    if comparisons.iter().all(|c| c.comparison.gross.as_predicted && c.comparison.netted.as_predicted) {
        Ok(())
    } else {
        Err(Reported("a settlement model did not settle as the generator predicted".into()).into())
    }
}

/// A workload settled gross and netted (`kessai sim gen --compare-netting`).
#[derive(Serialize)]
#[serde(transparent)]
struct Comparison<'a> {
    comparison: NettingComparison,
    #[serde(skip)]
    workload: &'a Workload,
}

/// The two models side by side: trades settled and failed (by cause), value, liquidity, gas.
impl fmt::Display for Comparison<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (p, c) = (&self.workload.params, &self.comparison);
        write!(
            f,
            "seed {}: {} trades over {} day(s) among {} investors, {} settlement windows a day",
            c.seed,
            thousands(c.gross.trades as u64),
            p.days,
            p.investors,
            p.windows.min(p.trades_per_day.max(1))
        )?;
        write!(f, "\n  {:<34} {:>18} {:>18}", "", "gross (per trade)", "netted (windows)")?;
        let mut row = |label: &str, g: String, n: String| write!(f, "\n  {label:<34} {g:>18} {n:>18}");
        row("trades settled", thousands(c.gross.settled as u64), thousands(c.netted.settled as u64))?;
        row("trades failed", thousands(c.gross.failed() as u64), thousands(c.netted.failed() as u64))?;
        for kind in TradeKind::ALL {
            let count = |s: &SettlementStats| s.unsettled.iter().find(|(k, _)| *k == kind).map_or(0, |(_, n)| *n);
            let (g, n) = (count(&c.gross), count(&c.netted));
            if g + n > 0 {
                let label = if kind == TradeKind::Normal {
                    "  left short by the model".to_string()
                } else {
                    format!("  {}", kind.describe())
                };
                row(&label, thousands(g as u64), thousands(n as u64))?;
            }
        }
        let yen = |v: U256| format!("¥{}", thousands_u256(v));
        row("value settled", yen(c.gross.settled_value), yen(c.netted.settled_value))?;
        row("liquidity needed: cash moved", yen(c.gross.cash_moved), yen(c.netted.cash_moved))?;
        row("cash transfers", thousands(c.gross.cash_transfers), thousands(c.netted.cash_transfers))?;
        row("peak cash locked", yen(c.gross.peak_cash_locked), yen(c.netted.peak_cash_locked))?;
        row("transactions", thousands(c.gross.transactions), thousands(c.netted.transactions))?;
        row("gas", thousands(c.gross.gas_used), thousands(c.netted.gas_used))?;
        let ok = |s: &SettlementStats| if s.as_predicted { "yes".to_string() } else { "NO".to_string() };
        row("as the generator predicted", ok(&c.gross), ok(&c.netted))?;
        write!(
            f,
            "\n  netting moved {:.1}% of the gross cash; buyers lock the full price until their window closes",
            c.cash_moved_ratio() * 100.0
        )
    }
}

fn thousands_u256(v: U256) -> String {
    match u64::try_from(v) {
        Ok(small) => thousands(small),
        Err(_) => v.to_string(),
    }
}

/// Replays several scenario files in parallel, each on its own in-process chain; prints results in
/// the files' order.
pub(super) fn run_files(
    files: &[PathBuf],
    jobs: Option<usize>,
    options: &RevmOptions,
    global: GlobalArgs,
) -> eyre::Result<()> {
    let loaded = files.iter().map(|f| Loaded::read(f)).collect::<eyre::Result<Vec<_>>>()?;
    let jobs = jobs.unwrap_or_else(parallel::default_threads);
    let began = Instant::now();
    let results = parallel::map(&loaded, jobs, |file| {
        let t = Instant::now();
        match file {
            Loaded::One(s) => parallel::run_in_process_with(s, options)
                .map(|r| Replayed::One(Box::new(Replay::new("revm", PathBuf::new(), r, t.elapsed()))))
                .map_err(eyre::Report::from),
            Loaded::Cross(x) => parallel::drive(|| xchain::run_scenario(x))
                .map(|report| Replayed::Cross { file: PathBuf::new(), report: Box::new(report) })
                .map_err(eyre::Report::from),
        }
    });
    let elapsed = began.elapsed();
    let mut replays = output::List::new(global);
    for (path, result) in files.iter().zip(results) {
        let mut replayed = result.wrap_err_with(|| format!("replaying {}", path.display()))?;
        match &mut replayed {
            Replayed::One(r) => r.file = path.clone(),
            Replayed::Cross { file, .. } => *file = path.clone(),
        }
        replays.push(replayed);
    }
    let footer =
        format_args!("{} scenarios on {} threads: {:.2} s", files.len(), jobs.min(files.len()), elapsed.as_secs_f64());
    let failed: Vec<String> =
        replays.end_with(footer)?.iter().filter(|r| !r.passed()).map(|r| r.file().display().to_string()).collect();
    if failed.is_empty() {
        Ok(())
    } else {
        Err(Reported(format!("expectations did not hold in {}", failed.join(", "))).into())
    }
}

/// A scenario file as read: a single-chain scenario or a cross-chain one.
enum Loaded {
    One(Box<Scenario>),
    Cross(xchain::XScenario),
}

impl Loaded {
    fn read(path: &Path) -> eyre::Result<Self> {
        let text =
            std::fs::read_to_string(path).wrap_err_with(|| format!("cannot read the scenario {}", path.display()))?;
        if xchain::XScenario::is_cross_chain(&text) {
            return Ok(Self::Cross(xchain::XScenario::parse(&text, &path.display().to_string())?));
        }
        Ok(Self::One(Box::new(scenario::load(path)?)))
    }
}

/// One file's replay, single-chain or cross-chain.
#[derive(Serialize)]
#[serde(untagged)]
enum Replayed {
    One(Box<Replay>),
    Cross {
        file: PathBuf,
        #[serde(flatten)]
        report: Box<xchain::XScenarioReport>,
    },
}

impl Replayed {
    fn passed(&self) -> bool {
        match self {
            Self::One(r) => r.passed,
            Self::Cross { report, .. } => report.passed(),
        }
    }

    fn file(&self) -> &Path {
        match self {
            Self::One(r) => &r.file,
            Self::Cross { file, .. } => file,
        }
    }
}

impl std::fmt::Display for Replayed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::One(r) => r.fmt(f),
            Self::Cross { file, report } => write!(f, "{}: {report}", file.display()),
        }
    }
}

impl BenchArgs {
    /// Measures each flow asked for, printing each one's rates as it is done.
    pub(super) async fn execute(self, global: GlobalArgs) -> eyre::Result<()> {
        if self.cross_chain {
            let options = xchain::bench::XBenchOptions {
                trades: self.trades,
                single_trades: self.single_trades.unwrap_or(200),
                batch_size: self.batch_size,
                skip_anvil: self.skip_anvil,
                seed: self.seed,
            };
            return super::xbench::execute(options, global).await;
        }
        let flows = match self.flow.as_str() {
            "dcjpy" => vec![Settlement::Dcjpy],
            "instructed" => vec![Settlement::Instructed],
            "gross" => vec![Settlement::Gross],
            _ => vec![Settlement::Dcjpy, Settlement::Instructed, Settlement::Gross],
        };
        let mut reports = output::List::new(global);
        for flow in flows {
            let options = BenchOptions {
                trades: self.trades,
                seed: self.seed,
                investors: self.investors,
                skip_anvil: self.skip_anvil,
                batch_size: self.batch_size,
                single_trades: self.single_trades.unwrap_or(1_000),
                flow,
                hardfork: self.hardfork,
            };
            let report =
                bench::run(&options, |what| output::caption(global, format_args!("… {} flow, {what}", flow.name())))
                    .await?;
            reports.push(Bench(report));
        }
        reports.end()?;
        Ok(())
    }
}

/// One flow's benchmark (`kessai sim bench`): its report, and as text what was settled, each
/// engine's rates, the goals and the whole day.
#[derive(Serialize)]
#[serde(transparent)]
struct Bench(BenchReport);

impl fmt::Display for Bench {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let r = &self.0;
        let o = &r.options;
        write!(
            f,
            "\n{} complete DvP settlements ({}) among {} investors, seed {}{}",
            thousands(o.trades as u64),
            flow_description(o.flow),
            o.investors,
            o.seed,
            if r.release_build { "" } else { " — DEBUG BUILD: revm is ~50× slower; measure with --release" }
        )?;
        write_engines(f, r)?;
        write_goals(f, r)?;
        write_day(f, r)
    }
}

/// What one settlement of `flow` does.
fn flow_description(flow: Settlement) -> &'static str {
    match flow {
        Settlement::Dcjpy => {
            "the pilot's whole cycle: issue to the buyer, createTrade, pay, approve, redeem by the seller"
        }
        Settlement::Instructed => "one instruction per party: createTrade, pay, approve",
        Settlement::Gross => {
            "the pilot's flow: createTrade, settleWithPayment with the buyer's signature made beforehand"
        }
        Settlement::Netted => "netted",
    }
}

/// Writes the table of engines and whether they used the same gas (and Anvil's refund gap, if any).
fn write_engines(f: &mut fmt::Formatter<'_>, r: &BenchReport) -> fmt::Result {
    write!(
        f,
        "\n  {:<16} {:>12} {:>14} {:>14} {:>10} {:>16}",
        "engine", "settlements", "settlements/s", "tx/s", "seconds", "gas"
    )?;
    for e in &r.engines {
        write!(
            f,
            "\n  {:<16} {:>12} {:>14} {:>14} {:>10.3} {:>16}",
            e.engine,
            thousands(e.settlements as u64),
            thousands(e.settlements_per_second().round() as u64),
            thousands(e.transactions_per_second().round() as u64),
            e.seconds,
            thousands(e.gas_used)
        )?;
    }
    write!(
        f,
        "\n  gas identical on every engine (for the same transactions): {}",
        if r.gas_identical { "yes" } else { "NO" }
    )?;
    if r.anvil_refund_gap != 0 {
        write!(
            f,
            "\n  Anvil charged {} gas beyond the {:?} rules: {} cleared storage slots refunded at London's 4,800, not 15,000 (a known Anvil defect; both revm engines follow the rules)",
            thousands(r.anvil_refund_gap),
            r.options.hardfork,
            thousands(r.anvil_refund_gap / kessai_sim::bench::ANVIL_PRE_LONDON_REFUND_GAP)
        )?;
    }
    Ok(())
}

/// Writes the goals for the engines that ran, each met or not.
fn write_goals(f: &mut fmt::Formatter<'_>, r: &BenchReport) -> fmt::Result {
    write!(f, "\n\n  goals:")?;
    if let Some(x) = r.speedup("raw-revm", "in-process") {
        write!(
            f,
            "\n  in-process within 1.5× of raw revm:        raw revm is {x:.2}× the in-process rate — {}",
            verdict(x <= 1.5)
        )?;
    }
    if let Some(x) = r.speedup("in-process", "anvil-batched") {
        write!(f, "\n  ≥ 10× Anvil batched:                       {x:.1}× — {}", verdict(x >= 10.0))?;
    }
    if let Some(x) = r.speedup("raw-revm", "anvil-batched") {
        write!(f, "\n  (the ceiling, raw revm, is {x:.1}× Anvil batched on this flow)")?;
    }
    if let Some(x) = r.speedup("in-process", "anvil-single") {
        write!(f, "\n  ≥ 100× Anvil one at a time:                {x:.1}× — {}", verdict(x >= 100.0))?;
    }
    if let Some(e) = r.engine("in-process") {
        let rate = e.settlements_per_second();
        write!(
            f,
            "\n  ≥ 5,000 settlements/s on one core:         {} /s — {}",
            thousands(rate.round() as u64),
            verdict(rate >= 5_000.0)
        )?;
    }
    Ok(())
}

/// Writes the whole day replayed in-process, phase by phase (judged against a minute from 100,000
/// trades up).
fn write_day(f: &mut fmt::Formatter<'_>, r: &BenchReport) -> fmt::Result {
    let d = &r.day;
    write!(
        f,
        "\n  the whole day in-process (deploy + fund {:.2} s, sign {:.2} s, trades {:.2} s, final state {:.2} s): \
         {:.2} s{}",
        d.setup_seconds,
        d.signing_seconds,
        d.trades_seconds,
        d.final_state_seconds,
        d.total_seconds(),
        if r.options.trades >= 100_000 {
            format!(" — under a minute: {}", verdict(d.total_seconds() < 60.0))
        } else {
            String::new()
        }
    )
}

fn verdict(met: bool) -> &'static str {
    if met { "met" } else { "NOT met" }
}
