//! `kessai xtrade`: drive cross-chain trades by hand (create, pay, commit, abort, deliver, return)
//! and read them on both chains (`status`), over the two manifests `kessai deploy` wrote for a
//! cross-chain config; and measure their latency with the attestors and a relayer running (`bench`).
//! Each step is one call into [`kessai_deployer::xchain::trade`].

use super::{
    GlobalArgs,
    address_arg::AddressParser,
    engine,
    output::{self, Tx},
    trade::sender,
    xtrade_bench,
};
use clap::{Args, Subcommand};
use kessai_bindings::alloy::primitives::{Address, B256, Bytes, U256};
use kessai_deployer::{
    chain::{Chain, Receipt},
    rpc::RpcChain,
    xchain::{
        relay::locked_trades,
        terms_hash,
        trade::{self, Order, TermsFile, TradeStatus, TwoSuites},
    },
};
use serde::Serialize;
use std::{fmt, path::PathBuf};

/// Drive cross-chain trades: the seller locks its units on the asset chain (`create`), the payer
/// pays on the payment chain, and anyone commits, aborts, delivers or returns with the attestors'
/// proofs; `status` reads a trade on both chains.
///
/// A trade is named by its terms hash (as `create` and `status` print it) or by the terms file
/// `create --out` wrote. The seller's and the payer's keys must be loaded for their steps
/// (KESSAI_KEYSTORE or KESSAI_KEYS; Anvil's development keys when both are unset); the other steps
/// are sent by `--from`, else the first loaded key. `status` loads no key.
#[derive(Debug, Args)]
pub struct XtradeCommand {
    /// The step.
    #[command(subcommand)]
    action: XtradeAction,
}

/// Both chains' nodes and the manifests `kessai deploy` wrote for them.
#[derive(Debug, Args)]
struct Chains {
    /// The asset chain's node (the security token and CrossChainDelivery).
    #[arg(long, env = "KESSAI_ASSET_RPC_URL")]
    asset_rpc_url: String,
    /// The asset chain's manifest.
    #[arg(long, env = "KESSAI_ASSET_MANIFEST")]
    asset_manifest: PathBuf,
    /// The payment chain's node (the deposit token and CrossChainPayment).
    #[arg(long, env = "KESSAI_PAYMENT_RPC_URL")]
    payment_rpc_url: String,
    /// The payment chain's manifest.
    #[arg(long, env = "KESSAI_PAYMENT_MANIFEST")]
    payment_manifest: PathBuf,
}

/// A trade already locked, the chains it is on, and who sends.
#[derive(Debug, Args)]
struct Step {
    #[command(flatten)]
    chains: Chains,
    /// The trade: its terms hash, or the terms file `create --out` wrote.
    trade: String,
    /// The sending account (its key must be loaded); without it, the first loaded key.
    #[arg(long, value_parser = AddressParser)]
    from: Option<Address>,
}

/// A step that needs an attested proof.
#[derive(Debug, Args)]
struct ProvenStep {
    #[command(flatten)]
    step: Step,
    /// The folder the attestors write their signatures into (`kessai attest --inbox`).
    #[arg(long)]
    inbox: PathBuf,
}

