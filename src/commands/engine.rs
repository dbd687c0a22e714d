//! Choosing the engine a command runs on: the in-process chain, a spawned Anvil, or a node.

use super::{GlobalArgs, output};
use eyre::WrapErr;
use kessai_bindings::{
    alloy::{
        primitives::{Address, keccak256},
        signers::local::PrivateKeySigner,
    },
    security_token::SecurityToken,
};
use kessai_deployer::{
    anvil::{self, AnvilInstance, AnvilOptions},
    chain::Chain,
    keys,
    manifest::Manifest,
    profile::{ChainProfile, Hardfork},
    rpc::{FeeMode, RpcChain, RpcOptions},
};
use kessai_sim::RevmOptions;
use std::path::PathBuf;

/// The environment variable holding comma-separated private keys, in the one role order
/// (`kessai keys` prints it): operator, registrar, issuer, bank, authority; then the demo's agent,
/// seller and buyer, or a scenario's other parties. Never printed.
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
        let password = keystore_password()?;
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

/// The variable the keys were loaded from, for messages that ask for another key.
pub fn key_source() -> &'static str {
    if std::env::var_os(KEYSTORE_ENV).is_some() { KEYSTORE_ENV } else { KEYS_ENV }
}

/// The keystores' password: `KESSAI_KEYSTORE_PASSWORD`, else asked on the terminal.
fn keystore_password() -> eyre::Result<String> {
    match std::env::var(KEYSTORE_PASSWORD_ENV) {
        Ok(password) => Ok(password),
        Err(_) => rpassword::prompt_password("keystore password: ")
            .wrap_err_with(|| format!("cannot read the keystore password (no terminal?): set {KEYSTORE_PASSWORD_ENV}")),
    }
}

/// Where the keys come from and their accounts (for `kessai keys`). A keystore that names its
/// account (geth's do) is not decrypted; one that does not (`cast wallet import`'s) needs the password.
pub fn key_addresses() -> eyre::Result<(String, Vec<Address>)> {
    if let Ok(paths) = std::env::var(KEYSTORE_ENV) {
        let mut password = None;
        let mut addresses = Vec::new();
        for path in paths.split(',').map(|p| std::path::Path::new(p.trim())) {
            let address = match keys::keystore_address(path)? {
                Some(address) => address,
                None => {
                    if password.is_none() {
                        password = Some(keystore_password()?);
                    }
                    keys::decrypt_keystore(path, password.as_deref().unwrap_or_default())?.address()
                }
            };
            addresses.push(address);
        }
        return Ok((KEYSTORE_ENV.to_string(), addresses));
    }
    if let Ok(value) = std::env::var(KEYS_ENV) {
        let addresses = keys::parse_keys(KEYS_ENV, &value)?.iter().map(PrivateKeySigner::address).collect();
        return Ok((KEYS_ENV.to_string(), addresses));
    }
    Ok(("Anvil's development keys (KESSAI_KEYSTORE and KESSAI_KEYS are unset)".to_string(), anvil::dev_accounts()))
}

/// The sending account: `--from` when given (its key must be loaded), else the first loaded key that
/// holds `role` on `contract` (any OpenZeppelin AccessControl contract of the suite).
pub async fn sender_with_role(
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
            key_source()
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
        key_source()
    )
}

/// How transactions are sent to a node: the chain's profile, pricing, confirmations, deadlines.
/// Flattened into commands that send transactions; flags given here override the profile's.
#[derive(Clone, Debug, clap::Args)]
pub struct ChainArgs {
    /// A known network's settings: `ibet` (ibet for Fin: chain id 1010032, EVM berlin, legacy
    /// transactions at gas price 0, final at once). `kessai deploy` records it in the manifest, and
    /// every command that reads the manifest follows it.
    #[arg(long = "chain", value_name = "PROFILE")]
    profile: Option<ChainProfile>,
    /// Send legacy (type 0) transactions, for chains without EIP-1559.
    #[arg(long)]
    legacy: bool,
    /// Fixed gas price in wei for legacy transactions (0 on a zero-gas permissioned chain); implies
    /// --legacy. Without it, a node with a zero base fee and a zero gas price gets legacy
    /// transactions at price 0.
    #[arg(long)]
    gas_price: Option<u128>,
    /// Blocks to wait on top of each transaction's block (default: the profile's, else 0).
    #[arg(long)]
    confirmations: Option<u64>,
    /// Seconds to wait for a receipt before re-sending with a higher fee.
    #[arg(long, default_value_t = RESEND_AFTER_S)]
    resend_after: u64,
    /// Seconds to wait for a transaction in all.
    #[arg(long, default_value_t = TX_TIMEOUT_S)]
    tx_timeout: u64,
}

