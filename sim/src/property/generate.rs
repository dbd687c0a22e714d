//! The generator of random step sequences, steered by a forecast of the state.

use super::*;

/// The investors of a generated sequence.
pub const INVESTORS: [&str; 4] = ["alice", "bob", "carol", "dave"];
pub(super) const FIRST_INVESTOR: PartyId = Role::SUITE.len();
pub(super) const AGENT: PartyId = FIRST_INVESTOR + INVESTORS.len();
pub(super) const HOUR: u64 = 3_600;
/// KYC long enough for any run (a run advances the clock by about three years per 100,000 steps).
pub(super) const KYC: u64 = 100 * 365 * DAY;
/// Units and cash each investor is funded with.
pub(super) const FUND_UNITS: u64 = 1_000;
pub(super) const FUND_CASH: u64 = 1_000_000;

/// The generator's forecast of a trade.
#[derive(Clone, Debug)]
pub(super) struct Forecast {
    pub(super) seller: usize,
    pub(super) buyer: usize,
    pub(super) agent: bool,
    pub(super) units: u64,
    pub(super) amount: u64,
    pub(super) deadline: u64,
    pub(super) status: u8,
}

/// The generator: a forecast of the state that steers the choice of steps.
pub(super) struct Gen {
    pub(super) rng: Rng,
    /// Seconds after the start: the last clock target (the chain runs a few seconds ahead, one per
    /// transaction; targets are on the half hour and deadlines on the hour, so the forecast of
    /// "past the deadline" is right).
    pub(super) now: u64,
    pub(super) securities: [bool; 4],
    pub(super) bank: [bool; 4],
    pub(super) units: [u64; 4],
    pub(super) units_held: [u64; 4],
    pub(super) cash: [u64; 4],
    pub(super) cash_held: [u64; 4],
    pub(super) trades: Vec<Forecast>,
    pub(super) defs: Vec<TradeDef>,
    pub(super) open: Vec<TradeId>,
    pub(super) steps: Vec<Step>,
    pub(super) references: usize,
    /// Whether the forecast expects the step just drawn to succeed.
    pub(super) ok: bool,
    /// That expectation for every step drawn (setup included).
    pub(super) expected: Vec<bool>,
}

pub(super) fn step(action: Action, origin: Origin) -> Step {
    Step { action, expect: Expect::default(), origin, note: None }
}

/// The parties of a generated scenario: the suite roles (as the parser declares them), the
/// investors, and the agent.
pub(super) fn parties() -> Vec<Party> {
    let mut parties: Vec<Party> = Role::SUITE
        .iter()
        .map(|r| Party {
            name: r.name().into(),
            role: *r,
            class: 2,
            country: 392,
            kyc_valid_for: 3 * 365 * DAY,
            address: None,
        })
        .collect();
    for name in INVESTORS {
        parties.push(Party {
            name: name.into(),
            role: Role::Investor,
            class: 0,
            country: 392,
            kyc_valid_for: KYC,
            address: None,
        });
    }
    parties.push(Party {
        name: "agent".into(),
        role: Role::Agent,
        class: 2,
        country: 392,
        kyc_valid_for: KYC,
        address: None,
    });
    parties
}

/// The random sequence of `seed`: a setup (each investor registered in both registries and funded
/// with 1,000 units and ¥1,000,000), then `steps` random steps.
pub fn generate(seed: u64, steps: usize) -> Scenario {
    generate_with_forecast(seed, steps).0
}

