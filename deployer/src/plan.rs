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

/// The accounts that play each role in the suite. Duties are separated: the securities operator
/// (registry and token admin, rules, pause), its registrar (also the transfer agent approving
/// transfers in approval mode), the issuer, the
/// enforcement authority (freezes, forced transfers, recovery), and the bank.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SuiteAccounts {
    /// Admin of the securities-side registry and of the security token.
    pub operator: Address,
    /// Registers investors in the securities-side registry.
    pub registrar: Address,
    /// Issues and redeems the security token.
    pub issuer: Address,
    /// The bank: admin and registrar of its customer registry, admin, minter, pauser and enforcer of
    /// the deposit token.
    pub bank: Address,
    /// Freezes, forces transfers and recovers wallets on the security token.
    pub authority: Address,
}

/// A straight bond on the suite's security token, paid in its deposit token.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BondSpec {
    /// Face value per unit, in yen.
    pub face_value: u128,
    /// Annual coupon rate in basis points.
    pub coupon_rate_bps: u16,
    /// Coupons per year.
    pub coupons_per_year: u8,
    /// Redemption value per unit, in yen.
    pub redemption_value: u128,
    /// Issue date (unix time).
    pub issue_date: u64,
    /// Coupon dates, the last being the maturity.
    pub coupon_dates: Vec<u64>,
    /// Seconds between each record date and its payment date.
    pub record_offset: u32,
    /// The paying agent (trust bank) that runs payment batches.
    pub paying_agent: Address,
    /// A digital municipal bond (with benefit programmes) rather than a plain straight bond.
    #[serde(default)]
    pub municipal: bool,
}

/// A real-estate fund whose beneficiary units are the suite's security token.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FundSpec {
    /// The paying agent (trust bank) that runs distribution batches.
    pub paying_agent: Address,
}

/// What the suite's security token is, beyond a plain unit token.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Instrument {
    /// A straight bond (or municipal bond) paid in the deposit token.
    Bond(BondSpec),
    /// Beneficiary units of a fund, with distributions paid in the deposit token.
    Fund(FundSpec),
}

/// A bank's minter limits for its own key in the plan.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MintingSpec {
    /// Total the bank's minter may issue.
    pub allowance: u128,
    /// Most it may issue per period.
    pub limit_per_period: u128,
    /// Period length in seconds.
    pub period: u64,
}

impl Default for MintingSpec {
    fn default() -> Self {
        Self { allowance: 1_000_000_000_000_000, limit_per_period: 10_000_000_000_000, period: 86_400 }
    }
}

/// A further bank with its own customer registry and deposit token, deployed from the same code.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BankSpec {
    /// Label suffix: contracts are `bank_registry_<label>` and `deposit_<label>`.
    pub label: String,
    /// Deposit token name and symbol.
    pub token: (String, String),
    /// The bank's account (admin, registrar, master minter, minter, enforcement).
    pub bank: Address,
    /// The bank minter's limits.
    #[serde(default)]
    pub minting: MintingSpec,
}

/// What to deploy: the accounts and the names of the two tokens.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SuiteSpec {
    /// Role holders.
    pub accounts: SuiteAccounts,
    /// Security token name and symbol.
    pub security: (String, String),
    /// Deposit token name and symbol.
    pub deposit: (String, String),
    /// The main bank minter's limits.
    #[serde(default)]
    pub minting: MintingSpec,
    /// Further banks, each with its own registry and deposit token.
    #[serde(default)]
    pub extra_banks: Vec<BankSpec>,
    /// The instrument contract attached to the security token, if any.
    #[serde(default)]
    pub instrument: Option<Instrument>,
}

