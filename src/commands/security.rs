//! `kessai security`: the issuer's actions on the security token over a deployed suite's manifest —
//! issue units to an eligible investor, redeem (cancel) an investor's units. Every chain step goes
//! through [`kessai_deployer::ops::Suite`].

use super::{
    GlobalArgs,
    address_arg::AddressParser,
    engine,
    registry::{merge, receipt_json, receipt_text, sender_with_role},
};
use clap::{Args, Subcommand};
use kessai_bindings::alloy::primitives::{Address, U256};
use kessai_deployer::ops::Suite;
use serde_json::json;

/// Issue or redeem security units.
///
/// Sent by the issuer: `--from`, or else the first key in KESSAI_KEYS (Anvil's development keys when
/// unset) that holds ISSUER_ROLE on the security token.
#[derive(Debug, Args)]
pub struct SecurityCommand {
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
    action: SecurityAction,
}

/// An issuer action.
#[derive(Debug, Subcommand)]
pub enum SecurityAction {
    /// Issue new units to an eligible investor.
    Issue {
        /// The receiving investor.
        #[arg(long, value_parser = AddressParser)]
        to: Address,
        /// Units to issue.
        #[arg(long)]
        units: u128,
    },
    /// Redeem (cancel) free units of a holder.
    Redeem {
        /// The holder whose units are cancelled.
        #[arg(long, value_parser = AddressParser)]
        holder: Address,
        /// Units to cancel.
        #[arg(long)]
        units: u128,
    },
}

impl SecurityCommand {
    /// Runs the action.
    pub async fn execute(self, global: GlobalArgs) -> eyre::Result<()> {
        let (manifest, mut chain) = self.suite.connect(&self.chain).await?;
        let suite = Suite::from_deployment(&manifest.deployment)?;
        let issuer = sender_with_role(&mut chain, suite.security, "ISSUER_ROLE", self.from).await?;
        let (action, what, account, receipt) = match self.action {
            SecurityAction::Issue { to, units } => {
                ("issued", "issued to", to, suite.issue_security(&mut chain, issuer, to, U256::from(units)).await?)
            }
            SecurityAction::Redeem { holder, units } => {
                let receipt = suite.redeem_security(&mut chain, issuer, holder, U256::from(units)).await?;
                ("redeemed", "redeemed from", holder, receipt)
            }
        };
        let position = suite.position(&mut chain, account).await?;
        let (supply, _) = suite.supplies(&mut chain).await?;
        if global.json {
            let mut out = json!({
                "action": action,
                "account": account,
                "units": position.units.to_string(),
                "units_held": position.units_held.to_string(),
                "total_supply": supply.to_string(),
            });
            merge(&mut out, receipt_json(&receipt));
            println!("{out}");
        } else {
            println!("units {what} {account}: {}", receipt_text(&receipt));
            println!("{account} now holds {} units ({} held); supply {supply}", position.units, position.units_held);
        }
        Ok(())
    }
}
