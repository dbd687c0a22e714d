//! The benchmark behind `kessai sim bench`: complete DvP settlements per second on four engines,
//! measured in one run on the same generated workload.
//!
//! One settlement follows one of three flows ([`BenchOptions::flow`]):
//!
//! - [`Settlement::Dcjpy`], the pilot's whole cycle: the bank's `issue` of the price to the buyer,
//!   the seller's `createTrade`, the buyer's `pay`, the agent's `approve` and the seller's `redeem`
//!   of the proceeds — five transactions;
//! - [`Settlement::Instructed`], one instruction from each party: the seller's `createTrade` (its
//!   units are locked), the buyer's `pay` (its cash is locked) and the settlement agent's `approve`
//!   (both legs move) — three transactions;
//! - [`Settlement::Gross`], the pilot's flow: the seller's `createTrade` and the agent's
//!   `settleWithPayment` with the buyer's signed payment instruction (both legs in one transaction,
//!   the signature recovered on chain) — two transactions.
//!
//! Every engine starts from the same state (the suite deployed, the investors registered and funded)
//! and executes the same transactions — same senders, calldata and nonces, buyers' signatures
//! computed before any timing:
//!
//! - **in-process**: the scenario runner on the in-process revm engine ([`crate::RevmChain`]), step
//!   by step, with everything a replay records (results, gas, decoded events);
//! - **raw revm**: revm alone executing the transactions from a snapshot of the same state, one
//!   block per transaction and the clock moved as the runner moves it, with no scenario machinery —
//!   the ceiling;
//! - **Anvil, batched**: pre-signed raw transactions sent in order in JSON-RPC batches of
//!   `eth_sendRawTransaction`, each batch mined as one block (`evm_mine`, automine off; fees fall by
//!   one wei per transaction so a block keeps the sending order) at the in-process timestamp of its
//!   first transaction, a batch ending where the runner moved the clock, until the last receipt —
//!   Anvil at its best;
//! - **Anvil, one at a time**: the scenario runner on the JSON-RPC engine, which estimates, sends
//!   and waits for each receipt (polled every millisecond), over the workload's first
//!   [`BenchOptions::single_trades`] settlements (it settles tens per second, and its rate only
//!   falls as its chain grows, so the shorter run flatters it).
//!
//! The transactions are recorded from an untimed in-process replay through the runner (which also
//! warms the process up), so every engine executes exactly what the runner sends. Anvil runs with
//! `--hardfork cancun` (the in-process engine's) and `--prune-history`. The gas each engine used
//! must equal the recording's over the transactions it executed: [`run`] fails when it does not.
//! Timings are reported, never judged: a benchmark is not a test.

use crate::{
    RevmChain, RevmOptions,
    evm::spec_id,
    scenario::{Scenario, ScenarioError, model::Origin, run::Runner},
    workload::{GenParams, Settlement, Workload, party_keys},
};
use alloy::{
    consensus::{SignableTransaction, TxEip1559, TxEnvelope, TxLegacy},
    eips::{BlockNumberOrTag, Encodable2718},
    network::TxSignerSync,
    primitives::{Address, B256, Bytes, Log, TxKind, U256},
    providers::Provider,
    rpc::client::BatchRequest,
    signers::local::PrivateKeySigner,
};
use kessai_deployer::{
    DeployerError,
    anvil::{AnvilInstance, AnvilOptions},
    chain::{Chain, Receipt, Tx},
    profile::Hardfork,
    rpc::{RpcChain, RpcOptions},
};

/// How often the JSON-RPC engine polls Anvil for a receipt during the benchmark.
const RECEIPT_POLL: Duration = Duration::from_millis(1);
use revm::{
    Context, DatabaseRef, ExecuteCommitEvm, ExecuteEvm, MainBuilder, MainContext,
    context::{BlockEnv, TxEnv},
    primitives::hardfork::SpecId,
};
use serde::{Deserialize, Serialize};
use std::{
    collections::HashMap,
    time::{Duration, Instant},
};

