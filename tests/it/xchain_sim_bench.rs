//! The cross-chain engines' benchmark (`kessai sim bench --cross-chain`) as a smoke test: a short run
//! on the in-process engine, raw revm and two spawned Anvils settles every trade on every engine
//! (each party's balances checked on both chains), with the same gas everywhere, and reports the
//! goals and the latency percentiles. No timing is asserted: a benchmark never fails a build on one.

use kessai_sim::xchain::bench::{XBenchOptions, run};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_short_cross_chain_bench_settles_every_trade_on_every_engine_with_the_same_gas() {
    let options = XBenchOptions { trades: 30, single_trades: 5, batch_size: 16, ..XBenchOptions::default() };
    let report = run(&options, &mut |_| {}).await.unwrap_or_else(|e| panic!("the bench failed (it needs anvil): {e}"));
    let names: Vec<(String, usize)> = report.engines.iter().map(|e| (e.engine.clone(), e.threads)).collect();
    let expected = [
        ("in-process", 1),
        ("in-process", 2),
        ("raw-revm", 1),
        ("raw-revm", 2),
        ("anvil-batched", 2),
        ("anvil-single", 1),
    ];
    assert_eq!(names, expected.map(|(e, t)| (e.to_string(), t)), "every engine ran:\n{report}");

    // Every engine settled every trade it was given: four transactions each, and every party's
    // balance on both chains (seller and buyer on A, payer and payee on B, per pair) as expected.
    let parties = 4 * report.pairs;
    for e in &report.engines {
        let settled = if e.engine == "anvil-single" { 5 } else { 30 };
        assert_eq!((e.settlements, e.transactions), (settled, 4 * settled), "{}:\n{report}", e.label());
        assert_eq!(e.balances_checked, parties, "{}: every party's balance checked:\n{report}", e.label());
        assert!(e.seconds > 0.0 && e.settlements_per_second > 0.0, "{e:?}");
    }

    // The same gas everywhere over the whole workload (Anvil one at a time settles only the first
    // five: the run itself compares every transaction it sent). Anvil may charge its known refund gap
    // on the Berlin asset chain, which is measured, not hidden.
    let reference = report.engine("in-process", 1).expect("in-process");
    for e in report.engines.iter().filter(|e| e.engine != "anvil-single") {
        assert_eq!(e.gas_asset - e.refund_gap, reference.gas_asset, "{}:\n{report}", e.label());
        assert_eq!(e.gas_payment, reference.gas_payment, "{}:\n{report}", e.label());
    }
    assert_eq!(report.gas_identical, report.anvil_refund_gap == 0);
    let g = report.gas_per_settlement;
    assert!(g.lock > 0 && g.deliver > 0 && g.pay > 0 && g.commit > 0, "{g:?}");

    // The goals, each measured, and the latencies.
    assert_eq!(report.goals.len(), 6, "{report}");
    assert!(report.goals.iter().all(|g| g.measured.is_some() && g.met.is_some()), "{:?}", report.goals);
    let simulated = report.simulated_latency;
    assert!(1.0 <= simulated.p50 && simulated.p50 <= simulated.p99, "{simulated:?}");
    let anvil = report.anvil_latency.expect("two Anvils one at a time ran");
    assert!(0.0 < anvil.p50 && anvil.p50 <= anvil.p99 && anvil.p99 <= anvil.max, "{anvil:?}");
    let text = report.to_string();
    for needle in ["settlements/s", "ratio", "goals", "≥ 3,000", "met", "p50", "p99", "gas per settlement"] {
        assert!(text.contains(needle), "`{needle}` in:\n{text}");
    }
    let json = serde_json::to_value(&report).expect("json");
    assert_eq!(json["engines"].as_array().map(Vec::len), Some(6));
    assert!(json["anvil_latency"]["p99"].is_number(), "{json}");
}
