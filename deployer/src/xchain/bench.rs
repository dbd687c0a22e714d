//! The latency of cross-chain settlement (`kessai xtrade bench`): two spawned Anvils with interval
//! mining, both sides deployed, two of three attestors and one relayer running as tasks of this
//! process (the same [`Attestor::step`] and [`Relayer::step`] that `kessai attest` and `kessai relay`
//! loop), and trades submitted at a steady rate — the seller locks on A while the payer pays on B.
//!
//! Each trade is timed from the block that includes its payment to the block that includes its
//! delivery (B's commit is in an earlier block and final by then: the attestors sign it only with
//! its confirmations). A block's time is the wall time at which a watcher polling both nodes every
//! [`WATCH_POLL`] first saw it, the same for both chains, so the figures do not depend on the two
//! nodes' clocks agreeing (their block timestamps are whole seconds, each from its own start).

use super::{
    Statement,
    plan::{CrossChainSpec, Side, plan, xlabels},
    relay::{Attestor, Endpoint, Relayed, Relayer},
};
use crate::{
    anvil::{self, AnvilInstance, AnvilOptions},
    chain::{Chain, Receipt, Tx},
    error::DeployerError,
    ops::Suite,
    plan::{Plan, PreparedStep, StepRunner, SuiteAccounts, SuiteSpec, execute_with},
    profile::ChainProfile,
    rpc::{RpcChain, RpcOptions},
};
use alloy::{
    primitives::{Address, B256, U256, keccak256},
    providers::ext::AnvilApi,
    signers::local::PrivateKeySigner,
    sol_types::{SolCall, SolEvent},
};
use kessai_bindings::{
    cross_chain::{Terms, for_payment, states},
    cross_chain_delivery::CrossChainDelivery,
    cross_chain_payment::CrossChainPayment,
    deposit_token::DepositToken,
    investor_registry::InvestorRegistry,
    security_token::SecurityToken,
};
use serde::Serialize;
use std::{
    collections::HashMap,
    fmt,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

/// How often the watcher asks both nodes for their latest block.
pub const WATCH_POLL: Duration = Duration::from_millis(20);

/// The goal the issue set: median latency at most this many seconds…
pub const GOAL_P50_SECONDS: f64 = 4.0;
/// …and the 99th percentile at most this many.
pub const GOAL_P99_SECONDS: f64 = 10.0;

/// Attestors configured on both verifiers, and the signatures a statement needs.
const ATTESTORS: usize = 3;
const THRESHOLD: u8 = 2;
/// Attestors running (the third is absent).
const RUNNING_ATTESTORS: usize = 2;
/// Units and cash of every trade.
const UNITS: u64 = 1;
const AMOUNT: u64 = 1_000;

/// What to run.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BenchOptions {
    /// Trades to settle.
    pub trades: usize,
    /// Trades submitted per second.
    pub rate: f64,
    /// Seconds between blocks on both chains.
    pub block_time: u64,
    /// Seller and payer accounts that submit (each sends one lock or payment at a time and waits
    /// for its receipt); 0 chooses three per trade per second.
    pub senders: usize,
    /// Milliseconds between the attestors' and the relayer's passes.
    pub poll_ms: u64,
    /// Blocks on top of a lock on A before the attestors sign it.
    pub asset_confirmations: u64,
    /// Blocks on top of a commit on B before the attestors sign it.
    pub payment_confirmations: u64,
    /// Seconds to wait, after the last trade is submitted, for every trade to settle.
    pub settle_timeout_s: u64,
}

impl Default for BenchOptions {
    fn default() -> Self {
        Self {
            trades: 1_000,
            rate: 20.0,
            block_time: 1,
            senders: 0,
            poll_ms: 100,
            asset_confirmations: 0,
            payment_confirmations: 1,
            settle_timeout_s: 120,
        }
    }
}

impl BenchOptions {
    /// The seller/payer pairs that submit.
    pub fn sender_pairs(&self) -> usize {
        let wanted = if self.senders == 0 { (self.rate * 3.0).ceil() as usize } else { self.senders };
        wanted.clamp(1, self.trades.max(1))
    }
}

