//! `kessai security`'s enforcement powers on a suite `kessai deploy` put on Anvil: whole-account and
//! partial freezes, forced transfers, wallet recovery, pause, and the transfer agent's decisions.
//! Each refusal is decoded by name and leaves every standing as it was.

use crate::support::{
    cli::{CliMarket, UNITS, cli_market, u},
    command as kessai, refused,
};
use kessai_bindings::alloy::primitives::{Address, B256, U256};
use kessai_deployer::{chain::Chain, ops::Standing};
use serde_json::Value;
use std::process::Output;

/// Runs `kessai --json security --rpc-url … --manifest … <args>`.
fn security(m: &CliMarket, args: &[&str]) -> Output {
    kessai()
        .args(["--json", "security", "--rpc-url", &m.url, "--manifest"])
        .arg(&m.manifest)
        .args(args)
        .output()
        .expect("run kessai security")
}

/// The JSON of a mined action.
fn mined(out: &Output) -> Value {
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert!(v["tx_hash"].is_string(), "{v}");
    v
}

async fn standing(m: &mut CliMarket, who: Address) -> Standing {
    m.suite.standing(&mut m.chain, who).await.expect("standing")
}

async fn both(m: &mut CliMarket) -> (Standing, Standing) {
    let (seller, buyer) = (m.p.seller, m.p.buyer);
    (standing(m, seller).await, standing(m, buyer).await)
}

#[tokio::test]
async fn freezes_forced_transfers_and_pause_act_and_refusals_change_nothing() {
    let mut m = cli_market("enforcement").await;
    let (seller, buyer) = (m.p.seller.to_string(), m.p.buyer.to_string());
    let seller_a = m.p.seller;

    // A whole-account freeze stops the seller's transfers; lifting it lets them through again.
    let v = mined(&security(&m, &["freeze", "--account", &seller]));
    assert_eq!((v["action"].as_str(), v["account_frozen"].as_bool()), (Some("frozen"), Some(true)), "{v}");
    let before = both(&mut m).await;
    let err = m.suite.transfer_security(&mut m.chain, m.p.seller, m.p.buyer, u(1)).await.expect_err("frozen");
    assert!(err.to_string().contains("TokenTransferRestricted"), "{err}");
    assert_eq!(both(&mut m).await, before);
    mined(&security(&m, &["unfreeze", "--account", &seller]));
    assert!(!standing(&mut m, seller_a).await.account_frozen);

    // Part of the units: zero, or more than the free units, is refused and changes nothing.
    let v = mined(&security(&m, &["freeze", "--account", &seller, "--units", "100"]));
    assert_eq!((v["action"].as_str(), v["units_frozen"].as_str()), (Some("units_frozen"), Some("100")), "{v}");
    let before = both(&mut m).await;
    refused(&security(&m, &["freeze", "--account", &seller, "--units", "0"]), "TokenZeroAmount");
    let too_many = (UNITS - 100 + 1).to_string();
    refused(&security(&m, &["freeze", "--account", &seller, "--units", &too_many]), "TokenInsufficientFreeBalance");
    refused(&security(&m, &["unfreeze", "--account", &seller, "--units", "101"]), "TokenInsufficientFrozen");
    assert_eq!(both(&mut m).await, before);

    // A forced transfer takes free units first, then frozen ones.
    let all = UNITS.to_string();
    let args = ["force-transfer", "--holder", &seller, "--to", &buyer, "--units", &all, "--reason", "court order 7"];
    let v = mined(&security(&m, &[&args[..], &["--document", "ORDER-7"]].concat()));
    assert_eq!(v["action"], "force_transferred");
    let (s, b) = both(&mut m).await;
    assert_eq!((s.units, s.units_frozen, b.units), (U256::ZERO, U256::ZERO, u(2 * UNITS)));

    // Hostile or mistaken orders: to oneself, more than held, by someone without ENFORCER_ROLE.
    let before = both(&mut m).await;
    let to_self = ["force-transfer", "--holder", &buyer, "--to", &buyer, "--units", "1", "--reason", "x"];
    refused(&security(&m, &[&to_self[..], &["--document", "D"]].concat()), "TokenForcedTransferToSelf");
    let over = ["force-transfer", "--holder", &seller, "--to", &buyer, "--units", "1", "--reason", "x"];
    refused(&security(&m, &[&over[..], &["--document", "D"]].concat()), "ERC20InsufficientBalance");
    let issuer = m.p.suite.issuer.to_string();
    let back = ["force-transfer", "--holder", &buyer, "--to", &seller, "--units", "1", "--reason", "x"];
    let out = security(&m, &[&["--from", issuer.as_str()][..], &back[..], &["--document", "D"]].concat());
    refused(&out, "AccessControlUnauthorizedAccount");
    assert_eq!(both(&mut m).await, before);

    // Pause: nothing moves until resumed.
    let v = mined(&security(&m, &["pause"]));
    assert_eq!((v["action"].as_str(), v["paused"].as_bool()), (Some("paused"), Some(true)));
    let out = kessai()
        .args(["--json", "security", "--rpc-url", &m.url, "--manifest"])
        .arg(&m.manifest)
        .args(["issue", "--to", &buyer, "--units", "1"])
        .output()
        .expect("issue while paused");
    refused(&out, "TokenPaused");
    assert_eq!(both(&mut m).await, before);
    let v = mined(&security(&m, &["resume"]));
    assert_eq!(v["paused"], false);
}

#[tokio::test]
async fn a_lost_wallet_is_recovered_once_and_transfer_requests_are_decided_by_the_agent() {
    let mut m = cli_market("recovery").await;
    let (seller, buyer) = (m.p.seller.to_string(), m.p.buyer.to_string());
    let seller_a = m.p.seller;
    let fresh = kessai_deployer::anvil::dev_accounts()[9];
    let now = m.chain.timestamp().await.expect("time");
    let r = kessai_sim::demo::registration(now, "investor");
    m.suite.register(&mut m.chain, m.suite.registry, m.p.suite.registrar, fresh, r).await.expect("register");

    // A request to transfer: the units are held until the agent decides.
    let receipt = m.suite.request_transfer(&mut m.chain, m.p.seller, m.p.buyer, u(10)).await.expect("request");
    let id: B256 = receipt.logs[0].topics()[1];
    assert_eq!(standing(&mut m, seller_a).await.units_held, u(10));
    let request = id.to_string();
    let v = mined(&security(&m, &["reject-transfer", "--request", &request, "--reason", "no"]));
    assert_eq!(v["action"], "transfer_rejected");
    assert_eq!(standing(&mut m, seller_a).await.units_held, U256::ZERO);
    let before = both(&mut m).await;
    refused(&security(&m, &["approve-transfer", "--request", &request]), "ApprovalRequestNotPending");
    assert_eq!(both(&mut m).await, before);

    // Recovery moves everything to the fresh wallet, once.
    let fresh_s = fresh.to_string();
    let v = mined(&security(&m, &["recover", "--lost", &seller, "--new", &fresh_s, "--document", "AFFIDAVIT-1"]));
    assert_eq!(v["action"], "recovered");
    assert_eq!(standing(&mut m, fresh).await.units, u(UNITS));
    assert_eq!(standing(&mut m, seller_a).await.units, U256::ZERO);
    let before = (both(&mut m).await, standing(&mut m, fresh).await);
    let again = ["recover", "--lost", &seller, "--new", &buyer, "--document", "AFFIDAVIT-2"];
    refused(&security(&m, &again), "TokenRecoveryInvalid");
    assert_eq!((both(&mut m).await, standing(&mut m, fresh).await), before);
}
