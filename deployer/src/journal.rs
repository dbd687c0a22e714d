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

/// Executes `plan` on `chain` with the write-ahead journal at `options.path`, resuming what an
/// earlier run left unfinished. Refuses, before sending anything, a journal from another chain and a
/// plan that changed in steps already sent.
pub async fn deploy(chain: &mut RpcChain, plan: &Plan, options: &JournalOptions) -> Result<Outcome, DeployerError> {
    if options.fresh && options.path.exists() {
        std::fs::remove_file(&options.path)?;
    }
    let mut journal = Journal::open(&options.path)?;
    let chain_id = chain.chain_id().await?;
    let genesis = genesis_hash(chain).await?;
    journal.check_chain(chain_id, genesis)?;
    let prepared = plan.prepare_all()?;
    journal.check_plan(&prepared)?;
    journal.append(Entry::Run {
        time: now(),
        chain_id,
        genesis,
        salt: plan.salt.clone(),
        config_hash: options.config_hash,
        kessai: env!("CARGO_PKG_VERSION").into(),
        steps: plan.steps.len(),
    })?;
    let funder = plan.steps.first().map(Step::sender).unwrap_or_default();
    let funded: Vec<B256> = journal
        .entries()
        .iter()
        .filter_map(|e| match e {
            Entry::Funding { tx_hash, .. } => Some(*tx_hash),
            _ => None,
        })
        .collect();
    let deployer = install_deterministic_deployer(chain, funder, &funded, |signed| {
        journal.append(Entry::Funding { from: signed.from, nonce: signed.nonce, tx_hash: signed.hash })
    })
    .await?;
    journal.append(Entry::Deployer { status: deployer.clone() })?;
    let records = journal.records();
    let mut runner = Journaled { journal, records, done: BTreeMap::new(), sent: 0, resumed: 0, redone: Vec::new() };
    runner.reconcile(chain, &prepared).await?;
    let deployment = plan::execute_with(chain, plan, &mut runner).await?;
    let (sent, resumed) = (runner.sent, runner.resumed);
    runner.journal.append(Entry::Complete { time: now(), sent, resumed })?;
    Ok(Outcome { deployment, sent, resumed, deployer, redone: runner.redone })
}

/// The step runner that writes ahead, resumes, and sends each wave of independent steps together.
struct Journaled {
    journal: Journal,
    records: BTreeMap<usize, StepRecord>,
    /// Steps found done on the chain before this run sent anything, with their receipts.
    done: BTreeMap<usize, Receipt>,
    sent: usize,
    resumed: usize,
    redone: Vec<String>,
}

impl StepRunner<RpcChain> for Journaled {
    fn waves(&self, plan: &Plan) -> Vec<Vec<usize>> {
        plan.waves()
    }

