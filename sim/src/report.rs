//! Reports of a scenario run for people: a summary (gas by operation, settlement outcomes, liquidity
//! locked), a self-contained HTML page with plots, and a progress line for long runs.
//!
//! The HTML report is one file with inline CSS and inline SVG drawn here — no JavaScript, no fonts
//! or libraries fetched from anywhere — so it can be mailed, archived with a run, or opened offline:
//!
//! - balances over time: units and cash of every watched holder after each step;
//! - liquidity locked over time: cash and units held for open trades, summed over watched holders;
//! - gas by operation: total gas per step kind (with its count and average);
//! - settlement outcomes: trades settled, cancelled, expired (released) or left open, and the steps
//!   refused, by error name;
//!
//! then the totals, every step (outcome, gas, decoded events, failed checks) and the final state.
//! Long runs are thinned for the page — plots keep at most [`MAX_POINTS`] points per series and the
//! step table at most [`MAX_ROWS`] rows (plus every step whose expectations failed) — and say so;
//! the JSON report (`kessai sim run --json`) always has every step.
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
    run::{Balances, RunReport, StepResult, Totals},
};
use alloy::primitives::U256;
use serde::{Deserialize, Serialize};
use std::{
    fmt::Write as _,
    io::{IsTerminal, Write as _},
    time::{Duration, Instant},
};

/// Most points a plotted series keeps (longer runs are sampled evenly, the last step always kept).
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
    /// Refused steps by error name, most frequent first: (error, steps).
    pub refused: Vec<(String, usize)>,
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
    /// Most cash held for open trades at once, over the watched holders.
    #[serde(with = "crate::decimal")]
    pub peak_cash_locked: U256,
    /// Most units held for open trades at once, over the watched holders.
    #[serde(with = "crate::decimal")]
    pub peak_units_locked: U256,
}

/// Summarizes a run.
pub fn summarize(report: &RunReport) -> Summary {
    let mut gas_by_kind: Vec<KindGas> = Vec::new();
    let mut refused: Vec<(String, usize)> = Vec::new();
    let (mut peak_cash_locked, mut peak_units_locked) = (U256::ZERO, U256::ZERO);
    for step in &report.steps {
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
        if let StepResult::Failed { error, .. } = &step.result {
            match refused.iter_mut().find(|(e, _)| e == error) {
                Some((_, n)) => *n += 1,
                None => refused.push((error.clone(), 1)),
            }
        }
        let (cash, units) = locked(step.state.iter().map(|h| &h.balances));
        peak_cash_locked = peak_cash_locked.max(cash);
        peak_units_locked = peak_units_locked.max(units);
    }
    // Stable sorts: ties keep the order of first appearance.
    gas_by_kind.sort_by_key(|k| std::cmp::Reverse(k.gas_used));
    refused.sort_by_key(|r| std::cmp::Reverse(r.1));
    let mut outcomes = Outcomes { refused, ..Default::default() };
    for (_, state) in &report.final_state.trades {
        match state {
            TradeState::Settled => outcomes.settled += 1,
            TradeState::Cancelled => outcomes.cancelled += 1,
            TradeState::Expired => outcomes.expired += 1,
            TradeState::Open | TradeState::Paid | TradeState::Approved => outcomes.open += 1,
            TradeState::Missing => outcomes.never_created += 1,
        }
    }
    Summary { totals: report.totals(), gas_by_kind, outcomes, peak_cash_locked, peak_units_locked }
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
}