/// The steps.
#[derive(Debug, Subcommand)]
enum XtradeAction {
    /// The seller locks its units on the asset chain under new terms (the delivery to the buyer must
    /// pass the token's rules now); prints the terms hash.
    Create {
        #[command(flatten)]
        chains: Chains,
        /// JSON file with what was agreed: {"seller", "buyer", "units", "payer", "payee", "amount"}
        /// (seller and buyer on the asset chain, payer and payee on the payment chain; units and
        /// amount as numbers or decimal strings).
        #[arg(long)]
        order: PathBuf,
        /// The trade id: a number, or 0x and 64 hex digits; each id once per seller. Without it, one
        /// above the seller's highest.
        #[arg(long)]
        id: Option<String>,
        /// Seconds from the payment chain's latest block until the deadline T_B, by which the trade
        /// must commit on the payment chain's clock.
        #[arg(long, default_value_t = 3_600)]
        deadline_in: u64,
        /// Write the whole terms to this JSON file (for the other steps and for the counterparty).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// The payer places the amount on hold on the payment chain.
    Pay {
        #[command(flatten)]
        step: Step,
    },
    /// The payer signs the payment (prints the signature): with it anyone commits the trade without
    /// a `pay` transaction (`commit --payer-signature`), the cash moving in the commit itself.
    Sign {
        #[command(flatten)]
        chains: Chains,
        /// The trade: its terms hash, or its terms file.
        trade: String,
    },
    /// Commit the trade on the payment chain with the attested proof of the lock: the cash goes to
    /// the payee. The trade must be paid, or carry the payer's signature, or be committed by the
    /// payer itself. Refused after the deadline.
    Commit {
        #[command(flatten)]
        proven: ProvenStep,
        /// The payer's signature of the payment (`kessai xtrade sign`), for a trade not paid yet.
        #[arg(long)]
        payer_signature: Option<Bytes>,
    },
    /// Abort the trade on the payment chain: anyone once the deadline has passed there; with
    /// `--agree`, a party's agreement before it (the trade aborts once both parties agreed).
    Abort {
        #[command(flatten)]
        step: Step,
        /// Agree to abort before the deadline (sent by the payer or the payee).
        #[arg(long)]
        agree: bool,
    },
    /// Deliver the locked units to the buyer with the attested proof of the payment chain's commit.
    Deliver(ProvenStep),
    /// Free the locked units for the seller with the attested proof of the payment chain's abort.
    Return(ProvenStep),
    /// A trade on both chains, and what comes next; without a trade, every locked trade.
    Status {
        #[command(flatten)]
        chains: Chains,
        /// The trade: its terms hash, or its terms file.
        trade: Option<String>,
    },
    /// Settle trades on two spawned Anvils with attestors and a relayer running, and report the latency
    /// from each payment to both legs final.
    Bench(xtrade_bench::BenchCommand),
}

impl Chains {
    /// Both manifests, both nodes (checked against the manifests before anything is sent), and the
    /// contracts the trade steps use.
    async fn connect(&self, read_only: bool) -> eyre::Result<(RpcChain, RpcChain, TwoSuites)> {
        let mut connected = Vec::new();
        for (rpc_url, manifest) in
            [(&self.asset_rpc_url, &self.asset_manifest), (&self.payment_rpc_url, &self.payment_manifest)]
        {
            let suite = engine::SuiteArgs { rpc_url: rpc_url.clone(), manifest: manifest.clone() };
            connected.push(if read_only {
                suite.connect_read_only().await?
            } else {
                suite.connect(&engine::ChainArgs::default()).await?
            });
        }
        let (payment, b) = connected.pop().expect("two");
        let (asset, a) = connected.pop().expect("two");
        let suites = TwoSuites::from_deployments(&asset.deployment, &payment.deployment)?;
        Ok((a, b, suites))
    }
}

impl XtradeCommand {
    /// Runs the step.
    pub async fn execute(self, global: GlobalArgs) -> eyre::Result<()> {
        match self.action {
            XtradeAction::Create { chains, order, id, deadline_in, out } => {
                let (mut a, mut b, suites) = chains.connect(false).await?;
                let order = Order::load(&order)?;
                sender(&a, order.seller, "seller", false)?;
                let id = match id {
                    Some(id) => parse_id(&id)?,
                    None => trade::next_id(&mut a, suites.delivery, order.seller).await?,
                };
                let deadline = b.timestamp().await? + deadline_in;
                let terms = suites.terms(&order, id, deadline);
                let receipt = trade::lock(&mut a, &suites, &terms).await?;
                if let Some(path) = &out {
                    std::fs::write(path, serde_json::to_string_pretty(&TermsFile::from(&terms))? + "\n")?;
                }
                let done = Done::new("locked", &terms, suites.asset_chain_id, &receipt);
                output::print(global, &Created { done, terms: TermsFile::from(&terms), written: out })
            }
            XtradeAction::Pay { step } => {
                let (_, mut b, suites, terms) = step.open().await?;
                sender(&b, terms.payer, "payer", false)?;
                let receipt = trade::pay(&mut b, &suites, &terms).await?;
                output::print(global, &Done::new("paid", &terms, suites.payment_chain_id, &receipt))
            }
            XtradeAction::Sign { chains, trade } => {
                let (mut a, mut b, suites) = chains.connect(false).await?;
                let terms = trade::find(&mut a, &suites, &trade).await?;
                sender(&b, terms.payer, "payer", false)?;
                let key = engine::signers()?.into_iter().find(|k| k.address() == terms.payer).expect("checked above");
                let signature = trade::sign_payment(&mut b, &suites, &terms, &key).await?;
                output::print(global, &Signed { terms_hash: terms_hash(&terms), payer: terms.payer, signature })
            }
            XtradeAction::Commit { proven: p, payer_signature } => {
                let (_, mut b, suites, terms) = p.step.open().await?;
                let from = p.step.sender(&b)?;
                let receipt = trade::commit(&mut b, &suites, from, &terms, &p.inbox, payer_signature).await?;
                output::print(global, &Done::new("committed", &terms, suites.payment_chain_id, &receipt))
            }
            XtradeAction::Abort { step, agree } => {
                let (_, mut b, suites, terms) = step.open().await?;
                let from = step.sender(&b)?;
                let receipt = trade::abort(&mut b, &suites, from, &terms, agree).await?;
                let what = if agree { "agreed to abort" } else { "aborted" };
                output::print(global, &Done::new(what, &terms, suites.payment_chain_id, &receipt))
            }
            XtradeAction::Deliver(p) => {
                let (mut a, _, suites, terms) = p.step.open().await?;
                let from = p.step.sender(&a)?;
                let receipt = trade::deliver(&mut a, &suites, from, &terms, &p.inbox).await?;
                output::print(global, &Done::new("delivered", &terms, suites.asset_chain_id, &receipt))
            }
            XtradeAction::Return(p) => {
                let (mut a, _, suites, terms) = p.step.open().await?;
                let from = p.step.sender(&a)?;
                let receipt = trade::return_units(&mut a, &suites, from, &terms, &p.inbox).await?;
                output::print(global, &Done::new("returned", &terms, suites.asset_chain_id, &receipt))
            }
            XtradeAction::Status { chains, trade } => {
                let (mut a, mut b, suites) = chains.connect(true).await?;
                if let Some(t) = trade {
                    let terms = trade::find(&mut a, &suites, &t).await?;
                    return output::print(global, &trade::status(&mut a, &mut b, &suites, &terms).await?);
                }
                let mut list = output::List::new(global);
                for terms in locked_trades(&mut a, suites.delivery, None).await?.into_values() {
                    list.push(trade::status(&mut a, &mut b, &suites, &terms).await?);
                }
                let listed: Vec<TradeStatus> = list.end()?;
                if listed.is_empty() && !global.json {
                    println!("no trade is locked on chain {} yet", suites.asset_chain_id);
                }
                Ok(())
            }
            XtradeAction::Bench(cmd) => cmd.execute(global).await,
        }
    }
}

impl Step {
    /// Both chains (with the loaded keys) and the trade's terms.
    async fn open(&self) -> eyre::Result<(RpcChain, RpcChain, TwoSuites, kessai_bindings::cross_chain::Terms)> {
        let (mut a, b, suites) = self.chains.connect(false).await?;
        let terms = trade::find(&mut a, &suites, &self.trade).await?;
        Ok((a, b, suites, terms))
    }

