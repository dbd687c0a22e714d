//! The invariants checked after every step, and what a step touches.

use super::*;

/// A trade's status before and after a step (as read from the chain).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusChange {
    /// The trade.
    pub trade: TradeId,
    /// Its flags before the step (the model's).
    pub before: u8,
    /// Its flags read after the step.
    pub after: u8,
}

/// What the checker saw after one step, for the invariants to judge.
#[derive(Debug)]
pub struct Observation<'a> {
    /// The scenario being checked.
    pub scenario: &'a Scenario,
    /// The step's position, from 0.
    pub index: usize,
    /// The step.
    pub step: &'a Step,
    /// What the runner recorded of it.
    pub outcome: &'a StepOutcome,
    /// The model after the step: explicit issues and redemptions of the step (if it succeeded), and
    /// the status changes below, applied.
    pub model: &'a Model,
    /// Status of the trades the step names (and of every trade on a full sweep, listed when it
    /// differs from the model).
    pub changes: &'a [StatusChange],
    /// Positions read after the step: the parties the step concerns (every party on a full sweep).
    pub positions: &'a [(PartyId, Balances)],
    /// (security, deposit) supplies read after the step.
    pub supplies: (U256, U256),
    /// Whether this is a full sweep.
    pub sweep: bool,
}

impl Observation<'_> {
    /// Whether the step succeeded.
    pub fn succeeded(&self) -> bool {
        self.outcome.result == StepResult::Ok
    }

    /// A trade's name.
    pub fn trade_name(&self, trade: TradeId) -> &str {
        &self.scenario.trades[trade].name
    }

    /// A party's name.
    pub fn party_name(&self, party: PartyId) -> &str {
        &self.scenario.parties[party].name
    }

    /// "step #12 (pay: bob pays for trade t3), which succeeded" — for messages; setup steps are
    /// "setup step 3" (from 1).
    pub fn describe_step(&self) -> String {
        let result = match &self.outcome.result {
            StepResult::Ok => "succeeded".to_string(),
            StepResult::Failed { error, .. } => format!("failed with {error}"),
        };
        let label = match self.outcome.origin {
            Origin::Setup => format!("setup step {}", self.index + 1),
            Origin::Timeline { number, .. } => format!("step #{number}"),
        };
        format!("{label} ({}: {}), which {result}", self.outcome.kind, self.outcome.description)
    }
}

/// An invariant that did not hold: what is wrong, and the expectation that would have held had it
/// held (written into the shrunk scenario's failing step, so that replaying it fails there).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Violation {
    /// What is wrong, in words.
    pub message: String,
    /// Expectations of the failing step that encode the invariant.
    pub expect: Box<Expect>,
}

impl Violation {
    /// A violation with its message and expectation.
    pub fn new(message: impl Into<String>, expect: Expect) -> Self {
        Self { message: message.into(), expect: Box::new(expect) }
    }
}

