//! The two chains of a cross-chain run, their contracts, the actors, and the checker's view of what
//! each trade did: the moves a schedule or a scenario makes, and the invariants checked after each.

use super::{ENDED, Failure, HOLDINGS, OUTCOMES, Options, Run, SUPPLY, Stats, halting::Halting};
use crate::{RevmChain, RevmOptions, rng::Rng};
use alloy::providers::Provider;
use kessai_bindings::{
    alloy::{
        primitives::{Address, B256, U256},
        signers::local::PrivateKeySigner,
        sol_types::SolEvent,
    },
    cross_chain::{Terms, for_payment, states},
    cross_chain_delivery::CrossChainDelivery,
    cross_chain_payment::CrossChainPayment,
    deposit_token::DepositToken,
    security_token::SecurityToken,
};
use kessai_deployer::rpc::RpcChain;
use kessai_deployer::{
    DeployerError, anvil,
    chain::Chain,
    ops::{Registration, Suite},
    plan::{SuiteAccounts, SuiteSpec, execute},
    profile::Hardfork,
    xchain::{
        Attestation,
        plan::{CrossChainSpec, Side, plan, xlabels},
        proof,
        relay::{Attestor, Endpoint, Relayer, attestation_file},
        terms_hash,
        trade::{Order, TwoSuites},
    },
};
use std::{
    collections::BTreeMap,
    path::PathBuf,
    sync::atomic::{AtomicU64, Ordering},
};

use super::{ASSET_CHAIN, PAYMENT_CHAIN};

/// Where a faulty attestor writes beside its honest signature of the same record (an attestor may be
/// both: one file each).
fn faulty_file(honest: &std::path::Path) -> PathBuf {
    honest.with_extension("faulty.json")
}

/// Something done to one trade, as a scenario step can say it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Move {
    /// Locked with these terms.
    Lock { units: u64, amount: u64, due_in: u64 },
    /// Paid.
    Pay,
    /// The faulty attestors signed this state.
    SignFalsely(u8),
    /// A hostile delivery and return were submitted.
    Hostile,
}

/// What a trade did, as the chains' events tell it.
#[derive(Clone, Debug, Default)]
pub(super) struct Seen {
    pub(super) terms: Option<Terms>,
    pub(super) paid: bool,
    /// B's terminal record: `COMMITTED` or `ABORTED`.
    pub(super) decided: Option<u8>,
    /// A's end: delivered (`true`) or returned (`false`), with how many times it was seen.
    pub(super) ended: Vec<bool>,
    /// The world's time when the checker first saw B's record, and A's end.
    pub(super) decided_at: Option<u64>,
    pub(super) ended_at: Option<u64>,
}

/// Both chains, their contracts, the actors and what the checker has seen so far.
/// Moving a chain's clock to an exact second. The in-process engine's clock is exact already; an
/// Anvil's follows the wall clock unless its next block's time is pinned (and, as
/// [`super::run_scenario_on_anvil`] sets it, each block after it comes one second later, as on the
/// engine), so both engines see the same times.
pub trait Pin: Chain {
    /// Pins the time of the chain's next block to its latest block's plus `seconds`.
    fn pin_next(&mut self, seconds: u64) -> impl Future<Output = Result<(), DeployerError>> + Send {
        let _ = seconds;
        async { Ok(()) }
    }
}

impl Pin for RevmChain {}

impl Pin for RpcChain {
    async fn pin_next(&mut self, seconds: u64) -> Result<(), DeployerError> {
        let next = self.timestamp().await? + seconds;
        let _: serde_json::Value = self
            .retry("evm_setNextBlockTimestamp", || {
                self.provider().raw_request::<_, serde_json::Value>("evm_setNextBlockTimestamp".into(), (next,))
            })
            .await?;
        Ok(())
    }
}

