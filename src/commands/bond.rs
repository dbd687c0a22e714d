//! `kessai bond`: the paying agent's payment rounds on the suite's instrument (a straight or municipal
//! bond's coupons and redemption, a fund's distributions) over a deployed suite's manifest, through
//! [`kessai_deployer::ops::Suite::payment_plan`] and [`kessai_deployer::ops::Suite::pay_in_batches`].

use super::{
    GlobalArgs, engine,
    output::{self, Tx},
};
use clap::{Args, Subcommand};
use eyre::WrapErr;
use kessai_bindings::{
    alloy::primitives::{Address, U256},
    straight_bond::StraightBond,
};
use kessai_deployer::{
    chain::Chain,
    events::decimal,
    ops::{HolderPayment, PaymentPlan, PaymentRound, Suite},
    plan::labels,
    rpc::RpcChain,
};
use serde::Serialize;
use std::fmt;

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
            return output::print(global, &Owing(&plan));
        }
        ensure_funded(&plan)?;
        let agent = engine::sender_with_role(&mut chain, instrument, "PAYING_AGENT_ROLE", self.send.from).await?;
        let round = suite.pay_in_batches(&mut chain, agent, instrument, payment, &plan.holders(), batch).await?;
        output::print(global, &Round::new(&plan, &round, batch))?;
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

/// Who a payment still owes what (`--dry-run`): the plan, as the library serializes it.
#[derive(Serialize)]
#[serde(transparent)]
struct Owing<'a>(&'a PaymentPlan);

/// A summary line, then a line per holder owed.
impl fmt::Display for Owing<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let plan = self.0;
        write!(
            f,
            "payment {} of {}: {} holders owed {} in all, {} already paid; the instrument holds {}",
            plan.payment,
            plan.instrument,
            plan.owed.len(),
            plan.needed(),
            plan.already_paid.len(),
            plan.available
        )?;
        for o in &plan.owed {
            write!(f, "\n  {} owed {} for {} units", o.holder, o.amount, o.units)?;
        }
        Ok(())
    }
}

/// What a payment round sent and paid.
#[derive(Serialize)]
struct Round {
    instrument: Address,
    payment: u64,
    /// Holders per transaction.
    batch_size: usize,
    /// How many holders an earlier run had paid.
    already_paid: usize,
    batches: Vec<Batch>,
    paid: Vec<HolderPayment>,
    failed: Vec<Unpaid>,
    /// This run completed the payment.
    completed: bool,
    /// Record-date units paid so far, by every run.
    #[serde(with = "decimal")]
    paid_units: U256,
    #[serde(with = "decimal")]
    record_units: U256,
}

/// One transaction of a round: how many holders it named.
#[derive(Serialize)]
struct Batch {
    holders: usize,
    #[serde(flatten)]
    tx: Tx,
}

/// A holder the deposit token refused to pay: the error's name and the whole decoded revert.
#[derive(Serialize)]
struct Unpaid {
    holder: Address,
    error: String,
    message: String,
}

impl Round {
    fn new(plan: &PaymentPlan, round: &PaymentRound, batch_size: usize) -> Self {
        Self {
            instrument: plan.instrument,
            payment: plan.payment,
            batch_size,
            already_paid: plan.already_paid.len(),
            batches: round.batches.iter().map(|(holders, r)| Batch { holders: *holders, tx: Tx::from(r) }).collect(),
            paid: round.paid.clone(),
            failed: round
                .failed
                .iter()
                .map(|(holder, e)| Unpaid { holder: *holder, error: e.name.clone(), message: e.to_string() })
                .collect(),
            completed: round.completed,
            paid_units: round.paid_units,
            record_units: round.record_units,
        }
    }
}

/// A summary, each batch, each holder not paid, and the progress.
impl fmt::Display for Round {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let amount: U256 = self.paid.iter().map(|p| p.amount).sum();
        write!(
            f,
            "payment {} of {}: paid {} holders {amount} in {} transactions; {} were already paid",
            self.payment,
            self.instrument,
            self.paid.len(),
            self.batches.len(),
            self.already_paid
        )?;
        for b in &self.batches {
            write!(f, "\n  batch of {}: {}", b.holders, b.tx)?;
        }
        for u in &self.failed {
            write!(f, "\n  NOT PAID {}: {} (run the round again once fixed)", u.holder, u.message)?;
        }
        write!(
            f,
            "\n{} of {} record-date units paid{}",
            self.paid_units,
            self.record_units,
            if self.paid_units == self.record_units { ": payment complete" } else { "" }
        )
    }
}
