//! The HTML report's plots over time, on the scenario's clock: balances and liquidity locked of
//! the watched holders, or — when the scenario watches nobody (a generated market) — cash and
//! units locked over every trade and trades settled per hour.

use super::*;
use std::collections::HashMap;

/// Most points of a series that get a marker with a tooltip (date, step, value).
const MARKED: usize = 200;

/// The steps a plot shows: the state after setup (setup folded into one point where it ends),
/// then each timeline step, thinned over time to about [`MAX_POINTS`] (the last step of each
/// slice of time is kept).
pub(super) struct Timeline<'a> {
    report: &'a RunReport,
    zone: &'a Zone,
    /// Indices into the report's steps of the plotted points.
    points: Vec<usize>,
    /// Points before thinning.
    candidates: usize,
}

impl<'a> Timeline<'a> {
    /// The points of `report` to plot, labelled in `zone`.
    pub(super) fn new(report: &'a RunReport, zone: &'a Zone) -> Self {
        let steps = &report.steps;
        let setup_end = steps.iter().rposition(|s| s.origin == Origin::Setup);
        let candidates: Vec<usize> =
            setup_end.into_iter().chain((0..steps.len()).filter(|i| steps[*i].origin != Origin::Setup)).collect();
        let count = candidates.len();
        Self { report, zone, points: thin(report, candidates), candidates: count }
    }

    /// The time axis from the first point to the last, if there is a point.
    pub(super) fn axis(&self) -> Option<TimeAxis> {
        let (first, last) = (self.points.first()?, self.points.last()?);
        Some(TimeAxis::new(self.report.time(*first), self.report.time(*last), self.zone))
    }

    /// A series named `name`: `value` (¥ or units, as `unit` says) after each plotted step.
    pub(super) fn series(&self, name: String, unit: &str, value: impl Fn(usize) -> U256) -> Series {
        let marked = self.points.len() <= MARKED;
        let mut series = Series { name, points: Vec::with_capacity(self.points.len()), marks: Vec::new() };
        for i in &self.points {
            let v = value(*i);
            series.points.push((self.report.time(*i) as f64, to_f64(v)));
            if marked {
                let step = match self.report.steps[*i].origin {
                    Origin::Setup => "after setup".to_string(),
                    Origin::Timeline { number, .. } => format!("step #{number}"),
                };
                let amount = if unit == "¥" {
                    format!("¥{}", thousands_u256(v))
                } else {
                    format!("{} {unit}", thousands_u256(v))
                };
                series.marks.push(format!(
                    "{} · {step} · {}: {amount}",
                    self.zone.iso(self.report.time(*i)),
                    series.name
                ));
            }
        }
        series
    }

    /// Says how the steps were folded and thinned for the plots.
    fn write_note(&self, page: &mut String) {
        let timeline = self.report.steps.iter().filter(|s| s.origin != Origin::Setup).count();
        let setup = self.report.steps.len() - timeline;
        let mut note = format!(
            "Plotted against the scenario's clock ({}): {} timeline steps",
            esc(self.zone.name()),
            thousands(timeline as u64)
        );
        if setup > 0 {
            let _ = write!(note, ", after {} setup steps shown as one point where setup ends", thousands(setup as u64));
        }
        if self.points.len() < self.candidates {
            let _ = write!(
                note,
                "; thinned to {} points (the last step of each slice of time)",
                thousands(self.points.len() as u64)
            );
        }
        let _ = writeln!(page, "<p class=\"note\">{note}.</p>");
    }
}

