//! `kessai trade`: drive DvP trades over a deployed suite's manifest — create, pay, approve, cancel,
//! release, sign, settle from signatures, settle batches (netted or gross) and read a trade's status.
//! Every chain step goes through [`kessai_deployer::ops::Suite`] and [`kessai_deployer::signing`].

use super::{
    GlobalArgs,
    address_arg::AddressParser,
    engine,
    output::{self, Tx},
};
use clap::{Args, Subcommand, ValueEnum};
use eyre::WrapErr;
use kessai_bindings::alloy::primitives::{Address, B256, Bytes, U256};
use kessai_deployer::{
    address,
    chain::{Chain, Receipt},
    events::decimal,
    ops::{SettleCheck, Suite, Trade, TradeSignatures},
    rpc::RpcChain,
    signing,
};
use serde::{Deserialize, Serialize, Serializer, ser::SerializeMap};
use std::{
    fmt,
    path::{Path, PathBuf},
};

/// Drive a DvP trade: create, pay, approve, settle from signatures or in batches, cancel, release.
///
/// Each step is sent by the party it belongs to (the seller creates, the buyer pays, the agent
/// approves and settles), whose key must be loaded (KESSAI_KEYSTORE or KESSAI_KEYS; Anvil's
/// development keys when both are unset; `kessai keys` lists them). `status` loads no key.
#[derive(Debug, Args)]
pub struct TradeCommand {
    /// The node and the deployment manifest.
    #[command(flatten)]
    suite: engine::SuiteArgs,
    /// How transactions are sent (the manifest's chain profile, unless overridden).
    #[command(flatten)]
    chain: engine::ChainArgs,
    /// The step.
    #[command(subcommand)]
    action: TradeAction,
}

/// Which trade: its terms and its reference.
#[derive(Debug, Args)]
pub struct TradeRef {
    /// JSON file with the terms: {"seller", "buyer", "agent", "units", "amount", "deadline",
    /// "security", "cash"}. The deadline is in unix seconds; units and amount are numbers or decimal
    /// or 0x-hex strings; "agent" is optional (none: the payment settles); "security" and "cash"
    /// default to the manifest's security token and main deposit token.
    #[arg(long)]
    terms: PathBuf,
    /// The trade reference: a 0x-prefixed 32-byte hex value is the trade id as is (its top 20 bytes
    /// must be the seller); any other string becomes the seller's id for it (the seller's address,
    /// then the first 12 bytes of the reference's keccak256).
    #[arg(long)]
    id: String,
}

