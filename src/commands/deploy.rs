//! `kessai deploy`: execute the suite's plan on a node — from a suite config, or the demo suite —
//! through the write-ahead journal, and write the manifest. A config with `[cross_chain]` deploys on
//! two nodes: both are checked before anything is sent, then the asset chain is deployed and the
//! payment chain after it, each as a single chain is, with its own journal and manifest. Rerunning
//! the same command resumes an interrupted deployment.

use super::{GlobalArgs, engine, output};
use clap::Args;
use eyre::{WrapErr, bail, eyre};
use kessai_bindings::alloy::signers::local::PrivateKeySigner;
use kessai_deployer::{
    anvil::{AnvilInstance, AnvilOptions},
    chain::Chain,
    config::{Config, CrossChainConfig, peer, settlement_label, side_name},
    journal::{self, DeployerStatus, Journal, JournalOptions},
    manifest::{CrossChainLink, Manifest},
    plan::{self, Instrument, Plan, Step},
    preflight::{self, PreflightReport},
    profile::ChainProfile,
    rpc::RpcChain,
    xchain::plan::Side,
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
/// to the manifest lets the same command resume an interrupted deployment. A config with
/// `[cross_chain]` is deployed on two chains (`--asset-rpc-url`, `--payment-rpc-url`), with a
/// manifest each.
#[derive(Debug, Args)]
pub struct DeployCommand {
    /// The suite config (TOML; see deployments/example.toml, and deployments/cross-chain.toml for two
    /// chains). Without it the demo suite is deployed with the first five loaded keys in their roles
    /// (operator, registrar, issuer, bank, authority; `kessai keys`); nobody is registered or funded
    /// yet: use `kessai registry … register`, `kessai security issue` and `kessai deposit issue`.
    #[arg(long)]
    config: Option<PathBuf>,
    /// The node to deploy to; without it an embedded Anvil is started. Not with a `[cross_chain]`
    /// config, which names two nodes.
    #[arg(long, env = "KESSAI_RPC_URL")]
    rpc_url: Option<String>,
    /// With a `[cross_chain]` config: the asset chain's node (the security token and
    /// CrossChainDelivery).
    #[arg(long, env = "KESSAI_ASSET_RPC_URL")]
    asset_rpc_url: Option<String>,
    /// With a `[cross_chain]` config: the payment chain's node (the deposit token and
    /// CrossChainPayment).
    #[arg(long, env = "KESSAI_PAYMENT_RPC_URL")]
    payment_rpc_url: Option<String>,
    /// Where to write the manifest of a single chain (default: `deployments/<chain id>.json`); the
    /// journal is `<manifest>.journal`.
    #[arg(long, conflicts_with = "out_dir")]
    out: Option<PathBuf>,
    /// The folder the manifest of each chain goes to, as `<chain id>.json` (default: `deployments`).
    #[arg(long)]
    out_dir: Option<PathBuf>,
    /// How transactions are priced and confirmed (with `[cross_chain]`: on both chains, on top of
    /// each chain's profile).
    #[command(flatten)]
    chain: engine::ChainArgs,
}

impl DeployCommand {
    /// Runs the deployment.
    pub async fn execute(self, global: GlobalArgs) -> eyre::Result<()> {
        let config = self.config.as_deref().map(Config::load).transpose()?;
        let config_name = self.config.as_ref().map(|p| format!("the config {}", p.display())).unwrap_or_default();
        match config.as_ref().and_then(|c| Some((c, c.cross_chain.as_ref()?))) {
            Some((config, x)) => self.cross_chain(global, config, x, &config_name).await,
            None => self.single_chain(global, config.as_ref(), &config_name).await,
        }
    }

    /// One chain: the node given, or an embedded Anvil emulating the profile.
    async fn single_chain(self, global: GlobalArgs, config: Option<&Config>, config_name: &str) -> eyre::Result<()> {
        if self.asset_rpc_url.is_some() || self.payment_rpc_url.is_some() {
            let one = match config {
                Some(_) => format!("{config_name} has no [cross_chain] section"),
                None => "without --config the demo suite is deployed on one chain".to_string(),
            };
            bail!(
                "--asset-rpc-url and --payment-rpc-url (or KESSAI_ASSET_RPC_URL and KESSAI_PAYMENT_RPC_URL) name the \
                 two nodes of a cross-chain deployment, but {one}: nothing was sent. Give the one node with --rpc-url \
                 (and unset those variables), or deploy a config with [cross_chain] (see deployments/cross-chain.toml)"
            );
        }
        let profile = self.chain.profile_with(config.and_then(|c| c.profile), config_name)?;
        let embedded = self.rpc_url.is_none();
        // Without --rpc-url, the embedded Anvil emulates the profile's network.
        let local = profile.map(AnvilOptions::emulating).unwrap_or_default();
        let (anvil, mut chain) = engine::connect_with(self.rpc_url, global, self.chain.options(profile), &local)?;
        let chain_id = chain.chain_id().await?;
        let plan = suite_plan(config, &chain, chain_id)?;
        let out = self.out.unwrap_or_else(|| manifest_path(self.out_dir.as_deref(), chain_id));
        // An embedded chain is new: nothing of an earlier journal can be on it.
        let journal =
            JournalOptions { path: Journal::path_for(&out), config_hash: config.map(|c| c.hash), fresh: embedded };
        let expected = expected_chain(config, config_name, profile);
        let mut target = Target { _anvil: anvil, chain, chain_id, plan, profile, expected, out, journal, link: None };
        ensure_keys(&target.chain, &target.plan)?;
        target.preflight(config, global).await?;
        output::print_document(global, &target.deploy().await?)
    }

    /// Two chains (`[cross_chain]`): both nodes are checked — chain ids, keys, preflight — before
    /// anything is sent; then the asset chain is deployed, then the payment chain.
    async fn cross_chain(
        self,
        global: GlobalArgs,
        config: &Config,
        x: &CrossChainConfig,
        config_name: &str,
    ) -> eyre::Result<()> {
        let (asset_url, payment_url) = self.two_nodes(x, config_name)?;
        let keys = engine::signers()?;
        let mut asset = self.side(config, x, Side::Asset, &asset_url, keys.clone(), config_name).await?;
        let mut payment = self.side(config, x, Side::Payment, &payment_url, keys, config_name).await?;
        check_chain_ids(&asset, &payment, x, config_name)?;
        for target in [&mut asset, &mut payment] {
            ensure_keys(&target.chain, &target.plan)?;
        }
        for target in [&mut asset, &mut payment] {
            target.preflight(Some(config), global).await?;
        }
        let asset = asset.deploy().await?;
        let payment = payment.deploy().await?;
        output::print_document(global, &CrossChainDeployed { asset, payment })
    }

    /// The two nodes of a `[cross_chain]` config: both required, and none of the single-chain flags.
    fn two_nodes(&self, x: &CrossChainConfig, config_name: &str) -> eyre::Result<(String, String)> {
        let two = format!("{config_name} deploys on two chains ([cross_chain])");
        if self.rpc_url.is_some() {
            bail!(
                "--rpc-url (or KESSAI_RPC_URL) names one node, but {two}: nothing was sent. Give the asset chain's \
                 node (chain {}) with --asset-rpc-url and the payment chain's (chain {}) with --payment-rpc-url (or \
                 KESSAI_ASSET_RPC_URL and KESSAI_PAYMENT_RPC_URL), and unset KESSAI_RPC_URL",
                x.asset.chain_id,
                x.payment.chain_id
            );
        }
        if self.out.is_some() {
            bail!(
                "--out names one manifest, but {two}, each with its manifest <chain id>.json: nothing was sent. Give \
                 the folder for both with --out-dir"
            );
        }
        if let Some(given) = self.chain.profile_with(None, config_name)? {
            bail!(
                "--chain {given} is one chain's profile, but {two}: nothing was sent. Drop --chain and give the \
                 profile in [cross_chain.asset] or [cross_chain.payment], whichever chain it describes"
            );
        }
        if let (Some(asset), Some(payment)) = (&self.asset_rpc_url, &self.payment_rpc_url) {
            return Ok((asset.clone(), payment.clone()));
        }
        let missing: Vec<String> = [(Side::Asset, &self.asset_rpc_url), (Side::Payment, &self.payment_rpc_url)]
            .into_iter()
            .filter(|(_, url)| url.is_none())
            .map(|(side, _)| {
                let name = side_name(side);
                let env = name.to_ascii_uppercase();
                format!(
                    "--{name}-rpc-url (or KESSAI_{env}_RPC_URL) for the {name} chain's node (chain {})",
                    x.chain(side).chain_id
                )
            })
            .collect();
        bail!("{two}, but no {} was given: nothing was sent. Give both nodes' URLs", missing.join(" and no "))
    }

    /// The deployment of `side`: its node (under the side's profile, with the pricing flags on top),
    /// its plan, its manifest in the --out-dir folder, and the link to the other side.
    async fn side(
        &self,
        config: &Config,
        x: &CrossChainConfig,
        side: Side,
        url: &str,
        keys: Vec<PrivateKeySigner>,
        config_name: &str,
    ) -> eyre::Result<Target> {
        let (name, of_side) = (side_name(side), x.chain(side));
        let mut chain = RpcChain::connect_with(url, keys, self.chain.options(of_side.profile))
            .wrap_err_with(|| format!("the {name} chain's node (--{name}-rpc-url)"))?;
        let chain_id =
            chain.chain_id().await.wrap_err_with(|| format!("the {name} chain's node (--{name}-rpc-url)"))?;
        let plan = config.plan_for(side).ok_or_else(|| eyre!("{config_name} has no [cross_chain] section"))?;
        let out = manifest_path(self.out_dir.as_deref(), of_side.chain_id);
        Ok(Target {
            _anvil: None,
            chain,
            chain_id,
            plan,
            profile: of_side.profile,
            expected: Some((of_side.chain_id, format!("{config_name} ([cross_chain.{name}])"))),
            journal: JournalOptions { path: Journal::path_for(&out), config_hash: Some(config.hash), fresh: false },
            out,
            link: config.link_for(side)?,
        })
    }
}

/// `deployments/<chain id>.json`, or `<chain id>.json` in `dir`.
fn manifest_path(dir: Option<&Path>, chain_id: u64) -> PathBuf {
    dir.unwrap_or(Path::new("deployments")).join(format!("{chain_id}.json"))
}

/// Refuses nodes that are not on the chains the config names, naming both chain ids (and saying so
/// when the two URLs are swapped). Both are checked before anything is sent to either.
fn check_chain_ids(asset: &Target, payment: &Target, x: &CrossChainConfig, config_name: &str) -> eyre::Result<()> {
    let (a, b) = (x.asset.chain_id, x.payment.chain_id);
    if (asset.chain_id, payment.chain_id) == (a, b) {
        return Ok(());
    }
    if (asset.chain_id, payment.chain_id) == (b, a) {
        bail!(
            "the asset chain's node (--asset-rpc-url) is chain {b} and the payment chain's node (--payment-rpc-url) \
             is chain {a}, but {config_name} puts the asset side on chain {a} and the payment side on chain {b}: the \
             two URLs are swapped; nothing was sent. Give the chain {a} node as --asset-rpc-url and the chain {b} \
             node as --payment-rpc-url"
        );
    }
    let wrong: Vec<String> = [(asset, Side::Asset, a), (payment, Side::Payment, b)]
        .into_iter()
        .filter(|(target, _, want)| target.chain_id != *want)
        .map(|(target, side, want)| {
            let name = side_name(side);
            format!(
                "the {name} chain's node (--{name}-rpc-url) reports chain id {}, but {config_name} puts the {name} side \
                 on chain {want} ([cross_chain.{name}])",
                target.chain_id
            )
        })
        .collect();
    bail!(
        "{}: nothing was sent. Point each URL at a node of its chain, or correct the chain id in the config if the \
         node is the right one",
        wrong.join("; ")
    )
}

/// One chain to deploy to: its node, its plan, what preflight expects and where the files go.
struct Target {
    /// The embedded Anvil, if one was started: it runs while this lives.
    _anvil: Option<AnvilInstance>,
    chain: RpcChain,
    /// The node's chain id.
    chain_id: u64,
    plan: Plan,
    profile: Option<ChainProfile>,
    /// The chain id preflight expects, and where it comes from.
    expected: Option<(u64, String)>,
    /// The manifest's path.
    out: PathBuf,
    journal: JournalOptions,
    /// For one side of a cross-chain deployment: what its manifest records about the other side.
    link: Option<CrossChainLink>,
}

impl Target {
    /// Checks, sending nothing, that the chain can run the plan and the senders can pay for it (a
    /// resumed run has paid for what an earlier run finished), and prints what preflight found.
    async fn preflight(&mut self, config: Option<&Config>, global: GlobalArgs) -> eyre::Result<()> {
        if !self.journal.path.exists() {
            check_first_record_date(config, &mut self.chain).await?;
        }
        let resuming = self.journal.path.exists() && !self.journal.fresh;
        let expected = self.expected.as_ref().map(|(id, source)| (*id, source.as_str()));
        let report = preflight::check_with(&self.chain, &self.plan, expected, !resuming).await?;
        let side = self.link.map(|l| l.side);
        output::progress(global, Preflight { side, profile: self.profile, report: &report });
        Ok(())
    }

    /// Executes the plan through the journal and writes the manifest.
    async fn deploy(mut self) -> eyre::Result<Deployed> {
        let started = Instant::now();
        let outcome = journal::deploy(&mut self.chain, &self.plan, &self.journal)
            .await
            .wrap_err_with(|| format!("deployment journaled in {}", self.journal.path.display()))?;
        let mut manifest = Manifest::new(outcome.deployment);
        manifest.salt = self.plan.salt.clone();
        manifest.config_hash = self.journal.config_hash;
        manifest.journal = Some(self.journal.path.clone());
        manifest.profile = self.profile;
        manifest.cross_chain = self.link;
        manifest.write(&self.out)?;
        Ok(Deployed {
            steps: self.plan.steps.len(),
            elapsed: started.elapsed(),
            sent: outcome.sent,
            resumed: outcome.resumed,
            proxy: outcome.deployer,
            redone: outcome.redone,
            manifest,
            out: self.out,
        })
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
    /// The side, for one chain of a cross-chain deployment.
    side: Option<Side>,
    profile: Option<ChainProfile>,
    report: &'a PreflightReport,
}

impl fmt::Display for Preflight<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let of = self.side.map(|side| format!(" of the {} chain", side_name(side))).unwrap_or_default();
        if let Some(p) = self.profile {
            writeln!(f, "chain profile{of}: {}", p.describe())?;
        }
        let report = self.report;
        write!(
            f,
            "preflight{of}: chain {} ({}), PUSH0 {}, {} later opcodes executable, {} contracts simulated",
            report.chain_id,
            report.pricing,
            if report.push0 { "available" } else { "absent (not needed)" },
            report.opcodes.len(),
            report.creations.len(),
        )
    }
}

