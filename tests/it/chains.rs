//! Chains as they are: the same deployment and the demo settlement on Anvil at its default (newest)
//! hard fork, on Anvil emulating a permissioned chain (Paris, no PUSH0, zero gas price, legacy
//! transactions) and on Hardhat's node, an independent EVM; and preflight refusing, before anything
//! is sent, a chain that cannot run the code, the wrong chain id and an unfunded sender.

use crate::support;
use kessai_bindings::alloy::{
    consensus::Transaction as _, primitives::Address, providers::Provider, signers::local::PrivateKeySigner,
};
use kessai_deployer::{
    DeployerError, anvil,
    anvil::{AnvilInstance, AnvilOptions},
    hardhat::{HardhatInstance, HardhatOptions},
    journal, plan, preflight,
    rpc::{FeeMode, RpcChain, RpcOptions},
};
use kessai_sim::demo::{self, DemoParties};

/// Preflight, then the whole demo flow; returns the demo's report.
async fn deploy_and_settle(chain: &mut RpcChain) -> demo::DemoReport {
    let parties = support::parties();
    let plan = plan::suite_plan(&demo::demo_spec(&parties));
    let report = preflight::check(chain, &plan, Some((31337, "the test"))).await.expect("preflight passes");
    assert!(report.opcodes.iter().any(|o| o == "SHL"), "the suite's later opcodes were probed: {:?}", report.opcodes);
    let demo = demo::run(chain, &parties, &support::key(parties.buyer), |_| {}).await.expect("deploy and settle");
    assert_eq!(demo.trade_status, 1 | 2 | 4 | 8, "settled");
    demo
}

fn spawn_anvil(options: AnvilOptions) -> AnvilInstance {
    AnvilInstance::spawn(&options).unwrap_or_else(|e| panic!("this test needs anvil: {e}"))
}

#[tokio::test]
async fn the_suite_deploys_and_settles_on_anvil_at_its_default_hard_fork() {
    let node = spawn_anvil(AnvilOptions { hardfork: None, ..Default::default() });
    let mut chain = RpcChain::connect(&node.endpoint(), anvil::dev_signers()).expect("connect");
    let report = preflight::check(&chain, &plan::suite_plan(&demo::demo_spec(&support::parties())), None)
        .await
        .expect("preflight");
    assert!(report.eip1559 && report.push0, "the newest hard fork has a base fee and PUSH0: {report:?}");
    deploy_and_settle(&mut chain).await;
}

#[tokio::test]
async fn the_suite_deploys_and_settles_on_a_permissioned_chain_emulation() {
    // Paris (no PUSH0), zero gas price and base fee; the engine sends legacy transactions at price 0.
    let node = spawn_anvil(AnvilOptions {
        hardfork: Some("paris".into()),
        base_fee: Some(0),
        gas_price: Some(0),
        ..Default::default()
    });
    let options = RpcOptions { fees: FeeMode::Legacy(Some(0)), ..Default::default() };
    let mut chain = RpcChain::connect_with(&node.endpoint(), anvil::dev_signers(), options).expect("connect");
    let report = preflight::check(&chain, &plan::suite_plan(&demo::demo_spec(&support::parties())), None)
        .await
        .expect("preflight");
    assert!(!report.push0, "Paris has no PUSH0, and the suite does not need it");
    assert_eq!(report.price, 0, "the engine pays nothing");
    assert!(report.funding.iter().all(|f| f.needed.is_zero()), "nothing to fund on a zero-gas chain");
    let demo = deploy_and_settle(&mut chain).await;
    // Every transaction was legacy and free.
    let dvp = &demo.deployment.contracts["dvp"];
    let tx = chain.provider().get_transaction_by_hash(dvp.tx_hash).await.expect("rpc").expect("the deployment tx");
    assert_eq!(tx.inner.tx_type() as u8, 0, "legacy transaction");
    assert_eq!(tx.inner.gas_price(), Some(0));
}

#[tokio::test]
async fn the_suite_deploys_and_settles_on_hardhat() {
    let node =
        HardhatInstance::spawn(&HardhatOptions::default()).unwrap_or_else(|e| panic!("this test needs hardhat: {e}"));
    let mut chain = RpcChain::connect(&node.endpoint(), anvil::dev_signers()).expect("connect");
    // Hardhat has no deterministic deployment proxy at genesis: the deployer installs it.
    let operator = support::parties().suite.operator;
    let status = journal::ensure_deterministic_deployer(&mut chain, operator).await.expect("install the proxy");
    assert!(!matches!(status, journal::DeployerStatus::Found), "hardhat starts without it");
    deploy_and_settle(&mut chain).await;
}

/// The block number and every plan sender's nonce: a refusal must leave both as they were.
async fn untouched(chain: &RpcChain, senders: &[Address]) -> (u64, Vec<u64>) {
    let block = chain.provider().get_block_number().await.expect("block");
    let mut nonces = Vec::new();
    for who in senders {
        nonces.push(chain.provider().get_transaction_count(*who).await.expect("nonce"));
    }
    (block, nonces)
}

fn refused(result: Result<preflight::PreflightReport, DeployerError>) -> String {
    match result {
        Err(DeployerError::Preflight(message)) => message,
        other => panic!("expected a preflight refusal, got {other:?}"),
    }
}

#[tokio::test]
async fn preflight_refuses_a_chain_that_cannot_run_the_code() {
    // Petersburg predates CHAINID and SELFBALANCE (Istanbul), which the suite's code uses.
    let node = spawn_anvil(AnvilOptions { hardfork: Some("petersburg".into()), ..Default::default() });
    let chain = RpcChain::connect(&node.endpoint(), anvil::dev_signers()).expect("connect");
    let parties = support::parties();
    let before = untouched(&chain, &parties.senders()).await;
    let message = refused(preflight::check(&chain, &plan::suite_plan(&demo::demo_spec(&parties)), None).await);
    assert!(message.contains("Istanbul") || message.contains("would fail"), "{message}");
    assert_eq!(untouched(&chain, &parties.senders()).await, before, "nothing was sent");
}

#[tokio::test]
async fn preflight_refuses_the_wrong_chain_id() {
    let (_node, chain) = support::anvil();
    let parties = support::parties();
    let before = untouched(&chain, &parties.senders()).await;
    let plan = plan::suite_plan(&demo::demo_spec(&parties));
    let message = refused(preflight::check(&chain, &plan, Some((81, "the config prod.toml"))).await);
    assert!(message.contains("chain id 31337") && message.contains("prod.toml is for chain 81"), "{message}");
    assert_eq!(untouched(&chain, &parties.senders()).await, before, "nothing was sent");
}

#[tokio::test]
async fn preflight_refuses_an_unfunded_sender() {
    let node = spawn_anvil(AnvilOptions::default());
    // A fresh operator key that holds nothing, among the funded development accounts.
    let broke = PrivateKeySigner::random();
    let mut signers = anvil::dev_signers();
    signers[0] = broke.clone();
    let accounts: Vec<Address> = signers.iter().map(PrivateKeySigner::address).collect();
    let parties = DemoParties::from_accounts(&accounts).expect("parties");
    let chain = RpcChain::connect(&node.endpoint(), signers).expect("connect");
    let before = untouched(&chain, &parties.senders()).await;
    let message = refused(preflight::check(&chain, &plan::suite_plan(&demo::demo_spec(&parties)), None).await);
    assert!(message.contains(&broke.address().to_string()) && message.contains("holds 0 wei"), "{message}");
    assert!(message.contains("fund these accounts"), "{message}");
    assert_eq!(untouched(&chain, &parties.senders()).await, before, "nothing was sent");
}
