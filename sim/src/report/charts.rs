//! SVG charts for the HTML report: line and bar charts, ticks and number formatting.

use super::*;

pub(super) const CSS: &str = "\
body{margin:0;background:#f6f7f9;color:#1d2430;font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif}\
main{max-width:1100px;margin:0 auto;padding:24px}\
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #d8dde6;padding-bottom:4px}\
.meta{color:#5b6575;margin:0 0 16px}.note{color:#5b6575;font-size:13px}\
.ok{color:#1a7f37}.bad,.err{color:#c62828;font-weight:600}.expected{color:#9a6700;font-weight:600}\
.dim{color:#6b7585;font-size:12px}\
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(160px,1fr));gap:10px}\
.card{background:#fff;border:1px solid #dfe3ea;border-radius:6px;padding:10px 12px}\
.card .v{font-size:18px;font-weight:600;font-variant-numeric:tabular-nums}.card .k{color:#5b6575;font-size:12px}\
.card.c-bad .v{color:#c62828}.card.c-expected .v{color:#9a6700}td time{white-space:nowrap}\
figure{background:#fff;border:1px solid #dfe3ea;border-radius:6px;margin:10px 0;padding:10px}\
figcaption{font-weight:600;margin-bottom:4px}svg{display:block;max-width:100%;height:auto}\
svg text{font:11px system-ui,sans-serif;fill:#3b4453}svg .grid{stroke:#e6e9ef}svg .axis{stroke:#9aa3b2}\
svg text.tick-date{fill:#6b7585;font-size:10px}\
table{border-collapse:collapse;width:100%;background:#fff;font-size:13px}\
th,td{border-bottom:1px solid #e6e9ef;padding:4px 6px;text-align:left;vertical-align:top}\
th{background:#eef1f5;position:sticky;top:0}td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}\
tr.failed{background:#fdecea}tr.refused{background:#fff8e1}td.ev{font-family:ui-monospace,monospace;font-size:11px;color:#3b4453}\
table.steps{table-layout:fixed}table.steps td{overflow-wrap:anywhere}\
.trade{display:inline-block;border-radius:3px;padding:0 5px;margin:1px;background:#eef1f5;font-size:12px}\
.trade.settled{background:#dcf2e3}.trade.cancelled{background:#fde7c8}.trade.expired{background:#e8def8}\
code{font-family:ui-monospace,monospace}";

/// Colours of plotted series, in order.
pub(super) const PALETTE: [&str; 10] =
    ["#1f6feb", "#d1242f", "#1a7f37", "#9a6700", "#8250df", "#0a7ea4", "#bf3989", "#57606a", "#e16f24", "#2da44e"];

/// One line of a chart: (x, y) points in x order (x in unix seconds).
#[derive(Clone, Debug)]
pub(super) struct Series {
    pub(super) name: String,
    pub(super) points: Vec<(f64, f64)>,
    /// A tooltip per point (its date, step and value), drawn as a marker; none on long series.
    pub(super) marks: Vec<String>,
}

/// One bar of a bar chart.
pub(super) struct Bar {
    pub(super) label: String,
    pub(super) value: f64,
    pub(super) text: String,
    pub(super) class: &'static str,
}

/// One column of a column chart: it covers `from..to` (unix seconds) up to `value`.
pub(super) struct Column {
    pub(super) from: u64,
    pub(super) to: u64,
    pub(super) value: f64,
    pub(super) title: String,
}

/// The x axis of a chart over time: the instants it covers, its ticks and its name.
pub(super) struct TimeAxis {
    pub(super) from: u64,
    pub(super) to: u64,
    pub(super) ticks: Vec<Tick>,
    pub(super) name: String,
}

impl TimeAxis {
    /// An axis from `from` to `to` (at least one second), labelled in `zone`.
    pub(super) fn new(from: u64, to: u64, zone: &Zone) -> Self {
        let to = to.max(from + 1);
        Self { from, to, ticks: zone.ticks(from, to), name: format!("time ({})", zone.name()) }
    }
}

