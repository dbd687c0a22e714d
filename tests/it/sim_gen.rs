//! Generated workloads: reproducible by seed, written as scenario files that parse back to the same
//! model, refusing what they were generated to refuse with the same results on revm and Anvil;
//! parallel runs equal to sequential ones; netted settlement moving less cash than gross; and the
//! benchmark's machinery (four engines, identical gas) on a tiny workload.

use crate::support;
use crate::support::command as kessai;
use kessai_bindings::alloy::primitives::U256;
use kessai_deployer::{anvil, profile::Hardfork};
use kessai_sim::{
    RevmChain, RevmOptions,
    bench::{self, BenchOptions},
    parallel,
    scenario::{RunReport, Scenario, parse, run, write},
    workload::{FailureRates, GenParams, Settlement, SettlementStats, TradeKind, Workload},
};

/// Every failure kind at 15%: with seed 1, 24 trades include each kind at least once.
fn failing(seed: u64) -> GenParams {
    GenParams {
        investors: 4,
        trades_per_day: 12,
        days: 2,
        seed,
        windows: 3,
        max_batch: 4,
        rates: FailureRates { ineligible: 0.15, cash: 0.15, agent_rejects: 0.15, expiry: 0.15 },
        start: None,
    }
}

fn revm() -> RevmChain {
    RevmChain::new(&RevmOptions::default(), &anvil::dev_accounts())
}

async fn on_revm(scenario: &Scenario) -> RunReport {
    run::run(&mut revm(), scenario, &anvil::dev_signers(), |_| {}).await.expect("replay on revm")
}

#[test]
fn generation_is_reproducible_by_seed_and_round_trips_through_toml() {
    let params = failing(1);
    let workload = Workload::generate(&params).expect("valid parameters");
    assert_eq!(Workload::generate(&params).expect("valid"), workload, "same seed, same workload");
    let other = Workload::generate(&failing(2)).expect("valid");
    assert_ne!(other.trades, workload.trades, "another seed, other trades");
    for settlement in [Settlement::Gross, Settlement::Netted, Settlement::Instructed, Settlement::Dcjpy] {
        let scenario = workload.scenario(settlement);
        assert_eq!(scenario, Workload::generate(&params).expect("valid").scenario(settlement));
        let text = write::write(&scenario).expect("a generated scenario is writable");
        let parsed = parse::parse(&text).unwrap_or_else(|e| panic!("the written file parses: {e}\n{text}"));
        assert_eq!(write::without_lines(&parsed), write::without_lines(&scenario), "{settlement:?} round trip");
        assert_eq!(write::write(&parsed).expect("writable"), text, "writing is stable");
    }
    // A larger market round-trips too (hundreds of parties and trades).
    let big = GenParams { investors: 300, trades_per_day: 500, days: 2, ..failing(9) };
    let scenario = Workload::generate(&big).expect("valid").scenario(Settlement::Netted);
    let parsed = parse::parse(&write::write(&scenario).expect("writable")).expect("parses");
    assert_eq!(write::without_lines(&parsed), write::without_lines(&scenario));
}

#[tokio::test]
async fn generated_failures_are_named_refusals_with_the_same_results_on_revm_and_anvil() {
    let workload = Workload::generate(&failing(1)).expect("valid parameters");
    assert!(workload.parties.len() <= 10, "fits Anvil's ten development keys");
    for (kind, n) in workload.kinds() {
        assert!(n > 0, "seed 1 generates at least one {kind:?} trade");
    }
    for settlement in [Settlement::Gross, Settlement::Netted, Settlement::Instructed, Settlement::Dcjpy] {
        let scenario = workload.scenario(settlement);
        let revm_report = on_revm(&scenario).await;
        let (_node, mut rpc) = support::anvil();
        let anvil_report = run::run(&mut rpc, &scenario, &anvil::dev_signers(), |_| {}).await.expect("replay on anvil");

        let stats = SettlementStats::from_report(&workload, settlement, &revm_report);
        assert!(stats.as_predicted, "{settlement:?}: every step and final state as generated: {stats:?}");
        assert!(revm_report.passed());
        let refusals: Vec<&str> = stats.refusals.iter().map(|(e, _)| e.as_str()).collect();
        match settlement {
            Settlement::Gross => assert_eq!(refusals, ["DvPTradeExpired", "TokenTransferRestricted"]),
            Settlement::Netted | Settlement::Instructed | Settlement::Dcjpy => {
                assert_eq!(refusals, ["DvPTradeExpired", "TokenInsufficientFreeBalance", "TokenTransferRestricted"])
            }
        }
        // Every trade meant to fail did not settle; and its refused step moved nothing and cost nothing.
        for (kind, n) in &stats.unsettled {
            assert_ne!(*kind, TradeKind::Normal, "{settlement:?}: an ordinary trade failed ({n})");
        }
        assert_eq!(stats.failed(), workload.trades.iter().filter(|t| t.kind != TradeKind::Normal).count());
        for step in revm_report.steps.iter().filter(|s| s.result.error().is_some()) {
            assert_eq!((step.gas_used, step.transactions), (0, 0), "a refused step mines nothing");
        }
        let states: Vec<_> = revm_report.final_state.trades.iter().map(|(_, s)| *s).collect();
        assert_eq!(states, workload.expected_states(settlement), "{settlement:?}: final states as predicted");

        assert_eq!(revm_report.steps.len(), anvil_report.steps.len());
        for (a, b) in revm_report.steps.iter().zip(&anvil_report.steps) {
            assert_eq!(a, b, "{settlement:?} step {} ({}): same on both engines", a.index, a.description);
        }
        assert_eq!(revm_report, anvil_report, "{settlement:?}: the whole report");
    }
}

