//! The attestor and the relayer, as steps over two [`Chain`]s that a command loops (`kessai attest`,
//! `kessai relay`) and a test drives.
//!
//! Neither keeps state it cannot rebuild: the trades come from the delivery contract's `Locked`
//! events (which carry the whole terms), their records from both contracts, and the attestations
//! from the inbox folder the attestors write into. So a relayer killed at any point and started
//! again, or two relayers at once, settle every trade exactly once: the contracts refuse a repeat,
//! and a refusal that says the step is already done counts as done.
//!
//! What an [`Attestor`] or a [`Relayer`] remembers from one pass to the next only saves requests,
//! and a new value (a restart) rebuilds it from the chains and the inbox:
//!
//! - the logs are scanned once each, from the last block scanned (from 0, or a given start block);
//! - a trade final on both chains (delivered or returned on A, committed or aborted on B) is
//!   dropped; one whose delivery or return A's events already show is dropped without a read, and
//!   the attestor signs nothing more of it (so a relayer or an attestor started late reads and signs
//!   the open trades only); the attestor drops one once it has signed its outcome, without reading
//!   B again;
//! - the attestor reads a trade's record on B only once B's events at its final block show an
//!   outcome (`Committed`, `Aborted`), and confirms it with that record;
//! - the relayer reads a trade's records only when the attestations and B's clock allow a step (a
//!   lock proof, an outcome proof, a passed deadline) — a trade it read unpaid only once B's events
//!   show its record changed — and parses each inbox file once;
//! - the attestor set is read with one call per pass; the rotation logs are scanned again only when
//!   the verifier's epoch changes.
//!
//! The relayer sends the steps of a pass together on each chain ([`Submit`]), so one pass fills a
//! block however many trades are ready; a pass lasts until its transactions are mined. A relayer
//! may send on one chain only ([`Relayer::only`]): two of them, one per chain, then never wait for
//! the other chain's blocks. The attestor writes a pass's signatures after all its reads, so the
//! records one block made final reach the inbox together.

pub use super::inbox::{attestation_file, read_inbox};
use super::{
    Attestation, Statement,
    inbox::{Inbox, Read, name},
    plan::Side,
    proof_of_checked,
};
use crate::{
    chain::{Chain, Receipt, Tx},
    error::DeployerError,
    rpc::RpcChain,
};
use alloy::{
    primitives::{Address, B256, Bytes},
    signers::local::PrivateKeySigner,
    sol_types::{SolCall, SolEvent},
};
use kessai_bindings::{
    attestation_verifier::AttestationVerifier,
    cross_chain::{Terms, for_payment, states},
    cross_chain_delivery::CrossChainDelivery,
    cross_chain_payment::CrossChainPayment,
};
use std::collections::{BTreeMap, BTreeSet, HashSet};

/// One side's contract on its chain.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Endpoint {
    /// The chain id.
    pub chain_id: u64,
    /// The delivery contract (asset chain) or the payment contract (payment chain).
    pub contract: Address,
    /// Blocks a record must be under before it counts as final here.
    pub confirmations: u64,
}

/// The trades locked on the asset chain, by terms hash, from its `Locked` events up to `to_block`.
pub async fn locked_trades<A: Chain>(
    a: &mut A,
    delivery: Address,
    to_block: Option<u64>,
) -> Result<BTreeMap<B256, Terms>, DeployerError> {
    Ok(locked_between(a, delivery, 0, to_block).await?.into_iter().collect())
}

/// A trade's record on the asset chain, as its delivery contract's events tell it.
enum OnA {
    /// Locked with these terms.
    Locked(B256, Box<Terms>),
    /// Delivered (`true`) on a proof of B's commit, or returned (`false`) on a proof of its abort.
    Ended(B256, bool),
}

/// The delivery contract's lock, delivery and return events in blocks `from_block..=to_block`, in
/// chain order.
async fn delivery_events<A: Chain>(
    a: &mut A,
    delivery: Address,
    from_block: u64,
    to_block: Option<u64>,
) -> Result<Vec<OnA>, DeployerError> {
    let logs = a.logs(&[delivery], from_block, to_block).await?;
    Ok(logs
        .iter()
        .filter_map(|located| {
            let data = &located.log.data;
            if let Ok(e) = CrossChainDelivery::Locked::decode_log_data(data) {
                Some(OnA::Locked(e.termsHash, Box::new(e.terms)))
            } else if let Ok(e) = CrossChainDelivery::Delivered::decode_log_data(data) {
                Some(OnA::Ended(e.termsHash, true))
            } else {
                CrossChainDelivery::Returned::decode_log_data(data).ok().map(|e| OnA::Ended(e.termsHash, false))
            }
        })
        .collect())
}