/// What to measure.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BenchOptions {
    /// Complete settlements (each two to five transactions, by flow).
    pub trades: usize,
    /// Seed of the generated workload.
    pub seed: u64,
    /// Investors trading.
    pub investors: usize,
    /// Measure the in-process engine and raw revm only.
    pub skip_anvil: bool,
    /// Transactions per JSON-RPC batch on Anvil.
    pub batch_size: usize,
    /// Settlements Anvil one at a time replays: the first of the workload (at most `trades`). It
    /// settles tens per second and its rate only falls as its chain grows (one block per
    /// transaction), so a shorter run flatters it.
    pub single_trades: usize,
    /// How each trade settles: [`Settlement::Dcjpy`] (the pilot's whole cycle, five transactions),
    /// [`Settlement::Instructed`] (one instruction per party, three) or [`Settlement::Gross`] (the
    /// signed flow, two).
    pub flow: Settlement,
    /// EVM rules of every engine.
    pub hardfork: Hardfork,
}

impl Default for BenchOptions {
    fn default() -> Self {
        Self {
            trades: 10_000,
            seed: 1,
            investors: 100,
            skip_anvil: false,
            batch_size: 200,
            single_trades: 1_000,
            flow: Settlement::Gross,
            hardfork: Hardfork::Cancun,
        }
    }
}

/// What Anvil 1.7 charges beyond the rules before London for each storage slot a transaction clears
/// (15,000 refunded by the rules, 4,800 by Anvil).
pub const ANVIL_PRE_LONDON_REFUND_GAP: u64 = 15_000 - 4_800;

/// One engine's measurement.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EngineResult {
    /// Short name: `in-process`, `raw-revm`, `anvil-batched`, `anvil-single`.
    pub engine: String,
    /// What was measured.
    pub description: String,
    /// Settlements completed.
    pub settlements: usize,
    /// Transactions executed.
    pub transactions: u64,
    /// Wall-clock seconds of the timed part.
    pub seconds: f64,
    /// Gas used by the timed transactions.
    pub gas_used: u64,
    /// Of `gas_used`, what Anvil charged beyond the rules before London (see
    /// [`BenchReport::anvil_refund_gap`]); zero for every other engine and hard fork.
    #[serde(default)]
    pub refund_gap: u64,
}

impl EngineResult {
    /// Complete settlements per second.
    pub fn settlements_per_second(&self) -> f64 {
        self.settlements as f64 / self.seconds.max(1e-9)
    }

    /// Transactions per second.
    pub fn transactions_per_second(&self) -> f64 {
        self.transactions as f64 / self.seconds.max(1e-9)
    }
}

/// The whole day replayed in-process, as `kessai sim run` would: deployment and setup, signing the
/// payment instructions, the trades, and reading the final state.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DayReplay {
    /// Deployment and setup (registrations and funding), seconds.
    pub setup_seconds: f64,
    /// Signing every buyer's payment instruction, seconds.
    pub signing_seconds: f64,
    /// The trades, seconds.
    pub trades_seconds: f64,
    /// Reading every party's position, both supplies and every trade's state, seconds.
    pub final_state_seconds: f64,
}

impl DayReplay {
    /// The whole replay, seconds.
    pub fn total_seconds(&self) -> f64 {
        self.setup_seconds + self.signing_seconds + self.trades_seconds + self.final_state_seconds
    }
}

/// Everything a benchmark run measured.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BenchReport {
    /// What was asked.
    pub options: BenchOptions,
    /// Parties of the workload (suite roles, agent, investors).
    pub parties: usize,
    /// Each engine, in the order measured.
    pub engines: Vec<EngineResult>,
    /// Whether every engine used the same gas (checked: [`run`] fails otherwise, except for
    /// [`Self::anvil_refund_gap`]).
    pub gas_identical: bool,
    /// Gas Anvil charged beyond the rules before London, in all: Anvil 1.7 refunds a cleared storage
    /// slot by London's 4,800 instead of the 15,000 of the earlier rules, so each cleared slot costs it
    /// [`ANVIL_PRE_LONDON_REFUND_GAP`] more (both revm engines and Hardhat follow the rules). Zero at
    /// London and later; [`run`] fails on any other difference.
    pub anvil_refund_gap: u64,
    /// The in-process replay of the whole day.
    pub day: DayReplay,
    /// Whether this is an optimised build (debug builds of revm are about 50× slower).
    pub release_build: bool,
}