/// Width of a line chart.
const LINE_W: f64 = 1000.0;
/// Height of a line chart above its legend.
const LINE_H: f64 = 300.0;
/// Margin left of the plot area (the y axis' labels).
const LEFT: f64 = 80.0;
/// Margin right of the plot area.
const RIGHT: f64 = 40.0;
/// Margin above the plot area.
const TOP: f64 = 14.0;
/// Margin below the plot area (the x axis' labels, dates and name).
const BOTTOM: f64 = 52.0;
/// Width of the plot area.
const PLOT_W: f64 = LINE_W - LEFT - RIGHT;
/// Height of the plot area.
const PLOT_H: f64 = LINE_H - TOP - BOTTOM;

/// Opens a chart's `<svg>` element with its title.
fn open_svg(svg: &mut String, id: &str, class: &str, title: &str, width: f64, height: f64) {
    let _ = write!(
        svg,
        "<svg id=\"{id}\" class=\"plot {class}\" viewBox=\"0 0 {width} {height}\" width=\"{width}\" height=\"{height}\" \
         role=\"img\" aria-label=\"{}\" xmlns=\"http://www.w3.org/2000/svg\"><title>{}</title>",
        esc(title),
        esc(title)
    );
}

/// A step chart over time (values hold until the next point) with axes, grid, date ticks, a
/// marker per point on short series, and a legend.
pub(super) fn line_chart(id: &str, title: &str, unit: &str, axis: &TimeAxis, series: &[Series]) -> String {
    let legend_rows = series.len().div_ceil(4);
    let height = LINE_H + 18.0 * legend_rows as f64;
    let y_max = series.iter().flat_map(|s| &s.points).map(|p| p.1).fold(0.0, f64::max);
    let frame = Frame::new(axis, y_max);
    let mut svg = String::new();
    open_svg(&mut svg, id, "line", title, LINE_W, height);
    frame.write_grid(&mut svg);
    frame.write_x_ticks(&mut svg, axis);
    write_axes(&mut svg, &axis.name, unit);
    for (i, s) in series.iter().enumerate() {
        let colour = PALETTE[i % PALETTE.len()];
        frame.write_line(&mut svg, s, colour);
        write_legend_entry(&mut svg, i, s, colour);
    }
    svg.push_str("</svg>");
    svg
}

/// Columns over time (a histogram: trades settled per hour), with the axes of a line chart.
pub(super) fn column_chart(id: &str, title: &str, unit: &str, axis: &TimeAxis, columns: &[Column]) -> String {
    let y_max = columns.iter().map(|c| c.value).fold(0.0, f64::max);
    let frame = Frame::new(axis, y_max);
    let mut svg = String::new();
    open_svg(&mut svg, id, "columns", title, LINE_W, LINE_H);
    frame.write_grid(&mut svg);
    frame.write_x_ticks(&mut svg, axis);
    write_axes(&mut svg, &axis.name, unit);
    for c in columns {
        let (x0, x1) = (frame.sx(c.from as f64), frame.sx(c.to as f64));
        let top = frame.sy(c.value);
        let _ = write!(
            svg,
            "<rect class=\"column\" x=\"{x0:.1}\" y=\"{top:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"{}\"><title>{}</title></rect>",
            (x1 - x0 - 1.0).max(1.0),
            frame.sy(0.0) - top,
            PALETTE[2],
            esc(&c.title)
        );
    }
    svg.push_str("</svg>");
    svg
}

/// The scales of a chart over time: the y ticks and the ranges of both axes.
struct Frame {
    y_ticks: Vec<f64>,
    x_from: f64,
    x_to: f64,
    y_top: f64,
}

impl Frame {
    /// Scales for `axis` and values up to `y_max`.
    fn new(axis: &TimeAxis, y_max: f64) -> Self {
        let (y_ticks, y_top) = ticks(y_max);
        Self { y_ticks, x_from: axis.from as f64, x_to: axis.to as f64, y_top }
    }

