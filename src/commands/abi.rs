//! `kessai abi`: exports the suite's ABIs for other tools: plain JSON arrays (what cast, viem and
//! ethers take) and TypeScript modules typed `as const` (viem infers calls, events and errors from
//! them), the enums' member names, and from a manifest a `deployment.json` naming each contract's
//! address and ABI file. Test fixtures (`contracts/src/testing/`) are not exported.
//!
//! A call reverts with the error of whichever contract failed: a DvP call failing inside a token
//! reverts with the token's error. So every exported ABI carries the custom errors of all the suite's
//! contracts (deduplicated by selector), and one decoder finds any of them.

mod enums;
mod typescript;

use super::{
    GlobalArgs,
    output::{self, Written},
};
use eyre::WrapErr;
use kessai_bindings::alloy::json_abi::{Error as AbiError, JsonAbi};
use serde_json::{Map, Value, json};
use std::{
    collections::HashSet,
    path::{Path, PathBuf},
};

/// Where the fixtures' sources are: their artifacts are committed for the tests, never exported.
const FIXTURES: &str = "contracts/src/testing/";

/// Export `<Contract>.abi.json` and `<Contract>.ts` for every contract of the suite, `errors.abi.json`
/// (every custom error), `enums.json` and `index.ts`, and `deployment.json` from a manifest.
///
/// Each ABI holds the contract's own items and then every other custom error of the suite.
/// `<Contract>.ts` exports `<contract>Abi` (`dvpAbi`, `securityTokenAbi`, …) `as const`; `enums.ts`
/// exports `enums`, the content of `enums.json`: `{"IDvP.SettleCheck": ["TradeNotFound", …], …}`,
/// keyed like the ABIs' `internalType` (`enum IDvP.SettleCheck`), member `i` having value `i`.
/// `deployment.json` is `{"chainId": N, "contracts": {"<label>": {"address": "0x…", "abi":
/// "<Contract>.abi.json"}}}`, with the ABI path relative to the file.
#[derive(Debug, clap::Args)]
pub struct AbiCommand {
    /// Directory to write into (created if missing).
    #[arg(long)]
    out: PathBuf,
    /// A deployment manifest: also write `deployment.json` for its contracts.
    #[arg(long)]
    manifest: Option<PathBuf>,
}

/// A contract's ABI as exported.
struct Exported {
    name: &'static str,
    abi: &'static JsonAbi,
}

impl AbiCommand {
    /// Writes the files.
    pub async fn execute(self, global: GlobalArgs) -> eyre::Result<()> {
        let mut files = export_files()?;
        if let Some(manifest_path) = &self.manifest {
            files.push(deployment_file(manifest_path)?);
        }
        let written = write_files(&self.out, files)?;
        output::print(global, &Written { written, base: None })
    }
}

/// `deployment.json` for the manifest at `path`: each contract's address and ABI file.
fn deployment_file(path: &Path) -> eyre::Result<(String, String)> {
    let manifest = super::engine::read_manifest(path)?;
    let mut contracts = Map::new();
    for (label, c) in &manifest.deployment.contracts {
        contracts.insert(label.clone(), json!({ "address": c.address, "abi": abi_file(&c.artifact) }));
    }
    let deployment = json!({ "chainId": manifest.deployment.chain_id, "contracts": contracts });
    Ok(("deployment.json".into(), json_text(&deployment)?))
}

/// Writes `files` (name and content) into `dir`, creating it if missing; the paths written.
fn write_files(dir: &Path, files: Vec<(String, String)>) -> eyre::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir).wrap_err_with(|| format!("cannot create {}", dir.display()))?;
    let mut written = Vec::with_capacity(files.len());
    for (name, text) in files {
        let path = dir.join(name);
        std::fs::write(&path, text).wrap_err_with(|| format!("cannot write {}", path.display()))?;
        written.push(path);
    }
    Ok(written)
}