    /// `--from` (its key must be loaded), else the first loaded key.
    fn sender(&self, chain: &RpcChain) -> eyre::Result<Address> {
        match self.from {
            Some(from) => sender(chain, from, "--from account", false),
            None => chain
                .accounts()
                .first()
                .copied()
                .ok_or_else(|| eyre::eyre!("no key is loaded: add one to {} or pass --from", engine::key_source())),
        }
    }
}

/// A trade id: a decimal number, or 0x and 64 hex digits.
fn parse_id(id: &str) -> eyre::Result<B256> {
    if let Ok(n) = id.parse::<U256>()
        && !id.starts_with("0x")
    {
        return Ok(B256::from(n));
    }
    match id.parse::<B256>() {
        Ok(id) => Ok(id),
        Err(_) => eyre::bail!("--id {id:?} is neither a number nor 0x and 64 hex digits"),
    }
}

/// A step taken: what, on which trade, on which chain, by which transaction.
#[derive(Debug, Serialize)]
struct Done {
    step: &'static str,
    terms_hash: B256,
    chain_id: u64,
    #[serde(flatten)]
    tx: Tx,
}

impl Done {
    fn new(step: &'static str, terms: &kessai_bindings::cross_chain::Terms, chain_id: u64, receipt: &Receipt) -> Self {
        Self { step, terms_hash: terms_hash(terms), chain_id, tx: Tx::from(receipt) }
    }
}

impl fmt::Display for Done {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} trade {} on chain {}: {}", self.step, self.terms_hash, self.chain_id, self.tx)
    }
}

/// The payer's signature of a trade's payment.
#[derive(Debug, Serialize)]
struct Signed {
    terms_hash: B256,
    payer: Address,
    signature: Bytes,
}

impl fmt::Display for Signed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "payment of trade {} signed by {}: {}", self.terms_hash, self.payer, self.signature)
    }
}

/// A trade created: the lock, the whole terms and where they were written.
#[derive(Debug, Serialize)]
struct Created {
    #[serde(flatten)]
    done: Done,
    terms: TermsFile,
    written: Option<PathBuf>,
}

impl fmt::Display for Created {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} (id {}, due {} on chain {})",
            self.done, self.terms.id, self.terms.deadline, self.terms.payment_chain_id
        )?;
        if let Some(path) = &self.written {
            write!(f, "\nterms written to {}", path.display())?;
        }
        Ok(())
    }
}
