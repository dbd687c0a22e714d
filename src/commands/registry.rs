//! `kessai registry`: a registrar's actions on an investor registry over a deployed suite's manifest —
//! register (or update) an investor, revoke one, show a record. The securities registry by default;
//! `--registry bank` for the bank's customer registry. Every chain step goes through
//! [`kessai_deployer::ops::Suite`].

use super::{
    GlobalArgs,
    address_arg::AddressParser,
    engine,
    output::{self, Tx},
};
use clap::{Args, Subcommand, ValueEnum};
use kessai_bindings::alloy::primitives::{Address, keccak256};
use kessai_deployer::{
    chain::Chain,
    ops::{InvestorRecord, Registration, Suite},
    plan::labels,
    rpc::RpcChain,
};
use serde::Serialize;
use std::fmt;

/// Register, update or revoke investors in an investor registry.
///
/// Sent by the registrar: `--from`, or else the first key in KESSAI_KEYS (Anvil's development keys
/// when unset) that holds REGISTRAR_ROLE on the registry.
#[derive(Debug, Args)]
pub struct RegistryCommand {
    /// The suite, how to send, and the sender.
    #[command(flatten)]
    send: engine::SenderArgs,
    /// Which registry: `securities` (the investor registry of the security token), `bank` (the main
    /// bank's customer registry), or a manifest label such as `bank_registry_second`.
    #[arg(long, default_value = "securities")]
    registry: String,
    /// The action.
    #[command(subcommand)]
    action: RegistryAction,
}

/// An investor's class, as its securities company classified it.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum InvestorClass {
    /// A retail investor.
    Retail,
    /// A professional investor.
    Professional,
    /// An institution.
    Institutional,
}

/// A registry action.
#[derive(Debug, Subcommand)]
pub enum RegistryAction {
    /// Register an investor, or update its record.
    Register {
        /// The investor's wallet.
        #[arg(long, value_parser = AddressParser)]
        account: Address,
        /// Investor class.
        #[arg(long, value_enum, default_value = "retail")]
        class: InvestorClass,
        /// ISO 3166-1 numeric country code (392 = Japan).
        #[arg(long, default_value_t = 392)]
        country: u16,
        /// KYC expiry in unix seconds; without it, `--kyc-days` after the chain's current time.
        #[arg(long)]
        kyc_expiry: Option<u64>,
        /// Days the KYC stays valid, when `--kyc-expiry` is not given.
        #[arg(long, default_value_t = 365)]
        kyc_days: u64,
        /// The off-chain personal record (e.g. the customer number): only its keccak256 goes on-chain.
        #[arg(long)]
        data: String,
    },
    /// Revoke an active investor's eligibility.
    Revoke {
        /// The investor's wallet.
        #[arg(long, value_parser = AddressParser)]
        account: Address,
    },
    /// Print an account's record (no transaction).
    Show {
        /// The wallet.
        #[arg(long, value_parser = AddressParser)]
        account: Address,
    },
}

impl RegistryCommand {
    /// Runs the action, then shows the account's record.
    pub async fn execute(self, global: GlobalArgs) -> eyre::Result<()> {
        let (manifest, mut chain) = match self.action {
            RegistryAction::Show { .. } => self.send.suite.connect_read_only().await?,
            _ => self.send.suite.connect(&self.send.chain).await?,
        };
        let suite = Suite::from_deployment(&manifest.deployment)?;
        let label = match self.registry.as_str() {
            "securities" => labels::REGISTRY,
            "bank" => labels::BANK_REGISTRY,
            other => other,
        };
        let registry = manifest.deployment.address(label)?;
        let (account, change) = self.action.send(&suite, &mut chain, registry, self.send.from).await?;
        let record = suite.investor(&mut chain, registry, account).await?;
        output::print(global, &Shown { registry: label, registry_address: registry, account, record, change })
    }
}

impl RegistryAction {
    /// Sends the action (none for `show`) from `from` or the registrar: the account it is about, and
    /// what changed.
    async fn send(
        self,
        suite: &Suite,
        chain: &mut RpcChain,
        registry: Address,
        from: Option<Address>,
    ) -> eyre::Result<(Address, Option<Change>)> {
        let (what, account, receipt) = match self {
            Self::Register { account, class, country, kyc_expiry, kyc_days, data } => {
                let kyc_expiry = match kyc_expiry {
                    Some(expiry) => expiry,
                    None => chain.timestamp().await? + kyc_days * 86_400,
                };
                let r = Registration { class: class as u8, country, kyc_expiry, data_hash: keccak256(data) };
                let from = engine::sender_with_role(chain, registry, "REGISTRAR_ROLE", from).await?;
                ("registered", account, suite.register(chain, registry, from, account, r).await?)
            }
            Self::Revoke { account } => {
                let from = engine::sender_with_role(chain, registry, "REGISTRAR_ROLE", from).await?;
                ("revoked", account, suite.revoke(chain, registry, from, account).await?)
            }
            Self::Show { account } => return Ok((account, None)),
        };
        Ok((account, Some(Change { what, tx: Tx::from(&receipt) })))
    }
}

/// What a registry command prints: the account's record, after the transaction that changed it.
#[derive(Serialize)]
struct Shown<'a> {
    /// The registry's manifest label.
    registry: &'a str,
    registry_address: Address,
    account: Address,
    #[serde(flatten)]
    record: InvestorRecord,
    #[serde(flatten)]
    change: Option<Change>,
}

/// A registration or revocation: what happened, and its transaction.
#[derive(Serialize)]
struct Change {
    /// `registered` or `revoked`, for the text.
    #[serde(skip)]
    what: &'static str,
    #[serde(flatten)]
    tx: Tx,
}

impl fmt::Display for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Self { registry, registry_address, account, record: r, change } = self;
        if let Some(Change { what, tx }) = change {
            writeln!(f, "{account} {what} in {registry}: {tx}")?;
        }
        write!(
            f,
            "{account} in {registry} ({registry_address}): {}, class {}, country {}, KYC until {}, data hash {}; {}",
            r.status_word(),
            kessai_bindings::investor_class(r.class),
            r.country,
            r.kyc_expiry,
            r.data_hash,
            if r.eligible { "eligible" } else { "NOT eligible" }
        )
    }
}
