//! Reports of a scenario run for people: the text report of `kessai sim run` ([`text`]), a summary
//! (gas by operation, settlement outcomes, liquidity locked), a self-contained HTML page with plots,
//! and a progress line for long runs.
//!
//! Both reports show dates in ISO 8601 — the start and each step's time on the scenario's clock
//! ([`RunReport::step_times`]) — in UTC or the [`Zone`] asked for; amounts with thousands
//! separators; a refusal the scenario expected as "refused as expected", apart from real failures;
//! and a transfer restriction by its name ([`error_call`]). The JSON report keeps exact numbers.
//!
//! The HTML report is one file with inline CSS and inline SVG drawn here — no JavaScript, no fonts
//! or libraries fetched from anywhere — so it can be mailed, archived with a run, or opened offline:
//!
//! - balances over time: units and cash of every watched holder, on a time axis (setup folded into
//!   one point where it ends; each point's date, step and value in its tooltip);
//! - liquidity locked over time: cash and units held for open trades, summed over watched holders —
//!   or, when the scenario watches nobody (a generated market), over every trade from the
//!   settlement contract's events, with the trades settled per hour;
//! - gas by operation: total gas per step kind (with its count and average);
//! - settlement outcomes: trades settled, cancelled, expired (released) or left open, and the steps
//!   refused by error name, as expected or not;
//!
//! then the totals, every step (time, outcome, gas, decoded events, failed checks) and the final
//! state. Long runs are thinned for the page — plots keep about [`MAX_POINTS`] points per series and
//! the step table at most [`MAX_ROWS`] rows (plus every step whose expectations failed) — and say
//! so; the JSON report (`kessai sim run --json`) always has every step.
//!
//! ```no_run
//! # async fn example() -> Result<(), Box<dyn std::error::Error>> {
//! use kessai_deployer::anvil;
//! use kessai_sim::{RevmChain, RevmOptions, report, scenario};
//!
//! let scenario = scenario::load("scenarios/dcjpy_pilot.toml")?;
//! let mut chain = RevmChain::new(&RevmOptions::default(), &anvil::dev_accounts());
//! let run = scenario::run::run(&mut chain, &scenario, &anvil::dev_signers(), |_| {}).await?;
//! let page = report::html(&run, &report::PageInfo { engine: "revm".into(), ..Default::default() });
//! std::fs::write("report.html", page)?;
//! # Ok(())
//! # }
//! ```

use crate::scenario::{
    model::{Origin, TradeState},
    run::{Balances, FinalState, HolderState, RunReport, StepOutcome, StepResult, Totals, Verdict},
};
use alloy::primitives::U256;
use serde::{Deserialize, Serialize};
use std::{fmt::Write as _, time::Duration};

/// About the most points a plotted series keeps (longer runs keep the last step of each slice of time).
pub const MAX_POINTS: usize = 800;
/// Most rows of the HTML step table (steps whose expectations failed are always listed).
pub const MAX_ROWS: usize = 1_000;

/// Gas used by one kind of step.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KindGas {
    /// The step kind (`create_trade`, `pay`, …).
    pub kind: String,
    /// Steps of this kind.
    pub steps: usize,
    /// Transactions they mined.
    pub transactions: u64,
    /// Gas those transactions used.
    pub gas_used: u64,
}

impl KindGas {
    /// Average gas per mined transaction (0 when none was mined).
    pub fn average(&self) -> u64 {
        self.gas_used.checked_div(self.transactions).unwrap_or(0)
    }
}

/// How the run's trades ended, and what was refused.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outcomes {
    /// Trades settled (both legs moved).
    pub settled: usize,
    /// Trades cancelled by a party.
    pub cancelled: usize,
    /// Trades released after their deadline.
    pub expired: usize,
    /// Trades still open at the end (created, paid or approved, not final).
    pub open: usize,
    /// Trades named by the scenario but never created on chain (their creation was refused).
    pub never_created: usize,
    /// Steps refused as the scenario expected, by error name, most frequent first: (error, steps).
    pub refused_as_expected: Vec<(String, usize)>,
    /// Steps refused when the scenario did not expect it, by error name, most frequent first.
    pub refused_unexpectedly: Vec<(String, usize)>,
}

