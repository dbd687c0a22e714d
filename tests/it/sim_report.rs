//! Reports of a scenario run: the HTML page holds its plots over time (balances and liquidity, gas by
//! operation, settlement outcomes) and the run's numbers, dates every step, tells refusals the
//! scenario expected apart from failures, needs nothing from the network, and renders in a browser
//! (headless Chromium) with its charts drawn; `kessai sim run --html` writes it, `--json` carries
//! the totals and the steps' times.

use crate::support::command as kessai;
use kessai_deployer::anvil;
use kessai_sim::{
    RevmChain, RevmOptions,
    report::{self, PageInfo, Zone, thousands, thousands_u256},
    scenario::{self, RunReport, model::Origin, run::StepResult},
};
use std::{
    path::{Path, PathBuf},
    process::Command,
};

fn example(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scenarios").join(name)
}

async fn replay(name: &str) -> RunReport {
    let scenario = scenario::load(example(name)).unwrap_or_else(|e| panic!("{e}"));
    let mut chain = RevmChain::new(&RevmOptions::default(), &anvil::dev_accounts());
    scenario::run::run(&mut chain, &scenario, &anvil::dev_signers(), |_| {}).await.expect("replays")
}

/// A fresh directory for one test's files.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("kessai-report-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// The `<svg id="…">…</svg>` element with this id.
fn svg<'a>(page: &'a str, id: &str) -> &'a str {
    let start = page.find(&format!("<svg id=\"{id}\"")).unwrap_or_else(|| panic!("the page has plot {id}"));
    let end = start + page[start..].find("</svg>").expect("closed") + "</svg>".len();
    &page[start..end]
}

/// The number in a line's `data-points="…"` (points of the series drawn).
fn points(path: &str) -> usize {
    let at = path.find("data-points=\"").expect("a series") + "data-points=\"".len();
    path[at..].split('"').next().and_then(|n| n.parse().ok()).expect("a count")
}

#[tokio::test]
async fn the_html_report_plots_balances_liquidity_gas_and_outcomes_with_the_runs_numbers() {
    let run = replay("failures.toml").await;
    let summary = report::summarize(&run);
    let page = report::html(
        &run,
        &PageInfo { engine: "revm".into(), file: Some("scenarios/failures.toml".into()), ..Default::default() },
    );

    // One self-contained file: no scripts, nothing fetched.
    assert!(page.starts_with("<!DOCTYPE html>") && page.trim_end().ends_with("</html>"));
    assert!(page.contains("<style>"), "inline CSS");
    for banned in ["<script", "src=\"http", "href=\"http", "@import", "url("] {
        assert!(!page.contains(banned), "the page must not contain {banned}");
    }
    assert!(page.contains("start: 2031-04-01T00:00:00Z (UTC)"), "the start as a date");

    // Balances over time: one series per watched holder, named in the legend, on a time axis.
    let holders: Vec<&str> = run.steps[0].state.iter().map(|h| h.holder.as_str()).collect();
    assert!(!holders.is_empty());
    let timeline = run.steps.iter().filter(|s| s.origin != Origin::Setup).count();
    for id in ["plot-units", "plot-cash"] {
        let plot = svg(&page, id);
        assert_eq!(plot.matches("<path ").count(), holders.len(), "{id}: one line per watched holder");
        for holder in &holders {
            assert!(plot.contains(&format!("<title>{holder}</title>")), "{id}: a line for {holder}");
        }
        // Setup is one point where it ends; then a point per timeline step.
        assert_eq!(points(plot), timeline + 1, "{id}: setup folded");
        assert!(plot.contains(">time (UTC)</text>") && plot.contains(">2031-04-01</text>"), "{id}: dates");
    }
    // Each point's tooltip: date, timeline step, value.
    let cash = svg(&page, "plot-cash");
    assert!(cash.contains("2031-04-01T00:00:08Z · after setup · buyer: ¥2,000,000"), "{cash}");
    assert!(cash.contains(&format!("· step #{timeline} ·")), "the last point is the last timeline step");
    // Liquidity: cash and units locked.
    assert!(svg(&page, "plot-locked-cash").contains("<path "));
    assert!(svg(&page, "plot-locked-units").contains("<path "));
    assert!(summary.peak_units_locked > kessai_bindings::alloy::primitives::U256::ZERO, "the failures lock units");

    // Gas by operation: a bar per step kind that mined something, with its total gas.
    let gas = svg(&page, "plot-gas");
    for k in summary.gas_by_kind.iter().filter(|k| k.transactions > 0) {
        assert!(gas.contains(&format!(">{}</text>", k.kind)), "a bar for {}", k.kind);
        assert!(gas.contains(&format!("{} gas", thousands(k.gas_used))), "the gas of {}", k.kind);
    }
    let by_kind: u64 = summary.gas_by_kind.iter().map(|k| k.gas_used).sum();
    assert_eq!(by_kind, run.totals().gas_used, "the bars add up to the run's gas");

    check_outcomes(&page, &run);
    check_numbers(&page, &run);
}

