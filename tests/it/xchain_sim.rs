//! Cross-chain settlement replayed in-process with faults (`kessai_sim::xchain`): two revm engines,
//! the attestors and relayers `kessai attest` and `kessai relay` run, halts, relayer crashes, a faulty
//! attestor, hostile submissions, delayed, reordered and duplicated attestations, clock skew and
//! attestor rotations, with the invariants checked after every event.

use kessai_sim::xchain::{self, OUTCOMES, Options};

fn run(seed: u64, options: &Options) -> xchain::Run {
    kessai_sim::parallel::drive(|| xchain::run(seed, options)).expect("the run")
}

/// Steps of the CI property run, over [`SEEDS`] seeds run on two threads.
const STEPS: usize = 25_000;
const SEEDS: [u64; 4] = [1, 2, 3, 4];

#[test]
fn a_hundred_thousand_random_events_with_every_fault_keep_both_legs_together_and_end_every_trade() {
    let options = Options { steps: STEPS, ..Options::default() };
    let started = std::time::Instant::now();
    let runs = kessai_sim::parallel::map(&SEEDS, 2, |seed| run(*seed, &options));
    let events: usize = runs.iter().map(|r| r.events).sum();
    eprintln!("{events} cross-chain events in {:.1} s", started.elapsed().as_secs_f64());
    assert!(events >= 100_000, "{events}");
    for run in runs {
        eprintln!("{run}");
        assert_eq!(run.failure, None, "{run}");
        let s = &run.stats;
        assert!(s.delivered > 300 && s.returned > 300, "both outcomes happen: {run}");
        assert!(s.halts > 0 && s.crashes > 0 && s.faulty_signatures > 0 && s.hostile_refused > 0, "{run}");
        assert!(s.failed_passes > 0, "halts made passes fail: {run}");
        assert!(s.delays > 0 && s.duplicated > 0 && s.skews > 0 && s.rotations > 0, "{run}");
    }
}

#[test]
fn with_as_many_faulty_attestors_as_the_threshold_a_hostile_submission_splits_a_trade_and_is_caught() {
    let options = Options { steps: 3_000, faulty: 2, faulty_percent: 20, hostile_percent: 20, ..Options::default() };
    let run = run(1, &options);
    let failure = run.failure.expect("two colluding attestors prove what B never recorded");
    assert_eq!(failure.invariant, OUTCOMES, "{}", failure.message);
    assert!(failure.event < options.steps, "caught while running, at event {}", failure.event);
}

#[test]
fn a_seed_replays_to_the_same_run() {
    let options = Options { steps: 800, ..Options::default() };
    assert_eq!(run(5, &options), run(5, &options));
}