/// Labels of the suite's contracts.
pub mod labels {
    /// The securities-side investor registry.
    pub const REGISTRY: &str = "registry";
    /// The bank's customer registry.
    pub const BANK_REGISTRY: &str = "bank_registry";
    /// The security token.
    pub const SECURITY: &str = "security";
    /// The deposit token.
    pub const DEPOSIT: &str = "deposit";
    /// The DvP contract.
    pub const DVP: &str = "dvp";
    /// The transfer agent's desk for approval mode.
    pub const APPROVALS: &str = "approvals";
    /// The instrument contract (bond or fund payments) of the security token.
    pub const INSTRUMENT: &str = "instrument";
}

/// The suite's plan: two registries, a security token, a deposit token, the DvP contract, the role
/// grants that separate duties, and the grants that let the DvP contract place holds on both tokens.
pub fn suite_plan(spec: &SuiteSpec) -> Plan {
    use labels::*;
    let a = spec.accounts;
    let deploy = Step::deploy;
    let grant = Step::grant;
    let mut plan = Plan {
        salt: default_salt(),
        steps: vec![
            // The DvP contract first: the tokens trust it as their settlement notary from construction.
            deploy(DVP, "DvP", a.operator, vec![]),
            deploy(REGISTRY, "InvestorRegistry", a.operator, vec![Arg::Address(a.operator), Arg::Address(a.registrar)]),
            deploy(
                SECURITY,
                "SecurityToken",
                a.operator,
                vec![
                    Arg::String(spec.security.0.clone()),
                    Arg::String(spec.security.1.clone()),
                    Arg::Contract(REGISTRY.into()),
                    Arg::Address(a.operator),
                    Arg::Address(a.issuer),
                    Arg::Contract(DVP.into()),
                ],
            ),
            grant(SECURITY, "RULES_ROLE", Arg::Address(a.operator), a.operator),
            grant(SECURITY, "PAUSER_ROLE", Arg::Address(a.operator), a.operator),
            deploy(
                APPROVALS,
                "TransferApprovals",
                a.operator,
                vec![Arg::Address(a.operator), Arg::Address(a.registrar)],
            ),
            grant(SECURITY, "NOTARY_ROLE", Arg::Contract(APPROVALS.into()), a.operator),
            grant(SECURITY, "FREEZER_ROLE", Arg::Address(a.authority), a.operator),
            grant(SECURITY, "ENFORCER_ROLE", Arg::Address(a.authority), a.operator),
            grant(SECURITY, "RECOVERY_ROLE", Arg::Address(a.authority), a.operator),
        ],
    };
    let (name, symbol) = spec.deposit.clone();
    plan.steps.extend(bank_steps(BANK_REGISTRY, DEPOSIT, name, symbol, a.bank, spec.minting));
    plan.steps.extend(instrument_steps(spec));
    // Further banks come last, so adding one to a deployed suite only appends steps (a resumable,
    // compatible change); CREATE2 addresses do not depend on the order.
    for b in &spec.extra_banks {
        let (registry, deposit) = (format!("{BANK_REGISTRY}_{}", b.label), format!("{DEPOSIT}_{}", b.label));
        let (name, symbol) = b.token.clone();
        plan.steps.extend(bank_steps(&registry, &deposit, name, symbol, b.bank, b.minting));
    }
    plan
}

