//! What every engine of the cross-chain benchmark settles: the generated trades, their parties, each
//! side's deployment and funding (the same calls on every engine), the four transactions of each
//! settlement with their proofs signed in advance, and the balances a run must end with.

use super::super::{
    ASSET_CHAIN, PAYMENT_CHAIN,
    world::{attestor_keys, deployment},
};
use crate::rng::Rng;
use kessai_bindings::{
    alloy::{
        primitives::{Address, B256, Bytes, U256, keccak256},
        signers::local::PrivateKeySigner,
        sol_types::SolCall,
    },
    cross_chain::{for_payment, states},
    cross_chain_delivery::CrossChainDelivery,
    cross_chain_payment::CrossChainPayment,
    security_token::SecurityToken,
};
use kessai_deployer::{
    DeployerError, anvil,
    chain::{GENESIS_TIMESTAMP, Tx},
    ops::{Registration, Suite},
    plan::{Deployment, execute},
    xchain::{
        Statement,
        plan::{Side, plan, xlabels},
        proof,
        trade::{Order, TwoSuites},
    },
};
use rayon::prelude::*;

/// Seller/payer pairs at most: each settlement is one pair's (in turn), so a pair settles
/// `trades / PAIRS` trades and no account sends more than its share.
pub(super) const PAIRS: usize = 64;

/// Both chains' clocks after setup: each moves to this time, so the blocks of a settlement on the
/// two chains compare (one hour after the fixed genesis, past any setup).
pub(super) const START: u64 = GENESIS_TIMESTAMP + 3_600;

/// Every trade is due this long after [`START`] on the payment chain's clock: no run reaches it.
const DUE_IN: u64 = 30 * 86_400;

/// The relayer's account (Anvil's development account 7, which holds no role): it sends every
/// commit and every delivery.
pub(super) fn relayer() -> Address {
    anvil::dev_accounts()[7]
}

/// A derived key of the benchmark's own parties (the same on every run).
fn derived(role: &str, i: usize) -> Result<PrivateKeySigner, DeployerError> {
    let label = format!("kessai sim bench --cross-chain {role} {i}");
    PrivateKeySigner::from_bytes(&keccak256(&label))
        .map_err(|e| DeployerError::Keys(format!("cannot derive the key {label:?}: {e}")))
}

/// One seller/payer pair and their counterparties: the seller and the buyer on the asset chain, the
/// payer and the payee on the payment chain, with what the pair's trades move in all.
#[derive(Clone, Debug)]
pub(super) struct Pair {
    pub(super) seller: PrivateKeySigner,
    pub(super) buyer: Address,
    pub(super) payer: PrivateKeySigner,
    pub(super) payee: Address,
    /// Units the seller delivers over its trades (issued to it in setup).
    pub(super) units: U256,
    /// Cash the payer pays over its trades (issued to it in setup).
    pub(super) cash: U256,
}

/// One generated trade: its pair and what it moves.
#[derive(Clone, Copy, Debug)]
pub(super) struct Trade {
    pub(super) pair: usize,
    pub(super) units: u64,
    pub(super) amount: u64,
}

/// The generated workload: `trades` trades among at most [`PAIRS`] pairs, each of 1 to 100 units
/// at 100 to 1,000 per unit, drawn from `seed`.
pub(super) struct Workload {
    pub(super) pairs: Vec<Pair>,
    pub(super) trades: Vec<Trade>,
}

impl Workload {
    /// Draws the trades and derives the parties' keys.
    pub(super) fn generate(trades: usize, seed: u64) -> Result<Self, DeployerError> {
        let mut rng = Rng::from_state(seed ^ 0x0b3e_c4c5_5c4a_1d01);
        let count = trades.clamp(1, PAIRS);
        let mut pairs = (0..count)
            .map(|i| {
                Ok(Pair {
                    seller: derived("seller", i)?,
                    buyer: derived("buyer", i)?.address(),
                    payer: derived("payer", i)?,
                    payee: derived("payee", i)?.address(),
                    units: U256::ZERO,
                    cash: U256::ZERO,
                })
            })
            .collect::<Result<Vec<Pair>, DeployerError>>()?;
        let trades: Vec<Trade> = (0..trades)
            .map(|i| {
                let units = rng.range(1, 100);
                Trade { pair: i % count, units, amount: units * rng.range(100, 1_000) }
            })
            .collect();
        for t in &trades {
            pairs[t.pair].units += U256::from(t.units);
            pairs[t.pair].cash += U256::from(t.amount);
        }
        Ok(Self { pairs, trades })
    }

