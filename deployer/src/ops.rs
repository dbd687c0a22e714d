//! Operator actions on a deployed suite, engine-agnostic: register investors, issue and redeem
//! securities and deposit tokens, and drive a DvP trade. The CLI, the demo and the tests all call
//! these; each returns the mined receipt or the decoded revert.

use crate::{
    chain::{Chain, Receipt},
    error::DeployerError,
    events::decimal,
    plan::{Deployment, labels},
};
use alloy::{
    primitives::{Address, B256, Bytes, U256},
    sol_types::{SolEvent, SolValue},
};
use kessai_bindings::{
    Restriction,
    deposit_token::DepositToken,
    dvp::{DvP, IDvP},
    investor_registry::InvestorRegistry,
    security_token::SecurityToken,
    transfer_approvals::TransferApprovals,
};
use serde::{Deserialize, Serialize, Serializer, ser::SerializeStruct};

mod enforcement;
mod payments;
pub use enforcement::{ForcedTransfer, Standing};
pub use payments::{BenefitProgramme, HolderPayment, Owed, PaymentPlan, PaymentRound};

/// The terms of a DvP trade (the contract's `IDvP.Trade`).
pub type Trade = IDvP::Trade;

/// Addresses of a deployed suite.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Suite {
    /// Securities-side investor registry.
    pub registry: Address,
    /// The bank's customer registry.
    pub bank_registry: Address,
    /// Security token.
    pub security: Address,
    /// Deposit token.
    pub deposit: Address,
    /// DvP contract.
    pub dvp: Address,
    /// Transfer approvals desk.
    pub approvals: Address,
}

/// One account's position in both tokens.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Position {
    /// Security units.
    pub units: U256,
    /// Security units held.
    pub units_held: U256,
    /// Deposit tokens.
    pub cash: U256,
    /// Deposit tokens held.
    pub cash_held: U256,
}

/// One investor's allotment in a primary offering.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Allotment {
    /// The subscribing investor.
    pub investor: Address,
    /// Units allotted.
    pub units: U256,
    /// Price to pay, in deposit tokens.
    pub amount: U256,
}

/// Both parties' EIP-712 signatures over a trade (see [`Suite::trade_digest`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TradeSignatures {
    /// The seller's signature (65-byte ECDSA, or what its ERC-1271 wallet accepts).
    pub seller: Bytes,
    /// The buyer's signature.
    pub buyer: Bytes,
}

/// What a settled batch reports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BatchReceipt {
    /// Trades settled.
    pub trades: U256,
    /// Cash the trades pay in total.
    pub gross_cash: U256,
    /// Cash that actually moved (equal to `gross_cash` unless netted).
    pub net_cash: U256,
    /// The transaction.
    pub receipt: Receipt,
}

impl BatchReceipt {
    /// Liquidity the batch saved: gross minus net cash.
    pub fn liquidity_saved(&self) -> U256 {
        self.gross_cash - self.net_cash
    }
}

/// What stands between a trade and its settlement now (the contract's `canSettle`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SettleCheck {
    /// No trade with this id and these terms.
    TradeNotFound,
    /// The trade was settled, cancelled or released.
    NotOpen,
    /// The deadline passed: only a release remains.
    Expired,
    /// The security leg would be refused by the token.
    SecurityLegRestricted(Restriction),
    /// The cash leg would be refused by the token.
    CashLegRestricted(Restriction),
    /// Both legs would pass; the buyer has not paid (the payment settles when no approval is outstanding).
    AwaitingPayment,
    /// Paid and both legs would pass: the settlement agent's approval settles the trade.
    AwaitingApproval,
}

impl SettleCheck {
    /// From the contract's (check, restriction) codes.
    pub fn from_codes(check: u8, restriction: u8) -> Option<Self> {
        Some(match check {
            0 => Self::TradeNotFound,
            1 => Self::NotOpen,
            2 => Self::Expired,
            3 => Self::SecurityLegRestricted(Restriction::from_code(restriction)?),
            4 => Self::CashLegRestricted(Restriction::from_code(restriction)?),
            5 => Self::AwaitingPayment,
            6 => Self::AwaitingApproval,
            _ => return None,
        })
    }

