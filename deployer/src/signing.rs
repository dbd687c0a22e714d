//! EIP-712 trade instructions: the digests the parties of a DvP trade sign, computed off-chain exactly
//! as the DvP contract computes them (`DvP.tradeDigest`), and signing with a local key.
//!
//! A signature names what it instructs ([`Instruction`]): a trade created with both legs locked
//! (`LockTrade`), a one-transaction settlement from free balances (`SettleTrade`), or the buyer's
//! payment instruction for a trade the seller created (`PayTrade`). Each is its own EIP-712 type
//! wrapping the terms, so a signature given for one path cannot drive another; a trade id settles at
//! most once, so a signature can never move anything twice.

use crate::{error::DeployerError, ops::Trade};
use alloy::{
    primitives::{Address, B256, Bytes},
    signers::{SignerSync, local::PrivateKeySigner},
    sol_types::{Eip712Domain, SolStruct, eip712_domain},
};

mod typed {
    #![allow(missing_docs)]
    alloy::sol! {
        /// The EIP-712 type of a trade's terms (`DvP.TRADE_TYPEHASH`).
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

        /// Both parties agree to a trade with both legs locked (`DvP.LOCK_TYPEHASH`).
        struct LockTrade {
            Trade terms;
        }

        /// Both parties instruct a one-transaction settlement (`DvP.SETTLE_TYPEHASH`).
        struct SettleTrade {
            Trade terms;
        }

        /// The buyer's payment instruction (`DvP.PAY_TYPEHASH`).
        struct PayTrade {
            Trade terms;
        }
    }
}

/// What a trade signature instructs (`IDvP.Instruction`); each is its own EIP-712 type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Instruction {
    /// `LockTrade`: create the trade with both legs locked (`createSignedTrade`).
    Lock = 0,
    /// `SettleTrade`: settle in one transaction from free balances (`settleSigned`).
    Settle = 1,
    /// `PayTrade`: the buyer's payment instruction for a created trade (`settleWithPayment`).
    Pay = 2,
}

/// What the owner of a kessai `OwnedWallet` at `wallet` signs for `hash`: the EIP-191 version-0 digest
/// with the wallet as intended validator (`OwnedWallet.digestFor`), so the signature is valid for that
/// wallet alone.
pub fn wallet_digest(wallet: Address, hash: B256) -> B256 {
    let mut data = Vec::with_capacity(54);
    data.extend_from_slice(&[0x19, 0x00]);
    data.extend_from_slice(wallet.as_slice());
    data.extend_from_slice(hash.as_slice());
    alloy::primitives::keccak256(data)
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

/// The digest a party signs to give `instruction` for trade `id` on `trade`'s terms.
pub fn trade_digest(chain_id: u64, dvp: Address, id: B256, trade: &Trade, instruction: Instruction) -> B256 {
    let terms = typed::Trade {
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
    let domain = dvp_domain(chain_id, dvp);
    match instruction {
        Instruction::Lock => typed::LockTrade { terms }.eip712_signing_hash(&domain),
        Instruction::Settle => typed::SettleTrade { terms }.eip712_signing_hash(&domain),
        Instruction::Pay => typed::PayTrade { terms }.eip712_signing_hash(&domain),
    }
}

/// Signs `instruction` for trade `id` with `key`: a 64-byte EIP-2098 compact signature (r, vs), which
/// the DvP contract verifies like the 65-byte form and which costs less calldata.
pub fn sign_trade(
    key: &PrivateKeySigner,
    chain_id: u64,
    dvp: Address,
    id: B256,
    trade: &Trade,
    instruction: Instruction,
) -> Result<Bytes, DeployerError> {
    let digest = trade_digest(chain_id, dvp, id, trade, instruction);
    let signature =
        key.sign_hash_sync(&digest).map_err(|e| DeployerError::Signing(format!("cannot sign trade {id}: {e}")))?;
    Ok(Bytes::from(signature.as_erc2098().to_vec()))
}
