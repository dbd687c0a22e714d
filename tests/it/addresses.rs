//! Addresses typed by people, through the `kessai` binary on a spawned Anvil: a suite config, a trade
//! terms file, a scenario file and a command-line argument whose mixed-case address fails its EIP-55
//! checksum are refused with the place, the checksummed form and nothing sent; one-case addresses are
//! accepted with a warning on stderr (stdout stays one JSON document with --json); roles sharing an
//! account deploy with a warning unless the config says it is meant.

use crate::support::command as kessai;
use crate::support::refused;
use crate::support::{
    self,
    cli::{CASH, UNITS, cli_market, u},
};
use kessai_bindings::alloy::primitives::Address;
use kessai_deployer::{config, ops::Position, plan::labels};
use std::{path::PathBuf, process::Output};

const OPERATOR: &str = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266";
const REGISTRAR: &str = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
/// The registrar with one letter's case changed, as a hand copy might have it.
const REGISTRAR_MISTYPED: &str = "0x70997970c51812dc3a010c7d01b50e0d17dc79C8";
const ISSUER: &str = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC";

/// The refusal of `typed`, whose checksummed form is `meant`.
fn wrong_checksum(typed: &str, meant: &str) -> String {
    format!(
        "{typed} has a wrong EIP-55 checksum: did you mean {meant}? A mistyped digit would send to an address \
         nobody controls; copy the address again from its source"
    )
}

/// A suite config on the development accounts ([`config::MINIMAL`]) with `registrar` and `issuer` and
/// the line `top` after the salt; the registrar is on line 5, column 13.
fn config(registrar: &str, issuer: &str, top: &str) -> String {
    let accounts = config::MINIMAL.replace(REGISTRAR, registrar).replace(ISSUER, issuer);
    format!("salt = \"kessai-it-addresses\"\n{top}{accounts}")
}

/// A fresh scratch directory.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("kessai-it-addresses-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("mkdir");
    dir
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Asserts a success that printed one JSON document on stdout and returns it with stderr.
fn json_with_stderr(out: &Output) -> (serde_json::Value, String) {
    assert!(out.status.success(), "{}", stderr(out));
    let json = serde_json::from_slice(&out.stdout).expect("stdout is one JSON document, warnings go to stderr");
    (json, stderr(out))
}

