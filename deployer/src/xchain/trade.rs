//! One cross-chain trade, step by step, as `kessai xtrade` drives it: the seller locks on the asset
//! chain, the payer pays on the payment chain, and anyone commits, aborts, delivers or returns with
//! the proofs the attestors signed into their inbox. [`status`] reads the trade on both chains.
//!
//! The relayer ([`super::relay`]) takes the same steps by itself; these functions are for an operator
//! who takes them by hand, or who wants to see where a trade stands.

use super::{
    Statement,
    plan::{Side, xlabels},
    proof,
    relay::{Endpoint, attestor_set, locked_trades, read_inbox},
    terms_hash,
};
use crate::{
    address,
    chain::{Chain, Receipt},
    error::DeployerError,
    events::decimal,
    plan::{Deployment, labels},
};
use alloy::{
    primitives::{Address, B256, Bytes, U256},
    signers::{SignerSync, local::PrivateKeySigner},
    sol_types::SolEvent,
};
use kessai_bindings::{
    cross_chain::{Terms, for_payment, state_name, states},
    cross_chain_delivery::CrossChainDelivery,
    cross_chain_payment::CrossChainPayment,
};
use serde::{Deserialize, Serialize};
use std::{fmt, path::Path};

/// Both chains' contracts of a cross-chain deployment, as the two manifests record them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct TwoSuites {
    /// The asset chain's id.
    pub asset_chain_id: u64,
    /// The asset chain's delivery contract.
    pub delivery: Address,
    /// The security token on the asset chain.
    pub security: Address,
    /// The payment chain's id.
    pub payment_chain_id: u64,
    /// The payment chain's payment contract.
    pub payment: Address,
    /// The deposit token on the payment chain.
    pub cash: Address,
}

impl TwoSuites {
    /// The contracts of the asset chain's and the payment chain's deployments; refused when either
    /// deployment lacks its side's contracts (a manifest of the other side, or of a single chain).
    pub fn from_deployments(asset: &Deployment, payment: &Deployment) -> Result<Self, DeployerError> {
        let side = |d: &Deployment, label: &str, which: &str| {
            d.address(label).map_err(|_| {
                DeployerError::Config(format!(
                    "the {which} chain's manifest (chain {}) has no `{label}` contract: give the manifest `kessai \
                     deploy` wrote for the {which} side of a cross-chain config",
                    d.chain_id
                ))
            })
        };
        if asset.chain_id == payment.chain_id {
            return Err(DeployerError::Config(format!(
                "both manifests are for chain {}: give the asset chain's and the payment chain's",
                asset.chain_id
            )));
        }
        Ok(Self {
            asset_chain_id: asset.chain_id,
            delivery: side(asset, xlabels::DELIVERY, "asset")?,
            security: side(asset, labels::SECURITY, "asset")?,
            payment_chain_id: payment.chain_id,
            payment: side(payment, xlabels::PAYMENT, "payment")?,
            cash: side(payment, labels::DEPOSIT, "payment")?,
        })
    }

    /// One side's settlement contract as the attestor and relayer see it (final at once).
    pub fn endpoint(&self, side: Side) -> Endpoint {
        match side {
            Side::Asset => Endpoint { chain_id: self.asset_chain_id, contract: self.delivery, confirmations: 0 },
            Side::Payment => Endpoint { chain_id: self.payment_chain_id, contract: self.payment, confirmations: 0 },
        }
    }

    /// The whole terms of `order` with trade id `id`, due at `deadline` on the payment chain's clock.
    pub fn terms(&self, order: &Order, id: B256, deadline: u64) -> Terms {
        Terms {
            id,
            assetChainId: U256::from(self.asset_chain_id),
            delivery: self.delivery,
            security: self.security,
            seller: order.seller,
            buyer: order.buyer,
            units: order.units,
            paymentChainId: U256::from(self.payment_chain_id),
            payment: self.payment,
            cash: self.cash,
            payer: order.payer,
            payee: order.payee,
            amount: order.amount,
            deadline,
        }
    }

    /// The statement that `state` is recorded for `terms`: on the asset chain for `Locked`, on the
    /// payment chain otherwise.
    pub fn statement(&self, terms: &Terms, state: u8) -> Statement {
        let side = if state == states::LOCKED { Side::Asset } else { Side::Payment };
        let at = self.endpoint(side);
        Statement {
            chain_id: at.chain_id,
            source: at.contract,
            trade_id: terms.id,
            state,
            terms_hash: terms_hash(terms),
        }
    }
}

