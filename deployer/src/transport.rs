//! How kessai reaches a node over HTTP or HTTPS, and what it says when it cannot.
//!
//! The HTTP client is built here, once per connection: rustls on the `ring` provider, trusting the
//! platform's roots (`SSL_CERT_FILE` and `SSL_CERT_DIR` are honoured), Mozilla's bundled roots when
//! the platform has none, and the CA certificates of a PEM file named by `KESSAI_CA_CERT` (the
//! private CA of a permissioned chain). A failed request is classified from its error's source chain
//! into a [`TransportCause`] an operator can act on, and URLs are only ever shown redacted
//! ([`Endpoint`]): credentials and API keys often live in an RPC URL.

use crate::{chain::revert, error::DeployerError};
use alloy::transports::{
    RpcError, TransportError, TransportErrorKind,
    http::reqwest::{self, StatusCode, Url},
};
use rustls::{
    CertificateError, RootCertStore,
    pki_types::{CertificateDer, pem::PemObject},
};
use std::{
    error::Error as StdError,
    fmt,
    path::{Path, PathBuf},
    sync::Arc,
    time::Duration,
};

/// The environment variable naming a PEM file of CA certificates to trust besides the platform's.
pub const CA_CERT_ENV: &str = "KESSAI_CA_CERT";

/// How long to wait for a TCP connection (and TLS handshake) before giving up on an attempt.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The longest excerpt of an unexpected answer's body that is shown.
const EXCERPT_CHARS: usize = 80;

/// A node's JSON-RPC URL, with the form of it that may be printed.
#[derive(Clone)]
pub struct Endpoint {
    url: Url,
    shown: String,
}

impl Endpoint {
    /// Parses an `http://` or `https://` URL. The error never repeats credentials the text carried.
    pub fn parse(text: &str) -> Result<Self, DeployerError> {
        let url = Url::parse(text).map_err(|e| {
            DeployerError::InvalidUrl(format!(
                "invalid RPC URL {}: {e} (expected http://host:port or https://…)",
                redact_text(text)
            ))
        })?;
        let shown = redact(&url);
        if !matches!(url.scheme(), "http" | "https") {
            return Err(DeployerError::InvalidUrl(format!(
                "unsupported RPC URL {shown}: kessai speaks JSON-RPC over http:// or https://"
            )));
        }
        if url.host_str().is_none() {
            return Err(DeployerError::InvalidUrl(format!("invalid RPC URL {shown}: it names no host")));
        }
        Ok(Self { url, shown })
    }

    /// The URL requests go to.
    pub fn url(&self) -> &Url {
        &self.url
    }

    /// The URL as it may be printed: scheme, host and port; a path or query (which may hold an API
    /// key) is shown as `/…`, and credentials are never shown.
    pub fn shown(&self) -> &str {
        &self.shown
    }

    /// `host:port`, as a connection refusal names it.
    fn address(&self) -> String {
        let host = self.url.host_str().unwrap_or_default();
        match self.url.port_or_known_default() {
            Some(port) => format!("{host}:{port}"),
            None => host.to_owned(),
        }
    }

    /// The deployer's error for a failed request to this endpoint: a revert is decoded, a transport
    /// failure or an answer that is not JSON-RPC is named ([`DeployerError::Transport`]), and any other
    /// JSON-RPC error is reported as the node gave it.
    pub fn error(&self, e: TransportError) -> DeployerError {
        if let Some(data) = e.as_error_resp().and_then(|p| p.as_revert_data()) {
            return revert(&data);
        }
        let Some(cause) = TransportCause::classify(&e, self) else {
            return DeployerError::Rpc(e);
        };
        let source: Option<Box<dyn StdError + Send + Sync>> = match e {
            RpcError::Transport(TransportErrorKind::Custom(inner) | TransportErrorKind::NonRetryable(inner)) => {
                // reqwest's message repeats the URL, credentials included: drop it from the cause.
                match inner.downcast::<reqwest::Error>() {
                    Ok(inner) => Some(Box::new((*inner).without_url())),
                    Err(inner) => Some(inner),
                }
            }
            RpcError::DeserError { err, .. } => Some(Box::new(err)),
            _ => None,
        };
        DeployerError::Transport { url: self.shown.clone(), cause, source }
    }
}

impl fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Endpoint").field(&self.shown).finish()
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.shown)
    }
}

