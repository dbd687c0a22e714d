//! The checker: what each trade did as the chains' events tell it, what the parties must hold
//! because of it (kept up to date as trades change, so a check costs the same on the millionth
//! event as on the first), and the invariants checked against the chains after every event.

use super::{ENDED, Failure, HOLDINGS, OUTCOMES, SUPPLY, world::Pin, world::World};
use kessai_bindings::{
    alloy::{
        primitives::{B256, U256},
        sol_types::SolEvent,
    },
    cross_chain::{Terms, states},
    cross_chain_delivery::CrossChainDelivery,
    cross_chain_payment::CrossChainPayment,
    deposit_token::DepositToken,
    security_token::SecurityToken,
};
use kessai_deployer::DeployerError;
use std::collections::{BTreeMap, BTreeSet};

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
    /// The asset chain's block with the lock, and the payment chain's head then.
    pub(super) lock_heads: (u64, u64),
    /// The world's time of the lock and of the payment.
    pub(super) locked_at: u64,
    pub(super) paid_at: Option<u64>,
}

impl Seen {
    /// Seconds from the payment until both legs were final (B committed, A delivered), for a trade
    /// that settled.
    pub(super) fn latency(&self) -> Option<u64> {
        let (paid, decided, ended) = (self.paid_at?, self.decided_at?, self.ended_at?);
        (self.decided == Some(states::COMMITTED)).then(|| decided.max(ended).saturating_sub(paid))
    }
}

/// Settlement latency in simulated time: seconds from a trade's payment until both legs were final,
/// over the trades that settled.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Latency {
    /// Trades that settled.
    pub settled: usize,
    /// The median, in seconds (none when nothing settled).
    pub p50: Option<u64>,
    /// The 99th percentile.
    pub p99: Option<u64>,
    /// The longest.
    pub max: Option<u64>,
}

impl Latency {
    /// The percentiles of `samples` (nearest rank).
    pub fn of(mut samples: Vec<u64>) -> Self {
        samples.sort_unstable();
        let rank = |q: f64| {
            let i = ((q * samples.len() as f64).ceil() as usize).clamp(1, samples.len().max(1)) - 1;
            samples.get(i).copied()
        };
        Self { settled: samples.len(), p50: rank(0.50), p99: rank(0.99), max: samples.last().copied() }
    }
}

impl std::fmt::Display for Latency {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = |x: Option<u64>| x.map_or("-".into(), |x| format!("{x} s"));
        write!(f, "{} settled: p50 {}, p99 {}, max {}", self.settled, s(self.p50), s(self.p99), s(self.max))
    }
}

/// What trades move, summed: units delivered, cash committed, units and cash on hold.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Totals {
    delivered: U256,
    committed: U256,
    units_held: U256,
    cash_held: U256,
}

impl Seen {
    /// What this trade moves by what was seen: its cash once B committed (on hold once paid,
    /// until B decides), its units once A delivered (on hold from the lock until A ends it).
    fn moves(&self) -> Totals {
        let mut totals = Totals::default();
        let Some(terms) = &self.terms else { return totals };
        if self.decided == Some(states::COMMITTED) {
            totals.committed = terms.amount;
        } else if self.paid && self.decided.is_none() {
            totals.cash_held = terms.amount;
        }
        match self.ended.first() {
            Some(true) => totals.delivered = terms.units,
            Some(false) => {}
            None => totals.units_held = terms.units,
        }
        totals
    }
}

/// Every trade seen, and the sums of what they move.
#[derive(Debug, Default)]
pub(super) struct Ledger {
    pub(super) trades: BTreeMap<B256, Seen>,
    /// Terms hashes in the order the trades were locked (random draws pick from it).
    pub(super) locked: Vec<B256>,
    /// Locked trades neither paid nor decided (the payer picks from them).
    pub(super) unpaid: BTreeSet<B256>,
    /// Locked trades not yet ended on both chains.
    open: BTreeSet<B256>,
    totals: Totals,
    /// Trades changed since the last check.
    dirty: BTreeSet<B256>,
    /// The next block of each chain whose events the checker reads.
    pub(super) scanned: (u64, u64),
    /// Each chain's figures as read at a head: a chain with no new block reads the same.
    read_a: Option<(u64, [U256; 4])>,
    read_b: Option<(u64, [U256; 4])>,
}