/// The instrument contract of the suite's security token and its wiring, if any.
fn instrument_steps(spec: &SuiteSpec) -> Vec<Step> {
    use labels::*;
    let a = spec.accounts;
    let deploy = Step::deploy;
    let instrument = match &spec.instrument {
        None => return Vec::new(),
        Some(Instrument::Bond(bond)) => {
            let u = |v: u128| Arg::Uint(U256::from(v));
            let maturity = bond.coupon_dates.last().copied().unwrap_or_default();
            let terms = Arg::Tuple(vec![
                u(bond.face_value),
                u(bond.coupon_rate_bps.into()),
                u(bond.coupons_per_year.into()),
                u(bond.redemption_value),
                u(bond.issue_date.into()),
                u(maturity.into()),
                u(bond.record_offset.into()),
            ]);
            let dates = Arg::Array(bond.coupon_dates.iter().map(|d| u((*d).into())).collect());
            let artifact = if bond.municipal { "MunicipalBond" } else { "StraightBond" };
            let args = vec![
                Arg::Contract(SECURITY.into()),
                Arg::Contract(DEPOSIT.into()),
                terms,
                dates,
                Arg::Address(a.issuer),
                Arg::Address(a.issuer),
                Arg::Address(bond.paying_agent),
            ];
            deploy(INSTRUMENT, artifact, a.issuer, args)
        }
        Some(Instrument::Fund(fund)) => {
            let args = vec![
                Arg::Contract(SECURITY.into()),
                Arg::Contract(DEPOSIT.into()),
                Arg::Address(a.issuer),
                Arg::Address(a.issuer),
                Arg::Address(fund.paying_agent),
            ];
            deploy(INSTRUMENT, "BeneficiaryUnits", a.issuer, args)
        }
    };
    let mut steps = vec![
        instrument,
        Step::grant(SECURITY, "ISSUER_ROLE", Arg::Contract(INSTRUMENT.into()), a.operator),
        Step::SetFacility { registry: BANK_REGISTRY.into(), account: Arg::Contract(INSTRUMENT.into()), from: a.bank },
    ];
    if matches!(spec.instrument, Some(Instrument::Bond(_))) {
        steps.push(Step::Call {
            contract: INSTRUMENT.into(),
            signature: "scheduleRecordDates()".into(),
            args: vec![],
            from: a.issuer,
        });
    }
    steps
}

/// A contract the plan deployed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeployedContract {
    /// Artifact (contract) name.
    pub artifact: String,
    /// Address.
    pub address: Address,
    /// Creation transaction.
    pub tx_hash: B256,
    /// Block of the creation.
    pub block: u64,
    /// Gas used by the creation.
    pub gas_used: u64,
    /// keccak256 of the runtime code found at the address.
    pub code_hash: B256,
}

/// A transaction of the plan that was not a deployment (role grants, wiring).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExecutedStep {
    /// What the step did.
    pub description: String,
    /// Its transaction.
    pub tx_hash: B256,
    /// Block.
    pub block: u64,
    /// Gas used.
    pub gas_used: u64,
}

/// The result of executing a plan.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deployment {
    /// Chain id.
    pub chain_id: u64,
    /// Contracts by label.
    pub contracts: BTreeMap<String, DeployedContract>,
    /// Other transactions, in order.
    pub steps: Vec<ExecutedStep>,
}

impl Deployment {
    fn record(&mut self, step: &Step, receipt: &crate::chain::Receipt) {
        self.steps.push(ExecutedStep {
            description: step.describe(),
            tx_hash: receipt.tx_hash,
            block: receipt.block_number,
            gas_used: receipt.gas_used,
        });
    }

    /// The address of the contract labelled `label`.
    pub fn address(&self, label: &str) -> Result<Address, DeployerError> {
        self.contracts
            .get(label)
            .map(|c| c.address)
            .ok_or_else(|| DeployerError::Plan(format!("no contract labelled {label}")))
    }
}

fn load_artifact(name: &str) -> Result<(JsonAbi, Bytes), DeployerError> {
    let source =
        kessai_bindings::artifact(name).ok_or_else(|| DeployerError::Plan(format!("no committed artifact {name}")))?;
    let value: serde_json::Value = serde_json::from_str(source.json)?;
    let abi: JsonAbi = serde_json::from_value(value["abi"].clone())?;
    let code = value["bytecode"]
        .as_str()
        .and_then(|s| s.parse::<Bytes>().ok())
        .ok_or_else(|| DeployerError::Plan(format!("artifact {name} has no bytecode")))?;
    Ok((abi, code))
}