#[tokio::test]
async fn deploy_refuses_a_registrar_with_a_wrong_checksum_and_sends_nothing() {
    let (node, chain) = support::anvil();
    let dir = scratch("deploy-refused");
    let (path, manifest) = (dir.join("suite.toml"), dir.join("m.json"));
    std::fs::write(&path, config(REGISTRAR_MISTYPED, ISSUER, "")).expect("write config");
    let before = support::sent_so_far(&chain).await;

    let out = kessai()
        .args(["--json", "deploy", "--config"])
        .arg(&path)
        .args(["--rpc-url", &node.endpoint(), "--out"])
        .arg(&manifest)
        .output()
        .expect("run kessai deploy");
    let err = refused(
        &out,
        &format!("line 5, column 13: accounts.registrar: {}", wrong_checksum(REGISTRAR_MISTYPED, REGISTRAR)),
    );
    assert!(err.contains(&format!("config {}: 1 problem:", path.display())), "{err}");

    assert_eq!(support::sent_so_far(&chain).await, before, "no block mined, no nonce used");
    assert!(!manifest.exists() && !dir.join("m.json.journal").exists(), "no manifest, no journal");
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn deploy_warns_of_one_case_addresses_and_shared_roles_unless_they_are_meant() {
    let (node, chain) = support::anvil();
    let dir = scratch("deploy-warned");
    let url = node.endpoint();
    let deploy = |config: &str, out: &str| {
        let path = dir.join(format!("{out}.toml"));
        std::fs::write(&path, config).expect("write config");
        kessai()
            .args(["--json", "deploy", "--config"])
            .arg(&path)
            .args(["--rpc-url", &url, "--out"])
            .arg(dir.join(out))
            .output()
            .expect("run kessai deploy")
    };

    // A lowercase registrar and an issuer that is the operator: deployed, with both warnings.
    let lower = REGISTRAR.to_lowercase();
    let shared = config(&lower, OPERATOR, "");
    let (manifest, err) = json_with_stderr(&deploy(&shared, "m.json"));
    assert!(manifest["contracts"][labels::DVP]["address"].is_string(), "{manifest}");
    assert!(err.contains("kessai::address"), "{err}");
    assert!(
        err.contains(&format!(
            "line 5, column 13: accounts.registrar: {lower} is all one case, so it carries no EIP-55 checksum"
        )) && err.contains(&format!("write it checksummed: {REGISTRAR}")),
        "{err}"
    );
    assert!(
        err.contains(&format!(
            "accounts.operator and accounts.issuer are both {OPERATOR}: one key would hold duties the suite separates"
        )),
        "{err}"
    );
    let after_first = support::sent_so_far(&chain).await;
    assert!(after_first.0 > 0, "the suite was deployed");

    // The same duties shared on purpose: deployed as a separate suite, without the shared-roles warning.
    let meant =
        config(REGISTRAR, OPERATOR, "allow_shared_roles = true\n").replace("kessai-it-addresses", "kessai-it-meant");
    let (_, err) = json_with_stderr(&deploy(&meant, "m2.json"));
    assert!(!err.contains("one key would hold duties"), "{err}");
    assert!(!err.contains("kessai::address"), "a checksummed config has nothing to warn about: {err}");
    assert!(support::sent_so_far(&chain).await.0 > after_first.0, "the second suite was deployed");
    let _ = std::fs::remove_dir_all(&dir);
}

/// The buyer's address with its last hex digit mistyped (a mixed-case address: its checksum fails).
fn mistyped(account: Address) -> (String, Address) {
    let text = account.to_string();
    let last = text.chars().last().expect("a digit");
    let other = if last == '0' { '1' } else { '0' };
    let typed = format!("{}{other}", &text[..text.len() - 1]);
    let meant = typed.to_lowercase().parse().expect("still an address");
    (typed, meant)
}

#[tokio::test]
async fn trade_create_refuses_terms_with_a_mistyped_buyer_and_sends_nothing() {
    let mut m = cli_market("addresses-terms").await;
    let (typed, meant) = mistyped(m.p.buyer);
    let (seller, agent, deadline) = (m.p.seller, m.p.agent, m.deadline);
    let terms = |buyer: &str| {
        serde_json::json!({
            "seller": seller.to_string(),
            "buyer": buyer,
            "agent": agent.to_string(),
            "units": 100,
            "amount": "1000000",
            "deadline": deadline,
        })
    };
    let path = m.dir.join("mistyped.json");
    std::fs::write(&path, terms(&typed).to_string()).expect("write terms");
    let start = Position { units: u(UNITS), units_held: u(0), cash: u(CASH), cash_held: u(0) };
    assert_eq!(m.positions().await, (start, start));
    let before = support::sent_so_far(&m.chain).await;

    let out = m.step("create", &path, "ADDR-1", &[]);
    let err = refused(&out, &wrong_checksum(&typed, &meant.to_string()));
    assert!(err.contains(&format!("invalid trade terms in {}", path.display())), "{err}");
    assert_eq!(support::sent_so_far(&m.chain).await, before, "nothing sent");
    assert_eq!(m.positions().await, (start, start), "no units held for anyone");
    assert_eq!(m.status(seller, "ADDR-1").await, 0, "no trade");

    // The same terms with the buyer in lowercase: created, the warning on stderr, JSON alone on stdout.
    let lower = m.p.buyer.to_string().to_lowercase();
    std::fs::write(&path, terms(&lower).to_string()).expect("write terms");
    let (receipt, err) = json_with_stderr(&m.step("create", &path, "ADDR-1", &[]));
    assert_eq!(receipt["status"], 1, "{receipt}");
    assert!(err.contains(&format!("{lower} is all one case")) && err.contains("kessai::address"), "{err}");
    let held = Position { units_held: u(100), ..start };
    assert_eq!(m.positions().await, (held, start));
    let _ = std::fs::remove_dir_all(&m.dir);
}

#[tokio::test]
async fn an_account_argument_with_a_wrong_checksum_is_refused_by_clap_and_sends_nothing() {
    let mut m = cli_market("addresses-args").await;
    let newcomer = kessai_deployer::anvil::dev_accounts()[9];
    let (typed, meant) = mistyped(newcomer);
    let registry = m.suite.registry;
    let record = m.suite.investor(&mut m.chain, registry, newcomer).await.expect("record");
    assert_eq!(record.status, 0, "unknown before");
    let before = support::sent_so_far(&m.chain).await;
    let register = |account: &str| {
        let mut cmd = kessai();
        cmd.args(["--json", "registry", "--rpc-url", &m.url, "--manifest"]).arg(&m.manifest).args([
            "register",
            "--account",
            account,
            "--data",
            "CUST-ADDR",
        ]);
        cmd.output().expect("run kessai registry")
    };

    let out = register(&typed);
    refused(&out, &format!("invalid value for --account: {}", wrong_checksum(&typed, &meant.to_string())));
    assert_eq!(out.status.code(), Some(2), "a usage error, from clap");
    assert_eq!(support::sent_so_far(&m.chain).await, before, "nothing sent");
    assert_eq!(m.suite.investor(&mut m.chain, registry, newcomer).await.expect("record"), record);

    // The same account in lowercase: registered, with the warning naming the argument.
    let lower = newcomer.to_string().to_lowercase();
    let (_, err) = json_with_stderr(&register(&lower));
    assert!(err.contains(&format!("--account: {lower} is all one case")), "{err}");
    assert!(m.suite.investor(&mut m.chain, registry, newcomer).await.expect("record").eligible);
    let _ = std::fs::remove_dir_all(&m.dir);
}

/// The pilot scenario with the buyer played by `address` (its `[parties.buyer]` table is on line 26,
/// so the address is on line 27, column 11).
fn pilot_with_buyer(address: &str) -> String {
    let pilot = include_str!("../../scenarios/dcjpy_pilot.toml");
    assert_eq!(pilot.lines().nth(25), Some("[parties.buyer]"), "the pilot's layout changed");
    pilot.replace("[parties.buyer]\n", &format!("[parties.buyer]\naddress = \"{address}\"\n"))
}

#[tokio::test]
async fn sim_run_refuses_a_scenario_party_with_a_wrong_checksum_at_file_line_col() {
    let (node, chain) = support::anvil();
    let dir = scratch("scenario");
    let buyer = kessai_deployer::anvil::dev_accounts()[9];
    let (typed, meant) = mistyped(buyer);
    let path = dir.join("pilot.toml");
    std::fs::write(&path, pilot_with_buyer(&typed)).expect("write scenario");
    let before = support::sent_so_far(&chain).await;

    let out = kessai().arg("sim").arg("run").arg(&path).args(["--rpc-url", &node.endpoint()]).output().expect("run");
    let err = refused(&out, &format!("{}:27:11: {}", path.display(), wrong_checksum(&typed, &meant.to_string())));
    assert!(err.contains("27 | address = "), "the line is shown: {err}");
    assert_eq!(support::sent_so_far(&chain).await, before, "nothing sent");

    // The buyer's account in lowercase: the run passes with the buyer on that account, and the
    // warning names the file, line and column.
    let lower = buyer.to_string().to_lowercase();
    std::fs::write(&path, pilot_with_buyer(&lower)).expect("write scenario");
    let out = kessai().args(["--json", "sim", "run"]).arg(&path).output().expect("run");
    let (run, err) = json_with_stderr(&out);
    assert_eq!(run["passed"], true, "{run}");
    assert!(
        err.contains(&format!("{}:27:11: parties.buyer.address: {lower} is all one case", path.display())),
        "{err}"
    );
    let parties = run["report"]["parties"].as_array().expect("parties");
    let played = parties.iter().find(|p| p["name"] == "buyer").expect("the buyer");
    let account: Address = played["address"].as_str().expect("an address").parse().expect("hex");
    assert_eq!(account, buyer, "{played}");
    let _ = std::fs::remove_dir_all(&dir);
}
