//! Building a workload: the day's trades, drawn by seed, and the scenario that replays them.

use super::*;

/// A generated market: parties, their funding, and every trade with its intended outcome.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Workload {
    /// The parameters it was generated from.
    pub params: GenParams,
    /// Every party: the five suite roles, the agent, then the investors.
    pub parties: Vec<Party>,
    /// Investors registered in both registries and funded with units and cash.
    pub eligible: Vec<PartyId>,
    /// Bank customers without a securities account (funded with cash only).
    pub outsiders: Vec<PartyId>,
    /// The settlement agent.
    pub agent: PartyId,
    /// The trades, in order.
    pub trades: Vec<GenTrade>,
    /// Seconds from one day's start to the next.
    pub day_length: u64,
    /// Seconds of one settlement window.
    pub window_length: u64,
}

/// Free units and cash per party: the generator's ledger.
#[derive(Clone, Debug)]
pub(super) struct Ledger {
    pub(super) units: Vec<u64>,
    pub(super) cash: Vec<u128>,
}

impl Workload {
    /// Generates a workload; the same parameters always give the same workload.
    pub fn generate(params: &GenParams) -> Result<Self, ScenarioError> {
        let bad = |m: String| Err(ScenarioError::Setup(format!("cannot generate the workload: {m}")));
        let r = params.rates;
        for (name, rate) in
            [("ineligible", r.ineligible), ("cash", r.cash), ("agent-rejects", r.agent_rejects), ("expiry", r.expiry)]
        {
            if !(0.0..=1.0).contains(&rate) {
                return bad(format!("the {name} failure rate is {rate}: expected a probability from 0 to 1"));
            }
        }
        let total = r.ineligible + r.cash + r.agent_rejects + r.expiry;
        if total > 1.0 + 1e-9 {
            return bad(format!("the failure rates add up to {total}: expected at most 1"));
        }
        if params.windows == 0 {
            return bad("a day needs at least one settlement window".into());
        }
        if params.max_batch == 0 {
            return bad("a netted batch needs room for at least one trade".into());
        }
        let outsiders = if r.ineligible > 0.0 {
            ((params.investors as f64 * r.ineligible).ceil() as usize).clamp(1, params.investors)
        } else {
            0
        };
        let eligible_count = params.investors.saturating_sub(outsiders);
        if eligible_count < 2 {
            return bad(format!(
                "{} investors leave {eligible_count} eligible to trade ({outsiders} are kept ineligible for the \
                 ineligible-buyer rate): expected at least 2",
                params.investors
            ));
        }

        // Layout of a day: windows long enough for their transactions, with a wide margin.
        let windows = params.windows.min(params.trades_per_day.max(1));
        let per_window = params.trades_per_day.div_ceil(windows) as u64;
        let window_length = (10 * per_window + 600).max(3_600);
        let closing = OPENING + windows as u64 * window_length;
        let end_of_day_txs = 2 * params.trades_per_day as u64;
        let day_length = (closing + window_length + end_of_day_txs + 3_600).div_ceil(DAY) * DAY;

        let mut parties: Vec<Party> = Role::SUITE
            .iter()
            .map(|role| Party {
                name: role.name().into(),
                role: *role,
                class: 2,
                country: 392,
                kyc_valid_for: KYC,
                address: None,
            })
            .collect();
        let horizon = params.days as u64 * day_length + 30 * DAY;
        let kyc = KYC.max(horizon);
        let agent = parties.len();
        parties.push(Party {
            name: "agent".into(),
            role: Role::Agent,
            class: 2,
            country: 392,
            kyc_valid_for: kyc,
            address: None,
        });
        let width = digits(params.investors);
        let mut eligible = Vec::with_capacity(eligible_count);
        for i in 1..=eligible_count {
            eligible.push(parties.len());
            parties.push(Party {
                name: format!("inv{i:0width$}"),
                role: Role::Investor,
                class: 0,
                country: 392,
                kyc_valid_for: kyc,
                address: None,
            });
        }
        let mut outsider_ids = Vec::with_capacity(outsiders);
        for i in 1..=outsiders {
            outsider_ids.push(parties.len());
            parties.push(Party {
                name: format!("outsider{i:0width$}"),
                role: Role::Investor,
                class: 0,
                country: 392,
                kyc_valid_for: kyc,
                address: None,
            });
        }

        let mut rng = Rng::from_state(params.seed ^ 0x6b65_7373_6169_2121);
        let mut ledger = Ledger { units: vec![0; parties.len()], cash: vec![0; parties.len()] };
        for p in &eligible {
            ledger.units[*p] = UNITS_PER_INVESTOR;
            ledger.cash[*p] = CASH_PER_INVESTOR;
        }
        for p in &outsider_ids {
            ledger.cash[*p] = CASH_PER_INVESTOR;
        }

        let mut trades = Vec::with_capacity(params.trades_per_day * params.days);
        for day in 0..params.days {
            // Units locked until the end of the day by trades that will be released then.
            let mut locked_until_eod: Vec<(PartyId, u64)> = Vec::new();
            for (window, count) in window_sizes(params.trades_per_day, windows).into_iter().enumerate() {
                for _ in 0..count {
                    let kind = pick_kind(&mut rng, &r);
                    let trade = pick_trade(&mut rng, &mut ledger, &eligible, &outsider_ids, kind, day, window);
                    match trade.kind {
                        TradeKind::Normal => {
                            ledger.units[trade.seller] -= trade.units;
                            ledger.units[trade.buyer] += trade.units;
                            ledger.cash[trade.buyer] -= trade.amount;
                            ledger.cash[trade.seller] += trade.amount;
                        }
                        TradeKind::AgentRejects | TradeKind::Expires => {
                            ledger.units[trade.seller] -= trade.units;
                            locked_until_eod.push((trade.seller, trade.units));
                        }
                        TradeKind::IneligibleBuyer | TradeKind::InsufficientCash => {}
                    }
                    trades.push(trade);
                }
            }
            for (seller, units) in locked_until_eod {
                ledger.units[seller] += units;
            }
        }
        Ok(Self {
            params: params.clone(),
            parties,
            eligible,
            outsiders: outsider_ids,
            agent,
            trades,
            day_length,
            window_length,
        })
    }