#[test]
fn parallel_runs_give_the_same_results_as_sequential_runs_in_input_order() {
    let scenarios: Vec<Scenario> = (1..=4)
        .map(|seed| {
            let params = GenParams { investors: 12, trades_per_day: 20, ..failing(seed) };
            Workload::generate(&params).expect("valid").scenario(Settlement::Gross)
        })
        .collect();
    let sequential: Vec<RunReport> =
        scenarios.iter().map(|s| parallel::run_in_process(s).expect("sequential replay")).collect();
    let parallel: Vec<RunReport> =
        parallel::run_all(&scenarios, 3).into_iter().map(|r| r.expect("parallel replay")).collect();
    assert_eq!(parallel, sequential);
    let names: Vec<&str> = parallel.iter().map(|r| r.scenario.as_str()).collect();
    assert_eq!(
        names,
        (1..=4).map(|seed| format!("generated market, seed {seed} (gross)")).collect::<Vec<_>>(),
        "results in input order"
    );
    // More parties than Anvil's ten keys: the in-process engine derives the rest.
    assert!(scenarios[0].parties.len() > 10);
    assert!(parallel.iter().all(RunReport::passed));
}

#[test]
fn netted_batches_move_less_cash_than_gross_settlement_of_the_same_workload() {
    // Few investors trading often: within a window each both buys and sells, so positions offset.
    let params = GenParams {
        investors: 4,
        trades_per_day: 40,
        days: 2,
        seed: 5,
        windows: 2,
        max_batch: 100,
        rates: FailureRates::default(),
        start: None,
    };
    let workload = Workload::generate(&params).expect("valid parameters");
    let scenarios = [workload.scenario(Settlement::Gross), workload.scenario(Settlement::Netted)];
    let reports: Vec<RunReport> = parallel::run_all(&scenarios, 2).into_iter().map(|r| r.expect("replay")).collect();
    let gross = SettlementStats::from_report(&workload, Settlement::Gross, &reports[0]);
    let netted = SettlementStats::from_report(&workload, Settlement::Netted, &reports[1]);
    assert!(gross.as_predicted && netted.as_predicted, "{gross:?}\n{netted:?}");
    assert_eq!((gross.settled, gross.failed()), (80, 0));
    assert_eq!(netted.settled, gross.settled, "the same trades settle");
    assert_eq!(netted.settled_value, gross.settled_value);
    assert_eq!(gross.cash_moved, gross.settled_value, "gross moves every trade's price");
    assert!(
        netted.cash_moved < gross.cash_moved / U256::from(2u8),
        "netting moves less than half the cash: {} of {}",
        netted.cash_moved,
        gross.cash_moved
    );
    assert!(netted.cash_transfers < gross.cash_transfers);
    assert!(gross.peak_cash_locked.is_zero(), "per-trade settlement pays from free balances");
    assert!(!netted.peak_cash_locked.is_zero(), "netted buyers lock their payments until the window closes");
}

