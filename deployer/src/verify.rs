//! Checking on-chain code against the committed artifacts.

use crate::error::DeployerError;

/// True when `onchain` is the runtime code of artifact `name`: equal byte for byte once the
/// immutable values (addresses, cached domain separators) are blanked as in the artifact.
pub fn matches_artifact(name: &str, onchain: &[u8]) -> Result<bool, DeployerError> {
    let artifact =
        kessai_bindings::artifact(name).ok_or_else(|| DeployerError::Plan(format!("no committed artifact {name}")))?;
    let expected = &artifact.deployed_bytecode;
    if expected.len() != onchain.len() {
        return Ok(false);
    }
    Ok(artifact.blank_immutables(onchain) == expected.as_ref())
}
