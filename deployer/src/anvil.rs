//! Launching a local Anvil node, and Anvil's (and Hardhat's) published development accounts.

use crate::{chain::GENESIS_TIMESTAMP, error::DeployerError, profile::ChainProfile, tools};
use alloy::{primitives::Address, signers::local::PrivateKeySigner};
use std::{
    process::{Child, Command, Stdio},
    time::Duration,
};

/// The private keys of the first ten development accounts that Anvil and Hardhat fund by default
/// (derived from their public test mnemonic). For development chains only: never fund them elsewhere.
pub const DEV_KEYS: [&str; 10] = [
    "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
    "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
    "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a",
    "0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6",
    "0x47e179ec197488593b187f80a00eb0da91f1b9d0b13f8733639f19c30a34926a",
    "0x8b3a350cf5c34c9194ca85829a2df0ec3153be0318b5e2d3348e872092edffba",
    "0x92db14e403b83dfe3df233f83dfa3a0d7096f21ca9b0d6d6b8d88b2b4ec1564e",
    "0x4bbbf85ce3377467afe5d46f804f221813b2bb87f24d81f60f1fcdbf7cbf4356",
    "0xdbda1821b80551c9d65939329250298aa3472ba22feea921c0cf5d620ea67b97",
    "0x2a871d0798f97d79848a013d4936a73bf4cc922c825d33c1cf7073dff6d409c6",
];

/// The development signers, in account order.
pub fn dev_signers() -> Vec<PrivateKeySigner> {
    // The keys above are constants known to parse.
    DEV_KEYS.iter().filter_map(|k| k.parse().ok()).collect()
}

/// The development accounts, in order.
pub fn dev_accounts() -> Vec<Address> {
    dev_signers().iter().map(PrivateKeySigner::address).collect()
}

/// Options for a spawned Anvil.
#[derive(Clone, Debug)]
pub struct AnvilOptions {
    /// Hard fork name passed to `--hardfork` (e.g. `cancun`, `paris`); `None` keeps Anvil's default.
    pub hardfork: Option<String>,
    /// Chain id.
    pub chain_id: u64,
    /// Base fee of the first block; `Some(0)` with `gas_price: Some(0)` emulates a zero-gas chain.
    pub base_fee: Option<u64>,
    /// Gas price.
    pub gas_price: Option<u64>,
    /// Ether each development account starts with (`--balance`); `None` keeps Anvil's 10,000.
    pub balance: Option<u64>,
    /// Seconds between blocks (interval mining, `--block-time`); `None` mines each transaction at once.
    pub block_time: Option<u64>,
    /// Keep Anvil's genesis copy of the deterministic deployment proxy; `false` starts without it
    /// (as most non-dev chains), so the deployer must install it.
    pub create2_deployer: bool,
    /// Timestamp of the genesis block (`--timestamp`); later blocks follow it by the seconds that
    /// pass. [`GENESIS_TIMESTAMP`] by default, so runs on a spawned Anvil do not depend on the day;
    /// `None` starts from the wall clock.
    pub genesis_timestamp: Option<u64>,
    /// Keep only the latest state in memory (`--prune-history`): long runs of thousands of blocks
    /// stay fast, but past states cannot be queried.
    pub prune_history: bool,
}

impl Default for AnvilOptions {
    fn default() -> Self {
        Self {
            hardfork: Some("cancun".into()),
            chain_id: 31337,
            base_fee: None,
            gas_price: None,
            balance: None,
            block_time: None,
            create2_deployer: true,
            genesis_timestamp: Some(GENESIS_TIMESTAMP),
            prune_history: false,
        }
    }
}

impl AnvilOptions {
    /// A local emulation of `profile`'s network: its chain id and hard fork, a zero base fee and gas
    /// price, and every account at zero ether (a gas-free chain needs none).
    pub fn emulating(profile: ChainProfile) -> Self {
        Self {
            hardfork: Some(profile.hardfork().name().into()),
            chain_id: profile.chain_id(),
            base_fee: Some(0),
            gas_price: Some(0),
            balance: Some(0),
            ..Self::default()
        }
    }
}

/// A running Anvil child process; killed when dropped.
#[derive(Debug)]
pub struct AnvilInstance {
    child: Child,
    port: u16,
}

impl AnvilInstance {
    /// Starts Anvil on a free port and waits until it listens.
    pub fn spawn(options: &AnvilOptions) -> Result<Self, DeployerError> {
        let binary = tools::find_anvil(&tools::project_root())?;
        let mut cmd = Command::new(&binary);
        cmd.args(["--port", "0", "--chain-id", &options.chain_id.to_string(), "--accounts", "10"]);
        if let Some(fork) = &options.hardfork {
            cmd.args(["--hardfork", fork]);
        }
        if let Some(fee) = options.base_fee {
            cmd.args(["--block-base-fee-per-gas", &fee.to_string()]);
        }
        if let Some(price) = options.gas_price {
            cmd.args(["--gas-price", &price.to_string()]);
        }
        if let Some(ether) = options.balance {
            cmd.args(["--balance", &ether.to_string()]);
        }
        if let Some(seconds) = options.block_time {
            cmd.args(["--block-time", &seconds.to_string()]);
        }
        if let Some(timestamp) = options.genesis_timestamp {
            cmd.args(["--timestamp", &timestamp.to_string()]);
        }
        if !options.create2_deployer {
            cmd.arg("--disable-default-create2-deployer");
        }
        if options.prune_history {
            cmd.arg("--prune-history");
        }
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| DeployerError::Anvil { what: binary.display().to_string(), source: Some(e) })?;
        let port = tools::wait_for_ready(&mut child, "anvil", Duration::from_secs(20), |line| {
            line.strip_prefix("Listening on ").and_then(|addr| addr.rsplit(':').next()?.parse::<u16>().ok())
        })
        .map_err(|what| DeployerError::Anvil { what, source: None })?;
        Ok(Self { child, port })
    }

    /// The HTTP endpoint.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The node's process id (to halt it with SIGSTOP and resume it with SIGCONT, as a halted chain).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for AnvilInstance {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