/// A DvP step.
#[derive(Debug, Subcommand)]
pub enum TradeAction {
    /// The seller creates the trade: its units are held for the DvP contract.
    Create(TradeRef),
    /// The buyer pays: its cash is held, and the trade settles when no approval is outstanding.
    Pay(TradeRef),
    /// The settlement agent approves: the trade settles when paid.
    Approve(TradeRef),
    /// A party cancels an open trade; its holds are released.
    Cancel {
        /// The trade.
        #[command(flatten)]
        trade: TradeRef,
        /// Who cancels: the seller, the buyer or the agent.
        #[arg(long, value_parser = AddressParser)]
        from: Address,
    },
    /// Anyone releases the holds of an unsettled trade after its deadline.
    Release {
        /// The trade.
        #[command(flatten)]
        trade: TradeRef,
        /// Sending account (any account with a key).
        #[arg(long, value_parser = AddressParser)]
        from: Address,
    },
    /// The trade's status flags and what stands between it and its settlement (no transaction).
    Status(TradeRef),
    /// Print the EIP-712 signature of --from's key giving an instruction for these terms. Each path
    /// has its own signed type, so a signature works only for the path it was given for.
    Sign {
        /// The trade.
        #[command(flatten)]
        trade: TradeRef,
        /// The signing account (the seller or the buyer, or the key a party's ERC-1271 wallet accepts).
        #[arg(long, value_parser = AddressParser)]
        from: Address,
        /// What the signature instructs: `settle` (settle-signed), `lock` (create-signed) or `pay` (the
        /// buyer's payment instruction for settle-with-payment).
        #[arg(long = "for", value_enum)]
        instruction: InstructionArg,
    },
    /// Settle in one transaction from both parties' signatures, without prior holds.
    SettleSigned {
        /// The trade and both signatures.
        #[command(flatten)]
        signed: SignedTrade,
        /// Sending account; defaults to the trade's agent (required when it names none).
        #[arg(long, value_parser = AddressParser)]
        from: Option<Address>,
    },
    /// Settle a created trade with the buyer's signed payment instruction, in one transaction.
    SettleWithPayment {
        /// The trade.
        #[command(flatten)]
        trade: TradeRef,
        /// The buyer's signature (hex, from `kessai trade sign`).
        #[arg(long, value_parser = signature_arg)]
        buyer_sig: Bytes,
        /// Sending account; defaults to the trade's agent (required when it names none).
        #[arg(long, value_parser = AddressParser)]
        from: Option<Address>,
    },
    /// Create the trade from both parties' signatures (e.g. by a broker): both legs are held at
    /// once, and a trade without an agent settles.
    CreateSigned {
        /// The trade and both signatures.
        #[command(flatten)]
        signed: SignedTrade,
        /// Sending account.
        #[arg(long, value_parser = AddressParser)]
        from: Address,
    },
    /// The agent approves and settles paid trades at once, all or nothing.
    Batch {
        /// Terms file of each trade (as for the other steps), repeated; paired in order with --id.
        #[arg(long, required = true)]
        terms: Vec<PathBuf>,
        /// Reference of each trade, repeated, in the order of --terms.
        #[arg(long, required = true)]
        id: Vec<String>,
        /// Move only each party's net cash position (every trade pays in the same deposit token).
        #[arg(long)]
        netted: bool,
        /// Sending account; defaults to the first trade's agent.
        #[arg(long, value_parser = AddressParser)]
        from: Option<Address>,
    },
}

/// A trade and both parties' signatures for it (`settle-signed`, `create-signed`).
#[derive(Debug, Args)]
pub struct SignedTrade {
    /// The trade.
    #[command(flatten)]
    trade: TradeRef,
    /// The seller's signature (hex, from `kessai trade sign`).
    #[arg(long, value_parser = signature_arg)]
    seller_sig: Bytes,
    /// The buyer's signature (hex, from `kessai trade sign`).
    #[arg(long, value_parser = signature_arg)]
    buyer_sig: Bytes,
}

impl SignedTrade {
    /// The trade id, its terms and the signatures.
    fn load(self, suite: &Suite) -> eyre::Result<(B256, Trade, TradeSignatures)> {
        let (id, trade) = self.trade.load(suite)?;
        Ok((id, trade, TradeSignatures { seller: self.seller_sig, buyer: self.buyer_sig }))
    }
}

/// The terms file. Its addresses follow [`kessai_deployer::address`]: a wrong EIP-55 checksum is
/// refused before anything is sent.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Terms {
    #[serde(deserialize_with = "address::deserialize")]
    seller: Address,
    #[serde(deserialize_with = "address::deserialize")]
    buyer: Address,
    #[serde(default, deserialize_with = "address::deserialize_option")]
    agent: Option<Address>,
    #[serde(deserialize_with = "kessai_deployer::amount::deserialize")]
    units: U256,
    #[serde(deserialize_with = "kessai_deployer::amount::deserialize")]
    amount: U256,
    deadline: u64,
    #[serde(default, deserialize_with = "address::deserialize_option")]
    security: Option<Address>,
    #[serde(default, deserialize_with = "address::deserialize_option")]
    cash: Option<Address>,
}

impl TradeCommand {
    /// Runs the step.
    pub async fn execute(self, global: GlobalArgs) -> eyre::Result<()> {
        let (manifest, mut chain) = match self.action {
            TradeAction::Status(_) => self.suite.connect_read_only().await?,
            _ => self.suite.connect(&self.chain).await?,
        };
        let suite = Suite::from_deployment(&manifest.deployment)?;
        let outcome = self.action.run(&suite, &mut chain).await?;
        if let Outcome::Signed(signed) = &outcome {
            output::caption(global, signed.caption());
        }
        output::print(global, &outcome)
    }
}