    /// The horizontal position of `x`.
    fn sx(&self, x: f64) -> f64 {
        LEFT + (x - self.x_from) / (self.x_to - self.x_from) * PLOT_W
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

    /// Writes a tick mark and its label (and the date under a time of day where it changes) at
    /// each tick of the time axis.
    fn write_x_ticks(&self, svg: &mut String, axis: &TimeAxis) {
        for tick in &axis.ticks {
            let px = self.sx(tick.at as f64);
            let _ = write!(
                svg,
                "<line class=\"axis\" x1=\"{px:.1}\" x2=\"{px:.1}\" y1=\"{:.1}\" y2=\"{:.1}\"/>\
                 <text class=\"tick\" x=\"{px:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
                TOP + PLOT_H,
                TOP + PLOT_H + 4.0,
                TOP + PLOT_H + 16.0,
                esc(&tick.label)
            );
            if let Some(date) = &tick.date {
                let _ = write!(
                    svg,
                    "<text class=\"tick-date\" x=\"{px:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
                    TOP + PLOT_H + 29.0,
                    esc(date)
                );
            }
        }
    }

    /// Writes one series as a step line (each value holds until the next point), titled by its
    /// name, and a marker with its tooltip at each point that has one.
    fn write_line(&self, svg: &mut String, s: &Series, colour: &str) {
        let mut path = String::new();
        let mut last_y = None;
        for (x, y) in &s.points {
            let (px, py) = (self.sx(*x), self.sy(*y));
            match last_y {
                None => {
                    let _ = write!(path, "M{px:.1},{py:.1}");
                }
                Some(ly) => {
                    let _ = write!(path, " L{px:.1},{ly:.1} L{px:.1},{py:.1}");
                }
            }
            last_y = Some(py);
        }
        let _ = write!(
            svg,
            "<path d=\"{path}\" fill=\"none\" stroke=\"{colour}\" stroke-width=\"1.8\" stroke-linejoin=\"round\" \
             data-points=\"{}\"><title>{}</title></path>",
            s.points.len(),
            esc(&s.name)
        );
        for ((x, y), mark) in s.points.iter().zip(&s.marks) {
            let _ = write!(
                svg,
                "<circle class=\"point\" cx=\"{:.1}\" cy=\"{:.1}\" r=\"2.5\" fill=\"{colour}\"><title>{}</title></circle>",
                self.sx(*x),
                self.sy(*y),
                esc(mark)
            );
        }
    }
}

/// Writes both axes of a chart over time with their names (`x_name`, and `unit`).
fn write_axes(svg: &mut String, x_name: &str, unit: &str) {
    let _ = write!(
        svg,
        "<line class=\"axis\" x1=\"{LEFT}\" x2=\"{:.1}\" y1=\"{:.1}\" y2=\"{:.1}\"/>\
         <line class=\"axis\" x1=\"{LEFT}\" x2=\"{LEFT}\" y1=\"{TOP}\" y2=\"{:.1}\"/>\
         <text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>\
         <text x=\"14\" y=\"{:.1}\" text-anchor=\"middle\" transform=\"rotate(-90 14 {:.1})\">{}</text>",
        LINE_W - RIGHT,
        TOP + PLOT_H,
        TOP + PLOT_H,
        TOP + PLOT_H,
        LEFT + PLOT_W / 2.0,
        TOP + PLOT_H + 44.0,
        esc(x_name),
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
    const LABEL: f64 = 330.0;
    const ROW: f64 = 24.0;
    const TEXT: f64 = 250.0;
    let height = (bars.len().max(1) as f64) * ROW + 8.0;
    let max = bars.iter().map(|b| b.value).fold(0.0, f64::max);
    let width = W - LABEL - TEXT;
    let mut svg = String::new();
    open_svg(&mut svg, id, "bars", title, W, height);
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
            "refused-expected" => "#bf8700",
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
