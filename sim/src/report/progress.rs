//! The progress lines of long runs, drawn by `indicatif`.

use super::compact;
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};

/// How a line looks: `steps [#####-----] 4,500/10,000 45% 1.2k/s ETA 5s`.
pub(super) const TEMPLATE: &str = "{prefix} [{bar:30}] {human_pos}/{human_len} {percent}% {rate} ETA {eta}";

/// Progress lines on stderr for long runs, one per counter (one per seed when several seeds run at
/// once): `steps [#####-----] 4,500/10,000 45% 1.2k/s ETA 5s`, redrawn in place.
///
/// They draw only when stderr is a terminal (never into a log file or a pipe). Print other lines
/// through [`Progress::suspend`]; [`Progress::finish`] (or dropping) erases them.
#[derive(Debug)]
pub struct Progress {
    lines: MultiProgress,
    bars: Vec<ProgressBar>,
}

impl Progress {
    /// One line per `(label, total)` (steps, runs…), drawn only if stderr is a terminal.
    pub fn new<L: Into<String>>(lines: impl IntoIterator<Item = (L, u64)>) -> Self {
        let multi = MultiProgress::new();
        let style = style();
        let bars = lines
            .into_iter()
            .map(|(label, total)| {
                multi.add(ProgressBar::new(total).with_style(style.clone()).with_prefix(label.into()))
            })
            .collect();
        Self { lines: multi, bars }
    }

    /// Progress that never draws.
    pub fn hidden() -> Self {
        Self { lines: MultiProgress::with_draw_target(ProgressDrawTarget::hidden()), bars: Vec::new() }
    }

    /// Records that `done` of line `line`'s total are done (redrawn at most 20 times a second). A
    /// line's clock starts at its first step (a seed may wait for a thread), and stops, with its
    /// average rate shown, when the total is reached.
    pub fn set(&self, line: usize, done: u64) {
        let Some(bar) = self.bars.get(line) else { return };
        if bar.is_finished() {
            return;
        }
        if bar.position() == 0 && done > 0 {
            bar.reset_elapsed();
            bar.reset_eta();
        }
        bar.set_position(done);
        if bar.length().is_some_and(|total| done >= total) {
            bar.finish();
        }
    }

    /// Runs `print` with the lines erased, then draws them again below what it printed.
    pub fn suspend<R>(&self, print: impl FnOnce() -> R) -> R {
        self.lines.suspend(print)
    }

    /// Erases the lines for good.
    pub fn finish(&self) {
        for bar in &self.bars {
            bar.finish_and_clear();
        }
    }
}

impl Drop for Progress {
    /// Erases the lines, finished or not (a run that stopped on an error leaves none behind).
    fn drop(&mut self) {
        self.finish();
    }
}

/// The style of every line: [`TEMPLATE`], the rate as compact as an axis label.
pub(super) fn style() -> ProgressStyle {
    let rate = |state: &ProgressState, w: &mut dyn std::fmt::Write| {
        let _ = write!(w, "{}/s", compact(state.per_sec().round()));
    };
    ProgressStyle::with_template(TEMPLATE)
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .with_key("rate", rate)
        .progress_chars("##-")
}
