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
    chain::{Chain, Receipt, Tx},
    error::DeployerError,
    transport::{self, Endpoint},
};
use alloy::{
    eips::BlockNumberOrTag,
    eips::eip2718::Encodable2718,
    network::{EthereumWallet, NetworkTransactionBuilder, TransactionBuilder},
    primitives::{Address, B256, Bytes, Log, U256},
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
    wallet: EthereumWallet,
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
        let first = iter.next().ok_or_else(|| DeployerError::Rpc("no signing keys given".into()))?;
        let mut wallet = EthereumWallet::from(first);
        for signer in iter {
            wallet.register_signer(signer);
        }
        let provider = ProviderBuilder::new().wallet(wallet.clone()).connect_client(client).erased();
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
                    .ok_or_else(|| DeployerError::Rpc("node returned no latest block".into()))?;
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
            .ok_or_else(|| DeployerError::Rpc("node returned no latest block".into()))?;
        let base = u128::from(block.header.base_fee_per_gas.unwrap_or_default());
        let priority =
            self.retry("eth_maxPriorityFeePerGas", || self.provider.get_max_priority_fee_per_gas()).await.unwrap_or(0);
        Ok(Pricing::Eip1559 { max_fee: base * 2 + priority, priority })
    }

    /// The next nonce of `from`: tracked locally after the first lookup of the pending count.
    async fn next_nonce(&mut self, from: Address) -> Result<u64, DeployerError> {
        if let Some(n) = self.nonces.get(&from) {
            return Ok(*n);
        }
        let n = self.retry("eth_getTransactionCount", || self.provider.get_transaction_count(from).pending()).await?;
        self.nonces.insert(from, n);
        Ok(n)
    }

    /// The receipt of whichever of `hashes` was mined, if any.
    async fn mined(&self, hashes: &[B256]) -> Result<Option<TransactionReceipt>, DeployerError> {
        for hash in hashes {
            if let Some(r) =
                self.retry("eth_getTransactionReceipt", || self.provider.get_transaction_receipt(*hash)).await?
            {
                return Ok(Some(r));
            }
        }
        Ok(None)
    }

    /// What the chain knows of `hashes`, the transactions signed for `from`'s nonce `nonce`: a
    /// receipt first, then the node's pool, then the sender's mined nonce (and the receipts again, in
    /// case one was mined in between).
    async fn whereabouts(&self, from: Address, nonce: u64, hashes: &[B256]) -> Result<Whereabouts, DeployerError> {
        if let Some(receipt) = self.mined(hashes).await? {
            return Ok(Whereabouts::Mined(Box::new(receipt)));
        }
        for hash in hashes {
            if self.retry("eth_getTransactionByHash", || self.provider.get_transaction_by_hash(*hash)).await?.is_some()
            {
                return Ok(Whereabouts::Pending);
            }
        }
        let used = self.retry("eth_getTransactionCount", || self.provider.get_transaction_count(from).latest()).await?;
        if used <= nonce {
            return Ok(Whereabouts::Unseen);
        }
        Ok(match self.mined(hashes).await? {
            Some(receipt) => Whereabouts::Mined(Box::new(receipt)),
            None => Whereabouts::NonceTaken,
        })
    }

    /// Sends the signed transaction `raw` (the last of `hashes`, all for `from`'s nonce `nonce`).
    /// When the answer is lost or is an error, the chain is asked before anything is concluded: a
    /// transaction of `hashes` that is mined or held by the node means the send did its work; a nonce
    /// used by another transaction is [`DeployerError::NonceTaken`]; a transaction the chain never saw
    /// is sent again (the same bytes, so never a second transaction) while the failure is transient,
    /// and is otherwise the node's refusal. `Ok(Some(receipt))` when one of `hashes` is already mined.
    async fn broadcast(
        &self,
        raw: &[u8],
        from: Address,
        nonce: u64,
        hashes: &[B256],
    ) -> Result<Option<TransactionReceipt>, DeployerError> {
        let mut delay = Duration::from_millis(100);
        let mut attempt = 0;
        loop {
            let error = match self.provider.send_raw_transaction(raw).await {
                Ok(_) => return Ok(None),
                Err(e) => self.error(e),
            };
            match self.whereabouts(from, nonce, hashes).await? {
                Whereabouts::Mined(receipt) => {
                    tracing::info!(target: "kessai::rpc", %from, nonce, %error, "the send's answer was an error, but the transaction is mined");
                    return Ok(Some(*receipt));
                }
                Whereabouts::Pending => {
                    tracing::info!(target: "kessai::rpc", %from, nonce, %error, "the send's answer was an error, but the node holds the transaction");
                    return Ok(None);
                }
                Whereabouts::NonceTaken => {
                    return Err(DeployerError::NonceTaken { from, nonce, hashes: hashes.to_vec() });
                }
                Whereabouts::Unseen => {}
            }
            match &error {
                DeployerError::Transport { cause, .. }
                    if cause.is_transient() && attempt + 1 < self.options.retries =>
                {
                    attempt += 1;
                    let cause = cause.summary();
                    tracing::warn!(target: "kessai::rpc", %from, nonce, attempt, %cause, "the node did not get the transaction; sending it again");
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(MAX_BACKOFF);
                }
                _ => return Err(error),
            }
        }
    }

    /// Signs `flight`'s transaction at its current pricing, reports it to `observe` before sending it
    /// and sends it. A replacement the node refuses (underpriced, or its nonce already used by the
    /// original) is dropped and the transactions signed before it are followed.
    async fn sign_and_broadcast(
        &self,
        flight: &mut InFlight,
        observe: &mut dyn FnMut(&Signed) -> Result<(), DeployerError>,
    ) -> Result<(), DeployerError> {
        let (from, nonce) = (flight.from, flight.nonce);
        let priced = match flight.pricing {
            Pricing::Legacy { gas_price } => flight.req.clone().with_gas_price(gas_price),
            Pricing::Eip1559 { max_fee, priority } => {
                flight.req.clone().with_max_fee_per_gas(max_fee).with_max_priority_fee_per_gas(priority)
            }
        };
        let envelope = priced
            .build(&self.wallet)
            .await
            .map_err(|source| DeployerError::SignTx { from, source: Box::new(source) })?;
        let hash = *envelope.tx_hash();
        observe(&Signed { from, nonce, hash, replaces: flight.hashes.last().copied() })?;
        flight.hashes.push(hash);
        flight.sent_at = tokio::time::Instant::now();
        match self.broadcast(&envelope.encoded_2718(), from, nonce, &flight.hashes).await {
            Ok(receipt) => {
                flight.receipt = receipt.map(Box::new);
                Ok(())
            }
            Err(_) if flight.hashes.len() > 1 => {
                let refused = flight.hashes.pop();
                tracing::warn!(target: "kessai::rpc", ?refused, "the replacement was refused; following the earlier transaction(s)");
                if let Whereabouts::NonceTaken = self.whereabouts(from, nonce, &flight.hashes).await? {
                    return Err(DeployerError::NonceTaken { from, nonce, hashes: flight.hashes.clone() });
                }
                Ok(())
            }
            Err(e) => Err(e),
        }
    }

    /// Follows `flight` until one of the transactions signed for its nonce is mined, replacing it
    /// with a higher fee (reported to `observe` first) whenever none is mined within
    /// [`RpcOptions::resend_after`] of the last send.
    async fn follow(
        &self,
        flight: &mut InFlight,
        observe: &mut dyn FnMut(&Signed) -> Result<(), DeployerError>,
    ) -> Result<TransactionReceipt, DeployerError> {
        let (from, nonce) = (flight.from, flight.nonce);
        loop {
            if let Some(receipt) = flight.receipt.take() {
                return Ok(*receipt);
            }
            let bump_at = flight.sent_at + self.options.resend_after;
            loop {
                if let Some(receipt) = self.mined(&flight.hashes).await? {
                    return Ok(receipt);
                }
                if flight.started.elapsed() > self.options.timeout {
                    return Err(DeployerError::Timeout {
                        hashes: flight.hashes.iter().map(ToString::to_string).collect(),
                        waited: self.options.timeout.as_secs(),
                    });
                }
                if tokio::time::Instant::now() >= bump_at {
                    break;
                }
                tokio::time::sleep(self.options.poll).await;
            }
            match self.whereabouts(from, nonce, &flight.hashes).await? {
                Whereabouts::Mined(receipt) => return Ok(*receipt),
                Whereabouts::NonceTaken => {
                    return Err(DeployerError::NonceTaken { from, nonce, hashes: flight.hashes.clone() });
                }
                Whereabouts::Pending | Whereabouts::Unseen => {}
            }
            // Not mined in time: replace it (same nonce) with fees raised by an eighth (the minimum
            // most nodes accept for a replacement). A zero-gas chain gets the same price again.
            flight.pricing = match flight.pricing {
                Pricing::Legacy { gas_price } => Pricing::Legacy { gas_price: bump(gas_price) },
                Pricing::Eip1559 { max_fee, priority } => {
                    Pricing::Eip1559 { max_fee: bump(max_fee), priority: bump(priority) }
                }
            };
            tracing::warn!(target: "kessai::rpc", pricing = ?flight.pricing, sent = flight.hashes.len(), "not mined in time; replacing with a higher fee");
            self.sign_and_broadcast(flight, observe).await?;
        }
    }

    /// The chain id, asked once.
    async fn known_chain_id(&mut self) -> Result<u64, DeployerError> {
        if let Some(id) = self.chain_id {
            return Ok(id);
        }
        let id = self.retry("eth_chainId", || self.provider.get_chain_id()).await?;
        self.chain_id = Some(id);
        Ok(id)
    }

    /// Estimates, prices, signs (reporting the signed transaction to `observe` before it is sent) and
    /// sends `req` from `from` with the sender's next nonce, without waiting for it to be mined. The
    /// engine counts the nonce as used once the node has the transaction.
    async fn launch(
        &mut self,
        from: Address,
        req: TransactionRequest,
        observe: &mut dyn FnMut(&Signed) -> Result<(), DeployerError>,
    ) -> Result<InFlight, DeployerError> {
        if !self.accounts.contains(&from) {
            return Err(DeployerError::NoKey(from));
        }
        // Estimating first refuses a reverting transaction before it is signed or sent.
        let gas = self.retry("eth_estimateGas", || self.provider.estimate_gas(req.clone())).await?;
        let chain_id = self.known_chain_id().await?;
        let nonce = self.next_nonce(from).await?;
        let pricing = self.pricing().await?;
        let req = req.with_gas_limit(gas + gas / 5).with_nonce(nonce).with_chain_id(chain_id);
        let now = tokio::time::Instant::now();
        let mut flight =
            InFlight { req, from, nonce, pricing, hashes: Vec::new(), started: now, sent_at: now, receipt: None };
        match self.sign_and_broadcast(&mut flight, observe).await {
            Ok(()) => {
                self.nonces.insert(from, nonce + 1);
                Ok(flight)
            }
            // Look the nonce up again next time rather than guess.
            Err(e) => {
                self.nonces.remove(&from);
                Err(e)
            }
        }
    }

    /// Follows a launched transaction to its receipt, then waits for its confirmations. The receipt
    /// may be of a failed transaction.
    async fn land(
        &mut self,
        flight: &mut InFlight,
        observe: &mut dyn FnMut(&Signed) -> Result<(), DeployerError>,
    ) -> Result<TransactionReceipt, DeployerError> {
        let receipt = match self.follow(flight, observe).await {
            Ok(receipt) => receipt,
            Err(e) => {
                self.nonces.remove(&flight.from);
                return Err(e);
            }
        };
        self.confirm(&receipt).await?;
        Ok(receipt)
    }

    /// Estimates, prices, signs (reporting each signed transaction to `observe` before it is sent),
    /// sends and waits for `req` from `from`, then for its confirmations. The receipt may be of a
    /// failed transaction.
    async fn submit(
        &mut self,
        from: Address,
        req: TransactionRequest,
        observe: &mut dyn FnMut(&Signed) -> Result<(), DeployerError>,
    ) -> Result<TransactionReceipt, DeployerError> {
        let mut flight = self.launch(from, req, observe).await?;
        self.land(&mut flight, observe).await
    }

    /// Sends `txs` together: each is estimated, signed, reported to `observe` (with its position in
    /// `txs`) and sent without waiting for the ones before it, so the node can include several in one
    /// block; a sender's transactions get consecutive nonces in the order given. Sending stops at the
    /// first transaction that cannot be sent (it would revert, no key, the node refused it, or
    /// `observe` failed): its error is its result and the transactions after it are not sent
    /// (`None`). Then every sent transaction is followed to its receipt (replaced with a higher fee
    /// when not mined in time, like [`Chain::send`]) and confirmed. The results are in `txs`' order;
    /// only transactions that are independent of each other belong in one batch.
    pub async fn send_batch(
        &mut self,
        txs: &[Tx],
        mut observe: impl FnMut(usize, &Signed) -> Result<(), DeployerError>,
    ) -> Vec<Option<Result<Receipt, DeployerError>>> {
        let mut results: Vec<Option<Result<Receipt, DeployerError>>> = (0..txs.len()).map(|_| None).collect();
        let mut flights = Vec::new();
        for (i, tx) in txs.iter().enumerate() {
            match self.launch(tx.from, Self::request(tx), &mut |s| observe(i, s)).await {
                Ok(flight) => flights.push((i, flight)),
                Err(e) => {
                    results[i] = Some(Err(e));
                    break;
                }
            }
        }
        for (i, mut flight) in flights {
            let landed = self.land(&mut flight, &mut |s| observe(i, s)).await;
            results[i] = Some(landed.and_then(Self::succeeded));
        }
        results
    }

    /// The engine's receipt of a mined transaction, or [`DeployerError::TxFailed`] when it failed.
    fn succeeded(receipt: TransactionReceipt) -> Result<Receipt, DeployerError> {
        let tx_hash = receipt.transaction_hash;
        let gas_used = receipt.gas_used;
        if !receipt.status() {
            return Err(DeployerError::TxFailed { tx: tx_hash.to_string(), gas_used });
        }
        Ok(Receipt {
            tx_hash,
            block_number: receipt.block_number.unwrap_or_default(),
            gas_used,
            contract_address: receipt.contract_address,
            logs: receipt.inner.logs().iter().map(|l| l.inner.clone()).collect(),
        })
    }

    /// [`Chain::send`], reporting each transaction the engine signs for `tx` (the first, and any
    /// replacement with a higher fee) to `observe` before it is sent: a caller that records the hash
    /// (the deployer's journal) can find the transaction after a crash or a lost answer. An error
    /// from `observe` stops the send before that transaction leaves.
    pub async fn send_tracked(
        &mut self,
        tx: Tx,
        mut observe: impl FnMut(&Signed) -> Result<(), DeployerError>,
    ) -> Result<Receipt, DeployerError> {
        let receipt = self.submit(tx.from, Self::request(&tx), &mut observe).await?;
        Self::succeeded(receipt)
    }

    /// Sends `value` wei from `from` to `to`, the way every transaction is sent (nonce, fees,
    /// retries and replacements owned by the engine); returns the transaction's hash.
    pub async fn transfer(&mut self, from: Address, to: Address, value: U256) -> Result<B256, DeployerError> {
        self.transfer_tracked(from, to, value, &mut |_| Ok(())).await
    }

    /// [`Self::transfer`], reporting each transaction signed for it to `observe` before it is sent
    /// (as [`Self::send_tracked`] does).
    pub async fn transfer_tracked(
        &mut self,
        from: Address,
        to: Address,
        value: U256,
        observe: &mut dyn FnMut(&Signed) -> Result<(), DeployerError>,
    ) -> Result<B256, DeployerError> {
        let req = TransactionRequest::default().with_from(from).with_to(to).with_value(value);
        let receipt = self.submit(from, req, observe).await?;
        if !receipt.status() {
            return Err(DeployerError::TxFailed {
                tx: receipt.transaction_hash.to_string(),
                gas_used: receipt.gas_used,
            });
        }
        Ok(receipt.transaction_hash)
    }

    /// Broadcasts a transaction signed elsewhere (a presigned one) whose hash is `hash`; a lost or
    /// failed answer is checked against the chain: `Ok` when the node holds or has mined it.
    pub async fn send_raw(&self, raw: &[u8], hash: B256) -> Result<(), DeployerError> {
        let error = match self.retry("eth_sendRawTransaction", || self.provider.send_raw_transaction(raw)).await {
            Ok(_) => return Ok(()),
            Err(e) => e,
        };
        if self.mined(&[hash]).await?.is_some()
            || self.retry("eth_getTransactionByHash", || self.provider.get_transaction_by_hash(hash)).await?.is_some()
        {
            tracing::info!(target: "kessai::rpc", %hash, %error, "the send's answer was an error, but the node has the transaction");
            return Ok(());
        }
        Err(error)
    }

    /// Waits until the block including `receipt` has `confirmations` blocks on top of it.
    async fn confirm(&self, receipt: &TransactionReceipt) -> Result<(), DeployerError> {
        let Some(block) = receipt.block_number else { return Ok(()) };
        if self.options.confirmations == 0 {
            return Ok(());
        }
        let target = block + self.options.confirmations;
        let started = tokio::time::Instant::now();
        loop {
            let head = self.retry("eth_blockNumber", || self.provider.get_block_number()).await?;
            if head >= target {
                return Ok(());
            }
            if started.elapsed() > self.options.timeout {
                return Err(DeployerError::Rpc(format!(
                    "block {block} has {} of {} confirmations after {} s",
                    head.saturating_sub(block),
                    self.options.confirmations,
                    self.options.timeout.as_secs()
                )));
            }
            tokio::time::sleep(self.options.poll.max(Duration::from_millis(200))).await;
        }
    }

    // ------------------------------------------------------------ reads of the past (back office)

    /// The latest block number.
    pub async fn block_number(&self) -> Result<u64, DeployerError> {
        self.retry("eth_blockNumber", || self.provider.get_block_number()).await
    }

    /// The timestamp of block `block`.
    pub async fn block_timestamp(&self, block: u64) -> Result<u64, DeployerError> {
        let header = self
            .retry("eth_getBlockByNumber", || self.provider.get_block_by_number(BlockNumberOrTag::Number(block)))
            .await?
            .ok_or_else(|| DeployerError::Rpc(format!("the node has no block {block}")))?;
        Ok(header.header.timestamp)
    }

    /// Logs emitted by any of `addresses` in blocks `from_block..=to_block`, in chain order, each with
    /// its block number, index in the block and transaction hash.
    pub async fn logs_between(
        &self,
        addresses: &[Address],
        from_block: u64,
        to_block: u64,
    ) -> Result<Vec<alloy::rpc::types::Log>, DeployerError> {
        let filter = Filter::new().address(addresses.to_vec()).from_block(from_block).to_block(to_block);
        let mut logs = self.retry("eth_getLogs", || self.provider.get_logs(&filter)).await?;
        logs.sort_by_key(|l| (l.block_number, l.log_index));
        Ok(logs)
    }

    /// Executes a read-only call against the state at the end of block `block` (the node must keep
    /// that state: an archive node, or a recent block).
    pub async fn call_at(&self, block: u64, to: Address, data: Bytes) -> Result<Bytes, DeployerError> {
        let req = TransactionRequest::default().with_to(to).with_input(data);
        self.retry("eth_call", || self.provider.call(req.clone()).block(alloy::eips::BlockId::number(block))).await
    }
}

