//! Deterministic, resumable deployment from a suite config with the `kessai` binary: a deployer
//! killed with SIGKILL mid-way — while a deployment, a role grant, a registry record, a call or the
//! proxy's funding transfer is in flight — is rerun and completes the suite with every step sent
//! once; a node restarted from a state saved before the last confirmed steps gets them again at the
//! same addresses; independent steps share blocks (the example deployment on 2-second blocks in a
//! third of the blocks of one step per block); the same config gives the same addresses on another
//! chain; a changed config is refused with a diff and nothing sent; a new bank only appends; the
//! CREATE2 proxy is installed where a chain lacks it.

use crate::support::{
    self,
    faults::{Faults, fault_proxy},
};
use kessai_bindings::alloy::{
    primitives::{Address, B256, keccak256},
    providers::Provider,
};
use kessai_deployer::{
    anvil::{self, AnvilInstance, AnvilOptions},
    chain::Chain,
    config::{self, Config},
    journal::{self, Entry, JournalOptions},
    manifest::Manifest,
    plan::{DETERMINISTIC_DEPLOYER, DETERMINISTIC_DEPLOYER_CODE, DETERMINISTIC_DEPLOYER_SIGNER, Plan, Step},
    rpc::RpcChain,
    verify,
};
use std::{
    collections::{BTreeMap, BTreeSet},
    path::PathBuf,
    process::{Command, Output, Stdio},
    time::{Duration, Instant},
};

/// A bond suite on the development accounts ([`config::MINIMAL`] with the security `security_name`),
/// with dates far enough ahead for any chain clock.
fn config_text(security_name: &str, second_bank: bool) -> String {
    let minimal_security = "name = \"Kessai Green Bond 2031\"\nsymbol = \"KGB31\"";
    assert!(config::MINIMAL.contains(minimal_security), "the minimal config's security: {}", config::MINIMAL);
    let suite = config::MINIMAL.replace(minimal_security, &format!("name = \"{security_name}\"\nsymbol = \"KGB45\""));
    let mut text = format!(
        r#"salt = "kessai-it"
{suite}
[instrument]
kind = "bond"
paying_agent = "0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65"
face_value = 1_000_000
coupon_rate_bps = 150
coupons_per_year = 2
issue_date = 2041-04-01
coupon_dates = [2041-10-01, 2042-04-01, 2042-10-01, 2043-04-01]
record_offset_days = 7
"#
    );
    if second_bank {
        text.push_str(
            r#"
[[banks]]
label = "second"
name = "DCJPY (Second Bank)"
symbol = "DCJPY2"
bank = "0x23618e81E3f5cdF7f54C3d65f7FBc0aBf5B21E8f"
"#,
        );
    }
    text
}

/// A fresh directory holding `suite.toml`; the manifest goes to `m.json`, the journal to `m.json.journal`.
struct Workspace {
    dir: PathBuf,
}

impl Workspace {
    fn new(name: &str, config: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("kessai-it-deploy-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("mkdir");
        let w = Self { dir };
        w.set_config(config);
        w
    }

    fn set_config(&self, text: &str) {
        std::fs::write(self.config(), text).expect("write config");
    }

    fn config(&self) -> PathBuf {
        self.dir.join("suite.toml")
    }

    fn manifest(&self) -> PathBuf {
        self.dir.join("m.json")
    }

    fn journal(&self) -> PathBuf {
        self.dir.join("m.json.journal")
    }

    fn plan(&self) -> Plan {
        Config::load(&self.config()).expect("config").plan()
    }

    fn deploy(&self, url: &str) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_kessai"));
        cmd.env_remove("KESSAI_KEYS")
            .args(["deploy", "--config"])
            .arg(self.config())
            .args(["--rpc-url", url, "--out"])
            .arg(self.manifest());
        cmd
    }

    fn run(&self, url: &str) -> Output {
        self.deploy(url).output().expect("run kessai deploy")
    }

    fn entries(&self) -> Vec<Entry> {
        let text = std::fs::read_to_string(self.journal()).unwrap_or_default();
        // The deployer may be mid-write when a test peeks: only complete lines count.
        text.split_inclusive('\n')
            .filter(|l| l.ends_with('\n'))
            .map(|l| serde_json::from_str(l).expect("a journal entry"))
            .collect()
    }
}

