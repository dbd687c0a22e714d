//! The HTML report of a cross-chain scenario (`kessai sim run FILE --html out.html` for a file with
//! `[chains]`): one self-contained page — inline CSS and SVG, no JavaScript, nothing fetched — so it
//! can be mailed, archived with a run or opened offline. Under a verdict it shows, on one time axis
//! for both chains, a timeline with a lane per chain (A, the asset chain; B, the payment chain: its
//! blocks as ticks, its halts as shaded bands, and each trade's lock, payment, B's outcome and A's
//! end, joined by a thin line and named in tooltips) and the liquidity on hold on each chain; then a
//! histogram of settlement latency with its p50, p99 and max, the steps, the trades, and the broken
//! invariant and unmet expectations if any.
//!
//! **The time axis cuts idle stretches.** A scenario's events come in bursts hours apart (a halt of
//! two hours, then a minute of activity), and a linear axis would squash each burst into a few
//! pixels. The axis groups events at most `GAP` seconds apart into stretches (with `PAD` seconds
//! either side), draws each stretch linearly with a share of the width proportional to its length
//! but never below `MIN_SHARE`, and replaces the idle time between stretches by a narrow break,
//! marked `//` with the time it skips. Within a burst durations read true; across a break the order
//! is kept and the skipped time is printed, so nothing is hidden. A logarithmic axis was not used:
//! it squashes late bursts more than early ones and distorts durations within each of them.
//!
//! The page depends on the report alone (no clock is read): the same report gives the same bytes.

use super::{TradeLine, XScenarioReport};
use crate::report::{thousands, thousands_u256};
use alloy::primitives::U256;
use std::{collections::BTreeMap, fmt::Write as _};

// Geometry, in SVG units: every chart's width and margins (the left one holds lane names and
// value labels), the timeline's lanes and the liquidity plot's panels (A's, then B's), and the least
// distance between two time labels.
const WIDTH: f64 = 1000.0;
const LEFT: f64 = 120.0;
const RIGHT: f64 = 24.0;
const PLOT_W: f64 = WIDTH - LEFT - RIGHT;
const LANE_H: f64 = 70.0;
const LANES: [f64; 2] = [10.0, 96.0];
const PANEL_H: f64 = 90.0;
const PANELS: [f64; 2] = [26.0, 152.0];
const LABEL_GAP: f64 = 56.0;
/// Events at most this many seconds apart share a stretch of the axis; longer idle time is cut.
const GAP: u64 = 120;
/// Seconds kept either side of a stretch's first and last event.
const PAD: u64 = 5;
/// Width of a break in the axis, at most (less when there are many).
const BREAK_W: f64 = 30.0;
/// The least share of the plotted width a stretch gets, however short, so that a burst stays legible.
const MIN_SHARE: f64 = 0.04;
/// Colours of the trades, in order; green marks a commit or a delivery, red an abort or a return.
const PALETTE: [&str; 8] = ["#1f6feb", "#8250df", "#e16f24", "#0a7ea4", "#bf3989", "#9a6700", "#57606a", "#2da44e"];
const GREEN: &str = "#1a7f37";
const RED: &str = "#c62828";

/// The page's style sheet (system fonts only: nothing is fetched). Text anchors are classes: `m`
/// (middle) and `e` (end).
const CSS: &str = "\
body{margin:0;background:#f6f7f9;color:#1d2430;font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif}\
main{max-width:1100px;margin:0 auto;padding:24px}h1{font-size:22px;margin:0 0 4px}\
h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #d8dde6;padding-bottom:4px}.meta,.note{color:#5b6575}\
.note{font-size:13px}.ok{color:#1a7f37;font-weight:600}.bad{color:#c62828;font-weight:600}\
figure{background:#fff;border:1px solid #dfe3ea;border-radius:6px;margin:10px 0;padding:10px}\
figcaption{font-weight:600;margin-bottom:4px}svg{display:block;max-width:100%;height:auto}\
svg text{font:11px system-ui,sans-serif;fill:#3b4453}svg .m{text-anchor:middle}svg .e{text-anchor:end}\
svg .b{font-weight:600}svg .bg{fill:#eef1f5}svg .grid{stroke:#dfe3ea}svg .axis{stroke:#9aa3b2}\
svg .blk{stroke:#8c96a5}svg path.cut{stroke:#5b6575;stroke-width:1.5}svg text.cut{fill:#5b6575;font-style:italic}\
svg .halt{fill:#c62828;fill-opacity:.13;stroke:#c62828;stroke-opacity:.5;stroke-dasharray:4 3}\
svg .link{fill:none;stroke-width:1;stroke-opacity:.7}svg .bar{fill:#1f6feb}svg text.in{fill:#fff}\
svg line.pct{stroke:#c62828;stroke-dasharray:3 3}svg text.pct{fill:#c62828}\
.sw{display:inline-block;width:10px;height:10px;border-radius:2px;margin:0 4px 0 10px}\
table{border-collapse:collapse;width:100%;background:#fff;font-size:13px}\
th,td{border-bottom:1px solid #e6e9ef;padding:4px 6px;text-align:left;vertical-align:top}th{background:#eef1f5}\
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}\
pre{background:#fff;border:1px solid #dfe3ea;padding:8px}";

