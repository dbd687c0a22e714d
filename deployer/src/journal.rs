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
//! Running the same deployment again reads the journal and resumes ([`deploy`]):
//!
//! - a confirmed step is recognised on-chain and not sent again: a deployment by code at its
//!   predicted address (checked against the artifact by [`crate::plan::execute_with`]), a role grant
//!   by `hasRole`, a facility by the registry's record, another call by its transaction's receipt;
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
//! with its presigned transaction ([`ensure_deterministic_deployer`]).

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
    let deployer = ensure_deterministic_deployer(chain, funder).await?;
    journal.append(Entry::Deployer { status: deployer.clone() })?;
    let records = journal.records();
    let mut runner = Journaled { journal, records, sent: 0, resumed: 0 };
    let deployment = plan::execute_with(chain, plan, &mut runner).await?;
    let (sent, resumed) = (runner.sent, runner.resumed);
    runner.journal.append(Entry::Complete { time: now(), sent, resumed })?;
    Ok(Outcome { deployment, sent, resumed, deployer })
}

/// The step runner that writes ahead and resumes.
struct Journaled {
    journal: Journal,
    records: BTreeMap<usize, StepRecord>,
    sent: usize,
    resumed: usize,
}

impl StepRunner<RpcChain> for Journaled {
    async fn run(&mut self, chain: &mut RpcChain, step: &PreparedStep<'_>) -> Result<Receipt, DeployerError> {
        let record = self.records.get(&step.index).cloned().unwrap_or_default();
        if let Some(Entry::Confirmed { tx_hash, block, gas_used, .. }) = record.confirmed {
            self.recognise(chain, step, tx_hash).await?;
            self.resumed += 1;
            return Ok(Receipt {
                tx_hash,
                block_number: block,
                gas_used,
                contract_address: step.predicted(),
                logs: Vec::new(),
            });
        }
        if let Some(Entry::Sending { from, nonce, block, .. }) = record.sending {
            if let Some(receipt) = self.track(chain, step, from, nonce, block, &record.hashes).await? {
                self.confirm(step.index, &receipt)?;
                self.resumed += 1;
                return Ok(receipt);
            }
        } else if let (Effect::Code { address, .. }, Step::Deploy { label, .. }) = (&step.effect, step.step)
            && !chain.code(*address).await?.is_empty()
        {
            // Code the journal never sent: another deployment with the same salt.
            return Err(DeployerError::AlreadyDeployed { label: label.clone(), address: *address });
        }
        self.send(chain, step).await
    }
}

impl Journaled {
    /// Writes ahead, sends, and records the confirmation.
    async fn send(&mut self, chain: &mut RpcChain, step: &PreparedStep<'_>) -> Result<Receipt, DeployerError> {
        let block = chain.block_number().await?;
        let journal = &mut self.journal;
        // Written once the transaction is signed (its nonce and hash known) and before it leaves.
        let write_ahead = |signed: &Signed| {
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
        let receipt = match chain.send_tracked(step.tx.clone(), write_ahead).await {
            Ok(receipt) => receipt,
            // Refused before signing: the engine estimates first and never sends what would revert.
            Err(e @ (DeployerError::Revert(_) | DeployerError::NoKey(_))) => {
                self.journal.append(Entry::Refused { step: step.index, error: e.to_string() })?;
                return Err(e);
            }
            Err(e) => return Err(e),
        };
        self.confirm(step.index, &receipt)?;
        self.sent += 1;
        Ok(receipt)
    }

    fn confirm(&mut self, step: usize, receipt: &Receipt) -> Result<(), DeployerError> {
        self.journal.append(Entry::Confirmed {
            step,
            tx_hash: receipt.tx_hash,
            block: receipt.block_number,
            gas_used: receipt.gas_used,
        })
    }

    /// Checks that a step the journal records as confirmed took effect on this chain.
    async fn recognise(
        &self,
        chain: &mut RpcChain,
        step: &PreparedStep<'_>,
        tx_hash: B256,
    ) -> Result<(), DeployerError> {
        let what = step.step.describe();
        let gone = |detail: String| {
            self.journal.error(format!(
                "step {} ({what}) is recorded as confirmed in transaction {tx_hash}, but {detail}: the chain was \
                 reset or rolled back; move the journal and manifest away to deploy afresh",
                step.index
            ))
        };
        match step.effect.holds(chain).await? {
            Some(true) => Ok(()),
            Some(false) if matches!(step.effect, Effect::Code { .. }) => {
                Err(gone(format!("there is no code at {}", step.predicted().unwrap_or_default())))
            }
            holds => match receipt(chain, tx_hash).await? {
                Some(r) if r.status() => {
                    if holds == Some(false) {
                        tracing::warn!(target: "kessai::deploy", step = step.index, %what, "done earlier but undone since (revoked?); not sent again");
                    }
                    Ok(())
                }
                _ => Err(gone("the node has no successful receipt for it".into())),
            },
        }
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
        let cost = U256::from(DETERMINISTIC_DEPLOYER_COST);
        let balance =
            chain.retry("eth_getBalance", || provider.get_balance(DETERMINISTIC_DEPLOYER_SIGNER).pending()).await?;
        if balance < cost {
            tracing::info!(target: "kessai::deploy", %funder, "funding the deterministic deployment proxy's signer");
            // Sent, priced and followed as the engine sends everything (a pre-London node has no fee
            // history to ask).
            let hash = chain.transfer(funder, DETERMINISTIC_DEPLOYER_SIGNER, cost - balance).await.map_err(|e| {
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
    let deadline = tokio::time::Instant::now() + chain.options().timeout;
    let mined = loop {
        if let Some(r) = receipt(chain, tx_hash).await? {
            break r;
        }
        if tokio::time::Instant::now() > deadline {
            return Err(DeployerError::NoDeployer(format!(
                "the deterministic deployment proxy's transaction {tx_hash} is not mined after {} s",
                chain.options().timeout.as_secs()
            )));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
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
