//! Preflight: before a deployment sends anything, check that the chain can run the suite and that
//! every sender can pay for its transactions, and refuse with a sentence that says what to do.
//!
//! Checks, in order: the chain id (against the config, profile or manifest); whether the chain
//! executes every later opcode the suite's code uses (each probed with a two-instruction creation
//! call, so an EVM older than the code needs is refused naming the missing opcode and the contracts
//! that use it; the floor is Istanbul, for CHAINID; PUSH0 is reported but not needed); a simulated
//! creation of every contract of the plan (which also catches a code-size limit below the suite's
//! contracts); how the engine will price its transactions (legacy or EIP-1559, zero on a gas-free
//! chain); and each sender's balance against its share of the estimated gas.
//!
//! Every request goes through the engine's retry path ([`RpcChain::retry`]): a request that failed
//! in transport is tried again with backoff, and one that still fails is reported as the transport
//! failure it is ([`DeployerError::Transport`]) — never as a contract that cannot be created or an
//! opcode the chain lacks.

use crate::{
    error::DeployerError,
    plan::{Arg, Plan, Step, creation_code},
    profile::Hardfork,
    rpc::{Pricing, RpcChain},
};
use alloy::{
    dyn_abi::DynSolValue,
    eips::BlockNumberOrTag,
    network::TransactionBuilder,
    primitives::{Address, Bytes, U256},
    providers::Provider,
    rpc::types::TransactionRequest,
};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// Opcodes introduced after Frontier that compiled Solidity may contain: (opcode, name, hard fork,
/// stack inputs, stack outputs).
const LATER_OPCODES: &[(u8, &str, &str, u8, u8)] = &[
    (0x3d, "RETURNDATASIZE", "Byzantium", 0, 1),
    (0x3e, "RETURNDATACOPY", "Byzantium", 3, 0),
    (0xfa, "STATICCALL", "Byzantium", 6, 1),
    (0x1b, "SHL", "Constantinople", 2, 1),
    (0x1c, "SHR", "Constantinople", 2, 1),
    (0x1d, "SAR", "Constantinople", 2, 1),
    (0x3f, "EXTCODEHASH", "Constantinople", 1, 1),
    (0xf5, "CREATE2", "Constantinople", 4, 1),
    (0x46, "CHAINID", "Istanbul", 0, 1),
    (0x47, "SELFBALANCE", "Istanbul", 0, 1),
    (0x48, "BASEFEE", "London", 0, 1),
    (0x5f, "PUSH0", "Shanghai", 0, 1),
    (0x49, "BLOBHASH", "Cancun", 1, 1),
    (0x4a, "BLOBBASEFEE", "Cancun", 0, 1),
    (0x5c, "TLOAD", "Cancun", 1, 1),
    (0x5d, "TSTORE", "Cancun", 2, 0),
    (0x5e, "MCOPY", "Cancun", 3, 0),
];

/// The oldest EVM rules the suite's code runs on: it uses CHAINID (EIP-712 domains), which
/// Istanbul introduced.
pub const MINIMUM_HARDFORK: Hardfork = Hardfork::Istanbul;

/// What preflight found.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PreflightReport {
    /// The node's chain id.
    pub chain_id: u64,
    /// True when the node's blocks carry a base fee (EIP-1559); false for a legacy-only chain. What
    /// the engine sends is [`PreflightReport::pricing`].
    pub eip1559: bool,
    /// The node's gas price (0 on a zero-gas chain).
    pub gas_price: u128,
    /// How the engine prices the transactions it sends (what it will actually send).
    pub pricing: Pricing,
    /// The most the engine pays per gas (what the funding check uses).
    pub price: u128,
    /// Whether the chain executes PUSH0 (Shanghai). The artifacts do not need it.
    pub push0: bool,
    /// The later opcodes the suite's code uses, all found executable.
    pub opcodes: Vec<String>,
    /// Estimated gas of each contract creation, by label.
    pub creations: BTreeMap<String, u64>,
    /// Each sender's balance and what its transactions may cost, in wei.
    pub funding: Vec<Funding>,
}

/// A sender's balance against its estimated cost.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Funding {
    /// The sender.
    pub account: Address,
    /// Transactions it sends in the plan.
    pub transactions: usize,
    /// Its balance, in wei.
    pub balance: U256,
    /// Upper estimate of what its transactions cost, in wei.
    pub needed: U256,
}

