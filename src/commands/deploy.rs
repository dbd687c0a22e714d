//! `kessai deploy`: execute the suite's plan on a node — from a suite config, or the demo suite —
//! through the write-ahead journal, and write the manifest. Rerunning the same command resumes an
//! interrupted deployment.

use super::{GlobalArgs, engine, output};
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
use serde::{Serialize, Serializer};
use std::{
    collections::BTreeSet,
    fmt,
    path::{Path, PathBuf},
    time::{Duration, Instant},
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
    /// Where to write the manifest (default: `deployments/<chain id>.json`); the journal is
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
        let (_anvil, mut chain) = engine::connect_with(self.rpc_url, global, self.chain.options(profile), &local)?;
        let chain_id = chain.chain_id().await?;
        let plan = suite_plan(config.as_ref(), &chain, chain_id)?;
        ensure_keys(&chain, &plan)?;
        let out = self.out.unwrap_or_else(|| PathBuf::from(format!("deployments/{chain_id}.json")));
        // An embedded chain is new: nothing of an earlier journal can be on it.
        let options = JournalOptions {
            path: Journal::path_for(&out),
            config_hash: config.as_ref().map(|c| c.hash),
            fresh: embedded,
        };
        if !options.path.exists() {
            check_first_record_date(config.as_ref(), &mut chain).await?;
        }
        // Preflight: nothing is sent to a chain that cannot run the suite, to the wrong chain, or from
        // an account that cannot pay (a resumed run has paid for what an earlier run finished).
        let expected = expected_chain(config.as_ref(), &config_name, profile);
        let resuming = options.path.exists() && !embedded;
        let report =
            preflight::check_with(&chain, &plan, expected.as_ref().map(|(id, s)| (*id, s.as_str())), !resuming).await?;
        output::progress(global, Preflight { profile, report: &report });
        let started = Instant::now();
        let outcome = journal::deploy(&mut chain, &plan, &options)
            .await
            .wrap_err_with(|| format!("deployment journaled in {}", options.path.display()))?;
        let manifest = manifest(outcome.deployment, &plan, &options, profile);
        manifest.write(&out)?;
        let (sent, resumed, proxy, redone) = (outcome.sent, outcome.resumed, outcome.deployer, outcome.redone);
        let (elapsed, journal) = (started.elapsed(), &options.path);
        let deployed =
            Deployed { chain_id, plan: &plan, elapsed, sent, resumed, proxy, redone, manifest, out: &out, journal };
        output::print_document(global, &deployed)
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

/// The chain profile and what preflight found (text output only).
struct Preflight<'a> {
    profile: Option<ChainProfile>,
    report: &'a PreflightReport,
}

impl fmt::Display for Preflight<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(p) = self.profile {
            writeln!(f, "chain profile: {}", p.describe())?;
        }
        let report = self.report;
        write!(
            f,
            "preflight: chain {} ({}), PUSH0 {}, {} later opcodes executable, {} contracts simulated",
            report.chain_id,
            report.pricing,
            if report.push0 { "available" } else { "absent (not needed)" },
            report.opcodes.len(),
            report.creations.len(),
        )
    }
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

/// A finished deployment, as the command reports it: in JSON its manifest, in text a summary.
struct Deployed<'a> {
    chain_id: u64,
    plan: &'a Plan,
    /// How long the journaled deployment took.
    elapsed: Duration,
    sent: usize,
    resumed: usize,
    proxy: DeployerStatus,
    redone: Vec<String>,
    manifest: Manifest,
    out: &'a Path,
    journal: &'a Path,
}

impl Serialize for Deployed<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.manifest.serialize(serializer)
    }
}

/// The summary, what was redone or resumed, each contract, and where the files are.
impl fmt::Display for Deployed<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let proxy = match &self.proxy {
            DeployerStatus::Found => "found".to_string(),
            DeployerStatus::Installed { tx_hash, .. } => format!("installed in {tx_hash}"),
        };
        write!(
            f,
            "deployed on chain {} with salt {:?} in {:.1} s: {} steps, {} sent now, {} done by an earlier run \
             (deterministic deployment proxy {proxy})",
            self.chain_id,
            self.plan.salt,
            self.elapsed.as_secs_f64(),
            self.plan.steps.len(),
            self.sent,
            self.resumed,
        )?;
        for message in &self.redone {
            write!(f, "\n{message}")?;
        }
        if self.resumed > 0 {
            write!(f, "\nresumed an earlier run: nothing was sent twice")?;
        }
        for (label, c) in &self.manifest.deployment.contracts {
            write!(f, "\n  {label:<20} {} ({}, gas {})", c.address, c.artifact, c.gas_used)?;
        }
        write!(f, "\nmanifest written to {}", self.out.display())?;
        write!(f, "\njournal: {}", self.journal.display())
    }
}
