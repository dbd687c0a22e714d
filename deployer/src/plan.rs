//! The suite's deployment as data: which contracts, with which constructor arguments, which role
//! grants wire them together. A plan is produced once ([`suite_plan`]) and executed by any engine
//! ([`execute`]) — the JSON-RPC engine here or the in-process revm engine in `kessai-sim`.
//!
//! Every contract is created with CREATE2 through the well-known deterministic deployment proxy
//! ([`DETERMINISTIC_DEPLOYER`]), with a salt derived from the plan's salt and the contract's label
//! ([`deploy_salt`]): a plan's addresses are known before anything is sent
//! ([`Plan::predicted_addresses`]) and are the same on every chain. [`execute_with`] lets a
//! [`StepRunner`] decide how the prepared steps are sent — one at a time in the plan's order
//! ([`Direct`]), or in waves of independent steps ([`Plan::waves`]) through the write-ahead journal
//! that makes deployments resumable (`crate::journal`).

use crate::{
    chain::{Chain, Receipt, Tx},
    error::DeployerError,
    verify,
};
use alloy::{
    dyn_abi::{DynSolType, DynSolValue, JsonAbiExt, Specifier},
    json_abi::JsonAbi,
    primitives::{Address, B256, Bytes, U256, address, b256, hex, keccak256},
    sol_types::{SolCall, SolValue},
};
use kessai_bindings::{investor_registry::InvestorRegistry, security_token::SecurityToken};
use serde::{Deserialize, Serialize};
use std::{
    collections::{BTreeMap, BTreeSet},
    fmt,
};

/// The deterministic deployment proxy (Arachnid's, "Nick's method"): called with a 32-byte salt
/// followed by init code, it creates the contract with CREATE2 and returns its 20-byte address.
/// Anvil has it at genesis; elsewhere it is installed by its presigned transaction
/// ([`DETERMINISTIC_DEPLOYER_TX`]).
pub const DETERMINISTIC_DEPLOYER: Address = address!("0x4e59b44847b379578588920cA78FbF26c0B4956C");

/// The proxy's runtime code, as found at [`DETERMINISTIC_DEPLOYER`].
pub const DETERMINISTIC_DEPLOYER_CODE: [u8; 69] = hex!(
    "7fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffe03601600081602082378035828234f58015156039578182fd5b8082525050506014600cf3"
);

/// The account that signed the proxy's deployment transaction (nobody holds its key).
pub const DETERMINISTIC_DEPLOYER_SIGNER: Address = address!("0x3fab184622dc19b6109349b94811493bf2a45362");

/// The proxy's publicly known deployment transaction: legacy, without a chain id (so valid on every
/// chain), nonce 0 of [`DETERMINISTIC_DEPLOYER_SIGNER`], gas price 100 gwei, gas limit 100,000.
pub const DETERMINISTIC_DEPLOYER_TX: [u8; 167] = hex!(
    "f8a58085174876e800830186a08080b853604580600e600039806000f350fe7fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffe03601600081602082378035828234f58015156039578182fd5b8082525050506014600cf31ba02222222222222222222222222222222222222222222222222222222222222222a02222222222222222222222222222222222222222222222222222222222222222"
);

/// The hash of [`DETERMINISTIC_DEPLOYER_TX`] (the same on every chain).
pub const DETERMINISTIC_DEPLOYER_TX_HASH: B256 =
    b256!("0xeddf9e61fb9d8f5111840daef55e5fde0041f5702856532cdbb5a02998033d26");

/// What the proxy's signer must hold for [`DETERMINISTIC_DEPLOYER_TX`]: gas price × gas limit.
pub const DETERMINISTIC_DEPLOYER_COST: u128 = 100_000_000_000 * 100_000;

/// The salt a plan uses when none is configured.
pub const DEFAULT_SALT: &str = "kessai";

/// The CREATE2 salt of contract `label` in a plan salted with `salt`:
/// `keccak256(abi.encode(salt, label))` (in `cast`: `cast keccak $(cast abi-encode "f(string,string)" kessai dvp)`).
pub fn deploy_salt(salt: &str, label: &str) -> B256 {
    keccak256((salt, label).abi_encode_params())
}

