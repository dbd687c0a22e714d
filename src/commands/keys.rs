//! `kessai keys`: which account each loaded key is, and the role its position gives it. Never a key.

use super::{GlobalArgs, engine, output};
use clap::Args;
use kessai_bindings::alloy::primitives::Address;
use kessai_deployer::plan::SuiteAccounts;
use serde::Serialize;
use std::fmt;

/// Show the accounts of the loaded keys (KESSAI_KEYSTORE, else KESSAI_KEYS, else Anvil's development
/// keys) in the one role order every command reads them in: operator, registrar, issuer, bank,
/// authority; then the demo's agent, seller and buyer (`sim run`: the scenario's other parties in
/// file order). Keystores are not decrypted; no key is ever printed.
#[derive(Debug, Args)]
pub struct KeysCommand {}

/// One loaded key: its position, the role that position plays, and its account.
#[derive(Debug, Serialize)]
struct Key {
    position: usize,
    /// The role this position plays.
    role: &'static str,
    /// Which commands give the position that role (`all`, `demo`, `sim run`).
    in_commands: &'static str,
    /// The account, checksummed.
    address: String,
}

/// What `kessai keys` prints.
#[derive(Debug, Serialize)]
struct Keys {
    source: String,
    keys: Vec<Key>,
}

/// The role of the key at `index` (from 0) in the one role order, and the commands that read it so.
fn role_at(index: usize) -> (&'static str, &'static str) {
    const DEMO: [&str; 3] = ["agent", "seller", "buyer"];
    match SuiteAccounts::ROLES.get(index) {
        Some(role) => (role, "all"),
        None => DEMO.get(index - SuiteAccounts::ROLES.len()).map_or(("a scenario party", "sim run"), |r| (r, "demo")),
    }
}

impl KeysCommand {
    /// Prints the loaded keys' accounts and roles.
    pub fn execute(self, global: GlobalArgs) -> eyre::Result<()> {
        let (source, addresses) = engine::key_addresses()?;
        let keys = addresses
            .into_iter()
            .enumerate()
            .map(|(i, address): (usize, Address)| {
                let (role, in_commands) = role_at(i);
                Key { position: i + 1, role, in_commands, address: address.to_checksum(None) }
            })
            .collect();
        output::print_document(global, &Keys { source, keys })
    }
}

/// A line per key, then the roles no key plays.
impl fmt::Display for Keys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} keys from {}, in role order (keys are never printed):", self.keys.len(), self.source)?;
        for key in &self.keys {
            let role = if key.in_commands == "all" {
                key.role.to_string()
            } else {
                format!("{} ({})", key.role, key.in_commands)
            };
            write!(f, "\n  {:>2}  {role:<26} {}", key.position, key.address)?;
        }
        if self.keys.len() < SuiteAccounts::ROLES.len() {
            let missing = &SuiteAccounts::ROLES[self.keys.len()..];
            write!(
                f,
                "\nno key for {}: commands sent by those roles need `--from` with a loaded key, or more keys",
                missing.join(", ")
            )?;
        }
        Ok(())
    }
}
