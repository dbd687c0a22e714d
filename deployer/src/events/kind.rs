//! The suite's events: what each decoded log means.

use super::*;

/// What happened, by kind. Amounts are in token units (yen for deposit tokens); the contract that
/// emitted the event is the enclosing [`SuiteEvent`]'s.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum EventKind {
    /// A DvP trade was created; the seller's units are locked.
    TradeCreated {
        /// Trade id.
        id: B256,
        /// Seller.
        seller: Address,
        /// Buyer.
        buyer: Address,
        /// Security token.
        security: Address,
        /// Units sold.
        #[serde(with = "decimal")]
        units: U256,
        /// Deposit token paid in.
        cash: Address,
        /// Price.
        #[serde(with = "decimal")]
        amount: U256,
        /// Settlement agent (zero: none).
        agent: Address,
        /// Deadline (unix time).
        deadline: u64,
    },
    /// The buyer paid: its cash is locked.
    TradePaid {
        /// Trade id.
        id: B256,
    },
    /// The settlement agent approved.
    TradeApproved {
        /// Trade id.
        id: B256,
        /// The agent.
        agent: Address,
    },
    /// Both legs moved.
    TradeSettled {
        /// Trade id.
        id: B256,
    },
    /// The trade was created and settled in one transaction from both parties' signatures.
    TradeSettledBySignatures {
        /// Trade id.
        id: B256,
        /// Seller.
        seller: Address,
        /// Buyer.
        buyer: Address,
    },
    /// A party cancelled the trade; its locks were released.
    TradeCancelled {
        /// Trade id.
        id: B256,
        /// Who cancelled.
        by: Address,
    },
    /// An expired trade's locks were released.
    TradeExpired {
        /// Trade id.
        id: B256,
    },
    /// The agent settled a batch of trades.
    BatchSettled {
        /// Batch id.
        batch_id: B256,
        /// The agent.
        agent: Address,
        /// Trades settled.
        #[serde(with = "decimal")]
        trades: U256,
        /// Cash the trades pay in total.
        #[serde(with = "decimal")]
        gross_cash: U256,
        /// Cash that moved.
        #[serde(with = "decimal")]
        net_cash: U256,
    },
    /// Tokens moved between two accounts.
    Transfer {
        /// Sender.
        from: Address,
        /// Receiver.
        to: Address,
        /// Amount.
        #[serde(with = "decimal")]
        amount: U256,
    },
    /// Security units were issued (a transfer from the zero address).
    Issued {
        /// Receiver.
        to: Address,
        /// Amount.
        #[serde(with = "decimal")]
        amount: U256,
    },
    /// Security units were redeemed (a transfer to the zero address).
    Redeemed {
        /// Holder.
        from: Address,
        /// Amount.
        #[serde(with = "decimal")]
        amount: U256,
    },
    /// The bank issued deposit tokens against a deposit ledger entry (the deposit token's only issue
    /// event: its mint's `Transfer` is not reported separately).
    DepositIssued {
        /// Receiver.
        to: Address,
        /// Amount in yen.
        #[serde(with = "decimal")]
        amount: U256,
        /// The debited deposit's ledger reference.
        deposit_ref: B256,
        /// The minter.
        minter: Address,
    },
    /// Deposit tokens were redeemed into a deposit account (the deposit token's only redemption
    /// event: its burn's `Transfer` is not reported separately).
    DepositRedeemed {
        /// Holder.
        from: Address,
        /// Amount in yen.
        #[serde(with = "decimal")]
        amount: U256,
        /// The credited deposit account's reference.
        account_ref: B256,
    },
    /// A holder was paid a coupon, a redemption or a distribution.
    HolderPaid {
        /// Payment number (a bond's coupons 1..=n, its redemption n + 1).
        payment: u64,
        /// The holder at the record date.
        holder: Address,
        /// Who received the cash (the holder, or its recovered wallet).
        payee: Address,
        /// Units paid for.
        #[serde(with = "decimal")]
        units: U256,
        /// Cash paid.
        #[serde(with = "decimal")]
        amount: U256,
    },
    /// The deposit token refused a holder's payment; the holder stays unpaid.
    HolderPaymentFailed {
        /// Payment number.
        payment: u64,
        /// The holder.
        holder: Address,
        /// The decoded refusal.
        reason: String,
    },
    /// Every unit at the payment's record date has been paid.
    PaymentCompleted {
        /// Payment number.
        payment: u64,
        /// Units paid.
        #[serde(with = "decimal")]
        units: U256,
        /// Cash paid.
        #[serde(with = "decimal")]
        amount: U256,
    },
    /// An investor was registered or its record updated.
    InvestorRegistered {
        /// The account.
        account: Address,
        /// 0 retail, 1 professional, 2 institutional.
        class: u8,
        /// ISO 3166-1 numeric country.
        country: u16,
        /// KYC expiry (unix time).
        kyc_expiry: u64,
        /// Commitment to the off-chain personal data.
        data_hash: B256,
    },
    /// An investor's eligibility was revoked.
    InvestorRevoked {
        /// The account.
        account: Address,
    },
}

