//! Scenario files: every example replays on the in-process engine and on a spawned Anvil with
//! identical results (per-step success or error, gas, events, positions, final state) and meets all
//! of its expectations; malformed files are refused with line and column; `kessai sim run` prints
//! outcomes and fails when an expectation does not hold.

use crate::support;
use crate::support::command as kessai;
use kessai_deployer::anvil::{self, AnvilOptions};
use kessai_sim::{
    RevmChain, RevmOptions,
    scenario::{
        self, RunReport, ScenarioError,
        run::{self, StepResult},
    },
};
use std::path::PathBuf;

fn example(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scenarios").join(name)
}

fn revm() -> RevmChain {
    RevmChain::new(&RevmOptions::default(), &anvil::dev_accounts())
}

/// Replays `file` on both engines at their defaults (Cancun, chain 31337).
async fn replays_identically(file: &str) -> RunReport {
    support::replays_identically(file, &RevmOptions::default(), &AnvilOptions::default()).await
}

#[tokio::test]
async fn dcjpy_pilot_replays_identically_on_revm_and_anvil() {
    let report = replays_identically("dcjpy_pilot.toml").await;
    let settle = report.steps.iter().find(|s| s.kind == "settle_with_payment").expect("the settlement step");
    assert_eq!(settle.transactions, 1, "steps 4-6 are one transaction");
    let names: Vec<&str> = settle.events.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names, ["TradePaid", "TradeApproved", "Transfer", "Transfer", "TradeSettled"]);
    assert!(settle.gas_used > 0);
    let t1 = &report.final_state.trades[0];
    assert_eq!((t1.0.as_str(), t1.1.name()), ("t1", "settled"));
}

#[tokio::test]
async fn municipal_bond_replays_identically_on_revm_and_anvil() {
    let report = replays_identically("municipal_bond.toml").await;
    assert_eq!(report.final_state.units_supply.to::<u64>(), 0, "every unit redeemed");
    let kinds: Vec<&str> = report.steps.iter().map(|s| s.kind.as_str()).collect();
    for kind in ["offer", "batch", "add_programme", "claim_benefit", "payment_round", "advance"] {
        assert!(kinds.contains(&kind), "the bond scenario exercises {kind}");
    }
}

#[tokio::test]
async fn failures_replay_identically_on_revm_and_anvil() {
    let report = replays_identically("failures.toml").await;
    let errors: Vec<&str> = report.steps.iter().filter_map(|s| s.result.error()).collect();
    assert_eq!(
        errors,
        [
            "TokenTransferRestricted",
            "TokenInsufficientFreeBalance",
            "DvPTradeNotExpired",
            "DvPTradeExpired",
            "DvPTradeExists",
            "DvPInvalidSignature",
            "DvPInvalidStatus",
            "DvPTradeNotPaid",
        ]
    );
    for step in report.steps.iter().filter(|s| s.result != StepResult::Ok) {
        assert_eq!((step.gas_used, step.transactions), (0, 0), "a refused step mines nothing");
        assert!(step.checks.iter().any(|c| c.expected == "a failed step moves nothing" && c.passed));
    }
}

#[tokio::test]
async fn enforcement_replays_identically_on_revm_and_anvil() {
    let report = replays_identically("enforcement.toml").await;
    let kinds: Vec<&str> = report.steps.iter().map(|s| s.kind.as_str()).collect();
    for kind in ["freeze", "unfreeze", "forced_transfer", "recover_wallet", "pause", "resume"] {
        assert!(kinds.contains(&kind), "the enforcement scenario exercises {kind}");
    }
    let errors: Vec<&str> = report.steps.iter().filter_map(|s| s.result.error()).collect();
    assert_eq!(
        errors,
        [
            "TokenTransferRestricted",
            "TokenTransferRestricted",
            "TokenInsufficientFrozen",
            "TokenForcedTransferToSelf",
            "TokenUnitsHeld",
            "TokenRecoveryInvalid",
            "TokenTransferRestricted",
        ]
    );
    let supply = report.final_state.units_supply.to::<u64>();
    assert_eq!(supply, 1_500, "enforcement moves units, it never creates or destroys them");
}

