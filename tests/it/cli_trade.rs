//! `kessai trade` as an operator uses it: a deployed suite on Anvil, every step through the binary,
//! and the chain read back through the library after each one.

use crate::support::command as kessai;
use crate::support::refused;
use crate::support::{
    self,
    cli::{CASH, UNITS, cli_market, u},
};
use kessai_bindings::{
    alloy::primitives::{Bytes, hex},
    trade_id,
};
use kessai_deployer::{
    anvil,
    ops::{Position, SettleCheck},
    signing::{self, Instruction},
};
use std::process::Output;

/// Asserts that a step succeeded and printed one JSON document, and nothing else, on stdout.
fn json_out(out: &Output) -> serde_json::Value {
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("stdout is one JSON document")
}

/// Asserts a mined step's JSON receipt and the trade status it reports.
fn receipt(out: &Output, status: u8) -> serde_json::Value {
    let r = json_out(out);
    assert!(r["gas_used"].as_u64().expect("gas") > 21_000, "{r}");
    assert!(r["tx_hash"].as_str().is_some_and(|h| h.len() == 66), "{r}");
    assert_eq!(r["status"], status, "{r}");
    r
}

fn position(units: u64, units_held: u64, cash: u64, cash_held: u64) -> Position {
    Position { units: u(units), units_held: u(units_held), cash: u(cash), cash_held: u(cash_held) }
}

#[tokio::test]
async fn trade_commands_create_pay_approve_and_print_decoded_refusals() {
    let mut m = cli_market("lifecycle").await;
    let (seller, buyer) = (m.p.seller, m.p.buyer);
    let (terms, trade) = m.terms("t1.json", seller, buyer, 100, 1_000_000);
    let id = "CLI-T-1";
    let start = position(UNITS, 0, CASH, 0);
    assert_eq!(m.positions().await, (start, start));

    // The seller creates: its units are held; the check says the buyer's payment is awaited.
    let r = receipt(&m.step("create", &terms, id, &[]), 1);
    assert_eq!(r["id"], trade_id(seller, id).to_string(), "the reference becomes the seller's id");
    assert_eq!(r["flags"], serde_json::json!(["created"]));
    assert_eq!(m.positions().await, (position(UNITS, 100, CASH, 0), start));
    let s = json_out(&m.step("status", &terms, id, &[]));
    assert_eq!((s["status"].as_u64(), s["check"].as_str()), (Some(1), Some("awaiting_payment")), "{s}");
    assert_eq!(s["message"], SettleCheck::AwaitingPayment.message());
    let check = m.suite.can_settle(&mut m.chain, trade_id(seller, id), &trade).await.expect("check");
    assert_eq!(check, SettleCheck::AwaitingPayment);

    // The buyer's key is missing: a clear error naming it and KESSAI_KEYS, nothing sent.
    let operator_key = hex::encode_prefixed(anvil::dev_signers()[0].to_bytes());
    let out = kessai()
        .env("KESSAI_KEYS", &operator_key)
        .args(["trade", "--rpc-url", &m.url, "--manifest"])
        .arg(&m.manifest)
        .args(["pay", "--terms"])
        .arg(&terms)
        .args(["--id", id])
        .output()
        .expect("run");
    let stderr = refused(&out, "KESSAI_KEYS");
    assert!(stderr.contains(&buyer.to_string()) && !stderr.contains(&operator_key[2..]), "{stderr}");
    assert_eq!(m.status(seller, id).await, 1);

    // The buyer pays: its cash is held; a second payment is refused, decoded, and nothing moves.
    receipt(&m.step("pay", &terms, id, &[]), 3);
    let paid = (position(UNITS, 100, CASH, 0), position(UNITS, 0, CASH, 1_000_000));
    assert_eq!(m.positions().await, paid);
    let stderr = refused(&m.step("pay", &terms, id, &[]), "DvPInvalidStatus");
    assert!(stderr.contains("created, paid"), "the flags in words: {stderr}");
    assert_eq!(m.positions().await, paid);
    assert_eq!(m.status(seller, id).await, 3);

    // Only a party may cancel: another account is refused and nothing moves.
    let stranger = m.p.suite.issuer.to_string();
    let out = m.step("cancel", &terms, id, &["--from", &stranger]);
    refused(&out, "DvPUnauthorized");
    // With --json the refusal is JSON on stdout too: the decoded error, its arguments and sentence.
    let error: serde_json::Value = serde_json::from_slice(&out.stdout).expect("a JSON error");
    assert_eq!(error["error"]["revert"]["name"], "DvPUnauthorized");
    assert_eq!(error["error"]["revert"]["args"][1], stranger.as_str());
    let sentence = error["error"]["revert"]["message"].as_str().expect("sentence");
    assert!(sentence.contains("may not perform this step"), "{sentence}");
    assert!(sentence.contains("only the seller, the buyer or the agent may cancel"), "who may: {sentence}");
    assert_eq!(m.positions().await, paid);

    // The agent approves: both legs move in that transaction.
    receipt(&m.step("approve", &terms, id, &[]), 15);
    let settled = (position(UNITS - 100, 0, CASH + 1_000_000, 0), position(UNITS + 100, 0, CASH - 1_000_000, 0));
    assert_eq!(m.positions().await, settled);

    // Human status: the flags as words and the check's sentence.
    let out = m.run(false, &["status", "--terms", terms.to_str().expect("utf-8"), "--id", id]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("created, paid, approved, settled"), "{text}");
    assert!(text.contains(&SettleCheck::NotOpen.message()), "{text}");

    // A cancel after settlement is refused and nothing moves.
    refused(&m.step("cancel", &terms, id, &["--from", &seller.to_string()]), "DvPInvalidStatus");
    assert_eq!(m.positions().await, settled);
    let _ = std::fs::remove_dir_all(&m.dir);
}