    /// Trades of each kind.
    pub fn kinds(&self) -> Vec<(TradeKind, usize)> {
        TradeKind::ALL.iter().map(|k| (*k, self.trades.iter().filter(|t| t.kind == *k).count())).collect()
    }

    /// The trade's name in the scenario: `d<day>-<number in the day>`.
    pub(super) fn trade_name(&self, index: usize) -> String {
        let per_day = self.params.trades_per_day.max(1);
        let width = digits(per_day);
        format!("d{}-{:0width$}", index / per_day + 1, index % per_day + 1)
    }

    pub(super) fn window_time(&self, day: usize, window: usize) -> u64 {
        day as u64 * self.day_length + OPENING + window as u64 * self.window_length
    }

    pub(super) fn closing_time(&self, day: usize) -> u64 {
        let windows = self.params.windows.min(self.params.trades_per_day.max(1));
        self.window_time(day, windows)
    }

    /// The scenario that settles this workload under `settlement`: setup (registrations and
    /// funding), then each day's windows, then the day's releases.
    pub fn scenario(&self, settlement: Settlement) -> Scenario {
        self.build(settlement).0
    }

    /// The state every trade ends in under `settlement`, as the generator's ledger predicts.
    pub fn expected_states(&self, settlement: Settlement) -> Vec<TradeState> {
        self.build(settlement).1
    }

