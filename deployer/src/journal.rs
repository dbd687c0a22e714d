//! The write-ahead journal that makes a deployment on a JSON-RPC chain resumable.
//!
//! The journal is a JSON-lines file next to the manifest (`<manifest>.journal`). Once a step's
//! transaction is signed and before it is sent, a `sending` entry records the step (its full
//! description, sender, nonce, the signed transaction's hash and, for deployments, the predicted
//! CREATE2 address); a replacement with a higher fee is recorded the same way, with its own hash.
//! Once it is mined, a `confirmed` entry records the transaction hash, block and gas. Each entry is
//! flushed to disk (fsync) before the deployer moves on. Journals written before hashes were recorded
//! (no `tx_hash` in `sending`) are read as they are.
//!
//! Steps go out in waves ([`Plan::waves`]): the independent steps of a wave are signed, journaled
//! and sent one after the other without waiting for each to be mined (a sender's in nonce order), so
//! the node can include them in one block; the next wave starts once every step of this one is
//! confirmed.
//!
//! Running the same deployment again reads the journal and, before sending anything, reconciles it
//! with the chain ([`deploy`]):
//!
//! - a confirmed step is recognised on-chain and not sent again: a deployment by code at its
//!   predicted address (checked against the artifact by [`crate::plan::execute_with`]), a role grant
//!   by `hasRole`, a facility by the registry's record, another call by its transaction's receipt;
//! - a confirmed step the chain no longer has (a node restarted from a state saved before it, or
//!   one that lost blocks: no effect, no receipt, and its block gone or holding other transactions)
//!   is journaled as `lost`, named in the outcome ([`Outcome::redone`]) and sent again — its effect
//!   was read first, so only what is absent is sent;
//! - a step sent but not confirmed is found by the receipts of the hashes recorded for it (the
//!   original and each replacement), then by its sender and nonce — a transaction identity that
//!   survives the engine's fee-bumping replacements, whose hashes differ: if the nonce was used, the
//!   transaction is looked up in the blocks since the step was sent; if it is still pending, the
//!   deployer waits for it; if the node never got it, the step is sent again;
//! - a step the engine refused before sending it (its transaction would revert, or no key) is
//!   journaled as `refused`: nothing of it is on-chain, so the config may still change it;
//! - a plan that differs from the journal in a step already sent is refused with a step-by-step diff
//!   before anything is sent ([`DeployerError::PlanChanged`]); steps appended to the plan (a new bank)
//!   are a compatible change and are executed.
//!
//! Nothing is deployed twice: a contract's address is fixed by its salt and code, and a deployment is
//! never sent while the chain or the journal shows it was.
//!
//! The deterministic deployment proxy every deployment goes through is found on the chain or installed
//! with its presigned transaction ([`ensure_deterministic_deployer`]); the transfer that funds its
//! signer is journaled (`funding`, with its hash) before it is sent, and a rerun waits for a recorded
//! funding the node holds instead of funding again.

use crate::{
    chain::{Chain, Receipt},
    error::DeployerError,
    plan::{
        self, DETERMINISTIC_DEPLOYER, DETERMINISTIC_DEPLOYER_COST, DETERMINISTIC_DEPLOYER_SIGNER,
        DETERMINISTIC_DEPLOYER_TX, DETERMINISTIC_DEPLOYER_TX_HASH, Deployment, Effect, Plan, PreparedStep, Step,
        StepRunner,
    },
    rpc::{RpcChain, Signed},
};
use alloy::{
    consensus::Transaction as _,
    eips::BlockNumberOrTag,
    primitives::{Address, B256, U256},
    providers::Provider,
    rpc::types::TransactionReceipt,
};
use serde::{Deserialize, Serialize};
use std::{
    collections::BTreeMap,
    fs::{File, OpenOptions},
    io::Write,
    path::{Path, PathBuf},
    time::Duration,
};