/// Settlement outcomes: trades by final state, every refusal by its error name — as expected here —
/// and no failure in red.
fn check_outcomes(page: &str, run: &RunReport) {
    let summary = report::summarize(run);
    let outcomes = svg(page, "plot-outcomes");
    let o = &summary.outcomes;
    assert!(o.settled > 0 && o.cancelled > 0 && o.expired > 0, "failures.toml settles, cancels and releases: {o:?}");
    for (label, n) in [("settled", o.settled), ("cancelled", o.cancelled), ("expired", o.expired)] {
        assert!(outcomes.contains(&format!(">{label}</text>")), "a bar for {label}");
        assert!(outcomes.contains(&format!(">{}</text></g>", thousands(n as u64))), "{label}: {n}");
    }
    let errors: Vec<&str> = run.steps.iter().filter_map(|s| s.result.error()).collect();
    assert!(errors.contains(&"TokenTransferRestricted") && errors.contains(&"DvPInvalidSignature"), "{errors:?}");
    for error in &errors {
        assert!(outcomes.contains(&format!("refused as expected: {error}")), "a bar for refusals with {error}");
    }
    let t = run.totals();
    let refused: usize = o.refused_as_expected.iter().map(|(_, n)| n).sum();
    assert_eq!((refused, o.refused_unexpectedly.len()), (t.failed, 0), "every refusal was expected");
    assert_eq!((t.refused_as_expected, t.not_as_expected), (t.failed, 0));
    assert!(page.contains(&format!(
        "<div class=\"card c-expected\" data-card=\"refused as expected\"><div class=\"v\">{}</div>",
        t.failed
    )));
    assert!(page.contains("<div class=\"card\" data-card=\"failed\"><div class=\"v\">0</div>"), "no failure in red");
    assert!(!page.contains("<tr class=\"failed\">"), "no row in red");
    assert_eq!(page.matches("<tr class=\"refused\">").count(), t.failed, "each expected refusal marked as such");
    // The restriction by its name, the error name unchanged.
    assert!(
        page.contains(
            "<span class=\"expected\">TokenTransferRestricted</span>(ReceiverNotEligible, seller, outsider, 100)"
        ),
        "the restriction's name"
    );
}

/// The numbers: totals, every step's date, gas, error and events, the final state.
fn check_numbers(page: &str, run: &RunReport) {
    let t = run.totals();
    for number in [thousands(t.gas_used), thousands(run.deployment_gas), thousands(t.transactions)] {
        assert!(page.contains(&number), "the page shows {number}");
    }
    assert!(page.contains(&format!("{} / {}", t.checks - t.failed_checks, t.checks)), "expectations held");
    let utc = Zone::default();
    for (i, step) in run.steps.iter().enumerate() {
        let date = utc.iso(run.time(i));
        assert!(page.contains(&format!("<time datetime=\"{date}\"")), "step {i}'s date {date}");
        if step.transactions > 0 {
            assert!(page.contains(&format!("<td class=\"n\">{}</td>", thousands(step.gas_used))), "step {i} gas");
        }
        if let StepResult::Failed { error, .. } = &step.result {
            assert!(page.contains(&format!("<span class=\"expected\">{error}</span>")), "step {i} error");
        }
        for event in &step.events {
            assert!(page.contains(&format!("{}.{}(", event.contract, event.name)), "step {i} event {}", event.name);
        }
    }
    assert!(page.contains("create trade too-dear: seller sells 500 units to buyer for ¥5,000,000"), "amounts grouped");
    for holder in run.final_state.holders.iter().filter(|h| !h.balances.units.is_zero()) {
        assert!(page.contains(&thousands_u256(holder.balances.units)), "{}'s final units", holder.holder);
    }
}