/// [`generate`], and whether the generator's forecast expects each step to succeed.
pub(super) fn generate_with_forecast(seed: u64, steps: usize) -> (Scenario, Vec<bool>) {
    let mut g = Gen {
        rng: Rng::from_state(seed ^ 0x6b65_7373_6169_7072),
        now: 0,
        securities: [true; 4],
        bank: [true; 4],
        units: [FUND_UNITS; 4],
        units_held: [0; 4],
        cash: [FUND_CASH; 4],
        cash_held: [0; 4],
        trades: Vec::new(),
        defs: Vec::new(),
        open: Vec::new(),
        steps: Vec::with_capacity(steps + 3 * INVESTORS.len()),
        references: 0,
        ok: true,
        expected: vec![true; 3 * INVESTORS.len()],
    };
    for i in 0..INVESTORS.len() {
        g.steps.push(step(Action::Register { party: FIRST_INVESTOR + i, registry: Registry::Both }, Origin::Setup));
    }
    for i in 0..INVESTORS.len() {
        g.steps.push(step(Action::Issue { to: FIRST_INVESTOR + i, units: U256::from(FUND_UNITS) }, Origin::Setup));
    }
    for (i, name) in INVESTORS.iter().enumerate() {
        let to = Holder::Party(FIRST_INVESTOR + i);
        let reference = format!("FUND-{name}");
        g.steps.push(step(Action::Deposit { to, amount: U256::from(FUND_CASH), reference }, Origin::Setup));
    }
    for number in 1..=steps {
        let action = g.next_action();
        g.expected.push(g.ok);
        g.steps.push(step(action, Origin::Timeline { number, line: 0 }));
    }
    let scenario = Scenario {
        name: format!("property run, seed {seed}"),
        description: Some(format!("{steps} random steps over four investors and a settlement agent")),
        start: None,
        instrument: Instrument { token: TokenNames { name: "Kessai Units".into(), symbol: "KSU".into() }, bond: None },
        cash: TokenNames { name: "DCJPY (Kessai Bank)".into(), symbol: "DCJPY".into() },
        parties: parties(),
        trades: g.defs,
        programmes: Vec::new(),
        watch: Vec::new(),
        steps: g.steps,
    };
    (scenario, g.expected)
}

impl Gen {
    pub(super) fn party(i: usize) -> PartyId {
        FIRST_INVESTOR + i
    }

    pub(super) fn free_units(&self, i: usize) -> u64 {
        self.units[i].saturating_sub(self.units_held[i])
    }

    pub(super) fn free_cash(&self, i: usize) -> u64 {
        self.cash[i].saturating_sub(self.cash_held[i])
    }

    pub(super) fn investor(&mut self) -> usize {
        self.rng.below(INVESTORS.len() as u64) as usize
    }

    /// Two different investors.
    pub(super) fn pair(&mut self) -> (usize, usize) {
        let s = self.investor();
        let b = (s + 1 + self.rng.below(INVESTORS.len() as u64 - 1) as usize) % INVESTORS.len();
        (s, b)
    }

    pub(super) fn live(&self, t: TradeId) -> bool {
        let f = &self.trades[t];
        is_open(f.status) && self.now <= f.deadline
    }

    /// A trade to act on: usually one of `preferred`, else any trade (most of which must refuse);
    /// mostly none when nothing is preferred (the step becomes another).
    pub(super) fn pick_trade(&mut self, preferred: &[TradeId]) -> Option<TradeId> {
        if !preferred.is_empty() && self.rng.chance(85) {
            return self.rng.pick(preferred);
        }
        let n = self.trades.len() as u64;
        (n > 0 && (!preferred.is_empty() || self.rng.chance(25))).then(|| self.rng.below(n) as usize)
    }

    pub(super) fn open_where(&self, f: impl Fn(&Forecast) -> bool) -> Vec<TradeId> {
        self.open.iter().copied().filter(|t| self.live(*t) && f(&self.trades[*t])).collect()
    }

    /// Whether both legs of trade `t` would pass, units and cash from holds or from free balances.
    pub(super) fn legs_pass(&self, t: TradeId, units_held: bool, cash_held: bool) -> bool {
        let f = &self.trades[t];
        let (s, b) = (f.seller, f.buyer);
        self.securities[s]
            && self.securities[b]
            && self.bank[s]
            && self.bank[b]
            && (units_held || self.free_units(s) >= f.units)
            && (cash_held || self.free_cash(b) >= f.amount)
    }

