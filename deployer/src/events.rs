//! The back-office event stream: the suite's events, typed, in chain order, from a resumable cursor;
//! and the holder register an instrument's registrar files, at any block.
//!
//! A securities company, a bank or a registrar follows a deployed suite with an [`EventStream`]
//! over the manifest's contracts: DvP trades (created, paid, approved, settled, settled by
//! signatures, cancelled, expired, batch settled), token transfers, issues (a `Transfer` from the
//! zero address) and redemptions (to the zero address), deposit-token issues and redemptions with
//! their ledger references, coupon and redemption payments, and registry changes. Each
//! [`SuiteEvent`] carries its position in the chain — block number and log index — and the
//! transaction that emitted it.
//!
//! # One event per fact
//!
//! A fact the contracts log twice is reported once, in its richer form: a deposit token's mint logs
//! `Transfer` from the zero address and `DepositIssued`, and the stream reports only
//! [`EventKind::DepositIssued`] (likewise a deposit redemption is only [`EventKind::DepositRedeemed`]);
//! a security token's issue logs `Transfer` and `Issued`, and the stream reports the `Transfer` as
//! [`EventKind::Issued`] (redemptions alike). Events on different contracts are different facts and
//! all reported: a settled trade is [`EventKind::TradeSettled`] on the DvP contract and the two
//! [`EventKind::Transfer`]s its legs make on the tokens; a coupon is [`EventKind::HolderPaid`] on the
//! instrument and the cash `Transfer` on the deposit token; a batch is [`EventKind::BatchSettled`] and
//! one [`EventKind::TradeSettled`] per trade. So balances are the sum of issues, transfers and
//! redemptions (deposit issues and redemptions included), and trade states follow the DvP events.
//!
//! # Exactly once
//!
//! A [`Cursor`] is the position of the next log to read: `(block, log_index)`. Reading from a cursor
//! returns every suite event at a position at or after it, in chain order, and nothing before it;
//! the stream then moves the cursor to just past what it returned (past the last block it read when
//! it returned everything up to there, or to the first event it held back when a `limit` stopped
//! it). So successive batches from one cursor neither skip nor repeat an event, and a cursor saved
//! after a batch and loaded after a restart continues exactly where the batch ended.
//!
//! Across a crash, what a consumer sees depends on when it saves the cursor:
//! - saving the cursor in the same atomic commit as the effects of the batch (one database
//!   transaction) processes every event exactly once;
//! - saving it after processing (what `kessai watch --cursor` does: print, then save) may repeat
//!   the last batch after a crash between the two — at-least-once. Every event's `(block,
//!   log_index)` is unique on the chain, so a consumer that keys its records by it discards the
//!   repeats and again has exactly-once effects.
//!
//! # Reorganisations
//!
//! Positions are final only once their block is. On chains with immediate finality (the
//! permissioned QBFT chains kessai targets) that is at once; elsewhere a block can be replaced. The
//! stream handles that in two ways:
//! - it reads a block only once it has [`EventStream::confirmations`] blocks on top, so shallow
//!   reorganisations never reach a consumer (`kessai watch` takes the chain profile's count, or 0 on
//!   chains without one: see its `--confirmations`);
//! - it keeps the hash of each of the last [`EventStream::keep_blocks`] blocks it read, with the
//!   events it returned from them, in its [`Checkpoint`]. Each read first checks that the newest kept
//!   block is still on the chain. When it is not, the chain reorganised: the stream finds the newest
//!   kept block that still is (the fork point), returns a [`Batch`] whose
//!   [`Batch::retracted`] lists every event it had returned from the orphaned blocks — newest first,
//!   so a consumer undoes them in that order — and moves its cursor back to the block after the fork
//!   point, from where the next reads return the events of the replacement blocks. A consumer that
//!   applies events and undoes retractions therefore ends with exactly what the chain holds.
//!
//! A reorganisation below the oldest kept block is beyond what the stream can repair (it no longer
//! knows what it returned from there): it stops with [`DeployerError::ReorgBeyondWindow`], naming
//! that block. Blocks older than the window are taken as final. A checkpoint saved before a
//! reorganisation and loaded after it is checked the same way, so a restart retracts too. Cursor
//! files written before checkpoints kept blocks (`{"block":…,"log_index":…}`) still load: the stream
//! then starts with no kept blocks, as a fresh one does.
//!
//! Reading positions and past state needs more than the engine-neutral [`crate::chain::Chain`]
//! trait gives (its logs carry no block numbers): the [`History`] trait adds those reads, and the
//! JSON-RPC engine implements it.

use crate::{error::DeployerError, plan::Deployment, rpc::RpcChain};
use alloy::{
    primitives::{Address, B256, Bytes, Log, U256},
    sol_types::{SolCall, SolEvent},
};
use kessai_bindings::{
    RevertError, deposit_token::DepositToken as Dt, dvp::DvP, investor_registry::InvestorRegistry as Reg,
    security_token::SecurityToken as St, straight_bond::StraightBond as Pay,
};
use serde::{Deserialize, Serialize};
use std::{collections::BTreeMap, fmt, path::Path};

/// The position of the next log to read: a block number and an index within that block.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Cursor {
    /// Block of the next log.
    pub block: u64,
    /// Index of the next log within `block`.
    pub log_index: u64,
}

impl Cursor {
    /// A cursor at the start of block `block`.
    pub const fn at_block(block: u64) -> Self {
        Self { block, log_index: 0 }
    }

    /// Whether a log at `(block, log_index)` is at or after the cursor.
    pub fn admits(&self, block: u64, log_index: u64) -> bool {
        (block, log_index) >= (self.block, self.log_index)
    }

    /// Reads a cursor saved with [`Cursor::save`]; `None` when the file does not exist.
    pub fn load(path: &Path) -> Result<Option<Self>, DeployerError> {
        match std::fs::read_to_string(path) {
            Ok(text) => Ok(Some(serde_json::from_str(&text)?)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Saves the cursor as JSON, atomically: a reader (or a restart) sees the old cursor or the new
    /// one, never a torn file.
    pub fn save(&self, path: &Path) -> Result<(), DeployerError> {
        save_json(path, self)
    }
}

/// Writes `value` as one line of JSON to `path` through a temporary file and a rename.
fn save_json<T: Serialize>(path: &Path, value: &T) -> Result<(), DeployerError> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    std::fs::write(&tmp, serde_json::to_string(value)? + "\n")?;
    std::fs::rename(&tmp, path)?;
    Ok(())
}

impl fmt::Display for Cursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "block {} log {}", self.block, self.log_index)
    }
}

/// A log with its position in the chain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LocatedLog {
    /// Block number.
    pub block: u64,
    /// Index of the log within its block.
    pub log_index: u64,
    /// The transaction that emitted it.
    pub tx_hash: B256,
    /// The hash of its block (which chain the log is on).
    pub block_hash: B256,
    /// The log.
    pub log: Log,
}

/// A block's identity: its number, its hash and its parent's hash.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BlockRef {
    /// Block number.
    pub number: u64,
    /// Its hash.
    pub hash: B256,
    /// Its parent's hash.
    pub parent_hash: B256,
}