/// A property checked after every step.
pub trait Invariant: Send + Sync {
    /// Its name (reports, and matching the same failure while shrinking).
    fn name(&self) -> &str;
    /// Judges one step.
    fn check(&self, observation: &Observation<'_>) -> Result<(), Violation>;
}

pub(super) struct FnInvariant<F> {
    pub(super) name: String,
    pub(super) check: F,
}

impl<F> Invariant for FnInvariant<F>
where
    F: Fn(&Observation<'_>) -> Result<(), Violation> + Send + Sync,
{
    fn name(&self) -> &str {
        &self.name
    }

    fn check(&self, observation: &Observation<'_>) -> Result<(), Violation> {
        (self.check)(observation)
    }
}

/// An invariant from a name and a function.
pub fn invariant<F>(name: impl Into<String>, check: F) -> Box<dyn Invariant>
where
    F: Fn(&Observation<'_>) -> Result<(), Violation> + Send + Sync + 'static,
{
    Box::new(FnInvariant { name: name.into(), check })
}

/// The standard invariants: [`STATUSES`], [`NO_PARTIAL_SETTLEMENT`], [`HOLDS`], [`SUPPLY`], in the
/// order they are checked.
pub fn standard() -> Vec<Box<dyn Invariant>> {
    vec![
        invariant(STATUSES, check_statuses),
        invariant(NO_PARTIAL_SETTLEMENT, check_balances),
        invariant(HOLDS, check_holds),
        invariant(SUPPLY, check_supply),
    ]
}

/// A deliberately false invariant for exploration: no trade ever gains the flag of `state`
/// (settled, cancelled, expired, paid or approved; `None` for other states). When it breaks, the
/// shrunk sequence is a short scenario that reaches the state.
pub fn never(state: TradeState) -> Option<Box<dyn Invariant>> {
    let flag = match state {
        TradeState::Settled => SETTLED,
        TradeState::Cancelled => CANCELLED,
        TradeState::Expired => EXPIRED,
        TradeState::Paid => PAID,
        TradeState::Approved => APPROVED,
        TradeState::Missing | TradeState::Open => return None,
    };
    Some(invariant(format!("never-{}", state.name()), move |obs| {
        match obs.changes.iter().find(|c| c.after & flag != 0 && c.before & flag == 0) {
            None => Ok(()),
            Some(c) => Err(Violation::new(
                format!("trade {} became {} at {}", obs.trade_name(c.trade), state.name(), obs.describe_step()),
                Expect { trades: vec![(c.trade, TradeState::from_flags(c.before))], ..Default::default() },
            )),
        }
    }))
}

/// The flags trade `trade` must have after `action` succeeded, given its flags before.
pub(super) fn flags_after(action: &Action, scenario: &Scenario, trade: TradeId, before: u8) -> u8 {
    let has_agent = scenario.trades[trade].terms.agent.is_some();
    match action {
        Action::CreateTrade { .. } => CREATED,
        Action::CreateSignedTrade { .. } if has_agent => CREATED | PAID,
        Action::CreateSignedTrade { .. } => CREATED | PAID | SETTLED,
        Action::SettleSigned { .. } => CREATED | PAID | APPROVED | SETTLED,
        Action::Pay { .. } if !has_agent || before & APPROVED != 0 => before | PAID | SETTLED,
        Action::Pay { .. } => before | PAID,
        Action::Approve { .. } if before & PAID != 0 => before | APPROVED | SETTLED,
        Action::Approve { .. } => before | APPROVED,
        Action::SettleWithPayment { .. } => before | CREATED | PAID | APPROVED | SETTLED,
        Action::Cancel { .. } => before | CANCELLED,
        Action::Release { .. } => before | EXPIRED,
        Action::Batch { .. } => before | APPROVED | SETTLED,
        Action::Offer { .. } => CREATED,
        _ => before,
    }
}

pub(super) fn flag_names(flags: u8) -> String {
    let names: Vec<&str> = [
        (CREATED, "created"),
        (PAID, "paid"),
        (APPROVED, "approved"),
        (SETTLED, "settled"),
        (CANCELLED, "cancelled"),
        (EXPIRED, "expired"),
    ]
    .iter()
    .filter(|(f, _)| flags & f != 0)
    .map(|(_, n)| *n)
    .collect();
    if names.is_empty() { "none".into() } else { names.join("+") }
}

pub(super) fn check_statuses(obs: &Observation<'_>) -> Result<(), Violation> {
    let named = trades_of(&obs.step.action);
    for c in obs.changes {
        let expected = if obs.succeeded() && named.contains(&c.trade) {
            flags_after(&obs.step.action, obs.scenario, c.trade, c.before)
        } else {
            c.before
        };
        if c.after != expected {
            let why = if !named.contains(&c.trade) {
                "the step does not name this trade"
            } else if !obs.succeeded() {
                "a refused step changes nothing"
            } else {
                "that is not what this kind of step does"
            };
            return Err(Violation::new(
                format!(
                    "after {}, trade {} has status {} (flags {}) but should have {} (flags {}): {why}",
                    obs.describe_step(),
                    obs.trade_name(c.trade),
                    flag_names(c.after),
                    c.after,
                    flag_names(expected),
                    expected
                ),
                Expect { trades: vec![(c.trade, TradeState::from_flags(expected))], ..Default::default() },
            ));
        }
    }
    Ok(())
}

/// The trades whose status changed in this observation, rendered for a message.
pub(super) fn changes_text(obs: &Observation<'_>) -> String {
    let changed: Vec<String> = obs
        .changes
        .iter()
        .filter(|c| c.before != c.after)
        .map(|c| format!("{} {} -> {}", obs.trade_name(c.trade), flag_names(c.before), flag_names(c.after)))
        .collect();
    if changed.is_empty() { "no trade changed status".into() } else { format!("trades: {}", changed.join(", ")) }
}

/// A pair of amounts of a position an invariant compares with the model's: what a party `has` and
/// what it `should` have, in words; the pair; and the expectation that pins it.
struct Pair {
    has: &'static str,
    should: &'static str,
    of: fn(&Balances) -> (U256, U256),
    expect: fn((U256, U256)) -> BalanceExpect,
}

/// The parties read after the step whose `pair` differs from the model's: a sentence each, and the
/// expectations of the model's values.
fn differing(obs: &Observation<'_>, pair: &Pair) -> (Vec<String>, Expect) {
    let mut wrong = Vec::new();
    let mut expect = Expect::default();
    for (party, got) in obs.positions {
        let (got, want) = ((pair.of)(got), (pair.of)(&obs.model.position(obs.scenario, *party)));
        if got != want {
            wrong.push(format!(
                "{} {} {} units and ¥{} but {} {} units and ¥{}",
                obs.party_name(*party),
                pair.has,
                got.0,
                got.1,
                pair.should,
                want.0,
                want.1
            ));
            expect.balances.push((Holder::Party(*party), (pair.expect)(want)));
        }
    }
    (wrong, expect)
}

pub(super) fn check_balances(obs: &Observation<'_>) -> Result<(), Violation> {
    let (wrong, expect) = differing(
        obs,
        &Pair {
            has: "has",
            should: "should have",
            of: |b| (b.units, b.cash),
            expect: |(units, cash)| BalanceExpect { units: Some(units), cash: Some(cash), ..Default::default() },
        },
    );
    if wrong.is_empty() {
        return Ok(());
    }
    Err(Violation::new(
        format!(
            "after {}: {} ({}; a settled trade moves both legs in full, anything else moves nothing)",
            obs.describe_step(),
            wrong.join("; "),
            changes_text(obs)
        ),
        expect,
    ))
}

pub(super) fn check_holds(obs: &Observation<'_>) -> Result<(), Violation> {
    let (wrong, expect) = differing(
        obs,
        &Pair {
            has: "holds",
            should: "its open trades hold",
            of: |b| (b.units_held, b.cash_held),
            expect: |(units_held, cash_held)| BalanceExpect {
                units_held: Some(units_held),
                cash_held: Some(cash_held),
                ..Default::default()
            },
        },
    );
    if wrong.is_empty() {
        return Ok(());
    }
    let open: Vec<&str> = obs.model.open_trades().map(|t| obs.trade_name(t)).collect();
    Err(Violation::new(
        format!("after {}: {} (open trades: {})", obs.describe_step(), wrong.join("; "), open.join(", ")),
        expect,
    ))
}

pub(super) fn check_supply(obs: &Observation<'_>) -> Result<(), Violation> {
    let (units, cash) = obs.supplies;
    let (want_units, want_cash) = (obs.model.units_supply, obs.model.cash_supply);
    let expect =
        Expect { supply: Some(SupplyExpect { units: Some(want_units), cash: Some(want_cash) }), ..Default::default() };
    if units != want_units || cash != want_cash {
        return Err(Violation::new(
            format!(
                "after {}: supplies are {units} units and ¥{cash} but issues minus redemptions make {want_units} \
                 units and ¥{want_cash}",
                obs.describe_step()
            ),
            expect,
        ));
    }
    if obs.sweep {
        let held = obs
            .positions
            .iter()
            .fold((U256::ZERO, U256::ZERO), |(u, c), (_, b)| (u.wrapping_add(b.units), c.wrapping_add(b.cash)));
        if held != (units, cash) {
            return Err(Violation::new(
                format!(
                    "after {}: the parties hold {} units and ¥{} in all but the supplies are {units} units and ¥{cash}",
                    obs.describe_step(),
                    held.0,
                    held.1
                ),
                expect,
            ));
        }
    }
    Ok(())
}

// ---------------------------------------------------------------- what a step touches

/// The trades whose status `action` may change.
pub fn trades_of(action: &Action) -> Vec<TradeId> {
    match action {
        Action::CreateTrade { trade }
        | Action::CreateSignedTrade { trade, .. }
        | Action::Pay { trade }
        | Action::Approve { trade }
        | Action::SettleWithPayment { trade, .. }
        | Action::SettleSigned { trade, .. }
        | Action::Cancel { trade, .. }
        | Action::Release { trade, .. } => vec![*trade],
        Action::Batch { trades, .. } => {
            let mut v = trades.clone();
            v.sort_unstable();
            v.dedup();
            v
        }
        Action::Offer { allotments, .. } => allotments.clone(),
        _ => Vec::new(),
    }
}

/// Every trade `action` refers to (those it may change, and those whose signatures it uses).
pub(super) fn referenced_trades(action: &Action) -> Vec<TradeId> {
    let mut v = trades_of(action);
    if let Action::CreateSignedTrade { signatures_of, .. }
    | Action::SettleWithPayment { signatures_of, .. }
    | Action::SettleSigned { signatures_of, .. } = action
    {
        v.push(*signatures_of);
    }
    v
}

/// The trade a step defines in a scenario file (its first such step states the terms).
pub(super) fn defines(action: &Action) -> Option<TradeId> {
    match action {
        Action::CreateTrade { trade }
        | Action::CreateSignedTrade { trade, .. }
        | Action::SettleSigned { trade, .. } => Some(*trade),
        _ => None,
    }
}

/// The parties whose positions `action` may change.
pub(super) fn parties_of(scenario: &Scenario, action: &Action) -> Vec<PartyId> {
    let mut v = match action {
        Action::Issue { to, .. } => vec![*to],
        Action::Redeem { from, .. } => vec![*from],
        Action::Transfer { from, to, .. } => vec![*from, *to],
        Action::Deposit { to: Holder::Party(p), .. } | Action::Withdraw { party: p, .. } => vec![*p],
        _ => trades_of(action)
            .into_iter()
            .flat_map(|t| [scenario.trades[t].terms.seller, scenario.trades[t].terms.buyer])
            .collect(),
    };
    v.sort_unstable();
    v.dedup();
    v
}

/// Refuses scenarios the checker does not model (bonds and their payments, deposits to the
/// instrument).
pub(super) fn supported(scenario: &Scenario) -> Result<(), ScenarioError> {
    if scenario.instrument.bond.is_some() {
        return Err(ScenarioError::Setup(
            "the property checker models plain security units, not a bond: remove [instrument.bond]".into(),
        ));
    }
    for (i, step) in scenario.steps.iter().enumerate() {
        let unsupported = matches!(
            step.action,
            Action::PaymentRound { .. }
                | Action::AddProgramme { .. }
                | Action::ClaimBenefit { .. }
                | Action::Deposit { to: Holder::Instrument, .. }
        );
        if unsupported {
            return Err(ScenarioError::Setup(format!(
                "step {i} is a `{}` step, which the property checker does not model",
                step.action.kind()
            )));
        }
    }
    Ok(())
}