impl BenchReport {
    /// The measurement of `engine`, if it ran.
    pub fn engine(&self, engine: &str) -> Option<&EngineResult> {
        self.engines.iter().find(|e| e.engine == engine)
    }

    /// How many times faster `a` settled than `b` (both must have run).
    pub fn speedup(&self, a: &str, b: &str) -> Option<f64> {
        Some(self.engine(a)?.settlements_per_second() / self.engine(b)?.settlements_per_second())
    }
}

/// A transaction of the workload, ready for any engine.
#[derive(Clone, Debug)]
struct RawTx {
    from: Address,
    to: Option<Address>,
    data: Bytes,
    /// Number and timestamp of its block in-process (one block per transaction, and one more for
    /// each clock move of the runner's before it). Raw revm executes it in the same block, so
    /// time-dependent paths (the deposit token's daily issuance window) take the same branches;
    /// Anvil's batched blocks take the timestamp of their first transaction and end where the
    /// runner moved the clock (the block number skips).
    block: (u64, u64),
    /// Gas it used when recorded: every engine must use the same.
    gas: u64,
}

/// The in-process chain, recording what the runner sends: every mined transaction, with its block.
struct Recorder {
    chain: RevmChain,
    txs: Vec<RawTx>,
}

impl Chain for Recorder {
    async fn chain_id(&mut self) -> Result<u64, DeployerError> {
        self.chain.chain_id().await
    }

    async fn send(&mut self, tx: Tx) -> Result<Receipt, DeployerError> {
        let (from, to, data) = (tx.from, tx.to, tx.data.clone());
        let receipt = self.chain.send(tx).await?;
        self.txs.push(RawTx { from, to, data, block: self.chain.head(), gas: receipt.gas_used });
        Ok(receipt)
    }

    async fn call(&mut self, from: Address, to: Address, data: Bytes) -> Result<Bytes, DeployerError> {
        self.chain.call(from, to, data).await
    }

    async fn timestamp(&mut self) -> Result<u64, DeployerError> {
        self.chain.timestamp().await
    }

    async fn advance_time(&mut self, seconds: u64) -> Result<(), DeployerError> {
        self.chain.advance_time(seconds).await
    }

    async fn logs(&mut self, address: Address, from_block: u64) -> Result<Vec<Log>, DeployerError> {
        self.chain.logs(address, from_block).await
    }

    async fn code(&mut self, address: Address) -> Result<Bytes, DeployerError> {
        self.chain.code(address).await
    }
}

/// The generated workload the benchmark settles: `trades` ordinary trades among `investors`, in one
/// day, starting at `start`.
pub fn workload(options: &BenchOptions, start: u64) -> Result<Workload, ScenarioError> {
    Workload::generate(&GenParams {
        investors: options.investors,
        trades_per_day: options.trades,
        days: 1,
        seed: options.seed,
        start: Some(start),
        ..GenParams::default()
    })
}

