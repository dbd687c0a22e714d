//! The progress line of long runs.

use super::*;

/// A progress line on stderr for long runs: `label [#####-----] 4,500/10,000 45% 1.2k/s ETA 5s`,
/// redrawn in place at most ten times a second.
///
/// It draws only when stderr is a terminal (never into a log file or a pipe), and only after the
/// first quarter second, so short runs print nothing. Call [`Progress::clear`] before printing
/// other lines to the terminal and [`Progress::finish`] at the end.
#[derive(Debug)]
pub struct Progress {
    pub(super) label: String,
    pub(super) total: u64,
    pub(super) started: Instant,
    pub(super) last_draw: Option<Instant>,
    pub(super) drawn: bool,
    pub(super) enabled: bool,
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

    pub(super) fn with_enabled(label: impl Into<String>, total: u64, enabled: bool) -> Self {
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
    pub(super) fn line(&self, done: u64, elapsed: Duration) -> String {
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