    pub(super) fn build(&self, settlement: Settlement) -> (Scenario, Vec<TradeState>) {
        let p = &self.params;
        let mut steps = Vec::new();
        let setup = |action| Step { action, expect: Expect::default(), origin: Origin::Setup, note: None };
        for id in &self.eligible {
            steps.push(setup(Action::Register { party: *id, registry: Registry::Securities }));
            steps.push(setup(Action::Register { party: *id, registry: Registry::Bank }));
        }
        for id in &self.outsiders {
            steps.push(setup(Action::Register { party: *id, registry: Registry::Bank }));
        }
        let mut ledger = Ledger { units: vec![0; self.parties.len()], cash: vec![0; self.parties.len()] };
        let mut funded: Vec<PartyId> = self.eligible.iter().chain(&self.outsiders).copied().collect();
        funded.sort_unstable();
        for id in funded {
            if self.eligible.contains(&id) {
                steps.push(setup(Action::Issue { to: id, units: U256::from(UNITS_PER_INVESTOR) }));
                ledger.units[id] = UNITS_PER_INVESTOR;
            }
            // In the pilot's cycle nobody holds deposit tokens between trades: they are issued for a
            // purchase and redeemed after it.
            if settlement == Settlement::Dcjpy {
                continue;
            }
            let reference = format!("FUND-{}", self.parties[id].name);
            steps.push(setup(Action::Deposit {
                to: Holder::Party(id),
                amount: U256::from(CASH_PER_INVESTOR),
                reference,
            }));
            ledger.cash[id] = CASH_PER_INVESTOR;
        }

        let trades: Vec<TradeDef> = self
            .trades
            .iter()
            .enumerate()
            .map(|(i, t)| {
                let short = matches!(t.kind, TradeKind::AgentRejects | TradeKind::Expires);
                let deadline = if short {
                    // Past by the end of the day's trading, and well after the trade is created.
                    self.window_time(t.day, t.window) + self.window_length / 2
                } else {
                    self.closing_time(t.day)
                };
                TradeDef {
                    name: self.trade_name(i),
                    terms: TradeTerms {
                        seller: t.seller,
                        buyer: t.buyer,
                        agent: Some(self.agent),
                        units: U256::from(t.units),
                        amount: U256::from(t.amount),
                        deadline,
                    },
                }
            })
            .collect();

        let mut timeline = Timeline { steps, number: 0 };
        let mut states = vec![TradeState::Missing; self.trades.len()];
        let mut index = 0;
        for day in 0..p.days {
            let mut end_of_day: Vec<TradeId> = Vec::new();
            let windows = p.windows.min(p.trades_per_day.max(1));
            for (window, count) in window_sizes(p.trades_per_day, windows).into_iter().enumerate() {
                timeline.push(Action::Advance(Advance::Until(self.window_time(day, window))), None, None);
                let mut paid: Vec<TradeId> = Vec::new();
                for t in index..index + count {
                    self.trade_steps(
                        settlement,
                        t,
                        &mut timeline,
                        &mut ledger,
                        &mut states,
                        &mut paid,
                        &mut end_of_day,
                    );
                }
                index += count;
                if settlement == Settlement::Netted && !paid.is_empty() {
                    let close = self.window_time(day, window) + self.window_length * 3 / 4;
                    timeline.push(Action::Advance(Advance::Until(close)), None, None);
                    for batch in paid.chunks(p.max_batch) {
                        timeline.push(
                            Action::Batch { trades: batch.to_vec(), netted: true, by: self.agent },
                            None,
                            None,
                        );
                        for t in batch {
                            let g = &self.trades[*t];
                            ledger.units[g.buyer] += g.units;
                            ledger.cash[g.seller] += g.amount;
                            states[*t] = TradeState::Settled;
                        }
                    }
                }
            }
            if end_of_day.is_empty() {
                continue;
            }
            timeline.push(Action::Advance(Advance::Until(self.closing_time(day))), None, None);
            for t in end_of_day {
                let g = &self.trades[t];
                if g.kind == TradeKind::Expires {
                    let late = match settlement {
                        Settlement::Gross => Action::SettleWithPayment { trade: t, by: self.agent, signatures_of: t },
                        Settlement::Netted | Settlement::Instructed | Settlement::Dcjpy => Action::Approve { trade: t },
                    };
                    timeline.push(late, Some(EXPIRED), Some("the settlement instruction arrives after the deadline"));
                }
                let note = (g.kind == TradeKind::AgentRejects)
                    .then_some("the agent never approved: the seller takes its units back after the deadline");
                timeline.push(Action::Release { trade: t, by: g.seller }, None, note);
                ledger.units[g.seller] += g.units;
                if settlement != Settlement::Gross && states[t] == TradeState::Paid {
                    ledger.cash[g.buyer] += g.amount;
                    if settlement == Settlement::Dcjpy {
                        self.redeem(g.buyer, g.amount, Some(UNSETTLED), &mut timeline, &mut ledger);
                    }
                }
                states[t] = TradeState::Expired;
            }
        }

        let r = &p.rates;
        let description = format!(
            "Generated by kessai sim gen: {} investors ({} ineligible), {} trades a day for {} days in {} settlement \
             windows a day, seed {}; failure rates: ineligible buyer {}, short of cash {}, agent never approves {}, \
             expiry {}; {} settlement.",
            p.investors,
            self.outsiders.len(),
            p.trades_per_day,
            p.days,
            p.windows.min(p.trades_per_day.max(1)),
            p.seed,
            r.ineligible,
            r.cash,
            r.agent_rejects,
            r.expiry,
            settlement.name()
        );
        let scenario = Scenario {
            name: format!("generated market, seed {} ({})", p.seed, settlement.name()),
            description: Some(description),
            start: p.start,
            instrument: Instrument {
                token: TokenNames { name: "Kessai Green Bond 2031".into(), symbol: "KGB31".into() },
                bond: None,
            },
            cash: TokenNames { name: "DCJPY (Kessai Bank)".into(), symbol: "DCJPY".into() },
            parties: self.parties.clone(),
            trades,
            programmes: Vec::new(),
            watch: Vec::new(),
            steps: timeline.steps,
        };
        (scenario, states)
    }

