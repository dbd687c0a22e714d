//! The benchmark's Anvil engines: two spawned nodes, the asset chain (`--hardfork berlin
//! --chain-id 1010032`) and the payment chain (`--hardfork cancun`, 31337), set up with the same
//! calls as the in-process chains; then either pre-signed raw transactions in JSON-RPC batches (each
//! batch one block, both nodes driven at once) or the JSON-RPC engine sending each transaction and
//! waiting for its receipt.

use super::{
    Measured,
    in_process::rules,
    workload::{Transactions, Workload, check_chain, set_up_side, suites},
};
use alloy::{
    consensus::{SignableTransaction, TxEip1559, TxEnvelope, TxLegacy},
    eips::{BlockNumberOrTag, Encodable2718},
    network::TxSignerSync,
    primitives::{Address, B256, Bytes, TxKind, U256},
    providers::{DynProvider, Provider, ext::AnvilApi},
    rpc::{client::BatchRequest, types::TransactionReceipt},
    signers::local::PrivateKeySigner,
};
use kessai_deployer::{
    DeployerError,
    anvil::{self, AnvilInstance, AnvilOptions},
    chain::{Chain, Tx},
    rpc::{RpcChain, RpcOptions},
    xchain::{plan::Side, trade::TwoSuites},
};
use std::{
    collections::HashMap,
    time::{Duration, Instant},
};

/// How often the JSON-RPC engine polls for a receipt (its default, 50 ms, suits real chains, not a
/// benchmark).
const RECEIPT_POLL: Duration = Duration::from_millis(1);

/// A spawned node and the JSON-RPC engine on it, holding the keys of that side's senders.
pub(super) struct Node {
    /// Stops the node when dropped.
    _node: AnvilInstance,
    chain: RpcChain,
    side: Side,
}

/// Spawns `side`'s node (its chain id and hard fork, a zero base fee so full blocks keep the fees a
/// batch is ordered by, pruned history for long runs), gives that side's senders ether and sets it
/// up as every engine does.
async fn node(side: Side, workload: &Workload) -> Result<(Node, kessai_deployer::plan::Deployment), DeployerError> {
    let (chain_id, hardfork) = rules(side);
    let node = AnvilInstance::spawn(&AnvilOptions {
        hardfork: Some(hardfork.name().into()),
        chain_id,
        base_fee: Some(0),
        prune_history: true,
        ..AnvilOptions::default()
    })?;
    let mut keys = anvil::dev_signers();
    keys.extend(workload.senders(side));
    let mut chain =
        RpcChain::connect_with(&node.endpoint(), keys, RpcOptions { poll: RECEIPT_POLL, ..RpcOptions::default() })?;
    let ether = U256::from(10u64).pow(U256::from(22u64));
    for key in workload.senders(side) {
        chain.provider().anvil_set_balance(key.address(), ether).await.map_err(DeployerError::Rpc)?;
    }
    let deployment = set_up_side(&mut chain, side, workload).await?;
    Ok((Node { _node: node, chain, side }, deployment))
}

/// Both nodes set up at once; refused unless the contracts are where the in-process chains have
/// them (the terms and proofs name those addresses).
async fn nodes(workload: &Workload, expected: &TwoSuites) -> Result<(Node, Node), DeployerError> {
    let (a, b) = tokio::join!(node(Side::Asset, workload), node(Side::Payment, workload));
    let ((a, on_a), (b, on_b)) = (a?, b?);
    let found = suites(&on_a, &on_b)?;
    if found != *expected {
        return Err(DeployerError::Answer(format!(
            "the contracts were deployed elsewhere on Anvil ({found:?}) than in-process ({expected:?})"
        )));
    }
    Ok((a, b))
}

impl Node {
    /// Checks every party's balance after the first `settled` settlements (untimed).
    async fn check(
        &mut self,
        engine: &str,
        workload: &Workload,
        suites: &TwoSuites,
        settled: usize,
    ) -> Result<usize, DeployerError> {
        check_chain(engine, &mut self.chain, self.side, &workload.expected(self.side, suites, settled)).await
    }
}