/// `candidates` (steps in time order), at most one per [`MAX_POINTS`]th of the time they span —
/// the last of each slice — and the first.
fn thin(report: &RunReport, candidates: Vec<usize>) -> Vec<usize> {
    let (Some(first), Some(last)) = (candidates.first(), candidates.last()) else { return candidates };
    if candidates.len() <= MAX_POINTS {
        return candidates;
    }
    let (from, span) = (report.time(*first), report.time(*last) - report.time(*first) + 1);
    let slice = |i: usize| u128::from(report.time(i) - from) * MAX_POINTS as u128 / u128::from(span);
    let mut kept = vec![*first];
    for (k, i) in candidates.iter().enumerate().skip(1) {
        if candidates.get(k + 1).is_none_or(|next| slice(*next) != slice(*i)) {
            kept.push(*i);
        }
    }
    kept
}

/// Writes the plots over time (or why there are none).
pub(super) fn write_plots(page: &mut String, report: &RunReport, zone: &Zone) {
    page.push_str("<h2>Balances and liquidity over time</h2>\n");
    let timeline = Timeline::new(report, zone);
    let Some(axis) = timeline.axis() else {
        page.push_str("<p class=\"note\">The run has no steps to plot.</p>\n");
        return;
    };
    timeline.write_note(page);
    let holders: Vec<String> =
        report.steps.first().map(|s| s.state.iter().map(|h| h.holder.clone()).collect()).unwrap_or_default();
    if holders.is_empty() {
        write_market(page, report, &timeline, &axis);
        return;
    }
    let steps = &report.steps;
    let per_holder = |unit: &str, f: fn(&Balances) -> U256| -> Vec<Series> {
        holders
            .iter()
            .enumerate()
            .map(|(h, name)| {
                timeline.series(name.clone(), unit, |i| steps[i].state.get(h).map_or(U256::ZERO, |s| f(&s.balances)))
            })
            .collect()
    };
    let watched = |i: usize| locked(steps[i].state.iter().map(|h| &h.balances));
    let charts = [
        ("plot-units", "Security units per holder", "units", per_holder("units", |b| b.units)),
        ("plot-cash", "Cash (deposit tokens) per holder", "¥", per_holder("¥", |b| b.cash)),
        (
            "plot-locked-cash",
            "Cash locked for open trades",
            "¥",
            vec![timeline.series("cash held, all watched holders".into(), "¥", |i| watched(i).0)],
        ),
        (
            "plot-locked-units",
            "Units locked for open trades",
            "units",
            vec![timeline.series("units held, all watched holders".into(), "units", |i| watched(i).1)],
        ),
    ];
    for (id, title, unit, series) in &charts {
        write_figure(page, title, &line_chart(id, title, unit, &axis, series));
    }
}

/// Writes one chart in a captioned figure.
fn write_figure(page: &mut String, caption: &str, chart: &str) {
    let _ = writeln!(page, "<figure><figcaption>{}</figcaption>{chart}</figure>", esc(caption));
}

/// Writes the charts of a run that watches nobody: cash and units locked over every trade (from
/// the settlement contract's events) and trades settled per hour.
fn write_market(page: &mut String, report: &RunReport, timeline: &Timeline<'_>, axis: &TimeAxis) {
    page.push_str(
        "<p class=\"note\">The scenario watches no holder, so these charts add up every trade from the settlement \
         contract's events (add <code>watch = [...]</code> under [scenario] for balances per holder).</p>\n",
    );
    let locks = market_locks(&report.steps);
    for (id, what, unit, cash) in
        [("plot-locked-cash", "Cash", "¥", true), ("plot-locked-units", "Units", "units", false)]
    {
        let leg = |i: usize| if cash { locks[i].0 } else { locks[i].1 };
        let title = format!("{what} locked for open trades");
        if (0..locks.len()).all(|i| leg(i).is_zero()) {
            // No chart of a flat zero: say what it would show.
            let _ = writeln!(
                page,
                "<p class=\"note\" id=\"{id}\">{title}: none at any point (every trade's {} moved in the \
                 transaction that locked it, or no trade locked any).</p>",
                if cash { "payment" } else { "units" }
            );
            continue;
        }
        let series = timeline.series(format!("{} locked, all trades", what.to_lowercase()), unit, leg);
        write_figure(page, &title, &line_chart(id, &title, unit, axis, &[series]));
    }
    let (columns, per) = settled_columns(report, timeline.zone);
    let title = format!("Trades settled per {per}");
    match (columns.first(), columns.last()) {
        (Some(first), Some(last)) => {
            let axis = TimeAxis::new(first.from, last.to, timeline.zone);
            write_figure(page, &title, &column_chart("plot-settled", &title, "trades", &axis, &columns));
        }
        _ => page.push_str("<p class=\"note\">No trade settled.</p>\n"),
    }
}