    /// `party` redeems `amount` deposit tokens into its deposit account (the pilot's step 7, or a
    /// buyer returning what was issued for a trade that did not settle).
    pub(super) fn redeem(
        &self,
        party: PartyId,
        amount: u128,
        note: Option<&str>,
        timeline: &mut Timeline,
        ledger: &mut Ledger,
    ) {
        let account = format!("DEPOSIT-{}", self.parties[party].name);
        timeline.push(Action::Withdraw { party, amount: U256::from(amount), account }, None, note);
        ledger.cash[party] -= amount;
    }

    /// The steps of trade `t` in its window, with the ledger's prediction of each.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn trade_steps(
        &self,
        settlement: Settlement,
        t: TradeId,
        timeline: &mut Timeline,
        ledger: &mut Ledger,
        states: &mut [TradeState],
        paid: &mut Vec<TradeId>,
        end_of_day: &mut Vec<TradeId>,
    ) {
        let g = &self.trades[t];
        let cancel = Action::Cancel { trade: t, by: g.seller };
        if ledger.units[g.seller] < g.units {
            timeline.push(
                Action::CreateTrade { trade: t },
                Some(INSUFFICIENT),
                Some("the seller's units are still locked by trades waiting for settlement"),
            );
            return;
        }
        timeline.push(Action::CreateTrade { trade: t }, None, None);
        ledger.units[g.seller] -= g.units;
        states[t] = TradeState::Open;
        let eligible_buyer = g.kind != TradeKind::IneligibleBuyer;
        match settlement {
            Settlement::Gross => {
                if matches!(g.kind, TradeKind::AgentRejects | TradeKind::Expires) {
                    end_of_day.push(t);
                    return;
                }
                let settle = Action::SettleWithPayment { trade: t, by: self.agent, signatures_of: t };
                let affordable = ledger.cash[g.buyer] >= g.amount;
                if eligible_buyer && affordable {
                    timeline.push(settle, None, None);
                    ledger.units[g.buyer] += g.units;
                    ledger.cash[g.buyer] -= g.amount;
                    ledger.cash[g.seller] += g.amount;
                    states[t] = TradeState::Settled;
                    return;
                }
                let why = if eligible_buyer {
                    "the buyer's free cash is short of the price"
                } else {
                    "the buyer has no securities account: the security leg is refused"
                };
                timeline.push(settle, Some(RESTRICTED), Some(why));
                timeline.push(cancel, None, None);
                ledger.units[g.seller] += g.units;
                states[t] = TradeState::Cancelled;
            }
            Settlement::Netted | Settlement::Instructed | Settlement::Dcjpy => {
                if settlement == Settlement::Dcjpy && g.kind != TradeKind::InsufficientCash {
                    let reference = format!("DCJPY-{}", self.trade_name(t));
                    let issue = Action::Deposit { to: Holder::Party(g.buyer), amount: U256::from(g.amount), reference };
                    timeline.push(issue, None, None);
                    ledger.cash[g.buyer] += g.amount;
                }
                if ledger.cash[g.buyer] < g.amount {
                    timeline.push(
                        Action::Pay { trade: t },
                        Some(INSUFFICIENT),
                        Some("the buyer's free cash is short of the price"),
                    );
                    timeline.push(cancel, None, None);
                    ledger.units[g.seller] += g.units;
                    states[t] = TradeState::Cancelled;
                    return;
                }
                timeline.push(Action::Pay { trade: t }, None, None);
                ledger.cash[g.buyer] -= g.amount;
                states[t] = TradeState::Paid;
                match g.kind {
                    TradeKind::IneligibleBuyer => {
                        timeline.push(
                            Action::Approve { trade: t },
                            Some(RESTRICTED),
                            Some("the buyer has no securities account: the security leg is refused"),
                        );
                        timeline.push(cancel, None, None);
                        ledger.units[g.seller] += g.units;
                        ledger.cash[g.buyer] += g.amount;
                        states[t] = TradeState::Cancelled;
                        if settlement == Settlement::Dcjpy {
                            self.redeem(g.buyer, g.amount, Some(UNSETTLED), timeline, ledger);
                        }
                    }
                    TradeKind::AgentRejects | TradeKind::Expires => end_of_day.push(t),
                    TradeKind::Normal | TradeKind::InsufficientCash if settlement == Settlement::Netted => paid.push(t),
                    TradeKind::Normal | TradeKind::InsufficientCash => {
                        timeline.push(Action::Approve { trade: t }, None, None);
                        ledger.units[g.buyer] += g.units;
                        ledger.cash[g.seller] += g.amount;
                        states[t] = TradeState::Settled;
                        if settlement == Settlement::Dcjpy {
                            self.redeem(g.seller, g.amount, None, timeline, ledger);
                        }
                    }
                }
            }
        }
    }
}

