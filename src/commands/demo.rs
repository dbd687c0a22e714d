//! `kessai demo`: the DCJPY pilot's seven steps, in-process by default or on a node.

use super::{GlobalArgs, engine, output};
use clap::Args;
use kessai_bindings::alloy::{primitives::Address, signers::local::PrivateKeySigner};
use kessai_deployer::anvil;
use kessai_sim::{
    RevmChain,
    demo::{self, DemoParties, DemoReport, DemoStep},
};
use serde::Serialize;
use std::fmt;

/// Run the seven-step DvP flow: register, issue, create and lock, sign the payment instruction, the
/// agent's verification and atomic settlement, redeem.
#[derive(Debug, Args)]
pub struct DemoCommand {
    /// Run on a freshly spawned Anvil instead of in-process.
    #[arg(long, conflicts_with = "rpc_url")]
    anvil: bool,
    /// Run on this node. Senders are Anvil's development accounts unless KESSAI_KEYS (or
    /// KESSAI_KEYSTORE) holds eight keys in the role order `kessai keys` prints: operator,
    /// registrar, issuer, bank, authority, agent, seller, buyer.
    #[arg(long, env = "KESSAI_RPC_URL")]
    rpc_url: Option<String>,
    /// The rules of the in-process engine or the spawned Anvil.
    #[command(flatten)]
    local: engine::LocalChainArgs,
}

impl DemoCommand {
    /// Runs the demo.
    pub async fn execute(self, global: GlobalArgs) -> eyre::Result<()> {
        let progress = |step: &DemoStep| output::progress(global, StepLine(step));
        let report = if self.anvil || self.rpc_url.is_some() {
            let (_anvil, mut chain) =
                engine::connect_with(self.rpc_url, global, Default::default(), &self.local.anvil())?;
            let parties = DemoParties::from_accounts(chain.accounts())?;
            let buyer_key = buyer_key(engine::signers()?, parties.buyer)?;
            demo::run(&mut chain, &parties, &buyer_key, progress).await?
        } else {
            let parties = DemoParties::from_accounts(&anvil::dev_accounts())?;
            output::progress(global, format_args!("engine: {}", self.local.describe()));
            let mut chain = RevmChain::new(&self.local.revm(), &parties.senders());
            let buyer_key = buyer_key(anvil::dev_signers(), parties.buyer)?;
            demo::run(&mut chain, &parties, &buyer_key, progress).await?
        };
        output::print_document(global, &Demo(report))
    }
}

/// The buyer's key among the loaded signers (it signs the payment instruction; never printed).
fn buyer_key(signers: Vec<PrivateKeySigner>, buyer: Address) -> eyre::Result<PrivateKeySigner> {
    signers
        .into_iter()
        .find(|k| k.address() == buyer)
        .ok_or_else(|| eyre::eyre!("no key for the buyer {buyer}: the eighth key of KESSAI_KEYS or KESSAI_KEYSTORE (operator, registrar, issuer, bank, authority, agent, seller, buyer) must be its"))
}

/// A step as it happens: what it did, its gas, and both parties' balances after it.
struct StepLine<'a>(&'a DemoStep);

impl fmt::Display for StepLine<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let step = self.0;
        write!(
            f,
            "[{:>5}] {}\n        gas {:>7} | seller: {} units ({} held), ¥{} ({} held) | buyer: {} units ({} held), ¥{} ({} held)",
            step.pilot_step,
            step.description,
            step.gas_used,
            step.seller.units,
            step.seller.units_held,
            step.seller.cash,
            step.seller.cash_held,
            step.buyer.units,
            step.buyer.units_held,
            step.buyer.cash,
            step.buyer.cash_held,
        )
    }
}

/// The demo's report: in JSON the whole report, in text whether the trade settled and the supplies.
#[derive(Serialize)]
#[serde(transparent)]
struct Demo(DemoReport);

impl fmt::Display for Demo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let report = &self.0;
        let settled =
            kessai_bindings::TradeFlags::of(report.trade_status).contains(kessai_bindings::TradeFlags::SETTLED);
        write!(
            f,
            "trade {} {} | supply: {} bond units, ¥{} DCJPY",
            report.trade_id,
            if settled { "SETTLED (both legs in one transaction)" } else { "NOT settled" },
            report.supplies.0,
            report.supplies.1
        )
    }
}