/// One line of the journal.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Entry {
    /// A run of the deployer began.
    Run {
        /// Unix time.
        time: u64,
        /// The chain's id.
        chain_id: u64,
        /// The hash of the chain's genesis block (tells a reset dev chain from the one journaled).
        genesis: B256,
        /// The plan's salt.
        salt: String,
        /// keccak256 of the config file, when the plan came from one.
        config_hash: Option<B256>,
        /// kessai's version.
        kessai: String,
        /// Steps in the plan.
        steps: usize,
    },
    /// The deterministic deployment proxy was found or installed.
    Deployer {
        /// How it got there.
        status: DeployerStatus,
    },
    /// The transfer that funds the deterministic deployment proxy's signer is about to be sent.
    Funding {
        /// The funding account.
        from: Address,
        /// Its nonce for the transfer.
        nonce: u64,
        /// The signed transfer's hash.
        tx_hash: B256,
    },
    /// A step's transaction is about to be sent.
    Sending {
        /// Position in the plan.
        step: usize,
        /// What the step does.
        description: String,
        /// The step itself (compared with the plan on resume).
        spec: Step,
        /// Sender.
        from: Address,
        /// The sender's nonce for it.
        nonce: u64,
        /// The CREATE2 address of a deployment.
        predicted: Option<Address>,
        /// The latest block when it was sent (where a lookup by nonce starts).
        block: u64,
        /// The signed transaction's hash (absent in journals written before hashes were recorded).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        tx_hash: Option<B256>,
    },
    /// A step's transaction was mined and succeeded.
    Confirmed {
        /// Position in the plan.
        step: usize,
        /// The transaction.
        tx_hash: B256,
        /// Its block.
        block: u64,
        /// Gas used.
        gas_used: u64,
    },
    /// A step the journal records as confirmed is not on the chain any more (the node restarted
    /// from a state saved before it, or lost blocks): it is done again.
    Lost {
        /// Position in the plan.
        step: usize,
        /// The confirmed transaction the chain no longer has.
        tx_hash: B256,
        /// What the chain shows.
        reason: String,
    },
    /// A step's transaction was refused before it was sent (it would revert, or no key): nothing of
    /// it is on the chain, so the step may change before the next run.
    Refused {
        /// Position in the plan.
        step: usize,
        /// Why.
        error: String,
    },
    /// Every step of the plan is done.
    Complete {
        /// Unix time.
        time: u64,
        /// Steps sent in this run.
        sent: usize,
        /// Steps found done in earlier runs.
        resumed: usize,
    },
}

/// How the deterministic deployment proxy came to be on the chain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "how", rename_all = "snake_case")]
pub enum DeployerStatus {
    /// It was there already (Anvil has it at genesis; most public chains have it).
    Found,
    /// This deployer installed it with its presigned transaction.
    Installed {
        /// The funding transfer to the proxy's signer, if one was needed.
        funding: Option<B256>,
        /// The proxy's deployment transaction.
        tx_hash: B256,
    },
}

/// What the journal holds about one step.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct StepRecord {
    /// The latest `sending` entry: (spec, sender, nonce, predicted, block).
    sending: Option<Entry>,
    /// The `confirmed` entry.
    confirmed: Option<Entry>,
    /// Every hash signed for the step since it was last refused (the original and replacements).
    hashes: Vec<B256>,
}

/// An open journal: its entries so far and the file new ones are appended to.
#[derive(Debug)]
pub struct Journal {
    path: PathBuf,
    file: File,
    entries: Vec<Entry>,
}

/// The wall clock, on purpose: a journal entry records when an operator's run acted on a real chain
/// (an audit trail), not a chain's time. Nothing is decided from it.
fn now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or_default()
}

impl Journal {
    /// The journal that belongs to the manifest at `manifest`: `<manifest>.journal`.
    pub fn path_for(manifest: &Path) -> PathBuf {
        let mut name = manifest.as_os_str().to_owned();
        name.push(".journal");
        PathBuf::from(name)
    }