/// `scheme://host:port`, with `/…` when the URL has a path or query.
fn redact(url: &Url) -> String {
    let mut shown = format!("{}://{}", url.scheme(), url.host_str().unwrap_or_default());
    if let Some(port) = url.port() {
        shown.push_str(&format!(":{port}"));
    }
    if url.path() != "/" || url.query().is_some() || url.fragment().is_some() {
        shown.push_str("/…");
    }
    shown
}

/// Best effort for text that is not a URL: everything up to an `@` after the scheme is dropped.
fn redact_text(text: &str) -> String {
    let (scheme, rest) = text.split_once("://").unwrap_or(("", text));
    let rest = rest.rsplit_once('@').map_or(rest, |(_, host)| host);
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let elided = if host.len() < rest.len() { "/…" } else { "" };
    if scheme.is_empty() { format!("{host}{elided}") } else { format!("{scheme}://{host}{elided}") }
}

/// Why a request to a node failed, in terms an operator can act on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TransportCause {
    /// Nothing accepted a connection at the address (connection refused).
    Refused {
        /// `host:port`.
        address: String,
    },
    /// The connection or the answer did not come in time.
    TimedOut {
        /// `host:port`.
        address: String,
    },
    /// The server's certificate does not chain to a trusted root (a private CA, or self-signed).
    UntrustedCertificate {
        /// What the TLS library said.
        detail: String,
    },
    /// The server's certificate is not valid for the host name in the URL.
    HostnameMismatch {
        /// The host name in the URL.
        host: String,
        /// What the TLS library said (including the names the certificate lists, when known).
        detail: String,
    },
    /// The certificate is trusted but unusable (expired, not yet valid, revoked, wrong purpose).
    BadCertificate {
        /// What the TLS library said.
        detail: String,
    },
    /// The server answered the TLS handshake with something that is not TLS.
    NotTls,
    /// The TLS handshake failed for another reason.
    Tls {
        /// What the TLS library said.
        detail: String,
    },
    /// The server answered with an HTTP error status and a body that is not JSON-RPC.
    HttpStatus {
        /// The status code.
        status: u16,
        /// The first characters of the body, whitespace collapsed (empty when there was none).
        excerpt: String,
    },
    /// The server answered with a success status, but the body is not JSON-RPC.
    NotJsonRpc {
        /// The first characters of the body, whitespace collapsed.
        excerpt: String,
    },
    /// The connection failed for another reason (an unknown host, a reset).
    Connect {
        /// The innermost error's message.
        detail: String,
    },
    /// The node answered in JSON-RPC that it is rate-limiting the client or cannot answer for now
    /// (HTTP 200 with an error such as code 429 or -32005, or "rate limit exceeded"; alloy's list
    /// of such errors, `ErrorPayload::is_retry_err`).
    RateLimited {
        /// The JSON-RPC error code.
        code: i64,
        /// The node's message.
        message: String,
    },
    /// Any other transport failure.
    Other {
        /// The innermost error's message.
        detail: String,
    },
}

impl TransportCause {
    /// Classifies a failed request from the error's variants and source chain; `None` when the node
    /// answered in JSON-RPC (an error response is the node's own answer, not a transport failure).
    pub fn classify(e: &TransportError, endpoint: &Endpoint) -> Option<Self> {
        match e {
            RpcError::Transport(kind) => Some(Self::from_kind(kind, endpoint)),
            // alloy parses a body only after a success status.
            RpcError::DeserError { text, .. } if serde_json::from_str::<serde_json::Value>(text).is_err() => {
                Some(Self::NotJsonRpc { excerpt: excerpt(text) })
            }
            // A JSON-RPC answer, but one that says to come back later: handled like HTTP 429.
            RpcError::ErrorResp(payload) if payload.is_retry_err() => {
                Some(Self::RateLimited { code: payload.code, message: excerpt(&payload.message) })
            }
            _ => None,
        }
    }

    fn from_kind(kind: &TransportErrorKind, endpoint: &Endpoint) -> Self {
        if let Some(http) = kind.as_http_error() {
            return Self::HttpStatus { status: http.status, excerpt: excerpt(&http.body) };
        }
        match kind {
            TransportErrorKind::Custom(inner) | TransportErrorKind::NonRetryable(inner) => {
                Self::from_source(inner.as_ref(), endpoint)
            }
            other => Self::Other { detail: other.to_string() },
        }
    }

