//! The suite's deployment as data: which contracts, with which constructor arguments, which role
//! grants wire them together. A plan is produced once ([`suite_plan`]) and executed by any engine
//! ([`execute`]) — the JSON-RPC engine here or the in-process revm engine in `kessai-sim`.

use crate::{
    chain::{Chain, Tx},
    error::DeployerError,
};
use alloy::{
    dyn_abi::{DynSolType, DynSolValue, JsonAbiExt, Specifier},
    json_abi::JsonAbi,
    primitives::{Address, B256, Bytes, U256, keccak256},
    sol_types::SolCall,
};
use kessai_bindings::{investor_registry::InvestorRegistry, security_token::SecurityToken};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

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
    /// A short description for logs and reports.
    pub fn describe(&self) -> String {
        match self {
            Self::Deploy { label, artifact, .. } => format!("deploy {artifact} as {label}"),
            Self::GrantRole { contract, role, account, .. } => format!("grant {role} on {contract} to {account:?}"),
            Self::SetFacility { registry, account, .. } => format!("mark {account:?} a facility in {registry}"),
            Self::Call { contract, signature, .. } => format!("call {contract}.{signature}"),
        }
    }
}

/// A deployment plan: steps executed in order.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    /// The steps.
    pub steps: Vec<Step>,
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
    let deploy = |label: &str, artifact: &str, from: Address, args: Vec<Arg>| Step::Deploy {
        label: label.into(),
        artifact: artifact.into(),
        from,
        args,
    };
    let grant = |contract: &str, role: &str, account: Arg, from: Address| Step::GrantRole {
        contract: contract.into(),
        role: role.into(),
        account,
        from,
    };
    let mut plan = Plan {
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
    let banks =
        std::iter::once((BANK_REGISTRY.to_string(), DEPOSIT.to_string(), spec.deposit.clone(), a.bank, spec.minting))
            .chain(spec.extra_banks.iter().map(|b| {
                (
                    format!("{BANK_REGISTRY}_{}", b.label),
                    format!("{DEPOSIT}_{}", b.label),
                    b.token.clone(),
                    b.bank,
                    b.minting,
                )
            }));
    for (registry, deposit, (name, symbol), bank, minting) in banks {
        plan.steps.extend(bank_steps(&registry, &deposit, name, symbol, bank, minting));
    }
    let instrument = match &spec.instrument {
        None => return plan,
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
    plan.steps.push(instrument);
    plan.steps.push(grant(SECURITY, "ISSUER_ROLE", Arg::Contract(INSTRUMENT.into()), a.operator));
    plan.steps.push(Step::SetFacility {
        registry: BANK_REGISTRY.into(),
        account: Arg::Contract(INSTRUMENT.into()),
        from: a.bank,
    });
    if matches!(spec.instrument, Some(Instrument::Bond(_))) {
        plan.steps.push(Step::Call {
            contract: INSTRUMENT.into(),
            signature: "scheduleRecordDates()".into(),
            args: vec![],
            from: a.issuer,
        });
    }
    plan
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

fn resolve(arg: &Arg, deployment: &Deployment) -> Result<DynSolValue, DeployerError> {
    Ok(match arg {
        Arg::Address(a) => DynSolValue::Address(*a),
        Arg::Contract(label) => DynSolValue::Address(deployment.address(label)?),
        Arg::String(s) => DynSolValue::String(s.clone()),
        Arg::Uint(u) => DynSolValue::Uint(*u, 256),
        Arg::Tuple(items) => {
            DynSolValue::Tuple(items.iter().map(|a| resolve(a, deployment)).collect::<Result<_, _>>()?)
        }
        Arg::Array(items) => {
            DynSolValue::Array(items.iter().map(|a| resolve(a, deployment)).collect::<Result<_, _>>()?)
        }
    })
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

/// Executes `plan` on `chain`, step by step, and returns what was deployed.
pub async fn execute<C: Chain>(chain: &mut C, plan: &Plan) -> Result<Deployment, DeployerError> {
    let mut deployment = Deployment { chain_id: chain.chain_id().await?, ..Default::default() };
    for step in &plan.steps {
        tracing::debug!(target: "kessai::deploy", step = %step.describe(), "executing");
        match step {
            Step::Deploy { label, artifact, from, args } => {
                let values = args.iter().map(|a| resolve(a, &deployment)).collect::<Result<Vec<_>, _>>()?;
                let data = creation_code(artifact, &values)?;
                let receipt = chain.send(Tx { from: *from, to: None, data }).await?;
                let address = receipt
                    .contract_address
                    .ok_or_else(|| DeployerError::Plan(format!("{label}: creation returned no address")))?;
                let code_hash = keccak256(chain.code(address).await?);
                deployment.contracts.insert(
                    label.clone(),
                    DeployedContract {
                        artifact: artifact.clone(),
                        address,
                        tx_hash: receipt.tx_hash,
                        block: receipt.block_number,
                        gas_used: receipt.gas_used,
                        code_hash,
                    },
                );
            }
            Step::GrantRole { contract, role, account, from } => {
                let target = deployment.address(contract)?;
                let DynSolValue::Address(grantee) = resolve(account, &deployment)? else {
                    return Err(DeployerError::Plan(format!("{role} grantee must be an address")));
                };
                let call = SecurityToken::grantRoleCall { role: keccak256(role.as_bytes()), account: grantee };
                let receipt = chain.send(Tx { from: *from, to: Some(target), data: call.abi_encode().into() }).await?;
                deployment.record(step, &receipt);
            }
            Step::SetFacility { registry, account, from } => {
                let target = deployment.address(registry)?;
                let DynSolValue::Address(account) = resolve(account, &deployment)? else {
                    return Err(DeployerError::Plan("a facility must be an address".into()));
                };
                let call = InvestorRegistry::setFacilityCall { account, isFacility: true };
                let receipt = chain.send(Tx { from: *from, to: Some(target), data: call.abi_encode().into() }).await?;
                deployment.record(step, &receipt);
            }
            Step::Call { contract, signature, args, from } => {
                let target = deployment.address(contract)?;
                let function = alloy::json_abi::Function::parse(signature)
                    .map_err(|e| DeployerError::Plan(format!("bad signature {signature}: {e}")))?;
                let mut values = Vec::with_capacity(args.len());
                for (arg, param) in args.iter().zip(&function.inputs) {
                    let ty = param.resolve().map_err(|e| DeployerError::Plan(format!("{signature}: {e}")))?;
                    values.push(fit(resolve(arg, &deployment)?, &ty));
                }
                let data = function
                    .abi_encode_input(&values)
                    .map_err(|e| DeployerError::Plan(format!("{signature} arguments: {e}")))?;
                let receipt = chain.send(Tx { from: *from, to: Some(target), data: data.into() }).await?;
                deployment.record(step, &receipt);
            }
        }
    }
    Ok(deployment)
}
