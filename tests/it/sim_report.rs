//! Reports of a scenario run: the HTML page holds its plots (balances and liquidity over time, gas
//! by operation, settlement outcomes) and the run's numbers, needs nothing from the network, and
//! `kessai sim run --html` writes it; `--json` carries the totals.

use kessai_deployer::anvil;
use kessai_sim::{
    RevmChain, RevmOptions,
    report::{self, PageInfo, thousands, thousands_u256},
    scenario::{self, RunReport, run::StepResult},
};
use std::{path::PathBuf, process::Command};

fn example(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scenarios").join(name)
}

async fn replay(name: &str) -> RunReport {
    let scenario = scenario::load(example(name)).unwrap_or_else(|e| panic!("{e}"));
    let mut chain = RevmChain::new(&RevmOptions::default(), &anvil::dev_accounts());
    scenario::run::run(&mut chain, &scenario, &anvil::dev_signers(), |_| {}).await.expect("replays")
}

/// The `<svg id="…">…</svg>` element with this id.
fn svg<'a>(page: &'a str, id: &str) -> &'a str {
    let start = page.find(&format!("<svg id=\"{id}\"")).unwrap_or_else(|| panic!("the page has plot {id}"));
    let end = start + page[start..].find("</svg>").expect("closed") + "</svg>".len();
    &page[start..end]
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

    // Balances over time: one series per watched holder, named in the legend.
    let holders: Vec<&str> = run.steps[0].state.iter().map(|h| h.holder.as_str()).collect();
    assert!(!holders.is_empty());
    for id in ["plot-units", "plot-cash"] {
        let plot = svg(&page, id);
        assert_eq!(plot.matches("<path ").count(), holders.len(), "{id}: one line per watched holder");
        for holder in &holders {
            assert!(plot.contains(&format!("<title>{holder}</title>")), "{id}: a line for {holder}");
        }
    }
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

    // Settlement outcomes: trades by final state, and every refusal by its error name.
    let outcomes = svg(&page, "plot-outcomes");
    let o = &summary.outcomes;
    assert!(o.settled > 0 && o.cancelled > 0 && o.expired > 0, "failures.toml settles, cancels and releases: {o:?}");
    for (label, n) in [("settled", o.settled), ("cancelled", o.cancelled), ("expired", o.expired)] {
        assert!(outcomes.contains(&format!(">{label}</text>")), "a bar for {label}");
        assert!(outcomes.contains(&format!(">{}</text></g>", thousands(n as u64))), "{label}: {n}");
    }
    let errors: Vec<&str> = run.steps.iter().filter_map(|s| s.result.error()).collect();
    assert!(errors.contains(&"TokenTransferRestricted") && errors.contains(&"DvPInvalidSignature"), "{errors:?}");
    for error in &errors {
        assert!(outcomes.contains(&format!("refused: {error}")), "a bar for refusals with {error}");
    }
    let refused: usize = o.refused.iter().map(|(_, n)| n).sum();
    assert_eq!(refused, run.totals().failed);

    // The numbers: totals, every step's gas, error and events, the final state.
    let t = run.totals();
    for number in [thousands(t.gas_used), thousands(run.deployment_gas), thousands(t.transactions)] {
        assert!(page.contains(&number), "the page shows {number}");
    }
    assert!(page.contains(&format!("{} / {}", t.checks - t.failed_checks, t.checks)), "expectations held");
    for step in &run.steps {
        if step.transactions > 0 {
            assert!(
                page.contains(&format!("<td class=\"n\">{}</td>", thousands(step.gas_used))),
                "step {} gas",
                step.index
            );
        }
        if let StepResult::Failed { error, .. } = &step.result {
            assert!(page.contains(&format!("<span class=\"err\">{error}</span>")), "step {} error", step.index);
        }
        for event in &step.events {
            assert!(
                page.contains(&format!("{}.{}(", event.contract, event.name)),
                "step {} event {}",
                step.index,
                event.name
            );
        }
    }
    for holder in run.final_state.holders.iter().filter(|h| !h.balances.units.is_zero()) {
        assert!(page.contains(&thousands_u256(holder.balances.units)), "{}'s final units", holder.holder);
    }
}

#[test]
fn sim_run_writes_the_html_report_and_json_carries_the_totals() {
    let dir = std::env::temp_dir().join(format!("kessai-report-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let html = dir.join("report.html");
    let kessai = PathBuf::from(env!("CARGO_BIN_EXE_kessai"));
    let out = Command::new(&kessai)
        .args(["sim", "run"])
        .arg(example("dcjpy_pilot.toml"))
        .arg("--html")
        .arg(&html)
        .arg("--json")
        .output()
        .expect("runs kessai");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    // --json prints JSON only (no progress line on stderr either: it is not a terminal here).
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON on stdout");
    let totals = &json["totals"];
    let gas = totals["gas_used"].as_u64().expect("totals.gas_used");
    assert_eq!(totals["steps"].as_u64(), json["report"]["steps"].as_array().map(|s| s.len() as u64));
    let per_step: u64 =
        json["report"]["steps"].as_array().expect("steps").iter().filter_map(|s| s["gas_used"].as_u64()).sum();
    assert_eq!(gas, per_step);
    assert!(out.stderr.is_empty(), "{}", String::from_utf8_lossy(&out.stderr));

    let page = std::fs::read_to_string(&html).expect("the HTML report was written");
    for id in ["plot-units", "plot-cash", "plot-locked-cash", "plot-locked-units", "plot-gas", "plot-outcomes"] {
        assert!(page.contains(&format!("<svg id=\"{id}\"")), "plot {id}");
    }
    assert!(page.contains(&thousands(gas)), "the total gas");
    assert!(page.contains("DCJPY pilot"), "the scenario's name");
    let _ = std::fs::remove_dir_all(&dir);
}
