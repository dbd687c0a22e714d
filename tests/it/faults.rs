//! Flaky transports: `kessai deploy`, the demo and a trade through a proxy that answers HTTP 503 to
//! every third request, a JSON-RPC rate-limit error to every eleventh read, drops every seventh
//! connection and withholds the node's answer to every second `eth_sendRawTransaction` (which the
//! node did get). Each run completes, reports every step as it happened, and sends no transaction
//! twice: the blocks and every account's nonce end exactly as after the same run on a node reached
//! directly. A rate-limited send is sent again, the same signed transaction.

use crate::support::{
    self,
    cli::cli_market,
    faults::{FaultProxy, Faults, fault_proxy, send_recording_signed},
};
use kessai_bindings::alloy::{
    primitives::{Address, B256, Bytes},
    providers::Provider,
};
use kessai_deployer::{
    DeployerError, anvil,
    chain::{Chain, Tx},
    journal::{Entry, Journal},
    manifest::Manifest,
    plan, preflight,
    rpc::{RpcChain, RpcOptions},
};
use kessai_sim::demo;
use std::{path::PathBuf, time::Duration};

/// The faults of the report, and lost answers to sends.
const FLAKY: Faults = Faults {
    unavailable_every: Some(3),
    rate_limited_every: Some(11),
    rate_limited_send_every: None,
    drop_every: Some(7),
    swallow_send_every: Some(2),
    stall_send_every: None,
    delay: Duration::from_millis(2),
};

/// A fresh directory for one run's files.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("kessai-faults-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("dir");
    dir
}

/// Asserts that the proxy injected every kind of fault at least once.
fn faults_happened(proxy: &FaultProxy) {
    let (unavailable, rate_limited, dropped, swallowed) = proxy.counts.faults();
    assert!(
        unavailable > 0 && rate_limited > 0 && dropped > 0 && swallowed > 0,
        "faults injected: {unavailable} 503s, {rate_limited} rate-limit errors, {dropped} drops, {swallowed} lost \
         send answers"
    );
}

/// Asserts that `hash` is a successful transaction on the node.
async fn succeeded(chain: &RpcChain, hash: B256) {
    let receipt =
        chain.provider().get_transaction_receipt(hash).await.expect("receipt").expect("the hash reported is mined");
    assert!(receipt.status(), "{hash} succeeded");
}

