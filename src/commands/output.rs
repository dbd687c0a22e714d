//! What commands print, in one place: a result as text for a person (its `Display`) or, with
//! `--json`, as JSON for a script (its `Serialize`), and a failure either way.
//!
//! A command's `execute` gets its result from the library, wraps it in a small struct that derives
//! `Serialize` and implements `Display`, and hands it to [`print`](fn@print) (or [`print_document`], a
//! [`List`] whose items print as they come, or [`write_line`] for a stream). Nothing else in a command writes its result to stdout; lines that
//! only a person reads as a command goes (progress, captions) go through [`progress`] and
//! [`caption`], which `--json` silences.

use super::GlobalArgs;
use kessai_bindings::{RevertError, alloy::primitives::B256};
use kessai_deployer::{DeployerError, chain::Receipt};
use serde::Serialize;
use std::{
    fmt::{self, Display},
    io::Write,
    path::PathBuf,
};

/// Prints a command's result on stdout: its text, or with `--json` one line of JSON.
///
/// The JSON line's object keys are in alphabetical order at every depth, whatever order the result
/// declares its fields in: a result made of parts (a record and the receipt of the transaction that
/// changed it) reads as one object, in the one order scripts and diffs have always seen.
pub fn print<T: Serialize + Display>(global: GlobalArgs, result: &T) -> eyre::Result<()> {
    if global.json {
        let mut value = serde_json::to_value(result)?;
        value.sort_all_objects();
        println!("{value}");
    } else {
        println!("{result}");
    }
    Ok(())
}

/// Prints a document (a manifest, a report, a register): its text, or with `--json` indented JSON
/// in the order its type declares its fields.
pub fn print_document<T: Serialize + Display>(global: GlobalArgs, document: &T) -> eyre::Result<()> {
    if global.json {
        println!("{}", serde_json::to_string_pretty(document)?);
    } else {
        println!("{document}");
    }
    Ok(())
}

/// Prints the details of a failure only with `--json`, as [`print`](fn@print) does: for a failure
/// whose text is its error message on stderr alone (`build --check`'s stale artifacts).
pub fn print_json<T: Serialize>(global: GlobalArgs, details: &T) -> eyre::Result<()> {
    if global.json {
        let mut value = serde_json::to_value(details)?;
        value.sort_all_objects();
        println!("{value}");
    }
    Ok(())
}

/// Prints a file's content as it is, with or without `--json`: a document in a format of its own
/// (a scenario file) that a script redirects into a file.
pub fn print_file(content: &str) {
    print!("{content}");
}

/// A list of results a command prints as each is ready (a benchmark's flows, the scenarios of a
/// parallel run): each item's text as it is pushed, and with `--json` the whole list as one indented
/// JSON array at the end, in the order its items declare their fields.
pub struct List<T> {
    global: GlobalArgs,
    items: Vec<T>,
}

impl<T: Serialize + Display> List<T> {
    /// An empty list.
    pub fn new(global: GlobalArgs) -> Self {
        Self { global, items: Vec::new() }
    }

    /// Adds `item`, printing its text now.
    pub fn push(&mut self, item: T) {
        if !self.global.json {
            println!("{item}");
        }
        self.items.push(item);
    }

    /// Ends the list: with `--json` prints it whole; returns its items.
    pub fn end(self) -> eyre::Result<Vec<T>> {
        if self.global.json {
            println!("{}", serde_json::to_string_pretty(&self.items)?);
        }
        Ok(self.items)
    }

    /// [`Self::end`], with a closing line for the text (a total).
    pub fn end_with(self, footer: impl Display) -> eyre::Result<Vec<T>> {
        progress(self.global, footer);
        self.end()
    }
}

/// Files a command wrote: `wrote <path>` a line each (relative to `base` when under it), and in
/// JSON `{"written": [path, …]}` with the paths whole.
#[derive(Debug, Serialize)]
pub struct Written {
    /// The files, in the order they were written.
    pub written: Vec<PathBuf>,
    /// The directory the text names files from (the project root), if any.
    #[serde(skip)]
    pub base: Option<PathBuf>,
}

impl Display for Written {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, file) in self.written.iter().enumerate() {
            let shown = self.base.as_deref().and_then(|base| file.strip_prefix(base).ok()).unwrap_or(file);
            write!(f, "{}wrote {}", if i == 0 { "" } else { "\n" }, shown.display())?;
        }
        Ok(())
    }
}

/// Writes one record of a stream (`watch`) to `out`: its text, or with `--json` its JSON on one
/// line in the order its type declares its fields (JSON Lines).
pub fn write_line<T: Serialize + Display>(out: &mut impl Write, global: GlobalArgs, record: &T) -> eyre::Result<()> {
    if global.json {
        writeln!(out, "{}", serde_json::to_string(record)?)?;
    } else {
        writeln!(out, "{record}")?;
    }
    Ok(())
}

/// Prints a line of progress on stdout as the command goes; nothing with `--json`, whose stdout
/// holds the result only.
pub fn progress(global: GlobalArgs, line: impl Display) {
    if !global.json {
        println!("{line}");
    }
}

