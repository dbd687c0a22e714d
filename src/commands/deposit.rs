//! `kessai deposit`: a bank's operator actions on its deposit token over a deployed suite's manifest.

use super::{
    GlobalArgs,
    address_arg::AddressParser,
    engine,
    output::{self, Tx},
};
use clap::{Args, Subcommand};
use kessai_bindings::alloy::primitives::{Address, U256, keccak256};
use kessai_deployer::{events::decimal, ops::Suite, plan::labels, rpc::RpcChain};
use serde::Serialize;
use std::fmt;

/// Operate a bank's deposit token: issue, redeem, configure minters, freeze, pause.
#[derive(Debug, Args)]
pub struct DepositCommand {
    /// The node and the deployment manifest.
    #[command(flatten)]
    suite: engine::SuiteArgs,
    /// How transactions are sent (the manifest's chain profile, unless overridden).
    #[command(flatten)]
    chain: engine::ChainArgs,
    /// Which bank's token: the main one, or `deposit_<label>` for a further bank.
    #[arg(long, default_value = labels::DEPOSIT)]
    token: String,
    /// Sending account; defaults to the bank's key, the fourth in the role order `kessai keys` prints.
    #[arg(long, value_parser = AddressParser)]
    from: Option<Address>,
    /// The action.
    #[command(subcommand)]
    action: DepositAction,
}

/// A deposit-token action.
#[derive(Debug, Subcommand)]
pub enum DepositAction {
    /// Issue tokens against a deposit ledger entry (used once).
    Issue {
        /// Receiving customer.
        #[arg(long, value_parser = AddressParser)]
        to: Address,
        /// Amount in yen.
        #[arg(long)]
        amount: u128,
        /// Ledger reference of the debited deposit (hashed into the on-chain reference).
        #[arg(long = "ref")]
        reference: String,
    },
    /// Redeem the sender's tokens into a deposit account, or with `--holder` a customer's tokens on
    /// the customer's instruction.
    Redeem {
        /// Amount in yen.
        #[arg(long)]
        amount: u128,
        /// Deposit account to credit (hashed into the on-chain reference).
        #[arg(long)]
        account: String,
        /// Redeem this customer's tokens on its instruction to the bank (the sender needs
        /// REDEEMER_ROLE); without it, the sender redeems its own tokens.
        #[arg(long, value_parser = AddressParser)]
        holder: Option<Address>,
    },
    /// Set a minter's allowance and rate limit.
    ConfigureMinter {
        /// The minter.
        #[arg(long, value_parser = AddressParser)]
        minter: Address,
        /// Total it may still issue.
        #[arg(long)]
        allowance: u128,
        /// Most it may issue per period.
        #[arg(long)]
        limit: u128,
        /// Period in seconds.
        #[arg(long, default_value_t = 86_400)]
        period: u64,
    },
    /// Freeze a whole account.
    Freeze {
        /// The account.
        #[arg(value_parser = AddressParser)]
        account: Address,
    },
    /// Unfreeze an account.
    Unfreeze {
        /// The account.
        #[arg(value_parser = AddressParser)]
        account: Address,
    },
    /// Pause all transfers, issues and redemptions.
    Pause,
    /// Resume after a pause.
    Unpause,
}

impl DepositCommand {
    /// Runs the action.
    pub async fn execute(self, global: GlobalArgs) -> eyre::Result<()> {
        let (manifest, mut chain) = self.suite.connect(&self.chain).await?;
        let mut suite = Suite::from_deployment(&manifest.deployment)?;
        suite.deposit = manifest.deployment.address(&self.token)?;
        let from = match self.from {
            Some(from) => from,
            None => *chain.accounts().get(3).ok_or_else(|| {
                eyre::eyre!(
                    "no key for the bank: it is the fourth in the role order (operator, registrar, issuer, bank, \
                         authority; `kessai keys` lists the loaded ones): load it, or pass --from"
                )
            })?,
        };
        output::print(global, &self.action.send(&suite, &mut chain, from).await?)
    }
}

impl DepositAction {
    /// Sends the action from `from`, then reads the balance of the account it is about.
    async fn send(self, suite: &Suite, chain: &mut RpcChain, from: Address) -> eyre::Result<Sent> {
        let token = suite.deposit;
        let (holder, action) = self.describe(from);
        let receipt = match self {
            Self::Issue { to, amount, reference } => {
                suite.issue_deposit(chain, from, to, U256::from(amount), keccak256(reference)).await?
            }
            Self::Redeem { amount, account, holder: None } => {
                suite.redeem_deposit(chain, from, U256::from(amount), keccak256(account)).await?
            }
            Self::Redeem { amount, account, holder: Some(holder) } => {
                suite.redeem_deposit_for(chain, from, holder, U256::from(amount), keccak256(account)).await?
            }
            Self::ConfigureMinter { minter, allowance, limit, period } => {
                suite.configure_minter(chain, from, minter, allowance, limit, period).await?
            }
            Self::Freeze { account } => suite.set_frozen(chain, from, token, account, true).await?,
            Self::Unfreeze { account } => suite.set_frozen(chain, from, token, account, false).await?,
            Self::Pause => suite.set_paused(chain, from, token, true).await?,
            Self::Unpause => suite.set_paused(chain, from, token, false).await?,
        };
        let balance = match holder {
            Some(account) => {
                let p = suite.position(chain, account).await?;
                Some(Balance { account, cash: p.cash, cash_held: p.cash_held })
            }
            None => None,
        };
        Ok(Sent { action, tx: Tx::from(&receipt), balance })
    }

    /// The account whose balance the output shows, and what the action does in words.
    fn describe(&self, from: Address) -> (Option<Address>, String) {
        match self {
            Self::Issue { to, amount, reference } => {
                (Some(*to), format!("¥{amount} issued to {to} against deposit {reference}"))
            }
            Self::Redeem { amount, account, holder } => {
                let holder = holder.unwrap_or(from);
                (Some(holder), format!("¥{amount} of {holder} redeemed into account {account}"))
            }
            Self::ConfigureMinter { minter, allowance, .. } => {
                (None, format!("minter {minter} configured with an allowance of ¥{allowance}"))
            }
            Self::Freeze { account } => (Some(*account), format!("account {account} frozen")),
            Self::Unfreeze { account } => (Some(*account), format!("account {account} unfrozen")),
            Self::Pause => (None, "the deposit token paused".into()),
            Self::Unpause => (None, "the deposit token resumed".into()),
        }
    }
}

/// What a deposit-token action did, and the balance of the account it was about.
#[derive(Serialize)]
struct Sent {
    /// What the action did, in words.
    action: String,
    #[serde(flatten)]
    tx: Tx,
    #[serde(flatten)]
    balance: Option<Balance>,
}

/// An account's deposit tokens after an action.
#[derive(Serialize)]
struct Balance {
    account: Address,
    #[serde(with = "decimal")]
    cash: U256,
    #[serde(with = "decimal")]
    cash_held: U256,
}

impl fmt::Display for Sent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.action, self.tx)?;
        if let Some(Balance { account, cash, cash_held }) = &self.balance {
            write!(f, "\n{account} now holds ¥{cash} ({cash_held} held)")?;
        }
        Ok(())
    }
}
