//! The JSON manifest of a deployment: what was deployed on which chain, by which transactions, with
//! which code. Written by `kessai deploy`, read by operator tools.

use crate::{error::DeployerError, plan::Deployment};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// The manifest format version.
pub const MANIFEST_VERSION: u32 = 1;

/// A deployment manifest.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// Format version.
    pub version: u32,
    /// kessai version that wrote it.
    pub kessai: String,
    /// The deployment.
    #[serde(flatten)]
    pub deployment: Deployment,
}

impl Manifest {
    /// Wraps a deployment.
    pub fn new(deployment: Deployment) -> Self {
        Self { version: MANIFEST_VERSION, kessai: env!("CARGO_PKG_VERSION").to_string(), deployment }
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
