//! The text report of `kessai sim run`: each step as it completes, then a summary.

use super::*;

/// Most holders, refusals and trades the summary names before folding the rest into a count.
pub const FOLD: usize = 8;

/// A step as the text report prints it: its place, date, description and outcome, then its note,
/// the error's sentence, events, the watched positions and every expectation.
///
/// A refusal the scenario expected reads `refused as expected`; one it did not, `FAILED`.
pub fn step(outcome: &StepOutcome, time: u64, zone: &Zone) -> String {
    let label = match outcome.origin {
        Origin::Setup => "setup".to_string(),
        Origin::Timeline { number, .. } => format!("#{number}"),
    };
    let result = match (&outcome.result, outcome.verdict()) {
        (StepResult::Ok, _) if outcome.transactions == 0 => "ok".to_string(),
        (StepResult::Ok, _) => format!("ok, {} gas", thousands(outcome.gas_used)),
        (StepResult::Failed { error, args, .. }, Verdict::RefusedAsExpected) => {
            format!("refused as expected: {}", error_call(error, args))
        }
        (StepResult::Failed { error, args, .. }, _) => format!("FAILED {}", error_call(error, args)),
    };
    let mut text = format!("{label:>6} {} {} — {result}\n", zone.iso(time), amounts(&outcome.description));
    if let Some(note) = &outcome.note {
        let _ = writeln!(text, "       note: {note}");
    }
    if let StepResult::Failed { message, .. } = &outcome.result {
        let _ = writeln!(text, "       {}", amounts(message));
    }
    for event in &outcome.events {
        let _ = writeln!(text, "       event {event}");
    }
    if !outcome.state.is_empty() && outcome.transactions > 0 {
        let state: Vec<String> =
            outcome.state.iter().map(|s| format!("{}: {}", s.holder, position(&s.balances))).collect();
        let _ = writeln!(text, "       {}", state.join(" | "));
    }
    for check in &outcome.checks {
        let _ = match &check.found {
            None if check.passed => writeln!(text, "       ✓ {}", amounts(&check.expected)),
            found => writeln!(
                text,
                "       ✗ expected {} — found {}",
                amounts(&check.expected),
                amounts(found.as_deref().unwrap_or("something else"))
            ),
        };
    }
    text
}

/// The summary after the steps: totals (refusals the scenario expected apart from failures), the
/// time the run covers, refusals by error, positions, supplies and trades — long lists folded.
pub fn summary(report: &RunReport, seconds: f64, zone: &Zone) -> String {
    let t = report.totals();
    let mut text = format!(
        "\n{}: {} steps ({} succeeded, {} refused as expected, {} failed); {} of {} expectations held; {} \
         transactions, {} gas after the deployment ({} gas); {seconds:.2} s\n",
        report.scenario,
        thousands(t.steps as u64),
        thousands(t.succeeded_as_expected() as u64),
        thousands(t.refused_as_expected as u64),
        thousands(t.not_as_expected as u64),
        thousands((t.checks - t.failed_checks) as u64),
        thousands(t.checks as u64),
        thousands(t.transactions),
        thousands(t.gas_used),
        thousands(report.deployment_gas),
    );
    let end = report.step_times.last().copied().unwrap_or(report.start);
    let _ = writeln!(text, "  from {} to {} ({})", zone.iso(report.start), zone.iso(end), zone.name());
    let o = summarize(report).outcomes;
    for (label, refusals) in [("refused as expected", &o.refused_as_expected), ("failed", &o.refused_unexpectedly)] {
        if !refusals.is_empty() {
            let _ = writeln!(text, "  {label}: {}", fold(&counted(refusals), FOLD));
        }
    }
    write_positions(&mut text, &report.final_state);
    write_trades(&mut text, &report.final_state.trades);
    text
}

/// `name ×n` (or the name alone for one) for each (name, count).
fn counted(items: &[(String, usize)]) -> Vec<String> {
    items
        .iter()
        .map(|(name, n)| if *n == 1 { name.clone() } else { format!("{name} ×{}", thousands(*n as u64)) })
        .collect()
}

/// Writes every holder with a balance (the first [`FOLD`], then how many more) and the supplies.
fn write_positions(text: &mut String, state: &FinalState) {
    let holders: Vec<&HolderState> = state.holders.iter().filter(|h| h.balances != Balances::default()).collect();
    for h in holders.iter().take(FOLD) {
        let _ = writeln!(text, "  {:<12} {}", h.holder, position(&h.balances));
    }
    if holders.len() > FOLD {
        let _ = writeln!(
            text,
            "  … and {} more holders (`kessai sim run --json` lists every one)",
            thousands((holders.len() - FOLD) as u64)
        );
    }
    let _ = writeln!(
        text,
        "  supply: {} units, ¥{}",
        thousands_u256(state.units_supply),
        thousands_u256(state.cash_supply)
    );
}

/// Writes the trades: how many ended in each state, then the first [`FOLD`] by name.
fn write_trades(text: &mut String, trades: &[(String, TradeState)]) {
    if trades.is_empty() {
        return;
    }
    let mut by_state: Vec<(String, usize)> = Vec::new();
    for (_, state) in trades {
        match by_state.iter_mut().find(|(name, _)| name == state.name()) {
            Some((_, n)) => *n += 1,
            None => by_state.push((state.name().to_string(), 1)),
        }
    }
    let counts: Vec<String> = by_state.iter().map(|(state, n)| format!("{} {state}", thousands(*n as u64))).collect();
    let named: Vec<String> = trades.iter().map(|(name, state)| format!("{name} {}", state.name())).collect();
    let _ = writeln!(text, "  trades: {} — {}", counts.join(", "), fold(&named, FOLD));
}