/// The replayed scenario as one self-contained HTML page (inline CSS and SVG, no scripts).
pub fn html(report: &XScenarioReport) -> String {
    let axis = Axis::new(times(report));
    let mut page = String::with_capacity(64 * 1024);
    write_head(&mut page, report);
    write_timeline(&mut page, report, &axis);
    write_liquidity(&mut page, report, &axis);
    write_latency(&mut page, report);
    write_tables(&mut page, report);
    write_problems(&mut page, report);
    page.push_str("</main>\n</body>\n</html>\n");
    page
}

/// Every time the page places on the axis: steps, trades' events, halts' ends and blocks.
fn times(report: &XScenarioReport) -> Vec<u64> {
    let mut times: Vec<u64> = report.steps.iter().map(|s| s.at).collect();
    for t in &report.trades {
        times.extend([Some(t.locked_at), t.paid_at, t.decided_at, t.ended_at].into_iter().flatten());
    }
    times.extend(report.halts.iter().flat_map(|h| [h.from, h.to]));
    times.extend(report.blocks.0.iter().chain(&report.blocks.1));
    times
}

/// The shared time axis: the stretches with events, left to right, with the idle time between
/// them cut (see the module's documentation).
#[derive(Debug)]
struct Axis {
    spans: Vec<Span>,
}

/// A stretch of the axis drawn linearly: seconds `from..=to` (its `first` and last events, padded)
/// at `x0..=x1`.
#[derive(Debug)]
struct Span {
    from: u64,
    to: u64,
    first: u64,
    x0: f64,
    x1: f64,
}

impl Axis {
    /// Lays out the stretches of `times` (and of the start, 0) across the plotted width.
    fn new(times: impl IntoIterator<Item = u64>) -> Self {
        let mut times: Vec<u64> = times.into_iter().chain([0]).collect();
        times.sort_unstable();
        let mut runs: Vec<(u64, u64)> = Vec::new();
        for t in times {
            match runs.last_mut() {
                Some((_, last)) if t - *last <= GAP => *last = t,
                _ => runs.push((t, t)),
            }
        }
        let cuts = runs.len().saturating_sub(1);
        let cut_w = BREAK_W.min(0.3 * PLOT_W / cuts.max(1) as f64);
        let lengths: Vec<f64> = runs.iter().map(|(a, b)| (b + PAD - a.saturating_sub(PAD)) as f64).collect();
        let total: f64 = lengths.iter().sum();
        let weights: Vec<f64> = lengths.iter().map(|l| l.max(total * MIN_SHARE)).collect();
        let (sum, room) = (weights.iter().sum::<f64>(), PLOT_W - cuts as f64 * cut_w);
        let mut x = LEFT;
        let mut spans = Vec::with_capacity(runs.len());
        for ((first, last), weight) in runs.into_iter().zip(weights) {
            let x1 = x + room * weight / sum;
            spans.push(Span { from: first.saturating_sub(PAD), to: last + PAD, first, x0: x, x1 });
            x = x1 + cut_w;
        }
        Self { spans }
    }

    /// The x of `t`: linear within a stretch, and across a break from one side of it to the other.
    fn x(&self, t: u64) -> f64 {
        let mut before: Option<&Span> = None;
        for s in &self.spans {
            if t < s.from {
                return before.map_or(s.x0, |p| p.x1 + (s.x0 - p.x1) * (t - p.to) as f64 / (s.from - p.to) as f64);
            }
            if t <= s.to {
                return s.x0 + (s.x1 - s.x0) * (t - s.from) as f64 / (s.to - s.from).max(1) as f64;
            }
            before = Some(s);
        }
        before.map_or(LEFT, |s| s.x1)
    }

    /// The last second on the axis.
    fn end(&self) -> u64 {
        self.spans.last().map_or(0, |s| s.to)
    }

    /// The labelled times, at least `LABEL_GAP` apart: each stretch's first event (where a burst
    /// begins), then round times within it.
    fn ticks(&self) -> Vec<u64> {
        let (mut ticks, mut last_x) = (Vec::new(), f64::NEG_INFINITY);
        for s in &self.spans {
            let step = round_step((s.to - s.from) as f64 * 80.0 / (s.x1 - s.x0).max(1.0));
            let round = (s.first.div_ceil(step)..).map(|k| k * step).take_while(|t| *t <= s.to);
            for t in std::iter::once(s.first).chain(round) {
                if self.x(t) - last_x >= LABEL_GAP {
                    ticks.push(t);
                    last_x = self.x(t);
                }
            }
        }
        ticks
    }
}