/// A fee raised by an eighth and at least one wei (zero stays zero).
fn bump(fee: u128) -> u128 {
    if fee == 0 { 0 } else { fee + fee / 8 + 1 }
}

impl Chain for RpcChain {
    async fn chain_id(&mut self) -> Result<u64, DeployerError> {
        self.known_chain_id().await
    }

    async fn send(&mut self, tx: Tx) -> Result<Receipt, DeployerError> {
        self.send_tracked(tx, |_| Ok(())).await
    }

    async fn call(&mut self, from: Address, to: Address, data: Bytes) -> Result<Bytes, DeployerError> {
        let req = TransactionRequest::default().with_from(from).with_to(to).with_input(data);
        self.retry("eth_call", || self.provider.call(req.clone())).await
    }

    async fn timestamp(&mut self) -> Result<u64, DeployerError> {
        let block = self
            .retry("eth_getBlockByNumber", || self.provider.get_block_by_number(BlockNumberOrTag::Latest))
            .await?
            .ok_or_else(|| DeployerError::Rpc("node returned no latest block".into()))?;
        Ok(block.header.timestamp)
    }

    async fn advance_time(&mut self, seconds: u64) -> Result<(), DeployerError> {
        // Dev chains only. Retried like any request: a retry after an answer that was lost (rather
        // than a request that never arrived) may move the clock twice, which only makes a deadline
        // pass further behind.
        let _: serde_json::Value = self
            .retry("evm_increaseTime", || {
                self.provider.raw_request::<_, serde_json::Value>("evm_increaseTime".into(), (U256::from(seconds),))
            })
            .await?;
        // An empty parameter list, not `null`: Hardhat refuses the latter.
        let none: [u64; 0] = [];
        let _: serde_json::Value = self
            .retry("evm_mine", || self.provider.raw_request::<_, serde_json::Value>("evm_mine".into(), none))
            .await?;
        Ok(())
    }

    async fn logs(&mut self, address: Address, from_block: u64) -> Result<Vec<Log>, DeployerError> {
        let filter = Filter::new().address(address).from_block(from_block);
        let logs = self.retry("eth_getLogs", || self.provider.get_logs(&filter)).await?;
        Ok(logs.into_iter().map(|l| l.inner).collect())
    }

    async fn code(&mut self, address: Address) -> Result<Bytes, DeployerError> {
        self.retry("eth_getCode", || self.provider.get_code_at(address)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_replacement_raises_the_fee_by_an_eighth_and_zero_stays_zero() {
        assert_eq!(bump(0), 0);
        assert_eq!(bump(8), 10);
        assert_eq!(bump(1_000_000_000), 1_125_000_001);
    }
}
