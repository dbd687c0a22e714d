//! Building a workload: the day's trades, drawn by seed, and the scenario that replays them.

use super::*;
use std::ops::Range;

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

impl Ledger {
    /// The ledger of `parties` parties that hold nothing.
    fn empty(parties: usize) -> Self {
        Self { units: vec![0; parties], cash: vec![0; parties] }
    }

    /// Books a drawn trade as it is meant to end: an ordinary trade moves both legs; a trade the
    /// seller releases at the day's end keeps its units locked in `locked` until then.
    fn book(&mut self, trade: &GenTrade, locked: &mut Vec<(PartyId, u64)>) {
        match trade.kind {
            TradeKind::Normal => {
                self.units[trade.seller] -= trade.units;
                self.units[trade.buyer] += trade.units;
                self.cash[trade.buyer] -= trade.amount;
                self.cash[trade.seller] += trade.amount;
            }
            TradeKind::AgentRejects | TradeKind::Expires => {
                self.units[trade.seller] -= trade.units;
                locked.push((trade.seller, trade.units));
            }
            TradeKind::IneligibleBuyer | TradeKind::InsufficientCash => {}
        }
    }
}

/// Layout of a day: settlement windows long enough for their transactions, with a wide margin.
struct DayLayout {
    windows: usize,
    window_length: u64,
    day_length: u64,
}

impl DayLayout {
    /// The layout of a day of `params`.
    fn of(params: &GenParams) -> Self {
        let windows = windows_per_day(params);
        let per_window = params.trades_per_day.div_ceil(windows) as u64;
        let window_length = (10 * per_window + 600).max(3_600);
        let closing = OPENING + windows as u64 * window_length;
        let end_of_day_txs = 2 * params.trades_per_day as u64;
        let day_length = (closing + window_length + end_of_day_txs + 3_600).div_ceil(DAY) * DAY;
        Self { windows, window_length, day_length }
    }
}

/// The parties of a workload: the five suite roles, the agent, then the investors.
struct Cast {
    parties: Vec<Party>,
    agent: PartyId,
    eligible: Vec<PartyId>,
    outsiders: Vec<PartyId>,
}

impl Cast {
    /// The suite roles, the agent, `eligible` investors and `outsiders` bank-only customers; the
    /// agent's and the investors' KYC stays valid past the workload's last day.
    fn new(params: &GenParams, day_length: u64, eligible: usize, outsiders: usize) -> Self {
        let mut parties: Vec<Party> = Role::SUITE.iter().map(|role| party(role.name().into(), *role, 2, KYC)).collect();
        let horizon = params.days as u64 * day_length + 30 * DAY;
        let kyc = KYC.max(horizon);
        let agent = parties.len();
        parties.push(party("agent".into(), Role::Agent, 2, kyc));
        let width = digits(params.investors);
        let eligible = enrol(&mut parties, "inv", eligible, width, kyc);
        let outsiders = enrol(&mut parties, "outsider", outsiders, width, kyc);
        Self { parties, agent, eligible, outsiders }
    }
}

/// A party in Japan whose account the runner assigns.
fn party(name: String, role: Role, class: u8, kyc_valid_for: u64) -> Party {
    Party { name, role, class, country: 392, kyc_valid_for, address: None }
}

/// Adds `count` retail investors named `<prefix><number>` (numbers `width` digits wide) to
/// `parties`; returns their ids.
fn enrol(parties: &mut Vec<Party>, prefix: &str, count: usize, width: usize, kyc: u64) -> Vec<PartyId> {
    let mut ids = Vec::with_capacity(count);
    for i in 1..=count {
        ids.push(parties.len());
        parties.push(party(format!("{prefix}{i:0width$}"), Role::Investor, 0, kyc));
    }
    ids
}

/// The reason a workload cannot be generated, as an error.
fn cannot_generate(reason: impl std::fmt::Display) -> ScenarioError {
    ScenarioError::Setup(format!("cannot generate the workload: {reason}"))
}

/// Refuses failure rates that are not probabilities or add up to more than 1, a day without
/// settlement windows and netted batches without room for a trade.
fn check_params(params: &GenParams) -> Result<(), ScenarioError> {
    let r = params.rates;
    for (name, rate) in
        [("ineligible", r.ineligible), ("cash", r.cash), ("agent-rejects", r.agent_rejects), ("expiry", r.expiry)]
    {
        if !(0.0..=1.0).contains(&rate) {
            return Err(cannot_generate(format!(
                "the {name} failure rate is {rate}: expected a probability from 0 to 1"
            )));
        }
    }
    let total = r.ineligible + r.cash + r.agent_rejects + r.expiry;
    if total > 1.0 + 1e-9 {
        return Err(cannot_generate(format!("the failure rates add up to {total}: expected at most 1")));
    }
    if params.windows == 0 {
        return Err(cannot_generate("a day needs at least one settlement window"));
    }
    if params.max_batch == 0 {
        return Err(cannot_generate("a netted batch needs room for at least one trade"));
    }
    Ok(())
}

