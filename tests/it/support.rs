//! Shared helpers: engines and a deployed, registered suite; a test certificate authority, a
//! TLS-terminating proxy and a plain HTTP server for the transport tests; a fault-injecting proxy
//! ([`faults`]); running the CLI; the fixtures of a bond ([`bond`]), the deposit token
//! ([`deposit`]), the security token ([`security`]) and the DvP ([`market`]); tests declared on both
//! engines ([`on_revm_and_anvil!`]).

pub mod bond;
pub mod cli;
pub mod deposit;
pub mod faults;
pub mod market;
pub mod security;

use kessai_bindings::alloy::{primitives::Address, providers::Provider, signers::local::PrivateKeySigner};
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
    net::SocketAddr,
    path::{Path, PathBuf},
    process::Command,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpListener, TcpStream},
};

/// The demo parties on Anvil's development accounts, in the role order every command reads keys in
/// (operator, registrar, issuer, bank, authority, agent, seller, buyer).
pub fn parties() -> DemoParties {
    DemoParties::from_accounts(&anvil::dev_accounts()).expect("ten dev accounts")
}

/// The parties `snapshots/gas.json` was recorded with: agent, seller and buyer on development
/// accounts 4-6, the authority on 7. Signatures, and so their calldata gas, depend on which key
/// signs, so the snapshot keeps the accounts it was measured on.
pub fn recorded_parties() -> DemoParties {
    let a = anvil::dev_accounts();
    DemoParties::from_accounts(&[a[0], a[1], a[2], a[3], a[7], a[4], a[5], a[6]]).expect("eight accounts")
}

/// The development key of `account` (one of Anvil's dev accounts).
pub fn key(account: Address) -> PrivateKeySigner {
    anvil::dev_signers().into_iter().find(|k| k.address() == account).expect("a dev account")
}

/// The block number and the nonce of every development account: whatever a refusal leaves, these are
/// as they were when nothing was sent.
pub async fn sent_so_far(chain: &RpcChain) -> (u64, Vec<u64>) {
    untouched(chain, &anvil::dev_accounts()).await
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

/// What the caller's environment must not pass to the `kessai` binary under test: keys, node, CA
/// files and the log filter.
const CALLER_ENV: [&str; 11] = [
    "KESSAI_KEYS",
    "KESSAI_KEYSTORE",
    "KESSAI_RPC_URL",
    "KESSAI_ASSET_RPC_URL",
    "KESSAI_PAYMENT_RPC_URL",
    "KESSAI_ASSET_MANIFEST",
    "KESSAI_PAYMENT_MANIFEST",
    "KESSAI_CA_CERT",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "RUST_LOG",
];

/// The `kessai` binary as a command to configure, without the caller's environment ([`CALLER_ENV`]).
pub fn command() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_kessai"));
    for var in CALLER_ENV {
        cmd.env_remove(var);
    }
    cmd
}

/// Asserts that a run of the binary was refused naming `needle` (a decoded revert's name, or words of
/// the message) on stderr, and that it printed no result: nothing on stdout, or — with `--json` — only
/// the error as one JSON object (`{"error": {"message", "causes", "revert"}}`) naming it too. Returns
/// stderr.
pub fn refused(out: &std::process::Output, needle: &str) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!out.status.success(), "expected a refusal naming {needle:?}; stderr: {stderr}");
    assert!(stderr.contains(needle), "expected {needle:?} on stderr: {stderr}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    if !stdout.trim().is_empty() {
        let error: serde_json::Value = serde_json::from_str(stdout.trim())
            .unwrap_or_else(|e| panic!("a refusal prints no result, only its JSON error ({e}): {stdout}"));
        let error = &error["error"];
        assert!(error.is_object(), "the JSON on stdout is the error: {stdout}");
        assert!(error.to_string().contains(needle), "the JSON error names {needle:?}: {stdout}");
    }
    stderr
}

/// Declares two tests of the async fn `$body`, which takes the engine to run on: `$on_revm` runs it on
/// the in-process engine, `$on_anvil` on a spawned Anvil.
macro_rules! on_revm_and_anvil {
    ($body:ident, $on_revm:ident, $on_anvil:ident) => {
        #[tokio::test]
        async fn $on_revm() {
            $body($crate::support::revm()).await;
        }

        #[tokio::test]
        async fn $on_anvil() {
            let (_node, chain) = $crate::support::anvil();
            $body(chain).await;
        }
    };
}
pub(crate) use on_revm_and_anvil;