/// Reads of a chain's past that the back office needs: the head, logs with their positions, and
/// calls against the state at a given block.
#[allow(async_fn_in_trait)]
pub trait History {
    /// The latest block number.
    async fn head(&mut self) -> Result<u64, DeployerError>;

    /// Logs of any of `addresses` in blocks `from_block..=to_block`, in chain order.
    async fn located_logs(
        &mut self,
        addresses: &[Address],
        from_block: u64,
        to_block: u64,
    ) -> Result<Vec<LocatedLog>, DeployerError>;

    /// A read-only call against the state at the end of block `block`.
    async fn call_at(&mut self, block: u64, to: Address, data: Bytes) -> Result<Bytes, DeployerError>;

    /// The timestamp of block `block`.
    async fn timestamp_at(&mut self, block: u64) -> Result<u64, DeployerError>;

    /// The block at height `block` on the node's current chain; `None` when the chain is shorter.
    async fn block_ref(&mut self, block: u64) -> Result<Option<BlockRef>, DeployerError>;

    /// A typed `sol!` read-only call against the state at the end of block `block`.
    async fn read_at<C: SolCall>(&mut self, block: u64, to: Address, call: &C) -> Result<C::Return, DeployerError> {
        let out = self.call_at(block, to, call.abi_encode().into()).await?;
        C::abi_decode_returns(&out).map_err(|e| DeployerError::Rpc(format!("cannot decode {}: {e}", C::SIGNATURE)))
    }
}

impl History for RpcChain {
    async fn head(&mut self) -> Result<u64, DeployerError> {
        self.block_number().await
    }

    async fn located_logs(
        &mut self,
        addresses: &[Address],
        from_block: u64,
        to_block: u64,
    ) -> Result<Vec<LocatedLog>, DeployerError> {
        self.logs_between(addresses, from_block, to_block)
            .await?
            .into_iter()
            .map(|l| match (l.block_number, l.log_index, l.transaction_hash, l.block_hash) {
                (Some(block), Some(log_index), Some(tx_hash), Some(block_hash)) => {
                    Ok(LocatedLog { block, log_index, tx_hash, block_hash, log: l.inner })
                }
                _ => Err(DeployerError::Rpc(format!("the node returned a log without its position: {l:?}"))),
            })
            .collect()
    }

    async fn call_at(&mut self, block: u64, to: Address, data: Bytes) -> Result<Bytes, DeployerError> {
        RpcChain::call_at(self, block, to, data).await
    }

    async fn timestamp_at(&mut self, block: u64) -> Result<u64, DeployerError> {
        self.block_timestamp(block).await
    }

    async fn block_ref(&mut self, block: u64) -> Result<Option<BlockRef>, DeployerError> {
        use alloy::{eips::BlockNumberOrTag, providers::Provider};
        let found = self
            .retry("eth_getBlockByNumber", || self.provider().get_block_by_number(BlockNumberOrTag::Number(block)))
            .await?;
        Ok(found.map(|b| BlockRef { number: b.header.number, hash: b.header.hash, parent_hash: b.header.parent_hash }))
    }
}

/// Amounts as decimal strings in JSON (exact, and what back-office systems parse).
mod decimal {
    use alloy::primitives::U256;
    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    pub(super) fn serialize<S: Serializer>(value: &U256, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&value.to_string())
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<U256, D::Error> {
        let text = String::deserialize(d)?;
        U256::from_str_radix(&text, 10).map_err(D::Error::custom)
    }
}

/// What happened, by kind. Amounts are in token units (yen for deposit tokens); the contract that
/// emitted the event is the enclosing [`SuiteEvent`]'s.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum EventKind {
    /// A DvP trade was created; the seller's units are locked.
    TradeCreated {
        /// Trade id.
        id: B256,
        /// Seller.
        seller: Address,
        /// Buyer.
        buyer: Address,
        /// Security token.
        security: Address,
        /// Units sold.
        #[serde(with = "decimal")]
        units: U256,
        /// Deposit token paid in.
        cash: Address,
        /// Price.
        #[serde(with = "decimal")]
        amount: U256,
        /// Settlement agent (zero: none).
        agent: Address,
        /// Deadline (unix time).
        deadline: u64,
    },
    /// The buyer paid: its cash is locked.
    TradePaid {
        /// Trade id.
        id: B256,
    },
    /// The settlement agent approved.
    TradeApproved {
        /// Trade id.
        id: B256,
        /// The agent.
        agent: Address,
    },
    /// Both legs moved.
    TradeSettled {
        /// Trade id.
        id: B256,
    },
    /// The trade was created and settled in one transaction from both parties' signatures.
    TradeSettledBySignatures {
        /// Trade id.
        id: B256,
        /// Seller.
        seller: Address,
        /// Buyer.
        buyer: Address,
    },
    /// A party cancelled the trade; its locks were released.
    TradeCancelled {
        /// Trade id.
        id: B256,
        /// Who cancelled.
        by: Address,
    },
    /// An expired trade's locks were released.
    TradeExpired {
        /// Trade id.
        id: B256,
    },
    /// The agent settled a batch of trades.
    BatchSettled {
        /// Batch id.
        batch_id: B256,
        /// The agent.
        agent: Address,
        /// Trades settled.
        #[serde(with = "decimal")]
        trades: U256,
        /// Cash the trades pay in total.
        #[serde(with = "decimal")]
        gross_cash: U256,
        /// Cash that moved.
        #[serde(with = "decimal")]
        net_cash: U256,
    },
    /// Tokens moved between two accounts.
    Transfer {
        /// Sender.
        from: Address,
        /// Receiver.
        to: Address,
        /// Amount.
        #[serde(with = "decimal")]
        amount: U256,
    },
    /// Security units were issued (a transfer from the zero address).
    Issued {
        /// Receiver.
        to: Address,
        /// Amount.
        #[serde(with = "decimal")]
        amount: U256,
    },
    /// Security units were redeemed (a transfer to the zero address).
    Redeemed {
        /// Holder.
        from: Address,
        /// Amount.
        #[serde(with = "decimal")]
        amount: U256,
    },
    /// The bank issued deposit tokens against a deposit ledger entry (the deposit token's only issue
    /// event: its mint's `Transfer` is not reported separately).
    DepositIssued {
        /// Receiver.
        to: Address,
        /// Amount in yen.
        #[serde(with = "decimal")]
        amount: U256,
        /// The debited deposit's ledger reference.
        deposit_ref: B256,
        /// The minter.
        minter: Address,
    },
    /// Deposit tokens were redeemed into a deposit account (the deposit token's only redemption
    /// event: its burn's `Transfer` is not reported separately).
    DepositRedeemed {
        /// Holder.
        from: Address,
        /// Amount in yen.
        #[serde(with = "decimal")]
        amount: U256,
        /// The credited deposit account's reference.
        account_ref: B256,
    },
    /// A holder was paid a coupon, a redemption or a distribution.
    HolderPaid {
        /// Payment number (a bond's coupons 1..=n, its redemption n + 1).
        payment: u64,
        /// The holder at the record date.
        holder: Address,
        /// Who received the cash (the holder, or its recovered wallet).
        payee: Address,
        /// Units paid for.
        #[serde(with = "decimal")]
        units: U256,
        /// Cash paid.
        #[serde(with = "decimal")]
        amount: U256,
    },
    /// The deposit token refused a holder's payment; the holder stays unpaid.
    HolderPaymentFailed {
        /// Payment number.
        payment: u64,
        /// The holder.
        holder: Address,
        /// The decoded refusal.
        reason: String,
    },
    /// Every unit at the payment's record date has been paid.
    PaymentCompleted {
        /// Payment number.
        payment: u64,
        /// Units paid.
        #[serde(with = "decimal")]
        units: U256,
        /// Cash paid.
        #[serde(with = "decimal")]
        amount: U256,
    },
    /// An investor was registered or its record updated.
    InvestorRegistered {
        /// The account.
        account: Address,
        /// 0 retail, 1 professional, 2 institutional.
        class: u8,
        /// ISO 3166-1 numeric country.
        country: u16,
        /// KYC expiry (unix time).
        kyc_expiry: u64,
        /// Commitment to the off-chain personal data.
        data_hash: B256,
    },
    /// An investor's eligibility was revoked.
    InvestorRevoked {
        /// The account.
        account: Address,
    },
}