impl TradeAction {
    /// Loads the trade's terms, checks that the engine holds the sender's key, and takes the step.
    async fn run(self, suite: &Suite, chain: &mut RpcChain) -> eyre::Result<Outcome> {
        Ok(match self {
            TradeAction::Create(r) => {
                let (id, trade) = r.load(suite)?;
                sender(chain, trade.seller, "seller", false)?;
                deadline_ahead(chain, &trade).await?;
                let receipt = suite.create_trade(chain, id, &trade).await?;
                step(suite, chain, "created", id, &receipt).await?
            }
            TradeAction::Pay(r) => {
                let (id, trade) = r.load(suite)?;
                sender(chain, trade.buyer, "buyer", false)?;
                let receipt = suite.pay(chain, id, &trade).await?;
                step(suite, chain, "paid", id, &receipt).await?
            }
            TradeAction::Approve(r) => {
                let (id, trade) = r.load(suite)?;
                if trade.agent == Address::ZERO {
                    eyre::bail!("trade {id} names no settlement agent: there is nothing to approve");
                }
                sender(chain, trade.agent, "agent", false)?;
                let receipt = suite.approve(chain, id, &trade).await?;
                step(suite, chain, "approved", id, &receipt).await?
            }
            TradeAction::Cancel { trade: r, from } => {
                let (id, trade) = r.load(suite)?;
                sender(chain, from, "--from account", false)?;
                let receipt = suite.cancel(chain, from, id, &trade).await?;
                step(suite, chain, "cancelled", id, &receipt).await?
            }
            TradeAction::Release { trade: r, from } => {
                let (id, trade) = r.load(suite)?;
                sender(chain, from, "--from account", false)?;
                let receipt = suite.release(chain, from, id, &trade).await?;
                step(suite, chain, "released", id, &receipt).await?
            }
            TradeAction::Status(r) => {
                let (id, trade) = r.load(suite)?;
                status(suite, chain, id, &trade).await?
            }
            TradeAction::Sign { trade: r, from, instruction } => {
                let (id, trade) = r.load(suite)?;
                sign(suite, chain, from, id, &trade, instruction.into()).await?
            }
            TradeAction::SettleSigned { signed, from } => {
                let (id, trade, signatures) = signed.load(suite)?;
                let by = agent_or(chain, &trade, from)?;
                let receipt = suite.settle_signed(chain, by, id, &trade, &signatures).await?;
                step(suite, chain, "settled from both signatures", id, &receipt).await?
            }
            TradeAction::SettleWithPayment { trade: r, buyer_sig, from } => {
                let (id, trade) = r.load(suite)?;
                let by = agent_or(chain, &trade, from)?;
                let receipt = suite.settle_with_payment(chain, by, id, &trade, &buyer_sig).await?;
                step(suite, chain, "settled with the buyer's signed payment", id, &receipt).await?
            }
            TradeAction::CreateSigned { signed, from } => {
                let (id, trade, signatures) = signed.load(suite)?;
                sender(chain, from, "--from account", false)?;
                let receipt = suite.create_signed_trade(chain, from, id, &trade, &signatures).await?;
                step(suite, chain, "created from both signatures", id, &receipt).await?
            }
            TradeAction::Batch { terms, id, netted, from } => batch(suite, chain, terms, id, netted, from).await?,
        })
    }
}