/// Two Anvils batched: each chain's transactions signed before timing, then sent to both nodes at
/// once in JSON-RPC batches of `batch_size`, each batch mined as one block (timed until both last
/// receipts exist); then every receipt read for success and gas, and every balance checked.
pub(super) async fn batched(
    workload: &Workload,
    suites: &TwoSuites,
    txs: &Transactions,
    batch_size: usize,
    progress: &mut impl FnMut(&str),
) -> Result<Measured, DeployerError> {
    progress("two Anvils (batched): spawning, deploying and funding");
    let (mut a, mut b) = nodes(workload, suites).await?;
    progress("two Anvils (batched): signing");
    let signed_a = sign(a.chain.provider(), &keys(workload, Side::Asset), &txs.asset).await?;
    let signed_b = sign(b.chain.provider(), &keys(workload, Side::Payment), &txs.payment).await?;
    progress("two Anvils (batched): sending");
    let began = Instant::now();
    let (sent_a, sent_b) =
        tokio::join!(send(a.chain.provider(), &signed_a, batch_size), send(b.chain.provider(), &signed_b, batch_size));
    let seconds = began.elapsed().as_secs_f64();
    sent_a?;
    sent_b?;
    progress("two Anvils (batched): reading receipts and balances");
    let gas = (
        receipts_gas(a.chain.provider(), &signed_a.hashes, batch_size).await?,
        receipts_gas(b.chain.provider(), &signed_b.hashes, batch_size).await?,
    );
    let settled = workload.trades.len();
    let balances = a.check("anvil (batched)", workload, suites, settled).await?
        + b.check("anvil (batched)", workload, suites, settled).await?;
    Ok(Measured { seconds, gas, balances })
}

/// Every key that sends on `side`'s chain: Anvil's development keys and that side's senders.
fn keys(workload: &Workload, side: Side) -> HashMap<Address, PrivateKeySigner> {
    anvil::dev_signers().into_iter().chain(workload.senders(side)).map(|k| (k.address(), k)).collect()
}

/// A chain's transactions signed: encoded, and their hashes, in order.
struct Signed {
    raw: Vec<Bytes>,
    hashes: Vec<B256>,
}

/// Signs `txs` in order with each sender's nonces counted from the node. A block orders its
/// transactions by fee, and a delivery must follow its lock in the same block (a commit its
/// payment): fees fall by one wei per transaction, so each block keeps the sending order. Before
/// London (no base fee) the node orders by gas price: legacy transactions.
async fn sign(
    provider: &DynProvider,
    keys: &HashMap<Address, PrivateKeySigner>,
    txs: &[Tx],
) -> Result<Signed, DeployerError> {
    let chain_id = provider.get_chain_id().await.map_err(DeployerError::Rpc)?;
    let latest = provider.get_block_by_number(BlockNumberOrTag::Latest).await.map_err(DeployerError::Rpc)?;
    let base_fee = latest.ok_or_else(|| DeployerError::Answer("no latest block".into()))?.header.base_fee_per_gas;
    let priority = provider.get_max_priority_fee_per_gas().await.map_err(DeployerError::Rpc)?;
    let mut nonces: HashMap<Address, u64> = HashMap::new();
    let mut signed = Signed { raw: Vec::with_capacity(txs.len()), hashes: Vec::with_capacity(txs.len()) };
    let sign_error = |source| DeployerError::Signing { what: "cannot sign a benchmark transaction".into(), source };
    for (i, tx) in txs.iter().enumerate() {
        let nonce = match nonces.get(&tx.from) {
            Some(n) => *n,
            None => provider.get_transaction_count(tx.from).pending().await.map_err(DeployerError::Rpc)?,
        };
        nonces.insert(tx.from, nonce + 1);
        let key = keys.get(&tx.from).ok_or(DeployerError::NoKey(tx.from))?;
        let tip = priority + (txs.len() - i) as u128;
        let to = tx.to.map_or(TxKind::Create, TxKind::Call);
        let envelope = match base_fee {
            None => {
                let mut unsigned = TxLegacy {
                    chain_id: Some(chain_id),
                    nonce,
                    gas_price: tip,
                    gas_limit: 1_000_000,
                    to,
                    value: U256::ZERO,
                    input: tx.data.clone(),
                };
                let signature = key.sign_transaction_sync(&mut unsigned).map_err(sign_error)?;
                TxEnvelope::from(unsigned.into_signed(signature))
            }
            Some(base) => {
                let mut unsigned = TxEip1559 {
                    chain_id,
                    nonce,
                    gas_limit: 1_000_000,
                    max_fee_per_gas: u128::from(base) + tip,
                    max_priority_fee_per_gas: tip,
                    to,
                    value: U256::ZERO,
                    access_list: Default::default(),
                    input: tx.data.clone(),
                };
                let signature = key.sign_transaction_sync(&mut unsigned).map_err(sign_error)?;
                TxEnvelope::from(unsigned.into_signed(signature))
            }
        };
        signed.hashes.push(*envelope.tx_hash());
        signed.raw.push(envelope.encoded_2718().into());
    }
    Ok(signed)
}

