//! `kessai build`: compiles `contracts/src` with foundry-compilers and the pinned solc into trimmed,
//! deterministic artifacts (`bindings/artifacts/<Contract>.json`).
//!
//! Settings are pinned here, once: solc 0.8.30, optimizer on (400 runs), EVM version `paris` (no
//! PUSH0, so the code runs on pre-Shanghai permissioned chains), and no metadata hash or CBOR trailer,
//! so the bytecode depends on the sources alone, not on file paths or comments.

use crate::{error::DeployerError, tools};
use foundry_compilers::{
    Project, ProjectBuilder, ProjectPathsConfig,
    artifacts::{BytecodeHash, Contract, EvmVersion, Remapping, SettingsMetadata, output_selection::OutputSelection},
    solc::{Solc, SolcCompiler, SolcSettings},
};
use serde::{Deserialize, Serialize};
use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
    str::FromStr,
};

/// The exact compiler version every artifact is built with.
pub const SOLC_VERSION: &str = "0.8.30";
/// The EVM version the artifacts target.
pub const EVM_VERSION: &str = "paris";
/// Optimizer runs.
pub const OPTIMIZER_RUNS: usize = 400;

/// The contracts that get artifacts (deployable contracts and their interfaces' errors live in them).
pub const CONTRACTS: &[&str] = &[
    "InvestorRegistry",
    "SecurityToken",
    "DepositToken",
    "DvP",
    "TransferApprovals",
    "StraightBond",
    "MunicipalBond",
    "BeneficiaryUnits",
    "OwnedWallet",
    "ReentrantToken",
];

/// A trimmed compiler artifact, as committed under `bindings/artifacts/`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Artifact {
    /// Contract name.
    pub contract_name: String,
    /// Source path relative to the project root.
    pub source_name: String,
    /// The contract ABI.
    pub abi: serde_json::Value,
    /// Creation bytecode, 0x-prefixed hex.
    pub bytecode: String,
    /// Runtime bytecode, 0x-prefixed hex (immutables zeroed).
    pub deployed_bytecode: String,
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

/// Compiles the contracts under `root/contracts/src` and returns the artifacts, by contract name.
pub fn compile(root: &Path) -> Result<BTreeMap<String, Artifact>, DeployerError> {
    let output = project(root)?.compile().map_err(|e| DeployerError::Build(e.to_string()))?;
    if output.has_compiler_errors() {
        return Err(DeployerError::Build(output.to_string()));
    }
    let mut artifacts = BTreeMap::new();
    for (path, name, contract) in output.into_output().contracts_with_files_into_iter() {
        if CONTRACTS.contains(&name.as_str()) {
            let artifact = trim(root, &path, name.clone(), contract)?;
            artifacts.insert(name, artifact);
        }
    }
    if let Some(missing) = CONTRACTS.iter().find(|c| !artifacts.contains_key(**c)) {
        return Err(DeployerError::Build(format!("contract {missing} was not produced by the build")));
    }
    Ok(artifacts)
}

/// The project: `contracts/src` with OpenZeppelin from `node_modules`, the pinned solc and settings,
/// compiled in memory (no cache, no artifacts on disk, nothing downloaded).
fn project(root: &Path) -> Result<Project<SolcCompiler>, DeployerError> {
    let solc = solc(root)?;
    let remapping =
        Remapping::from_str(&format!("@openzeppelin/={}/", root.join("node_modules/@openzeppelin").display()))
            .map_err(|e| DeployerError::Build(format!("bad remapping: {e}")))?;
    if !root.join("node_modules/@openzeppelin/contracts").is_dir() {
        return Err(DeployerError::ToolMissing {
            tool: "@openzeppelin/contracts",
            hint: tools::INSTALL_HINT.to_string(),
        });
    }
    let paths = ProjectPathsConfig::builder()
        .root(root)
        .sources(root.join("contracts/src"))
        .lib(root.join("node_modules"))
        .remapping(remapping)
        .build_with_root(root);
    ProjectBuilder::<SolcCompiler>::new(Default::default())
        .paths(paths)
        .settings(settings())
        .ephemeral()
        .no_artifacts()
        .offline()
        .build(SolcCompiler::Specific(solc))
        .map_err(|e| DeployerError::Build(e.to_string()))
}

