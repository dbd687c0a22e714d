//! The benchmark's Anvil engines: pre-signed raw transactions in JSON-RPC batches, and the scenario
//! runner on the JSON-RPC engine one transaction at a time.

use super::{BenchOptions, EngineResult, RawTx, setup, timeline};
use crate::scenario::{Scenario, ScenarioError, run::Runner};
use alloy::{
    consensus::{SignableTransaction, TxEip1559, TxEnvelope, TxLegacy},
    eips::{BlockNumberOrTag, Encodable2718},
    network::TxSignerSync,
    primitives::{Address, B256, Bytes, TxKind, U256},
    providers::{DynProvider, Provider, ext::AnvilApi},
    rpc::{
        client::BatchRequest,
        types::{TransactionReceipt, anvil::MineOptions},
    },
    signers::local::PrivateKeySigner,
    transports::TransportError,
};
use kessai_deployer::{
    DeployerError,
    anvil::{AnvilInstance, AnvilOptions},
    profile::Hardfork,
    rpc::{RpcChain, RpcOptions},
};
use std::{
    collections::HashMap,
    ops::Range,
    time::{Duration, Instant},
};

/// How often the JSON-RPC engine polls Anvil for a receipt during the benchmark.
const RECEIPT_POLL: Duration = Duration::from_millis(1);

/// Anvil for the benchmark: Cancun (as the in-process engine), pruned history, and a zero base fee so
/// that full blocks do not raise it: the batched run orders a block's transactions by their tips,
/// which a rising base fee would cap to one value.
fn spawn_anvil(hardfork: Hardfork) -> Result<AnvilInstance, ScenarioError> {
    Ok(AnvilInstance::spawn(&AnvilOptions {
        hardfork: Some(hardfork.name().into()),
        prune_history: true,
        base_fee: Some(0),
        ..AnvilOptions::default()
    })?)
}

/// Connects to `node` with `keys`, funding the accounts beyond Anvil's own ten. The engine polls for
/// receipts every millisecond (its default, 50 ms, suits real chains, not a benchmark).
async fn connect(node: &AnvilInstance, keys: &[PrivateKeySigner]) -> Result<RpcChain, ScenarioError> {
    let options = RpcOptions { poll: RECEIPT_POLL, ..RpcOptions::default() };
    let chain = RpcChain::connect_with(&node.endpoint(), keys.to_vec(), options)?;
    fund(&chain, &keys.iter().map(PrivateKeySigner::address).collect::<Vec<_>>()).await?;
    Ok(chain)
}

/// Gives each of `accounts` 10,000 ether on an Anvil node (`anvil_setBalance`).
pub async fn fund(chain: &RpcChain, accounts: &[Address]) -> Result<(), ScenarioError> {
    let ether = U256::from(10_000u64) * U256::from(10u64).pow(U256::from(18u64));
    for account in accounts.iter().skip(10) {
        chain.provider().anvil_set_balance(*account, ether).await.map_err(DeployerError::Rpc)?;
    }
    Ok(())
}

/// Deploys and funds the workload on `chain` through a runner, untimed.
async fn prepare<'s>(
    chain: &mut RpcChain,
    scenario: &'s Scenario,
    keys: &[PrivateKeySigner],
) -> Result<Runner<'s>, ScenarioError> {
    let mut runner = Runner::deploy(chain, scenario, keys).await?;
    setup(&mut runner, chain, scenario).await?;
    runner.presign()?;
    Ok(runner)
}

/// A JSON-RPC failure as the benchmark's error.
fn rpc(e: TransportError) -> ScenarioError {
    ScenarioError::Chain(DeployerError::Rpc(e))
}