/// The trades locked in blocks `from_block..=to_block`, in chain order.
async fn locked_between<A: Chain>(
    a: &mut A,
    delivery: Address,
    from_block: u64,
    to_block: Option<u64>,
) -> Result<Vec<(B256, Terms)>, DeployerError> {
    let events = delivery_events(a, delivery, from_block, to_block).await?;
    Ok(events
        .into_iter()
        .filter_map(|e| match e {
            OnA::Locked(hash, terms) => Some((hash, *terms)),
            OnA::Ended(..) => None,
        })
        .collect())
}

/// The final block of a chain: its head less the confirmations.
async fn final_block<C: Chain>(chain: &mut C, confirmations: u64) -> Result<u64, DeployerError> {
    Ok(chain.head().await?.saturating_sub(confirmations))
}

/// A verifier's current attestors and threshold, as [`attestor_set`] gives them.
type AttestorSet = (Vec<Address>, usize);

/// True when distinct members of `set` signed `statement` at least `threshold` times in what
/// `inbox` read: [`inbox_proof`] would give a proof.
fn has_proof(inbox: &Read, statement: &Statement, (set, threshold): &AttestorSet) -> bool {
    let signers: BTreeSet<Address> = inbox.of(statement, set).iter().map(|c| c.attestation().attestor).collect();
    signers.len() >= (*threshold).max(1)
}

/// The proof of `statement` for the verifier's current set, from what `inbox` read.
fn inbox_proof(inbox: &Read, statement: &Statement, (set, threshold): &AttestorSet) -> Option<Bytes> {
    // `of` gives only valid signatures of the statement by members of the set, each checked once.
    let found = inbox.of(statement, set);
    proof_of_checked(found.iter().map(|c| c.attestation()).collect(), *threshold)
}

/// An attestor: signs the records of both sides once they are final, into its inbox folder.
#[derive(Debug)]
pub struct Attestor {
    /// The attestor's key.
    pub key: PrivateKeySigner,
    /// The asset chain's delivery contract.
    pub asset: Endpoint,
    /// The payment chain's payment contract.
    pub payment: Endpoint,
    /// Where it writes its attestations.
    pub inbox: Inbox,
    /// What the passes so far found (rebuilt by a new attestor).
    scan: AttestorScan,
}

/// An attestor's memory between passes.
#[derive(Debug, Default)]
struct AttestorScan {
    /// The next block of A whose `Locked` events are to be read.
    next_a: u64,
    /// The next block of B whose outcome events are to be read.
    next_b: u64,
    /// Trades locked (final on A) whose outcome this attestor has not signed.
    open: BTreeMap<B256, Terms>,
    /// Trades with an outcome event on B at or below its final block, not signed yet.
    outcomes: BTreeSet<B256>,
}

impl Attestor {
    /// An attestor with `key` over both contracts, writing into `inbox`; it reads both chains from
    /// block 0 (see [`Self::from_blocks`]).
    pub fn new(key: PrivateKeySigner, asset: Endpoint, payment: Endpoint, inbox: impl Into<Inbox>) -> Self {
        Self { key, asset, payment, inbox: inbox.into(), scan: AttestorScan::default() }
    }

    /// The same attestor, reading the asset chain's logs from block `asset` and the payment chain's
    /// from block `payment` (the contracts' deployment blocks, say): trades locked before are not
    /// seen.
    pub fn from_blocks(mut self, asset: u64, payment: u64) -> Self {
        self.scan = AttestorScan { next_a: asset, next_b: payment, ..AttestorScan::default() };
        self
    }

    /// Whether this attestor's signature of `statement` is in the inbox.
    fn signed(&self, statement: &Statement) -> bool {
        self.inbox.contains(&name(statement, self.key.address()))
    }

