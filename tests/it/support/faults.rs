//! A fault-injecting JSON-RPC proxy on the loopback interface, in front of a spawned Anvil: it
//! answers HTTP 503 to every Nth request, answers a JSON-RPC rate-limit error (HTTP 200, code -32005)
//! to every Rth request that is not a send (and to every Rth send, counted apart), drops every Mth
//! connection before forwarding its request,
//! forwards every Kth `eth_sendRawTransaction` to the node but closes the connection without its
//! answer (or holds it open without one), and delays requests — the faults of a flaky load balancer, counted so a test can show
//! they happened.
//!
//! Each connection carries one request (`Connection: close` both ways), so requests and connections
//! are counted alike. The proxy is bounded (connections, time per connection, lifetime) and stops by
//! itself; it runs on the calling test's runtime and ends with it. [`send_recording_signed`] sends
//! through it and records each transaction the engine signed.

use kessai_deployer::{
    DeployerError,
    chain::{Receipt, Tx},
    rpc::{RpcChain, Signed},
};
use std::{
    net::SocketAddr,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpListener, TcpStream},
};

/// The most connections the proxy accepts before it stops.
const MAX_CONNECTIONS: usize = 20_000;
/// How long one connection may take.
const CONNECTION_LINGER: Duration = Duration::from_secs(30);
/// How long the proxy runs at most.
const LIFETIME: Duration = Duration::from_secs(600);
/// The largest request or answer the proxy reads.
const MAX_MESSAGE: usize = 16 << 20;

/// Which faults to inject (`None`: never).
#[derive(Clone, Copy, Debug, Default)]
pub struct Faults {
    /// Answer HTTP 503 (without forwarding) to every Nth connection.
    pub unavailable_every: Option<usize>,
    /// Answer every Rth connection that is not an `eth_sendRawTransaction` (without forwarding it)
    /// with HTTP 200 and the JSON-RPC error of a rate-limited endpoint (code -32005, "rate limit
    /// exceeded"), as hosted nodes do.
    pub rate_limited_every: Option<usize>,
    /// Answer every Rth `eth_sendRawTransaction` the same way, without forwarding it.
    pub rate_limited_send_every: Option<usize>,
    /// Close every Mth connection after reading its request, without forwarding it or answering.
    pub drop_every: Option<usize>,
    /// Forward every Kth `eth_sendRawTransaction` to the node, then close the connection without
    /// passing the node's answer on.
    pub swallow_send_every: Option<usize>,
    /// Forward every Sth `eth_sendRawTransaction` to the node, then hold the connection open without
    /// an answer until the client gives up (a stalled load balancer).
    pub stall_send_every: Option<usize>,
    /// Wait this long before forwarding each request.
    pub delay: Duration,
}

/// What the proxy did so far.
#[derive(Debug, Default)]
pub struct Counts {
    /// Connections accepted (one request each).
    pub connections: AtomicUsize,
    /// Requests answered with HTTP 503.
    pub unavailable: AtomicUsize,
    /// Requests answered with a JSON-RPC rate-limit error.
    pub rate_limited: AtomicUsize,
    /// Connections dropped before forwarding.
    pub dropped: AtomicUsize,
    /// `eth_sendRawTransaction` requests seen.
    pub sends: AtomicUsize,
    /// `eth_sendRawTransaction` requests forwarded whose answer was withheld.
    pub swallowed: AtomicUsize,
    /// `eth_sendRawTransaction` requests forwarded whose connection was held without an answer.
    pub stalled: AtomicUsize,
}

impl Counts {
    /// (503s, rate-limit errors, drops, swallowed sends).
    pub fn faults(&self) -> (usize, usize, usize, usize) {
        (
            self.unavailable.load(Ordering::SeqCst),
            self.rate_limited.load(Ordering::SeqCst),
            self.dropped.load(Ordering::SeqCst),
            self.swallowed.load(Ordering::SeqCst),
        )
    }
}

/// A running proxy.
pub struct FaultProxy {
    /// Its `http://127.0.0.1:port` URL.
    pub url: String,
    /// What it did.
    pub counts: Arc<Counts>,
}

fn every(n: Option<usize>, count: usize) -> bool {
    n.is_some_and(|n| n > 0 && count.is_multiple_of(n))
}

/// Starts a proxy on 127.0.0.1 in front of the node at `upstream` with `faults`.
pub async fn fault_proxy(upstream: SocketAddr, faults: Faults) -> FaultProxy {
    let listener = TcpListener::bind(("127.0.0.1", 0)).await.expect("bind the fault proxy");
    let port = listener.local_addr().expect("address").port();
    let counts = Arc::new(Counts::default());
    let shared = counts.clone();
    tokio::spawn(tokio::time::timeout(LIFETIME, async move {
        for _ in 0..MAX_CONNECTIONS {
            let Ok((client, _)) = listener.accept().await else { return };
            let n = shared.connections.fetch_add(1, Ordering::SeqCst) + 1;
            let counts = shared.clone();
            tokio::spawn(tokio::time::timeout(CONNECTION_LINGER, serve(client, upstream, faults, n, counts)));
        }
    }));
    FaultProxy { url: format!("http://127.0.0.1:{port}"), counts }
}

