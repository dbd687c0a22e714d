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
//! Both read a chain through the engine trait [`Chain`] (logs with their positions, block hashes,
//! state at a block), so they work on any node and on the in-process engine alike; the in-process
//! engine keeps only its latest state, so a holder register there can be taken at its latest block
//! only.

use crate::{
    chain::{Chain, LocatedLog},
    error::DeployerError,
    plan::Deployment,
};
use alloy::{
    primitives::{Address, B256, Log, U256},
    sol_types::{SolEvent, SolEventInterface},
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

/// Amounts as decimal strings in JSON (exact, and what back-office systems parse; no hex), for
/// these events and the simulator's reports alike: `#[serde(with = "decimal")]`.
///
/// ```
/// use alloy::primitives::U256;
///
/// #[derive(serde::Serialize, serde::Deserialize)]
/// struct Paid(#[serde(with = "kessai_deployer::events::decimal")] U256);
///
/// let big = U256::from(10).pow(U256::from(30));
/// let json = serde_json::to_string(&Paid(big)).expect("serializes");
/// assert_eq!(json, format!("\"1{}\"", "0".repeat(30)));
/// assert_eq!(serde_json::from_str::<Paid>(&json).expect("reads its own output").0, big);
/// assert!(serde_json::from_str::<Paid>("\"0x10\"").is_err(), "decimal only");
/// ```
pub mod decimal {
    use alloy::primitives::U256;
    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    /// Writes `value` as a string of decimal digits.
    pub fn serialize<S: Serializer>(value: &U256, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(value)
    }

    /// Reads a string of decimal digits.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<U256, D::Error> {
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
