//! Settling across two chains: the securities on an asset chain (A), the deposit tokens on a payment
//! chain (B), and one outcome decided on B's clock alone.
//!
//! - [`plan`]: each chain's deployment — the suite's contracts on both, plus the attestation verifier
//!   and the delivery contract on A, the verifier and the payment contract on B;
//! - [`Statement`]: what an attestor signs (a contract's record of a trade on its chain), and
//!   [`proof`]: the k-of-n proof the other chain's verifier checks;
//! - [`terms_hash`]: the EIP-712 hash of the terms, the trade's identity on both chains;
//! - [`relay`]: the attestor and the relayer, as steps over the two chains;
//! - [`trade`]: one trade's steps by hand and its status on both chains (`kessai xtrade`).
//!
//! The contracts are `CrossChainDelivery`, `CrossChainPayment` and `AttestationVerifier`
//! (`contracts/src/crosschain/`); their bindings are in `kessai_bindings`.

pub mod bench;
mod curve;
pub mod inbox;
pub mod plan;
pub mod relay;
pub mod trade;

use alloy::{
    primitives::{Address, B256, Bytes, U256, keccak256},
    signers::local::PrivateKeySigner,
    sol_types::{SolStruct, SolValue},
};
use kessai_bindings::cross_chain::Terms;

use crate::error::DeployerError;
use std::sync::OnceLock;

/// keccak256 of `EIP712Domain(string name,string version)` with name and version: the terms' domain
/// names no chain and no contract (the terms name both chains themselves).
fn domain_separator(name: &str) -> B256 {
    keccak256((keccak256("EIP712Domain(string name,string version)"), keccak256(name), keccak256("1")).abi_encode())
}

/// The EIP-712 digest `\x19\x01 ‖ domain ‖ struct hash`.
fn typed_digest(domain: B256, struct_hash: B256) -> B256 {
    let mut bytes = Vec::with_capacity(66);
    bytes.extend_from_slice(b"\x19\x01");
    bytes.extend_from_slice(domain.as_slice());
    bytes.extend_from_slice(struct_hash.as_slice());
    keccak256(bytes)
}

/// The terms hash both chains compute (`CrossChainTerms.hash`): EIP-712 of the type
/// `CrossChainTerms(…)` — the bindings' `Terms` fields under the contract's type name — in the domain
/// ("kessai cross-chain DvP", "1").
pub fn terms_hash(terms: &Terms) -> B256 {
    // The type hash and the domain are constants: computed once.
    static FIXED: OnceLock<(B256, B256)> = OnceLock::new();
    let (type_hash, domain) = *FIXED.get_or_init(|| {
        let type_hash = keccak256(format!("CrossChain{}", Terms::eip712_encode_type()));
        (type_hash, domain_separator("kessai cross-chain DvP"))
    });
    typed_digest(domain, keccak256((type_hash, terms.clone()).abi_encode()))
}

/// A contract's record of a trade on its chain, as attestors sign it and verifiers check it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Statement {
    /// The chain the record is on.
    pub chain_id: u64,
    /// The contract holding the record.
    pub source: Address,
    /// The trade's id (the seller's reference in the terms).
    pub trade_id: B256,
    /// The recorded state (`kessai_bindings::cross_chain::states`).
    pub state: u8,
    /// The trade's terms hash.
    pub terms_hash: B256,
}

impl std::fmt::Display for Statement {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = kessai_bindings::cross_chain::state_name(&self.state.to_string());
        write!(f, "attested {state} of trade {} ({}) on chain {}", self.terms_hash, self.trade_id, self.chain_id)
    }
}

/// The attestation's EIP-712 type, as `AttestationVerifier` declares it (a test compares digests).
const ATTESTATION_TYPE: &str =
    "Attestation(uint256 chainId,address source,bytes32 tradeId,uint8 state,bytes32 termsHash)";

impl Statement {
    /// The digest attestors sign (`AttestationVerifier.attestationDigest`).
    pub fn digest(&self) -> B256 {
        static TYPE_HASH: OnceLock<B256> = OnceLock::new();
        let fields = (
            *TYPE_HASH.get_or_init(|| keccak256(ATTESTATION_TYPE)),
            U256::from(self.chain_id),
            self.source,
            self.trade_id,
            U256::from(self.state),
            self.terms_hash,
        );
        static DOMAIN: OnceLock<B256> = OnceLock::new();
        typed_digest(*DOMAIN.get_or_init(|| domain_separator("kessai attestation")), keccak256(fields.abi_encode()))
    }