impl EventKind {
    /// Decodes a log of a contract built from `artifact`; `None` for events the stream does not
    /// report (role grants, holds, configuration).
    pub fn decode(artifact: &str, log: &Log) -> Option<Self> {
        let topic = *log.topics().first()?;
        let data = &log.data;
        Some(match artifact {
            "DvP" => match topic {
                DvP::TradeCreated::SIGNATURE_HASH => {
                    let e = DvP::TradeCreated::decode_log_data(data).ok()?;
                    Self::TradeCreated {
                        id: e.id,
                        seller: e.seller,
                        buyer: e.buyer,
                        security: e.security,
                        units: e.units,
                        cash: e.cash,
                        amount: e.amount,
                        agent: e.agent,
                        deadline: e.deadline,
                    }
                }
                DvP::TradePaid::SIGNATURE_HASH => {
                    Self::TradePaid { id: DvP::TradePaid::decode_log_data(data).ok()?.id }
                }
                DvP::TradeApproved::SIGNATURE_HASH => {
                    let e = DvP::TradeApproved::decode_log_data(data).ok()?;
                    Self::TradeApproved { id: e.id, agent: e.agent }
                }
                DvP::TradeSettled::SIGNATURE_HASH => {
                    Self::TradeSettled { id: DvP::TradeSettled::decode_log_data(data).ok()?.id }
                }
                DvP::TradeSettledBySignatures::SIGNATURE_HASH => {
                    let e = DvP::TradeSettledBySignatures::decode_log_data(data).ok()?;
                    Self::TradeSettledBySignatures { id: e.id, seller: e.seller, buyer: e.buyer }
                }
                DvP::TradeCancelled::SIGNATURE_HASH => {
                    let e = DvP::TradeCancelled::decode_log_data(data).ok()?;
                    Self::TradeCancelled { id: e.id, by: e.by }
                }
                DvP::TradeExpired::SIGNATURE_HASH => {
                    Self::TradeExpired { id: DvP::TradeExpired::decode_log_data(data).ok()?.id }
                }
                DvP::BatchSettled::SIGNATURE_HASH => {
                    let e = DvP::BatchSettled::decode_log_data(data).ok()?;
                    Self::BatchSettled {
                        batch_id: e.batchId,
                        agent: e.agent,
                        trades: e.trades,
                        gross_cash: e.grossCash,
                        net_cash: e.netCash,
                    }
                }
                _ => return None,
            },
            "SecurityToken" | "DepositToken" => match topic {
                St::Transfer::SIGNATURE_HASH => {
                    let e = St::Transfer::decode_log_data(data).ok()?;
                    match (e.from, e.to) {
                        // A deposit token mints only in `issue` and burns only in a redemption, each
                        // of which logs its own richer event: one fact, one event.
                        (Address::ZERO, _) | (_, Address::ZERO) if artifact == "DepositToken" => return None,
                        (Address::ZERO, to) => Self::Issued { to, amount: e.value },
                        (from, Address::ZERO) => Self::Redeemed { from, amount: e.value },
                        (from, to) => Self::Transfer { from, to, amount: e.value },
                    }
                }
                Dt::DepositIssued::SIGNATURE_HASH if artifact == "DepositToken" => {
                    let e = Dt::DepositIssued::decode_log_data(data).ok()?;
                    Self::DepositIssued { to: e.to, amount: e.amount, deposit_ref: e.depositRef, minter: e.minter }
                }
                Dt::DepositRedeemed::SIGNATURE_HASH if artifact == "DepositToken" => {
                    let e = Dt::DepositRedeemed::decode_log_data(data).ok()?;
                    Self::DepositRedeemed { from: e.from, amount: e.amount, account_ref: e.accountRef }
                }
                _ => return None,
            },
            "StraightBond" | "MunicipalBond" | "BeneficiaryUnits" => match topic {
                Pay::HolderPaid::SIGNATURE_HASH => {
                    let e = Pay::HolderPaid::decode_log_data(data).ok()?;
                    Self::HolderPaid {
                        payment: e.payment.saturating_to(),
                        holder: e.holder,
                        payee: e.payee,
                        units: e.units,
                        amount: e.amount,
                    }
                }
                Pay::HolderPaymentFailed::SIGNATURE_HASH => {
                    let e = Pay::HolderPaymentFailed::decode_log_data(data).ok()?;
                    Self::HolderPaymentFailed {
                        payment: e.payment.saturating_to(),
                        holder: e.holder,
                        reason: RevertError::decode(&e.reason).to_string(),
                    }
                }
                Pay::PaymentCompleted::SIGNATURE_HASH => {
                    let e = Pay::PaymentCompleted::decode_log_data(data).ok()?;
                    Self::PaymentCompleted { payment: e.payment.saturating_to(), units: e.units, amount: e.amount }
                }
                _ => return None,
            },
            "InvestorRegistry" => match topic {
                Reg::InvestorRegistered::SIGNATURE_HASH => {
                    let e = Reg::InvestorRegistered::decode_log_data(data).ok()?;
                    Self::InvestorRegistered {
                        account: e.account,
                        class: e.investorClass,
                        country: e.country,
                        kyc_expiry: e.kycExpiry,
                        data_hash: e.dataHash,
                    }
                }
                Reg::InvestorRevoked::SIGNATURE_HASH => {
                    Self::InvestorRevoked { account: Reg::InvestorRevoked::decode_log_data(data).ok()?.account }
                }
                _ => return None,
            },
            _ => return None,
        })
    }

