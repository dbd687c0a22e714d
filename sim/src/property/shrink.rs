//! Property runs: seeds, failures, and shrinking a failing sequence.

use super::*;

/// Settings of a property run.
#[derive(Clone, Copy, Debug)]
pub struct Options {
    /// Random steps after the setup.
    pub steps: usize,
    /// How the sequence is checked.
    pub check: CheckOptions,
    /// Shrink a failing sequence (otherwise the whole prefix up to the failure is written).
    pub shrink: bool,
    /// Most candidate sequences replayed while shrinking.
    pub shrink_budget: usize,
}

impl Default for Options {
    fn default() -> Self {
        Self { steps: 10_000, check: CheckOptions::default(), shrink: true, shrink_budget: 5_000 }
    }
}

/// A broken invariant, its shrunk sequence and the scenario file that replays it.
#[derive(Clone, Debug)]
pub struct Failure {
    /// The violation in the generated sequence.
    pub found: Found,
    /// The shrunk sequence as a scenario: refused steps expect their errors, the last step expects
    /// what the invariant expected.
    pub shrunk: Scenario,
    /// The violation in the shrunk sequence (at its last step).
    pub shrunk_found: Found,
    /// Candidate sequences replayed while shrinking.
    pub candidates: usize,
    /// The shrunk scenario as a scenario file.
    pub toml: String,
    /// Whether the file, parsed back and checked, breaks the same invariant at the same step.
    pub reproduced: bool,
}

/// The result of one seed.
#[derive(Clone, Debug)]
pub struct PropertyRun {
    /// The seed.
    pub seed: u64,
    /// Steps of the generated sequence (setup included).
    pub generated: usize,
    /// What the check counted.
    pub stats: Stats,
    /// The failure, if an invariant broke.
    pub failure: Option<Failure>,
    /// Wall-clock time, shrinking included.
    pub elapsed: Duration,
}

/// Generates the sequence of `seed`, checks it, and shrinks a failure. `progress` counts steps
/// checked (not those replayed while shrinking).
pub fn run(
    seed: u64,
    options: &Options,
    invariants: &[Box<dyn Invariant>],
    progress: Option<&AtomicU64>,
) -> Result<PropertyRun, ScenarioError> {
    let started = Instant::now();
    let scenario = generate(seed, options.steps);
    let checked = check(&scenario, invariants, &options.check, progress)?;
    let failure = match &checked.found {
        None => None,
        Some(found) => Some(explain(&scenario, found, invariants, options)?),
    };
    Ok(PropertyRun { seed, generated: scenario.steps.len(), stats: checked.stats, failure, elapsed: started.elapsed() })
}

/// Runs independent seeds on up to `threads` threads; results come back in seed order. `progress`
/// (if given) holds a counter per seed, in the same order: counter `i` counts the steps of seed `i`
/// checked (see [`run`]), so a caller can draw each seed's progress while they run.
pub fn run_seeds(
    seeds: &[u64],
    options: &Options,
    invariants: &[Box<dyn Invariant>],
    threads: usize,
    progress: Option<&[AtomicU64]>,
) -> Vec<Result<PropertyRun, ScenarioError>> {
    let runs: Vec<(u64, Option<&AtomicU64>)> =
        seeds.iter().enumerate().map(|(i, seed)| (*seed, progress.and_then(|counters| counters.get(i)))).collect();
    parallel::map(&runs, threads, |(seed, counter)| run(*seed, options, invariants, *counter))
}

