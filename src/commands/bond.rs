//! `kessai bond`: the paying agent's payment rounds on the suite's instrument (a straight or municipal
//! bond's coupons and redemption, a fund's distributions) over a deployed suite's manifest, through
//! [`kessai_deployer::ops::Suite::payment_plan`] and [`kessai_deployer::ops::Suite::pay_in_batches`].

use super::{
    GlobalArgs, engine,
    registry::{receipt_json, sender_with_role},
};
use clap::{Args, Subcommand};
use eyre::WrapErr;
use kessai_bindings::{
    alloy::primitives::{Address, U256},
    straight_bond::StraightBond,
};
use kessai_deployer::{
    chain::Chain,
    ops::{PaymentPlan, PaymentRound, Suite},
    plan::labels,
    rpc::RpcChain,
};
use serde_json::{Value, json};

/// Run payment rounds of the suite's instrument.
///
/// Sent by the paying agent: `--from`, or else the first key in KESSAI_KEYS (Anvil's development keys
/// when unset) that holds PAYING_AGENT_ROLE on the instrument.
#[derive(Debug, Args)]
pub struct BondCommand {
    /// The suite, how to send, and the sender.
    #[command(flatten)]
    send: engine::SenderArgs,
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
        let (manifest, mut chain) = self.send.suite.connect(&self.send.chain).await?;
        let suite = Suite::from_deployment(&manifest.deployment)?;
        let instrument = manifest
            .deployment
            .address(labels::INSTRUMENT)
            .wrap_err("the manifest has no instrument: deploy the suite from a config with an [instrument] section")?;
        let BondAction::Coupon { payment, batch, dry_run } = self.action;
        if batch == 0 {
            eyre::bail!("--batch must be at least 1");
        }
        let payment = payment_number(&mut chain, instrument, &payment).await?;
        let plan = suite.payment_plan(&mut chain, instrument, payment).await?;
        if dry_run {
            print_plan(&plan, global.json);
            return Ok(());
        }
        ensure_funded(&plan)?;
        let agent = sender_with_role(&mut chain, instrument, "PAYING_AGENT_ROLE", self.send.from).await?;
        let round = suite.pay_in_batches(&mut chain, agent, instrument, payment, &plan.holders(), batch).await?;
        print_round(&plan, &round, batch, global.json);
        if !round.failed.is_empty() {
            eyre::bail!(
                "{} holders were not paid (the deposit token refused them): fix their accounts and run the round again",
                round.failed.len()
            );
        }
        Ok(())
    }
}

/// The payment `--payment` names: a number as given, or `redemption` (the instrument's last payment).
async fn payment_number(chain: &mut RpcChain, instrument: Address, payment: &str) -> eyre::Result<u64> {
    Ok(match payment {
        "redemption" => chain.read(instrument, &StraightBond::paymentCountCall {}).await?.saturating_to::<u64>(),
        n => n.parse().wrap_err_with(|| format!("--payment {n}: a payment number or `redemption`"))?,
    })
}

/// Refuses a payment the instrument does not hold enough cash for, before anything is sent.
fn ensure_funded(plan: &PaymentPlan) -> eyre::Result<()> {
    let needed = plan.needed();
    if plan.available < needed {
        let (instrument, payment) = (plan.instrument, plan.payment);
        eyre::bail!(
            "the instrument {instrument} holds {} of the deposit token {} but payment {payment} still owes {needed} \
             to {} holders; nothing was sent: fund it first (kessai deposit issue --to {instrument} --amount {} --ref …)",
            plan.available,
            plan.cash,
            plan.owed.len(),
            needed - plan.available
        );
    }
    Ok(())
}

/// Prints who a payment still owes what (`--dry-run`), as JSON or as text.
fn print_plan(plan: &PaymentPlan, json: bool) {
    if json {
        println!("{}", plan_json(plan));
    } else {
        print_plan_text(plan);
    }
}

/// The payment plan as one JSON object.
fn plan_json(plan: &PaymentPlan) -> Value {
    let owed: Vec<_> = plan
        .owed
        .iter()
        .map(|o| json!({ "holder": o.holder, "units": o.units.to_string(), "amount": o.amount.to_string() }))
        .collect();
    json!({
        "instrument": plan.instrument,
        "payment": plan.payment,
        "cash": plan.cash,
        "available": plan.available.to_string(),
        "needed": plan.needed().to_string(),
        "already_paid": plan.already_paid.len(),
        "owed": owed,
    })
}

/// Prints the payment plan as text: a summary line, then a line per holder owed.
fn print_plan_text(plan: &PaymentPlan) {
    println!(
        "payment {} of {}: {} holders owed {} in all, {} already paid; the instrument holds {}",
        plan.payment,
        plan.instrument,
        plan.owed.len(),
        plan.needed(),
        plan.already_paid.len(),
        plan.available
    );
    for o in &plan.owed {
        println!("  {} owed {} for {} units", o.holder, o.amount, o.units);
    }
}

/// Prints what a payment round sent and paid (`batch` holders per transaction), as JSON or as text.
fn print_round(plan: &PaymentPlan, round: &PaymentRound, batch: usize, json: bool) {
    if json {
        println!("{}", round_json(plan, round, batch));
    } else {
        print_round_text(plan, round);
    }
}

/// The payment round as one JSON object.
fn round_json(plan: &PaymentPlan, round: &PaymentRound, batch: usize) -> Value {
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
    json!({
        "instrument": plan.instrument,
        "payment": plan.payment,
        "batch_size": batch,
        "already_paid": plan.already_paid.len(),
        "batches": batches,
        "paid": paid,
        "failed": failed,
        "completed": round.completed,
        "paid_units": round.paid_units.to_string(),
        "record_units": round.record_units.to_string(),
    })
}

/// Prints the payment round as text: a summary, each batch, each holder not paid, and the progress.
fn print_round_text(plan: &PaymentPlan, round: &PaymentRound) {
    let amount: U256 = round.paid.iter().map(|p| p.amount).sum();
    println!(
        "payment {} of {}: paid {} holders {amount} in {} transactions; {} were already paid",
        plan.payment,
        plan.instrument,
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