/// A run's numbers at a glance: totals, gas by operation, settlement outcomes, peak liquidity locked.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    /// Totals over the steps.
    pub totals: Totals,
    /// Gas by step kind, most gas first.
    pub gas_by_kind: Vec<KindGas>,
    /// Trade outcomes and refusals.
    pub outcomes: Outcomes,
    /// Most cash held for open trades at once, over the watched holders (over every trade, from the
    /// settlement contract's events, when the scenario watches nobody).
    #[serde(with = "crate::decimal")]
    pub peak_cash_locked: U256,
    /// Most units held for open trades at once, as for the cash.
    #[serde(with = "crate::decimal")]
    pub peak_units_locked: U256,
}

/// Summarizes a run.
pub fn summarize(report: &RunReport) -> Summary {
    let (peak_cash_locked, peak_units_locked) = peaks(report);
    Summary {
        totals: report.totals(),
        gas_by_kind: gas_by_kind(&report.steps),
        outcomes: outcomes(report),
        peak_cash_locked,
        peak_units_locked,
    }
}

/// Gas by step kind, most gas first (ties in order of first appearance).
fn gas_by_kind(steps: &[StepOutcome]) -> Vec<KindGas> {
    let mut gas_by_kind: Vec<KindGas> = Vec::new();
    for step in steps {
        match gas_by_kind.iter_mut().find(|k| k.kind == step.kind) {
            Some(k) => {
                k.steps += 1;
                k.transactions += u64::from(step.transactions);
                k.gas_used += step.gas_used;
            }
            None => gas_by_kind.push(KindGas {
                kind: step.kind.clone(),
                steps: 1,
                transactions: u64::from(step.transactions),
                gas_used: step.gas_used,
            }),
        }
    }
    gas_by_kind.sort_by_key(|k| std::cmp::Reverse(k.gas_used));
    gas_by_kind
}

/// How the trades ended, and the refusals by error, as expected or not.
fn outcomes(report: &RunReport) -> Outcomes {
    let mut o = Outcomes::default();
    for step in &report.steps {
        if let StepResult::Failed { error, .. } = &step.result {
            let refused = if step.passed() { &mut o.refused_as_expected } else { &mut o.refused_unexpectedly };
            match refused.iter_mut().find(|(e, _)| e == error) {
                Some((_, n)) => *n += 1,
                None => refused.push((error.clone(), 1)),
            }
        }
    }
    // Stable sorts: ties keep the order of first appearance.
    o.refused_as_expected.sort_by_key(|r| std::cmp::Reverse(r.1));
    o.refused_unexpectedly.sort_by_key(|r| std::cmp::Reverse(r.1));
    for (_, state) in &report.final_state.trades {
        match state {
            TradeState::Settled => o.settled += 1,
            TradeState::Cancelled => o.cancelled += 1,
            TradeState::Expired => o.expired += 1,
            TradeState::Open | TradeState::Paid | TradeState::Approved => o.open += 1,
            TradeState::Missing => o.never_created += 1,
        }
    }
    o
}

/// The most (cash, units) held for open trades at once: over the watched holders, or over every
/// trade when the scenario watches nobody.
fn peaks(report: &RunReport) -> (U256, U256) {
    let max = |(c, u): (U256, U256), (cash, units): (U256, U256)| (c.max(cash), u.max(units));
    if watches_holders(report) {
        report.steps.iter().map(|s| locked(s.state.iter().map(|h| &h.balances))).fold((U256::ZERO, U256::ZERO), max)
    } else {
        market_locks(&report.steps).into_iter().fold((U256::ZERO, U256::ZERO), max)
    }
}

/// Whether the run watched holders (the scenario's `watch`): its steps carry their positions.
fn watches_holders(report: &RunReport) -> bool {
    report.steps.first().is_some_and(|s| !s.state.is_empty())
}

/// (cash held, units held) summed over positions.
fn locked<'a>(positions: impl Iterator<Item = &'a Balances>) -> (U256, U256) {
    positions
        .fold((U256::ZERO, U256::ZERO), |(c, u), b| (c.saturating_add(b.cash_held), u.saturating_add(b.units_held)))
}

/// What the page says about how the run was made (none of it is in the [`RunReport`]).
#[derive(Clone, Debug, Default)]
pub struct PageInfo {
    /// The engine (`revm`, `rpc`).
    pub engine: String,
    /// The scenario file, if any.
    pub file: Option<String>,
    /// Wall-clock time of the run.
    pub elapsed: Option<Duration>,
    /// The time zone of the page's dates (UTC by default).
    pub zone: Zone,
}