/// What seller and buyer agreed, before it names the chains: the parties on each chain, the units
/// and the amount (a JSON file for `kessai xtrade create`).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Order {
    /// The seller's account on the asset chain.
    #[serde(deserialize_with = "address::deserialize")]
    pub seller: Address,
    /// The buyer's account on the asset chain.
    #[serde(deserialize_with = "address::deserialize")]
    pub buyer: Address,
    /// The units of the security token.
    #[serde(deserialize_with = "crate::amount::deserialize")]
    pub units: U256,
    /// The buyer's paying account on the payment chain.
    #[serde(deserialize_with = "address::deserialize")]
    pub payer: Address,
    /// The seller's receiving account on the payment chain.
    #[serde(deserialize_with = "address::deserialize")]
    pub payee: Address,
    /// The amount of the deposit token.
    #[serde(deserialize_with = "crate::amount::deserialize")]
    pub amount: U256,
}

impl Order {
    /// Reads the order at `path`, naming the file when it cannot.
    pub fn load(path: &Path) -> Result<Self, DeployerError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| DeployerError::Config(format!("cannot read the order {}: {e}", path.display())))?;
        serde_json::from_str(&text).map_err(|e| {
            DeployerError::Config(format!(
                "the order {}: {e} (give seller, buyer, units, payer, payee and amount)",
                path.display()
            ))
        })
    }
}

/// The whole terms as a JSON file: the fields of `CrossChainTerms.Terms` under their Solidity names,
/// amounts as decimal strings. `kessai xtrade create` writes one; every other step reads it back.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[allow(missing_docs)]
pub struct TermsFile {
    pub id: B256,
    pub asset_chain_id: u64,
    pub delivery: Address,
    pub security: Address,
    pub seller: Address,
    pub buyer: Address,
    #[serde(with = "decimal")]
    pub units: U256,
    pub payment_chain_id: u64,
    pub payment: Address,
    pub cash: Address,
    pub payer: Address,
    pub payee: Address,
    #[serde(with = "decimal")]
    pub amount: U256,
    pub deadline: u64,
}

impl From<&Terms> for TermsFile {
    fn from(t: &Terms) -> Self {
        Self {
            id: t.id,
            asset_chain_id: t.assetChainId.saturating_to(),
            delivery: t.delivery,
            security: t.security,
            seller: t.seller,
            buyer: t.buyer,
            units: t.units,
            payment_chain_id: t.paymentChainId.saturating_to(),
            payment: t.payment,
            cash: t.cash,
            payer: t.payer,
            payee: t.payee,
            amount: t.amount,
            deadline: t.deadline,
        }
    }
}

impl From<&TermsFile> for Terms {
    fn from(t: &TermsFile) -> Self {
        Self {
            id: t.id,
            assetChainId: U256::from(t.asset_chain_id),
            delivery: t.delivery,
            security: t.security,
            seller: t.seller,
            buyer: t.buyer,
            units: t.units,
            paymentChainId: U256::from(t.payment_chain_id),
            payment: t.payment,
            cash: t.cash,
            payer: t.payer,
            payee: t.payee,
            amount: t.amount,
            deadline: t.deadline,
        }
    }
}

/// The terms of a trade: from a terms file (`kessai xtrade create --out` wrote it), or by its terms
/// hash from the asset chain's `Locked` events. Refused when the terms name other contracts than
/// `suites`.
pub async fn find<A: Chain>(a: &mut A, suites: &TwoSuites, trade: &str) -> Result<Terms, DeployerError> {
    let terms = match trade.parse::<B256>() {
        Ok(hash) if trade.len() == 66 => {
            locked_trades(a, suites.delivery, None).await?.remove(&hash).ok_or_else(|| {
                DeployerError::Answer(format!(
                    "no trade with terms hash {hash} was locked by {} on chain {}: check the hash, or give the terms \
                     file `kessai xtrade create --out` wrote",
                    suites.delivery, suites.asset_chain_id
                ))
            })?
        }
        _ => {
            let path = Path::new(trade);
            let text = std::fs::read_to_string(path).map_err(|e| {
                DeployerError::Config(format!(
                    "{trade} is neither a terms hash (0x and 64 hex digits) nor a terms file: {e}"
                ))
            })?;
            let file: TermsFile = serde_json::from_str(&text)
                .map_err(|e| DeployerError::Config(format!("the terms file {trade}: {e}")))?;
            Terms::from(&file)
        }
    };
    let names = (terms.delivery, terms.payment, terms.assetChainId, terms.paymentChainId);
    let ours =
        (suites.delivery, suites.payment, U256::from(suites.asset_chain_id), U256::from(suites.payment_chain_id));
    if names != ours {
        return Err(DeployerError::Config(format!(
            "the trade's terms name the delivery contract {} on chain {} and the payment contract {} on chain {}, \
             but the manifests name {} on chain {} and {} on chain {}: give the manifests of the trade's deployment",
            terms.delivery,
            terms.assetChainId,
            terms.payment,
            terms.paymentChainId,
            suites.delivery,
            suites.asset_chain_id,
            suites.payment,
            suites.payment_chain_id
        )));
    }
    Ok(terms)
}