    /// Signs every final record not signed yet: each lock on A, each commit or abort on B. It never
    /// signs two outcomes of one trade: before signing one it looks for its own signature of the
    /// other, and refuses. Returns the statements signed in this step.
    ///
    /// It reads first and writes last (every signature of the pass made before the first file is
    /// written), so the records a block made final reach the inbox together: a relayer reading the
    /// inbox meanwhile finds all of them or none, not a part that would leave the rest for its next
    /// block.
    pub async fn step<A: Chain, B: Chain>(&mut self, a: &mut A, b: &mut B) -> Result<Vec<Statement>, DeployerError> {
        self.inbox.prepare()?;
        let final_a = final_block(a, self.asset.confirmations).await?;
        let final_b = final_block(b, self.payment.confirmations).await?;
        let mut to_sign = Vec::new();
        if final_a >= self.scan.next_a {
            let events = delivery_events(a, self.asset.contract, self.scan.next_a, Some(final_a)).await?;
            // A trade A already delivered or returned needs no signature more: an attestor started
            // late (a rotation's new member) signs the open trades only.
            let ended: HashSet<B256> = events
                .iter()
                .filter_map(|e| match e {
                    OnA::Ended(hash, _) => Some(*hash),
                    OnA::Locked(..) => None,
                })
                .collect();
            self.scan.open.retain(|hash, _| !ended.contains(hash));
            let locked = events.into_iter().filter_map(|e| match e {
                OnA::Locked(hash, terms) if !ended.contains(&hash) => Some((hash, *terms)),
                _ => None,
            });
            for (hash, terms) in locked {
                let lock = self.statement(&self.asset, &terms, hash, states::LOCKED);
                if !self.signed(&lock) {
                    to_sign.push(lock);
                }
                let decided = [states::COMMITTED, states::ABORTED]
                    .iter()
                    .any(|state| self.signed(&self.statement(&self.payment, &terms, hash, *state)));
                if !decided {
                    self.scan.open.insert(hash, terms);
                }
            }
        }
        if final_b >= self.scan.next_b {
            for located in b.logs(&[self.payment.contract], self.scan.next_b, Some(final_b)).await? {
                let data = &located.log.data;
                if let Ok(event) = CrossChainPayment::Committed::decode_log_data(data) {
                    self.scan.outcomes.insert(event.termsHash);
                } else if let Ok(event) = CrossChainPayment::Aborted::decode_log_data(data) {
                    self.scan.outcomes.insert(event.termsHash);
                }
            }
        }
        let mut decided = Vec::new();
        for hash in self.scan.outcomes.iter().filter(|hash| self.scan.open.contains_key(*hash)) {
            let call = CrossChainPayment::stateOfCall { termsHash: *hash };
            let state = b.read_at(final_b, self.payment.contract, &call).await?;
            if state == states::COMMITTED || state == states::ABORTED {
                decided.push((*hash, state));
            }
        }
        for (hash, state) in &decided {
            let Some(terms) = self.scan.open.get(hash) else { continue };
            let outcome = self.statement(&self.payment, terms, *hash, *state);
            let other = states::COMMITTED + states::ABORTED - state;
            if self.signed(&self.statement(&self.payment, terms, *hash, other)) {
                return Err(DeployerError::Answer(format!(
                    "trade {hash}: the payment chain now reports state {state}, but this attestor already signed state {other}: refusing to sign a conflicting outcome (a reorganisation deeper than the confirmations?)"
                )));
            }
            if !self.signed(&outcome) {
                to_sign.push(outcome);
            }
        }
        let signed = to_sign.iter().map(|statement| statement.sign(&self.key)).collect::<Result<Vec<_>, _>>()?;
        for attestation in &signed {
            self.write(attestation)?;
        }
        // Only once every signature of the ranges is written: a pass that fails reads them again.
        self.scan.next_a = self.scan.next_a.max(final_a + 1);
        self.scan.next_b = self.scan.next_b.max(final_b + 1);
        for (hash, _) in decided {
            self.scan.open.remove(&hash);
            self.scan.outcomes.remove(&hash);
        }
        Ok(to_sign)
    }

    fn statement(&self, side: &Endpoint, terms: &Terms, hash: B256, state: u8) -> Statement {
        Statement { chain_id: side.chain_id, source: side.contract, trade_id: terms.id, state, terms_hash: hash }
    }

    /// Puts the attestation in the inbox, whole or not at all.
    fn write(&self, attestation: &Attestation) -> Result<(), DeployerError> {
        self.inbox.put(&name(&attestation.statement, self.key.address()), attestation)
    }
}

