//! Tests of the parent module.

use super::*;

#[test]
fn ticks_are_round_and_cover_the_maximum() {
    let (t, top) = ticks(1_234.0);
    assert_eq!(top, 1_250.0);
    assert_eq!(t, [0.0, 250.0, 500.0, 750.0, 1_000.0, 1_250.0]);
    assert_eq!(ticks(0.0).1, 1.0);
    assert!(ticks(7.0).1 >= 7.0);
}

#[test]
fn numbers_are_compact_on_axes_and_grouped_in_tables() {
    assert_eq!(compact(1_500.0), "1.5k");
    assert_eq!(compact(2_000_000.0), "2M");
    assert_eq!(compact(12.0), "12");
    assert_eq!(thousands(1_234_567), "1,234,567");
    assert_eq!(thousands(999), "999");
    assert_eq!(esc("<a href=\"x\">&</a>"), "&lt;a href=&quot;x&quot;&gt;&amp;&lt;/a&gt;");
}

#[test]
fn the_progress_line_template_is_valid_and_hidden_progress_takes_any_update() {
    assert!(indicatif::ProgressStyle::with_template(progress::TEMPLATE).is_ok());
    let p = Progress::hidden();
    p.set(0, 50);
    p.set(3, 50);
    assert_eq!(p.suspend(|| 7), 7);
    p.finish();
}

#[test]
fn dates_are_iso_8601_in_utc_an_iana_zone_or_a_fixed_offset() {
    let start = 1_932_768_000; // 2031-04-01T00:00:00Z
    assert_eq!(Zone::default().iso(start), "2031-04-01T00:00:00Z");
    assert_eq!(Zone::default().name(), "UTC");
    let tokyo: Zone = "Asia/Tokyo".parse().expect("an IANA zone");
    assert_eq!((tokyo.iso(start + 61), tokyo.name()), ("2031-04-01T09:01:01+09:00".to_string(), "Asia/Tokyo"));
    // Daylight saving time comes from the built-in tz database.
    let new_york: Zone = "America/New_York".parse().expect("an IANA zone");
    assert_eq!(new_york.iso(start), "2031-03-31T20:00:00-04:00");
    assert_eq!("-05:30".parse::<Zone>().expect("an offset").iso(start), "2031-03-31T18:30:00-05:30");
    assert_eq!("+0900".parse::<Zone>().expect("an offset").iso(start), "2031-04-01T09:00:00+09:00");
    assert_eq!("utc".parse::<Zone>().expect("UTC").iso(start), "2031-04-01T00:00:00Z");
    let err = "Asia/Tokio".parse::<Zone>().expect_err("no such zone");
    assert!(err.contains("unknown time zone `Asia/Tokio`") && err.contains("+09:00"), "{err}");
    assert!("+25:00".parse::<Zone>().is_err() && "+9".parse::<Zone>().is_err());
}

#[test]
fn time_axis_ticks_fall_on_round_local_times_and_month_starts() {
    let start = 1_932_768_000;
    let utc = Zone::default();
    // Seconds: times of day, the date under the first.
    let ticks = utc.ticks(start + 3, start + 21);
    let labels: Vec<&str> = ticks.iter().map(|t| t.label.as_str()).collect();
    assert_eq!(labels, ["00:00:05", "00:00:10", "00:00:15", "00:00:20"]);
    assert_eq!(ticks[0].date.as_deref(), Some("2031-04-01"));
    assert!(ticks[1..].iter().all(|t| t.date.is_none()));
    // Hours in Tokyo: local midnight and noon, with the date where it changes.
    let tokyo: Zone = "Asia/Tokyo".parse().expect("zone");
    let ticks = tokyo.ticks(start, start + 2 * 86_400);
    assert_eq!(ticks[0].at, start + 3 * 3_600, "the start is 09:00 JST: ticks every 6 hours from 12:00");
    assert_eq!((ticks[0].label.as_str(), ticks[0].date.as_deref()), ("12:00", Some("2031-04-01")));
    let midnight = ticks.iter().find(|t| t.label == "00:00").expect("a local midnight");
    assert_eq!(midnight.date.as_deref(), Some("2031-04-02"));
    // A year: first days of months.
    let labels: Vec<String> = utc.ticks(start, start + 365 * 86_400).into_iter().map(|t| t.label).collect();
    assert_eq!(labels[..3], ["2031-05-01", "2031-07-01", "2031-09-01"], "every other month, from January");
    assert!(labels.len() <= 8, "{labels:?}");
}

#[test]
fn amounts_get_thousands_separators_and_other_numbers_do_not() {
    assert_eq!(
        amounts("seller sells 1300 units to buyer for ¥1200000, deadline start+2d"),
        "seller sells 1,300 units to buyer for ¥1,200,000, deadline start+2d"
    );
    assert_eq!(
        amounts("seller: units 1000, units_held 100, cash 2000000"),
        "seller: units 1,000, units_held 100, cash 2,000,000"
    );
    assert_eq!(amounts("issuer redeems 25000 of bob's units"), "issuer redeems 25,000 of bob's units");
    // Names, references, unix times and numbers already grouped stay as they are.
    for text in ["trade t12345 against deposit DEP-100000", "deadline: 1932940800", "¥1,000,000 (1000 held)x", "#1234"]
    {
        let expected =
            if text.contains("(1000 held)") { "¥1,000,000 (1,000 held)x".to_string() } else { text.to_string() };
        assert_eq!(amounts(text), expected);
    }
}

