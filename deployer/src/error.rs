//! The deployer's error type.

use kessai_bindings::RevertError;

/// Everything that can go wrong while building, deploying or driving the suite.
#[derive(Debug, thiserror::Error)]
pub enum DeployerError {
    /// A required external tool is missing; `hint` says how to install it.
    #[error("{tool} not found: {hint}")]
    ToolMissing {
        /// The tool.
        tool: &'static str,
        /// What to run.
        hint: String,
    },
    /// Compilation failed.
    #[error("contract build failed: {0}")]
    Build(String),
    /// A transaction or call reverted; the revert is decoded.
    #[error(transparent)]
    Revert(#[from] RevertError),
    /// The node answered with an error or could not be reached.
    #[error("RPC error: {0}")]
    Rpc(String),
    /// A local node (Hardhat) could not be started.
    #[error("could not start the node: {0}")]
    Node(String),
    /// Anvil could not be started.
    #[error("could not start anvil: {0}")]
    Anvil(String),
    /// A transaction was mined but failed without revert data (out of gas, invalid opcode).
    #[error("transaction {tx} failed on-chain without revert data (gas used {gas_used})")]
    TxFailed {
        /// Transaction hash.
        tx: String,
        /// Gas used.
        gas_used: u64,
    },
    /// A transaction was not mined within the deadline, even after replacements with higher fees.
    #[error(
        "no receipt after {waited} s for transaction(s) {hashes:?}: the node may be stalled or the fee too low; \
         one of them may still be mined, so rerun the same command to resume (it checks before sending again)"
    )]
    Timeout {
        /// Every hash sent for this nonce.
        hashes: Vec<String>,
        /// Seconds waited.
        waited: u64,
    },
    /// The plan refers to something it never defined.
    #[error("plan error: {0}")]
    Plan(String),
    /// No signing key is available for an account.
    #[error("no signing key for account {0}")]
    NoKey(alloy::primitives::Address),
    /// A key could not sign.
    #[error("signing failed: {0}")]
    Signing(String),
    /// Reading or writing a file failed.
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
    /// JSON (de)serialization failed.
    #[error("JSON error: {0}")]
    Json(#[from] serde_json::Error),
}
