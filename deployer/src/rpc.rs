//! The JSON-RPC engine: drives any EVM node (Anvil, Hardhat, a permissioned chain) through an alloy
//! provider that signs locally.
//!
//! It takes chains as they are: it detects whether the node accepts EIP-1559 transactions or only
//! legacy ones, and whether gas is free (zero gas price, as on many permissioned chains); it keeps
//! each sender's nonce itself, so transactions go out in nonce order without drift; it retries a
//! request that failed in transport with backoff ([`RpcChain::retry`], the one retry path every
//! request of the deployer takes); it waits for receipts with a deadline, re-sends a transaction that
//! is not mined in time with the same nonce and a higher fee (a replacement, never a duplicate), and
//! waits for the configured confirmations. Independent transactions can go out together
//! ([`RpcChain::send_batch`]): each is sent without waiting for the ones before it, a sender's in
//! nonce order, and all are then followed to their receipts. It reaches the node over HTTP or HTTPS through the client
//! [`crate::transport`] builds, and names why a request failed in transport.
//!
//! Transactions are signed here, with the local keys, before they are sent, so each one's hash is
//! known before the node hears of it ([`Signed`]; the deployer journals it first). When the answer to
//! `eth_sendRawTransaction` is lost or is an error, nothing is concluded from it: the engine asks the
//! chain — the receipts of the hashes it signed for that nonce, then whether the node holds one of
//! them, then the sender's nonce — and only a transaction the chain never saw is sent again, as the
//! same signed bytes. No decision depends on the text of an error message: what a node says about an
//! already known transaction, a used nonce or an underpriced replacement differs between clients and
//! alloy gives no kind for it, so the chain's state is asked instead.

use crate::{
    chain::{BlockRef, Chain, LocatedLog, Receipt, Tx},
    error::DeployerError,
    transport::{self, Endpoint},
};
use alloy::{
    eips::{BlockId, BlockNumberOrTag, eip2718::Encodable2718},
    network::{EthereumWallet, NetworkTransactionBuilder, TransactionBuilder},
    primitives::{Address, B256, Bytes, U256},
    providers::{DynProvider, Provider, ProviderBuilder},
    rpc::{
        client::RpcClient,
        types::{Filter, TransactionReceipt, TransactionRequest},
    },
    signers::local::PrivateKeySigner,
    transports::{RpcError, TransportErrorKind, http::Http, utils::guess_local_url},
};
use std::{collections::HashMap, path::PathBuf, time::Duration};

/// The longest wait between two attempts of a request.
pub const MAX_BACKOFF: Duration = Duration::from_secs(2);

/// A transaction the engine signed, reported before it is sent (see [`RpcChain::send_tracked`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Signed {
    /// The sender.
    pub from: Address,
    /// The sender's nonce it uses.
    pub nonce: u64,
    /// Its hash.
    pub hash: B256,
    /// The hash of the transaction it replaces with a higher fee (same nonce), if it is a replacement.
    pub replaces: Option<B256>,
}

/// What the chain knows of the transactions signed for one nonce.
enum Whereabouts {
    /// One of them was mined.
    Mined(Box<TransactionReceipt>),
    /// The node holds one of them, not yet mined.
    Pending,
    /// The nonce was used by another transaction.
    NonceTaken,
    /// The chain has not seen any of them and the nonce is free.
    Unseen,
}

/// A transaction sent and not yet known to be mined: every hash signed for its nonce.
struct InFlight {
    /// The request, with gas limit, nonce and chain id set (priced at signing).
    req: TransactionRequest,
    from: Address,
    nonce: u64,
    pricing: Pricing,
    /// Every hash signed for the nonce, the original first.
    hashes: Vec<B256>,
    /// When the first was sent (the overall timeout counts from it).
    started: tokio::time::Instant,
    /// When the last was sent (a replacement is due [`RpcOptions::resend_after`] later).
    sent_at: tokio::time::Instant,
    /// The receipt, when a lost answer was followed and found the transaction mined.
    receipt: Option<Box<TransactionReceipt>>,
}

/// How transactions are priced.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FeeMode {
    /// Ask the node: EIP-1559 when its blocks carry a base fee, legacy otherwise.
    Auto,
    /// Legacy (type 0) transactions at the node's gas price, or at this price when set (0 on
    /// zero-gas chains).
    Legacy(Option<u128>),
    /// EIP-1559 transactions.
    Eip1559,
}