/// The run as one self-contained HTML page (inline CSS and SVG, no scripts).
pub fn html(report: &RunReport, info: &PageInfo) -> String {
    let summary = summarize(report);
    let t = &summary.totals;
    let mut page = String::with_capacity(64 * 1024);
    let title = format!("kessai sim — {}", report.scenario);
    let _ = write!(
        page,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{}</title>\n<style>{CSS}</style>\n\
         </head>\n<body>\n<main>\n<h1>{}</h1>\n",
        esc(&title),
        esc(&report.scenario)
    );
    let passed = report.passed();
    let mut meta = vec![format!("engine: {}", esc(if info.engine.is_empty() { "?" } else { &info.engine }))];
    if let Some(file) = &info.file {
        meta.push(format!("file: <code>{}</code>", esc(file)));
    }
    meta.push(format!("start: {} (unix time)", report.start));
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

    // Totals.
    page.push_str("<section class=\"cards\" id=\"totals\">\n");
    let o = &summary.outcomes;
    for (label, value) in [
        ("steps", thousands(t.steps as u64)),
        ("succeeded", thousands(t.succeeded as u64)),
        ("failed", thousands(t.failed as u64)),
        (
            "expectations held",
            format!("{} / {}", thousands((t.checks - t.failed_checks) as u64), thousands(t.checks as u64)),
        ),
        ("transactions", thousands(t.transactions)),
        ("gas after deployment", thousands(t.gas_used)),
        ("deployment gas", thousands(report.deployment_gas)),
        ("trades settled", thousands(o.settled as u64)),
        ("peak cash locked", format!("¥{}", thousands_u256(summary.peak_cash_locked))),
        ("peak units locked", thousands_u256(summary.peak_units_locked)),
    ] {
        let _ =
            writeln!(page, "<div class=\"card\"><div class=\"v\">{value}</div><div class=\"k\">{label}</div></div>");
    }
    page.push_str("</section>\n");

    // Plots.
    let steps = &report.steps;
    let stride = steps.len().div_ceil(MAX_POINTS).max(1);
    let sampled: Vec<usize> = (0..steps.len()).filter(|i| i % stride == stride - 1 || *i + 1 == steps.len()).collect();
    let xs: Vec<f64> = sampled.iter().map(|i| *i as f64 + 1.0).collect();
    let holders: Vec<String> =
        steps.first().map(|s| s.state.iter().map(|h| h.holder.clone()).collect()).unwrap_or_default();
    let per_holder = |f: fn(&Balances) -> U256| -> Vec<Series> {
        holders
            .iter()
            .enumerate()
            .map(|(h, name)| Series {
                name: name.clone(),
                points: sampled
                    .iter()
                    .zip(&xs)
                    .map(|(i, x)| (*x, steps[*i].state.get(h).map_or(0.0, |s| to_f64(f(&s.balances)))))
                    .collect(),
            })
            .collect()
    };
    page.push_str("<h2>Balances and liquidity over time</h2>\n");
    if holders.is_empty() {
        page.push_str("<p class=\"note\">The scenario watches no holder, so there are no balances to plot (add <code>watch = [...]</code> under [scenario]).</p>\n");
    } else {
        if stride > 1 {
            let _ = writeln!(
                page,
                "<p class=\"note\">{} steps: every {stride}th step is plotted (and the last).</p>",
                thousands(steps.len() as u64)
            );
        }
        let charts = [
            ("plot-units", "Security units per holder", "units", per_holder(|b| b.units)),
            ("plot-cash", "Cash (deposit tokens) per holder", "¥", per_holder(|b| b.cash)),
            (
                "plot-locked-cash",
                "Cash locked for open trades",
                "¥",
                vec![Series {
                    name: "cash held, all watched holders".into(),
                    points: sampled
                        .iter()
                        .zip(&xs)
                        .map(|(i, x)| (*x, to_f64(locked(steps[*i].state.iter().map(|h| &h.balances)).0)))
                        .collect(),
                }],
            ),
            (
                "plot-locked-units",
                "Units locked for open trades",
                "units",
                vec![Series {
                    name: "units held, all watched holders".into(),
                    points: sampled
                        .iter()
                        .zip(&xs)
                        .map(|(i, x)| (*x, to_f64(locked(steps[*i].state.iter().map(|h| &h.balances)).1)))
                        .collect(),
                }],
            ),
        ];
        for (id, title, unit, series) in &charts {
            let _ = writeln!(
                page,
                "<figure><figcaption>{}</figcaption>{}</figure>",
                esc(title),
                line_chart(id, title, unit, series)
            );
        }
    }

    page.push_str("<h2>Gas by operation</h2>\n");
    let gas_bars: Vec<Bar> = summary
        .gas_by_kind
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

    page.push_str("<h2>Settlement outcomes</h2>\n");
    let mut outcome_bars = vec![
        Bar { label: "settled".into(), value: o.settled as f64, text: thousands(o.settled as u64), class: "settled" },
        Bar {
            label: "cancelled".into(),
            value: o.cancelled as f64,
            text: thousands(o.cancelled as u64),
            class: "cancelled",
        },
        Bar { label: "expired".into(), value: o.expired as f64, text: thousands(o.expired as u64), class: "expired" },
        Bar { label: "open at the end".into(), value: o.open as f64, text: thousands(o.open as u64), class: "open" },
    ];
    if o.never_created > 0 {
        outcome_bars.push(Bar {
            label: "never created".into(),
            value: o.never_created as f64,
            text: thousands(o.never_created as u64),
            class: "open",
        });
    }
    for (error, n) in &o.refused {
        outcome_bars.push(Bar {
            label: format!("refused: {error}"),
            value: *n as f64,
            text: format!("{} step{}", thousands(*n as u64), if *n == 1 { "" } else { "s" }),
            class: "refused",
        });
    }
    let _ = writeln!(
        page,
        "<figure><figcaption>Trades by final state, and steps refused by error</figcaption>{}</figure>",
        bar_chart("plot-outcomes", "Settlement outcomes", &outcome_bars)
    );

    // Steps.
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
    page.push_str(
        "<table class=\"steps\" id=\"steps\">\n<colgroup><col style=\"width:4%\"><col style=\"width:7%\">\
         <col style=\"width:10%\"><col style=\"width:29%\"><col style=\"width:15%\"><col style=\"width:8%\">\
         <col style=\"width:27%\"></colgroup>\n<thead><tr><th>#</th><th>step</th><th>kind</th><th>what</th><th>outcome</th>\
         <th class=\"n\">gas</th><th>events</th></tr></thead>\n<tbody>\n",
    );
    for i in shown {
        let s = &steps[i];
        let origin = match s.origin {
            Origin::Setup => "setup".to_string(),
            Origin::Timeline { number, line: 0 } => format!("#{number}"),
            Origin::Timeline { number, line } => format!("#{number} <span class=\"dim\">line {line}</span>"),
        };
        let outcome = match &s.result {
            StepResult::Ok => "<span class=\"ok\">ok</span>".to_string(),
            StepResult::Failed { error, args, message } => format!(
                "<span class=\"err\">{}</span>({})<div class=\"dim\">{}</div>",
                esc(error),
                esc(&args.join(", ")),
                esc(message)
            ),
        };
        let mut what = esc(&s.description);
        if let Some(note) = &s.note {
            let _ = write!(what, "<div class=\"dim\">{}</div>", esc(note));
        }
        for c in s.checks.iter().filter(|c| !c.passed) {
            let _ = write!(
                what,
                "<div class=\"bad\">✗ expected {} — found {}</div>",
                esc(&c.expected),
                esc(c.found.as_deref().unwrap_or("something else"))
            );
        }
        let events: Vec<String> = s.events.iter().map(|e| format!("<div>{}</div>", esc(&e.to_string()))).collect();
        let _ = writeln!(
            page,
            "<tr class=\"{}\"><td class=\"n\">{}</td><td>{origin}</td><td>{}</td><td>{what}</td><td>{outcome}</td>\
             <td class=\"n\">{}</td><td class=\"ev\">{}</td></tr>",
            if s.passed() { "" } else { "failed" },
            s.index,
            esc(&s.kind),
            if s.transactions == 0 { "—".to_string() } else { thousands(s.gas_used) },
            events.join("")
        );
    }
    page.push_str("</tbody>\n</table>\n");

    // Final state.
    page.push_str("<h2>Final state</h2>\n<table class=\"final\" id=\"final\">\n<thead><tr><th>holder</th><th class=\"n\">units</th>\
                   <th class=\"n\">units held</th><th class=\"n\">cash</th><th class=\"n\">cash held</th></tr></thead>\n<tbody>\n");
    for h in report.final_state.holders.iter().filter(|h| h.balances != Balances::default()) {
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
        thousands_u256(report.final_state.units_supply),
        thousands_u256(report.final_state.cash_supply)
    );
    if !report.final_state.trades.is_empty() {
        let shown = report.final_state.trades.len().min(MAX_ROWS);
        let trades: Vec<String> = report.final_state.trades[..shown]
            .iter()
            .map(|(name, state)| {
                format!("<span class=\"trade {}\">{} {}</span>", state.name(), esc(name), state.name())
            })
            .collect();
        let more = report.final_state.trades.len() - shown;
        let _ = writeln!(
            page,
            "<p class=\"trades\">{}{}</p>",
            trades.join(" "),
            if more > 0 { format!(" … and {} more", thousands(more as u64)) } else { String::new() }
        );
    }
    page.push_str("</main>\n</body>\n</html>\n");
    page
}