    /// A sentence an operator can act on.
    pub fn message(&self) -> String {
        match self {
            Self::TradeNotFound => "no trade with this id and these terms".into(),
            Self::NotOpen => "the trade was already settled, cancelled or released".into(),
            Self::Expired => "the deadline passed: release the trade and create a new one".into(),
            Self::SecurityLegRestricted(r) => format!("the security leg would be refused: {}", r.message()),
            Self::CashLegRestricted(r) => format!("the cash leg would be refused: {}", r.message()),
            Self::AwaitingPayment => {
                "both legs would pass; waiting for the buyer's payment (which settles when no approval is outstanding)"
                    .into()
            }
            Self::AwaitingApproval => {
                "paid and both legs would pass: the settlement agent's approval settles it".into()
            }
        }
    }
}

/// Investor record fields used when registering.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Registration {
    /// 0 retail, 1 professional, 2 institutional.
    pub class: u8,
    /// ISO 3166-1 numeric country (392 = Japan).
    pub country: u16,
    /// KYC expiry (unix time).
    pub kyc_expiry: u64,
    /// Hash committing to the off-chain personal data.
    pub data_hash: B256,
}

impl Suite {
    /// The suite's addresses from a deployment.
    pub fn from_deployment(d: &Deployment) -> Result<Self, DeployerError> {
        Ok(Self {
            registry: d.address(labels::REGISTRY)?,
            bank_registry: d.address(labels::BANK_REGISTRY)?,
            security: d.address(labels::SECURITY)?,
            deposit: d.address(labels::DEPOSIT)?,
            dvp: d.address(labels::DVP)?,
            approvals: d.address(labels::APPROVALS)?,
        })
    }

    /// Registers `account` in `registry` (the securities registry or the bank's), sent by `registrar`.
    pub async fn register<C: Chain>(
        &self,
        chain: &mut C,
        registry: Address,
        registrar: Address,
        account: Address,
        r: Registration,
    ) -> Result<Receipt, DeployerError> {
        let call = InvestorRegistry::registerCall {
            account,
            investorClass: r.class,
            country: r.country,
            kycExpiry: r.kyc_expiry,
            dataHash: r.data_hash,
        };
        chain.send_call(registrar, registry, &call).await
    }

    /// Revokes `account` in `registry`.
    pub async fn revoke<C: Chain>(
        &self,
        chain: &mut C,
        registry: Address,
        registrar: Address,
        account: Address,
    ) -> Result<Receipt, DeployerError> {
        chain.send_call(registrar, registry, &InvestorRegistry::revokeCall { account }).await
    }

    /// The issuer issues `units` of the security token to `to`.
    pub async fn issue_security<C: Chain>(
        &self,
        chain: &mut C,
        issuer: Address,
        to: Address,
        units: U256,
    ) -> Result<Receipt, DeployerError> {
        chain.send_call(issuer, self.security, &SecurityToken::issueCall { to, amount: units }).await
    }

    /// The bank issues `amount` deposit tokens to `to` against ledger entry `deposit_ref`.
    pub async fn issue_deposit<C: Chain>(
        &self,
        chain: &mut C,
        bank: Address,
        to: Address,
        amount: U256,
        deposit_ref: B256,
    ) -> Result<Receipt, DeployerError> {
        let call = DepositToken::issueCall { to, amount, depositRef: deposit_ref };
        chain.send_call(bank, self.deposit, &call).await
    }

    /// `holder` redeems `amount` deposit tokens into deposit account `account_ref`.
    pub async fn redeem_deposit<C: Chain>(
        &self,
        chain: &mut C,
        holder: Address,
        amount: U256,
        account_ref: B256,
    ) -> Result<Receipt, DeployerError> {
        chain.send_call(holder, self.deposit, &DepositToken::redeemCall { amount, accountRef: account_ref }).await
    }

    /// The master minter sets `minter`'s allowance and its rate limit per `period` seconds.
    pub async fn configure_minter<C: Chain>(
        &self,
        chain: &mut C,
        master_minter: Address,
        minter: Address,
        allowance: u128,
        limit_per_period: u128,
        period: u64,
    ) -> Result<Receipt, DeployerError> {
        let call = DepositToken::configureMinterCall { minter, allowance, limitPerPeriod: limit_per_period, period };
        chain.send_call(master_minter, self.deposit, &call).await
    }

    /// The seller creates trade `id`; the seller's units are held.
    pub async fn create_trade<C: Chain>(
        &self,
        chain: &mut C,
        id: B256,
        trade: &Trade,
    ) -> Result<Receipt, DeployerError> {
        chain.send_call(trade.seller, self.dvp, &DvP::createTradeCall { id, trade: trade.clone() }).await
    }