fn resolve(arg: &Arg, addresses: &BTreeMap<String, Address>) -> Result<DynSolValue, DeployerError> {
    Ok(match arg {
        Arg::Address(a) => DynSolValue::Address(*a),
        Arg::Contract(label) => DynSolValue::Address(
            *addresses
                .get(label)
                .ok_or_else(|| DeployerError::Plan(format!("no contract labelled {label} before this step")))?,
        ),
        Arg::String(s) => DynSolValue::String(s.clone()),
        Arg::Uint(u) => DynSolValue::Uint(*u, 256),
        Arg::Tuple(items) => DynSolValue::Tuple(items.iter().map(|a| resolve(a, addresses)).collect::<Result<_, _>>()?),
        Arg::Array(items) => DynSolValue::Array(items.iter().map(|a| resolve(a, addresses)).collect::<Result<_, _>>()?),
    })
}

fn resolve_address(arg: &Arg, addresses: &BTreeMap<String, Address>, what: &str) -> Result<Address, DeployerError> {
    match resolve(arg, addresses)? {
        DynSolValue::Address(a) => Ok(a),
        _ => Err(DeployerError::Plan(format!("{what} must be an address"))),
    }
}

/// Gives integers the width the ABI declares, recursively (plan arguments are written as uint256).
fn fit(value: DynSolValue, ty: &DynSolType) -> DynSolValue {
    match (value, ty) {
        (DynSolValue::Uint(v, _), DynSolType::Uint(bits)) => DynSolValue::Uint(v, *bits),
        (DynSolValue::Tuple(items), DynSolType::Tuple(types) | DynSolType::CustomStruct { tuple: types, .. }) => {
            DynSolValue::Tuple(items.into_iter().zip(types).map(|(v, t)| fit(v, t)).collect())
        }
        (DynSolValue::Array(items), DynSolType::Array(inner)) => {
            DynSolValue::Array(items.into_iter().map(|v| fit(v, inner)).collect())
        }
        (value, _) => value,
    }
}

/// The creation code (bytecode plus encoded constructor arguments) of a deploy step.
pub fn creation_code(artifact: &str, args: &[DynSolValue]) -> Result<Bytes, DeployerError> {
    let (abi, code) = load_artifact(artifact)?;
    let mut data = code.to_vec();
    if let Some(constructor) = &abi.constructor {
        let mut fitted = Vec::with_capacity(args.len());
        for (value, param) in args.iter().zip(&constructor.inputs) {
            let ty = param
                .resolve()
                .map_err(|e| DeployerError::Plan(format!("{artifact} constructor parameter {}: {e}", param.name)))?;
            fitted.push(fit(value.clone(), &ty));
        }
        let encoded = constructor
            .abi_encode_input(&fitted)
            .map_err(|e| DeployerError::Plan(format!("{artifact} constructor arguments: {e}")))?;
        data.extend_from_slice(&encoded);
    }
    Ok(data.into())
}

/// How the chain shows that a step took effect, read without its transaction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Effect {
    /// A deployment: code at the predicted address.
    Code {
        /// The CREATE2 address.
        address: Address,
        /// The artifact whose runtime code must be there.
        artifact: String,
    },
    /// A role grant: `account` holds `role` on `contract`.
    Role {
        /// The contract.
        contract: Address,
        /// The role's hash.
        role: B256,
        /// The grantee.
        account: Address,
    },
    /// A facility: the registry's record of `account` has the facility status.
    Facility {
        /// The registry.
        registry: Address,
        /// The facility.
        account: Address,
    },
    /// Another call: only its transaction's receipt shows it happened.
    Receipt,
}

/// The registry's `Status.Facility`.
const STATUS_FACILITY: u8 = 3;