/// Approval mode on both engines: every expectation holds on each (the request's expiry comes from
/// the block time, which a node takes from its wall clock, so the two reports are not compared event
/// by event).
#[tokio::test]
async fn approval_mode_requests_are_decided_by_the_transfer_agent_on_both_engines() {
    let scenario = scenario::load(example("approvals.toml")).expect("parses");
    let on_revm = run::run(&mut revm(), &scenario, &anvil::dev_signers(), |_| {}).await.expect("replay on revm");
    let node = kessai_deployer::anvil::AnvilInstance::spawn(&AnvilOptions::default()).expect("anvil");
    let mut rpc = kessai_deployer::rpc::RpcChain::connect(&node.endpoint(), anvil::dev_signers()).expect("connect");
    kessai_deployer::journal::ensure_deterministic_deployer(&mut rpc, anvil::dev_accounts()[0]).await.expect("proxy");
    let on_anvil = run::run(&mut rpc, &scenario, &anvil::dev_signers(), |_| {}).await.expect("replay on anvil");
    for report in [&on_revm, &on_anvil] {
        assert!(
            report.passed(),
            "{:?}",
            report.steps.iter().flat_map(|s| &s.checks).filter(|c| !c.passed).collect::<Vec<_>>()
        );
        let kinds: Vec<&str> = report.steps.iter().map(|s| s.kind.as_str()).collect();
        for kind in ["request_transfer", "approve_transfer", "reject_transfer"] {
            assert!(kinds.contains(&kind), "the approvals scenario exercises {kind}");
        }
        let errors: Vec<&str> = report.steps.iter().filter_map(|s| s.result.error()).collect();
        assert_eq!(errors, ["ApprovalRequestNotPending"]);
    }
}

#[tokio::test]
async fn a_failed_expectation_is_reported_not_raised() {
    let src = std::fs::read_to_string(example("dcjpy_pilot.toml")).expect("read");
    let wrong = src.replace(
        "expect.balances.buyer = { units = 100, cash = 0 }",
        "expect.balances.buyer = { units = 99, cash = 0 }",
    );
    assert_ne!(wrong, src, "the pilot states the buyer's units after settlement");
    let scenario = scenario::parse::parse(&wrong).expect("parses");
    let report = run::run(&mut revm(), &scenario, &anvil::dev_signers(), |_| {}).await.expect("replay on revm");
    assert!(!report.passed());
    let failed: Vec<_> = report.steps.iter().flat_map(|s| &s.checks).filter(|c| !c.passed).collect();
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert_eq!(failed[0].expected, "buyer: units 99, cash 0");
    assert_eq!(failed[0].found.as_deref(), Some("units 100"));
    assert_eq!(report.totals().failed_checks, 1);
}

#[tokio::test]
async fn a_scenario_with_more_parties_than_keys_is_refused_before_deploying() {
    let mut src = String::from("[scenario]\nname = \"crowd\"\n");
    for i in 0..6 {
        src.push_str(&format!("[parties.p{i}]\n"));
    }
    let scenario = scenario::parse::parse(&src).expect("parses");
    let mut chain = revm();
    let err = run::run(&mut chain, &scenario, &anvil::dev_signers(), |_| {}).await.expect_err("11 parties, 10 keys");
    assert!(matches!(err, ScenarioError::Setup(_)), "{err:?}");
    assert!(err.to_string().contains("11 parties"), "{err}");
    assert!(err.to_string().contains("only 10 keys"), "{err}");
}

#[tokio::test]
async fn a_start_in_the_past_is_refused() {
    let src = std::fs::read_to_string(example("dcjpy_pilot.toml")).expect("read");
    let scenario =
        scenario::parse::parse(&src.replace("2031-04-01T00:00:00Z", "2001-04-01T00:00:00Z")).expect("parses");
    let mut chain = revm();
    let err = run::run(&mut chain, &scenario, &anvil::dev_signers(), |_| {}).await.expect_err("start in the past");
    assert!(err.to_string().contains("already at"), "{err}");
}

