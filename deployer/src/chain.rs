//! The engine trait: the few operations the plan and scenarios need from a chain.
//!
//! Two engines implement it: [`crate::rpc::RpcChain`] (any EVM node over JSON-RPC, Anvil included)
//! and the in-process revm engine in `kessai-sim`. Both have the same semantics: a transaction whose
//! execution would revert is refused before it is mined and returns the decoded revert, so a failed
//! step never moves anything and never costs gas on either engine.

use crate::error::DeployerError;
use alloy::{
    primitives::{Address, B256, Bytes, Log},
    sol_types::SolCall,
};
use kessai_bindings::RevertError;

/// The time every local chain kessai starts begins at: 2026-01-01T00:00:00Z (unix seconds).
///
/// The in-process engine's genesis block and the genesis of every Anvil or Hardhat node kessai spawns
/// carry this timestamp, so a demo, a scenario without a `start`, a benchmark or a gas snapshot gives
/// the same terms, signatures, calldata and gas on any day the command runs. Only a chain kessai does
/// not start (a real network given with `--rpc-url`) runs on its own, wall-clock time.
pub const GENESIS_TIMESTAMP: u64 = 1_767_225_600;

/// A transaction to send: a call (`to` set) or a contract creation (`to` empty).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tx {
    /// Sender; the engine must hold its key (or control the account).
    pub from: Address,
    /// Callee, or `None` to create a contract from `data`.
    pub to: Option<Address>,
    /// Calldata, or creation code with constructor arguments appended.
    pub data: Bytes,
}

/// What a mined transaction left behind.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Receipt {
    /// Transaction hash.
    pub tx_hash: B256,
    /// Block it was mined in.
    pub block_number: u64,
    /// Gas used by the transaction.
    pub gas_used: u64,
    /// Address of the created contract, for creations.
    pub contract_address: Option<Address>,
    /// Logs emitted, in order.
    pub logs: Vec<Log>,
}

/// A chain that kessai can deploy to and drive.
#[allow(async_fn_in_trait)]
pub trait Chain {
    /// The chain id.
    async fn chain_id(&mut self) -> Result<u64, DeployerError>;

    /// Executes `tx` and waits until it is mined. A transaction that would revert is not sent:
    /// the result is [`DeployerError::Revert`] with the decoded error.
    async fn send(&mut self, tx: Tx) -> Result<Receipt, DeployerError>;

    /// Executes a read-only call against the latest state.
    async fn call(&mut self, from: Address, to: Address, data: Bytes) -> Result<Bytes, DeployerError>;

    /// The latest block's timestamp.
    async fn timestamp(&mut self) -> Result<u64, DeployerError>;

    /// Moves the chain's clock forward by `seconds` (dev chains only).
    async fn advance_time(&mut self, seconds: u64) -> Result<(), DeployerError>;

    /// Logs emitted by `address` in blocks `from_block..=latest`, in chain order.
    async fn logs(&mut self, address: Address, from_block: u64) -> Result<Vec<Log>, DeployerError>;

    /// Runtime code at `address`.
    async fn code(&mut self, address: Address) -> Result<Bytes, DeployerError>;

    /// Sends a typed `sol!` call.
    async fn send_call<C: SolCall>(&mut self, from: Address, to: Address, call: &C) -> Result<Receipt, DeployerError> {
        self.send(Tx { from, to: Some(to), data: call.abi_encode().into() }).await
    }

    /// Performs a typed `sol!` read-only call and decodes its return value.
    async fn read<C: SolCall>(&mut self, to: Address, call: &C) -> Result<C::Return, DeployerError> {
        let out = self.call(Address::ZERO, to, call.abi_encode().into()).await?;
        C::abi_decode_returns(&out).map_err(|source| DeployerError::Decode { what: C::SIGNATURE.into(), source })
    }
}

/// Converts revert data into the deployer error.
pub fn revert(data: &[u8]) -> DeployerError {
    DeployerError::Revert(RevertError::decode(data))
}
