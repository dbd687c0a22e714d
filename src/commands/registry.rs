//! `kessai registry`: a registrar's actions on an investor registry over a deployed suite's manifest —
//! register (or update) an investor, revoke one, show a record. The securities registry by default;
//! `--registry bank` for the bank's customer registry. Every chain step goes through
//! [`kessai_deployer::ops::Suite`].

use super::{GlobalArgs, address_arg::AddressParser, engine};
use clap::{Args, Subcommand, ValueEnum};
use kessai_bindings::{
    alloy::primitives::{Address, keccak256},
    security_token::SecurityToken,
};
use kessai_deployer::{
    chain::{Chain, Receipt},
    ops::{InvestorRecord, Registration, Suite},
    plan::labels,
    rpc::RpcChain,
};
use serde_json::{Value, json};

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
    /// Runs the action.
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
        let (what, account, receipt) = match self.action {
            RegistryAction::Register { account, class, country, kyc_expiry, kyc_days, data } => {
                let kyc_expiry = match kyc_expiry {
                    Some(expiry) => expiry,
                    None => chain.timestamp().await? + kyc_days * 86_400,
                };
                let r = Registration { class: class as u8, country, kyc_expiry, data_hash: keccak256(data) };
                let from = sender_with_role(&mut chain, registry, "REGISTRAR_ROLE", self.send.from).await?;
                ("registered", account, Some(suite.register(&mut chain, registry, from, account, r).await?))
            }
            RegistryAction::Revoke { account } => {
                let from = sender_with_role(&mut chain, registry, "REGISTRAR_ROLE", self.send.from).await?;
                ("revoked", account, Some(suite.revoke(&mut chain, registry, from, account).await?))
            }
            RegistryAction::Show { account } => ("record", account, None),
        };
        let record = suite.investor(&mut chain, registry, account).await?;
        let mut out = record_json(label, registry, account, &record);
        if let Some(r) = &receipt {
            merge(&mut out, receipt_json(r));
        }
        if global.json {
            println!("{out}");
        } else {
            if let Some(r) = &receipt {
                println!("{account} {what} in {label}: {}", receipt_text(r));
            }
            println!(
                "{account} in {label} ({registry}): {}, class {}, country {}, KYC until {}, data hash {}; {}",
                record.status_word(),
                kessai_bindings::investor_class(record.class),
                record.country,
                record.kyc_expiry,
                record.data_hash,
                if record.eligible { "eligible" } else { "NOT eligible" }
            );
        }
        Ok(())
    }
}

/// The sending account: `--from` when given (its key must be loaded), else the first loaded key that
/// holds `role` on `contract` (any OpenZeppelin AccessControl contract of the suite).
pub(super) async fn sender_with_role(
    chain: &mut RpcChain,
    contract: Address,
    role: &str,
    from: Option<Address>,
) -> eyre::Result<Address> {
    if let Some(from) = from {
        if chain.accounts().contains(&from) {
            return Ok(from);
        }
        eyre::bail!(
            "no key for --from {from}: add its key to {} (comma-separated; `kessai keys` lists the loaded ones)",
            engine::key_source()
        );
    }
    let role_id = keccak256(role);
    for account in chain.accounts().to_vec() {
        if chain.read(contract, &SecurityToken::hasRoleCall { role: role_id, account }).await? {
            return Ok(account);
        }
    }
    eyre::bail!(
        "none of the loaded keys holds {role} on {contract}: add the key of the account that does to {}, or pass --from",
        engine::key_source()
    )
}

/// A mined transaction as JSON fields.
pub(super) fn receipt_json(r: &Receipt) -> Value {
    json!({ "tx_hash": r.tx_hash, "block": r.block_number, "gas_used": r.gas_used })
}

/// A mined transaction in words.
pub(super) fn receipt_text(r: &Receipt) -> String {
    format!("tx {} in block {} (gas {})", r.tx_hash, r.block_number, r.gas_used)
}

/// Adds `extra`'s fields to the object `out`.
pub(super) fn merge(out: &mut Value, extra: Value) {
    if let (Some(out), Value::Object(extra)) = (out.as_object_mut(), extra) {
        out.extend(extra);
    }
}

fn record_json(label: &str, registry: Address, account: Address, r: &InvestorRecord) -> Value {
    json!({
        "registry": label,
        "registry_address": registry,
        "account": account,
        "status": r.status_word(),
        "class": r.class,
        "country": r.country,
        "kyc_expiry": r.kyc_expiry,
        "data_hash": r.data_hash,
        "eligible": r.eligible,
    })
}
