//! `kessai deploy` of a cross-chain suite from one config (`deployments/cross-chain.toml`) on two
//! spawned Anvils: the asset chain like ibet for Fin (Berlin, gas price 0, chain id 1010032), the
//! payment chain at Anvil's default hard fork (chain id 31337). Both chains are deployed at the
//! addresses their plans predict, the settlement contracts hold their roles, each manifest names the
//! other chain and its contract, and a rerun sends nothing. Nodes given the wrong way round, a missing
//! node, and the flags of the other kind of deployment are refused with nothing sent.

use crate::support;
use kessai_bindings::{
    alloy::primitives::{Address, keccak256},
    attestation_verifier::AttestationVerifier,
    cross_chain_delivery::CrossChainDelivery,
    deposit_token::DepositToken,
    security_token::SecurityToken,
};
use kessai_deployer::{
    anvil::{self, AnvilInstance, AnvilOptions},
    chain::Chain,
    config::Config,
    manifest::{CrossChainLink, Manifest},
    plan::labels,
    profile::ChainProfile,
    rpc::RpcChain,
    tools,
    xchain::plan::{Side, xlabels},
};
use std::{collections::BTreeMap, path::PathBuf, process::Output};

const ASSET_CHAIN: u64 = 1_010_032;
const PAYMENT_CHAIN: u64 = 31_337;

fn config_path(name: &str) -> PathBuf {
    tools::project_root().join("deployments").join(name)
}

/// The cross-chain example config.
fn config() -> Config {
    Config::load(&config_path("cross-chain.toml")).expect("the cross-chain example")
}

/// The addresses `side`'s plan predicts.
fn predicted(side: Side) -> BTreeMap<String, Address> {
    config().plan_for(side).expect("a cross-chain config").predicted_addresses().expect("addresses")
}

fn spawn(options: &AnvilOptions) -> (AnvilInstance, RpcChain) {
    let node = AnvilInstance::spawn(options).unwrap_or_else(|e| panic!("this test needs anvil: {e}"));
    let chain = RpcChain::connect(&node.endpoint(), anvil::dev_signers()).expect("connect");
    (node, chain)
}

/// The asset chain's node: like ibet for Fin.
fn asset_node() -> (AnvilInstance, RpcChain) {
    spawn(&AnvilOptions::emulating(ChainProfile::Ibet))
}

/// The payment chain's node: Anvil's default hard fork and chain id.
fn payment_node() -> (AnvilInstance, RpcChain) {
    spawn(&AnvilOptions { hardfork: None, chain_id: PAYMENT_CHAIN, ..AnvilOptions::default() })
}

/// A fresh folder for the manifests and journals, removed at the end.
struct OutDir(PathBuf);

impl OutDir {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("kessai-it-xdeploy-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        Self(dir)
    }

    fn path(&self) -> &str {
        self.0.to_str().expect("a UTF-8 path")
    }

    fn manifest(&self, chain_id: u64) -> Manifest {
        Manifest::read(&self.0.join(format!("{chain_id}.json"))).expect("the manifest")
    }

    /// The files written (none when nothing was deployed).
    fn files(&self) -> Vec<PathBuf> {
        std::fs::read_dir(&self.0).map(|d| d.filter_map(|e| Some(e.ok()?.path())).collect()).unwrap_or_default()
    }
}

impl Drop for OutDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// `kessai deploy --config deployments/<config>` with `args`, without the two nodes' variables of
/// the caller's environment.
fn deploy(config: &str, args: &[&str]) -> Output {
    support::command()
        .env_remove("KESSAI_ASSET_RPC_URL")
        .env_remove("KESSAI_PAYMENT_RPC_URL")
        .args(["deploy", "--config"])
        .arg(config_path(config))
        .args(args)
        .output()
        .expect("run kessai deploy")
}

/// Whether any of `addresses` holds code on `chain`.
async fn any_code(chain: &mut RpcChain, addresses: impl IntoIterator<Item = Address>) -> bool {
    for address in addresses {
        if !chain.code(address).await.expect("code").is_empty() {
            return true;
        }
    }
    false
}

/// The manifest is the one the JSON output printed, on `chain_id`, every contract at its predicted
/// address with the chain's code.
async fn assert_deployed_as_planned(
    chain: &mut RpcChain,
    manifest: &Manifest,
    printed: &serde_json::Value,
    side: Side,
) {
    let printed: Manifest = serde_json::from_value(printed.clone()).expect("a manifest in the JSON output");
    assert_eq!(&printed, manifest, "{side:?}: the JSON output is the manifest written");
    let deployed: BTreeMap<String, Address> =
        manifest.deployment.contracts.iter().map(|(label, c)| (label.clone(), c.address)).collect();
    assert_eq!(deployed, predicted(side), "{side:?}: every contract at its planned address");
    for (label, c) in &manifest.deployment.contracts {
        assert_eq!(keccak256(chain.code(c.address).await.expect("code")), c.code_hash, "{side:?}: {label}'s code");
    }
    assert_eq!(manifest.salt, "kessai-xchain");
    assert_eq!(manifest.config_hash, Some(config().hash));
}

