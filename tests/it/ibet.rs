//! ibet for Fin's kind of chain, for every command: spawned Anvils emulating a gas-free permissioned
//! network (chain id 1010032, gas price 0, base fee 0, 1-second blocks, every account at zero ether)
//! at Berlin (ibet's EVM rules) and at London (where such networks upgrade to). Deploy, the demo flow,
//! `kessai trade` create/pay/approve and the registry, security and deposit commands all succeed
//! through the binary — which can only be if every transaction was priced at zero. Also: the example
//! scenarios replay at Berlin with results identical to the in-process engine at Berlin; a chain
//! older than the code (Petersburg) is refused naming CHAINID; a command pointed at the wrong chain,
//! or at a chain without the suite, is refused with nothing sent.

use crate::support;
use crate::support::{Gas, Node};
use kessai_bindings::alloy::{consensus::Transaction as _, primitives::U256, providers::Provider};
use kessai_deployer::{
    anvil::{AnvilInstance, AnvilOptions},
    chain::Chain,
    hardhat::{HardhatInstance, HardhatOptions},
    journal,
    manifest::Manifest,
    ops::Suite,
    profile::{ChainProfile, Hardfork},
    rpc::RpcChain,
};
use kessai_sim::{RevmOptions, demo};
use std::path::{Path, PathBuf};

/// An Anvil like ibet for Fin at `hardfork`: chain id 1010032, gas price and base fee 0, a block
/// every second, and no ether anywhere.
fn gas_free_anvil(hardfork: Hardfork) -> AnvilInstance {
    let options = AnvilOptions { hardfork: Some(hardfork.name().into()), block_time: Some(1), ..ibet_like() };
    AnvilInstance::spawn(&options).unwrap_or_else(|e| panic!("this test needs anvil: {e}"))
}