    pub(super) fn settle(&mut self, t: TradeId, units_held: bool, cash_held: bool) {
        let f = self.trades[t].clone();
        if units_held {
            self.units_held[f.seller] -= f.units;
        }
        if cash_held {
            self.cash_held[f.buyer] -= f.amount;
        }
        self.units[f.seller] -= f.units;
        self.units[f.buyer] += f.units;
        self.cash[f.buyer] -= f.amount;
        self.cash[f.seller] += f.amount;
        self.close(t, SETTLED);
    }

    pub(super) fn release(&mut self, t: TradeId, flag: u8) {
        let f = self.trades[t].clone();
        self.units_held[f.seller] -= f.units;
        if f.status & PAID != 0 {
            self.cash_held[f.buyer] -= f.amount;
        }
        self.close(t, flag);
    }

    pub(super) fn close(&mut self, t: TradeId, flag: u8) {
        self.trades[t].status |= flag;
        self.open.retain(|o| *o != t);
    }

    /// New terms: mostly affordable, sometimes too large or already past their deadline.
    pub(super) fn new_trade(&mut self) -> TradeId {
        let (s, b) = self.pair();
        let agent = self.rng.chance(65);
        let units = if self.rng.chance(6) { self.free_units(s) + self.rng.range(1, 20) } else { self.rng.range(1, 60) };
        let amount = if self.rng.chance(4) {
            self.free_cash(b) + self.rng.range(1, 50_000)
        } else {
            units * self.rng.range(1_000, 5_000)
        };
        let deadline = if self.rng.chance(4) && self.now >= HOUR {
            // Already passed: creating it must refuse.
            self.now / HOUR * HOUR
        } else {
            (self.now / HOUR + self.rng.range(1, 48)) * HOUR
        };
        let id = self.defs.len();
        self.defs.push(TradeDef {
            name: format!("t{}", id + 1),
            terms: TradeTerms {
                seller: Self::party(s),
                buyer: Self::party(b),
                agent: agent.then_some(AGENT),
                units: U256::from(units),
                amount: U256::from(amount),
                deadline,
            },
        });
        self.trades.push(Forecast { seller: s, buyer: b, agent, units, amount, deadline, status: 0 });
        id
    }

    /// Whose signatures a signed step submits: the trade's own, now and then another trade's.
    pub(super) fn signatures_of(&mut self, t: TradeId) -> TradeId {
        if t > 0 && self.rng.chance(5) { self.rng.below(t as u64) as usize } else { t }
    }

    /// Who submits an agent's step: the agent, now and then someone else.
    pub(super) fn submitter(&mut self, t: TradeId) -> PartyId {
        let f = &self.trades[t];
        let default = if f.agent { AGENT } else { Self::party(f.seller) };
        if self.rng.chance(8) { Self::party(self.investor()) } else { default }
    }

    pub(super) fn next_action(&mut self) -> Action {
        let roll = self.rng.below(100);
        self.ok = true;
        let action = match roll {
            0..3 => self.register(),
            3..4 => self.revoke(),
            4..7 => self.issue(),
            7..8 => self.redeem(),
            8..11 => self.transfer(),
            11..14 => self.deposit(),
            14..16 => self.withdraw(),
            16..33 => Some(self.create_trade()),
            33..38 => Some(self.create_signed_trade()),
            38..43 => Some(self.settle_signed()),
            43..59 => self.pay(),
            59..69 => self.approve(),
            69..76 => self.settle_with_payment(),
            76..81 => self.cancel(),
            81..87 => self.release_step(),
            87..95 => self.batch(),
            _ => None,
        };
        // A step with nothing to act on becomes a new trade, or time passing.
        action.unwrap_or_else(|| if self.rng.chance(70) { self.create_trade() } else { self.advance() })
    }

