//! Cross-chain trades from the command line, as an operator runs them: `kessai deploy` puts the
//! example cross-chain config on two spawned Anvils (A like ibet for Fin: Berlin, gas price 0, chain
//! id 1010032; B at Anvil's default hard fork with 1-second blocks), `kessai xtrade` creates and pays,
//! and two `kessai attest` processes and a `kessai relay` process started here settle the trades.
//! Every refusal names its error and moves nothing on either chain.

use crate::support::{command as kessai, refused, u};
use kessai_bindings::alloy::primitives::{Address, B256, U256};
use kessai_deployer::{
    anvil::{self, AnvilInstance, AnvilOptions},
    config::Config,
    manifest::Manifest,
    ops::{Registration, Suite},
    profile::ChainProfile,
    rpc::RpcChain,
};
use serde_json::Value;
use std::{
    path::{Path, PathBuf},
    process::{Child, Output, Stdio},
    time::{Duration, Instant},
};

const CONFIG: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/deployments/cross-chain.toml");
/// The attestors of the example config: private keys of 32 bytes 0xa1, 0xa2 (two of the three).
const ATTESTOR_KEYS: [&str; 2] = [
    "0xa1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1",
    "0xa2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2",
];

/// Both chains deployed by `kessai deploy`, the parties registered and funded: the seller holds 1,000
/// units on A, the payer ¥10,000,000 on B.
struct Market {
    nodes: (AnvilInstance, AnvilInstance),
    a: RpcChain,
    b: RpcChain,
    asset: Suite,
    payment: Suite,
    dir: PathBuf,
    manifests: (PathBuf, PathBuf),
    seller: Address,
    buyer: Address,
    payer: Address,
    payee: Address,
}

/// Who holds what on both chains.
#[derive(Debug, PartialEq, Eq)]
struct Holdings {
    seller: (U256, U256),
    buyer: U256,
    payer: (U256, U256),
    payee: U256,
}