/// Runs the benchmark; `progress` hears what is being measured.
pub async fn run(options: &BenchOptions, mut progress: impl FnMut(&str)) -> Result<BenchReport, ScenarioError> {
    // Every engine starts at the same fixed genesis time and the workload at the first midnight after
    // it: the same terms, signatures, calldata and gas everywhere, on any day the benchmark runs.
    let now = kessai_deployer::chain::GENESIS_TIMESTAMP;
    let start = (now / crate::scenario::model::DAY + 1) * crate::scenario::model::DAY;
    let workload = workload(options, start)?;
    let scenario = workload.scenario(options.flow);
    let keys = party_keys(scenario.parties.len().max(10));
    let accounts: Vec<Address> = keys.iter().map(PrivateKeySigner::address).collect();
    let mut engines = Vec::new();
    let revm_options =
        RevmOptions { genesis_timestamp: now, spec: spec_id(options.hardfork), ..RevmOptions::default() };

    // ------------------------------------------------------------ recording pass, untimed
    // The timeline once through a recording chain gives the transactions every other engine
    // executes (exactly what the runner sends) and the blocks they were mined in. It also warms the
    // process up: the first replay in a process pays for fresh memory and cold caches.
    progress("recording the transactions");
    let txs = {
        let mut chain = Recorder { chain: RevmChain::new(&revm_options, &accounts), txs: Vec::new() };
        let mut runner = Runner::deploy(&mut chain, &scenario, &keys).await?;
        setup(&mut runner, &mut chain, &scenario).await?;
        chain.txs.clear();
        runner.presign()?;
        timeline(&mut runner, &mut chain, &scenario, u64::MAX).await?;
        chain.txs
    };

    // ------------------------------------------------------------ in-process, through the runner
    progress(&format!(
        "in-process: deploying and funding {} investors, signing {} payment instructions",
        options.investors, options.trades
    ));
    let began = Instant::now();
    let mut chain = RevmChain::new(&revm_options, &accounts);
    let mut runner = Runner::deploy(&mut chain, &scenario, &keys).await?;
    setup(&mut runner, &mut chain, &scenario).await?;
    let setup_seconds = began.elapsed().as_secs_f64();
    let snapshot = chain.db().clone();
    let chain_id = chain.id();
    let began = Instant::now();
    runner.presign()?;
    let signing_seconds = began.elapsed().as_secs_f64();

    progress("in-process: settling");
    let timed = Instant::now();
    let (gas, count, failed) = timeline(&mut runner, &mut chain, &scenario, u64::MAX).await?;
    let seconds = timed.elapsed().as_secs_f64();
    if failed > 0 {
        return Err(ScenarioError::Disagreement(format!(
            "{failed} steps of the benchmark's workload did not run as generated on the in-process engine"
        )));
    }
    let began = Instant::now();
    runner.final_state(&mut chain).await?;
    let final_state_seconds = began.elapsed().as_secs_f64();
    drop(chain);
    engines.push(EngineResult {
        engine: "in-process".into(),
        description: "scenario runner on the in-process revm engine".into(),
        settlements: options.trades,
        transactions: count,
        seconds,
        gas_used: gas,
        refund_gap: 0,
    });
    let day = DayReplay { setup_seconds, signing_seconds, trades_seconds: seconds, final_state_seconds };

    // ------------------------------------------------------------ raw revm from the same state
    progress("raw revm: executing the same transactions");
    engines.push(raw_revm(snapshot, chain_id, spec_id(options.hardfork), &txs, options.trades)?);

    if !options.skip_anvil {
        progress("anvil (batched): deploying and funding");
        engines.push(anvil_batched(options, &scenario, &keys, &runner, &txs, &mut progress).await?);
        progress("anvil (one at a time): deploying and funding");
        engines.push(anvil_single(options, &scenario, &keys, txs.len(), &mut progress).await?);
    }

    // Every engine against the recording, over the transactions it executed (Anvil one at a time
    // runs the first ones only). Before London, Anvil's known refund defect is measured, not hidden.
    let mut anvil_refund_gap = 0;
    let differ: Vec<String> = engines
        .iter_mut()
        .filter_map(|e| {
            let recorded: u64 = txs.iter().take(e.transactions as usize).map(|t| t.gas).sum();
            let gap = e.gas_used.saturating_sub(recorded);
            if e.engine.starts_with("anvil")
                && options.hardfork < Hardfork::London
                && gap % ANVIL_PRE_LONDON_REFUND_GAP == 0
                && e.gas_used >= recorded
            {
                anvil_refund_gap += gap;
                e.refund_gap = gap;
                return None;
            }
            (e.gas_used != recorded).then(|| format!("{} {} (recorded {recorded})", e.engine, e.gas_used))
        })
        .collect();
    if !differ.is_empty() {
        return Err(ScenarioError::Disagreement(format!(
            "the engines used different gas for the same transactions: {}",
            differ.join(", ")
        )));
    }
    Ok(BenchReport {
        options: options.clone(),
        parties: scenario.parties.len(),
        engines,
        gas_identical: anvil_refund_gap == 0,
        anvil_refund_gap,
        day,
        release_build: !cfg!(debug_assertions),
    })
}

