//! The two chains of a cross-chain run, their contracts, the actors, and the checker's view of what
//! each trade did: the moves a schedule or a scenario makes, and the invariants checked after each.

use super::{Failure, Options, Run, Stats, faults::Mail, halting::Halting, ledger::Ledger};
use crate::{RevmChain, RevmOptions, rng::Rng};
use alloy::providers::Provider;
use kessai_bindings::{
    alloy::{
        primitives::{Address, B256, U256},
        signers::local::PrivateKeySigner,
    },
    cross_chain::{for_payment, states},
    cross_chain_delivery::CrossChainDelivery,
    cross_chain_payment::CrossChainPayment,
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
        inbox::{Inbox, name},
        plan::{CrossChainSpec, Side, plan, xlabels},
        proof,
        relay::{Attestor, Endpoint, Relayer},
        terms_hash,
        trade::{Order, TwoSuites},
    },
};

use super::{ASSET_CHAIN, PAYMENT_CHAIN};

/// The name a faulty attestor's signature goes under, beside its honest one of the same record (an
/// attestor may be both: one entry each).
fn faulty_name(honest: &str) -> String {
    honest.replace(".json", ".faulty.json")
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
    /// The relayers' inbox, in memory: what the attestors wrote arrives here ([`World::post`]).
    pub(super) inbox: Inbox,
    /// The attestors' outbox, in memory: what they wrote, before the network carries it.
    pub(super) outbox: Inbox,
    /// What the network carries from the outbox to the inbox, and what a delay holds back.
    pub(super) mail: Mail,
    /// How far each chain's clock runs ahead of the world's (clock skew): (asset, payment).
    pub(super) lead: (u64, u64),
    /// The attestors rotated out (their signatures no longer count).
    pub(super) retired: Vec<PrivateKeySigner>,
    /// Rotations so far (each new attestor's key follows from it).
    pub(super) rotations: u64,
    /// The verifiers on (asset, payment) chain, and the authority that rotates their sets.
    pub(super) verifiers: (Address, Address),
    pub(super) authority: Address,
    /// The verifiers' threshold.
    pub(super) threshold: u8,
    /// The world's time of each block the chains made between transactions: (asset, payment).
    pub(super) block_times: (Vec<u64>, Vec<u64>),
    /// Seconds between the blocks no transaction makes: (asset, payment).
    pub(super) block_time: (u64, u64),
    /// What the checker has seen of each trade.
    pub(super) ledger: Ledger,
    pub(super) next_id: u64,
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

/// What a scenario says of one chain.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct ChainSpec {
    pub(super) chain_id: u64,
    pub(super) hardfork: Hardfork,
    /// Seconds between blocks no transaction makes.
    pub(super) block_time: u64,
    /// Seconds each transaction's block moves its clock.
    pub(super) tx_seconds: u64,
    /// Seconds its clock runs ahead from the start.
    pub(super) lead: u64,
}

impl ChainSpec {
    /// The asset chain like ibet for Fin's (Berlin, id 1010032), or the payment chain at Cancun
    /// (id 31337); a block a second.
    pub(super) fn default_for(asset: bool) -> Self {
        let (chain_id, hardfork) =
            if asset { (ASSET_CHAIN, Hardfork::Berlin) } else { (PAYMENT_CHAIN, Hardfork::Cancun) };
        Self { chain_id, hardfork, block_time: 1, tx_seconds: 1, lead: 0 }
    }
}

/// The three attestors' keys (0xa1…, 0xa2…, 0xa3…), the same on every run.
pub(super) fn attestor_keys() -> Result<Vec<PrivateKeySigner>, DeployerError> {
    (0xa1..=0xa3u8)
        .map(|i| {
            PrivateKeySigner::from_bytes(&B256::repeat_byte(i))
                .map_err(|e| DeployerError::Keys(format!("attestor key 0x{i:x}…: {e}")))
        })
        .collect()
}

/// The cross-chain deployment of every run and of the benchmark: Anvil's development accounts in
/// the suite's roles, the three attestors with `threshold`, two resolvers of an emergency.
pub(super) fn deployment(threshold: u8) -> Result<CrossChainSpec, DeployerError> {
    let accounts = anvil::dev_accounts();
    let roles = SuiteAccounts::in_role_order(&accounts)
        .ok_or_else(|| DeployerError::Keys("Anvil's ten development accounts are needed".into()))?;
    Ok(CrossChainSpec {
        suite: SuiteSpec {
            accounts: roles,
            security: ("Kessai Bond".into(), "KB".into()),
            deposit: ("DCJPY".into(), "DCJPY".into()),
            minting: Default::default(),
            extra_banks: Vec::new(),
            instrument: None,
        },
        attestors: attestor_keys()?.iter().map(PrivateKeySigner::address).collect(),
        threshold,
        resolvers: vec![accounts[4], accounts[1]],
        resolution_approvals: 2,
        resolution_delay: 30 * 86_400,
    })
}