    /// Walks the source chain (looking inside I/O errors, whose `source()` skips the error they
    /// wrap) for the I/O or TLS error that says what happened.
    fn from_source(top: &(dyn StdError + 'static), endpoint: &Endpoint) -> Self {
        let mut innermost = top;
        let mut timed_out = top.downcast_ref::<reqwest::Error>().is_some_and(reqwest::Error::is_timeout);
        let mut connecting = top.downcast_ref::<reqwest::Error>().is_some_and(reqwest::Error::is_connect);
        let mut next = Some(top);
        while let Some(e) = next {
            innermost = e;
            if let Some(tls) = e.downcast_ref::<rustls::Error>() {
                return Self::from_tls(tls, endpoint);
            }
            if let Some(io) = e.downcast_ref::<std::io::Error>() {
                match io.kind() {
                    std::io::ErrorKind::ConnectionRefused => return Self::Refused { address: endpoint.address() },
                    std::io::ErrorKind::TimedOut => timed_out = true,
                    _ => {}
                }
                if let Some(inner) = io.get_ref() {
                    next = Some(inner as &(dyn StdError + 'static));
                    continue;
                }
            }
            if let Some(r) = e.downcast_ref::<reqwest::Error>() {
                timed_out |= r.is_timeout();
                connecting |= r.is_connect();
            }
            next = e.source();
        }
        let detail = innermost.to_string();
        if timed_out {
            Self::TimedOut { address: endpoint.address() }
        } else if connecting {
            Self::Connect { detail }
        } else {
            Self::Other { detail }
        }
    }

    fn from_tls(e: &rustls::Error, endpoint: &Endpoint) -> Self {
        let detail = e.to_string();
        match e {
            rustls::Error::InvalidCertificate(cert) => match cert {
                CertificateError::UnknownIssuer | CertificateError::BadSignature => {
                    Self::UntrustedCertificate { detail }
                }
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
                    Self::HostnameMismatch { host: endpoint.url.host_str().unwrap_or_default().to_owned(), detail }
                }
                _ => Self::BadCertificate { detail },
            },
            rustls::Error::InvalidMessage(_) => Self::NotTls,
            _ => Self::Tls { detail },
        }
    }

    /// Whether trying again may help: refused or timed-out connections (a node restarting), rate
    /// limits and server-side errors (5xx). A certificate, a wrong URL or an answer that is not
    /// JSON-RPC will fail the same way again.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Refused { .. }
            | Self::TimedOut { .. }
            | Self::Connect { .. }
            | Self::Other { .. }
            | Self::RateLimited { .. } => true,
            Self::HttpStatus { status, .. } => *status == 429 || *status >= 500,
            Self::UntrustedCertificate { .. }
            | Self::HostnameMismatch { .. }
            | Self::BadCertificate { .. }
            | Self::NotTls
            | Self::Tls { .. }
            | Self::NotJsonRpc { .. } => false,
        }
    }

    /// A few words for a retry warning (the full sentence is the final error's).
    pub fn summary(&self) -> String {
        match self {
            Self::Refused { address } => format!("connection to {address} refused"),
            Self::TimedOut { address } => format!("no answer from {address} in time"),
            Self::HttpStatus { status, .. } => format!("HTTP {}", status_line(*status)),
            Self::RateLimited { code, message } => format!("rate limited (JSON-RPC error {code}: {message})"),
            Self::Connect { detail } | Self::Other { detail } => detail.clone(),
            other => other.to_string(),
        }
    }
}

