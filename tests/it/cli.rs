//! The `kessai` binary as an operator uses it.

use std::process::Command;

fn kessai() -> Command {
    Command::new(env!("CARGO_BIN_EXE_kessai"))
}

#[test]
fn demo_prints_the_settled_trade_in_process() {
    let out = kessai().arg("demo").output().expect("run kessai demo");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "demo failed: {}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("engine: in-process revm"), "{stdout}");
    assert!(stdout.contains("[  5-6] agent verifies and approves"), "{stdout}");
    assert!(stdout.contains("SETTLED (both legs in one transaction)"), "{stdout}");
}

#[test]
fn demo_json_is_machine_readable_only() {
    let out = kessai().args(["demo", "--json"]).output().expect("run kessai demo --json");
    assert!(out.status.success());
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("stdout is one JSON document");
    assert_eq!(report["trade_status"], 15, "created, paid, approved, settled");
}

#[test]
fn deploy_starts_an_embedded_anvil_and_writes_a_matching_manifest() {
    let dir = std::env::temp_dir().join(format!("kessai-deploy-{}", std::process::id()));
    let manifest_path = dir.join("manifest.json");
    let out = kessai().args(["deploy", "--out"]).arg(&manifest_path).output().expect("run kessai deploy");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "deploy failed: {}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("started an embedded anvil"), "{stdout}");
    let manifest = kessai_deployer::manifest::Manifest::read(&manifest_path).expect("manifest");
    assert_eq!(manifest.deployment.chain_id, 31337);
    assert_eq!(manifest.deployment.contracts.len(), 6);
    assert_eq!(manifest.deployment.steps.len(), 13, "role grants and the minter configuration");
    for (label, c) in &manifest.deployment.contracts {
        assert_ne!(c.code_hash, kessai_bindings::alloy::primitives::keccak256([]), "{label} has code");
        assert!(stdout.contains(&c.address.to_string()), "{label} printed");
    }
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn build_check_passes_on_committed_artifacts() {
    let out = kessai().args(["build", "--check"]).output().expect("run kessai build --check");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn deposit_commands_operate_a_deployed_token_and_print_decoded_refusals() {
    let (node, _chain) = crate::support::anvil();
    let url = node.endpoint();
    let dir = std::env::temp_dir().join(format!("kessai-deposit-{}", std::process::id()));
    let manifest = dir.join("m.json");
    let out = kessai().args(["deploy", "--rpc-url", &url, "--out"]).arg(&manifest).output().expect("deploy");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let parties = crate::support::parties();
    let customer = parties.buyer.to_string();
    let run = |args: &[&str]| {
        kessai()
            .args(["--json", "deposit", "--rpc-url", &url, "--manifest"])
            .arg(&manifest)
            .args(args)
            .output()
            .expect("run")
    };
    // The buyer is not yet a customer of the bank: the refusal is decoded.
    let out = run(&["issue", "--to", &customer, "--amount", "1000", "--ref", "DEP-CLI-1"]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("TokenAccountNotEligible") && stderr.contains("not eligible"), "{stderr}");
    assert!(out.stdout.is_empty(), "nothing on stdout when it fails");

    let out = run(&["pause"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let receipt: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert!(receipt["gas_used"].as_u64().expect("gas") > 21_000);
    let out = run(&["unpause"]);
    assert!(out.status.success());
    let out = run(&["configure-minter", "--minter", &customer, "--allowance", "5", "--limit", "5"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = run(&["freeze", &customer]);
    assert!(out.status.success());
    let _ = std::fs::remove_dir_all(dir);
}