    /// The buyer pays: deposit tokens are held, and the trade settles if no approval is outstanding.
    pub async fn pay<C: Chain>(&self, chain: &mut C, id: B256, trade: &Trade) -> Result<Receipt, DeployerError> {
        chain.send_call(trade.buyer, self.dvp, &DvP::payCall { id, trade: trade.clone() }).await
    }

    /// The settlement agent approves; the trade settles if the buyer has paid.
    pub async fn approve<C: Chain>(&self, chain: &mut C, id: B256, trade: &Trade) -> Result<Receipt, DeployerError> {
        chain.send_call(trade.agent, self.dvp, &DvP::approveCall { id, trade: trade.clone() }).await
    }

    /// A party (`by`) cancels the trade; its holds are released.
    pub async fn cancel<C: Chain>(
        &self,
        chain: &mut C,
        by: Address,
        id: B256,
        trade: &Trade,
    ) -> Result<Receipt, DeployerError> {
        chain.send_call(by, self.dvp, &DvP::cancelCall { id, trade: trade.clone() }).await
    }

    /// Anyone (`by`) releases the locks of an unsettled trade after its deadline.
    pub async fn release<C: Chain>(
        &self,
        chain: &mut C,
        by: Address,
        id: B256,
        trade: &Trade,
    ) -> Result<Receipt, DeployerError> {
        chain.send_call(by, self.dvp, &DvP::releaseCall { id, trade: trade.clone() }).await
    }

    /// `by` (a broker, the agent) creates trade `id` from both parties' signatures: both legs are
    /// locked at once, and a trade without an agent settles in the same transaction.
    pub async fn create_signed_trade<C: Chain>(
        &self,
        chain: &mut C,
        by: Address,
        id: B256,
        trade: &Trade,
        signatures: &TradeSignatures,
    ) -> Result<Receipt, DeployerError> {
        let call = DvP::createSignedTradeCall {
            id,
            trade: trade.clone(),
            sellerSig: signatures.seller.clone(),
            buyerSig: signatures.buyer.clone(),
        };
        chain.send_call(by, self.dvp, &call).await
    }

    /// `by` (the agent when the trade names one) settles trade `id` in one transaction from both
    /// parties' signatures, without prior locks.
    pub async fn settle_signed<C: Chain>(
        &self,
        chain: &mut C,
        by: Address,
        id: B256,
        trade: &Trade,
        signatures: &TradeSignatures,
    ) -> Result<Receipt, DeployerError> {
        let call = DvP::settleSignedCall {
            id,
            trade: trade.clone(),
            sellerSig: signatures.seller.clone(),
            buyerSig: signatures.buyer.clone(),
        };
        chain.send_call(by, self.dvp, &call).await
    }

    /// The agent (anyone when the trade names none) settles trade `id` with the buyer's signed payment
    /// instruction: the seller's locked units and the buyer's payment move in one transaction.
    pub async fn settle_with_payment<C: Chain>(
        &self,
        chain: &mut C,
        by: Address,
        id: B256,
        trade: &Trade,
        buyer_signature: &Bytes,
    ) -> Result<Receipt, DeployerError> {
        let call = DvP::settleWithPaymentCall { id, trade: trade.clone(), buyerSig: buyer_signature.clone() };
        chain.send_call(by, self.dvp, &call).await
    }

    /// The agent approves and settles paid trades at once, all or nothing. With `netted`, only each
    /// party's net cash position moves (every trade must pay in the same deposit token).
    pub async fn settle_batch<C: Chain>(
        &self,
        chain: &mut C,
        agent: Address,
        trades: &[(B256, Trade)],
        netted: bool,
    ) -> Result<BatchReceipt, DeployerError> {
        let ids: Vec<B256> = trades.iter().map(|(id, _)| *id).collect();
        let terms: Vec<Trade> = trades.iter().map(|(_, t)| t.clone()).collect();
        let receipt = if netted {
            chain.send_call(agent, self.dvp, &DvP::settleBatchNettedCall { ids, trades: terms }).await?
        } else {
            chain.send_call(agent, self.dvp, &DvP::settleBatchCall { ids, trades: terms }).await?
        };
        let settled = receipt
            .logs
            .iter()
            .filter(|log| log.address == self.dvp)
            .find_map(|log| DvP::BatchSettled::decode_log_data(&log.data).ok())
            .ok_or_else(|| DeployerError::Answer("the batch settled without a BatchSettled event".into()))?;
        Ok(BatchReceipt { trades: settled.trades, gross_cash: settled.grossCash, net_cash: settled.netCash, receipt })
    }

