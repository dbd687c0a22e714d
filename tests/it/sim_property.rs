//! Property runs of the scenario model: 100,000 random steps pass every invariant on the in-process
//! engine; a deliberately false invariant injected here is caught, shrunk to a handful of steps,
//! written as a scenario file that parses, and replayed — by the property checker and by
//! `kessai sim run` — to the same failure.
//!
//! The seed is fixed for CI; `KESSAI_PROP_SEED=n KESSAI_PROP_STEPS=m cargo test sim_property`
//! explores others.

use kessai_deployer::anvil;
use kessai_sim::{
    RevmChain, RevmOptions,
    property::{self, CheckOptions, Options, SETTLED, Violation},
    scenario::{
        model::{Action, Expect, TradeState},
        parse,
        run::{self, StepResult},
    },
};
use std::{
    path::PathBuf,
    process::Command,
    sync::atomic::{AtomicU64, Ordering},
    time::Instant,
};

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// The false invariant the shrinking tests inject: "no trade ever settles".
fn no_trade_settles() -> Box<dyn property::Invariant> {
    property::invariant("no trade ever settles", |obs| {
        match obs.changes.iter().find(|c| c.after & SETTLED != 0 && c.before & SETTLED == 0) {
            None => Ok(()),
            Some(c) => Err(Violation::new(
                format!("trade {} settled at {}", obs.trade_name(c.trade), obs.describe_step()),
                Expect { trades: vec![(c.trade, TradeState::from_flags(c.before))], ..Default::default() },
            )),
        }
    })
}

#[test]
fn a_hundred_thousand_random_steps_keep_every_invariant() {
    let seed = env_or("KESSAI_PROP_SEED", 20_310_401u64);
    let steps = env_or("KESSAI_PROP_STEPS", 100_000usize);
    // The cheap invariants after every step (the named trades, the concerned parties, both supplies);
    // a full sweep of every party and every trade every 10,000 steps and after the last.
    let options = Options { steps, check: CheckOptions { sweep_every: 10_000 }, ..Options::default() };
    let began = Instant::now();
    let run = property::run(seed, &options, &property::standard(), None).expect("the run executes");
    let elapsed = began.elapsed();
    let s = &run.stats;
    eprintln!(
        "property run: seed {seed}, {} steps in {:.1} s ({:.0} steps/s); {} succeeded, {} transactions; trades: {} \
         created, {} settled, {} cancelled, {} expired; {} sweeps\n  steps by kind (steps, succeeded): {:?}\n  \
         refused: {:?}",
        s.steps,
        elapsed.as_secs_f64(),
        s.steps as f64 / elapsed.as_secs_f64(),
        s.succeeded,
        s.transactions,
        s.created,
        s.settled,
        s.cancelled,
        s.expired,
        s.sweeps,
        s.kinds,
        s.refused
    );
    if let Some(f) = &run.failure {
        panic!(
            "invariant `{}` broke at step {}: {}\nshrunk to {} steps:\n{}",
            f.found.invariant,
            f.found.index,
            f.found.message,
            f.shrunk.steps.len(),
            f.toml
        );
    }
    assert_eq!(s.steps, run.generated, "every step ran");
    assert!(s.steps >= steps, "at least {steps} random steps");
    // The run must exercise the machinery, not only refusals.
    assert!(s.succeeded > s.steps / 2, "most steps succeed: {}", s.succeeded);
    assert!(s.settled > s.steps / 10, "trades settle: {}", s.settled);
    assert!(s.cancelled > s.steps / 200 && s.expired > s.steps / 200, "trades are cancelled and released too");
    for kind in ["pay", "approve", "settle_with_payment", "settle_signed", "create_signed_trade", "batch", "release"] {
        let (_, n, ok) = s.kinds.iter().find(|(k, ..)| k == kind).unwrap_or_else(|| panic!("no `{kind}` step"));
        assert!(*ok > 0 && ok < n, "`{kind}` steps both succeed and refuse: {ok} of {n}");
    }
}