/// The flags' defaults, for commands that send without offering the flags (`xtrade`, `attest`,
/// `relay`): the same as when none is given.
impl Default for ChainArgs {
    fn default() -> Self {
        Self {
            profile: None,
            legacy: false,
            gas_price: None,
            confirmations: None,
            resend_after: RESEND_AFTER_S,
            tx_timeout: TX_TIMEOUT_S,
        }
    }
}

/// Seconds to wait for a receipt before re-sending with a higher fee (`--resend-after`'s default).
const RESEND_AFTER_S: u64 = 30;
/// Seconds to wait for a transaction in all (`--tx-timeout`'s default).
const TX_TIMEOUT_S: u64 = 300;

impl ChainArgs {
    /// The profile in force when a manifest (or config) records `recorded`: `--chain` may repeat it
    /// but not contradict it.
    pub fn profile_with(&self, recorded: Option<ChainProfile>, source: &str) -> eyre::Result<Option<ChainProfile>> {
        match (self.profile, recorded) {
            (Some(given), Some(recorded)) if given != recorded => eyre::bail!(
                "--chain {given} contradicts {source}, which records the chain profile {recorded}: nothing was sent; \
                 drop --chain, or use the manifest or config of the {given} chain"
            ),
            (given, recorded) => Ok(given.or(recorded)),
        }
    }

    /// The engine options for `profile` (see [`Self::profile_with`]), with these flags on top.
    pub fn options(&self, profile: Option<ChainProfile>) -> RpcOptions {
        let base = profile.map(ChainProfile::options).unwrap_or_default();
        let fees = match (self.legacy, self.gas_price) {
            (_, Some(price)) => FeeMode::Legacy(Some(price)),
            (true, None) => FeeMode::Legacy(None),
            (false, None) => base.fees,
        };
        RpcOptions {
            fees,
            confirmations: self.confirmations.unwrap_or(base.confirmations),
            resend_after: std::time::Duration::from_secs(self.resend_after),
            timeout: std::time::Duration::from_secs(self.tx_timeout),
            ..base
        }
    }
}

/// The rules of a chain kessai runs itself: the in-process engine, or an Anvil it spawns. Both get
/// the same hard fork and chain id, so they agree on gas.
#[derive(Clone, Copy, Debug, Default, clap::Args)]
pub struct LocalChainArgs {
    /// EVM rules to run (petersburg … cancun; default cancun, or the profile's with --chain).
    #[arg(long)]
    hardfork: Option<Hardfork>,
    /// Emulate a known network: its chain id and hard fork (`ibet`: 1010032, berlin; a spawned Anvil
    /// also gets gas price 0 and accounts without ether).
    #[arg(long = "chain", value_name = "PROFILE")]
    profile: Option<ChainProfile>,
}

impl LocalChainArgs {
    /// The hard fork in force.
    pub fn hardfork(&self) -> Hardfork {
        self.hardfork.or(self.profile.map(ChainProfile::hardfork)).unwrap_or(Hardfork::Cancun)
    }

    /// The in-process engine's options.
    pub fn revm(&self) -> RevmOptions {
        let chain_id = self.profile.map_or(RevmOptions::default().chain_id, ChainProfile::chain_id);
        RevmOptions::new(self.hardfork(), chain_id)
    }

    /// A spawned Anvil's options.
    pub fn anvil(&self) -> AnvilOptions {
        let base = self.profile.map(AnvilOptions::emulating).unwrap_or_default();
        AnvilOptions { hardfork: Some(self.hardfork().name().into()), ..base }
    }

    /// How the in-process engine is described to the user.
    pub fn describe(&self) -> String {
        let r = self.revm();
        format!("in-process revm (hard fork {}, chain {})", self.hardfork(), r.chain_id)
    }
}