    /// The keys that send on `side`'s chain besides the suite's roles: the sellers or the payers.
    pub(super) fn senders(&self, side: Side) -> Vec<PrivateKeySigner> {
        let key = |p: &Pair| if side == Side::Asset { p.seller.clone() } else { p.payer.clone() };
        self.pairs.iter().map(key).collect()
    }

    /// The balance every party must hold on `side`'s chain once the first `settled` trades have
    /// settled: the token, the holder and the amount.
    pub(super) fn expected(&self, side: Side, suites: &TwoSuites, settled: usize) -> Vec<(Address, Address, U256)> {
        let mut moved = vec![(U256::ZERO, U256::ZERO); self.pairs.len()];
        for t in self.trades.iter().take(settled) {
            moved[t.pair].0 += U256::from(t.units);
            moved[t.pair].1 += U256::from(t.amount);
        }
        let mut expected = Vec::with_capacity(2 * self.pairs.len());
        for (p, (units, cash)) in self.pairs.iter().zip(moved) {
            if side == Side::Asset {
                expected.push((suites.security, p.seller.address(), p.units - units));
                expected.push((suites.security, p.buyer, units));
            } else {
                expected.push((suites.cash, p.payer.address(), p.cash - cash));
                expected.push((suites.cash, p.payee, cash));
            }
        }
        expected
    }
}

/// Deploys `side`'s contracts on `chain`, registers that side's parties and issues the sellers their
/// units (asset side) or the payers their cash (payment side), then moves the clock to [`START`].
/// The same calls on every engine, so every engine starts from the same state.
pub(super) async fn set_up_side<C: kessai_deployer::chain::Chain>(
    chain: &mut C,
    side: Side,
    workload: &Workload,
) -> Result<Deployment, DeployerError> {
    let spec = deployment(2)?;
    let roles = spec.suite.accounts;
    let deployment = execute(chain, &plan(&spec, side)).await?;
    let suite = Suite::from_deployment(&deployment)?;
    let id = Registration { class: 0, country: 392, kyc_expiry: u64::from(u32::MAX), data_hash: B256::ZERO };
    for (i, p) in workload.pairs.iter().enumerate() {
        if side == Side::Asset {
            suite.register(chain, suite.registry, roles.registrar, p.seller.address(), id).await?;
            suite.register(chain, suite.registry, roles.registrar, p.buyer, id).await?;
            suite.issue_security(chain, roles.issuer, p.seller.address(), p.units).await?;
        } else {
            suite.register(chain, suite.bank_registry, roles.bank, p.payer.address(), id).await?;
            suite.register(chain, suite.bank_registry, roles.bank, p.payee, id).await?;
            let reference = B256::from(U256::from(i + 1));
            suite.issue_deposit(chain, roles.bank, p.payer.address(), p.cash, reference).await?;
        }
    }
    let now = chain.timestamp().await?;
    chain.advance_time(START.saturating_sub(now).max(1)).await?;
    Ok(deployment)
}

/// Both chains' contracts a trade's terms name, from each side's deployment.
pub(super) fn suites(on_a: &Deployment, on_b: &Deployment) -> Result<TwoSuites, DeployerError> {
    Ok(TwoSuites {
        asset_chain_id: ASSET_CHAIN,
        delivery: on_a.address(xlabels::DELIVERY)?,
        security: Suite::from_deployment(on_a)?.security,
        payment_chain_id: PAYMENT_CHAIN,
        payment: on_b.address(xlabels::PAYMENT)?,
        cash: Suite::from_deployment(on_b)?.deposit,
    })
}

/// Every settlement's transactions on each chain, in the order every engine sends them: on the
/// asset chain the seller's `lock` then the relayer's `deliver` of each trade in turn, on the
/// payment chain the payer's `pay` then the relayer's `commit`.
#[derive(Clone, Debug)]
pub(super) struct Transactions {
    /// `[lock₀, deliver₀, lock₁, deliver₁, …]`.
    pub(super) asset: Vec<Tx>,
    /// `[pay₀, commit₀, pay₁, commit₁, …]`.
    pub(super) payment: Vec<Tx>,
}

impl Transactions {
    /// Side `side`'s transactions.
    pub(super) fn of(&self, side: Side) -> &[Tx] {
        if side == Side::Asset { &self.asset } else { &self.payment }
    }
}