/// Anvil batched: the recorded transactions pre-signed, sent in JSON-RPC batches each mined as one
/// block (timed), then every receipt read for success and gas (untimed).
pub(super) async fn batched(
    options: &BenchOptions,
    scenario: &Scenario,
    keys: &[PrivateKeySigner],
    in_process: &Runner<'_>,
    txs: &[RawTx],
    progress: &mut impl FnMut(&str),
) -> Result<EngineResult, ScenarioError> {
    let node = spawn_anvil(options.hardfork)?;
    let mut chain = connect(&node, keys).await?;
    let runner = prepare(&mut chain, scenario, keys).await?;
    if runner.suite().dvp != in_process.suite().dvp {
        return Err(ScenarioError::Disagreement("the suite deployed at other addresses on Anvil".into()));
    }
    let provider = chain.provider();
    progress("anvil (batched): signing the transactions");
    let signed = sign(provider, keys, txs).await?;
    progress("anvil (batched): sending");
    let seconds = send(provider, txs, &signed, options.batch_size).await?;
    progress("anvil (batched): reading receipts");
    let gas = receipts_gas(provider, txs, &signed.hashes, options.batch_size).await?;
    drop(node);
    Ok(EngineResult {
        engine: "anvil-batched".into(),
        description: format!(
            "Anvil, pre-signed raw transactions in JSON-RPC batches of {}, in nonce order",
            options.batch_size
        ),
        settlements: options.trades,
        transactions: txs.len() as u64,
        seconds,
        gas_used: gas,
        refund_gap: 0,
    })
}

/// The recorded transactions signed for Anvil, in order: encoded, and their hashes.
struct Signed {
    raw: Vec<Bytes>,
    hashes: Vec<B256>,
}

/// The node's terms for signing: its chain id, base fee (none before London) and priority fee.
struct Pricing {
    chain_id: u64,
    base_fee: Option<u64>,
    priority: u128,
}

impl Pricing {
    /// Reads the terms from the node.
    async fn read(provider: &DynProvider) -> Result<Self, ScenarioError> {
        let chain_id = provider.get_chain_id().await.map_err(rpc)?;
        let block =
            provider.get_block_by_number(BlockNumberOrTag::Latest).await.map_err(rpc)?.ok_or_else(|| {
                ScenarioError::Chain(DeployerError::Answer("the node returned no latest block".into()))
            })?;
        let priority = provider.get_max_priority_fee_per_gas().await.map_err(rpc)?;
        Ok(Self { chain_id, base_fee: block.header.base_fee_per_gas, priority })
    }

    /// `tx` signed by `key` with `nonce`, paying `fee` wei per gas above the priority fee. Before
    /// London (no base fee) the node orders by gas price: a legacy transaction.
    fn sign(&self, key: &PrivateKeySigner, tx: &RawTx, nonce: u64, fee: u128) -> Result<TxEnvelope, DeployerError> {
        let sign_error = |source| DeployerError::Signing { what: "cannot sign a benchmark transaction".into(), source };
        let to = tx.to.map_or(TxKind::Create, TxKind::Call);
        let Some(base) = self.base_fee else {
            let mut unsigned = TxLegacy {
                chain_id: Some(self.chain_id),
                nonce,
                gas_price: self.priority + fee,
                gas_limit: 1_000_000,
                to,
                value: U256::ZERO,
                input: tx.data.clone(),
            };
            let signature = key.sign_transaction_sync(&mut unsigned).map_err(sign_error)?;
            return Ok(TxEnvelope::from(unsigned.into_signed(signature)));
        };
        let mut unsigned = TxEip1559 {
            chain_id: self.chain_id,
            nonce,
            gas_limit: 1_000_000,
            max_fee_per_gas: u128::from(base) + self.priority + fee,
            max_priority_fee_per_gas: self.priority + fee,
            to,
            value: U256::ZERO,
            access_list: Default::default(),
            input: tx.data.clone(),
        };
        let signature = key.sign_transaction_sync(&mut unsigned).map_err(sign_error)?;
        Ok(TxEnvelope::from(unsigned.into_signed(signature)))
    }
}

