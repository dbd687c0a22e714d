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
    primitives::{Address, B256, Bytes, U256},
    signers::local::PrivateKeySigner,
};
use kessai_deployer::{
    DeployerError,
    chain::{BlockRef, Chain, LocatedLog, Receipt, Tx},
    profile::Hardfork,
};
use revm::{ExecuteCommitEvm, ExecuteEvm, context::BlockEnv, primitives::hardfork::SpecId};
use serde::{Deserialize, Serialize};
use std::time::Instant;

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
    fn chain_id(&mut self) -> impl Future<Output = Result<u64, DeployerError>> + Send {
        self.chain.chain_id()
    }

    fn send(&mut self, tx: Tx) -> impl Future<Output = Result<Receipt, DeployerError>> + Send {
        let (from, to, data) = (tx.from, tx.to, tx.data.clone());
        let receipt = self.chain.send_now(tx);
        if let Ok(r) = &receipt {
            self.txs.push(RawTx { from, to, data, block: self.chain.latest(), gas: r.gas_used });
        }
        std::future::ready(receipt)
    }

    fn call(
        &mut self,
        from: Address,
        to: Address,
        data: Bytes,
    ) -> impl Future<Output = Result<Bytes, DeployerError>> + Send {
        self.chain.call(from, to, data)
    }

    fn call_at(
        &mut self,
        block: u64,
        to: Address,
        data: Bytes,
    ) -> impl Future<Output = Result<Bytes, DeployerError>> + Send {
        self.chain.call_at(block, to, data)
    }

    fn head(&mut self) -> impl Future<Output = Result<u64, DeployerError>> + Send {
        self.chain.head()
    }

    fn timestamp(&mut self) -> impl Future<Output = Result<u64, DeployerError>> + Send {
        self.chain.timestamp()
    }

    fn timestamp_at(&mut self, block: u64) -> impl Future<Output = Result<u64, DeployerError>> + Send {
        self.chain.timestamp_at(block)
    }

    fn block_ref(&mut self, block: u64) -> impl Future<Output = Result<Option<BlockRef>, DeployerError>> + Send {
        self.chain.block_ref(block)
    }

    fn advance_time(&mut self, seconds: u64) -> impl Future<Output = Result<(), DeployerError>> + Send {
        self.chain.advance_time(seconds)
    }

    fn logs(
        &mut self,
        addresses: &[Address],
        from_block: u64,
        to_block: Option<u64>,
    ) -> impl Future<Output = Result<Vec<LocatedLog>, DeployerError>> + Send {
        self.chain.logs(addresses, from_block, to_block)
    }

    fn code(&mut self, address: Address) -> impl Future<Output = Result<Bytes, DeployerError>> + Send {
        self.chain.code(address)
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
    let inputs = Inputs::new(options)?;
    progress("recording the transactions");
    let txs = inputs.record().await?;
    let in_process = inputs.in_process(options, &mut progress).await?;
    let mut engines = vec![in_process.result];

    progress("raw revm: executing the same transactions");
    engines.push(raw_revm(in_process.snapshot, in_process.chain_id, spec_id(options.hardfork), &txs, options.trades)?);

    if !options.skip_anvil {
        let (scenario, keys) = (&inputs.scenario, &inputs.keys);
        progress("anvil (batched): deploying and funding");
        engines.push(anvil::batched(options, scenario, keys, &in_process.runner, &txs, &mut progress).await?);
        progress("anvil (one at a time): deploying and funding");
        engines.push(anvil::single(options, scenario, keys, txs.len(), &mut progress).await?);
    }

    let anvil_refund_gap = check_gas(&mut engines, &txs, options.hardfork)?;
    Ok(BenchReport {
        options: options.clone(),
        parties: inputs.scenario.parties.len(),
        engines,
        gas_identical: anvil_refund_gap == 0,
        anvil_refund_gap,
        day: in_process.day,
        release_build: !cfg!(debug_assertions),
    })
}

/// What every engine of a benchmark run starts from: the workload's scenario, its parties' keys and
/// accounts, and the in-process engine's options.
struct Inputs {
    scenario: Scenario,
    keys: Vec<PrivateKeySigner>,
    accounts: Vec<Address>,
    revm_options: RevmOptions,
}

/// What the timed in-process replay measured, and what the engines after it start from.
struct InProcess<'s> {
    /// Its measurement.
    result: EngineResult,
    /// The whole day, phase by phase.
    day: DayReplay,
    /// The state after setup, for raw revm.
    snapshot: revm::database::CacheDB<revm::database::EmptyDB>,
    /// The in-process chain's id.
    chain_id: u64,
    /// Its runner, whose suite Anvil's must match.
    runner: Runner<'s>,
}