/// `v` as a token amount.
pub fn u(v: u64) -> kessai_bindings::alloy::primitives::U256 {
    kessai_bindings::alloy::primitives::U256::from(v)
}

/// The node's block number and every development account's nonce: a refusal must leave both as
/// they were. Blocking (for `#[test]`s that drive the binary; not inside an async test).
pub fn block_and_nonces(url: &str) -> (u64, Vec<u64>) {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let chain = RpcChain::connect(url, anvil::dev_signers()).expect("connect");
    runtime.block_on(sent_so_far(&chain))
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

/// The block number and each of `senders`' nonces: a refusal must leave both as they were.
pub async fn untouched(chain: &RpcChain, senders: &[Address]) -> (u64, Vec<u64>) {
    let block = chain.provider().get_block_number().await.expect("block");
    let mut nonces = Vec::new();
    for who in senders {
        nonces.push(chain.provider().get_transaction_count(*who).await.expect("nonce"));
    }
    (block, nonces)
}

/// A certificate authority made for one test, which signs server certificates.
pub struct TestCa {
    key: rcgen::KeyPair,
    params: rcgen::CertificateParams,
    pem: String,
}

impl TestCa {
    /// A fresh CA (its own key; trusted by nobody until a test says so).
    pub fn new() -> Self {
        let key = rcgen::KeyPair::generate().expect("CA key");
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("CA params");
        params.distinguished_name.push(rcgen::DnType::CommonName, "kessai test CA");
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        params.key_usages = vec![rcgen::KeyUsagePurpose::KeyCertSign, rcgen::KeyUsagePurpose::CrlSign];
        let pem = params.self_signed(&key).expect("CA certificate").pem();
        Self { key, params, pem }
    }

    /// Writes the CA certificate (PEM) into `dir` and returns its path.
    pub fn write_pem(&self, dir: &Path) -> PathBuf {
        std::fs::create_dir_all(dir).expect("dir");
        let path = dir.join("ca.pem");
        std::fs::write(&path, &self.pem).expect("write the CA certificate");
        path
    }

    /// A TLS server configuration whose certificate, signed by this CA, is valid for `names` (host
    /// names or IP addresses).
    pub fn server(&self, names: &[&str]) -> Arc<rustls::ServerConfig> {
        let key = rcgen::KeyPair::generate().expect("server key");
        let params =
            rcgen::CertificateParams::new(names.iter().map(ToString::to_string).collect::<Vec<_>>()).expect("params");
        let issuer = rcgen::Issuer::from_params(&self.params, &self.key);
        let cert = params.signed_by(&key, &issuer).expect("server certificate");
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("TLS versions")
            .with_no_client_auth()
            .with_single_cert(
                vec![cert.der().clone()],
                rustls::pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into()),
            )
            .expect("server TLS config");
        Arc::new(config)
    }
}

/// The most connections a test server accepts, and how long one may stay open: test servers are
/// bounded and listen on the loopback interface only.
const TEST_SERVER_CONNECTIONS: usize = 64;
const TEST_SERVER_LINGER: Duration = Duration::from_secs(120);

/// The `host:port` of a node's `http://` endpoint.
pub fn socket_of(endpoint: &str) -> SocketAddr {
    endpoint.trim_start_matches("http://").trim_end_matches('/').parse().expect("an http://ip:port endpoint")
}

/// Starts a TLS-terminating proxy on 127.0.0.1 in front of `upstream` (plain TCP, e.g. Anvil):
/// each connection's TLS handshake is answered with `tls`, then bytes are forwarded both ways.
/// Returns the proxy's port. It runs on the calling test's runtime and ends with it.
pub async fn tls_proxy(tls: Arc<rustls::ServerConfig>, upstream: SocketAddr) -> u16 {
    let listener = TcpListener::bind(("127.0.0.1", 0)).await.expect("bind the proxy");
    let port = listener.local_addr().expect("address").port();
    let acceptor = tokio_rustls::TlsAcceptor::from(tls);
    tokio::spawn(async move {
        for _ in 0..TEST_SERVER_CONNECTIONS {
            let Ok((client, _)) = listener.accept().await else { return };
            let acceptor = acceptor.clone();
            tokio::spawn(tokio::time::timeout(TEST_SERVER_LINGER, async move {
                // A client that refuses the certificate ends the handshake: nothing to forward.
                let Ok(mut client) = acceptor.accept(client).await else { return };
                let Ok(mut node) = TcpStream::connect(upstream).await else { return };
                let _ = tokio::io::copy_bidirectional(&mut client, &mut node).await;
            }));
        }
    });
    port
}