/// Cash and units locked for open trades after each step, over every trade: from the settlement
/// contract's events (a trade's units lock when it is created, its cash when it is paid; both
/// return when it settles, is cancelled or expires).
pub(super) fn market_locks(steps: &[StepOutcome]) -> Vec<(U256, U256)> {
    // Open trades by id: (units, amount, paid).
    let mut open: HashMap<&str, (U256, U256, bool)> = HashMap::new();
    let (mut cash, mut units) = (U256::ZERO, U256::ZERO);
    let mut after = Vec::with_capacity(steps.len());
    for step in steps {
        for event in step.events.iter().filter(|e| e.contract == "dvp") {
            let Some((_, id)) = event.args.first() else { continue };
            let arg = |name: &str| {
                event.args.iter().find(|(n, _)| n == name).and_then(|(_, v)| U256::from_str_radix(v, 10).ok())
            };
            match event.name.as_str() {
                "TradeCreated" => {
                    let (u, a) = (arg("units").unwrap_or_default(), arg("amount").unwrap_or_default());
                    units = units.saturating_add(u);
                    open.insert(id, (u, a, false));
                }
                "TradePaid" => {
                    if let Some(trade) = open.get_mut(id.as_str()).filter(|t| !t.2) {
                        trade.2 = true;
                        cash = cash.saturating_add(trade.1);
                    }
                }
                "TradeSettled" | "TradeCancelled" | "TradeExpired" => {
                    if let Some((u, a, paid)) = open.remove(id.as_str()) {
                        units = units.saturating_sub(u);
                        cash = if paid { cash.saturating_sub(a) } else { cash };
                    }
                }
                _ => {}
            }
        }
        after.push((cash, units));
    }
    after
}

/// Trades settled per hour (per day or week when the run spans more than [`MAX_POINTS`] hours or
/// days), as columns at the steps' times; and the period's name.
fn settled_columns(report: &RunReport, zone: &Zone) -> (Vec<Column>, &'static str) {
    let settled: Vec<(u64, usize)> = (0..report.steps.len())
        .filter_map(|i| {
            let n = report.steps[i]
                .events
                .iter()
                .filter(|e| {
                    e.contract == "dvp" && matches!(e.name.as_str(), "TradeSettled" | "TradeSettledBySignatures")
                })
                .count();
            (n > 0).then(|| (report.time(i), n))
        })
        .collect();
    let (Some(first), Some(last)) = (settled.first(), settled.last()) else { return (Vec::new(), "hour") };
    let span = last.0 - first.0;
    let (width, per) = [(3_600, "hour"), (86_400, "day")]
        .into_iter()
        .find(|(w, _)| span / w < MAX_POINTS as u64)
        .unwrap_or((604_800, "week"));
    // Periods start on the zone's hours (and midnights).
    let offset = zone.offset_at(first.0);
    let mut columns: Vec<Column> = Vec::new();
    for (time, n) in settled {
        let from = ((time as i64 + offset).div_euclid(width as i64) * width as i64 - offset).max(0) as u64;
        match columns.last_mut() {
            Some(c) if c.from == from => c.value += n as f64,
            _ => columns.push(Column { from, to: from + width, value: n as f64, title: String::new() }),
        }
    }
    for c in &mut columns {
        c.title = format!("{} – {}: {} trades settled", zone.iso(c.from), zone.iso(c.to), thousands(c.value as u64));
    }
    (columns, per)
}