    pub(super) fn register(&mut self) -> Option<Action> {
        let revoked: Vec<usize> = (0..INVESTORS.len()).filter(|i| !self.securities[*i] || !self.bank[*i]).collect();
        // Mostly a revoked investor is registered again, in both registries.
        let (i, registry) = match self.rng.pick(&revoked) {
            Some(i) if self.rng.chance(80) => (i, Registry::Both),
            _ => {
                let i = self.investor();
                let registry = match self.rng.below(4) {
                    0 => Registry::Securities,
                    1 => Registry::Bank,
                    _ => Registry::Both,
                };
                (i, registry)
            }
        };
        if registry != Registry::Bank {
            self.securities[i] = true;
        }
        if registry != Registry::Securities {
            self.bank[i] = true;
        }
        Some(Action::Register { party: Self::party(i), registry })
    }

    pub(super) fn revoke(&mut self) -> Option<Action> {
        let i = self.investor();
        let registry = match self.rng.below(3) {
            0 => Registry::Securities,
            1 => Registry::Bank,
            _ => Registry::Both,
        };
        // Revoking an inactive record refuses; `both` revokes the securities side first, which stays
        // revoked when the bank side then refuses.
        self.ok = match registry {
            Registry::Securities => self.securities[i],
            Registry::Bank => self.bank[i],
            Registry::Both => self.securities[i] && self.bank[i],
        };
        if registry != Registry::Bank {
            self.securities[i] = false;
        }
        if self.ok && registry != Registry::Securities {
            self.bank[i] = false;
        }
        Some(Action::Revoke { party: Self::party(i), registry })
    }

    pub(super) fn issue(&mut self) -> Option<Action> {
        let i = self.investor();
        let units = self.rng.range(1, 300);
        self.ok = self.securities[i];
        if self.ok {
            self.units[i] += units;
        }
        Some(Action::Issue { to: Self::party(i), units: U256::from(units) })
    }

    pub(super) fn redeem(&mut self) -> Option<Action> {
        let i = self.investor();
        let free = self.free_units(i);
        let units = if self.rng.chance(90) && free > 0 { self.rng.range(1, free.min(200)) } else { free + 1 };
        self.ok = units <= free;
        if self.ok {
            self.units[i] -= units;
        }
        Some(Action::Redeem { from: Self::party(i), units: U256::from(units) })
    }

    pub(super) fn transfer(&mut self) -> Option<Action> {
        let (from, to) = self.pair();
        let free = self.free_units(from);
        let units = if self.rng.chance(90) && free > 0 { self.rng.range(1, free.min(100)) } else { free + 1 };
        self.ok = units <= free && self.securities[from] && self.securities[to];
        if self.ok {
            self.units[from] -= units;
            self.units[to] += units;
        }
        Some(Action::Transfer { from: Self::party(from), to: Self::party(to), units: U256::from(units) })
    }

    pub(super) fn deposit(&mut self) -> Option<Action> {
        let i = self.investor();
        let amount = self.rng.range(1, 500) * 1_000;
        self.ok = self.bank[i];
        if self.ok {
            self.cash[i] += amount;
        }
        self.references += 1;
        let reference = format!("DEP-{}", self.references);
        Some(Action::Deposit { to: Holder::Party(Self::party(i)), amount: U256::from(amount), reference })
    }

    pub(super) fn withdraw(&mut self) -> Option<Action> {
        let i = self.investor();
        let free = self.free_cash(i);
        let amount = if self.rng.chance(90) && free > 0 { self.rng.range(1, free.min(400_000)) } else { free + 1 };
        self.ok = amount <= free;
        if self.ok {
            self.cash[i] -= amount;
        }
        let account = format!("ACC-{}", INVESTORS[i]);
        Some(Action::Withdraw { party: Self::party(i), amount: U256::from(amount), account })
    }

    pub(super) fn create_trade(&mut self) -> Action {
        let t = self.new_trade();
        let f = self.trades[t].clone();
        self.ok = self.securities[f.seller] && self.free_units(f.seller) >= f.units && f.deadline >= self.now;
        if self.ok {
            self.units_held[f.seller] += f.units;
            self.trades[t].status = CREATED;
            self.open.push(t);
        }
        Action::CreateTrade { trade: t }
    }