/// The least round step of time (1 s … 1 day, then whole days) of at least `rough` seconds.
fn round_step(rough: f64) -> u64 {
    const STEPS: [u64; 18] =
        [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400];
    STEPS.into_iter().find(|s| *s as f64 >= rough).unwrap_or_else(|| (rough / 86400.0).ceil() as u64 * 86400)
}

/// A time on the axis: `7,300 s` (seconds from the start, as the scenario file and the steps say).
fn at(t: u64) -> String {
    format!("{} s", thousands(t))
}

/// A duration for people, to the minute past an hour: `45 s`, `4 min 10 s`, `2 h`, `1 h 55 min`.
fn duration(s: u64) -> String {
    let parts = [(s / 3600, "h"), (s % 3600 / 60, "min"), (s % 60, "s")];
    let shown = parts.iter().skip_while(|p| p.0 == 0).take(2).filter(|p| p.0 > 0);
    let shown: Vec<String> = shown.map(|(n, unit)| format!("{n} {unit}")).collect();
    if shown.is_empty() { "0 s".into() } else { shown.join(" ") }
}

/// Units or cash with thousands separators.
fn amount(v: u128) -> String {
    thousands_u256(U256::from(v))
}

/// Escapes text for HTML content and attribute values.
fn esc(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&#39;")
}

/// Writes `<text>` of `class` (`m` or `e` to anchor it at its middle or end) at `(x, y)`.
fn text(svg: &mut String, class: &str, (x, y): (f64, f64), content: &str) {
    let _ = write!(svg, "<text class=\"{class}\" x=\"{x:.1}\" y=\"{y:.1}\">{content}</text>");
}

/// Writes a `<line>` of `class` from `(x1, y1)` to `(x2, y2)`.
fn line(svg: &mut String, class: &str, (x1, y1): (f64, f64), (x2, y2): (f64, f64)) {
    let _ = write!(svg, "<line class=\"{class}\" x1=\"{x1:.1}\" y1=\"{y1:.1}\" x2=\"{x2:.1}\" y2=\"{y2:.1}\"/>");
}

/// Writes a `<rect>` of `class` at `(x, y)` of `(w, h)`, with a tooltip unless it is empty.
fn rect(svg: &mut String, class: &str, (x, y): (f64, f64), (w, h): (f64, f64), tooltip: &str) {
    let _ = write!(svg, "<rect class=\"{class}\" x=\"{x:.1}\" y=\"{y:.1}\" width=\"{w:.1}\" height=\"{h:.1}\"");
    let _ = if tooltip.is_empty() { write!(svg, "/>") } else { write!(svg, "><title>{tooltip}</title></rect>") };
}

/// Writes the document's head, the title and the verdict with the scenario's size.
fn write_head(page: &mut String, report: &XScenarioReport) {
    let title = esc(if report.title.is_empty() { "cross-chain scenario" } else { &report.title });
    let verdict = match (&report.failure, report.unmet.len()) {
        (None, 0) => "<span class=\"ok\">every invariant and expectation held</span>".to_string(),
        (Some(f), _) => format!("<span class=\"bad\">FAILED: the invariant {} broke</span>", esc(f.invariant)),
        (None, n) => format!("<span class=\"bad\">FAILED: {n} expectation(s) did not hold</span>"),
    };
    let (steps, trades, halts) = (report.steps.len(), report.trades.len(), report.halts.len());
    let (a, b) = (report.blocks.0.len(), report.blocks.1.len());
    let span = duration(times(report).into_iter().max().unwrap_or(0));
    let _ = write!(
        page,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>kessai sim — {title}</title>\n<style>{CSS}</style>\n</head>\n<body>\n<main>\n<h1>{title}</h1>\n\
         <p class=\"meta\">cross-chain scenario · {steps} steps · {trades} trades · {halts} halts · {a} blocks on A, \
         {b} on B · {span} simulated · {verdict}</p>\n"
    );
}

/// Opens a chart's `<svg>` element with its title.
fn open_svg(svg: &mut String, id: &str, title: &str, height: f64) {
    let _ = write!(
        svg,
        "<svg id=\"{id}\" viewBox=\"0 0 {WIDTH} {height}\" width=\"{WIDTH}\" height=\"{height}\" role=\"img\" \
         aria-label=\"{title}\" xmlns=\"http://www.w3.org/2000/svg\"><title>{title}</title>"
    );
}

