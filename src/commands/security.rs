//! `kessai security`: the issuer's and the enforcement authority's actions on the security token
//! over a deployed suite's manifest — issue and redeem units; freeze and unfreeze accounts or units;
//! forced transfers; wallet recovery; pause; and the transfer agent's decisions in approval mode.
//! Every chain step goes through [`kessai_deployer::ops::Suite`].

use super::{
    GlobalArgs,
    address_arg::AddressParser,
    engine,
    output::{self, Tx},
};
use clap::{Args, Subcommand};
use kessai_bindings::alloy::primitives::{Address, B256, U256, keccak256};
use kessai_deployer::{
    chain::Receipt,
    events::decimal,
    ops::{ForcedTransfer, Standing, Suite},
    rpc::RpcChain,
};
use serde::{Serialize, Serializer, ser::SerializeMap};
use std::{collections::BTreeMap, fmt};

/// Act on the security token: issue, redeem, freeze, seize, recover, pause, decide transfer requests.
///
/// Each action is sent by the role it needs — `--from`, or else the first loaded key (`kessai keys`)
/// that holds that role: ISSUER_ROLE (issue, redeem), FREEZER_ROLE (freeze, unfreeze),
/// ENFORCER_ROLE (force-transfer), RECOVERY_ROLE (recover), PAUSER_ROLE (pause, resume), and
/// TRANSFER_AGENT_ROLE on the approvals desk (approve-transfer, reject-transfer).
#[derive(Debug, Args)]
pub struct SecurityCommand {
    /// The suite, how to send, and the sender.
    #[command(flatten)]
    send: engine::SenderArgs,
    /// The action.
    #[command(subcommand)]
    action: SecurityAction,
}

/// An action on the security token.
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
    /// Freeze a whole account (nothing moves in or out), or with --units only that many of its free
    /// units.
    Freeze {
        /// The account.
        #[arg(long, value_parser = AddressParser)]
        account: Address,
        /// Freeze only these units (they stay the holder's but cannot move).
        #[arg(long)]
        units: Option<u128>,
    },
    /// Lift a whole account's freeze, or with --units release that many frozen units.
    Unfreeze {
        /// The account.
        #[arg(long, value_parser = AddressParser)]
        account: Address,
        /// Release only these frozen units.
        #[arg(long)]
        units: Option<u128>,
    },
    /// Move units by authority: free units first, then frozen ones (never units held for a trade:
    /// end that hold first).
    ForceTransfer {
        /// The holder the units are taken from.
        #[arg(long, value_parser = AddressParser)]
        holder: Address,
        /// The receiver (eligible, unless --court-order).
        #[arg(long, value_parser = AddressParser)]
        to: Address,
        /// Units to move.
        #[arg(long)]
        units: u128,
        /// Why, in words (recorded on chain in the event).
        #[arg(long)]
        reason: String,
        /// The order's document reference (its keccak256 is recorded).
        #[arg(long)]
        document: String,
        /// A court order: the receiver's eligibility is not checked.
        #[arg(long)]
        court_order: bool,
    },
    /// Move everything a lost wallet holds (free, held and frozen units, and its freeze) to a fresh,
    /// eligible wallet; later transfers to the lost wallet reach the new one.
    Recover {
        /// The lost wallet.
        #[arg(long, value_parser = AddressParser)]
        lost: Address,
        /// The new wallet (registered, holding nothing).
        #[arg(long, value_parser = AddressParser)]
        new: Address,
        /// The recovery's document reference (its keccak256 is recorded).
        #[arg(long)]
        document: String,
    },
    /// Pause the token: no transfers, issues, redemptions or settlements until resumed.
    Pause,
    /// Resume a paused token.
    Resume,
    /// Approve a pending transfer request (approval mode): the held units move.
    ApproveTransfer {
        /// The request id (from its TransferRequested event).
        #[arg(long)]
        request: B256,
    },
    /// Reject a pending transfer request: the held units are released to the requester.
    RejectTransfer {
        /// The request id.
        #[arg(long)]
        request: B256,
        /// Why (recorded on chain).
        #[arg(long)]
        reason: String,
    },
}

/// What an action sent.
struct Done {
    /// What happened, in one word (`issued`, `frozen`, ...), for `--json`.
    action: &'static str,
    /// What happened, in a phrase, for text.
    what: String,
    /// The accounts whose standing is shown after it.
    accounts: Vec<Address>,
    receipt: Receipt,
}

impl SecurityAction {
    /// The role the action needs, and whether it is held on the approvals desk (else the token).
    fn role(&self) -> (&'static str, bool) {
        match self {
            Self::Issue { .. } | Self::Redeem { .. } => ("ISSUER_ROLE", false),
            Self::Freeze { .. } | Self::Unfreeze { .. } => ("FREEZER_ROLE", false),
            Self::ForceTransfer { .. } => ("ENFORCER_ROLE", false),
            Self::Recover { .. } => ("RECOVERY_ROLE", false),
            Self::Pause | Self::Resume => ("PAUSER_ROLE", false),
            Self::ApproveTransfer { .. } | Self::RejectTransfer { .. } => ("TRANSFER_AGENT_ROLE", true),
        }
    }

