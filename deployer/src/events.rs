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
    sol_types::{SolCall, SolEvent, SolEventInterface},
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
        load_json(path)
    }

    /// Saves the cursor as JSON, atomically: a reader (or a restart) sees the old cursor or the new
    /// one, never a torn file.
    pub fn save(&self, path: &Path) -> Result<(), DeployerError> {
        save_json(path, self)
    }
}

/// Reads the JSON value [`save_json`] wrote to `path`; `None` when the file does not exist.
fn load_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<Option<T>, DeployerError> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Some(serde_json::from_str(&text)?)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e.into()),
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
        C::abi_decode_returns(&out).map_err(|source| DeployerError::Decode { what: C::SIGNATURE.into(), source })
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

mod kind;
mod register;
mod stream;
#[cfg(test)]
mod tests;

pub use kind::*;
pub use register::*;
pub use stream::*;