    /// What stands between trade `id` and its settlement now (see [`SettleCheck`]).
    pub async fn can_settle<C: Chain>(
        &self,
        chain: &mut C,
        id: B256,
        trade: &Trade,
    ) -> Result<SettleCheck, DeployerError> {
        let r = chain.read(self.dvp, &DvP::canSettleCall { id, trade: trade.clone() }).await?;
        let (check, restriction) = (r._0 as u8, r._1 as u8);
        SettleCheck::from_codes(check, restriction)
            .ok_or_else(|| DeployerError::Answer(format!("unknown settle check ({check}, {restriction})")))
    }

    /// The EIP-712 digest a party signs to give `instruction` for trade `id` on these terms.
    pub async fn trade_digest<C: Chain>(
        &self,
        chain: &mut C,
        id: B256,
        trade: &Trade,
        instruction: crate::signing::Instruction,
    ) -> Result<B256, DeployerError> {
        chain.read(self.dvp, &DvP::tradeDigestCall { id, trade: trade.clone(), instruction: instruction as u8 }).await
    }

    /// Primary offering: the underwriter (holding the issued units) creates one DvP trade per
    /// allotment, with `agent` approving on the issue date. Investors then pay with [`Suite::pay`], and
    /// the agent's [`Suite::approve`] delivers units against payment atomically — the same DvP
    /// machinery as secondary trades. Returns each allotment's trade id and terms.
    pub async fn offer<C: Chain>(
        &self,
        chain: &mut C,
        underwriter: Address,
        agent: Address,
        allotments: &[Allotment],
        deadline: u64,
    ) -> Result<Vec<(B256, Trade)>, DeployerError> {
        let mut trades = Vec::with_capacity(allotments.len());
        for (i, a) in allotments.iter().enumerate() {
            let reference = (self.security, a.investor, i as u64).abi_encode();
            let id = kessai_bindings::trade_id(underwriter, reference);
            let trade = Trade {
                security: self.security,
                seller: underwriter,
                buyer: a.investor,
                cash: self.deposit,
                agent,
                units: a.units,
                amount: a.amount,
                deadline,
            };
            self.create_trade(chain, id, &trade).await?;
            trades.push((id, trade));
        }
        Ok(trades)
    }

    /// The trade's status flags (1 created, 2 paid, 4 approved, 8 settled, 16 cancelled, 32 expired).
    pub async fn trade_status<C: Chain>(&self, chain: &mut C, id: B256) -> Result<u8, DeployerError> {
        chain.read(self.dvp, &DvP::statusOfCall { id }).await
    }

    /// `account`'s position in both tokens.
    pub async fn position<C: Chain>(&self, chain: &mut C, account: Address) -> Result<Position, DeployerError> {
        Ok(Position {
            units: chain.read(self.security, &SecurityToken::balanceOfCall { account }).await?,
            units_held: chain.read(self.security, &SecurityToken::heldBalanceOfCall { account }).await?,
            cash: chain.read(self.deposit, &DepositToken::balanceOfCall { account }).await?,
            cash_held: chain.read(self.deposit, &DepositToken::heldBalanceOfCall { account }).await?,
        })
    }

    /// Total supply of (security, deposit) tokens.
    pub async fn supplies<C: Chain>(&self, chain: &mut C) -> Result<(U256, U256), DeployerError> {
        Ok((
            chain.read(self.security, &SecurityToken::totalSupplyCall {}).await?,
            chain.read(self.deposit, &DepositToken::totalSupplyCall {}).await?,
        ))
    }

    /// The bank (REDEEMER_ROLE) redeems `amount` of `holder`'s deposit tokens on the holder's
    /// instruction, crediting deposit account `account_ref`.
    pub async fn redeem_deposit_for<C: Chain>(
        &self,
        chain: &mut C,
        redeemer: Address,
        holder: Address,
        amount: U256,
        account_ref: B256,
    ) -> Result<Receipt, DeployerError> {
        let call = DepositToken::redeemForCall { holder, amount, accountRef: account_ref };
        chain.send_call(redeemer, self.deposit, &call).await
    }

    /// The issuer redeems (cancels) `units` of `from`'s security units.
    pub async fn redeem_security<C: Chain>(
        &self,
        chain: &mut C,
        issuer: Address,
        from: Address,
        units: U256,
    ) -> Result<Receipt, DeployerError> {
        chain.send_call(issuer, self.security, &SecurityToken::redeemCall { from, amount: units }).await
    }