/// ibet's parameters on a local Anvil (automine unless a block time is set).
fn ibet_like() -> AnvilOptions {
    AnvilOptions::emulating(ChainProfile::Ibet)
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("kessai-ibet-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

/// Runs the binary; panics with its output unless it succeeds. Returns stdout.
fn ok(args: &[&str]) -> String {
    let out = support::command().args(args).output().expect("run kessai");
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(out.status.success(), "kessai {}:\n{text}\n{}", args.join(" "), String::from_utf8_lossy(&out.stderr));
    text
}

/// Runs the binary; panics unless it fails. Returns stderr.
fn refused(args: &[&str]) -> String {
    let out = support::command().args(args).output().expect("run kessai");
    let text = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(!out.status.success(), "kessai {} should fail:\n{}", args.join(" "), String::from_utf8_lossy(&out.stdout));
    text
}

fn path(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// Every development account's ether: all zero on these chains, before and after.
async fn balances(chain: &RpcChain) -> Vec<U256> {
    let mut out = Vec::new();
    for who in kessai_deployer::anvil::dev_accounts() {
        out.push(chain.provider().get_balance(who).await.expect("balance"));
    }
    out
}

/// Deploy, then every operator command and a whole trade through the binary, then the demo flow.
async fn every_command_succeeds(hardfork: Hardfork, profile_flag: bool) {
    let node = gas_free_anvil(hardfork);
    let url = node.endpoint();
    let dir = scratch(hardfork.name());
    let manifest = dir.join("manifest.json");
    let mut chain = RpcChain::connect(&url, kessai_deployer::anvil::dev_signers()).expect("connect");
    assert!(balances(&chain).await.iter().all(U256::is_zero), "every party starts without ether");

    // Deploy: at Berlin as an operator would name the network; at London with no flag at all (the
    // engine sees a gas-free node and prices every transaction at zero).
    let mut deploy = vec!["deploy", "--rpc-url", &url, "--out", path(&manifest)];
    if profile_flag {
        deploy.extend(["--chain", "ibet"]);
    }
    let text = ok(&deploy);
    assert!(text.contains("legacy transactions at 0 wei per gas"), "{text}");
    let recorded = Manifest::read(&manifest).expect("manifest");
    assert_eq!(recorded.deployment.chain_id, 1_010_032);
    assert_eq!(recorded.profile, profile_flag.then_some(ChainProfile::Ibet), "the profile is recorded");
    let suite = Suite::from_deployment(&recorded.deployment).expect("suite");
    let p = support::parties();

    // The registrar, the issuer and the bank act through their commands; no flag repeats the chain.
    let m = ["--rpc-url", url.as_str(), "--manifest", path(&manifest)];
    let run = |args: &[&str]| ok(&[&args[..1], &m[..], &args[1..]].concat());
    for (who, data) in [(p.seller, "CUST-S"), (p.buyer, "CUST-B")] {
        let who = who.to_string();
        run(&["registry", "register", "--account", &who, "--data", data]);
        run(&["registry", "--registry", "bank", "register", "--account", &who, "--data", data]);
    }
    run(&["security", "issue", "--to", &p.seller.to_string(), "--units", "1000"]);
    run(&["deposit", "issue", "--to", &p.buyer.to_string(), "--amount", "5000000", "--ref", "LEDGER-1"]);

    // A whole trade: the seller creates, the buyer pays, the agent approves.
    let deadline = demo::deadline_after(chain.timestamp().await.expect("time"));
    let terms = dir.join("terms.json");
    let json = serde_json::json!({
        "seller": p.seller, "buyer": p.buyer, "agent": p.agent,
        "units": 100, "amount": "1000000", "deadline": deadline,
    });
    std::fs::write(&terms, json.to_string()).expect("terms");
    for step in ["create", "pay", "approve"] {
        run(&["trade", step, "--terms", path(&terms), "--id", "IBET-1"]);
    }
    let status = run(&["trade", "status", "--terms", path(&terms), "--id", "IBET-1"]);
    assert!(status.to_lowercase().contains("settled"), "{status}");
    let seller = suite.position(&mut chain, p.seller).await.expect("seller");
    let buyer = suite.position(&mut chain, p.buyer).await.expect("buyer");
    assert_eq!((seller.units, seller.cash), (U256::from(900), U256::from(1_000_000)));
    assert_eq!((buyer.units, buyer.cash), (U256::from(100), U256::from(4_000_000)));

    // The demo's whole flow on the same node (under a salt of its own).
    let report: demo::DemoReport = serde_json::from_str(&ok(&["demo", "--rpc-url", &url, "--json"])).expect("json");
    assert!(
        kessai_bindings::TradeFlags::of(report.trade_status).contains(kessai_bindings::TradeFlags::SETTLED),
        "the demo's trade settled"
    );

    // Nobody held or spent any ether; the transactions were legacy at price 0.
    assert!(balances(&chain).await.iter().all(U256::is_zero), "no party ever needed ether");
    let dvp = &recorded.deployment.contracts["dvp"];
    let tx = chain.provider().get_transaction_by_hash(dvp.tx_hash).await.expect("rpc").expect("tx");
    assert_eq!((tx.inner.tx_type() as u8, tx.inner.gas_price()), (0, Some(0)), "legacy, free");
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn every_command_runs_on_a_gas_free_berlin_chain_like_ibet() {
    every_command_succeeds(Hardfork::Berlin, true).await;
}

#[tokio::test]
async fn every_command_runs_on_a_gas_free_london_chain() {
    every_command_succeeds(Hardfork::London, false).await;
}

/// Hardhat's node at Berlin on ibet's chain id: an independent EVM that applies Berlin's rules,
/// refunds included.
fn hardhat_berlin() -> HardhatOptions {
    HardhatOptions { hardfork: "berlin".into(), chain_id: ChainProfile::Ibet.chain_id(), ..Default::default() }
}

#[tokio::test]
async fn every_example_scenario_replays_at_berlin_as_in_process() {
    let revm = RevmOptions::new(Hardfork::Berlin, ChainProfile::Ibet.chain_id());
    for file in ["dcjpy_pilot.toml", "municipal_bond.toml", "failures.toml"] {
        // Identical reports, gas included, with Hardhat's EVM at Berlin.
        let report = support::replays_on(file, &revm, Node::Hardhat(hardhat_berlin()), Gas::Exact).await;
        assert!(report.passed(), "{file}: every expectation holds at Berlin");
        // On Anvil like ibet (the runner moves the clock itself, so it mines on demand; Berlin, chain
        // id 1010032, gas price 0, accounts without ether): identical outcomes, events, positions and
        // final state; gas as Anvil's Berlin refunds allow.
        support::replays_on(file, &revm, Node::Anvil(ibet_like()), Gas::AnvilBerlinRefunds).await;
    }
}

#[test]
fn petersburg_is_refused_before_anything_is_sent_naming_chainid() {
    let node = AnvilInstance::spawn(&AnvilOptions { hardfork: Some("petersburg".into()), ..Default::default() })
        .unwrap_or_else(|e| panic!("this test needs anvil: {e}"));
    let url = node.endpoint();
    let dir = scratch("petersburg");
    let manifest = dir.join("m.json");
    let before = support::block_and_nonces(&url);
    let err = refused(&["deploy", "--rpc-url", &url, "--out", path(&manifest)]);
    assert!(err.contains("CHAINID") && err.contains("Istanbul"), "{err}");
    assert!(err.contains("DvP") || err.contains("DepositToken"), "names a contract that needs it: {err}");
    assert_eq!(support::block_and_nonces(&url), before, "nothing was sent");
    assert!(!manifest.exists(), "no manifest");
}

#[test]
fn a_command_pointed_at_the_wrong_chain_or_a_chain_without_the_suite_sends_nothing() {
    // The suite on chain 1010032; another node (chain 31337) with the same suite at the same
    // addresses; and a fresh node of chain 1010032 without it.
    let home = AnvilInstance::spawn(&ibet_like()).unwrap_or_else(|e| panic!("this test needs anvil: {e}"));
    let other = AnvilInstance::spawn(&AnvilOptions::default()).unwrap_or_else(|e| panic!("anvil: {e}"));
    let empty = AnvilInstance::spawn(&ibet_like()).unwrap_or_else(|e| panic!("anvil: {e}"));
    let dir = scratch("wrong-chain");
    let manifest = dir.join("home.json");
    ok(&["deploy", "--rpc-url", &home.endpoint(), "--chain", "ibet", "--out", path(&manifest)]);
    ok(&["deploy", "--rpc-url", &other.endpoint(), "--out", path(&dir.join("other.json"))]);
    let seller = support::parties().seller.to_string();

    let before = support::block_and_nonces(&other.endpoint());
    let err = refused(&[
        "registry",
        "--rpc-url",
        &other.endpoint(),
        "--manifest",
        path(&manifest),
        "register",
        "--account",
        &seller,
        "--data",
        "CUST-1",
    ]);
    assert!(
        err.contains("chain id 31337") && err.contains("chain 1010032") && err.contains("nothing was sent"),
        "{err}"
    );
    assert_eq!(support::block_and_nonces(&other.endpoint()), before, "nothing was sent to the other chain");

    let before = support::block_and_nonces(&empty.endpoint());
    let err = refused(&[
        "security",
        "--rpc-url",
        &empty.endpoint(),
        "--manifest",
        path(&manifest),
        "issue",
        "--to",
        &seller,
        "--units",
        "10",
    ]);
    assert!(err.contains("does not hold the suite") && err.contains("no code"), "{err}");
    // A trade's creation, which once sent a transaction to an address without code before failing.
    let p = support::parties();
    let terms = dir.join("terms.json");
    let json = serde_json::json!({
        "seller": p.seller, "buyer": p.buyer, "agent": p.agent, "units": 100, "amount": "1000000",
        "deadline": kessai_deployer::chain::GENESIS_TIMESTAMP + 86_400 * 30,
    });
    std::fs::write(&terms, json.to_string()).expect("terms");
    let err = refused(&[
        "trade",
        "--rpc-url",
        &empty.endpoint(),
        "--manifest",
        path(&manifest),
        "create",
        "--terms",
        path(&terms),
        "--id",
        "T-1",
    ]);
    assert!(err.contains("does not hold the suite"), "{err}");
    assert_eq!(support::block_and_nonces(&empty.endpoint()), before, "nothing was sent to the empty chain");

    // Read-only commands refuse too, rather than report another chain's events.
    let err = refused(&["watch", "--rpc-url", &other.endpoint(), "--manifest", path(&manifest)]);
    assert!(err.contains("chain id 31337"), "{err}");
    // --chain may not contradict the profile the manifest records; repeating it is fine.
    let err = refused(&[
        "deposit",
        "--rpc-url",
        &other.endpoint(),
        "--manifest",
        path(&dir.join("other.json")),
        "--chain",
        "ibet",
        "issue",
        "--to",
        &seller,
        "--amount",
        "1",
        "--ref",
        "X",
    ]);
    assert!(err.contains("--chain ibet is chain 1010032") && err.contains("nothing was sent"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn the_in_process_engine_runs_berlin_with_the_gas_of_berlin_nodes() {
    // The demo at Berlin in-process, on Hardhat's EVM at Berlin and on a Berlin Anvil like ibet.
    let parties = support::parties();
    let revm_options = RevmOptions::new(Hardfork::Berlin, ChainProfile::Ibet.chain_id());
    let mut revm = kessai_sim::RevmChain::new(&revm_options, &parties.senders());
    let buyer = support::key(parties.buyer);
    let in_process = demo::run(&mut revm, &parties, &buyer, |_| {}).await.expect("demo in-process at berlin");
    let hardhat = HardhatInstance::spawn(&hardhat_berlin()).unwrap_or_else(|e| panic!("this test needs hardhat: {e}"));
    let mut rpc = RpcChain::connect(&hardhat.endpoint(), kessai_deployer::anvil::dev_signers()).expect("connect");
    journal::ensure_deterministic_deployer(&mut rpc, parties.suite.operator).await.expect("install the proxy");
    let on_hardhat = demo::run(&mut rpc, &parties, &buyer, |_| {}).await.expect("demo on hardhat at berlin");
    let node = AnvilInstance::spawn(&ibet_like()).unwrap_or_else(|e| panic!("this test needs anvil: {e}"));
    let mut rpc = RpcChain::connect(&node.endpoint(), kessai_deployer::anvil::dev_signers()).expect("connect");
    let on_anvil = demo::run(&mut rpc, &parties, &buyer, |_| {}).await.expect("demo on anvil at berlin");
    let gas = |r: &demo::DemoReport| r.steps.iter().map(|s| s.gas_used).collect::<Vec<_>>();
    assert_eq!(gas(&in_process), gas(&on_hardhat), "the same gas as Hardhat at Berlin, step by step");
    for (label, c) in &in_process.deployment.contracts {
        assert_eq!(c.gas_used, on_hardhat.deployment.contracts[label].gas_used, "{label} deployment gas (hardhat)");
        assert_eq!(c.gas_used, on_anvil.deployment.contracts[label].gas_used, "{label} deployment gas (anvil)");
    }
    // Anvil 1.7 agrees on every step that clears no storage; where a step clears a slot (the
    // settlement empties the seller's held units, the redemption the seller's cash), it refunds
    // London's 4,800 per slot instead of Berlin's 15,000, so it reports more gas.
    for (i, (ours, anvil)) in gas(&in_process).into_iter().zip(gas(&on_anvil)).enumerate() {
        let step = &in_process.steps[i].description;
        assert!(anvil >= ours, "step {i} ({step}): anvil {anvil} < {ours}");
    }
    assert_eq!(gas(&in_process)[..8], gas(&on_anvil)[..8], "registrations, issues, creation: identical");
    assert_eq!(in_process.steps.last().map(|s| &s.seller), on_anvil.steps.last().map(|s| &s.seller));
    // The setting is honoured, not ignored: since Shanghai, creating a contract also pays for its
    // init code (EIP-3860), so the same deployment costs more at Cancun than at Berlin.
    let mut cancun = support::revm();
    let newer = demo::run(&mut cancun, &parties, &buyer, |_| {}).await.expect("demo at cancun");
    let dvp = |r: &demo::DemoReport| r.deployment.contracts["dvp"].gas_used;
    assert!(dvp(&in_process) < dvp(&newer), "Berlin {} vs Cancun {}", dvp(&in_process), dvp(&newer));
}
