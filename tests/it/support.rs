//! Shared helpers: engines and a deployed, registered suite.

use kessai_bindings::alloy::{primitives::Address, signers::local::PrivateKeySigner};
use kessai_deployer::{
    anvil::{self, AnvilInstance, AnvilOptions},
    hardhat::{HardhatInstance, HardhatOptions},
    rpc::RpcChain,
};
use kessai_sim::{
    RevmChain, RevmOptions,
    demo::DemoParties,
    scenario::{self, RunReport, run},
};
use std::{
    path::PathBuf,
    process::Command,
    time::{Duration, Instant},
};

/// The demo parties on Anvil's development accounts.
pub fn parties() -> DemoParties {
    DemoParties::from_accounts(&anvil::dev_accounts()).expect("ten dev accounts")
}

/// The development key of `account` (one of Anvil's dev accounts).
pub fn key(account: Address) -> PrivateKeySigner {
    anvil::dev_signers().into_iter().find(|k| k.address() == account).expect("a dev account")
}

/// A fresh in-process chain with the parties funded.
pub fn revm() -> RevmChain {
    RevmChain::new(&RevmOptions::default(), &parties().senders())
}

/// A fresh Anvil (cancun, like the in-process engine) and an engine connected to it. Fails with the
/// install hint when anvil is missing: a test that needs Anvil never skips.
pub fn anvil() -> (AnvilInstance, RpcChain) {
    let instance =
        AnvilInstance::spawn(&AnvilOptions::default()).unwrap_or_else(|e| panic!("this test needs anvil: {e}"));
    let chain = RpcChain::connect(&instance.endpoint(), anvil::dev_signers()).expect("connect to anvil");
    (instance, chain)
}

/// The `kessai` binary, without the caller's keys or node in its environment.
pub fn kessai() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_kessai"));
    cmd.env_remove("KESSAI_KEYS").env_remove("KESSAI_KEYSTORE").env_remove("KESSAI_RPC_URL");
    cmd
}

/// The node's block number and every development account's nonce: a refusal must leave both as
/// they were. Blocking (for `#[test]`s that drive the binary; not inside an async test).
pub fn block_and_nonces(url: &str) -> (u64, Vec<u64>) {
    use kessai_bindings::alloy::providers::Provider;
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let chain = RpcChain::connect(url, anvil::dev_signers()).expect("connect");
    runtime.block_on(async {
        let block = chain.provider().get_block_number().await.expect("block");
        let mut nonces = Vec::new();
        for who in anvil::dev_accounts() {
            nonces.push(chain.provider().get_transaction_count(who).await.expect("nonce"));
        }
        (block, nonces)
    })
}

async fn on_revm(scenario: &scenario::Scenario, options: &RevmOptions) -> (RunReport, Duration) {
    let mut chain = RevmChain::new(options, &anvil::dev_accounts());
    let began = Instant::now();
    let report = run::run(&mut chain, scenario, &anvil::dev_signers(), |_| {}).await.expect("replay on revm");
    (report, began.elapsed())
}

/// A node to replay on: a spawned Anvil, or Hardhat's node (an independent EVM).
pub enum Node {
    /// Anvil with these options.
    Anvil(AnvilOptions),
    /// Hardhat's node with these options (the deterministic deployment proxy is installed first).
    Hardhat(HardhatOptions),
}

/// How a node's gas must compare with the in-process engine's.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Gas {
    /// Identical on every step.
    Exact,
    /// Anvil 1.7 at Berlin refunds a cleared storage slot by London's amount (4,800 instead of
    /// Berlin's 15,000), so a step that clears storage costs it more than Berlin's rules say (the
    /// in-process engine and Hardhat agree on Berlin's figure). Anvil's gas may only be higher.
    AnvilBerlinRefunds,
}

/// Replays the example scenario `file` in-process under `revm` and on `node`, asserts the reports
/// are equal (gas compared as `gas` says) and every expectation held.
pub async fn replays_identically(file: &str, revm: &RevmOptions, node: &AnvilOptions) -> RunReport {
    replays_on(file, revm, Node::Anvil(node.clone()), Gas::Exact).await
}

/// [`replays_identically`] on any [`Node`].
pub async fn replays_on(file: &str, revm: &RevmOptions, node: Node, gas: Gas) -> RunReport {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scenarios").join(file);
    let scenario = scenario::load(path).unwrap_or_else(|e| panic!("{e}"));
    let (revm_report, revm_time) = on_revm(&scenario, revm).await;

    let (_anvil, _hardhat, endpoint) = match node {
        Node::Anvil(o) => {
            let n = AnvilInstance::spawn(&o).unwrap_or_else(|e| panic!("this test needs anvil: {e}"));
            let url = n.endpoint();
            (Some(n), None, url)
        }
        Node::Hardhat(o) => {
            let n = HardhatInstance::spawn(&o).unwrap_or_else(|e| panic!("this test needs hardhat: {e}"));
            let url = n.endpoint();
            (None, Some(n), url)
        }
    };
    let mut rpc = RpcChain::connect(&endpoint, anvil::dev_signers()).expect("connect to the node");
    kessai_deployer::journal::ensure_deterministic_deployer(&mut rpc, anvil::dev_accounts()[0])
        .await
        .expect("the deterministic deployment proxy");
    let began = Instant::now();
    let anvil_report = run::run(&mut rpc, &scenario, &anvil::dev_signers(), |_| {}).await.expect("replay on the node");
    let anvil_time = began.elapsed();
    println!(
        "{file}: {} steps; revm {:.1} ms, node {:.1} ms (deployment included)",
        revm_report.steps.len(),
        revm_time.as_secs_f64() * 1e3,
        anvil_time.as_secs_f64() * 1e3
    );

    let failed: Vec<String> = revm_report
        .steps
        .iter()
        .flat_map(|s| s.checks.iter().filter(|c| !c.passed).map(move |c| (s, c)))
        .map(|(s, c)| format!("step {} ({}): expected {}, found {:?}", s.index, s.description, c.expected, c.found))
        .collect();
    assert!(failed.is_empty(), "{file}: expectations that did not hold:\n{}", failed.join("\n"));
    assert!(revm_report.passed(), "{file}: every expectation holds");
    assert_eq!(revm_report.steps.len(), anvil_report.steps.len(), "{file}: same number of steps");
    for (a, b) in revm_report.steps.iter().zip(&anvil_report.steps) {
        assert_eq!(a.result, b.result, "{file} step {} ({}): result", a.index, a.description);
        match gas {
            Gas::Exact => assert_eq!(a.gas_used, b.gas_used, "{file} step {} ({}): gas", a.index, a.description),
            Gas::AnvilBerlinRefunds => {
                assert!(
                    b.gas_used >= a.gas_used,
                    "{file} step {} ({}): gas {} < {}",
                    a.index,
                    a.description,
                    b.gas_used,
                    a.gas_used
                )
            }
        }
        assert_eq!(a.events, b.events, "{file} step {} ({}): events", a.index, a.description);
        assert_eq!(a.state, b.state, "{file} step {} ({}): positions", a.index, a.description);
        if gas == Gas::Exact {
            assert_eq!(a, b, "{file} step {} ({})", a.index, a.description);
        }
    }
    assert_eq!(revm_report.final_state, anvil_report.final_state, "{file}: final state");
    if gas == Gas::Exact {
        assert_eq!(revm_report, anvil_report, "{file}: whole report");
    }
    revm_report
}