/// Writes the background of a band of the axis from `top`: a rectangle per stretch, so that each
/// break shows as a gap.
fn write_background(svg: &mut String, axis: &Axis, top: f64, height: f64) {
    for s in &axis.spans {
        rect(svg, "bg", (s.x0, top), (s.x1 - s.x0, height), "");
    }
}

/// Writes the time axis at `y`: the labelled times, and under each break `//` with the time it
/// skips (on alternate rows, so that neighbouring breaks do not collide); each of the `bands`
/// (top, height) above is marked `//` at each break too.
fn write_time_axis(svg: &mut String, axis: &Axis, y: f64, bands: &[(f64, f64)]) {
    line(svg, "axis", (LEFT, y), (WIDTH - RIGHT, y));
    for t in axis.ticks() {
        line(svg, "axis", (axis.x(t), y), (axis.x(t), y + 4.0));
        text(svg, "m", (axis.x(t), y + 16.0), &at(t));
    }
    for (i, pair) in axis.spans.windows(2).enumerate() {
        let (p, s) = (&pair[0], &pair[1]);
        let cx = (p.x1 + s.x0) / 2.0;
        for mid in bands.iter().map(|(top, h)| top + h / 2.0 + 6.0).chain([y + 6.0]) {
            let _ = write!(svg, "<path class=\"cut\" d=\"M{:.1} {mid:.1}l4 -12m2 12l4 -12\"/>", cx - 5.0);
        }
        let (skipped, row) = (duration(s.from - p.to), y + 30.0 + 12.0 * (i % 2) as f64);
        let _ = write!(
            svg,
            "<text class=\"cut m\" x=\"{cx:.1}\" y=\"{row:.1}\">// {skipped}<title>{skipped} without events cut from \
             the axis: {} to {}</title></text>",
            at(p.to),
            at(s.from)
        );
    }
}

/// Writes the timeline: the two lanes with their blocks and halts, then every trade's events, and
/// a legend under it.
fn write_timeline(page: &mut String, report: &XScenarioReport, axis: &Axis) {
    let axis_y = LANES[1] + LANE_H + 10.0;
    let mut svg = String::with_capacity(16 * 1024);
    open_svg(&mut svg, "timeline", "Both chains over time: blocks, halts and each trade's events", axis_y + 52.0);
    let lanes = [("a", "A · asset chain", &report.blocks.0), ("b", "B · payment chain", &report.blocks.1)];
    for (lane, ((id, name, blocks), top)) in lanes.into_iter().zip(LANES).enumerate() {
        let _ = write!(svg, "<g id=\"lane-{id}\">");
        write_background(&mut svg, axis, top, LANE_H);
        text(&mut svg, "e", (LEFT - 8.0, top + LANE_H / 2.0 + 4.0), name);
        let ticks: String = blocks.iter().map(|t| format!("M{:.1} {top}v8", axis.x(*t))).collect();
        let _ =
            write!(svg, "<path class=\"blk\" d=\"{ticks}\"><title>{} blocks on {name}</title></path>", blocks.len());
        for h in report.halts.iter().filter(|h| (h.chain == "asset") == (lane == 0)) {
            let (x0, x1) = (axis.x(h.from), axis.x(h.to));
            let (chain, from, to, long) = (esc(&h.chain), at(h.from), at(h.to), duration(h.to - h.from));
            let tooltip = format!("the {chain} chain halted from {from} to {to} ({long})");
            rect(&mut svg, "halt", (x0, top), ((x1 - x0).max(1.0), LANE_H), &tooltip);
        }
        svg.push_str("</g>");
    }
    write_time_axis(&mut svg, axis, axis_y, &LANES.map(|top| (top, LANE_H)));
    for (i, trade) in report.trades.iter().enumerate() {
        write_trade(&mut svg, axis, trade, i);
    }
    svg.push_str("</svg>");
    let legend: String = (report.trades.iter().enumerate())
        .map(|(i, t)| {
            format!("<span class=\"sw\" style=\"background:{}\"></span>{}", PALETTE[i % PALETTE.len()], esc(&t.label))
        })
        .collect();
    let _ = writeln!(
        page,
        "<h2>Timeline</h2>\n<figure><figcaption>Both chains on one time axis</figcaption>{svg}\
         <p class=\"note\">Trades:{legend}</p><p class=\"note\">● lock on A · ■ payment on B · ◆ B's outcome (green: \
         commit, red: abort) · ▲ A's delivery (green) · ▼ A's return (red) · a thin line joins a trade's events · \
         ticks at a lane's top: the chain's blocks · shaded: the chain halted · // idle time cut from the axis \
         (the time skipped under it). Hover a mark for its trade and event.</p></figure>"
    );
}

