//! `kessai build`: compile the contracts into the committed artifacts.

use super::GlobalArgs;
use clap::Args;
use kessai_deployer::{build, tools};

/// Compile `contracts/src` with the pinned solc into `bindings/artifacts/`.
#[derive(Debug, Args)]
pub struct BuildCommand {
    /// Do not write; fail if the committed artifacts differ from a fresh build.
    #[arg(long)]
    check: bool,
}

impl BuildCommand {
    /// Runs the build.
    pub async fn execute(self, global: GlobalArgs) -> eyre::Result<()> {
        let root = tools::project_root();
        if self.check {
            let stale = build::stale_artifacts(&root)?;
            if global.json {
                println!("{}", serde_json::json!({ "stale": stale }));
            } else if stale.is_empty() {
                println!("artifacts are up to date (solc {}, evm {})", build::SOLC_VERSION, build::EVM_VERSION);
            }
            if !stale.is_empty() {
                eyre::bail!(
                    "artifacts differ from a fresh build: {}. Run `kessai build` and commit bindings/artifacts/",
                    stale.join(", ")
                );
            }
            return Ok(());
        }
        let written = build::write_artifacts(&root)?;
        if global.json {
            println!("{}", serde_json::json!({ "written": written }));
        } else {
            for file in written {
                println!("wrote {}", file.strip_prefix(&root).unwrap_or(&file).display());
            }
        }
        Ok(())
    }
}