/// The agent (or `--from`) approves and settles the trades of `terms` and `ids`, paired in order,
/// in one transaction; `netted` moves only each party's net cash.
async fn batch(
    suite: &Suite,
    chain: &mut RpcChain,
    terms: Vec<PathBuf>,
    ids: Vec<String>,
    netted: bool,
    from: Option<Address>,
) -> eyre::Result<Outcome> {
    if terms.len() != ids.len() {
        eyre::bail!("batch needs one --id per --terms ({} terms, {} ids)", terms.len(), ids.len());
    }
    let trades = terms
        .into_iter()
        .zip(ids)
        .map(|(terms, id)| TradeRef { terms, id }.load(suite))
        .collect::<eyre::Result<Vec<_>>>()?;
    let by = agent_or(chain, &trades[0].1, from)?;
    let batch = suite.settle_batch(chain, by, &trades, netted).await?;
    Ok(Outcome::Batch(Settled {
        trades: batch.trades,
        netted,
        gross_cash: batch.gross_cash,
        net_cash: batch.net_cash,
        liquidity_saved: batch.liquidity_saved(),
        tx: Tx::from(&batch.receipt),
    }))
}

impl TradeRef {
    /// The trade id and its terms, with the manifest's tokens where the file names none.
    fn load(self, suite: &Suite) -> eyre::Result<(B256, Trade)> {
        let trade = read_terms(&self.terms)?.trade(suite)?;
        Ok((trade_id(trade.seller, &self.id), trade))
    }
}

impl Terms {
    /// The terms as the DvP sees them. Tokens other than the manifest's are refused: the DvP settles
    /// whatever tokens its parties agree on, so terms from a counterparty could name a look-alike;
    /// kessai sends trades only in the suite's own tokens.
    fn trade(self, suite: &Suite) -> eyre::Result<Trade> {
        for (leg, named, ours) in [("security", self.security, suite.security), ("cash", self.cash, suite.deposit)] {
            if let Some(token) = named.filter(|t| *t != ours) {
                eyre::bail!(
                    "the terms name {leg} token {token}, not this suite's ({ours}): kessai sends trades only in the \
                     manifest's tokens; remove \"{leg}\" from the terms or use the manifest of the suite that token belongs to"
                );
            }
        }
        Ok(Trade {
            security: self.security.unwrap_or(suite.security),
            seller: self.seller,
            buyer: self.buyer,
            cash: self.cash.unwrap_or(suite.deposit),
            agent: self.agent.unwrap_or(Address::ZERO),
            units: self.units,
            amount: self.amount,
            deadline: self.deadline,
        })
    }
}

fn read_terms(path: &Path) -> eyre::Result<Terms> {
    let text =
        std::fs::read_to_string(path).wrap_err_with(|| format!("cannot read the trade terms {}", path.display()))?;
    serde_json::from_str(&text).wrap_err_with(|| format!("invalid trade terms in {}", path.display()))
}

/// A 0x-prefixed 32-byte hex reference is the id itself; anything else becomes `seller`'s id for it.
fn trade_id(seller: Address, reference: &str) -> B256 {
    if reference.len() == 66
        && reference.starts_with("0x")
        && let Ok(id) = reference.parse::<B256>()
    {
        return id;
    }
    kessai_bindings::trade_id(seller, reference)
}

/// A signature argument: an ECDSA signature in hex (64 bytes compact, or 65), as `kessai trade
/// sign` prints it.
fn signature_arg(text: &str) -> Result<Bytes, String> {
    let hex = text.trim();
    let bytes: Bytes = hex
        .parse()
        .map_err(|_| format!("expected a 0x-prefixed hex signature (what `kessai trade sign` prints), not {hex:?}"))?;
    if !matches!(bytes.len(), 64 | 65) {
        return Err(format!("expected a 64- or 65-byte signature, but this one has {} bytes", bytes.len()));
    }
    Ok(bytes)
}

/// Refuses, before sending, terms whose deadline has already passed on the chain's clock: such a
/// trade could only be released.
async fn deadline_ahead(chain: &mut RpcChain, trade: &Trade) -> eyre::Result<()> {
    let now = chain.timestamp().await?;
    if trade.deadline <= now {
        eyre::bail!(
            "the terms' deadline {} is not after the chain's time {now}: nothing was sent; write a later deadline \
             into the terms file",
            trade.deadline
        );
    }
    Ok(())
}

