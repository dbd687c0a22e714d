//! End-to-end tests across crates: one binary, a module per concern.

mod artifacts;
mod bond;
mod chains;
mod cli;
mod cli_trade;
mod demo_parity;
mod deploy;
mod deposit;
mod deposit_holds;
mod dvp;
mod dvp_lifecycle;
mod dvp_property;
mod gas;
mod offering;
mod operate;
mod review;
mod review_property;
mod scenarios;
mod security;
mod security_codes;
mod security_events;
mod security_registry;
mod sim_gen;
mod sim_property;
mod sim_report;
mod support;