/// Where the proxy creates `init_code` with `salt`.
pub fn create2_address(salt: B256, init_code: &[u8]) -> Address {
    DETERMINISTIC_DEPLOYER.create2_from_code(salt, init_code)
}

/// The steps that deploy one bank's customer registry and deposit token, separate its duties (all
/// held by the bank's account here; a bank splits them by granting the roles to other keys), give
/// its own key a minter allowance, and let the DvP contract hold deposit tokens.
fn bank_steps(
    registry: &str,
    deposit: &str,
    name: String,
    symbol: String,
    bank: Address,
    minting: MintingSpec,
) -> Vec<Step> {
    let grant =
        |role: &str, account: Arg| Step::GrantRole { contract: deposit.into(), role: role.into(), account, from: bank };
    let mut steps = vec![
        Step::Deploy {
            label: registry.into(),
            artifact: "InvestorRegistry".into(),
            from: bank,
            args: vec![Arg::Address(bank), Arg::Address(bank)],
        },
        Step::Deploy {
            label: deposit.into(),
            artifact: "DepositToken".into(),
            from: bank,
            args: vec![
                Arg::String(name),
                Arg::String(symbol),
                Arg::Contract(registry.into()),
                Arg::Address(bank),
                Arg::Address(bank),
                Arg::Contract(labels::DVP.into()),
            ],
        },
        Step::Call {
            contract: deposit.into(),
            signature: "configureMinter(address,uint128,uint128,uint64)".into(),
            args: vec![
                Arg::Address(bank),
                Arg::Uint(U256::from(minting.allowance)),
                Arg::Uint(U256::from(minting.limit_per_period)),
                Arg::Uint(U256::from(minting.period)),
            ],
            from: bank,
        },
    ];
    for role in ["PAUSER_ROLE", "BLOCKLISTER_ROLE", "FREEZER_ROLE", "ENFORCER_ROLE", "RECOVERY_ROLE", "REDEEMER_ROLE"] {
        steps.push(grant(role, Arg::Address(bank)));
    }
    steps
}

/// A constructor or call argument.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Arg {
    /// A fixed address.
    Address(Address),
    /// The address of a contract deployed earlier in the plan, by label.
    Contract(String),
    /// A string.
    String(String),
    /// An unsigned integer.
    Uint(U256),
    /// A struct (tuple) of arguments.
    Tuple(Vec<Arg>),
    /// An array of arguments.
    Array(Vec<Arg>),
}

/// One step of a plan.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Step {
    /// Deploy the contract of `artifact` as `label`.
    Deploy {
        /// Name other steps use for this contract.
        label: String,
        /// Artifact (contract) name.
        artifact: String,
        /// Deploying account.
        from: Address,
        /// Constructor arguments.
        args: Vec<Arg>,
    },
    /// Grant `role` on contract `contract` to `account`.
    GrantRole {
        /// Label of the contract.
        contract: String,
        /// Role name, e.g. `NOTARY_ROLE`.
        role: String,
        /// The grantee.
        account: Arg,
        /// The admin sending the grant.
        from: Address,
    },
    /// Mark `account` as a settlement facility in registry `registry`.
    SetFacility {
        /// Label of the registry.
        registry: String,
        /// The facility.
        account: Arg,
        /// The registrar.
        from: Address,
    },
    /// Call `signature` (e.g. `scheduleRecordDates()`) on contract `contract`.
    Call {
        /// Label of the contract.
        contract: String,
        /// Function signature.
        signature: String,
        /// Arguments.
        args: Vec<Arg>,
        /// Sender.
        from: Address,
    },
}

impl Step {
    /// Deploys artifact `artifact` as `label`, sent by `from`, with constructor `args`.
    pub fn deploy(label: &str, artifact: &str, from: Address, args: Vec<Arg>) -> Self {
        Self::Deploy { label: label.into(), artifact: artifact.into(), from, args }
    }

    /// Grants `role` on `contract` to `account`, sent by `from`.
    pub fn grant(contract: &str, role: &str, account: Arg, from: Address) -> Self {
        Self::GrantRole { contract: contract.into(), role: role.into(), account, from }
    }

    /// A short description for logs and reports.
    pub fn describe(&self) -> String {
        match self {
            Self::Deploy { label, artifact, .. } => format!("deploy {artifact} as {label}"),
            Self::GrantRole { contract, role, account, .. } => format!("grant {role} on {contract} to {account}"),
            Self::SetFacility { registry, account, .. } => format!("mark {account} a facility in {registry}"),
            Self::Call { contract, signature, .. } => format!("call {contract}.{signature}"),
        }
    }

