//! Checking on-chain code against the committed artifacts.

use crate::error::DeployerError;

/// True when `onchain` is the runtime code of artifact `name`: equal byte for byte once the
/// immutable values (addresses, cached domain separators) are blanked as in the artifact.
pub fn matches_artifact(name: &str, onchain: &[u8]) -> Result<bool, DeployerError> {
    let source =
        kessai_bindings::artifact(name).ok_or_else(|| DeployerError::Plan(format!("no committed artifact {name}")))?;
    let value: serde_json::Value = serde_json::from_str(source.json)?;
    let expected = value["deployedBytecode"]
        .as_str()
        .and_then(|s| alloy::primitives::hex::decode(s).ok())
        .ok_or_else(|| DeployerError::Plan(format!("artifact {name} has no runtime code")))?;
    if expected.len() != onchain.len() {
        return Ok(false);
    }
    let mut blanked = onchain.to_vec();
    if let Some(refs) = value["immutableReferences"].as_object() {
        for ranges in refs.values() {
            for range in ranges.as_array().into_iter().flatten() {
                let start = range["start"].as_u64().unwrap_or_default() as usize;
                let length = range["length"].as_u64().unwrap_or_default() as usize;
                if let Some(slice) = blanked.get_mut(start..start + length) {
                    slice.fill(0);
                }
            }
        }
    }
    Ok(blanked == expected)
}
