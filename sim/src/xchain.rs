//! Cross-chain settlement replayed in-process, with faults: two revm engines — the asset chain like
//! ibet for Fin (Berlin, chain id 1010032) and the payment chain — each with its own clock, the
//! attestors and relayers that `kessai attest` and `kessai relay` run (the same
//! [`kessai_deployer::xchain::relay`] code, over the [`Chain`] trait), and a seeded schedule of events
//! checked after every one of them.
//!
//! **Events.** From the seed: a seller locks a new trade on A (due a few seconds to a minute ahead on
//! B's clock); a payer pays one; a block on either chain (its clock moves one to three seconds); an
//! honest attestor's pass; a pass of one of three relayers (one sending on both chains, one on B
//! only, one on A only); and the faults: a relayer crashes and a new one starts from the chains alone;
//! a faulty attestor (k−1 = 1 of the 3, threshold 2) signs a random state of a random trade, true or
//! not; a chain halts for a stretch of events — it neither makes blocks nor answers anyone, so the
//! passes that need it fail as against a stopped node — then resumes.
//!
//! **Invariants**, after every event, read from the chains themselves (not through the halts):
//! - each chain's supplies are what was issued ([`SUPPLY`]);
//! - A's outcome follows B's record: units are delivered only for a trade B committed and returned
//!   only for one B aborted ([`OUTCOMES`]);
//! - every party holds what the outcomes say: the seller's units less those delivered (and holds on
//!   those locked and not yet ended), the buyer's plus those delivered, the payer's cash less that
//!   committed (and holds on that paid and not yet ended), the payee's plus that committed — so each
//!   trade moved both legs or neither, once ([`HOLDINGS`]).
//!
//! At the end every fault is healed, both clocks pass every deadline and the attestors and relayers
//! pass until nothing is left to do: then every trade must have ended on both chains ([`ENDED`]).
//! A failure names the seed, the event and the invariant; the run is reproducible from the seed.

use crate::{RevmChain, RevmOptions, rng::Rng};
use kessai_bindings::{
    alloy::{
        primitives::{Address, B256, Bytes, U256},
        signers::local::PrivateKeySigner,
        sol_types::SolEvent,
    },
    cross_chain::{Terms, for_payment, states},
    cross_chain_delivery::CrossChainDelivery,
    cross_chain_payment::CrossChainPayment,
    deposit_token::DepositToken,
    security_token::SecurityToken,
};
use kessai_deployer::{
    DeployerError, anvil,
    chain::{BlockRef, Chain, LocatedLog, Receipt, Tx},
    ops::{Registration, Suite},
    plan::{SuiteAccounts, SuiteSpec, execute},
    profile::Hardfork,
    xchain::{
        Statement,
        plan::{CrossChainSpec, Side, plan, xlabels},
        proof,
        relay::{Attestor, Endpoint, Relayer, Submit, read_inbox},
        terms_hash,
    },
};
use serde::Serialize;
use std::{
    collections::BTreeMap,
    path::PathBuf,
    sync::atomic::{AtomicU64, Ordering},
};

/// The asset chain's id (ibet for Fin's).
pub const ASSET_CHAIN: u64 = 1_010_032;
/// The payment chain's id.
pub const PAYMENT_CHAIN: u64 = 31_337;

/// Supplies equal what was issued on each chain.
pub const SUPPLY: &str = "supply";
/// A's outcome of each trade follows B's record.
pub const OUTCOMES: &str = "outcomes";
/// Every party holds what the outcomes say.
pub const HOLDINGS: &str = "holdings";
/// After healing and passing every deadline, every trade has ended on both chains.
pub const ENDED: &str = "ended";

/// What a run draws.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Options {
    /// Events after the setup.
    pub steps: usize,
    /// Percent of events that halt a chain (when none is halted).
    pub halt_percent: u64,
    /// Percent of events that crash a relayer (a new one starts from the chains).
    pub crash_percent: u64,
    /// Percent of events in which the faulty attestors sign something.
    pub faulty_percent: u64,
    /// Attestors that sign anything, together (of 3, threshold 2): 1 is the trust model's k−1; 2
    /// lets them prove what never happened, which the invariants must catch.
    pub faulty: usize,
    /// Percent of events in which a hostile account submits a delivery and a return of a random
    /// trade with whatever proof the inbox allows, whatever B recorded.
    pub hostile_percent: u64,
}