impl Drop for Workspace {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn succeeded(out: &Output) -> String {
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(out.status.success(), "deploy failed: {}\n{stdout}", String::from_utf8_lossy(&out.stderr));
    stdout
}

fn spawn(options: AnvilOptions) -> (AnvilInstance, RpcChain) {
    let node = AnvilInstance::spawn(&options).unwrap_or_else(|e| panic!("this test needs anvil: {e}"));
    let chain = RpcChain::connect(&node.endpoint(), anvil::dev_signers()).expect("connect");
    (node, chain)
}

/// The mined transaction count of each of `accounts`.
async fn nonces(chain: &RpcChain, accounts: &BTreeSet<Address>) -> BTreeMap<Address, u64> {
    let mut out = BTreeMap::new();
    for a in accounts {
        out.insert(*a, chain.provider().get_transaction_count(*a).await.expect("nonce"));
    }
    out
}

/// How many steps of `plan` each account sends.
fn steps_by_sender(plan: &Plan) -> BTreeMap<Address, u64> {
    let mut out = BTreeMap::new();
    for s in &plan.steps {
        *out.entry(s.sender()).or_default() += 1;
    }
    out
}

/// The manifest matches the plan's predicted addresses and the chain: code of the right artifact at
/// every address, with the recorded code hash. Returns the manifest.
async fn assert_manifest_matches(w: &Workspace, chain: &mut RpcChain) -> Manifest {
    let plan = w.plan();
    let manifest = Manifest::read(&w.manifest()).expect("manifest");
    let predicted = plan.predicted_addresses().expect("predicted");
    let deployed: BTreeMap<String, Address> =
        manifest.deployment.contracts.iter().map(|(l, c)| (l.clone(), c.address)).collect();
    assert_eq!(deployed, predicted, "every contract is at its predicted CREATE2 address");
    for (label, c) in &manifest.deployment.contracts {
        let code = chain.code(c.address).await.expect("code");
        assert!(verify::matches_artifact(&c.artifact, &code).expect("verify"), "{label} has its artifact's code");
        assert_eq!(keccak256(&code), c.code_hash, "{label}: the manifest's code hash is the chain's");
    }
    assert_eq!(manifest.salt, plan.salt);
    assert_eq!(manifest.config_hash, Some(keccak256(std::fs::read(w.config()).expect("config"))));
    assert_eq!(manifest.journal.as_deref(), Some(w.journal().as_path()));
    assert_eq!(manifest.deterministic_deployer, Some(DETERMINISTIC_DEPLOYER));
    assert_eq!((manifest.solc.as_str(), manifest.evm_version.as_str()), ("0.8.30", "paris"));
    manifest
}

fn confirmed(entries: &[Entry]) -> Vec<(usize, B256)> {
    entries
        .iter()
        .filter_map(|e| match e {
            Entry::Confirmed { step, tx_hash, .. } => Some((*step, *tx_hash)),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn a_deployer_killed_mid_way_resumes_and_deploys_every_contract_once() {
    // One block a second: each step waits for its block, so the kill lands mid-deployment.
    let (node, mut chain) = spawn(AnvilOptions { block_time: Some(1), ..Default::default() });
    let url = node.endpoint();
    let w = Workspace::new("sigkill", &config_text("Kessai Green Bond 2045", false));
    let plan = w.plan();
    let total = plan.steps.len();
    let senders: BTreeSet<Address> = plan.steps.iter().map(Step::sender).collect();

    let started = Instant::now();
    let mut child = w.deploy(&url).stdout(Stdio::null()).stderr(Stdio::null()).spawn().expect("start kessai deploy");
    // Kill it right after it journaled a sending once five steps are confirmed: a wave is in flight.
    loop {
        assert!(started.elapsed() < Duration::from_secs(120), "the deployment made no progress");
        let entries = w.entries();
        if confirmed(&entries).len() >= 5 && matches!(entries.last(), Some(Entry::Sending { .. })) {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(300));
    child.kill().expect("SIGKILL");
    child.wait().expect("reap");
    let before = w.entries();
    let done = confirmed(&before).len();
    assert!((5..total).contains(&done), "killed with {done} of {total} steps confirmed");
    assert!(!w.manifest().exists(), "the killed run wrote no manifest");

    let out = w.deploy(&url).arg("-v").output().expect("rerun kessai deploy");
    let elapsed = started.elapsed();
    let stdout = succeeded(&out);
    assert!(stdout.contains("done by an earlier run") && stdout.contains("nothing was sent twice"), "{stdout}");
    let log = String::from_utf8_lossy(&out.stderr);
    eprintln!("killed at {done}/{total} confirmed; whole deployment {elapsed:?}\n{stdout}\n{log}");

    // The suite is complete, each contract at its predicted address with its artifact's code.
    let manifest = assert_manifest_matches(&w, &mut chain).await;
    assert_eq!(manifest.deployment.contracts.len(), 7);
    assert_eq!(manifest.deployment.steps.len(), total - 7);

    // Every step was sent exactly once: each sender's nonce is its number of steps.
    assert_eq!(nonces(&chain, &senders).await, steps_by_sender(&plan), "no transaction beyond the plan's");
    let entries = w.entries();
    let mut steps: Vec<usize> = confirmed(&entries).iter().map(|(s, _)| *s).collect();
    steps.sort_unstable();
    assert_eq!(steps, (0..total).collect::<Vec<_>>(), "each step confirmed once");
    let sent = entries.iter().filter(|e| matches!(e, Entry::Sending { .. })).count();
    assert_eq!(sent, total, "the step in flight at the kill was tracked to its receipt, not sent again");
    let hashes: BTreeSet<B256> = confirmed(&entries).iter().map(|(_, h)| *h).collect();
    assert_eq!(hashes.len(), total, "distinct transactions");
    for c in manifest.deployment.contracts.values() {
        assert!(hashes.contains(&c.tx_hash), "the manifest records the journaled transactions");
    }
    let runs = entries.iter().filter(|e| matches!(e, Entry::Run { .. })).count();
    assert_eq!(runs, 2);
    assert!(matches!(entries.last(), Some(Entry::Complete { .. })));

    // Running it again finds everything done and sends nothing.
    let stdout = succeeded(&w.run(&url));
    assert!(stdout.contains(&format!("0 sent now, {total} done by an earlier run")), "{stdout}");
    assert_eq!(nonces(&chain, &senders).await, steps_by_sender(&plan));

    // A changed config is refused step by step, and nothing is sent or journaled.
    let journal = std::fs::read(w.journal()).expect("journal");
    w.set_config(&config_text("Kessai Green Bond 2046", false));
    let out = w.run(&url);
    assert!(!out.status.success(), "a changed config must be refused");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("differs from the deployment recorded in"), "{stderr}");
    assert!(stderr.contains("step 2 (deploy SecurityToken as security, confirmed):"), "{stderr}");
    assert!(stderr.contains("journal: deploy SecurityToken as security(\"Kessai Green Bond 2045\""), "{stderr}");
    assert!(stderr.contains("now:     deploy SecurityToken as security(\"Kessai Green Bond 2046\""), "{stderr}");
    assert!(stderr.contains("deploy StraightBond as instrument"), "the bond's address moves with the token: {stderr}");
    assert!(!stderr.contains("step 0 "), "unchanged steps are not listed: {stderr}");
    assert_eq!(nonces(&chain, &senders).await, steps_by_sender(&plan), "nothing was sent");
    assert_eq!(std::fs::read(w.journal()).expect("journal"), journal, "nothing was journaled");
}

/// The kinds of step a deployer can be killed in the middle of.
#[derive(Clone, Copy, Debug)]
enum InFlight {
    /// A role grant (its re-send would grant twice: a duplicate transaction).
    Grant,
    /// A registry record (`setFacility`).
    Record,
    /// A plain call (`configureMinter`: a re-send would reset the minter's allowance).
    Call,
    /// The transfer that funds the deterministic deployment proxy's signer, on a chain without it.
    Funding,
}

/// `kessai deploy` through a proxy that forwards its `nth` `eth_sendRawTransaction` to the node
/// (which mines it at once) and holds the connection without an answer: the deployer, waiting for the
/// answer, is SIGKILLed once the journal records that transaction and the node has mined it. The
/// journal's entries at the kill are returned.
async fn kill_at_send(w: &Workspace, node: &AnvilInstance, chain: &RpcChain, nth: usize) -> Vec<Entry> {
    let faults = Faults { stall_send_every: Some(nth), ..Faults::default() };
    let proxy = fault_proxy(support::socket_of(&node.endpoint()), faults).await;
    let mut child =
        w.deploy(&proxy.url).stdout(Stdio::null()).stderr(Stdio::null()).spawn().expect("start kessai deploy");
    let started = Instant::now();
    loop {
        assert!(started.elapsed() < Duration::from_secs(50), "send {nth} was never made");
        assert!(child.try_wait().expect("poll").is_none(), "the deployer ended before send {nth}");
        if proxy.counts.stalled.load(std::sync::atomic::Ordering::SeqCst) > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // The stalled send reached the node, and its hash was journaled before it was sent.
    let entries = loop {
        let entries = w.entries();
        let last = entries.iter().rev().find_map(|e| match e {
            Entry::Sending { tx_hash, .. } => *tx_hash,
            Entry::Funding { tx_hash, .. } => Some(*tx_hash),
            _ => None,
        });
        if let Some(hash) = last
            && chain.provider().get_transaction_receipt(hash).await.expect("receipt").is_some()
        {
            break entries;
        }
        assert!(started.elapsed() < Duration::from_secs(50), "the stalled send is not mined");
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    child.kill().expect("SIGKILL");
    child.wait().expect("reap");
    entries
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deployer_killed_while_a_grant_a_record_a_call_or_a_funding_is_in_flight_sends_nothing_twice() {
    let config = config_text("Kessai Green Bond 2045", false);
    let plan = Config::parse(&config, "suite.toml").expect("config").plan();
    // The order a fresh run sends the steps in (wave by wave).
    let order: Vec<usize> = plan.waves().into_iter().flatten().collect();
    let nth_send = |kind: fn(&Step) -> bool| order.iter().position(|i| kind(&plan.steps[*i])).expect("such a step") + 1;
    for kind in [InFlight::Grant, InFlight::Record, InFlight::Call, InFlight::Funding] {
        let started = Instant::now();
        let (options, nth) = match kind {
            InFlight::Grant => (AnvilOptions::default(), nth_send(|s| matches!(s, Step::GrantRole { .. }))),
            InFlight::Record => (AnvilOptions::default(), nth_send(|s| matches!(s, Step::SetFacility { .. }))),
            InFlight::Call => (AnvilOptions::default(), nth_send(|s| matches!(s, Step::Call { .. }))),
            // The funding transfer is the run's first send, before the proxy's presigned transaction.
            InFlight::Funding => (AnvilOptions { create2_deployer: false, ..Default::default() }, 1),
        };
        let (node, mut chain) = spawn(options);
        let w = Workspace::new(&format!("inflight-{kind:?}"), &config);
        let at_kill = kill_at_send(&w, &node, &chain, nth).await;
        let sent_at_kill: Vec<usize> = at_kill
            .iter()
            .filter_map(|e| match e {
                Entry::Sending { step, .. } => Some(*step),
                _ => None,
            })
            .collect();
        match kind {
            InFlight::Funding => {
                assert!(sent_at_kill.is_empty(), "{kind:?}: killed before any step");
                assert!(at_kill.iter().any(|e| matches!(e, Entry::Funding { .. })), "the funding is journaled");
            }
            _ => {
                let step = order[nth - 1];
                assert_eq!(
                    sent_at_kill.last(),
                    Some(&step),
                    "{kind:?}: killed with {} in flight",
                    plan.steps[step].describe()
                );
                let done = confirmed(&at_kill).iter().any(|(s, _)| *s == step);
                assert!(!done, "{kind:?}: the step in flight is not confirmed in the journal");
            }
        }
        assert!(!w.manifest().exists(), "the killed run wrote no manifest");

        let stdout = succeeded(&w.run(&node.endpoint()));
        assert_manifest_matches(&w, &mut chain).await;
        // Every step (and the funding) was sent once: each sender's nonce is its number of steps.
        let mut expected = steps_by_sender(&plan);
        if let InFlight::Funding = kind {
            assert!(stdout.contains("deterministic deployment proxy installed in"), "{stdout}");
            *expected.entry(plan.steps[0].sender()).or_default() += 1;
            let signer = chain.provider().get_transaction_count(DETERMINISTIC_DEPLOYER_SIGNER).await.expect("nonce");
            assert_eq!(signer, 1, "the proxy installed once");
            let fundings = w.entries().iter().filter(|e| matches!(e, Entry::Funding { .. })).count();
            assert_eq!(fundings, 1, "the funding in flight at the kill was waited for, not signed again");
        } else {
            assert!(stdout.contains("done by an earlier run") && stdout.contains("nothing was sent twice"), "{stdout}");
        }
        let senders = expected.keys().copied().collect();
        assert_eq!(nonces(&chain, &senders).await, expected, "{kind:?}: no transaction beyond the plan's");
        let entries = w.entries();
        let mut steps: Vec<usize> = confirmed(&entries).iter().map(|(s, _)| *s).collect();
        steps.sort_unstable();
        assert_eq!(steps, (0..plan.steps.len()).collect::<Vec<_>>(), "{kind:?}: each step confirmed once");
        for step in sent_at_kill {
            let sends = entries.iter().filter(|e| matches!(e, Entry::Sending { step: s, .. } if *s == step)).count();
            assert_eq!(sends, 1, "{kind:?}: step {step}, in flight at the kill, was tracked, not signed again");
        }
        eprintln!("{kind:?}: killed at send {nth}, resumed, in {:?}", started.elapsed());
    }
}

/// `anvil_dumpState` as `--state`/`--state-interval` save it, loaded into a new node: the node as
/// restarted from a state saved at that point.
async fn restart_from(saved: &serde_json::Value) -> (AnvilInstance, RpcChain) {
    let (node, chain) = spawn(AnvilOptions::default());
    let loaded: bool =
        chain.provider().raw_request("anvil_loadState".into(), (saved.clone(),)).await.expect("anvil_loadState");
    assert!(loaded, "the saved state loads");
    (node, chain)
}

#[tokio::test]
async fn a_node_restarted_behind_the_last_confirmed_steps_gets_them_again_at_the_same_addresses() {
    let (node, chain) = spawn(AnvilOptions::default());
    let w = Workspace::new("restarted", &config_text("Kessai Green Bond 2045", true));
    let plan = w.plan();
    let total = plan.steps.len();
    // The first ten steps, then the node saves its state, then the rest: every step confirmed.
    let kept = 10;
    let first = Plan { steps: plan.steps[..kept].to_vec(), salt: plan.salt.clone() };
    let options = JournalOptions { path: w.journal(), config_hash: None, fresh: false };
    let mut first_chain = chain.clone();
    journal::deploy(&mut first_chain, &first, &options).await.expect("the first ten steps");
    let saved: serde_json::Value =
        chain.provider().raw_request("anvil_dumpState".into(), ()).await.expect("anvil_dumpState");
    let saved_head = chain.provider().get_block_number().await.expect("head");
    succeeded(&w.run(&node.endpoint()));
    assert_eq!(confirmed(&w.entries()).len(), total, "the journal records every step as confirmed");
    drop(node);

    let (node, mut chain) = restart_from(&saved).await;
    assert_eq!(chain.provider().get_block_number().await.expect("head"), saved_head, "restarted behind");
    let out = w.deploy(&node.endpoint()).arg("-v").output().expect("rerun kessai deploy");
    let stdout = succeeded(&out);
    let redone: Vec<&str> = stdout.lines().filter(|l| l.ends_with("doing the step again")).collect();
    assert_eq!(redone.len(), total - kept, "each lost step named once:\n{stdout}");
    assert!(
        redone[0].starts_with("step 10 (deploy InvestorRegistry as bank_registry) was confirmed in transaction ")
            && redone[0].contains("there is no code at"),
        "{stdout}"
    );
    let grant = redone.iter().find(|l| l.contains("grant PAUSER_ROLE on deposit")).expect("a lost grant");
    assert!(grant.contains("the chain's head is block"), "{grant}");
    assert!(stdout.contains(&format!("{} sent now, {kept} done by an earlier run", total - kept)), "{stdout}");

    // The suite is complete at the addresses the config gives, every step sent once on this chain.
    assert_manifest_matches(&w, &mut chain).await;
    let senders = plan.steps.iter().map(Step::sender).collect();
    assert_eq!(nonces(&chain, &senders).await, steps_by_sender(&plan), "no transaction beyond the plan's");
    let entries = w.entries();
    let lost: Vec<usize> = entries
        .iter()
        .filter_map(|e| match e {
            Entry::Lost { step, .. } => Some(*step),
            _ => None,
        })
        .collect();
    assert_eq!(lost, (kept..total).collect::<Vec<_>>(), "the journal records what the chain lost");

    // Once more: everything is there, nothing is sent.
    let stdout = succeeded(&w.run(&node.endpoint()));
    assert!(stdout.contains(&format!("0 sent now, {total} done by an earlier run")), "{stdout}");
    assert_eq!(nonces(&chain, &senders).await, steps_by_sender(&plan));
}

#[tokio::test]
async fn the_example_deployment_on_two_second_blocks_takes_a_third_of_the_blocks_of_one_step_per_block() {
    let (node, mut chain) = spawn(AnvilOptions { block_time: Some(2), ..Default::default() });
    let example =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/deployments/example.toml")).expect("example");
    let w = Workspace::new("example", &example);
    let plan = w.plan();
    let started = Instant::now();
    succeeded(&w.run(&node.endpoint()));
    let elapsed = started.elapsed();
    assert_manifest_matches(&w, &mut chain).await;
    let senders = plan.steps.iter().map(Step::sender).collect();
    assert_eq!(nonces(&chain, &senders).await, steps_by_sender(&plan), "each step sent once");
    let blocks: BTreeSet<u64> = w
        .entries()
        .iter()
        .filter_map(|e| match e {
            Entry::Confirmed { block, .. } => Some(*block),
            _ => None,
        })
        .collect();
    let (first, last) = (blocks.first().copied().expect("blocks"), blocks.last().copied().expect("blocks"));
    let span = last - first + 1;
    eprintln!("{} steps in {} blocks ({span} from first to last) in {elapsed:?}", plan.steps.len(), blocks.len());
    assert_eq!(plan.steps.len(), 32);
    assert!(span * 3 <= 32, "{} steps took blocks {first}..={last}", plan.steps.len());
}

#[tokio::test]
async fn the_same_config_gives_the_same_addresses_on_another_chain_and_a_new_bank_only_appends() {
    let (node_a, mut chain_a) = spawn(AnvilOptions::default());
    let (node_b, mut chain_b) = spawn(AnvilOptions { chain_id: 4_242, ..Default::default() });
    let config = config_text("Kessai Green Bond 2045", false);
    let (wa, wb) = (Workspace::new("chain-a", &config), Workspace::new("chain-b", &config));
    let started = Instant::now();
    succeeded(&wa.run(&node_a.endpoint()));
    eprintln!("deployment on an automining anvil: {:?}", started.elapsed());
    succeeded(&wb.run(&node_b.endpoint()));
    let (a, b) = (assert_manifest_matches(&wa, &mut chain_a).await, assert_manifest_matches(&wb, &mut chain_b).await);
    assert_eq!((a.deployment.chain_id, b.deployment.chain_id), (31_337, 4_242));
    let addresses =
        |m: &Manifest| m.deployment.contracts.iter().map(|(l, c)| (l.clone(), c.address)).collect::<Vec<_>>();
    assert_eq!(addresses(&a), addresses(&b), "same config, same addresses on both chains");

    // A second bank appended to the config: only its steps are sent.
    let old = wb.plan();
    wb.set_config(&config_text("Kessai Green Bond 2045", true));
    let new = wb.plan();
    assert_eq!(new.steps[..old.steps.len()], old.steps[..], "a bank appends steps");
    let senders: BTreeSet<Address> = new.steps.iter().map(Step::sender).collect();
    let before = nonces(&chain_b, &senders).await;
    let stdout = succeeded(&wb.run(&node_b.endpoint()));
    let added = new.steps.len() - old.steps.len();
    assert!(stdout.contains(&format!("{added} sent now, {} done by an earlier run", old.steps.len())), "{stdout}");
    let after = nonces(&chain_b, &senders).await;
    let second_bank: Address = "0x23618e81E3f5cdF7f54C3d65f7FBc0aBf5B21E8f".parse().expect("address");
    for (who, n) in &after {
        let expected =
            before.get(who).copied().unwrap_or_default() + if *who == second_bank { added as u64 } else { 0 };
        assert_eq!(*n, expected, "{who} sent only the new bank's steps");
    }
    let m = assert_manifest_matches(&wb, &mut chain_b).await;
    assert!(m.deployment.contracts.contains_key("deposit_second") && m.deployment.contracts.len() == 9);
    assert_eq!(
        addresses(&m).iter().filter(|(l, _)| !l.ends_with("second")).cloned().collect::<Vec<_>>(),
        addresses(&a)
    );
}

#[tokio::test]
async fn the_deployer_installs_the_create2_proxy_where_a_chain_lacks_it() {
    let (node, mut chain) = spawn(AnvilOptions { create2_deployer: false, ..Default::default() });
    assert!(chain.code(DETERMINISTIC_DEPLOYER).await.expect("code").is_empty(), "no proxy at genesis");
    let w = Workspace::new("install", &config_text("Kessai Green Bond 2045", false));
    let stdout = succeeded(&w.run(&node.endpoint()));
    assert!(stdout.contains("deterministic deployment proxy installed in"), "{stdout}");
    assert_eq!(chain.code(DETERMINISTIC_DEPLOYER).await.expect("code").as_ref(), DETERMINISTIC_DEPLOYER_CODE);
    assert_manifest_matches(&w, &mut chain).await;

    // The proxy's signer used its one transaction; the operator paid for it with one transfer.
    let plan = w.plan();
    let operator = plan.steps[0].sender();
    let mut expected = steps_by_sender(&plan);
    *expected.entry(operator).or_default() += 1;
    let senders = expected.keys().copied().collect();
    assert_eq!(nonces(&chain, &senders).await, expected);
    let signer = chain.provider().get_transaction_count(DETERMINISTIC_DEPLOYER_SIGNER).await.expect("nonce");
    assert_eq!(signer, 1);
    let installed = w.entries().iter().any(|e| matches!(e, Entry::Deployer { .. }));
    assert!(installed, "the journal records the proxy");
}

/// Anvil's genesis proxy is the one the deployer installs and the in-process engine has.
#[tokio::test]
async fn anvil_revm_and_the_deployer_agree_on_the_create2_proxy() {
    let (_node, mut chain) = crate::support::anvil();
    assert_eq!(chain.code(DETERMINISTIC_DEPLOYER).await.expect("code").as_ref(), DETERMINISTIC_DEPLOYER_CODE);
    let mut revm = crate::support::revm();
    assert_eq!(revm.code(DETERMINISTIC_DEPLOYER).await.expect("code").as_ref(), DETERMINISTIC_DEPLOYER_CODE);
}

#[tokio::test]
async fn hardhat_an_independent_evm_without_the_proxy_gets_the_same_addresses() {
    use kessai_deployer::hardhat::{HardhatInstance, HardhatOptions};
    let node =
        HardhatInstance::spawn(&HardhatOptions::default()).unwrap_or_else(|e| panic!("this test needs hardhat: {e}"));
    let mut chain = RpcChain::connect(&node.endpoint(), anvil::dev_signers()).expect("connect");
    let w = Workspace::new("hardhat", &config_text("Kessai Green Bond 2045", true));
    let stdout = succeeded(&w.run(&node.endpoint()));
    assert!(stdout.contains("deterministic deployment proxy installed in"), "{stdout}");
    // The predicted addresses do not depend on the chain: Anvil's deployments above have them too.
    assert_manifest_matches(&w, &mut chain).await;
}
