//! Checking a scenario step by step against the invariants.

use super::*;

/// How a scenario is checked.
#[derive(Clone, Copy, Debug)]
pub struct CheckOptions {
    /// A full sweep (every party's position, every trade's status) every this many steps, and after
    /// the last; 1 sweeps after every step, 0 only after the last.
    pub sweep_every: usize,
}

impl Default for CheckOptions {
    fn default() -> Self {
        Self { sweep_every: 1_000 }
    }
}

/// Counts over a checked run.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stats {
    /// Steps executed.
    pub steps: usize,
    /// Steps that succeeded.
    pub succeeded: usize,
    /// Transactions mined.
    pub transactions: u64,
    /// Gas they used.
    pub gas_used: u64,
    /// Per step kind: (kind, steps, succeeded).
    pub kinds: Vec<(String, usize, usize)>,
    /// Refused steps by error name: (error, steps).
    pub refused: Vec<(String, usize)>,
    /// Trades created on chain.
    pub created: usize,
    /// Trades settled.
    pub settled: usize,
    /// Trades cancelled.
    pub cancelled: usize,
    /// Trades released after their deadline.
    pub expired: usize,
    /// Full sweeps made.
    pub sweeps: usize,
}

impl Stats {
    pub(super) fn record(&mut self, outcome: &StepOutcome) {
        self.steps += 1;
        let ok = outcome.result == StepResult::Ok;
        self.succeeded += usize::from(ok);
        self.transactions += u64::from(outcome.transactions);
        self.gas_used += outcome.gas_used;
        match self.kinds.iter_mut().find(|(k, ..)| *k == outcome.kind) {
            Some((_, n, s)) => {
                *n += 1;
                *s += usize::from(ok);
            }
            None => self.kinds.push((outcome.kind.clone(), 1, usize::from(ok))),
        }
        if let Some(error) = outcome.result.error() {
            match self.refused.iter_mut().find(|(e, _)| e == error) {
                Some((_, n)) => *n += 1,
                None => self.refused.push((error.to_string(), 1)),
            }
        }
    }

    pub(super) fn transition(&mut self, change: &StatusChange) {
        let new = change.after & !change.before;
        self.created += usize::from(new & CREATED != 0);
        self.settled += usize::from(new & SETTLED != 0);
        self.cancelled += usize::from(new & CANCELLED != 0);
        self.expired += usize::from(new & EXPIRED != 0);
    }
}

/// An invariant that broke, where, and how.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Found {
    /// The invariant's name.
    pub invariant: String,
    /// The step after which it broke (position from 0).
    pub index: usize,
    /// What is wrong.
    pub message: String,
    /// The expectation that would have held (see [`Violation::expect`]).
    pub expect: Expect,
}

/// The result of checking a scenario.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checked {
    /// Counts.
    pub stats: Stats,
    /// Each executed step's error name, if it was refused.
    pub errors: Vec<Option<String>>,
    /// The first invariant that broke, if any (the run stops there).
    pub found: Option<Found>,
}

/// Checks `scenario` step by step against `invariants` on `chain`, with party `i` using `keys[i]`;
/// stops at the first violation. `progress` (if given) counts executed steps.
pub async fn check_on<C: Chain>(
    chain: &mut C,
    scenario: &Scenario,
    keys: &[PrivateKeySigner],
    invariants: &[Box<dyn Invariant>],
    options: &CheckOptions,
    progress: Option<&AtomicU64>,
) -> Result<Checked, ScenarioError> {
    supported(scenario)?;
    let runner = Runner::deploy(chain, scenario, keys).await?;
    let mut checker = Checker::start(chain, scenario, runner).await?;
    let mut found = None;
    let last = scenario.steps.len().saturating_sub(1);
    for (index, step) in scenario.steps.iter().enumerate() {
        let sweep = index == last || (options.sweep_every > 0 && (index + 1) % options.sweep_every == 0);
        found = checker.step(chain, index, step, sweep, invariants).await?;
        if let Some(p) = progress {
            p.fetch_add(1, Ordering::Relaxed);
        }
        if found.is_some() {
            break;
        }
    }
    Ok(Checked { stats: checker.stats, errors: checker.errors, found })
}

/// A check under way: the deployed suite, the model of what it should hold, the trades the steps
/// have referred to, and what has been counted.
struct Checker<'s> {
    scenario: &'s Scenario,
    runner: Runner<'s>,
    /// Each trade's id on chain.
    ids: Vec<B256>,
    model: Model,
    /// Whether a step has referred to each trade.
    known: Vec<bool>,
    /// The trades steps have referred to, in order of first reference (what a full sweep reads).
    known_list: Vec<TradeId>,
    stats: Stats,
    /// Each executed step's error name, if it was refused.
    errors: Vec<Option<String>>,
}