#[tokio::test]
async fn deploy_puts_both_chains_at_their_planned_addresses_with_their_roles_and_links_and_a_rerun_sends_nothing() {
    let ((a_node, mut a), (b_node, mut b)) = (asset_node(), payment_node());
    let (a_url, b_url) = (a_node.endpoint(), b_node.endpoint());
    let out = OutDir::new("both");
    let args = ["--asset-rpc-url", &a_url, "--payment-rpc-url", &b_url, "--out-dir", out.path()];
    let first = deploy("cross-chain.toml", &[&["--json"], &args[..]].concat());
    assert!(first.status.success(), "deploy failed: {}", String::from_utf8_lossy(&first.stderr));
    let printed: serde_json::Value = serde_json::from_slice(&first.stdout).expect("stdout is one JSON document");
    let (on_a, on_b) = (out.manifest(ASSET_CHAIN), out.manifest(PAYMENT_CHAIN));
    assert_deployed_as_planned(&mut a, &on_a, &printed["asset"], Side::Asset).await;
    assert_deployed_as_planned(&mut b, &on_b, &printed["payment"], Side::Payment).await;
    assert_eq!((on_a.profile, on_b.profile), (Some(ChainProfile::Ibet), None));

    // Each manifest names the other chain and its settlement contract.
    let (delivery, payment) = (on_a.deployment.address(xlabels::DELIVERY), on_b.deployment.address(xlabels::PAYMENT));
    let (delivery, payment) = (delivery.expect("delivery on A"), payment.expect("payment on B"));
    let link = CrossChainLink { side: Side::Asset, peer_chain_id: PAYMENT_CHAIN, peer_contract: payment };
    assert_eq!(on_a.cross_chain, Some(link));
    let link = CrossChainLink { side: Side::Payment, peer_chain_id: ASSET_CHAIN, peer_contract: delivery };
    assert_eq!(on_b.cross_chain, Some(link));
    assert!(!any_code(&mut a, [payment]).await && !any_code(&mut b, [delivery]).await, "one side each");

    // The settlement contracts hold their roles; the verifiers hold the 2-of-3 attestor set.
    let role = |name: &str| keccak256(name);
    let security = on_a.deployment.address(labels::SECURITY).expect("security");
    let notary = SecurityToken::hasRoleCall { role: role("NOTARY_ROLE"), account: delivery };
    assert!(a.read(security, &notary).await.expect("hasRole"), "the delivery contract is a notary of the security");
    let deposit = on_b.deployment.address(labels::DEPOSIT).expect("deposit");
    for name in ["NOTARY_ROLE", "SETTLER_ROLE"] {
        let call = DepositToken::hasRoleCall { role: role(name), account: payment };
        assert!(b.read(deposit, &call).await.expect("hasRole"), "the payment contract holds {name} on the deposit");
    }
    let x = config().cross_chain.expect("[cross_chain]");
    for resolver in &x.resolvers {
        let call = CrossChainDelivery::hasRoleCall { role: role("AUTHORITY_ROLE"), account: *resolver };
        assert!(a.read(delivery, &call).await.expect("hasRole"), "resolver {resolver} is an authority");
    }
    assert_eq!(a.read(delivery, &CrossChainDelivery::unwindDelayCall {}).await.expect("delay"), 30 * 86_400);
    assert_eq!(a.read(delivery, &CrossChainDelivery::unwindApprovalsCall {}).await.expect("approvals"), 2);
    for (chain, manifest) in [(&mut a, &on_a), (&mut b, &on_b)] {
        let verifier = manifest.deployment.address(xlabels::VERIFIER).expect("verifier");
        let set = chain.read(verifier, &AttestationVerifier::attestorSetCall {}).await.expect("set");
        assert_eq!((set.epoch, set.threshold, set.size), (1, 2, 3));
        for attestor in &x.attestors {
            let call = AttestationVerifier::isAttestorCall { account: *attestor };
            assert!(chain.read(verifier, &call).await.expect("isAttestor"), "{attestor}");
        }
    }

    // The same command again: both journals say everything is done, and nothing is sent.
    let before = (support::sent_so_far(&a).await, support::sent_so_far(&b).await);
    let again = deploy("cross-chain.toml", &args);
    let text = String::from_utf8_lossy(&again.stdout);
    assert!(again.status.success(), "rerun failed: {}\n{text}", String::from_utf8_lossy(&again.stderr));
    assert_eq!(text.matches(" 0 sent now, ").count(), 2, "{text}");
    assert!(text.contains(&format!("the payment chain is chain {PAYMENT_CHAIN}, its xpayment at {payment}")), "{text}");
    assert!(text.contains(&format!("the asset chain is chain {ASSET_CHAIN}, its xdelivery at {delivery}")), "{text}");
    assert_eq!((support::sent_so_far(&a).await, support::sent_so_far(&b).await), before, "a rerun sends nothing");
    assert_eq!((out.manifest(ASSET_CHAIN), out.manifest(PAYMENT_CHAIN)), (on_a, on_b), "the same manifests");
}