impl Default for Options {
    fn default() -> Self {
        Self { steps: 2_000, halt_percent: 1, crash_percent: 2, faulty_percent: 5, faulty: 1, hostile_percent: 3 }
    }
}

/// How often each kind of event happened.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Stats {
    /// Trades locked.
    pub locked: usize,
    /// Trades paid.
    pub paid: usize,
    /// Trades delivered on A.
    pub delivered: usize,
    /// Trades returned on A.
    pub returned: usize,
    /// Relayer and attestor passes that failed (a halted chain).
    pub failed_passes: usize,
    /// Relayer crashes.
    pub crashes: usize,
    /// Halts.
    pub halts: usize,
    /// Statements the faulty attestors signed.
    pub faulty_signatures: usize,
    /// Hostile submissions the contracts refused.
    pub hostile_refused: usize,
}

/// A run's result: its statistics, and the first broken invariant if any.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Run {
    /// The seed.
    pub seed: u64,
    /// Events run (including the final healing passes).
    pub events: usize,
    /// What happened.
    pub stats: Stats,
    /// The first broken invariant.
    pub failure: Option<Failure>,
}

/// A broken invariant.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Failure {
    /// The invariant's name.
    pub invariant: &'static str,
    /// The event after which it broke (0-based; the final healing counts from `steps`).
    pub event: usize,
    /// What was found.
    pub message: String,
}

/// A chain that can be halted: while halted it answers nothing (every call fails, as against a
/// stopped node) and makes no blocks.
#[derive(Debug)]
pub struct Halting<C> {
    /// The chain.
    pub chain: C,
    /// Whether it is halted.
    pub halted: bool,
}

/// The future of a call to `inner`, or — when the chain is halted and nothing was called — the
/// failure a stopped node gives.
async fn answer<T: Send>(
    inner: Option<impl Future<Output = Result<T, DeployerError>> + Send>,
) -> Result<T, DeployerError> {
    match inner {
        Some(call) => call.await,
        None => Err(DeployerError::Answer("the node does not answer: its chain is halted".into())),
    }
}

impl<C: Chain> Chain for Halting<C> {
    fn chain_id(&mut self) -> impl Future<Output = Result<u64, DeployerError>> + Send {
        answer((!self.halted).then(|| self.chain.chain_id()))
    }
    fn send(&mut self, tx: Tx) -> impl Future<Output = Result<Receipt, DeployerError>> + Send {
        answer((!self.halted).then(|| self.chain.send(tx)))
    }
    fn call(
        &mut self,
        from: Address,
        to: Address,
        data: Bytes,
    ) -> impl Future<Output = Result<Bytes, DeployerError>> + Send {
        answer((!self.halted).then(|| self.chain.call(from, to, data)))
    }
    fn call_at(
        &mut self,
        block: u64,
        to: Address,
        data: Bytes,
    ) -> impl Future<Output = Result<Bytes, DeployerError>> + Send {
        answer((!self.halted).then(|| self.chain.call_at(block, to, data)))
    }
    fn head(&mut self) -> impl Future<Output = Result<u64, DeployerError>> + Send {
        answer((!self.halted).then(|| self.chain.head()))
    }
    fn timestamp(&mut self) -> impl Future<Output = Result<u64, DeployerError>> + Send {
        answer((!self.halted).then(|| self.chain.timestamp()))
    }
    fn timestamp_at(&mut self, block: u64) -> impl Future<Output = Result<u64, DeployerError>> + Send {
        answer((!self.halted).then(|| self.chain.timestamp_at(block)))
    }
    fn block_ref(&mut self, block: u64) -> impl Future<Output = Result<Option<BlockRef>, DeployerError>> + Send {
        answer((!self.halted).then(|| self.chain.block_ref(block)))
    }
    fn advance_time(&mut self, seconds: u64) -> impl Future<Output = Result<(), DeployerError>> + Send {
        answer((!self.halted).then(|| self.chain.advance_time(seconds)))
    }
    fn logs(
        &mut self,
        addresses: &[Address],
        from_block: u64,
        to_block: Option<u64>,
    ) -> impl Future<Output = Result<Vec<LocatedLog>, DeployerError>> + Send {
        answer((!self.halted).then(|| self.chain.logs(addresses, from_block, to_block)))
    }
    fn code(&mut self, address: Address) -> impl Future<Output = Result<Bytes, DeployerError>> + Send {
        answer((!self.halted).then(|| self.chain.code(address)))
    }
}