impl Ledger {
    /// Changes trade `hash` by `change`, keeping the sums and the draws' lists up to date.
    pub(super) fn touch(&mut self, hash: B256, change: impl FnOnce(&mut Seen)) {
        let seen = self.trades.entry(hash).or_default();
        let (before, had_terms) = (seen.moves(), seen.terms.is_some());
        change(seen);
        let after = seen.moves();
        if !had_terms && seen.terms.is_some() {
            self.locked.push(hash);
        }
        if seen.terms.is_some() && !seen.paid && seen.decided.is_none() {
            self.unpaid.insert(hash);
        } else {
            self.unpaid.remove(&hash);
        }
        if seen.terms.is_some() && (seen.ended.is_empty() || seen.decided.is_none()) {
            self.open.insert(hash);
        } else {
            self.open.remove(&hash);
        }
        let t = &mut self.totals;
        t.delivered = t.delivered + after.delivered - before.delivered;
        t.committed = t.committed + after.committed - before.committed;
        t.units_held = t.units_held + after.units_held - before.units_held;
        t.cash_held = t.cash_held + after.cash_held - before.cash_held;
        self.dirty.insert(hash);
    }
}

impl Ledger {
    /// The settlement latency of every trade that settled.
    pub(super) fn latency(&self) -> Latency {
        Latency::of(self.trades.values().filter_map(Seen::latency).collect())
    }

    /// The blocks the oldest trade not yet ended on both chains was locked at (see
    /// [`Seen::lock_heads`]), if one is open.
    pub(super) fn oldest_open(&self) -> Option<(u64, u64)> {
        let heads = self.open.iter().map(|h| self.trades[h].lock_heads);
        heads.reduce(|x, y| (x.0.min(y.0), x.1.min(y.1)))
    }
}

impl<C: Pin> World<C> {
    /// Reads the events both chains emitted since the last check, then checks every invariant
    /// against the chains (read directly, whatever is halted).
    pub(super) async fn check(&mut self, event: usize) -> Result<Option<Failure>, DeployerError> {
        self.scan().await?;
        let fail =
            |invariant, message: String| Ok(Some(Failure { invariant, event, message, trade: None, scenario: None }));
        for hash in std::mem::take(&mut self.ledger.dirty) {
            let seen = &self.ledger.trades[&hash];
            match (seen.ended.as_slice(), seen.decided) {
                ([], _) | ([true], Some(states::COMMITTED)) | ([false], Some(states::ABORTED)) => {}
                (ended, decided) => {
                    let message =
                        format!("trade {hash}: A ended it {ended:?} (true: delivered), B recorded {decided:?}");
                    return Ok(Some(Failure {
                        invariant: OUTCOMES,
                        event,
                        message,
                        trade: Some(hash),
                        scenario: None,
                    }));
                }
            }
        }
        let [supply_a, seller, buyer, units_held] = self.read_a().await?;
        let [supply_b, payer, payee, cash_held] = self.read_b().await?;
        if (supply_a, supply_b) != self.supplies {
            return fail(SUPPLY, format!("supplies {:?}, issued {:?}", (supply_a, supply_b), self.supplies));
        }
        let t = self.ledger.totals;
        let [units, _, cash, _] = self.initial;
        let expected = [units - t.delivered, t.delivered, cash - t.committed, t.committed];
        let found = [seller, buyer, payer, payee];
        if found != expected || (units_held, cash_held) != (t.units_held, t.cash_held) {
            return fail(
                HOLDINGS,
                format!(
                    "seller, buyer, payer, payee hold {found:?} with {:?} on hold; the outcomes say {expected:?} with {:?}",
                    (units_held, cash_held),
                    (t.units_held, t.cash_held)
                ),
            );
        }
        Ok(None)
    }