const CSS: &str = "\
body{margin:0;background:#f6f7f9;color:#1d2430;font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif}\
main{max-width:1100px;margin:0 auto;padding:24px}\
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #d8dde6;padding-bottom:4px}\
.meta{color:#5b6575;margin:0 0 16px}.note{color:#5b6575;font-size:13px}\
.ok{color:#1a7f37}.bad,.err{color:#c62828;font-weight:600}.dim{color:#6b7585;font-size:12px}\
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(160px,1fr));gap:10px}\
.card{background:#fff;border:1px solid #dfe3ea;border-radius:6px;padding:10px 12px}\
.card .v{font-size:18px;font-weight:600;font-variant-numeric:tabular-nums}.card .k{color:#5b6575;font-size:12px}\
figure{background:#fff;border:1px solid #dfe3ea;border-radius:6px;margin:10px 0;padding:10px}\
figcaption{font-weight:600;margin-bottom:4px}svg{display:block;max-width:100%;height:auto}\
svg text{font:11px system-ui,sans-serif;fill:#3b4453}svg .grid{stroke:#e6e9ef}svg .axis{stroke:#9aa3b2}\
table{border-collapse:collapse;width:100%;background:#fff;font-size:13px}\
th,td{border-bottom:1px solid #e6e9ef;padding:4px 6px;text-align:left;vertical-align:top}\
th{background:#eef1f5;position:sticky;top:0}td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}\
tr.failed{background:#fdecea}td.ev{font-family:ui-monospace,monospace;font-size:11px;color:#3b4453}\
table.steps{table-layout:fixed}table.steps td{overflow-wrap:anywhere}\
.trade{display:inline-block;border-radius:3px;padding:0 5px;margin:1px;background:#eef1f5;font-size:12px}\
.trade.settled{background:#dcf2e3}.trade.cancelled{background:#fde7c8}.trade.expired{background:#e8def8}\
code{font-family:ui-monospace,monospace}";