/// The run as one self-contained HTML page (inline CSS and SVG, no scripts).
pub fn html(report: &RunReport, info: &PageInfo) -> String {
    let summary = summarize(report);
    let mut page = String::with_capacity(64 * 1024);
    write_head(&mut page, report);
    write_meta(&mut page, report, info);
    write_totals(&mut page, report, &summary);
    write_plots(&mut page, report, &info.zone);
    write_gas(&mut page, &summary.gas_by_kind);
    write_outcomes(&mut page, &summary.outcomes);
    write_steps(&mut page, report, &info.zone);
    write_final_state(&mut page, &report.final_state);
    page.push_str("</main>\n</body>\n</html>\n");
    page
}

/// Writes the document's head (title, inline CSS) and the page's heading.
fn write_head(page: &mut String, report: &RunReport) {
    let title = format!("kessai sim — {}", report.scenario);
    let _ = write!(
        page,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{}</title>\n<style>{CSS}</style>\n\
         </head>\n<body>\n<main>\n<h1>{}</h1>\n",
        esc(&title),
        esc(&report.scenario)
    );
}

/// Writes the line under the heading: engine, file, start, elapsed time and whether every expectation held.
fn write_meta(page: &mut String, report: &RunReport, info: &PageInfo) {
    let passed = report.passed();
    let mut meta = vec![format!("engine: {}", esc(if info.engine.is_empty() { "?" } else { &info.engine }))];
    if let Some(file) = &info.file {
        meta.push(format!("file: <code>{}</code>", esc(file)));
    }
    meta.push(format!("start: {} ({})", info.zone.iso(report.start), esc(info.zone.name())));
    if let Some(elapsed) = info.elapsed {
        meta.push(format!("{:.2} s", elapsed.as_secs_f64()));
    }
    let _ = writeln!(
        page,
        "<p class=\"meta\">{} · <span class=\"{}\">{}</span></p>",
        meta.join(" · "),
        if passed { "ok" } else { "bad" },
        if passed { "every expectation held" } else { "some expectations did not hold" }
    );
}

/// Writes the cards of the run's totals: steps that succeeded, were refused as expected, or failed
/// (an expectation did not hold: red only then).
fn write_totals(page: &mut String, report: &RunReport, summary: &Summary) {
    let (t, o) = (&summary.totals, &summary.outcomes);
    let over = if watches_holders(report) { "" } else { ", all trades" };
    let (peak_cash, peak_units) = (format!("peak cash locked{over}"), format!("peak units locked{over}"));
    page.push_str("<section class=\"cards\" id=\"totals\">\n");
    for (label, value, class) in [
        ("steps", thousands(t.steps as u64), ""),
        ("succeeded", thousands(t.succeeded_as_expected() as u64), ""),
        ("refused as expected", thousands(t.refused_as_expected as u64), " c-expected"),
        ("failed", thousands(t.not_as_expected as u64), if t.not_as_expected > 0 { " c-bad" } else { "" }),
        (
            "expectations held",
            format!("{} / {}", thousands((t.checks - t.failed_checks) as u64), thousands(t.checks as u64)),
            "",
        ),
        ("transactions", thousands(t.transactions), ""),
        ("gas after deployment", thousands(t.gas_used), ""),
        ("deployment gas", thousands(report.deployment_gas), ""),
        ("trades settled", thousands(o.settled as u64), ""),
        (&peak_cash, format!("¥{}", thousands_u256(summary.peak_cash_locked)), ""),
        (&peak_units, thousands_u256(summary.peak_units_locked), ""),
    ] {
        let _ = writeln!(
            page,
            "<div class=\"card{class}\" data-card=\"{label}\"><div class=\"v\">{value}</div><div class=\"k\">{label}</div></div>"
        );
    }
    page.push_str("</section>\n");
}

