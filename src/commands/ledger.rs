//! `kessai ledger`: an instrument's holder register at a block — every account that ever held units,
//! with its units, held and frozen units and eligibility at that block — written as CSV and JSON, what
//! a registrar files. Built by [`kessai_deployer::events::holder_register`].

use super::{GlobalArgs, engine};
use eyre::WrapErr;
use kessai_deployer::{events, plan::labels};
use std::path::PathBuf;

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
            std::fs::write(path, register.to_csv()).wrap_err_with(|| format!("cannot write {}", path.display()))?;
        }
        let json = serde_json::to_string_pretty(&register)? + "\n";
        match (&self.json_file, global.json) {
            (Some(path), _) => {
                std::fs::write(path, &json).wrap_err_with(|| format!("cannot write {}", path.display()))?;
                // The register went to the file: stdout gets a one-line JSON summary.
                let summary = serde_json::json!({
                    "token": token,
                    "block": register.block,
                    "holders": register.holders.len(),
                    "total_supply": register.total_supply.to_string(),
                    "csv": self.csv,
                    "json": path,
                });
                println!("{summary}");
            }
            (None, true) => print!("{json}"),
            (None, false) => {}
        }
        if !global.json {
            let current = register.current_holders().count();
            println!(
                "holder register of {} ({}) at block {} (time {}): {} accounts ever held units, {current} hold units now; supply {}",
                self.token,
                token,
                register.block,
                register.timestamp,
                register.holders.len(),
                register.total_supply
            );
            for h in &register.holders {
                println!(
                    "  {} units {} held {} frozen {}{}{}",
                    h.holder,
                    h.units,
                    h.held,
                    h.frozen,
                    if h.account_frozen { " ACCOUNT FROZEN" } else { "" },
                    if h.eligible { "" } else { " NOT ELIGIBLE" }
                );
            }
            if let Some(path) = &self.csv {
                println!("CSV written to {}", path.display());
            }
        }
        Ok(())
    }
}
