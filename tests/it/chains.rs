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
    let before = support::untouched(&chain, &parties.senders()).await;
    let message = refused(preflight::check(&chain, &plan::suite_plan(&demo::demo_spec(&parties)), None).await);
    assert!(message.contains("Istanbul") || message.contains("would fail"), "{message}");
    assert_eq!(support::untouched(&chain, &parties.senders()).await, before, "nothing was sent");
}

#[tokio::test]
async fn preflight_refuses_the_wrong_chain_id() {
    let (_node, chain) = support::anvil();
    let parties = support::parties();
    let before = support::untouched(&chain, &parties.senders()).await;
    let plan = plan::suite_plan(&demo::demo_spec(&parties));
    let message = refused(preflight::check(&chain, &plan, Some((81, "the config prod.toml"))).await);
    assert!(message.contains("chain id 31337") && message.contains("prod.toml is for chain 81"), "{message}");
    assert_eq!(support::untouched(&chain, &parties.senders()).await, before, "nothing was sent");
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
    let before = support::untouched(&chain, &parties.senders()).await;
    let message = refused(preflight::check(&chain, &plan::suite_plan(&demo::demo_spec(&parties)), None).await);
    assert!(message.contains(&broke.address().to_string()) && message.contains("holds 0 wei"), "{message}");
    assert!(message.contains("fund these accounts"), "{message}");
    assert_eq!(support::untouched(&chain, &parties.senders()).await, before, "nothing was sent");
}

#[test]
fn deploy_signs_with_encrypted_keystores_and_never_prints_a_key() {
    let dir = std::env::temp_dir().join(format!("kessai-keystores-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("dir");
    let paths = support::keystores(&dir, "correct horse");
    let list = paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(",");
    let node = spawn_anvil(AnvilOptions::default());
    let run = |password: &str| {
        std::process::Command::new(env!("CARGO_BIN_EXE_kessai"))
            .args(["deploy", "--rpc-url", &node.endpoint(), "--out"])
            .arg(dir.join("manifest.json"))
            .env("KESSAI_KEYSTORE", &list)
            .env("KESSAI_KEYSTORE_PASSWORD", password)
            .env_remove("KESSAI_KEYS")
            .output()
            .expect("run kessai")
    };
    let secrets: Vec<String> = anvil::dev_signers()
        .iter()
        .take(8)
        .map(|k| kessai_bindings::alloy::primitives::hex::encode(k.to_bytes()))
        .collect();
    let wrong = run("wrong password");
    let text = String::from_utf8_lossy(&wrong.stderr).to_string() + &String::from_utf8_lossy(&wrong.stdout);
    assert!(!wrong.status.success(), "a wrong password must fail");
    assert!(text.contains("cannot decrypt keystore") && text.contains("KESSAI_KEYSTORE"), "{text}");
    assert!(!dir.join("manifest.json").exists(), "nothing deployed");
    let ok = run("correct horse");
    let text = String::from_utf8_lossy(&ok.stderr).to_string() + &String::from_utf8_lossy(&ok.stdout);
    assert!(ok.status.success(), "{text}");
    assert!(text.contains("preflight: chain 31337"), "{text}");
    for secret in &secrets {
        assert!(!text.contains(secret.as_str()), "a private key was printed");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn a_transaction_not_mined_in_time_is_replaced_with_a_higher_fee_not_duplicated() {
    use kessai_deployer::chain::{Chain, Tx};
    // Blocks every 3 s; the engine gives a transaction 400 ms before replacing it.
    let node = spawn_anvil(AnvilOptions { block_time: Some(3), ..Default::default() });
    let options = RpcOptions { resend_after: std::time::Duration::from_millis(400), ..Default::default() };
    let mut chain = RpcChain::connect_with(&node.endpoint(), anvil::dev_signers(), options).expect("connect");
    let from = anvil::dev_accounts()[0];
    let to = Address::repeat_byte(0x77);
    let nonce_before = chain.provider().get_transaction_count(from).await.expect("nonce");
    // The first offer: twice the latest base fee plus the node's suggested tip.
    let latest = chain.provider().get_block_by_number(Default::default()).await.expect("rpc").expect("block");
    let tip = chain.provider().get_max_priority_fee_per_gas().await.expect("tip");
    let first = u128::from(latest.header.base_fee_per_gas.expect("base fee")) * 2 + tip;
    let receipt = chain.send(Tx { from, to: Some(to), data: Default::default() }).await.expect("mined in the end");
    let mined = chain.provider().get_transaction_by_hash(receipt.tx_hash).await.expect("rpc").expect("tx");
    let offered = mined.inner.max_fee_per_gas();
    assert!(offered > first, "the mined transaction is a replacement with a higher fee ({offered} > {first})");
    assert!(offered >= first + first / 8, "raised by at least an eighth, as nodes require of a replacement");
    assert_eq!(mined.inner.nonce(), nonce_before, "same nonce: a replacement, not a second transaction");
    assert_eq!(
        chain.provider().get_transaction_count(from).await.expect("nonce"),
        nonce_before + 1,
        "one transaction mined"
    );
    let balance = chain.provider().get_balance(to).await.expect("balance");
    assert!(balance.is_zero(), "a zero-value transfer, sent once");
}

#[tokio::test]
async fn the_development_keys_are_the_accounts_anvil_and_hardhat_fund() {
    let (_node, chain) = support::anvil();
    let funded: Vec<Address> = chain.provider().get_accounts().await.expect("eth_accounts");
    assert_eq!(funded, anvil::dev_accounts(), "every development key signs for an account Anvil funds");
}
