//! The attestor and the relayer, as steps over two [`Chain`]s that a command loops (`kessai attest`,
//! `kessai relay`) and a test drives.
//!
//! Neither keeps state it cannot rebuild: every step reads the trades from the delivery contract's
//! `Locked` events (which carry the whole terms), their records from both contracts, and the
//! attestations from the inbox folder the attestors write into. So a relayer killed at any point and
//! started again, or two relayers at once, settle every trade exactly once: the contracts refuse a
//! repeat, and a refusal that says the step is already done counts as done.

use super::{Attestation, Statement, proof};
use crate::{chain::Chain, error::DeployerError};
use alloy::{
    primitives::{Address, B256, Bytes},
    signers::local::PrivateKeySigner,
    sol_types::SolEvent,
};
use kessai_bindings::{
    attestation_verifier::AttestationVerifier,
    cross_chain::{Terms, for_payment, states},
    cross_chain_delivery::CrossChainDelivery,
    cross_chain_payment::CrossChainPayment,
};
use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
};

/// One side's contract on its chain.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Endpoint {
    /// The chain id.
    pub chain_id: u64,
    /// The delivery contract (asset chain) or the payment contract (payment chain).
    pub contract: Address,
    /// Blocks a record must be under before it counts as final here.
    pub confirmations: u64,
}

/// The trades locked on the asset chain, by terms hash, from its `Locked` events up to `to_block`.
pub async fn locked_trades<A: Chain>(
    a: &mut A,
    delivery: Address,
    to_block: Option<u64>,
) -> Result<BTreeMap<B256, Terms>, DeployerError> {
    let mut trades = BTreeMap::new();
    for located in a.logs(&[delivery], 0, to_block).await? {
        if let Ok(event) = CrossChainDelivery::Locked::decode_log_data(&located.log.data) {
            trades.insert(event.termsHash, event.terms);
        }
    }
    Ok(trades)
}

/// The final block of a chain: its head less the confirmations.
async fn final_block<C: Chain>(chain: &mut C, confirmations: u64) -> Result<u64, DeployerError> {
    Ok(chain.head().await?.saturating_sub(confirmations))
}

/// The attestations in `inbox` (every `*.json` file; unreadable ones are skipped: a half-written or
/// foreign file must not stop the relayer).
pub fn read_inbox(inbox: &Path) -> Vec<Attestation> {
    let Ok(entries) = std::fs::read_dir(inbox) else { return Vec::new() };
    entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .filter_map(|p| serde_json::from_slice(&std::fs::read(p).ok()?).ok())
        .collect()
}

/// An attestor: signs the records of both sides once they are final, into its inbox folder.
#[derive(Debug)]
pub struct Attestor {
    /// The attestor's key.
    pub key: PrivateKeySigner,
    /// The asset chain's delivery contract.
    pub asset: Endpoint,
    /// The payment chain's payment contract.
    pub payment: Endpoint,
    /// Where it writes its attestations.
    pub inbox: PathBuf,
}

impl Attestor {
    fn file(&self, statement: &Statement) -> PathBuf {
        self.inbox.join(format!("{}-{}-{}.json", statement.terms_hash, statement.state, self.key.address()))
    }

    /// Signs every final record not signed yet: each lock on A, each commit or abort on B. It never
    /// signs two outcomes of one trade: before signing one it looks for its own signature of the
    /// other, and refuses. Returns the statements signed in this step.
    pub async fn step<A: Chain, B: Chain>(&self, a: &mut A, b: &mut B) -> Result<Vec<Statement>, DeployerError> {
        std::fs::create_dir_all(&self.inbox)?;
        let final_a = final_block(a, self.asset.confirmations).await?;
        let final_b = final_block(b, self.payment.confirmations).await?;
        let mut signed = Vec::new();
        for (hash, terms) in locked_trades(a, self.asset.contract, Some(final_a)).await? {
            let lock = self.statement(&self.asset, &terms, hash, states::LOCKED);
            if !self.file(&lock).exists() {
                self.write(&lock)?;
                signed.push(lock);
            }
            let call = CrossChainPayment::stateOfCall { termsHash: hash };
            let state = b.read_at(final_b, self.payment.contract, &call).await?;
            if state != states::COMMITTED && state != states::ABORTED {
                continue;
            }
            let outcome = self.statement(&self.payment, &terms, hash, state);
            let other = states::COMMITTED + states::ABORTED - state;
            if self.file(&self.statement(&self.payment, &terms, hash, other)).exists() {
                return Err(DeployerError::Answer(format!(
                    "trade {hash}: the payment chain now reports state {state}, but this attestor already signed state {other}: refusing to sign a conflicting outcome (a reorganisation deeper than the confirmations?)"
                )));
            }
            if !self.file(&outcome).exists() {
                self.write(&outcome)?;
                signed.push(outcome);
            }
        }
        Ok(signed)
    }

