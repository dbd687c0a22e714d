//! `kessai build`: compiles `contracts/src` with foundry-compilers and the pinned solc into trimmed,
//! deterministic artifacts (`bindings/artifacts/<Contract>.json`, in the schema of
//! [`kessai_bindings::Artifact`], for the contracts of [`kessai_bindings::ARTIFACTS`]).
//!
//! Settings are pinned here, once: solc 0.8.30, optimizer on (400 runs), EVM version `paris` (no
//! PUSH0, so the code runs on pre-Shanghai permissioned chains), and no metadata hash or CBOR trailer,
//! so the bytecode depends on the sources alone, not on file paths or comments.
//!
//! The compiler is behind the `solc` feature; without it this module holds the pinned settings only.

#[cfg(feature = "solc")]
use crate::{error::DeployerError, tools};
#[cfg(feature = "solc")]
use foundry_compilers::{
    Project, ProjectBuilder, ProjectPathsConfig,
    artifacts::{BytecodeHash, Contract, EvmVersion, Remapping, SettingsMetadata, output_selection::OutputSelection},
    solc::{Solc, SolcCompiler, SolcSettings},
};
#[cfg(feature = "solc")]
use kessai_bindings::{ARTIFACTS, Artifact, ByteRange, CompilerInfo};
use std::path::{Path, PathBuf};
#[cfg(feature = "solc")]
use std::{collections::BTreeMap, str::FromStr};

/// The exact compiler version every artifact is built with.
pub const SOLC_VERSION: &str = "0.8.30";
/// The EVM version the artifacts target.
pub const EVM_VERSION: &str = "paris";
/// Optimizer runs.
pub const OPTIMIZER_RUNS: usize = 400;

/// Compiles the contracts under `root/contracts/src` and returns the artifacts of
/// [`kessai_bindings::ARTIFACTS`], by contract name.
#[cfg(feature = "solc")]
pub fn compile(root: &Path) -> Result<BTreeMap<String, Artifact>, DeployerError> {
    let output = project(root)?.compile().map_err(|e| compiler(None, e))?;
    if output.has_compiler_errors() {
        return Err(DeployerError::Build(output.to_string()));
    }
    let mut artifacts = BTreeMap::new();
    for (path, name, contract) in output.into_output().contracts_with_files_into_iter() {
        if ARTIFACTS.iter().any(|a| a.name == name) {
            let artifact = trim(root, &path, name.clone(), contract)?;
            artifacts.insert(name, artifact);
        }
    }
    if let Some(missing) = ARTIFACTS.iter().map(|a| a.name).find(|c| !artifacts.contains_key(*c)) {
        return Err(DeployerError::Build(format!("contract {missing} was not produced by the build")));
    }
    Ok(artifacts)
}

/// The project: `contracts/src` with OpenZeppelin from `node_modules`, the pinned solc and settings,
/// compiled in memory (no cache, no artifacts on disk, nothing downloaded).
#[cfg(feature = "solc")]
fn project(root: &Path) -> Result<Project<SolcCompiler>, DeployerError> {
    let solc = solc(root)?;
    let remapping =
        Remapping::from_str(&format!("@openzeppelin/={}/", root.join("node_modules/@openzeppelin").display()))
            .map_err(|e| compiler(Some("bad remapping"), e))?;
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
        .map_err(|e| compiler(None, e))
}

/// The pinned solc ([`SOLC_VERSION`]) installed under `root`.
#[cfg(feature = "solc")]
fn solc(root: &Path) -> Result<Solc, DeployerError> {
    let solc_path = tools::find_solc(root)?;
    let version = semver::Version::parse(SOLC_VERSION).map_err(|e| compiler(None, e))?;
    Ok(Solc::new_with_version(&solc_path, version))
}

/// The error of compiler step `what` (named when `source` does not say it), from the library's error.
#[cfg(feature = "solc")]
fn compiler(what: Option<&'static str>, source: impl std::error::Error + Send + Sync + 'static) -> DeployerError {
    DeployerError::Compiler { what, source: Box::new(source) }
}

/// The pinned compiler settings: optimizer on, EVM [`EVM_VERSION`], no metadata hash.
#[cfg(feature = "solc")]
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
#[cfg(feature = "solc")]
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
    let source_name = path.strip_prefix(root).unwrap_or(path).display().to_string();
    Ok(Artifact {
        contract_name: name,
        source_name,
        abi: contract.abi.unwrap_or_default(),
        bytecode,
        deployed_bytecode: runtime,
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

/// Compiles and writes every artifact to `bindings/artifacts/`. Returns the files written.
#[cfg(feature = "solc")]
pub fn write_artifacts(root: &Path) -> Result<Vec<PathBuf>, DeployerError> {
    let dir = artifacts_dir(root);
    std::fs::create_dir_all(&dir)?;
    let mut written = Vec::new();
    for (name, artifact) in compile(root)? {
        let file = dir.join(format!("{name}.json"));
        std::fs::write(&file, artifact.render()?)?;
        written.push(file);
    }
    Ok(written)
}

/// Compiles afresh and lists the committed artifacts that differ from the fresh build.
#[cfg(feature = "solc")]
pub fn stale_artifacts(root: &Path) -> Result<Vec<String>, DeployerError> {
    let dir = artifacts_dir(root);
    let mut stale = Vec::new();
    for (name, artifact) in compile(root)? {
        let committed = std::fs::read_to_string(dir.join(format!("{name}.json"))).unwrap_or_default();
        if committed != artifact.render()? {
            stale.push(name);
        }
    }
    Ok(stale)
}