/// Writes a caption for the text result on stderr, so that stdout holds only what a script captures
/// (`$(kessai trade … sign …)`); nothing with `--json`.
pub fn caption(global: GlobalArgs, line: impl Display) {
    if !global.json {
        eprintln!("{line}");
    }
}

/// Reports a failed command: one line per cause on stderr, outermost first; with `--json` also
/// `{"error": {"message", "causes", "revert"}}` on stdout, `revert` holding the decoded contract
/// error (name, arguments, sentence) when a transaction or call was refused — unless the command
/// already printed its result ([`super::Reported`]).
pub fn print_error(global: GlobalArgs, report: &eyre::Report) {
    // No backtrace noise for an operator.
    // A cause whose text its error's message already includes (`…: {source}`) is not said again.
    let mut lines: Vec<String> = Vec::new();
    for cause in report.chain().map(ToString::to_string) {
        if lines.last().is_none_or(|previous| !previous.contains(&cause)) {
            lines.push(cause);
        }
    }
    eprintln!("error: {}", lines.join("\n  caused by: "));
    if global.json && report.downcast_ref::<super::Reported>().is_none() {
        let revert = report.chain().find_map(|cause| match cause.downcast_ref::<DeployerError>() {
            Some(DeployerError::Revert(e)) => Some(e),
            _ => cause.downcast_ref::<RevertError>(),
        });
        let failure = Failure {
            error: FailureBody {
                message: lines.first().map(String::as_str),
                causes: lines.get(1..).unwrap_or_default(),
                revert: revert.map(Revert::from),
            },
        };
        if let Err(e) = print(global, &failure) {
            eprintln!("error: cannot print the error as JSON: {e}");
        }
    }
}

/// A failure, as `--json` prints it.
#[derive(Serialize)]
struct Failure<'a> {
    error: FailureBody<'a>,
}

/// The failure's message, the messages of its causes, and the contract's refusal if there was one.
#[derive(Serialize)]
struct FailureBody<'a> {
    message: Option<&'a str>,
    causes: &'a [String],
    revert: Option<Revert<'a>>,
}

/// A decoded contract revert as JSON: its name, rendered arguments and sentence.
#[derive(Serialize)]
struct Revert<'a> {
    name: &'a str,
    args: &'a [String],
    message: &'a str,
}

impl<'a> From<&'a RevertError> for Revert<'a> {
    fn from(e: &'a RevertError) -> Self {
        Self { name: &e.name, args: &e.args, message: &e.message }
    }
}

impl Display for Failure<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.error.message.unwrap_or_default())
    }
}

/// A mined transaction, as results show it: `tx … in block … (gas …)`, and in JSON the fields
/// `tx_hash`, `block` and `gas_used` (`#[serde(flatten)]` it into a result).
#[derive(Clone, Copy, Debug, Serialize)]
pub struct Tx {
    /// The transaction hash.
    pub tx_hash: B256,
    /// The block it was mined in.
    pub block: u64,
    /// The gas it used.
    pub gas_used: u64,
}

impl From<&Receipt> for Tx {
    fn from(r: &Receipt) -> Self {
        Self { tx_hash: r.tx_hash, block: r.block_number, gas_used: r.gas_used }
    }
}

impl Display for Tx {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "tx {} in block {} (gas {})", self.tx_hash, self.block, self.gas_used)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kessai_bindings::alloy::primitives::U256;

    /// A result whose fields are declared out of alphabetical order.
    #[derive(Serialize)]
    struct Unsorted {
        zeta: u8,
        #[serde(flatten)]
        tx: Tx,
        #[serde(with = "kessai_deployer::events::decimal")]
        amount: U256,
    }

    #[test]
    fn written_files_are_named_from_the_base_as_text_and_whole_in_json() {
        let written = Written {
            written: vec![PathBuf::from("/root/bindings/artifacts/DvP.json"), PathBuf::from("/elsewhere/x.json")],
            base: Some(PathBuf::from("/root")),
        };
        assert_eq!(written.to_string(), "wrote bindings/artifacts/DvP.json\nwrote /elsewhere/x.json");
        assert_eq!(
            serde_json::to_string(&written).expect("serialize"),
            r#"{"written":["/root/bindings/artifacts/DvP.json","/elsewhere/x.json"]}"#
        );
    }

    #[test]
    fn json_lines_sort_their_keys_at_every_depth() {
        let tx = Tx { tx_hash: B256::ZERO, block: 7, gas_used: 21_000 };
        let mut value = serde_json::to_value(Unsorted { zeta: 1, tx, amount: U256::from(10).pow(U256::from(20)) })
            .expect("serialize");
        value.sort_all_objects();
        assert_eq!(
            value.to_string(),
            format!(
                r#"{{"amount":"100000000000000000000","block":7,"gas_used":21000,"tx_hash":"{}","zeta":1}}"#,
                B256::ZERO
            )
        );
    }
}