pub(super) struct World<C: Chain = RevmChain> {
    pub(super) a: Halting<C>,
    pub(super) b: Halting<C>,
    pub(super) asset: Suite,
    pub(super) payment: Suite,
    pub(super) asset_end: Endpoint,
    pub(super) payment_end: Endpoint,
    pub(super) parties: [Address; 4],
    pub(super) initial: [U256; 4],
    pub(super) supplies: (U256, U256),
    pub(super) attestors: Vec<Attestor>,
    /// Every attestor's key (the honest passes use the first two).
    pub(super) keys: Vec<PrivateKeySigner>,
    pub(super) relayers: Vec<Relayer>,
    pub(super) relayer_from: Address,
    pub(super) inbox: PathBuf,
    pub(super) trades: BTreeMap<B256, Seen>,
    pub(super) next_id: u64,
    /// The next block of each chain whose events the checker reads.
    pub(super) scanned: (u64, u64),
    /// Events left until the halted chain resumes.
    pub(super) halt_left: usize,
    /// What happened to each trade, in order (for turning a failure into a short scenario).
    pub(super) moves: Vec<(B256, Move)>,
    /// The world's time: one second passes per event; each chain's blocks catch up with it (a
    /// halted chain's clock stands still, then jumps when it resumes).
    pub(super) now: u64,
}

/// Units the seller starts with, cash the payer starts with, and what one trade moves.
pub(super) const UNITS: u64 = 1_000_000;
pub(super) const CASH: u64 = 1_000_000_000;
pub(super) const TRADE_UNITS: u64 = 10;
pub(super) const TRADE_CASH: u64 = 1_000;

impl World<RevmChain> {
    /// Both chains in-process: A with Berlin's rules (ibet for Fin's), B with Cancun's.
    pub(super) async fn new(seed: u64, threshold: u8) -> Result<Self, DeployerError> {
        let accounts = anvil::dev_accounts();
        let a = RevmChain::new(&RevmOptions::new(Hardfork::Berlin, ASSET_CHAIN), &accounts);
        let b = RevmChain::new(&RevmOptions::new(Hardfork::Cancun, PAYMENT_CHAIN), &accounts);
        Self::on(a, b, seed, threshold).await
    }
}