    /// `attestor`'s 65-byte (r, s, v) signature of the statement.
    pub fn sign(&self, attestor: &PrivateKeySigner) -> Result<Attestation, DeployerError> {
        let signature = curve::sign(attestor, &self.digest()).map_err(|e| DeployerError::Signing {
            what: "cannot sign an attestation".into(),
            source: alloy::signers::Error::other(e),
        })?;
        Ok(Attestation { statement: *self, attestor: attestor.address(), signature: signature.to_vec().into() })
    }
}

/// One attestor's signature of a statement.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Attestation {
    /// What is attested.
    pub statement: Statement,
    /// Who signed.
    pub attestor: Address,
    /// The 65-byte (r, s, v) signature.
    pub signature: Bytes,
}

impl Attestation {
    /// True when the signature recovers to the attestor over the statement's digest.
    pub fn is_valid(&self) -> bool {
        curve::signer(&self.statement.digest(), &self.signature) == Some(self.attestor)
    }
}

/// The proof of `statement` for a verifier whose current set is `attestors` with `threshold`: the
/// valid signatures of distinct current attestors for exactly this statement, ordered by signer,
/// laid end to end. Signatures of other statements, of strangers and invalid ones are left out (a
/// faulty attestor cannot spoil a proof). `None` while fewer than `threshold` remain.
pub fn proof(
    statement: &Statement,
    attestations: &[Attestation],
    attestors: &[Address],
    threshold: usize,
) -> Option<Bytes> {
    let usable = attestations.iter().filter(|a| a.statement == *statement && attestors.contains(&a.attestor));
    proof_of_checked(usable.filter(|a| a.is_valid()).collect(), threshold)
}

/// [`proof`] of attestations already found valid, of the statement and by current attestors.
pub(crate) fn proof_of_checked(mut usable: Vec<&Attestation>, threshold: usize) -> Option<Bytes> {
    usable.sort_by_key(|a| a.attestor);
    usable.dedup_by_key(|a| a.attestor);
    if usable.len() < threshold.max(1) {
        return None;
    }
    Some(usable.iter().take(threshold).flat_map(|a| a.signature.iter().copied()).collect::<Vec<u8>>().into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn statement() -> Statement {
        Statement {
            chain_id: 1_010_032,
            source: Address::repeat_byte(1),
            trade_id: B256::repeat_byte(2),
            state: kessai_bindings::cross_chain::states::LOCKED,
            terms_hash: B256::repeat_byte(3),
        }
    }

    #[test]
    fn a_proof_takes_threshold_distinct_current_attestors_in_address_order_and_ignores_the_rest() {
        let keys: Vec<PrivateKeySigner> =
            (1..=4u8).map(|i| PrivateKeySigner::from_bytes(&B256::repeat_byte(i)).expect("key")).collect();
        let set: Vec<Address> = keys[..3].iter().map(PrivateKeySigner::address).collect();
        let s = statement();
        let other = Statement { state: kessai_bindings::cross_chain::states::COMMITTED, ..s };
        let mut given = vec![
            s.sign(&keys[0]).expect("sign"),
            s.sign(&keys[0]).expect("sign"),     // a duplicate
            other.sign(&keys[1]).expect("sign"), // another statement
            s.sign(&keys[3]).expect("sign"),     // not an attestor
        ];
        assert_eq!(proof(&s, &given, &set, 2), None, "one usable signature is below a threshold of two");
        let mut forged = s.sign(&keys[2]).expect("sign");
        forged.attestor = set[1];
        given.push(forged);
        assert_eq!(proof(&s, &given, &set, 2), None, "a signature claimed for another attestor is left out");
        given.push(s.sign(&keys[2]).expect("sign"));
        let p = proof(&s, &given, &set, 2).expect("two distinct attestors");
        assert_eq!(p.len(), 130);
        let mut signers: Vec<Address> = vec![keys[0].address(), keys[2].address()];
        signers.sort();
        let first = Attestation { statement: s, attestor: signers[0], signature: p[..65].to_vec().into() };
        assert!(first.is_valid(), "the lower address signs first");
    }
}
