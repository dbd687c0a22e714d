//! SVG charts for the HTML report: line and bar charts, ticks and number formatting.

use super::*;

pub(super) const CSS: &str = "\
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
pub(super) const PALETTE: [&str; 10] =
    ["#1f6feb", "#d1242f", "#1a7f37", "#9a6700", "#8250df", "#0a7ea4", "#bf3989", "#57606a", "#e16f24", "#2da44e"];

/// One line of a chart: (x, y) points in x order.
#[derive(Clone, Debug)]
pub(super) struct Series {
    pub(super) name: String,
    pub(super) points: Vec<(f64, f64)>,
}

/// One bar of a bar chart.
pub(super) struct Bar {
    pub(super) label: String,
    pub(super) value: f64,
    pub(super) text: String,
    pub(super) class: &'static str,
}

/// Width of a line chart.
const LINE_W: f64 = 1000.0;
/// Height of a line chart above its legend.
const LINE_H: f64 = 300.0;
/// Margin left of the plot area (the y axis' labels).
const LEFT: f64 = 80.0;
/// Margin right of the plot area.
const RIGHT: f64 = 16.0;
/// Margin above the plot area.
const TOP: f64 = 14.0;
/// Margin below the plot area (the x axis' labels and name).
const BOTTOM: f64 = 40.0;
/// Width of the plot area.
const PLOT_W: f64 = LINE_W - LEFT - RIGHT;
/// Height of the plot area.
const PLOT_H: f64 = LINE_H - TOP - BOTTOM;

/// A step chart (values hold until the next step) with axes, grid, ticks and a legend.
pub(super) fn line_chart(id: &str, title: &str, unit: &str, series: &[Series]) -> String {
    let legend_rows = series.len().div_ceil(4);
    let height = LINE_H + 18.0 * legend_rows as f64;
    let frame = Frame::new(series);
    let mut svg = String::new();
    let _ = write!(
        svg,
        "<svg id=\"{id}\" class=\"plot line\" viewBox=\"0 0 {LINE_W} {height}\" width=\"{LINE_W}\" height=\"{height}\" role=\"img\" \
         aria-label=\"{}\" xmlns=\"http://www.w3.org/2000/svg\"><title>{}</title>",
        esc(title),
        esc(title)
    );
    frame.write_grid(&mut svg);
    frame.write_x_ticks(&mut svg);
    write_axes(&mut svg, unit);
    for (i, s) in series.iter().enumerate() {
        let colour = PALETTE[i % PALETTE.len()];
        frame.write_line(&mut svg, s, colour);
        write_legend_entry(&mut svg, i, s, colour);
    }
    svg.push_str("</svg>");
    svg
}

/// The scales of a line chart: the ticks of both axes and the values at their tops.
struct Frame {
    x_ticks: Vec<f64>,
    y_ticks: Vec<f64>,
    x_top: f64,
    y_top: f64,
}

impl Frame {
    /// Scales that fit every point of `series` (the x axis ends at the last step).
    fn new(series: &[Series]) -> Self {
        let x_max = series.iter().flat_map(|s| s.points.last()).map(|p| p.0).fold(1.0, f64::max);
        let y_max = series.iter().flat_map(|s| &s.points).map(|p| p.1).fold(0.0, f64::max);
        let (y_ticks, y_top) = ticks(y_max);
        let (mut x_ticks, _) = ticks(x_max);
        x_ticks.retain(|x| *x <= x_max);
        Self { x_ticks, y_ticks, x_top: x_max, y_top }
    }

    /// The horizontal position of `x`.
    fn sx(&self, x: f64) -> f64 {
        LEFT + x / self.x_top * PLOT_W
    }

    /// The vertical position of `y`.
    fn sy(&self, y: f64) -> f64 {
        TOP + PLOT_H - y / self.y_top * PLOT_H
    }

    /// Writes a horizontal grid line and a label at each y tick.
    fn write_grid(&self, svg: &mut String) {
        for y in &self.y_ticks {
            let py = self.sy(*y);
            let _ = write!(
                svg,
                "<line class=\"grid\" x1=\"{LEFT}\" x2=\"{:.1}\" y1=\"{py:.1}\" y2=\"{py:.1}\"/>\
                 <text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
                LINE_W - RIGHT,
                LEFT - 6.0,
                py + 4.0,
                compact(*y)
            );
        }
    }

    /// Writes a tick mark and a label at each x tick.
    fn write_x_ticks(&self, svg: &mut String) {
        for x in &self.x_ticks {
            let px = self.sx(*x);
            let _ = write!(
                svg,
                "<line class=\"axis\" x1=\"{px:.1}\" x2=\"{px:.1}\" y1=\"{:.1}\" y2=\"{:.1}\"/>\
                 <text x=\"{px:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
                TOP + PLOT_H,
                TOP + PLOT_H + 4.0,
                TOP + PLOT_H + 16.0,
                compact(*x)
            );
        }
    }

    /// Writes one series as a step line (each value holds until the next point), titled by its name.
    fn write_line(&self, svg: &mut String, s: &Series, colour: &str) {
        let mut path = String::new();
        let mut last_y = None;
        for (x, y) in &s.points {
            let (px, py) = (self.sx(*x), self.sy(*y));
            match last_y {
                None => {
                    let _ = write!(path, "M{:.1},{py:.1} L{px:.1},{py:.1}", self.sx(0.0));
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
    }
}

/// Writes both axes of a line chart with their names (`step`, and `unit`).
fn write_axes(svg: &mut String, unit: &str) {
    let _ = write!(
        svg,
        "<line class=\"axis\" x1=\"{LEFT}\" x2=\"{:.1}\" y1=\"{:.1}\" y2=\"{:.1}\"/>\
         <line class=\"axis\" x1=\"{LEFT}\" x2=\"{LEFT}\" y1=\"{TOP}\" y2=\"{:.1}\"/>\
         <text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">step</text>\
         <text x=\"14\" y=\"{:.1}\" text-anchor=\"middle\" transform=\"rotate(-90 14 {:.1})\">{}</text>",
        LINE_W - RIGHT,
        TOP + PLOT_H,
        TOP + PLOT_H,
        TOP + PLOT_H,
        LEFT + PLOT_W / 2.0,
        TOP + PLOT_H + 32.0,
        TOP + PLOT_H / 2.0,
        TOP + PLOT_H / 2.0,
        esc(unit)
    );
}

/// Writes the legend entry of the `i`th series (four to a row): its colour, name and last value.
fn write_legend_entry(svg: &mut String, i: usize, s: &Series, colour: &str) {
    let (col, row) = (i % 4, i / 4);
    let (lx, ly) = (LEFT + col as f64 * 220.0, LINE_H + 4.0 + row as f64 * 18.0);
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

/// Horizontal bars, one per row, with a label on the left and the value's text on the bar's right.
pub(super) fn bar_chart(id: &str, title: &str, bars: &[Bar]) -> String {
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
pub(super) fn ticks(max: f64) -> (Vec<f64>, f64) {
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
pub(super) fn compact(v: f64) -> String {
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
pub(super) fn to_f64(v: U256) -> f64 {
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

pub(super) fn group(digits: &str) -> String {
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
pub(super) fn esc(text: &str) -> String {
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