impl fmt::Display for TransportCause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Refused { address } => write!(
                f,
                "connection refused: nothing is listening at {address}; check the host and port and that the node is running"
            ),
            Self::TimedOut { address } => write!(
                f,
                "no answer from {address} within the time allowed; check the address, and that no firewall drops the connection"
            ),
            Self::UntrustedCertificate { detail } => write!(
                f,
                "TLS: the server's certificate is not signed by a trusted certificate authority ({detail}); if the \
                 node uses a private CA, set {CA_CERT_ENV} to its PEM file (or SSL_CERT_FILE to a bundle that includes it)"
            ),
            Self::HostnameMismatch { host, detail } => write!(
                f,
                "TLS: the server's certificate is not valid for the host name {host} ({detail}); use a host name the \
                 certificate lists"
            ),
            Self::BadCertificate { detail } => {
                write!(f, "TLS: the server's certificate is not acceptable ({detail})")
            }
            Self::NotTls => write!(
                f,
                "TLS: the server does not speak TLS at this address; use http:// if it serves plain HTTP, or the node's HTTPS port"
            ),
            Self::Tls { detail } => write!(f, "TLS handshake failed ({detail})"),
            Self::HttpStatus { status, excerpt } => {
                write!(f, "the server answered HTTP {}, not JSON-RPC", status_line(*status))?;
                if !excerpt.is_empty() {
                    write!(f, " (body: \"{excerpt}\")")?;
                }
                match status {
                    401 | 403 => {
                        write!(f, "; the endpoint wants credentials: check the API key or token in the URL")
                    }
                    404 | 405 => write!(f, "; check the URL's path: this is not the node's JSON-RPC endpoint"),
                    429 => write!(f, "; the endpoint is rate-limiting: slow down or use another endpoint"),
                    500.. => write!(f, "; the node or a proxy in front of it failed: try again later"),
                    _ => Ok(()),
                }
            }
            Self::NotJsonRpc { excerpt } => write!(
                f,
                "the server answered with a success status (HTTP 2xx) but its body is not JSON-RPC (body: \"{excerpt}\"); \
                 this URL is not a node's JSON-RPC endpoint: check the host, port and path"
            ),
            Self::RateLimited { code, message } => write!(
                f,
                "the node is rate-limiting or cannot answer for now (JSON-RPC error {code}: {message}); slow down, \
                 try again later or use another endpoint"
            ),
            Self::Connect { detail } => write!(f, "cannot connect ({detail})"),
            Self::Other { detail } => write!(f, "the request failed in transport ({detail})"),
        }
    }
}

/// `404 Not Found`, or the bare code when it has no standard reason.
fn status_line(status: u16) -> String {
    match StatusCode::from_u16(status).ok().and_then(|s| s.canonical_reason()) {
        Some(reason) => format!("{status} {reason}"),
        None => status.to_string(),
    }
}

/// The first [`EXCERPT_CHARS`] characters of `body`, whitespace collapsed, `…` when cut.
fn excerpt(body: &str) -> String {
    let words = body.split_whitespace().collect::<Vec<_>>().join(" ");
    match words.char_indices().nth(EXCERPT_CHARS) {
        Some((cut, _)) => format!("{}…", &words[..cut]),
        None => words,
    }
}

/// The CA file named by `KESSAI_CA_CERT`, if set (and not empty).
pub fn ca_cert_from_env() -> Option<PathBuf> {
    std::env::var_os(CA_CERT_ENV).filter(|v| !v.is_empty()).map(PathBuf::from)
}

/// The HTTP client for JSON-RPC: TLS through rustls on `ring`, trusting the platform's roots (or
/// Mozilla's bundled roots when the platform has none) and the certificates in `ca_cert` (PEM). A
/// request not answered within `request_timeout` fails as timed out (and is retried as such), so an
/// answer that never comes cannot stall a command.
///
/// It also makes `ring` the process's default rustls provider (when none is set), so that a reqwest
/// client built elsewhere with `Client::new()` (alloy's `connect_http`) works in this process too:
/// reqwest is built here with rustls and without a default provider.
pub fn http_client(ca_cert: Option<&Path>, request_timeout: Duration) -> Result<reqwest::Client, DeployerError> {
    // Err means a provider is already installed, which is all that is needed.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| DeployerError::HttpClient { what: "TLS protocol versions", source: Box::new(e) })?
        .with_root_certificates(root_store(ca_cert)?)
        .with_no_client_auth();
    // The client speaks HTTP/1.1 only; offering h2 would let a server pick a protocol it cannot use.
    tls.alpn_protocols = vec![b"http/1.1".to_vec()];
    reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .connect_timeout(CONNECT_TIMEOUT)
        .timeout(request_timeout)
        .build()
        .map_err(|e| DeployerError::HttpClient { what: "the client", source: Box::new(e) })
}

