//! The committed artifacts: their schema ([`Artifact`]), the contract list ([`ARTIFACTS`]) and the
//! table of them parsed once ([`artifacts`], [`artifact`]).
//!
//! `kessai build` writes exactly this schema (through [`Artifact::render`]), and everything that
//! reads an artifact (deployment, verification, revert and event decoding, exports) reads it here.
//!
//! ```
//! let dvp = kessai_bindings::artifact("DvP").expect("committed");
//! assert_eq!(dvp.source_name, "contracts/src/settlement/DvP.sol");
//! assert!(dvp.abi.errors().any(|e| e.name == "DvPTradeExists"));
//! assert!(kessai_bindings::artifact("Nope").is_none());
//! ```

use alloy::{json_abi::JsonAbi, primitives::Bytes};
use serde::{Deserialize, Serialize, Serializer};
use std::{collections::BTreeMap, sync::LazyLock};

/// A trimmed compiler artifact, as committed under `bindings/artifacts/`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Artifact {
    /// Contract name.
    pub contract_name: String,
    /// Source path relative to the project root.
    pub source_name: String,
    /// The contract ABI.
    #[serde(serialize_with = "abi_as_committed")]
    pub abi: JsonAbi,
    /// Creation bytecode (0x-prefixed hex in the file).
    pub bytecode: Bytes,
    /// Runtime bytecode (0x-prefixed hex in the file), immutables zeroed.
    pub deployed_bytecode: Bytes,
    /// Byte ranges of immutables in the runtime bytecode, by AST id.
    pub immutable_references: BTreeMap<String, Vec<ByteRange>>,
    /// The compiler and settings that produced this artifact.
    pub compiler: CompilerInfo,
}

/// A byte range inside bytecode.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ByteRange {
    /// First byte.
    pub start: u32,
    /// Length in bytes.
    pub length: u32,
}

/// Compiler identity and settings recorded in each artifact.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CompilerInfo {
    /// solc version.
    pub version: String,
    /// Target EVM version.
    pub evm_version: String,
    /// Whether the optimizer ran.
    pub optimizer: bool,
    /// Optimizer runs.
    pub runs: usize,
    /// Bytecode metadata hash setting.
    pub bytecode_hash: String,
}

impl Artifact {
    /// The artifact exactly as it is committed: pretty JSON with a trailing newline.
    pub fn render(&self) -> serde_json::Result<String> {
        Ok(serde_json::to_string_pretty(self)? + "\n")
    }

    /// The runtime code with the bytes of every immutable zeroed, as [`Self::deployed_bytecode`]
    /// has them (code of the same length otherwise unchanged).
    pub fn blank_immutables(&self, code: &[u8]) -> Vec<u8> {
        let mut blanked = code.to_vec();
        for range in self.immutable_references.values().flatten() {
            let (start, length) = (range.start as usize, range.length as usize);
            if let Some(slice) = blanked.get_mut(start..start + length) {
                slice.fill(0);
            }
        }
        blanked
    }
}

/// The ABI as committed: its items with their keys in alphabetical order (a `serde_json` map's
/// order), not the field order of alloy's serializer.
fn abi_as_committed<S: Serializer>(abi: &JsonAbi, serializer: S) -> Result<S::Ok, S::Error> {
    serde_json::to_value(abi).map_err(serde::ser::Error::custom)?.serialize(serializer)
}

/// A committed artifact: its contract name and JSON text.
#[derive(Clone, Copy, Debug)]
pub struct ArtifactSource {
    /// Contract name.
    pub name: &'static str,
    /// The artifact JSON, as committed.
    pub json: &'static str,
}

impl ArtifactSource {
    /// Parses the JSON text ([`artifacts`] holds every committed artifact parsed already).
    pub fn parse(&self) -> serde_json::Result<Artifact> {
        serde_json::from_str(self.json)
    }
}

/// Every committed artifact: the contracts `kessai build` compiles (deployable contracts, the
/// errors of their interfaces, and the test fixtures). To add a contract, list it here with an
/// empty `artifacts/<Name>.json` and run `kessai build`.
pub const ARTIFACTS: &[ArtifactSource] = &[
    ArtifactSource { name: "InvestorRegistry", json: include_str!("../artifacts/InvestorRegistry.json") },
    ArtifactSource { name: "SecurityToken", json: include_str!("../artifacts/SecurityToken.json") },
    ArtifactSource { name: "DepositToken", json: include_str!("../artifacts/DepositToken.json") },
    ArtifactSource { name: "DvP", json: include_str!("../artifacts/DvP.json") },
    ArtifactSource { name: "StraightBond", json: include_str!("../artifacts/StraightBond.json") },
    ArtifactSource { name: "MunicipalBond", json: include_str!("../artifacts/MunicipalBond.json") },
    ArtifactSource { name: "BeneficiaryUnits", json: include_str!("../artifacts/BeneficiaryUnits.json") },
    ArtifactSource { name: "OwnedWallet", json: include_str!("../artifacts/OwnedWallet.json") },
    ArtifactSource { name: "TransferApprovals", json: include_str!("../artifacts/TransferApprovals.json") },
    ArtifactSource { name: "AttestationVerifier", json: include_str!("../artifacts/AttestationVerifier.json") },
    ArtifactSource { name: "CrossChainDelivery", json: include_str!("../artifacts/CrossChainDelivery.json") },
    ArtifactSource { name: "CrossChainPayment", json: include_str!("../artifacts/CrossChainPayment.json") },
    ArtifactSource { name: "ReentrantToken", json: include_str!("../artifacts/ReentrantToken.json") },
];

/// Every committed artifact, parsed, in the order of [`ARTIFACTS`].
///
/// The artifacts are compiled into this crate and its tests parse each one, so one that does not
/// parse is a broken build of this crate, not an input error: the first call then panics naming it.
pub fn artifacts() -> &'static [Artifact] {
    static PARSED: LazyLock<Vec<Artifact>> = LazyLock::new(|| {
        ARTIFACTS
            .iter()
            .map(|source| {
                source.parse().unwrap_or_else(|e| panic!("the committed artifact {} does not parse: {e}", source.name))
            })
            .collect()
    });
    &PARSED
}

/// Looks up a committed artifact by contract name.
pub fn artifact(name: &str) -> Option<&'static Artifact> {
    artifacts().iter().find(|a| a.contract_name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_committed_artifact_parses_and_renders_byte_for_byte() {
        for source in ARTIFACTS {
            let artifact = source.parse().unwrap_or_else(|e| panic!("{}: {e}", source.name));
            assert_eq!(artifact.contract_name, source.name);
            assert!(artifact.render().expect("render") == source.json, "{} does not round-trip", source.name);
        }
        assert_eq!(artifacts().len(), ARTIFACTS.len());
    }

    #[test]
    fn blanks_the_immutables_of_runtime_code() {
        let dvp = artifact("DvP").expect("DvP");
        let range = dvp.immutable_references.values().flatten().next().expect("the DvP has immutables");
        let mut code = dvp.deployed_bytecode.to_vec();
        code[range.start as usize] = 0xaa;
        assert_eq!(dvp.blank_immutables(&code), dvp.deployed_bytecode.to_vec());
    }
}
