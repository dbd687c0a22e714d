//! kessai-deployer: builds the contracts (with the `solc` feature), describes the suite's deployment
//! as data (the plan) and executes it on any engine implementing [`chain::Chain`]; this crate
//! provides the JSON-RPC engine.

pub mod address;
pub mod amount;
pub mod anvil;
pub mod build;
pub mod chain;
pub mod config;
pub mod error;
pub mod events;
pub mod hardhat;
pub mod journal;
pub mod keys;
pub mod manifest;
pub mod ops;
pub mod plan;
pub mod preflight;
pub mod profile;
pub mod rpc;
pub mod signing;
pub mod tools;
pub mod transport;
pub mod verify;
pub mod xchain;

pub use error::{AddressError, DeployerError};