/// Latency percentiles, in seconds (nearest rank).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct Percentiles {
    /// Median.
    pub p50: f64,
    /// 90th percentile.
    pub p90: f64,
    /// 99th percentile.
    pub p99: f64,
    /// Largest.
    pub max: f64,
    /// Mean.
    pub mean: f64,
}

impl Percentiles {
    /// The percentiles of `samples` (seconds); all zero when there are none.
    pub fn of(samples: &[f64]) -> Self {
        if samples.is_empty() {
            return Self::default();
        }
        let mut sorted = samples.to_vec();
        sorted.sort_by(f64::total_cmp);
        let rank = |q: f64| sorted[((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len()) - 1];
        Self {
            p50: rank(0.50),
            p90: rank(0.90),
            p99: rank(0.99),
            max: sorted[sorted.len() - 1],
            mean: sorted.iter().sum::<f64>() / sorted.len() as f64,
        }
    }
}

/// Where the time goes: for each milestone of a trade, the seconds from its payment's block to it
/// over the trades that reached it (negative when it came before; `None` when none did).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct Stages {
    /// The lock's block on A.
    pub lock_included: Option<Percentiles>,
    /// The lock signed by the threshold of attestors.
    pub lock_attested: Option<Percentiles>,
    /// The commit's block on B.
    pub commit_included: Option<Percentiles>,
    /// The commit signed by the threshold of attestors (after its confirmations).
    pub commit_attested: Option<Percentiles>,
    /// The delivery's block on A: both legs final.
    pub delivered: Option<Percentiles>,
}

/// The goal and how the run compares.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Goal {
    /// The median latency the goal allows, in seconds.
    pub p50_target: f64,
    /// The 99th percentile it allows.
    pub p99_target: f64,
    /// Whether the measured median is within it.
    pub p50_met: bool,
    /// Whether the measured 99th percentile is within it.
    pub p99_met: bool,
}

/// The attestors of a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Attestors {
    /// In the verifiers' sets.
    pub configured: usize,
    /// Running (the others are absent).
    pub running: usize,
    /// Signatures a statement needs.
    pub threshold: u8,
}

/// The result of a run.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BenchReport {
    /// What was run.
    pub options: BenchOptions,
    /// Seller/payer pairs that submitted.
    pub sender_pairs: usize,
    /// The attestors.
    pub attestors: Attestors,
    /// Trades whose lock and payment were both accepted.
    pub submitted: usize,
    /// Trades delivered on A (both legs final).
    pub settled: usize,
    /// The first refusal of a lock or payment, if any.
    pub first_send_error: Option<String>,
    /// Seconds spent spawning, deploying and funding.
    pub setup_s: f64,
    /// Seconds from the first submission to the last delivery.
    pub wall_s: f64,
    /// Settled trades per second over `wall_s`.
    pub throughput: f64,
    /// Seconds from each trade's payment block to its delivery block.
    pub latency: Percentiles,
    /// Medians of the milestones between.
    pub stages: Stages,
    /// Relayer passes that failed (a node not answering), and steps the contracts refused.
    pub relayer_failed_passes: usize,
    /// Steps the contracts refused (including repeats).
    pub relayer_refusals: usize,
    /// Attestor passes that failed.
    pub attestor_failed_passes: usize,
    /// The comparison with the goal.
    pub goal: Goal,
}

