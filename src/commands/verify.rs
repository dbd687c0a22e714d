//! `kessai verify`: checks every contract of a manifest on chain — code at its address, equal to its
//! committed artifact's runtime code (immutables blanked, [`kessai_deployer::verify::matches_artifact`])
//! and to the code hash the manifest recorded — and exits non-zero on any problem.

use super::{GlobalArgs, engine, output};
use kessai_bindings::alloy::primitives::{Address, keccak256};
use kessai_deployer::{chain::Chain, plan::DeployedContract, rpc::RpcChain, verify::matches_artifact};
use serde::Serialize;
use std::{fmt, path::PathBuf};

/// Check a deployed suite's code against the committed artifacts and its manifest.
///
/// Prints one line per contract: OK, MISMATCH (with what differs) or NO CODE.
#[derive(Debug, clap::Args)]
pub struct VerifyCommand {
    /// The node and the deployment manifest.
    #[command(flatten)]
    suite: engine::SuiteArgs,
}

impl VerifyCommand {
    /// Runs the checks.
    pub async fn execute(self, global: GlobalArgs) -> eyre::Result<()> {
        let (manifest, mut chain) = self.suite.connect_to_verify().await?;
        let mut report = Verification {
            chain_id: manifest.deployment.chain_id,
            ok: true,
            contracts: Vec::new(),
            manifest: self.suite.manifest,
        };
        for (label, c) in manifest.deployment.contracts {
            let (verdict, detail) = check(&mut chain, &c).await?;
            report.ok &= verdict == Verdict::Ok;
            report.contracts.push(Checked { label, address: c.address, artifact: c.artifact, status: verdict, detail });
        }
        output::print(global, &report)?;
        let failed = report.contracts.iter().filter(|c| c.status != Verdict::Ok).count();
        if failed > 0 {
            let message = format!("{failed} of {} contracts failed verification", report.contracts.len());
            return Err(super::Reported(message).into());
        }
        Ok(())
    }
}

/// What is at a contract's address: its runtime code, matched against the artifact and the code hash
/// the manifest recorded.
async fn check(chain: &mut RpcChain, c: &DeployedContract) -> eyre::Result<(Verdict, String)> {
    let code = chain.code(c.address).await?;
    if code.is_empty() {
        return Ok((Verdict::NoCode, "no code at the address".to_string()));
    }
    let hash = keccak256(&code);
    let artifact = matches_artifact(&c.artifact, &code)?;
    Ok(match (artifact, hash == c.code_hash) {
        (true, true) => (Verdict::Ok, format!("runtime code of {}, code hash {hash}", c.artifact)),
        (false, _) => (Verdict::Mismatch, format!("the code is not the runtime code of {}", c.artifact)),
        (true, false) => (
            Verdict::Mismatch,
            format!("code hash {hash}, but the manifest recorded {} (other immutables)", c.code_hash),
        ),
    })
}

/// What was found for one contract.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
enum Verdict {
    Ok,
    Mismatch,
    NoCode,
}

/// The suite's verification: a line per contract.
#[derive(Serialize)]
struct Verification {
    chain_id: u64,
    /// Every contract passed.
    ok: bool,
    contracts: Vec<Checked>,
    /// The manifest checked, for the text.
    #[serde(skip)]
    manifest: PathBuf,
}

/// One contract's verdict.
#[derive(Serialize)]
struct Checked {
    /// The manifest label.
    label: String,
    address: Address,
    artifact: String,
    status: Verdict,
    /// What was found, in words.
    detail: String,
}

impl fmt::Display for Verification {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "chain {}: {} contracts in {}", self.chain_id, self.contracts.len(), self.manifest.display())?;
        for Checked { label, address, status, detail, .. } in &self.contracts {
            let word = match status {
                Verdict::Ok => "OK",
                Verdict::Mismatch => "MISMATCH",
                Verdict::NoCode => "NO CODE",
            };
            write!(f, "\n{word:<9} {label:<20} {address} {detail}")?;
        }
        Ok(())
    }
}
