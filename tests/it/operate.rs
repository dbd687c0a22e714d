//! Operating a deployed suite and integrating back offices, through the `kessai` binary on Anvil:
//! registry, security and bond commands (state read back after each, one decoded refusal each that
//! moves nothing), `verify`, the `watch` event stream resuming from its cursor, the `ledger` at a past
//! block, exported ABIs read by the pinned `cast`, and the bindings-only back-office example.

use crate::support;
use crate::support::command as kessai;
use crate::support::refused;
pub(crate) use crate::support::u;
use kessai_bindings::{
    alloy::primitives::{Address, U256, keccak256},
    security_token::SecurityToken as St,
    straight_bond::StraightBond as Bond,
    trade_id,
};
use kessai_deployer::{
    anvil::AnvilInstance,
    chain::Chain,
    events::{Cursor, EventStream, SuiteEvent},
    manifest::Manifest,
    ops::{Suite, Trade},
    plan::{self, BondSpec, Instrument},
    rpc::RpcChain,
};
use kessai_sim::demo::{self, DemoParties};
use serde_json::Value;
use std::{
    path::{Path, PathBuf},
    process::{Command, Output},
};

const DAY: u64 = 86_400;

/// A suite on a fresh Anvil with its manifest on disk.
struct Deployed {
    _node: AnvilInstance,
    chain: RpcChain,
    url: String,
    dir: PathBuf,
    manifest: PathBuf,
    suite: Suite,
    p: DemoParties,
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("kessai-operate-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

/// The demo suite deployed by `kessai deploy`.
async fn deployed(name: &str) -> Deployed {
    let (node, chain) = support::anvil();
    let url = node.endpoint();
    let dir = scratch(name);
    let manifest = dir.join("manifest.json");
    let out = kessai().args(["deploy", "--rpc-url", &url, "--out"]).arg(&manifest).output().expect("deploy");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let suite = Suite::from_deployment(&Manifest::read(&manifest).expect("manifest").deployment).expect("suite");
    Deployed { _node: node, chain, url, dir, manifest, suite, p: support::parties() }
}

impl Deployed {
    /// Runs `kessai [--json] <command> --rpc-url … --manifest … <args>`.
    fn run(&self, json: bool, command: &str, args: &[&str]) -> Output {
        let mut cmd = kessai();
        if json {
            cmd.arg("--json");
        }
        cmd.args([command, "--rpc-url", &self.url, "--manifest"]).arg(&self.manifest).args(args);
        cmd.output().expect("run kessai")
    }

    /// Registers `who` on both registries and gives it units and deposit tokens, through the library.
    async fn investor(&mut self, who: Address, units: u64, cash: u64) {
        let now = self.chain.timestamp().await.expect("time");
        let r = demo::registration(now, "investor");
        let s = self.suite;
        s.register(&mut self.chain, s.registry, self.p.suite.registrar, who, r).await.expect("register");
        s.register(&mut self.chain, s.bank_registry, self.p.suite.bank, who, r).await.expect("customer");
        if units > 0 {
            s.issue_security(&mut self.chain, self.p.suite.issuer, who, u(units)).await.expect("units");
        }
        if cash > 0 {
            let reference = keccak256(format!("OPERATE-{who}"));
            s.issue_deposit(&mut self.chain, self.p.suite.bank, who, u(cash), reference).await.expect("cash");
        }
    }

    /// A trade from the seller to the buyer with the demo agent.
    async fn trade(&mut self, units: u64, amount: u64) -> Trade {
        let now = self.chain.timestamp().await.expect("time");
        Trade {
            security: self.suite.security,
            seller: self.p.seller,
            buyer: self.p.buyer,
            cash: self.suite.deposit,
            agent: self.p.agent,
            units: u(units),
            amount: u(amount),
            deadline: demo::deadline_after(now),
        }
    }

    /// Creates, pays and approves (settles) trade `reference`.
    async fn settle(&mut self, reference: &str, units: u64, amount: u64) {
        let (id, trade) = (trade_id(self.p.seller, reference), self.trade(units, amount).await);
        let s = self.suite;
        s.create_trade(&mut self.chain, id, &trade).await.expect("create");
        s.pay(&mut self.chain, id, &trade).await.expect("pay");
        s.approve(&mut self.chain, id, &trade).await.expect("approve");
    }

    async fn units(&mut self, who: Address) -> U256 {
        self.chain.read(self.suite.security, &St::balanceOfCall { account: who }).await.expect("units")
    }

    async fn supply(&mut self) -> U256 {
        self.suite.supplies(&mut self.chain).await.expect("supplies").0
    }
}

/// Asserts that a command succeeded and printed one JSON document, and nothing else, on stdout.
fn json_ok(out: &Output) -> Value {
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("stdout is one JSON document")
}

/// Asserts a mined transaction's fields in a command's JSON.
fn mined(out: &Output) -> Value {
    let v = json_ok(out);
    assert!(v["tx_hash"].as_str().is_some_and(|h| h.len() == 66), "{v}");
    assert!(v["gas_used"].as_u64().is_some_and(|g| g > 21_000), "{v}");
    v
}

/// JSON lines on stdout, parsed as suite events.
fn events(out: &Output) -> Vec<SuiteEvent> {
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not an event line ({e}): {l}")))
        .collect()
}

#[tokio::test]
async fn registry_and_security_commands_change_the_chain_and_refuse_with_decoded_errors() {
    let mut d = deployed("registry").await;
    let (registry, bank_registry) = (d.suite.registry, d.suite.bank_registry);
    let investor = d.p.seller;
    let account = investor.to_string();

    // Register in the securities registry: the record is on chain, its data hashed.
    let now = d.chain.timestamp().await.expect("time");
    let expiry = (now + 400 * DAY).to_string();
    let register = ["register", "--account", &account, "--class", "professional", "--country", "392"];
    let v =
        mined(&d.run(true, "registry", &[&register[..], &["--kyc-expiry", &expiry, "--data", "CUST-0001"]].concat()));
    assert_eq!((v["status"].as_str(), v["eligible"].as_bool()), (Some("active"), Some(true)), "{v}");
    let record = d.suite.investor(&mut d.chain, registry, investor).await.expect("record");
    assert_eq!((record.status, record.class, record.country), (1, 1, 392));
    assert_eq!((record.kyc_expiry, record.data_hash), (now + 400 * DAY, keccak256("CUST-0001")));
    assert!(!d.suite.investor(&mut d.chain, bank_registry, investor).await.expect("bank").eligible, "only there");

    // The bank's customer registry, sent by the bank's key (found by its role).
    let v =
        mined(&d.run(true, "registry", &["--registry", "bank", "register", "--account", &account, "--data", "B-1"]));
    assert_eq!(v["registry"], "bank_registry");
    let customer = d.suite.investor(&mut d.chain, bank_registry, investor).await.expect("customer");
    assert!(customer.eligible && customer.kyc_expiry >= now + 365 * DAY, "{customer:?}");

    // A KYC expiry in the past is refused, decoded, and the record is unchanged.
    let before = d.suite.investor(&mut d.chain, registry, investor).await.expect("record");
    let past = (now - DAY).to_string();
    let out = d.run(true, "registry", &["register", "--account", &account, "--kyc-expiry", &past, "--data", "X"]);
    let stderr = refused(&out, "RegistryKycExpiryInPast");
    assert!(stderr.contains("renew the investor's KYC"), "the operator sentence: {stderr}");
    assert_eq!(d.suite.investor(&mut d.chain, registry, investor).await.expect("record"), before);

    // Issue and redeem units; the issuer's key is found by its role.
    let v = mined(&d.run(true, "security", &["issue", "--to", &account, "--units", "1000"]));
    assert_eq!((v["units"].as_str(), v["total_supply"].as_str()), (Some("1000"), Some("1000")), "{v}");
    assert_eq!((d.units(investor).await, d.supply().await), (u(1_000), u(1_000)));
    let v = mined(&d.run(true, "security", &["redeem", "--holder", &account, "--units", "250"]));
    assert_eq!(v["action"], "redeemed");
    assert_eq!((d.units(investor).await, d.supply().await), (u(750), u(750)));
    let out = d.run(false, "security", &["issue", "--to", &account, "--units", "5"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("now holds 755 units"), "text output");

    // Refusals: an unregistered receiver; more than the free balance; a sender without the role.
    let stranger = d.p.buyer.to_string();
    refused(&d.run(true, "security", &["issue", "--to", &stranger, "--units", "1"]), "TokenAccountNotEligible");
    refused(
        &d.run(true, "security", &["redeem", "--holder", &account, "--units", "756"]),
        "TokenInsufficientFreeBalance",
    );
    let operator = d.p.suite.operator.to_string();
    let out = d.run(true, "security", &["--from", &operator, "issue", "--to", &account, "--units", "1"]);
    refused(&out, "AccessControlUnauthorizedAccount");
    assert_eq!((d.units(investor).await, d.units(d.p.buyer).await, d.supply().await), (u(755), U256::ZERO, u(755)));

    // Revoke: no longer eligible; revoking again is refused and changes nothing.
    let v = mined(&d.run(true, "registry", &["revoke", "--account", &account]));
    assert_eq!((v["status"].as_str(), v["eligible"].as_bool()), (Some("revoked"), Some(false)), "{v}");
    let revoked = d.suite.investor(&mut d.chain, registry, investor).await.expect("record");
    assert_eq!((revoked.status, revoked.eligible), (2, false));
    refused(&d.run(true, "registry", &["revoke", "--account", &account]), "RegistryNotRegistered");
    assert_eq!(d.suite.investor(&mut d.chain, registry, investor).await.expect("record"), revoked);
    let shown = json_ok(&d.run(true, "registry", &["show", "--account", &account]));
    assert_eq!((shown["status"].as_str(), shown.get("tx_hash")), (Some("revoked"), None), "a read sends nothing");
    let _ = std::fs::remove_dir_all(&d.dir);
}

#[tokio::test]
async fn bond_coupon_pays_every_holder_once_in_batches_and_a_rerun_pays_nobody() {
    // A two-coupon bond deployed through the library, its manifest written for the CLI.
    let (node, mut chain) = support::anvil();
    let url = node.endpoint();
    let p = support::parties();
    let now = chain.timestamp().await.expect("time");
    let coupon_dates = vec![now + 30 * DAY, now + 60 * DAY];
    let mut spec = demo::demo_spec(&p);
    spec.instrument = Some(Instrument::Bond(BondSpec {
        face_value: 100_000,
        coupon_rate_bps: 120,
        coupons_per_year: 2,
        redemption_value: 100_000,
        issue_date: now,
        coupon_dates: coupon_dates.clone(),
        record_offset: (7 * DAY) as u32,
        paying_agent: p.agent,
        municipal: false,
    }));
    let deployment = plan::execute(&mut chain, &plan::suite_plan(&spec)).await.expect("deploy");
    let dir = scratch("bond");
    let manifest = dir.join("manifest.json");
    Manifest::new(deployment.clone()).write(&manifest).expect("manifest");
    let suite = Suite::from_deployment(&deployment).expect("suite");
    let bond = deployment.address(plan::labels::INSTRUMENT).expect("bond");

    // Five holders of 10, 20, 30, 40, 50 units; the bond holds cash for the coupon (¥600 a unit).
    let holders: Vec<Address> = (1..=5u64).map(|i| Address::left_padding_from(&(0xB000 + i).to_be_bytes())).collect();
    for (i, h) in holders.iter().enumerate() {
        let r = demo::registration(now, "holder");
        suite.register(&mut chain, suite.registry, p.suite.registrar, *h, r).await.expect("register");
        suite.register(&mut chain, suite.bank_registry, p.suite.bank, *h, r).await.expect("customer");
        suite.issue_security(&mut chain, p.suite.issuer, *h, u(10 * (i as u64 + 1))).await.expect("units");
    }
    const COUPON: u64 = 600;
    suite.issue_deposit(&mut chain, p.suite.bank, bond, u(150 * COUPON), keccak256("COUPON-1")).await.expect("fund");
    let run = |json: bool, args: &[&str]| {
        let mut cmd = kessai();
        if json {
            cmd.arg("--json");
        }
        cmd.args(["bond", "--rpc-url", &url, "--manifest"]).arg(&manifest).args(args).output().expect("run")
    };

    // After the record date but before the payment date: refused, decoded; nobody paid, no cash moved.
    chain.advance_time(coupon_dates[0] - 7 * DAY - now + 60).await.expect("past the record date");
    let out = run(true, &["coupon", "--payment", "1", "--batch", "2"]);
    let stderr = refused(&out, "PaymentNotDue");
    assert!(stderr.contains(&format!("not due until {}", coupon_dates[0])), "{stderr}");
    assert_eq!(paid_flags(&mut chain, bond, &holders).await, [false; 5]);
    assert_eq!(cash_of(&mut chain, suite.deposit, bond).await, u(150 * COUPON));

    // The dry run lists who is owed what and sends nothing.
    chain.advance_time(7 * DAY).await.expect("payment date");
    let plan = json_ok(&run(true, &["coupon", "--payment", "1", "--dry-run"]));
    assert_eq!((plan["needed"].as_str(), plan["owed"].as_array().map(Vec::len)), (Some("90000"), Some(5)), "{plan}");
    assert_eq!(paid_flags(&mut chain, bond, &holders).await, [false; 5]);

    // An earlier run paid the first two holders and stopped: the command pays the other three, in
    // batches of two, and reports the two as already paid.
    suite.pay_in_batches(&mut chain, p.agent, bond, 1, &holders[..2], 2).await.expect("earlier run");
    let round = json_ok(&run(true, &["coupon", "--payment", "1", "--batch", "2"]));
    assert_eq!(round["already_paid"], 2, "{round}");
    let batches = round["batches"].as_array().expect("batches");
    assert_eq!(batches.iter().map(|b| b["holders"].as_u64()).collect::<Vec<_>>(), [Some(2), Some(1)]);
    let paid_now: Vec<_> = round["paid"].as_array().expect("paid").iter().map(|p| p["holder"].clone()).collect();
    let expected: Vec<Value> = holders[2..].iter().map(|h| serde_json::json!(h)).collect();
    assert_eq!(paid_now, expected);
    assert_eq!((round["completed"].as_bool(), round["paid_units"].as_str()), (Some(true), Some("150")), "{round}");
    assert_eq!(paid_flags(&mut chain, bond, &holders).await, [true; 5]);
    for (i, h) in holders.iter().enumerate() {
        assert_eq!(
            cash_of(&mut chain, suite.deposit, *h).await,
            u(10 * (i as u64 + 1) * COUPON),
            "holder {i} paid once"
        );
    }
    assert_eq!(cash_of(&mut chain, suite.deposit, bond).await, U256::ZERO);

    // Running the round again pays nobody and sends nothing.
    let again = run(false, &["coupon", "--payment", "1", "--batch", "2"]);
    assert!(again.status.success(), "{}", String::from_utf8_lossy(&again.stderr));
    let text = String::from_utf8_lossy(&again.stdout);
    assert!(text.contains("paid 0 holders 0 in 0 transactions; 5 were already paid"), "{text}");
    assert!(text.contains("150 of 150 record-date units paid: payment complete"), "{text}");
    for (i, h) in holders.iter().enumerate() {
        assert_eq!(
            cash_of(&mut chain, suite.deposit, *h).await,
            u(10 * (i as u64 + 1) * COUPON),
            "holder {i} not paid twice"
        );
    }

    // The second coupon is due but the bond holds no cash: refused before anything is sent.
    chain.advance_time(coupon_dates[1] - coupon_dates[0]).await.expect("second coupon date");
    let stderr = refused(&run(true, &["coupon", "--payment", "2"]), "nothing was sent");
    assert!(stderr.contains("still owes 90000 to 5 holders"), "{stderr}");
    for h in &holders {
        let call = Bond::isPaidCall { payment: u(2), holder: *h };
        assert!(!chain.read(bond, &call).await.expect("paid?"), "nobody paid for coupon 2");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

async fn cash_of(chain: &mut RpcChain, token: Address, who: Address) -> U256 {
    let call = kessai_bindings::deposit_token::DepositToken::balanceOfCall { account: who };
    chain.read(token, &call).await.expect("cash")
}

/// Whether each holder is marked paid for coupon 1.
async fn paid_flags(chain: &mut RpcChain, bond: Address, holders: &[Address]) -> Vec<bool> {
    let mut flags = Vec::new();
    for h in holders {
        flags.push(chain.read(bond, &Bond::isPaidCall { payment: u(1), holder: *h }).await.expect("paid?"));
    }
    flags
}

#[tokio::test]
async fn verify_reports_ok_mismatch_and_no_code_per_contract() {
    let d = deployed("verify").await;
    let out = d.run(false, "verify", &[]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(text.lines().filter(|l| l.starts_with("OK ")).count(), 6, "{text}");
    let v = json_ok(&d.run(true, "verify", &[]));
    assert_eq!(v["ok"], true);

    // A manifest whose registry points at the deposit token, whose approvals desk points at an
    // account without code, and whose DvP code hash is wrong.
    let mut manifest = Manifest::read(&d.manifest).expect("manifest");
    let contracts = &mut manifest.deployment.contracts;
    contracts.get_mut("registry").expect("registry").address = d.suite.deposit;
    contracts.get_mut("approvals").expect("approvals").address = d.p.seller;
    contracts.get_mut("dvp").expect("dvp").code_hash = keccak256("not the code");
    let broken = d.dir.join("broken.json");
    manifest.write(&broken).expect("write");
    let run = |json: bool| {
        let mut cmd = kessai();
        if json {
            cmd.arg("--json");
        }
        cmd.args(["verify", "--rpc-url", &d.url, "--manifest"]).arg(&broken).output().expect("verify")
    };
    let out = run(false);
    assert!(!out.status.success(), "a problem exits non-zero");
    let text = String::from_utf8_lossy(&out.stdout);
    let line = |label: &str| text.lines().find(|l| l.split_whitespace().any(|w| w == label)).unwrap_or_default();
    assert!(line("registry").starts_with("MISMATCH") && line("registry").contains("InvestorRegistry"), "{text}");
    assert!(line("approvals").starts_with("NO CODE"), "{text}");
    assert!(line("dvp").starts_with("MISMATCH") && line("dvp").contains("manifest recorded"), "{text}");
    assert!(line("security").starts_with("OK"), "{text}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("3 of 6 contracts failed verification"));
    let out = run(true);
    assert!(!out.status.success());
    let v: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let status = |label: &str| {
        v["contracts"].as_array().expect("contracts").iter().find(|c| c["label"] == label).expect("label")["status"]
            .clone()
    };
    assert_eq!(v["ok"], false);
    assert_eq!(
        [status("registry"), status("approvals"), status("dvp"), status("deposit")],
        ["mismatch", "no_code", "mismatch", "ok"]
    );
    let _ = std::fs::remove_dir_all(&d.dir);
}

#[tokio::test]
async fn watch_resumes_from_its_cursor_without_gaps_or_repeats() {
    let mut d = deployed("watch").await;
    let (seller, buyer) = (d.p.seller, d.p.buyer);
    d.investor(seller, 1_000, 0).await;
    d.investor(buyer, 0, 5_000_000).await;
    let cursor = d.dir.join("cursor.json");
    let cursor_arg = cursor.to_str().expect("utf-8");

    // Cut the first read inside a block: a settlement logs the approval, the settlement and both
    // legs' transfers together.
    d.settle("WATCH-0", 10, 100_000).await;
    let deployment = Manifest::read(&d.manifest).expect("manifest").deployment;
    let so_far = EventStream::new(&deployment, Cursor::at_block(0)).read_to_head(&mut d.chain).await.expect("events");
    let cut = (1..so_far.len()).find(|&i| so_far[i].block == so_far[i - 1].block).expect("a block with two events");
    let first =
        events(&d.run(true, "watch", &["--from-block", "0", "--cursor", cursor_arg, "--limit", &cut.to_string()]));
    assert_eq!(first, so_far[..cut]);
    let saved = Cursor::load(&cursor).expect("cursor").expect("saved");
    assert_eq!(saved, so_far[cut].position());
    assert!(saved.log_index > 0, "the cursor is inside a block: {saved}");

    // The rest, then new events: a settled trade and a cancelled one.
    let second = events(&d.run(true, "watch", &["--cursor", cursor_arg]));
    assert_eq!(second, so_far[cut..]);
    d.settle("WATCH-1", 100, 1_000_000).await;
    let (id, trade) = (trade_id(d.p.seller, "WATCH-2"), d.trade(10, 100_000).await);
    d.suite.create_trade(&mut d.chain, id, &trade).await.expect("create");
    d.suite.cancel(&mut d.chain, seller, id, &trade).await.expect("cancel");
    let third = events(&d.run(true, "watch", &["--cursor", cursor_arg, "--from-block", "999999"]));
    assert!(!third.is_empty(), "the saved cursor wins over --from-block");

    // Nothing new: an empty read. Then one more event, read alone.
    assert!(events(&d.run(true, "watch", &["--cursor", cursor_arg])).is_empty());
    d.suite.issue_security(&mut d.chain, d.p.suite.issuer, buyer, u(7)).await.expect("issue");
    let fourth = events(&d.run(true, "watch", &["--cursor", cursor_arg]));
    assert_eq!(fourth.len(), 1);

    // The pieces are exactly one full read: nothing missed, nothing repeated.
    let full = events(&d.run(true, "watch", &["--from-block", "0"]));
    let pieces: Vec<SuiteEvent> = [first, second, third.clone(), fourth.clone()].concat();
    assert_eq!(pieces, full);
    let mut positions: Vec<Cursor> = full.iter().map(SuiteEvent::position).collect();
    positions.dedup();
    assert_eq!(positions.len(), full.len(), "each position once");
    let kinds: Vec<Value> = third.iter().map(|e| serde_json::to_value(e).expect("json")["event"].clone()).collect();
    for kind in ["trade_created", "trade_paid", "trade_approved", "trade_settled", "trade_cancelled", "transfer"] {
        assert!(kinds.contains(&kind.into()), "{kind} in {kinds:?}");
    }
    assert!(matches!(
        &fourth[0].event,
        kessai_deployer::events::EventKind::Issued { to, amount } if *to == buyer && *amount == u(7)
    ));
    assert!(full.iter().any(|e| serde_json::to_value(e).expect("json")["event"] == "deposit_issued"));

    // A damaged cursor file is refused, and left as it is for the operator to inspect.
    std::fs::write(&cursor, "not a cursor").expect("damage");
    refused(&d.run(true, "watch", &["--cursor", cursor_arg]), "cannot read the cursor");
    assert_eq!(std::fs::read_to_string(&cursor).expect("cursor"), "not a cursor");

    // Text lines, one per event.
    let out = d.run(false, "watch", &["--from-block", "0"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(text.lines().count(), full.len());
    assert!(text.contains(&format!("trade {} settled", trade_id(d.p.seller, "WATCH-1"))), "{text}");
    let _ = std::fs::remove_dir_all(&d.dir);
}

#[tokio::test]
async fn watch_follow_prints_new_events_as_they_are_mined_and_saves_its_cursor() {
    let mut d = deployed("follow").await;
    d.investor(d.p.seller, 1_000, 0).await;
    let cursor = d.dir.join("cursor.json");
    let mut child = kessai()
        .args(["--json", "watch", "--rpc-url", &d.url, "--manifest"])
        .arg(&d.manifest)
        .args(["--follow", "--poll-ms", "100", "--cursor"])
        .arg(&cursor)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("spawn watch --follow");
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let next = |what: &str| {
        let line = rx.recv_timeout(std::time::Duration::from_secs(10)).unwrap_or_else(|_| panic!("no {what} line"));
        serde_json::from_str::<SuiteEvent>(&line).expect("event line")
    };
    // Registrations and the issue so far, then an issue mined while following.
    for _ in 0..3 {
        next("setup");
    }
    d.suite.issue_security(&mut d.chain, d.p.suite.issuer, d.p.seller, u(5)).await.expect("issue");
    let live = next("live");
    assert!(matches!(live.event, kessai_deployer::events::EventKind::Issued { amount, .. } if amount == u(5)));
    // The cursor is saved right after the batch is printed.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let saved = loop {
        let saved = Cursor::load(&cursor).ok().flatten();
        if saved.is_some_and(|c| c > live.position()) || std::time::Instant::now() > deadline {
            break saved;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    child.kill().expect("stop watch");
    let _ = child.wait();
    assert!(saved.is_some_and(|c| c > live.position()), "{saved:?} is past the live event {}", live.position());
    // A restart from the saved cursor has nothing to repeat.
    assert!(events(&d.run(true, "watch", &["--cursor", cursor.to_str().expect("utf-8")])).is_empty());
    let _ = std::fs::remove_dir_all(&d.dir);
}

#[tokio::test]
async fn ledger_writes_the_holder_register_at_a_past_block_and_now() {
    let mut d = deployed("ledger").await;
    let (seller, buyer, authority) = (d.p.seller, d.p.buyer, d.p.suite.authority);
    d.investor(seller, 1_000, 0).await;
    d.investor(buyer, 0, 5_000_000).await;
    let past = d.chain.block_number().await.expect("block");

    // Later: a settled trade (300 units to the buyer), an open trade holding 100 of the seller's
    // units, 50 of the buyer's units frozen, and the seller's registration revoked.
    d.settle("LEDGER-1", 300, 3_000_000).await;
    let (id, trade) = (trade_id(d.p.seller, "LEDGER-2"), d.trade(100, 1_000_000).await);
    d.suite.create_trade(&mut d.chain, id, &trade).await.expect("create");
    let freeze = St::freezeUnitsCall { account: buyer, amount: u(50) };
    d.chain.send_call(authority, d.suite.security, &freeze).await.expect("freeze");
    d.suite.revoke(&mut d.chain, d.suite.registry, d.p.suite.registrar, seller).await.expect("revoke");

    let (csv_then, json_then) = (d.dir.join("then.csv"), d.dir.join("then.json"));
    let block = past.to_string();
    // `--json` alone prints the register on stdout.
    let printed = json_ok(&d.run(true, "ledger", &["--block", &block]));
    assert_eq!((printed["block"].as_u64(), printed["holders"].as_array().map(Vec::len)), (Some(past), Some(1)));
    let summary = json_ok(&{
        let mut cmd = kessai();
        cmd.args(["ledger", "--rpc-url", &d.url, "--manifest"]).arg(&d.manifest);
        cmd.args(["--block", &block, "--csv"]).arg(&csv_then).arg("--json").arg(&json_then);
        cmd.output().expect("ledger")
    });
    assert_eq!((summary["block"].as_u64(), summary["holders"].as_u64()), (Some(past), Some(1)), "{summary}");
    let csv = std::fs::read_to_string(&csv_then).expect("csv");
    assert_eq!(csv, format!("holder,units,held,frozen,account_frozen,eligible\n{seller},1000,0,0,false,true\n"));
    let then: Value = serde_json::from_str(&std::fs::read_to_string(&json_then).expect("json")).expect("JSON");
    assert_eq!((then["block"].as_u64(), then["total_supply"].as_str()), (Some(past), Some("1000")), "{then}");
    assert_eq!(then["holders"][0]["units"], "1000");

    // Now: both accounts, with held and frozen units and the seller no longer eligible.
    let (csv_now, json_now) = (d.dir.join("now.csv"), d.dir.join("now.json"));
    let mut cmd = kessai();
    cmd.args(["--json", "ledger", "--rpc-url", &d.url, "--manifest"]).arg(&d.manifest);
    let summary = json_ok(&cmd.arg("--csv").arg(&csv_now).arg(&json_now).output().expect("ledger"));
    assert_eq!(summary["holders"], 2);
    let mut rows = [format!("{seller},700,100,0,false,false"), format!("{buyer},300,0,50,false,true")];
    rows.sort();
    let csv = std::fs::read_to_string(&csv_now).expect("csv");
    assert_eq!(csv, format!("holder,units,held,frozen,account_frozen,eligible\n{}\n", rows.join("\n")));
    let now: Value = serde_json::from_str(&std::fs::read_to_string(&json_now).expect("json")).expect("JSON");
    assert_eq!(now["total_supply"], "1000");
    let seller_row = now["holders"].as_array().expect("holders").iter().find(|h| h["held"] == "100").expect("seller");
    assert_eq!((&seller_row["units"], &seller_row["eligible"]), (&"700".into(), &false.into()));

    // A block not mined yet is refused and no file is written.
    let future = (d.chain.block_number().await.expect("head") + 10).to_string();
    let csv_future = d.dir.join("future.csv");
    let out = d.run(true, "ledger", &["--block", &future, "--csv", csv_future.to_str().expect("utf-8")]);
    refused(&out, "is not mined yet");
    assert!(!csv_future.exists());

    // Without --json, a summary for a person; the register still goes to the CSV file.
    let out = d.run(false, "ledger", &["--block", &block]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains(&format!("at block {past}")) && text.contains("1 accounts ever held units"), "{text}");
    let _ = std::fs::remove_dir_all(&d.dir);
}

#[tokio::test]
async fn exported_abis_and_deployment_json_work_with_the_pinned_cast() {
    let mut d = deployed("abi").await;
    d.investor(d.p.seller, 1_000, 0).await;
    let abi_dir = d.dir.join("abi");
    let out = kessai().args(["abi", "--out"]).arg(&abi_dir).arg("--manifest").arg(&d.manifest).output().expect("abi");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    // Test fixtures are not exported (tests/it/exports.rs).
    for artifact in kessai_bindings::ARTIFACTS.iter().filter(|a| a.name != "ReentrantToken") {
        let path = abi_dir.join(format!("{}.abi.json", artifact.name));
        let abi: Value = serde_json::from_str(&std::fs::read_to_string(&path).expect("abi file")).expect("JSON");
        assert!(abi.as_array().is_some_and(|a| !a.is_empty()), "{} is a plain ABI array", path.display());
    }
    let deployment: Value =
        serde_json::from_str(&std::fs::read_to_string(abi_dir.join("deployment.json")).expect("file")).expect("JSON");
    assert_eq!(deployment["chainId"], 31_337);
    let contracts = deployment["contracts"].as_object().expect("contracts");
    assert_eq!(contracts.len(), 6);
    for (label, c) in contracts {
        assert!(abi_dir.join(c["abi"].as_str().expect("abi")).exists(), "{label}'s ABI file exists");
    }
    assert_eq!(contracts["dvp"]["abi"], "DvP.abi.json");
    let dvp = contracts["dvp"]["address"].as_str().expect("address").to_string();
    assert_eq!(dvp.parse::<Address>().expect("address"), d.suite.dvp);

    // The README's `cast call`, with the pinned cast, before and after a trade is created.
    let id = trade_id(d.p.seller, "CAST-1");
    let cast = Path::new(env!("CARGO_MANIFEST_DIR")).join("node_modules/.bin/cast");
    assert!(cast.exists(), "this test needs the pinned cast: run `npm ci` ({} is missing)", cast.display());
    let url = d.url.clone();
    let status = || {
        let out = Command::new(&cast)
            .args(["call", &dvp, "statusOf(bytes32)(uint8)", &id.to_string(), "--rpc-url", &url])
            .output()
            .expect("run cast");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    assert_eq!(status(), "0");
    let trade = d.trade(10, 100_000).await;
    d.suite.create_trade(&mut d.chain, id, &trade).await.expect("create");
    assert_eq!(status(), "1", "created");
    let _ = std::fs::remove_dir_all(&d.dir);
}

#[tokio::test]
async fn back_office_example_prints_trades_and_holders_through_the_bindings_alone() {
    let mut d = deployed("example").await;
    d.investor(d.p.seller, 1_000, 0).await;
    d.investor(d.p.buyer, 0, 5_000_000).await;
    d.settle("EXAMPLE-1", 100, 1_000_000).await;

    // Build the example (a no-op when `cargo build --examples` ran) and run it as a process.
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let build = Command::new(cargo)
        .args(["build", "--example", "back_office", "--message-format=json", "--manifest-path"])
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml"))
        .output()
        .expect("cargo build --example back_office");
    assert!(build.status.success(), "{}", String::from_utf8_lossy(&build.stderr));
    let executable = String::from_utf8_lossy(&build.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|m| m["reason"] == "compiler-artifact" && m["target"]["name"] == "back_office")
        .and_then(|m| m["executable"].as_str().map(PathBuf::from))
        .expect("the example's executable");
    let out = Command::new(executable).arg(&d.url).arg(&d.manifest).output().expect("run the example");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    let id = trade_id(d.p.seller, "EXAMPLE-1");
    for line in ["created", "paid", "approved by", "settled"] {
        assert!(text.contains(&format!("trade {id} {line}")), "{line}: {text}");
    }
    assert!(text.contains(&format!("{} 900 units (0 held)", d.p.seller)), "{text}");
    assert!(text.contains(&format!("{} 100 units (0 held)", d.p.buyer)), "{text}");
    assert!(text.contains("supply 1000"), "{text}");
    let _ = std::fs::remove_dir_all(&d.dir);
}
