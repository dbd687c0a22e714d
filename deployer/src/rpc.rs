//! The JSON-RPC engine: drives any EVM node (Anvil, Hardhat, a permissioned chain) through an alloy
//! provider that signs locally.

use crate::{
    chain::{Chain, Receipt, Tx, revert},
    error::DeployerError,
};
use alloy::{
    network::{EthereumWallet, TransactionBuilder},
    primitives::{Address, Bytes, Log, U256},
    providers::{DynProvider, Provider, ProviderBuilder},
    rpc::types::{Filter, TransactionRequest},
    signers::local::PrivateKeySigner,
    transports::{RpcError, TransportErrorKind},
};
use std::time::Duration;

/// A chain reached over JSON-RPC.
#[derive(Clone, Debug)]
pub struct RpcChain {
    provider: DynProvider,
    accounts: Vec<Address>,
}

impl RpcChain {
    /// Connects to `url`, signing with `signers` (the first is the wallet's default sender).
    pub fn connect(url: &str, signers: Vec<PrivateKeySigner>) -> Result<Self, DeployerError> {
        let url = url.parse().map_err(|e| DeployerError::Rpc(format!("invalid RPC URL {url}: {e}")))?;
        let accounts: Vec<Address> = signers.iter().map(PrivateKeySigner::address).collect();
        let mut iter = signers.into_iter();
        let first = iter.next().ok_or_else(|| DeployerError::Rpc("no signing keys given".into()))?;
        let mut wallet = EthereumWallet::from(first);
        for signer in iter {
            wallet.register_signer(signer);
        }
        let provider = ProviderBuilder::new().wallet(wallet).connect_http(url).erased();
        Ok(Self { provider, accounts })
    }

    /// The accounts this engine can sign for.
    pub fn accounts(&self) -> &[Address] {
        &self.accounts
    }

    /// The underlying provider.
    pub fn provider(&self) -> &DynProvider {
        &self.provider
    }

    fn request(tx: &Tx) -> TransactionRequest {
        let req = TransactionRequest::default().with_from(tx.from).with_input(tx.data.clone());
        match tx.to {
            Some(to) => req.with_to(to),
            None => req.into_create(),
        }
    }
}

fn rpc_error(e: RpcError<TransportErrorKind>) -> DeployerError {
    if let Some(data) = e.as_error_resp().and_then(|p| p.as_revert_data()) {
        return revert(&data);
    }
    DeployerError::Rpc(e.to_string())
}

impl Chain for RpcChain {
    async fn chain_id(&mut self) -> Result<u64, DeployerError> {
        self.provider.get_chain_id().await.map_err(rpc_error)
    }

    async fn send(&mut self, tx: Tx) -> Result<Receipt, DeployerError> {
        if !self.accounts.contains(&tx.from) {
            return Err(DeployerError::NoKey(tx.from));
        }
        let req = Self::request(&tx);
        // Estimating first refuses a reverting transaction before it is signed or sent.
        let gas = self.provider.estimate_gas(req.clone()).await.map_err(rpc_error)?;
        let req = req.with_gas_limit(gas + gas / 5);
        let pending = self.provider.send_transaction(req).await.map_err(rpc_error)?;
        let tx_hash = *pending.tx_hash();
        let receipt = pending
            .with_timeout(Some(Duration::from_secs(120)))
            .get_receipt()
            .await
            .map_err(|e| DeployerError::Rpc(format!("waiting for {tx_hash}: {e}")))?;
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
        self.provider.call(req).await.map_err(rpc_error)
    }

    async fn timestamp(&mut self) -> Result<u64, DeployerError> {
        let block = self
            .provider
            .get_block_by_number(alloy::eips::BlockNumberOrTag::Latest)
            .await
            .map_err(rpc_error)?
            .ok_or_else(|| DeployerError::Rpc("node returned no latest block".into()))?;
        Ok(block.header.timestamp)
    }

    async fn advance_time(&mut self, seconds: u64) -> Result<(), DeployerError> {
        let _: serde_json::Value =
            self.provider.raw_request("evm_increaseTime".into(), (U256::from(seconds),)).await.map_err(rpc_error)?;
        let _: serde_json::Value = self.provider.raw_request("evm_mine".into(), ()).await.map_err(rpc_error)?;
        Ok(())
    }

    async fn logs(&mut self, address: Address, from_block: u64) -> Result<Vec<Log>, DeployerError> {
        let filter = Filter::new().address(address).from_block(from_block);
        let logs = self.provider.get_logs(&filter).await.map_err(rpc_error)?;
        Ok(logs.into_iter().map(|l| l.inner).collect())
    }

    async fn code(&mut self, address: Address) -> Result<Bytes, DeployerError> {
        self.provider.get_code_at(address).await.map_err(rpc_error)
    }
}