#[tokio::test]
async fn deploy_refuses_the_two_nodes_given_the_wrong_way_round_naming_both_chain_ids_and_sends_nothing() {
    let ((a_node, mut a), (b_node, mut b)) = (asset_node(), payment_node());
    let out = OutDir::new("swapped");
    let before = (support::sent_so_far(&a).await, support::sent_so_far(&b).await);
    let args =
        ["--asset-rpc-url", &b_node.endpoint(), "--payment-rpc-url", &a_node.endpoint(), "--out-dir", out.path()];
    let stderr = support::refused(&deploy("cross-chain.toml", &args), "the two URLs are swapped; nothing was sent");
    assert!(
        stderr.contains(
            "the asset chain's node (--asset-rpc-url) is chain 31337 and the payment chain's node (--payment-rpc-url) \
             is chain 1010032, but the config"
        ),
        "{stderr}"
    );
    assert!(stderr.contains("puts the asset side on chain 1010032 and the payment side on chain 31337"), "{stderr}");
    assert_eq!((support::sent_so_far(&a).await, support::sent_so_far(&b).await), before, "nothing was sent");
    let everything = || predicted(Side::Asset).into_values().chain(predicted(Side::Payment).into_values());
    assert!(!any_code(&mut a, everything()).await && !any_code(&mut b, everything()).await, "nothing deployed");
    assert_eq!(out.files(), Vec::<PathBuf>::new(), "no manifest or journal");
}

#[tokio::test]
async fn deploy_of_a_cross_chain_config_without_the_payment_node_is_refused_and_sends_nothing() {
    let (a_node, mut a) = asset_node();
    let out = OutDir::new("one-node");
    let before = support::sent_so_far(&a).await;
    let args = ["--asset-rpc-url", &a_node.endpoint(), "--out-dir", out.path()];
    let stderr = support::refused(
        &deploy("cross-chain.toml", &args),
        "deploys on two chains ([cross_chain]), but no --payment-rpc-url (or KESSAI_PAYMENT_RPC_URL) for the payment \
         chain's node (chain 31337) was given: nothing was sent",
    );
    assert!(stderr.contains("cross-chain.toml"), "the config is named: {stderr}");
    assert_eq!(support::sent_so_far(&a).await, before, "nothing was sent");
    assert!(!any_code(&mut a, predicted(Side::Asset).into_values()).await, "nothing deployed");
    assert_eq!(out.files(), Vec::<PathBuf>::new(), "no manifest or journal");
}

#[tokio::test]
async fn deploy_refuses_rpc_url_with_a_cross_chain_config_and_the_two_node_flags_without_one() {
    let (node, mut chain) = payment_node();
    let url = node.endpoint();
    let out = OutDir::new("flags");
    let before = support::sent_so_far(&chain).await;
    let cross = ["--rpc-url", &url, "--out-dir", out.path()];
    let stderr = support::refused(&deploy("cross-chain.toml", &cross), "--rpc-url (or KESSAI_RPC_URL) names one node");
    assert!(
        stderr.contains("--asset-rpc-url and the payment chain's (chain 31337) with --payment-rpc-url"),
        "{stderr}"
    );

    let single = ["--asset-rpc-url", &url, "--payment-rpc-url", &url, "--out-dir", out.path()];
    let stderr = support::refused(
        &deploy("example.toml", &single),
        "--asset-rpc-url and --payment-rpc-url (or KESSAI_ASSET_RPC_URL and KESSAI_PAYMENT_RPC_URL) name the two nodes \
         of a cross-chain deployment, but the config",
    );
    assert!(stderr.contains("example.toml has no [cross_chain] section: nothing was sent"), "{stderr}");
    assert!(stderr.contains("Give the one node with --rpc-url"), "{stderr}");

    assert_eq!(support::sent_so_far(&chain).await, before, "nothing was sent");
    let example = Config::load(&config_path("example.toml")).expect("example").plan();
    let planned = example.predicted_addresses().expect("addresses").into_values();
    assert!(!any_code(&mut chain, planned.chain(predicted(Side::Payment).into_values())).await, "nothing deployed");
    assert_eq!(out.files(), Vec::<PathBuf>::new(), "no manifest or journal");
}
