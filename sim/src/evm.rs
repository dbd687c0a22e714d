//! The in-process engine: a revm chain in memory implementing the deployer's [`Chain`] trait, so the
//! same plan and the same scenarios run here and on a real node with the same results and gas.
//!
//! Each transaction is mined in a block of its own (as Anvil's automine does). A transaction that
//! reverts is refused before it changes anything, exactly like the JSON-RPC engine, which estimates
//! first and never sends a reverting transaction.
//!
//! The engine keeps its history as a node does, so the back office's event stream and holder register
//! run on it too: every block it mined (number, timestamp, a hash chained to its parent's) and every
//! log with its position. It keeps only the latest state: a call at an older block is refused with
//! [`DeployerError::PastStateUnavailable`], never answered from the wrong state.

use alloy::primitives::{Address, B256, Bytes, U256, keccak256};
use kessai_deployer::{
    DeployerError,
    chain::{BlockRef, Chain, GENESIS_TIMESTAMP, LocatedLog, Receipt, Tx, revert},
    plan,
    profile::Hardfork,
};
use revm::{
    Context, DatabaseRef, ExecuteCommitEvm, ExecuteEvm, MainBuilder, MainContext,
    context::{BlockEnv, TxEnv},
    context_interface::result::{ExecutionResult, Output},
    database::{CacheDB, EmptyDB},
    handler::{MainnetContext, MainnetEvm},
    primitives::{TxKind, hardfork::SpecId},
    state::{AccountInfo, Bytecode},
};
use std::future::{Future, ready};

/// Gas limit of each block, and of each transaction the engine executes.
pub const BLOCK_GAS_LIMIT: u64 = 30_000_000;

/// Settings of an in-process chain.
#[derive(Clone, Debug)]
pub struct RevmOptions {
    /// The hard fork to execute (match the node you compare with).
    pub spec: SpecId,
    /// Chain id.
    pub chain_id: u64,
    /// Timestamp of the genesis block ([`GENESIS_TIMESTAMP`] by default, never the wall clock).
    pub genesis_timestamp: u64,
    /// Seconds each transaction's block comes after the last: 1 by default (each transaction mined
    /// alone, as on an Anvil whose block timestamps are pinned a second apart); 0 lets a dense
    /// market's transactions share their second, as many transactions share a block on a real chain.
    pub tx_seconds: u64,
}

impl Default for RevmOptions {
    fn default() -> Self {
        Self { spec: SpecId::CANCUN, chain_id: 31337, genesis_timestamp: GENESIS_TIMESTAMP, tx_seconds: 1 }
    }
}

impl RevmOptions {
    /// `hardfork`'s rules on chain `chain_id`, from the fixed genesis time.
    pub fn new(hardfork: Hardfork, chain_id: u64) -> Self {
        Self { spec: spec_id(hardfork), chain_id, ..Self::default() }
    }
}

/// The EVM of the in-process engine and of the benchmarks' raw revm: `db` under `spec`'s rules,
/// on chain `chain_id`.
pub(crate) fn build_evm(
    db: CacheDB<EmptyDB>,
    spec: SpecId,
    chain_id: u64,
) -> MainnetEvm<MainnetContext<CacheDB<EmptyDB>>> {
    Context::mainnet()
        .with_db(db)
        .modify_cfg_chained(|cfg| {
            cfg.set_spec_and_mainnet_gas_params(spec);
            cfg.chain_id = chain_id;
        })
        .build_mainnet()
}

/// A transaction's revm environment, gas-free, with the block's whole gas limit.
fn tx_env(from: Address, to: Option<Address>, data: Bytes, nonce: u64, chain_id: u64) -> TxEnv {
    TxEnv {
        caller: from,
        kind: to.map_or(TxKind::Create, TxKind::Call),
        data,
        nonce,
        gas_limit: BLOCK_GAS_LIMIT,
        gas_price: 0,
        chain_id: Some(chain_id),
        ..Default::default()
    }
}

/// The environments of `txs` (sender, recipient or `None` for a creation, calldata) sent in order
/// on chain `chain_id` from the state `snapshot`: each sender's nonce counted on from its nonce there.
pub(crate) fn tx_envs<'a>(
    snapshot: &CacheDB<EmptyDB>,
    txs: impl IntoIterator<Item = (Address, Option<Address>, &'a Bytes)>,
    chain_id: u64,
) -> Vec<TxEnv> {
    let mut nonces = std::collections::HashMap::<Address, u64>::new();
    let mut envs = Vec::new();
    for (from, to, data) in txs {
        // The state is all in memory: reading it cannot fail (the error type is `Infallible`).
        let Ok(account) = snapshot.basic_ref(from);
        let nonce = *nonces.entry(from).or_insert_with(|| account.map_or(0, |a| a.nonce));
        nonces.insert(from, nonce + 1);
        envs.push(tx_env(from, to, data.clone(), nonce, chain_id));
    }
    envs
}

