//! `kessai attest` and `kessai relay`: the attestor and the relayer of cross-chain trades, each a
//! process of its own that passes over both chains until stopped ([`kessai_deployer::xchain::relay`]).
//! Neither keeps state beyond the attestors' inbox folder that a restart cannot rebuild from the
//! chains (what a pass remembers for the next one only saves requests), so either may be killed at
//! any point and started again, and several relayers may run at once. A pass that fails (a node
//! down, a chain halted) is reported on stderr and the next pass goes on from the chains.

use super::{GlobalArgs, address_arg::AddressParser, engine, output};
use eyre::WrapErr;
use kessai_bindings::alloy::primitives::Address;
use kessai_deployer::DeployerError;
use kessai_deployer::{
    chain::Chain,
    rpc::RpcChain,
    xchain::{
        plan::{Side, xlabels},
        relay::{Attestor, Endpoint, Relayer},
    },
};
use serde::Serialize;
use std::{fmt::Display, path::PathBuf, time::Duration};

/// The two chains of cross-chain trades, the attestors' inbox and the pace of the passes.
#[derive(Debug, clap::Args)]
pub struct TwoChainArgs {
    /// The asset chain's node (the security token and CrossChainDelivery).
    #[arg(long, env = "KESSAI_ASSET_RPC_URL")]
    asset_rpc_url: String,
    /// The asset chain's manifest (`kessai deploy` of a cross-chain config wrote it): the delivery
    /// contract, its deployment block and the chain's profile come from it.
    #[arg(long, env = "KESSAI_ASSET_MANIFEST")]
    asset_manifest: Option<PathBuf>,
    /// The CrossChainDelivery contract on the asset chain (default: the asset manifest's).
    #[arg(long, value_parser = AddressParser)]
    delivery: Option<Address>,
    /// Blocks on top of a record on the asset chain before it counts as final (default: the asset
    /// manifest's chain profile's, 0 for ibet's QBFT, which is final at once; else 0).
    #[arg(long)]
    asset_confirmations: Option<u64>,
    /// The payment chain's node (the deposit token and CrossChainPayment).
    #[arg(long, env = "KESSAI_PAYMENT_RPC_URL")]
    payment_rpc_url: String,
    /// The payment chain's manifest: the payment contract, its deployment block and the chain's
    /// profile come from it.
    #[arg(long, env = "KESSAI_PAYMENT_MANIFEST")]
    payment_manifest: Option<PathBuf>,
    /// The CrossChainPayment contract on the payment chain (default: the payment manifest's).
    #[arg(long, value_parser = AddressParser)]
    payment: Option<Address>,
    /// Blocks on top of a record on the payment chain before it counts as final (default: the
    /// payment manifest's chain profile's, else 1).
    #[arg(long)]
    payment_confirmations: Option<u64>,
    /// The first block of the asset chain to read trades from: trades locked before it are not seen
    /// (default: the delivery contract's deployment block in the asset manifest, else 0).
    #[arg(long)]
    asset_from_block: Option<u64>,
    /// The first block of the payment chain an attestor reads outcomes from (default: the payment
    /// contract's deployment block in the payment manifest, else 0).
    #[arg(long)]
    payment_from_block: Option<u64>,
    /// The folder the attestors write their signatures into and the relayers read.
    #[arg(long)]
    inbox: PathBuf,
    /// Which of the loaded keys acts (its position in KESSAI_KEYS or KESSAI_KEYSTORE).
    #[arg(long, default_value_t = 0)]
    key_index: usize,
    /// Milliseconds between passes.
    #[arg(long, default_value_t = 200)]
    poll_ms: u64,
    /// One pass, then exit.
    #[arg(long)]
    once: bool,
}

impl TwoChainArgs {
    /// Both chains, connected with the acting key (under each manifest's chain profile, and checked
    /// against the manifests), the two contracts as endpoints, and the first block of each to read.
    async fn connect(&self) -> eyre::Result<Connected> {
        let signers = engine::signers()?;
        let key = signers.get(self.key_index).cloned().ok_or_else(|| {
            eyre::eyre!("--key-index {} names no key: {} holds {}", self.key_index, engine::key_source(), signers.len())
        })?;
        let sides = [
            (Side::Asset, &self.asset_rpc_url, &self.asset_manifest, self.delivery, (self.asset_confirmations, 0)),
            (
                Side::Payment,
                &self.payment_rpc_url,
                &self.payment_manifest,
                self.payment,
                (self.payment_confirmations, 1),
            ),
        ];
        let mut connected = Vec::new();
        for (side, url, manifest_path, contract, confirmations) in sides {
            let (label, name) = match side {
                Side::Asset => (xlabels::DELIVERY, "asset"),
                Side::Payment => (xlabels::PAYMENT, "payment"),
            };
            let manifest = manifest_path.as_deref().map(engine::read_manifest).transpose()?;
            let profile = manifest.as_ref().and_then(|m| m.profile);
            let (given, fallback) = confirmations;
            let confirmations = given.or(profile.map(|p| p.confirmations())).unwrap_or(fallback);
            let options = engine::ChainArgs::default().options(profile);
            let mut chain = RpcChain::connect_with(url, vec![key.clone()], options)
                .wrap_err_with(|| format!("the {name} chain"))?;
            let deployed = match (&manifest, manifest_path) {
                (Some(m), Some(path)) => {
                    m.check_chain(&mut chain, &format!("the manifest {}", path.display())).await?;
                    Some(m.deployment.contracts.get(label).ok_or_else(|| {
                        eyre::eyre!(
                            "the manifest {} has no `{label}` contract: give the {name} chain's manifest of a cross-chain deployment",
                            path.display()
                        )
                    })?)
                }
                _ => None,
            };
            let contract = contract.or(deployed.map(|d| d.address)).ok_or_else(|| {
                eyre::eyre!(
                    "which contract on the {name} chain? give --{name}-manifest (or --{})",
                    match side {
                        Side::Asset => "delivery",
                        Side::Payment => "payment",
                    }
                )
            })?;
            let endpoint = Endpoint { chain_id: chain.chain_id().await?, contract, confirmations };
            connected.push((chain, endpoint, deployed.map_or(0, |d| d.block)));
        }
        let (b, payment, b_from) = connected.pop().expect("two sides");
        let (a, asset, a_from) = connected.pop().expect("two sides");
        let from = (self.asset_from_block.unwrap_or(a_from), self.payment_from_block.unwrap_or(b_from));
        Ok(Connected { a, b, asset, payment, from })
    }