/// Each malformed file: the replacement made in the pilot, and the line, column and words of the error.
#[test]
fn malformed_scenario_files_are_refused_with_line_and_column() {
    let src = std::fs::read_to_string(example("dcjpy_pilot.toml")).expect("read");
    let position = |needle: &str| {
        let at = src.find(needle).unwrap_or_else(|| panic!("the pilot contains {needle:?}"));
        let line = src[..at].matches('\n').count() + 1;
        let column = at - src[..at].rfind('\n').map_or(0, |i| i + 1) + 1;
        (line, column)
    };
    let cases = [
        // (what, original text, replacement, offset of the error within the replacement, message)
        ("unknown party", "buyer = \"buyer\"", "buyer = \"buyr\"", 8, "unknown party `buyr` (did you mean `buyer`?)"),
        ("bad amount", "amount = 1_000_000\ndeadline", "amount = -1_000_000\ndeadline", 9, "bad amount -1000000"),
        ("bad amount text", "units = 100\n", "units = \"1OO\"\n", 8, "bad amount \"1OO\""),
        ("wrong type", "deadline = \"2d\"", "deadline = true", 11, "invalid type: boolean `true`, expected a duration"),
        (
            "unknown step",
            "do = \"withdraw\"",
            "do = \"withdrew\"",
            5,
            "unknown step `withdrew` (did you mean `withdraw`?)",
        ),
        ("unknown field", "reference = \"DEP-0001\"", "referense = \"DEP-0001\"", 0, "unknown field `referense`"),
    ];
    for (what, original, replacement, offset, message) in cases {
        let (line, column) = position(original);
        let malformed = src.replacen(original, replacement, 1);
        let err = scenario::parse::parse(&malformed).expect_err(what);
        assert_eq!((err.line, err.column), (line, column + offset), "{what}: {err}");
        assert!(err.message.contains(message), "{what}: {err}");
        assert!(err.message.contains("expected"), "{what} says what was expected: {err}");
    }
    // A missing field is reported at its `[[step]]` table.
    let original = "trade = \"t1\"\nseller = \"seller\"\nbuyer = \"buyer\"\nagent = \"dcp\"\nunits = 100\n";
    let malformed =
        src.replacen(original, "trade = \"t1\"\nseller = \"seller\"\nbuyer = \"buyer\"\nagent = \"dcp\"\n", 1);
    let err = scenario::parse::parse(&malformed).expect_err("missing field");
    let (table_line, _) = position("[[step]]\ndo = \"create_trade\"");
    assert_eq!((err.line, err.column), (table_line, 1), "{err}");
    assert!(err.message.contains("missing field `units`"), "{err}");
}

#[test]
fn sim_run_prints_each_step_and_a_summary() {
    let out = kessai().args(["sim", "run"]).arg(example("dcjpy_pilot.toml")).output().expect("run kessai sim run");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("engine: in-process revm"), "{stdout}");
    // Each step with its date on the scenario's clock (one second per mined transaction).
    assert!(
        stdout.contains("#3 2031-04-01T00:00:08Z dcp settles trade t1 with the buyer's signed payment — ok,"),
        "{stdout}"
    );
    assert!(stdout.contains("event dvp.TradeSettled(id: t1)"), "{stdout}");
    assert!(
        stdout.contains("9 steps (9 succeeded, 0 refused as expected, 0 failed); 21 of 21 expectations held"),
        "{stdout}"
    );
    assert!(stdout.contains("  from 2031-04-01T00:00:00Z to 2031-04-01T00:00:09Z (UTC)"), "{stdout}");
}