    pub(super) fn create_signed_trade(&mut self) -> Action {
        let t = self.new_trade();
        let signatures_of = self.signatures_of(t);
        let f = self.trades[t].clone();
        let by = if self.rng.chance(50) { AGENT } else { Self::party(f.seller) };
        let ok = signatures_of == t && f.deadline >= self.now;
        self.ok = false;
        if ok && f.agent {
            if self.securities[f.seller]
                && self.bank[f.buyer]
                && self.free_units(f.seller) >= f.units
                && self.free_cash(f.buyer) >= f.amount
            {
                self.ok = true;
                self.units_held[f.seller] += f.units;
                self.cash_held[f.buyer] += f.amount;
                self.trades[t].status = CREATED | PAID;
                self.open.push(t);
            }
        } else if ok && !f.agent && self.legs_pass(t, false, false) {
            self.ok = true;
            self.trades[t].status = CREATED | PAID;
            self.settle(t, false, false);
        }
        Action::CreateSignedTrade { trade: t, by, signatures_of }
    }

    pub(super) fn settle_signed(&mut self) -> Action {
        // Now and then an existing trade: a replay, which must refuse.
        if !self.trades.is_empty() && self.rng.chance(5) {
            let t = self.rng.below(self.trades.len() as u64) as usize;
            let by = self.submitter(t);
            self.ok = false;
            return Action::SettleSigned { trade: t, by, signatures_of: t };
        }
        let t = self.new_trade();
        let signatures_of = self.signatures_of(t);
        let by = self.submitter(t);
        let f = self.trades[t].clone();
        let authorised = !f.agent || by == AGENT;
        self.ok = authorised && signatures_of == t && f.deadline >= self.now && self.legs_pass(t, false, false);
        if self.ok {
            self.trades[t].status = CREATED | PAID | APPROVED;
            self.settle(t, false, false);
        }
        Action::SettleSigned { trade: t, by, signatures_of }
    }

    pub(super) fn pay(&mut self) -> Option<Action> {
        let unpaid = self.open_where(|f| f.status & PAID == 0);
        let t = self.pick_trade(&unpaid)?;
        self.ok = false;
        if self.live(t) && self.trades[t].status & PAID == 0 {
            let f = self.trades[t].clone();
            if !f.agent || f.status & APPROVED != 0 {
                if self.legs_pass(t, true, false) {
                    self.ok = true;
                    self.trades[t].status |= PAID;
                    self.settle(t, true, false);
                }
            } else if self.bank[f.buyer] && self.free_cash(f.buyer) >= f.amount {
                self.ok = true;
                self.trades[t].status |= PAID;
                self.cash_held[f.buyer] += f.amount;
            }
        }
        Some(Action::Pay { trade: t })
    }

    pub(super) fn approve(&mut self) -> Option<Action> {
        let waiting = self.open_where(|f| f.agent && f.status & APPROVED == 0);
        let with_agent: Vec<TradeId> = if waiting.is_empty() || self.rng.chance(15) {
            (0..self.trades.len()).filter(|t| self.trades[*t].agent).collect()
        } else {
            waiting
        };
        let t = self.rng.pick(&with_agent)?;
        self.ok = false;
        if self.live(t) && self.trades[t].status & APPROVED == 0 {
            if self.trades[t].status & PAID != 0 {
                if self.legs_pass(t, true, true) {
                    self.ok = true;
                    self.trades[t].status |= APPROVED;
                    self.settle(t, true, true);
                }
            } else {
                self.ok = true;
                self.trades[t].status |= APPROVED;
            }
        }
        Some(Action::Approve { trade: t })
    }