/// Signs every transaction before timing, in order, each sender's nonces counted from the node.
///
/// A payment follows its trade's creation and an approval its payment, each sent by another account,
/// and a buyer may pay with cash it received in an earlier settlement. Anvil handles the requests of
/// a batch concurrently and orders the transactions of a block by fee (its priority is the maximum
/// fee per gas). So fees fall by one wei per transaction (a block keeps the sending order), and each
/// batch is mined as one block by an `evm_mine` once it has arrived. Gas used depends on neither.
/// Each block takes the in-process timestamp of its first transaction and a batch ends where the
/// runner moved the clock, so Anvil's clock follows the runner's (a time-dependent path, like the
/// deposit token's daily issuance window, takes the same branch).
async fn sign(provider: &DynProvider, keys: &[PrivateKeySigner], txs: &[RawTx]) -> Result<Signed, ScenarioError> {
    let pricing = Pricing::read(provider).await?;
    let signers: HashMap<Address, &PrivateKeySigner> = keys.iter().map(|k| (k.address(), k)).collect();
    let mut nonces: HashMap<Address, u64> = HashMap::new();
    let mut signed = Signed { raw: Vec::with_capacity(txs.len()), hashes: Vec::with_capacity(txs.len()) };
    let count = txs.len() as u128;
    for (i, tx) in txs.iter().enumerate() {
        let nonce = match nonces.get(&tx.from) {
            Some(n) => *n,
            None => provider.get_transaction_count(tx.from).pending().await.map_err(rpc)?,
        };
        nonces.insert(tx.from, nonce + 1);
        let key = signers.get(&tx.from).ok_or(DeployerError::NoKey(tx.from))?;
        let envelope = pricing.sign(key, tx, nonce, count - i as u128)?;
        signed.hashes.push(*envelope.tx_hash());
        signed.raw.push(envelope.encoded_2718().into());
    }
    Ok(signed)
}

/// The batches of `txs`: at most `batch_size` transactions each, a batch ending where the runner
/// moved the clock (the next transaction's block number skips).
fn batches(txs: &[RawTx], batch_size: usize) -> Vec<Range<usize>> {
    let mut chunks: Vec<Range<usize>> = Vec::new();
    for (i, tx) in txs.iter().enumerate() {
        match chunks.last_mut() {
            Some(c) if c.len() < batch_size.max(1) && tx.block.0 == txs[i - 1].block.0 + 1 => c.end = i + 1,
            _ => chunks.push(i..i + 1),
        }
    }
    chunks
}

/// The timed part: sends the signed transactions batch by batch, automine off, and mines until the
/// last one is in; returns the seconds it took.
async fn send(provider: &DynProvider, txs: &[RawTx], signed: &Signed, batch_size: usize) -> Result<f64, ScenarioError> {
    let chunks = batches(txs, batch_size);
    set_automine(provider, false).await?;
    let timed = Instant::now();
    for chunk in chunks {
        let timestamp = txs[chunk.start].block.1;
        send_batch(provider, &signed.raw[chunk], timestamp).await?;
    }
    let last = *signed.hashes.last().ok_or_else(|| ScenarioError::Setup("the benchmark has no transactions".into()))?;
    mine_until_mined(provider, last).await?;
    let seconds = timed.elapsed().as_secs_f64();
    set_automine(provider, true).await?;
    Ok(seconds)
}

/// Turns Anvil's automine on or off.
async fn set_automine(provider: &DynProvider, on: bool) -> Result<(), ScenarioError> {
    provider.anvil_set_auto_mine(on).await.map_err(rpc)
}

/// Sends `raw` in one JSON-RPC batch of `eth_sendRawTransaction` and mines it as one block at
/// `timestamp` once every transaction has arrived.
async fn send_batch(provider: &DynProvider, raw: &[Bytes], timestamp: u64) -> Result<(), ScenarioError> {
    let mut batch = BatchRequest::new(provider.client());
    let mut waiters = Vec::with_capacity(raw.len());
    for tx in raw {
        waiters.push(batch.add_call::<_, B256>("eth_sendRawTransaction", &(tx,)).map_err(rpc)?);
    }
    batch.send().await.map_err(rpc)?;
    for waiter in waiters {
        waiter.await.map_err(rpc)?;
    }
    provider.evm_mine(Some(MineOptions::Options { timestamp: Some(timestamp), blocks: None })).await.map_err(rpc)?;
    Ok(())
}