impl fmt::Display for BenchReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let o = &self.options;
        let Attestors { configured: n, running, threshold: k } = self.attestors;
        writeln!(
            f,
            "cross-chain settlement on two Anvils with {} s blocks: {} trades at {}/s from {} seller/payer pairs, \
             {running} of {n} attestors running ({k} of {n} needed), 1 relayer (a task per chain), passes every {} ms",
            o.block_time, o.trades, o.rate, self.sender_pairs, o.poll_ms
        )?;
        writeln!(
            f,
            "settled {} of {} ({} submitted) in {:.1} s: {:.1} trades/s; setup {:.1} s",
            self.settled, o.trades, self.submitted, self.wall_s, self.throughput, self.setup_s
        )?;
        if let Some(error) = &self.first_send_error {
            writeln!(f, "a lock or payment was refused: {error}")?;
        }
        if self.relayer_failed_passes + self.relayer_refusals + self.attestor_failed_passes > 0 {
            writeln!(
                f,
                "relayer: {} failed passes, {} refused steps; attestors: {} failed passes",
                self.relayer_failed_passes, self.relayer_refusals, self.attestor_failed_passes
            )?;
        }
        let l = &self.latency;
        writeln!(f, "latency from the payment's block to the delivery's block (wall time):")?;
        writeln!(
            f,
            "  p50 {:.2} s   p90 {:.2} s   p99 {:.2} s   max {:.2} s   mean {:.2} s",
            l.p50, l.p90, l.p99, l.max, l.mean
        )?;
        writeln!(f, "where the time goes (seconds from the payment's block):")?;
        writeln!(f, "  {:<28} {:>6} {:>6} {:>6}", "", "p50", "p90", "max")?;
        let s = &self.stages;
        for (what, at) in [
            ("lock in its block on A", s.lock_included),
            ("lock attested", s.lock_attested),
            ("commit in its block on B", s.commit_included),
            ("commit attested", s.commit_attested),
            ("delivery in its block on A", s.delivered),
        ] {
            match at {
                Some(p) => writeln!(f, "  {what:<28} {:>+6.2} {:>+6.2} {:>+6.2}", p.p50, p.p90, p.max)?,
                None => writeln!(f, "  {what:<28} {:>6}", "-")?,
            }
        }
        let met = |ok: bool| if ok { "met" } else { "missed" };
        write!(
            f,
            "goal p50 ≤ {} s: {} ({:.2} s); p99 ≤ {} s: {} ({:.2} s)",
            self.goal.p50_target,
            met(self.goal.p50_met),
            l.p50,
            self.goal.p99_target,
            met(self.goal.p99_met),
            l.p99
        )
    }
}

/// Sends each wave of the plan's independent steps together, so a chain with interval mining
/// deploys in a few blocks rather than one block per step.
struct Waves;

impl StepRunner<RpcChain> for Waves {
    fn waves(&self, plan: &Plan) -> Vec<Vec<usize>> {
        plan.waves()
    }