impl<'s> Checker<'s> {
    /// Starts the model from the deployed chain (empty balances, unless the plan funds someone).
    async fn start<C: Chain>(chain: &mut C, scenario: &'s Scenario, runner: Runner<'s>) -> Result<Self, ScenarioError> {
        let suite = *runner.suite();
        let ids: Vec<B256> = (0..scenario.trades.len()).map(|t| runner.trade_id(t)).collect();
        let mut model = Model::new(scenario);
        for p in 0..scenario.parties.len() {
            let b: Balances = suite.position(chain, runner.account(p)).await?.into();
            model.units[p] = b.units;
            model.cash[p] = b.cash;
        }
        (model.units_supply, model.cash_supply) = suite.supplies(chain).await?;
        Ok(Self {
            scenario,
            runner,
            ids,
            model,
            known: vec![false; scenario.trades.len()],
            known_list: Vec::new(),
            stats: Stats::default(),
            errors: Vec::with_capacity(scenario.steps.len()),
        })
    }

    /// Executes step `index`, brings the model up to date and checks the invariants against what
    /// the chain holds after it (everything, on a `sweep`); returns the first violation.
    async fn step<C: Chain>(
        &mut self,
        chain: &mut C,
        index: usize,
        step: &Step,
        sweep: bool,
        invariants: &[Box<dyn Invariant>],
    ) -> Result<Option<Found>, ScenarioError> {
        let outcome = self.runner.execute_step(chain, index, step).await?;
        self.stats.record(&outcome);
        self.errors.push(outcome.result.error().map(str::to_string));
        self.remember(&step.action);
        if outcome.result == StepResult::Ok {
            self.model.apply_step(&step.action);
        }
        self.stats.sweeps += usize::from(sweep);
        let changes = self.status_changes(chain, &step.action, sweep).await?;
        for c in &changes {
            self.model.apply_change(self.scenario, c);
            self.stats.transition(c);
        }
        let positions = self.positions(chain, &step.action, sweep).await?;
        let supplies = self.runner.suite().supplies(chain).await?;
        let observation = Observation {
            scenario: self.scenario,
            index,
            step,
            outcome: &outcome,
            model: &self.model,
            changes: &changes,
            positions: &positions,
            supplies,
            sweep,
        };
        Ok(first_violation(invariants, &observation))
    }

    /// Adds the trades `action` refers to to the known ones.
    fn remember(&mut self, action: &Action) {
        for t in referenced_trades(action) {
            if !self.known[t] {
                self.known[t] = true;
                self.known_list.push(t);
            }
        }
    }

    /// The statuses read after a step of the trades `action` names (every known trade on a
    /// `sweep`): each named trade's, and any other's that differs from the model.
    async fn status_changes<C: Chain>(
        &self,
        chain: &mut C,
        action: &Action,
        sweep: bool,
    ) -> Result<Vec<StatusChange>, ScenarioError> {
        let named = trades_of(action);
        let mut changes = Vec::with_capacity(named.len());
        for t in if sweep { &self.known_list } else { &named } {
            let after = self.runner.suite().trade_status(chain, self.ids[*t]).await?;
            let before = self.model.status(*t);
            if before != after || named.contains(t) {
                changes.push(StatusChange { trade: *t, before, after });
            }
        }
        Ok(changes)
    }

    /// The positions read after a step of the parties `action` concerns (every party on a
    /// `sweep`).
    async fn positions<C: Chain>(
        &self,
        chain: &mut C,
        action: &Action,
        sweep: bool,
    ) -> Result<Vec<(PartyId, Balances)>, ScenarioError> {
        let parties =
            if sweep { (0..self.scenario.parties.len()).collect() } else { parties_of(self.scenario, action) };
        let mut positions = Vec::with_capacity(parties.len());
        for p in parties {
            positions.push((p, Balances::from(self.runner.suite().position(chain, self.runner.account(p)).await?)));
        }
        Ok(positions)
    }
}

/// The first of `invariants` that `observation` breaks, as found at its step.
fn first_violation(invariants: &[Box<dyn Invariant>], observation: &Observation<'_>) -> Option<Found> {
    invariants.iter().find_map(|inv| {
        inv.check(observation).err().map(|v| Found {
            invariant: inv.name().to_string(),
            index: observation.index,
            message: v.message,
            expect: *v.expect,
        })
    })
}

/// Settings of the in-process chain property runs use: the default hard fork, a fixed genesis time
/// (scenarios are relative to their start, so any time gives the same run).
pub(super) fn revm_options() -> RevmOptions {
    RevmOptions::default()
}

/// [`check_on`] on a fresh in-process chain with Anvil's development keys.
pub fn check(
    scenario: &Scenario,
    invariants: &[Box<dyn Invariant>],
    options: &CheckOptions,
    progress: Option<&AtomicU64>,
) -> Result<Checked, ScenarioError> {
    parallel::drive(|| async {
        let mut chain = RevmChain::new(&revm_options(), &anvil::dev_accounts());
        check_on(&mut chain, scenario, &anvil::dev_signers(), invariants, options, progress).await
    })
}
