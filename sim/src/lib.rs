//! kessai-sim: the in-process revm engine and the settlement flows that run on any engine.

pub mod demo;
pub mod evm;

pub use evm::{RevmChain, RevmOptions};