/// The relayer sends one transaction after another on the in-process engine.
impl<C: Chain> Submit for Halting<C> {}

/// What a trade did, as the chains' events tell it.
#[derive(Clone, Debug, Default)]
struct Seen {
    terms: Option<Terms>,
    paid: bool,
    /// B's terminal record: `COMMITTED` or `ABORTED`.
    decided: Option<u8>,
    /// A's end: delivered (`true`) or returned (`false`), with how many times it was seen.
    ended: Vec<bool>,
}

/// Both chains, their contracts, the actors and what the checker has seen so far.
struct World {
    a: Halting<RevmChain>,
    b: Halting<RevmChain>,
    asset: Suite,
    payment: Suite,
    asset_end: Endpoint,
    payment_end: Endpoint,
    parties: [Address; 4],
    initial: [U256; 4],
    supplies: (U256, U256),
    attestors: Vec<Attestor>,
    /// Every attestor's key (the honest passes use the first two).
    keys: Vec<PrivateKeySigner>,
    relayers: Vec<Relayer>,
    relayer_from: Address,
    inbox: PathBuf,
    trades: BTreeMap<B256, Seen>,
    next_id: u64,
    /// The next block of each chain whose events the checker reads.
    scanned: (u64, u64),
    /// Events left until the halted chain resumes.
    halt_left: usize,
    /// The world's time: one second passes per event; each chain's blocks catch up with it (a
    /// halted chain's clock stands still, then jumps when it resumes).
    now: u64,
}

/// Units the seller starts with, cash the payer starts with, and what one trade moves.
const UNITS: u64 = 1_000_000;
const CASH: u64 = 1_000_000_000;
const TRADE_UNITS: u64 = 10;
const TRADE_CASH: u64 = 1_000;

/// Runs `options.steps` events from `seed` and checks every invariant after each one.
pub async fn run(seed: u64, options: &Options) -> Result<Run, DeployerError> {
    let mut world = World::new(seed).await?;
    let mut rng = Rng::from_state(seed ^ 0x0c05_5c4a_1d5e_ed01);
    let mut stats = Stats::default();
    for event in 0..options.steps {
        world.event(&mut rng, options, &mut stats).await?;
        if let Some(failure) = world.check(event).await? {
            return Ok(world.finish(seed, event + 1, stats, Some(failure)));
        }
    }
    // Heal, pass every deadline, and let the actors finish.
    world.resume();
    world.a.chain.advance_time(120).await?;
    world.b.chain.advance_time(120).await?;
    let mut events = options.steps;
    for _ in 0..8 {
        world.passes(&mut stats).await?;
        events += 1;
        if let Some(failure) = world.check(events).await? {
            return Ok(world.finish(seed, events, stats, Some(failure)));
        }
    }
    let failure = world.all_ended(events);
    Ok(world.finish(seed, events, stats, failure))
}

