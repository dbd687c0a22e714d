//! The JSON manifest of a deployment: what was deployed on which chain, by which transactions, with
//! which code. Written by `kessai deploy`, read by operator tools. Each chain of a cross-chain
//! deployment has its own manifest, which names the other chain and its settlement contract
//! ([`CrossChainLink`]).

use crate::{
    build::{EVM_VERSION, SOLC_VERSION},
    error::DeployerError,
    plan::{DEFAULT_SALT, DETERMINISTIC_DEPLOYER, Deployment},
};
use crate::{chain::Chain, profile::ChainProfile, xchain::plan::Side};
use alloy::primitives::{Address, B256, keccak256};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The manifest format version.
pub const MANIFEST_VERSION: u32 = 1;

/// What the manifest of one chain of a cross-chain deployment records about the other chain, so that
/// a tool reading it finds the other chain's manifest (`<peer_chain_id>.json` beside it) and contract.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CrossChainLink {
    /// This chain's side: `asset` (the security token and the delivery contract) or `payment` (the
    /// deposit token and the payment contract).
    pub side: Side,
    /// The other chain's id.
    pub peer_chain_id: u64,
    /// The other chain's settlement contract: the payment contract for the asset chain, the delivery
    /// contract for the payment chain.
    pub peer_contract: Address,
}

/// A deployment manifest.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// Format version.
    pub version: u32,
    /// kessai version that wrote it.
    pub kessai: String,
    /// The solc version the contracts were compiled with.
    #[serde(default)]
    pub solc: String,
    /// The EVM version the contracts target.
    #[serde(default)]
    pub evm_version: String,
    /// The salt the contracts' CREATE2 addresses derive from.
    #[serde(default)]
    pub salt: String,
    /// The CREATE2 proxy every contract was created through.
    #[serde(default)]
    pub deterministic_deployer: Option<Address>,
    /// keccak256 of the suite config file, when the deployment came from one.
    #[serde(default)]
    pub config_hash: Option<B256>,
    /// The deployment's write-ahead journal.
    #[serde(default)]
    pub journal: Option<PathBuf>,
    /// The chain profile the suite was deployed under (e.g. `ibet`): every command that reads this
    /// manifest prices, confirms and checks the chain by it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<ChainProfile>,
    /// For one chain of a cross-chain deployment: its side and the other chain's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cross_chain: Option<CrossChainLink>,
    /// The deployment.
    #[serde(flatten)]
    pub deployment: Deployment,
}

impl Manifest {
    /// Wraps a deployment made with the default salt, recording the tool versions.
    pub fn new(deployment: Deployment) -> Self {
        Self {
            version: MANIFEST_VERSION,
            kessai: env!("CARGO_PKG_VERSION").to_string(),
            solc: SOLC_VERSION.into(),
            evm_version: EVM_VERSION.into(),
            salt: DEFAULT_SALT.into(),
            deterministic_deployer: Some(DETERMINISTIC_DEPLOYER),
            config_hash: None,
            journal: None,
            profile: None,
            cross_chain: None,
            deployment,
        }
    }

    /// Writes the manifest as pretty JSON.
    pub fn write(&self, path: &Path) -> Result<(), DeployerError> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(path, serde_json::to_string_pretty(self)? + "\n")?;
        Ok(())
    }

    /// Reads a manifest.
    pub fn read(path: &Path) -> Result<Self, DeployerError> {
        Ok(serde_json::from_str(&std::fs::read_to_string(path)?)?)
    }

    /// Checks that `chain` is the chain this manifest describes, before anything is sent or reported:
    /// the node's chain id must be the manifest's, and every contract's code must be at its address
    /// with the recorded code hash. `origin` names the manifest in the error.
    pub async fn check_chain<C: Chain>(&self, chain: &mut C, origin: &str) -> Result<(), DeployerError> {
        let found = self.check_chain_id(chain, origin).await?;
        let mut missing = Vec::new();
        for (label, contract) in &self.deployment.contracts {
            let code = chain.code(contract.address).await?;
            if code.is_empty() {
                missing.push(format!("{label} at {}: no code", contract.address));
            } else if keccak256(&code) != contract.code_hash {
                missing.push(format!("{label} at {}: other code than the manifest recorded", contract.address));
            }
        }
        if !missing.is_empty() {
            return Err(DeployerError::SuiteMissing { chain_id: found, manifest: origin.to_string(), missing });
        }
        Ok(())
    }

    /// The first half of [`Self::check_chain`]: the node's chain id must be the manifest's. Returns it.
    pub async fn check_chain_id<C: Chain>(&self, chain: &mut C, origin: &str) -> Result<u64, DeployerError> {
        let found = chain.chain_id().await?;
        let expected = self.deployment.chain_id;
        if found != expected {
            return Err(DeployerError::WrongChain { found, expected, manifest: origin.to_string() });
        }
        Ok(found)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manifest_without_a_link_reads_and_a_link_round_trips() {
        let mut manifest = Manifest::new(Deployment { chain_id: 31_337, ..Deployment::default() });
        let old = serde_json::to_value(&manifest).expect("json");
        assert!(old.get("cross_chain").is_none(), "no link, no field: {old}");
        assert_eq!(serde_json::from_value::<Manifest>(old).expect("an old manifest"), manifest);
        let link =
            CrossChainLink { side: Side::Payment, peer_chain_id: 1_010_032, peer_contract: Address::repeat_byte(7) };
        manifest.cross_chain = Some(link);
        let json = serde_json::to_value(&manifest).expect("json");
        assert_eq!(json["cross_chain"]["side"], "payment");
        assert_eq!(json["cross_chain"]["peer_chain_id"], 1_010_032);
        assert_eq!(serde_json::from_value::<Manifest>(json).expect("read back"), manifest);
    }
}
