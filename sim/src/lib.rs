//! kessai-sim: the in-process revm engine and the settlement flows that run on any engine.

pub mod demo;
pub mod evm;
pub mod scenario;

pub use evm::{RevmChain, RevmOptions};
/// Hard fork identifiers for [`RevmOptions::spec`].
pub use revm::primitives::hardfork::SpecId;
