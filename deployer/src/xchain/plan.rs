//! Each chain's deployment for cross-chain settlement: the suite's plan (registries, tokens, the
//! local DvP) on both chains, then on the asset chain an attestation verifier and the delivery
//! contract (a notary of the security token), on the payment chain a verifier and the payment contract
//! (notary and settler of the deposit token). Both plans share the salt, so every address is known
//! before anything is sent, and terms can name the other chain's contract from the start.

use crate::plan::{Arg, Plan, Step, SuiteSpec, labels, suite_plan};
use alloy::primitives::{Address, U256};
use serde::{Deserialize, Serialize};

/// Labels of the cross-chain contracts.
pub mod xlabels {
    /// The attestation verifier (one on each chain).
    pub const VERIFIER: &str = "xverifier";
    /// The asset chain's delivery contract.
    pub const DELIVERY: &str = "xdelivery";
    /// The payment chain's payment contract.
    pub const PAYMENT: &str = "xpayment";
}

/// What a cross-chain deployment adds to the suite on both chains.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CrossChainSpec {
    /// The suite deployed on each chain (accounts, tokens).
    pub suite: SuiteSpec,
    /// The attestor set, on both chains' verifiers.
    pub attestors: Vec<Address>,
    /// Signatures a statement needs (k of the n attestors).
    pub threshold: u8,
    /// Authorities that approve an emergency resolution on the asset chain (AUTHORITY_ROLE on the
    /// delivery contract); the suite's authority rotates the attestor sets.
    pub resolvers: Vec<Address>,
    /// Distinct resolver approvals an emergency resolution needs (at least 2).
    pub resolution_approvals: u8,
    /// Seconds from an emergency resolution's first approval until it may be carried out.
    pub resolution_delay: u64,
}

/// Which side of a trade a chain holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    /// The asset chain (A): the security token and the delivery contract.
    Asset,
    /// The payment chain (B): the deposit token and the payment contract.
    Payment,
}

/// The plan for one side: the suite's plan, then the verifier and the side's settlement contract.
pub fn plan(spec: &CrossChainSpec, side: Side) -> Plan {
    let a = spec.suite.accounts;
    let mut plan = suite_plan(&spec.suite);
    let attestors = Arg::Array(spec.attestors.iter().copied().map(Arg::Address).collect());
    plan.steps.push(Step::deploy(
        xlabels::VERIFIER,
        "AttestationVerifier",
        a.operator,
        vec![Arg::Address(a.operator), Arg::Address(a.authority), attestors, Arg::Uint(U256::from(spec.threshold))],
    ));
    let verifier = Arg::Contract(xlabels::VERIFIER.into());
    match side {
        Side::Asset => {
            plan.steps.push(Step::deploy(
                xlabels::DELIVERY,
                "CrossChainDelivery",
                a.operator,
                vec![
                    Arg::Address(a.operator),
                    verifier,
                    Arg::Uint(U256::from(spec.resolution_delay)),
                    Arg::Uint(U256::from(spec.resolution_approvals)),
                ],
            ));
            plan.steps.push(Step::grant(
                labels::SECURITY,
                "NOTARY_ROLE",
                Arg::Contract(xlabels::DELIVERY.into()),
                a.operator,
            ));
            for resolver in &spec.resolvers {
                plan.steps.push(Step::grant(xlabels::DELIVERY, "AUTHORITY_ROLE", Arg::Address(*resolver), a.operator));
            }
        }
        Side::Payment => {
            plan.steps.push(Step::deploy(xlabels::PAYMENT, "CrossChainPayment", a.operator, vec![verifier]));
            for role in ["NOTARY_ROLE", "SETTLER_ROLE"] {
                plan.steps.push(Step::grant(labels::DEPOSIT, role, Arg::Contract(xlabels::PAYMENT.into()), a.bank));
            }
        }
    }
    plan
}