/// Executes the scenario's setup steps (registrations and funding); each must succeed.
async fn setup<C: Chain>(runner: &mut Runner<'_>, chain: &mut C, scenario: &Scenario) -> Result<(), ScenarioError> {
    for (index, step) in scenario.steps.iter().enumerate().filter(|(_, s)| s.origin == Origin::Setup) {
        let outcome = runner.execute_step(chain, index, step).await?;
        if !outcome.passed() {
            return Err(ScenarioError::Disagreement(format!(
                "setup step {index} ({}) failed: {:?}",
                outcome.description, outcome.result
            )));
        }
    }
    Ok(())
}

/// Executes the timeline through the runner, stopping once `limit` transactions are mined: (gas,
/// transactions, steps that did not pass).
async fn timeline<C: Chain>(
    runner: &mut Runner<'_>,
    chain: &mut C,
    scenario: &Scenario,
    limit: u64,
) -> Result<(u64, u64, usize), ScenarioError> {
    let (mut gas, mut count, mut failed) = (0, 0, 0);
    for (index, step) in scenario.steps.iter().enumerate().filter(|(_, s)| s.origin != Origin::Setup) {
        if count >= limit {
            break;
        }
        let outcome = runner.execute_step(chain, index, step).await?;
        gas += outcome.gas_used;
        count += u64::from(outcome.transactions);
        failed += usize::from(!outcome.passed());
    }
    Ok((gas, count, failed))
}

/// Raw revm: the same transactions on a fresh EVM over a snapshot of the state after setup, each in
/// the block it was recorded in, nothing recorded but gas.
fn raw_revm(
    snapshot: revm::database::CacheDB<revm::database::EmptyDB>,
    chain_id: u64,
    spec: SpecId,
    txs: &[RawTx],
    settlements: usize,
) -> Result<EngineResult, ScenarioError> {
    let mut nonces: HashMap<Address, u64> = HashMap::new();
    let mut envs = Vec::with_capacity(txs.len());
    for tx in txs {
        let nonce = match nonces.get(&tx.from) {
            Some(n) => *n,
            None => snapshot
                .basic_ref(tx.from)
                .map_err(|e| ScenarioError::Setup(format!("snapshot state: {e}")))?
                .map_or(0, |a| a.nonce),
        };
        nonces.insert(tx.from, nonce + 1);
        envs.push(TxEnv {
            caller: tx.from,
            kind: tx.to.map_or(TxKind::Create, TxKind::Call),
            data: tx.data.clone(),
            nonce,
            gas_limit: crate::evm::BLOCK_GAS_LIMIT,
            gas_price: 0,
            chain_id: Some(chain_id),
            ..Default::default()
        });
    }
    let mut evm = Context::mainnet()
        .with_db(snapshot)
        .modify_cfg_chained(|cfg| {
            cfg.set_spec_and_mainnet_gas_params(spec);
            cfg.chain_id = chain_id;
        })
        .build_mainnet();
    let mut gas = 0;
    let timed = Instant::now();
    for (env, tx) in envs.into_iter().zip(txs) {
        let (number, timestamp) = tx.block;
        evm.set_block(BlockEnv {
            number: U256::from(number),
            timestamp: U256::from(timestamp),
            gas_limit: crate::evm::BLOCK_GAS_LIMIT,
            basefee: 0,
            prevrandao: Some(B256::ZERO),
            ..Default::default()
        });
        let result = evm.transact_commit(env).map_err(|e| ScenarioError::Setup(format!("raw revm: {e:?}")))?;
        if !result.is_success() {
            return Err(ScenarioError::Disagreement(format!("raw revm: a transaction failed: {result:?}")));
        }
        gas += result.tx_gas_used();
    }
    let seconds = timed.elapsed().as_secs_f64();
    Ok(EngineResult {
        engine: "raw-revm".into(),
        description: "revm alone, the same transactions from the same state (the ceiling)".into(),
        settlements,
        transactions: txs.len() as u64,
        seconds,
        gas_used: gas,
        refund_gap: 0,
    })
}