/// Trade `t`'s events in their order, each where `place` puts it (at a time, on lane 0 for A or 1
/// for B) and drawn with its tooltip: its lock (a circle on A), payment (a square on B), B's outcome
/// (a diamond on B) and A's end (a triangle on A, up for a delivery, down for a return).
fn marks(t: &TradeLine, colour: &str, place: impl Fn(u64, usize) -> (f64, f64)) -> Vec<((f64, f64), String)> {
    let mark = |(x, y): (f64, f64), shape: &str, fill: &str, tooltip: String| {
        let (tag, attributes) = match shape {
            "lock" => ("circle", format!("cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"4.5\"")),
            "payment" => ("rect", format!("x=\"{:.1}\" y=\"{:.1}\" width=\"8\" height=\"8\"", x - 4.0, y - 4.0)),
            "outcome" => ("path", format!("d=\"M{x:.1} {:.1}l6 6l-6 6l-6 -6z\"", y - 6.0)),
            "delivery" => ("path", format!("d=\"M{x:.1} {:.1}l6 11h-12z\"", y - 6.0)),
            _ => ("path", format!("d=\"M{x:.1} {:.1}l6 -11h-12z\"", y + 6.0)),
        };
        let tooltip = esc(&tooltip);
        ((x, y), format!("<{tag} {attributes} fill=\"{fill}\" stroke=\"{colour}\"><title>{tooltip}</title></{tag}>"))
    };
    let (label, units, cash) = (&t.label, amount(t.units), amount(t.amount));
    let locked = format!("{label}: locked on A at {} ({units} units for {cash})", at(t.locked_at));
    let mut marks = vec![mark(place(t.locked_at, 0), "lock", colour, locked)];
    if let Some(p) = t.paid_at {
        marks.push(mark(place(p, 1), "payment", colour, format!("{label}: paid on B at {} ({cash})", at(p))));
    }
    if let Some(d) = t.decided_at {
        let (fill, what) = if t.payment == "Committed" { (GREEN, "commit") } else { (RED, "abort") };
        marks.push(mark(place(d, 1), "outcome", fill, format!("{label}: B's {what} first seen at {}", at(d))));
    }
    if let Some(e) = t.ended_at {
        let (fill, what) = if t.asset == "delivered" { (GREEN, "delivery") } else { (RED, "return") };
        marks.push(mark(place(e, 0), what, fill, format!("{label}: A's {what} at {}", at(e))));
    }
    marks
}

/// Writes trade number `i`'s events as marks on their lanes, joined by a thin line; trades are
/// staggered up and down their lanes so that marks at the same time stay apart.
fn write_trade(svg: &mut String, axis: &Axis, trade: &TradeLine, i: usize) {
    let (colour, dy) = (PALETTE[i % PALETTE.len()], ((i % 4) as f64 - 1.5) * 12.0);
    let marks = marks(trade, colour, |t, lane| (axis.x(t), LANES[lane] + LANE_H / 2.0 + 4.0 + dy));
    let points: Vec<String> = marks.iter().map(|((x, y), _)| format!("{x:.1},{y:.1}")).collect();
    let (points, label) = (points.join(" "), esc(&trade.label));
    let _ = write!(
        svg,
        "<g><polyline class=\"link\" stroke=\"{colour}\" points=\"{points}\"><title>{label}</title></polyline>"
    );
    svg.extend(marks.into_iter().map(|m| m.1));
    svg.push_str("</g>");
}

/// A step function from changes (time, up, down): the level after each time at which it changes.
fn levels(changes: impl IntoIterator<Item = (u64, u128, u128)>) -> Vec<(u64, u128)> {
    let mut by_time: BTreeMap<u64, (u128, u128)> = BTreeMap::new();
    for (t, up, down) in changes {
        let e = by_time.entry(t).or_default();
        (e.0, e.1) = (e.0 + up, e.1 + down);
    }
    let (mut level, mut points) = (0u128, Vec::new());
    for (t, (up, down)) in by_time {
        level = (level + up).saturating_sub(down);
        points.push((t, level));
    }
    points
}