/// How many investors are eligible and how many are kept ineligible (outsiders) for the
/// ineligible-buyer rate; refuses fewer than two eligible.
fn split_investors(params: &GenParams) -> Result<(usize, usize), ScenarioError> {
    let outsiders = if params.rates.ineligible > 0.0 {
        ((params.investors as f64 * params.rates.ineligible).ceil() as usize).clamp(1, params.investors)
    } else {
        0
    };
    let eligible = params.investors.saturating_sub(outsiders);
    if eligible < 2 {
        return Err(cannot_generate(format!(
            "{} investors leave {eligible} eligible to trade ({outsiders} are kept ineligible for the \
             ineligible-buyer rate): expected at least 2",
            params.investors
        )));
    }
    Ok((eligible, outsiders))
}

/// Settlement windows in a day: as many as asked, but no more than the day's trades.
fn windows_per_day(params: &GenParams) -> usize {
    params.windows.min(params.trades_per_day.max(1))
}

/// Draws every day's trades from the seed, window by window, keeping the generator's ledger so
/// each trade fits the parties' free units and cash.
fn draw_trades(params: &GenParams, windows: usize, cast: &Cast) -> Vec<GenTrade> {
    let mut rng = Rng::from_state(params.seed ^ 0x6b65_7373_6169_2121);
    let mut ledger = Ledger::empty(cast.parties.len());
    for p in &cast.eligible {
        ledger.units[*p] = UNITS_PER_INVESTOR;
        ledger.cash[*p] = CASH_PER_INVESTOR;
    }
    for p in &cast.outsiders {
        ledger.cash[*p] = CASH_PER_INVESTOR;
    }
    let mut trades = Vec::with_capacity(params.trades_per_day * params.days);
    for day in 0..params.days {
        // Units locked until the end of the day by trades that will be released then.
        let mut locked_until_eod: Vec<(PartyId, u64)> = Vec::new();
        for (window, count) in window_sizes(params.trades_per_day, windows).into_iter().enumerate() {
            for _ in 0..count {
                let kind = pick_kind(&mut rng, &params.rates);
                let trade = pick_trade(&mut rng, &mut ledger, &cast.eligible, &cast.outsiders, kind, day, window);
                ledger.book(&trade, &mut locked_until_eod);
                trades.push(trade);
            }
        }
        for (seller, units) in locked_until_eod {
            ledger.units[seller] += units;
        }
    }
    trades
}