/// Anvil for the benchmark: Cancun (as the in-process engine), pruned history, and a zero base fee so
/// that full blocks do not raise it: the batched run orders a block's transactions by their tips,
/// which a rising base fee would cap to one value.
fn spawn_anvil(hardfork: Hardfork) -> Result<AnvilInstance, ScenarioError> {
    Ok(AnvilInstance::spawn(&AnvilOptions {
        hardfork: Some(hardfork.name().into()),
        prune_history: true,
        base_fee: Some(0),
        ..AnvilOptions::default()
    })?)
}

/// Connects to `node` with `keys`, funding the accounts beyond Anvil's own ten. The engine polls for
/// receipts every millisecond (its default, 50 ms, suits real chains, not a benchmark).
async fn connect(node: &AnvilInstance, keys: &[PrivateKeySigner]) -> Result<RpcChain, ScenarioError> {
    let options = RpcOptions { poll: RECEIPT_POLL, ..RpcOptions::default() };
    let chain = RpcChain::connect_with(&node.endpoint(), keys.to_vec(), options)?;
    fund(&chain, &keys.iter().map(PrivateKeySigner::address).collect::<Vec<_>>()).await?;
    Ok(chain)
}

/// Gives each of `accounts` 10,000 ether on an Anvil node (`anvil_setBalance`).
pub async fn fund(chain: &RpcChain, accounts: &[Address]) -> Result<(), ScenarioError> {
    let ether = U256::from(10_000u64) * U256::from(10u64).pow(U256::from(18u64));
    for account in accounts.iter().skip(10) {
        let _: serde_json::Value = chain
            .provider()
            .raw_request("anvil_setBalance".into(), (*account, ether))
            .await
            .map_err(|e| DeployerError::Rpc(format!("anvil_setBalance: {e}")))?;
    }
    Ok(())
}

/// Deploys and funds the workload on `chain` through a runner, untimed.
async fn prepare<'s>(
    chain: &mut RpcChain,
    scenario: &'s Scenario,
    keys: &[PrivateKeySigner],
) -> Result<Runner<'s>, ScenarioError> {
    let mut runner = Runner::deploy(chain, scenario, keys).await?;
    setup(&mut runner, chain, scenario).await?;
    runner.presign()?;
    Ok(runner)
}