/// Why a buyer redeems in the pilot's cycle without having bought.
pub(super) const UNSETTLED: &str = "the trade did not settle: the buyer redeems the deposit tokens issued for it";

/// Default KYC validity (as the file format's): three years.
pub(super) const KYC: u64 = 3 * 365 * DAY;

/// The timeline being written, numbering its steps.
pub(super) struct Timeline {
    pub(super) steps: Vec<Step>,
    pub(super) number: usize,
}

impl Timeline {
    pub(super) fn push(&mut self, action: Action, error: Option<&str>, note: Option<&str>) {
        self.number += 1;
        let expect = Expect { error: error.map(str::to_string), ..Expect::default() };
        self.steps.push(Step {
            action,
            expect,
            origin: Origin::Timeline { number: self.number, line: 0 },
            note: note.map(str::to_string),
        });
    }
}

pub(super) fn digits(n: usize) -> usize {
    n.max(1).to_string().len()
}

/// `total` trades over `windows` windows, the first ones one larger.
pub(super) fn window_sizes(total: usize, windows: usize) -> Vec<usize> {
    let windows = windows.max(1);
    (0..windows).map(|w| total / windows + usize::from(w < total % windows)).collect()
}

pub(super) fn pick_kind(rng: &mut Rng, r: &FailureRates) -> TradeKind {
    let mut u = rng.unit();
    for (rate, kind) in [
        (r.ineligible, TradeKind::IneligibleBuyer),
        (r.cash, TradeKind::InsufficientCash),
        (r.agent_rejects, TradeKind::AgentRejects),
        (r.expiry, TradeKind::Expires),
    ] {
        if u < rate {
            return kind;
        }
        u -= rate;
    }
    TradeKind::Normal
}