    fn statement(&self, side: &Endpoint, terms: &Terms, hash: B256, state: u8) -> Statement {
        Statement { chain_id: side.chain_id, source: side.contract, trade_id: terms.id, state, terms_hash: hash }
    }

    /// Writes the attestation whole or not at all (a temporary file, then a rename).
    fn write(&self, statement: &Statement) -> Result<(), DeployerError> {
        let attestation = statement.sign(&self.key)?;
        let path = self.file(statement);
        let tmp = path.with_extension("tmp");
        std::fs::write(&tmp, serde_json::to_vec_pretty(&attestation)?)?;
        std::fs::rename(tmp, path)?;
        Ok(())
    }
}

/// What a relayer step did for one trade.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "step", content = "terms_hash", rename_all = "snake_case")]
pub enum Relayed {
    /// `commit` sent on the payment chain.
    Committed(B256),
    /// `abort` sent on the payment chain (its deadline passed).
    Aborted(B256),
    /// `deliver` sent on the asset chain.
    Delivered(B256),
    /// `returnUnits` sent on the asset chain.
    Returned(B256),
    /// Another relayer did this step first (the contract refused a repeat).
    AlreadyDone(B256, String),
    /// The contract refused the step for another reason (named); the next pass tries again.
    Refused(B256, String),
}

/// A relayer: submits whatever the chains and the attestations allow next, from any funded account.
#[derive(Debug)]
pub struct Relayer {
    /// The account that sends (on both chains).
    pub from: Address,
    /// The asset chain's delivery contract.
    pub asset: Endpoint,
    /// The payment chain's payment contract.
    pub payment: Endpoint,
    /// Where the attestors write.
    pub inbox: PathBuf,
}