/// Settings of the JSON-RPC engine.
#[derive(Clone, Debug)]
pub struct RpcOptions {
    /// Pricing.
    pub fees: FeeMode,
    /// Blocks to wait after the one that includes a transaction (0: the receipt is enough).
    pub confirmations: u64,
    /// How long to wait for a receipt before re-sending with a higher fee.
    pub resend_after: Duration,
    /// How long to wait for a transaction in all before giving up (it may still be mined: rerun to
    /// resume).
    pub timeout: Duration,
    /// Attempts for a request that failed in transport (connection refused, timeout, HTTP 5xx or 429,
    /// a connection closed before the answer): between attempts the engine waits 100 ms, then twice
    /// as long each time, at most [`MAX_BACKOFF`] (with 5 attempts, about 1.5 s in all).
    pub retries: u32,
    /// Interval between receipt polls.
    pub poll: Duration,
    /// How long one request may wait for its answer before it fails as timed out (and is retried,
    /// or for a send, checked on the chain).
    pub request_timeout: Duration,
    /// A PEM file of CA certificates to trust for HTTPS besides the platform's (a permissioned
    /// chain's private CA); when `None`, the file named by `KESSAI_CA_CERT`, if any.
    pub ca_cert: Option<PathBuf>,
}

impl Default for RpcOptions {
    fn default() -> Self {
        Self {
            fees: FeeMode::Auto,
            confirmations: 0,
            resend_after: Duration::from_secs(30),
            timeout: Duration::from_secs(300),
            retries: 5,
            poll: Duration::from_millis(50),
            request_timeout: Duration::from_secs(60),
            ca_cert: None,
        }
    }
}

/// How the engine prices its transactions on this node.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Pricing {
    /// Legacy (type 0) transactions at this gas price (0 on a gas-free chain).
    Legacy {
        /// Wei per gas.
        gas_price: u128,
    },
    /// EIP-1559 (type 2) transactions.
    Eip1559 {
        /// Most wei per gas the sender pays.
        max_fee: u128,
        /// Tip per gas to the block producer.
        priority: u128,
    },
}

impl Pricing {
    /// The most a transaction pays per gas.
    pub fn price(self) -> u128 {
        match self {
            Self::Legacy { gas_price } => gas_price,
            Self::Eip1559 { max_fee, .. } => max_fee,
        }
    }
}

impl std::fmt::Display for Pricing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Legacy { gas_price } => write!(f, "legacy transactions at {gas_price} wei per gas"),
            Self::Eip1559 { max_fee, priority } => {
                write!(f, "EIP-1559 transactions at up to {max_fee} wei per gas ({priority} tip)")
            }
        }
    }
}

/// A chain reached over JSON-RPC.
#[derive(Clone, Debug)]
pub struct RpcChain {
    provider: DynProvider,
    /// The signing keys; `None` for a read-only connection.
    wallet: Option<EthereumWallet>,
    endpoint: Endpoint,
    accounts: Vec<Address>,
    options: RpcOptions,
    nonces: HashMap<Address, u64>,
    chain_id: Option<u64>,
}

impl RpcChain {
    /// Connects to `url`, signing with `signers` (the first is the wallet's default sender), with the
    /// default options.
    pub fn connect(url: &str, signers: Vec<PrivateKeySigner>) -> Result<Self, DeployerError> {
        Self::connect_with(url, signers, RpcOptions::default())
    }

    /// Connects to `url` (`http://` or `https://`) with explicit options. Nothing is sent yet: a
    /// node that cannot be reached is reported by the first request, naming why.
    pub fn connect_with(url: &str, signers: Vec<PrivateKeySigner>, options: RpcOptions) -> Result<Self, DeployerError> {
        let endpoint = Endpoint::parse(url)?;
        let ca_cert = options.ca_cert.clone().or_else(transport::ca_cert_from_env);
        let http = Http::with_client(
            transport::http_client(ca_cert.as_deref(), options.request_timeout)?,
            endpoint.url().clone(),
        );
        let client = RpcClient::new(http, guess_local_url(endpoint.url().as_str()));
        let accounts: Vec<Address> = signers.iter().map(PrivateKeySigner::address).collect();
        let mut iter = signers.into_iter();
        // Without keys the connection only reads: sending names the missing key.
        let wallet = iter.next().map(|first| {
            let mut wallet = EthereumWallet::from(first);
            for signer in iter {
                wallet.register_signer(signer);
            }
            wallet
        });
        let provider = match &wallet {
            Some(wallet) => ProviderBuilder::new().wallet(wallet.clone()).connect_client(client).erased(),
            None => ProviderBuilder::new().connect_client(client).erased(),
        };
        Ok(Self { provider, wallet, endpoint, accounts, options, nonces: HashMap::new(), chain_id: None })
    }

    /// The accounts this engine can sign for.
    pub fn accounts(&self) -> &[Address] {
        &self.accounts
    }

