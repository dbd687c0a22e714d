//! The cross-chain latency bench (`kessai xtrade bench`) as a smoke test: its library run on two
//! spawned Anvils with a few trades settles every one and reports ordered percentiles. No timing is
//! asserted: a benchmark never fails a build on one.

use kessai_deployer::xchain::bench::{BenchOptions, run};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_short_bench_settles_every_trade_and_reports_ordered_percentiles() {
    let options = BenchOptions { trades: 5, rate: 5.0, settle_timeout_s: 60, ..BenchOptions::default() };
    let report = run(&options, &mut |_| {}).await.unwrap_or_else(|e| panic!("the bench failed (it needs anvil): {e}"));
    assert_eq!((report.submitted, report.settled), (5, 5), "every trade locked, paid and delivered:\n{report}");
    assert_eq!(report.first_send_error, None);
    let l = report.latency;
    assert!(0.0 < l.p50 && l.p50 <= l.p90 && l.p90 <= l.p99 && l.p99 <= l.max, "{l:?}");
    assert!(l.mean <= l.max, "{l:?}");
    let stages = report.stages;
    let delivered = stages.delivered.expect("every trade was delivered");
    assert_eq!(delivered, l, "the delivery's milestone is the latency");
    let committed = stages.commit_included.expect("every trade was committed");
    assert!(committed.max <= delivered.max, "a commit comes before its delivery: {stages:?}");
    assert!(report.wall_s > 0.0 && report.throughput > 0.0);
    let text = report.to_string();
    assert!(text.contains("p50") && text.contains("goal p50 ≤ 4 s"), "{text}");
    let json = serde_json::to_value(&report).expect("json");
    assert_eq!(json["settled"], 5);
}
