//! `kessai deploy`: execute the suite's plan on a node — from a suite config, or the demo suite —
//! through the write-ahead journal, and write the manifest. Rerunning the same command resumes an
//! interrupted deployment.

use super::{GlobalArgs, engine};
use clap::Args;
use eyre::{WrapErr, bail};
use kessai_deployer::{
    anvil::AnvilOptions,
    chain::Chain,
    config::Config,
    journal::{self, DeployerStatus, Journal, JournalOptions},
    manifest::Manifest,
    plan::{self, Deployment, Instrument, Plan, Step},
    preflight::{self, PreflightReport},
    profile::ChainProfile,
    rpc::RpcChain,
};
use kessai_sim::demo::{DemoParties, demo_spec};
use std::{
    collections::BTreeSet,
    path::{Path, PathBuf},
    time::Instant,
};

/// Deploy the suite (registries, security token, deposit tokens, DvP, instrument, role grants) and
/// write a manifest. Contracts get CREATE2 addresses that depend only on the config; the journal next
/// to the manifest lets the same command resume an interrupted deployment.
#[derive(Debug, Args)]
pub struct DeployCommand {
    /// The suite config (TOML; see deployments/example.toml). Without it the demo suite is deployed
    /// with the first five loaded keys in their roles (operator, registrar, issuer, bank, authority;
    /// `kessai keys`); nobody is registered or funded yet: use `kessai registry … register`,
    /// `kessai security issue` and `kessai deposit issue`.
    #[arg(long)]
    config: Option<PathBuf>,
    /// The node to deploy to; without it an embedded Anvil is started.
    #[arg(long, env = "KESSAI_RPC_URL")]
    rpc_url: Option<String>,
    /// Where to write the manifest (default: deployments/<chain id>.json); the journal is
    /// `<manifest>.journal`.
    #[arg(long)]
    out: Option<PathBuf>,
    /// How transactions are priced and confirmed.
    #[command(flatten)]
    chain: engine::ChainArgs,
}

impl DeployCommand {
    /// Runs the deployment.
    pub async fn execute(self, global: GlobalArgs) -> eyre::Result<()> {
        let config = self.config.as_deref().map(Config::load).transpose()?;
        let config_name = self.config.as_ref().map(|p| format!("the config {}", p.display())).unwrap_or_default();
        let profile = self.chain.profile_with(config.as_ref().and_then(|c| c.profile), &config_name)?;
        let embedded = self.rpc_url.is_none();
        // Without --rpc-url, the embedded Anvil emulates the profile's network.
        let local = profile.map(AnvilOptions::emulating).unwrap_or_default();
        let (_anvil, mut chain) = engine::connect_with(self.rpc_url, global.json, self.chain.options(profile), &local)?;
        let chain_id = chain.chain_id().await?;
        let plan = suite_plan(config.as_ref(), &chain, chain_id)?;
        ensure_keys(&chain, &plan)?;
        let out = self.out.unwrap_or_else(|| PathBuf::from(format!("deployments/{chain_id}.json")));
        let journal_path = Journal::path_for(&out);
        if !journal_path.exists() {
            check_first_record_date(config.as_ref(), &mut chain).await?;
        }
        // Preflight: nothing is sent to a chain that cannot run the suite, to the wrong chain, or from
        // an account that cannot pay (a resumed run has paid for what an earlier run finished).
        let expected = expected_chain(config.as_ref(), &config_name, profile);
        let resuming = journal_path.exists() && !embedded;
        let report =
            preflight::check_with(&chain, &plan, expected.as_ref().map(|(id, s)| (*id, s.as_str())), !resuming).await?;
        if !global.json {
            print_preflight(profile, &report);
        }
        // An embedded chain is new: nothing of an earlier journal can be on it.
        let options = JournalOptions {
            path: journal_path.clone(),
            config_hash: config.as_ref().map(|c| c.hash),
            fresh: embedded,
        };
        let started = Instant::now();
        let outcome = journal::deploy(&mut chain, &plan, &options)
            .await
            .wrap_err_with(|| format!("deployment journaled in {}", journal_path.display()))?;
        let manifest = manifest(outcome.deployment, &plan, &options, profile);
        manifest.write(&out)?;
        let deployed = Deployed {
            chain_id,
            plan: &plan,
            started,
            sent: outcome.sent,
            resumed: outcome.resumed,
            proxy: outcome.deployer,
            redone: outcome.redone,
            manifest,
            out: &out,
            journal: &journal_path,
        };
        deployed.print(global.json)
    }
}

/// The plan: the config's, refused when the config is for another chain, or else the demo suite's
/// on the node's first accounts.
fn suite_plan(config: Option<&Config>, chain: &RpcChain, chain_id: u64) -> eyre::Result<Plan> {
    Ok(match config {
        Some(c) => {
            if let Some(id) = c.chain_id.filter(|id| *id != chain_id) {
                bail!("the config is for chain {id}, but the node is chain {chain_id}: check --rpc-url");
            }
            c.plan()
        }
        None => plan::suite_plan(&demo_spec(&DemoParties::from_accounts(chain.accounts())?)),
    })
}