impl World {
    async fn new(seed: u64) -> Result<Self, DeployerError> {
        let accounts = anvil::dev_accounts();
        let mut a = RevmChain::new(&RevmOptions::new(Hardfork::Berlin, ASSET_CHAIN), &accounts);
        let mut b = RevmChain::new(&RevmOptions::new(Hardfork::Cancun, PAYMENT_CHAIN), &accounts);
        let keys: Vec<PrivateKeySigner> = (0xa1..=0xa3u8)
            .map(|i| PrivateKeySigner::from_bytes(&B256::repeat_byte(i)).expect("a valid key"))
            .collect();
        let roles = SuiteAccounts::in_role_order(&accounts).expect("ten accounts");
        let spec = CrossChainSpec {
            suite: SuiteSpec {
                accounts: roles,
                security: ("Kessai Bond".into(), "KB".into()),
                deposit: ("DCJPY".into(), "DCJPY".into()),
                minting: Default::default(),
                extra_banks: Vec::new(),
                instrument: None,
            },
            attestors: keys.iter().map(PrivateKeySigner::address).collect(),
            threshold: 2,
            resolvers: vec![accounts[4], accounts[1]],
            resolution_approvals: 2,
            resolution_delay: 30 * 86_400,
        };
        let on_a = execute(&mut a, &plan(&spec, Side::Asset)).await?;
        let on_b = execute(&mut b, &plan(&spec, Side::Payment)).await?;
        let (asset, payment) = (Suite::from_deployment(&on_a)?, Suite::from_deployment(&on_b)?);
        let parties = [accounts[5], accounts[6], accounts[8], accounts[9]];
        let id = Registration { class: 0, country: 392, kyc_expiry: u64::from(u32::MAX), data_hash: B256::ZERO };
        for who in &parties[..2] {
            asset.register(&mut a, asset.registry, roles.registrar, *who, id).await?;
        }
        for who in &parties[2..] {
            payment.register(&mut b, payment.bank_registry, roles.bank, *who, id).await?;
        }
        asset.issue_security(&mut a, roles.issuer, parties[0], U256::from(UNITS)).await?;
        payment.issue_deposit(&mut b, roles.bank, parties[2], U256::from(CASH), B256::repeat_byte(1)).await?;
        let asset_end =
            Endpoint { chain_id: ASSET_CHAIN, contract: on_a.address(xlabels::DELIVERY)?, confirmations: 0 };
        let payment_end =
            Endpoint { chain_id: PAYMENT_CHAIN, contract: on_b.address(xlabels::PAYMENT)?, confirmations: 0 };
        // A folder of its own: runs of the same seed may go on at once in one process.
        static RUNS: AtomicU64 = AtomicU64::new(0);
        let run = RUNS.fetch_add(1, Ordering::Relaxed);
        let inbox = std::env::temp_dir().join(format!("kessai-xsim-{}-{run}-{seed}", std::process::id()));
        let _ = std::fs::remove_dir_all(&inbox);
        let attestors =
            keys[..2].iter().map(|k| Attestor::new(k.clone(), asset_end, payment_end, inbox.clone())).collect();
        let relayer_from = accounts[7];
        let mut world = Self {
            a: Halting { chain: a, halted: false },
            b: Halting { chain: b, halted: false },
            asset,
            payment,
            asset_end,
            payment_end,
            parties,
            initial: [U256::from(UNITS), U256::ZERO, U256::from(CASH), U256::ZERO],
            supplies: (U256::from(UNITS), U256::from(CASH)),
            attestors,
            keys,
            relayers: Vec::new(),
            relayer_from,
            inbox,
            trades: BTreeMap::new(),
            next_id: 1,
            scanned: (0, 0),
            halt_left: 0,
            now: 0,
        };
        world.now = world.a.chain.timestamp().await?.max(world.b.chain.timestamp().await?);
        world.relayers = (0..3).map(|i| world.relayer(i)).collect();
        Ok(world)
    }

    /// Relayer `i`: on both chains, on B only, or on A only; new, it knows nothing but the chains.
    fn relayer(&self, i: usize) -> Relayer {
        let r = Relayer::new(self.relayer_from, self.asset_end, self.payment_end, self.inbox.clone());
        match i {
            1 => r.only(Side::Payment),
            2 => r.only(Side::Asset),
            _ => r,
        }
    }

    fn resume(&mut self) {
        self.a.halted = false;
        self.b.halted = false;
        self.halt_left = 0;
    }

    /// One event drawn from `rng`.
    async fn event(&mut self, rng: &mut Rng, options: &Options, stats: &mut Stats) -> Result<(), DeployerError> {
        self.now += 1;
        if self.halt_left > 0 {
            self.halt_left -= 1;
            if self.halt_left == 0 {
                self.resume();
            }
        }
        let roll = rng.below(100);
        match roll {
            0..=11 => self.lock(rng, stats).await?,
            12..=21 => self.pay(rng, stats).await?,
            22..=36 => self.block(Side::Asset).await?,
            37..=51 => self.block(Side::Payment).await?,
            52..=71 => {
                let i = rng.below(self.attestors.len() as u64) as usize;
                if self.attestors[i].step(&mut self.a, &mut self.b).await.is_err() {
                    stats.failed_passes += 1;
                }
            }
            _ => {
                let i = rng.below(self.relayers.len() as u64) as usize;
                if self.relayers[i].step(&mut self.a, &mut self.b).await.is_err() {
                    stats.failed_passes += 1;
                }
            }
        }
        if rng.chance(options.crash_percent) {
            let i = rng.below(self.relayers.len() as u64) as usize;
            self.relayers[i] = self.relayer(i);
            stats.crashes += 1;
        }
        if rng.chance(options.faulty_percent) && !self.trades.is_empty() {
            self.faulty_signs(rng, options.faulty)?;
            stats.faulty_signatures += 1;
        }
        if rng.chance(options.hostile_percent) && !self.trades.is_empty() && !self.a.halted {
            stats.hostile_refused += self.hostile(rng).await?;
        }
        if self.halt_left == 0 && rng.chance(options.halt_percent) {
            if rng.chance(50) {
                self.a.halted = true;
            } else {
                self.b.halted = true;
            }
            self.halt_left = rng.range(5, 60) as usize;
            stats.halts += 1;
        }
        Ok(())
    }