    /// Everything the step does, on one line: its description, arguments and sender (for diffs).
    pub fn detail(&self) -> String {
        let list = |args: &[Arg]| args.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ");
        match self {
            Self::Deploy { label, artifact, from, args } => {
                format!("deploy {artifact} as {label}({}) from {from}", list(args))
            }
            Self::GrantRole { contract, role, account, from } => {
                format!("grant {role} on {contract} to {account} from {from}")
            }
            Self::SetFacility { registry, account, from } => {
                format!("mark {account} a facility in {registry} from {from}")
            }
            Self::Call { contract, signature, args, from } => {
                format!("call {contract}.{signature} with ({}) from {from}", list(args))
            }
        }
    }

    /// The account that sends the step's transaction.
    pub fn sender(&self) -> Address {
        match self {
            Self::Deploy { from, .. }
            | Self::GrantRole { from, .. }
            | Self::SetFacility { from, .. }
            | Self::Call { from, .. } => *from,
        }
    }
}

impl fmt::Display for Arg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let list = |f: &mut fmt::Formatter<'_>, items: &[Arg]| {
            items.iter().enumerate().try_for_each(|(i, a)| if i == 0 { write!(f, "{a}") } else { write!(f, ", {a}") })
        };
        match self {
            Self::Address(a) => write!(f, "{a}"),
            Self::Contract(label) => write!(f, "@{label}"),
            Self::String(s) => write!(f, "{s:?}"),
            Self::Uint(u) => write!(f, "{u}"),
            Self::Tuple(items) => {
                write!(f, "(")?;
                list(f, items)?;
                write!(f, ")")
            }
            Self::Array(items) => {
                write!(f, "[")?;
                list(f, items)?;
                write!(f, "]")
            }
        }
    }
}

/// A deployment plan: steps executed in order, contracts created at addresses salted with `salt`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    /// The steps.
    pub steps: Vec<Step>,
    /// The salt every contract's CREATE2 salt derives from ([`deploy_salt`]). Two plans with
    /// different salts coexist on one chain; the same plan gets the same addresses everywhere.
    #[serde(default = "default_salt")]
    pub salt: String,
}

fn default_salt() -> String {
    DEFAULT_SALT.into()
}

impl Default for Plan {
    fn default() -> Self {
        Self { steps: Vec::new(), salt: default_salt() }
    }
}

impl Plan {
    /// The same plan with another salt.
    pub fn with_salt(mut self, salt: impl Into<String>) -> Self {
        self.salt = salt.into();
        self
    }

    /// Every step prepared for sending (transaction, predicted address, on-chain effect), without a
    /// chain: the addresses of CREATE2 deployments are known in advance.
    pub fn prepare_all(&self) -> Result<Vec<PreparedStep<'_>>, DeployerError> {
        let mut addresses = BTreeMap::new();
        let mut prepared = Vec::with_capacity(self.steps.len());
        for (index, step) in self.steps.iter().enumerate() {
            let p = prepare(index, step, &addresses, &self.salt)?;
            if let (Step::Deploy { label, .. }, Effect::Code { address, .. }) = (step, &p.effect) {
                addresses.insert(label.clone(), *address);
            }
            prepared.push(p);
        }
        Ok(prepared)
    }

    /// The plan's steps in waves that may be sent together: every step of a wave is independent of
    /// the others in it, and comes after every earlier step it depends on (in an earlier wave). A
    /// sender's steps in one wave keep the plan's order. Step `b` depends on an earlier step `a` when
    ///
    /// - `b` acts on a contract `a` deploys (a deployment acts on the contracts given to its
    ///   constructor; a grant or registry record on its contract; a call on its contract, the contracts
    ///   that contract was given at construction, and those its arguments name);
    /// - one may change what the other reads or changes — except that role grants and registry
    ///   records on one contract commute with each other (each sets its own entry) and with
    ///   deployments that are given that contract (a constructor reads its setup, not its grants);
    /// - `b` is a call on a contract that `a` gives a role or record to (the call may use it).
    ///
    /// The suite's plan (32 steps with a second bank and a bond) goes out in 6 waves.
    pub fn waves(&self) -> Vec<Vec<usize>> {
        let mut given: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
        for step in &self.steps {
            if let Step::Deploy { label, args, .. } = step {
                contracts_in(args, given.entry(label.as_str()).or_default());
            }
        }
        let footprints: Vec<Footprint> = self.steps.iter().map(|s| Footprint::of(s, &given)).collect();
        let mut level = vec![0usize; footprints.len()];
        for b in 0..footprints.len() {
            level[b] =
                (0..b).filter(|a| footprints[*a].orders(&footprints[b])).map(|a| level[a] + 1).max().unwrap_or(0);
        }
        let mut waves = vec![Vec::new(); level.iter().max().map_or(0, |m| m + 1)];
        for (i, l) in level.into_iter().enumerate() {
            waves[l].push(i);
        }
        waves
    }

    /// The address each contract of the plan will have, by label.
    pub fn predicted_addresses(&self) -> Result<BTreeMap<String, Address>, DeployerError> {
        Ok(self
            .prepare_all()?
            .into_iter()
            .filter_map(|p| match (p.step, p.effect) {
                (Step::Deploy { label, .. }, Effect::Code { address, .. }) => Some((label.clone(), address)),
                _ => None,
            })
            .collect())
    }
}