    /// The underlying provider. Requests made with it directly are not retried: go through
    /// [`Self::retry`], and send transactions with [`Chain::send`], [`Self::send_tracked`] or
    /// [`Self::transfer`], which own nonces, fees and replacements.
    pub fn provider(&self) -> &DynProvider {
        &self.provider
    }

    /// The engine's settings.
    pub fn options(&self) -> &RpcOptions {
        &self.options
    }

    /// The node's URL (printable in its redacted form).
    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    /// The deployer's error for a failed request to this node: a decoded revert, a named transport
    /// failure, or the node's JSON-RPC error.
    pub fn error(&self, e: RpcError<TransportErrorKind>) -> DeployerError {
        self.endpoint.error(e)
    }

    fn request(tx: &Tx) -> TransactionRequest {
        let req = TransactionRequest::default().with_from(tx.from).with_input(tx.data.clone());
        match tx.to {
            Some(to) => req.with_to(to),
            None => req.into_create(),
        }
    }

    /// Runs the request `op` until it succeeds or fails for a reason that trying again cannot fix
    /// (anything but a transient transport failure: see [`transport::TransportCause::is_transient`]),
    /// at most [`RpcOptions::retries`] times, backing off between attempts (100 ms, 200 ms, ... at most
    /// [`MAX_BACKOFF`]). `what` names the request in the warnings. Only for requests that may be
    /// repeated (reads, and sends whose outcome the caller checks on the chain).
    pub async fn retry<T, F, Fut>(&self, what: &str, mut op: F) -> Result<T, DeployerError>
    where
        F: FnMut() -> Fut,
        Fut: std::future::IntoFuture<Output = Result<T, RpcError<TransportErrorKind>>>,
    {
        let mut delay = Duration::from_millis(100);
        let mut attempt = 0;
        loop {
            let error = match op().into_future().await {
                Ok(value) => return Ok(value),
                Err(e) => self.error(e),
            };
            match &error {
                DeployerError::Transport { cause, .. }
                    if cause.is_transient() && attempt + 1 < self.options.retries =>
                {
                    attempt += 1;
                    let cause = cause.summary();
                    tracing::warn!(target: "kessai::rpc", %what, attempt, %cause, "transport error; retrying");
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(MAX_BACKOFF);
                }
                _ => return Err(error),
            }
        }
    }

    /// How the next transaction is priced: a fixed legacy price when one is set; otherwise from the
    /// node. A node whose blocks carry no base fee gets legacy transactions at its gas price (0 on a
    /// gas-free pre-London chain such as ibet for Fin); a node whose base fee is 0 (a gas-free
    /// permissioned chain at London or later) gets legacy transactions at price 0 — never a tip, so
    /// parties without ether can act (`--gas-price` overrides it where a node demands a minimum); any
    /// other node gets EIP-1559 transactions at twice the base fee plus its suggested tip.
    pub async fn pricing(&self) -> Result<Pricing, DeployerError> {
        let legacy = match self.options.fees {
            FeeMode::Legacy(Some(price)) => return Ok(Pricing::Legacy { gas_price: price }),
            FeeMode::Legacy(None) => true,
            FeeMode::Eip1559 => false,
            FeeMode::Auto => {
                let block = self
                    .retry("eth_getBlockByNumber", || self.provider.get_block_by_number(BlockNumberOrTag::Latest))
                    .await?
                    .ok_or_else(|| DeployerError::Answer("the node returned no latest block".into()))?;
                match block.header.base_fee_per_gas {
                    None => true,
                    // No base fee to burn: a permissioned, gas-free chain (public chains never reach
                    // 0). A tip would only make parties without ether unable to act.
                    Some(0) => return Ok(Pricing::Legacy { gas_price: 0 }),
                    Some(_) => false,
                }
            }
        };
        if legacy {
            let gas_price = self.retry("eth_gasPrice", || self.provider.get_gas_price()).await?;
            return Ok(Pricing::Legacy { gas_price });
        }
        let block = self
            .retry("eth_getBlockByNumber", || self.provider.get_block_by_number(BlockNumberOrTag::Latest))
            .await?
            .ok_or_else(|| DeployerError::Answer("the node returned no latest block".into()))?;
        let base = u128::from(block.header.base_fee_per_gas.unwrap_or_default());
        let priority =
            self.retry("eth_maxPriorityFeePerGas", || self.provider.get_max_priority_fee_per_gas()).await.unwrap_or(0);
        Ok(Pricing::Eip1559 { max_fee: base * 2 + priority, priority })
    }
}

mod send;
#[cfg(test)]
mod tests;