    /// The seller locks a new trade on A, due 5 to 60 seconds ahead on B's clock (nothing when A or B
    /// is halted: the seller's node does not answer).
    async fn lock(&mut self, rng: &mut Rng, stats: &mut Stats) -> Result<(), DeployerError> {
        if self.a.halted || self.b.halted {
            return Ok(());
        }
        let deadline = self.b.chain.timestamp().await? + rng.range(5, 60);
        let terms = Terms {
            id: B256::from(U256::from(self.next_id)),
            assetChainId: U256::from(ASSET_CHAIN),
            delivery: self.asset_end.contract,
            security: self.asset.security,
            seller: self.parties[0],
            buyer: self.parties[1],
            units: U256::from(TRADE_UNITS),
            paymentChainId: U256::from(PAYMENT_CHAIN),
            payment: self.payment_end.contract,
            cash: self.payment.deposit,
            payer: self.parties[2],
            payee: self.parties[3],
            amount: U256::from(TRADE_CASH),
            deadline,
        };
        self.next_id += 1;
        let call = CrossChainDelivery::lockCall { terms: terms.clone() };
        match self.a.chain.send_call(terms.seller, self.asset_end.contract, &call).await {
            Ok(_) => {}
            // A's clock may be ahead of B's (B was halted): terms due on B's clock have expired on A's.
            Err(DeployerError::Revert(e)) if e.name == "XDeliveryTermsExpired" => return Ok(()),
            Err(e) => return Err(e),
        }
        let hash = terms_hash(&terms);
        self.trades.entry(hash).or_default().terms = Some(terms);
        stats.locked += 1;
        Ok(())
    }

    /// The payer pays a random locked trade not paid yet, before its deadline (nothing when B is
    /// halted).
    async fn pay(&mut self, rng: &mut Rng, stats: &mut Stats) -> Result<(), DeployerError> {
        if self.b.halted {
            return Ok(());
        }
        let now = self.b.chain.timestamp().await?;
        let open: Vec<Terms> = self
            .trades
            .values()
            .filter(|s| !s.paid && s.decided.is_none())
            .filter_map(|s| s.terms.clone())
            .filter(|t| t.deadline >= now)
            .collect();
        if open.is_empty() {
            return Ok(());
        }
        let terms = &open[rng.below(open.len() as u64) as usize];
        let call = CrossChainPayment::payCall { terms: for_payment(terms) };
        match self.b.chain.send_call(terms.payer, self.payment_end.contract, &call).await {
            Ok(_) => {}
            // Due this very second: the payment's block is past it.
            Err(DeployerError::Revert(e)) if e.name == "XPaymentDeadlinePassed" => return Ok(()),
            Err(e) => return Err(e),
        }
        self.trades.entry(terms_hash(terms)).or_default().paid = true;
        stats.paid += 1;
        Ok(())
    }

    /// A block on `side`'s chain, its clock brought up to the world's time (none while it is halted).
    async fn block(&mut self, side: Side) -> Result<(), DeployerError> {
        let chain = if side == Side::Asset { &mut self.a } else { &mut self.b };
        if !chain.halted {
            let behind = self.now.saturating_sub(chain.chain.timestamp().await?);
            chain.chain.advance_time(behind.max(1)).await?;
        }
        Ok(())
    }

    /// The `faulty` last attestors sign one random state of a random trade for either chain, whatever
    /// the chains recorded, and put it in the inbox.
    fn faulty_signs(&mut self, rng: &mut Rng, faulty: usize) -> Result<(), DeployerError> {
        let (hash, id) = self.random_trade(rng);
        let state = [states::LOCKED, states::COMMITTED, states::ABORTED][rng.below(3) as usize];
        let side = if state == states::LOCKED { self.asset_end } else { self.payment_end };
        let statement =
            Statement { chain_id: side.chain_id, source: side.contract, trade_id: id, state, terms_hash: hash };
        std::fs::create_dir_all(&self.inbox)?;
        for key in &self.keys[self.keys.len() - faulty.min(self.keys.len())..] {
            let attestation = statement.sign(key)?;
            let file = self.inbox.join(format!("{hash}-{state}-{}-faulty.json", key.address()));
            std::fs::write(file, serde_json::to_vec(&attestation)?)?;
        }
        Ok(())
    }