impl EventKind {
    /// Decodes a log of a contract built from `artifact` through the bindings' generated event
    /// enums; `None` for events the stream does not report (role grants, holds, configuration).
    pub fn decode(artifact: &str, log: &Log) -> Option<Self> {
        match artifact {
            "DvP" => Self::from_dvp(DvP::DvPEvents::decode_log(log).ok()?.data),
            "SecurityToken" => match St::SecurityTokenEvents::decode_log(log).ok()?.data {
                St::SecurityTokenEvents::Transfer(e) => Some(Self::security_transfer(e.from, e.to, e.value)),
                _ => None,
            },
            "DepositToken" => Self::from_deposit(Dt::DepositTokenEvents::decode_log(log).ok()?.data),
            "StraightBond" | "MunicipalBond" | "BeneficiaryUnits" => {
                Self::from_payments(Pay::StraightBondEvents::decode_log(log).ok()?.data)
            }
            "InvestorRegistry" => Self::from_registry(Reg::InvestorRegistryEvents::decode_log(log).ok()?.data),
            _ => None,
        }
    }

    /// A DvP event.
    fn from_dvp(event: DvP::DvPEvents) -> Option<Self> {
        use DvP::DvPEvents as E;
        Some(match event {
            E::TradeCreated(e) => Self::TradeCreated {
                id: e.id,
                seller: e.seller,
                buyer: e.buyer,
                security: e.security,
                units: e.units,
                cash: e.cash,
                amount: e.amount,
                agent: e.agent,
                deadline: e.deadline,
            },
            E::TradePaid(e) => Self::TradePaid { id: e.id },
            E::TradeApproved(e) => Self::TradeApproved { id: e.id, agent: e.agent },
            E::TradeSettled(e) => Self::TradeSettled { id: e.id },
            E::TradeSettledBySignatures(e) => {
                Self::TradeSettledBySignatures { id: e.id, seller: e.seller, buyer: e.buyer }
            }
            E::TradeCancelled(e) => Self::TradeCancelled { id: e.id, by: e.by },
            E::TradeExpired(e) => Self::TradeExpired { id: e.id },
            E::BatchSettled(e) => Self::BatchSettled {
                batch_id: e.batchId,
                agent: e.agent,
                trades: e.trades,
                gross_cash: e.grossCash,
                net_cash: e.netCash,
            },
            _ => return None,
        })
    }

    /// A security token's `Transfer`: an issue (from zero), a redemption (to zero) or a transfer.
    fn security_transfer(from: Address, to: Address, amount: U256) -> Self {
        match (from, to) {
            (Address::ZERO, to) => Self::Issued { to, amount },
            (from, Address::ZERO) => Self::Redeemed { from, amount },
            (from, to) => Self::Transfer { from, to, amount },
        }
    }

    /// A deposit token event: its issues and redemptions, and transfers between customers.
    fn from_deposit(event: Dt::DepositTokenEvents) -> Option<Self> {
        use Dt::DepositTokenEvents as E;
        match event {
            E::DepositIssued(e) => {
                Some(Self::DepositIssued { to: e.to, amount: e.amount, deposit_ref: e.depositRef, minter: e.minter })
            }
            E::DepositRedeemed(e) => {
                Some(Self::DepositRedeemed { from: e.from, amount: e.amount, account_ref: e.accountRef })
            }
            // A deposit token mints only in `issue` and burns only in a redemption, each of which
            // logs its own richer event: one fact, one event.
            E::Transfer(e) if e.from == Address::ZERO || e.to == Address::ZERO => None,
            E::Transfer(e) => Some(Self::Transfer { from: e.from, to: e.to, amount: e.value }),
            _ => None,
        }
    }