/// A random member of `pool` satisfying `ok`: a few random draws, then the best by `score`.
pub(super) fn pick(
    rng: &mut Rng,
    pool: &[PartyId],
    ok: impl Fn(PartyId) -> bool,
    score: impl Fn(PartyId) -> u128,
) -> Option<PartyId> {
    if pool.is_empty() {
        return None;
    }
    for _ in 0..16 {
        let p = pool[rng.below(pool.len() as u64) as usize];
        if ok(p) {
            return Some(p);
        }
    }
    pool.iter().copied().filter(|p| ok(*p)).max_by_key(|p| score(*p))
}

pub(super) fn pick_trade(
    rng: &mut Rng,
    ledger: &mut Ledger,
    eligible: &[PartyId],
    outsiders: &[PartyId],
    mut kind: TradeKind,
    day: usize,
    window: usize,
) -> GenTrade {
    let units_of = |l: &Ledger, p: PartyId| u128::from(l.units[p]);
    // Some eligible investor has free units: units are conserved, and locks last at most a day.
    let seller = pick(rng, eligible, |p| ledger.units[p] > 0, |p| units_of(ledger, p))
        .or_else(|| eligible.first().copied())
        .unwrap_or_default();
    let mut units = 1 + rng.below(ledger.units[seller].clamp(1, MAX_LOT));
    let price = MIN_PRICE + u128::from(rng.below(PRICE_SPREAD + 1));
    let others = |p: PartyId| p != seller;
    let (buyer, amount) = match kind {
        TradeKind::IneligibleBuyer => {
            let buyer = outsiders[rng.below(outsiders.len() as u64) as usize];
            (buyer, u128::from(units) * price)
        }
        TradeKind::InsufficientCash => {
            let buyer = pick(rng, eligible, others, |p| ledger.cash[p]).unwrap_or(seller);
            let value = u128::from(units) * price;
            (buyer, ledger.cash[buyer] + 1 + u128::from(rng.below(value as u64)))
        }
        TradeKind::Normal | TradeKind::AgentRejects | TradeKind::Expires => {
            let value = u128::from(units) * price;
            let buyer = pick(rng, eligible, |p| others(p) && ledger.cash[p] >= value, |p| ledger.cash[p])
                .or_else(|| pick(rng, eligible, others, |p| ledger.cash[p]))
                .unwrap_or(seller);
            if ledger.cash[buyer] < value {
                // Nobody can afford the lot: the richest buyer takes what it can.
                units = (ledger.cash[buyer] / price).min(u128::from(units)) as u64;
                if units == 0 {
                    units = 1;
                    kind = TradeKind::InsufficientCash;
                    (buyer, ledger.cash[buyer] + 1)
                } else {
                    (buyer, u128::from(units) * price)
                }
            } else {
                (buyer, value)
            }
        }
    };
    GenTrade { kind, day, window, seller, buyer, units, amount }
}
