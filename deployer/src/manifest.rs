//! The JSON manifest of a deployment: what was deployed on which chain, by which transactions, with
//! which code. Written by `kessai deploy`, read by operator tools.

use crate::{
    build::{EVM_VERSION, SOLC_VERSION},
    error::DeployerError,
    plan::{DEFAULT_SALT, DETERMINISTIC_DEPLOYER, Deployment},
};
use alloy::primitives::{Address, B256};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The manifest format version.
pub const MANIFEST_VERSION: u32 = 1;

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
}
