//! `kessai build`: compile the contracts into the committed artifacts.

use super::{
    GlobalArgs,
    output::{self, Written},
};
use clap::Args;
use kessai_deployer::{build, tools};
use serde::Serialize;
use std::fmt;

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
            let check = Check { stale: build::stale_artifacts(&root)? };
            if check.stale.is_empty() {
                return output::print(global, &check);
            }
            output::print_json(global, &check)?;
            eyre::bail!(
                "artifacts differ from a fresh build: {}. Run `kessai build` and commit bindings/artifacts/",
                check.stale.join(", ")
            );
        }
        let written = build::write_artifacts(&root)?;
        output::print(global, &Written { written, base: Some(root) })
    }
}

/// What `--check` found: the artifacts that differ from a fresh build.
#[derive(Serialize)]
struct Check {
    stale: Vec<String>,
}

/// The verdict when every artifact is up to date (a stale one is the command's error).
impl fmt::Display for Check {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "artifacts are up to date (solc {}, evm {})", build::SOLC_VERSION, build::EVM_VERSION)
    }
}