impl World<RevmChain> {
    /// Both chains in-process, each with its id and rules (`chains`: the asset chain's, then the
    /// payment chain's); A with Berlin's rules (ibet for Fin's) and B with Cancun's by default.
    pub(super) async fn new(threshold: u8, chains: &[ChainSpec; 2]) -> Result<Self, DeployerError> {
        let accounts = anvil::dev_accounts();
        let options =
            |c: ChainSpec| RevmOptions { tx_seconds: c.tx_seconds, ..RevmOptions::new(c.hardfork, c.chain_id) };
        let [a, b] = chains.map(|c| RevmChain::new(&options(c), &accounts));
        Ok(Self::on(a, b, threshold).await?.with(chains))
    }
}

impl<C: Pin> World<C> {
    /// The suite, the cross-chain contracts and the funded parties deployed on `a` (the asset chain,
    /// id 1010032) and `b` (the payment chain, id 31337), whose first ten accounts are Anvil's
    /// development accounts.
    pub(super) async fn on(mut a: C, mut b: C, threshold: u8) -> Result<Self, DeployerError> {
        let accounts = anvil::dev_accounts();
        let keys = attestor_keys()?;
        let spec = deployment(threshold)?;
        let roles = spec.suite.accounts;
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
        // Each side's statements name its chain as the chain itself says.
        let (id_a, id_b) = (a.chain_id().await?, b.chain_id().await?);
        let asset_end = Endpoint { chain_id: id_a, contract: on_a.address(xlabels::DELIVERY)?, confirmations: 0 };
        let payment_end = Endpoint { chain_id: id_b, contract: on_b.address(xlabels::PAYMENT)?, confirmations: 0 };
        let (inbox, outbox) = (Inbox::memory(), Inbox::memory());
        let attestors =
            keys[..2].iter().map(|k| Attestor::new(k.clone(), asset_end, payment_end, outbox.clone())).collect();
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
            outbox,
            mail: Mail::default(),
            lead: (0, 0),
            retired: Vec::new(),
            rotations: 0,
            verifiers: (on_a.address(xlabels::VERIFIER)?, on_b.address(xlabels::VERIFIER)?),
            authority: roles.authority,
            threshold,
            block_times: (Vec::new(), Vec::new()),
            block_time: (1, 1),
            ledger: Ledger::default(),
            next_id: 1,
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
            asset_chain_id: self.asset_end.chain_id,
            delivery: self.asset_end.contract,
            security: self.asset.security,
            payment_chain_id: self.payment_end.chain_id,
            payment: self.payment_end.contract,
            cash: self.payment.deposit,
        }
    }

    /// The same world with each chain's block time and head start (`chains`: asset, payment).
    pub(super) fn with(mut self, chains: &[ChainSpec; 2]) -> Self {
        self.block_time = (chains[0].block_time, chains[1].block_time);
        self.lead = (chains[0].lead, chains[1].lead);
        self
    }

    /// Relayer `i`: on both chains, on B only, or on A only; new, it knows nothing but the chains,
    /// which it reads from the blocks of the oldest trade still open (as its operator restarts it
    /// with `--asset-from-block` and `--payment-from-block`: a day's thousands of finished trades
    /// need not be read again), or from the last blocks checked when none is.
    pub(super) fn relayer(&self, i: usize) -> Relayer {
        let (a, b) = self.ledger.oldest_open().unwrap_or(self.ledger.scanned);
        let r = Relayer::new(self.relayer_from, self.asset_end, self.payment_end, self.inbox.clone()).from_blocks(a, b);
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
        self.tick_delay(rng, stats)?;
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
                self.post()?;
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
        if rng.chance(options.faulty_percent) && !self.ledger.locked.is_empty() {
            let signed = self.faulty_signs(rng, options.faulty)?;
            stats.faulty_signatures += 1;
            // The attacker the faulty attestors work with uses their signature at once.
            if rng.chance(options.hostile_percent * 10) {
                stats.hostile_refused += self.hostile_on(signed).await?.len();
            }
        }
        if rng.chance(options.hostile_percent) && !self.ledger.locked.is_empty() {
            stats.hostile_refused += self.hostile(rng).await?.len();
        }
        if rng.chance(options.delay_percent) {
            self.delay(rng.range(3, 40) as usize, stats);
        }
        if rng.chance(options.skew_percent) {
            let (asset, lead) = (rng.chance(50), rng.range(0, 30));
            self.skew(asset, lead, stats);
        }
        if rng.chance(options.rotate_percent) {
            let slot = rng.below(2) as usize;
            self.rotate(slot, options.faulty, stats).await?;
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
        let block = match self.a.chain.send_call(terms.seller, self.asset_end.contract, &call).await {
            Ok(receipt) => receipt.block_number,
            Err(DeployerError::Revert(e)) if e.name == "XDeliveryTermsExpired" => return Ok(None),
            Err(e) => return Err(e),
        };
        let (heads, now) = ((block, self.b.chain.head().await?), self.now);
        let hash = terms_hash(&terms);
        self.ledger.touch(hash, |seen| {
            seen.terms = Some(terms);
            seen.lock_heads = heads;
            seen.locked_at = now;
        });
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
            .ledger
            .unpaid
            .iter()
            .filter(|h| self.ledger.trades[*h].terms.as_ref().is_some_and(|t| t.deadline >= now))
            .copied()
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
        let Some(terms) = self.ledger.trades.get(&hash).and_then(|s| s.terms.clone()) else {
            return Ok(Err("no such trade".into()));
        };
        let call = CrossChainPayment::payCall { terms: for_payment(&terms) };
        match self.b.chain.send_call(terms.payer, self.payment_end.contract, &call).await {
            Ok(_) => {}
            Err(DeployerError::Revert(e)) => return Ok(Err(e.name)),
            Err(e) => return Err(e),
        }
        let now = self.now;
        self.ledger.touch(hash, |seen| {
            seen.paid = true;
            seen.paid_at = Some(now);
        });
        self.moves.push((hash, Move::Pay));
        Ok(Ok(()))
    }

    /// A block on `side`'s chain, its clock brought up to the world's time (none while it is halted).
    pub(super) async fn block(&mut self, side: Side) -> Result<(), DeployerError> {
        let (chain, lead, every) = if side == Side::Asset {
            (&mut self.a, self.lead.0, self.block_time.0)
        } else {
            (&mut self.b, self.lead.1, self.block_time.1)
        };
        if !chain.halted {
            let behind = (self.now + lead).saturating_sub(chain.chain.timestamp().await?);
            // A chain with a block time of several seconds makes its next block only when it is due.
            if every > 1 && behind < every {
                return Ok(());
            }
            let behind = behind.max(1);
            chain.chain.pin_next(behind).await?;
            chain.chain.advance_time(behind).await?;
            let times = if side == Side::Asset { &mut self.block_times.0 } else { &mut self.block_times.1 };
            times.push(self.now);
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
        let Some(terms) = self.ledger.trades.get(&hash).and_then(|s| s.terms.as_ref()) else { return Ok(()) };
        let statement = self.suites().statement(terms, state);
        self.moves.push((hash, Move::SignFalsely(state)));
        for key in &self.keys[self.keys.len() - faulty.min(self.keys.len())..] {
            let attestation = statement.sign(key)?;
            self.inbox.put(&faulty_name(&name(&statement, key.address())), &attestation)?;
        }
        Ok(())
    }

    /// A random trade's terms hash and id.
    pub(super) fn random_trade(&self, rng: &mut Rng) -> (B256, B256) {
        let hash = self.ledger.locked[rng.below(self.ledger.locked.len() as u64) as usize];
        let id = self.ledger.trades[&hash].terms.as_ref().map_or(B256::ZERO, |t| t.id);
        (hash, id)
    }

    /// A hostile account (the relayers' own, which holds no role) submits a delivery and a return of
    /// a random trade on A, each with whatever proof the inbox's signatures make, whatever B recorded;
    /// returns the contracts' refusals (their errors' names).
    pub(super) async fn hostile(&mut self, rng: &mut Rng) -> Result<Vec<String>, DeployerError> {
        let (hash, _) = self.random_trade(rng);
        self.hostile_on(hash).await
    }

    /// [`Self::hostile`] on trade `hash`.
    pub(super) async fn hostile_on(&mut self, hash: B256) -> Result<Vec<String>, DeployerError> {
        let Some(terms) = self.ledger.trades.get(&hash).and_then(|s| s.terms.clone()) else { return Ok(Vec::new()) };
        if self.a.halted {
            return Ok(Vec::new());
        }
        self.moves.push((hash, Move::Hostile));
        // Every key that ever attested: a retired attestor's signature makes a stale proof.
        let set: Vec<Address> = self.keys.iter().chain(&self.retired).map(PrivateKeySigner::address).collect();
        // The attacker reads this trade's signatures only: the entries the attestors name after it.
        let mut attestations: Vec<Attestation> = Vec::new();
        for state in [states::COMMITTED, states::ABORTED] {
            let statement = self.suites().statement(&terms, state);
            for who in &set {
                let honest = name(&statement, *who);
                let faulty = faulty_name(&honest);
                // It sees signatures as they travel, before a delay lets them reach the relayers.
                for entry in [honest, faulty] {
                    attestations.extend(self.inbox.get(&entry).or_else(|| self.outbox.get(&entry)));
                }
            }
        }
        let mut refused = Vec::new();
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
                Err(DeployerError::Revert(e)) => refused.push(e.name),
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
        self.post()?;
        for relayer in &mut self.relayers {
            if relayer.step(&mut self.a, &mut self.b).await.is_err() {
                stats.failed_passes += 1;
            }
        }
        Ok(())
    }

    pub(super) fn finish(self, seed: u64, events: usize, mut stats: Stats, failure: Option<Failure>) -> Run {
        stats.delivered = self.ledger.trades.values().filter(|s| s.ended.first() == Some(&true)).count();
        stats.returned = self.ledger.trades.values().filter(|s| s.ended.first() == Some(&false)).count();
        stats.latency = self.ledger.latency();
        Run { seed, events, stats, failure }
    }
}