#[test]
fn refused_transfers_name_their_restriction() {
    let args = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert_eq!(
        error_call("TokenTransferRestricted", &args(&["6", "alice", "bob", "800"])),
        "TokenTransferRestricted(InsufficientFreeBalance, alice, bob, 800)"
    );
    assert_eq!(
        error_call("TokenTransferRestricted", &args(&["3", "seller", "outsider", "100"])),
        "TokenTransferRestricted(ReceiverNotEligible, seller, outsider, 100)"
    );
    assert_eq!(
        error_call("DvPBatchCashRestricted", &args(&["bob", "13"])),
        "DvPBatchCashRestricted(bob, SenderBlocked)"
    );
    // Another error's numbers, and an unknown code, are left alone.
    assert_eq!(error_call("DvPTradeExpired", &args(&["t1", "6"])), "DvPTradeExpired(t1, 6)");
    assert_eq!(
        error_call("TokenTransferRestricted", &args(&["99", "a", "b", "1"])),
        "TokenTransferRestricted(99, a, b, 1)"
    );
}

#[test]
fn long_lists_fold_after_the_first_few() {
    let names: Vec<String> = (1..=10_000).map(|i| format!("t{i}")).collect();
    assert_eq!(fold(&names, 3), "t1, t2, t3, … and 9,997 more");
    assert_eq!(fold(&names[..3], 3), "t1, t2, t3");
}

/// A timeline step of kind `kind` with these events (contract `dvp`) and result.
fn step(index: usize, events: &[(&str, &[(&str, &str)])], result: StepResult, passed: bool) -> StepOutcome {
    use crate::scenario::{events::EventRecord, run::Check};
    StepOutcome {
        index,
        origin: Origin::Timeline { number: index + 1, line: 0 },
        kind: "pay".into(),
        description: "buyer pays ¥1200000 for trade t1".into(),
        note: None,
        result,
        gas_used: 1_234,
        transactions: 1,
        events: events
            .iter()
            .map(|(name, args)| EventRecord {
                contract: "dvp".into(),
                name: name.to_string(),
                args: args.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect(),
            })
            .collect(),
        state: Vec::new(),
        checks: vec![Check { expected: "fails with TokenTransferRestricted".into(), passed, found: None }],
    }
}

#[test]
fn locks_over_every_trade_follow_the_settlement_contracts_events() {
    let created = |id, units, amount| ("TradeCreated", vec![("id", id), ("units", units), ("amount", amount)]);
    let (c1, c2) = (created("t1", "100", "1000000"), created("t2", "50", "400000"));
    let ok = StepResult::Ok;
    let steps = [
        step(0, &[(c1.0, &c1.1), (c2.0, &c2.1)], ok.clone(), true),
        step(1, &[("TradePaid", &[("id", "t1")])], ok.clone(), true),
        step(2, &[("TradePaid", &[("id", "t1")]), ("TradeCancelled", &[("id", "t2")])], ok.clone(), true),
        step(3, &[("TradeSettled", &[("id", "t1")])], ok, true),
    ];
    let u = |n: u64| U256::from(n);
    assert_eq!(
        market_locks(&steps),
        [(u(0), u(150)), (u(1_000_000), u(150)), (u(1_000_000), u(100)), (u(0), u(0))],
        "units lock at creation, cash at payment (once), both return when the trade ends"
    );
}

#[test]
fn a_refusal_the_scenario_expected_is_not_a_failure_in_the_text_report() {
    let refused = StepResult::Failed {
        error: "TokenTransferRestricted".into(),
        args: ["6", "alice", "bob", "800"].map(String::from).to_vec(),
        message: "transfer of 800 refused".into(),
    };
    let tokyo: Zone = "Asia/Tokyo".parse().expect("zone");
    let expected = text::step(&step(17, &[], refused.clone(), true), 1_932_768_000, &tokyo);
    assert!(
        expected.starts_with(
            "   #18 2031-04-01T09:00:00+09:00 buyer pays ¥1,200,000 for trade t1 — refused as expected: \
             TokenTransferRestricted(InsufficientFreeBalance, alice, bob, 800)\n"
        ),
        "{expected}"
    );
    let unexpected = text::step(&step(17, &[], refused, false), 1_932_768_000, &tokyo);
    assert!(
        unexpected.contains("— FAILED TokenTransferRestricted(InsufficientFreeBalance, alice, bob, 800)"),
        "{unexpected}"
    );
    assert!(
        unexpected.contains("✗ expected fails with TokenTransferRestricted — found something else"),
        "{unexpected}"
    );
}