async fn anvil_batched(
    options: &BenchOptions,
    scenario: &Scenario,
    keys: &[PrivateKeySigner],
    in_process: &Runner<'_>,
    txs: &[RawTx],
    progress: &mut impl FnMut(&str),
) -> Result<EngineResult, ScenarioError> {
    let node = spawn_anvil(options.hardfork)?;
    let mut chain = connect(&node, keys).await?;
    let runner = prepare(&mut chain, scenario, keys).await?;
    if runner.suite().dvp != in_process.suite().dvp {
        return Err(ScenarioError::Disagreement("the suite deployed at other addresses on Anvil".into()));
    }
    let provider = chain.provider().clone();
    let rpc = |e: alloy::transports::TransportError| ScenarioError::Chain(DeployerError::Rpc(e.to_string()));

    // Sign every transaction before timing, in order, each sender's nonces counted from the node.
    progress("anvil (batched): signing the transactions");
    let chain_id = provider.get_chain_id().await.map_err(rpc)?;
    let block = provider
        .get_block_by_number(BlockNumberOrTag::Latest)
        .await
        .map_err(rpc)?
        .ok_or_else(|| ScenarioError::Chain(DeployerError::Rpc("no latest block".into())))?;
    let base = u128::from(block.header.base_fee_per_gas.unwrap_or(0));
    let priority = provider.get_max_priority_fee_per_gas().await.map_err(rpc)?;
    let signers: HashMap<Address, &PrivateKeySigner> = keys.iter().map(|k| (k.address(), k)).collect();
    let mut nonces: HashMap<Address, u64> = HashMap::new();
    let mut raw: Vec<Bytes> = Vec::with_capacity(txs.len());
    let mut hashes: Vec<B256> = Vec::with_capacity(txs.len());
    // A payment follows its trade's creation and an approval its payment, each sent by another
    // account, and a buyer may pay with cash it received in an earlier settlement. Anvil handles the
    // requests of a batch concurrently and orders the transactions of a block by fee (its priority is
    // the maximum fee per gas). So fees fall by one wei per transaction (a block keeps the sending
    // order), and each batch is mined as one block by an `evm_mine` once it has arrived. Gas used
    // depends on neither. Each block takes the in-process timestamp of its first transaction and a
    // batch ends where the runner moved the clock, so Anvil's clock follows the runner's (a
    // time-dependent path, like the deposit token's daily issuance window, takes the same branch).
    let count = txs.len() as u128;
    for (i, tx) in txs.iter().enumerate() {
        let nonce = match nonces.get(&tx.from) {
            Some(n) => *n,
            None => provider.get_transaction_count(tx.from).pending().await.map_err(rpc)?,
        };
        nonces.insert(tx.from, nonce + 1);
        let key = signers.get(&tx.from).ok_or(DeployerError::NoKey(tx.from))?;
        let sign_error = |e| DeployerError::Signing(format!("cannot sign a benchmark transaction: {e}"));
        let (to, fee) = (tx.to.map_or(TxKind::Create, TxKind::Call), count - i as u128);
        // Before London (no base fee) the node orders by gas price: legacy transactions.
        let envelope = if block.header.base_fee_per_gas.is_none() {
            let mut unsigned = TxLegacy {
                chain_id: Some(chain_id),
                nonce,
                gas_price: priority + fee,
                gas_limit: 1_000_000,
                to,
                value: U256::ZERO,
                input: tx.data.clone(),
            };
            let signature = key.sign_transaction_sync(&mut unsigned).map_err(sign_error)?;
            TxEnvelope::from(unsigned.into_signed(signature))
        } else {
            let mut unsigned = TxEip1559 {
                chain_id,
                nonce,
                gas_limit: 1_000_000,
                max_fee_per_gas: base + priority + fee,
                max_priority_fee_per_gas: priority + fee,
                to,
                value: U256::ZERO,
                access_list: Default::default(),
                input: tx.data.clone(),
            };
            let signature = key.sign_transaction_sync(&mut unsigned).map_err(sign_error)?;
            TxEnvelope::from(unsigned.into_signed(signature))
        };
        hashes.push(*envelope.tx_hash());
        raw.push(envelope.encoded_2718().into());
    }

    progress("anvil (batched): sending");
    let automine = |on: bool| {
        let provider = provider.clone();
        async move {
            let _: serde_json::Value = provider.raw_request("evm_setAutomine".into(), (on,)).await.map_err(rpc)?;
            Ok::<_, ScenarioError>(())
        }
    };
    let mine = || async {
        let _: serde_json::Value = provider.raw_request("evm_mine".into(), ()).await.map_err(rpc)?;
        Ok::<_, ScenarioError>(())
    };
    let mut chunks: Vec<std::ops::Range<usize>> = Vec::new();
    for (i, tx) in txs.iter().enumerate() {
        match chunks.last_mut() {
            Some(c) if c.len() < options.batch_size.max(1) && tx.block.0 == txs[i - 1].block.0 + 1 => c.end = i + 1,
            _ => chunks.push(i..i + 1),
        }
    }
    automine(false).await?;
    let timed = Instant::now();
    for chunk in chunks {
        let mut batch = BatchRequest::new(provider.client());
        let mut waiters = Vec::with_capacity(chunk.len());
        let timestamp = txs[chunk.start].block.1;
        for tx in &raw[chunk] {
            waiters.push(batch.add_call::<_, B256>("eth_sendRawTransaction", &(tx,)).map_err(rpc)?);
        }
        batch.send().await.map_err(rpc)?;
        for waiter in waiters {
            waiter.await.map_err(rpc)?;
        }
        let _: serde_json::Value = provider
            .raw_request("evm_mine".into(), (serde_json::json!({ "timestamp": timestamp }),))
            .await
            .map_err(rpc)?;
    }
    // A batch over the block gas limit leaves its tail pending: mine until the last one is in.
    let last = *hashes.last().ok_or_else(|| ScenarioError::Setup("the benchmark has no transactions".into()))?;
    let deadline = Instant::now() + Duration::from_secs(600);
    while provider.get_transaction_receipt(last).await.map_err(rpc)?.is_none() {
        if Instant::now() > deadline {
            return Err(ScenarioError::Chain(DeployerError::Rpc("the last transaction was not mined in 600 s".into())));
        }
        mine().await?;
    }
    let seconds = timed.elapsed().as_secs_f64();
    automine(true).await?;

    // Untimed: every receipt, for success and gas.
    progress("anvil (batched): reading receipts");
    let mut gas = 0;
    for chunk in hashes.chunks(options.batch_size.max(1)) {
        let mut batch = BatchRequest::new(provider.client());
        let mut waiters = Vec::with_capacity(chunk.len());
        for hash in chunk {
            waiters.push(
                batch
                    .add_call::<_, Option<alloy::rpc::types::TransactionReceipt>>("eth_getTransactionReceipt", &(hash,))
                    .map_err(rpc)?,
            );
        }
        batch.send().await.map_err(rpc)?;
        for (hash, waiter) in chunk.iter().zip(waiters) {
            let receipt = waiter
                .await
                .map_err(rpc)?
                .ok_or_else(|| ScenarioError::Disagreement(format!("anvil (batched): {hash} was not mined")))?;
            if !receipt.status() {
                let index = hashes.iter().position(|h| h == hash).unwrap_or_default();
                let selector = txs.get(index).map(|t| alloy::primitives::hex::encode(&t.data[..4])).unwrap_or_default();
                return Err(ScenarioError::Disagreement(format!(
                    "anvil (batched): transaction {index} ({hash}, selector 0x{selector}, block {:?}, index {:?}) reverted",
                    receipt.block_number, receipt.transaction_index
                )));
            }
            gas += receipt.gas_used;
        }
    }
    drop(node);
    Ok(EngineResult {
        engine: "anvil-batched".into(),
        description: format!(
            "Anvil, pre-signed raw transactions in JSON-RPC batches of {}, in nonce order",
            options.batch_size
        ),
        settlements: options.trades,
        transactions: txs.len() as u64,
        seconds,
        gas_used: gas,
        refund_gap: 0,
    })
}