    pub(super) fn settle_with_payment(&mut self) -> Option<Action> {
        let unpaid = self.open_where(|f| f.status & PAID == 0);
        let t = self.pick_trade(&unpaid)?;
        let signatures_of = self.signatures_of(t);
        let by = self.submitter(t);
        let f = self.trades[t].clone();
        let authorised = !f.agent || by == AGENT;
        self.ok =
            authorised && signatures_of == t && self.live(t) && f.status & PAID == 0 && self.legs_pass(t, true, false);
        if self.ok {
            self.trades[t].status |= PAID | APPROVED;
            self.settle(t, true, false);
        }
        Some(Action::SettleWithPayment { trade: t, by, signatures_of })
    }

    pub(super) fn cancel(&mut self) -> Option<Action> {
        let open = self.open.clone();
        let t = self.pick_trade(&open)?;
        let f = self.trades[t].clone();
        let mut by = vec![Self::party(f.seller), Self::party(f.buyer)];
        if f.agent {
            by.push(AGENT);
        }
        let by = if self.rng.chance(10) {
            // A stranger: an investor who is neither seller nor buyer, or the agent of an agentless trade.
            (0..INVESTORS.len()).map(Self::party).find(|p| !by.contains(p)).unwrap_or(AGENT)
        } else {
            self.rng.pick(&by).unwrap_or(AGENT)
        };
        let allowed = by == Self::party(f.seller) || by == Self::party(f.buyer) || (f.agent && by == AGENT);
        self.ok = allowed && is_open(f.status);
        if self.ok {
            self.release(t, CANCELLED);
        }
        Some(Action::Cancel { trade: t, by })
    }

    pub(super) fn release_step(&mut self) -> Option<Action> {
        let expired: Vec<TradeId> = self.open.iter().copied().filter(|t| self.now > self.trades[*t].deadline).collect();
        let t = match self.rng.pick(&expired) {
            Some(t) if self.rng.chance(90) => t,
            _ => {
                let open = self.open.clone();
                self.pick_trade(&open)?
            }
        };
        let by = if self.rng.chance(50) { AGENT } else { Self::party(self.investor()) };
        self.ok = is_open(self.trades[t].status) && self.now > self.trades[t].deadline;
        if self.ok {
            self.release(t, EXPIRED);
        }
        Some(Action::Release { trade: t, by })
    }

    pub(super) fn batch(&mut self) -> Option<Action> {
        let ready = self.open_where(|f| f.agent && f.status & PAID != 0 && f.status & APPROVED == 0);
        let mut chosen: Vec<TradeId> = Vec::new();
        for _ in 0..self.rng.range(1, 4) {
            if let Some(t) = self.rng.pick(&ready)
                && !chosen.contains(&t)
            {
                chosen.push(t);
            }
        }
        if chosen.is_empty() {
            // Nothing to settle yet: pay for something instead.
            return self.pay();
        }
        // Now and then a trade that cannot be in a batch: the whole batch must refuse.
        if self.rng.chance(12) && !self.trades.is_empty() {
            let t = self.rng.below(self.trades.len() as u64) as usize;
            if !chosen.contains(&t) {
                chosen.push(t);
            }
        }
        let netted = self.rng.chance(50);
        let by = if self.rng.chance(8) { Self::party(self.investor()) } else { AGENT };
        let valid = by == AGENT
            && chosen.iter().all(|t| {
                let f = &self.trades[*t];
                f.agent && self.live(*t) && f.status & PAID != 0 && f.status & APPROVED == 0
            })
            && chosen.iter().all(|t| self.legs_pass(*t, true, true));
        self.ok = valid;
        if valid {
            for t in &chosen {
                self.trades[*t].status |= APPROVED;
                self.settle(*t, true, true);
            }
        }
        Some(Action::Batch { trades: chosen, netted, by })
    }

    pub(super) fn advance(&mut self) -> Action {
        // Targets on the half hour; deadlines are on the hour.
        self.now = (self.now / HOUR + self.rng.range(1, 24)) * HOUR + HOUR / 2;
        Action::Advance(Advance::Until(self.now))
    }
}
