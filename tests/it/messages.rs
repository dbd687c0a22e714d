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

/// Runs `kessai deposit --rpc-url … --manifest … <args>` (text output).
fn deposit(m: &crate::support::cli::CliMarket, args: &[&str]) -> std::process::Output {
    kessai()
        .args(["deposit", "--rpc-url", &m.url, "--manifest"])
        .arg(&m.manifest)
        .args(args)
        .output()
        .expect("run kessai deposit")
}

#[tokio::test]
async fn signatures_capture_cleanly_and_cash_commands_say_what_they_did() {
    let mut m = cli_market("messages-cli").await;
    let (seller, buyer) = (m.p.seller, m.p.buyer);
    let (terms, _) = m.terms("t.json", seller, buyer, 10, 1_000);

    // `SIG=$(kessai trade … sign …)` captures the signature alone; the label goes to stderr.
    let buyer_s = buyer.to_string();
    let out =
        m.run(false, &["sign", "--terms", terms.to_str().unwrap(), "--id", "S-1", "--from", &buyer_s, "--for", "pay"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let signature = String::from_utf8(out.stdout).expect("utf-8");
    assert!(signature.trim().starts_with("0x") && signature.trim().len() >= 130, "only the signature: {signature:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("signature of"), "the label on stderr");

    // A malformed signature argument says what a signature looks like.
    let bad = m.step("settle-with-payment", &terms, "S-1", &["--buyer-sig", "0x1234"]);
    assert!(!bad.status.success());
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert!(stderr.contains("expected a 64- or 65-byte signature, but this one has 2 bytes"), "{stderr}");

    // Cash issued to a stranger: the sentence names the bank's registry and the command that fixes it.
    let stranger = kessai_deployer::anvil::dev_accounts()[9].to_string();
    let supply = m.suite.supplies(&mut m.chain).await.expect("supplies");
    let stderr = refused(&deposit(&m, &["issue", "--to", &stranger, "--amount", "5", "--ref", "R-0"]), "NotEligible");
    assert!(stderr.contains("the bank's customer registry for a deposit token"), "{stderr}");
    assert!(stderr.contains("kessai registry --registry bank register"), "{stderr}");
    assert_eq!(m.suite.supplies(&mut m.chain).await.expect("supplies"), supply, "nothing issued");

    // A mined cash command says what it did and the balance after it.
    let out = deposit(&m, &["issue", "--to", &seller.to_string(), "--amount", "5", "--ref", "R-1"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains(&format!("¥5 issued to {seller} against deposit R-1: tx ")), "{text}");
    assert!(text.contains(&format!("{seller} now holds ¥{} (0 held)", crate::support::cli::CASH + 5)), "{text}");

    // The registry shows class names, not numbers.
    let out = kessai()
        .args(["registry", "--rpc-url", &m.url, "--manifest"])
        .arg(&m.manifest)
        .args(["show", "--account", &seller.to_string()])
        .output()
        .expect("registry show");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("class retail"), "{text}");
}