    /// A's security supply, the seller's and the buyer's units, and the seller's units on hold, as
    /// of A's head (read again only when A made a block).
    async fn read_a(&mut self) -> Result<[U256; 4], DeployerError> {
        let a = &mut self.a.chain;
        let head = a.head().await?;
        if let Some((at, figures)) = self.ledger.read_a
            && at == head
        {
            return Ok(figures);
        }
        let (token, [seller, buyer, ..]) = (self.asset.security, self.parties);
        let figures = [
            a.read(token, &SecurityToken::totalSupplyCall {}).await?,
            a.read(token, &SecurityToken::balanceOfCall { account: seller }).await?,
            a.read(token, &SecurityToken::balanceOfCall { account: buyer }).await?,
            a.read(token, &SecurityToken::heldBalanceOfCall { account: seller }).await?,
        ];
        self.ledger.read_a = Some((head, figures));
        Ok(figures)
    }

    /// B's deposit supply, the payer's and the payee's cash, and the payer's cash on hold, as of B's
    /// head.
    async fn read_b(&mut self) -> Result<[U256; 4], DeployerError> {
        let b = &mut self.b.chain;
        let head = b.head().await?;
        if let Some((at, figures)) = self.ledger.read_b
            && at == head
        {
            return Ok(figures);
        }
        let (token, [.., payer, payee]) = (self.payment.deposit, self.parties);
        let figures = [
            b.read(token, &DepositToken::totalSupplyCall {}).await?,
            b.read(token, &DepositToken::balanceOfCall { account: payer }).await?,
            b.read(token, &DepositToken::balanceOfCall { account: payee }).await?,
            b.read(token, &DepositToken::heldBalanceOfCall { account: payer }).await?,
        ];
        self.ledger.read_b = Some((head, figures));
        Ok(figures)
    }

    /// The trades' events since the last scan: B's payments and outcomes, A's deliveries and returns.
    pub(super) async fn scan(&mut self) -> Result<(), DeployerError> {
        let (a, b) = (&mut self.a.chain, &mut self.b.chain);
        let (head_a, head_b) = (a.head().await?, b.head().await?);
        let (from_a, from_b) = self.ledger.scanned;
        let new_a =
            if head_a >= from_a { a.logs(&[self.asset_end.contract], from_a, Some(head_a)).await? } else { Vec::new() };
        let new_b = if head_b >= from_b {
            b.logs(&[self.payment_end.contract], from_b, Some(head_b)).await?
        } else {
            Vec::new()
        };
        let now = self.now;
        for located in new_a {
            let data = &located.log.data;
            let (hash, delivered) = if let Ok(e) = CrossChainDelivery::Delivered::decode_log_data(data) {
                (e.termsHash, true)
            } else if let Ok(e) = CrossChainDelivery::Returned::decode_log_data(data) {
                (e.termsHash, false)
            } else {
                continue;
            };
            self.ledger.touch(hash, |seen| {
                seen.ended.push(delivered);
                seen.ended_at.get_or_insert(now);
            });
        }
        for located in new_b {
            let data = &located.log.data;
            let (hash, state) = if let Ok(e) = CrossChainPayment::Committed::decode_log_data(data) {
                (e.termsHash, states::COMMITTED)
            } else if let Ok(e) = CrossChainPayment::Aborted::decode_log_data(data) {
                (e.termsHash, states::ABORTED)
            } else {
                continue;
            };
            self.ledger.touch(hash, |seen| {
                seen.decided = Some(state);
                seen.decided_at.get_or_insert(now);
            });
        }
        self.ledger.scanned = (head_a + 1, head_b + 1);
        Ok(())
    }

    /// After the healing passes: every trade ended once on A and was decided on B.
    pub(super) fn all_ended(&self, event: usize) -> Option<Failure> {
        let open: Vec<String> = self
            .ledger
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
}