/// Shrinks (if asked) the prefix up to a violation and writes it as a scenario file.
pub(super) fn explain(
    scenario: &Scenario,
    found: &Found,
    invariants: &[Box<dyn Invariant>],
    options: &Options,
) -> Result<Failure, ScenarioError> {
    let mut work = prefix(scenario, found);
    let (kept, candidates) =
        if options.shrink { shrink(&mut work, found, invariants, options)? } else { ((0..=found.index).collect(), 0) };
    let mut shrunk = subset(&work, &kept);
    let checked = check(&shrunk, invariants, &replay_options(options, shrunk.steps.len()), None)?;
    let shrunk_found = checked.found.clone().unwrap_or_else(|| found.clone());
    expect_outcomes(&mut shrunk, &checked.errors, &shrunk_found);
    describe_shrunk(&mut shrunk, scenario, found, options.shrink);
    let toml = write::write(&shrunk)?;
    let reproduced = reproduces(&toml, invariants, options, &shrunk_found)?;
    Ok(Failure { found: found.clone(), shrunk, shrunk_found, candidates, toml, reproduced })
}

/// How a sequence of `len` steps is checked while explaining a failure. Short sequences sweep
/// after every step, so a violation is seen where it happens; long ones (a late failure, or no
/// shrinking) sweep as the run did, which sees it at the same steps.
fn replay_options(options: &Options, len: usize) -> CheckOptions {
    CheckOptions { sweep_every: if len <= 2_000 { 1 } else { options.check.sweep_every } }
}

/// The steps of `scenario` up to the violation; collapsing a trade's steps appends new ones after
/// them.
fn prefix(scenario: &Scenario, found: &Found) -> Scenario {
    Scenario {
        name: scenario.name.clone(),
        description: scenario.description.clone(),
        start: scenario.start,
        instrument: scenario.instrument.clone(),
        cash: scenario.cash.clone(),
        parties: scenario.parties.clone(),
        trades: scenario.trades.clone(),
        programmes: scenario.programmes.clone(),
        watch: scenario.watch.clone(),
        steps: scenario.steps[..=found.index].to_vec(),
    }
}

/// Shrinks the steps of `work` that break `found`'s invariant: delta debugging, then doing a
/// trade's steps in one signed step, and again while that keeps the failure, within the budget.
/// Returns the steps kept and the candidate sequences replayed.
fn shrink(
    work: &mut Scenario,
    found: &Found,
    invariants: &[Box<dyn Invariant>],
    options: &Options,
) -> Result<(Vec<usize>, usize), ScenarioError> {
    let fails = |work: &Scenario, candidate: &[usize]| -> Result<bool, ScenarioError> {
        if !writable(work, candidate) {
            return Ok(false);
        }
        let checked = check(&subset(work, candidate), invariants, &replay_options(options, candidate.len()), None)?;
        Ok(checked.found.is_some_and(|f| f.invariant == found.invariant))
    };
    let mut kept: Vec<usize> = (0..=found.index).collect();
    let mut candidates = 0;
    loop {
        let budget = options.shrink_budget.saturating_sub(candidates);
        let (smaller, tried) = ddmin(kept, |c| fails(work, c), budget)?;
        candidates += tried;
        kept = smaller;
        // Then try doing each trade's steps in one signed step; if that keeps the failure, shrink again.
        let budget = options.shrink_budget.saturating_sub(candidates);
        let collapsed = collapse(
            work,
            &kept,
            |w, c| {
                candidates += 1;
                fails(w, c)
            },
            budget,
        )?;
        match collapsed {
            Some(collapsed) => kept = collapsed,
            None => break,
        }
    }
    Ok((kept, candidates))
}

/// Ends `shrunk` at the violation's step and makes each step expect what happened to it: a
/// refused step its error, and the last step what the invariant expected, with a note naming it.
fn expect_outcomes(shrunk: &mut Scenario, errors: &[Option<String>], found: &Found) {
    shrunk.steps.truncate(found.index + 1);
    for (step, error) in shrunk.steps.iter_mut().zip(errors) {
        step.expect = Expect::default();
        // `TxFailed` (no revert data) is not an error a scenario file can name.
        step.expect.error = error.clone().filter(|e| crate::scenario::events::is_known_error(e));
    }
    if let Some(last) = shrunk.steps.last_mut() {
        let e = &found.expect;
        if e.error.is_some() {
            last.expect.error.clone_from(&e.error);
        }
        last.expect.events.clone_from(&e.events);
        last.expect.balances.clone_from(&e.balances);
        last.expect.supply.clone_from(&e.supply);
        last.expect.trades.clone_from(&e.trades);
        last.note = Some(format!("breaks `{}`: {}", found.invariant, found.message));
    }
}