/// Writes the bar chart of gas by operation.
fn write_gas(page: &mut String, gas_by_kind: &[KindGas]) {
    page.push_str("<h2>Gas by operation</h2>\n");
    let gas_bars: Vec<Bar> = gas_by_kind
        .iter()
        .filter(|k| k.transactions > 0)
        .map(|k| Bar {
            label: k.kind.clone(),
            value: k.gas_used as f64,
            text: format!(
                "{} gas · {} steps · {} avg/tx",
                thousands(k.gas_used),
                thousands(k.steps as u64),
                thousands(k.average())
            ),
            class: "gas",
        })
        .collect();
    let _ = writeln!(
        page,
        "<figure><figcaption>Total gas per step kind</figcaption>{}</figure>",
        bar_chart("plot-gas", "Gas by operation", &gas_bars)
    );
}

/// Writes the bar chart of trades by final state and steps refused by error.
fn write_outcomes(page: &mut String, o: &Outcomes) {
    page.push_str("<h2>Settlement outcomes</h2>\n");
    let _ = writeln!(
        page,
        "<figure><figcaption>Trades by final state, and steps refused by error (as expected, or not)</figcaption>{}</figure>",
        bar_chart("plot-outcomes", "Settlement outcomes", &outcome_bars(o))
    );
}

/// The bars of the outcomes chart: one per final state (never created only if any), one per refusal.
fn outcome_bars(o: &Outcomes) -> Vec<Bar> {
    let count =
        |label: &str, n: usize, class| Bar { label: label.into(), value: n as f64, text: thousands(n as u64), class };
    let mut bars = vec![
        count("settled", o.settled, "settled"),
        count("cancelled", o.cancelled, "cancelled"),
        count("expired", o.expired, "expired"),
        count("open at the end", o.open, "open"),
    ];
    if o.never_created > 0 {
        bars.push(count("never created", o.never_created, "open"));
    }
    for (refused, label, class) in [
        (&o.refused_as_expected, "refused as expected", "refused-expected"),
        (&o.refused_unexpectedly, "refused, not expected", "refused"),
    ] {
        for (error, n) in refused {
            bars.push(Bar {
                label: format!("{label}: {error}"),
                value: *n as f64,
                text: format!("{} step{}", thousands(*n as u64), if *n == 1 { "" } else { "s" }),
                class,
            });
        }
    }
    bars
}

/// Writes the step table: the first [`MAX_ROWS`] steps and every step whose expectations failed.
fn write_steps(page: &mut String, report: &RunReport, zone: &Zone) {
    let steps = &report.steps;
    page.push_str("<h2>Steps</h2>\n");
    let shown: Vec<usize> = (0..steps.len()).filter(|i| *i < MAX_ROWS || !steps[*i].passed()).collect();
    if shown.len() < steps.len() {
        let _ = writeln!(
            page,
            "<p class=\"note\">Showing {} of {} steps: the first {MAX_ROWS} and every step whose expectations failed. \
             <code>kessai sim run --json</code> reports every step.</p>",
            thousands(shown.len() as u64),
            thousands(steps.len() as u64)
        );
    }
    let _ = write!(
        page,
        "<table class=\"steps\" id=\"steps\">\n<colgroup><col style=\"width:7%\"><col style=\"width:12%\">\
         <col style=\"width:9%\"><col style=\"width:27%\"><col style=\"width:18%\"><col style=\"width:7%\">\
         <col style=\"width:20%\"></colgroup>\n<thead><tr><th>step</th><th>time ({})</th><th>kind</th><th>what</th>\
         <th>outcome</th><th class=\"n\">gas</th><th>events</th></tr></thead>\n<tbody>\n",
        esc(zone.name())
    );
    for i in shown {
        write_step_row(page, &steps[i], &step_time(&zone.iso(report.time(i))));
    }
    page.push_str("</tbody>\n</table>\n");
}

/// A step's time in a table cell: the ISO 8601 date and time as the element's value, shown as the
/// date over the time of day.
fn step_time(iso: &str) -> String {
    let shown = match iso.split_once('T') {
        Some((date, time)) => format!("{date}<br>{time}"),
        None => iso.to_string(),
    };
    format!("<time datetime=\"{iso}\" title=\"{iso}\">{shown}</time>")
}