/// The seller's next trade id: one above the highest numeric id it has locked (ids of a seller share
/// a word of the used-id bitmap 256 at a time, so consecutive ids lock for less gas), skipping any
/// used id.
pub async fn next_id<A: Chain>(a: &mut A, delivery: Address, seller: Address) -> Result<B256, DeployerError> {
    let highest = locked_trades(a, delivery, None)
        .await?
        .values()
        .filter(|t| t.seller == seller)
        .filter_map(|t| u64::try_from(U256::from_be_bytes(t.id.0)).ok())
        .max()
        .unwrap_or(0);
    let mut id = highest + 1;
    loop {
        let candidate = B256::from(U256::from(id));
        if !a.read(delivery, &CrossChainDelivery::isIdUsedCall { seller, id: candidate }).await? {
            return Ok(candidate);
        }
        id += 1;
    }
}

/// A proof of `statement` for the verifier of `contract` (the settlement contract of the chain that
/// checks it) from the attestations in `inbox`.
async fn prove<C: Chain>(
    chain: &mut C,
    contract: Address,
    checked_on: Side,
    statement: &Statement,
    inbox: &Path,
) -> Result<Bytes, DeployerError> {
    let (set, threshold) = attestor_set(chain, contract, checked_on == Side::Asset).await?;
    let attestations = read_inbox(inbox);
    proof(statement, &attestations, &set, threshold).ok_or_else(|| {
        let valid =
            attestations.iter().filter(|a| a.statement == *statement && set.contains(&a.attestor) && a.is_valid());
        DeployerError::Answer(format!(
            "the inbox {} holds {} valid signature(s) of the current attestors that {statement}, and the verifier \
             needs {threshold}: wait for the attestors (`kessai attest`) to see the record final, or check --inbox",
            inbox.display(),
            valid.count(),
        ))
    })
}

/// The seller locks the units on the asset chain.
pub async fn lock<A: Chain>(a: &mut A, suites: &TwoSuites, terms: &Terms) -> Result<Receipt, DeployerError> {
    a.send_call(terms.seller, suites.delivery, &CrossChainDelivery::lockCall { terms: terms.clone() }).await
}

/// The payer places its cash on hold on the payment chain.
pub async fn pay<B: Chain>(b: &mut B, suites: &TwoSuites, terms: &Terms) -> Result<Receipt, DeployerError> {
    b.send_call(terms.payer, suites.payment, &CrossChainPayment::payCall { terms: for_payment(terms) }).await
}

/// The payer's EIP-712 signature of the payment for `terms` (`CrossChainPayment.paymentDigest`).
/// With it anyone commits the trade without a `pay` transaction: the cash moves from the payer's free
/// balance in the commit itself, one transaction fewer for the same outcome.
pub async fn sign_payment<B: Chain>(
    b: &mut B,
    suites: &TwoSuites,
    terms: &Terms,
    payer: &PrivateKeySigner,
) -> Result<Bytes, DeployerError> {
    let digest = b.read(suites.payment, &CrossChainPayment::paymentDigestCall { termsHash: terms_hash(terms) }).await?;
    let signature = payer
        .sign_hash_sync(&digest)
        .map_err(|source| DeployerError::Signing { what: "cannot sign the payment".into(), source })?;
    Ok(signature.as_bytes().to_vec().into())
}

/// `from` commits the trade on the payment chain with the attested proof of its lock: a paid trade,
/// or with `payer_signature` ([`sign_payment`]) one the payer has not paid yet, or one the payer
/// commits itself.
pub async fn commit<B: Chain>(
    b: &mut B,
    suites: &TwoSuites,
    from: Address,
    terms: &Terms,
    inbox: &Path,
    payer_signature: Option<Bytes>,
) -> Result<Receipt, DeployerError> {
    let lock_proof = prove(b, suites.payment, Side::Payment, &suites.statement(terms, states::LOCKED), inbox).await?;
    let call = CrossChainPayment::commitCall {
        terms: for_payment(terms),
        lockProof: lock_proof,
        payerSignature: payer_signature.unwrap_or_default(),
    };
    b.send_call(from, suites.payment, &call).await
}