/// Refuses a plan that a sender without a loaded key would have to send.
fn ensure_keys(chain: &RpcChain, plan: &Plan) -> eyre::Result<()> {
    let keyless: BTreeSet<_> = plan.steps.iter().map(Step::sender).filter(|a| !chain.accounts().contains(a)).collect();
    if !keyless.is_empty() {
        let list = keyless.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ");
        bail!(
            "no signing key for {list}, which the config makes send transactions: add their keys to {} (`kessai \
             keys` lists the loaded ones)",
            engine::key_source()
        );
    }
    Ok(())
}

/// Refuses a config bond whose first record date is not after the chain's time.
async fn check_first_record_date(config: Option<&Config>, chain: &mut RpcChain) -> eyre::Result<()> {
    let Some(Instrument::Bond(bond)) = config.and_then(|c| c.spec.instrument.as_ref()) else { return Ok(()) };
    let now = chain.timestamp().await?;
    let first_record = bond.coupon_dates.first().map(|d| d.saturating_sub(bond.record_offset.into()));
    if first_record.is_some_and(|r| r <= now) {
        bail!(
            "the bond's first record date (first coupon date minus the record offset) is not after the \
             chain's time ({now}): move the coupon dates later in the config"
        );
    }
    Ok(())
}

/// The chain id preflight expects, and where it comes from: the config's, else the profile's.
fn expected_chain(config: Option<&Config>, config_name: &str, profile: Option<ChainProfile>) -> Option<(u64, String)> {
    match (config, profile) {
        (Some(c), _) if c.chain_id.is_some() => c.chain_id.map(|id| (id, config_name.to_string())),
        (_, Some(p)) => Some((p.chain_id(), format!("the chain profile {}", p.describe()))),
        _ => None,
    }
}

/// Prints the chain profile and what preflight found (text output only).
fn print_preflight(profile: Option<ChainProfile>, report: &PreflightReport) {
    if let Some(p) = profile {
        println!("chain profile: {}", p.describe());
    }
    println!(
        "preflight: chain {} ({}), PUSH0 {}, {} later opcodes executable, {} contracts simulated",
        report.chain_id,
        report.pricing,
        if report.push0 { "available" } else { "absent (not needed)" },
        report.opcodes.len(),
        report.creations.len(),
    );
}

/// The manifest of `deployment`, with the plan's salt, the config's hash, the journal and the profile.
fn manifest(deployment: Deployment, plan: &Plan, options: &JournalOptions, profile: Option<ChainProfile>) -> Manifest {
    let mut manifest = Manifest::new(deployment);
    manifest.salt = plan.salt.clone();
    manifest.config_hash = options.config_hash;
    manifest.journal = Some(options.path.clone());
    manifest.profile = profile;
    manifest
}

/// A finished deployment, as the command reports it.
struct Deployed<'a> {
    chain_id: u64,
    plan: &'a Plan,
    /// When the journaled deployment started.
    started: Instant,
    sent: usize,
    resumed: usize,
    proxy: DeployerStatus,
    redone: Vec<String>,
    manifest: Manifest,
    out: &'a Path,
    journal: &'a Path,
}

impl Deployed<'_> {
    /// Prints the deployment: the manifest as JSON, or a summary as text.
    fn print(&self, json: bool) -> eyre::Result<()> {
        if json {
            println!("{}", serde_json::to_string_pretty(&self.manifest)?);
        } else {
            self.print_text();
        }
        Ok(())
    }

    /// Prints the summary, what was redone or resumed, each contract, and where the files are.
    fn print_text(&self) {
        let proxy = match &self.proxy {
            DeployerStatus::Found => "found".to_string(),
            DeployerStatus::Installed { tx_hash, .. } => format!("installed in {tx_hash}"),
        };
        println!(
            "deployed on chain {} with salt {:?} in {:.1} s: {} steps, {} sent now, {} done by an earlier run \
             (deterministic deployment proxy {proxy})",
            self.chain_id,
            self.plan.salt,
            self.started.elapsed().as_secs_f64(),
            self.plan.steps.len(),
            self.sent,
            self.resumed,
        );
        for message in &self.redone {
            println!("{message}");
        }
        if self.resumed > 0 {
            println!("resumed an earlier run: nothing was sent twice");
        }
        for (label, c) in &self.manifest.deployment.contracts {
            println!("  {label:<20} {} ({}, gas {})", c.address, c.artifact, c.gas_used);
        }
        println!("manifest written to {}", self.out.display());
        println!("journal: {}", self.journal.display());
    }
}