/// Writes one row of the step table (`time`: when it ended, from [`step_time`]).
fn write_step_row(page: &mut String, s: &StepOutcome, time: &str) {
    let origin = match s.origin {
        Origin::Setup => "setup".to_string(),
        Origin::Timeline { number, line: 0 } => format!("#{number}"),
        Origin::Timeline { number, line } => format!("#{number} <span class=\"dim\">line {line}</span>"),
    };
    let (class, outcome) = match (&s.result, s.verdict()) {
        (StepResult::Ok, Verdict::Succeeded) => ("", "<span class=\"ok\">ok</span>".to_string()),
        (StepResult::Ok, _) => ("failed", "<span class=\"bad\">ok, not as expected</span>".to_string()),
        (StepResult::Failed { error, args, message }, verdict) => {
            let (class, word, name) = if verdict == Verdict::RefusedAsExpected {
                ("refused", "<span class=\"expected\">refused as expected</span>", "expected")
            } else {
                ("failed", "<span class=\"bad\">refused, not expected</span>", "err")
            };
            let call = error_call(error, args);
            let arguments = call.strip_prefix(error.as_str()).unwrap_or(&call);
            (
                class,
                format!(
                    "{word}<div><span class=\"{name}\">{}</span>{}</div><div class=\"dim\">{}</div>",
                    esc(error),
                    esc(arguments),
                    esc(&amounts(message))
                ),
            )
        }
    };
    let events: Vec<String> = s.events.iter().map(|e| format!("<div>{}</div>", esc(&e.to_string()))).collect();
    let _ = writeln!(
        page,
        "<tr class=\"{class}\"><td>{origin}</td><td>{time}</td><td>{}</td><td>{}</td>\
         <td>{outcome}</td><td class=\"n\">{}</td><td class=\"ev\">{}</td></tr>",
        esc(&s.kind),
        step_what(s),
        if s.transactions == 0 { "—".to_string() } else { thousands(s.gas_used) },
        events.join("")
    );
}

/// The "what" cell of a step: its description, its note and every expectation that failed.
fn step_what(s: &StepOutcome) -> String {
    let mut what = esc(&amounts(&s.description));
    if let Some(note) = &s.note {
        let _ = write!(what, "<div class=\"dim\">{}</div>", esc(note));
    }
    for c in s.checks.iter().filter(|c| !c.passed) {
        let _ = write!(
            what,
            "<div class=\"bad\">✗ expected {} — found {}</div>",
            esc(&amounts(&c.expected)),
            esc(&amounts(c.found.as_deref().unwrap_or("something else")))
        );
    }
    what
}

/// Writes the final state: every holder with a balance, the supplies and each trade's state.
fn write_final_state(page: &mut String, state: &FinalState) {
    page.push_str("<h2>Final state</h2>\n<table class=\"final\" id=\"final\">\n<thead><tr><th>holder</th><th class=\"n\">units</th>\
                   <th class=\"n\">units held</th><th class=\"n\">cash</th><th class=\"n\">cash held</th></tr></thead>\n<tbody>\n");
    for h in state.holders.iter().filter(|h| h.balances != Balances::default()) {
        let b = &h.balances;
        let _ = writeln!(
            page,
            "<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">¥{}</td><td class=\"n\">¥{}</td></tr>",
            esc(&h.holder),
            thousands_u256(b.units),
            thousands_u256(b.units_held),
            thousands_u256(b.cash),
            thousands_u256(b.cash_held)
        );
    }
    let _ = writeln!(
        page,
        "</tbody>\n</table>\n<p>Supply: {} units, ¥{} deposit tokens.</p>",
        thousands_u256(state.units_supply),
        thousands_u256(state.cash_supply)
    );
    write_trades(page, &state.trades);
}

/// Writes each trade's final state (the first [`MAX_ROWS`], then how many more), if there are trades.
fn write_trades(page: &mut String, trades: &[(String, TradeState)]) {
    if trades.is_empty() {
        return;
    }
    let shown = trades.len().min(MAX_ROWS);
    let spans: Vec<String> = trades[..shown]
        .iter()
        .map(|(name, state)| format!("<span class=\"trade {}\">{} {}</span>", state.name(), esc(name), state.name()))
        .collect();
    let more = trades.len() - shown;
    let _ = writeln!(
        page,
        "<p class=\"trades\">{}{}</p>",
        spans.join(" "),
        if more > 0 { format!(" … and {} more", thousands(more as u64)) } else { String::new() }
    );
}

mod charts;
mod plots;
mod progress;
mod render;
#[cfg(test)]
mod tests;
pub mod text;
mod time;

pub use charts::*;
use plots::*;
pub use progress::*;
pub use render::*;
pub use time::*;
