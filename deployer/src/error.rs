//! The deployer's error type, and the refusal of an address typed by a person ([`AddressError`]).

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
    /// Compilation failed: the compiler's diagnostics, or an output the artifacts need is missing.
    #[error("contract build failed: {0}")]
    Build(String),
    /// The compiler could not be set up or run (foundry-compilers, the pinned solc version, a
    /// remapping); `what` names the step when the library's error does not.
    #[error("contract build failed: {}{source}", what.map(|w| format!("{w}: ")).unwrap_or_default())]
    Compiler {
        /// The step that failed, if the error needs it to be understood.
        what: Option<&'static str>,
        /// The library's error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// A transaction or call reverted; the revert is decoded.
    #[error(transparent)]
    Revert(#[from] RevertError),
    /// The node answered with a JSON-RPC error (not a revert: those are [`DeployerError::Revert`],
    /// nor a failure to reach it: [`DeployerError::Transport`]); its message is the node's.
    #[error(transparent)]
    Rpc(alloy::transports::TransportError),
    /// The node answered, but not with what the request asks for (a block it should have, a log
    /// without its position, an event a call must emit).
    #[error("unusable answer from the node: {0}")]
    Answer(String),
    /// A block that is not mined yet was asked for.
    #[error("block {block} is not mined yet (the chain is at block {head})")]
    NotMined {
        /// The block asked for.
        block: u64,
        /// The latest block.
        head: u64,
    },
    /// A transaction's block did not get its confirmations in time.
    #[error("block {block} has {got} of {wanted} confirmations after {waited} s")]
    Unconfirmed {
        /// The block that includes the transaction.
        block: u64,
        /// Blocks on top of it when the wait ended.
        got: u64,
        /// Blocks on top of it asked for.
        wanted: u64,
        /// Seconds waited.
        waited: u64,
    },
    /// A contract's answer could not be decoded as its ABI says (`what` names the call).
    #[error("cannot decode the answer of {what}")]
    Decode {
        /// The call or data.
        what: String,
        /// The decoder's error.
        #[source]
        source: alloy::sol_types::Error,
    },
    /// The RPC URL cannot be used (malformed, another scheme, no host); the message says which.
    #[error("{0}")]
    InvalidUrl(String),
    /// The HTTP client (TLS configuration included) could not be built.
    #[error("cannot set up the HTTP client: {what}")]
    HttpClient {
        /// The part that failed.
        what: &'static str,
        /// The library's error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The in-process engine failed (not a revert: an execution error of revm itself).
    #[error("the in-process engine failed {what}")]
    InProcess {
        /// What it was doing.
        what: &'static str,
        /// revm's error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// A request did not reach the node, or the answer was not JSON-RPC: `cause` says why and what
    /// to do.
    #[error("cannot talk to the node at {url}: {cause}")]
    Transport {
        /// The node's URL as it may be printed (no credentials, path or query).
        url: String,
        /// What went wrong.
        cause: crate::transport::TransportCause,
        /// The underlying error (the HTTP client's, without the URL), when there is one.
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
    /// The CA certificate file named by `KESSAI_CA_CERT` cannot be used.
    #[error("{}={}: {reason}", crate::transport::CA_CERT_ENV, path.display())]
    CaCert {
        /// The file.
        path: std::path::PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// Signing keys could not be loaded (the message names the source, never the key).
    #[error("keys: {0}")]
    Keys(String),
    /// A keystore file could not be read.
    #[error("keys: cannot read keystore {}: {source}", path.display())]
    KeystoreRead {
        /// The keystore file.
        path: std::path::PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A keystore file is not JSON.
    #[error("keys: keystore {} is not JSON ({source}): expected a Web3 Secret Storage file", path.display())]
    KeystoreJson {
        /// The keystore file.
        path: std::path::PathBuf,
        /// The parser's error.
        #[source]
        source: serde_json::Error,
    },
    /// A keystore file could not be decrypted with the password given.
    #[error(
        "keys: cannot decrypt keystore {}: {source} (wrong password, or not a Web3 Secret Storage file)",
        path.display()
    )]
    KeystoreDecrypt {
        /// The keystore file.
        path: std::path::PathBuf,
        /// The keystore library's error: it describes the file (MAC mismatch, bad JSON), never the key.
        #[source]
        source: alloy::signers::local::LocalSignerError,
    },
    /// The chain cannot run the suite, or the deployment would fail; nothing was sent.
    #[error("preflight refused the chain, nothing was sent: {0}")]
    Preflight(String),
    /// A local node (Hardhat) could not be started.
    #[error("could not start the node: {what}{}", cause(source))]
    Node {
        /// What failed.
        what: String,
        /// The I/O error (no free port, the binary would not run), when there is one.
        #[source]
        source: Option<std::io::Error>,
    },
    /// Anvil could not be started.
    #[error("could not start anvil: {what}{}", cause(source))]
    Anvil {
        /// What failed.
        what: String,
        /// The I/O error (the binary would not run), when there is one.
        #[source]
        source: Option<std::io::Error>,
    },
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
    /// The chain reorganised below the oldest block an event stream keeps: the stream cannot say
    /// which of the events it emitted are gone. Re-read from a cursor at or before `oldest_kept`.
    #[error(
        "the chain reorganised at or below block {oldest_kept}, the oldest of the {kept} blocks the event stream \
         keeps (its hash is no longer on the chain): rebuild the books from a cursor at or before that block"
    )]
    ReorgBeyondWindow {
        /// The oldest block the stream kept, no longer on the chain.
        oldest_kept: u64,
        /// How many blocks the stream kept.
        kept: usize,
    },
    /// A call against the state at a past block, on an engine that keeps only the latest state (the
    /// in-process engine).
    #[error(
        "the in-process engine keeps only the latest state: it cannot read block {block} (its latest block is \
         {head}); read the past from a node that keeps it"
    )]
    PastStateUnavailable {
        /// The block asked for.
        block: u64,
        /// The latest block, the only state the engine has.
        head: u64,
    },
    /// A reorganisation during a read removed an event returned before it (see
    /// [`crate::events::EventStream::read_to_head`]).
    #[error("the chain reorganised from block {fork_block}: an event returned before this read is gone ({event})")]
    EventRetracted {
        /// The first block replaced.
        fork_block: u64,
        /// The event, as it was returned.
        event: String,
    },
    /// A read at a block before the contract existed.
    #[error("block {block} is before the suite existed: its first block is {first_block}")]
    BeforeDeployment {
        /// The block asked for.
        block: u64,
        /// The first block the contract (or suite) exists at.
        first_block: u64,
    },
    /// The plan refers to something it never defined.
    #[error("plan error: {0}")]
    Plan(String),
    /// No signing key is available for an account.
    #[error("no signing key for account {0}")]
    NoKey(alloy::primitives::Address),
    /// A key could not sign.
    #[error("signing failed: {what}: {source}")]
    Signing {
        /// What was being signed.
        what: String,
        /// The signer's error.
        #[source]
        source: alloy::signers::Error,
    },
    /// A transaction could not be built and signed with the engine's local keys.
    #[error("cannot sign a transaction from {from}")]
    SignTx {
        /// The sender.
        from: alloy::primitives::Address,
        /// What the transaction builder or the key said.
        #[source]
        source: Box<alloy::network::TransactionBuilderError<alloy::network::Ethereum>>,
    },
    /// A sender's nonce was used by a transaction this engine did not send for it (another program
    /// shares the account): none of the engine's transactions for that nonce was mined, and nothing is
    /// sent again.
    #[error(
        "nonce {nonce} of {from} was used by another transaction while kessai's transaction(s) {hashes:?} for it \
         were pending: another program sends from this account. Nothing was sent again; check the account's \
         history, then rerun"
    )]
    NonceTaken {
        /// The sender.
        from: alloy::primitives::Address,
        /// The nonce.
        nonce: u64,
        /// Every hash the engine signed for this nonce (the original and its replacements).
        hashes: Vec<alloy::primitives::B256>,
    },
    /// A deployment would create a contract where one already is, outside any journal.
    #[error(
        "{label} is already deployed at {address} (same salt and constructor arguments): this suite was \
         deployed before. Resume it with its journal (run the same command with the same --out), or choose \
         another `salt` for a separate suite"
    )]
    AlreadyDeployed {
        /// The contract's label.
        label: String,
        /// Its predicted (CREATE2) address.
        address: alloy::primitives::Address,
    },
    /// The deterministic deployment proxy is missing and cannot be used or installed.
    #[error("{0}")]
    NoDeployer(String),
    /// The code at a deployed contract's address is not the artifact's.
    #[error("{label} at {address}: expected the runtime code of {artifact}, found {found}")]
    CodeMismatch {
        /// The contract's label.
        label: String,
        /// Its address.
        address: alloy::primitives::Address,
        /// The artifact expected there.
        artifact: String,
        /// What was found instead.
        found: String,
    },
    /// A suite config is malformed or inconsistent; the message lists each problem with its place.
    #[error("{0}")]
    Config(String),
    /// A deployment journal is unreadable or does not match the chain.
    #[error("journal {path}: {message}")]
    Journal {
        /// The journal file.
        path: std::path::PathBuf,
        /// What is wrong and what to do.
        message: String,
    },
    /// The plan differs from the journal in steps already executed; nothing was sent.
    #[error(
        "the plan differs from the deployment recorded in {path} in steps already executed; nothing was sent.\n{diff}\n\
         Appending steps (a new bank) is compatible; changing executed steps is not. Restore the config, or \
         start a separate deployment (another `salt` and another --out)."
    )]
    PlanChanged {
        /// The journal file.
        path: std::path::PathBuf,
        /// Step by step: what the journal recorded, what the plan now produces.
        diff: String,
    },
    /// The node is not on the chain a manifest describes; nothing was sent.
    #[error(
        "the node reports chain id {found}, but {manifest} describes a suite on chain {expected}: nothing was sent. \
         Point --rpc-url (or KESSAI_RPC_URL) at a node of chain {expected}, or use the manifest of this chain's suite"
    )]
    WrongChain {
        /// The node's chain id.
        found: u64,
        /// The manifest's chain id.
        expected: u64,
        /// The manifest.
        manifest: String,
    },
    /// The chain id matches, but the suite a manifest describes is not on this node; nothing was sent.
    #[error(
        "chain {chain_id} does not hold the suite {manifest} describes ({}): nothing was sent. The node may be \
         another network with the same chain id, or a fresh or reset node; point --rpc-url at the node the \
         suite was deployed on, or deploy it here first",
        missing.join("; ")
    )]
    SuiteMissing {
        /// The node's chain id.
        chain_id: u64,
        /// The manifest.
        manifest: String,
        /// Each contract that is missing or different.
        missing: Vec<String>,
    },
    /// Reading or writing a file failed.
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
    /// An address typed by a person is malformed or fails its EIP-55 checksum.
    #[error(transparent)]
    Address(#[from] AddressError),
    /// JSON (de)serialization failed.
    #[error("JSON error: {0}")]
    Json(#[from] serde_json::Error),
}

/// `: ` and the text of `source`, or nothing: the tail of a message that ends with its cause when it
/// has one.
fn cause(source: &Option<impl std::fmt::Display>) -> String {
    source.as_ref().map(|e| format!(": {e}")).unwrap_or_default()
}

/// An address typed by a person that the rule of [`crate::address::parse`] refuses.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AddressError {
    /// Not `0x` and 40 hex digits.
    #[error("{text:?} is not an address: {reason} (expected 0x and 40 hex digits)")]
    Malformed {
        /// What was typed.
        text: String,
        /// What is wrong with it.
        reason: String,
    },
    /// Mixed-case hex whose EIP-55 checksum does not hold.
    #[error(
        "{typed} has a wrong EIP-55 checksum: did you mean {checksummed}? A mistyped digit would send to an \
         address nobody controls; copy the address again from its source"
    )]
    Checksum {
        /// What was typed.
        typed: String,
        /// The checksummed form of the address as typed (its Display).
        checksummed: alloy::primitives::Address,
    },
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::error::Error as _;

    #[test]
    fn errors_that_keep_their_cause_print_it_as_before_and_expose_it_as_source() {
        let io = || std::io::Error::new(std::io::ErrorKind::NotFound, "No such file");
        let spawn = DeployerError::Anvil { what: "/bin/anvil".into(), source: Some(io()) };
        assert_eq!(spawn.to_string(), "could not start anvil: /bin/anvil: No such file");
        assert_eq!(spawn.source().map(ToString::to_string).as_deref(), Some("No such file"));
        let silent = DeployerError::Node { what: "hardhat exited".into(), source: None };
        assert_eq!(silent.to_string(), "could not start the node: hardhat exited");
        assert!(silent.source().is_none());
        let read = DeployerError::KeystoreRead { path: "k.json".into(), source: io() };
        assert_eq!(read.to_string(), "keys: cannot read keystore k.json: No such file");
        let step = DeployerError::Compiler { what: Some("bad remapping"), source: io().into() };
        assert_eq!(step.to_string(), "contract build failed: bad remapping: No such file");
        let bare = DeployerError::Compiler { what: None, source: io().into() };
        assert_eq!(bare.to_string(), "contract build failed: No such file");
    }
}