async fn serve(mut client: TcpStream, upstream: SocketAddr, faults: Faults, n: usize, counts: Arc<Counts>) {
    let Some(request) = read_message(&mut client, false).await else { return };
    if every(faults.drop_every, n) {
        counts.dropped.fetch_add(1, Ordering::SeqCst);
        return;
    }
    if every(faults.unavailable_every, n) {
        counts.unavailable.fetch_add(1, Ordering::SeqCst);
        let answer = "HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\nconnection: close\r\n\r\n";
        let _ = client.write_all(answer.as_bytes()).await;
        let _ = client.shutdown().await;
        return;
    }
    let send = String::from_utf8_lossy(&request).contains("\"eth_sendRawTransaction\"");
    let nth_send = if send { counts.sends.fetch_add(1, Ordering::SeqCst) + 1 } else { 0 };
    let limited =
        if send { every(faults.rate_limited_send_every, nth_send) } else { every(faults.rate_limited_every, n) };
    if limited {
        counts.rate_limited.fetch_add(1, Ordering::SeqCst);
        let body = request.windows(4).position(|w| w == b"\r\n\r\n").map_or(&[][..], |end| &request[end + 4..]);
        let id = serde_json::from_slice::<serde_json::Value>(body).ok().map(|v| v["id"].clone());
        let error = serde_json::json!({
            "jsonrpc": "2.0",
            "id": id.unwrap_or_default(),
            "error": { "code": -32005, "message": "rate limit exceeded" },
        })
        .to_string();
        let answer = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{error}",
            error.len()
        );
        let _ = client.write_all(answer.as_bytes()).await;
        let _ = client.shutdown().await;
        return;
    }
    let swallow = send && every(faults.swallow_send_every, nth_send);
    let stall = send && every(faults.stall_send_every, nth_send);
    tokio::time::sleep(faults.delay).await;
    let Ok(mut node) = TcpStream::connect(upstream).await else { return };
    if node.write_all(&closing(&request)).await.is_err() {
        return;
    }
    let Some(answer) = read_message(&mut node, true).await else { return };
    if swallow {
        counts.swallowed.fetch_add(1, Ordering::SeqCst);
        return;
    }
    if stall {
        counts.stalled.fetch_add(1, Ordering::SeqCst);
        // Held until the client closes it, or the connection's time is up.
        let _ = client.read(&mut [0u8; 1]).await;
        return;
    }
    let _ = client.write_all(&closing(&answer)).await;
    let _ = client.shutdown().await;
}

/// `message` with its `Connection` header replaced by `connection: close`.
fn closing(message: &[u8]) -> Vec<u8> {
    let Some(end) = message.windows(4).position(|w| w == b"\r\n\r\n") else { return message.to_vec() };
    let head = String::from_utf8_lossy(&message[..end]);
    let mut out = String::new();
    for line in head.split("\r\n").filter(|l| !l.to_ascii_lowercase().starts_with("connection:")) {
        out.push_str(line);
        out.push_str("\r\n");
    }
    out.push_str("connection: close\r\n\r\n");
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(&message[end + 4..]);
    bytes
}

/// Reads one HTTP message (head and a `Content-Length` body; an answer without one is read to the
/// end of the stream). `None` when the peer closes first or sends too much.
async fn read_message(stream: &mut TcpStream, answer: bool) -> Option<Vec<u8>> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
            let length = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:").map(|v| v.trim().to_owned()))
                .and_then(|v| v.parse::<usize>().ok());
            match length {
                Some(length) if buf.len() >= end + 4 + length => return Some(buf),
                None if !answer => return Some(buf),
                _ => {}
            }
        }
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return (answer && !buf.is_empty()).then_some(buf);
        }
        buf.extend_from_slice(&chunk[..n]);
        if buf.len() > MAX_MESSAGE {
            return None;
        }
    }
}

/// Sends `tx` through `chain`, recording each transaction the engine signs for it (the original and
/// any replacement) as the engine reports it before sending; returns the send's result and the
/// transactions signed, in order.
pub async fn send_recording_signed(chain: &mut RpcChain, tx: Tx) -> (Result<Receipt, DeployerError>, Vec<Signed>) {
    let mut signed = Vec::new();
    let result = chain
        .send_tracked(tx, |s| {
            signed.push(*s);
            Ok(())
        })
        .await;
    (result, signed)
}