    /// A random trade's terms hash and id.
    fn random_trade(&self, rng: &mut Rng) -> (B256, B256) {
        let known: Vec<(B256, B256)> =
            self.trades.iter().filter_map(|(h, s)| s.terms.as_ref().map(|t| (*h, t.id))).collect();
        known[rng.below(known.len() as u64) as usize]
    }

    /// A hostile account (the relayers' own, which holds no role) submits a delivery and a return of a random trade on A, each with whatever
    /// proof the inbox's signatures make, whatever B recorded; returns how many were refused.
    async fn hostile(&mut self, rng: &mut Rng) -> Result<usize, DeployerError> {
        let (hash, _) = self.random_trade(rng);
        let Some(terms) = self.trades[&hash].terms.clone() else { return Ok(0) };
        let set: Vec<Address> = self.keys.iter().map(PrivateKeySigner::address).collect();
        let attestations = read_inbox(&self.inbox);
        let mut refused = 0;
        for state in [states::COMMITTED, states::ABORTED] {
            let side = self.payment_end;
            let statement = Statement {
                chain_id: side.chain_id,
                source: side.contract,
                trade_id: terms.id,
                state,
                terms_hash: hash,
            };
            // Without a proof the inbox supports, the attacker sends the first signature it has.
            let p = proof(&statement, &attestations, &set, 2).unwrap_or_else(|| {
                attestations.iter().find(|a| a.statement == statement).map(|a| a.signature.clone()).unwrap_or_default()
            });
            let result = if state == states::COMMITTED {
                let call = CrossChainDelivery::deliverCall { terms: terms.clone(), commitProof: p };
                self.a.chain.send_call(self.relayer_from, self.asset_end.contract, &call).await
            } else {
                let call = CrossChainDelivery::returnUnitsCall { terms: terms.clone(), abortProof: p };
                self.a.chain.send_call(self.relayer_from, self.asset_end.contract, &call).await
            };
            match result {
                Err(DeployerError::Revert(_)) => refused += 1,
                Err(e) => return Err(e),
                Ok(_) => {}
            }
        }
        Ok(refused)
    }

    /// Every attestor's pass, then every relayer's.
    async fn passes(&mut self, stats: &mut Stats) -> Result<(), DeployerError> {
        for attestor in &mut self.attestors {
            if attestor.step(&mut self.a, &mut self.b).await.is_err() {
                stats.failed_passes += 1;
            }
        }
        for relayer in &mut self.relayers {
            if relayer.step(&mut self.a, &mut self.b).await.is_err() {
                stats.failed_passes += 1;
            }
        }
        Ok(())
    }

    /// Reads the events both chains emitted since the last check, then checks every invariant
    /// against the chains (read directly, whatever is halted).
    async fn check(&mut self, event: usize) -> Result<Option<Failure>, DeployerError> {
        self.scan().await?;
        let fail = |invariant, message: String| Ok(Some(Failure { invariant, event, message }));
        let (a, b) = (&mut self.a.chain, &mut self.b.chain);
        let supplies = (
            a.read(self.asset.security, &SecurityToken::totalSupplyCall {}).await?,
            b.read(self.payment.deposit, &DepositToken::totalSupplyCall {}).await?,
        );
        if supplies != self.supplies {
            return fail(SUPPLY, format!("supplies {supplies:?}, issued {:?}", self.supplies));
        }
        let mut expected = self.initial;
        let (mut units_held, mut cash_held) = (U256::ZERO, U256::ZERO);
        for (hash, seen) in &self.trades {
            match (seen.ended.as_slice(), seen.decided) {
                ([], _) => {}
                ([true], Some(states::COMMITTED)) | ([false], Some(states::ABORTED)) => {}
                (ended, decided) => {
                    return fail(
                        OUTCOMES,
                        format!("trade {hash}: A ended it {ended:?} (true: delivered), B recorded {decided:?}"),
                    );
                }
            }
            if seen.decided == Some(states::COMMITTED) {
                expected[2] -= U256::from(TRADE_CASH);
                expected[3] += U256::from(TRADE_CASH);
            } else if seen.paid && seen.decided.is_none() {
                cash_held += U256::from(TRADE_CASH);
            }
            match seen.ended.first() {
                Some(true) => {
                    expected[0] -= U256::from(TRADE_UNITS);
                    expected[1] += U256::from(TRADE_UNITS);
                }
                Some(false) => {}
                None => units_held += U256::from(TRADE_UNITS),
            }
        }
        let mut found = [U256::ZERO; 4];
        let mut held = (U256::ZERO, U256::ZERO);
        for (i, who) in self.parties.iter().enumerate() {
            let position =
                if i < 2 { self.asset.position(a, *who).await? } else { self.payment.position(b, *who).await? };
            found[i] = if i < 2 { position.units } else { position.cash };
            if i == 0 {
                held.0 = position.units_held;
            } else if i == 2 {
                held.1 = position.cash_held;
            }
        }
        if found != expected || held != (units_held, cash_held) {
            return fail(
                HOLDINGS,
                format!(
                    "seller, buyer, payer, payee hold {found:?} with {held:?} on hold; the outcomes say {expected:?} with {:?}",
                    (units_held, cash_held)
                ),
            );
        }
        Ok(None)
    }