impl Relayer {
    /// One pass over every locked trade: commit a paid trade whose lock is attested, abort one past its
    /// deadline, deliver or return on an attested outcome.
    pub async fn step<A: Chain, B: Chain>(&self, a: &mut A, b: &mut B) -> Result<Vec<Relayed>, DeployerError> {
        let attestations = read_inbox(&self.inbox);
        let set_a = attestor_set(a, self.asset.contract, true).await?;
        let set_b = attestor_set(b, self.payment.contract, false).await?;
        let now_b = b.timestamp().await?;
        let mut done = Vec::new();
        for (hash, terms) in locked_trades(a, self.asset.contract, None).await? {
            let locked =
                a.read(self.asset.contract, &CrossChainDelivery::isLockedCall { terms: terms.clone() }).await?;
            let state = b.read(self.payment.contract, &CrossChainPayment::stateOfCall { termsHash: hash }).await?;
            let open = state == states::NONE || state == states::PAID;
            let statement = |side: &Endpoint, state| Statement {
                chain_id: side.chain_id,
                source: side.contract,
                trade_id: terms.id,
                state,
                terms_hash: hash,
            };
            let step = if open && now_b > terms.deadline {
                let call = CrossChainPayment::abortCall { terms: for_payment(&terms) };
                Some((b.send_call(self.from, self.payment.contract, &call).await, Relayed::Aborted(hash)))
            } else if state == states::PAID && locked {
                let lock = statement(&self.asset, states::LOCKED);
                match proof(&lock, &attestations, &set_b.0, set_b.1) {
                    Some(lock_proof) => {
                        let call = CrossChainPayment::commitCall {
                            terms: for_payment(&terms),
                            lockProof: lock_proof,
                            payerSignature: Bytes::new(),
                        };
                        Some((b.send_call(self.from, self.payment.contract, &call).await, Relayed::Committed(hash)))
                    }
                    None => None,
                }
            } else if (state == states::COMMITTED || state == states::ABORTED) && locked {
                let outcome = statement(&self.payment, state);
                match proof(&outcome, &attestations, &set_a.0, set_a.1) {
                    Some(p) if state == states::COMMITTED => {
                        let call = CrossChainDelivery::deliverCall { terms: terms.clone(), commitProof: p };
                        Some((a.send_call(self.from, self.asset.contract, &call).await, Relayed::Delivered(hash)))
                    }
                    Some(p) => {
                        let call = CrossChainDelivery::returnUnitsCall { terms: terms.clone(), abortProof: p };
                        Some((a.send_call(self.from, self.asset.contract, &call).await, Relayed::Returned(hash)))
                    }
                    None => None,
                }
            } else {
                None
            };
            match step {
                None => {}
                Some((Ok(_), relayed)) => done.push(relayed),
                Some((Err(DeployerError::Revert(e)), _)) if already_done(&e.name) => {
                    done.push(Relayed::AlreadyDone(hash, e.name))
                }
                // B's clock passed the deadline since this pass read it (a halted chain resumes with a
                // later time): the trade can only abort now.
                Some((Err(DeployerError::Revert(e)), Relayed::Committed(_))) if e.name == "XPaymentDeadlinePassed" => {
                    let call = CrossChainPayment::abortCall { terms: for_payment(&terms) };
                    match b.send_call(self.from, self.payment.contract, &call).await {
                        Ok(_) => done.push(Relayed::Aborted(hash)),
                        Err(DeployerError::Revert(e)) => done.push(Relayed::Refused(hash, e.name)),
                        Err(e) => return Err(e),
                    }
                }
                // Any other refusal concerns this trade alone (a frozen buyer delays its delivery): said,
                // and tried again next pass, while the other trades go on.
                Some((Err(DeployerError::Revert(e)), _)) => done.push(Relayed::Refused(hash, e.name)),
                Some((Err(e), _)) => return Err(e),
            }
        }
        Ok(done)
    }
}

impl std::fmt::Display for Relayed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Committed(h) => write!(f, "committed {h} on the payment chain"),
            Self::Aborted(h) => write!(f, "aborted {h} on the payment chain (its deadline passed)"),
            Self::Delivered(h) => write!(f, "delivered {h} on the asset chain"),
            Self::Returned(h) => write!(f, "returned {h} on the asset chain"),
            Self::AlreadyDone(h, error) => write!(f, "{h}: another relayer was first ({error})"),
            Self::Refused(h, error) => write!(f, "{h}: refused ({error}); trying again next pass"),
        }
    }
}

/// Refusals that mean another relayer took the step first.
fn already_done(error: &str) -> bool {
    matches!(error, "XPaymentInvalidState" | "XDeliveryNotLocked")
}

/// The current attestor set and threshold of the verifier the settlement contract at `contract` uses.
async fn attestor_set<C: Chain>(
    chain: &mut C,
    contract: Address,
    delivery: bool,
) -> Result<(Vec<Address>, usize), DeployerError> {
    let verifier = if delivery {
        chain.read(contract, &CrossChainDelivery::verifierCall {}).await?
    } else {
        chain.read(contract, &CrossChainPayment::verifierCall {}).await?
    };
    let set = chain.read(verifier, &AttestationVerifier::attestorSetCall {}).await?;
    let mut members = Vec::new();
    for log in chain.logs(&[verifier], 0, None).await? {
        if let Ok(rotated) = AttestationVerifier::AttestorsRotated::decode_log_data(&log.log.data)
            && rotated.epoch == set.epoch
        {
            members = rotated.attestors;
        }
    }
    Ok((members, usize::from(set.threshold)))
}
