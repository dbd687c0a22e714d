//! `kessai ledger`: an instrument's holder register at a block — every account that ever held units,
//! with its units, held and frozen units and eligibility at that block — written as CSV and JSON, what
//! a registrar files. Built by [`kessai_deployer::events::holder_register`].

use super::{GlobalArgs, engine, output};
use eyre::WrapErr;
use kessai_bindings::alloy::primitives::{Address, U256};
use kessai_deployer::{
    events::{self, HolderRegister, decimal},
    plan::labels,
};
use serde::Serialize;
use std::{
    fmt,
    path::{Path, PathBuf},
};

/// Write the security token's holder register at a block as CSV and JSON.
///
/// `kessai ledger --manifest M --block N --csv FILE --json FILE` writes both files; `--json` without a
/// file prints the register as JSON on stdout. Reads at a past block need a node that keeps that
/// block's state (an archive node; Anvil keeps all). A block before the token was deployed is
/// refused, naming the suite's first block (an empty register would claim nobody held units).
#[derive(Debug, clap::Args)]
#[command(override_usage = "kessai ledger --manifest <MANIFEST> [--block <N>] [--csv <FILE>] [--json [<FILE>]]")]
pub struct LedgerCommand {
    /// The node and the deployment manifest.
    #[command(flatten)]
    suite: engine::SuiteArgs,
    /// The block the register is taken at (default: the latest).
    #[arg(long)]
    block: Option<u64>,
    /// The token, by manifest label.
    #[arg(long, default_value = labels::SECURITY)]
    token: String,
    /// Write the register as CSV to this file.
    #[arg(long)]
    csv: Option<PathBuf>,
    /// With --json: write the register as JSON to this file instead of stdout.
    #[arg(value_name = "FILE")]
    json_file: Option<PathBuf>,
}

impl LedgerCommand {
    /// Builds and writes the register.
    pub async fn execute(self, global: GlobalArgs) -> eyre::Result<()> {
        if self.json_file.is_some() && !global.json {
            eyre::bail!("give the JSON file as `--json FILE`");
        }
        let (manifest, mut chain) = self.suite.connect_read_only().await?;
        let token = manifest.deployment.address(&self.token)?;
        let from_block = manifest.deployment.contracts.get(&self.token).map_or(0, |c| c.block);
        let block = match self.block {
            Some(block) => block,
            None => chain.block_number().await?,
        };
        if block < from_block {
            let first = manifest.deployment.contracts.values().map(|c| c.block).min().unwrap_or(from_block);
            eyre::bail!(
                "block {block} is before the suite existed: its first block is {first} ({} was deployed at block \
                 {from_block}); choose a block at or after {from_block}",
                self.token
            );
        }
        let register = events::holder_register(&mut chain, token, from_block, block).await?;
        if let Some(path) = &self.csv {
            write(path, register.to_csv())?;
        }
        match self.json_file {
            Some(json) => {
                write(&json, serde_json::to_string_pretty(&register)? + "\n")?;
                let summary = Written::new(&register, self.csv, json);
                output::print(global, &summary)
            }
            None => output::print_document(global, &Ledger { label: &self.token, register, csv: self.csv }),
        }
    }
}

/// Writes `contents` to the file at `path`, naming it when it cannot.
fn write(path: &Path, contents: String) -> eyre::Result<()> {
    std::fs::write(path, contents).wrap_err_with(|| format!("cannot write {}", path.display()))
}

/// The register on stdout: in JSON the whole register, in text a summary and a line per holder.
#[derive(Serialize)]
#[serde(transparent)]
struct Ledger<'a> {
    /// The token's manifest label, for the text.
    #[serde(skip)]
    label: &'a str,
    register: HolderRegister,
    /// Where the CSV was written, for the text.
    #[serde(skip)]
    csv: Option<PathBuf>,
}

impl fmt::Display for Ledger<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let r = &self.register;
        write!(
            f,
            "holder register of {} ({}) at block {} (time {}): {} accounts ever held units, {} hold units now; supply {}",
            self.label,
            r.token,
            r.block,
            r.timestamp,
            r.holders.len(),
            r.current_holders().count(),
            r.total_supply
        )?;
        for h in &r.holders {
            write!(
                f,
                "\n  {} units {} held {} frozen {}{}{}",
                h.holder,
                h.units,
                h.held,
                h.frozen,
                if h.account_frozen { " ACCOUNT FROZEN" } else { "" },
                if h.eligible { "" } else { " NOT ELIGIBLE" }
            )?;
        }
        if let Some(path) = &self.csv {
            write!(f, "\nCSV written to {}", path.display())?;
        }
        Ok(())
    }
}

/// The register written to files (`--json FILE`): what stdout gets instead of the register.
#[derive(Serialize)]
struct Written {
    token: Address,
    block: u64,
    /// How many accounts ever held units.
    holders: usize,
    #[serde(with = "decimal")]
    total_supply: U256,
    csv: Option<PathBuf>,
    json: PathBuf,
}

impl Written {
    fn new(register: &HolderRegister, csv: Option<PathBuf>, json: PathBuf) -> Self {
        let r = register;
        Self { token: r.token, block: r.block, holders: r.holders.len(), total_supply: r.total_supply, csv, json }
    }
}

impl fmt::Display for Written {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "holder register of {} at block {} written to {}", self.token, self.block, self.json.display())
    }
}
