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
    let mut runner = Runner::deploy(chain, scenario, keys).await?;
    let suite = *runner.suite();
    let ids: Vec<B256> = (0..scenario.trades.len()).map(|t| runner.trade_id(t)).collect();
    let everyone: Vec<PartyId> = (0..scenario.parties.len()).collect();

    // The model starts from the deployed chain (empty balances, unless the plan funds someone).
    let mut model = Model::new(scenario);
    for p in &everyone {
        let b: Balances = suite.position(chain, runner.account(*p)).await?.into();
        model.units[*p] = b.units;
        model.cash[*p] = b.cash;
    }
    (model.units_supply, model.cash_supply) = suite.supplies(chain).await?;

    let mut known = vec![false; scenario.trades.len()];
    let mut known_list: Vec<TradeId> = Vec::new();
    let mut stats = Stats::default();
    let mut errors = Vec::with_capacity(scenario.steps.len());
    let mut found = None;
    let last = scenario.steps.len().saturating_sub(1);
    for (index, step) in scenario.steps.iter().enumerate() {
        let outcome = runner.execute_step(chain, index, step).await?;
        stats.record(&outcome);
        errors.push(outcome.result.error().map(str::to_string));
        for t in referenced_trades(&step.action) {
            if !known[t] {
                known[t] = true;
                known_list.push(t);
            }
        }
        if outcome.result == StepResult::Ok {
            model.apply_step(&step.action);
        }
        let sweep = index == last || (options.sweep_every > 0 && (index + 1) % options.sweep_every == 0);
        stats.sweeps += usize::from(sweep);

        let named = trades_of(&step.action);
        let mut changes = Vec::with_capacity(named.len());
        for t in if sweep { &known_list } else { &named } {
            let after = suite.trade_status(chain, ids[*t]).await?;
            let before = model.status(*t);
            if before != after || named.contains(t) {
                changes.push(StatusChange { trade: *t, before, after });
            }
        }
        for c in &changes {
            model.apply_change(scenario, c);
            stats.transition(c);
        }
        let parties = if sweep { everyone.clone() } else { parties_of(scenario, &step.action) };
        let mut positions = Vec::with_capacity(parties.len());
        for p in parties {
            positions.push((p, Balances::from(suite.position(chain, runner.account(p)).await?)));
        }
        let supplies = suite.supplies(chain).await?;
        let observation = Observation {
            scenario,
            index,
            step,
            outcome: &outcome,
            model: &model,
            changes: &changes,
            positions: &positions,
            supplies,
            sweep,
        };
        for inv in invariants {
            if let Err(v) = inv.check(&observation) {
                found = Some(Found { invariant: inv.name().to_string(), index, message: v.message, expect: *v.expect });
                break;
            }
        }
        if let Some(p) = progress {
            p.fetch_add(1, Ordering::Relaxed);
        }
        if found.is_some() {
            break;
        }
    }
    Ok(Checked { stats, errors, found })
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
    let mut chain = RevmChain::new(&revm_options(), &anvil::dev_accounts());
    parallel::block_on(check_on(&mut chain, scenario, &anvil::dev_signers(), invariants, options, progress))
}