#[test]
fn a_false_invariant_is_shrunk_to_a_few_steps_that_replay_to_the_same_failure() {
    let mut invariants = property::standard();
    invariants.push(no_trade_settles());
    let options = Options { steps: 2_000, ..Options::default() };
    for seed in [1u64, 2, 3] {
        let run = property::run(seed, &options, &invariants, None).expect("the run executes");
        let f = run.failure.unwrap_or_else(|| panic!("seed {seed}: some trade settles in 2,000 steps"));
        assert_eq!(f.found.invariant, "no trade ever settles", "seed {seed}: {}", f.found.message);
        eprintln!(
            "seed {seed}: broke at step {}, shrunk to {} steps in {} replays:\n{}",
            f.found.index,
            f.shrunk.steps.len(),
            f.candidates,
            f.toml
        );
        // Settling needs two registered parties, units, cash and a step that settles: five steps.
        assert!(f.shrunk.steps.len() <= 5, "seed {seed}: shrunk to {} steps", f.shrunk.steps.len());
        assert!(f.shrunk.steps.len() < f.found.index + 1, "seed {seed}: shrinking removed steps");
        assert!(f.reproduced, "seed {seed}: the written file breaks the same invariant at its last step");

        // The file parses, and the property checker breaks the same invariant at its last step.
        let parsed = parse::parse(&f.toml).unwrap_or_else(|e| panic!("seed {seed}: the written file parses: {e}"));
        assert_eq!(parsed.steps.len(), f.shrunk.steps.len());
        let replay = property::check(&parsed, &invariants, &CheckOptions { sweep_every: 1 }, None).expect("replays");
        let again = replay.found.expect("the replay breaks an invariant");
        assert_eq!((again.invariant.as_str(), again.index), ("no trade ever settles", parsed.steps.len() - 1));
        // Without the false invariant, the same steps keep every real one.
        let honest =
            property::check(&parsed, &property::standard(), &CheckOptions { sweep_every: 1 }, None).expect("replays");
        assert_eq!(honest.found, None, "seed {seed}: the real invariants hold on the shrunk steps");

        // `kessai sim run` replays it to the same failure: every earlier expectation holds, and the
        // last step's expectation (the trade stays unsettled) is the only one that fails.
        let report = kessai_sim::parallel::drive(|| async {
            let mut chain = RevmChain::new(&RevmOptions::default(), &anvil::dev_accounts());
            run::run(&mut chain, &parsed, &anvil::dev_signers(), |_| {}).await
        })
        .expect("sim run replays the file");
        let failed: Vec<(usize, String, Option<String>)> = report
            .steps
            .iter()
            .flat_map(|s| {
                s.checks.iter().filter(|c| !c.passed).map(move |c| (s.index, c.expected.clone(), c.found.clone()))
            })
            .collect();
        assert_eq!(failed.len(), 1, "seed {seed}: one failed expectation: {failed:?}");
        let (index, expected, found) = &failed[0];
        assert_eq!(*index, parsed.steps.len() - 1, "seed {seed}: at the last step");
        assert!(
            expected.starts_with("trade ") && found.as_deref().is_some_and(|f| f.starts_with("settled")),
            "{failed:?}"
        );
        let last = report.steps.last().expect("steps");
        assert_eq!(last.result, StepResult::Ok, "the settling step itself succeeds");
        assert!(
            matches!(
                parsed.steps.last().map(|s| &s.action),
                Some(
                    Action::SettleSigned { .. }
                        | Action::CreateSignedTrade { .. }
                        | Action::Pay { .. }
                        | Action::Approve { .. }
                        | Action::SettleWithPayment { .. }
                        | Action::Batch { .. }
                )
            ),
            "the last step is one that settles"
        );
    }
}

#[test]
fn independent_seeds_run_in_parallel_with_results_in_seed_order() {
    let options = Options { steps: 300, ..Options::default() };
    let seeds = [5u64, 6, 7, 8];
    let progress: Vec<AtomicU64> = seeds.iter().map(|_| AtomicU64::new(0)).collect();
    let parallel = property::run_seeds(&seeds, &options, &property::standard(), 2, Some(&progress));
    let serial: Vec<_> = seeds.iter().map(|s| property::run(*s, &options, &property::standard(), None)).collect();
    assert_eq!(parallel.len(), seeds.len());
    for (((seed, p), s), done) in seeds.iter().zip(&parallel).zip(&serial).zip(&progress) {
        let (p, s) = (p.as_ref().expect("runs"), s.as_ref().expect("runs"));
        assert_eq!(p.seed, *seed);
        assert_eq!(p.stats, s.stats, "seed {seed}: the same run in a thread of its own");
        assert!(p.failure.is_none());
        assert_eq!(done.load(Ordering::Relaxed), p.stats.steps as u64, "seed {seed}: its own counter");
    }
}

#[test]
fn sim_prop_writes_the_shrunk_failure_and_exits_non_zero_only_when_an_invariant_breaks() {
    let dir = std::env::temp_dir().join(format!("kessai-prop-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let out = dir.join("failing.toml");
    let kessai = PathBuf::from(env!("CARGO_BIN_EXE_kessai"));
    let ok = Command::new(&kessai)
        .args(["sim", "prop", "--steps", "300", "--seeds", "1..3", "--json"])
        .output()
        .expect("runs kessai");
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stderr));
    let json: serde_json::Value = serde_json::from_slice(&ok.stdout).expect("JSON on stdout");
    let runs = json["runs"].as_array().expect("runs");
    assert_eq!(runs.iter().map(|r| r["seed"].as_u64()).collect::<Vec<_>>(), [Some(1), Some(2), Some(3)]);
    assert!(runs.iter().all(|r| r["failure"].is_null() && r["stats"]["steps"].as_u64() == Some(312)));

    // `--never settled` adds a false invariant: its failure, shrunk, is written where --out says.
    let failing = Command::new(&kessai)
        .args(["sim", "prop", "--steps", "500", "--seed", "2", "--never", "settled", "--out"])
        .arg(&out)
        .output()
        .expect("runs kessai");
    let stdout = String::from_utf8_lossy(&failing.stdout);
    assert!(!failing.status.success(), "an invariant broke: {stdout}");
    assert!(stdout.contains("invariant `never-settled` broke") && stdout.contains("shrunk to"), "{stdout}");
    assert!(stdout.contains("replays to the same failure"), "{stdout}");
    let replay = Command::new(&kessai).args(["sim", "run"]).arg(&out).output().expect("runs kessai");
    let text = String::from_utf8_lossy(&replay.stdout);
    assert!(!replay.status.success(), "the replay fails: {text}");
    assert!(text.contains("✗ expected trade") && text.contains("found settled"), "{text}");
    let _ = std::fs::remove_dir_all(&dir);
}
