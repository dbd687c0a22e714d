//! `kessai verify`: checks every contract of a manifest on chain — code at its address, equal to its
//! committed artifact's runtime code (immutables blanked, [`kessai_deployer::verify::matches_artifact`])
//! and to the code hash the manifest recorded — and exits non-zero on any problem.

use super::{GlobalArgs, engine};
use kessai_bindings::alloy::primitives::keccak256;
use kessai_deployer::{chain::Chain, verify::matches_artifact};
use serde_json::json;

/// Check a deployed suite's code against the committed artifacts and its manifest.
///
/// Prints one line per contract: OK, MISMATCH (with what differs) or NO CODE.
#[derive(Debug, clap::Args)]
pub struct VerifyCommand {
    /// The node and the deployment manifest.
    #[command(flatten)]
    suite: engine::SuiteArgs,
}

/// What was found for one contract.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Verdict {
    Ok,
    Mismatch,
    NoCode,
}

impl VerifyCommand {
    /// Runs the checks.
    pub async fn execute(self, global: GlobalArgs) -> eyre::Result<()> {
        let (manifest, mut chain) = self.suite.connect_to_verify().await?;
        let chain_id = manifest.deployment.chain_id;
        let mut results = Vec::new();
        for (label, c) in &manifest.deployment.contracts {
            let code = chain.code(c.address).await?;
            let (verdict, detail) = if code.is_empty() {
                (Verdict::NoCode, "no code at the address".to_string())
            } else {
                let hash = keccak256(&code);
                let artifact = matches_artifact(&c.artifact, &code)?;
                match (artifact, hash == c.code_hash) {
                    (true, true) => (Verdict::Ok, format!("runtime code of {}, code hash {hash}", c.artifact)),
                    (false, _) => (Verdict::Mismatch, format!("the code is not the runtime code of {}", c.artifact)),
                    (true, false) => (
                        Verdict::Mismatch,
                        format!("code hash {hash}, but the manifest recorded {} (other immutables)", c.code_hash),
                    ),
                }
            };
            results.push((label, c, verdict, detail));
        }
        let failed = results.iter().filter(|r| r.2 != Verdict::Ok).count();
        if global.json {
            let contracts: Vec<_> = results
                .iter()
                .map(|(label, c, verdict, detail)| {
                    json!({
                        "label": label,
                        "address": c.address,
                        "artifact": c.artifact,
                        "status": match verdict {
                            Verdict::Ok => "ok",
                            Verdict::Mismatch => "mismatch",
                            Verdict::NoCode => "no_code",
                        },
                        "detail": detail,
                    })
                })
                .collect();
            println!("{}", json!({ "chain_id": chain_id, "ok": failed == 0, "contracts": contracts }));
        } else {
            println!("chain {chain_id}: {} contracts in {}", results.len(), self.suite.manifest.display());
            for (label, c, verdict, detail) in &results {
                let word = match verdict {
                    Verdict::Ok => "OK",
                    Verdict::Mismatch => "MISMATCH",
                    Verdict::NoCode => "NO CODE",
                };
                println!("{word:<9} {label:<20} {} {detail}", c.address);
            }
        }
        if failed > 0 {
            let message = format!("{failed} of {} contracts failed verification", results.len());
            return Err(super::Reported(message).into());
        }
        Ok(())
    }
}