/// Checks that the engine holds `who`'s key; `overridable` adds the --from hint.
pub(super) fn sender(chain: &RpcChain, who: Address, role: &str, overridable: bool) -> eyre::Result<Address> {
    if chain.accounts().contains(&who) {
        return Ok(who);
    }
    let hint = if overridable { ", or pass --from" } else { "" };
    eyre::bail!(
        "no key for the {role} {who}: add its key to {} (`kessai keys` lists the loaded ones){hint}",
        engine::key_source()
    )
}

/// `--from` when given, else the trade's agent.
fn agent_or(chain: &RpcChain, trade: &Trade, from: Option<Address>) -> eyre::Result<Address> {
    match from {
        Some(from) => sender(chain, from, "--from account", false),
        None if trade.agent == Address::ZERO => {
            eyre::bail!("the trade names no settlement agent, so anyone may send this step: pass --from")
        }
        None => sender(chain, trade.agent, "agent", true),
    }
}

/// A mined step: its receipt and the trade's status afterwards.
async fn step(
    suite: &Suite,
    chain: &mut RpcChain,
    what: &'static str,
    id: B256,
    receipt: &Receipt,
) -> eyre::Result<Outcome> {
    let state = State(suite.trade_status(chain, id).await?);
    Ok(Outcome::Step(Stepped { id, what, state, tx: Tx::from(receipt) }))
}

async fn status(suite: &Suite, chain: &mut RpcChain, id: B256, trade: &Trade) -> eyre::Result<Outcome> {
    let state = State(suite.trade_status(chain, id).await?);
    let check = suite.can_settle(chain, id, trade).await?;
    let (name, restriction) = match check {
        SettleCheck::TradeNotFound => ("trade_not_found", None),
        SettleCheck::NotOpen => ("not_open", None),
        SettleCheck::Expired => ("expired", None),
        SettleCheck::SecurityLegRestricted(r) => ("security_leg_restricted", Some(r)),
        SettleCheck::CashLegRestricted(r) => ("cash_leg_restricted", Some(r)),
        SettleCheck::AwaitingPayment => ("awaiting_payment", None),
        SettleCheck::AwaitingApproval => ("awaiting_approval", None),
    };
    Ok(Outcome::Status(Status {
        id,
        state,
        check: name,
        restriction: restriction.map(|r| format!("{r:?}")),
        message: check.message(),
    }))
}

/// What a trade signature instructs, on the command line.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum InstructionArg {
    /// Both parties: settle in one transaction from free balances (`settle-signed`).
    Settle,
    /// Both parties: create the trade with both legs locked (`create-signed`).
    Lock,
    /// The buyer: the payment instruction the agent settles with (`settle-with-payment`).
    Pay,
}

impl From<InstructionArg> for signing::Instruction {
    fn from(value: InstructionArg) -> Self {
        match value {
            InstructionArg::Settle => Self::Settle,
            InstructionArg::Lock => Self::Lock,
            InstructionArg::Pay => Self::Pay,
        }
    }
}

async fn sign(
    suite: &Suite,
    chain: &mut RpcChain,
    from: Address,
    id: B256,
    trade: &Trade,
    instruction: signing::Instruction,
) -> eyre::Result<Outcome> {
    let key = engine::signers()?.into_iter().find(|k| k.address() == from).ok_or_else(|| {
        eyre::eyre!("no key for {from}: add its key to {} (`kessai keys` lists the loaded ones)", engine::key_source())
    })?;
    let chain_id = chain.chain_id().await?;
    // The contract's own digest must match the one signed here, or the manifest is for another chain.
    let digest = signing::trade_digest(chain_id, suite.dvp, id, trade, instruction);
    let on_chain = suite.trade_digest(chain, id, trade, instruction).await?;
    if digest != on_chain {
        eyre::bail!(
            "the DvP contract at {} computes digest {on_chain}, not {digest}: is the manifest for chain {chain_id}?",
            suite.dvp
        );
    }
    let signature = signing::sign_trade(&key, chain_id, suite.dvp, id, trade, instruction)?;
    let role = if from == trade.seller {
        Some("seller")
    } else if from == trade.buyer {
        Some("buyer")
    } else {
        None
    };
    Ok(Outcome::Signed(Signed { id, signer: from, role, instruction, digest, signature }))
}