/// Colours of plotted series, in order.
const PALETTE: [&str; 10] =
    ["#1f6feb", "#d1242f", "#1a7f37", "#9a6700", "#8250df", "#0a7ea4", "#bf3989", "#57606a", "#e16f24", "#2da44e"];

/// One line of a chart: (x, y) points in x order.
#[derive(Clone, Debug)]
struct Series {
    name: String,
    points: Vec<(f64, f64)>,
}

/// One bar of a bar chart.
struct Bar {
    label: String,
    value: f64,
    text: String,
    class: &'static str,
}

/// A step chart (values hold until the next step) with axes, grid, ticks and a legend.
fn line_chart(id: &str, title: &str, unit: &str, series: &[Series]) -> String {
    const W: f64 = 1000.0;
    const H: f64 = 300.0;
    const LEFT: f64 = 80.0;
    const RIGHT: f64 = 16.0;
    const TOP: f64 = 14.0;
    const BOTTOM: f64 = 40.0;
    let legend_rows = series.len().div_ceil(4);
    let height = H + 18.0 * legend_rows as f64;
    let (pw, ph) = (W - LEFT - RIGHT, H - TOP - BOTTOM);
    let x_max = series.iter().flat_map(|s| s.points.last()).map(|p| p.0).fold(1.0, f64::max);
    let y_max = series.iter().flat_map(|s| &s.points).map(|p| p.1).fold(0.0, f64::max);
    let (y_ticks, y_top) = ticks(y_max);
    let (mut x_ticks, _) = ticks(x_max);
    x_ticks.retain(|x| *x <= x_max);
    let x_top = x_max;
    let sx = |x: f64| LEFT + x / x_top * pw;
    let sy = |y: f64| TOP + ph - y / y_top * ph;
    let mut svg = String::new();
    let _ = write!(
        svg,
        "<svg id=\"{id}\" class=\"plot line\" viewBox=\"0 0 {W} {height}\" width=\"{W}\" height=\"{height}\" role=\"img\" \
         aria-label=\"{}\" xmlns=\"http://www.w3.org/2000/svg\"><title>{}</title>",
        esc(title),
        esc(title)
    );
    for y in &y_ticks {
        let py = sy(*y);
        let _ = write!(
            svg,
            "<line class=\"grid\" x1=\"{LEFT}\" x2=\"{:.1}\" y1=\"{py:.1}\" y2=\"{py:.1}\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
            W - RIGHT,
            LEFT - 6.0,
            py + 4.0,
            compact(*y)
        );
    }
    for x in &x_ticks {
        let px = sx(*x);
        let _ = write!(
            svg,
            "<line class=\"axis\" x1=\"{px:.1}\" x2=\"{px:.1}\" y1=\"{:.1}\" y2=\"{:.1}\"/>\
             <text x=\"{px:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
            TOP + ph,
            TOP + ph + 4.0,
            TOP + ph + 16.0,
            compact(*x)
        );
    }
    let _ = write!(
        svg,
        "<line class=\"axis\" x1=\"{LEFT}\" x2=\"{:.1}\" y1=\"{:.1}\" y2=\"{:.1}\"/>\
         <line class=\"axis\" x1=\"{LEFT}\" x2=\"{LEFT}\" y1=\"{TOP}\" y2=\"{:.1}\"/>\
         <text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">step</text>\
         <text x=\"14\" y=\"{:.1}\" text-anchor=\"middle\" transform=\"rotate(-90 14 {:.1})\">{}</text>",
        W - RIGHT,
        TOP + ph,
        TOP + ph,
        TOP + ph,
        LEFT + pw / 2.0,
        TOP + ph + 32.0,
        TOP + ph / 2.0,
        TOP + ph / 2.0,
        esc(unit)
    );
    for (i, s) in series.iter().enumerate() {
        let colour = PALETTE[i % PALETTE.len()];
        let mut path = String::new();
        let mut last_y = None;
        for (x, y) in &s.points {
            let (px, py) = (sx(*x), sy(*y));
            match last_y {
                None => {
                    let _ = write!(path, "M{:.1},{py:.1} L{px:.1},{py:.1}", sx(0.0));
                }
                Some(ly) => {
                    let _ = write!(path, " L{px:.1},{ly:.1} L{px:.1},{py:.1}");
                }
            }
            last_y = Some(py);
        }
        let _ = write!(
            svg,
            "<path d=\"{path}\" fill=\"none\" stroke=\"{colour}\" stroke-width=\"1.8\" stroke-linejoin=\"round\"><title>{}</title></path>",
            esc(&s.name)
        );
        let (col, row) = (i % 4, i / 4);
        let (lx, ly) = (LEFT + col as f64 * 220.0, H + 4.0 + row as f64 * 18.0);
        let last = s.points.last().map_or(0.0, |p| p.1);
        let _ = write!(
            svg,
            "<rect x=\"{lx:.1}\" y=\"{:.1}\" width=\"12\" height=\"4\" fill=\"{colour}\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\">{} ({})</text>",
            ly - 4.0,
            lx + 16.0,
            ly + 1.0,
            esc(&s.name),
            compact(last)
        );
    }
    svg.push_str("</svg>");
    svg
}

