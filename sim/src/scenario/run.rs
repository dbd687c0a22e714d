//! The runner: replays a [`Scenario`] on any engine implementing [`Chain`] — the in-process revm
//! engine or a real node through the deployer's JSON-RPC engine — and records what every step did.
//!
//! The runner fixes the scenario's start on the chain's clock, deploys the suite with the
//! deployer's plan, gives each party one of the engine's keys (suite roles first), and executes each
//! step through [`kessai_deployer::ops::Suite`]. A step's outcome holds its result (success, or the
//! decoded error's name), gas, decoded events, the watched holders' positions after it, and the
//! checks of its expectations. A failed expectation is a result, not an error: [`RunReport::passed`]
//! says whether the run met every one.
//!
//! Nothing in a [`RunReport`] depends on the engine: no transaction hashes, block numbers or
//! timestamps. Two engines that agree produce equal reports, which is how the tests compare them.
//!
//! Per-step cost is one transaction per on-chain action (two for a registration in both registries,
//! one per allotment for an offering), plus four reads per watched holder and the reads the step's
//! expectations need. A workload that watches nobody and expects nothing costs only its transactions.

use super::{
    error::ScenarioError,
    events::{self, EventRecord, Names},
    model::{
        Action, Advance, BalanceExpect, DAY, Expect, Holder, Origin, PartyId, Registry, Role, Scenario, Step,
        SupplyExpect, TradeId, TradeState,
    },
};
use alloy::{
    primitives::{Address, B256, Bytes, U256, keccak256},
    signers::local::PrivateKeySigner,
};
use kessai_deployer::{
    DeployerError,
    chain::{Chain, Receipt},
    ops::{BenefitProgramme, ForcedTransfer, Position, Registration, Suite, Trade, TradeSignatures},
    plan::{self, BondSpec, Instrument, SuiteAccounts, SuiteSpec, labels},
    signing::{self, Instruction},
};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

mod describe;
mod execute;
mod outcome;
mod runner;
#[cfg(test)]
mod tests;

pub use describe::*;
pub use outcome::*;
pub use runner::*;