/// The timed part on one node: automine off, each batch of `eth_sendRawTransaction` sent and mined
/// as one block once every transaction of it has arrived, then blocks until the last transaction is
/// in (a batch over the block gas limit leaves its tail for the next block).
async fn send(provider: &DynProvider, signed: &Signed, batch_size: usize) -> Result<(), DeployerError> {
    provider.anvil_set_auto_mine(false).await.map_err(DeployerError::Rpc)?;
    for chunk in signed.raw.chunks(batch_size.max(1)) {
        let mut batch = BatchRequest::new(provider.client());
        let mut waiters = Vec::with_capacity(chunk.len());
        for tx in chunk {
            waiters.push(batch.add_call::<_, B256>("eth_sendRawTransaction", &(tx,)).map_err(DeployerError::Rpc)?);
        }
        batch.send().await.map_err(DeployerError::Rpc)?;
        for waiter in waiters {
            waiter.await.map_err(DeployerError::Rpc)?;
        }
        provider.evm_mine(None).await.map_err(DeployerError::Rpc)?;
    }
    let Some(last) = signed.hashes.last() else { return Ok(()) };
    let deadline = Instant::now() + Duration::from_secs(600);
    while provider.get_transaction_receipt(*last).await.map_err(DeployerError::Rpc)?.is_none() {
        if Instant::now() > deadline {
            return Err(DeployerError::Answer(format!("anvil (batched): {last} was not mined in 600 s")));
        }
        provider.evm_mine(None).await.map_err(DeployerError::Rpc)?;
    }
    provider.anvil_set_auto_mine(true).await.map_err(DeployerError::Rpc)
}

/// Untimed: every receipt read in batches of `batch_size`; each must have succeeded. Their gas, in
/// order.
async fn receipts_gas(provider: &DynProvider, hashes: &[B256], batch_size: usize) -> Result<Vec<u64>, DeployerError> {
    let mut gas = Vec::with_capacity(hashes.len());
    for chunk in hashes.chunks(batch_size.max(1)) {
        let mut batch = BatchRequest::new(provider.client());
        let mut waiters = Vec::with_capacity(chunk.len());
        for hash in chunk {
            let waiter = batch.add_call::<_, Option<TransactionReceipt>>("eth_getTransactionReceipt", &(hash,));
            waiters.push(waiter.map_err(DeployerError::Rpc)?);
        }
        batch.send().await.map_err(DeployerError::Rpc)?;
        for (hash, waiter) in chunk.iter().zip(waiters) {
            let receipt = waiter
                .await
                .map_err(DeployerError::Rpc)?
                .ok_or_else(|| DeployerError::Answer(format!("anvil (batched): {hash} was not mined")))?;
            if !receipt.status() {
                let at = hashes.iter().position(|h| h == hash).unwrap_or_default();
                return Err(DeployerError::Answer(format!(
                    "anvil (batched): transaction {at} ({hash}, block {:?}) reverted",
                    receipt.block_number
                )));
            }
            gas.push(receipt.gas_used);
        }
    }
    Ok(gas)
}

/// Two Anvils one at a time, over the first `settlements` settlements: the JSON-RPC engine sends
/// each transaction (estimating it first) and polls for its receipt before the next — the lock on
/// A, the payment and the commit on B, the delivery on A. Also each settlement's latency, seconds
/// from sending the payment to the delivery's receipt (the commit's came before it).
pub(super) async fn single(
    workload: &Workload,
    suites: &TwoSuites,
    txs: &Transactions,
    settlements: usize,
    progress: &mut impl FnMut(&str),
) -> Result<(Measured, Vec<f64>), DeployerError> {
    progress("two Anvils (one at a time): spawning, deploying and funding");
    let (mut a, mut b) = nodes(workload, suites).await?;
    progress(&format!("two Anvils (one at a time): settling the first {settlements}"));
    let (mut gas_a, mut gas_b) = (Vec::with_capacity(2 * settlements), Vec::with_capacity(2 * settlements));
    let mut latencies = Vec::with_capacity(settlements);
    let pairs = txs.asset.chunks_exact(2).zip(txs.payment.chunks_exact(2)).take(settlements);
    let began = Instant::now();
    for (at_a, at_b) in pairs {
        gas_a.push(a.chain.send(at_a[0].clone()).await?.gas_used);
        let paying = Instant::now();
        gas_b.push(b.chain.send(at_b[0].clone()).await?.gas_used);
        gas_b.push(b.chain.send(at_b[1].clone()).await?.gas_used);
        gas_a.push(a.chain.send(at_a[1].clone()).await?.gas_used);
        latencies.push(paying.elapsed().as_secs_f64());
    }
    let seconds = began.elapsed().as_secs_f64();
    let balances = a.check("anvil (one at a time)", workload, suites, settlements).await?
        + b.check("anvil (one at a time)", workload, suites, settlements).await?;
    Ok((Measured { seconds, gas: (gas_a, gas_b), balances }, latencies))
}
