//! The files `kessai abi` exports, as integrators use them: the pinned cast decodes a token's error
//! raised through a DvP call from the DvP's ABI alone, no test fixture is exported, the enums' members
//! are named, and the TypeScript modules export the typed ABIs.

use crate::support::{self, command as kessai, u};
use kessai_bindings::{Restriction, trade_id};
use kessai_deployer::{
    DeployerError,
    chain::Chain,
    manifest::Manifest,
    ops::{Suite, Trade},
};
use kessai_sim::demo;
use serde_json::Value;
use std::{
    path::{Path, PathBuf},
    process::Command,
};

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("kessai-exports-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

/// Runs `kessai abi --out <dir>/abi [--manifest …]` and returns the ABI directory.
fn export(dir: &Path, manifest: Option<&Path>) -> PathBuf {
    let abi_dir = dir.join("abi");
    let mut cmd = kessai();
    cmd.args(["abi", "--out"]).arg(&abi_dir);
    if let Some(manifest) = manifest {
        cmd.arg("--manifest").arg(manifest);
    }
    let out = cmd.output().expect("run kessai abi");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    abi_dir
}

fn json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A pinned Foundry tool from `node_modules/.bin`.
fn foundry(tool: &str) -> Command {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("node_modules/.bin").join(tool);
    assert!(path.exists(), "this test needs the pinned {tool}: run `npm ci` ({} is missing)", path.display());
    Command::new(path)
}

#[tokio::test]
async fn the_pinned_cast_decodes_a_token_error_of_a_dvp_call_with_the_exported_dvp_abi_alone() {
    let (node, mut chain) = support::anvil();
    let dir = scratch("cast");
    let manifest = dir.join("manifest.json");
    let out =
        kessai().args(["deploy", "--rpc-url", &node.endpoint(), "--out"]).arg(&manifest).output().expect("deploy");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let suite = Suite::from_deployment(&Manifest::read(&manifest).expect("manifest").deployment).expect("suite");
    let p = support::parties();
    let now = chain.timestamp().await.expect("time");
    suite
        .register(&mut chain, suite.registry, p.suite.registrar, p.seller, demo::registration(now, "seller"))
        .await
        .expect("register");
    suite.issue_security(&mut chain, p.suite.issuer, p.seller, u(1_000)).await.expect("units");

    // The seller offers more units than it holds: the DvP call fails inside the security token.
    let id = trade_id(p.seller, "EXPORTS-1");
    let trade = Trade {
        security: suite.security,
        seller: p.seller,
        buyer: p.buyer,
        cash: suite.deposit,
        agent: p.agent,
        units: u(10_000),
        amount: u(1_000_000),
        deadline: demo::deadline_after(now),
    };
    let before = suite.position(&mut chain, p.seller).await.expect("seller");
    let revert = match suite.create_trade(&mut chain, id, &trade).await {
        Err(DeployerError::Revert(e)) => e,
        other => panic!("expected a revert, got {other:?}"),
    };
    assert_eq!(revert.name, "TokenInsufficientFreeBalance", "{revert}");
    assert_eq!(suite.trade_status(&mut chain, id).await.expect("status"), 0, "no trade");
    assert_eq!(suite.position(&mut chain, p.seller).await.expect("seller"), before, "nothing moved");

    // Only the DvP's exported ABI in Foundry's signature cache (a HOME of its own), as an integrator
    // who knows just the contract it calls would do; then `cast decode-error` names the token's error.
    let abi_dir = export(&dir, Some(&manifest));
    let only_dvp = dir.join("only-dvp");
    std::fs::create_dir_all(&only_dvp).expect("dir");
    std::fs::copy(abi_dir.join("DvP.abi.json"), only_dvp.join("DvP.abi.json")).expect("copy");
    let (home, project) = (dir.join("home"), dir.join("empty-project"));
    std::fs::create_dir_all(&project).expect("dir");
    let cache = foundry("forge")
        .args(["selectors", "cache", "--extra-abis-path"])
        .arg(&only_dvp)
        .arg("--root")
        .arg(&project)
        .env("HOME", &home)
        .output()
        .expect("run forge");
    assert!(cache.status.success(), "{}", String::from_utf8_lossy(&cache.stderr));
    let decoded =
        foundry("cast").arg("decode-error").arg(revert.data.to_string()).env("HOME", &home).output().expect("cast");
    assert!(decoded.status.success(), "{}", String::from_utf8_lossy(&decoded.stderr));
    let text = String::from_utf8_lossy(&decoded.stdout);
    // Each value on a line, large numbers followed by cast's ` [1e4]`.
    let lines: Vec<&str> = text.lines().filter_map(|l| l.split_whitespace().next()).collect();
    assert_eq!(
        lines,
        ["TokenInsufficientFreeBalance(address,uint256,uint256)", &p.seller.to_string(), "1000", "10000"]
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn exports_name_enum_members_give_typescript_modules_and_leave_out_test_fixtures() {
    let dir = scratch("files");
    let abi_dir = export(&dir, None);
    for artifact in kessai_bindings::artifacts() {
        let fixture = artifact.source_name.starts_with("contracts/src/testing/");
        let name = &artifact.contract_name;
        for file in [format!("{name}.abi.json"), format!("{name}.ts")] {
            assert_eq!(abi_dir.join(&file).exists(), !fixture, "{file} exported iff not a fixture");
        }
    }
    assert!(!abi_dir.join("ReentrantToken.abi.json").exists(), "the reentrancy fixture is a fixture");

    let enums = json(&abi_dir.join("enums.json"));
    assert_eq!(enums["IDvP.SettleCheck"][6], "AwaitingApproval", "canSettle's (6, 0) is named");
    assert_eq!(
        enums["IInvestorRegistry.InvestorClass"],
        serde_json::json!(["Retail", "Professional", "Institutional"])
    );
    let restrictions: Vec<String> = Restriction::ALL.iter().map(|r| format!("{r:?}")).collect();
    assert_eq!(enums["IPermissionedToken.Restriction"], serde_json::json!(restrictions));
    let enums_ts = std::fs::read_to_string(abi_dir.join("enums.ts")).expect("enums.ts");
    assert!(enums_ts.contains("export const enums = {") && enums_ts.trim_end().ends_with("} as const;"), "{enums_ts}");

    // Every ABI carries every error of the suite; its TypeScript module exports the same ABI.
    let errors = json(&abi_dir.join("errors.abi.json"));
    let names = |abi: &Value| -> Vec<String> {
        let mut names: Vec<String> = abi
            .as_array()
            .expect("an ABI array")
            .iter()
            .filter(|i| i["type"] == "error")
            .map(|i| i["name"].as_str().expect("name").to_string())
            .collect();
        names.sort();
        names
    };
    assert!(names(&errors).iter().any(|n| n == "TokenInsufficientFreeBalance"));
    let dvp = json(&abi_dir.join("DvP.abi.json"));
    assert_eq!(names(&dvp), names(&errors), "the DvP's ABI carries every error");
    let dvp_ts = std::fs::read_to_string(abi_dir.join("DvP.ts")).expect("DvP.ts");
    let literal = dvp_ts.split_once("export const dvpAbi = ").expect("the binding").1;
    let literal = literal.trim_end().strip_suffix(" as const;").expect("as const");
    assert_eq!(serde_json::from_str::<Value>(literal).expect("a JSON literal"), dvp);
    let index = std::fs::read_to_string(abi_dir.join("index.ts")).expect("index.ts");
    for line in ["export { dvpAbi } from './DvP.js';", "export { errorsAbi } from './errors.js';"] {
        assert!(index.contains(line), "{index}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
