//! Running a plan: preparing each step, sending it, and the deployment it leaves.

use super::*;

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
    pub(super) fn record(&mut self, step: &Step, receipt: &crate::chain::Receipt) {
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

/// The ABI and creation bytecode of the committed artifact `name`.
pub(super) fn load_artifact(name: &str) -> Result<(&'static JsonAbi, &'static Bytes), DeployerError> {
    let artifact =
        kessai_bindings::artifact(name).ok_or_else(|| DeployerError::Plan(format!("no committed artifact {name}")))?;
    Ok((&artifact.abi, &artifact.bytecode))
}

pub(super) fn resolve(arg: &Arg, addresses: &BTreeMap<String, Address>) -> Result<DynSolValue, DeployerError> {
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

pub(super) fn resolve_address(
    arg: &Arg,
    addresses: &BTreeMap<String, Address>,
    what: &str,
) -> Result<Address, DeployerError> {
    match resolve(arg, addresses)? {
        DynSolValue::Address(a) => Ok(a),
        _ => Err(DeployerError::Plan(format!("{what} must be an address"))),
    }
}

/// Gives integers the width the ABI declares, recursively (plan arguments are written as uint256).
pub(super) fn fit(value: DynSolValue, ty: &DynSolType) -> DynSolValue {
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
pub(super) const STATUS_FACILITY: u8 = 3;

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
pub(super) fn prepare<'a>(
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