#[test]
fn sim_run_writes_the_html_report_and_json_carries_the_totals() {
    let dir = scratch("cli");
    let html = dir.join("report.html");
    let out = kessai()
        .args(["sim", "run"])
        .arg(example("dcjpy_pilot.toml"))
        .arg("--html")
        .arg(&html)
        .args(["--json", "--tz", "Asia/Tokyo"])
        .output()
        .expect("runs kessai");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    // --json prints JSON only (no progress line on stderr either: it is not a terminal here).
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON on stdout");
    let totals = &json["totals"];
    let gas = totals["gas_used"].as_u64().expect("totals.gas_used");
    let steps = json["report"]["steps"].as_array().expect("steps");
    assert_eq!(totals["steps"].as_u64(), Some(steps.len() as u64));
    let per_step: u64 = steps.iter().filter_map(|s| s["gas_used"].as_u64()).sum();
    assert_eq!(gas, per_step);
    assert_eq!((totals["refused_as_expected"].as_u64(), totals["not_as_expected"].as_u64()), (Some(0), Some(0)));
    // The steps' times stay unix seconds in JSON, whatever --tz says: one per step, in order.
    let times: Vec<u64> =
        json["report"]["step_times"].as_array().expect("step_times").iter().filter_map(|t| t.as_u64()).collect();
    assert_eq!(times.len(), steps.len());
    assert!(times.is_sorted() && times[0] > json["report"]["start"].as_u64().expect("start"));
    assert!(out.stderr.is_empty(), "{}", String::from_utf8_lossy(&out.stderr));

    let page = std::fs::read_to_string(&html).expect("the HTML report was written");
    for id in ["plot-units", "plot-cash", "plot-locked-cash", "plot-locked-units", "plot-gas", "plot-outcomes"] {
        assert!(page.contains(&format!("<svg id=\"{id}\"")), "plot {id}");
    }
    assert!(page.contains(&thousands(gas)), "the total gas");
    assert!(page.contains("DCJPY pilot"), "the scenario's name");
    assert!(page.contains("start: 2031-04-01T09:00:00+09:00 (Asia/Tokyo)"), "dates in the zone asked for");
    assert!(page.contains("<th>time (Asia/Tokyo)</th>") && page.contains(">time (Asia/Tokyo)</text>"));

    let out = kessai().args(["sim", "run"]).arg(example("dcjpy_pilot.toml")).args(["--tz", "Mars/Olympus"]).output();
    let stderr = String::from_utf8_lossy(&out.expect("runs kessai").stderr).to_string();
    assert!(stderr.contains("unknown time zone `Mars/Olympus`"), "{stderr}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Generates a small market (nobody watched) with `kessai sim gen`, replays it with `--html`, and
/// returns (the page's path, the text report).
fn generated_market(dir: &Path) -> (PathBuf, String) {
    let file = dir.join("market.toml");
    let gen_args =
        ["sim", "gen", "--trades-per-day", "40", "--investors", "12", "--days", "2", "--settlement", "netted"];
    let out = kessai().args(gen_args).args(["--fail-cash", "0.1", "--out"]).arg(&file).output().expect("runs kessai");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let html = dir.join("market.html");
    let out = kessai().args(["sim", "run"]).arg(&file).arg("--html").arg(&html).output().expect("runs kessai");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    (html, String::from_utf8(out.stdout).expect("utf-8"))
}

#[test]
fn a_market_that_watches_nobody_plots_every_trades_locks_and_settlements_per_hour() {
    let dir = scratch("market");
    let (html, text) = generated_market(&dir);
    let page = std::fs::read_to_string(&html).expect("the HTML report");
    assert!(!page.contains("<svg id=\"plot-units\""), "no holder to plot");
    let cash = svg(&page, "plot-locked-cash");
    assert!(cash.contains("<title>cash locked, all trades</title>") && points(cash) > 10, "{cash}");
    assert!(svg(&page, "plot-locked-units").contains("units locked, all trades"));
    let settled = svg(&page, "plot-settled");
    assert!(settled.matches("<rect class=\"column\"").count() >= 2, "settlements in two days' windows: {settled}");
    assert!(settled.contains(":00:00Z: ") && settled.contains(" trades settled</title>"), "{settled}");
    assert!(page.contains("<div class=\"k\">peak cash locked, all trades</div>"));
    assert!(!page.contains("<div class=\"v\">¥0</div><div class=\"k\">peak cash locked"), "netted buyers lock cash");

    // The text summary folds the long lists and keeps expected refusals apart from failures.
    let summary = &text[text.rfind("\ngenerated market").expect("the summary")..];
    assert!(summary.contains(" refused as expected, 0 failed); "), "{summary}");
    assert!(summary.contains("  refused as expected: TokenInsufficientFreeBalance ×"), "{summary}");
    assert!(summary.contains("more holders (`kessai sim run --json` lists every one)"), "{summary}");
    let trades = summary.lines().find(|l| l.starts_with("  trades: ")).expect("the trades");
    assert!(trades.ends_with(" more") && trades.matches(", ").count() < 12, "{trades}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Renders `page` in headless Chromium and returns the DOM it built (after any script ran; the
/// report has none). Fails when Chromium is missing: this test does not skip.
fn rendered_dom(page: &Path, dir: &Path) -> String {
    const CHROMIUM: &str = "/usr/bin/chromium";
    assert!(
        Path::new(CHROMIUM).exists(),
        "this test renders the HTML report in a browser, and {CHROMIUM} is missing: run `apt-get install -y chromium` \
         (Debian's package; .ci/run installs it)"
    );
    let profile = dir.join("chromium-profile");
    let out = Command::new("timeout")
        .args(["120", CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run"])
        .args(["--disable-background-networking", "--disable-component-update", "--disable-sync"])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg("--dump-dom")
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("runs chromium");
    assert!(out.status.success(), "chromium failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("utf-8 DOM")
}

#[test]
fn the_html_reports_render_in_a_browser_with_their_charts_drawn() {
    let dir = scratch("browser");
    // A scenario that watches holders, with dates in Tokyo.
    let html = dir.join("failures.html");
    let out = kessai()
        .args(["sim", "run"])
        .arg(example("failures.toml"))
        .arg("--html")
        .arg(&html)
        .args(["--tz", "Asia/Tokyo"])
        .output()
        .expect("runs kessai");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let dom = rendered_dom(&html, &dir);
    assert!(dom.contains("<title>kessai sim — Settlement failures</title>"), "the page loaded");
    for id in ["plot-units", "plot-cash", "plot-locked-cash", "plot-locked-units", "plot-gas", "plot-outcomes"] {
        let chart = svg(&dom, id);
        assert!(chart.contains("<path ") || chart.contains("<rect "), "{id} is drawn");
    }
    let units = svg(&dom, "plot-units");
    assert!(points(units) > 10 && units.matches("<circle class=\"point\"").count() > 10, "data points: {units}");
    assert!(units.contains("<text class=\"tick-date\"") && units.contains(">2031-04-01</text>"), "date ticks");
    assert!(units.contains("2031-04-01T09:00:09+09:00 · step #1 · seller: 1,000 units"), "a point's date");
    assert!(dom.contains("<time datetime=\"2031-04-01T09:00:09+09:00\""), "the steps' dates");
    assert!(dom.contains("refused as expected"));

    // A generated market: nobody watched, aggregate charts.
    let (html, _) = generated_market(&dir);
    let dom = rendered_dom(&html, &dir);
    assert!(points(svg(&dom, "plot-locked-cash")) > 10, "cash locked over every trade is drawn");
    assert!(svg(&dom, "plot-settled").contains("<rect class=\"column\""), "trades settled per hour are drawn");
    assert!(dom.contains("<time datetime=\"2026-01-02T"), "the steps' dates");
    let _ = std::fs::remove_dir_all(&dir);
}