#[test]
fn sim_run_json_is_machine_readable_and_a_failed_expectation_exits_non_zero() {
    let out = kessai().args(["sim", "run", "--json"]).arg(example("failures.toml")).output().expect("run");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("stdout is one JSON document");
    assert_eq!(json["passed"], true);
    assert_eq!(json["engine"], "revm");
    assert_eq!(json["report"]["steps"][0]["result"]["status"], "ok");

    let dir = std::env::temp_dir().join(format!("kessai-sim-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let src = std::fs::read_to_string(example("dcjpy_pilot.toml")).expect("read");
    let wrong = dir.join("wrong.toml");
    std::fs::write(&wrong, src.replace("expect.trades.t1 = \"settled\"", "expect.trades.t1 = \"cancelled\""))
        .expect("write");
    let out = kessai().args(["sim", "run"]).arg(&wrong).output().expect("run");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success(), "a failed expectation fails the command");
    assert!(stdout.contains("✗ expected trade t1 is cancelled — found settled"), "{stdout}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("1 of 21 expectations"), "{:?}", out.stderr);

    let malformed = dir.join("malformed.toml");
    std::fs::write(&malformed, src.replace("seller = \"seller\"", "seller = \"selr\"")).expect("write");
    let out = kessai().args(["sim", "run"]).arg(&malformed).output().expect("run");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("malformed.toml:40:10: unknown party `selr`"), "{stderr}");
    // With --json the parse error is JSON on stdout, and a failed expectation prints only the report.
    let out = kessai().args(["--json", "sim", "run"]).arg(&malformed).output().expect("run");
    crate::support::refused(&out, "unknown party `selr`");
    let error: serde_json::Value = serde_json::from_slice(&out.stdout).expect("a JSON error");
    assert!(error["error"]["message"].as_str().expect("message").contains("malformed.toml:40:10"), "{error}");
    let out = kessai().args(["--json", "sim", "run"]).arg(&wrong).output().expect("run");
    assert!(!out.status.success());
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("stdout is the one report");
    assert_eq!(report["passed"], false);
    let _ = std::fs::remove_dir_all(&dir);
}

/// `transfer_deposit`, the step kind added through the step table alone: it parses, pays a bank
/// customer, is refused (moving nothing) to a party outside the bank's registry, writes back to the
/// same model, and describes itself.
#[tokio::test]
async fn a_deposit_transfer_step_pays_a_customer_and_is_refused_for_a_stranger() {
    let src = r#"[scenario]
name = "cash transfers"
[parties.alice]
[parties.bob]
[parties.carol]
registries = ["securities"]
[funding]
alice = { cash = 1_000 }

[[step]]
do = "transfer_deposit"
from = "alice"
to = "bob"
amount = 400
expect.events = ["deposit.Transfer"]
expect.balances.alice = { cash = 600 }
expect.balances.bob = { cash = 400 }

[[step]]
do = "transfer_deposit"
from = "alice"
to = "carol"
amount = 1
expect.error = "TokenTransferRestricted"
expect.balances.alice = { cash = 600 }
expect.balances.carol = { cash = 0 }
"#;
    let scenario = scenario::parse::parse(src).expect("parses");
    let written = scenario::write::write(&scenario).expect("writes");
    assert!(written.contains("do = \"transfer_deposit\"\nfrom = \"alice\"\nto = \"bob\"\namount = 400"), "{written}");
    assert_eq!(
        scenario::write::without_lines(&scenario::parse::parse(&written).expect("re-parses")),
        scenario::write::without_lines(&scenario)
    );
    let report = run::run(&mut revm(), &scenario, &anvil::dev_signers(), |_| {}).await.expect("replay on revm");
    let timeline: Vec<_> = report.steps.iter().filter(|s| s.kind == "transfer_deposit").collect();
    assert_eq!(timeline.len(), 2);
    assert_eq!(timeline[0].description, "alice pays ¥400 in deposit tokens to bob");
    assert_eq!(timeline[1].result.error(), Some("TokenTransferRestricted"));
    assert!(
        report.passed(),
        "{:#?}",
        report.steps.iter().flat_map(|s| &s.checks).filter(|c| !c.passed).collect::<Vec<_>>()
    );

    let missing = src.replacen("amount = 400\n", "", 1);
    let Err(e) = scenario::parse::parse(&missing) else { panic!("a transfer_deposit without amount parses") };
    assert!(
        e.to_string().contains("missing field `amount`: `transfer_deposit` steps need `from`, `to` and `amount`"),
        "{e}"
    );
}

/// The README's list of step kinds is `kessai sim steps` verbatim, so it cannot fall behind the
/// parser's table; `--json` gives the same table to programs.
#[test]
fn the_readme_lists_the_step_kinds_the_parser_reads() {
    let out = kessai().args(["sim", "steps"]).output().expect("run kessai sim steps");
    assert!(out.status.success());
    let printed = String::from_utf8(out.stdout).expect("utf-8");
    let readme = std::fs::read_to_string(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("README.md")).expect("readme");
    let block = readme
        .split_once("<!-- kessai sim steps -->\n```text\n")
        .and_then(|(_, rest)| rest.split_once("```\n<!-- /kessai sim steps -->"))
        .map(|(block, _)| block)
        .expect("the README has the step list block");
    assert_eq!(block, printed, "update the README's step list from `kessai sim steps`");
    for kind in scenario::steps::KINDS {
        assert!(printed.contains(&format!("\n{:<20} ", kind.name)) || printed.starts_with(kind.name), "{}", kind.name);
    }

    let out = kessai().args(["--json", "sim", "steps"]).output().expect("run kessai --json sim steps");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let steps = json["steps"].as_array().expect("steps");
    assert_eq!(steps.len(), scenario::steps::KINDS.len());
    assert_eq!(steps[0]["do"], "register");
    assert_eq!(steps[0]["required"], serde_json::json!(["party"]));
}