/// revm's identifier of `hardfork`'s rules.
pub fn spec_id(hardfork: Hardfork) -> SpecId {
    match hardfork {
        Hardfork::Petersburg => SpecId::PETERSBURG,
        Hardfork::Istanbul => SpecId::ISTANBUL,
        Hardfork::Berlin => SpecId::BERLIN,
        Hardfork::London => SpecId::LONDON,
        Hardfork::Paris => SpecId::MERGE,
        Hardfork::Shanghai => SpecId::SHANGHAI,
        Hardfork::Cancun => SpecId::CANCUN,
    }
}

/// A block the engine mined: its hash and timestamp (its number is its index, its parent the block
/// before it).
#[derive(Clone, Copy, Debug)]
struct Mined {
    hash: B256,
    timestamp: u64,
}

/// An in-memory chain executed by revm.
pub struct RevmChain {
    evm: MainnetEvm<MainnetContext<CacheDB<EmptyDB>>>,
    chain_id: u64,
    block_number: u64,
    timestamp: u64,
    /// Seconds a transaction's block moves the clock ([`RevmOptions::tx_seconds`]).
    tx_seconds: u64,
    /// Every block mined, genesis first: `blocks[n]` is block `n`.
    blocks: Vec<Mined>,
    /// Every log of every mined transaction, in chain order.
    logs: Vec<LocatedLog>,
}

impl std::fmt::Debug for RevmChain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RevmChain")
            .field("chain_id", &self.chain_id)
            .field("block_number", &self.block_number)
            .field("timestamp", &self.timestamp)
            .finish_non_exhaustive()
    }
}

impl RevmChain {
    /// A fresh chain where `funded` accounts hold 10,000 ether each.
    pub fn new(options: &RevmOptions, funded: &[Address]) -> Self {
        let mut db = CacheDB::new(EmptyDB::default());
        let balance = U256::from(10_000u64) * U256::from(10u64).pow(U256::from(18u64));
        for account in funded {
            db.insert_account_info(*account, AccountInfo { balance, ..Default::default() });
        }
        // The deterministic deployment proxy at genesis, as on Anvil: the plan creates every contract
        // through it, so both engines give the same addresses.
        let proxy = Bytecode::new_raw(Bytes::from_static(&plan::DETERMINISTIC_DEPLOYER_CODE));
        db.insert_account_info(plan::DETERMINISTIC_DEPLOYER, AccountInfo::default().with_code(proxy));
        let chain_id = options.chain_id;
        let evm = build_evm(db, options.spec, chain_id);
        let mut chain = Self {
            evm,
            chain_id,
            block_number: 0,
            timestamp: options.genesis_timestamp,
            tx_seconds: options.tx_seconds,
            blocks: Vec::new(),
            logs: Vec::new(),
        };
        chain.set_block();
        chain.mine(None);
        chain
    }

    /// The chain's state; a clone is a snapshot another EVM can continue from.
    pub fn db(&self) -> &CacheDB<EmptyDB> {
        &self.evm.ctx.journaled_state.database
    }

    /// The latest block's number and timestamp.
    pub fn latest(&self) -> (u64, u64) {
        (self.block_number, self.timestamp)
    }

    /// The chain id.
    pub fn id(&self) -> u64 {
        self.chain_id
    }

    fn set_block(&mut self) {
        let block = BlockEnv {
            number: U256::from(self.block_number),
            timestamp: U256::from(self.timestamp),
            gas_limit: BLOCK_GAS_LIMIT,
            basefee: 0,
            prevrandao: Some(B256::ZERO),
            ..Default::default()
        };
        self.evm.set_block(block);
    }

    /// Records the current block (`block_number` at `timestamp`) as mined, with the transaction it
    /// holds: its hash commits to its parent's, its number, its timestamp and that transaction.
    fn mine(&mut self, tx_hash: Option<B256>) {
        let parent = self.blocks.last().map_or(B256::ZERO, |b| b.hash);
        let mut preimage = [0u8; 80];
        preimage[..32].copy_from_slice(parent.as_slice());
        preimage[32..40].copy_from_slice(&self.block_number.to_be_bytes());
        preimage[40..48].copy_from_slice(&self.timestamp.to_be_bytes());
        preimage[48..].copy_from_slice(tx_hash.unwrap_or_default().as_slice());
        self.blocks.push(Mined { hash: keccak256(preimage), timestamp: self.timestamp });
    }

