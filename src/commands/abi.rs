//! `kessai abi`: exports the committed artifacts' ABIs as plain JSON arrays (what cast, viem and ethers
//! take) and, from a manifest, a `deployment.json` naming each contract's address and ABI file.

use super::GlobalArgs;
use eyre::WrapErr;
use serde_json::{Map, Value, json};
use std::path::PathBuf;

/// Export `<Contract>.abi.json` for every contract, and `deployment.json` from a manifest.
///
/// `deployment.json` is `{"chainId": N, "contracts": {"<label>": {"address": "0x…", "abi":
/// "<Contract>.abi.json"}}}`, with the ABI path relative to the file.
#[derive(Debug, clap::Args)]
pub struct AbiCommand {
    /// Directory to write into (created if missing).
    #[arg(long)]
    out: PathBuf,
    /// A deployment manifest: also write `deployment.json` for its contracts.
    #[arg(long)]
    manifest: Option<PathBuf>,
}

impl AbiCommand {
    /// Writes the files.
    pub async fn execute(self, global: GlobalArgs) -> eyre::Result<()> {
        std::fs::create_dir_all(&self.out).wrap_err_with(|| format!("cannot create {}", self.out.display()))?;
        let mut written = Vec::new();
        for artifact in kessai_bindings::ARTIFACTS {
            let value: Value = serde_json::from_str(artifact.json)
                .wrap_err_with(|| format!("the committed artifact {} is not JSON", artifact.name))?;
            let abi = value
                .get("abi")
                .filter(|a| a.is_array())
                .ok_or_else(|| eyre::eyre!("the committed artifact {} has no ABI array", artifact.name))?;
            let path = self.out.join(abi_file(artifact.name));
            std::fs::write(&path, serde_json::to_string_pretty(abi)? + "\n")
                .wrap_err_with(|| format!("cannot write {}", path.display()))?;
            written.push(path);
        }
        if let Some(manifest_path) = &self.manifest {
            let manifest = super::engine::read_manifest(manifest_path)?;
            let mut contracts = Map::new();
            for (label, c) in &manifest.deployment.contracts {
                contracts.insert(label.clone(), json!({ "address": c.address, "abi": abi_file(&c.artifact) }));
            }
            let deployment = json!({ "chainId": manifest.deployment.chain_id, "contracts": contracts });
            let path = self.out.join("deployment.json");
            std::fs::write(&path, serde_json::to_string_pretty(&deployment)? + "\n")
                .wrap_err_with(|| format!("cannot write {}", path.display()))?;
            written.push(path);
        }
        if global.json {
            println!("{}", json!({ "written": written }));
        } else {
            for path in &written {
                println!("wrote {}", path.display());
            }
        }
        Ok(())
    }
}

/// The ABI file name of contract `name`.
fn abi_file(name: &str) -> String {
    format!("{name}.abi.json")
}