/// Writes the liquidity locked on each chain over time: units on hold on A (from a lock until A's
/// end) and cash on hold on B (from a payment until B's outcome), in two panels on the shared axis.
fn write_liquidity(page: &mut String, report: &XScenarioReport, axis: &Axis) {
    let units =
        levels(report.trades.iter().flat_map(|t| {
            [Some((t.locked_at, t.units, 0)), t.ended_at.map(|e| (e, 0, t.units))].into_iter().flatten()
        }));
    let cash = levels(report.trades.iter().flat_map(|t| {
        let paid = t.paid_at.map(|p| (p, t.amount, 0));
        [paid, t.decided_at.filter(|_| paid.is_some()).map(|d| (d, 0, t.amount))].into_iter().flatten()
    }));
    let axis_y = PANELS[1] + PANEL_H + 10.0;
    let mut svg = String::with_capacity(8 * 1024);
    open_svg(&mut svg, "liquidity", "Liquidity locked on each chain over time", axis_y + 52.0);
    let panels = [
        ("A · units on hold", "units on hold on A", &units, PALETTE[0]),
        ("B · cash on hold", "cash on hold on B", &cash, RED),
    ];
    for ((name, what, points, colour), top) in panels.into_iter().zip(PANELS) {
        write_background(&mut svg, axis, top, PANEL_H);
        text(&mut svg, "b", (LEFT, top - 6.0), name);
        write_steps_plot(&mut svg, axis, top, (what, colour), points);
    }
    write_time_axis(&mut svg, axis, axis_y, &PANELS.map(|top| (top, PANEL_H)));
    svg.push_str("</svg>");
    let peak = |p: &[(u64, u128)]| amount(p.iter().map(|p| p.1).max().unwrap_or(0));
    let (units, cash) = (peak(&units), peak(&cash));
    let _ = writeln!(
        page,
        "<h2>Liquidity locked</h2>\n<figure><figcaption>Units on hold on A and cash on hold on B (peaks: {units} units, \
         {cash} cash)</figcaption>{svg}<p class=\"note\">A trade's units are on hold on A from its lock until A \
         delivers or returns them; its cash is on hold on B from its payment until B commits or aborts.</p></figure>"
    );
}

/// Writes one step plot of the liquidity chart in the panel at `top`: value labels, the line over
/// a shaded area, and a mark with a tooltip at each change.
fn write_steps_plot(svg: &mut String, axis: &Axis, top: f64, (what, colour): (&str, &str), points: &[(u64, u128)]) {
    let (ticks, max) = level_ticks(points.iter().map(|p| p.1).max().unwrap_or(0));
    let y = |v: u128| top + PANEL_H - PANEL_H * v as f64 / max as f64;
    for v in ticks {
        line(svg, "grid", (LEFT, y(v)), (WIDTH - RIGHT, y(v)));
        text(svg, "e", (LEFT - 6.0, y(v) + 4.0), &amount(v));
    }
    let mut d = format!("M{:.1} {:.1}", axis.x(0), y(0));
    for (t, v) in points {
        let _ = write!(d, "H{:.1}V{:.1}", axis.x(*t), y(*v));
    }
    let (end, base) = (axis.x(axis.end()), y(0));
    let _ = write!(
        svg,
        "<path d=\"{d}H{end:.1}V{base:.1}Z\" fill=\"{colour}\" fill-opacity=\".12\"/>\
         <path d=\"{d}H{end:.1}\" fill=\"none\" stroke=\"{colour}\" stroke-width=\"1.5\"/>"
    );
    for (t, v) in points {
        let (x, y, when, level) = (axis.x(*t), y(*v), at(*t), amount(*v));
        let _ = write!(
            svg,
            "<circle cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"2.5\" fill=\"{colour}\"><title>{when}: {level} {what}</title></circle>"
        );
    }
}

/// Round value labels from 0 covering `max` (about four, 1, 2 or 5 times a power of ten apart):
/// (labels, top of the scale).
fn level_ticks(max: u128) -> (Vec<u128>, u128) {
    let mut steps = (0..38).flat_map(|k| [1, 2, 5].map(|m| m * 10u128.pow(k)));
    let step = steps.find(|s| s.saturating_mul(4) >= max).unwrap_or(u128::MAX / 4);
    let count = max.div_ceil(step).max(1);
    ((0..=count).map(|i| i * step).collect(), count * step)
}

/// Each settled trade's latency, as [`super::Latency`] counts it: seconds from its payment until
/// both legs were final (B committed and A delivered).
fn latencies(report: &XScenarioReport) -> Vec<(&str, u64)> {
    let settled = report.trades.iter().filter(|t| t.payment == "Committed");
    settled
        .filter_map(|t| Some((t.label.as_str(), t.decided_at?.max(t.ended_at?).saturating_sub(t.paid_at?))))
        .collect()
}

