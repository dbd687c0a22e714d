//! The messages a user review found unclear, each now saying what happened and what to do: amounts
//! in terms files, a deadline already passed at creation, and keys asked for by their real source.

use crate::support::{
    cli::{cli_market, u},
    command as kessai, refused,
};
use kessai_bindings::alloy::primitives::U256;

/// Writes `json` as a terms file and runs `trade create` with it.
fn create_with(m: &crate::support::cli::CliMarket, name: &str, json: serde_json::Value) -> std::process::Output {
    let path = m.dir.join(name);
    std::fs::write(&path, json.to_string()).expect("write terms");
    m.step("create", &path, name, &[])
}

#[tokio::test]
async fn terms_amounts_and_deadlines_are_refused_with_what_to_write() {
    let mut m = cli_market("messages").await;
    let (seller, buyer, agent) = (m.p.seller, m.p.buyer, m.p.agent);
    let terms = |units: serde_json::Value, deadline: u64| {
        serde_json::json!({
            "seller": seller, "buyer": buyer, "agent": agent, "units": units, "amount": "1,000", "deadline": deadline
        })
    };
    let before = m.positions().await;

    // A negative amount names the amount and what an amount is (not "a 32 byte hex string").
    let stderr = refused(&create_with(&m, "negative", terms(serde_json::json!(-5), m.deadline)), "bad amount -5");
    assert!(stderr.contains("expected a whole number of units or yen, 0 or more"), "{stderr}");
    assert!(!stderr.contains("32 byte hex"), "{stderr}");

    // An amount beyond 2^256 says it does not fit, whether written as a number or as digits.
    let huge = format!("{}0", U256::MAX);
    let as_number: serde_json::Value = serde_json::from_str(&huge).expect("JSON number");
    let stderr = refused(&create_with(&m, "huge-number", terms(as_number, m.deadline)), "does not fit in 256 bits");
    assert!(!stderr.contains("i128"), "{stderr}");
    refused(&create_with(&m, "huge-digits", terms(serde_json::json!(huge), m.deadline)), "does not fit in 256 bits");

    // A deadline already passed is refused before anything is sent, saying what to change.
    let stderr = refused(&create_with(&m, "late", terms(serde_json::json!(10), 1)), "is not after the chain's time");
    assert!(stderr.contains("nothing was sent; write a later deadline"), "{stderr}");
    assert!(!stderr.contains("release it"), "a trade never created has nothing to release: {stderr}");
    assert_eq!(m.positions().await, before);

    // Amounts with separators are accepted: the same terms with a sane amount go through.
    let ok = create_with(&m, "fine", terms(serde_json::json!("1_0"), m.deadline));
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stderr));
    assert_eq!(m.positions().await.0.units_held, u(10));
    let _ = std::fs::remove_dir_all(&m.dir);
}

#[tokio::test]
async fn trade_status_loads_no_key_and_a_missing_key_names_the_keystores() {
    let m = cli_market("messages-keys").await;
    let dir = m.dir.join("keystores");
    std::fs::create_dir_all(&dir).expect("dir");
    let paths = crate::support::keystores(&dir, "pw");
    // Only the operator's keystore: the seller's key is missing.
    let list = paths[0].display().to_string();
    let terms = m.dir.join("t.json");
    let json = serde_json::json!({
        "seller": m.p.seller, "buyer": m.p.buyer, "units": 1, "amount": 1, "deadline": m.deadline
    });
    std::fs::write(&terms, json.to_string()).expect("terms");
    let run = |action: &str, password: bool| {
        let mut cmd = kessai();
        cmd.args(["trade", "--rpc-url", &m.url, "--manifest"])
            .arg(&m.manifest)
            .arg(action)
            .arg("--terms")
            .arg(&terms)
            .args(["--id", "K-1"])
            .env("KESSAI_KEYSTORE", &list)
            .stdin(std::process::Stdio::null());
        if password {
            cmd.env("KESSAI_KEYSTORE_PASSWORD", "pw");
        } else {
            cmd.env_remove("KESSAI_KEYSTORE_PASSWORD");
        }
        cmd.output().expect("run kessai trade")
    };
    let status = run("status", false);
    assert!(status.status.success(), "status needs no password: {}", String::from_utf8_lossy(&status.stderr));
    let stderr = refused(&run("create", true), "add its key to KESSAI_KEYSTORE");
    assert!(stderr.contains(&format!("no key for the seller {}", m.p.seller)), "{stderr}");
    let _ = std::fs::remove_dir_all(&m.dir);
}