/// `from` aborts the trade on the payment chain: anyone once its deadline has passed on that chain's
/// clock; with `agree`, a party's agreement to abort before it (both parties' agreements abort).
pub async fn abort<B: Chain>(
    b: &mut B,
    suites: &TwoSuites,
    from: Address,
    terms: &Terms,
    agree: bool,
) -> Result<Receipt, DeployerError> {
    let terms = for_payment(terms);
    if agree {
        b.send_call(from, suites.payment, &CrossChainPayment::agreeAbortCall { terms }).await
    } else {
        b.send_call(from, suites.payment, &CrossChainPayment::abortCall { terms }).await
    }
}

/// `from` delivers the locked units to the buyer with the attested proof of the payment chain's commit.
pub async fn deliver<A: Chain>(
    a: &mut A,
    suites: &TwoSuites,
    from: Address,
    terms: &Terms,
    inbox: &Path,
) -> Result<Receipt, DeployerError> {
    let commit_proof =
        prove(a, suites.delivery, Side::Asset, &suites.statement(terms, states::COMMITTED), inbox).await?;
    let call = CrossChainDelivery::deliverCall { terms: terms.clone(), commitProof: commit_proof };
    a.send_call(from, suites.delivery, &call).await
}

/// `from` frees the locked units for the seller with the attested proof of the payment chain's abort.
pub async fn return_units<A: Chain>(
    a: &mut A,
    suites: &TwoSuites,
    from: Address,
    terms: &Terms,
    inbox: &Path,
) -> Result<Receipt, DeployerError> {
    let abort_proof = prove(a, suites.delivery, Side::Asset, &suites.statement(terms, states::ABORTED), inbox).await?;
    let call = CrossChainDelivery::returnUnitsCall { terms: terms.clone(), abortProof: abort_proof };
    a.send_call(from, suites.delivery, &call).await
}

/// Where the units stand on the asset chain.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AssetState {
    /// Not locked under these terms.
    NotLocked,
    /// Locked, waiting for the payment chain's outcome.
    Locked,
    /// Delivered to the buyer.
    Delivered,
    /// Freed for the seller.
    Returned,
    /// Moved by an emergency resolution (to the buyer or back to the seller).
    Resolved {
        /// Whether the units went to the buyer.
        to_buyer: bool,
    },
}

/// A trade on both chains.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TradeStatus {
    /// The terms hash, the trade's identity on both chains.
    pub terms_hash: B256,
    /// The terms.
    pub terms: TermsFile,
    /// The units on the asset chain.
    pub asset: AssetState,
    /// The payment chain's record (`None`, `Paid`, `Committed`, `Aborted`).
    pub payment: String,
    /// The payment chain's latest block time.
    pub payment_time: u64,
    /// What happens next, in a sentence.
    pub next: String,
}

/// The trade on both chains: the units on the asset chain (from the delivery contract's hold and
/// events), the record on the payment chain, and what comes next by the payment chain's clock.
pub async fn status<A: Chain, B: Chain>(
    a: &mut A,
    b: &mut B,
    suites: &TwoSuites,
    terms: &Terms,
) -> Result<TradeStatus, DeployerError> {
    let hash = terms_hash(terms);
    let asset = asset_state(a, suites.delivery, terms, hash).await?;
    let state = b.read(suites.payment, &CrossChainPayment::stateOfCall { termsHash: hash }).await?;
    let payment_time = b.timestamp().await?;
    let next = next_step(asset, state, payment_time > terms.deadline);
    Ok(TradeStatus {
        terms_hash: hash,
        terms: TermsFile::from(terms),
        asset,
        payment: state_name(&state.to_string()),
        payment_time,
        next,
    })
}

async fn asset_state<A: Chain>(
    a: &mut A,
    delivery: Address,
    terms: &Terms,
    hash: B256,
) -> Result<AssetState, DeployerError> {
    if a.read(delivery, &CrossChainDelivery::isLockedCall { terms: terms.clone() }).await? {
        return Ok(AssetState::Locked);
    }
    let mut state = AssetState::NotLocked;
    for located in a.logs(&[delivery], 0, None).await? {
        let log = &located.log.data;
        if log.topics().get(1) != Some(&hash) {
            continue;
        }
        if CrossChainDelivery::Delivered::decode_log_data(log).is_ok() {
            state = AssetState::Delivered;
        } else if CrossChainDelivery::Returned::decode_log_data(log).is_ok() {
            state = AssetState::Returned;
        } else if let Ok(r) = CrossChainDelivery::Resolved::decode_log_data(log) {
            state = AssetState::Resolved { to_buyer: r.toBuyer };
        }
    }
    Ok(state)
}