    /// Opens (or creates) the journal at `path` and reads its entries. A last line cut short by a
    /// crash is dropped (it never reached the chain: entries are written before sending).
    pub fn open(path: &Path) -> Result<Self, DeployerError> {
        let error = |message: String| DeployerError::Journal { path: path.to_path_buf(), message };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        let existed = path.exists();
        let file = OpenOptions::new().create(true).read(true).append(true).open(path)?;
        if !existed {
            // Make the new file's directory entry durable too.
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                File::open(dir).and_then(|d| d.sync_all()).ok();
            }
        }
        let text = std::fs::read_to_string(path)?;
        let mut entries = Vec::new();
        let mut valid = 0;
        for (i, line) in text.split_inclusive('\n').enumerate() {
            match (serde_json::from_str::<Entry>(line.trim_end()), line.ends_with('\n')) {
                (Ok(entry), true) => {
                    entries.push(entry);
                    valid += line.len();
                }
                // Only the last line can lack its newline: a write cut short, before anything it
                // announced was sent.
                (_, false) => {
                    tracing::warn!(target: "kessai::deploy", path = %path.display(), "dropping a torn last journal line");
                }
                (Err(e), true) => return Err(error(format!("line {} is not a journal entry: {e}", i + 1))),
            }
        }
        if valid < text.len() {
            file.set_len(valid as u64)?;
            file.sync_all()?;
        }
        Ok(Self { path: path.to_path_buf(), file, entries })
    }

    /// The journal's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The entries, oldest first.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// Appends `entry` and flushes it to disk before returning.
    pub fn append(&mut self, entry: Entry) -> Result<(), DeployerError> {
        let line = serde_json::to_string(&entry)? + "\n";
        self.file.write_all(line.as_bytes())?;
        self.file.sync_data()?;
        self.entries.push(entry);
        Ok(())
    }

    fn error(&self, message: String) -> DeployerError {
        DeployerError::Journal { path: self.path.clone(), message }
    }

    /// What the journal holds about each step, by index.
    fn records(&self) -> BTreeMap<usize, StepRecord> {
        let mut records: BTreeMap<usize, StepRecord> = BTreeMap::new();
        for entry in &self.entries {
            match entry {
                Entry::Sending { step, tx_hash, .. } => {
                    let record = records.entry(*step).or_default();
                    record.sending = Some(entry.clone());
                    record.hashes.extend(*tx_hash);
                }
                Entry::Confirmed { step, .. } => records.entry(*step).or_default().confirmed = Some(entry.clone()),
                Entry::Refused { step, .. } => {
                    let record = records.entry(*step).or_default();
                    record.sending = None;
                    record.hashes.clear();
                }
                // Done again from the start: nothing of the lost transaction is on the chain.
                Entry::Lost { step, .. } => {
                    records.insert(*step, StepRecord::default());
                }
                _ => {}
            }
        }
        records
    }

    /// Refuses a journal written on another chain (another chain id, or a dev chain restarted since).
    pub fn check_chain(&self, chain_id: u64, genesis: B256) -> Result<(), DeployerError> {
        let last = self.entries.iter().rev().find_map(|e| match e {
            Entry::Run { chain_id, genesis, .. } => Some((*chain_id, *genesis)),
            _ => None,
        });
        match last {
            Some((id, _)) if id != chain_id => Err(self.error(format!(
                "it records a deployment on chain {id}, but the node is chain {chain_id}; use another --out for \
                 this chain"
            ))),
            Some((_, g)) if g != genesis => Err(self.error(format!(
                "it records a deployment on a chain whose genesis block is {g}, but this node's is {genesis} (a \
                 restarted dev chain?); move the journal and manifest away to deploy afresh"
            ))),
            _ => Ok(()),
        }
    }

    /// Compares the steps the journal records as sent with the plan's, step by step. Steps appended
    /// to the plan are fine; any difference in a recorded step is [`DeployerError::PlanChanged`].
    pub fn check_plan(&self, prepared: &[PreparedStep<'_>]) -> Result<(), DeployerError> {
        const SHOWN: usize = 10;
        let mut diffs = Vec::new();
        for (index, record) in self.records() {
            let Some(Entry::Sending { spec, predicted, description, .. }) = &record.sending else { continue };
            let state = if record.confirmed.is_some() { "confirmed" } else { "sent" };
            let recorded = render(spec, *predicted);
            match prepared.get(index) {
                Some(now) if now.step == spec && now.predicted() == *predicted => {}
                Some(now) => diffs.push(format!(
                    "  step {index} ({description}, {state}):\n    journal: {recorded}\n    now:     {}",
                    render(now.step, now.predicted())
                )),
                None => diffs.push(format!(
                    "  step {index} ({description}, {state}):\n    journal: {recorded}\n    now:     (no such step: \
                     the plan has {} steps)",
                    prepared.len()
                )),
            }
        }
        if diffs.is_empty() {
            return Ok(());
        }
        let more = diffs.len().saturating_sub(SHOWN);
        diffs.truncate(SHOWN);
        if more > 0 {
            diffs.push(format!("  ... and {more} more step(s)"));
        }
        Err(DeployerError::PlanChanged { path: self.path.clone(), diff: diffs.join("\n") })
    }
}

/// A step on one line, with the address a deployment gets.
fn render(step: &Step, predicted: Option<Address>) -> String {
    match predicted {
        Some(a) => format!("{} at {a}", step.detail()),
        None => step.detail(),
    }
}

/// How [`deploy`] went.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// What is deployed (every step of the plan, whichever run sent it).
    pub deployment: Deployment,
    /// Transactions this run sent for plan steps.
    pub sent: usize,
    /// Steps found done by an earlier run.
    pub resumed: usize,
    /// How the deterministic deployment proxy got there.
    pub deployer: DeployerStatus,
    /// Steps recorded as confirmed that the chain no longer had, each said in a sentence: done again
    /// (and counted in `sent`) unless their effect was on the chain.
    pub redone: Vec<String>,
}

/// Settings of a journaled deployment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JournalOptions {
    /// The journal file.
    pub path: PathBuf,
    /// keccak256 of the config file the plan came from, recorded in the journal.
    pub config_hash: Option<B256>,
    /// Start a new journal, discarding an existing one (for a chain known to be new).
    pub fresh: bool,
}

mod deploy;
#[cfg(test)]
mod tests;

pub use deploy::*;
