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

mod report;
mod setup;

pub use report::{Attestors, BenchReport, Goal, Percentiles, Stages};

use super::{
    Statement,
    plan::Side,
    relay::{Attestor, Endpoint, Relayed, Relayer},
    trade::Order,
};
use crate::{
    chain::Chain,
    error::DeployerError,
    profile::ChainProfile,
    rpc::{RpcChain, RpcOptions},
};
use alloy::{
    primitives::{Address, B256, LogData, U256},
    sol_types::SolEvent,
};
use kessai_bindings::{
    cross_chain::{Terms, for_payment, states},
    cross_chain_delivery::CrossChainDelivery,
    cross_chain_payment::CrossChainPayment,
};
use serde::Serialize;
use setup::{Setup, set_up};
use std::{
    collections::HashMap,
    path::Path,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};
use tokio::task::JoinHandle;

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
    async fn poll(&mut self, seen: &mut impl FnMut(&LogData, Instant)) -> Result<(), DeployerError> {
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

/// A sender task: it returns, for each of its trades, whether both the lock and the payment were
/// accepted, or the first refusal.
type Sender = JoinHandle<Vec<Result<(), String>>>;

/// The attestor and relayer tasks of a run, each returning its passes once the run stops it.
struct Actors {
    attestors: Vec<JoinHandle<Passes<Statement>>>,
    relayers: Vec<JoinHandle<Passes<Relayed>>>,
}

/// What the sender tasks and the actors reported once the run stopped them.
struct Tally {
    submitted: usize,
    first_send_error: Option<String>,
    attestor_failed_passes: usize,
    relayer_failed_passes: usize,
    relayer_refusals: usize,
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
    let inbox =
        std::env::temp_dir().join(format!("kessai-xtrade-bench-{}-{}", std::process::id(), setup.suites.delivery));
    let _ = std::fs::remove_dir_all(&inbox);
    let stop = Arc::new(AtomicBool::new(false));
    let _stop_on_return = StopOnDrop(stop.clone());
    let actors = spawn_actors(options, &setup, &inbox, &stop)?;
    let (mut watches, deadline) = Watches::start(&setup).await?;

    let setup_s = started.elapsed().as_secs_f64();
    progress(&format!("submitting {} trades at {}/s", options.trades, options.rate));
    let first_send = Instant::now();
    let (hashes, senders) = submit_trades(options, &setup, pairs, deadline, first_send)?;
    let mut milestones = watches.until_delivered(options, first_send, progress).await;
    let last_delivery = milestones.values().filter_map(|m| m.delivered).max();
    stop.store(true, Ordering::Relaxed);

    let tally = collect(senders, actors, &mut milestones).await?;
    drop(setup);
    let _ = std::fs::remove_dir_all(&inbox);

    let ours: Vec<&Milestones> = milestones.iter().filter(|(h, _)| hashes.contains_key(*h)).map(|(_, m)| m).collect();
    let wall_s = last_delivery.map_or(0.0, |last| last.saturating_duration_since(first_send).as_secs_f64());
    Ok(report(options, pairs, setup_s, wall_s, &ours, tally))
}

/// Starts the running attestors, each with its own connections to both chains, and the relayer,
/// which sends on each chain from its own task. They share the inbox at `inbox` and pass until
/// `stop` is set.
fn spawn_actors(
    options: &BenchOptions,
    setup: &Setup,
    inbox: &Path,
    stop: &Arc<AtomicBool>,
) -> Result<Actors, DeployerError> {
    let (url_a, url_b) = (setup.nodes.0.endpoint(), setup.nodes.1.endpoint());
    let asset = Endpoint { confirmations: options.asset_confirmations, ..setup.suites.endpoint(Side::Asset) };
    let payment = Endpoint { confirmations: options.payment_confirmations, ..setup.suites.endpoint(Side::Payment) };
    let poll = Duration::from_millis(options.poll_ms);

    let mut attestors = Vec::new();
    for key in setup.attestors.iter().take(RUNNING_ATTESTORS) {
        let attestor = Attestor::new(key.clone(), asset, payment, inbox.to_path_buf());
        let chains = (RpcChain::connect(&url_a, Vec::new())?, RpcChain::connect(&url_b, Vec::new())?);
        attestors.push(tokio::spawn(attest(attestor, chains, poll, stop.clone())));
    }
    // One relayer account, sending on each chain from its own task: deliveries do not wait for the
    // commits of the same pass to be mined, nor commits for deliveries.
    let mut relayers = Vec::new();
    for side in [Side::Payment, Side::Asset] {
        let key = setup.relayer.clone();
        let relayer = Relayer::new(key.address(), asset, payment, inbox.to_path_buf()).only(side);
        let keys = |on: Side| if on == side { vec![key.clone()] } else { Vec::new() };
        let chains = (
            RpcChain::connect_with(&url_a, keys(Side::Asset), ChainProfile::Ibet.options())?,
            RpcChain::connect(&url_b, keys(Side::Payment))?,
        );
        relayers.push(tokio::spawn(relay(relayer, chains, poll, stop.clone())));
    }
    Ok(Actors { attestors, relayers })
}

/// Starts one sender task for each seller/payer pair. Trade `i` is the pair `i % pairs`'s, due
/// `i / rate` seconds after `first_send`; its task sends the lock on A and the payment on B together
/// when it is due and waits for both receipts before the next. Returns every trade's number by its
/// terms hash, and the tasks.
fn submit_trades(
    options: &BenchOptions,
    setup: &Setup,
    pairs: usize,
    deadline: u64,
    first_send: Instant,
) -> Result<(HashMap<B256, usize>, Vec<Sender>), DeployerError> {
    let (url_a, url_b) = (setup.nodes.0.endpoint(), setup.nodes.1.endpoint());
    let sender_options = RpcOptions { poll: Duration::from_millis(100), ..RpcOptions::default() };
    let mut hashes = HashMap::new();
    let mut senders = Vec::new();
    for (p, (seller, payer)) in setup.sellers.iter().zip(&setup.payers).enumerate() {
        let mut trades = Vec::new();
        for i in (p..options.trades).step_by(pairs) {
            let order = Order {
                seller: seller.address(),
                buyer: setup.buyers[i % setup.buyers.len()],
                units: U256::from(UNITS),
                payer: payer.address(),
                payee: setup.payees[i % setup.payees.len()],
                amount: U256::from(AMOUNT),
            };
            let terms = setup.suites.terms(&order, B256::from(U256::from(i + 1)), deadline);
            hashes.insert(super::terms_hash(&terms), i);
            let due = first_send + Duration::from_secs_f64(i as f64 / options.rate);
            trades.push((due, terms));
        }
        let a = RpcChain::connect_with(
            &url_a,
            vec![seller.clone()],
            RpcOptions { poll: sender_options.poll, ..ChainProfile::Ibet.options() },
        )?;
        let b = RpcChain::connect_with(&url_b, vec![payer.clone()], sender_options.clone())?;
        senders.push(tokio::spawn(send_trades((a, b), (setup.suites.delivery, setup.suites.payment), trades)));
    }
    Ok((hashes, senders))
}

/// Sends each trade's lock to `delivery` on A and its payment to `payment` on B when the trade is
/// due, both at once, and waits for both receipts before the next trade. Returns what became of each.
async fn send_trades(
    (mut a, mut b): (RpcChain, RpcChain),
    (delivery, payment): (Address, Address),
    trades: Vec<(Instant, Terms)>,
) -> Vec<Result<(), String>> {
    let mut outcomes = Vec::new();
    for (due, terms) in trades {
        tokio::time::sleep_until(due.into()).await;
        let lock = CrossChainDelivery::lockCall { terms: terms.clone() };
        let paid = CrossChainPayment::payCall { terms: for_payment(&terms) };
        let (locked, paid) =
            tokio::join!(a.send_call(terms.seller, delivery, &lock), b.send_call(terms.payer, payment, &paid));
        outcomes.push(locked.and(paid).map(|_| ()).map_err(|e| e.to_string()));
    }
    outcomes
}

/// The watchers of both chains' settlement contracts.
struct Watches {
    a: Watch,
    b: Watch,
}

impl Watches {
    /// Starts watching both chains from their next block, and returns the deadline of the run's
    /// trades: B's clock an hour on, so that no trade of the run aborts.
    async fn start(setup: &Setup) -> Result<(Self, u64), DeployerError> {
        let (url_a, url_b) = (setup.nodes.0.endpoint(), setup.nodes.1.endpoint());
        let mut b = Watch { chain: RpcChain::connect(&url_b, Vec::new())?, contract: setup.suites.payment, next: 0 };
        let deadline = b.chain.timestamp().await? + 3_600;
        b.next = b.chain.head().await? + 1;
        let mut a = Watch { chain: RpcChain::connect(&url_a, Vec::new())?, contract: setup.suites.delivery, next: 0 };
        a.next = a.chain.head().await? + 1;
        Ok((Self { a, b }, deadline))
    }

    /// Watches both chains until every trade is delivered or the wait after the last submission
    /// ends, and returns when each trade reached each milestone it was seen to reach. A watcher that
    /// cannot read its chain is logged and tried again; `progress` hears the count every 5 seconds.
    async fn until_delivered(
        &mut self,
        options: &BenchOptions,
        first_send: Instant,
        progress: &mut impl FnMut(&str),
    ) -> HashMap<B256, Milestones> {
        let mut milestones: HashMap<B256, Milestones> = HashMap::new();
        let last_due = first_send + Duration::from_secs_f64((options.trades - 1) as f64 / options.rate);
        let give_up = last_due + Duration::from_secs(options.settle_timeout_s);
        let mut delivered = 0;
        let mut reported = Instant::now();
        while delivered < options.trades && Instant::now() < give_up {
            let mut on_b = |data: &LogData, at: Instant| {
                if let Ok(e) = CrossChainPayment::Paid::decode_log_data(data) {
                    milestones.entry(e.termsHash).or_default().paid = Some(at);
                } else if let Ok(e) = CrossChainPayment::Committed::decode_log_data(data) {
                    milestones.entry(e.termsHash).or_default().committed = Some(at);
                }
            };
            if let Err(e) = self.b.poll(&mut on_b).await {
                tracing::warn!(target: "kessai::xchain", "bench watcher (payment chain): {e}");
            }
            let mut on_a = |data: &LogData, at: Instant| {
                if let Ok(e) = CrossChainDelivery::Locked::decode_log_data(data) {
                    milestones.entry(e.termsHash).or_default().locked = Some(at);
                } else if let Ok(e) = CrossChainDelivery::Delivered::decode_log_data(data) {
                    milestones.entry(e.termsHash).or_default().delivered = Some(at);
                    delivered += 1;
                }
            };
            if let Err(e) = self.a.poll(&mut on_a).await {
                tracing::warn!(target: "kessai::xchain", "bench watcher (asset chain): {e}");
            }
            if reported.elapsed() >= Duration::from_secs(5) {
                reported = Instant::now();
                progress(&format!("{delivered} of {} trades settled", options.trades));
            }
            tokio::time::sleep(WATCH_POLL).await;
        }
        milestones
    }
}

/// Waits for the sender tasks and the actors (which must have been told to stop), counts what they
/// did, and marks in `milestones` when each statement the attestors signed was attested.
async fn collect(
    senders: Vec<Sender>,
    actors: Actors,
    milestones: &mut HashMap<B256, Milestones>,
) -> Result<Tally, DeployerError> {
    let mut submitted = 0;
    let mut first_send_error = None;
    for task in senders {
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
    for task in actors.attestors {
        let passes = task.await.map_err(|e| DeployerError::Answer(format!("an attestor task failed: {e}")))?;
        attestor_failed_passes += passes.failed;
        for (at, statement) in passes.done {
            let Statement { terms_hash, state, .. } = statement;
            signatures.entry((terms_hash, state)).or_default().push(at);
        }
    }
    let (mut relayer_failed_passes, mut relayer_refusals) = (0, 0);
    for task in actors.relayers {
        let relayed = task.await.map_err(|e| DeployerError::Answer(format!("a relayer task failed: {e}")))?;
        relayer_failed_passes += relayed.failed;
        relayer_refusals += relayed.done.iter().filter(|(_, r)| matches!(r, Relayed::Refused(..))).count();
    }
    mark_attested(signatures, milestones);
    Ok(Tally { submitted, first_send_error, attestor_failed_passes, relayer_failed_passes, relayer_refusals })
}

/// Marks when each locked or committed statement was attested: a statement counts as attested when
/// the threshold-th attestor signed it, and `signatures` holds when each attestor did.
fn mark_attested(signatures: HashMap<(B256, u8), Vec<Instant>>, milestones: &mut HashMap<B256, Milestones>) {
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
}

/// The report of a run from the milestones of its own trades (`ours`), the seconds its setup took
/// (`setup_s`) and the seconds from the first submission to the last delivery (`wall_s`).
fn report(
    options: &BenchOptions,
    pairs: usize,
    setup_s: f64,
    wall_s: f64,
    ours: &[&Milestones],
    tally: Tally,
) -> BenchReport {
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
    BenchReport {
        options: options.clone(),
        sender_pairs: pairs,
        attestors: Attestors { configured: ATTESTORS, running: RUNNING_ATTESTORS, threshold: THRESHOLD },
        submitted: tally.submitted,
        settled: latencies.len(),
        first_send_error: tally.first_send_error,
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
        relayer_failed_passes: tally.relayer_failed_passes,
        relayer_refusals: tally.relayer_refusals,
        attestor_failed_passes: tally.attestor_failed_passes,
        goal: Goal {
            p50_target: GOAL_P50_SECONDS,
            p99_target: GOAL_P99_SECONDS,
            p50_met: !latencies.is_empty() && latency.p50 <= GOAL_P50_SECONDS,
            p99_met: !latencies.is_empty() && latency.p99 <= GOAL_P99_SECONDS,
        },
        latency,
    }
}