    /// Whether contracts built from `artifact` emit events the stream reports.
    pub fn reports(artifact: &str) -> bool {
        matches!(
            artifact,
            "DvP"
                | "SecurityToken"
                | "DepositToken"
                | "StraightBond"
                | "MunicipalBond"
                | "BeneficiaryUnits"
                | "InvestorRegistry"
        )
    }
}

impl fmt::Display for EventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TradeCreated { id, seller, buyer, units, amount, agent, deadline, .. } => write!(
                f,
                "trade {id} created: {seller} sells {units} units to {buyer} for {amount}, agent {agent}, deadline {deadline}"
            ),
            Self::TradePaid { id } => write!(f, "trade {id} paid"),
            Self::TradeApproved { id, agent } => write!(f, "trade {id} approved by {agent}"),
            Self::TradeSettled { id } => write!(f, "trade {id} settled"),
            Self::TradeSettledBySignatures { id, seller, buyer } => {
                write!(f, "trade {id} settled by signatures of {seller} and {buyer}")
            }
            Self::TradeCancelled { id, by } => write!(f, "trade {id} cancelled by {by}"),
            Self::TradeExpired { id } => write!(f, "trade {id} expired: locks released"),
            Self::BatchSettled { batch_id, agent, trades, gross_cash, net_cash } => write!(
                f,
                "batch {batch_id} of {trades} trades settled by {agent}: gross cash {gross_cash}, net {net_cash}"
            ),
            Self::Transfer { from, to, amount } => write!(f, "transfer of {amount} from {from} to {to}"),
            Self::Issued { to, amount } => write!(f, "issue of {amount} to {to}"),
            Self::Redeemed { from, amount } => write!(f, "redemption of {amount} from {from}"),
            Self::DepositIssued { to, amount, deposit_ref, minter } => {
                write!(f, "deposit issued: {amount} to {to} against ledger ref {deposit_ref} by {minter}")
            }
            Self::DepositRedeemed { from, amount, account_ref } => {
                write!(f, "deposit redeemed: {amount} from {from} into account ref {account_ref}")
            }
            Self::HolderPaid { payment, holder, payee, units, amount } => {
                write!(f, "payment {payment}: {holder} paid {amount} for {units} units")?;
                if payee != holder {
                    write!(f, " (to its recovered wallet {payee})")?;
                }
                Ok(())
            }
            Self::HolderPaymentFailed { payment, holder, reason } => {
                write!(f, "payment {payment}: paying {holder} failed: {reason}")
            }
            Self::PaymentCompleted { payment, units, amount } => {
                write!(f, "payment {payment} completed: {amount} for {units} units")
            }
            Self::InvestorRegistered { account, class, country, kyc_expiry, .. } => {
                write!(f, "investor {account} registered: class {class}, country {country}, KYC until {kyc_expiry}")
            }
            Self::InvestorRevoked { account } => write!(f, "investor {account} revoked"),
        }
    }
}

/// One event of the suite, with its position.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SuiteEvent {
    /// Block number.
    pub block: u64,
    /// Index of the log within its block.
    pub log_index: u64,
    /// The transaction that emitted it.
    pub tx_hash: B256,
    /// Manifest label of the emitting contract (`dvp`, `security`, `deposit`, `instrument`, ...).
    pub contract: String,
    /// Its address.
    pub address: Address,
    /// What happened.
    #[serde(flatten)]
    pub event: EventKind,
}

impl SuiteEvent {
    /// The event's position (a unique key on the chain).
    pub fn position(&self) -> Cursor {
        Cursor { block: self.block, log_index: self.log_index }
    }
}

impl fmt::Display for SuiteEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "block {} log {} {}: {} (tx {})", self.block, self.log_index, self.contract, self.event, self.tx_hash)
    }
}

/// An event the stream had returned from a block that a reorganisation took off the chain: undo it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Retraction {
    /// The first block after the fork point: every block from here that the stream had read is gone.
    pub fork_block: u64,
    /// The hash of the orphaned block the event was in.
    pub orphaned_hash: B256,
    /// The event, as it was returned.
    pub event: SuiteEvent,
}

impl fmt::Display for Retraction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "retracted (block {} {} is no longer on the chain): {}",
            self.event.block, self.orphaned_hash, self.event
        )
    }
}

/// One line of the stream as `kessai watch --json` prints it: `{"kind":"event", …the event…}` or
/// `{"kind":"retracted","fork_block":…,"orphaned_hash":…,"event":{…the event…}}`. A retraction
/// line does not parse as a [`SuiteEvent`], so a reader that knows only events fails on it rather
/// than booking it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum StreamLine {
    /// An event to apply.
    Event(SuiteEvent),
    /// An event to undo.
    Retracted(Retraction),
}

/// What one read of the stream returned.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Batch {
    /// Events returned earlier from blocks a reorganisation removed, newest first: undo them, in this
    /// order, before applying [`Batch::events`].
    pub retracted: Vec<Retraction>,
    /// The events, in chain order.
    pub events: Vec<SuiteEvent>,
    /// The stream has read up to the newest block it may read: wait before reading again.
    pub caught_up: bool,
}

impl Batch {
    /// The batch as stream lines, in the order to apply them: retractions, then events.
    pub fn lines(&self) -> impl Iterator<Item = StreamLine> + '_ {
        self.retracted
            .iter()
            .cloned()
            .map(StreamLine::Retracted)
            .chain(self.events.iter().cloned().map(StreamLine::Event))
    }
}

/// A block the stream read, kept to notice when it leaves the chain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeptBlock {
    /// Block number.
    pub number: u64,
    /// Its hash when the stream read it.
    pub hash: B256,
    /// The events the stream returned from it, in chain order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub events: Vec<SuiteEvent>,
}

/// Where a stream stands: its cursor and the blocks it keeps (see the module docs). Saved as one JSON
/// object, `{"block":…,"log_index":…,"kept":[…]}`; a file with the cursor alone (what earlier versions
/// saved) loads with no kept blocks.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// The position of the next log to read.
    #[serde(flatten)]
    pub cursor: Cursor,
    /// The last blocks read, oldest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub kept: Vec<KeptBlock>,
}

impl Checkpoint {
    /// A checkpoint at `cursor` with no kept blocks.
    pub fn at(cursor: Cursor) -> Self {
        Self { cursor, kept: Vec::new() }
    }