#[tokio::test]
async fn the_benchmark_settles_a_tiny_workload_on_all_four_engines_with_identical_gas() {
    // Each flow at Cancun, and the signed flow again under ibet for Fin's Berlin rules (legacy
    // transactions on Anvil, the same rules in both revm engines).
    let runs = [
        (Settlement::Gross, 2, Hardfork::Cancun),
        (Settlement::Instructed, 3, Hardfork::Cancun),
        (Settlement::Dcjpy, 5, Hardfork::Cancun),
        (Settlement::Gross, 2, Hardfork::Berlin),
    ];
    for (flow, per_settlement, hardfork) in runs {
        let options = BenchOptions {
            trades: 20,
            seed: 3,
            investors: 12,
            skip_anvil: false,
            batch_size: 8,
            single_trades: 7,
            flow,
            hardfork,
        };
        let report = bench::run(&options, |_| {}).await.expect("the benchmark runs");
        let engines: Vec<&str> = report.engines.iter().map(|e| e.engine.as_str()).collect();
        assert_eq!(engines, ["in-process", "raw-revm", "anvil-batched", "anvil-single"]);
        // Before London Anvil refunds cleared slots at London's rate: measured per engine, and any
        // other difference fails the run.
        assert_eq!(report.gas_identical, report.anvil_refund_gap == 0);
        if hardfork >= Hardfork::London {
            assert_eq!(report.anvil_refund_gap, 0, "{hardfork:?}");
        }
        let gas = report.engines[0].gas_used;
        assert!(gas > 20 * 100_000, "twenty settlements cost gas: {gas}");
        for e in &report.engines[..3] {
            let rules = e.gas_used - e.refund_gap;
            assert_eq!((e.settlements, e.transactions, rules), (20, 20 * per_settlement, gas), "{}", e.engine);
            assert!(e.seconds > 0.0);
        }
        // One at a time replays the first seven settlements, with the gas they used when recorded
        // (`gas_identical` compares each engine with the recording over its transactions).
        let single = &report.engines[3];
        assert_eq!((single.settlements, single.transactions), (7, 7 * per_settlement));
        assert!(single.gas_used > 0 && single.gas_used < gas, "a prefix: {} of {gas}", single.gas_used);
        assert!(report.speedup("in-process", "anvil-single").is_some());
        assert_eq!(report.parties, 18, "five suite roles, the agent and twelve investors");
    }
}

#[test]
fn sim_bench_measures_every_flow_and_prints_them_as_json() {
    let output = kessai()
        .args(["sim", "bench", "--trades", "6", "--investors", "4", "--skip-anvil", "--json"])
        .output()
        .expect("kessai runs");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let reports: Vec<bench::BenchReport> = serde_json::from_slice(&output.stdout).expect("a JSON list of reports");
    let flows: Vec<Settlement> = reports.iter().map(|r| r.options.flow).collect();
    assert_eq!(flows, [Settlement::Dcjpy, Settlement::Instructed, Settlement::Gross], "every flow, in order");
    for (report, per_settlement) in reports.iter().zip([5, 3, 2]) {
        let engines: Vec<&str> = report.engines.iter().map(|e| e.engine.as_str()).collect();
        assert_eq!(engines, ["in-process", "raw-revm"], "--skip-anvil");
        assert!(report.gas_identical);
        for e in &report.engines {
            assert_eq!(
                (e.settlements, e.transactions),
                (6, 6 * per_settlement),
                "{:?} {}",
                report.options.flow,
                e.engine
            );
        }
    }
}

#[test]
fn the_cli_writes_generated_files_and_replays_several_in_parallel_in_order() {
    let dir = std::env::temp_dir().join(format!("kessai-sim-gen-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let out = dir.join("market.toml");
    let generated = kessai()
        .args(["sim", "gen", "--investors", "6", "--trades-per-day", "10", "--seeds", "1..3", "--fail-expiry", "0.2"])
        .arg("--out")
        .arg(&out)
        .output()
        .expect("run kessai sim gen");
    assert!(generated.status.success(), "{}", String::from_utf8_lossy(&generated.stderr));
    let files: Vec<_> = [3, 1, 2].iter().map(|s| dir.join(format!("market-seed{s}.toml"))).collect();
    let run = kessai().args(["--json", "sim", "run"]).args(&files).output().expect("run kessai sim run");
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let reports: serde_json::Value = serde_json::from_slice(&run.stdout).expect("one JSON document");
    let names: Vec<&str> =
        reports.as_array().expect("an array").iter().filter_map(|r| r["report"]["scenario"].as_str()).collect();
    assert_eq!(
        names,
        ["generated market, seed 3 (gross)", "generated market, seed 1 (gross)", "generated market, seed 2 (gross)"]
    );
    let compare = kessai()
        .args([
            "--json",
            "sim",
            "gen",
            "--investors",
            "4",
            "--trades-per-day",
            "30",
            "--windows",
            "2",
            "--compare-netting",
        ])
        .output()
        .expect("run kessai sim gen --compare-netting");
    assert!(compare.status.success(), "{}", String::from_utf8_lossy(&compare.stderr));
    let c: serde_json::Value = serde_json::from_slice(&compare.stdout).expect("JSON");
    let moved = |model: &str| c[0][model]["cash_moved"].as_str().and_then(|v| v.parse::<u128>().ok()).unwrap_or(0);
    assert!(moved("netted") < moved("gross"), "{c}");
    let _ = std::fs::remove_dir_all(&dir);
}