    /// The hash of the transaction `from` sends with `nonce`: unique on the chain, the same on every
    /// run.
    fn tx_hash(&self, from: Address, nonce: u64) -> B256 {
        let mut preimage = [0u8; 36];
        preimage[..20].copy_from_slice(from.as_slice());
        preimage[20..28].copy_from_slice(&nonce.to_be_bytes());
        preimage[28..].copy_from_slice(&self.chain_id.to_be_bytes());
        keccak256(preimage)
    }

    /// Block `block`, if the chain has it.
    fn mined(&self, block: u64) -> Option<&Mined> {
        usize::try_from(block).ok().and_then(|n| self.blocks.get(n))
    }

    fn account(&self, address: Address) -> Option<AccountInfo> {
        // The state is all in memory: reading it cannot fail (the error type is `Infallible`).
        let Ok(account) = self.evm.ctx.journaled_state.database.basic_ref(address);
        account
    }

    fn tx_env(&self, from: Address, to: Option<Address>, data: Bytes, nonce: u64) -> TxEnv {
        tx_env(from, to, data, nonce, self.chain_id)
    }

    /// Executes `tx` and commits it in a new block, returning the raw revm result (reverts included,
    /// uncommitted). This is the fast path the simulator and benchmarks use.
    pub fn execute(&mut self, tx: &Tx) -> Result<ExecutionResult, DeployerError> {
        self.execute_with_hash(tx).map(|(result, _)| result)
    }

    /// [`RevmChain::execute`], also returning the transaction's hash. A successful transaction's
    /// block and logs join the chain's history.
    fn execute_with_hash(&mut self, tx: &Tx) -> Result<(ExecutionResult, B256), DeployerError> {
        let nonce = self.account(tx.from).map_or(0, |a| a.nonce);
        self.block_number += 1;
        self.timestamp += self.tx_seconds;
        self.set_block();
        let env = self.tx_env(tx.from, tx.to, tx.data.clone(), nonce);
        let outcome = match self.evm.transact(env) {
            Ok(outcome) => outcome,
            Err(e) => {
                self.unmine();
                return Err(DeployerError::InProcess { what: "executing a transaction", source: Box::new(e) });
            }
        };
        let tx_hash = self.tx_hash(tx.from, nonce);
        if let ExecutionResult::Success { logs, .. } = &outcome.result {
            self.evm.commit(outcome.state);
            self.mine(Some(tx_hash));
            let (block, block_hash) = (self.block_number, self.blocks.last().map_or(B256::ZERO, |b| b.hash));
            self.logs.extend(logs.iter().enumerate().map(|(i, log)| LocatedLog {
                block,
                log_index: i as u64,
                tx_hash,
                block_hash,
                log: log.clone(),
            }));
        } else {
            // Nothing of a failed transaction is kept: the block is not produced.
            self.unmine();
        }
        Ok((outcome.result, tx_hash))
    }

    /// Steps back from the block a transaction that is not kept was executed in.
    fn unmine(&mut self) {
        self.block_number -= 1;
        self.timestamp -= self.tx_seconds;
        self.set_block();
    }
}

/// The engine's answers, at once: revm's EVM is bound to its thread (it is not `Send`), so each
/// request is served when it is made and the [`Chain`] methods return ready futures, which are.
impl RevmChain {
    /// [`Chain::send`] without a future.
    pub fn send_now(&mut self, tx: Tx) -> Result<Receipt, DeployerError> {
        let (result, tx_hash) = self.execute_with_hash(&tx)?;
        let ExecutionResult::Success { gas, logs, output, .. } = result else {
            return Err(match result {
                ExecutionResult::Revert { output, .. } => revert(&output),
                other => DeployerError::TxFailed { tx: format!("{other:?}"), gas_used: other.tx_gas_used() },
            });
        };
        let contract_address = match output {
            Output::Create(_, address) => address,
            Output::Call(_) => None,
        };
        Ok(Receipt { tx_hash, block_number: self.block_number, gas_used: gas.tx_gas_used(), contract_address, logs })
    }

