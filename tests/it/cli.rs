//! The `kessai` binary as an operator uses it.

use crate::support::command as kessai;
use crate::support::refused as decoded_refusal;
use kessai_bindings::{
    alloy::{
        primitives::{Address, U256, keccak256},
        sol_types::SolEvent,
    },
    deposit_token::DepositToken as Dt,
};
use kessai_deployer::{chain::Chain, manifest::Manifest, ops::Suite, rpc::RpcChain};
use kessai_sim::demo;
use std::process::Output;

#[test]
fn demo_prints_the_settled_trade_in_process() {
    let out = kessai().arg("demo").output().expect("run kessai demo");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "demo failed: {}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("engine: in-process revm"), "{stdout}");
    assert!(stdout.contains("[    4] buyer signs its payment instruction"), "{stdout}");
    assert!(stdout.contains("[  5-6] agent verifies the instruction"), "{stdout}");
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

/// What the deposit CLI test reads back from the chain after each command.
#[derive(Debug, PartialEq, Eq)]
struct DepositLedger {
    customer_balance: U256,
    supply: U256,
    customer_frozen: bool,
    paused: bool,
}

async fn deposit_ledger(chain: &mut RpcChain, token: Address, customer: Address) -> DepositLedger {
    DepositLedger {
        customer_balance: chain.read(token, &Dt::balanceOfCall { account: customer }).await.expect("balance"),
        supply: chain.read(token, &Dt::totalSupplyCall {}).await.expect("supply"),
        customer_frozen: chain.read(token, &Dt::isFrozenCall { account: customer }).await.expect("frozen"),
        paused: chain.read(token, &Dt::pausedCall {}).await.expect("paused"),
    }
}

/// Asserts that a command succeeded and printed one JSON receipt, and nothing else, on stdout.
fn json_receipt(out: &Output) -> serde_json::Value {
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let receipt: serde_json::Value = serde_json::from_slice(&out.stdout).expect("stdout is one JSON document");
    assert!(receipt["gas_used"].as_u64().expect("gas") > 21_000, "{receipt}");
    assert!(receipt["tx_hash"].as_str().is_some_and(|h| h.len() == 66), "{receipt}");
    receipt
}

#[tokio::test]
async fn deposit_commands_operate_a_deployed_token_and_print_decoded_refusals() {
    let (node, mut chain) = crate::support::anvil();
    let url = node.endpoint();
    let dir = std::env::temp_dir().join(format!("kessai-deposit-{}", std::process::id()));
    let manifest = dir.join("m.json");
    let out = kessai().args(["deploy", "--rpc-url", &url, "--out"]).arg(&manifest).output().expect("deploy");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let suite = Suite::from_deployment(&Manifest::read(&manifest).expect("manifest").deployment).expect("suite");
    let token = suite.deposit;
    let parties = crate::support::parties();
    let (bank, buyer, seller) = (parties.suite.bank, parties.buyer, parties.seller);
    let customer = buyer.to_string();
    let run = |args: &[&str]| {
        kessai()
            .env_remove("KESSAI_KEYS")
            .args(["--json", "deposit", "--rpc-url", &url, "--manifest"])
            .arg(&manifest)
            .args(args)
            .output()
            .expect("run")
    };
    let zero =
        DepositLedger { customer_balance: U256::ZERO, supply: U256::ZERO, customer_frozen: false, paused: false };
    assert_eq!(deposit_ledger(&mut chain, token, buyer).await, zero);

    // The buyer is not yet a customer of the bank: the refusal is decoded and nothing is issued.
    let out = run(&["issue", "--to", &customer, "--amount", "1000", "--ref", "DEP-CLI-1"]);
    decoded_refusal(&out, "TokenAccountNotEligible");
    assert!(String::from_utf8_lossy(&out.stderr).contains("not eligible"));
    assert_eq!(deposit_ledger(&mut chain, token, buyer).await, zero);

    let now = chain.timestamp().await.expect("time");
    suite
        .register(&mut chain, suite.bank_registry, bank, buyer, demo::registration(now, "cli customer"))
        .await
        .expect("the bank registers its customer");
    json_receipt(&run(&["issue", "--to", &customer, "--amount", "1000", "--ref", "DEP-CLI-1"]));
    let mut expected = DepositLedger { customer_balance: U256::from(1_000), supply: U256::from(1_000), ..zero };
    assert_eq!(deposit_ledger(&mut chain, token, buyer).await, expected);
    let used = Dt::isReferenceUsedCall { depositRef: keccak256("DEP-CLI-1") };
    assert!(chain.read(token, &used).await.expect("reference"), "the ledger reference is used");
    decoded_refusal(
        &run(&["issue", "--to", &customer, "--amount", "1000", "--ref", "DEP-CLI-1"]),
        "DepositReferenceUsed",
    );
    assert_eq!(deposit_ledger(&mut chain, token, buyer).await, expected);

    // The customer redeems its own tokens; the bank redeems on the customer's instruction.
    json_receipt(&run(&["--from", &customer, "redeem", "--amount", "300", "--account", "ACC-CLI"]));
    expected = DepositLedger { customer_balance: U256::from(700), supply: U256::from(700), ..expected };
    assert_eq!(deposit_ledger(&mut chain, token, buyer).await, expected);
    json_receipt(&run(&["redeem", "--holder", &customer, "--amount", "200", "--account", "ACC-CLI"]));
    expected = DepositLedger { customer_balance: U256::from(500), supply: U256::from(500), ..expected };
    assert_eq!(deposit_ledger(&mut chain, token, buyer).await, expected);
    let redeemed: Vec<_> = chain
        .logs(&[token], 0, None)
        .await
        .expect("logs")
        .iter()
        .filter_map(|l| Dt::DepositRedeemed::decode_log(&l.log).ok())
        .map(|e| (e.from, e.amount, e.accountRef))
        .collect();
    let account = keccak256("ACC-CLI");
    assert_eq!(redeemed, [(buyer, U256::from(300), account), (buyer, U256::from(200), account)]);
    let seller_for = ["--from", &seller.to_string(), "redeem", "--holder", &customer, "--amount", "1"];
    decoded_refusal(&run(&[&seller_for[..], &["--account", "ACC-CLI"]].concat()), "AccessControlUnauthorizedAccount");
    assert_eq!(deposit_ledger(&mut chain, token, buyer).await, expected);

    // Freeze: the customer can no longer redeem, until unfrozen.
    json_receipt(&run(&["freeze", &customer]));
    expected.customer_frozen = true;
    assert_eq!(deposit_ledger(&mut chain, token, buyer).await, expected);
    decoded_refusal(
        &run(&["--from", &customer, "redeem", "--amount", "1", "--account", "ACC-CLI"]),
        "TokenAccountFrozen",
    );
    assert_eq!(deposit_ledger(&mut chain, token, buyer).await, expected);
    json_receipt(&run(&["unfreeze", &customer]));
    expected.customer_frozen = false;
    assert_eq!(deposit_ledger(&mut chain, token, buyer).await, expected);

    // Pause: nothing is issued until resumed.
    json_receipt(&run(&["pause"]));
    expected.paused = true;
    assert_eq!(deposit_ledger(&mut chain, token, buyer).await, expected);
    decoded_refusal(&run(&["issue", "--to", &customer, "--amount", "1", "--ref", "DEP-CLI-2"]), "TokenPaused");
    assert_eq!(deposit_ledger(&mut chain, token, buyer).await, expected);
    json_receipt(&run(&["unpause"]));
    expected.paused = false;
    assert_eq!(deposit_ledger(&mut chain, token, buyer).await, expected);

    json_receipt(&run(&["configure-minter", "--minter", &customer, "--allowance", "5", "--limit", "5"]));
    let minter = chain.read(token, &Dt::minterOfCall { minter: buyer }).await.expect("minter");
    assert_eq!((minter.allowance, minter.limitPerPeriod, minter.period), (5, 5, 86_400));
    let _ = std::fs::remove_dir_all(dir);
}
