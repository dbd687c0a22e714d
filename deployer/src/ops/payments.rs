//! The paying agent's rounds on an instrument (a bond's coupons and redemption, a fund's
//! distributions): what a payment still owes, and paying it in resumable batches.

use super::*;

impl Suite {
    /// The paying agent runs payment `payment` of the instrument at `instrument` (a bond's coupons
    /// 1..=n, its redemption n+1; a fund's distributions) for `holders`, paid from the deposit tokens
    /// the instrument holds. Holders already paid are skipped, so a batch can be retried.
    pub async fn pay_instrument<C: Chain>(
        &self,
        chain: &mut C,
        paying_agent: Address,
        instrument: Address,
        payment: u64,
        holders: &[Address],
    ) -> Result<Receipt, DeployerError> {
        use kessai_bindings::straight_bond::StraightBond;
        let call = StraightBond::payCall { payment: U256::from(payment), holders: holders.to_vec() };
        chain.send_call(paying_agent, instrument, &call).await
    }

    /// What payment `payment` of the instrument at `instrument` (a bond's coupons 1..=n and its
    /// redemption n+1; a fund's distributions) still owes: every holder at its record date not yet
    /// paid, with its entitlement, and the deposit tokens the instrument holds to pay with. Reverts
    /// (decoded) when the payment does not exist or its record date has not passed.
    pub async fn payment_plan<C: Chain>(
        &self,
        chain: &mut C,
        instrument: Address,
        payment: u64,
    ) -> Result<PaymentPlan, DeployerError> {
        use kessai_bindings::straight_bond::StraightBond as Rounds;
        let number = U256::from(payment);
        let cash = chain.read(instrument, &Rounds::cashCall {}).await?;
        let available = chain.read(cash, &DepositToken::balanceOfCall { account: instrument }).await?;
        let (mut owed, mut already_paid) = (Vec::new(), Vec::new());
        for holder in self.security_accounts(chain).await? {
            if chain.read(instrument, &Rounds::isPaidCall { payment: number, holder }).await? {
                already_paid.push(holder);
                continue;
            }
            let e = chain.read(instrument, &Rounds::entitlementCall { payment: number, holder }).await?;
            if !e.units_.is_zero() {
                owed.push(Owed { holder, units: e.units_, amount: e.amount });
            }
        }
        Ok(PaymentPlan { payment, instrument, cash, available, owed, already_paid })
    }

    /// The paying agent pays `holders` their entitlement for payment `payment` of `instrument`, in
    /// transactions of at most `batch_size` holders each, and reports who was paid and who the deposit
    /// token refused. The contract never pays a holder twice for a payment, so a round that stopped
    /// (a refusal, an outage) is resumed by running it again with a fresh [`Suite::payment_plan`].
    pub async fn pay_in_batches<C: Chain>(
        &self,
        chain: &mut C,
        paying_agent: Address,
        instrument: Address,
        payment: u64,
        holders: &[Address],
        batch_size: usize,
    ) -> Result<PaymentRound, DeployerError> {
        use kessai_bindings::straight_bond::StraightBond as Rounds;
        let number = U256::from(payment);
        let mut round = PaymentRound { payment, ..Default::default() };
        for chunk in holders.chunks(batch_size.max(1)) {
            let call = Rounds::payCall { payment: number, holders: chunk.to_vec() };
            let receipt = chain.send_call(paying_agent, instrument, &call).await?;
            for log in receipt.logs.iter().filter(|l| l.address == instrument) {
                match log.topics().first() {
                    Some(&Rounds::HolderPaid::SIGNATURE_HASH) => {
                        if let Ok(e) = Rounds::HolderPaid::decode_log_data(&log.data) {
                            let (holder, payee, units, amount) = (e.holder, e.payee, e.units, e.amount);
                            round.paid.push(HolderPayment { holder, payee, units, amount });
                        }
                    }
                    Some(&Rounds::HolderPaymentFailed::SIGNATURE_HASH) => {
                        if let Ok(e) = Rounds::HolderPaymentFailed::decode_log_data(&log.data) {
                            round.failed.push((e.holder, kessai_bindings::RevertError::decode(&e.reason)));
                        }
                    }
                    Some(&Rounds::PaymentCompleted::SIGNATURE_HASH) => round.completed = true,
                    _ => {}
                }
            }
            round.batches.push((chunk.len(), receipt));
        }
        let progress = chain.read(instrument, &Rounds::progressCall { payment: number }).await?;
        round.paid_units = progress.paidUnits;
        round.record_units = progress.recordUnits;
        Ok(round)
    }
}