/// The two attestors' proof of `statement` (threshold 2 of the three configured).
fn signed_proof(statement: &Statement, keys: &[PrivateKeySigner]) -> Result<Bytes, DeployerError> {
    let attestations = keys[..2].iter().map(|k| statement.sign(k)).collect::<Result<Vec<_>, _>>()?;
    let set: Vec<Address> = keys.iter().map(PrivateKeySigner::address).collect();
    proof(statement, &attestations, &set, 2)
        .ok_or_else(|| DeployerError::Answer(format!("two attestors' signatures do not prove {statement}")))
}

/// Builds every settlement's four transactions, signing each lock proof (state `Locked` on the
/// asset chain's delivery contract) and commit proof (`Committed` on the payment chain's payment
/// contract) in advance, on every core: the statements follow from the terms alone.
pub(super) fn transactions(workload: &Workload, suites: &TwoSuites) -> Result<Transactions, DeployerError> {
    let keys = attestor_keys()?;
    let relayer = relayer();
    let deadline = START + DUE_IN;
    let per_trade: Vec<[Tx; 4]> = workload
        .trades
        .par_iter()
        .enumerate()
        .map(|(i, t)| {
            let p = &workload.pairs[t.pair];
            let order = Order {
                seller: p.seller.address(),
                buyer: p.buyer,
                units: U256::from(t.units),
                payer: p.payer.address(),
                payee: p.payee,
                amount: U256::from(t.amount),
            };
            let terms = suites.terms(&order, B256::from(U256::from(i + 1)), deadline);
            let lock_proof = signed_proof(&suites.statement(&terms, states::LOCKED), &keys)?;
            let commit_proof = signed_proof(&suites.statement(&terms, states::COMMITTED), &keys)?;
            let tx = |from, to, data: Vec<u8>| Tx { from, to: Some(to), data: data.into() };
            let paying = for_payment(&terms);
            Ok([
                tx(order.seller, suites.delivery, CrossChainDelivery::lockCall { terms: terms.clone() }.abi_encode()),
                tx(
                    relayer,
                    suites.delivery,
                    CrossChainDelivery::deliverCall { terms, commitProof: commit_proof }.abi_encode(),
                ),
                tx(order.payer, suites.payment, CrossChainPayment::payCall { terms: paying.clone() }.abi_encode()),
                tx(
                    relayer,
                    suites.payment,
                    CrossChainPayment::commitCall {
                        terms: paying,
                        lockProof: lock_proof,
                        payerSignature: Bytes::new(),
                    }
                    .abi_encode(),
                ),
            ])
        })
        .collect::<Result<_, DeployerError>>()?;
    let mut txs = Transactions {
        asset: Vec::with_capacity(2 * per_trade.len()),
        payment: Vec::with_capacity(2 * per_trade.len()),
    };
    for [lock, deliver, pay, commit] in per_trade {
        txs.asset.extend([lock, deliver]);
        txs.payment.extend([pay, commit]);
    }
    Ok(txs)
}

/// The calldata of `balanceOf(holder)` (the same selector on the security and the deposit token).
pub(super) fn balance_of(holder: Address) -> Bytes {
    SecurityToken::balanceOfCall { account: holder }.abi_encode().into()
}

/// Compares the balance `read` gives for each expected `(token, holder, amount)`; the number of
/// balances checked, or the first that differs.
pub(super) fn compare(
    engine: &str,
    side: Side,
    expected: &[(Address, Address, U256)],
    mut read: impl FnMut(Address, Address) -> Result<U256, DeployerError>,
) -> Result<usize, DeployerError> {
    for (token, holder, amount) in expected {
        let found = read(*token, *holder)?;
        if found != *amount {
            return Err(DeployerError::Answer(format!(
                "{engine}: {holder} holds {found} of {token} on the {} chain, {amount} expected after the run",
                side_name(side)
            )));
        }
    }
    Ok(expected.len())
}

/// Reads every expected balance on `chain` through the engine trait and compares it.
pub(super) async fn check_chain<C: kessai_deployer::chain::Chain>(
    engine: &str,
    chain: &mut C,
    side: Side,
    expected: &[(Address, Address, U256)],
) -> Result<usize, DeployerError> {
    let mut found = Vec::with_capacity(expected.len());
    for (token, holder, _) in expected {
        found.push(chain.read(*token, &SecurityToken::balanceOfCall { account: *holder }).await?);
    }
    let mut answers = found.into_iter();
    compare(engine, side, expected, |_, _| {
        answers.next().ok_or_else(|| DeployerError::Answer("a balance was not read".into()))
    })
}

/// `asset` or `payment`.
pub(super) fn side_name(side: Side) -> &'static str {
    if side == Side::Asset { "asset" } else { "payment" }
}
