//! What a run reports: step outcomes, checks, the final state and totals.

use super::*;

/// A holder's position in both tokens.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Balances {
    /// Security units (held units included).
    #[serde(with = "crate::decimal")]
    pub units: U256,
    /// Security units held for a trade.
    #[serde(with = "crate::decimal")]
    pub units_held: U256,
    /// Deposit tokens (held tokens included).
    #[serde(with = "crate::decimal")]
    pub cash: U256,
    /// Deposit tokens held for a trade.
    #[serde(with = "crate::decimal")]
    pub cash_held: U256,
}

impl From<Position> for Balances {
    fn from(p: Position) -> Self {
        Self { units: p.units, units_held: p.units_held, cash: p.cash, cash_held: p.cash_held }
    }
}

impl std::fmt::Display for Balances {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} units", self.units)?;
        if !self.units_held.is_zero() {
            write!(f, " ({} held)", self.units_held)?;
        }
        write!(f, ", ¥{}", self.cash)?;
        if !self.cash_held.is_zero() {
            write!(f, " ({} held)", self.cash_held)?;
        }
        Ok(())
    }
}

/// A named holder's position.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HolderState {
    /// The party's name, or `instrument`.
    pub holder: String,
    /// Its balances.
    pub balances: Balances,
}

/// How a step ended.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum StepResult {
    /// Every transaction of the step was mined.
    Ok,
    /// A transaction was refused; nothing of it happened.
    Failed {
        /// The decoded error's name (`DvPTradeExpired`), or `TxFailed` for a failure without
        /// revert data.
        error: String,
        /// Its arguments, rendered.
        args: Vec<String>,
        /// A sentence an operator can act on.
        message: String,
    },
}

impl StepResult {
    /// The error's name, if the step failed.
    pub fn error(&self) -> Option<&str> {
        match self {
            Self::Ok => None,
            Self::Failed { error, .. } => Some(error),
        }
    }
}

/// One expectation checked after a step.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Check {
    /// What was expected.
    pub expected: String,
    /// Whether it held.
    pub passed: bool,
    /// What was found when it did not hold.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub found: Option<String>,
}

/// What one step did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepOutcome {
    /// Position among all steps (setup included), from 0.
    pub index: usize,
    /// Setup, or the timeline step number and line.
    pub origin: Origin,
    /// The step kind (`create_trade`, …).
    pub kind: String,
    /// What the step did, in words.
    pub description: String,
    /// The author's note.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub note: Option<String>,
    /// Success or the decoded error.
    pub result: StepResult,
    /// Gas used by the step's mined transactions.
    pub gas_used: u64,
    /// Transactions mined.
    pub transactions: u32,
    /// Decoded events, in order.
    pub events: Vec<EventRecord>,
    /// Watched holders' positions after the step.
    pub state: Vec<HolderState>,
    /// The step's expectations (at least: success, or the expected error).
    pub checks: Vec<Check>,
}

impl StepOutcome {
    /// Whether every check of the step held.
    pub fn passed(&self) -> bool {
        self.checks.iter().all(|c| c.passed)
    }

    /// How the step went against its expectations.
    pub fn verdict(&self) -> Verdict {
        match (&self.result, self.passed()) {
            (_, false) => Verdict::NotAsExpected,
            (StepResult::Ok, true) => Verdict::Succeeded,
            (StepResult::Failed { .. }, true) => Verdict::RefusedAsExpected,
        }
    }
}

/// How a step went against its expectations: a refusal the scenario expected is not a failure.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// It succeeded, and every expectation held.
    Succeeded,
    /// It was refused with the error the scenario expected, and every other expectation held.
    RefusedAsExpected,
    /// An expectation did not hold (a refusal nobody expected, a success where a refusal was
    /// expected, a wrong balance…).
    NotAsExpected,
}

/// The chain's state when the scenario ended.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FinalState {
    /// Every party's position (and the instrument's, for a bond).
    pub holders: Vec<HolderState>,
    /// Security token supply.
    #[serde(with = "crate::decimal")]
    pub units_supply: U256,
    /// Deposit token supply.
    #[serde(with = "crate::decimal")]
    pub cash_supply: U256,
    /// Every trade's state: (name, state).
    pub trades: Vec<(String, TradeState)>,
}

/// A party and the account it used.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartyAccount {
    /// The party's name.
    pub name: String,
    /// Its role.
    pub role: Role,
    /// Its account.
    pub address: Address,
}

/// Everything a run did. Contains nothing engine-specific: equal on engines that agree.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunReport {
    /// The scenario's name.
    pub scenario: String,
    /// The start (unix time).
    pub start: u64,
    /// Accounts of the parties.
    pub parties: Vec<PartyAccount>,
    /// The deployed suite's contracts: (label, address).
    pub contracts: Vec<(String, Address)>,
    /// Gas used by the suite's deployment.
    pub deployment_gas: u64,
    /// Every step, setup first.
    pub steps: Vec<StepOutcome>,
    /// When each step of `steps` ended, in the same order, on the scenario's clock (unix time): the
    /// start, one second per mined transaction (each is a block, as on the in-process engine), and
    /// the clock's advances. The same on every engine (a node's own block times follow the wall
    /// clock), so reports stay equal across engines and days.
    pub step_times: Vec<u64>,
    /// The state at the end.
    pub final_state: FinalState,
}

/// Totals over a run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Totals {
    /// Steps run.
    pub steps: usize,
    /// Steps that succeeded.
    pub succeeded: usize,
    /// Steps refused (as expected or not).
    pub failed: usize,
    /// Refused steps whose expectations all held: the scenario expected the refusal.
    pub refused_as_expected: usize,
    /// Steps with an expectation that did not hold.
    pub not_as_expected: usize,
    /// Expectations checked.
    pub checks: usize,
    /// Expectations that did not hold.
    pub failed_checks: usize,
    /// Transactions mined after the deployment.
    pub transactions: u64,
    /// Gas used after the deployment.
    pub gas_used: u64,
}

impl RunReport {
    /// Totals over the steps.
    pub fn totals(&self) -> Totals {
        let mut t = Totals { steps: self.steps.len(), ..Default::default() };
        for s in &self.steps {
            match s.result {
                StepResult::Ok => t.succeeded += 1,
                StepResult::Failed { .. } => t.failed += 1,
            }
            match s.verdict() {
                Verdict::Succeeded => {}
                Verdict::RefusedAsExpected => t.refused_as_expected += 1,
                Verdict::NotAsExpected => t.not_as_expected += 1,
            }
            t.checks += s.checks.len();
            t.failed_checks += s.checks.iter().filter(|c| !c.passed).count();
            t.transactions += u64::from(s.transactions);
            t.gas_used += s.gas_used;
        }
        t
    }

    /// Whether every expectation held.
    pub fn passed(&self) -> bool {
        self.steps.iter().all(StepOutcome::passed)
    }

    /// When step `step` ended on the scenario's clock (unix time; the start if it was not recorded).
    pub fn time(&self, step: usize) -> u64 {
        self.step_times.get(step).copied().unwrap_or(self.start)
    }
}

impl Totals {
    /// Steps that succeeded with every expectation holding.
    pub fn succeeded_as_expected(&self) -> usize {
        self.steps - self.refused_as_expected - self.not_as_expected
    }
}
