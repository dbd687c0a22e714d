//! Choosing the engine a command runs on: the in-process chain, a spawned Anvil, or a node.

use eyre::WrapErr;
use kessai_bindings::alloy::signers::local::PrivateKeySigner;
use kessai_deployer::{
    anvil::{self, AnvilInstance, AnvilOptions},
    keys,
    rpc::{FeeMode, RpcChain, RpcOptions},
};

/// The environment variable holding comma-separated private keys, in role order: operator,
/// registrar, issuer, bank, agent, seller, buyer, authority. Never printed.
pub const KEYS_ENV: &str = "KESSAI_KEYS";

/// Comma-separated paths of encrypted JSON keystores, in the same role order as `KESSAI_KEYS`.
pub const KEYSTORE_ENV: &str = "KESSAI_KEYSTORE";

/// The keystores' password; when unset, kessai asks for it on the terminal (without echo).
pub const KEYSTORE_PASSWORD_ENV: &str = "KESSAI_KEYSTORE_PASSWORD";

/// Signers, from the first source that is set: `KESSAI_KEYSTORE` (encrypted keystores, password from
/// `KESSAI_KEYSTORE_PASSWORD` or a prompt), `KESSAI_KEYS` (hex keys), else Anvil's public
/// development keys — which only a local development chain funds. Keys are never printed.
pub fn signers() -> eyre::Result<Vec<PrivateKeySigner>> {
    if let Ok(paths) = std::env::var(KEYSTORE_ENV) {
        let password = match std::env::var(KEYSTORE_PASSWORD_ENV) {
            Ok(password) => password,
            Err(_) => rpassword::prompt_password("keystore password: ")
                .wrap_err_with(|| format!("cannot read the keystore password: set {KEYSTORE_PASSWORD_ENV}"))?,
        };
        return paths
            .split(',')
            .map(|p| keys::decrypt_keystore(std::path::Path::new(p.trim()), &password))
            .collect::<Result<Vec<_>, _>>()
            .wrap_err_with(|| format!("loading the keystores named in {KEYSTORE_ENV}"));
    }
    match std::env::var(KEYS_ENV) {
        Ok(value) => Ok(keys::parse_keys(KEYS_ENV, &value)?),
        Err(_) => {
            tracing::info!(target: "kessai::keys", "no {KEYSTORE_ENV} or {KEYS_ENV}: using Anvil's development keys");
            Ok(anvil::dev_signers())
        }
    }
}

/// How transactions are sent to a node: pricing, confirmations, deadlines. Flattened into commands
/// that send transactions.
#[derive(Clone, Debug, Default, clap::Args)]
pub struct ChainArgs {
    /// Send legacy (type 0) transactions, for chains without EIP-1559.
    #[arg(long)]
    legacy: bool,
    /// Fixed gas price in wei for legacy transactions (0 on a zero-gas permissioned chain); implies
    /// --legacy.
    #[arg(long)]
    gas_price: Option<u128>,
    /// Blocks to wait on top of each transaction's block.
    #[arg(long, default_value_t = 0)]
    confirmations: u64,
    /// Seconds to wait for a receipt before re-sending with a higher fee.
    #[arg(long, default_value_t = 30)]
    resend_after: u64,
    /// Seconds to wait for a transaction in all.
    #[arg(long, default_value_t = 300)]
    tx_timeout: u64,
}

impl ChainArgs {
    /// The engine options these flags select.
    pub fn options(&self) -> RpcOptions {
        let fees = match (self.legacy, self.gas_price) {
            (_, Some(price)) => FeeMode::Legacy(Some(price)),
            (true, None) => FeeMode::Legacy(None),
            (false, None) => FeeMode::Auto,
        };
        RpcOptions {
            fees,
            confirmations: self.confirmations,
            resend_after: std::time::Duration::from_secs(self.resend_after),
            timeout: std::time::Duration::from_secs(self.tx_timeout),
            ..RpcOptions::default()
        }
    }
}

/// Connects to `rpc_url`, or spawns Anvil when it is `None`. The returned instance (if any) must be
/// kept alive while the chain is used.
pub fn connect(rpc_url: Option<String>, quiet: bool) -> eyre::Result<(Option<AnvilInstance>, RpcChain)> {
    connect_with(rpc_url, quiet, RpcOptions::default())
}

/// [`connect`] with explicit engine options.
pub fn connect_with(
    rpc_url: Option<String>,
    quiet: bool,
    options: RpcOptions,
) -> eyre::Result<(Option<AnvilInstance>, RpcChain)> {
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
    let chain = RpcChain::connect_with(&url, signers()?, options)?;
    Ok((instance, chain))
}

/// Reads the deployment manifest an operator command works on, naming the file when it cannot.
pub fn read_manifest(path: &std::path::Path) -> eyre::Result<kessai_deployer::manifest::Manifest> {
    kessai_deployer::manifest::Manifest::read(path)
        .wrap_err_with(|| format!("cannot read the manifest {}", path.display()))
}