impl Effect {
    /// Whether the chain shows the effect now; `None` when it cannot be read (plain calls). A grant
    /// or record on a contract that has no code (not deployed, or lost) does not hold.
    pub async fn holds<C: Chain>(&self, chain: &mut C) -> Result<Option<bool>, DeployerError> {
        if let Self::Role { contract: target, .. } | Self::Facility { registry: target, .. } = self
            && chain.code(*target).await?.is_empty()
        {
            return Ok(Some(false));
        }
        Ok(Some(match self {
            Self::Code { address, .. } => !chain.code(*address).await?.is_empty(),
            Self::Role { contract, role, account } => {
                chain.read(*contract, &SecurityToken::hasRoleCall { role: *role, account: *account }).await?
            }
            Self::Facility { registry, account } => {
                let record = chain.read(*registry, &InvestorRegistry::investorOfCall { account: *account }).await?;
                record.status == STATUS_FACILITY
            }
            Self::Receipt => return Ok(None),
        }))
    }
}

/// A step ready to send: its transaction and how its effect shows on-chain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PreparedStep<'a> {
    /// Position in the plan.
    pub index: usize,
    /// The step.
    pub step: &'a Step,
    /// Its transaction (deployments go to [`DETERMINISTIC_DEPLOYER`] with salt and init code).
    pub tx: Tx,
    /// How the chain shows it took effect.
    pub effect: Effect,
}

impl PreparedStep<'_> {
    /// The CREATE2 address of a deployment.
    pub fn predicted(&self) -> Option<Address> {
        match &self.effect {
            Effect::Code { address, .. } => Some(*address),
            _ => None,
        }
    }
}

/// Prepares step `index` given the addresses of the contracts deployed before it.
fn prepare<'a>(
    index: usize,
    step: &'a Step,
    addresses: &BTreeMap<String, Address>,
    salt: &str,
) -> Result<PreparedStep<'a>, DeployerError> {
    let target = |label: &str| {
        addresses.get(label).copied().ok_or_else(|| DeployerError::Plan(format!("no contract labelled {label}")))
    };
    let (tx, effect) = match step {
        Step::Deploy { label, artifact, from, args } => {
            let values = args.iter().map(|a| resolve(a, addresses)).collect::<Result<Vec<_>, _>>()?;
            let init_code = creation_code(artifact, &values)?;
            let salt = deploy_salt(salt, label);
            let address = create2_address(salt, &init_code);
            let data = [salt.as_slice(), &init_code].concat();
            let tx = Tx { from: *from, to: Some(DETERMINISTIC_DEPLOYER), data: data.into() };
            (tx, Effect::Code { address, artifact: artifact.clone() })
        }
        Step::GrantRole { contract, role, account, from } => {
            let contract = target(contract)?;
            let account = resolve_address(account, addresses, &format!("the {role} grantee"))?;
            let role = keccak256(role.as_bytes());
            let call = SecurityToken::grantRoleCall { role, account };
            let tx = Tx { from: *from, to: Some(contract), data: call.abi_encode().into() };
            (tx, Effect::Role { contract, role, account })
        }
        Step::SetFacility { registry, account, from } => {
            let registry = target(registry)?;
            let account = resolve_address(account, addresses, "a facility")?;
            let call = InvestorRegistry::setFacilityCall { account, isFacility: true };
            let tx = Tx { from: *from, to: Some(registry), data: call.abi_encode().into() };
            (tx, Effect::Facility { registry, account })
        }
        Step::Call { contract, signature, args, from } => {
            let contract = target(contract)?;
            let function = alloy::json_abi::Function::parse(signature)
                .map_err(|e| DeployerError::Plan(format!("bad signature {signature}: {e}")))?;
            let mut values = Vec::with_capacity(args.len());
            for (arg, param) in args.iter().zip(&function.inputs) {
                let ty = param.resolve().map_err(|e| DeployerError::Plan(format!("{signature}: {e}")))?;
                values.push(fit(resolve(arg, addresses)?, &ty));
            }
            let data = function
                .abi_encode_input(&values)
                .map_err(|e| DeployerError::Plan(format!("{signature} arguments: {e}")))?;
            (Tx { from: *from, to: Some(contract), data: data.into() }, Effect::Receipt)
        }
    };
    Ok(PreparedStep { index, step, tx, effect })
}

