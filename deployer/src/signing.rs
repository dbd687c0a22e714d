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
    primitives::{Address, B256, Bytes, keccak256},
    signers::{SignerSync, local::PrivateKeySigner},
    sol_types::{Eip712Domain, SolStruct, SolValue, eip712_domain},
};

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

impl Instruction {
    /// The EIP-712 `encodeType` of the instruction: its type wrapping the terms, then [`trade_type`]
    /// (what `DvP.LOCK_TYPEHASH`, `SETTLE_TYPEHASH` and `PAY_TYPEHASH` hash).
    pub fn eip712_type(self) -> String {
        let name = match self {
            Self::Lock => "LockTrade",
            Self::Settle => "SettleTrade",
            Self::Pay => "PayTrade",
        };
        format!("{name}({} terms){}", Trade::NAME, trade_type())
    }
}

/// The EIP-712 `encodeType` of a trade's terms (what `DvP.TRADE_TYPEHASH` hashes): the contract's
/// `IDvP.Trade`, as the bindings declare it, with the trade id as its first field.
pub fn trade_type() -> String {
    let terms = Trade::eip712_root_type();
    // The root type is `Trade(` followed by the fields and `)`.
    let fields = &terms[Trade::NAME.len() + 1..];
    format!("{}(bytes32 id,{fields}", Trade::NAME)
}

/// What the owner of a kessai `OwnedWallet` at `wallet` signs for `hash`: the EIP-191 version-0 digest
/// with the wallet as intended validator (`OwnedWallet.digestFor`), so the signature is valid for that
/// wallet alone.
pub fn wallet_digest(wallet: Address, hash: B256) -> B256 {
    let mut data = Vec::with_capacity(54);
    data.extend_from_slice(&[0x19, 0x00]);
    data.extend_from_slice(wallet.as_slice());
    data.extend_from_slice(hash.as_slice());
    keccak256(data)
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

/// The digest a party signs to give `instruction` for trade `id` on `trade`'s terms: the EIP-712
/// hash of the instruction wrapping the terms, whose struct hash is the id and the terms' eight static
/// words under [`trade_type`] (`DvP.tradeDigest`).
pub fn trade_digest(chain_id: u64, dvp: Address, id: B256, trade: &Trade, instruction: Instruction) -> B256 {
    let terms = keccak256((keccak256(trade_type()), id, trade.clone()).abi_encode());
    let wrapped = keccak256((keccak256(instruction.eip712_type()), terms).abi_encode());
    let domain = dvp_domain(chain_id, dvp).separator();
    keccak256([&[0x19, 0x01], domain.as_slice(), wrapped.as_slice()].concat())
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
    let signature = key
        .sign_hash_sync(&digest)
        .map_err(|source| DeployerError::Signing { what: format!("cannot sign trade {id}"), source })?;
    Ok(Bytes::from(signature.as_erc2098().to_vec()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_types_derived_from_the_bindings_are_the_ones_the_contract_hashes() {
        let source = include_str!("../../contracts/src/settlement/DvP.sol");
        let types = [trade_type(), Instruction::Lock.eip712_type(), Instruction::Settle.eip712_type()];
        for t in types.into_iter().chain([Instruction::Pay.eip712_type()]) {
            assert!(source.contains(&format!("\"{t}\"")), "DvP.sol hashes {t}");
        }
        assert_eq!(
            trade_type(),
            "Trade(bytes32 id,address security,address seller,address buyer,address cash,address agent,uint256 \
             units,uint256 amount,uint64 deadline)"
        );
    }
}
