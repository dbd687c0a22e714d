//! What a run of the cross-chain benchmark sets up before it submits a trade: the two nodes, both
//! sides' contracts, and the parties registered and funded on each chain.

use super::{AMOUNT, ATTESTORS, BenchOptions, THRESHOLD, UNITS};
use crate::{
    anvil::{self, AnvilInstance, AnvilOptions},
    chain::{Receipt, Tx},
    error::DeployerError,
    ops::Suite,
    plan::{Deployment, Plan, PreparedStep, StepRunner, SuiteAccounts, SuiteSpec, execute_with},
    profile::ChainProfile,
    rpc::RpcChain,
    xchain::{
        plan::{CrossChainSpec, Side, plan, xlabels},
        trade::TwoSuites,
    },
};
use alloy::{
    primitives::{Address, B256, U256, keccak256},
    providers::ext::AnvilApi,
    signers::local::PrivateKeySigner,
    sol_types::SolCall,
};
use kessai_bindings::{
    deposit_token::DepositToken, investor_registry::InvestorRegistry, security_token::SecurityToken,
};

/// Sends each wave of the plan's independent steps together, so a chain with interval mining
/// deploys in a few blocks rather than one block per step.
struct Waves;

impl StepRunner<RpcChain> for Waves {
    fn waves(&self, plan: &Plan) -> Vec<Vec<usize>> {
        plan.waves()
    }