    /// Sends the action from `from`.
    async fn send(self, suite: &Suite, chain: &mut RpcChain, from: Address) -> eyre::Result<Done> {
        let token = suite.security;
        let done = |action, what: String, accounts: Vec<Address>, receipt| Done { action, what, accounts, receipt };
        Ok(match self {
            Self::Issue { to, units } => {
                let r = suite.issue_security(chain, from, to, U256::from(units)).await?;
                done("issued", format!("units issued to {to}"), vec![to], r)
            }
            Self::Redeem { holder, units } => {
                let r = suite.redeem_security(chain, from, holder, U256::from(units)).await?;
                done("redeemed", format!("units redeemed from {holder}"), vec![holder], r)
            }
            Self::Freeze { account, units: None } => {
                let r = suite.set_frozen(chain, from, token, account, true).await?;
                done("frozen", format!("account {account} frozen"), vec![account], r)
            }
            Self::Freeze { account, units: Some(units) } => {
                let r = suite.freeze_units(chain, from, (token, account), U256::from(units), true).await?;
                done("units_frozen", format!("{units} units of {account} frozen"), vec![account], r)
            }
            Self::Unfreeze { account, units: None } => {
                let r = suite.set_frozen(chain, from, token, account, false).await?;
                done("unfrozen", format!("account {account} unfrozen"), vec![account], r)
            }
            Self::Unfreeze { account, units: Some(units) } => {
                let r = suite.freeze_units(chain, from, (token, account), U256::from(units), false).await?;
                done("units_unfrozen", format!("{units} frozen units of {account} released"), vec![account], r)
            }
            Self::ForceTransfer { holder, to, units, reason, document, court_order } => {
                let order = ForcedTransfer {
                    from: holder,
                    to,
                    units: U256::from(units),
                    reason,
                    document_ref: keccak256(document.as_bytes()),
                    court_order,
                };
                let r = suite.forced_transfer(chain, from, &order).await?;
                done(
                    "force_transferred",
                    format!("{units} units moved by authority from {holder} to {to}"),
                    vec![holder, to],
                    r,
                )
            }
            Self::Recover { lost, new, document } => {
                let r = suite.recover_wallet(chain, from, lost, new, keccak256(document.as_bytes())).await?;
                done("recovered", format!("wallet {lost} recovered to {new}"), vec![lost, new], r)
            }
            Self::Pause => done(
                "paused",
                "security token paused".into(),
                vec![],
                suite.set_paused(chain, from, token, true).await?,
            ),
            Self::Resume => done(
                "resumed",
                "security token resumed".into(),
                vec![],
                suite.set_paused(chain, from, token, false).await?,
            ),
            Self::ApproveTransfer { request } => {
                let r = suite.approve_transfer(chain, from, request).await?;
                done("transfer_approved", format!("transfer request {request} approved"), vec![], r)
            }
            Self::RejectTransfer { request, reason } => {
                let r = suite.reject_transfer(chain, from, request, &reason).await?;
                done("transfer_rejected", format!("transfer request {request} rejected"), vec![], r)
            }
        })
    }
}

impl SecurityCommand {
    /// Runs the action: resolve the sender by role, send, then show the accounts it touched.
    pub async fn execute(self, global: GlobalArgs) -> eyre::Result<()> {
        let (manifest, mut chain) = self.send.suite.connect(&self.send.chain).await?;
        let suite = Suite::from_deployment(&manifest.deployment)?;
        let (role, on_desk) = self.action.role();
        let contract = if on_desk { suite.approvals } else { suite.security };
        let from = engine::sender_with_role(&mut chain, contract, role, self.send.from).await?;
        let done = self.action.send(&suite, &mut chain, from).await?;
        output::print(global, &Outcome::read(&suite, &mut chain, done).await?)
    }
}

/// What an action did, and the token afterwards: its supply, whether it is paused, and the standing
/// of the accounts the action touched.
#[derive(Serialize)]
struct Outcome {
    /// What happened, in one word (`issued`, `frozen`, ...).
    action: &'static str,
    /// What happened, in a phrase, for the text.
    #[serde(skip)]
    what: String,
    #[serde(with = "decimal")]
    total_supply: U256,
    paused: bool,
    #[serde(flatten)]
    standings: Standings,
    #[serde(flatten)]
    tx: Tx,
}

impl Outcome {
    /// Reads the token's state after `done`.
    async fn read(suite: &Suite, chain: &mut RpcChain, done: Done) -> eyre::Result<Self> {
        let (total_supply, _) = suite.supplies(chain).await?;
        let paused = suite.security_paused(chain).await?;
        let mut standings = Vec::new();
        for account in done.accounts {
            standings.push((account, suite.standing(chain, account).await?));
        }
        let Done { action, what, receipt, .. } = done;
        Ok(Self { action, what, total_supply, paused, standings: Standings(standings), tx: Tx::from(&receipt) })
    }
}

/// The standing of each account an action touched, in order. In JSON: the first account's as the
/// fields `account`, `units`, `units_held`, `units_frozen` and `account_frozen`, and every
/// account's under `accounts`, keyed by address.
struct Standings(Vec<(Address, Standing)>);

impl Serialize for Standings {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        if let Some((account, s)) = self.0.first() {
            map.serialize_entry("account", account)?;
            map.serialize_entry("units", &s.units.to_string())?;
            map.serialize_entry("units_held", &s.units_held.to_string())?;
            map.serialize_entry("units_frozen", &s.units_frozen.to_string())?;
            map.serialize_entry("account_frozen", &s.account_frozen)?;
        }
        let accounts: BTreeMap<String, &Standing> = self.0.iter().map(|(a, s)| (a.to_string(), s)).collect();
        map.serialize_entry("accounts", &accounts)?;
        map.end()
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.what, self.tx)?;
        for (account, s) in &self.standings.0 {
            let frozen = if s.account_frozen { ", account frozen" } else { "" };
            write!(
                f,
                "\n{account} now holds {} units ({} held, {} frozen{frozen}); supply {}",
                s.units, s.units_held, s.units_frozen, self.total_supply
            )?;
        }
        if self.paused {
            write!(f, "\nthe security token is paused")?;
        }
        Ok(())
    }
}
