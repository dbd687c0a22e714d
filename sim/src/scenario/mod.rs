//! Settlement scenarios written by people: the model ([`model`]), the TOML file format and its
//! parser ([`parse`]) with its step table ([`steps`]), and the runner that replays a scenario on any engine ([`run`]).
//!
//! ```no_run
//! # async fn example() -> Result<(), kessai_sim::scenario::ScenarioError> {
//! use kessai_deployer::anvil;
//! use kessai_sim::{RevmChain, RevmOptions, scenario};
//!
//! let scenario = scenario::load("scenarios/dcjpy_pilot.toml")?;
//! let mut chain = RevmChain::new(&RevmOptions::default(), &anvil::dev_accounts());
//! let report = scenario::run::run(&mut chain, &scenario, &anvil::dev_signers(), |_| {}).await?;
//! assert!(report.passed());
//! # Ok(())
//! # }
//! ```

pub mod error;
pub mod events;
pub mod model;
pub mod parse;
pub mod run;
pub mod steps;
pub mod write;

pub use error::{ParseError, ScenarioError};
pub use model::Scenario;
pub use run::{RunReport, StepOutcome};

use std::path::Path;

/// Reads and parses a scenario file; parse errors carry the file's path.
pub fn load(path: impl AsRef<Path>) -> Result<Scenario, ScenarioError> {
    let path = path.as_ref();
    let src =
        std::fs::read_to_string(path).map_err(|source| ScenarioError::Read { path: path.to_path_buf(), source })?;
    parse::parse_from(&src, Some(path)).map_err(|mut e| {
        e.path = Some(path.to_path_buf());
        ScenarioError::Parse(e)
    })
}