/// A finished deployment, as the command reports it: in JSON its manifest, in text a summary.
struct Deployed {
    /// The plan's steps.
    steps: usize,
    /// How long the journaled deployment took.
    elapsed: Duration,
    sent: usize,
    resumed: usize,
    proxy: DeployerStatus,
    redone: Vec<String>,
    manifest: Manifest,
    /// The manifest's path.
    out: PathBuf,
}

impl Serialize for Deployed {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.manifest.serialize(serializer)
    }
}

/// The summary, what was redone or resumed, each contract, the other chain of a cross-chain
/// deployment, and where the files are.
impl fmt::Display for Deployed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let proxy = match &self.proxy {
            DeployerStatus::Found => "found".to_string(),
            DeployerStatus::Installed { tx_hash, .. } => format!("installed in {tx_hash}"),
        };
        write!(
            f,
            "deployed on chain {} with salt {:?} in {:.1} s: {} steps, {} sent now, {} done by an earlier run \
             (deterministic deployment proxy {proxy})",
            self.manifest.deployment.chain_id,
            self.manifest.salt,
            self.elapsed.as_secs_f64(),
            self.steps,
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
        if let Some(link) = &self.manifest.cross_chain {
            let peer = peer(link.side);
            write!(
                f,
                "\nthe {} side of a cross-chain deployment: the {} chain is chain {}, its {} at {}",
                side_name(link.side),
                side_name(peer),
                link.peer_chain_id,
                settlement_label(peer),
                link.peer_contract
            )?;
        }
        write!(f, "\nmanifest written to {}", self.out.display())?;
        if let Some(journal) = &self.manifest.journal {
            write!(f, "\njournal: {}", journal.display())?;
        }
        Ok(())
    }
}

/// Both chains of a cross-chain deployment: in JSON `{"asset": <manifest>, "payment": <manifest>}`,
/// in text each chain's summary.
#[derive(Serialize)]
struct CrossChainDeployed {
    asset: Deployed,
    payment: Deployed,
}

impl fmt::Display for CrossChainDeployed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "asset chain: {}\n\npayment chain: {}", self.asset, self.payment)
    }
}
