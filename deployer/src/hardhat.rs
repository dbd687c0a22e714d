//! Hardhat's node as a second, independent EVM for tests and rehearsals: started from the pinned npm
//! package with `tools/hardhat.config.js`, on a free local port, with Anvil's development accounts
//! (both derive them from the same public test mnemonic). Killed when dropped.

use crate::{chain::GENESIS_TIMESTAMP, error::DeployerError, tools};
use std::{
    net::TcpListener,
    process::{Child, Command, Stdio},
    time::Duration,
};

/// Settings of a spawned Hardhat node.
#[derive(Clone, Debug)]
pub struct HardhatOptions {
    /// Hard fork (Hardhat's names: `cancun`, `shanghai`, `merge`, `london`, ...).
    pub hardfork: String,
    /// Chain id.
    pub chain_id: u64,
    /// Base fee of the first block; `Some(0)` for a chain without fees.
    pub base_fee: Option<u64>,
    /// Timestamp of the genesis block ([`GENESIS_TIMESTAMP`] by default, so runs do not depend on the
    /// day); `None` starts from the wall clock.
    pub genesis_timestamp: Option<u64>,
}

impl Default for HardhatOptions {
    fn default() -> Self {
        Self { hardfork: "cancun".into(), chain_id: 31337, base_fee: None, genesis_timestamp: Some(GENESIS_TIMESTAMP) }
    }
}

/// A running Hardhat node.
#[derive(Debug)]
pub struct HardhatInstance {
    child: Child,
    port: u16,
}

impl HardhatInstance {
    /// Starts the node and waits until it accepts connections (Hardhat takes a few seconds).
    pub fn spawn(options: &HardhatOptions) -> Result<Self, DeployerError> {
        let root = tools::project_root();
        let binary = tools::find_hardhat(&root)?;
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .map_err(|e| DeployerError::Node { what: "no free local port for hardhat".into(), source: Some(e) })?;
        let mut cmd = Command::new(&binary);
        cmd.current_dir(&root)
            .args(["--config", "tools/hardhat.config.js", "node", "--hostname", "127.0.0.1", "--port"])
            .arg(port.to_string())
            .env("KESSAI_HARDHAT_CHAIN_ID", options.chain_id.to_string())
            .env("KESSAI_HARDHAT_HARDFORK", &options.hardfork)
            .env("HARDHAT_DISABLE_TELEMETRY_PROMPT", "true")
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        if let Some(fee) = options.base_fee {
            cmd.env("KESSAI_HARDHAT_BASE_FEE", fee.to_string());
        }
        if let Some(timestamp) = options.genesis_timestamp {
            cmd.env("KESSAI_HARDHAT_GENESIS_TIMESTAMP", timestamp.to_string());
        }
        let mut child =
            cmd.spawn().map_err(|e| DeployerError::Node { what: binary.display().to_string(), source: Some(e) })?;
        tools::wait_for_ready(&mut child, "hardhat", Duration::from_secs(60), |line| {
            line.contains("Started HTTP").then_some(())
        })
        .map_err(|e| DeployerError::Node {
            what: format!("{e}; run `npm ci` to install the pinned hardhat"),
            source: None,
        })?;
        Ok(Self { child, port })
    }

    /// The HTTP endpoint.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for HardhatInstance {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
