//! Tests of the parent module.

use super::*;

#[test]
fn the_generator_is_reproducible_by_seed() {
    let params = GenParams { investors: 8, trades_per_day: 30, days: 3, seed: 42, ..GenParams::default() };
    let a = Workload::generate(&params).expect("valid");
    let b = Workload::generate(&params).expect("valid");
    assert_eq!(a, b);
    let c = Workload::generate(&GenParams { seed: 43, ..params }).expect("valid");
    assert_ne!(a.trades, c.trades);
}

#[test]
fn failure_rates_pick_kinds_in_proportion() {
    let rates = FailureRates { ineligible: 0.1, cash: 0.1, agent_rejects: 0.1, expiry: 0.1 };
    let params = GenParams { investors: 30, trades_per_day: 2_000, days: 1, rates, ..GenParams::default() };
    let w = Workload::generate(&params).expect("valid");
    for (kind, n) in w.kinds() {
        let expected = if kind == TradeKind::Normal { 1_200 } else { 200 };
        assert!(n.abs_diff(expected) < expected / 4, "{kind:?}: {n}");
    }
    assert_eq!(w.outsiders.len(), 3, "a tenth of the investors are ineligible");
}

#[test]
fn bad_parameters_are_refused_with_the_reason() {
    let rates = FailureRates { cash: 0.7, expiry: 0.7, ..FailureRates::default() };
    let err = Workload::generate(&GenParams { rates, ..GenParams::default() }).expect_err("rates above 1");
    assert!(err.to_string().contains("add up to 1.4"), "{err}");
    let err = Workload::generate(&GenParams { investors: 1, ..GenParams::default() }).expect_err("one investor");
    assert!(err.to_string().contains("expected at least 2"), "{err}");
}

#[test]
fn party_keys_start_with_anvils_and_are_distinct() {
    let keys = party_keys(25);
    assert_eq!(keys.len(), 25);
    assert_eq!(keys[0].address(), anvil::dev_accounts()[0]);
    let mut addresses: Vec<_> = keys.iter().map(PrivateKeySigner::address).collect();
    addresses.sort();
    addresses.dedup();
    assert_eq!(addresses.len(), 25);
    assert_eq!(party_keys(3).len(), 3);
}
