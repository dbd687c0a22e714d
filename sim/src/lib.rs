//! kessai-sim: the in-process revm engine and the settlement flows that run on any engine.

pub mod bench;
pub mod demo;
pub mod evm;
pub mod parallel;
pub mod property;
pub mod report;
pub mod rng;
pub mod scenario;
pub mod workload;
pub mod xchain;

pub use evm::{RevmChain, RevmOptions};
// Amounts in JSON reports as decimal strings, written the way the deployer's event log writes them:
// `#[serde(with = "crate::decimal")]`.
use kessai_deployer::events::decimal;
/// Hard fork identifiers for [`RevmOptions::spec`].
pub use revm::primitives::hardfork::SpecId;