/// The next step of a trade, in a sentence.
fn next_step(asset: AssetState, payment: u8, past_deadline: bool) -> String {
    let open = payment == states::NONE || payment == states::PAID;
    match (asset, payment) {
        (AssetState::Delivered, _) => "settled: units delivered, cash paid".into(),
        (AssetState::Returned, _) => "returned: the units are the seller's again, no cash moved".into(),
        (AssetState::Resolved { .. }, _) => "resolved by the authorities' emergency procedure".into(),
        (_, _) if open && past_deadline => {
            "the deadline has passed on the payment chain: anyone may abort (`kessai xtrade abort`)".into()
        }
        (AssetState::NotLocked, _) => "waiting for the seller to lock the units (`kessai xtrade create`)".into(),
        (AssetState::Locked, states::NONE) => {
            "locked: waiting for the payer to pay before the deadline (`kessai xtrade pay`)".into()
        }
        (AssetState::Locked, states::PAID) => {
            "paid: commit with the attested lock (`kessai xtrade commit`, or any relayer)".into()
        }
        (AssetState::Locked, states::COMMITTED) => {
            "committed: deliver with the attested commit (`kessai xtrade deliver`, or any relayer)".into()
        }
        (AssetState::Locked, states::ABORTED) => {
            "aborted: return the units with the attested abort (`kessai xtrade return`, or any relayer)".into()
        }
        (AssetState::Locked, other) => format!("the payment chain reports state {other}"),
    }
}

impl fmt::Display for TradeStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let t = &self.terms;
        let asset = match self.asset {
            AssetState::NotLocked => "not locked".to_string(),
            AssetState::Locked => "locked".to_string(),
            AssetState::Delivered => "delivered".to_string(),
            AssetState::Returned => "returned".to_string(),
            AssetState::Resolved { to_buyer } => {
                format!("resolved to the {}", if to_buyer { "buyer" } else { "seller" })
            }
        };
        writeln!(f, "trade {} (id {})", self.terms_hash, t.id)?;
        writeln!(f, "  asset chain {}: {} units from {} to {}: {asset}", t.asset_chain_id, t.units, t.seller, t.buyer)?;
        writeln!(
            f,
            "  payment chain {}: {} from {} to {}: {}",
            t.payment_chain_id, t.amount, t.payer, t.payee, self.payment
        )?;
        writeln!(f, "  deadline {} on the payment chain's clock (now {})", t.deadline, self.payment_time)?;
        write!(f, "  next: {}", self.next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_terms_file_round_trips_and_names_the_solidity_fields() {
        let terms = Terms {
            id: B256::from(U256::from(7)),
            assetChainId: U256::from(1_010_032),
            delivery: Address::repeat_byte(1),
            security: Address::repeat_byte(2),
            seller: Address::repeat_byte(3),
            buyer: Address::repeat_byte(4),
            units: U256::from(100),
            paymentChainId: U256::from(31_337),
            payment: Address::repeat_byte(5),
            cash: Address::repeat_byte(6),
            payer: Address::repeat_byte(7),
            payee: Address::repeat_byte(8),
            amount: U256::from(1_000_000),
            deadline: 2_000_000_000,
        };
        let json = serde_json::to_value(TermsFile::from(&terms)).expect("serialize");
        assert_eq!(json["assetChainId"], 1_010_032);
        assert_eq!(json["amount"], "1000000");
        let back: TermsFile = serde_json::from_value(json).expect("deserialize");
        assert_eq!(Terms::from(&back), terms);
    }

    #[test]
    fn the_next_step_follows_the_payment_chain_s_record_and_clock() {
        assert!(next_step(AssetState::Locked, states::PAID, false).starts_with("paid: commit"));
        assert!(next_step(AssetState::Locked, states::PAID, true).contains("anyone may abort"));
        assert!(next_step(AssetState::Locked, states::COMMITTED, true).starts_with("committed: deliver"));
        assert!(next_step(AssetState::Delivered, states::COMMITTED, true).starts_with("settled"));
    }
}