/// What a relayer step did for one trade.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "step", content = "terms_hash", rename_all = "snake_case")]
pub enum Relayed {
    /// `commit` sent on the payment chain.
    Committed(B256),
    /// `abort` sent on the payment chain (its deadline passed).
    Aborted(B256),
    /// `deliver` sent on the asset chain.
    Delivered(B256),
    /// `returnUnits` sent on the asset chain.
    Returned(B256),
    /// Another relayer did this step first (the contract refused a repeat).
    AlreadyDone(B256, String),
    /// The contract refused the step for another reason (named); the next pass tries again.
    Refused(B256, String),
}

/// A chain the relayer sends on: several independent transactions at once. The in-process engine
/// (bound to its thread, so not `Send`) takes the default: one after the other.
pub trait Submit: Chain {
    /// Sends `txs`, independent of each other, and returns each one's result in `txs`' order, or
    /// `None` for one that was not sent (the next pass tries again). By default one after the other,
    /// each waiting for its receipt.
    fn send_all(&mut self, txs: &[Tx]) -> impl Future<Output = Vec<Option<Result<Receipt, DeployerError>>>> {
        async move {
            let mut results = Vec::with_capacity(txs.len());
            for tx in txs {
                results.push(Some(self.send(tx.clone()).await));
            }
            results
        }
    }
}

/// Sent together ([`RpcChain::send_batch`]): the node can include all of them in its next block.
impl Submit for RpcChain {
    async fn send_all(&mut self, txs: &[Tx]) -> Vec<Option<Result<Receipt, DeployerError>>> {
        self.send_batch(txs, |_, _| Ok(())).await
    }
}

/// A relayer: submits whatever the chains and the attestations allow next, from any funded account.
#[derive(Debug)]
pub struct Relayer {
    /// The account that sends (on both chains).
    pub from: Address,
    /// The asset chain's delivery contract.
    pub asset: Endpoint,
    /// The payment chain's payment contract.
    pub payment: Endpoint,
    /// Where the attestors write.
    pub inbox: Inbox,
    /// The one chain it sends on, if it leaves the other to another relayer.
    only: Option<Side>,
    /// What the passes so far found (rebuilt by a new relayer).
    cache: RelayCache,
}

/// A relayer's memory between passes.
#[derive(Debug, Default)]
struct RelayCache {
    /// The next block of A whose `Locked` events are to be read.
    next_a: u64,
    /// The next block of B whose payment events are to be read.
    next_b: u64,
    /// The trades not yet final on both chains.
    trades: BTreeMap<B256, Tracked>,
    /// The attestations read so far.
    inbox: Read,
    /// The asset chain's verifier set (it checks B's outcomes).
    set_a: SetCache,
    /// The payment chain's verifier set (it checks A's locks).
    set_b: SetCache,
}

/// A trade the relayer follows, with its records as last read (or as its own steps left them).
#[derive(Debug)]
struct Tracked {
    terms: Terms,
    /// Whether A holds the units locked; `None` until read.
    locked: Option<bool>,
    /// B's record; `None` until read.
    state: Option<u8>,
}

impl Tracked {
    fn decided(&self) -> bool {
        matches!(self.state, Some(states::COMMITTED | states::ABORTED))
    }

    /// Whether a step on a chain the relayer sends on (`on_a`, `on_b`) may be possible now, judged
    /// without a request: B may still be open and its deadline passed (abort), or a lock proof exists
    /// while B may still be open and A locked (commit), or a proof of B's outcome exists while A may
    /// still be locked (deliver, return). Only such a trade's records are read.
    fn worth_reading(&self, now_b: u64, proofs: impl Fn(u8) -> bool, (on_a, on_b): (bool, bool)) -> bool {
        let maybe_locked = self.locked != Some(false);
        let maybe_open = !self.decided();
        // A trade read unpaid is read again only once B's events show it changed ([`Relayer::watch`]).
        let maybe_paid = self.state != Some(states::NONE);
        (on_b && maybe_open && now_b > self.terms.deadline)
            || (on_b && maybe_open && maybe_paid && maybe_locked && proofs(states::LOCKED))
            || (on_a && maybe_locked && (proofs(states::COMMITTED) || proofs(states::ABORTED)))
    }

    /// Whether nothing is left to do on the chains the relayer sends on: A no longer holds the
    /// units (delivered or returned), B recorded its outcome.
    fn finished(&self, (on_a, on_b): (bool, bool)) -> bool {
        (!on_a || self.locked == Some(false)) && (!on_b || self.decided())
    }
}