    /// The trades' events since the last scan: B's payments and outcomes, A's deliveries and returns.
    async fn scan(&mut self) -> Result<(), DeployerError> {
        let (a, b) = (&mut self.a.chain, &mut self.b.chain);
        let (head_a, head_b) = (a.head().await?, b.head().await?);
        for located in a.logs(&[self.asset_end.contract], self.scanned.0, Some(head_a)).await? {
            let data = &located.log.data;
            let (hash, delivered) = if let Ok(e) = CrossChainDelivery::Delivered::decode_log_data(data) {
                (e.termsHash, true)
            } else if let Ok(e) = CrossChainDelivery::Returned::decode_log_data(data) {
                (e.termsHash, false)
            } else {
                continue;
            };
            self.trades.entry(hash).or_default().ended.push(delivered);
        }
        for located in b.logs(&[self.payment_end.contract], self.scanned.1, Some(head_b)).await? {
            let data = &located.log.data;
            if let Ok(e) = CrossChainPayment::Committed::decode_log_data(data) {
                self.trades.entry(e.termsHash).or_default().decided = Some(states::COMMITTED);
            } else if let Ok(e) = CrossChainPayment::Aborted::decode_log_data(data) {
                self.trades.entry(e.termsHash).or_default().decided = Some(states::ABORTED);
            }
        }
        self.scanned = (head_a + 1, head_b + 1);
        Ok(())
    }

    /// After the healing passes: every trade ended once on A and was decided on B.
    fn all_ended(&self, event: usize) -> Option<Failure> {
        let open: Vec<String> = self
            .trades
            .iter()
            .filter(|(_, s)| s.ended.len() != 1 || s.decided.is_none())
            .map(|(h, s)| format!("{h} (A {:?}, B {:?})", s.ended, s.decided))
            .collect();
        (!open.is_empty()).then(|| Failure {
            invariant: ENDED,
            event,
            message: format!("{} trade(s) not ended on both chains after healing: {}", open.len(), open.join(", ")),
        })
    }

    fn finish(self, seed: u64, events: usize, mut stats: Stats, failure: Option<Failure>) -> Run {
        stats.delivered = self.trades.values().filter(|s| s.ended.first() == Some(&true)).count();
        stats.returned = self.trades.values().filter(|s| s.ended.first() == Some(&false)).count();
        let _ = std::fs::remove_dir_all(&self.inbox);
        Run { seed, events, stats, failure }
    }
}

impl std::fmt::Display for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = &self.stats;
        write!(
            f,
            "seed {}: {} events; {} trades locked, {} paid, {} delivered, {} returned; faults: {} halts, {} relayer \
             crashes, {} faulty signatures, {} hostile submissions refused ({} passes failed against a halted chain)",
            self.seed,
            self.events,
            s.locked,
            s.paid,
            s.delivered,
            s.returned,
            s.halts,
            s.crashes,
            s.faulty_signatures,
            s.hostile_refused,
            s.failed_passes
        )?;
        match &self.failure {
            None => write!(f, "; every invariant held"),
            Some(x) => write!(f, "\nFAILED after event {}: {}: {}", x.event, x.invariant, x.message),
        }
    }
}