/// Gas assumed for a plan step that is not a creation (role grants, wiring).
const CALL_GAS: u64 = 150_000;

/// Opcodes in `code`, walking over PUSH data; bytes after the last INVALID (0xfe) are solc's data
/// section and are not code.
fn opcodes(code: &[u8]) -> BTreeSet<u8> {
    let mut seen = Vec::new();
    let (mut pc, mut code_end) = (0, None);
    while pc < code.len() {
        let op = code[pc];
        if op == 0xfe {
            code_end = Some(seen.len());
        }
        seen.push(op);
        pc += 1 + if (0x60..=0x7f).contains(&op) { usize::from(op - 0x5f) } else { 0 };
    }
    if let Some(end) = code_end {
        seen.truncate(end);
    }
    seen.into_iter().collect()
}

/// A creation call that pushes `inputs` zeros, runs `op`, pops its outputs and stops.
fn probe(op: u8, inputs: u8, outputs: u8) -> Bytes {
    let mut code = Vec::new();
    for _ in 0..inputs {
        code.extend_from_slice(&[0x60, 0x00]);
    }
    code.push(op);
    code.extend(std::iter::repeat_n(0x50, usize::from(outputs)));
    code.push(0x00);
    code.into()
}

/// The node's verdict on a creation: `Ok(Ok(gas))`, `Ok(Err(refusal))` when the node refuses it, and
/// `Err` when the node could not be asked (a transport failure that outlasted the retries).
async fn simulate(chain: &RpcChain, from: Address, data: Bytes) -> Result<Result<u64, DeployerError>, DeployerError> {
    let req = TransactionRequest::default().with_from(from).with_input(data).into_create();
    verdict(chain.retry("eth_estimateGas", || chain.provider().estimate_gas(req.clone())).await)
}

/// Whether the node executes `code` as a creation (see [`simulate`] for the layers of the result).
async fn executes(chain: &RpcChain, from: Address, code: Bytes) -> Result<bool, DeployerError> {
    let req = TransactionRequest::default().with_from(from).with_input(code).into_create();
    Ok(verdict(chain.retry("eth_call", || chain.provider().call(req.clone())).await)?.is_ok())
}

/// Splits a request's error into the node's answer (inner) and a failure to reach it (outer).
fn verdict<T>(result: Result<T, DeployerError>) -> Result<Result<T, DeployerError>, DeployerError> {
    match result {
        Err(e @ DeployerError::Transport { .. }) => Err(e),
        other => Ok(other),
    }
}

/// Runs the checks for `plan` on `chain`; `expected` is the chain id of the config or manifest and
/// where it comes from (e.g. "the config deployments/prod.toml"). Sends nothing.
pub async fn check(
    chain: &RpcChain,
    plan: &Plan,
    expected: Option<(u64, &str)>,
) -> Result<PreflightReport, DeployerError> {
    check_with(chain, plan, expected, true).await
}

/// [`check`], with the funding check optional: a resumed deployment has already paid for the steps
/// an earlier run finished, so it checks the chain but not the full budget.
pub async fn check_with(
    chain: &RpcChain,
    plan: &Plan,
    expected: Option<(u64, &str)>,
    funding_check: bool,
) -> Result<PreflightReport, DeployerError> {
    let chain_id = check_chain_id(chain, expected).await?;
    let (eip1559, gas_price) = node_fees(chain).await?;
    let PlanSurvey { mut senders, users, creations: to_simulate, probe_from } = survey(plan)?;
    let (opcodes, push0) = probe_opcodes(chain, probe_from, &users).await?;
    let creations = simulate_creations(chain, to_simulate, &mut senders).await?;
    let pricing = chain.pricing().await?;
    let price = pricing.price();
    let funding = fund_senders(chain, senders, price, funding_check).await?;
    Ok(PreflightReport { chain_id, eip1559, gas_price, pricing, price, push0, opcodes, creations, funding })
}

/// The node's chain id, refused when it is not the `expected` one.
async fn check_chain_id(chain: &RpcChain, expected: Option<(u64, &str)>) -> Result<u64, DeployerError> {
    let chain_id = chain.retry("eth_chainId", || chain.provider().get_chain_id()).await?;
    if let Some((want, source)) = expected
        && want != chain_id
    {
        return Err(DeployerError::Preflight(format!(
            "the node reports chain id {chain_id}, but {source} is for chain {want}: point --rpc-url at chain {want}, \
             or change the chain id there if this chain is the right one"
        )));
    }
    Ok(chain_id)
}

