//! `kessai deploy`: execute the suite's plan on a node and write the manifest.

use super::{GlobalArgs, engine};
use clap::Args;
use kessai_deployer::{chain::Chain, manifest::Manifest, plan};
use kessai_sim::demo::{DemoParties, demo_spec};
use std::path::PathBuf;

/// Deploy the suite (registries, security token, deposit token, DvP, role grants) and write a manifest.
#[derive(Debug, Args)]
pub struct DeployCommand {
    /// The node to deploy to; without it an embedded Anvil is started.
    #[arg(long, env = "KESSAI_RPC_URL")]
    rpc_url: Option<String>,
    /// Where to write the manifest (default: deployments/<chain id>.json).
    #[arg(long)]
    out: Option<PathBuf>,
}

impl DeployCommand {
    /// Runs the deployment.
    pub async fn execute(self, global: GlobalArgs) -> eyre::Result<()> {
        let (_anvil, mut chain) = engine::connect(self.rpc_url, global.json)?;
        let parties = DemoParties::from_accounts(chain.accounts())?;
        let chain_id = chain.chain_id().await?;
        let deployment = plan::execute(&mut chain, &plan::suite_plan(&demo_spec(&parties))).await?;
        let manifest = Manifest::new(deployment);
        let out = self.out.unwrap_or_else(|| PathBuf::from(format!("deployments/{chain_id}.json")));
        manifest.write(&out)?;
        if global.json {
            println!("{}", serde_json::to_string_pretty(&manifest)?);
        } else {
            println!("deployed on chain {chain_id}:");
            for (label, c) in &manifest.deployment.contracts {
                println!("  {label:<14} {} ({}, gas {})", c.address, c.artifact, c.gas_used);
            }
            println!("manifest written to {}", out.display());
        }
        Ok(())
    }
}
