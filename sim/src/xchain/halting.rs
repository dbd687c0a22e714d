//! A chain that can be halted, for the simulator's faults: while halted it answers nothing and
//! makes no blocks, as a stopped node.

use kessai_bindings::alloy::primitives::{Address, Bytes};
use kessai_deployer::{
    DeployerError,
    chain::{BlockRef, Chain, LocatedLog, Receipt, Tx},
    xchain::relay::Submit,
};

/// A chain that can be halted: while halted it answers nothing (every call fails, as against a
/// stopped node) and makes no blocks.
#[derive(Debug)]
pub struct Halting<C> {
    /// The chain.
    pub chain: C,
    /// Whether it is halted.
    pub halted: bool,
}

/// The future of a call to `inner`, or — when the chain is halted and nothing was called — the
/// failure a stopped node gives.
async fn answer<T: Send>(
    inner: Option<impl Future<Output = Result<T, DeployerError>> + Send>,
) -> Result<T, DeployerError> {
    match inner {
        Some(call) => call.await,
        None => Err(DeployerError::Answer("the node does not answer: its chain is halted".into())),
    }
}

impl<C: Chain> Chain for Halting<C> {
    fn chain_id(&mut self) -> impl Future<Output = Result<u64, DeployerError>> + Send {
        answer((!self.halted).then(|| self.chain.chain_id()))
    }
    fn send(&mut self, tx: Tx) -> impl Future<Output = Result<Receipt, DeployerError>> + Send {
        answer((!self.halted).then(|| self.chain.send(tx)))
    }
    fn call(
        &mut self,
        from: Address,
        to: Address,
        data: Bytes,
    ) -> impl Future<Output = Result<Bytes, DeployerError>> + Send {
        answer((!self.halted).then(|| self.chain.call(from, to, data)))
    }
    fn call_at(
        &mut self,
        block: u64,
        to: Address,
        data: Bytes,
    ) -> impl Future<Output = Result<Bytes, DeployerError>> + Send {
        answer((!self.halted).then(|| self.chain.call_at(block, to, data)))
    }
    fn head(&mut self) -> impl Future<Output = Result<u64, DeployerError>> + Send {
        answer((!self.halted).then(|| self.chain.head()))
    }
    fn timestamp(&mut self) -> impl Future<Output = Result<u64, DeployerError>> + Send {
        answer((!self.halted).then(|| self.chain.timestamp()))
    }
    fn timestamp_at(&mut self, block: u64) -> impl Future<Output = Result<u64, DeployerError>> + Send {
        answer((!self.halted).then(|| self.chain.timestamp_at(block)))
    }
    fn block_ref(&mut self, block: u64) -> impl Future<Output = Result<Option<BlockRef>, DeployerError>> + Send {
        answer((!self.halted).then(|| self.chain.block_ref(block)))
    }
    fn advance_time(&mut self, seconds: u64) -> impl Future<Output = Result<(), DeployerError>> + Send {
        answer((!self.halted).then(|| self.chain.advance_time(seconds)))
    }
    fn logs(
        &mut self,
        addresses: &[Address],
        from_block: u64,
        to_block: Option<u64>,
    ) -> impl Future<Output = Result<Vec<LocatedLog>, DeployerError>> + Send {
        answer((!self.halted).then(|| self.chain.logs(addresses, from_block, to_block)))
    }
    fn code(&mut self, address: Address) -> impl Future<Output = Result<Bytes, DeployerError>> + Send {
        answer((!self.halted).then(|| self.chain.code(address)))
    }
}

/// The relayer sends one transaction after another on the in-process engine.
impl<C: Chain> Submit for Halting<C> {}