/// Anvil one at a time, over the transactions of the workload's first `options.single_trades`
/// settlements (every settlement of a flow is the same number of transactions, out of `total`).
async fn anvil_single(
    options: &BenchOptions,
    scenario: &Scenario,
    keys: &[PrivateKeySigner],
    total: usize,
    progress: &mut impl FnMut(&str),
) -> Result<EngineResult, ScenarioError> {
    let settlements = options.single_trades.clamp(1, options.trades.max(1));
    let wanted = (total * settlements / options.trades.max(1)) as u64;
    let node = spawn_anvil(options.hardfork)?;
    let mut chain = connect(&node, keys).await?;
    let mut runner = prepare(&mut chain, scenario, keys).await?;
    progress(&format!("anvil (one at a time): settling the first {settlements}"));
    let timed = Instant::now();
    let (gas, count, failed) = timeline(&mut runner, &mut chain, scenario, wanted).await?;
    let seconds = timed.elapsed().as_secs_f64();
    if failed > 0 {
        return Err(ScenarioError::Disagreement(format!(
            "{failed} steps of the benchmark's workload did not run as generated on Anvil"
        )));
    }
    drop(node);
    Ok(EngineResult {
        engine: "anvil-single".into(),
        description: format!(
            "scenario runner on the JSON-RPC engine: estimate, send, poll for the receipt every {} ms, one by \
             one, over the first {settlements} settlements",
            RECEIPT_POLL.as_millis()
        ),
        settlements,
        transactions: count,
        seconds,
        gas_used: gas,
        refund_gap: 0,
    })
}
