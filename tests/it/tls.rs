//! Reaching nodes over HTTPS, and naming why a node cannot be reached: a TLS-terminating proxy
//! with a certificate from a CA made for the test, in front of a spawned Anvil; a port where nothing
//! listens; a plain HTTP server answering a web page or an error status. Every refusal is one
//! sentence, printed once, that names the cause, and nothing reaches the chain.

use crate::support::{self, TestCa};
use kessai_deployer::{
    DeployerError,
    anvil::{self, AnvilInstance},
    chain::Chain,
    rpc::{RpcChain, RpcOptions},
    transport::TransportCause,
};
use std::{path::PathBuf, sync::atomic::Ordering};

/// A fresh directory for one test's files.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("kessai-tls-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("dir");
    dir
}

/// A spawned Anvil behind a TLS proxy whose certificate (for `names`) the CA signed; the engine
/// connected to Anvil directly, for checking what reached the chain; and the proxy's port.
async fn anvil_behind_tls(ca: &TestCa, names: &[&str]) -> (AnvilInstance, RpcChain, u16) {
    let (node, direct) = support::anvil();
    let port = support::tls_proxy(ca.server(names), support::socket_of(&node.endpoint())).await;
    (node, direct, port)
}

/// The transport failure of an engine's first request.
async fn first_request_fails(url: &str, options: RpcOptions) -> (String, TransportCause) {
    let mut chain = RpcChain::connect_with(url, anvil::dev_signers(), options).expect("connecting sends nothing");
    let error = chain.chain_id().await.expect_err("the request fails");
    match &error {
        DeployerError::Transport { cause, .. } => (error.to_string(), cause.clone()),
        other => panic!("expected a transport failure from {url}, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_over_https_settles_when_the_private_ca_is_trusted_through_kessai_ca_cert() {
    let ca = TestCa::new();
    let (_node, direct, port) = anvil_behind_tls(&ca, &["localhost", "127.0.0.1"]).await;
    let dir = scratch("trusted");
    let ca_file = ca.write_pem(&dir);
    let before = direct.block_number().await.expect("block");
    let url = format!("https://localhost:{port}");
    let run = support::kessai(&["demo", "--rpc-url", &url], &[("KESSAI_CA_CERT", &ca_file)]).await;
    assert!(run.ok, "{}\n{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("SETTLED (both legs in one transaction)"), "{}", run.stdout);
    assert!(direct.block_number().await.expect("block") > before, "the demo's transactions reached Anvil over TLS");
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ssl_cert_file_trusts_the_private_ca_as_well() {
    let ca = TestCa::new();
    let (_node, direct, port) = anvil_behind_tls(&ca, &["localhost"]).await;
    let dir = scratch("ssl-cert-file");
    let ca_file = ca.write_pem(&dir);
    let before = direct.block_number().await.expect("block");
    let url = format!("https://localhost:{port}");
    let run = support::kessai(&["demo", "--rpc-url", &url], &[("SSL_CERT_FILE", &ca_file)]).await;
    assert!(run.ok, "{}\n{}", run.stdout, run.stderr);
    assert!(direct.block_number().await.expect("block") > before, "the demo's transactions reached Anvil over TLS");
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_untrusted_certificate_is_named_once_with_what_to_set_and_nothing_is_sent() {
    let ca = TestCa::new();
    let (_node, direct, port) = anvil_behind_tls(&ca, &["localhost", "127.0.0.1"]).await;
    let senders = support::parties().senders();
    let before = support::untouched(&direct, &senders).await;
    let url = format!("https://localhost:{port}");
    let run = support::kessai(&["demo", "--rpc-url", &url], &[]).await;
    assert!(!run.ok, "an untrusted certificate must fail: {}", run.stdout);
    let sentence = "the server's certificate is not signed by a trusted certificate authority";
    assert!(run.stderr.contains(sentence), "{}", run.stderr);
    assert!(run.stderr.contains("KESSAI_CA_CERT") && run.stderr.contains("SSL_CERT_FILE"), "{}", run.stderr);
    assert!(run.stderr.contains(&format!("https://localhost:{port}")), "names the node: {}", run.stderr);
    assert_eq!(run.stderr.matches(sentence).count(), 1, "named once, not retried: {}", run.stderr);
    assert_eq!(support::untouched(&direct, &senders).await, before, "nothing was sent");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trusted_certificate_for_another_name_is_a_hostname_mismatch() {
    let ca = TestCa::new();
    let dir = scratch("mismatch");
    let options = || RpcOptions { ca_cert: Some(ca.write_pem(&dir)), ..RpcOptions::default() };
    // The CA given in the options is trusted: the right name connects and reads the chain.
    let (_node, _direct, port) = anvil_behind_tls(&ca, &["localhost"]).await;
    let mut chain =
        RpcChain::connect_with(&format!("https://localhost:{port}"), anvil::dev_signers(), options()).expect("connect");
    assert_eq!(chain.chain_id().await.expect("chain id over TLS"), 31337);
    // A certificate for another name, from the same trusted CA.
    let (_other, _direct, port) = anvil_behind_tls(&ca, &["node.example"]).await;
    let (message, cause) = first_request_fails(&format!("https://localhost:{port}"), options()).await;
    assert!(matches!(&cause, TransportCause::HostnameMismatch { host, .. } if host == "localhost"), "{cause:?}");
    assert!(message.contains("not valid for the host name localhost"), "{message}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_to_a_plain_http_server_says_it_does_not_speak_tls() {
    let (port, _) = support::http_server("400 Bad Request", "text/plain", "not HTTPS").await;
    let (message, cause) = first_request_fails(&format!("https://127.0.0.1:{port}"), RpcOptions::default()).await;
    assert_eq!(cause, TransportCause::NotTls, "{message}");
    assert!(message.contains("does not speak TLS") && message.contains("http://"), "{message}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_connection_names_the_address_and_never_prints_credentials() {
    let port = support::closed_port();
    let url = format!("http://alice:s3cret@127.0.0.1:{port}/v3/APIKEY123?token=T0KEN");
    let run = support::kessai(&["demo", "--rpc-url", &url], &[]).await;
    assert!(!run.ok, "nothing listens there");
    let sentence = format!("connection refused: nothing is listening at 127.0.0.1:{port}");
    assert!(run.stderr.contains(&sentence), "{}", run.stderr);
    assert_eq!(run.stderr.matches(&sentence).count(), 1, "the sentence once; retries warn briefly: {}", run.stderr);
    assert!(run.stderr.contains(&format!("http://127.0.0.1:{port}/…")), "the redacted URL: {}", run.stderr);
    for secret in ["alice", "s3cret", "APIKEY123", "T0KEN"] {
        assert!(!run.stderr.contains(secret) && !run.stdout.contains(secret), "{secret} was printed: {}", run.stderr);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_web_page_is_named_as_not_json_rpc_once_and_not_retried() {
    let page = format!(
        "<!DOCTYPE html>\n<html><head><title>Welcome to nginx!</title></head><body>{}</body></html>",
        "<p>If you see this page, the web server is working.</p>".repeat(40)
    );
    let (port, answered) = support::http_server("200 OK", "text/html", &page).await;
    let run = support::kessai(&["demo", "--rpc-url", &format!("http://127.0.0.1:{port}")], &[]).await;
    assert!(!run.ok, "a web page is not a node");
    assert!(run.stderr.contains("success status (HTTP 2xx) but its body is not JSON-RPC"), "{}", run.stderr);
    assert_eq!(run.stderr.matches("not JSON-RPC").count(), 1, "named once: {}", run.stderr);
    assert_eq!(run.stderr.matches("Welcome to nginx!").count(), 1, "one short excerpt: {}", run.stderr);
    assert!(!run.stderr.contains("web server is working.</p><p>If you see"), "the page is cut: {}", run.stderr);
    assert_eq!(answered.load(Ordering::SeqCst), 1, "an answer that is not JSON-RPC is not retried");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_error_page_names_its_status_once() {
    let page = "<html><body><h1>405 Not Allowed</h1><hr><center>nginx</center></body></html>";
    let (port, answered) = support::http_server("405 Method Not Allowed", "text/html", page).await;
    let run = support::kessai(&["demo", "--rpc-url", &format!("http://127.0.0.1:{port}")], &[]).await;
    assert!(!run.ok, "an error page is not a node");
    let sentence = "the server answered HTTP 405 Method Not Allowed, not JSON-RPC";
    assert!(run.stderr.contains(sentence), "{}", run.stderr);
    assert_eq!(run.stderr.matches("not JSON-RPC").count(), 1, "named once: {}", run.stderr);
    assert_eq!(answered.load(Ordering::SeqCst), 1, "a wrong URL is not retried");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_404_and_503_are_named_and_only_503_is_retried() {
    let (port, answered) = support::http_server("404 Not Found", "text/plain", "no such path").await;
    let (message, cause) = first_request_fails(&format!("http://127.0.0.1:{port}/rpc"), RpcOptions::default()).await;
    assert_eq!(cause, TransportCause::HttpStatus { status: 404, excerpt: "no such path".into() });
    assert!(message.contains("HTTP 404 Not Found") && message.contains("check the URL's path"), "{message}");
    assert_eq!(answered.load(Ordering::SeqCst), 1, "not retried");

    let (port, answered) = support::http_server("503 Service Unavailable", "text/plain", "").await;
    let options = RpcOptions { retries: 3, ..RpcOptions::default() };
    let (message, cause) = first_request_fails(&format!("http://127.0.0.1:{port}"), options).await;
    assert_eq!(cause, TransportCause::HttpStatus { status: 503, excerpt: String::new() });
    assert!(message.contains("HTTP 503 Service Unavailable") && message.contains("try again later"), "{message}");
    assert_eq!(answered.load(Ordering::SeqCst), 3, "a server-side failure is retried, up to the attempts allowed");
}

#[test]
fn an_unusable_ca_file_is_refused_before_anything_is_sent() {
    let dir = scratch("bad-ca");
    let path = dir.join("ca.pem");
    std::fs::write(&path, "-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n").expect("write");
    let options = RpcOptions { ca_cert: Some(path.clone()), ..RpcOptions::default() };
    let error = RpcChain::connect_with("https://localhost:1", anvil::dev_signers(), options).expect_err("refused");
    assert!(matches!(&error, DeployerError::CaCert { path: p, .. } if *p == path), "{error:?}");
    assert!(error.to_string().starts_with("KESSAI_CA_CERT="), "{error}");
    let _ = std::fs::remove_dir_all(&dir);
}