    async fn run(&mut self, chain: &mut RpcChain, steps: &[&PreparedStep<'_>]) -> Result<Vec<Receipt>, DeployerError> {
        let txs: Vec<Tx> = steps.iter().map(|s| s.tx.clone()).collect();
        all_sent(chain.send_batch(&txs, |_, _| Ok(())).await)
    }
}

/// The receipts of a batch in which every transaction must succeed.
fn all_sent(results: Vec<Option<Result<Receipt, DeployerError>>>) -> Result<Vec<Receipt>, DeployerError> {
    let mut receipts = Vec::with_capacity(results.len());
    for result in results {
        match result {
            Some(result) => receipts.push(result?),
            None => return Err(DeployerError::Plan("a transaction of the batch was not sent".into())),
        }
    }
    Ok(receipts)
}

/// A transaction calling `to`.
fn tx<C: SolCall>(from: Address, to: Address, call: &C) -> Tx {
    Tx { from, to: Some(to), data: call.abi_encode().into() }
}

/// A key derived from a label (the bench's own accounts, the same on every run).
fn derived_key(label: &str) -> Result<PrivateKeySigner, DeployerError> {
    PrivateKeySigner::from_bytes(&keccak256(label))
        .map_err(|e| DeployerError::Keys(format!("cannot derive the key {label:?}: {e}")))
}

/// Everything a run sets up.
struct Setup {
    nodes: (AnvilInstance, AnvilInstance),
    chain_ids: (u64, u64),
    delivery: Address,
    payment: Address,
    security: Address,
    cash: Address,
    attestors: Vec<PrivateKeySigner>,
    relayer: PrivateKeySigner,
    sellers: Vec<PrivateKeySigner>,
    payers: Vec<PrivateKeySigner>,
    buyers: Vec<Address>,
    payees: Vec<Address>,
}

/// Spawns both nodes, deploys both sides and registers and funds the parties: on A the sellers (with
/// units for their trades) and two buyers, on B the payers (with cash and ether) and two payees.
async fn set_up(options: &BenchOptions, pairs: usize) -> Result<Setup, DeployerError> {
    let block_time = Some(options.block_time);
    let a_node = AnvilInstance::spawn(&AnvilOptions { block_time, ..AnvilOptions::emulating(ChainProfile::Ibet) })?;
    let b_node = AnvilInstance::spawn(&AnvilOptions { hardfork: None, block_time, ..AnvilOptions::default() })?;
    let dev = anvil::dev_signers();
    let mut a = RpcChain::connect_with(&a_node.endpoint(), dev.clone(), ChainProfile::Ibet.options())?;
    let mut b = RpcChain::connect(&b_node.endpoint(), dev.clone())?;
    let accounts = anvil::dev_accounts();
    let [operator, registrar, issuer, bank, authority, buyer_1, buyer_2, _, payee_1, payee_2] = accounts[..] else {
        return Err(DeployerError::Keys("Anvil's ten development accounts are needed".into()));
    };
    let attestors = (0..ATTESTORS)
        .map(|i| derived_key(&format!("kessai xtrade bench attestor {i}")))
        .collect::<Result<Vec<_>, _>>()?;
    let sellers =
        (0..pairs).map(|i| derived_key(&format!("kessai xtrade bench seller {i}"))).collect::<Result<Vec<_>, _>>()?;
    let payers =
        (0..pairs).map(|i| derived_key(&format!("kessai xtrade bench payer {i}"))).collect::<Result<Vec<_>, _>>()?;
    let spec = CrossChainSpec {
        suite: SuiteSpec {
            accounts: SuiteAccounts { operator, registrar, issuer, bank, authority },
            security: ("Kessai Bond".into(), "KB".into()),
            deposit: ("DCJPY".into(), "DCJPY".into()),
            minting: Default::default(),
            extra_banks: Vec::new(),
            instrument: None,
        },
        attestors: attestors.iter().map(PrivateKeySigner::address).collect(),
        threshold: THRESHOLD,
        resolvers: vec![authority, registrar],
        resolution_approvals: 2,
        resolution_delay: 30 * 24 * 3_600,
    };
    let (plan_a, plan_b) = (plan(&spec, Side::Asset), plan(&spec, Side::Payment));
    let (mut waves_a, mut waves_b) = (Waves, Waves);
    let (on_a, on_b) =
        tokio::join!(execute_with(&mut a, &plan_a, &mut waves_a), execute_with(&mut b, &plan_b, &mut waves_b));
    let (on_a, on_b) = (on_a?, on_b?);
    let (asset, pay_suite) = (Suite::from_deployment(&on_a)?, Suite::from_deployment(&on_b)?);

    let per_pair = U256::from(options.trades.div_ceil(pairs).max(1));
    let id = |account| InvestorRegistry::registerCall {
        account,
        investorClass: 0,
        country: 392,
        kycExpiry: 4_000_000_000,
        dataHash: B256::ZERO,
    };
    let buyers = vec![buyer_1, buyer_2];
    let payees = vec![payee_1, payee_2];
    let on_asset = async {
        let seller_addrs = sellers.iter().map(PrivateKeySigner::address);
        let registered: Vec<Tx> = seller_addrs
            .clone()
            .chain(buyers.iter().copied())
            .map(|who| tx(registrar, asset.registry, &id(who)))
            .collect();
        all_sent(a.send_batch(&registered, |_, _| Ok(())).await)?;
        let units = per_pair * U256::from(UNITS);
        let issued: Vec<Tx> = seller_addrs
            .map(|to| tx(issuer, asset.security, &SecurityToken::issueCall { to, amount: units }))
            .collect();
        all_sent(a.send_batch(&issued, |_, _| Ok(())).await)
    };
    let on_payment = async {
        let ether = U256::from(10u64).pow(U256::from(21u64));
        for payer in &payers {
            b.provider().anvil_set_balance(payer.address(), ether).await.map_err(DeployerError::Rpc)?;
        }
        let payer_addrs = payers.iter().map(PrivateKeySigner::address);
        let registered: Vec<Tx> = payer_addrs
            .clone()
            .chain(payees.iter().copied())
            .map(|who| tx(bank, pay_suite.bank_registry, &id(who)))
            .collect();
        all_sent(b.send_batch(&registered, |_, _| Ok(())).await)?;
        let cash = per_pair * U256::from(AMOUNT);
        let issued: Vec<Tx> = payer_addrs
            .enumerate()
            .map(|(i, to)| {
                let call = DepositToken::issueCall { to, amount: cash, depositRef: B256::from(U256::from(i + 1)) };
                tx(bank, pay_suite.deposit, &call)
            })
            .collect();
        all_sent(b.send_batch(&issued, |_, _| Ok(())).await)
    };
    let (funded_a, funded_b) = tokio::join!(on_asset, on_payment);
    funded_a?;
    funded_b?;
    Ok(Setup {
        chain_ids: (on_a.chain_id, on_b.chain_id),
        delivery: on_a.address(xlabels::DELIVERY)?,
        payment: on_b.address(xlabels::PAYMENT)?,
        security: asset.security,
        cash: pay_suite.deposit,
        nodes: (a_node, b_node),
        attestors,
        relayer: dev[7].clone(),
        sellers,
        payers,
        buyers,
        payees,
    })
}

/// What an actor's passes did (each item with the time its pass ended), and the passes that failed.
struct Passes<T> {
    what: &'static str,
    done: Vec<(Instant, T)>,
    failed: usize,
}

impl<T> Passes<T> {
    fn new(what: &'static str) -> Self {
        Self { what, done: Vec::new(), failed: 0 }
    }

