//! `kessai bond`: the paying agent's payment rounds on the suite's instrument (a straight or municipal
//! bond's coupons and redemption, a fund's distributions) over a deployed suite's manifest, through
//! [`kessai_deployer::ops::Suite::payment_plan`] and [`kessai_deployer::ops::Suite::pay_in_batches`].

use super::{
    GlobalArgs,
    address_arg::AddressParser,
    engine,
    registry::{receipt_json, sender_with_role},
};
use clap::{Args, Subcommand};
use eyre::WrapErr;
use kessai_bindings::{alloy::primitives::Address, straight_bond::StraightBond};
use kessai_deployer::{chain::Chain, ops::Suite, plan::labels};
use serde_json::json;

/// Run payment rounds of the suite's instrument.
///
/// Sent by the paying agent: `--from`, or else the first key in KESSAI_KEYS (Anvil's development keys
/// when unset) that holds PAYING_AGENT_ROLE on the instrument.
#[derive(Debug, Args)]
pub struct BondCommand {
    /// The node and the deployment manifest.
    #[command(flatten)]
    suite: engine::SuiteArgs,
    /// How transactions are sent (the manifest's chain profile, unless overridden).
    #[command(flatten)]
    chain: engine::ChainArgs,
    /// Sending account (its key must be loaded).
    #[arg(long, value_parser = AddressParser)]
    from: Option<Address>,
    /// The action.
    #[command(subcommand)]
    action: BondAction,
}

/// A paying agent's action.
#[derive(Debug, Subcommand)]
pub enum BondAction {
    /// Pay a coupon (or the redemption, or a fund distribution) to every holder at its record date,
    /// in batches. Resumable: holders already paid are skipped, so running it again after an
    /// interruption pays only those still owed, and nobody twice.
    Coupon {
        /// The payment: a coupon number (1 = the first), or `redemption` for a bond's redemption
        /// (payment n + 1 of a bond with n coupons).
        #[arg(long)]
        payment: String,
        /// Holders per transaction.
        #[arg(long, default_value_t = 100)]
        batch: usize,
        /// Print who is owed what, and send nothing.
        #[arg(long)]
        dry_run: bool,
    },
}

impl BondCommand {
    /// Runs the action.
    pub async fn execute(self, global: GlobalArgs) -> eyre::Result<()> {
        let (manifest, mut chain) = self.suite.connect(&self.chain).await?;
        let suite = Suite::from_deployment(&manifest.deployment)?;
        let instrument = manifest
            .deployment
            .address(labels::INSTRUMENT)
            .wrap_err("the manifest has no instrument: deploy the suite from a config with an [instrument] section")?;
        let BondAction::Coupon { payment, batch, dry_run } = self.action;
        if batch == 0 {
            eyre::bail!("--batch must be at least 1");
        }
        let payment = match payment.as_str() {
            "redemption" => chain.read(instrument, &StraightBond::paymentCountCall {}).await?.saturating_to::<u64>(),
            n => n.parse().wrap_err_with(|| format!("--payment {n}: a payment number or `redemption`"))?,
        };
        let plan = suite.payment_plan(&mut chain, instrument, payment).await?;
        let needed = plan.needed();
        if dry_run {
            if global.json {
                let owed: Vec<_> = plan
                    .owed
                    .iter()
                    .map(
                        |o| json!({ "holder": o.holder, "units": o.units.to_string(), "amount": o.amount.to_string() }),
                    )
                    .collect();
                let summary = json!({
                    "instrument": instrument,
                    "payment": payment,
                    "cash": plan.cash,
                    "available": plan.available.to_string(),
                    "needed": needed.to_string(),
                    "already_paid": plan.already_paid.len(),
                    "owed": owed,
                });
                println!("{summary}");
            } else {
                println!(
                    "payment {payment} of {instrument}: {} holders owed {needed} in all, {} already paid; the instrument holds {}",
                    plan.owed.len(),
                    plan.already_paid.len(),
                    plan.available
                );
                for o in &plan.owed {
                    println!("  {} owed {} for {} units", o.holder, o.amount, o.units);
                }
            }
            return Ok(());
        }
        if plan.available < needed {
            eyre::bail!(
                "the instrument {instrument} holds {} of the deposit token {} but payment {payment} still owes {needed} \
                 to {} holders; nothing was sent: fund it first (kessai deposit issue --to {instrument} --amount {} --ref …)",
                plan.available,
                plan.cash,
                plan.owed.len(),
                needed - plan.available
            );
        }
        let agent = sender_with_role(&mut chain, instrument, "PAYING_AGENT_ROLE", self.from).await?;
        let round = suite.pay_in_batches(&mut chain, agent, instrument, payment, &plan.holders(), batch).await?;
        if global.json {
            let batches: Vec<_> = round
                .batches
                .iter()
                .map(|(holders, r)| {
                    let mut b = receipt_json(r);
                    b["holders"] = json!(holders);
                    b
                })
                .collect();
            let paid: Vec<_> = round
                .paid
                .iter()
                .map(|p| {
                    json!({
                        "holder": p.holder,
                        "payee": p.payee,
                        "units": p.units.to_string(),
                        "amount": p.amount.to_string(),
                    })
                })
                .collect();
            let failed: Vec<_> = round
                .failed
                .iter()
                .map(|(holder, e)| json!({ "holder": holder, "error": e.name, "message": e.to_string() }))
                .collect();
            let out = json!({
                "instrument": instrument,
                "payment": payment,
                "batch_size": batch,
                "already_paid": plan.already_paid.len(),
                "batches": batches,
                "paid": paid,
                "failed": failed,
                "completed": round.completed,
                "paid_units": round.paid_units.to_string(),
                "record_units": round.record_units.to_string(),
            });
            println!("{out}");
        } else {
            let amount: kessai_bindings::alloy::primitives::U256 = round.paid.iter().map(|p| p.amount).sum();
            println!(
                "payment {payment} of {instrument}: paid {} holders {amount} in {} transactions; {} were already paid",
                round.paid.len(),
                round.batches.len(),
                plan.already_paid.len()
            );
            for (holders, r) in &round.batches {
                println!("  batch of {holders}: tx {} in block {} (gas {})", r.tx_hash, r.block_number, r.gas_used);
            }
            for (holder, e) in &round.failed {
                println!("  NOT PAID {holder}: {e} (run the round again once fixed)");
            }
            println!(
                "{} of {} record-date units paid{}",
                round.paid_units,
                round.record_units,
                if round.paid_units == round.record_units { ": payment complete" } else { "" }
            );
        }
        if !round.failed.is_empty() {
            eyre::bail!(
                "{} holders were not paid (the deposit token refused them): fix their accounts and run the round again",
                round.failed.len()
            );
        }
        Ok(())
    }
}