    /// `from` transfers `units` security units to `to` (subject to the token's transfer rules).
    pub async fn transfer_security<C: Chain>(
        &self,
        chain: &mut C,
        from: Address,
        to: Address,
        units: U256,
    ) -> Result<Receipt, DeployerError> {
        chain.send_call(from, self.security, &SecurityToken::transferCall { to, amount: units }).await
    }

    /// `from` pays `amount` deposit tokens to `to` (both must be the bank's customers).
    pub async fn transfer_deposit<C: Chain>(
        &self,
        chain: &mut C,
        from: Address,
        to: Address,
        amount: U256,
    ) -> Result<Receipt, DeployerError> {
        chain.send_call(from, self.deposit, &DepositToken::transferCall { to, amount }).await
    }

    /// The issuer adds `programme` to the municipal bond at `bond`.
    pub async fn add_benefit_programme<C: Chain>(
        &self,
        chain: &mut C,
        issuer: Address,
        bond: Address,
        programme: &BenefitProgramme,
    ) -> Result<Receipt, DeployerError> {
        use kessai_bindings::municipal_bond::MunicipalBond;
        let call = MunicipalBond::addProgrammeCall {
            name: programme.name.clone(),
            unitsPerBenefit: programme.units_per_benefit,
            record: programme.record,
            claimUntil: programme.claim_until,
        };
        chain.send_call(issuer, bond, &call).await
    }

    /// `holder` claims its benefits from programme `programme` of the municipal bond at `bond`.
    pub async fn claim_benefit<C: Chain>(
        &self,
        chain: &mut C,
        holder: Address,
        bond: Address,
        programme: u64,
    ) -> Result<Receipt, DeployerError> {
        use kessai_bindings::municipal_bond::MunicipalBond;
        chain.send_call(holder, bond, &MunicipalBond::claimBenefitCall { programme: U256::from(programme) }).await
    }

    /// `account`'s record in `registry` (the securities registry or a bank's) and whether the
    /// registry finds it eligible now.
    pub async fn investor<C: Chain>(
        &self,
        chain: &mut C,
        registry: Address,
        account: Address,
    ) -> Result<InvestorRecord, DeployerError> {
        let record = chain.read(registry, &InvestorRegistry::investorOfCall { account }).await?;
        Ok(InvestorRecord {
            status: record.status,
            class: record.investorClass,
            country: record.country,
            kyc_expiry: record.kycExpiry,
            data_hash: chain.read(registry, &InvestorRegistry::dataHashOfCall { account }).await?,
            eligible: chain.read(registry, &InvestorRegistry::isEligibleCall { account }).await?,
        })
    }

    /// Every account that ever received units of the security token, in the order it first did (from
    /// the token's `Transfer` logs): the candidates of any payment round.
    pub async fn security_accounts<C: Chain>(&self, chain: &mut C) -> Result<Vec<Address>, DeployerError> {
        let mut seen = std::collections::HashSet::new();
        let mut accounts = Vec::new();
        for located in chain.logs(&[self.security], 0, None).await? {
            let log = located.log;
            if log.topics().first() == Some(&SecurityToken::Transfer::SIGNATURE_HASH)
                && let Ok(t) = SecurityToken::Transfer::decode_log_data(&log.data)
                && t.to != Address::ZERO
                && seen.insert(t.to)
            {
                accounts.push(t.to);
            }
        }
        Ok(accounts)
    }
}

/// An account's record in an investor registry; as JSON its fields, the status as a word.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct InvestorRecord {
    /// 0 unknown, 1 active, 2 revoked, 3 facility.
    #[serde(serialize_with = "serialize_status")]
    pub status: u8,
    /// 0 retail, 1 professional, 2 institutional.
    pub class: u8,
    /// ISO 3166-1 numeric country.
    pub country: u16,
    /// KYC expiry (unix time).
    pub kyc_expiry: u64,
    /// Commitment to the off-chain personal data.
    pub data_hash: B256,
    /// Eligible now (active with valid KYC, or a facility).
    pub eligible: bool,
}

impl InvestorRecord {
    /// The status as a word.
    pub fn status_word(&self) -> &'static str {
        status_word(self.status)
    }
}

/// A registry status as a word: `unknown`, `active`, `revoked` or `facility`.
fn status_word(status: u8) -> &'static str {
    match status {
        0 => "unknown",
        1 => "active",
        2 => "revoked",
        3 => "facility",
        _ => "invalid",
    }
}

/// Writes a registry status as its word.
fn serialize_status<S: Serializer>(status: &u8, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(status_word(*status))
}