/// Decides how prepared steps reach the chain. [`execute_with`] asks it how to group the plan's steps
/// ([`Self::waves`]: one step at a time unless the runner says otherwise), calls [`Self::run`] once
/// per group, in order, and checks the group's deployments before the next; the runner returns each
/// step's receipt — from a transaction it sent, or from a record of one sent earlier.
#[allow(async_fn_in_trait)]
pub trait StepRunner<C: Chain> {
    /// The groups of step indices run together, in order, every step in exactly one: one step per
    /// group by default (the plan's order).
    fn waves(&self, plan: &Plan) -> Vec<Vec<usize>> {
        (0..plan.steps.len()).map(|i| vec![i]).collect()
    }

    /// Sends (or recognises as already done) `steps`, returning their receipts in the same order.
    async fn run(&mut self, chain: &mut C, steps: &[&PreparedStep<'_>]) -> Result<Vec<Receipt>, DeployerError>;
}

/// Sends every step once, one after the other, refusing to deploy over a contract already at its
/// predicted address.
#[derive(Clone, Copy, Debug, Default)]
pub struct Direct;

impl<C: Chain> StepRunner<C> for Direct {
    async fn run(&mut self, chain: &mut C, steps: &[&PreparedStep<'_>]) -> Result<Vec<Receipt>, DeployerError> {
        let mut receipts = Vec::with_capacity(steps.len());
        for step in steps {
            if let (Step::Deploy { label, .. }, Effect::Code { address, .. }) = (step.step, &step.effect)
                && !chain.code(*address).await?.is_empty()
            {
                return Err(DeployerError::AlreadyDeployed { label: label.clone(), address: *address });
            }
            receipts.push(chain.send(step.tx.clone()).await?);
        }
        Ok(receipts)
    }
}

/// Fails unless the deterministic deployment proxy is on `chain`.
pub async fn require_deployer<C: Chain>(chain: &mut C) -> Result<(), DeployerError> {
    let code = chain.code(DETERMINISTIC_DEPLOYER).await?;
    if code.as_ref() == DETERMINISTIC_DEPLOYER_CODE.as_slice() {
        return Ok(());
    }
    Err(DeployerError::NoDeployer(if code.is_empty() {
        format!(
            "the deterministic deployment proxy is not on this chain (no code at {DETERMINISTIC_DEPLOYER}); \
             `kessai deploy` installs it with its presigned transaction"
        )
    } else {
        format!("{DETERMINISTIC_DEPLOYER} holds other code than the deterministic deployment proxy")
    }))
}

/// Executes `plan` on `chain`, step by step, and returns what was deployed.
pub async fn execute<C: Chain>(chain: &mut C, plan: &Plan) -> Result<Deployment, DeployerError> {
    execute_with(chain, plan, &mut Direct).await
}

/// Executes `plan` on `chain`, letting `runner` send the steps in the groups it chooses; every
/// deployment is checked after its group (code at the predicted address, equal to the artifact's
/// runtime code). The deployment lists steps in the plan's order whatever the groups.
pub async fn execute_with<C: Chain, R: StepRunner<C>>(
    chain: &mut C,
    plan: &Plan,
    runner: &mut R,
) -> Result<Deployment, DeployerError> {
    let mut deployment = Deployment { chain_id: chain.chain_id().await?, ..Default::default() };
    if plan.steps.iter().any(|s| matches!(s, Step::Deploy { .. })) {
        require_deployer(chain).await?;
    }
    let prepared = plan.prepare_all()?;
    let waves = runner.waves(plan);
    let mut seen = vec![false; prepared.len()];
    for i in waves.iter().flatten() {
        match seen.get_mut(*i) {
            Some(s) if !*s => *s = true,
            _ => return Err(DeployerError::Plan(format!("the runner grouped step {i} twice or out of the plan"))),
        }
    }
    if let Some(missing) = seen.iter().position(|s| !s) {
        return Err(DeployerError::Plan(format!("the runner left step {missing} out of its groups")));
    }
    let mut receipts: Vec<Option<Receipt>> = vec![None; prepared.len()];
    for wave in &waves {
        let steps: Vec<&PreparedStep<'_>> = wave.iter().map(|i| &prepared[*i]).collect();
        for s in &steps {
            tracing::debug!(target: "kessai::deploy", index = s.index, step = %s.step.describe(), "executing");
        }
        let got = runner.run(chain, &steps).await?;
        if got.len() != steps.len() {
            return Err(DeployerError::Plan(format!(
                "the runner returned {} receipts for {} steps",
                got.len(),
                steps.len()
            )));
        }
        for (step, receipt) in steps.iter().zip(got) {
            if let (Step::Deploy { label, .. }, Effect::Code { address, artifact }) = (step.step, &step.effect) {
                let code = chain.code(*address).await?;
                if code.is_empty() || !verify::matches_artifact(artifact, &code)? {
                    return Err(DeployerError::CodeMismatch {
                        label: label.clone(),
                        address: *address,
                        artifact: artifact.clone(),
                        found: if code.is_empty() {
                            "no code".into()
                        } else {
                            format!("code hash {}", keccak256(&code))
                        },
                    });
                }
                deployment.contracts.insert(
                    label.clone(),
                    DeployedContract {
                        artifact: artifact.clone(),
                        address: *address,
                        tx_hash: receipt.tx_hash,
                        block: receipt.block_number,
                        gas_used: receipt.gas_used,
                        code_hash: keccak256(&code),
                    },
                );
            }
            receipts[step.index] = Some(receipt);
        }
    }
    for (step, receipt) in plan.steps.iter().zip(receipts) {
        if let (false, Some(receipt)) = (matches!(step, Step::Deploy { .. }), receipt) {
            deployment.record(step, &receipt);
        }
    }
    Ok(deployment)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn salts_and_addresses_follow_the_documented_formulas() {
        // cast keccak $(cast abi-encode "f(string,string)" kessai dvp)
        let salt = deploy_salt("kessai", "dvp");
        assert_eq!(salt, b256!("0x5292cd2569a72946997f0d5b63d6f165c522663fddb7b964935db076bbd8ed49"));
        // cast create2 --deployer 0x4e59…956C --salt <salt> --init-code 0x00
        assert_eq!(create2_address(salt, &[0]), address!("0xCCf6a40b4f0808BF25042540F8F4f67ee76A34fb"));
        assert_ne!(deploy_salt("kessai", "dvp"), deploy_salt("other", "dvp"));
        assert_eq!(keccak256(DETERMINISTIC_DEPLOYER_TX), DETERMINISTIC_DEPLOYER_TX_HASH);
    }

    /// The suite with a bond and a second bank, on distinct accounts.
    fn full_suite() -> Plan {
        let a = |b: u8| Address::repeat_byte(b);
        let accounts = SuiteAccounts { operator: a(1), registrar: a(2), issuer: a(3), bank: a(4), authority: a(5) };
        let bond = BondSpec {
            face_value: 1_000_000,
            coupon_rate_bps: 150,
            coupons_per_year: 2,
            redemption_value: 1_000_000,
            issue_date: 2_000_000_000,
            coupon_dates: vec![2_100_000_000, 2_200_000_000],
            record_offset: 604_800,
            paying_agent: a(6),
            municipal: false,
        };
        suite_plan(&SuiteSpec {
            accounts,
            security: ("Bond".into(), "B".into()),
            deposit: ("DCJPY".into(), "DCJPY".into()),
            minting: MintingSpec::default(),
            extra_banks: vec![BankSpec {
                label: "second".into(),
                token: ("DCJPY2".into(), "DCJPY2".into()),
                bank: a(7),
                minting: MintingSpec::default(),
            }],
            instrument: Some(Instrument::Bond(bond)),
        })
    }

    #[test]
    fn the_suite_goes_out_in_six_waves_each_step_after_what_it_needs() {
        let plan = full_suite();
        let waves = plan.waves();
        assert_eq!(plan.steps.len(), 32);
        assert_eq!(waves.len(), 6, "{waves:?}");
        let mut order: Vec<usize> = waves.iter().flatten().copied().collect();
        order.sort_unstable();
        assert_eq!(order, (0..32).collect::<Vec<_>>(), "every step in one wave");
        let wave_of = |i: usize| waves.iter().position(|w| w.contains(&i)).expect("placed");
        let index =
            |what: &str| plan.steps.iter().position(|s| s.describe() == what).unwrap_or_else(|| panic!("{what}"));
        let deploy_of = |label: &str| {
            plan.steps
                .iter()
                .position(|s| matches!(s, Step::Deploy { label: l, .. } if l == label))
                .unwrap_or_else(|| panic!("{label}"))
        };
        for (i, step) in plan.steps.iter().enumerate() {
            // Every step comes after the deployment of each contract it acts on or is given.
            let mut needs = BTreeSet::new();
            match step {
                Step::Deploy { args, .. } | Step::Call { args, .. } => contracts_in(args, &mut needs),
                Step::GrantRole { .. } | Step::SetFacility { .. } => {}
            }
            match step {
                Step::GrantRole { contract, .. } | Step::Call { contract, .. } => {
                    needs.insert(contract.clone());
                }
                Step::SetFacility { registry, .. } => {
                    needs.insert(registry.clone());
                }
                Step::Deploy { .. } => {}
            }
            for label in needs {
                assert!(wave_of(deploy_of(&label)) < wave_of(i), "{} before {}", label, step.describe());
            }
            // A sender's steps in one wave keep the plan's order.
            assert!(waves[wave_of(i)].windows(2).all(|w| w[0] < w[1]));
        }
        // A call after the setup it may use: the deposit's own deployment, the rights granted to the bond.
        let schedule = index("call instrument.scheduleRecordDates()");
        let issuer_role = plan
            .steps
            .iter()
            .position(|s| matches!(s, Step::GrantRole { role, .. } if role == "ISSUER_ROLE"))
            .expect("issuer grant");
        assert!(wave_of(issuer_role) < wave_of(schedule));
        let facility = plan.steps.iter().position(|s| matches!(s, Step::SetFacility { .. })).expect("facility");
        assert!(wave_of(facility) < wave_of(schedule));
        // The grants on a token after the call that configures its minter; grants on one contract together.
        let minter = index("call deposit.configureMinter(address,uint128,uint128,uint64)");
        let pauser = index(&format!("grant PAUSER_ROLE on deposit to {}", Address::repeat_byte(4)));
        let freezer = index(&format!("grant FREEZER_ROLE on deposit to {}", Address::repeat_byte(4)));
        assert!(wave_of(minter) < wave_of(pauser));
        assert_eq!(wave_of(pauser), wave_of(freezer));
    }

    #[test]
    fn predicted_addresses_depend_on_salt_and_arguments_not_on_order() {
        let from = Address::repeat_byte(1);
        let registry = |label: &str| Step::Deploy {
            label: label.into(),
            artifact: "InvestorRegistry".into(),
            from,
            args: vec![Arg::Address(from), Arg::Address(from)],
        };
        let plan = Plan { steps: vec![registry("a"), registry("b")], ..Default::default() };
        let swapped = Plan { steps: vec![registry("b"), registry("a")], ..Default::default() };
        let a = plan.predicted_addresses().expect("addresses");
        assert_eq!(a, swapped.predicted_addresses().expect("addresses"));
        assert_ne!(a["a"], a["b"], "the label is in the salt");
        let salted = plan.clone().with_salt("other").predicted_addresses().expect("addresses");
        assert!(a.values().all(|x| !salted.values().any(|y| x == y)), "another salt, other addresses");
    }
}