/// Writes the settlement latency: its figures, and a histogram of the trades with p50, p99 and max
/// marked.
fn write_latency(page: &mut String, report: &XScenarioReport) {
    let figures = esc(&report.latency.to_string());
    let _ = writeln!(
        page,
        "<h2>Settlement latency</h2>\n<p>From payment to both legs final, in simulated time: <strong>{figures}</strong>.</p>"
    );
    let samples = latencies(report);
    let Some(max) = samples.iter().map(|s| s.1).max() else { return };
    let width = round_step((max + 1) as f64 / 12.0);
    let mut bins: Vec<Vec<&str>> = vec![Vec::new(); (max / width + 1) as usize];
    for (label, s) in &samples {
        bins[(s / width) as usize].push(label);
    }
    let (tallest, span) = (bins.iter().map(Vec::len).max().unwrap_or(1), bins.len() as u64 * width);
    let (plot_top, base) = (30.0, 160.0);
    let x = |s: u64| LEFT + PLOT_W * s as f64 / span as f64;
    let y = |n: usize| base - (base - plot_top) * n as f64 / tallest as f64;
    let mut svg = String::with_capacity(4 * 1024);
    open_svg(&mut svg, "latency", "Settlement latency of each settled trade", base + 40.0);
    // A bar per bin with its count inside and the settled trades in its tooltip.
    for (i, trades) in bins.iter().enumerate() {
        let (from, to, n) = (i as u64 * width, (i as u64 + 1) * width, trades.len());
        let names = if n == 0 { String::new() } else { format!(": {}", esc(&trades.join(", "))) };
        let tooltip = format!("{n} settled in {from}–{} s{names}", to - 1);
        rect(&mut svg, "bar", (x(from) + 1.0, y(n)), ((x(to) - x(from) - 2.0).max(1.0), base - y(n)), &tooltip);
        text(&mut svg, "m", (x(from), base + 16.0), &at(from));
        if n > 0 {
            text(&mut svg, "m in", (x(from).midpoint(x(to)), y(n) + 13.0), &n.to_string());
        }
    }
    let l = &report.latency;
    let mut marked: BTreeMap<u64, Vec<&str>> = BTreeMap::new();
    for (name, value) in [("p50", l.p50), ("p99", l.p99), ("max", l.max)] {
        if let Some(v) = value {
            marked.entry(v).or_default().push(name);
        }
    }
    // One label per position (`p99 = max 601 s` when they coincide), on alternate rows.
    for (i, (v, names)) in marked.iter().enumerate() {
        let label_y = plot_top - 6.0 - 11.0 * (i % 2) as f64;
        line(&mut svg, "pct", (x(*v), label_y + 3.0), (x(*v), base));
        text(&mut svg, "pct m", (x(*v), label_y), &format!("{} {v} s", names.join(" = ")));
    }
    line(&mut svg, "axis", (LEFT, base), (WIDTH - RIGHT, base));
    let _ = writeln!(
        page,
        "<figure><figcaption>Trades by settlement latency ({width} s bins)</figcaption>{svg}</svg></figure>"
    );
}

/// Writes a table under `heading`: its `columns` (those starting with `#` hold numbers, aligned
/// right) and `rows` of cells, already escaped.
fn write_table(page: &mut String, heading: &str, columns: &[&str], rows: impl Iterator<Item = Vec<String>>) {
    let class = |i: usize| if columns[i].starts_with('#') { " class=\"n\"" } else { "" };
    let _ = write!(page, "<h2>{heading}</h2>\n<table>\n<tr>");
    for (i, c) in columns.iter().enumerate() {
        let _ = write!(page, "<th{}>{}</th>", class(i), c.trim_start_matches('#'));
    }
    for row in rows {
        page.push_str("</tr>\n<tr>");
        for (i, cell) in row.iter().enumerate() {
            let _ = write!(page, "<td{}>{cell}</td>", class(i));
        }
    }
    page.push_str("</tr>\n</table>\n");
}

/// Writes every step (its time and what it did), then every trade (its outcome on each chain, what
/// it moves, its times and its latency).
fn write_tables(page: &mut String, report: &XScenarioReport) {
    write_table(page, "Steps", &["#time", "step"], report.steps.iter().map(|s| vec![at(s.at), esc(&s.what)]));
    let (samples, when) = (latencies(report), |t: Option<u64>| t.map_or("–".to_string(), at));
    let rows = report.trades.iter().map(|t| {
        let latency = when(samples.iter().find(|s| s.0 == t.label).map(|s| s.1));
        let hash = t.terms_hash.to_string();
        let hash = format!("<code title=\"{hash}\">{}…</code>", &hash[..hash.len().min(12)]);
        let (label, asset, payment) = (esc(&t.label), esc(&t.asset), esc(&t.payment));
        let (units, cash, locked) = (amount(t.units), amount(t.amount), at(t.locked_at));
        let (paid, decided, ended) = (when(t.paid_at), when(t.decided_at), when(t.ended_at));
        vec![label, asset, payment, units, cash, locked, paid, decided, ended, latency, hash]
    });
    let columns = ["trade", "asset chain", "payment chain", "#units", "#amount", "#locked", "#paid"];
    let columns = [&columns[..], &["#B's outcome seen", "#A's end", "#latency", "terms hash"]].concat();
    write_table(page, "Trades", &columns, rows);
}