/// Names the `shrunk` sequence after `scenario` and the invariant `found` broke, says how it was
/// made (`shrank`, or the whole prefix), and watches every investor.
fn describe_shrunk(shrunk: &mut Scenario, scenario: &Scenario, found: &Found, shrank: bool) {
    shrunk.name = format!("{}: `{}` breaks", scenario.name, found.invariant);
    shrunk.description = Some(if shrank {
        format!(
            "Shrunk from {} steps to {} (delta debugging, and trades collapsed into signed steps); the last step \
             fails the invariant's expectation.",
            found.index + 1,
            shrunk.steps.len()
        )
    } else {
        format!("The {} steps up to the failure; the last step fails the invariant's expectation.", shrunk.steps.len())
    });
    shrunk.watch =
        (0..shrunk.parties.len()).filter(|p| shrunk.parties[*p].role == Role::Investor).map(Holder::Party).collect();
}

/// Whether the scenario file `toml`, parsed back and checked, breaks `found`'s invariant at its
/// last step.
fn reproduces(
    toml: &str,
    invariants: &[Box<dyn Invariant>],
    options: &Options,
    found: &Found,
) -> Result<bool, ScenarioError> {
    let Ok(parsed) = parse::parse(toml) else { return Ok(false) };
    Ok(check(&parsed, invariants, &replay_options(options, parsed.steps.len()), None)?
        .found
        .is_some_and(|f| f.invariant == found.invariant && f.index + 1 == parsed.steps.len()))
}

/// A shrinking step deletion cannot take: a trade created and then paid, approved or settled in
/// later steps is replaced by one step that does it all from both parties' signatures
/// (`settle_signed`, or `create_signed_trade`), placed where its last step was. Returns the first
/// such candidate (steps of `work`, to which the new step is appended) that still fails.
pub(super) fn collapse(
    work: &mut Scenario,
    kept: &[usize],
    mut fails: impl FnMut(&Scenario, &[usize]) -> Result<bool, ScenarioError>,
    budget: usize,
) -> Result<Option<Vec<usize>>, ScenarioError> {
    let mut tries = 0;
    let mut seen = BTreeSet::new();
    for &first in kept {
        let Action::CreateTrade { trade } = work.steps[first].action else { continue };
        if !seen.insert(trade) {
            continue;
        }
        let on_trade: Vec<usize> =
            kept.iter().copied().filter(|i| referenced_trades(&work.steps[*i].action).contains(&trade)).collect();
        if on_trade.len() < 2 {
            continue;
        }
        let Some(&last) = on_trade.last() else { continue };
        let terms = &work.trades[trade].terms;
        let by = terms.agent.unwrap_or(terms.seller);
        for action in [
            Action::SettleSigned { trade, by, signatures_of: trade },
            Action::CreateSignedTrade { trade, by, signatures_of: trade },
        ] {
            if tries >= budget {
                return Ok(None);
            }
            tries += 1;
            work.steps.push(Step { action, expect: Expect::default(), origin: Origin::Setup, note: None });
            let new = work.steps.len() - 1;
            let candidate: Vec<usize> = kept
                .iter()
                .filter(|i| !on_trade.contains(i) || **i == last)
                .map(|i| if *i == last { new } else { *i })
                .collect();
            if fails(work, &candidate)? {
                return Ok(Some(candidate));
            }
        }
    }
    Ok(None)
}

