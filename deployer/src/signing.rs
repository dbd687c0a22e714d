//! EIP-712 trade agreements: the digest both parties of a DvP trade sign, computed off-chain exactly
//! as the DvP contract computes it (`DvP.tradeDigest`), and signing with a local key.
//!
//! A signature over (id, terms) means "I agree to trade `id` on these terms". The DvP contract
//! accepts it for a signed creation, a one-transaction signed settlement, or (the buyer's) as the
//! payment instruction the agent settles with. A trade id settles at most once, so a signature can
//! never move anything twice.

use crate::{error::DeployerError, ops::Trade};
use alloy::{
    primitives::{Address, B256, Bytes},
    signers::{SignerSync, local::PrivateKeySigner},
    sol_types::{Eip712Domain, SolStruct, eip712_domain},
};

mod typed {
    #![allow(missing_docs)]
    alloy::sol! {
        /// The EIP-712 type of a trade agreement (`DvP.TRADE_TYPEHASH`).
        struct Trade {
            bytes32 id;
            address security;
            address seller;
            address buyer;
            address cash;
            address agent;
            uint256 units;
            uint256 amount;
            uint64 deadline;
        }
    }
}

/// The EIP-712 domain of the DvP contract at `dvp` on chain `chain_id`.
pub fn dvp_domain(chain_id: u64, dvp: Address) -> Eip712Domain {
    eip712_domain! {
        name: "kessai DvP",
        version: "1",
        chain_id: chain_id,
        verifying_contract: dvp,
    }
}

/// The digest a party signs to agree to trade `id` on `trade`'s terms.
pub fn trade_digest(chain_id: u64, dvp: Address, id: B256, trade: &Trade) -> B256 {
    let typed = typed::Trade {
        id,
        security: trade.security,
        seller: trade.seller,
        buyer: trade.buyer,
        cash: trade.cash,
        agent: trade.agent,
        units: trade.units,
        amount: trade.amount,
        deadline: trade.deadline,
    };
    typed.eip712_signing_hash(&dvp_domain(chain_id, dvp))
}

/// Signs trade `id` with `key`: a 64-byte EIP-2098 compact signature (r, vs), which the DvP contract
/// verifies like the 65-byte form and which costs less calldata.
pub fn sign_trade(
    key: &PrivateKeySigner,
    chain_id: u64,
    dvp: Address,
    id: B256,
    trade: &Trade,
) -> Result<Bytes, DeployerError> {
    let digest = trade_digest(chain_id, dvp, id, trade);
    let signature =
        key.sign_hash_sync(&digest).map_err(|e| DeployerError::Signing(format!("cannot sign trade {id}: {e}")))?;
    Ok(Bytes::from(signature.as_erc2098().to_vec()))
}
