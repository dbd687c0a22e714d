//! The JSON-RPC engine: drives any EVM node (Anvil, Hardhat, a permissioned chain) through an alloy
//! provider that signs locally.
//!
//! It takes chains as they are: it detects whether the node accepts EIP-1559 transactions or only
//! legacy ones, and whether gas is free (zero gas price, as on many permissioned chains); it keeps
//! each sender's nonce itself, so transactions go out in nonce order without drift; it retries a
//! request that failed in transport with backoff; it waits for receipts with a deadline, re-sends a
//! transaction that is not mined in time with the same nonce and a higher fee (a replacement, never a
//! duplicate), and waits for the configured confirmations. It reaches the node over HTTP or HTTPS
//! through the client [`crate::transport`] builds, and names why a request failed in transport.

use crate::{
    chain::{Chain, Receipt, Tx},
    error::DeployerError,
    transport::{self, Endpoint},
};
use alloy::{
    eips::BlockNumberOrTag,
    network::{EthereumWallet, TransactionBuilder},
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
    /// Attempts for a request that failed in transport (connection refused, timeout).
    pub retries: u32,
    /// Interval between receipt polls.
    pub poll: Duration,
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
    endpoint: Endpoint,
    accounts: Vec<Address>,
    options: RpcOptions,
    nonces: HashMap<Address, u64>,
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
        let http = Http::with_client(transport::http_client(ca_cert.as_deref())?, endpoint.url().clone());
        let client = RpcClient::new(http, guess_local_url(endpoint.url().as_str()));
        let accounts: Vec<Address> = signers.iter().map(PrivateKeySigner::address).collect();
        let mut iter = signers.into_iter();
        let first = iter.next().ok_or_else(|| DeployerError::Rpc("no signing keys given".into()))?;
        let mut wallet = EthereumWallet::from(first);
        for signer in iter {
            wallet.register_signer(signer);
        }
        let provider = ProviderBuilder::new().wallet(wallet).connect_client(client).erased();
        Ok(Self { provider, endpoint, accounts, options, nonces: HashMap::new() })
    }

    /// The accounts this engine can sign for.
    pub fn accounts(&self) -> &[Address] {
        &self.accounts
    }

    /// The underlying provider.
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

    /// Runs `op` until it succeeds or fails for a reason that trying again cannot fix (anything but a
    /// transient transport failure: see [`transport::TransportCause::is_transient`]), backing off
    /// between attempts (100 ms, 200 ms, ...).
    async fn retry<T, F, Fut>(&self, what: &str, mut op: F) -> Result<T, DeployerError>
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
                    delay *= 2;
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

    /// Signs and sends `req` (nonce, gas and fees set), then waits for it, replacing it with a higher
    /// fee when it is not mined in time.
    async fn send_and_wait(
        &mut self,
        mut req: TransactionRequest,
        mut pricing: Pricing,
    ) -> Result<TransactionReceipt, DeployerError> {
        let started = tokio::time::Instant::now();
        let mut hashes: Vec<B256> = Vec::new();
        loop {
            req = match pricing {
                Pricing::Legacy { gas_price } => req.with_gas_price(gas_price),
                Pricing::Eip1559 { max_fee, priority } => {
                    req.with_max_fee_per_gas(max_fee).with_max_priority_fee_per_gas(priority)
                }
            };
            match self.provider.send_transaction(req.clone()).await {
                Ok(pending) => hashes.push(*pending.tx_hash()),
                Err(e) => match self.error(e) {
                    DeployerError::Transport { cause, .. } if cause.is_transient() => {
                        let cause = cause.summary();
                        tracing::warn!(target: "kessai::rpc", %cause, "sending failed in transport; checking and retrying");
                    }
                    error => {
                        let text = error.to_string();
                        // A replacement raced with the original being mined, or the node already has it.
                        let benign = text.contains("already known") || text.contains("nonce too low");
                        if !benign || hashes.is_empty() {
                            return Err(error);
                        }
                    }
                },
            }
            let bump_at = tokio::time::Instant::now() + self.options.resend_after;
            loop {
                if let Some(receipt) = self.mined(&hashes).await? {
                    return Ok(receipt);
                }
                if started.elapsed() > self.options.timeout {
                    return Err(DeployerError::Timeout {
                        hashes: hashes.iter().map(ToString::to_string).collect(),
                        waited: self.options.timeout.as_secs(),
                    });
                }
                if tokio::time::Instant::now() >= bump_at {
                    break;
                }
                tokio::time::sleep(self.options.poll).await;
            }
            // Not mined in time: replace it (same nonce) with fees raised by an eighth (the minimum
            // most nodes accept for a replacement). A zero-gas chain gets the same price again.
            pricing = match pricing {
                Pricing::Legacy { gas_price } => Pricing::Legacy { gas_price: bump(gas_price) },
                Pricing::Eip1559 { max_fee, priority } => {
                    Pricing::Eip1559 { max_fee: bump(max_fee), priority: bump(priority) }
                }
            };
            tracing::warn!(target: "kessai::rpc", ?pricing, sent = hashes.len(), "not mined in time; replacing with a higher fee");
        }
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
        self.retry("eth_chainId", || self.provider.get_chain_id()).await
    }

    async fn send(&mut self, tx: Tx) -> Result<Receipt, DeployerError> {
        if !self.accounts.contains(&tx.from) {
            return Err(DeployerError::NoKey(tx.from));
        }
        let req = Self::request(&tx);
        // Estimating first refuses a reverting transaction before it is signed or sent.
        let gas = self.retry("eth_estimateGas", || self.provider.estimate_gas(req.clone())).await?;
        let nonce = self.next_nonce(tx.from).await?;
        let pricing = self.pricing().await?;
        let req = req.with_gas_limit(gas + gas / 5).with_nonce(nonce);
        let result = self.send_and_wait(req, pricing).await;
        match &result {
            // The nonce is used once a transaction with it is mined (successful or not).
            Ok(_) => {
                self.nonces.insert(tx.from, nonce + 1);
            }
            // Anything else: look the nonce up again next time rather than guess.
            Err(_) => {
                self.nonces.remove(&tx.from);
            }
        }
        let receipt = result?;
        self.confirm(&receipt).await?;
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
        let _: serde_json::Value = self
            .provider
            .raw_request("evm_increaseTime".into(), (U256::from(seconds),))
            .await
            .map_err(|e| self.error(e))?;
        // An empty parameter list, not `null`: Hardhat refuses the latter.
        let none: [u64; 0] = [];
        let _: serde_json::Value =
            self.provider.raw_request("evm_mine".into(), none).await.map_err(|e| self.error(e))?;
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
