//! Choosing the engine a command runs on: the in-process chain, a spawned Anvil, or a node.

use eyre::WrapErr;
use kessai_bindings::alloy::signers::local::PrivateKeySigner;
use kessai_deployer::{
    anvil::{self, AnvilInstance, AnvilOptions},
    rpc::RpcChain,
};

/// The environment variable holding comma-separated private keys, in role order: operator,
/// registrar, issuer, bank, agent, seller, buyer, authority. Never printed.
pub const KEYS_ENV: &str = "KESSAI_KEYS";

/// Signers from `KESSAI_KEYS`, or Anvil's development accounts when it is unset.
pub fn signers() -> eyre::Result<Vec<PrivateKeySigner>> {
    match std::env::var(KEYS_ENV) {
        Ok(keys) => keys
            .split(',')
            .map(|k| k.trim().parse::<PrivateKeySigner>())
            .collect::<Result<Vec<_>, _>>()
            // The parse error never contains the key itself.
            .wrap_err_with(|| format!("{KEYS_ENV} must hold comma-separated hex private keys")),
        Err(_) => Ok(anvil::dev_signers()),
    }
}

/// Connects to `rpc_url`, or spawns Anvil when it is `None`. The returned instance (if any) must be
/// kept alive while the chain is used.
pub fn connect(rpc_url: Option<String>, quiet: bool) -> eyre::Result<(Option<AnvilInstance>, RpcChain)> {
    let (instance, url) = match rpc_url {
        Some(url) => (None, url),
        None => {
            let instance = AnvilInstance::spawn(&AnvilOptions::default())?;
            let url = instance.endpoint();
            if !quiet {
                println!(
                    "no --rpc-url given: started an embedded anvil at {url} (hard fork cancun); it stops when kessai exits"
                );
            }
            (Some(instance), url)
        }
    };
    let chain = RpcChain::connect(&url, signers()?)?;
    Ok((instance, chain))
}