/// The platform's roots, Mozilla's when the platform has none, and `ca_cert`'s certificates.
fn root_store(ca_cert: Option<&Path>) -> Result<RootCertStore, DeployerError> {
    let mut roots = RootCertStore::empty();
    let native = rustls_native_certs::load_native_certs();
    for error in &native.errors {
        tracing::debug!(target: "kessai::rpc", %error, "a platform root certificate could not be loaded");
    }
    let (added, ignored) = roots.add_parsable_certificates(native.certs);
    tracing::debug!(target: "kessai::rpc", added, ignored, "platform root certificates");
    if added == 0 {
        tracing::debug!(target: "kessai::rpc", "no platform root certificates: trusting Mozilla's bundled roots");
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    }
    if let Some(path) = ca_cert {
        let bad = |reason: String| DeployerError::CaCert { path: path.to_owned(), reason };
        let certs = CertificateDer::pem_file_iter(path)
            .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
            .map_err(|e| bad(format!("cannot read PEM certificates: {e}")))?;
        if certs.is_empty() {
            return Err(bad("the file holds no PEM certificate (-----BEGIN CERTIFICATE-----)".into()));
        }
        for cert in certs {
            roots.add(cert).map_err(|e| bad(format!("not a usable CA certificate: {e}")))?;
        }
    }
    Ok(roots)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io;

    fn endpoint(url: &str) -> Endpoint {
        Endpoint::parse(url).expect("a valid URL")
    }

    fn io_error(kind: io::ErrorKind, inner: impl StdError + Send + Sync + 'static) -> TransportError {
        TransportErrorKind::custom(io::Error::new(kind, inner))
    }

    fn classify(e: &TransportError) -> Option<TransportCause> {
        TransportCause::classify(e, &endpoint("https://node.example:8545"))
    }

    #[test]
    fn a_url_is_shown_without_credentials_path_or_query() {
        assert_eq!(
            endpoint("https://alice:s3cret@node.example:8443/v3/KEY?x=1").shown(),
            "https://node.example:8443/…"
        );
        assert_eq!(endpoint("http://127.0.0.1:8545").shown(), "http://127.0.0.1:8545");
        assert_eq!(endpoint("https://node.example/").shown(), "https://node.example");
        assert_eq!(format!("{:?}", endpoint("https://a:b@h/KEY")), "Endpoint(\"https://h/…\")");
        assert_eq!(redact_text("https://alice:s3cret@no spaces/KEY"), "https://no spaces/…");
    }

    #[test]
    fn only_http_and_https_urls_with_a_host_are_accepted_and_the_refusal_hides_credentials() {
        let err = |url: &str| Endpoint::parse(url).expect_err("refused").to_string();
        assert!(err("ws://node.example:8546").contains("http:// or https://"));
        let message = err("https://alice:s3cret@node example/KEY");
        assert!(!message.contains("s3cret") && !message.contains("KEY"), "{message}");
    }

    #[test]
    fn a_refused_connection_names_the_address_and_is_retried() {
        let cause = classify(&io_error(io::ErrorKind::ConnectionRefused, io::Error::other("refused"))).expect("cause");
        assert_eq!(cause, TransportCause::Refused { address: "node.example:8545".into() });
        assert!(cause.is_transient());
        assert!(cause.to_string().contains("nothing is listening at node.example:8545"));
    }

    #[test]
    fn certificate_errors_are_found_inside_io_errors_and_never_retried() {
        let tls = |e: rustls::Error| classify(&io_error(io::ErrorKind::InvalidData, e)).expect("cause");
        let untrusted = tls(rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer));
        assert!(matches!(untrusted, TransportCause::UntrustedCertificate { .. }), "{untrusted:?}");
        assert!(untrusted.to_string().contains(CA_CERT_ENV) && untrusted.to_string().contains("SSL_CERT_FILE"));
        assert!(!untrusted.is_transient());
        let mismatch = tls(rustls::Error::InvalidCertificate(CertificateError::NotValidForName));
        assert!(matches!(&mismatch, TransportCause::HostnameMismatch { host, .. } if host == "node.example"));
        let expired = tls(rustls::Error::InvalidCertificate(CertificateError::Expired));
        assert!(matches!(expired, TransportCause::BadCertificate { .. }), "{expired:?}");
        let plain = tls(rustls::Error::InvalidMessage(rustls::InvalidMessage::InvalidContentType));
        assert_eq!(plain, TransportCause::NotTls);
        assert!(!plain.is_transient());
    }

    #[test]
    fn an_http_error_status_is_named_with_a_short_excerpt() {
        let page = format!("<html>\n  <body>{}</body></html>", "x".repeat(500));
        let cause = classify(&TransportErrorKind::http_error(404, page)).expect("cause");
        let TransportCause::HttpStatus { status: 404, excerpt } = &cause else { panic!("{cause:?}") };
        assert!(excerpt.starts_with("<html> <body>xx") && excerpt.ends_with('…'), "{excerpt}");
        assert_eq!(excerpt.chars().count(), EXCERPT_CHARS + 1);
        let text = cause.to_string();
        assert!(text.contains("HTTP 404 Not Found, not JSON-RPC") && text.contains("path"), "{text}");
        assert!(!cause.is_transient(), "a wrong path stays wrong");
        let busy = classify(&TransportErrorKind::http_error(503, String::new())).expect("cause");
        assert_eq!(
            busy.to_string(),
            "the server answered HTTP 503 Service Unavailable, not JSON-RPC; the node or a proxy in front of it failed: try again later"
        );
        assert!(busy.is_transient());
        assert!(classify(&TransportErrorKind::http_error(429, String::new())).expect("cause").is_transient());
        let denied = classify(&TransportErrorKind::http_error(401, "no key".into())).expect("cause");
        assert!(denied.to_string().contains("401 Unauthorized") && denied.to_string().contains("API key"));
    }

    #[test]
    fn a_json_rpc_rate_limit_is_transient_and_any_other_json_rpc_error_is_the_nodes_answer() {
        // An error answer as a node sends it (HTTP 200, JSON-RPC `error`).
        let error = |code: i64, message: &str| {
            let body = serde_json::json!({ "code": code, "message": message });
            RpcError::ErrorResp(serde_json::from_value(body).expect("a JSON-RPC error"))
        };
        for (code, message) in [(-32005, "limit exceeded"), (429, "Too Many Requests"), (-32000, "rate limit exceeded")]
        {
            let cause = classify(&error(code, message)).expect("a rate limit");
            assert_eq!(cause, TransportCause::RateLimited { code, message: message.into() });
            assert!(cause.is_transient(), "{cause}");
            assert!(cause.to_string().contains("rate-limiting"), "{cause}");
        }
        assert_eq!(classify(&error(-32000, "nonce too low")), None, "the node's own answer");
        assert_eq!(classify(&error(3, "execution reverted")), None);
    }

    #[test]
    fn a_success_answer_that_is_not_json_is_not_json_rpc_but_json_of_another_shape_is_the_nodes_answer() {
        let html = "<!DOCTYPE html><html><title>Welcome</title></html>";
        let deser = |text: &str| RpcError::DeserError {
            err: serde_json::from_str::<u8>("x").expect_err("not JSON"),
            text: text.to_owned(),
        };
        let cause = classify(&deser(html)).expect("cause");
        assert_eq!(cause, TransportCause::NotJsonRpc { excerpt: html.into() });
        assert!(!cause.is_transient());
        assert_eq!(classify(&deser("{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":[1]}")), None);
        assert_eq!(classify(&RpcError::NullResp), None);
    }

    #[test]
    fn the_deployer_error_names_the_redacted_url_and_drops_reqwest_s_url() {
        let e = io_error(io::ErrorKind::ConnectionRefused, io::Error::other("refused"));
        let error = endpoint("http://bob:pw@127.0.0.1:1/KEY").error(e);
        let text = error.to_string();
        assert!(text.starts_with("cannot talk to the node at http://127.0.0.1:1/…: connection refused"), "{text}");
        assert!(matches!(error, DeployerError::Transport { .. }));
        assert!(StdError::source(&error).is_some(), "the I/O error stays the cause");
    }

    #[test]
    fn a_ca_file_without_certificates_is_refused_with_its_path() {
        let path = std::env::temp_dir().join(format!("kessai-empty-ca-{}.pem", std::process::id()));
        std::fs::write(&path, "not a certificate\n").expect("write");
        let error = http_client(Some(&path), Duration::from_secs(1)).expect_err("refused");
        let _ = std::fs::remove_file(&path);
        let text = error.to_string();
        assert!(text.contains(CA_CERT_ENV) && text.contains("no PEM certificate"), "{text}");
        let missing = http_client(Some(Path::new("/nonexistent/ca.pem")), Duration::from_secs(1))
            .expect_err("refused")
            .to_string();
        assert!(missing.contains("/nonexistent/ca.pem"), "{missing}");
    }
}