impl<C: Pin> World<C> {
    /// The suite, the cross-chain contracts and the funded parties deployed on `a` (the asset chain,
    /// id 1010032) and `b` (the payment chain, id 31337), whose first ten accounts are Anvil's
    /// development accounts.
    pub(super) async fn on(mut a: C, mut b: C, seed: u64, threshold: u8) -> Result<Self, DeployerError> {
        let accounts = anvil::dev_accounts();
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
            threshold,
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
            moves: Vec::new(),
            now: 0,
        };
        world.now = world.a.chain.timestamp().await?.max(world.b.chain.timestamp().await?);
        world.relayers = (0..3).map(|i| world.relayer(i)).collect();
        Ok(world)
    }

    /// Both chains' contracts, as the trade steps name them.
    pub(super) fn suites(&self) -> TwoSuites {
        TwoSuites {
            asset_chain_id: ASSET_CHAIN,
            delivery: self.asset_end.contract,
            security: self.asset.security,
            payment_chain_id: PAYMENT_CHAIN,
            payment: self.payment_end.contract,
            cash: self.payment.deposit,
        }
    }

    /// Relayer `i`: on both chains, on B only, or on A only; new, it knows nothing but the chains.
    pub(super) fn relayer(&self, i: usize) -> Relayer {
        let r = Relayer::new(self.relayer_from, self.asset_end, self.payment_end, self.inbox.clone());
        match i {
            1 => r.only(Side::Payment),
            2 => r.only(Side::Asset),
            _ => r,
        }
    }

    pub(super) fn resume(&mut self) {
        self.a.halted = false;
        self.b.halted = false;
        self.halt_left = 0;
    }

    /// One event drawn from `rng`.
    pub(super) async fn event(
        &mut self,
        rng: &mut Rng,
        options: &Options,
        stats: &mut Stats,
    ) -> Result<(), DeployerError> {
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
            let signed = self.faulty_signs(rng, options.faulty)?;
            stats.faulty_signatures += 1;
            // The attacker the faulty attestors work with uses their signature at once.
            if rng.chance(options.hostile_percent * 10) {
                stats.hostile_refused += self.hostile_on(signed).await?;
            }
        }
        if rng.chance(options.hostile_percent) && !self.trades.is_empty() {
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

    /// The seller locks a new trade on A, due 5 to 60 seconds ahead on B's clock.
    pub(super) async fn lock(&mut self, rng: &mut Rng, stats: &mut Stats) -> Result<(), DeployerError> {
        let due_in = rng.range(5, 60);
        if self.lock_trade(TRADE_UNITS, TRADE_CASH, due_in).await?.is_some() {
            stats.locked += 1;
        }
        Ok(())
    }

    /// The seller locks a new trade of `units` for `amount`, due `due_in` seconds ahead on B's clock;
    /// its terms hash, or `None` when A or B is halted (the seller's tools read both) or A's clock has
    /// already passed that deadline (B was halted, and is behind).
    pub(super) async fn lock_trade(
        &mut self,
        units: u64,
        amount: u64,
        due_in: u64,
    ) -> Result<Option<B256>, DeployerError> {
        if self.a.halted || self.b.halted {
            return Ok(None);
        }
        let deadline = self.b.chain.timestamp().await? + due_in;
        let [seller, buyer, payer, payee] = self.parties;
        let order = Order { seller, buyer, units: U256::from(units), payer, payee, amount: U256::from(amount) };
        let terms = self.suites().terms(&order, B256::from(U256::from(self.next_id)), deadline);
        self.next_id += 1;
        let call = CrossChainDelivery::lockCall { terms: terms.clone() };
        match self.a.chain.send_call(terms.seller, self.asset_end.contract, &call).await {
            Ok(_) => {}
            Err(DeployerError::Revert(e)) if e.name == "XDeliveryTermsExpired" => return Ok(None),
            Err(e) => return Err(e),
        }
        let hash = terms_hash(&terms);
        self.trades.entry(hash).or_default().terms = Some(terms);
        self.moves.push((hash, Move::Lock { units, amount, due_in }));
        Ok(Some(hash))
    }

    /// The payer pays a random locked trade not paid yet, before its deadline.
    pub(super) async fn pay(&mut self, rng: &mut Rng, stats: &mut Stats) -> Result<(), DeployerError> {
        if self.b.halted {
            return Ok(());
        }
        let now = self.b.chain.timestamp().await?;
        let open: Vec<B256> = self
            .trades
            .iter()
            .filter(|(_, s)| !s.paid && s.decided.is_none())
            .filter(|(_, s)| s.terms.as_ref().is_some_and(|t| t.deadline >= now))
            .map(|(h, _)| *h)
            .collect();
        if open.is_empty() {
            return Ok(());
        }
        if self.pay_trade(open[rng.below(open.len() as u64) as usize]).await?.is_ok() {
            stats.paid += 1;
        }
        Ok(())
    }

    /// The payer pays trade `hash`: `Err` with the contract's error name when it refuses (the
    /// deadline has passed on B, it was paid already), or when B is halted.
    pub(super) async fn pay_trade(&mut self, hash: B256) -> Result<Result<(), String>, DeployerError> {
        if self.b.halted {
            return Ok(Err("the payment chain is halted".into()));
        }
        let Some(terms) = self.trades.get(&hash).and_then(|s| s.terms.clone()) else {
            return Ok(Err("no such trade".into()));
        };
        let call = CrossChainPayment::payCall { terms: for_payment(&terms) };
        match self.b.chain.send_call(terms.payer, self.payment_end.contract, &call).await {
            Ok(_) => {}
            Err(DeployerError::Revert(e)) => return Ok(Err(e.name)),
            Err(e) => return Err(e),
        }
        self.trades.entry(hash).or_default().paid = true;
        self.moves.push((hash, Move::Pay));
        Ok(Ok(()))
    }

    /// A block on `side`'s chain, its clock brought up to the world's time (none while it is halted).
    pub(super) async fn block(&mut self, side: Side) -> Result<(), DeployerError> {
        let chain = if side == Side::Asset { &mut self.a } else { &mut self.b };
        if !chain.halted {
            let behind = self.now.saturating_sub(chain.chain.timestamp().await?).max(1);
            chain.chain.pin_next(behind).await?;
            chain.chain.advance_time(behind).await?;
        }
        Ok(())
    }

    /// The `faulty` last attestors sign one random state of a random trade for either chain, whatever
    /// the chains recorded, and put it in the inbox.
    pub(super) fn faulty_signs(&mut self, rng: &mut Rng, faulty: usize) -> Result<B256, DeployerError> {
        let (hash, _) = self.random_trade(rng);
        let state = [states::LOCKED, states::COMMITTED, states::ABORTED][rng.below(3) as usize];
        self.sign_falsely(hash, state, faulty)?;
        Ok(hash)
    }

    /// The `faulty` last attestors sign that trade `hash` is in `state` (on A for `LOCKED`, else on
    /// B), whatever the chains recorded, into the inbox.
    pub(super) fn sign_falsely(&mut self, hash: B256, state: u8, faulty: usize) -> Result<(), DeployerError> {
        let Some(terms) = self.trades.get(&hash).and_then(|s| s.terms.as_ref()) else { return Ok(()) };
        let statement = self.suites().statement(terms, state);
        std::fs::create_dir_all(&self.inbox)?;
        self.moves.push((hash, Move::SignFalsely(state)));
        for key in &self.keys[self.keys.len() - faulty.min(self.keys.len())..] {
            let attestation = statement.sign(key)?;
            let file = faulty_file(&attestation_file(&self.inbox, &statement, key.address()));
            std::fs::write(file, serde_json::to_vec(&attestation)?)?;
        }
        Ok(())
    }

    /// A random trade's terms hash and id.
    pub(super) fn random_trade(&self, rng: &mut Rng) -> (B256, B256) {
        let known: Vec<(B256, B256)> =
            self.trades.iter().filter_map(|(h, s)| s.terms.as_ref().map(|t| (*h, t.id))).collect();
        known[rng.below(known.len() as u64) as usize]
    }

    /// A hostile account (the relayers' own, which holds no role) submits a delivery and a return of
    /// a random trade on A, each with whatever proof the inbox's signatures make, whatever B recorded;
    /// returns how many were refused.
    pub(super) async fn hostile(&mut self, rng: &mut Rng) -> Result<usize, DeployerError> {
        let (hash, _) = self.random_trade(rng);
        self.hostile_on(hash).await
    }

    /// [`Self::hostile`] on trade `hash`.
    pub(super) async fn hostile_on(&mut self, hash: B256) -> Result<usize, DeployerError> {
        let Some(terms) = self.trades.get(&hash).and_then(|s| s.terms.clone()) else { return Ok(0) };
        if self.a.halted {
            return Ok(0);
        }
        self.moves.push((hash, Move::Hostile));
        let set: Vec<Address> = self.keys.iter().map(PrivateKeySigner::address).collect();
        // The attacker reads this trade's signatures only: the files the attestors name after it.
        let mut attestations: Vec<Attestation> = Vec::new();
        for state in [states::COMMITTED, states::ABORTED] {
            let statement = self.suites().statement(&terms, state);
            for who in &set {
                let honest = attestation_file(&self.inbox, &statement, *who);
                let faulty = faulty_file(&honest);
                for path in [honest, faulty] {
                    let read = std::fs::read(path).ok().and_then(|b| serde_json::from_slice(&b).ok());
                    attestations.extend(read);
                }
            }
        }
        let mut refused = 0;
        for state in [states::COMMITTED, states::ABORTED] {
            let statement = self.suites().statement(&terms, state);
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
    pub(super) async fn passes(&mut self, stats: &mut Stats) -> Result<(), DeployerError> {
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
    pub(super) async fn check(&mut self, event: usize) -> Result<Option<Failure>, DeployerError> {
        self.scan().await?;
        let fail =
            |invariant, message: String| Ok(Some(Failure { invariant, event, message, trade: None, scenario: None }));
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
                    let message =
                        format!("trade {hash}: A ended it {ended:?} (true: delivered), B recorded {decided:?}");
                    return Ok(Some(Failure {
                        invariant: OUTCOMES,
                        event,
                        message,
                        trade: Some(*hash),
                        scenario: None,
                    }));
                }
            }
            let Some(terms) = &seen.terms else { continue };
            if seen.decided == Some(states::COMMITTED) {
                expected[2] -= terms.amount;
                expected[3] += terms.amount;
            } else if seen.paid && seen.decided.is_none() {
                cash_held += terms.amount;
            }
            match seen.ended.first() {
                Some(true) => {
                    expected[0] -= terms.units;
                    expected[1] += terms.units;
                }
                Some(false) => {}
                None => units_held += terms.units,
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
    pub(super) async fn scan(&mut self) -> Result<(), DeployerError> {
        let (a, b) = (&mut self.a.chain, &mut self.b.chain);
        let (head_a, head_b) = (a.head().await?, b.head().await?);
        let new_a = if head_a >= self.scanned.0 {
            a.logs(&[self.asset_end.contract], self.scanned.0, Some(head_a)).await?
        } else {
            Vec::new()
        };
        for located in new_a {
            let data = &located.log.data;
            let (hash, delivered) = if let Ok(e) = CrossChainDelivery::Delivered::decode_log_data(data) {
                (e.termsHash, true)
            } else if let Ok(e) = CrossChainDelivery::Returned::decode_log_data(data) {
                (e.termsHash, false)
            } else {
                continue;
            };
            let seen = self.trades.entry(hash).or_default();
            seen.ended.push(delivered);
            seen.ended_at.get_or_insert(self.now);
        }
        let new_b = if head_b >= self.scanned.1 {
            b.logs(&[self.payment_end.contract], self.scanned.1, Some(head_b)).await?
        } else {
            Vec::new()
        };
        for located in new_b {
            let data = &located.log.data;
            if let Ok(e) = CrossChainPayment::Committed::decode_log_data(data) {
                let seen = self.trades.entry(e.termsHash).or_default();
                seen.decided = Some(states::COMMITTED);
                seen.decided_at.get_or_insert(self.now);
            } else if let Ok(e) = CrossChainPayment::Aborted::decode_log_data(data) {
                let seen = self.trades.entry(e.termsHash).or_default();
                seen.decided = Some(states::ABORTED);
                seen.decided_at.get_or_insert(self.now);
            }
        }
        self.scanned = (head_a + 1, head_b + 1);
        Ok(())
    }

    /// After the healing passes: every trade ended once on A and was decided on B.
    pub(super) fn all_ended(&self, event: usize) -> Option<Failure> {
        let open: Vec<String> = self
            .trades
            .iter()
            .filter(|(_, s)| s.ended.len() != 1 || s.decided.is_none())
            .map(|(h, s)| format!("{h} (A {:?}, B {:?})", s.ended, s.decided))
            .collect();
        (!open.is_empty()).then(|| Failure {
            invariant: ENDED,
            event,
            trade: None,
            scenario: None,
            message: format!("{} trade(s) not ended on both chains after healing: {}", open.len(), open.join(", ")),
        })
    }

    pub(super) fn finish(self, seed: u64, events: usize, mut stats: Stats, failure: Option<Failure>) -> Run {
        stats.delivered = self.trades.values().filter(|s| s.ended.first() == Some(&true)).count();
        stats.returned = self.trades.values().filter(|s| s.ended.first() == Some(&false)).count();
        let _ = std::fs::remove_dir_all(&self.inbox);
        Run { seed, events, stats, failure }
    }
}