    async fn run(&mut self, chain: &mut RpcChain, steps: &[&PreparedStep<'_>]) -> Result<Vec<Receipt>, DeployerError> {
        let mut receipts: Vec<Option<Receipt>> = steps.iter().map(|s| self.done.remove(&s.index)).collect();
        let unsent: Vec<&PreparedStep<'_>> =
            steps.iter().zip(&receipts).filter(|(_, r)| r.is_none()).map(|(s, _)| *s).collect();
        if !unsent.is_empty() {
            let block = chain.block_number().await?;
            let txs: Vec<_> = unsent.iter().map(|s| s.tx.clone()).collect();
            let journal = &mut self.journal;
            // Written once each transaction is signed (its nonce and hash known) and before it leaves.
            let write_ahead = |i: usize, signed: &Signed| {
                let step = unsent[i];
                tracing::info!(target: "kessai::deploy", step = step.index, from = %signed.from, nonce = signed.nonce, hash = %signed.hash, replaces = ?signed.replaces, what = %step.step.describe(), "sending");
                journal.append(Entry::Sending {
                    step: step.index,
                    description: step.step.describe(),
                    spec: step.step.clone(),
                    from: signed.from,
                    nonce: signed.nonce,
                    predicted: step.predicted(),
                    block,
                    tx_hash: Some(signed.hash),
                })
            };
            let results = chain.send_batch(&txs, write_ahead).await;
            let mut failure = None;
            let mut landed = BTreeMap::new();
            for (step, result) in unsent.iter().zip(results) {
                match result {
                    Some(Ok(receipt)) => {
                        self.confirm(step.index, &receipt)?;
                        self.sent += 1;
                        landed.insert(step.index, receipt);
                    }
                    // Refused before signing: the engine estimates first and never sends what would
                    // revert.
                    Some(Err(e @ (DeployerError::Revert(_) | DeployerError::NoKey(_)))) => {
                        self.journal.append(Entry::Refused { step: step.index, error: e.to_string() })?;
                        failure.get_or_insert(e);
                    }
                    Some(Err(e)) => {
                        failure.get_or_insert(e);
                    }
                    None => {}
                }
            }
            if let Some(e) = failure {
                return Err(e);
            }
            for (step, receipt) in steps.iter().zip(receipts.iter_mut()) {
                if receipt.is_none() {
                    *receipt = landed.remove(&step.index);
                }
            }
        }
        receipts
            .into_iter()
            .zip(steps)
            .map(|(r, s)| r.ok_or_else(|| self.journal.error(format!("step {} got no receipt", s.index))))
            .collect()
    }
}

impl Journaled {
    /// Finds, before anything is sent, which steps of the journal are done on this chain: a step
    /// recorded as confirmed is recognised by its effect or its receipt — or, when the chain no longer
    /// has it, journaled as lost and left to be sent again; a step sent but not confirmed is tracked
    /// to its receipt (or left to be sent again when the node never got it). A deployment the journal
    /// never sent whose address holds code is refused.
    async fn reconcile(&mut self, chain: &mut RpcChain, prepared: &[PreparedStep<'_>]) -> Result<(), DeployerError> {
        for step in prepared {
            let record = self.records.get(&step.index).cloned().unwrap_or_default();
            if let Some(Entry::Confirmed { tx_hash, block, gas_used, .. }) = record.confirmed {
                match self.recognise(chain, step, tx_hash, block).await? {
                    None => {
                        self.resumed += 1;
                        self.done.insert(
                            step.index,
                            Receipt {
                                tx_hash,
                                block_number: block,
                                gas_used,
                                contract_address: step.predicted(),
                                logs: Vec::new(),
                            },
                        );
                    }
                    Some(reason) => {
                        let what = step.step.describe();
                        let message = format!(
                            "step {} ({what}) was confirmed in transaction {tx_hash} (block {block}), but {reason}: \
                             the node lost it (restarted from an older state?); doing the step again",
                            step.index
                        );
                        tracing::warn!(target: "kessai::deploy", step = step.index, %tx_hash, %reason, "{message}");
                        self.journal.append(Entry::Lost { step: step.index, tx_hash, reason })?;
                        self.redone.push(message);
                    }
                }
                continue;
            }
            if let Some(Entry::Sending { from, nonce, block, .. }) = record.sending {
                if let Some(receipt) = self.track(chain, step, from, nonce, block, &record.hashes).await? {
                    self.confirm(step.index, &receipt)?;
                    self.resumed += 1;
                    self.done.insert(step.index, receipt);
                }
                continue;
            }
            if let (Effect::Code { address, .. }, Step::Deploy { label, .. }) = (&step.effect, step.step)
                && !chain.code(*address).await?.is_empty()
            {
                // Code the journal never sent: another deployment with the same salt.
                return Err(DeployerError::AlreadyDeployed { label: label.clone(), address: *address });
            }
        }
        Ok(())
    }

    fn confirm(&mut self, step: usize, receipt: &Receipt) -> Result<(), DeployerError> {
        self.journal.append(Entry::Confirmed {
            step,
            tx_hash: receipt.tx_hash,
            block: receipt.block_number,
            gas_used: receipt.gas_used,
        })
    }

    /// Checks that a step the journal records as confirmed in `tx_hash` (mined in `block`) took
    /// effect on this chain: `None` when it did, or why the chain no longer shows it. Its effect is
    /// read first (code at the address, the role held, the registry's record); a step whose effect
    /// cannot be read, or is absent, is looked up by its transaction — lost when the chain's head is
    /// below `block` or `block` no longer holds it.
    async fn recognise(
        &self,
        chain: &mut RpcChain,
        step: &PreparedStep<'_>,
        tx_hash: B256,
        block: u64,
    ) -> Result<Option<String>, DeployerError> {
        let holds = step.effect.holds(chain).await?;
        match holds {
            Some(true) => return Ok(None),
            Some(false) if matches!(step.effect, Effect::Code { .. }) => {
                return Ok(Some(format!("there is no code at {}", step.predicted().unwrap_or_default())));
            }
            _ => {}
        }
        match receipt(chain, tx_hash).await? {
            Some(r) if r.status() => {
                if holds == Some(false) {
                    tracing::warn!(target: "kessai::deploy", step = step.index, what = %step.step.describe(), "done earlier but undone since (revoked?); not sent again");
                }
                return Ok(None);
            }
            Some(_) => return Ok(Some("its transaction failed on this chain".into())),
            None => {}
        }
        let head = chain.block_number().await?;
        if head < block {
            return Ok(Some(format!("the chain's head is block {head}, and the node has no receipt for it")));
        }
        let provider = chain.provider().clone();
        let held = chain
            .retry("eth_getBlockByNumber", || provider.get_block_by_number(BlockNumberOrTag::Number(block)))
            .await?
            .is_some_and(|b| b.transactions.hashes().any(|h| h == tx_hash));
        if held {
            // The block holds it and only its receipt is not served (a node that prunes receipts).
            tracing::warn!(target: "kessai::deploy", step = step.index, %tx_hash, block, "the node serves no receipt for a confirmed step whose block holds it; taken as done");
            return Ok(None);
        }
        Ok(Some(format!("block {block} no longer holds it and the node has no receipt for it")))
    }

    /// Follows a step that was sent but not confirmed: `Some(receipt)` when its transaction was
    /// mined (waiting for it while it is pending), `None` when it must be sent again.
    async fn track(
        &self,
        chain: &RpcChain,
        step: &PreparedStep<'_>,
        from: Address,
        nonce: u64,
        block: u64,
        hashes: &[B256],
    ) -> Result<Option<Receipt>, DeployerError> {
        let provider = chain.provider().clone();
        // The hashes recorded for the step first: one of them mined is the step's transaction.
        for hash in hashes {
            if let Some(r) = receipt(chain, *hash).await? {
                if r.status() {
                    tracing::info!(target: "kessai::deploy", step = step.index, %hash, "the step's recorded transaction is mined");
                    return Ok(Some(Receipt {
                        tx_hash: *hash,
                        block_number: r.block_number.unwrap_or(block),
                        gas_used: r.gas_used,
                        contract_address: step.predicted(),
                        logs: r.inner.logs().iter().map(|l| l.inner.clone()).collect(),
                    }));
                }
                tracing::warn!(target: "kessai::deploy", step = step.index, %hash, "the step's transaction failed on-chain; sending it again");
                return Ok(None);
            }
        }
        let count = |pending: bool| {
            let provider = provider.clone();
            async move {
                chain
                    .retry("eth_getTransactionCount", || {
                        let request = provider.get_transaction_count(from);
                        if pending { request.pending() } else { request.latest() }
                    })
                    .await
            }
        };
        let mut latest = count(false).await?;
        if latest <= nonce {
            let pending = count(true).await?;
            if pending <= nonce {
                tracing::info!(target: "kessai::deploy", step = step.index, "the node never got the step's transaction; sending it again");
                return Ok(None);
            }
            tracing::info!(target: "kessai::deploy", step = step.index, %from, nonce, "waiting for the step's pending transaction");
            let deadline = tokio::time::Instant::now() + chain.options().timeout;
            while latest <= nonce {
                if tokio::time::Instant::now() > deadline {
                    return Err(self.journal.error(format!(
                        "step {} was sent with nonce {nonce} from {from} and is still pending after {} s; rerun \
                         later",
                        step.index,
                        chain.options().timeout.as_secs()
                    )));
                }
                tokio::time::sleep(Duration::from_millis(250)).await;
                latest = count(false).await?;
            }
        }
        // The nonce was used: find the transaction that used it.
        let head = chain.block_number().await?;
        for number in block..=head {
            let Some(b) = chain
                .retry("eth_getBlockByNumber", || provider.get_block_by_number(BlockNumberOrTag::Number(number)).full())
                .await?
            else {
                continue;
            };
            let mut found = None;
            for t in b.transactions.txns() {
                let envelope = t.inner.inner();
                if t.inner.signer() == from && envelope.nonce() == nonce {
                    let ours = envelope.to() == step.tx.to && *envelope.input() == step.tx.data;
                    found = Some((*envelope.tx_hash(), ours));
                    break;
                }
            }
            let Some((hash, ours)) = found else { continue };
            if !ours {
                tracing::warn!(target: "kessai::deploy", step = step.index, %hash, "the nonce went to another transaction; sending the step again");
                return Ok(None);
            }
            return match receipt(chain, hash).await? {
                Some(r) if r.status() => Ok(Some(Receipt {
                    tx_hash: hash,
                    block_number: r.block_number.unwrap_or(number),
                    gas_used: r.gas_used,
                    contract_address: step.predicted(),
                    logs: r.inner.logs().iter().map(|l| l.inner.clone()).collect(),
                })),
                _ => {
                    tracing::warn!(target: "kessai::deploy", step = step.index, %hash, "the step's transaction failed on-chain; sending it again");
                    Ok(None)
                }
            };
        }
        Err(self.journal.error(format!(
            "step {} was sent with nonce {nonce} from {from}, the nonce is used, but no block since {block} holds \
             that transaction",
            step.index
        )))
    }
}

async fn receipt(chain: &RpcChain, hash: B256) -> Result<Option<TransactionReceipt>, DeployerError> {
    chain.retry("eth_getTransactionReceipt", || chain.provider().get_transaction_receipt(hash)).await
}

/// Waits for the receipt of `hash` (`what`, for the error) for at most the engine's timeout.
async fn wait_for_receipt(chain: &RpcChain, hash: B256, what: &str) -> Result<TransactionReceipt, DeployerError> {
    let deadline = tokio::time::Instant::now() + chain.options().timeout;
    loop {
        if let Some(r) = receipt(chain, hash).await? {
            return Ok(r);
        }
        if tokio::time::Instant::now() > deadline {
            return Err(DeployerError::NoDeployer(format!(
                "{what} {hash} is not mined after {} s",
                chain.options().timeout.as_secs()
            )));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn genesis_hash(chain: &RpcChain) -> Result<B256, DeployerError> {
    let block = chain
        .retry("eth_getBlockByNumber", || chain.provider().get_block_by_number(BlockNumberOrTag::Number(0)))
        .await?
        .ok_or_else(|| DeployerError::Rpc("the node has no genesis block".into()))?;
    Ok(block.header.hash)
}

/// Finds the deterministic deployment proxy on `chain`, or installs it: funds its signer with the
/// transaction's cost (gas price × gas limit) from `funder` when needed, then broadcasts the
/// presigned transaction and checks the code. Call it before sending anything else from `funder`
/// through `chain` (the engine tracks each sender's nonce itself).
pub async fn ensure_deterministic_deployer(
    chain: &mut RpcChain,
    funder: Address,
) -> Result<DeployerStatus, DeployerError> {
    install_deterministic_deployer(chain, funder, &[], |_| Ok(())).await
}

/// [`ensure_deterministic_deployer`], reporting the funding transfer to `observe` once it is signed
/// and before it is sent (the journal records it), and first waiting for any of the `funded`
/// transfers an earlier run recorded that the node holds: a funding in flight when that run stopped
/// is not sent again.
async fn install_deterministic_deployer(
    chain: &mut RpcChain,
    funder: Address,
    funded: &[B256],
    mut observe: impl FnMut(&Signed) -> Result<(), DeployerError>,
) -> Result<DeployerStatus, DeployerError> {
    let code = chain.code(DETERMINISTIC_DEPLOYER).await?;
    if !code.is_empty() {
        plan::require_deployer(chain).await?;
        return Ok(DeployerStatus::Found);
    }
    let provider = chain.provider().clone();
    let tx_hash = DETERMINISTIC_DEPLOYER_TX_HASH;
    let signer_nonce = chain
        .retry("eth_getTransactionCount", || provider.get_transaction_count(DETERMINISTIC_DEPLOYER_SIGNER).pending())
        .await?;
    let known = chain.retry("eth_getTransactionByHash", || provider.get_transaction_by_hash(tx_hash)).await?.is_some();
    if signer_nonce > 0 && !known {
        return Err(DeployerError::NoDeployer(format!(
            "the deterministic deployment proxy is not on this chain and cannot be installed: its signer \
             {DETERMINISTIC_DEPLOYER_SIGNER} has already used nonce 0 here. Ask the chain's operator to place the \
             proxy's code at {DETERMINISTIC_DEPLOYER} (at genesis)"
        )));
    }
    let mut funding = None;
    if !known {
        for hash in funded {
            let held = chain.retry("eth_getTransactionByHash", || provider.get_transaction_by_hash(*hash)).await?;
            if held.is_some() {
                tracing::info!(target: "kessai::deploy", %hash, "an earlier run's funding of the proxy's signer is on the node; waiting for it");
                wait_for_receipt(chain, *hash, "the funding of the deterministic deployment proxy's signer").await?;
                funding = Some(*hash);
            }
        }
        let cost = U256::from(DETERMINISTIC_DEPLOYER_COST);
        let balance =
            chain.retry("eth_getBalance", || provider.get_balance(DETERMINISTIC_DEPLOYER_SIGNER).pending()).await?;
        if balance < cost {
            tracing::info!(target: "kessai::deploy", %funder, "funding the deterministic deployment proxy's signer");
            // Sent, priced and followed as the engine sends everything (a pre-London node has no fee
            // history to ask).
            let transfer = chain.transfer_tracked(funder, DETERMINISTIC_DEPLOYER_SIGNER, cost - balance, &mut observe);
            let hash = transfer.await.map_err(|e| {
                DeployerError::NoDeployer(format!(
                    "could not fund the deterministic deployment proxy's signer {DETERMINISTIC_DEPLOYER_SIGNER} \
                     from {funder}: {e}"
                ))
            })?;
            funding = Some(hash);
        }
        tracing::info!(target: "kessai::deploy", "installing the deterministic deployment proxy");
        // Its receipt is polled below, whether this run or an earlier one broadcast it.
        chain.send_raw(&DETERMINISTIC_DEPLOYER_TX, tx_hash).await.map_err(|e| {
            DeployerError::NoDeployer(format!(
                "the node refused the deterministic deployment proxy's presigned transaction ({e}); it has no chain \
                 id, so the node must accept unprotected (pre-EIP-155) transactions and a gas price of 100 gwei"
            ))
        })?;
    }
    let mined = wait_for_receipt(chain, tx_hash, "the deterministic deployment proxy's transaction").await?;
    if !mined.status() {
        return Err(DeployerError::NoDeployer(format!(
            "the deterministic deployment proxy's transaction {tx_hash} failed on-chain"
        )));
    }
    plan::require_deployer(chain).await?;
    Ok(DeployerStatus::Installed { funding, tx_hash })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{Arg, Plan};

    fn temp(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("kessai-journal-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir.join("m.json.journal")
    }

    fn plan(symbol: &str) -> Plan {
        let from = Address::repeat_byte(1);
        Plan {
            steps: vec![
                Step::Deploy { label: "dvp".into(), artifact: "DvP".into(), from, args: vec![] },
                Step::Deploy {
                    label: "registry".into(),
                    artifact: "InvestorRegistry".into(),
                    from,
                    args: vec![Arg::Address(from), Arg::Address(from)],
                },
                Step::Deploy {
                    label: "security".into(),
                    artifact: "SecurityToken".into(),
                    from,
                    args: vec![
                        Arg::String("Bond".into()),
                        Arg::String(symbol.into()),
                        Arg::Contract("registry".into()),
                        Arg::Address(from),
                        Arg::Address(from),
                        Arg::Contract("dvp".into()),
                    ],
                },
            ],
            ..Default::default()
        }
    }

    fn sending(step: &PreparedStep<'_>) -> Entry {
        Entry::Sending {
            step: step.index,
            description: step.step.describe(),
            spec: step.step.clone(),
            from: step.tx.from,
            nonce: step.index as u64,
            predicted: step.predicted(),
            block: 1,
            tx_hash: None,
        }
    }

    #[test]
    fn a_torn_last_line_is_dropped_and_appending_continues() {
        let path = temp("torn");
        let mut journal = Journal::open(&path).expect("open");
        journal.append(Entry::Complete { time: 1, sent: 2, resumed: 3 }).expect("append");
        drop(journal);
        let mut file = OpenOptions::new().append(true).open(&path).expect("file");
        file.write_all(br#"{"event":"confirmed","step":1,"tx_h"#).expect("torn write");
        drop(file);
        let mut journal = Journal::open(&path).expect("reopen");
        assert_eq!(journal.entries().len(), 1);
        journal.append(Entry::Complete { time: 2, sent: 0, resumed: 0 }).expect("append");
        assert_eq!(Journal::open(&path).expect("reopen").entries().len(), 2);
    }

    #[test]
    fn a_corrupt_line_before_the_last_is_an_error() {
        let path = temp("corrupt");
        std::fs::create_dir_all(path.parent().expect("dir")).expect("mkdir");
        std::fs::write(&path, "not json\n{\"event\":\"complete\",\"time\":1,\"sent\":0,\"resumed\":0}\n")
            .expect("write");
        let err = Journal::open(&path).expect_err("corrupt");
        assert!(err.to_string().contains("line 1 is not a journal entry"), "{err}");
    }

    #[test]
    fn appended_steps_are_compatible_and_changed_ones_are_shown_step_by_step() {
        let path = temp("diff");
        let mut journal = Journal::open(&path).expect("open");
        let old = plan("KGB31");
        let prepared = old.prepare_all().expect("prepare");
        for step in &prepared {
            journal.append(sending(step)).expect("append");
        }
        journal.check_plan(&prepared).expect("the same plan");

        let mut longer = old.clone();
        longer.steps.push(Step::GrantRole {
            contract: "security".into(),
            role: "PAUSER_ROLE".into(),
            account: Arg::Address(Address::repeat_byte(2)),
            from: Address::repeat_byte(1),
        });
        journal.check_plan(&longer.prepare_all().expect("prepare")).expect("an appended step");

        let changed = plan("KGB32");
        let err = journal.check_plan(&changed.prepare_all().expect("prepare")).expect_err("changed");
        let text = err.to_string();
        assert!(text.contains("step 2 (deploy SecurityToken as security, sent)"), "{text}");
        assert!(text.contains("journal: deploy SecurityToken as security(\"Bond\", \"KGB31\""), "{text}");
        assert!(text.contains("now:     deploy SecurityToken as security(\"Bond\", \"KGB32\""), "{text}");
        assert!(!text.contains("step 0"), "unchanged steps are not listed: {text}");

        let salted = old.clone().with_salt("other");
        let text = journal.check_plan(&salted.prepare_all().expect("prepare")).expect_err("salt").to_string();
        assert!(text.contains("step 0 (deploy DvP as dvp, sent)"), "a new salt moves every contract: {text}");

        // A step refused before sending (it would have reverted) may change.
        journal.append(Entry::Refused { step: 2, error: "reverted".into() }).expect("append");
        journal.check_plan(&changed.prepare_all().expect("prepare")).expect("step 2 was never sent");

        let shorter = Plan { steps: old.steps[..1].to_vec(), ..old };
        let text = journal.check_plan(&shorter.prepare_all().expect("prepare")).expect_err("shorter").to_string();
        assert!(text.contains("step 1 (deploy InvestorRegistry as registry, sent)"), "{text}");
        assert!(text.contains("now:     (no such step: the plan has 1 steps)"), "{text}");
    }

    #[test]
    fn a_sending_entry_without_a_hash_reads_as_before_and_every_hash_of_a_step_is_kept() {
        let path = temp("hashes");
        let prepared_plan = plan("KGB31");
        let prepared = prepared_plan.prepare_all().expect("prepare");
        let mut journal = Journal::open(&path).expect("open");
        // An entry as journals wrote it before hashes were recorded.
        let old = serde_json::to_value(sending(&prepared[0])).expect("json");
        assert!(old.get("tx_hash").is_none(), "no hash, no field: {old}");
        let line = serde_json::to_string(&old).expect("json") + "\n";
        journal.file.write_all(line.as_bytes()).expect("write");
        let (first, second) = (B256::repeat_byte(1), B256::repeat_byte(2));
        for hash in [first, second] {
            let mut entry = sending(&prepared[1]);
            if let Entry::Sending { tx_hash, .. } = &mut entry {
                *tx_hash = Some(hash);
            }
            journal.append(entry).expect("append");
        }
        let journal = Journal::open(&path).expect("reopen");
        let records = journal.records();
        assert!(records[&0].sending.is_some() && records[&0].hashes.is_empty(), "{:?}", records[&0]);
        assert_eq!(records[&1].hashes, vec![first, second], "the original and its replacement");
        journal.check_plan(&prepared).expect("the same plan");
    }

    #[test]
    fn the_journal_lives_next_to_the_manifest() {
        assert_eq!(Journal::path_for(Path::new("deployments/1.json")), PathBuf::from("deployments/1.json.journal"));
    }
}
