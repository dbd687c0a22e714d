//! `kessai attest` and `kessai relay`: the attestor and the relayer of cross-chain trades, each a
//! process of its own that passes over both chains until stopped ([`kessai_deployer::xchain::relay`]).
//! Neither keeps state between passes beyond the attestors' inbox folder, so either may be killed at
//! any point and started again, and several relayers may run at once. A pass that fails (a node
//! down, a chain halted) is reported on stderr and the next pass starts over.

use super::{GlobalArgs, address_arg::AddressParser, engine, output};
use eyre::WrapErr;
use kessai_bindings::alloy::primitives::Address;
use kessai_deployer::DeployerError;
use kessai_deployer::{
    chain::Chain,
    rpc::RpcChain,
    xchain::relay::{Attestor, Endpoint, Relayer},
};
use serde::Serialize;
use std::{fmt::Display, path::PathBuf, time::Duration};

/// The two chains of cross-chain trades, the attestors' inbox and the pace of the passes.
#[derive(Debug, clap::Args)]
pub struct TwoChainArgs {
    /// The asset chain's node (the security token and CrossChainDelivery).
    #[arg(long, env = "KESSAI_ASSET_RPC_URL")]
    asset_rpc_url: String,
    /// The CrossChainDelivery contract on the asset chain.
    #[arg(long, value_parser = AddressParser)]
    delivery: Address,
    /// Blocks on top of a record on the asset chain before it counts as final (0 on a chain with
    /// instant finality such as ibet's QBFT).
    #[arg(long, default_value_t = 0)]
    asset_confirmations: u64,
    /// The payment chain's node (the deposit token and CrossChainPayment).
    #[arg(long, env = "KESSAI_PAYMENT_RPC_URL")]
    payment_rpc_url: String,
    /// The CrossChainPayment contract on the payment chain.
    #[arg(long, value_parser = AddressParser)]
    payment: Address,
    /// Blocks on top of a record on the payment chain before it counts as final.
    #[arg(long, default_value_t = 1)]
    payment_confirmations: u64,
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
    /// Both chains, connected with the acting key, and the two contracts as endpoints.
    async fn connect(&self) -> eyre::Result<(RpcChain, RpcChain, Endpoint, Endpoint, usize)> {
        let signers = engine::signers()?;
        let key = signers.get(self.key_index).cloned().ok_or_else(|| {
            eyre::eyre!("--key-index {} names no key: {} holds {}", self.key_index, engine::key_source(), signers.len())
        })?;
        let mut a = RpcChain::connect(&self.asset_rpc_url, vec![key.clone()]).wrap_err("the asset chain")?;
        let mut b = RpcChain::connect(&self.payment_rpc_url, vec![key]).wrap_err("the payment chain")?;
        let asset = Endpoint {
            chain_id: a.chain_id().await?,
            contract: self.delivery,
            confirmations: self.asset_confirmations,
        };
        let payment = Endpoint {
            chain_id: b.chain_id().await?,
            contract: self.payment,
            confirmations: self.payment_confirmations,
        };
        Ok((a, b, asset, payment, self.key_index))
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
        let (a, b, asset, payment, index) = self.chains.connect().await?;
        let key = engine::signers()?.swap_remove(index);
        let attestor = Attestor { key, asset, payment, inbox: self.chains.inbox.clone() };
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
}

impl RelayCommand {
    /// Runs the passes.
    pub async fn execute(self, global: GlobalArgs) -> eyre::Result<()> {
        let (a, b, asset, payment, index) = self.chains.connect().await?;
        let from = engine::signers()?[index].address();
        let relayer = Relayer { from, asset, payment, inbox: self.chains.inbox.clone() };
        self.chains.passes(global, "relay", a, b, async |a, b| relayer.step(a, b).await).await
    }
}