    fn record(&mut self, pass: Result<Vec<T>, DeployerError>) {
        match pass {
            Ok(items) => {
                let now = Instant::now();
                self.done.extend(items.into_iter().map(|item| (now, item)));
            }
            Err(e) => {
                self.failed += 1;
                tracing::warn!(target: "kessai::xchain", "bench {}: this pass failed: {e}", self.what);
            }
        }
    }
}

/// Stops the actors when the run ends, however it ends.
struct StopOnDrop(Arc<AtomicBool>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// An attestor's passes, a pause between two, until `stop`.
async fn attest(
    mut attestor: Attestor,
    (mut a, mut b): (RpcChain, RpcChain),
    poll: Duration,
    stop: Arc<AtomicBool>,
) -> Passes<Statement> {
    let mut passes = Passes::new("attestor");
    while !stop.load(Ordering::Relaxed) {
        passes.record(attestor.step(&mut a, &mut b).await);
        tokio::time::sleep(poll).await;
    }
    passes
}

/// The relayer's passes, a pause between two, until `stop`.
async fn relay(
    mut relayer: Relayer,
    (mut a, mut b): (RpcChain, RpcChain),
    poll: Duration,
    stop: Arc<AtomicBool>,
) -> Passes<Relayed> {
    let mut passes = Passes::new("relayer");
    while !stop.load(Ordering::Relaxed) {
        passes.record(relayer.step(&mut a, &mut b).await);
        tokio::time::sleep(poll).await;
    }
    passes
}

/// When each trade reached each milestone (wall time), by terms hash.
#[derive(Default)]
struct Milestones {
    paid: Option<Instant>,
    locked: Option<Instant>,
    lock_attested: Option<Instant>,
    committed: Option<Instant>,
    commit_attested: Option<Instant>,
    delivered: Option<Instant>,
}

/// Follows one chain's contract: at each new block, the events since the last, stamped with the
/// time the block was first seen.
struct Watch {
    chain: RpcChain,
    contract: Address,
    next: u64,
}

impl Watch {
    async fn poll(&mut self, seen: &mut impl FnMut(&alloy::primitives::LogData, Instant)) -> Result<(), DeployerError> {
        let head = self.chain.head().await?;
        if head < self.next {
            return Ok(());
        }
        let now = Instant::now();
        for located in self.chain.logs(&[self.contract], self.next, Some(head)).await? {
            seen(&located.log.data, now);
        }
        self.next = head + 1;
        Ok(())
    }
}

/// Runs the benchmark: sets up both chains, submits `options.trades` trades at `options.rate` per
/// second with the attestors and the relayer running, and waits until every trade is delivered (or
/// `options.settle_timeout_s` after the last submission). `progress` hears what the run is doing.
pub async fn run(options: &BenchOptions, progress: &mut impl FnMut(&str)) -> Result<BenchReport, DeployerError> {
    if options.trades == 0 || options.rate.is_nan() || options.rate <= 0.0 {
        return Err(DeployerError::Config("the bench needs at least one trade and a positive rate".into()));
    }
    let pairs = options.sender_pairs();
    let started = Instant::now();
    progress(&format!(
        "spawning two Anvils with {} s blocks, deploying both sides and funding {pairs} seller/payer pairs",
        options.block_time
    ));
    let setup = set_up(options, pairs).await?;
    let (url_a, url_b) = (setup.nodes.0.endpoint(), setup.nodes.1.endpoint());
    let inbox = std::env::temp_dir().join(format!("kessai-xtrade-bench-{}-{}", std::process::id(), setup.delivery));
    let _ = std::fs::remove_dir_all(&inbox);
    let asset =
        Endpoint { chain_id: setup.chain_ids.0, contract: setup.delivery, confirmations: options.asset_confirmations };
    let payment =
        Endpoint { chain_id: setup.chain_ids.1, contract: setup.payment, confirmations: options.payment_confirmations };
    let stop = Arc::new(AtomicBool::new(false));
    let _stop_on_return = StopOnDrop(stop.clone());
    let poll = Duration::from_millis(options.poll_ms);

    let mut attestor_tasks = Vec::new();
    for key in setup.attestors.iter().take(RUNNING_ATTESTORS) {
        let attestor = Attestor::new(key.clone(), asset, payment, inbox.clone());
        let chains = (RpcChain::connect(&url_a, Vec::new())?, RpcChain::connect(&url_b, Vec::new())?);
        attestor_tasks.push(tokio::spawn(attest(attestor, chains, poll, stop.clone())));
    }
    // One relayer account, sending on each chain from its own task: deliveries do not wait for the
    // commits of the same pass to be mined, nor commits for deliveries.
    let mut relayer_tasks = Vec::new();
    for side in [Side::Payment, Side::Asset] {
        let key = setup.relayer.clone();
        let relayer = Relayer::new(key.address(), asset, payment, inbox.clone()).only(side);
        let keys = |on: Side| if on == side { vec![key.clone()] } else { Vec::new() };
        let chains = (
            RpcChain::connect_with(&url_a, keys(Side::Asset), ChainProfile::Ibet.options())?,
            RpcChain::connect(&url_b, keys(Side::Payment))?,
        );
        relayer_tasks.push(tokio::spawn(relay(relayer, chains, poll, stop.clone())));
    }

    // The deadline is B's clock an hour on: no trade of the run aborts.
    let mut watch_b = Watch { chain: RpcChain::connect(&url_b, Vec::new())?, contract: setup.payment, next: 0 };
    let deadline = watch_b.chain.timestamp().await? + 3_600;
    watch_b.next = watch_b.chain.head().await? + 1;
    let mut watch_a = Watch { chain: RpcChain::connect(&url_a, Vec::new())?, contract: setup.delivery, next: 0 };
    watch_a.next = watch_a.chain.head().await? + 1;

    let setup_s = started.elapsed().as_secs_f64();
    progress(&format!("submitting {} trades at {}/s", options.trades, options.rate));
    let first_send = Instant::now();
    let sender_options = RpcOptions { poll: Duration::from_millis(100), ..RpcOptions::default() };
    let mut hashes = HashMap::new();
    let mut sender_tasks = Vec::new();
    for (p, (seller, payer)) in setup.sellers.iter().zip(&setup.payers).enumerate() {
        let mut trades = Vec::new();
        for i in (p..options.trades).step_by(pairs) {
            let terms = Terms {
                id: B256::from(U256::from(i + 1)),
                assetChainId: U256::from(setup.chain_ids.0),
                delivery: setup.delivery,
                security: setup.security,
                seller: seller.address(),
                buyer: setup.buyers[i % setup.buyers.len()],
                units: U256::from(UNITS),
                paymentChainId: U256::from(setup.chain_ids.1),
                payment: setup.payment,
                cash: setup.cash,
                payer: payer.address(),
                payee: setup.payees[i % setup.payees.len()],
                amount: U256::from(AMOUNT),
                deadline,
            };
            hashes.insert(super::terms_hash(&terms), i);
            let due = first_send + Duration::from_secs_f64(i as f64 / options.rate);
            trades.push((due, terms));
        }
        let mut a = RpcChain::connect_with(
            &url_a,
            vec![seller.clone()],
            RpcOptions { poll: sender_options.poll, ..ChainProfile::Ibet.options() },
        )?;
        let mut b = RpcChain::connect_with(&url_b, vec![payer.clone()], sender_options.clone())?;
        let (delivery, pay) = (setup.delivery, setup.payment);
        sender_tasks.push(tokio::spawn(async move {
            let mut outcomes = Vec::new();
            for (due, terms) in trades {
                tokio::time::sleep_until(due.into()).await;
                let lock = CrossChainDelivery::lockCall { terms: terms.clone() };
                let paid = CrossChainPayment::payCall { terms: for_payment(&terms) };
                let (locked, paid) =
                    tokio::join!(a.send_call(terms.seller, delivery, &lock), b.send_call(terms.payer, pay, &paid));
                outcomes.push(locked.and(paid).map(|_| ()).map_err(|e| e.to_string()));
            }
            outcomes
        }));
    }

    // Watch both chains until every trade is delivered or the wait after the last submission ends.
    let mut milestones: HashMap<B256, Milestones> = HashMap::new();
    let last_due = first_send + Duration::from_secs_f64((options.trades - 1) as f64 / options.rate);
    let give_up = last_due + Duration::from_secs(options.settle_timeout_s);
    let mut delivered = 0;
    let mut reported = Instant::now();
    while delivered < options.trades && Instant::now() < give_up {
        let mut on_b = |data: &alloy::primitives::LogData, at: Instant| {
            if let Ok(e) = CrossChainPayment::Paid::decode_log_data(data) {
                milestones.entry(e.termsHash).or_default().paid = Some(at);
            } else if let Ok(e) = CrossChainPayment::Committed::decode_log_data(data) {
                milestones.entry(e.termsHash).or_default().committed = Some(at);
            }
        };
        if let Err(e) = watch_b.poll(&mut on_b).await {
            tracing::warn!(target: "kessai::xchain", "bench watcher (payment chain): {e}");
        }
        let mut on_a = |data: &alloy::primitives::LogData, at: Instant| {
            if let Ok(e) = CrossChainDelivery::Locked::decode_log_data(data) {
                milestones.entry(e.termsHash).or_default().locked = Some(at);
            } else if let Ok(e) = CrossChainDelivery::Delivered::decode_log_data(data) {
                milestones.entry(e.termsHash).or_default().delivered = Some(at);
                delivered += 1;
            }
        };
        if let Err(e) = watch_a.poll(&mut on_a).await {
            tracing::warn!(target: "kessai::xchain", "bench watcher (asset chain): {e}");
        }
        if reported.elapsed() >= Duration::from_secs(5) {
            reported = Instant::now();
            progress(&format!("{delivered} of {} trades settled", options.trades));
        }
        tokio::time::sleep(WATCH_POLL).await;
    }
    let last_delivery = milestones.values().filter_map(|m| m.delivered).max();
    stop.store(true, Ordering::Relaxed);

    let mut submitted = 0;
    let mut first_send_error = None;
    for task in sender_tasks {
        for outcome in task.await.map_err(|e| DeployerError::Answer(format!("a sender task failed: {e}")))? {
            match outcome {
                Ok(()) => submitted += 1,
                Err(e) => {
                    first_send_error.get_or_insert(e);
                }
            }
        }
    }
    let mut attestor_failed_passes = 0;
    let mut signatures: HashMap<(B256, u8), Vec<Instant>> = HashMap::new();
    for task in attestor_tasks {
        let passes = task.await.map_err(|e| DeployerError::Answer(format!("an attestor task failed: {e}")))?;
        attestor_failed_passes += passes.failed;
        for (at, statement) in passes.done {
            let Statement { terms_hash, state, .. } = statement;
            signatures.entry((terms_hash, state)).or_default().push(at);
        }
    }
    let (mut relayer_failed_passes, mut relayer_refusals) = (0, 0);
    for task in relayer_tasks {
        let relayed = task.await.map_err(|e| DeployerError::Answer(format!("a relayer task failed: {e}")))?;
        relayer_failed_passes += relayed.failed;
        relayer_refusals += relayed.done.iter().filter(|(_, r)| matches!(r, Relayed::Refused(..))).count();
    }
    // A statement counts as attested when the threshold-th attestor signed it.
    for ((hash, state), mut times) in signatures {
        times.sort();
        let Some(at) = times.get(usize::from(THRESHOLD) - 1).copied() else { continue };
        let m = milestones.entry(hash).or_default();
        match state {
            states::LOCKED => m.lock_attested = Some(at),
            states::COMMITTED => m.commit_attested = Some(at),
            _ => {}
        }
    }
    drop(setup);
    let _ = std::fs::remove_dir_all(&inbox);

    let ours: Vec<&Milestones> = milestones.iter().filter(|(h, _)| hashes.contains_key(*h)).map(|(_, m)| m).collect();
    let since_paid = |pick: fn(&Milestones) -> Option<Instant>| -> Vec<f64> {
        ours.iter()
            .filter_map(|m| {
                let (paid, at) = (m.paid?, pick(m)?);
                Some(if at >= paid { (at - paid).as_secs_f64() } else { -(paid - at).as_secs_f64() })
            })
            .collect()
    };
    let spread = |samples: Vec<f64>| (!samples.is_empty()).then(|| Percentiles::of(&samples));
    let latencies = since_paid(|m| m.delivered);
    let latency = Percentiles::of(&latencies);
    let wall_s = last_delivery.map_or(0.0, |last| last.saturating_duration_since(first_send).as_secs_f64());
    Ok(BenchReport {
        options: options.clone(),
        sender_pairs: pairs,
        attestors: Attestors { configured: ATTESTORS, running: RUNNING_ATTESTORS, threshold: THRESHOLD },
        submitted,
        settled: latencies.len(),
        first_send_error,
        setup_s,
        wall_s,
        throughput: if wall_s > 0.0 { latencies.len() as f64 / wall_s } else { 0.0 },
        stages: Stages {
            lock_included: spread(since_paid(|m| m.locked)),
            lock_attested: spread(since_paid(|m| m.lock_attested)),
            commit_included: spread(since_paid(|m| m.committed)),
            commit_attested: spread(since_paid(|m| m.commit_attested)),
            delivered: spread(since_paid(|m| m.delivered)),
        },
        relayer_failed_passes,
        relayer_refusals,
        attestor_failed_passes,
        goal: Goal {
            p50_target: GOAL_P50_SECONDS,
            p99_target: GOAL_P99_SECONDS,
            p50_met: !latencies.is_empty() && latency.p50 <= GOAL_P50_SECONDS,
            p99_met: !latencies.is_empty() && latency.p99 <= GOAL_P99_SECONDS,
        },
        latency,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_take_the_nearest_rank_and_stay_ordered() {
        let samples: Vec<f64> = (1..=100).map(f64::from).collect();
        let p = Percentiles::of(&samples);
        assert_eq!((p.p50, p.p90, p.p99, p.max), (50.0, 90.0, 99.0, 100.0));
        assert!((p.mean - 50.5).abs() < 1e-9);
        let one = Percentiles::of(&[2.5]);
        assert_eq!((one.p50, one.p99, one.max), (2.5, 2.5, 2.5));
        assert_eq!(Percentiles::of(&[]), Percentiles::default());
    }
}