/// Horizontal bars, one per row, with a label on the left and the value's text on the bar's right.
fn bar_chart(id: &str, title: &str, bars: &[Bar]) -> String {
    const W: f64 = 1000.0;
    const LABEL: f64 = 260.0;
    const ROW: f64 = 24.0;
    const TEXT: f64 = 260.0;
    let height = (bars.len().max(1) as f64) * ROW + 8.0;
    let max = bars.iter().map(|b| b.value).fold(0.0, f64::max);
    let width = W - LABEL - TEXT;
    let mut svg = String::new();
    let _ = write!(
        svg,
        "<svg id=\"{id}\" class=\"plot bars\" viewBox=\"0 0 {W} {height}\" width=\"{W}\" height=\"{height}\" role=\"img\" \
         aria-label=\"{}\" xmlns=\"http://www.w3.org/2000/svg\"><title>{}</title>",
        esc(title),
        esc(title)
    );
    if bars.is_empty() {
        svg.push_str("<text x=\"8\" y=\"18\">nothing to show</text>");
    }
    for (i, b) in bars.iter().enumerate() {
        let y = 4.0 + i as f64 * ROW;
        let w = if max > 0.0 { (b.value / max * width).max(if b.value > 0.0 { 1.5 } else { 0.0 }) } else { 0.0 };
        let colour = match b.class {
            "settled" => "#2da44e",
            "cancelled" => "#e16f24",
            "expired" => "#8250df",
            "open" => "#8c959f",
            "refused" => "#d1242f",
            _ => "#1f6feb",
        };
        let _ = write!(
            svg,
            "<g class=\"bar {}\"><text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>\
             <rect x=\"{LABEL}\" y=\"{:.1}\" width=\"{w:.1}\" height=\"{:.1}\" fill=\"{colour}\" rx=\"2\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\">{}</text></g>",
            b.class,
            LABEL - 8.0,
            y + 15.0,
            esc(&b.label),
            y + 3.0,
            ROW - 8.0,
            LABEL + w + 6.0,
            y + 15.0,
            esc(&b.text)
        );
    }
    svg.push_str("</svg>");
    svg
}

