//! `kessai sim`: replay settlement scenarios in-process (revm) or on a node.

use super::{GlobalArgs, engine};
use clap::{Args, Subcommand};
use eyre::WrapErr;
use kessai_deployer::anvil;
use kessai_sim::{
    RevmChain, RevmOptions,
    scenario::{
        self, RunReport, StepOutcome,
        model::Origin,
        run::{self, StepResult, Totals},
    },
};
use serde::Serialize;
use std::{path::PathBuf, time::Instant};

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
    /// first: operator, registrar, issuer, bank, authority; then the other parties in file order).
    #[arg(long, env = "KESSAI_RPC_URL")]
    rpc_url: Option<String>,
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
        }
    }
}

impl RunArgs {
    async fn execute(self, global: GlobalArgs) -> eyre::Result<()> {
        let scenario = scenario::load(&self.file)?;
        let quiet = global.json;
        let print = |outcome: &StepOutcome| {
            if !quiet {
                print_step(outcome);
            }
        };
        let began = Instant::now();
        let (engine, report) = if self.anvil || self.rpc_url.is_some() {
            let (_anvil, mut chain) = engine::connect(self.rpc_url, quiet)?;
            let keys = engine::signers()?;
            if !quiet {
                println!("scenario: {} ({})\nengine: JSON-RPC node", scenario.name, self.file.display());
            }
            ("rpc", run::run(&mut chain, &scenario, &keys, print).await?)
        } else {
            let mut chain = RevmChain::new(&RevmOptions::default(), &anvil::dev_accounts());
            if !quiet {
                println!(
                    "scenario: {} ({})\nengine: in-process revm (hard fork cancun)",
                    scenario.name,
                    self.file.display()
                );
            }
            ("revm", run::run(&mut chain, &scenario, &anvil::dev_signers(), print).await?)
        };
        let elapsed = began.elapsed();
        let totals = report.totals();
        if global.json {
            let output = JsonOutput {
                engine,
                file: &self.file,
                passed: report.passed(),
                totals,
                elapsed_ms: elapsed.as_millis(),
                report: &report,
            };
            println!("{}", serde_json::to_string_pretty(&output).wrap_err("cannot write the report as JSON")?);
        } else {
            print_summary(&report, &totals, elapsed.as_secs_f64());
        }
        if report.passed() {
            Ok(())
        } else {
            Err(eyre::eyre!(
                "{} of {} expectations of {} did not hold",
                totals.failed_checks,
                totals.checks,
                self.file.display()
            ))
        }
    }
}

fn print_step(outcome: &StepOutcome) {
    let label = match outcome.origin {
        Origin::Setup => "setup".to_string(),
        Origin::Timeline { number, .. } => format!("#{number}"),
    };
    let result = match &outcome.result {
        StepResult::Ok if outcome.transactions == 0 => "ok".to_string(),
        StepResult::Ok => format!("ok, {} gas", thousands(outcome.gas_used)),
        StepResult::Failed { error, args, .. } => format!("FAILED {error}({})", args.join(", ")),
    };
    println!("{label:>6} {} — {result}", outcome.description);
    if let Some(note) = &outcome.note {
        println!("       note: {note}");
    }
    if let StepResult::Failed { message, .. } = &outcome.result {
        println!("       {message}");
    }
    for event in &outcome.events {
        println!("       event {event}");
    }
    if !outcome.state.is_empty() && outcome.transactions > 0 {
        let state: Vec<String> = outcome.state.iter().map(|s| format!("{}: {}", s.holder, s.balances)).collect();
        println!("       {}", state.join(" | "));
    }
    for check in &outcome.checks {
        match &check.found {
            None if check.passed => println!("       ✓ {}", check.expected),
            _ => println!(
                "       ✗ expected {} — found {}",
                check.expected,
                check.found.as_deref().unwrap_or("something else")
            ),
        }
    }
}

fn print_summary(report: &RunReport, totals: &Totals, seconds: f64) {
    println!(
        "\n{}: {} steps ({} succeeded, {} failed); {} of {} expectations held; {} transactions, {} gas after \
         the deployment ({} gas); {:.2} s",
        report.scenario,
        totals.steps,
        totals.succeeded,
        totals.failed,
        totals.checks - totals.failed_checks,
        totals.checks,
        totals.transactions,
        thousands(totals.gas_used),
        thousands(report.deployment_gas),
        seconds
    );
    for holder in &report.final_state.holders {
        if holder.balances != Default::default() {
            println!("  {:<12} {}", holder.holder, holder.balances);
        }
    }
    println!(
        "  supply: {} units, ¥{} | trades: {}",
        report.final_state.units_supply,
        report.final_state.cash_supply,
        report.final_state.trades.iter().map(|(n, s)| format!("{n} {}", s.name())).collect::<Vec<_>>().join(", ")
    );
}

/// 1234567 → "1,234,567".
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}
