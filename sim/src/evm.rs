//! The in-process engine: a revm chain in memory implementing the deployer's [`Chain`] trait, so the
//! same plan and the same scenarios run here and on a real node with the same results and gas.
//!
//! Each transaction is mined in a block of its own (as Anvil's automine does). A transaction that
//! reverts is refused before it changes anything, exactly like the JSON-RPC engine, which estimates
//! first and never sends a reverting transaction.

use alloy::primitives::{Address, B256, Bytes, Log, U256, keccak256};
use kessai_deployer::{
    DeployerError,
    chain::{Chain, GENESIS_TIMESTAMP, Receipt, Tx, revert},
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
}

impl Default for RevmOptions {
    fn default() -> Self {
        Self { spec: SpecId::CANCUN, chain_id: 31337, genesis_timestamp: GENESIS_TIMESTAMP }
    }
}

impl RevmOptions {
    /// `hardfork`'s rules on chain `chain_id`, from the fixed genesis time.
    pub fn new(hardfork: Hardfork, chain_id: u64) -> Self {
        Self { spec: spec_id(hardfork), chain_id, ..Self::default() }
    }
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

/// An in-memory chain executed by revm.
pub struct RevmChain {
    evm: MainnetEvm<MainnetContext<CacheDB<EmptyDB>>>,
    chain_id: u64,
    block_number: u64,
    timestamp: u64,
    logs: Vec<(u64, Log)>,
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
        let (spec, chain_id) = (options.spec, options.chain_id);
        let evm = Context::mainnet()
            .with_db(db)
            .modify_cfg_chained(|cfg| {
                cfg.set_spec_and_mainnet_gas_params(spec);
                cfg.chain_id = chain_id;
            })
            .build_mainnet();
        let mut chain = Self { evm, chain_id, block_number: 0, timestamp: options.genesis_timestamp, logs: Vec::new() };
        chain.set_block();
        chain
    }

    /// The chain's state; a clone is a snapshot another EVM can continue from.
    pub fn db(&self) -> &CacheDB<EmptyDB> {
        &self.evm.ctx.journaled_state.database
    }

    /// The latest block's number and timestamp.
    pub fn head(&self) -> (u64, u64) {
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

    fn account(&self, address: Address) -> Result<Option<AccountInfo>, DeployerError> {
        self.evm
            .ctx
            .journaled_state
            .database
            .basic_ref(address)
            .map_err(|e| DeployerError::InProcess(format!("reading the state: {e}")))
    }

    fn tx_env(&self, from: Address, to: Option<Address>, data: Bytes, nonce: u64) -> TxEnv {
        TxEnv {
            caller: from,
            kind: to.map_or(TxKind::Create, TxKind::Call),
            data,
            nonce,
            gas_limit: BLOCK_GAS_LIMIT,
            gas_price: 0,
            chain_id: Some(self.chain_id),
            ..Default::default()
        }
    }

    /// Executes `tx` and commits it in a new block, returning the raw revm result (reverts included,
    /// uncommitted). This is the fast path the simulator and benchmarks use.
    pub fn execute(&mut self, tx: &Tx) -> Result<ExecutionResult, DeployerError> {
        self.execute_with_nonce(tx).map(|(result, _)| result)
    }

    /// [`RevmChain::execute`], also returning the sender's nonce the transaction used.
    fn execute_with_nonce(&mut self, tx: &Tx) -> Result<(ExecutionResult, u64), DeployerError> {
        let nonce = self.account(tx.from)?.map_or(0, |a| a.nonce);
        self.block_number += 1;
        self.timestamp += 1;
        self.set_block();
        let env = self.tx_env(tx.from, tx.to, tx.data.clone(), nonce);
        let outcome =
            self.evm.transact(env).map_err(|e| DeployerError::InProcess(format!("executing a transaction: {e:?}")))?;
        if outcome.result.is_success() {
            self.evm.commit(outcome.state);
        } else {
            // Nothing of a failed transaction is kept: the block is not produced.
            self.block_number -= 1;
            self.timestamp -= 1;
            self.set_block();
        }
        Ok((outcome.result, nonce))
    }
}

impl Chain for RevmChain {
    async fn chain_id(&mut self) -> Result<u64, DeployerError> {
        Ok(self.chain_id)
    }

    async fn send(&mut self, tx: Tx) -> Result<Receipt, DeployerError> {
        let (result, nonce) = self.execute_with_nonce(&tx)?;
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
        let mut preimage = Vec::with_capacity(36);
        preimage.extend_from_slice(tx.from.as_slice());
        preimage.extend_from_slice(&nonce.to_be_bytes());
        preimage.extend_from_slice(&self.chain_id.to_be_bytes());
        self.logs.extend(logs.iter().map(|l| (self.block_number, l.clone())));
        Ok(Receipt {
            tx_hash: keccak256(preimage),
            block_number: self.block_number,
            gas_used: gas.tx_gas_used(),
            contract_address,
            logs,
        })
    }

    async fn call(&mut self, from: Address, to: Address, data: Bytes) -> Result<Bytes, DeployerError> {
        let nonce = self.account(from)?.map_or(0, |a| a.nonce);
        let env = self.tx_env(from, Some(to), data, nonce);
        let outcome =
            self.evm.transact(env).map_err(|e| DeployerError::InProcess(format!("executing a transaction: {e:?}")))?;
        match outcome.result {
            ExecutionResult::Success { output, .. } => Ok(output.into_data()),
            ExecutionResult::Revert { output, .. } => Err(revert(&output)),
            other => Err(DeployerError::TxFailed { tx: "eth_call".into(), gas_used: other.tx_gas_used() }),
        }
    }

    async fn timestamp(&mut self) -> Result<u64, DeployerError> {
        Ok(self.timestamp)
    }

    async fn advance_time(&mut self, seconds: u64) -> Result<(), DeployerError> {
        self.timestamp += seconds;
        self.block_number += 1;
        self.set_block();
        Ok(())
    }

    async fn logs(&mut self, address: Address, from_block: u64) -> Result<Vec<Log>, DeployerError> {
        Ok(self
            .logs
            .iter()
            .filter(|(block, log)| *block >= from_block && log.address == address)
            .map(|(_, log)| log.clone())
            .collect())
    }

    async fn code(&mut self, address: Address) -> Result<Bytes, DeployerError> {
        Ok(self.account(address)?.and_then(|a| a.code).map(|c| c.original_bytes()).unwrap_or_default())
    }
}
