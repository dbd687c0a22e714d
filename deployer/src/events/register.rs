//! The holder register at a block, from the event history.

use super::*;

/// One line of a holder register.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HolderRecord {
    /// The account.
    pub holder: Address,
    /// Units held (the balance, including held and frozen units).
    #[serde(with = "decimal")]
    pub units: U256,
    /// Units held for a settlement (DvP locks, transfer approvals).
    #[serde(with = "decimal")]
    pub held: U256,
    /// Units frozen by the authority.
    #[serde(with = "decimal")]
    pub frozen: U256,
    /// The whole account is frozen.
    pub account_frozen: bool,
    /// The registry finds the account eligible (active with valid KYC, or a facility).
    pub eligible: bool,
}

/// An instrument's holder register at a block: every account that ever held units.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HolderRegister {
    /// The security token.
    pub token: Address,
    /// Its investor registry at that block.
    pub registry: Address,
    /// The block the register is taken at.
    pub block: u64,
    /// That block's timestamp.
    pub timestamp: u64,
    /// Total units outstanding.
    #[serde(with = "decimal")]
    pub total_supply: U256,
    /// One line per account that received units up to the block, by address.
    pub holders: Vec<HolderRecord>,
}

impl HolderRegister {
    /// The CSV header of [`HolderRegister::to_csv`].
    pub const CSV_HEADER: &'static str = "holder,units,held,frozen,account_frozen,eligible";

    /// The register as CSV: a header line, then one line per holder.
    pub fn to_csv(&self) -> String {
        let mut out = String::from(Self::CSV_HEADER);
        out.push('\n');
        for h in &self.holders {
            out.push_str(&format!(
                "{},{},{},{},{},{}\n",
                h.holder, h.units, h.held, h.frozen, h.account_frozen, h.eligible
            ));
        }
        out
    }

    /// The holders with units at the block.
    pub fn current_holders(&self) -> impl Iterator<Item = &HolderRecord> {
        self.holders.iter().filter(|h| !h.units.is_zero())
    }
}

/// The holder register of the security token `token` at block `block`: every account that received
/// units in blocks `from_block..=block` (from the token's `Transfer` logs; `from_block` is the
/// token's deployment block), with its units, held and frozen units and eligibility read at that
/// block. Needs an engine that keeps the state of `block` (a node; the in-process engine keeps its
/// latest block's only). A block before `from_block` is refused
/// ([`DeployerError::BeforeDeployment`]): the token did not exist, and an empty register would say
/// that nobody held it.
pub async fn holder_register<C: Chain>(
    chain: &mut C,
    token: Address,
    from_block: u64,
    block: u64,
) -> Result<HolderRegister, DeployerError> {
    let head = chain.head().await?;
    if block > head {
        return Err(DeployerError::NotMined { block, head });
    }
    if block < from_block {
        return Err(DeployerError::BeforeDeployment { block, first_block: from_block });
    }
    let mut accounts = std::collections::BTreeSet::new();
    for l in chain.logs(&[token], from_block, Some(block)).await? {
        if l.log.topics().first() == Some(&St::Transfer::SIGNATURE_HASH)
            && let Ok(t) = St::Transfer::decode_log_data(&l.log.data)
            && t.to != Address::ZERO
        {
            accounts.insert(t.to);
        }
    }
    let registry = chain.read_at(block, token, &St::registryCall {}).await?;
    let mut holders = Vec::with_capacity(accounts.len());
    for holder in accounts {
        holders.push(HolderRecord {
            holder,
            units: chain.read_at(block, token, &St::balanceOfCall { account: holder }).await?,
            held: chain.read_at(block, token, &St::heldBalanceOfCall { account: holder }).await?,
            frozen: chain.read_at(block, token, &St::frozenBalanceOfCall { account: holder }).await?,
            account_frozen: chain.read_at(block, token, &St::isFrozenCall { account: holder }).await?,
            eligible: chain.read_at(block, registry, &Reg::isEligibleCall { account: holder }).await?,
        });
    }
    Ok(HolderRegister {
        token,
        registry,
        block,
        timestamp: chain.timestamp_at(block).await?,
        total_supply: chain.read_at(block, token, &St::totalSupplyCall {}).await?,
        holders,
    })
}
