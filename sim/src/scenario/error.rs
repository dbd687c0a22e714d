//! The scenario error type: a file that does not parse (with line and column), a scenario the chain
//! cannot run (more parties than keys), or the chain failing underneath.

use kessai_deployer::DeployerError;
use std::{fmt, path::PathBuf};

/// A mistake in a scenario file, located by line and column (both from 1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    /// The file, when parsed from one.
    pub path: Option<PathBuf>,
    /// Line of the offending value (from 1).
    pub line: usize,
    /// Column of the offending value (from 1, in characters).
    pub column: usize,
    /// What is wrong and what was expected.
    pub message: String,
    /// The source line, for display.
    pub source_line: String,
    /// Characters of the source line to underline (at least 1).
    pub width: usize,
}

impl ParseError {
    /// An error at byte range `span` of `src`.
    pub fn at(src: &str, span: std::ops::Range<usize>, message: impl Into<String>) -> Self {
        let start = span.start.min(src.len());
        let line_start = src[..start].rfind('\n').map_or(0, |i| i + 1);
        let line_end = src[start..].find('\n').map_or(src.len(), |i| start + i);
        let line = src[..start].matches('\n').count() + 1;
        let column = src[line_start..start].chars().count() + 1;
        let end = span.end.clamp(start, line_end);
        let width = src[start..end].chars().count().max(1);
        let source_line = src[line_start..line_end].trim_end_matches('\r').to_string();
        Self { path: None, line, column, message: message.into(), source_line, width }
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(path) = &self.path {
            write!(f, "{}:", path.display())?;
        }
        writeln!(f, "{}:{}: {}", self.line, self.column, self.message)?;
        let gutter = self.line.to_string().len();
        writeln!(f, "{:>gutter$} | {}", self.line, self.source_line)?;
        write!(f, "{:>gutter$} | {}{}", "", " ".repeat(self.column - 1), "^".repeat(self.width))
    }
}

impl std::error::Error for ParseError {}

/// Everything that can stop a scenario from running.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    /// The file is malformed.
    #[error("{0}")]
    Parse(#[from] ParseError),
    /// The file cannot be read.
    #[error("cannot read scenario {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The scenario cannot run on this chain (too few keys, a start in the past).
    #[error("{0}")]
    Setup(String),
    /// The chain failed (not a revert: those are step outcomes).
    #[error(transparent)]
    Chain(#[from] DeployerError),
    /// Engines that must agree did not (results, gas), or a workload did not run as generated.
    #[error("{0}")]
    Disagreement(String),
}