/// What a step prints.
#[derive(Serialize)]
#[serde(untagged)]
enum Outcome {
    /// A mined step.
    Step(Stepped),
    /// A trade's status (`status`).
    Status(Status),
    /// A signature (`sign`).
    Signed(Signed),
    /// A settled batch (`batch`).
    Batch(Settled),
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Step(s) => s.fmt(f),
            Self::Status(s) => s.fmt(f),
            Self::Signed(s) => s.fmt(f),
            Self::Batch(s) => s.fmt(f),
        }
    }
}

/// A trade's status flags: in JSON `status` (the bits) and `flags` (their words), in text the words.
struct State(u8);

impl Serialize for State {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(2))?;
        map.serialize_entry("status", &self.0)?;
        map.serialize_entry("flags", &kessai_bindings::TradeFlags::of(self.0).words())?;
        map.end()
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&kessai_bindings::status_words(&self.0.to_string()))
    }
}

/// A mined step: what it did to which trade, the trade's status afterwards, and the transaction.
#[derive(Serialize)]
struct Stepped {
    id: B256,
    /// What the step did, for the text (`created`, `paid`, ...).
    #[serde(skip)]
    what: &'static str,
    #[serde(flatten)]
    state: State,
    #[serde(flatten)]
    tx: Tx,
}

impl fmt::Display for Stepped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "trade {} {}: {}; now {}", self.id, self.what, self.tx, self.state)
    }
}

/// A trade's status and what stands between it and its settlement.
#[derive(Serialize)]
struct Status {
    id: B256,
    #[serde(flatten)]
    state: State,
    /// The check's name (`awaiting_payment`, `security_leg_restricted`, ...).
    check: &'static str,
    /// The restriction a leg would hit, when one would.
    restriction: Option<String>,
    /// The check in words.
    message: String,
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "trade {}: {}\ncan settle: {}", self.id, self.state, self.message)
    }
}

/// A trade signature: the text is the signature alone, for `$(kessai trade … sign …)`.
#[derive(Serialize)]
struct Signed {
    id: B256,
    signer: Address,
    /// `seller`, `buyer`, or none (a key a party's wallet may accept).
    role: Option<&'static str>,
    #[serde(serialize_with = "instruction_name")]
    instruction: signing::Instruction,
    digest: B256,
    signature: Bytes,
}

impl Signed {
    /// What the signature is, for a person (on stderr).
    fn caption(&self) -> String {
        let who = match self.role {
            Some(role) => format!("the {role}"),
            None => "neither party: valid only where a party's wallet accepts this key".into(),
        };
        format!("{:?} signature of {} ({who}) on trade {}:", self.instruction, self.signer, self.id)
    }
}

impl fmt::Display for Signed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.signature.fmt(f)
    }
}

/// An instruction as JSON: `settle`, `lock` or `pay`.
fn instruction_name<S: Serializer>(instruction: &signing::Instruction, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_str(&format!("{instruction:?}").to_lowercase())
}

/// A settled batch: its trades, its cash gross and net, and its transaction.
#[derive(Serialize)]
struct Settled {
    #[serde(with = "decimal")]
    trades: U256,
    netted: bool,
    #[serde(with = "decimal")]
    gross_cash: U256,
    #[serde(with = "decimal")]
    net_cash: U256,
    /// Gross minus net cash.
    #[serde(with = "decimal")]
    liquidity_saved: U256,
    #[serde(flatten)]
    tx: Tx,
}

impl fmt::Display for Settled {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "settled {} trades{}: {}\ncash: gross {}, net {}, liquidity saved {}",
            self.trades,
            if self.netted { " netted" } else { "" },
            self.tx,
            self.gross_cash,
            self.net_cash,
            self.liquidity_saved
        )
    }
}