/// The step a relayer sends for a trade.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Act {
    Commit,
    Abort,
    /// An abort sent because B refused the commit with its deadline passed.
    AbortLate,
    Deliver,
    Return,
}

/// A step to send.
struct Pending {
    hash: B256,
    act: Act,
    tx: Tx,
}

impl Relayer {
    /// A relayer sending from `from`, reading attestations from `inbox`; it reads the asset chain
    /// from block 0 (see [`Self::from_block`]).
    pub fn new(from: Address, asset: Endpoint, payment: Endpoint, inbox: impl Into<Inbox>) -> Self {
        Self { from, asset, payment, inbox: inbox.into(), only: None, cache: RelayCache::default() }
    }

    /// The same relayer, sending on `side`'s chain only: commits and aborts on the payment chain, or
    /// deliveries and returns on the asset chain. Two such relayers, one per side, from one account
    /// or two, do what one relayer does; neither waits for the other chain's blocks, so a delivery
    /// goes out as soon as its proof is in the inbox rather than after the commits of the same pass
    /// are mined.
    pub fn only(mut self, side: Side) -> Self {
        self.only = Some(side);
        self
    }

    /// Whether it sends on the asset chain and on the payment chain.
    fn sends(&self) -> (bool, bool) {
        (self.only != Some(Side::Payment), self.only != Some(Side::Asset))
    }

    /// The same relayer, reading the asset chain's events from block `asset` (trades locked before
    /// are not seen) and the payment chain's from block `payment` (the contracts' deployment
    /// blocks, say).
    pub fn from_blocks(mut self, asset: u64, payment: u64) -> Self {
        self.cache = RelayCache { next_a: asset, next_b: payment, ..RelayCache::default() };
        self
    }

    /// Adds the trades locked on A since the last pass.
    async fn discover<A: Chain>(&mut self, a: &mut A) -> Result<(), DeployerError> {
        let head_a = a.head().await?;
        if head_a >= self.cache.next_a {
            let sends = self.sends();
            for event in delivery_events(a, self.asset.contract, self.cache.next_a, Some(head_a)).await? {
                match event {
                    OnA::Locked(hash, terms) => {
                        self.cache.trades.entry(hash).or_insert(Tracked { terms: *terms, locked: None, state: None });
                    }
                    // A delivery or a return ends the trade on both chains: A released the units on a
                    // proof of B's outcome. A relayer started late so skips every finished trade
                    // without reading its records.
                    OnA::Ended(hash, delivered) => {
                        let Some(trade) = self.cache.trades.get_mut(&hash) else { continue };
                        trade.locked = Some(false);
                        trade.state = Some(if delivered { states::COMMITTED } else { states::ABORTED });
                        if trade.finished(sends) {
                            self.cache.trades.remove(&hash);
                        }
                    }
                }
            }
            self.cache.next_a = head_a + 1;
        }
        Ok(())
    }

    /// Reads B's payment events since the last pass: a trade read unpaid whose record changed since
    /// (paid, committed on a payer's signature, aborted) is read again; the others are not, however
    /// many passes wait for their payment.
    async fn watch<B: Chain>(&mut self, b: &mut B) -> Result<(), DeployerError> {
        let head = b.head().await?;
        if head < self.cache.next_b {
            return Ok(());
        }
        for located in b.logs(&[self.payment.contract], self.cache.next_b, Some(head)).await? {
            let data = &located.log.data;
            let hash = if let Ok(e) = CrossChainPayment::Paid::decode_log_data(data) {
                e.termsHash
            } else if let Ok(e) = CrossChainPayment::Committed::decode_log_data(data) {
                e.termsHash
            } else if let Ok(e) = CrossChainPayment::Aborted::decode_log_data(data) {
                e.termsHash
            } else {
                continue;
            };
            if let Some(trade) = self.cache.trades.get_mut(&hash)
                && trade.state == Some(states::NONE)
            {
                trade.state = None;
            }
        }
        self.cache.next_b = head + 1;
        Ok(())
    }

    fn tx<C: SolCall>(&self, to: Address, call: &C) -> Tx {
        Tx { from: self.from, to: Some(to), data: call.abi_encode().into() }
    }