    /// An instrument's payment round event.
    fn from_payments(event: Pay::StraightBondEvents) -> Option<Self> {
        use Pay::StraightBondEvents as E;
        Some(match event {
            E::HolderPaid(e) => Self::HolderPaid {
                payment: e.payment.saturating_to(),
                holder: e.holder,
                payee: e.payee,
                units: e.units,
                amount: e.amount,
            },
            E::HolderPaymentFailed(e) => Self::HolderPaymentFailed {
                payment: e.payment.saturating_to(),
                holder: e.holder,
                reason: RevertError::decode(&e.reason).to_string(),
            },
            E::PaymentCompleted(e) => {
                Self::PaymentCompleted { payment: e.payment.saturating_to(), units: e.units, amount: e.amount }
            }
            _ => return None,
        })
    }

    /// An investor registry event.
    fn from_registry(event: Reg::InvestorRegistryEvents) -> Option<Self> {
        use Reg::InvestorRegistryEvents as E;
        Some(match event {
            E::InvestorRegistered(e) => Self::InvestorRegistered {
                account: e.account,
                class: e.investorClass,
                country: e.country,
                kyc_expiry: e.kycExpiry,
                data_hash: e.dataHash,
            },
            E::InvestorRevoked(e) => Self::InvestorRevoked { account: e.account },
            _ => return None,
        })
    }

    /// Whether contracts built from `artifact` emit events the stream reports.
    pub fn reports(artifact: &str) -> bool {
        matches!(
            artifact,
            "DvP"
                | "SecurityToken"
                | "DepositToken"
                | "StraightBond"
                | "MunicipalBond"
                | "BeneficiaryUnits"
                | "InvestorRegistry"
        )
    }
}

impl fmt::Display for EventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TradeCreated { id, seller, buyer, units, amount, agent, deadline, .. } => write!(
                f,
                "trade {id} created: {seller} sells {units} units to {buyer} for {amount}, agent {agent}, deadline {deadline}"
            ),
            Self::TradePaid { id } => write!(f, "trade {id} paid"),
            Self::TradeApproved { id, agent } => write!(f, "trade {id} approved by {agent}"),
            Self::TradeSettled { id } => write!(f, "trade {id} settled"),
            Self::TradeSettledBySignatures { id, seller, buyer } => {
                write!(f, "trade {id} settled by signatures of {seller} and {buyer}")
            }
            Self::TradeCancelled { id, by } => write!(f, "trade {id} cancelled by {by}"),
            Self::TradeExpired { id } => write!(f, "trade {id} expired: locks released"),
            Self::BatchSettled { batch_id, agent, trades, gross_cash, net_cash } => write!(
                f,
                "batch {batch_id} of {trades} trades settled by {agent}: gross cash {gross_cash}, net {net_cash}"
            ),
            Self::Transfer { from, to, amount } => write!(f, "transfer of {amount} from {from} to {to}"),
            Self::Issued { to, amount } => write!(f, "issue of {amount} to {to}"),
            Self::Redeemed { from, amount } => write!(f, "redemption of {amount} from {from}"),
            Self::DepositIssued { to, amount, deposit_ref, minter } => {
                write!(f, "deposit issued: {amount} to {to} against ledger ref {deposit_ref} by {minter}")
            }
            Self::DepositRedeemed { from, amount, account_ref } => {
                write!(f, "deposit redeemed: {amount} from {from} into account ref {account_ref}")
            }
            Self::HolderPaid { payment, holder, payee, units, amount } => {
                write!(f, "payment {payment}: {holder} paid {amount} for {units} units")?;
                if payee != holder {
                    write!(f, " (to its recovered wallet {payee})")?;
                }
                Ok(())
            }
            Self::HolderPaymentFailed { payment, holder, reason } => {
                write!(f, "payment {payment}: paying {holder} failed: {reason}")
            }
            Self::PaymentCompleted { payment, units, amount } => {
                write!(f, "payment {payment} completed: {amount} for {units} units")
            }
            Self::InvestorRegistered { account, class, country, kyc_expiry, .. } => {
                write!(
                    f,
                    "investor {account} registered: class {}, country {country}, KYC until {kyc_expiry}",
                    kessai_bindings::investor_class(*class)
                )
            }
            Self::InvestorRevoked { account } => write!(f, "investor {account} revoked"),
        }
    }
}