/// The pinned solc ([`SOLC_VERSION`]) installed under `root`.
fn solc(root: &Path) -> Result<Solc, DeployerError> {
    let solc_path = tools::find_solc(root)?;
    let version = semver::Version::parse(SOLC_VERSION).map_err(|e| DeployerError::Build(e.to_string()))?;
    Ok(Solc::new_with_version(&solc_path, version))
}

/// The pinned compiler settings: optimizer on, EVM [`EVM_VERSION`], no metadata hash.
fn settings() -> SolcSettings {
    let mut settings = SolcSettings::default();
    settings.settings.optimizer.enabled = Some(true);
    settings.settings.optimizer.runs = Some(OPTIMIZER_RUNS);
    settings.settings.evm_version = Some(EvmVersion::Paris);
    settings.settings.metadata = Some(SettingsMetadata::new(BytecodeHash::None, false));
    settings.settings.output_selection = OutputSelection::default_output_selection();
    settings
}

/// The trimmed artifact of contract `name`, compiled from `path`, from the compiler's output.
fn trim(root: &Path, path: &Path, name: String, contract: Contract) -> Result<Artifact, DeployerError> {
    let evm = contract.evm.ok_or_else(|| DeployerError::Build(format!("{name}: no EVM output")))?;
    let bytecode = evm
        .bytecode
        .and_then(|b| b.object.as_bytes().cloned())
        .ok_or_else(|| DeployerError::Build(format!("{name}: no linked creation bytecode")))?;
    let deployed = evm.deployed_bytecode.ok_or_else(|| DeployerError::Build(format!("{name}: no runtime bytecode")))?;
    let immutable_references = deployed
        .immutable_references
        .iter()
        .map(|(id, ranges)| {
            let ranges = ranges.iter().map(|o| ByteRange { start: o.start, length: o.length }).collect();
            (id.clone(), ranges)
        })
        .collect();
    let runtime = deployed
        .bytecode
        .and_then(|b| b.object.as_bytes().cloned())
        .ok_or_else(|| DeployerError::Build(format!("{name}: no linked runtime bytecode")))?;
    let abi = serde_json::to_value(contract.abi.unwrap_or_default())?;
    let source_name = path.strip_prefix(root).unwrap_or(path).display().to_string();
    Ok(Artifact {
        contract_name: name,
        source_name,
        abi,
        bytecode: bytecode.to_string(),
        deployed_bytecode: runtime.to_string(),
        immutable_references,
        compiler: CompilerInfo {
            version: SOLC_VERSION.to_string(),
            evm_version: EVM_VERSION.to_string(),
            optimizer: true,
            runs: OPTIMIZER_RUNS,
            bytecode_hash: "none".to_string(),
        },
    })
}

/// The directory the committed artifacts live in.
pub fn artifacts_dir(root: &Path) -> PathBuf {
    root.join("bindings/artifacts")
}

/// Serializes an artifact exactly as it is committed (pretty JSON, trailing newline).
pub fn render(artifact: &Artifact) -> Result<String, DeployerError> {
    Ok(serde_json::to_string_pretty(artifact)? + "\n")
}

/// Compiles and writes every artifact to `bindings/artifacts/`. Returns the files written.
pub fn write_artifacts(root: &Path) -> Result<Vec<PathBuf>, DeployerError> {
    let dir = artifacts_dir(root);
    std::fs::create_dir_all(&dir)?;
    let mut written = Vec::new();
    for (name, artifact) in compile(root)? {
        let file = dir.join(format!("{name}.json"));
        std::fs::write(&file, render(&artifact)?)?;
        written.push(file);
    }
    Ok(written)
}

/// Compiles afresh and lists the committed artifacts that differ from the fresh build.
pub fn stale_artifacts(root: &Path) -> Result<Vec<String>, DeployerError> {
    let dir = artifacts_dir(root);
    let mut stale = Vec::new();
    for (name, artifact) in compile(root)? {
        let committed = std::fs::read_to_string(dir.join(format!("{name}.json"))).unwrap_or_default();
        if committed != render(&artifact)? {
            stale.push(name);
        }
    }
    Ok(stale)
}