/// Delta debugging (complements only): removes chunks of `items`, then ever smaller ones down to
/// single items, while `fails` still holds; the result is 1-minimal unless the budget of `fails`
/// calls runs out. Returns the kept items and the number of calls.
pub fn ddmin<E>(
    mut items: Vec<usize>,
    mut fails: impl FnMut(&[usize]) -> Result<bool, E>,
    budget: usize,
) -> Result<(Vec<usize>, usize), E> {
    let mut n = 2;
    let mut tries = 0;
    while items.len() >= 2 {
        let chunk = items.len().div_ceil(n);
        let mut reduced = false;
        let mut start = 0;
        while start < items.len() {
            if tries >= budget {
                return Ok((items, tries));
            }
            let end = (start + chunk).min(items.len());
            let candidate: Vec<usize> = items[..start].iter().chain(&items[end..]).copied().collect();
            tries += 1;
            if fails(&candidate)? {
                items = candidate;
                n = (n - 1).max(2);
                reduced = true;
                break;
            }
            start = end;
        }
        if !reduced {
            if n >= items.len() {
                break;
            }
            n = (2 * n).min(items.len());
        }
    }
    Ok((items, tries))
}

/// Whether the steps at `indices` can be written as a scenario file: every trade a step refers to
/// is defined by that step or an earlier one.
pub(super) fn writable(scenario: &Scenario, indices: &[usize]) -> bool {
    let mut defined = vec![false; scenario.trades.len()];
    for i in indices {
        let action = &scenario.steps[*i].action;
        if let Some(t) = defines(action) {
            defined[t] = true;
        }
        if referenced_trades(action).iter().any(|t| !defined[*t]) {
            return false;
        }
        if let Action::Approve { trade } = action
            && scenario.trades[*trade].terms.agent.is_none()
        {
            return false;
        }
    }
    true
}

/// The scenario with only the steps at `indices` (in that order), and only the trades they refer
/// to (renumbered in order of first reference); steps are numbered as a file would number them.
pub fn subset(scenario: &Scenario, indices: &[usize]) -> Scenario {
    let mut map: Vec<Option<TradeId>> = vec![None; scenario.trades.len()];
    let mut trades = Vec::new();
    let mut steps = Vec::with_capacity(indices.len());
    for (number, i) in indices.iter().enumerate() {
        let step = &scenario.steps[*i];
        let mut referenced = referenced_trades(&step.action);
        referenced.extend(step.expect.trades.iter().map(|(t, _)| *t));
        for t in referenced {
            if map[t].is_none() {
                map[t] = Some(trades.len());
                trades.push(scenario.trades[t].clone());
            }
        }
        let m = |t: &TradeId| map[*t].unwrap_or_default();
        let action = match &step.action {
            Action::CreateTrade { trade } => Action::CreateTrade { trade: m(trade) },
            Action::CreateSignedTrade { trade, by, signatures_of } => {
                Action::CreateSignedTrade { trade: m(trade), by: *by, signatures_of: m(signatures_of) }
            }
            Action::Pay { trade } => Action::Pay { trade: m(trade) },
            Action::Approve { trade } => Action::Approve { trade: m(trade) },
            Action::SettleWithPayment { trade, by, signatures_of } => {
                Action::SettleWithPayment { trade: m(trade), by: *by, signatures_of: m(signatures_of) }
            }
            Action::SettleSigned { trade, by, signatures_of } => {
                Action::SettleSigned { trade: m(trade), by: *by, signatures_of: m(signatures_of) }
            }
            Action::Cancel { trade, by } => Action::Cancel { trade: m(trade), by: *by },
            Action::Release { trade, by } => Action::Release { trade: m(trade), by: *by },
            Action::Batch { trades, netted, by } => {
                Action::Batch { trades: trades.iter().map(m).collect(), netted: *netted, by: *by }
            }
            Action::Offer { underwriter, agent, deadline, allotments } => Action::Offer {
                underwriter: *underwriter,
                agent: *agent,
                deadline: *deadline,
                allotments: allotments.iter().map(m).collect(),
            },
            other => other.clone(),
        };
        let mut expect = step.expect.clone();
        for (t, _) in &mut expect.trades {
            *t = m(t);
        }
        steps.push(Step {
            action,
            expect,
            origin: Origin::Timeline { number: number + 1, line: 0 },
            note: step.note.clone(),
        });
    }
    Scenario { trades, steps, ..scenario.clone() }
}