#[tokio::test]
async fn trade_commands_sign_settle_signed_and_net_a_batch() {
    let mut m = cli_market("signed").await;
    let (seller, buyer) = (m.p.seller, m.p.buyer);
    let start = position(UNITS, 0, CASH, 0);

    // Both parties sign the same terms; the agent settles in one transaction from the signatures.
    let (terms, trade) = m.terms("signed.json", seller, buyer, 10, 100_000);
    let id = format!("{}", trade_id(seller, "CLI-SIGNED"));
    let mut signatures = Vec::new();
    let mut lock_signatures = Vec::new();
    for who in [seller, buyer] {
        let s = json_out(&m.step("sign", &terms, &id, &["--from", &who.to_string(), "--for", "settle"]));
        let signature: Bytes = s["signature"].as_str().expect("signature").parse().expect("hex");
        let (settle, lock) = (Instruction::Settle, Instruction::Lock);
        let key = support::key(who);
        let expected = signing::sign_trade(&key, 31_337, m.suite.dvp, trade_id(seller, "CLI-SIGNED"), &trade, settle)
            .expect("sign");
        assert_eq!(signature, expected, "the CLI signs what the library signs");
        assert_eq!(s["instruction"], "settle");
        assert_eq!(
            s["digest"],
            m.suite
                .trade_digest(&mut m.chain, trade_id(seller, "CLI-SIGNED"), &trade, settle)
                .await
                .expect("digest")
                .to_string()
        );
        signatures.push(signature.to_string());
        let lock_sig = json_out(&m.step("sign", &terms, &id, &["--from", &who.to_string(), "--for", "lock"]));
        assert_eq!(
            lock_sig["signature"].as_str().expect("signature").parse::<Bytes>().expect("hex"),
            signing::sign_trade(&key, 31_337, m.suite.dvp, trade_id(seller, "CLI-SIGNED"), &trade, lock).expect("sign"),
        );
        lock_signatures.push(lock_sig["signature"].as_str().expect("signature").to_string());
    }
    assert_eq!(m.positions().await, (start, start), "signing moves nothing");
    // Terms naming a token other than the manifest's are refused before anything is signed or sent.
    let foreign = m.dir.join("foreign.json");
    let mut text: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&terms).expect("terms")).expect("json");
    text["security"] = serde_json::json!(m.suite.deposit);
    std::fs::write(&foreign, text.to_string()).expect("write");
    let seller_text = seller.to_string();
    let sign_args = ["--from", seller_text.as_str(), "--for", "settle"];
    for (action, extra) in [("sign", &sign_args[..]), ("create", &[][..])] {
        let out = m.step(action, &foreign, &id, extra);
        assert!(!out.status.success(), "{action} with a foreign token");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("not this suite's"), "{action}: {stderr}");
    }
    assert_eq!(m.positions().await, (start, start), "nothing moved");
    // Signatures given for a locked creation do not settle: each path has its own signed type.
    let lock_sigs = ["--seller-sig", &lock_signatures[0], "--buyer-sig", &lock_signatures[1]];
    refused(&m.step("settle-signed", &terms, &id, &lock_sigs), "DvPInvalidSignature");
    assert_eq!(m.positions().await, (start, start), "a refused settlement moves nothing");
    let sigs = ["--seller-sig", &signatures[0], "--buyer-sig", &signatures[1]];
    let r = receipt(&m.step("settle-signed", &terms, &id, &sigs), 15);
    assert_eq!(r["id"].as_str(), Some(id.as_str()), "a 0x 32-byte reference is the id as is");
    let after_signed = (position(UNITS - 10, 0, CASH + 100_000, 0), position(UNITS + 10, 0, CASH - 100_000, 0));
    assert_eq!(m.positions().await, after_signed);
    // A replay of the same signatures is refused and nothing moves.
    refused(&m.step("settle-signed", &terms, &id, &sigs), "DvPTradeExists");
    assert_eq!(m.positions().await, after_signed);

    // Two opposite trades, each created by its seller and paid by its buyer, settle netted.
    let (t1, _) = m.terms("net1.json", seller, buyer, 10, 1_000_000);
    let (t2, _) = m.terms("net2.json", buyer, seller, 4, 600_000);
    for (terms, id) in [(&t1, "CLI-NET-1"), (&t2, "CLI-NET-2")] {
        receipt(&m.step("create", terms, id, &[]), 1);
        receipt(&m.step("pay", terms, id, &[]), 3);
    }
    let (t1s, t2s) = (t1.to_str().expect("utf-8"), t2.to_str().expect("utf-8"));
    let batch = ["batch", "--terms", t1s, "--id", "CLI-NET-1", "--terms", t2s, "--id", "CLI-NET-2", "--netted"];
    let b = json_out(&m.run(true, &batch));
    assert_eq!(
        (&b["trades"], &b["gross_cash"], &b["net_cash"], &b["liquidity_saved"]),
        (&"2".into(), &"1600000".into(), &"400000".into(), &"1200000".into()),
        "{b}"
    );
    assert_eq!((m.status(seller, "CLI-NET-1").await, m.status(buyer, "CLI-NET-2").await), (15, 15));
    let (s0, b0) = after_signed;
    let netted = (
        Position { units: s0.units - u(6), cash: s0.cash + u(400_000), ..s0 },
        Position { units: b0.units + u(6), cash: b0.cash - u(400_000), ..b0 },
    );
    assert_eq!(m.positions().await, netted, "every security leg delivered, only the net cash moved");
    let _ = std::fs::remove_dir_all(&m.dir);
}

#[test]
fn trade_reference_help_says_it_is_hashed() {
    let out = kessai().args(["trade", "create", "--help"]).output().expect("help");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("keccak256"), "{text}");
}