/// Whether the node's latest block carries a base fee (EIP-1559), and the node's gas price.
async fn node_fees(chain: &RpcChain) -> Result<(bool, u128), DeployerError> {
    let provider = chain.provider();
    let latest = chain
        .retry("eth_getBlockByNumber", || provider.get_block_by_number(BlockNumberOrTag::Latest))
        .await?
        .ok_or_else(|| DeployerError::Preflight("the node returned no latest block".into()))?;
    let gas_price = chain.retry("eth_gasPrice", || provider.get_gas_price()).await?;
    Ok((latest.header.base_fee_per_gas.is_some(), gas_price))
}

/// What preflight needs to know of a plan before asking the chain anything.
struct PlanSurvey {
    /// Each sender's transaction count and gas so far (calls only; creations are added once simulated).
    senders: BTreeMap<Address, (usize, u64)>,
    /// The artifacts whose code (creation or runtime) contains each opcode.
    users: BTreeMap<u8, BTreeSet<String>>,
    /// The plan's creations, in plan order.
    creations: Vec<Creation>,
    /// The account the opcode probes are sent from (the plan's first sender).
    probe_from: Address,
}

/// A contract creation of the plan, ready to simulate.
struct Creation {
    label: String,
    artifact: String,
    from: Address,
    data: Bytes,
    runtime_len: usize,
}

/// Senders, and the code each contract of the plan runs (creation and runtime).
fn survey(plan: &Plan) -> Result<PlanSurvey, DeployerError> {
    let mut senders: BTreeMap<Address, (usize, u64)> = BTreeMap::new();
    let mut users: BTreeMap<u8, BTreeSet<String>> = BTreeMap::new();
    let mut creations = Vec::new();
    let probe_from = plan.steps.iter().map(step_sender).next().unwrap_or(Address::ZERO);
    for step in &plan.steps {
        let entry = senders.entry(step_sender(step)).or_insert((0, 0));
        entry.0 += 1;
        let Step::Deploy { label, artifact, from, args } = step else {
            entry.1 += CALL_GAS;
            continue;
        };
        let values: Vec<DynSolValue> = args.iter().map(placeholder).collect();
        let data = creation_code(artifact, &values)?;
        let runtime = runtime_code(artifact);
        for op in opcodes(&data).into_iter().chain(opcodes(runtime)) {
            users.entry(op).or_default().insert(artifact.clone());
        }
        creations.push(Creation {
            label: label.clone(),
            artifact: artifact.clone(),
            from: *from,
            data,
            runtime_len: runtime.len(),
        });
    }
    Ok(PlanSurvey { senders, users, creations, probe_from })
}

/// The committed runtime code of `artifact` (empty when there is no such artifact).
fn runtime_code(artifact: &str) -> &'static [u8] {
    kessai_bindings::artifact(artifact).map_or(&[], |a| &a.deployed_bytecode)
}

/// Probes every later opcode the suite's code uses, refusing a chain that lacks one; returns the
/// names of those found executable and whether PUSH0 is.
///
/// Opcodes come before the simulated creations, so a chain too old for the code is named by the
/// opcode it lacks (and the contracts that need it) rather than by a failed creation. A baseline
/// probe first, so a node that cannot simulate creations is not misread.
async fn probe_opcodes(
    chain: &RpcChain,
    from: Address,
    users: &BTreeMap<u8, BTreeSet<String>>,
) -> Result<(Vec<String>, bool), DeployerError> {
    let mut opcodes_ok = Vec::new();
    let mut push0 = false;
    if !executes(chain, from, probe(0x60, 0, 0)).await? {
        tracing::warn!(target: "kessai::deploy", "the node cannot simulate creations; opcode probes skipped");
        return Ok((opcodes_ok, push0));
    }
    for &(op, name, fork, inputs, outputs) in LATER_OPCODES {
        let ok = executes(chain, from, probe(op, inputs, outputs)).await?;
        if op == 0x5f {
            push0 = ok;
        }
        if let Some(contracts) = users.get(&op) {
            if !ok {
                return Err(missing_opcode(op, name, fork, contracts));
            }
            opcodes_ok.push(name.to_string());
        }
    }
    Ok((opcodes_ok, push0))
}