    /// Reads a checkpoint saved with [`Checkpoint::save`] (or a cursor saved with [`Cursor::save`]);
    /// `None` when the file does not exist.
    pub fn load(path: &Path) -> Result<Option<Self>, DeployerError> {
        match std::fs::read_to_string(path) {
            Ok(text) => Ok(Some(serde_json::from_str(&text)?)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Saves the checkpoint as JSON, atomically (the old file or the new one, never a torn file).
    pub fn save(&self, path: &Path) -> Result<(), DeployerError> {
        save_json(path, self)
    }
}

/// A contract the stream follows.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Watched {
    label: String,
    artifact: String,
}

/// The suite's events from a cursor, batch by batch (see the module docs for the semantics).
///
/// ```no_run
/// # async fn follow(chain: &mut kessai_deployer::rpc::RpcChain) -> Result<(), kessai_deployer::DeployerError> {
/// use kessai_deployer::{events::{Checkpoint, Cursor, EventStream}, manifest::Manifest};
/// use std::path::Path;
///
/// let manifest = Manifest::read(Path::new("deployments/31337.json"))?;
/// let saved = Path::new("back-office.cursor");
/// let checkpoint = Checkpoint::load(saved)?.unwrap_or(Checkpoint::at(Cursor::at_block(0)));
/// let mut stream = EventStream::resume(&manifest.deployment, checkpoint);
/// loop {
///     let batch = stream.next_batch(chain, None).await?;
///     for gone in &batch.retracted {
///         println!("undo {}", gone.event); // reverse what the event booked
///     }
///     for event in &batch.events {
///         println!("{event}"); // book it, keyed by event.position()
///     }
///     stream.checkpoint().save(saved)?;
///     if batch.caught_up {
///         break; // or sleep and poll again
///     }
/// }
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct EventStream {
    contracts: BTreeMap<Address, Watched>,
    cursor: Cursor,
    kept: BTreeMap<u64, KeptBlock>,
    /// Blocks at the head the stream leaves unread until they have this many blocks on top (0: read
    /// up to the head).
    pub confirmations: u64,
    /// Most blocks asked for in one log query.
    pub max_blocks: u64,
    /// How many of the last blocks read the stream keeps (hash and events) to detect and undo a
    /// reorganisation (at least 2; a stream that has read fewer also keeps the block below the
    /// first it read, so a fork right below what it returned is found).
    pub keep_blocks: u64,
}

impl EventStream {
    /// Blocks kept by default: deeper than any reorganisation of a live proof-of-stake chain short
    /// of a failed finality.
    pub const KEEP_BLOCKS: u64 = 64;

    /// A stream over every contract of `deployment` whose events it reports, starting at `cursor`.
    pub fn new(deployment: &Deployment, cursor: Cursor) -> Self {
        Self::resume(deployment, Checkpoint::at(cursor))
    }

    /// A stream continuing from a saved checkpoint (its cursor and kept blocks).
    pub fn resume(deployment: &Deployment, checkpoint: Checkpoint) -> Self {
        let contracts = deployment
            .contracts
            .iter()
            .filter(|(_, c)| EventKind::reports(&c.artifact))
            .map(|(label, c)| (c.address, Watched { label: label.clone(), artifact: c.artifact.clone() }))
            .collect();
        let kept = checkpoint.kept.into_iter().map(|k| (k.number, k)).collect();
        Self {
            contracts,
            cursor: checkpoint.cursor,
            kept,
            confirmations: 0,
            max_blocks: 10_000,
            keep_blocks: Self::KEEP_BLOCKS,
        }
    }

    /// The position of the next event to read.
    pub fn cursor(&self) -> Cursor {
        self.cursor
    }

    /// The cursor and the kept blocks, to save after each batch.
    pub fn checkpoint(&self) -> Checkpoint {
        Checkpoint { cursor: self.cursor, kept: self.kept.values().cloned().collect() }
    }

    /// The followed contracts' addresses.
    pub fn addresses(&self) -> Vec<Address> {
        self.contracts.keys().copied().collect()
    }

    /// Reads the next events: first checks that the newest kept block is still on the chain (if not,
    /// returns the retractions and moves the cursor back: see the module docs); then reads from the
    /// cursor up to the newest readable block (the head less [`EventStream::confirmations`]), at most
    /// [`EventStream::max_blocks`] blocks and, with `limit`, at most that many events. Moves the
    /// cursor just past what it returned.
    pub async fn next_batch<H: History>(
        &mut self,
        chain: &mut H,
        limit: Option<usize>,
    ) -> Result<Batch, DeployerError> {
        let retracted = self.retract_orphans(chain).await?;
        if !retracted.is_empty() {
            return Ok(Batch { retracted, events: Vec::new(), caught_up: false });
        }
        let head = chain.head().await?;
        let Some(newest) = head.checked_sub(self.confirmations) else {
            return Ok(Batch { caught_up: true, ..Batch::default() });
        };
        if self.cursor.block > newest {
            return Ok(Batch { caught_up: true, ..Batch::default() });
        }
        let to = newest.min(self.cursor.block.saturating_add(self.max_blocks.max(1) - 1));
        let logs = chain.located_logs(&self.addresses(), self.cursor.block, to).await?;
        // The hashes of the blocks to keep, read after the logs: when a log's block hash differs, or
        // the blocks do not link up with those kept, the chain changed during this read; return
        // nothing, and the next read finds out how (a reorganisation is retracted there).
        // From the block below the first one read (kept too, with no events: a fork right below
        // what this read returns is then found, even by a stream that has read only a few blocks).
        let keep_from = self.cursor.block.max((to + 1).saturating_sub(self.keep_blocks.max(2)));
        let keep_from = keep_from.saturating_sub(1);
        let mut blocks = BTreeMap::new();
        let mut parent = keep_from.checked_sub(1).and_then(|n| self.kept.get(&n)).map(|k| k.hash);
        for number in keep_from..=to {
            let Some(block) = chain.block_ref(number).await? else { return Ok(Batch::default()) };
            let known = self.kept.get(&number).map(|k| k.hash);
            if parent.is_some_and(|p| p != block.parent_hash) || known.is_some_and(|h| h != block.hash) {
                return Ok(Batch::default());
            }
            parent = Some(block.hash);
            blocks.insert(number, block.hash);
        }
        if logs.iter().any(|l| blocks.get(&l.block).is_some_and(|h| *h != l.block_hash)) {
            return Ok(Batch::default());
        }
        let mut events = Vec::new();
        let mut read_to = to;
        let mut held_back = None;
        for l in logs {
            if !self.cursor.admits(l.block, l.log_index) {
                continue;
            }
            let Some(watched) = self.contracts.get(&l.log.address) else { continue };
            let Some(event) = EventKind::decode(&watched.artifact, &l.log) else { continue };
            if limit.is_some_and(|n| events.len() >= n) {
                // Held back: the next read starts with this event.
                held_back = Some(Cursor { block: l.block, log_index: l.log_index });
                read_to = l.block;
                break;
            }
            events.push(SuiteEvent {
                block: l.block,
                log_index: l.log_index,
                tx_hash: l.tx_hash,
                contract: watched.label.clone(),
                address: l.log.address,
                event,
            });
        }
        for (&number, &hash) in blocks.range(..=read_to) {
            self.kept.entry(number).or_insert_with(|| KeptBlock { number, hash, events: Vec::new() });
        }
        for event in &events {
            if let Some(kept) = self.kept.get_mut(&event.block) {
                kept.events.push(event.clone());
            }
        }
        let floor = (read_to + 1).saturating_sub(self.keep_blocks.max(2));
        self.kept = self.kept.split_off(&floor);
        match held_back {
            Some(cursor) => {
                self.cursor = cursor;
                Ok(Batch { events, ..Batch::default() })
            }
            None => {
                self.cursor = Cursor::at_block(to + 1);
                Ok(Batch { events, caught_up: to == newest, ..Batch::default() })
            }
        }
    }

    /// When the newest kept block has left the chain: finds the newest kept block still on it (the
    /// fork point), forgets the blocks after it, moves the cursor to the block after it and returns
    /// the events returned from the forgotten blocks, newest first. Empty when nothing changed.
    async fn retract_orphans<H: History>(&mut self, chain: &mut H) -> Result<Vec<Retraction>, DeployerError> {
        let Some((&newest, kept)) = self.kept.last_key_value() else { return Ok(Vec::new()) };
        if chain.block_ref(newest).await?.is_some_and(|b| b.hash == kept.hash) {
            return Ok(Vec::new());
        }
        let mut common = None;
        for (&number, kept) in self.kept.iter().rev().skip(1) {
            if chain.block_ref(number).await?.is_some_and(|b| b.hash == kept.hash) {
                common = Some(number);
                break;
            }
        }
        let Some(common) = common else {
            let oldest_kept = self.kept.first_key_value().map_or(newest, |(&n, _)| n);
            return Err(DeployerError::ReorgBeyondWindow { oldest_kept, kept: self.kept.len() });
        };
        let fork_block = common + 1;
        let orphaned = self.kept.split_off(&fork_block);
        let retracted: Vec<Retraction> = orphaned
            .values()
            .rev()
            .flat_map(|k| {
                k.events.iter().rev().map(|event| Retraction {
                    fork_block,
                    orphaned_hash: k.hash,
                    event: event.clone(),
                })
            })
            .collect();
        tracing::warn!(
            target: "kessai::events",
            fork_block,
            orphaned = orphaned.len(),
            retracted = retracted.len(),
            "the chain reorganised: events from orphaned blocks retracted, reading their replacements"
        );
        self.cursor = Cursor::at_block(fork_block);
        if retracted.is_empty() {
            // Nothing to undo; a read from the fork point follows at once.
            return Ok(Vec::new());
        }
        Ok(retracted)
    }

    /// Every event from the cursor up to the newest readable block (repeated batches), with the
    /// retractions applied: an event retracted during the read is left out. Fails when a
    /// reorganisation retracts an event returned before this call (follow such a chain with
    /// [`EventStream::next_batch`] and apply [`Batch::retracted`]).
    pub async fn read_to_head<H: History>(&mut self, chain: &mut H) -> Result<Vec<SuiteEvent>, DeployerError> {
        let mut all: Vec<SuiteEvent> = Vec::new();
        loop {
            let batch = self.next_batch(chain, None).await?;
            for gone in &batch.retracted {
                match all.iter().rposition(|e| *e == gone.event) {
                    Some(i) => {
                        all.remove(i);
                    }
                    None => {
                        return Err(DeployerError::Rpc(format!(
                            "the chain reorganised from block {}: an event returned before this read is gone ({})",
                            gone.fork_block, gone.event
                        )));
                    }
                }
            }
            all.extend(batch.events);
            if batch.caught_up {
                return Ok(all);
            }
        }
    }
}

/// One line of a holder register.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HolderRecord {
    /// The account.
    pub holder: Address,
    /// Units held (the balance, including held and frozen units).
    #[serde(with = "decimal")]
    pub units: U256,
    /// Units held for a settlement (DvP locks, transfer approvals).
    #[serde(with = "decimal")]
    pub held: U256,
    /// Units frozen by the authority.
    #[serde(with = "decimal")]
    pub frozen: U256,
    /// The whole account is frozen.
    pub account_frozen: bool,
    /// The registry finds the account eligible (active with valid KYC, or a facility).
    pub eligible: bool,
}

/// An instrument's holder register at a block: every account that ever held units.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HolderRegister {
    /// The security token.
    pub token: Address,
    /// Its investor registry at that block.
    pub registry: Address,
    /// The block the register is taken at.
    pub block: u64,
    /// That block's timestamp.
    pub timestamp: u64,
    /// Total units outstanding.
    #[serde(with = "decimal")]
    pub total_supply: U256,
    /// One line per account that received units up to the block, by address.
    pub holders: Vec<HolderRecord>,
}