    /// [`Chain::call`] without a future.
    fn call_now(&mut self, from: Address, to: Address, data: Bytes) -> Result<Bytes, DeployerError> {
        let nonce = self.account(from).map_or(0, |a| a.nonce);
        let env = self.tx_env(from, Some(to), data, nonce);
        let outcome = self
            .evm
            .transact(env)
            .map_err(|e| DeployerError::InProcess { what: "executing a call", source: Box::new(e) })?;
        match outcome.result {
            ExecutionResult::Success { output, .. } => Ok(output.into_data()),
            ExecutionResult::Revert { output, .. } => Err(revert(&output)),
            other => Err(DeployerError::TxFailed { tx: "eth_call".into(), gas_used: other.tx_gas_used() }),
        }
    }

    /// [`Chain::call_at`] without a future: the latest block only, the engine keeps no older state.
    fn call_at_now(&mut self, block: u64, to: Address, data: Bytes) -> Result<Bytes, DeployerError> {
        let head = self.block_number;
        if block > head {
            return Err(DeployerError::NotMined { block, head });
        }
        if block < head {
            return Err(DeployerError::PastStateUnavailable { block, head });
        }
        self.call_now(Address::ZERO, to, data)
    }

    /// [`Chain::block_ref`] without a future.
    fn block_ref_now(&self, block: u64) -> Option<BlockRef> {
        let parent_hash = block.checked_sub(1).and_then(|p| self.mined(p)).map_or(B256::ZERO, |p| p.hash);
        self.mined(block).map(|b| BlockRef { number: block, hash: b.hash, parent_hash })
    }

    /// [`Chain::advance_time`] without a future: mines an empty block `seconds` later.
    fn advance_time_now(&mut self, seconds: u64) {
        self.timestamp += seconds;
        self.block_number += 1;
        self.set_block();
        self.mine(None);
    }

    /// [`Chain::logs`] without a future.
    fn logs_now(&self, addresses: &[Address], from_block: u64, to_block: Option<u64>) -> Vec<LocatedLog> {
        let to_block = to_block.unwrap_or(u64::MAX);
        let first = self.logs.partition_point(|l| l.block < from_block);
        self.logs[first..]
            .iter()
            .take_while(|l| l.block <= to_block)
            .filter(|l| addresses.contains(&l.log.address))
            .cloned()
            .collect()
    }

    /// [`Chain::code`] without a future.
    fn code_now(&self, address: Address) -> Result<Bytes, DeployerError> {
        Ok(self.account(address).and_then(|a| a.code).map(|c| c.original_bytes()).unwrap_or_default())
    }
}

impl Chain for RevmChain {
    fn chain_id(&mut self) -> impl Future<Output = Result<u64, DeployerError>> + Send {
        ready(Ok(self.chain_id))
    }

    fn send(&mut self, tx: Tx) -> impl Future<Output = Result<Receipt, DeployerError>> + Send {
        ready(self.send_now(tx))
    }

    fn call(
        &mut self,
        from: Address,
        to: Address,
        data: Bytes,
    ) -> impl Future<Output = Result<Bytes, DeployerError>> + Send {
        ready(self.call_now(from, to, data))
    }

    fn call_at(
        &mut self,
        block: u64,
        to: Address,
        data: Bytes,
    ) -> impl Future<Output = Result<Bytes, DeployerError>> + Send {
        ready(self.call_at_now(block, to, data))
    }

    fn head(&mut self) -> impl Future<Output = Result<u64, DeployerError>> + Send {
        ready(Ok(self.block_number))
    }

    fn timestamp(&mut self) -> impl Future<Output = Result<u64, DeployerError>> + Send {
        ready(Ok(self.timestamp))
    }

    fn timestamp_at(&mut self, block: u64) -> impl Future<Output = Result<u64, DeployerError>> + Send {
        let head = self.block_number;
        ready(self.mined(block).map(|b| b.timestamp).ok_or(DeployerError::NotMined { block, head }))
    }

    fn block_ref(&mut self, block: u64) -> impl Future<Output = Result<Option<BlockRef>, DeployerError>> + Send {
        ready(Ok(self.block_ref_now(block)))
    }

    fn advance_time(&mut self, seconds: u64) -> impl Future<Output = Result<(), DeployerError>> + Send {
        self.advance_time_now(seconds);
        ready(Ok(()))
    }

    fn logs(
        &mut self,
        addresses: &[Address],
        from_block: u64,
        to_block: Option<u64>,
    ) -> impl Future<Output = Result<Vec<LocatedLog>, DeployerError>> + Send {
        ready(Ok(self.logs_now(addresses, from_block, to_block)))
    }

    fn code(&mut self, address: Address) -> impl Future<Output = Result<Bytes, DeployerError>> + Send {
        ready(self.code_now(address))
    }
}

#[cfg(test)]
mod tests;