/// Round ticks from 0 covering `max`: (ticks, top of the axis).
fn ticks(max: f64) -> (Vec<f64>, f64) {
    if max <= 0.0 || !max.is_finite() {
        return (vec![0.0, 1.0], 1.0);
    }
    let rough = max / 5.0;
    let magnitude = 10f64.powf(rough.log10().floor());
    let step =
        [1.0, 2.0, 2.5, 5.0, 10.0].iter().map(|m| m * magnitude).find(|s| *s >= rough).unwrap_or(10.0 * magnitude);
    let count = (max / step).ceil().max(1.0) as usize;
    ((0..=count).map(|i| i as f64 * step).collect(), count as f64 * step)
}

/// 1500 → "1.5k", 2_000_000 → "2M", 0.5 → "0.5".
fn compact(v: f64) -> String {
    let (scaled, suffix) = match v.abs() {
        a if a >= 1e12 => (v / 1e12, "T"),
        a if a >= 1e9 => (v / 1e9, "bn"),
        a if a >= 1e6 => (v / 1e6, "M"),
        a if a >= 1e3 => (v / 1e3, "k"),
        _ => (v, ""),
    };
    let text = format!("{scaled:.2}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    format!("{text}{suffix}")
}

/// A U256 as a float for plotting (exact below 2^53, close above).
fn to_f64(v: U256) -> f64 {
    v.to_string().parse().unwrap_or(f64::MAX)
}

/// 1234567 → "1,234,567".
pub fn thousands(n: u64) -> String {
    group(&n.to_string())
}

/// A U256 with thousands separators.
pub fn thousands_u256(n: U256) -> String {
    group(&n.to_string())
}

fn group(digits: &str) -> String {
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Escapes text for HTML content and attribute values.
fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A progress line on stderr for long runs: `label [#####-----] 4,500/10,000 45% 1.2k/s ETA 5s`,
/// redrawn in place at most ten times a second.
///
/// It draws only when stderr is a terminal (never into a log file or a pipe), and only after the
/// first quarter second, so short runs print nothing. Call [`Progress::clear`] before printing
/// other lines to the terminal and [`Progress::finish`] at the end.
#[derive(Debug)]
pub struct Progress {
    label: String,
    total: u64,
    started: Instant,
    last_draw: Option<Instant>,
    drawn: bool,
    enabled: bool,
}

impl Progress {
    /// A progress line towards `total` (steps, runs…), drawn only if stderr is a terminal.
    pub fn new(label: impl Into<String>, total: u64) -> Self {
        Self::with_enabled(label, total, std::io::stderr().is_terminal())
    }

    /// A progress line that never draws.
    pub fn hidden() -> Self {
        Self::with_enabled("", 0, false)
    }

    fn with_enabled(label: impl Into<String>, total: u64, enabled: bool) -> Self {
        Self { label: label.into(), total, started: Instant::now(), last_draw: None, drawn: false, enabled }
    }

    /// Records that `done` of the total are done, redrawing if it is time.
    pub fn set(&mut self, done: u64) {
        if !self.enabled {
            return;
        }
        let now = Instant::now();
        let due = match self.last_draw {
            None => now.duration_since(self.started) >= Duration::from_millis(250),
            Some(last) => now.duration_since(last) >= Duration::from_millis(100),
        };
        if due {
            self.last_draw = Some(now);
            let line = self.line(done, now.duration_since(self.started));
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "\r{line}\x1b[K");
            let _ = err.flush();
            self.drawn = true;
        }
    }

    /// The text of the line (without the carriage return).
    fn line(&self, done: u64, elapsed: Duration) -> String {
        const WIDTH: u64 = 30;
        let total = self.total.max(1);
        let done = done.min(total);
        let filled = (done * WIDTH / total) as usize;
        let secs = elapsed.as_secs_f64();
        let rate = if secs > 0.0 { done as f64 / secs } else { 0.0 };
        let eta = if rate > 0.0 { format!(" ETA {:.0}s", (total - done) as f64 / rate) } else { String::new() };
        format!(
            "{} [{}{}] {}/{} {}% {}/s{eta}",
            self.label,
            "#".repeat(filled),
            "-".repeat(WIDTH as usize - filled),
            thousands(done),
            thousands(total),
            done * 100 / total,
            compact(rate.round())
        )
    }

    /// Erases the line (if drawn) so other output can be printed; it is redrawn at the next update due.
    pub fn clear(&mut self) {
        if self.drawn {
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "\r\x1b[K");
            let _ = err.flush();
            self.drawn = false;
        }
    }

    /// Erases the line for good.
    pub fn finish(&mut self) {
        self.clear();
        self.enabled = false;
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_round_and_cover_the_maximum() {
        let (t, top) = ticks(1_234.0);
        assert_eq!(top, 1_250.0);
        assert_eq!(t, [0.0, 250.0, 500.0, 750.0, 1_000.0, 1_250.0]);
        assert_eq!(ticks(0.0).1, 1.0);
        assert!(ticks(7.0).1 >= 7.0);
    }

    #[test]
    fn numbers_are_compact_on_axes_and_grouped_in_tables() {
        assert_eq!(compact(1_500.0), "1.5k");
        assert_eq!(compact(2_000_000.0), "2M");
        assert_eq!(compact(12.0), "12");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(thousands(999), "999");
        assert_eq!(esc("<a href=\"x\">&</a>"), "&lt;a href=&quot;x&quot;&gt;&amp;&lt;/a&gt;");
    }

    #[test]
    fn the_progress_line_shows_count_share_and_bar() {
        let p = Progress::with_enabled("steps", 200, false);
        let line = p.line(50, Duration::from_secs(1));
        assert!(line.starts_with("steps [#######-----------------------] 50/200 25% 50/s ETA 3s"), "{line}");
    }
}