fn scenario(file: &str) -> xchain::XScenarioReport {
    let path = format!("{}/scenarios/{file}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).expect("the example");
    assert!(xchain::XScenario::is_cross_chain(&text));
    let parsed = xchain::XScenario::parse(&text, &path).expect("parses");
    kessai_sim::parallel::drive(|| xchain::run_scenario(&parsed)).expect("replays")
}

#[test]
fn the_cross_chain_examples_replay_to_their_expected_outcomes_with_every_invariant_held() {
    let pilot = scenario("cross_chain_pilot.toml");
    assert!(pilot.passed(), "{pilot}");
    let ends: Vec<(&str, &str, &str)> =
        pilot.trades.iter().map(|t| (t.label.as_str(), t.asset.as_str(), t.payment.as_str())).collect();
    assert_eq!(
        ends,
        [("BOND-1", "delivered", "Committed"), ("BOND-2", "returned", "Aborted"), ("BOND-3", "delivered", "Committed")]
    );
    let failures = scenario("cross_chain_failures.toml");
    assert!(failures.passed(), "{failures}");
    let by = |label: &str| failures.trades.iter().find(|t| t.label == label).expect("trade").clone();
    // B's clock alone decides: HALT-B aborts when B resumes (7,210 s), past its deadline.
    assert_eq!((by("HALT-B").decided_at, by("HALT-B").asset.as_str()), (Some(7_210), "returned"));
    // While A is halted (7,302–7,902 s) B commits PAID-A and aborts UNPAID-A; A ends both on resuming.
    assert_eq!((by("PAID-A").decided_at, by("PAID-A").ended_at), (Some(7_302), Some(7_902)));
    let unpaid = by("UNPAID-A");
    assert!(unpaid.decided_at.is_some_and(|t| t < 7_902) && unpaid.ended_at == Some(7_902), "{failures}");
    // ROTATED commits at once, but its delivery waits for the delayed mail (8,002–8,042 s); the
    // stale proof of the retired attestor is refused by name; the new attestor's signature counts.
    assert_eq!((by("ROTATED").decided_at, by("ROTATED").ended_at), (Some(8_002), Some(8_042)), "{failures}");
    let hostile = failures.steps.iter().find(|s| s.at == 8_011).expect("the hostile step");
    assert!(hostile.what.contains("2 of 2 refused (VerifierUnknownAttestor"), "{}", hostile.what);
    // Under a clock skew of 20 s the trade due in 60 s on B's clock settles.
    assert_eq!(by("SKEWED").asset, "delivered", "{failures}");
}

#[test]
fn each_chain_has_its_own_id_rules_and_block_time_and_bad_chain_settings_are_refused() {
    let pilot = scenario("cross_chain_pilot.toml");
    let chains: Vec<(&str, u64, &str, u64)> =
        pilot.chains.iter().map(|c| (c.side.as_str(), c.chain_id, c.hardfork.name(), c.block_time)).collect();
    assert_eq!(chains, [("asset", 1_010_032, "berlin", 1), ("payment", 8_080, "cancun", 2)]);
    // The payment chain makes a block every two seconds between transactions.
    let gaps: Vec<u64> = pilot.blocks.1.windows(2).map(|w| w[1] - w[0]).collect();
    assert!(gaps.iter().all(|g| *g >= 2 || *g == 0), "{gaps:?}");
    let base = "[chains.asset]\n[chains.payment]\n";
    for (settings, says) in [
        ("[chains.asset]\ngas_price = 5\n[chains.payment]\n", "gas-free chains only"),
        ("[chains.asset]\nblock_time = 0\n[chains.payment]\n", "block_time = 0"),
        ("[chains.asset]\nchain_id = 7\n[chains.payment]\nchain_id = 7\n", "both chains have chain id 7"),
        ("[chains.asset]\nhardfork = \"homestead\"\n[chains.payment]\n", "hardfork"),
    ] {
        let error = xchain::XScenario::parse(settings, "edited").expect_err(settings).to_string();
        assert!(error.contains(says), "{error}");
    }
    assert!(xchain::XScenario::parse(base, "base").is_ok());
}

#[test]
fn an_expectation_that_does_not_hold_fails_the_scenario_and_a_step_saying_two_things_is_refused() {
    let text = std::fs::read_to_string(format!("{}/scenarios/cross_chain_pilot.toml", env!("CARGO_MANIFEST_DIR")))
        .expect("the example")
        .replace("trade = \"BOND-2\"\nasset = \"returned\"", "trade = \"BOND-2\"\nasset = \"delivered\"");
    let parsed = xchain::XScenario::parse(&text, "edited").expect("parses");
    let report = kessai_sim::parallel::drive(|| xchain::run_scenario(&parsed)).expect("replays");
    assert!(!report.passed());
    assert_eq!(report.unmet, ["BOND-2: expected delivered on the asset chain, found returned"]);
    let two = "[chains.asset]\n[chains.payment]\n[[steps]]\nat = 1\nlock = \"T\"\npay = \"T\"\n";
    let err = xchain::XScenario::parse(two, "two").expect_err("refused").to_string();
    assert!(err.contains("must say one of lock, pay, halt, crash_relayer, sign_falsely"), "{err}");
    let three = "[chains.asset]\n[chains.payment]\n[chains.other]\n";
    assert!(xchain::XScenario::parse(three, "three").is_err());
}

#[test]
fn kessai_sim_run_replays_a_cross_chain_file_in_process_or_on_two_anvils_and_refuses_one_node() {
    let file = format!("{}/scenarios/cross_chain_failures.toml", env!("CARGO_MANIFEST_DIR"));
    let run = |extra: &[&str]| crate::support::command().args(["--json", "sim", "run", &file]).args(extra).output();
    let out = run(&[]).expect("run");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(report["unmet"], serde_json::json!([]));
    assert_eq!(report["trades"].as_array().map(Vec::len), Some(5));
    let anvil = run(&["--anvil"]).expect("run");
    assert!(anvil.status.success(), "{}", String::from_utf8_lossy(&anvil.stderr));
    assert_eq!(anvil.stdout, out.stdout, "the same report from two Anvils");
    let one_node = run(&["--rpc-url", "http://127.0.0.1:1"]).expect("run");
    crate::support::refused(&one_node, "names one node");
}

#[test]
fn a_verifier_off_by_one_is_caught_and_shrunk_to_a_short_scenario_that_replays_to_the_same_failure() {
    let options = Options { steps: 2_000, threshold: 1, ..Options::default() };
    let run = run(1, &options);
    let failure = run.failure.expect("a single faulty attestor fools a verifier whose threshold is one");
    assert_eq!(failure.invariant, OUTCOMES, "{}", failure.message);
    let text = failure.scenario.expect("a short scenario");
    let parsed = xchain::XScenario::parse(&text, "shrunk").expect("parses");
    assert!(parsed.steps.len() <= 5, "short: {text}");
    let replayed = kessai_sim::parallel::drive(|| xchain::run_scenario(&parsed)).expect("replays");
    assert_eq!(replayed.failure.map(|f| f.invariant), Some(OUTCOMES), "{text}");
    // The same timeline under the model's threshold holds.
    let sound = xchain::XScenario::parse(&text.replace("threshold = 1", "threshold = 2"), "sound").expect("parses");
    let held = kessai_sim::parallel::drive(|| xchain::run_scenario(&sound)).expect("replays");
    assert_eq!(held.failure, None, "{held}");
}

#[tokio::test]
async fn the_cross_chain_examples_replay_identically_in_process_and_on_two_anvils() {
    for file in ["cross_chain_pilot.toml", "cross_chain_failures.toml"] {
        let path = format!("{}/scenarios/{file}", env!("CARGO_MANIFEST_DIR"));
        let parsed = xchain::XScenario::parse(&std::fs::read_to_string(&path).expect("read"), &path).expect("parses");
        let in_process = {
            let parsed = parsed.clone();
            tokio::task::spawn_blocking(move || kessai_sim::parallel::drive(|| xchain::run_scenario(&parsed)))
                .await
                .expect("joined")
                .expect("replays in-process")
        };
        let on_anvil = xchain::run_scenario_on_anvil(&parsed).await.expect("replays on two Anvils");
        assert!(in_process.passed(), "{in_process}");
        // Every step's result, each trade's terms hash and outcome on both chains, and when each was
        // decided and ended: the same on both engines.
        assert_eq!(on_anvil, in_process, "{file}");
    }
}

#[test]
fn sim_gen_cross_chain_writes_a_day_with_every_fault_that_sim_run_replays_and_runs_it_at_once() {
    let dir = std::env::temp_dir().join(format!("kessai-it-xgen-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a scratch folder");
    let file = dir.join("day.toml");
    let generate = |extra: &[&str]| {
        crate::support::command()
            .args(["sim", "gen", "--cross-chain", "--trades-per-day", "80", "--seed", "3"])
            .args(extra)
            .output()
            .expect("run")
    };
    let out = generate(&["--fault-rate", "0.1", "--out", file.to_str().expect("a path")]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = std::fs::read_to_string(&file).expect("the day");
    for step in
        ["lock", "pay", "halt", "crash_relayer", "sign_falsely", "hostile", "delay_proofs", "rotate_attestor", "skew"]
    {
        assert!(text.contains(&format!("\n{step} = ")), "no {step} step in {text}");
    }
    let replayed = crate::support::command().args(["--json", "sim", "run"]).arg(&file).output().expect("run");
    assert!(replayed.status.success(), "{}", String::from_utf8_lossy(&replayed.stderr));
    let report: serde_json::Value = serde_json::from_slice(&replayed.stdout).expect("JSON");
    assert_eq!(report["failure"], serde_json::Value::Null);
    let at_once = generate(&["--fault-rate", "0.1", "--run", "--json"]);
    assert!(at_once.status.success(), "{}", String::from_utf8_lossy(&at_once.stderr));
    let summary: serde_json::Value = serde_json::from_slice(&at_once.stdout).expect("JSON");
    assert_eq!(summary["passed"], true);
    assert_eq!(summary["trades"], report["trades"].as_array().map(Vec::len).expect("trades"));
    assert!(summary["latency"]["p50"].as_u64().is_some(), "{summary}");
    crate::support::refused(&generate(&["--fault-rate", "2"]), "from 0 to 1");
    let _ = std::fs::remove_dir_all(&dir);
}