    async fn run(&mut self, chain: &mut RpcChain, steps: &[&PreparedStep<'_>]) -> Result<Vec<Receipt>, DeployerError> {
        let txs: Vec<Tx> = steps.iter().map(|s| s.tx.clone()).collect();
        all_sent(chain.send_batch(&txs, |_, _| Ok(())).await)
    }
}

/// The receipts of a batch in which every transaction must succeed.
fn all_sent(results: Vec<Option<Result<Receipt, DeployerError>>>) -> Result<Vec<Receipt>, DeployerError> {
    let mut receipts = Vec::with_capacity(results.len());
    for result in results {
        match result {
            Some(result) => receipts.push(result?),
            None => return Err(DeployerError::Plan("a transaction of the batch was not sent".into())),
        }
    }
    Ok(receipts)
}

/// A transaction calling `to`.
fn tx<C: SolCall>(from: Address, to: Address, call: &C) -> Tx {
    Tx { from, to: Some(to), data: call.abi_encode().into() }
}

/// A key derived from a label (the bench's own accounts, the same on every run).
fn derived_key(label: &str) -> Result<PrivateKeySigner, DeployerError> {
    PrivateKeySigner::from_bytes(&keccak256(label))
        .map_err(|e| DeployerError::Keys(format!("cannot derive the key {label:?}: {e}")))
}

/// The first `count` keys of a role, each derived from the role's name and its number.
fn derived_keys(role: &str, count: usize) -> Result<Vec<PrivateKeySigner>, DeployerError> {
    (0..count).map(|i| derived_key(&format!("kessai xtrade bench {role} {i}"))).collect()
}

/// The registration of `account` as an investor in Japan, with a KYC that does not expire in a run.
fn registration(account: Address) -> InvestorRegistry::registerCall {
    InvestorRegistry::registerCall {
        account,
        investorClass: 0,
        country: 392,
        kycExpiry: 4_000_000_000,
        dataHash: B256::ZERO,
    }
}

/// Everything a run sets up.
pub(super) struct Setup {
    /// The asset chain's node and the payment chain's; both stop when the setup is dropped.
    pub(super) nodes: (AnvilInstance, AnvilInstance),
    /// Both chains' ids and the contracts a trade's terms name.
    pub(super) suites: TwoSuites,
    /// The attestors' keys, all of them configured on both verifiers.
    pub(super) attestors: Vec<PrivateKeySigner>,
    /// The relayer's key.
    pub(super) relayer: PrivateKeySigner,
    /// The sellers' keys on the asset chain, one for each seller/payer pair.
    pub(super) sellers: Vec<PrivateKeySigner>,
    /// The payers' keys on the payment chain, one for each seller/payer pair.
    pub(super) payers: Vec<PrivateKeySigner>,
    /// The buyers on the asset chain, taken in turn.
    pub(super) buyers: Vec<Address>,
    /// The payees on the payment chain, taken in turn.
    pub(super) payees: Vec<Address>,
}

/// Spawns both nodes, deploys both sides and registers and funds the parties: on A the sellers (with
/// units for their trades) and two buyers, on B the payers (with cash and ether) and two payees.
pub(super) async fn set_up(options: &BenchOptions, pairs: usize) -> Result<Setup, DeployerError> {
    let block_time = Some(options.block_time);
    let a_node = AnvilInstance::spawn(&AnvilOptions { block_time, ..AnvilOptions::emulating(ChainProfile::Ibet) })?;
    let b_node = AnvilInstance::spawn(&AnvilOptions { hardfork: None, block_time, ..AnvilOptions::default() })?;
    let dev = anvil::dev_signers();
    let mut a = RpcChain::connect_with(&a_node.endpoint(), dev.clone(), ChainProfile::Ibet.options())?;
    let mut b = RpcChain::connect(&b_node.endpoint(), dev.clone())?;
    let accounts = anvil::dev_accounts();
    let [operator, registrar, issuer, bank, authority, buyer_1, buyer_2, _, payee_1, payee_2] = accounts[..] else {
        return Err(DeployerError::Keys("Anvil's ten development accounts are needed".into()));
    };
    let attestors = derived_keys("attestor", ATTESTORS)?;
    let sellers = derived_keys("seller", pairs)?;
    let payers = derived_keys("payer", pairs)?;
    let suite = SuiteAccounts { operator, registrar, issuer, bank, authority };
    let (on_a, on_b) = deploy(&mut a, &mut b, suite, &attestors).await?;
    let (asset, pay_suite) = (Suite::from_deployment(&on_a)?, Suite::from_deployment(&on_b)?);

    let per_pair = U256::from(options.trades.div_ceil(pairs).max(1));
    let (buyers, payees) = (vec![buyer_1, buyer_2], vec![payee_1, payee_2]);
    let (funded_a, funded_b) = tokio::join!(
        fund_asset(&mut a, (registrar, issuer), &asset, &sellers, &buyers, per_pair),
        fund_payment(&mut b, bank, &pay_suite, &payers, &payees, per_pair),
    );
    funded_a?;
    funded_b?;
    Ok(Setup {
        suites: TwoSuites {
            asset_chain_id: on_a.chain_id,
            delivery: on_a.address(xlabels::DELIVERY)?,
            security: asset.security,
            payment_chain_id: on_b.chain_id,
            payment: on_b.address(xlabels::PAYMENT)?,
            cash: pay_suite.deposit,
        },
        nodes: (a_node, b_node),
        attestors,
        relayer: dev[7].clone(),
        sellers,
        payers,
        buyers,
        payees,
    })
}

/// Deploys the asset side on `a` and the payment side on `b` at the same time, with `accounts` in
/// the suite's roles and `attestors` in both verifiers' sets, and returns both deployments.
async fn deploy(
    a: &mut RpcChain,
    b: &mut RpcChain,
    accounts: SuiteAccounts,
    attestors: &[PrivateKeySigner],
) -> Result<(Deployment, Deployment), DeployerError> {
    let spec = CrossChainSpec {
        suite: SuiteSpec {
            accounts,
            security: ("Kessai Bond".into(), "KB".into()),
            deposit: ("DCJPY".into(), "DCJPY".into()),
            minting: Default::default(),
            extra_banks: Vec::new(),
            instrument: None,
        },
        attestors: attestors.iter().map(PrivateKeySigner::address).collect(),
        threshold: THRESHOLD,
        resolvers: vec![accounts.authority, accounts.registrar],
        resolution_approvals: 2,
        resolution_delay: 30 * 24 * 3_600,
    };
    let (plan_a, plan_b) = (plan(&spec, Side::Asset), plan(&spec, Side::Payment));
    let (mut waves_a, mut waves_b) = (Waves, Waves);
    let (on_a, on_b) = tokio::join!(execute_with(a, &plan_a, &mut waves_a), execute_with(b, &plan_b, &mut waves_b));
    Ok((on_a?, on_b?))
}

/// Registers the sellers and the buyers on the asset chain (sent by the registrar), then issues each
/// seller the units of `per_pair` trades (sent by the issuer).
async fn fund_asset(
    a: &mut RpcChain,
    (registrar, issuer): (Address, Address),
    asset: &Suite,
    sellers: &[PrivateKeySigner],
    buyers: &[Address],
    per_pair: U256,
) -> Result<Vec<Receipt>, DeployerError> {
    let seller_addrs = sellers.iter().map(PrivateKeySigner::address);
    let registered: Vec<Tx> = seller_addrs
        .clone()
        .chain(buyers.iter().copied())
        .map(|who| tx(registrar, asset.registry, &registration(who)))
        .collect();
    all_sent(a.send_batch(&registered, |_, _| Ok(())).await)?;
    let units = per_pair * U256::from(UNITS);
    let issued: Vec<Tx> =
        seller_addrs.map(|to| tx(issuer, asset.security, &SecurityToken::issueCall { to, amount: units })).collect();
    all_sent(a.send_batch(&issued, |_, _| Ok(())).await)
}

/// Gives each payer ether for gas, registers the payers and the payees with the bank on the payment
/// chain, then issues each payer the cash of `per_pair` trades (all sent by the bank).
async fn fund_payment(
    b: &mut RpcChain,
    bank: Address,
    pay_suite: &Suite,
    payers: &[PrivateKeySigner],
    payees: &[Address],
    per_pair: U256,
) -> Result<Vec<Receipt>, DeployerError> {
    let ether = U256::from(10u64).pow(U256::from(21u64));
    for payer in payers {
        b.provider().anvil_set_balance(payer.address(), ether).await.map_err(DeployerError::Rpc)?;
    }
    let payer_addrs = payers.iter().map(PrivateKeySigner::address);
    let registered: Vec<Tx> = payer_addrs
        .clone()
        .chain(payees.iter().copied())
        .map(|who| tx(bank, pay_suite.bank_registry, &registration(who)))
        .collect();
    all_sent(b.send_batch(&registered, |_, _| Ok(())).await)?;
    let cash = per_pair * U256::from(AMOUNT);
    let issued: Vec<Tx> = payer_addrs
        .enumerate()
        .map(|(i, to)| {
            let call = DepositToken::issueCall { to, amount: cash, depositRef: B256::from(U256::from(i + 1)) };
            tx(bank, pay_suite.deposit, &call)
        })
        .collect();
    all_sent(b.send_batch(&issued, |_, _| Ok(())).await)
}