/// What a step acts on, for ordering the steps that may go out together ([`Plan::waves`]).
#[derive(Debug, Default)]
struct Footprint {
    /// Contracts whose state the step may change.
    writes: BTreeSet<String>,
    /// Contracts whose state the step may read.
    reads: BTreeSet<String>,
    /// A role grant or a registry record: it sets one entry of its contract's table.
    record: bool,
    /// A deployment (it only reads the contracts given to its constructor).
    deploy: bool,
    /// The contract a grant or record gives rights to.
    grantee: Option<String>,
    /// The contract a call is made on.
    call_on: Option<String>,
}

/// Labels of the plan's contracts named in `args`, at any depth.
fn contracts_in(args: &[Arg], out: &mut BTreeSet<String>) {
    for arg in args {
        match arg {
            Arg::Contract(label) => {
                out.insert(label.clone());
            }
            Arg::Tuple(items) | Arg::Array(items) => contracts_in(items, out),
            Arg::Address(_) | Arg::String(_) | Arg::Uint(_) => {}
        }
    }
}

impl Footprint {
    fn of(step: &Step, given: &BTreeMap<&str, BTreeSet<String>>) -> Self {
        let mut f = Self::default();
        match step {
            Step::Deploy { label, args, .. } => {
                f.deploy = true;
                f.writes.insert(label.clone());
                contracts_in(args, &mut f.reads);
            }
            Step::GrantRole { contract: target, account, .. } | Step::SetFacility { registry: target, account, .. } => {
                f.record = true;
                f.writes.insert(target.clone());
                if let Arg::Contract(label) = account {
                    f.grantee = Some(label.clone());
                }
            }
            Step::Call { contract, args, .. } => {
                // A call may read and change its contract and every contract that contract was given
                // at construction (it may call them), and those its arguments name.
                let mut touched = BTreeSet::from([contract.clone()]);
                touched.extend(given.get(contract.as_str()).into_iter().flatten().cloned());
                contracts_in(args, &mut touched);
                f.reads = touched.clone();
                f.writes = touched;
                f.call_on = Some(contract.clone());
            }
        }
        f
    }

    /// Whether `later` must wait for `self` (an earlier step) to be mined.
    fn orders(&self, later: &Self) -> bool {
        let meets = |a: &BTreeSet<String>, b: &BTreeSet<String>| a.intersection(b).next().is_some();
        // A call may use the rights an earlier grant or record gives its contract.
        if self.grantee.is_some() && self.grantee == later.call_on {
            return true;
        }
        // Records set separate entries; a constructor reads a contract's setup, not its grants.
        if self.record && (later.record || later.deploy) {
            return false;
        }
        if self.deploy && later.record {
            return meets(&self.writes, &later.writes);
        }
        meets(&self.writes, &later.writes) || meets(&self.writes, &later.reads) || meets(&self.reads, &later.writes)
    }
}

mod execute;
mod spec;
#[cfg(test)]
mod tests;

pub use execute::*;
pub use spec::*;