/// Mines until `last` has a receipt: a batch over the block gas limit leaves its tail pending.
async fn mine_until_mined(provider: &DynProvider, last: B256) -> Result<(), ScenarioError> {
    let deadline = Instant::now() + Duration::from_secs(600);
    while provider.get_transaction_receipt(last).await.map_err(rpc)?.is_none() {
        if Instant::now() > deadline {
            return Err(ScenarioError::Disagreement(format!("anvil (batched): {last} was not mined in 600 s")));
        }
        provider.evm_mine(None).await.map_err(rpc)?;
    }
    Ok(())
}

/// Untimed: reads every receipt in batches of `batch_size`, checks that it succeeded and returns the
/// gas they used.
async fn receipts_gas(
    provider: &DynProvider,
    txs: &[RawTx],
    hashes: &[B256],
    batch_size: usize,
) -> Result<u64, ScenarioError> {
    let mut gas = 0;
    for chunk in hashes.chunks(batch_size.max(1)) {
        let mut batch = BatchRequest::new(provider.client());
        let mut waiters = Vec::with_capacity(chunk.len());
        for hash in chunk {
            waiters.push(
                batch.add_call::<_, Option<TransactionReceipt>>("eth_getTransactionReceipt", &(hash,)).map_err(rpc)?,
            );
        }
        batch.send().await.map_err(rpc)?;
        for (hash, waiter) in chunk.iter().zip(waiters) {
            let receipt = waiter
                .await
                .map_err(rpc)?
                .ok_or_else(|| ScenarioError::Disagreement(format!("anvil (batched): {hash} was not mined")))?;
            if !receipt.status() {
                return Err(reverted(txs, hashes, hash, &receipt));
            }
            gas += receipt.gas_used;
        }
    }
    Ok(gas)
}

/// The error for a transaction that reverted on Anvil: its index, hash, selector and place in its
/// block.
fn reverted(txs: &[RawTx], hashes: &[B256], hash: &B256, receipt: &TransactionReceipt) -> ScenarioError {
    let index = hashes.iter().position(|h| h == hash).unwrap_or_default();
    let selector = txs.get(index).map(|t| alloy::primitives::hex::encode(&t.data[..4])).unwrap_or_default();
    ScenarioError::Disagreement(format!(
        "anvil (batched): transaction {index} ({hash}, selector 0x{selector}, block {:?}, index {:?}) reverted",
        receipt.block_number, receipt.transaction_index
    ))
}

/// Anvil one at a time, over the transactions of the workload's first `options.single_trades`
/// settlements (every settlement of a flow is the same number of transactions, out of `total`).
pub(super) async fn single(
    options: &BenchOptions,
    scenario: &Scenario,
    keys: &[PrivateKeySigner],
    total: usize,
    progress: &mut impl FnMut(&str),
) -> Result<EngineResult, ScenarioError> {
    let settlements = options.single_trades.clamp(1, options.trades.max(1));
    let wanted = (total * settlements / options.trades.max(1)) as u64;
    let node = spawn_anvil(options.hardfork)?;
    let mut chain = connect(&node, keys).await?;
    let mut runner = prepare(&mut chain, scenario, keys).await?;
    progress(&format!("anvil (one at a time): settling the first {settlements}"));
    let timed = Instant::now();
    let (gas, count, failed) = timeline(&mut runner, &mut chain, scenario, wanted).await?;
    let seconds = timed.elapsed().as_secs_f64();
    if failed > 0 {
        return Err(ScenarioError::Disagreement(format!(
            "{failed} steps of the benchmark's workload did not run as generated on Anvil"
        )));
    }
    drop(node);
    Ok(EngineResult {
        engine: "anvil-single".into(),
        description: format!(
            "scenario runner on the JSON-RPC engine: estimate, send, poll for the receipt every {} ms, one by \
             one, over the first {settlements} settlements",
            RECEIPT_POLL.as_millis()
        ),
        settlements,
        transactions: count,
        seconds,
        gas_used: gas,
        refund_gap: 0,
    })
}
