//! Shared helpers: engines and a deployed, registered suite.

pub mod cli;

use kessai_bindings::alloy::{primitives::Address, signers::local::PrivateKeySigner};
use kessai_deployer::{
    anvil::{self, AnvilInstance, AnvilOptions},
    rpc::RpcChain,
};
use kessai_sim::{RevmChain, RevmOptions, demo::DemoParties};

/// The demo parties on Anvil's development accounts.
pub fn parties() -> DemoParties {
    DemoParties::from_accounts(&anvil::dev_accounts()).expect("ten dev accounts")
}

/// The development key of `account` (one of Anvil's dev accounts).
pub fn key(account: Address) -> PrivateKeySigner {
    anvil::dev_signers().into_iter().find(|k| k.address() == account).expect("a dev account")
}

/// The block number and the nonce of every development account: whatever a refusal leaves, these are
/// as they were when nothing was sent.
pub async fn sent_so_far(chain: &RpcChain) -> (u64, Vec<u64>) {
    use kessai_bindings::alloy::providers::Provider;
    let block = chain.provider().get_block_number().await.expect("block number");
    let mut nonces = Vec::new();
    for account in anvil::dev_accounts() {
        nonces.push(chain.provider().get_transaction_count(account).await.expect("nonce"));
    }
    (block, nonces)
}

/// A fresh in-process chain with the parties funded.
pub fn revm() -> RevmChain {
    RevmChain::new(&RevmOptions::default(), &parties().senders())
}

/// A fresh Anvil (cancun, like the in-process engine) and an engine connected to it. Fails with the
/// install hint when anvil is missing: a test that needs Anvil never skips.
pub fn anvil() -> (AnvilInstance, RpcChain) {
    let instance =
        AnvilInstance::spawn(&AnvilOptions::default()).unwrap_or_else(|e| panic!("this test needs anvil: {e}"));
    let chain = RpcChain::connect(&instance.endpoint(), anvil::dev_signers()).expect("connect to anvil");
    (instance, chain)
}
