//! The engine trait: the few operations the plan, scenarios and the back office's reads of the past
//! (logs with their positions, blocks, state at a block) need from a chain.
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

/// A log with its position in the chain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LocatedLog {
    /// Block number.
    pub block: u64,
    /// Index of the log within its block.
    pub log_index: u64,
    /// The transaction that emitted it.
    pub tx_hash: B256,
    /// The hash of its block (which chain the log is on).
    pub block_hash: B256,
    /// The log.
    pub log: Log,
}

/// A block's identity: its number, its hash and its parent's hash.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BlockRef {
    /// Block number.
    pub number: u64,
    /// Its hash.
    pub hash: B256,
    /// Its parent's hash.
    pub parent_hash: B256,
}

/// A chain that kessai can deploy to, drive and read the history of (the back office's event stream
/// and holder register: [`crate::events`]).
///
/// Every future is `Send`: a generic caller's future (the plan, a scenario, an event stream) is
/// `Send` whenever the engine is, as the JSON-RPC engine is, so it can run on a multi-threaded
/// runtime. The in-process engine is bound to its thread (revm's EVM is) and answers at once with a
/// ready future.
pub trait Chain {
    /// The chain id.
    fn chain_id(&mut self) -> impl Future<Output = Result<u64, DeployerError>> + Send;

    /// Executes `tx` and waits until it is mined. A transaction that would revert is not sent:
    /// the result is [`DeployerError::Revert`] with the decoded error.
    fn send(&mut self, tx: Tx) -> impl Future<Output = Result<Receipt, DeployerError>> + Send;

    /// Executes a read-only call against the latest state.
    fn call(
        &mut self,
        from: Address,
        to: Address,
        data: Bytes,
    ) -> impl Future<Output = Result<Bytes, DeployerError>> + Send;

    /// Executes a read-only call against the state at the end of block `block`. An engine that keeps
    /// only the latest state refuses an older block ([`DeployerError::PastStateUnavailable`]); a node
    /// that pruned it answers with its error.
    fn call_at(
        &mut self,
        block: u64,
        to: Address,
        data: Bytes,
    ) -> impl Future<Output = Result<Bytes, DeployerError>> + Send;

    /// The latest block number.
    fn head(&mut self) -> impl Future<Output = Result<u64, DeployerError>> + Send;

    /// The latest block's timestamp.
    fn timestamp(&mut self) -> impl Future<Output = Result<u64, DeployerError>> + Send;

    /// The timestamp of block `block`.
    fn timestamp_at(&mut self, block: u64) -> impl Future<Output = Result<u64, DeployerError>> + Send;

    /// The block at height `block` on the chain as it is now; `None` when the chain is shorter.
    fn block_ref(&mut self, block: u64) -> impl Future<Output = Result<Option<BlockRef>, DeployerError>> + Send;

    /// Moves the chain's clock forward by `seconds` (dev chains only).
    fn advance_time(&mut self, seconds: u64) -> impl Future<Output = Result<(), DeployerError>> + Send;

    /// Logs emitted by any of `addresses` in blocks `from_block..=to_block` (`None`: up to the latest
    /// block), in chain order, each with its position.
    fn logs(
        &mut self,
        addresses: &[Address],
        from_block: u64,
        to_block: Option<u64>,
    ) -> impl Future<Output = Result<Vec<LocatedLog>, DeployerError>> + Send;

    /// Runtime code at `address`.
    fn code(&mut self, address: Address) -> impl Future<Output = Result<Bytes, DeployerError>> + Send;

    /// Sends a typed `sol!` call.
    fn send_call<C: SolCall>(
        &mut self,
        from: Address,
        to: Address,
        call: &C,
    ) -> impl Future<Output = Result<Receipt, DeployerError>> + Send {
        self.send(Tx { from, to: Some(to), data: call.abi_encode().into() })
    }

    /// Performs a typed `sol!` read-only call and decodes its return value.
    fn read<C: SolCall>(
        &mut self,
        to: Address,
        call: &C,
    ) -> impl Future<Output = Result<C::Return, DeployerError>> + Send {
        let out = self.call(Address::ZERO, to, call.abi_encode().into());
        async move { decode::<C>(&out.await?) }
    }

    /// A typed `sol!` read-only call against the state at the end of block `block`.
    fn read_at<C: SolCall>(
        &mut self,
        block: u64,
        to: Address,
        call: &C,
    ) -> impl Future<Output = Result<C::Return, DeployerError>> + Send {
        let out = self.call_at(block, to, call.abi_encode().into());
        async move { decode::<C>(&out.await?) }
    }
}

/// Decodes the return value of the call `C`.
fn decode<C: SolCall>(out: &[u8]) -> Result<C::Return, DeployerError> {
    C::abi_decode_returns(out).map_err(|source| DeployerError::Decode { what: C::SIGNATURE.into(), source })
}

/// Converts revert data into the deployer error.
pub fn revert(data: &[u8]) -> DeployerError {
    DeployerError::Revert(RevertError::decode(data))
}