    /// One pass over every locked trade: commit a paid trade whose lock is attested, abort one past its
    /// deadline, deliver or return on an attested outcome. The steps of the pass go out together on
    /// each chain.
    pub async fn step<A: Submit, B: Submit>(&mut self, a: &mut A, b: &mut B) -> Result<Vec<Relayed>, DeployerError> {
        self.cache.inbox.refresh(&self.inbox);
        let on_a = self.sends().0;
        // A relayer that sends on B only needs nothing from A but its new trades: the lock proofs
        // are in the inbox and B's verifier checks them.
        let set_a =
            if on_a { self.cache.set_a.current(a, self.asset.contract, true).await? } else { Default::default() };
        let set_b = self.cache.set_b.current(b, self.payment.contract, false).await?;
        let now_b = b.timestamp().await?;
        match self.discover(a).await {
            Ok(()) => {}
            // A halted or unreachable asset chain: the trades already known are still decided on B's
            // clock (committed on an attested lock, aborted after their deadline); new ones wait.
            Err(e) if !on_a => {
                tracing::info!(target: "kessai::xchain", "the asset chain does not answer, going on with the trades known: {e}")
            }
            Err(e) => return Err(e),
        }
        self.watch(b).await?;
        let sets = (set_a, set_b);
        let mut steps = (Vec::new(), Vec::new());
        let mut read = HashSet::new();
        // Attestations written while the pass reads the records join it (for a few rounds): the
        // steps they allow go out in this pass rather than after its transactions are mined.
        for _ in 0..3 {
            self.consider(a, b, now_b, &sets, &mut read, &mut steps).await?;
            if self.cache.inbox.refresh(&self.inbox) == 0 {
                break;
            }
        }
        self.send(a, b, steps.0, steps.1).await
    }

    /// Reads the records of the trades not `read` yet in this pass that may allow a step, and adds
    /// the steps they allow to `on_a` and `on_b`; forgets the trades with nothing left to do.
    async fn consider<A: Chain, B: Chain>(
        &mut self,
        a: &mut A,
        b: &mut B,
        now_b: u64,
        (set_a, set_b): &(AttestorSet, AttestorSet),
        read: &mut HashSet<B256>,
        (on_a, on_b): &mut (Vec<Pending>, Vec<Pending>),
    ) -> Result<(), DeployerError> {
        let mut finished = Vec::new();
        let (asset, payment, sends) = (self.asset, self.payment, self.sends());
        let inbox = &self.cache.inbox;
        for (hash, trade) in &mut self.cache.trades {
            if read.contains(hash) {
                continue;
            }
            let (hash, trade_id) = (*hash, trade.terms.id);
            let statement = move |side: &Endpoint, state| Statement {
                chain_id: side.chain_id,
                source: side.contract,
                trade_id,
                state,
                terms_hash: hash,
            };
            let proven = |state| {
                let (side, set) = if state == states::LOCKED { (&asset, set_b) } else { (&payment, set_a) };
                has_proof(inbox, &statement(side, state), set)
            };
            if !trade.worth_reading(now_b, proven, sends) {
                continue;
            }
            read.insert(hash);
            let terms = &trade.terms;
            // Sending on B only, the lock is taken as the attestation says: A frees locked units only
            // on B's outcome (or by its authorities' emergency resolution, after a long delay).
            let locked = if sends.0 {
                a.read(asset.contract, &CrossChainDelivery::isLockedCall { terms: terms.clone() }).await?
            } else {
                trade.locked.unwrap_or(true)
            };
            let state = b.read(payment.contract, &CrossChainPayment::stateOfCall { termsHash: hash }).await?;
            (trade.locked, trade.state) = (Some(locked), Some(state));
            let open = state == states::NONE || state == states::PAID;
            let from = self.from;
            let tx = |to: Address, data: Vec<u8>| Tx { from, to: Some(to), data: data.into() };
            if trade.finished(sends) {
                finished.push(hash);
            } else if open && now_b > terms.deadline {
                if sends.1 {
                    let call = CrossChainPayment::abortCall { terms: for_payment(terms) };
                    on_b.push(Pending { hash, act: Act::Abort, tx: tx(payment.contract, call.abi_encode()) });
                }
            } else if state == states::PAID && locked {
                if sends.1
                    && let Some(lock_proof) = inbox_proof(inbox, &statement(&asset, states::LOCKED), set_b)
                {
                    let call = CrossChainPayment::commitCall {
                        terms: for_payment(terms),
                        lockProof: lock_proof,
                        payerSignature: Bytes::new(),
                    };
                    on_b.push(Pending { hash, act: Act::Commit, tx: tx(payment.contract, call.abi_encode()) });
                }
            } else if (state == states::COMMITTED || state == states::ABORTED) && locked && sends.0 {
                match inbox_proof(inbox, &statement(&payment, state), set_a) {
                    Some(p) if state == states::COMMITTED => {
                        let call = CrossChainDelivery::deliverCall { terms: terms.clone(), commitProof: p };
                        on_a.push(Pending { hash, act: Act::Deliver, tx: tx(asset.contract, call.abi_encode()) });
                    }
                    Some(p) => {
                        let call = CrossChainDelivery::returnUnitsCall { terms: terms.clone(), abortProof: p };
                        on_a.push(Pending { hash, act: Act::Return, tx: tx(asset.contract, call.abi_encode()) });
                    }
                    None => {}
                }
            }
        }
        for hash in finished {
            self.cache.trades.remove(&hash);
        }
        Ok(())
    }