/// Writes the broken invariant (with the short scenario that replays it, when there is one) and
/// the expectations that did not hold, if any.
fn write_problems(page: &mut String, report: &XScenarioReport) {
    if let Some(f) = &report.failure {
        let replay = f.scenario.as_deref().map(|s| format!("<p>A short scenario replays it:</p><pre>{}</pre>", esc(s)));
        let (invariant, message, replay) = (esc(f.invariant), esc(&f.message), replay.unwrap_or_default());
        let _ = writeln!(page, "<h2>Broken invariant</h2>\n<p class=\"bad\">{invariant}: {message}</p>{replay}");
    }
    if !report.unmet.is_empty() {
        let items: String = report.unmet.iter().map(|u| format!("<li class=\"bad\">{}</li>\n", esc(u))).collect();
        let _ = writeln!(page, "<h2>Unmet expectations</h2>\n<ul>\n{items}</ul>");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xchain::{XScenario, run_scenario};

    /// `scenarios/cross_chain_failures.toml`, replayed once for every test.
    fn failures() -> &'static XScenarioReport {
        static REPORT: std::sync::OnceLock<XScenarioReport> = std::sync::OnceLock::new();
        REPORT.get_or_init(|| {
            let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../scenarios/cross_chain_failures.toml");
            let parsed = XScenario::parse(&std::fs::read_to_string(path).expect("the example"), path).expect("parses");
            crate::parallel::drive(|| run_scenario(&parsed)).expect("replays")
        })
    }

    #[test]
    fn the_html_page_is_self_contained_with_both_lanes_every_halt_every_trade_and_the_latency() {
        let (report, page) = (failures(), html(failures()));
        assert!(page.starts_with("<!DOCTYPE html>") && page.ends_with("</html>\n") && !page.contains("<script"));
        assert!(!page.replace("http://www.w3.org/2000/svg", "").contains("http"), "nothing fetched");
        assert!(page.contains("<g id=\"lane-a\">") && page.contains("<g id=\"lane-b\">"), "both lanes");
        assert_eq!((report.halts.len(), page.matches("<rect class=\"halt\"").count()), (2, 2), "a band per halt");
        assert!(page.contains("the payment chain halted from 10 s to 7,210 s (2 h)"));
        assert_eq!(report.trades.len(), 5);
        for t in &report.trades {
            assert!(page.contains(&format!("<tr><td>{}</td>", t.label)), "{} in the table", t.label);
            assert!(page.contains(&format!("{}: locked on A at", t.label)), "{} on the timeline", t.label);
        }
        assert!(
            page.contains("PAID-A: B&#39;s commit first seen at 7,302 s") && page.contains("HALT-B: A&#39;s return")
        );
        let l = &report.latency;
        assert_eq!((l.settled, latencies(report).iter().map(|s| s.1).max()), (3, l.max), "as the figures count");
        for (name, value) in [("p50", l.p50), ("p99", l.p99), ("max", l.max)] {
            assert!(page.contains(&format!("{name} {} s", value.expect("a figure"))), "{name} printed");
        }
        assert!(page.contains("every invariant and expectation held"));
        assert_eq!(page, html(&report.clone()), "the same report gives the same page");
    }

    #[test]
    fn the_time_axis_cuts_idle_stretches_and_keeps_each_burst_wide() {
        let axis = Axis::new(times(failures()));
        let linear = LEFT + PLOT_W * 7_210.0 / axis.end() as f64;
        assert!(axis.end() >= 8_110 && (axis.x(7_210) - linear).abs() > 0.2 * PLOT_W, "7,210 s at {}", axis.x(7_210));
        assert!(axis.x(7_230) - axis.x(7_210) > 10.0, "the 20 s after B resumes get more than a few pixels");
        let xs = [0, 30, 300, 7_210, 7_302, 7_902, 8_000, 8_110, axis.end()].map(|t| axis.x(t));
        assert!(xs.windows(2).all(|w| w[0] < w[1]) && xs[0] == LEFT && (xs[8] - WIDTH + RIGHT).abs() < 1e-6, "{xs:?}");
        assert!(html(failures()).contains("// 1 h"), "the payment chain's halt is cut and says how long");
        let short = Axis::new([0, 30, 60, 90]);
        assert_eq!(short.spans.len(), 1, "nothing to cut");
        assert!((short.x(45) - LEFT - PLOT_W * 45.0 / short.end() as f64).abs() < 1e-6, "linear");
    }

    #[test]
    fn a_failed_report_says_so_at_the_top_and_lists_what_did_not_hold() {
        let mut report = failures().clone();
        (report.passed, report.unmet) = (false, vec!["PAID-A: expected returned on the asset chain".into()]);
        let page = html(&report);
        let verdict = page.find("FAILED: 1 expectation(s) did not hold").expect("a verdict");
        assert!(verdict < page.find("<h2>Timeline</h2>").expect("the timeline"), "the verdict comes first");
        assert!(page.contains("<h2>Unmet expectations</h2>") && page.contains("expected returned on the asset chain"));
    }
}