impl Inputs {
    /// The workload of `options` and its parties' keys.
    fn new(options: &BenchOptions) -> Result<Self, ScenarioError> {
        // Every engine starts at the same fixed genesis time and the workload at the first midnight
        // after it: the same terms, signatures, calldata and gas everywhere, on any day the benchmark
        // runs.
        let now = kessai_deployer::chain::GENESIS_TIMESTAMP;
        let start = (now / crate::scenario::model::DAY + 1) * crate::scenario::model::DAY;
        let scenario = workload(options, start)?.scenario(options.flow);
        let keys = party_keys(scenario.parties.len().max(10));
        let accounts = keys.iter().map(PrivateKeySigner::address).collect();
        let revm_options =
            RevmOptions { genesis_timestamp: now, spec: spec_id(options.hardfork), ..RevmOptions::default() };
        Ok(Self { scenario, keys, accounts, revm_options })
    }

    /// The recording pass, untimed: the timeline once through a recording chain gives the
    /// transactions every other engine executes (exactly what the runner sends) and the blocks they
    /// were mined in. It also warms the process up: the first replay in a process pays for fresh
    /// memory and cold caches.
    async fn record(&self) -> Result<Vec<RawTx>, ScenarioError> {
        let mut chain = Recorder { chain: RevmChain::new(&self.revm_options, &self.accounts), txs: Vec::new() };
        let mut runner = Runner::deploy(&mut chain, &self.scenario, &self.keys).await?;
        setup(&mut runner, &mut chain, &self.scenario).await?;
        chain.txs.clear();
        runner.presign()?;
        timeline(&mut runner, &mut chain, &self.scenario, u64::MAX).await?;
        Ok(chain.txs)
    }

    /// The in-process engine through the runner, timed phase by phase: deployment and setup,
    /// signing, the trades, the final state.
    async fn in_process(
        &self,
        options: &BenchOptions,
        progress: &mut impl FnMut(&str),
    ) -> Result<InProcess<'_>, ScenarioError> {
        progress(&format!(
            "in-process: deploying and funding {} investors, signing {} payment instructions",
            options.investors, options.trades
        ));
        let began = Instant::now();
        let mut chain = RevmChain::new(&self.revm_options, &self.accounts);
        let mut runner = Runner::deploy(&mut chain, &self.scenario, &self.keys).await?;
        setup(&mut runner, &mut chain, &self.scenario).await?;
        let setup_seconds = began.elapsed().as_secs_f64();
        let snapshot = chain.db().clone();
        let chain_id = chain.id();
        let began = Instant::now();
        runner.presign()?;
        let signing_seconds = began.elapsed().as_secs_f64();

        progress("in-process: settling");
        let timed = Instant::now();
        let (gas, count, failed) = timeline(&mut runner, &mut chain, &self.scenario, u64::MAX).await?;
        let seconds = timed.elapsed().as_secs_f64();
        if failed > 0 {
            return Err(ScenarioError::Disagreement(format!(
                "{failed} steps of the benchmark's workload did not run as generated on the in-process engine"
            )));
        }
        let began = Instant::now();
        runner.final_state(&mut chain).await?;
        let final_state_seconds = began.elapsed().as_secs_f64();
        Ok(InProcess {
            result: EngineResult {
                engine: "in-process".into(),
                description: "scenario runner on the in-process revm engine".into(),
                settlements: options.trades,
                transactions: count,
                seconds,
                gas_used: gas,
                refund_gap: 0,
            },
            day: DayReplay { setup_seconds, signing_seconds, trades_seconds: seconds, final_state_seconds },
            snapshot,
            chain_id,
            runner,
        })
    }
}

/// Checks every engine against the recording, over the transactions it executed (Anvil one at a
/// time runs the first ones only), and returns the gas Anvil charged beyond the rules: before
/// London, Anvil's known refund defect is measured (in each engine's `refund_gap`), not hidden.
fn check_gas(engines: &mut [EngineResult], txs: &[RawTx], hardfork: Hardfork) -> Result<u64, ScenarioError> {
    let mut anvil_refund_gap = 0;
    let differ: Vec<String> = engines
        .iter_mut()
        .filter_map(|e| {
            let recorded: u64 = txs.iter().take(e.transactions as usize).map(|t| t.gas).sum();
            let gap = e.gas_used.saturating_sub(recorded);
            if e.engine.starts_with("anvil")
                && hardfork < Hardfork::London
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
    Ok(anvil_refund_gap)
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
    let envs = crate::evm::tx_envs(&snapshot, txs.iter().map(|tx| (tx.from, tx.to, &tx.data)), chain_id);
    let mut evm = crate::evm::build_evm(snapshot, spec, chain_id);
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

mod anvil;

pub use anvil::fund;