    /// Sends the pass's steps, each chain's together and both chains at once, in rounds: a step left
    /// unsent by a refusal before it in its round goes in the next. A commit refused because B's
    /// clock passed the deadline since the pass read it (a halted chain resumes with a later time)
    /// becomes an abort in the next round: the trade can only abort now. Any other refusal concerns
    /// its trade alone (a frozen buyer delays its delivery): said, and tried again next pass, while
    /// the other trades go on. A failure that is not a refusal (a node down) fails the pass.
    async fn send<A: Submit, B: Submit>(
        &mut self,
        a: &mut A,
        b: &mut B,
        mut on_a: Vec<Pending>,
        mut on_b: Vec<Pending>,
    ) -> Result<Vec<Relayed>, DeployerError> {
        let mut done = Vec::new();
        let mut failure = None;
        while !(on_a.is_empty() && on_b.is_empty()) {
            let txs_a: Vec<Tx> = on_a.iter().map(|p| p.tx.clone()).collect();
            let txs_b: Vec<Tx> = on_b.iter().map(|p| p.tx.clone()).collect();
            let (results_a, results_b) = tokio::join!(a.send_all(&txs_a), b.send_all(&txs_b));
            let (mut next_a, mut next_b) = (Vec::new(), Vec::new());
            let mut progress = false;
            let results = std::mem::take(&mut on_a).into_iter().zip(results_a).map(|(p, r)| (p, r, true));
            let results =
                results.chain(std::mem::take(&mut on_b).into_iter().zip(results_b).map(|(p, r)| (p, r, false)));
            for (pending, result, asset) in results {
                let Some(result) = result else {
                    if asset {
                        next_a.push(pending)
                    } else {
                        next_b.push(pending)
                    }
                    continue;
                };
                progress = true;
                let hash = pending.hash;
                match result {
                    Ok(_) => {
                        done.push(self.sent(hash, pending.act));
                    }
                    Err(DeployerError::Revert(e)) if pending.act == Act::AbortLate => {
                        self.forget(hash);
                        done.push(Relayed::Refused(hash, e.name));
                    }
                    Err(DeployerError::Revert(e)) if already_done(&e.name) => {
                        self.forget(hash);
                        done.push(Relayed::AlreadyDone(hash, e.name));
                    }
                    Err(DeployerError::Revert(e))
                        if pending.act == Act::Commit && e.name == "XPaymentDeadlinePassed" =>
                    {
                        let Some(trade) = self.cache.trades.get(&hash) else { continue };
                        let call = CrossChainPayment::abortCall { terms: for_payment(&trade.terms) };
                        let tx = self.tx(self.payment.contract, &call);
                        next_b.push(Pending { hash, act: Act::AbortLate, tx });
                    }
                    Err(DeployerError::Revert(e)) => {
                        self.forget(hash);
                        done.push(Relayed::Refused(hash, e.name));
                    }
                    Err(e) => {
                        self.forget(hash);
                        failure.get_or_insert(e);
                    }
                }
            }
            if failure.is_some() || !progress {
                break;
            }
            (on_a, on_b) = (next_a, next_b);
        }
        match failure {
            Some(e) => {
                for relayed in &done {
                    tracing::info!(target: "kessai::xchain", "{relayed} (in a pass that then failed)");
                }
                Err(e)
            }
            None => Ok(done),
        }
    }