/// What a command that sends as a suite role needs: the suite, how to send, and who sends.
#[derive(Clone, Debug, clap::Args)]
pub struct SenderArgs {
    /// The node and the deployment manifest.
    #[command(flatten)]
    pub suite: SuiteArgs,
    /// How transactions are sent (the manifest's chain profile, unless overridden).
    #[command(flatten)]
    pub chain: ChainArgs,
    /// Sending account (its key must be loaded); without it, the first loaded key that holds the
    /// role the action needs.
    #[arg(long, value_parser = super::address_arg::AddressParser)]
    pub from: Option<Address>,
}

/// Which deployed suite a command works on: the node and the manifest `kessai deploy` wrote.
#[derive(Clone, Debug, clap::Args)]
pub struct SuiteArgs {
    /// The node.
    #[arg(long, env = "KESSAI_RPC_URL")]
    pub rpc_url: String,
    /// The deployment manifest (written by `kessai deploy`).
    #[arg(long)]
    pub manifest: PathBuf,
}

impl SuiteArgs {
    /// Reads the manifest, connects to the node under the manifest's chain profile (with `chain`'s
    /// flags on top), and checks — before anything is sent or reported — that the node is on the
    /// manifest's chain and holds the suite's code.
    pub async fn connect(&self, chain: &ChainArgs) -> eyre::Result<(Manifest, RpcChain)> {
        let (manifest, mut rpc, origin) = self.open(chain, signers()?)?;
        manifest.check_chain(&mut rpc, &origin).await?;
        Ok((manifest, rpc))
    }

    /// [`Self::connect`] without keys, for commands that only read: no keystore is decrypted and no
    /// password asked.
    pub async fn connect_read_only(&self) -> eyre::Result<(Manifest, RpcChain)> {
        let (manifest, mut rpc, origin) = self.open(&ChainArgs::default(), Vec::new())?;
        manifest.check_chain(&mut rpc, &origin).await?;
        Ok((manifest, rpc))
    }

    /// [`Self::connect_read_only`] checking only the chain id, for `verify`, whose job is to report
    /// the code.
    pub async fn connect_to_verify(&self) -> eyre::Result<(Manifest, RpcChain)> {
        let (manifest, mut rpc, origin) = self.open(&ChainArgs::default(), Vec::new())?;
        manifest.check_chain_id(&mut rpc, &origin).await?;
        Ok((manifest, rpc))
    }

    fn open(&self, chain: &ChainArgs, keys: Vec<PrivateKeySigner>) -> eyre::Result<(Manifest, RpcChain, String)> {
        let manifest = read_manifest(&self.manifest)?;
        let origin = format!("the manifest {}", self.manifest.display());
        let profile = chain.profile_with(manifest.profile, &origin)?;
        if let Some(p) = profile.filter(|p| p.chain_id() != manifest.deployment.chain_id) {
            eyre::bail!(
                "--chain {p} is chain {}, but {origin} describes a suite on chain {}: nothing was sent; drop --chain, \
                 or use the manifest of the {p} suite",
                p.chain_id(),
                manifest.deployment.chain_id
            );
        }
        let rpc = RpcChain::connect_with(&self.rpc_url, keys, chain.options(profile))?;
        Ok((manifest, rpc, origin))
    }
}

/// Connects to `rpc_url` with `options`, or spawns Anvil with `anvil_options` when it is `None`
/// (saying so, unless `--json`). The returned instance (if any) must be kept alive while the chain is
/// used.
pub fn connect_with(
    rpc_url: Option<String>,
    global: GlobalArgs,
    options: RpcOptions,
    anvil_options: &AnvilOptions,
) -> eyre::Result<(Option<AnvilInstance>, RpcChain)> {
    let (instance, url) = match rpc_url {
        Some(url) => (None, url),
        None => {
            let instance = AnvilInstance::spawn(anvil_options)?;
            let url = instance.endpoint();
            output::progress(
                global,
                format_args!(
                    "no --rpc-url given: started an embedded anvil at {url} (chain {}, hard fork {}); it stops when \
                     kessai exits",
                    anvil_options.chain_id,
                    anvil_options.hardfork.as_deref().unwrap_or("anvil's default"),
                ),
            );
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