impl HolderRegister {
    /// The CSV header of [`HolderRegister::to_csv`].
    pub const CSV_HEADER: &'static str = "holder,units,held,frozen,account_frozen,eligible";

    /// The register as CSV: a header line, then one line per holder.
    pub fn to_csv(&self) -> String {
        let mut out = String::from(Self::CSV_HEADER);
        out.push('\n');
        for h in &self.holders {
            out.push_str(&format!(
                "{},{},{},{},{},{}\n",
                h.holder, h.units, h.held, h.frozen, h.account_frozen, h.eligible
            ));
        }
        out
    }

    /// The holders with units at the block.
    pub fn current_holders(&self) -> impl Iterator<Item = &HolderRecord> {
        self.holders.iter().filter(|h| !h.units.is_zero())
    }
}

/// The holder register of the security token `token` at block `block`: every account that received
/// units in blocks `from_block..=block` (from the token's `Transfer` logs; `from_block` is the
/// token's deployment block), with its units, held and frozen units and eligibility read at that
/// block. Needs a node that keeps the state of `block`. A block before `from_block` is refused
/// ([`DeployerError::BeforeDeployment`]): the token did not exist, and an empty register would say
/// that nobody held it.
pub async fn holder_register<H: History>(
    chain: &mut H,
    token: Address,
    from_block: u64,
    block: u64,
) -> Result<HolderRegister, DeployerError> {
    let head = chain.head().await?;
    if block > head {
        return Err(DeployerError::Rpc(format!("block {block} is not mined yet (the chain is at block {head})")));
    }
    if block < from_block {
        return Err(DeployerError::BeforeDeployment { block, first_block: from_block });
    }
    let mut accounts = std::collections::BTreeSet::new();
    for l in chain.located_logs(&[token], from_block, block).await? {
        if l.log.topics().first() == Some(&St::Transfer::SIGNATURE_HASH)
            && let Ok(t) = St::Transfer::decode_log_data(&l.log.data)
            && t.to != Address::ZERO
        {
            accounts.insert(t.to);
        }
    }
    let registry = chain.read_at(block, token, &St::registryCall {}).await?;
    let mut holders = Vec::with_capacity(accounts.len());
    for holder in accounts {
        holders.push(HolderRecord {
            holder,
            units: chain.read_at(block, token, &St::balanceOfCall { account: holder }).await?,
            held: chain.read_at(block, token, &St::heldBalanceOfCall { account: holder }).await?,
            frozen: chain.read_at(block, token, &St::frozenBalanceOfCall { account: holder }).await?,
            account_frozen: chain.read_at(block, token, &St::isFrozenCall { account: holder }).await?,
            eligible: chain.read_at(block, registry, &Reg::isEligibleCall { account: holder }).await?,
        });
    }
    Ok(HolderRegister {
        token,
        registry,
        block,
        timestamp: chain.timestamp_at(block).await?,
        total_supply: chain.read_at(block, token, &St::totalSupplyCall {}).await?,
        holders,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy::primitives::{LogData, address};

    fn log(address: Address, topics: Vec<B256>, data: Vec<u8>) -> Log {
        Log { address, data: LogData::new_unchecked(topics, data.into()) }
    }

    #[test]
    fn transfers_from_and_to_zero_are_issues_and_redemptions() {
        let token = address!("0x00000000000000000000000000000000000000aa");
        let a = address!("0x00000000000000000000000000000000000000a1");
        let amount = U256::from(7).to_be_bytes_vec();
        let topics = |from: Address, to: Address| vec![St::Transfer::SIGNATURE_HASH, from.into_word(), to.into_word()];
        let issue = log(token, topics(Address::ZERO, a), amount.clone());
        let redeem = log(token, topics(a, Address::ZERO), amount.clone());
        let moved = log(token, topics(a, token), amount);
        assert_eq!(
            EventKind::decode("SecurityToken", &issue),
            Some(EventKind::Issued { to: a, amount: U256::from(7) })
        );
        assert_eq!(
            EventKind::decode("SecurityToken", &redeem),
            Some(EventKind::Redeemed { from: a, amount: U256::from(7) })
        );
        assert_eq!(
            EventKind::decode("SecurityToken", &moved),
            Some(EventKind::Transfer { from: a, to: token, amount: U256::from(7) })
        );
        assert_eq!(EventKind::decode("TransferApprovals", &moved), None, "not a reported contract");
    }

    #[test]
    fn a_deposit_tokens_mint_and_burn_are_reported_only_by_their_richer_events() {
        let token = address!("0x00000000000000000000000000000000000000bb");
        let a = address!("0x00000000000000000000000000000000000000a1");
        let amount = U256::from(9).to_be_bytes_vec();
        let topics = |from: Address, to: Address| vec![St::Transfer::SIGNATURE_HASH, from.into_word(), to.into_word()];
        assert_eq!(EventKind::decode("DepositToken", &log(token, topics(Address::ZERO, a), amount.clone())), None);
        assert_eq!(EventKind::decode("DepositToken", &log(token, topics(a, Address::ZERO), amount.clone())), None);
        assert_eq!(
            EventKind::decode("DepositToken", &log(token, topics(a, token), amount)),
            Some(EventKind::Transfer { from: a, to: token, amount: U256::from(9) }),
            "a deposit transfer between accounts is still reported"
        );
    }

    #[test]
    fn stream_lines_say_their_kind_and_a_retraction_is_not_an_event() {
        let event = SuiteEvent {
            block: 7,
            log_index: 1,
            tx_hash: B256::repeat_byte(4),
            contract: "deposit".into(),
            address: Address::repeat_byte(5),
            event: EventKind::Transfer {
                from: Address::repeat_byte(6),
                to: Address::repeat_byte(7),
                amount: U256::from(3),
            },
        };
        let line = serde_json::to_string(&StreamLine::Event(event.clone())).expect("serialize");
        assert!(line.starts_with(r#"{"kind":"event","block":7"#), "{line}");
        assert_eq!(serde_json::from_str::<SuiteEvent>(&line).expect("an event line is an event"), event);
        assert_eq!(serde_json::from_str::<StreamLine>(&line).expect("parse"), StreamLine::Event(event.clone()));
        let gone = StreamLine::Retracted(Retraction { fork_block: 6, orphaned_hash: B256::repeat_byte(8), event });
        let line = serde_json::to_string(&gone).expect("serialize");
        assert!(line.starts_with(r#"{"kind":"retracted","fork_block":6"#), "{line}");
        assert_eq!(serde_json::from_str::<StreamLine>(&line).expect("parse"), gone);
        assert!(serde_json::from_str::<SuiteEvent>(&line).is_err(), "a retraction never parses as an event");
    }

    /// A chain in memory: per block its hash, its parent's hash and its logs; fork with `replace`.
    struct Forkable {
        blocks: Vec<(B256, B256, Vec<Log>)>,
        fork: u8,
    }

    impl Forkable {
        const TOKEN: Address = Address::repeat_byte(0xaa);

        /// Genesis only.
        fn new() -> Self {
            Self { blocks: vec![(B256::repeat_byte(1), B256::ZERO, Vec::new())], fork: 0 }
        }

        /// Mines a block with an issue of each of `amounts` (one log each).
        fn mine(&mut self, amounts: &[u64]) {
            let parent = self.blocks.last().map_or(B256::ZERO, |b| b.0);
            let mut seed = parent.0;
            seed[0] ^= 0x5a;
            seed[1] = self.fork;
            let hash = alloy::primitives::keccak256(seed);
            let topics =
                vec![St::Transfer::SIGNATURE_HASH, Address::ZERO.into_word(), Address::repeat_byte(1).into_word()];
            let logs =
                amounts.iter().map(|a| log(Self::TOKEN, topics.clone(), U256::from(*a).to_be_bytes_vec())).collect();
            self.blocks.push((hash, parent, logs));
        }

        /// Drops the last `depth` blocks and mines replacements with these issues.
        fn replace(&mut self, depth: usize, blocks: &[&[u64]]) {
            self.blocks.truncate(self.blocks.len() - depth);
            self.fork += 1;
            for amounts in blocks {
                self.mine(amounts);
            }
        }

        /// The sum of the issues on the chain now.
        fn issued(&self) -> u64 {
            self.blocks.iter().flat_map(|b| &b.2).map(|l| U256::from_be_slice(&l.data.data).to::<u64>()).sum()
        }

        fn deployment() -> Deployment {
            let token = crate::plan::DeployedContract {
                artifact: "SecurityToken".into(),
                address: Self::TOKEN,
                tx_hash: B256::ZERO,
                block: 0,
                gas_used: 0,
                code_hash: B256::ZERO,
            };
            Deployment { contracts: [("security".to_string(), token)].into(), ..Deployment::default() }
        }
    }

    impl History for Forkable {
        async fn head(&mut self) -> Result<u64, DeployerError> {
            Ok(self.blocks.len() as u64 - 1)
        }

        async fn located_logs(&mut self, _: &[Address], from: u64, to: u64) -> Result<Vec<LocatedLog>, DeployerError> {
            let mut out = Vec::new();
            for (number, (hash, _, logs)) in self.blocks.iter().enumerate() {
                let number = number as u64;
                if (from..=to).contains(&number) {
                    for (i, l) in logs.iter().enumerate() {
                        let (block_hash, tx_hash, log_index) = (*hash, B256::ZERO, i as u64);
                        out.push(LocatedLog { block: number, log_index, tx_hash, block_hash, log: l.clone() });
                    }
                }
            }
            Ok(out)
        }

        async fn call_at(&mut self, _: u64, _: Address, _: Bytes) -> Result<Bytes, DeployerError> {
            Err(DeployerError::Rpc("no state here".into()))
        }

        async fn timestamp_at(&mut self, _: u64) -> Result<u64, DeployerError> {
            Err(DeployerError::Rpc("no time here".into()))
        }

        async fn block_ref(&mut self, block: u64) -> Result<Option<BlockRef>, DeployerError> {
            let found = self.blocks.get(usize::try_from(block).expect("small"));
            Ok(found.map(|(hash, parent_hash, _)| BlockRef { number: block, hash: *hash, parent_hash: *parent_hash }))
        }
    }

    /// Applies a batch to a running total of issues: events add, retractions subtract.
    fn book(total: &mut i64, batch: &Batch) {
        let amount = |e: &SuiteEvent| match e.event {
            EventKind::Issued { amount, .. } => amount.to::<i64>(),
            _ => 0,
        };
        *total -= batch.retracted.iter().map(|r| amount(&r.event)).sum::<i64>();
        *total += batch.events.iter().map(amount).sum::<i64>();
    }

    #[tokio::test]
    async fn a_reorg_is_retracted_newest_first_and_its_replacements_read_also_across_a_restart_inside_a_block() {
        let mut chain = Forkable::new();
        for amounts in [&[1u64][..], &[], &[2, 4], &[8], &[16, 32]] {
            chain.mine(amounts);
        }
        let mut stream = EventStream::new(&Forkable::deployment(), Cursor::at_block(0));
        let mut total = 0;
        // Stop inside block 5 (after its first issue), then restart from the saved checkpoint.
        let first = stream.next_batch(&mut chain, Some(5)).await.expect("read");
        book(&mut total, &first);
        assert_eq!((total, stream.cursor()), (31, Cursor { block: 5, log_index: 1 }));
        let saved = serde_json::to_string(&stream.checkpoint()).expect("json");
        let saved: Checkpoint = serde_json::from_str(&saved).expect("parse");
        let mut stream = EventStream::resume(&Forkable::deployment(), saved);
        // The last three blocks (3: 2 and 4, 4: 8, 5: 16 and 32) are replaced by 64, nothing, 128.
        chain.replace(3, &[&[64], &[], &[128]]);
        let batch = stream.next_batch(&mut chain, None).await.expect("reorg");
        let gone: Vec<(u64, u64)> = batch.retracted.iter().map(|r| (r.event.block, r.event.log_index)).collect();
        assert_eq!(gone, [(5, 0), (4, 0), (3, 1), (3, 0)], "newest first; block 5's unread issue is not retracted");
        assert!(batch.retracted.iter().all(|r| r.fork_block == 3) && batch.events.is_empty() && !batch.caught_up);
        book(&mut total, &batch);
        loop {
            let batch = stream.next_batch(&mut chain, None).await.expect("replacements");
            assert!(batch.retracted.is_empty(), "nothing retracted twice");
            book(&mut total, &batch);
            if batch.caught_up {
                break;
            }
        }
        assert_eq!(total, i64::try_from(chain.issued()).expect("small"), "the books equal the chain");
        assert_eq!(stream.cursor(), Cursor::at_block(6));
    }

    #[tokio::test]
    async fn a_reorg_below_the_kept_blocks_stops_the_stream_naming_the_oldest() {
        let mut chain = Forkable::new();
        for _ in 0..6 {
            chain.mine(&[1]);
        }
        let mut stream = EventStream::new(&Forkable::deployment(), Cursor::at_block(0));
        stream.keep_blocks = 3;
        assert_eq!(stream.read_to_head(&mut chain).await.expect("read").len(), 6);
        assert_eq!(stream.checkpoint().kept.iter().map(|k| k.number).collect::<Vec<_>>(), [4, 5, 6]);
        chain.replace(4, &[&[2], &[2], &[2], &[2]]);
        let error = stream.next_batch(&mut chain, None).await.expect_err("too deep");
        assert!(matches!(error, DeployerError::ReorgBeyondWindow { oldest_kept: 4, kept: 3 }), "{error}");
        assert_eq!(stream.cursor(), Cursor::at_block(7), "the stream did not move");
    }

    #[tokio::test]
    async fn a_stream_that_read_one_block_retracts_it_when_it_is_replaced() {
        let mut chain = Forkable::new();
        for amounts in [&[1u64][..], &[2]] {
            chain.mine(amounts);
        }
        let mut stream = EventStream::new(&Forkable::deployment(), Cursor::at_block(2));
        assert_eq!(stream.read_to_head(&mut chain).await.expect("read").len(), 1);
        chain.replace(1, &[&[4]]);
        let batch = stream.next_batch(&mut chain, None).await.expect("reorg");
        assert_eq!(batch.retracted.len(), 1, "{batch:?}");
        assert_eq!(batch.retracted[0].fork_block, 2);
        let replaced = stream.read_to_head(&mut chain).await.expect("replacement");
        assert!(
            matches!(replaced[..], [SuiteEvent { block: 2, event: EventKind::Issued { amount, .. }, .. }] if amount == U256::from(4))
        );
    }

    #[test]
    fn a_cursor_file_of_earlier_versions_loads_as_a_checkpoint_without_kept_blocks() {
        let dir = std::env::temp_dir().join(format!("kessai-checkpoint-{}", std::process::id()));
        let path = dir.join("c.json");
        let cursor = Cursor { block: 9, log_index: 4 };
        cursor.save(&path).expect("save");
        assert_eq!(Checkpoint::load(&path).expect("load"), Some(Checkpoint::at(cursor)));
        let kept = KeptBlock { number: 8, hash: B256::repeat_byte(9), events: Vec::new() };
        let checkpoint = Checkpoint { cursor, kept: vec![kept] };
        checkpoint.save(&path).expect("save");
        assert_eq!(Checkpoint::load(&path).expect("load"), Some(checkpoint));
        assert_eq!(Cursor::load(&path).expect("a checkpoint still reads as a cursor"), Some(cursor));
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn events_round_trip_through_json_lines_with_decimal_amounts() {
        let event = SuiteEvent {
            block: 12,
            log_index: 3,
            tx_hash: B256::repeat_byte(1),
            contract: "security".into(),
            address: Address::repeat_byte(2),
            event: EventKind::Issued { to: Address::repeat_byte(3), amount: U256::from(10).pow(U256::from(30)) },
        };
        let line = serde_json::to_string(&event).expect("serialize");
        assert!(line.contains(r#""event":"issued""#), "{line}");
        assert!(line.contains(r#""amount":"1000000000000000000000000000000""#), "{line}");
        assert_eq!(serde_json::from_str::<SuiteEvent>(&line).expect("parse"), event);
    }

    #[test]
    fn a_cursor_admits_its_own_position_and_later_ones_only() {
        let c = Cursor { block: 5, log_index: 2 };
        assert!(c.admits(5, 2) && c.admits(5, 3) && c.admits(6, 0));
        assert!(!c.admits(5, 1) && !c.admits(4, 9));
        let dir = std::env::temp_dir().join(format!("kessai-cursor-{}", std::process::id()));
        let path = dir.join("c.json");
        assert_eq!(Cursor::load(&path).expect("missing is fine"), None);
        c.save(&path).expect("save");
        assert_eq!(Cursor::load(&path).expect("load"), Some(c));
        let _ = std::fs::remove_dir_all(dir);
    }
}