    /// A pass that failed (a node that does not answer, a halted chain): said on stderr, and the next
    /// pass starts over from the chains, so nothing is lost by going on.
    fn failed(&self, what: &str, error: &kessai_deployer::DeployerError) {
        tracing::warn!(target: "kessai::xchain", "{what}: this pass failed, retrying in {} ms: {error}", self.poll_ms);
    }

    /// Runs `step` over both chains pass after pass (once with `--once`), printing what each pass did.
    async fn passes<T: Serialize + Display>(
        &self,
        global: GlobalArgs,
        what: &str,
        mut a: RpcChain,
        mut b: RpcChain,
        mut step: impl AsyncFnMut(&mut RpcChain, &mut RpcChain) -> Result<Vec<T>, DeployerError>,
    ) -> eyre::Result<()> {
        let mut out = std::io::stdout();
        loop {
            match step(&mut a, &mut b).await {
                Ok(done) => {
                    for item in done {
                        output::write_line(&mut out, global, &item)?;
                    }
                }
                Err(e) if !self.once => self.failed(what, &e),
                Err(e) => return Err(e.into()),
            }
            if self.once {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(self.poll_ms)).await;
        }
    }
}

/// Both chains connected, their contracts and the first block of each to read.
struct Connected {
    a: RpcChain,
    b: RpcChain,
    asset: Endpoint,
    payment: Endpoint,
    from: (u64, u64),
}

/// Sign each final lock on the asset chain and each final commit or abort on the payment chain into
/// the inbox: one file per statement, written whole. Never signs two outcomes of one trade.
#[derive(Debug, clap::Args)]
pub struct AttestCommand {
    #[command(flatten)]
    chains: TwoChainArgs,
}

impl AttestCommand {
    /// Runs the passes.
    pub async fn execute(self, global: GlobalArgs) -> eyre::Result<()> {
        let Connected { a, b, asset, payment, from } = self.chains.connect().await?;
        let key = engine::signers()?.swap_remove(self.chains.key_index);
        let mut attestor = Attestor::new(key, asset, payment, self.chains.inbox.clone()).from_blocks(from.0, from.1);
        self.chains.passes(global, "attest", a, b, async |a, b| attestor.step(a, b).await).await
    }
}

/// Submit what the chains and the attestations allow next: commit paid trades whose lock is
/// attested, abort trades past their deadline, deliver or return on an attested outcome. Any funded
/// account may relay; none can change an outcome.
#[derive(Debug, clap::Args)]
pub struct RelayCommand {
    #[command(flatten)]
    chains: TwoChainArgs,
    /// Send on one chain only (commits and aborts on the payment chain, or deliveries and returns on
    /// the asset chain), leaving the other to a second relayer: neither then waits for the other
    /// chain's blocks, which takes about a block off each trade's settlement.
    #[arg(long, value_enum)]
    only: Option<OnlySide>,
}

/// The chain a relayer sends on, with `--only`.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
enum OnlySide {
    /// The asset chain: deliveries and returns.
    Asset,
    /// The payment chain: commits and aborts.
    Payment,
}

impl RelayCommand {
    /// Runs the passes.
    pub async fn execute(self, global: GlobalArgs) -> eyre::Result<()> {
        let Connected { a, b, asset, payment, from } = self.chains.connect().await?;
        let sender = engine::signers()?[self.chains.key_index].address();
        let mut relayer = Relayer::new(sender, asset, payment, self.chains.inbox.clone()).from_blocks(from.0, from.1);
        relayer = match self.only {
            Some(OnlySide::Asset) => relayer.only(Side::Asset),
            Some(OnlySide::Payment) => relayer.only(Side::Payment),
            None => relayer,
        };
        self.chains.passes(global, "relay", a, b, async |a, b| relayer.step(a, b).await).await
    }
}