async fn market(name: &str) -> Market {
    let a_node = AnvilInstance::spawn(&AnvilOptions::emulating(ChainProfile::Ibet)).expect("anvil A");
    let b_options = AnvilOptions { hardfork: None, chain_id: 31_337, block_time: Some(1), ..AnvilOptions::default() };
    let b_node = AnvilInstance::spawn(&b_options).expect("anvil B");
    let dir = std::env::temp_dir().join(format!("kessai-xtrade-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("scratch directory");
    let out = kessai()
        .args(["deploy", "--config", CONFIG, "--asset-rpc-url", &a_node.endpoint()])
        .args(["--payment-rpc-url", &b_node.endpoint(), "--out-dir"])
        .arg(&dir)
        .output()
        .expect("kessai deploy");
    assert!(out.status.success(), "deploy: {}", String::from_utf8_lossy(&out.stderr));
    let manifests = (dir.join("1010032.json"), dir.join("31337.json"));
    let suite =
        |path: &Path| Suite::from_deployment(&Manifest::read(path).expect("manifest").deployment).expect("suite");
    let (asset, payment) = (suite(&manifests.0), suite(&manifests.1));
    let mut a = RpcChain::connect(&a_node.endpoint(), anvil::dev_signers()).expect("connect A");
    let mut b = RpcChain::connect(&b_node.endpoint(), anvil::dev_signers()).expect("connect B");
    let roles = Config::load(Path::new(CONFIG)).expect("config").spec.accounts;
    let accounts = anvil::dev_accounts();
    let (seller, buyer, payer, payee) = (accounts[5], accounts[6], accounts[8], accounts[9]);
    let id = Registration { class: 0, country: 392, kyc_expiry: 2_000_000_000, data_hash: B256::ZERO };
    for who in [seller, buyer] {
        asset.register(&mut a, asset.registry, roles.registrar, who, id).await.expect("register on A");
    }
    for who in [payer, payee] {
        payment.register(&mut b, payment.bank_registry, roles.bank, who, id).await.expect("register on B");
    }
    asset.issue_security(&mut a, roles.issuer, seller, u(1_000)).await.expect("units");
    payment.issue_deposit(&mut b, roles.bank, payer, u(10_000_000), B256::repeat_byte(1)).await.expect("cash");
    let order = serde_json::json!({
        "seller": seller, "buyer": buyer, "units": 100, "payer": payer, "payee": payee, "amount": "1000000",
    });
    std::fs::write(dir.join("order.json"), order.to_string()).expect("order");
    Market { nodes: (a_node, b_node), a, b, asset, payment, dir, manifests, seller, buyer, payer, payee }
}

impl Market {
    /// `kessai [--json] xtrade <verb> --asset-rpc-url … --asset-manifest … --payment-… <args>`.
    fn xtrade(&self, json: bool, verb: &str, args: &[&str]) -> Output {
        let mut cmd = kessai();
        if json {
            cmd.arg("--json");
        }
        cmd.args(["xtrade", verb, "--asset-rpc-url", &self.nodes.0.endpoint(), "--asset-manifest"])
            .arg(&self.manifests.0)
            .args(["--payment-rpc-url", &self.nodes.1.endpoint(), "--payment-manifest"])
            .arg(&self.manifests.1)
            .args(args);
        cmd.output().expect("kessai xtrade")
    }

    /// Runs an xtrade step with `--json` that must succeed, and returns its result.
    fn ok(&self, verb: &str, args: &[&str]) -> Value {
        let out = self.xtrade(true, verb, args);
        assert!(out.status.success(), "xtrade {verb}: {}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice(&out.stdout).expect("one JSON result")
    }

    /// Creates a trade due `deadline_in` seconds from B's clock; returns its terms file.
    fn create(&self, file: &str, deadline_in: u64) -> PathBuf {
        let terms = self.dir.join(file);
        let order = self.dir.join("order.json");
        let deadline = deadline_in.to_string();
        let (order, out) = (order.to_str().expect("utf-8"), terms.to_str().expect("utf-8"));
        let created = self.ok("create", &["--order", order, "--deadline-in", &deadline, "--out", out]);
        assert_eq!(created["step"], "locked");
        terms
    }

    async fn holdings(&mut self) -> Holdings {
        let (asset, payment) = (self.asset, self.payment);
        let seller = asset.position(&mut self.a, self.seller).await.expect("seller");
        let buyer = asset.position(&mut self.a, self.buyer).await.expect("buyer");
        let payer = payment.position(&mut self.b, self.payer).await.expect("payer");
        let payee = payment.position(&mut self.b, self.payee).await.expect("payee");
        Holdings {
            seller: (seller.units, seller.units_held),
            buyer: buyer.units,
            payer: (payer.cash, payer.cash_held),
            payee: payee.cash,
        }
    }

    /// Starts `kessai <verb>` over both chains' manifests as its own process with `key` loaded.
    fn spawn(&self, verb: &str, key: &str) -> Child {
        kessai()
            .args([verb, "--asset-rpc-url", &self.nodes.0.endpoint(), "--asset-manifest"])
            .arg(&self.manifests.0)
            .args(["--payment-rpc-url", &self.nodes.1.endpoint(), "--payment-manifest"])
            .arg(&self.manifests.1)
            .arg("--inbox")
            .arg(self.dir.join("inbox"))
            .args(["--poll-ms", "100"])
            .env("KESSAI_KEYS", key)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn kessai")
    }

    /// Polls `kessai xtrade status` until the trade's units are `asset` on A; fails after `seconds`.
    fn wait_until(&self, terms: &Path, asset: &str, seconds: u64) -> Value {
        let start = Instant::now();
        loop {
            let status = self.ok("status", &[terms.to_str().expect("utf-8")]);
            if status["asset"] == asset {
                return status;
            }
            assert!(start.elapsed().as_secs() < seconds, "not {asset} after {seconds} s: {status}");
            std::thread::sleep(Duration::from_millis(250));
        }
    }
}

/// Kills the started processes when the test ends, however it ends.
struct Actors(Vec<Child>);

impl Drop for Actors {
    fn drop(&mut self) {
        for child in &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

#[tokio::test]
async fn trades_created_and_paid_from_the_command_line_settle_or_return_with_attest_and_relay_processes() {
    let mut m = market("settle").await;
    let trade = m.create("trade.json", 3_600);
    let t = trade.to_str().expect("utf-8");
    let status = m.ok("status", &[t]);
    assert_eq!((status["asset"].as_str(), status["payment"].as_str()), (Some("locked"), Some("None")));
    let locked = m.holdings().await;
    assert_eq!(locked.seller, (u(1_000), u(100)));

    // Before any attestation or payment, every proven step is refused and nothing moves.
    let inbox = m.dir.join("inbox");
    let i = inbox.to_str().expect("utf-8");
    refused(&m.xtrade(true, "commit", &[t, "--inbox", i]), "valid signature(s)");
    refused(&m.xtrade(true, "deliver", &[t, "--inbox", i]), "valid signature(s)");
    refused(&m.xtrade(true, "abort", &[t]), "XPaymentDeadlineNotPassed");
    assert_eq!(m.holdings().await, locked);

    m.ok("pay", &[t]);
    let paid = m.holdings().await;
    assert_eq!(paid.payer, (u(10_000_000), u(1_000_000)));
    refused(&m.xtrade(true, "pay", &[t]), "XPaymentInvalidState");
    assert_eq!(m.holdings().await, paid, "a second payment is refused and holds nothing more");

    // A trade nobody pays, due in 3 seconds of B's clock: it must come back to the seller.
    let unpaid = m.create("unpaid.json", 3);

    let relayer = "0x47e179ec197488593b187f80a00eb0da91f1b9d0b13f8733639f19c30a34926a"; // dev account 4
    let _actors = Actors(vec![
        m.spawn("attest", ATTESTOR_KEYS[0]),
        m.spawn("attest", ATTESTOR_KEYS[1]),
        m.spawn("relay", relayer),
    ]);
    let settled = m.wait_until(&trade, "delivered", 60);
    assert_eq!(settled["payment"], "Committed");
    let returned = m.wait_until(&unpaid, "returned", 60);
    assert_eq!(returned["payment"], "Aborted");

    // The payer signs instead of paying; whoever holds the signature commits once the lock is attested.
    let signed = m.create("signed.json", 3_600);
    let s = signed.to_str().expect("utf-8");
    let signature = m.ok("sign", &[s])["signature"].as_str().expect("a signature").to_string();
    let start = Instant::now();
    loop {
        let out = m.xtrade(true, "commit", &[s, "--inbox", i, "--payer-signature", &signature]);
        if out.status.success() {
            break;
        }
        assert!(start.elapsed().as_secs() < 30, "{}", String::from_utf8_lossy(&out.stderr));
        std::thread::sleep(Duration::from_millis(250));
    }
    m.wait_until(&signed, "delivered", 60);

    let after = m.holdings().await;
    assert_eq!(after.seller, (u(800), u(0)), "two trades' units delivered, the unpaid trade's returned");
    assert_eq!(after.buyer, u(200));
    assert_eq!(after.payer, (u(8_000_000), u(0)));
    assert_eq!(after.payee, u(2_000_000));

    // Done is done: no step repeats, and the listing shows both outcomes.
    refused(&m.xtrade(true, "deliver", &[t, "--inbox", i]), "XDeliveryNotLocked");
    refused(&m.xtrade(true, "abort", &[unpaid.to_str().expect("utf-8")]), "XPaymentInvalidState");
    assert_eq!(m.holdings().await, after);
    let listing = m.xtrade(false, "status", &[]);
    let text = String::from_utf8_lossy(&listing.stdout);
    assert!(text.contains("next: settled: units delivered, cash paid"), "{text}");
    assert!(text.contains("next: returned"), "{text}");
    std::fs::remove_dir_all(&m.dir).ok();
}

#[tokio::test]
async fn xtrade_refuses_wrong_manifests_unknown_trades_and_missing_keys_before_sending_anything() {
    let mut m = market("refusals").await;
    let before = m.holdings().await;
    // The manifests swapped: the asset manifest is chain 31337's, whose node is chain 1010032.
    let mut swapped = kessai();
    swapped
        .args(["--json", "xtrade", "status", "--asset-rpc-url", &m.nodes.0.endpoint(), "--asset-manifest"])
        .arg(&m.manifests.1)
        .args(["--payment-rpc-url", &m.nodes.1.endpoint(), "--payment-manifest"])
        .arg(&m.manifests.0);
    refused(&swapped.output().expect("run"), "chain");
    // A terms hash nobody locked.
    let unknown = format!("{}", B256::repeat_byte(0x77));
    refused(&m.xtrade(true, "pay", &[&unknown]), "no trade with terms hash");
    // The seller's key is not loaded: nothing is locked.
    let order = m.dir.join("order.json");
    let mut keyless = kessai();
    keyless
        .args(["--json", "xtrade", "create", "--asset-rpc-url", &m.nodes.0.endpoint(), "--asset-manifest"])
        .arg(&m.manifests.0)
        .args(["--payment-rpc-url", &m.nodes.1.endpoint(), "--payment-manifest"])
        .arg(&m.manifests.1)
        .arg("--order")
        .arg(&order)
        .env("KESSAI_KEYS", ATTESTOR_KEYS[0]);
    refused(&keyless.output().expect("run"), "no key for the seller");
    // An order whose buyer is not registered on A: the lock is refused by the token's rules.
    let stranger = anvil::dev_accounts()[3];
    let bad = serde_json::json!({
        "seller": m.seller, "buyer": stranger, "units": 100, "payer": m.payer, "payee": m.payee, "amount": 1,
    });
    let bad_order = m.dir.join("bad-order.json");
    std::fs::write(&bad_order, bad.to_string()).expect("order");
    refused(&m.xtrade(true, "create", &["--order", bad_order.to_str().expect("utf-8")]), "XDeliveryRestricted");
    assert_eq!(m.holdings().await, before, "nothing moved on either chain");
    let listing = m.xtrade(false, "status", &[]);
    assert!(String::from_utf8_lossy(&listing.stdout).contains("no trade is locked"), "nothing was locked");
    std::fs::remove_dir_all(&m.dir).ok();
}