/// Runs `kessai deploy` against `url`, writing into `dir`; returns the manifest's path.
async fn deploy(url: &str, dir: &std::path::Path) -> PathBuf {
    let manifest = dir.join("m.json");
    let out = manifest.to_str().expect("utf-8 path");
    let run = support::kessai(&["deploy", "--rpc-url", url, "--out", out], &[]).await;
    assert!(run.ok, "deploy through {url} failed:\n{}\n{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("sent now, 0 done by an earlier run"), "{}", run.stdout);
    manifest
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deploy_through_a_flaky_proxy_completes_and_sends_each_step_once() {
    // The same deployment on a node reached directly: what the chain must hold afterwards.
    let (clean_node, clean_chain) = support::anvil();
    let clean = deploy(&clean_node.endpoint(), &scratch("deploy-clean")).await;
    let expected = support::sent_so_far(&clean_chain).await;

    let (node, chain) = support::anvil();
    let proxy = fault_proxy(support::socket_of(&node.endpoint()), FLAKY).await;
    let manifest = deploy(&proxy.url, &scratch("deploy-flaky")).await;
    faults_happened(&proxy);
    assert_eq!(support::sent_so_far(&chain).await, expected, "blocks and nonces as without faults: no duplicate");

    // Every step the journal reports is a successful transaction on the node, and every contract
    // is where the manifest says, at the addresses of the clean run.
    let deployed = Manifest::read(&manifest).expect("manifest").deployment;
    assert_eq!(
        deployed.contracts.keys().collect::<Vec<_>>(),
        Manifest::read(&clean).expect("manifest").deployment.contracts.keys().collect::<Vec<_>>()
    );
    for (label, c) in &deployed.contracts {
        let code = chain.provider().get_code_at(c.address).await.expect("code");
        assert!(!code.is_empty(), "{label} has code at {}", c.address);
    }
    let journal = Journal::open(&Journal::path_for(&manifest)).expect("journal");
    let mut sending = 0;
    let mut confirmed = 0;
    for entry in journal.entries() {
        match entry {
            Entry::Sending { tx_hash, .. } => {
                assert!(tx_hash.is_some(), "the hash is journaled before sending: {entry:?}");
                sending += 1;
            }
            Entry::Confirmed { tx_hash, .. } => {
                succeeded(&chain, *tx_hash).await;
                confirmed += 1;
            }
            _ => {}
        }
    }
    let steps: u64 = expected.1.iter().sum();
    assert_eq!((sending, confirmed), (steps, steps), "one signed transaction per step, each confirmed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_through_a_flaky_proxy_settles_and_sends_each_step_once() {
    let (clean, clean_chain) = support::anvil();
    let run = support::kessai(&["demo", "--rpc-url", &clean.endpoint()], &[]).await;
    assert!(run.ok, "{}\n{}", run.stdout, run.stderr);
    let expected = support::sent_so_far(&clean_chain).await;

    let (node, chain) = support::anvil();
    let proxy = fault_proxy(support::socket_of(&node.endpoint()), FLAKY).await;
    let flaky = support::kessai(&["demo", "--rpc-url", &proxy.url], &[]).await;
    assert!(flaky.ok, "{}\n{}", flaky.stdout, flaky.stderr);
    faults_happened(&proxy);
    assert!(flaky.stdout.contains("SETTLED (both legs in one transaction)"), "{}", flaky.stdout);
    assert_eq!(support::sent_so_far(&chain).await, expected, "blocks and nonces as without faults: no duplicate");
}

/// A sender's mined nonce.
async fn nonce(chain: &RpcChain, account: Address) -> u64 {
    chain.provider().get_transaction_count(account).await.expect("nonce")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trade_through_a_flaky_proxy_is_created_paid_and_approved_each_once() {
    let mut m = cli_market("faults").await;
    let proxy = fault_proxy(support::socket_of(&m.url), FLAKY).await;
    let (seller, buyer, agent) = (m.p.seller, m.p.buyer, m.p.agent);
    let (terms, _) = m.terms("t.json", seller, buyer, 100, 1_000_000);
    let terms = terms.to_str().expect("utf-8 path").to_owned();
    let manifest = m.manifest.to_str().expect("utf-8 path").to_owned();
    let id = "FLAKY-1";
    for (action, sender, status) in [("create", seller, 1), ("pay", buyer, 3), ("approve", agent, 15)] {
        let before = support::sent_so_far(&m.chain).await;
        let sent = nonce(&m.chain, sender).await;
        let args = [
            "--json",
            "trade",
            "--rpc-url",
            &proxy.url,
            "--manifest",
            &manifest,
            action,
            "--terms",
            &terms,
            "--id",
            id,
        ];
        let run = support::kessai(&args, &[]).await;
        assert!(run.ok, "{action} failed:\n{}\n{}", run.stdout, run.stderr);
        let r: serde_json::Value = serde_json::from_str(&run.stdout).expect("one JSON document on stdout");
        assert_eq!(r["status"], status, "{action}: {r}");
        let hash: B256 = r["tx_hash"].as_str().expect("tx_hash").parse().expect("a hash");
        succeeded(&m.chain, hash).await;
        assert_eq!(nonce(&m.chain, sender).await, sent + 1, "{action}: one transaction from {sender}");
        assert_eq!(support::sent_so_far(&m.chain).await.0, before.0 + 1, "{action}: one block, one transaction");
    }
    faults_happened(&proxy);
    assert_eq!(m.status(seller, id).await, 15, "settled");
}

/// Sends three transfers from the first development account through `chain`, asserting each was
/// signed once (no replacement; a resent answer resends the same transaction), with consecutive
/// nonces, and mined as signed (read on `direct`); `why` names what the faults must not turn into a
/// failure. Returns the sender.
async fn three_sends_each_signed_once(chain: &mut RpcChain, direct: &RpcChain, why: &str) -> Address {
    let (from, to) = (anvil::dev_accounts()[0], anvil::dev_accounts()[9]);
    for i in 0..3 {
        let (result, signed) = send_recording_signed(chain, Tx { from, to: Some(to), data: Bytes::new() }).await;
        let receipt = result.unwrap_or_else(|e| panic!("{why}: {e}"));
        assert_eq!(signed.len(), 1, "one signed transaction, no replacement: {signed:?}");
        assert_eq!((signed[0].from, signed[0].nonce, signed[0].replaces), (from, i, None));
        assert_eq!(signed[0].hash, receipt.tx_hash, "the hash reported before sending is the one mined");
        succeeded(direct, receipt.tx_hash).await;
    }
    from
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_engine_follows_each_send_by_the_hash_it_signed_when_every_answer_is_lost() {
    let (node, direct) = support::anvil();
    let lost = Faults { swallow_send_every: Some(1), ..Faults::default() };
    let proxy = fault_proxy(support::socket_of(&node.endpoint()), lost).await;
    let mut chain = RpcChain::connect(&proxy.url, anvil::dev_signers()).expect("connect");
    let from = three_sends_each_signed_once(&mut chain, &direct, "a lost answer is not a failure").await;
    assert_eq!(proxy.counts.faults().3, 3, "every answer was withheld");
    assert_eq!(nonce(&direct, from).await, 3, "three transactions, none twice");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rate_limited_request_or_send_is_retried_with_backoff_and_sent_once() {
    let (node, direct) = support::anvil();
    // Every second read and every second send is answered "rate limit exceeded" (HTTP 200).
    let limited = Faults { rate_limited_every: Some(2), rate_limited_send_every: Some(2), ..Faults::default() };
    let proxy = fault_proxy(support::socket_of(&node.endpoint()), limited).await;
    let mut chain = RpcChain::connect(&proxy.url, anvil::dev_signers()).expect("connect");
    let from = three_sends_each_signed_once(&mut chain, &direct, "a rate limit is waited out").await;
    let sends = proxy.counts.sends.load(std::sync::atomic::Ordering::SeqCst);
    let (_, rate_limited, _, _) = proxy.counts.faults();
    assert!(sends > 3 && rate_limited > sends / 2, "{rate_limited} rate-limit answers, {sends} sends");
    assert_eq!(nonce(&direct, from).await, 3, "three transactions, none twice");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_send_whose_answer_never_comes_times_out_and_is_found_by_its_hash() {
    let (node, direct) = support::anvil();
    let stalled = Faults { stall_send_every: Some(1), ..Faults::default() };
    let proxy = fault_proxy(support::socket_of(&node.endpoint()), stalled).await;
    let impatient = RpcOptions { request_timeout: Duration::from_millis(500), ..RpcOptions::default() };
    let mut chain = RpcChain::connect_with(&proxy.url, anvil::dev_signers(), impatient).expect("connect");
    let (from, to) = (anvil::dev_accounts()[0], anvil::dev_accounts()[9]);
    let started = std::time::Instant::now();
    for _ in 0..2 {
        let receipt = chain.send(Tx { from, to: Some(to), data: Bytes::new() }).await.expect("not a failure");
        succeeded(&direct, receipt.tx_hash).await;
    }
    assert!(started.elapsed() < Duration::from_secs(10), "each stalled send gave up after its request timeout");
    assert_eq!(proxy.counts.stalled.load(std::sync::atomic::Ordering::SeqCst), 2, "both answers never came");
    assert_eq!(nonce(&direct, from).await, 2, "two transactions, none twice");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn preflight_names_a_transport_failure_not_the_contracts_and_retries_past_it() {
    let (node, _direct) = support::anvil();
    let plan = plan::suite_plan(&demo::demo_spec(&support::parties()));
    // Preflight's 22nd request is its first creation simulation (chain id, block, gas price, the
    // baseline and 17 opcode probes before it): dropped, with no second attempt allowed.
    let faults = Faults { drop_every: Some(22), ..Faults::default() };
    let proxy = fault_proxy(support::socket_of(&node.endpoint()), faults).await;
    let once = RpcOptions { retries: 1, ..RpcOptions::default() };
    let chain = RpcChain::connect_with(&proxy.url, anvil::dev_signers(), once).expect("connect");
    let error = preflight::check(&chain, &plan, None).await.expect_err("a dropped connection without retries");
    assert!(matches!(error, DeployerError::Transport { .. }), "a transport failure, named as one: {error:?}");
    assert!(!error.to_string().contains("would fail"), "the contracts are not blamed: {error}");
    assert_eq!(proxy.counts.faults().2, 1);
    let asked = proxy.counts.connections.load(std::sync::atomic::Ordering::SeqCst);
    assert_eq!(asked, 22, "preflight stopped at the dropped simulation, without another request");

    // With the engine's retries, the same faults pass.
    let proxy = fault_proxy(support::socket_of(&node.endpoint()), Faults { drop_every: Some(5), ..faults }).await;
    let chain = RpcChain::connect(&proxy.url, anvil::dev_signers()).expect("connect");
    let report = preflight::check(&chain, &plan, Some((31337, "the test"))).await.expect("preflight retries");
    assert_eq!(report.creations.len(), plan.steps.iter().filter(|s| matches!(s, plan::Step::Deploy { .. })).count());
    assert!(proxy.counts.faults().2 >= 4, "connections were dropped");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replacement_whose_answer_is_lost_is_followed_like_the_original_and_one_of_them_is_mined() {
    // Blocks every 3 s; the engine replaces a transaction not mined after 400 ms; no send is answered.
    let options = kessai_deployer::anvil::AnvilOptions { block_time: Some(3), ..Default::default() };
    let node =
        kessai_deployer::anvil::AnvilInstance::spawn(&options).unwrap_or_else(|e| panic!("this test needs anvil: {e}"));
    let direct = RpcChain::connect(&node.endpoint(), anvil::dev_signers()).expect("connect");
    let lost = Faults { swallow_send_every: Some(1), ..Faults::default() };
    let proxy = fault_proxy(support::socket_of(&node.endpoint()), lost).await;
    let quick = RpcOptions { resend_after: Duration::from_millis(400), ..RpcOptions::default() };
    let mut chain = RpcChain::connect_with(&proxy.url, anvil::dev_signers(), quick).expect("connect");
    let (from, to) = (anvil::dev_accounts()[0], Address::repeat_byte(0x77));
    let (result, signed) = send_recording_signed(&mut chain, Tx { from, to: Some(to), data: Bytes::new() }).await;
    let receipt = result.expect("mined in the end");
    assert!(signed.len() >= 2, "replaced at least once: {signed:?}");
    for pair in signed.windows(2) {
        assert_eq!(pair[1].replaces, Some(pair[0].hash), "each replacement names the one it replaces");
        assert_eq!(pair[1].nonce, pair[0].nonce, "same nonce");
    }
    assert!(signed.iter().any(|s| s.hash == receipt.tx_hash), "the mined one is one the engine reported");
    assert_eq!(proxy.counts.faults().3, signed.len(), "every answer was withheld");
    assert_eq!(nonce(&direct, from).await, 1, "one transaction mined");
}
