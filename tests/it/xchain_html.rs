//! The HTML report of a cross-chain scenario (`kessai sim run FILE --html out.html`): written, and
//! naming every trade.

use std::path::PathBuf;

/// A fresh scratch directory for this test run.
fn scratch() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("kessai-xchain-html-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a scratch directory");
    dir
}

#[test]
fn kessai_sim_run_writes_the_html_report_of_a_cross_chain_file() {
    let file = format!("{}/scenarios/cross_chain_failures.toml", env!("CARGO_MANIFEST_DIR"));
    let page = scratch().join("x.html");
    let out = crate::support::command().args(["sim", "run", &file, "--html"]).arg(&page).output().expect("run");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains(&format!("HTML report: {}", page.display())), "{stdout}");
    let html = std::fs::read_to_string(&page).expect("the page was written");
    assert!(html.starts_with("<!DOCTYPE html>") && !html.contains("<script"), "self-contained");
    for trade in ["HALT-B", "PAID-A", "UNPAID-A", "ROTATED", "SKEWED"] {
        assert!(html.contains(&format!("<tr><td>{trade}</td>")), "{trade} in the trades table");
        assert!(html.contains(&format!("{trade}: locked on A at")), "{trade} on the timeline");
    }
    let _ = std::fs::remove_dir_all(page.parent().expect("the scratch directory"));
}