impl Workload {
    /// Generates a workload; the same parameters always give the same workload.
    pub fn generate(params: &GenParams) -> Result<Self, ScenarioError> {
        check_params(params)?;
        let (eligible, outsiders) = split_investors(params)?;
        let layout = DayLayout::of(params);
        let cast = Cast::new(params, layout.day_length, eligible, outsiders);
        let trades = draw_trades(params, layout.windows, &cast);
        Ok(Self {
            params: params.clone(),
            parties: cast.parties,
            eligible: cast.eligible,
            outsiders: cast.outsiders,
            agent: cast.agent,
            trades,
            day_length: layout.day_length,
            window_length: layout.window_length,
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
        self.window_time(day, windows_per_day(&self.params))
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

    /// The scenario under `settlement` and the state the ledger predicts for every trade.
    pub(super) fn build(&self, settlement: Settlement) -> (Scenario, Vec<TradeState>) {
        let mut replay = Replay::new(self, settlement);
        let trades = self.trade_defs();
        let mut first = 0;
        for day in 0..self.params.days {
            first = replay.day(day, first);
        }
        let Replay { timeline, states, .. } = replay;
        (self.generated_scenario(settlement, trades, timeline.steps), states)
    }

    /// Setup registrations: eligible investors in both registries, outsiders in the bank's only.
    fn registrations(&self) -> Vec<Step> {
        let mut steps = Vec::new();
        for id in &self.eligible {
            steps.push(setup(Action::Register { party: *id, registry: Registry::Securities }));
            steps.push(setup(Action::Register { party: *id, registry: Registry::Bank }));
        }
        for id in &self.outsiders {
            steps.push(setup(Action::Register { party: *id, registry: Registry::Bank }));
        }
        steps
    }

    /// Setup funding in party order, appended to `steps`: units to each eligible investor, and
    /// cash to every investor unless `settlement` issues it per trade; returns the funded ledger.
    fn fund(&self, settlement: Settlement, steps: &mut Vec<Step>) -> Ledger {
        let mut ledger = Ledger::empty(self.parties.len());
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
        ledger
    }

    /// Every trade's terms, with the agent; a trade meant to be released has a deadline that
    /// passes before the day's trading ends.
    fn trade_defs(&self) -> Vec<TradeDef> {
        self.trades
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
            .collect()
    }

    /// The scenario's description: the parameters it was generated from and its settlement model.
    fn description(&self, settlement: Settlement) -> String {
        let p = &self.params;
        let r = &p.rates;
        format!(
            "Generated by kessai sim gen: {} investors ({} ineligible), {} trades a day for {} days in {} settlement \
             windows a day, seed {}; failure rates: ineligible buyer {}, short of cash {}, agent never approves {}, \
             expiry {}; {} settlement.",
            p.investors,
            self.outsiders.len(),
            p.trades_per_day,
            p.days,
            windows_per_day(p),
            p.seed,
            r.ineligible,
            r.cash,
            r.agent_rejects,
            r.expiry,
            settlement.name()
        )
    }

    /// The generated scenario of `trades` and `steps` under `settlement`, with its names and parties.
    fn generated_scenario(&self, settlement: Settlement, trades: Vec<TradeDef>, steps: Vec<Step>) -> Scenario {
        Scenario {
            name: format!("generated market, seed {} ({})", self.params.seed, settlement.name()),
            description: Some(self.description(settlement)),
            start: self.params.start,
            instrument: Instrument {
                token: TokenNames { name: "Kessai Green Bond 2031".into(), symbol: "KGB31".into() },
                bond: None,
            },
            cash: TokenNames { name: "DCJPY (Kessai Bank)".into(), symbol: "DCJPY".into() },
            parties: self.parties.clone(),
            trades,
            programmes: Vec::new(),
            watch: Vec::new(),
            steps,
        }
    }
}

/// A setup step (registration or funding), expecting success.
fn setup(action: Action) -> Step {
    Step { action, expect: Expect::default(), origin: Origin::Setup, note: None }
}

/// A workload's timeline being written under one settlement model, with the generator's ledger
/// predicting each step and the state each trade ends in.
struct Replay<'w> {
    workload: &'w Workload,
    settlement: Settlement,
    timeline: Timeline,
    ledger: Ledger,
    states: Vec<TradeState>,
}

impl<'w> Replay<'w> {
    /// The replay after the setup: registrations, then funding.
    fn new(workload: &'w Workload, settlement: Settlement) -> Self {
        let mut steps = workload.registrations();
        let ledger = workload.fund(settlement, &mut steps);
        Self {
            workload,
            settlement,
            timeline: Timeline { steps, number: 0 },
            ledger,
            states: vec![TradeState::Missing; workload.trades.len()],
        }
    }

    /// Day `day`'s windows, from trade `first` on, then the day's releases; returns the first
    /// trade of the next day.
    fn day(&mut self, day: usize, mut first: usize) -> usize {
        let p = &self.workload.params;
        let mut end_of_day: Vec<TradeId> = Vec::new();
        for (window, count) in window_sizes(p.trades_per_day, windows_per_day(p)).into_iter().enumerate() {
            self.window(day, window, first..first + count, &mut end_of_day);
            first += count;
        }
        self.end_of_day(day, end_of_day);
        first
    }

    /// Window `window` of day `day`: its `trades`' steps, then (netted) the batches that settle
    /// its paid trades; trades left for the day's end are added to `end_of_day`.
    fn window(&mut self, day: usize, window: usize, trades: Range<usize>, end_of_day: &mut Vec<TradeId>) {
        self.timeline.push(Action::Advance(Advance::Until(self.workload.window_time(day, window))), None, None);
        let mut paid: Vec<TradeId> = Vec::new();
        for t in trades {
            self.trade_steps(t, &mut paid, end_of_day);
        }
        if self.settlement == Settlement::Netted && !paid.is_empty() {
            self.settle_netted(day, window, &paid);
        }
    }

    /// At the close of window `window` of day `day`, the agent settles the `paid` trades in netted
    /// batches of at most `max_batch`.
    fn settle_netted(&mut self, day: usize, window: usize, paid: &[TradeId]) {
        let w = self.workload;
        let close = w.window_time(day, window) + w.window_length * 3 / 4;
        self.timeline.push(Action::Advance(Advance::Until(close)), None, None);
        for batch in paid.chunks(w.params.max_batch) {
            self.timeline.push(Action::Batch { trades: batch.to_vec(), netted: true, by: w.agent }, None, None);
            for t in batch {
                let g = &w.trades[*t];
                self.ledger.units[g.buyer] += g.units;
                self.ledger.cash[g.seller] += g.amount;
                self.states[*t] = TradeState::Settled;
            }
        }
    }

    /// At the close of day `day`, the trades left open after their deadline, each released.
    fn end_of_day(&mut self, day: usize, trades: Vec<TradeId>) {
        if trades.is_empty() {
            return;
        }
        self.timeline.push(Action::Advance(Advance::Until(self.workload.closing_time(day))), None, None);
        for t in trades {
            self.release(t);
        }
    }

    /// Trade `t` after its deadline: a late settlement instruction (refused) if it was meant to
    /// expire, then the seller takes its units back and (dcjpy) the buyer redeems what it paid.
    fn release(&mut self, t: TradeId) {
        let g = &self.workload.trades[t];
        if g.kind == TradeKind::Expires {
            let late = match self.settlement {
                Settlement::Gross => Action::SettleWithPayment { trade: t, by: self.workload.agent, signatures_of: t },
                Settlement::Netted | Settlement::Instructed | Settlement::Dcjpy => Action::Approve { trade: t },
            };
            self.timeline.push(late, Some(EXPIRED), Some("the settlement instruction arrives after the deadline"));
        }
        let note = (g.kind == TradeKind::AgentRejects)
            .then_some("the agent never approved: the seller takes its units back after the deadline");
        self.timeline.push(Action::Release { trade: t, by: g.seller }, None, note);
        self.ledger.units[g.seller] += g.units;
        if self.settlement != Settlement::Gross && self.states[t] == TradeState::Paid {
            self.ledger.cash[g.buyer] += g.amount;
            if self.settlement == Settlement::Dcjpy {
                self.redeem(g.buyer, g.amount, Some(UNSETTLED));
            }
        }
        self.states[t] = TradeState::Expired;
    }

    /// `party` redeems `amount` deposit tokens into its deposit account (the pilot's step 7, or a
    /// buyer returning what was issued for a trade that did not settle).
    fn redeem(&mut self, party: PartyId, amount: u128, note: Option<&str>) {
        let account = format!("DEPOSIT-{}", self.workload.parties[party].name);
        self.timeline.push(Action::Withdraw { party, amount: U256::from(amount), account }, None, note);
        self.ledger.cash[party] -= amount;
    }

    /// The steps of trade `t` in its window, with the ledger's prediction of each: the seller
    /// creates it, then it settles under the model; a trade paid for the window's netted batch is
    /// added to `paid`, one left for the day's end to `end_of_day`.
    fn trade_steps(&mut self, t: TradeId, paid: &mut Vec<TradeId>, end_of_day: &mut Vec<TradeId>) {
        if !self.create(t) {
            return;
        }
        match self.settlement {
            Settlement::Gross => self.settle_gross(t, end_of_day),
            Settlement::Netted | Settlement::Instructed | Settlement::Dcjpy => {
                self.settle_instructed(t, paid, end_of_day)
            }
        }
    }

    /// The seller creates trade `t`, locking its units; refused, and `false`, while they are
    /// still locked by trades waiting for settlement.
    fn create(&mut self, t: TradeId) -> bool {
        let g = &self.workload.trades[t];
        if self.ledger.units[g.seller] < g.units {
            self.timeline.push(
                Action::CreateTrade { trade: t },
                Some(INSUFFICIENT),
                Some("the seller's units are still locked by trades waiting for settlement"),
            );
            return false;
        }
        self.timeline.push(Action::CreateTrade { trade: t }, None, None);
        self.ledger.units[g.seller] -= g.units;
        self.states[t] = TradeState::Open;
        true
    }

    /// Gross: the agent settles created trade `t` at once with the buyer's signed instruction,
    /// or it is refused and cancelled; a trade meant to be released is added to `end_of_day`.
    fn settle_gross(&mut self, t: TradeId, end_of_day: &mut Vec<TradeId>) {
        let g = &self.workload.trades[t];
        if matches!(g.kind, TradeKind::AgentRejects | TradeKind::Expires) {
            end_of_day.push(t);
            return;
        }
        let settle = Action::SettleWithPayment { trade: t, by: self.workload.agent, signatures_of: t };
        let eligible_buyer = g.kind != TradeKind::IneligibleBuyer;
        let affordable = self.ledger.cash[g.buyer] >= g.amount;
        if eligible_buyer && affordable {
            self.timeline.push(settle, None, None);
            self.ledger.units[g.buyer] += g.units;
            self.ledger.cash[g.buyer] -= g.amount;
            self.ledger.cash[g.seller] += g.amount;
            self.states[t] = TradeState::Settled;
            return;
        }
        let why = if eligible_buyer {
            "the buyer's free cash is short of the price"
        } else {
            "the buyer has no securities account: the security leg is refused"
        };
        self.timeline.push(settle, Some(RESTRICTED), Some(why));
        self.cancel(t);
    }

    /// One instruction per party: (dcjpy) the bank issues the price to the buyer, the buyer pays
    /// for created trade `t`, then the agent approves it, it waits for the window's netted batch
    /// (`paid`) or for the day's end (`end_of_day`), or its refusal cancels it.
    fn settle_instructed(&mut self, t: TradeId, paid: &mut Vec<TradeId>, end_of_day: &mut Vec<TradeId>) {
        let kind = self.workload.trades[t].kind;
        if self.settlement == Settlement::Dcjpy && kind != TradeKind::InsufficientCash {
            self.issue_price(t);
        }
        if !self.pay(t) {
            return;
        }
        match kind {
            TradeKind::IneligibleBuyer => self.refuse_ineligible(t),
            TradeKind::AgentRejects | TradeKind::Expires => end_of_day.push(t),
            TradeKind::Normal | TradeKind::InsufficientCash if self.settlement == Settlement::Netted => paid.push(t),
            TradeKind::Normal | TradeKind::InsufficientCash => self.approve(t),
        }
    }

    /// The bank issues trade `t`'s price to its buyer in deposit tokens (the pilot's step 3).
    fn issue_price(&mut self, t: TradeId) {
        let g = &self.workload.trades[t];
        let reference = format!("DCJPY-{}", self.workload.trade_name(t));
        let issue = Action::Deposit { to: Holder::Party(g.buyer), amount: U256::from(g.amount), reference };
        self.timeline.push(issue, None, None);
        self.ledger.cash[g.buyer] += g.amount;
    }

    /// The buyer pays for trade `t`, locking its cash; refused and the trade cancelled, and
    /// `false`, when its free cash is short of the price.
    fn pay(&mut self, t: TradeId) -> bool {
        let g = &self.workload.trades[t];
        if self.ledger.cash[g.buyer] < g.amount {
            self.timeline.push(
                Action::Pay { trade: t },
                Some(INSUFFICIENT),
                Some("the buyer's free cash is short of the price"),
            );
            self.cancel(t);
            return false;
        }
        self.timeline.push(Action::Pay { trade: t }, None, None);
        self.ledger.cash[g.buyer] -= g.amount;
        self.states[t] = TradeState::Paid;
        true
    }

    /// The agent's approval of paid trade `t` is refused (the buyer is not eligible for the
    /// units); the seller cancels and the buyer's cash is freed (dcjpy: and redeemed).
    fn refuse_ineligible(&mut self, t: TradeId) {
        let g = &self.workload.trades[t];
        self.timeline.push(
            Action::Approve { trade: t },
            Some(RESTRICTED),
            Some("the buyer has no securities account: the security leg is refused"),
        );
        self.cancel(t);
        self.ledger.cash[g.buyer] += g.amount;
        if self.settlement == Settlement::Dcjpy {
            self.redeem(g.buyer, g.amount, Some(UNSETTLED));
        }
    }

    /// The agent approves paid trade `t` and both legs move (dcjpy: the seller then redeems the
    /// proceeds).
    fn approve(&mut self, t: TradeId) {
        let g = &self.workload.trades[t];
        self.timeline.push(Action::Approve { trade: t }, None, None);
        self.ledger.units[g.buyer] += g.units;
        self.ledger.cash[g.seller] += g.amount;
        self.states[t] = TradeState::Settled;
        if self.settlement == Settlement::Dcjpy {
            self.redeem(g.seller, g.amount, None);
        }
    }

    /// The seller cancels trade `t` and takes its units back.
    fn cancel(&mut self, t: TradeId) {
        let g = &self.workload.trades[t];
        self.timeline.push(Action::Cancel { trade: t, by: g.seller }, None, None);
        self.ledger.units[g.seller] += g.units;
        self.states[t] = TradeState::Cancelled;
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
