//! End-to-end tests across crates: one binary, a module per concern.

mod artifacts;
mod bond;
mod cli;
mod demo_parity;
mod deposit;
mod dvp;
mod dvp_lifecycle;
mod gas;
mod offering;
mod security;
mod support;