    /// Records what a sent step left on its chain; returns what it did.
    fn sent(&mut self, hash: B256, act: Act) -> Relayed {
        let sends = self.sends();
        if let Some(trade) = self.cache.trades.get_mut(&hash) {
            match act {
                Act::Commit => trade.state = Some(states::COMMITTED),
                Act::Abort | Act::AbortLate => trade.state = Some(states::ABORTED),
                Act::Deliver | Act::Return => trade.locked = Some(false),
            }
            if trade.finished(sends) {
                self.cache.trades.remove(&hash);
            }
        }
        match act {
            Act::Commit => Relayed::Committed(hash),
            Act::Abort | Act::AbortLate => Relayed::Aborted(hash),
            Act::Deliver => Relayed::Delivered(hash),
            Act::Return => Relayed::Returned(hash),
        }
    }

    /// Forgets a trade's records after a refusal: the next pass reads them again.
    fn forget(&mut self, hash: B256) {
        if let Some(trade) = self.cache.trades.get_mut(&hash) {
            (trade.locked, trade.state) = (None, None);
        }
    }
}

impl std::fmt::Display for Relayed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Committed(h) => write!(f, "committed {h} on the payment chain"),
            Self::Aborted(h) => write!(f, "aborted {h} on the payment chain (its deadline passed)"),
            Self::Delivered(h) => write!(f, "delivered {h} on the asset chain"),
            Self::Returned(h) => write!(f, "returned {h} on the asset chain"),
            Self::AlreadyDone(h, error) => write!(f, "{h}: another relayer was first ({error})"),
            Self::Refused(h, error) => write!(f, "{h}: refused ({error}); trying again next pass"),
        }
    }
}

/// Refusals that mean another relayer took the step first.
fn already_done(error: &str) -> bool {
    matches!(error, "XPaymentInvalidState" | "XDeliveryNotLocked")
}

/// The current attestor set and threshold of the verifier the settlement contract at `contract` uses.
pub async fn attestor_set<C: Chain>(
    chain: &mut C,
    contract: Address,
    delivery: bool,
) -> Result<(Vec<Address>, usize), DeployerError> {
    let verifier = verifier_of(chain, contract, delivery).await?;
    let set = chain.read(verifier, &AttestationVerifier::attestorSetCall {}).await?;
    Ok((members_at(chain, verifier, set.epoch).await?, usize::from(set.threshold)))
}

/// The verifier the settlement contract at `contract` uses (fixed at its construction).
async fn verifier_of<C: Chain>(chain: &mut C, contract: Address, delivery: bool) -> Result<Address, DeployerError> {
    if delivery {
        chain.read(contract, &CrossChainDelivery::verifierCall {}).await
    } else {
        chain.read(contract, &CrossChainPayment::verifierCall {}).await
    }
}

/// The attestors `verifier` installed at `epoch`, from its `AttestorsRotated` events.
async fn members_at<C: Chain>(chain: &mut C, verifier: Address, epoch: u64) -> Result<Vec<Address>, DeployerError> {
    let mut members = Vec::new();
    for log in chain.logs(&[verifier], 0, None).await? {
        if let Ok(rotated) = AttestationVerifier::AttestorsRotated::decode_log_data(&log.log.data)
            && rotated.epoch == epoch
        {
            members = rotated.attestors;
        }
    }
    Ok(members)
}

/// One verifier's attestor set as a relayer keeps it: the verifier's address (fixed), and the
/// members of the epoch last seen.
#[derive(Debug, Default)]
struct SetCache {
    verifier: Option<Address>,
    epoch: Option<u64>,
    members: Vec<Address>,
}

impl SetCache {
    /// The current set and threshold ([`attestor_set`]): one call, plus a scan of the rotations when
    /// the epoch changed.
    async fn current<C: Chain>(
        &mut self,
        chain: &mut C,
        contract: Address,
        delivery: bool,
    ) -> Result<AttestorSet, DeployerError> {
        let verifier = match self.verifier {
            Some(verifier) => verifier,
            None => *self.verifier.insert(verifier_of(chain, contract, delivery).await?),
        };
        let set = chain.read(verifier, &AttestationVerifier::attestorSetCall {}).await?;
        if self.epoch != Some(set.epoch) {
            self.members = members_at(chain, verifier, set.epoch).await?;
            self.epoch = Some(set.epoch);
        }
        Ok((self.members.clone(), usize::from(set.threshold)))
    }
}