/// A plain HTTP server on 127.0.0.1 that answers every request with `status` (e.g. `200 OK`), the
/// content type and the body given. Returns its port and the number of requests it has answered.
pub async fn http_server(status: &str, content_type: &str, body: &str) -> (u16, Arc<AtomicUsize>) {
    let listener = TcpListener::bind(("127.0.0.1", 0)).await.expect("bind the HTTP server");
    let port = listener.local_addr().expect("address").port();
    let response = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let answered = Arc::new(AtomicUsize::new(0));
    let count = answered.clone();
    tokio::spawn(async move {
        for _ in 0..TEST_SERVER_CONNECTIONS {
            let Ok((mut stream, _)) = listener.accept().await else { return };
            let (response, count) = (response.clone(), count.clone());
            tokio::spawn(tokio::time::timeout(TEST_SERVER_LINGER, async move {
                if read_request(&mut stream).await {
                    count.fetch_add(1, Ordering::SeqCst);
                }
                let _ = stream.write_all(response.as_bytes()).await;
                let _ = stream.shutdown().await;
            }));
        }
    });
    (port, answered)
}

/// Reads one HTTP request (headers and a `Content-Length` body); false when the bytes are not HTTP
/// (a TLS handshake), which the server answers all the same, as a plain HTTP server would.
async fn read_request(stream: &mut TcpStream) -> bool {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let Ok(n) = stream.read(&mut chunk).await else { return false };
        if n == 0 {
            return false;
        }
        buf.extend_from_slice(&chunk[..n]);
        if !buf[0].is_ascii_alphabetic() {
            return false;
        }
        let text = String::from_utf8_lossy(&buf);
        if let Some(end) = text.find("\r\n\r\n") {
            let length = text[..end]
                .lines()
                .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().to_owned()))
                .and_then(|v| v.parse::<usize>().ok())
                .unwrap_or(0);
            if buf.len() >= end + 4 + length {
                return true;
            }
        }
    }
}

/// A TCP port on 127.0.0.1 where nothing listens (bound, then released).
pub fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind(("127.0.0.1", 0)).expect("bind");
    listener.local_addr().expect("address").port()
}

/// What a `kessai` run printed.
pub struct Run {
    /// Whether it exited successfully.
    pub ok: bool,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

/// Runs the `kessai` binary with `args` and `env`, without the caller's kessai or TLS environment
/// (keys, RPC URL, CA files, log filter), without blocking the test's runtime.
pub async fn kessai(args: &[&str], env: &[(&str, &Path)]) -> Run {
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_kessai"));
    command.args(args);
    for var in CALLER_ENV {
        command.env_remove(var);
    }
    for (var, value) in env {
        command.env(var, value);
    }
    let out = command.output().await.expect("run kessai");
    Run {
        ok: out.status.success(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Encrypts each of the first eight development keys into a keystore with the pinned `cast`; returns their paths.
pub fn keystores(dir: &std::path::Path, password: &str) -> Vec<std::path::PathBuf> {
    let cast = kessai_deployer::tools::project_root().join("node_modules/.bin/cast");
    assert!(cast.is_file(), "this test needs the pinned cast: run `npm ci`");
    anvil::dev_signers()
        .iter()
        .take(8)
        .enumerate()
        .map(|(i, key)| {
            let name = format!("role{i}");
            let hex = kessai_bindings::alloy::primitives::hex::encode_prefixed(key.to_bytes());
            let out = std::process::Command::new(&cast)
                .args([
                    "wallet",
                    "import",
                    &name,
                    "--private-key",
                    &hex,
                    "--unsafe-password",
                    password,
                    "--keystore-dir",
                ])
                .arg(dir)
                .output()
                .expect("run cast");
            assert!(out.status.success(), "cast wallet import: {}", String::from_utf8_lossy(&out.stderr));
            dir.join(name)
        })
        .collect()
}