/// What one holder is owed for a payment; as JSON its fields, amounts as decimal strings.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Owed {
    /// The holder at the record date.
    pub holder: Address,
    /// Its units at the record date.
    #[serde(with = "decimal")]
    pub units: U256,
    /// The cash it is owed.
    #[serde(with = "decimal")]
    pub amount: U256,
}

/// What a payment still owes (see [`Suite::payment_plan`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PaymentPlan {
    /// The payment number.
    pub payment: u64,
    /// The instrument paying.
    pub instrument: Address,
    /// The deposit token it pays in.
    pub cash: Address,
    /// The deposit tokens the instrument holds.
    pub available: U256,
    /// Holders not yet paid, with what they are owed, in the order they first held units.
    pub owed: Vec<Owed>,
    /// Holders already paid.
    pub already_paid: Vec<Address>,
}

impl PaymentPlan {
    /// The cash the unpaid holders are owed in total.
    pub fn needed(&self) -> U256 {
        self.owed.iter().map(|o| o.amount).sum()
    }

    /// The unpaid holders.
    pub fn holders(&self) -> Vec<Address> {
        self.owed.iter().map(|o| o.holder).collect()
    }
}

/// As JSON: the plan's fields with amounts as decimal strings, `needed` (what the unpaid holders are
/// owed in all) and `already_paid` as a count.
impl Serialize for PaymentPlan {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        /// An amount written as [`decimal`] writes it.
        struct Decimal(U256);
        impl Serialize for Decimal {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                decimal::serialize(&self.0, s)
            }
        }
        let mut plan = s.serialize_struct("PaymentPlan", 7)?;
        plan.serialize_field("payment", &self.payment)?;
        plan.serialize_field("instrument", &self.instrument)?;
        plan.serialize_field("cash", &self.cash)?;
        plan.serialize_field("available", &Decimal(self.available))?;
        plan.serialize_field("needed", &Decimal(self.needed()))?;
        plan.serialize_field("already_paid", &self.already_paid.len())?;
        plan.serialize_field("owed", &self.owed)?;
        plan.end()
    }
}

/// One holder's payment; as JSON its fields, amounts as decimal strings.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct HolderPayment {
    /// The holder at the record date.
    pub holder: Address,
    /// Who received the cash (the holder, or its recovered wallet).
    pub payee: Address,
    /// Units paid for.
    #[serde(with = "decimal")]
    pub units: U256,
    /// Cash paid.
    #[serde(with = "decimal")]
    pub amount: U256,
}

/// What a run of [`Suite::pay_in_batches`] did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PaymentRound {
    /// The payment number.
    pub payment: u64,
    /// Each transaction: the holders it named and its receipt.
    pub batches: Vec<(usize, Receipt)>,
    /// Holders paid by this run.
    pub paid: Vec<HolderPayment>,
    /// Holders whose payment the deposit token refused (they stay unpaid; a later run retries them).
    pub failed: Vec<(Address, kessai_bindings::RevertError)>,
    /// This run completed the payment (every record-date unit is now paid).
    pub completed: bool,
    /// Units paid so far, by every run.
    pub paid_units: U256,
    /// Units at the record date.
    pub record_units: U256,
}

/// A municipal bond's benefit programme (lodging vouchers, local products): one benefit per
/// `units_per_benefit` units held at record `record`, claimable until `claim_until`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BenefitProgramme {
    /// What the benefit is.
    pub name: String,
    /// Units per benefit.
    pub units_per_benefit: u128,
    /// The record (coupon number) whose holders are entitled.
    pub record: u16,
    /// Last moment to claim (unix time).
    pub claim_until: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payment_plans_and_records_serialize_amounts_as_decimals_and_statuses_as_words() {
        let (holder, paid) = (Address::repeat_byte(1), Address::repeat_byte(2));
        let plan = PaymentPlan {
            payment: 1,
            instrument: Address::repeat_byte(3),
            cash: Address::repeat_byte(4),
            available: U256::from(10).pow(U256::from(20)),
            owed: vec![Owed { holder, units: U256::from(100), amount: U256::from(750_000) }],
            already_paid: vec![paid],
        };
        let json = serde_json::to_value(&plan).expect("plan");
        assert_eq!(json["available"], "100000000000000000000");
        assert_eq!((&json["needed"], &json["already_paid"]), (&"750000".into(), &1.into()));
        assert_eq!(json["owed"][0], serde_json::json!({ "holder": holder, "units": "100", "amount": "750000" }));

        let record =
            InvestorRecord { status: 2, class: 1, country: 392, kyc_expiry: 7, data_hash: B256::ZERO, eligible: false };
        let json = serde_json::to_value(record).expect("record");
        assert_eq!((&json["status"], &json["class"], &json["eligible"]), (&"revoked".into(), &1.into(), &false.into()));
    }
}