/// The refusal of a chain that does not execute `op`, which `contracts` use.
fn missing_opcode(op: u8, name: &str, fork: &str, contracts: &BTreeSet<String>) -> DeployerError {
    let contracts = contracts.iter().cloned().collect::<Vec<_>>().join(", ");
    DeployerError::Preflight(format!(
        "the chain does not execute {name} (opcode 0x{op:02x}, introduced in {fork}), which {contracts} \
         use{}: kessai's contracts need EVM rules of {MINIMUM_HARDFORK} or newer (Berlin, as on ibet for \
         Fin, works; PUSH0 is not needed). Upgrade the chain's EVM, or deploy elsewhere",
        if contracts.contains(',') { "" } else { "s" }
    ))
}

/// Simulates every creation, adding its gas to its sender's share; returns the gas by label.
async fn simulate_creations(
    chain: &RpcChain,
    creations: Vec<Creation>,
    senders: &mut BTreeMap<Address, (usize, u64)>,
) -> Result<BTreeMap<String, u64>, DeployerError> {
    let mut gas_by_label = BTreeMap::new();
    for Creation { label, artifact, from, data, runtime_len } in creations {
        let gas = simulate(chain, from, data).await?.map_err(|e| {
            DeployerError::Preflight(format!(
                "creating {artifact} ({label}, {runtime_len} bytes of runtime code) would fail on this chain: {e}. The \
                 chain may limit contract size below that, or refuse the sender"
            ))
        })?;
        gas_by_label.insert(label, gas);
        senders.entry(from).or_insert((0, 0)).1 += gas;
    }
    Ok(gas_by_label)
}

/// Each sender's balance against its share at `price`, the price the engine will pay (a fixed
/// legacy price when one is configured, e.g. 0 on a zero-gas chain; EIP-1559: twice the base fee
/// plus the tip), with a fifth more for estimate drift. With `funding_check`, a sender short of its
/// share is refused.
async fn fund_senders(
    chain: &RpcChain,
    senders: BTreeMap<Address, (usize, u64)>,
    price: u128,
    funding_check: bool,
) -> Result<Vec<Funding>, DeployerError> {
    let mut funding = Vec::new();
    let mut short = Vec::new();
    for (account, (transactions, gas)) in senders {
        let balance = chain.retry("eth_getBalance", || chain.provider().get_balance(account)).await?;
        let needed = U256::from(gas + gas / 5) * U256::from(price);
        if balance < needed {
            short.push(format!(
                "{account} holds {balance} wei but its {transactions} transaction(s) need up to {needed} wei at {price} wei per gas"
            ));
        }
        funding.push(Funding { account, transactions, balance, needed });
    }
    if funding_check && !short.is_empty() {
        return Err(DeployerError::Preflight(format!(
            "{}: fund these accounts (or deploy on a chain with a zero gas price)",
            short.join("; ")
        )));
    }
    Ok(funding)
}

/// The account that sends `step`.
fn step_sender(step: &Step) -> Address {
    match step {
        Step::Deploy { from, .. }
        | Step::GrantRole { from, .. }
        | Step::SetFacility { from, .. }
        | Step::Call { from, .. } => *from,
    }
}

/// A stand-in for a constructor argument: contract references become a fixed non-zero address.
fn placeholder(arg: &Arg) -> DynSolValue {
    match arg {
        Arg::Address(a) => DynSolValue::Address(*a),
        Arg::Contract(_) => DynSolValue::Address(Address::repeat_byte(0x11)),
        Arg::String(s) => DynSolValue::String(s.clone()),
        Arg::Uint(u) => DynSolValue::Uint(*u, 256),
        Arg::Tuple(items) => DynSolValue::Tuple(items.iter().map(placeholder).collect()),
        Arg::Array(items) => DynSolValue::Array(items.iter().map(placeholder).collect()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probes_push_their_inputs_and_pop_their_outputs() {
        assert_eq!(probe(0x1b, 2, 1).to_vec(), vec![0x60, 0, 0x60, 0, 0x1b, 0x50, 0x00]);
        assert_eq!(probe(0x46, 0, 1).to_vec(), vec![0x46, 0x50, 0x00]);
    }

    #[test]
    fn the_data_section_after_the_last_invalid_is_not_code() {
        // PUSH1 0x5f, SHL, INVALID, then data bytes 0x5f 0x46.
        let ops = opcodes(&[0x60, 0x5f, 0x1b, 0xfe, 0x5f, 0x46]);
        assert!(ops.contains(&0x1b) && ops.contains(&0x60));
        assert!(!ops.contains(&0x5f) && !ops.contains(&0x46), "{ops:?}");
    }
}