/// Every exported file but `deployment.json`: name and content.
fn export_files() -> eyre::Result<Vec<(String, String)>> {
    let contracts = suite_abis();
    let errors = suite_errors(&contracts);
    let mut files = Vec::new();
    for c in &contracts {
        let abi = with_errors(c.abi, &errors)?;
        files.push((abi_file(c.name), json_text(&abi)?));
        files.push((format!("{}.ts", c.name), typescript::constant(&typescript::abi_binding(c.name), &abi)?));
    }
    let errors = errors.into_iter().map(serde_json::to_value).collect::<Result<Vec<_>, _>>()?;
    files.push(("errors.abi.json".into(), json_text(&errors)?));
    files.push(("errors.ts".into(), typescript::constant(typescript::ERRORS_BINDING, &errors)?));
    let enums = enums::suite_enums()?;
    files.push(("enums.json".into(), json_text(&enums)?));
    files.push(("enums.ts".into(), typescript::constant(typescript::ENUMS_BINDING, &enums)?));
    let names: Vec<&str> = contracts.iter().map(|c| c.name).collect();
    files.push(("index.ts".into(), typescript::index(&names)));
    Ok(files)
}

/// The ABIs of the suite's contracts (every committed artifact but the fixtures).
fn suite_abis() -> Vec<Exported> {
    kessai_bindings::artifacts()
        .iter()
        .filter(|artifact| !artifact.source_name.starts_with(FIXTURES))
        .map(|artifact| Exported { name: &artifact.contract_name, abi: &artifact.abi })
        .collect()
}

/// Every custom error of the suite once (the first declaration of each selector), by name.
fn suite_errors(contracts: &[Exported]) -> Vec<&'static AbiError> {
    let mut seen = HashSet::new();
    let mut errors: Vec<&AbiError> =
        contracts.iter().flat_map(|c| c.abi.errors()).filter(|error| seen.insert(error.selector())).collect();
    errors.sort_by(|a, b| a.name.cmp(&b.name));
    errors
}

/// The items of `abi` as committed, followed by the errors of `errors` whose selectors it does not
/// declare.
fn with_errors(abi: &JsonAbi, errors: &[&AbiError]) -> eyre::Result<Vec<Value>> {
    let own: HashSet<_> = abi.errors().map(AbiError::selector).collect();
    let Value::Array(mut merged) = serde_json::to_value(abi)? else { eyre::bail!("an ABI that is not a JSON array") };
    for error in errors.iter().filter(|error| !own.contains(&error.selector())) {
        merged.push(serde_json::to_value(error)?);
    }
    Ok(merged)
}

/// `value` as pretty JSON with a final newline.
fn json_text(value: &impl serde::Serialize) -> eyre::Result<String> {
    Ok(serde_json::to_string_pretty(value)? + "\n")
}

/// The ABI file name of contract `name`.
fn abi_file(name: &str) -> String {
    format!("{name}.abi.json")
}

#[cfg(test)]
mod tests {
    use super::*;
    use kessai_bindings::alloy::primitives::Selector;

    /// The selectors of the `error` items of an exported ABI.
    fn selectors(abi: &[Value]) -> Vec<Selector> {
        abi.iter()
            .filter(|item| item["type"] == "error")
            .map(|item| serde_json::from_value::<AbiError>(item.clone()).expect("parses").selector())
            .collect()
    }

    #[test]
    fn every_exported_abi_carries_every_error_of_the_suite_once_and_no_fixture_is_exported() {
        let files = export_files().expect("export");
        let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
        assert!(names.contains(&"DvP.abi.json") && names.contains(&"DvP.ts"), "{names:?}");
        assert!(!names.iter().any(|n| n.starts_with("ReentrantToken")), "{names:?}");

        let contracts = suite_abis();
        let errors = suite_errors(&contracts);
        let all: HashSet<Selector> = errors.iter().map(|e| e.selector()).collect();
        assert_eq!(all.len(), errors.len(), "each error once");
        for c in &contracts {
            let merged = selectors(&with_errors(c.abi, &errors).expect("merge"));
            assert_eq!(merged.iter().collect::<HashSet<_>>().len(), merged.len(), "{}: each error once", c.name);
            assert_eq!(merged.into_iter().collect::<HashSet<_>>(), all, "{} carries every error", c.name);
        }
        let dvp = &files.iter().find(|(n, _)| n == "DvP.abi.json").expect("DvP").1;
        assert!(dvp.contains("\"TokenInsufficientFreeBalance\""), "a token error in the DvP's ABI");
    }
}
