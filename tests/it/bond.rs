//! Straight bond payments: a coupon round for 1,000 holders in batches, retried without paying
//! anyone twice, correct when units move after the record date; redemption and default.

use crate::support::{
    self,
    bond::{COUPON, DAY, FACE, Kind, UNITS_EACH, bond_fixture, fixture, fixture_on, fixture_with},
    market::refused,
    on_revm_and_anvil,
};
use kessai_bindings::{
    alloy::{
        primitives::{Address, U256, keccak256},
        sol_types::{SolEvent, SolValue},
    },
    deposit_token::DepositToken,
    investor_registry::InvestorRegistry,
    security_token::SecurityToken as St,
    straight_bond::StraightBond as Bond,
};
use kessai_deployer::{DeployerError, chain::Chain};
use kessai_sim::demo;

/// Asserts that `$op` reverts with `$name` and that no units, cash or supply moved.
macro_rules! refuse {
    ($f:ident, $op:expr, $name:expr) => {{
        let before = $f.state().await;
        let name = reverted($op);
        assert_eq!(name, $name);
        assert_eq!($f.state().await, before, "{} moved something", $name);
    }};
}

fn reverted<T: std::fmt::Debug>(result: Result<T, DeployerError>) -> String {
    match result {
        Err(DeployerError::Revert(e)) => e.name,
        other => panic!("expected a revert, got {other:?}"),
    }
}

#[tokio::test]
async fn coupon_round_for_1000_holders_pays_each_once_in_retryable_batches() {
    let mut f = bond_fixture(1_000).await;
    assert_eq!(COUPON, 600);
    f.fund(1_000 * UNITS_EACH * COUPON, "COUPON-1-FUNDING").await;
    let first = f.holders[..10].to_vec();
    refuse!(f, f.pay(1, &first).await, "PaymentNotDue");
    assert_eq!(f.paid(1, &first).await, [false; 10], "an early batch marks nobody paid");

    // After the record date, holder 999 sells its units to holder 0: the coupon still goes to 999.
    let now = f.chain.timestamp().await.expect("time");
    f.chain.advance_time(f.coupon_dates[0] - 7 * DAY - now + 1).await.expect("past record date");
    let (h0, h999) = (f.holders[0], f.holders[999]);
    f.chain
        .send_call(h999, f.suite.security, &St::transferCall { to: h0, amount: U256::from(UNITS_EACH) })
        .await
        .expect("sell");
    f.chain.advance_time(7 * DAY).await.expect("payment date");

    let gas = f.coupon_round(250).await;
    let total: u64 = gas.iter().sum();
    println!("coupon round, 1,000 holders in 4 batches: {gas:?} gas, total {total}, per holder {}", total / 1_000);
    assert_eq!(f.cash(h0).await, U256::from(UNITS_EACH * COUPON), "holder 0 is paid for its record-date units only");
    assert_eq!(
        f.cash(h999).await,
        U256::from(UNITS_EACH * COUPON),
        "the seller is paid: it held them at the record date"
    );
    assert_eq!(f.cash(f.bond).await, U256::ZERO, "exactly the round was paid out");

    // Retrying any batch pays nobody again.
    let (_, paid) = f.pay(1, &f.holders.clone()[..250]).await.expect("retry");
    assert_eq!(paid, 0);
    assert_eq!(f.cash(h0).await, U256::from(UNITS_EACH * COUPON));
    let progress = f.chain.read(f.bond, &Bond::progressCall { payment: U256::from(1) }).await.expect("progress");
    assert_eq!(progress.paidUnits, progress.recordUnits);
    assert_eq!(progress.paidUnits, U256::from(1_000 * UNITS_EACH));
}

/// A coupon round for three holders in two batches, the second overlapping the first: each holder
/// is paid once, exactly the round leaves the bond, and a retry changes nothing.
async fn a_coupon_round_pays_each_holder_once_across_overlapping_batches<C: Chain>(chain: C) {
    let mut f = fixture_on(chain, 3, Kind::Bond).await;
    f.fund(3 * UNITS_EACH * COUPON, "COUPON-1-FUNDING").await;
    let holders = f.holders.clone();
    refuse!(f, f.pay(1, &holders).await, "PaymentNotDue");
    let now = f.chain.timestamp().await.expect("time");
    f.chain.advance_time(f.coupon_dates[0] - now + 1).await.expect("payment date");

    let (_, paid) = f.pay(1, &holders[..2]).await.expect("first batch");
    assert_eq!(paid, 2);
    assert_eq!(f.paid(1, &holders).await, [true, true, false]);
    let (_, paid) = f.pay(1, &holders).await.expect("second batch, overlapping the first");
    assert_eq!(paid, 1, "only the holder not yet paid");
    for h in &holders {
        assert_eq!(f.cash(*h).await, U256::from(UNITS_EACH * COUPON), "{h}");
    }
    assert_eq!(f.cash(f.bond).await, U256::ZERO, "exactly the round was paid out");
    let progress = f.chain.read(f.bond, &Bond::progressCall { payment: U256::from(1) }).await.expect("progress");
    assert_eq!((progress.paidUnits, progress.recordUnits), (U256::from(3 * UNITS_EACH), U256::from(3 * UNITS_EACH)));

    let before = f.state().await;
    let (_, paid) = f.pay(1, &holders).await.expect("retry");
    assert_eq!(paid, 0);
    assert_eq!(f.state().await, before, "a retried round moves nothing");
}

on_revm_and_anvil!(
    a_coupon_round_pays_each_holder_once_across_overlapping_batches,
    a_coupon_round_pays_each_holder_once_across_overlapping_batches_on_revm,
    a_coupon_round_pays_each_holder_once_across_overlapping_batches_on_anvil
);

#[tokio::test]
async fn a_holder_the_bank_refuses_stays_unpaid_and_is_paid_on_retry() {
    let mut f = bond_fixture(3).await;
    f.fund(3 * UNITS_EACH * COUPON, "FUND").await;
    let now = f.chain.timestamp().await.expect("time");
    f.chain.advance_time(f.coupon_dates[0] - now + 1).await.expect("payment date");
    let bank = support::parties().suite.bank;
    let blocked = f.holders[1];
    f.chain
        .send_call(bank, f.suite.deposit, &DepositToken::setAccountFrozenCall { account: blocked, frozen: true })
        .await
        .expect("bank freezes one customer");
    let (_, paid) = f.pay(1, &f.holders.clone()).await.expect("batch");
    assert_eq!(paid, 2);
    assert_eq!(f.cash(blocked).await, U256::ZERO);
    assert!(!f.chain.read(f.bond, &Bond::isPaidCall { payment: U256::from(1), holder: blocked }).await.expect("paid?"));
    f.chain
        .send_call(bank, f.suite.deposit, &DepositToken::setAccountFrozenCall { account: blocked, frozen: false })
        .await
        .expect("unfreeze");
    let (_, paid) = f.pay(1, &f.holders.clone()).await.expect("retry");
    assert_eq!(paid, 1);
    assert_eq!(f.cash(blocked).await, U256::from(UNITS_EACH * COUPON));
}

#[tokio::test]
async fn redemption_pays_face_value_cancels_units_and_ends_the_bond() {
    let mut f = bond_fixture(4).await;
    let per_holder = UNITS_EACH * (3 * COUPON + COUPON + FACE as u64);
    f.fund(4 * per_holder, "FUND-ALL").await;
    let now = f.chain.timestamp().await.expect("time");
    f.chain.advance_time(f.coupon_dates[3] - now + 1).await.expect("maturity");
    for payment in 1..=5 {
        let (_, paid) = f.pay(payment, &f.holders.clone()).await.expect("payment");
        assert_eq!(paid, 4, "payment {payment}");
    }
    for h in f.holders.clone() {
        assert_eq!(f.cash(h).await, U256::from(per_holder));
        let units = f.chain.read(f.suite.security, &St::balanceOfCall { account: h }).await.expect("units");
        assert_eq!(units, U256::ZERO, "units cancelled at redemption");
    }
    assert_eq!(f.status().await, 2, "Redeemed");
    refuse!(f, f.pay(5, &f.holders.clone()).await, "BondInvalidStatus");
    // A coupon stays payable after the redemption (review finding 4); everyone was paid, so a retry
    // pays nobody twice.
    let (_, paid) = f.pay(4, &f.holders.clone()).await.expect("coupon 4 after the redemption");
    assert_eq!(paid, 0);
    assert_eq!(f.status().await, 2, "still Redeemed");
    assert_eq!(f.paid(5, &f.holders.clone()).await, [true; 4]);
}

#[tokio::test]
async fn a_defaulted_bond_pays_nothing_and_green_reports_are_append_only_events() {
    let mut f = bond_fixture(2).await;
    f.fund(2 * UNITS_EACH * COUPON, "FUND").await;
    let issuer = support::parties().suite.issuer;
    let report = Bond::publishReportCall { contentHash: keccak256("impact-2026"), uri: "ipfs://impact-2026".into() };
    let receipt = f.chain.send_call(issuer, f.bond, &report).await.expect("report");
    let published = receipt.logs.iter().find_map(|l| Bond::ReportPublished::decode_log(l).ok()).expect("report event");
    assert_eq!((published.index, published.contentHash), (U256::ZERO, keccak256("impact-2026")));
    assert_eq!(f.chain.read(f.bond, &Bond::reportCountCall {}).await.expect("count"), U256::from(1));
    let logs_before = f.chain.logs(&[f.bond], 0, None).await.expect("logs").len();
    for stranger in [f.agent, f.holders[0], support::parties().suite.operator] {
        refuse!(f, f.chain.send_call(stranger, f.bond, &report).await, "AccessControlUnauthorizedAccount");
    }
    assert_eq!(
        f.chain.read(f.bond, &Bond::reportCountCall {}).await.expect("count"),
        U256::from(1),
        "a refused report is not appended"
    );
    assert_eq!(f.chain.logs(&[f.bond], 0, None).await.expect("logs").len(), logs_before, "nor announced");

    refuse!(
        f,
        f.chain.send_call(f.agent, f.bond, &Bond::declareDefaultCall {}).await,
        "AccessControlUnauthorizedAccount"
    );
    f.chain.send_call(issuer, f.bond, &Bond::declareDefaultCall {}).await.expect("default");
    assert_eq!(f.status().await, 4, "Defaulted");
    let now = f.chain.timestamp().await.expect("time");
    f.chain.advance_time(f.coupon_dates[0] - now + 1).await.expect("payment date");
    refuse!(f, f.pay(1, &f.holders.clone()).await, "BondInvalidStatus");
    assert_eq!(f.paid(1, &f.holders.clone()).await, [false; 2]);
    assert_eq!(f.status().await, 4, "still Defaulted");
    // Reports stay appendable after a default (investors still need the use-of-proceeds record).
    f.chain.send_call(issuer, f.bond, &report).await.expect("report after default");
    assert_eq!(f.chain.read(f.bond, &Bond::reportCountCall {}).await.expect("count"), U256::from(2));
}

#[tokio::test]
async fn municipal_bond_holders_claim_benefits_once_per_programme() {
    use kessai_bindings::municipal_bond::MunicipalBond as Muni;
    let mut f = fixture(3, Kind::Municipal).await;
    let p = support::parties();
    let (record_date, add) = f.benefit_programme("Lodging voucher, one per 5 units");
    refuse!(f, f.chain.send_call(f.agent, f.bond, &add).await, "AccessControlUnauthorizedAccount");
    f.chain.send_call(p.suite.issuer, f.bond, &add).await.expect("add programme");
    let (h0, h1, h2) = (f.holders[0], f.holders[1], f.holders[2]);
    let claim = Muni::claimBenefitCall { programme: U256::ZERO };
    refuse!(f, f.chain.send_call(h0, f.bond, &claim).await, "BenefitNotClaimable");

    let now = f.chain.timestamp().await.expect("time");
    f.chain.advance_time(record_date - now + 1).await.expect("past the record date");
    // Units bought after the record date earn nothing; units sold after it still count.
    f.chain.send_call(h2, f.suite.security, &St::transferCall { to: h1, amount: U256::from(10) }).await.expect("sell");
    let receipt = f.chain.send_call(h0, f.bond, &claim).await.expect("claim");
    let event = receipt.logs.iter().find_map(|l| Muni::BenefitClaimed::decode_log(l).ok()).expect("claim event");
    assert_eq!((event.holder, event.benefits), (h0, U256::from(2)));
    assert_eq!(event.claimRef, keccak256((f.bond, U256::ZERO, h0).abi_encode_params()));
    refuse!(f, f.chain.send_call(h0, f.bond, &claim).await, "BenefitAlreadyClaimed");
    let receipt = f.chain.send_call(h2, f.bond, &claim).await.expect("seller still claims");
    assert!(receipt.logs.iter().any(|l| Muni::BenefitClaimed::decode_log(l).is_ok()));
    let stranger = Address::repeat_byte(0x31);
    refuse!(f, f.chain.send_call(stranger, f.bond, &claim).await, "BenefitNotEntitled");
    f.chain
        .send_call(p.suite.registrar, f.suite.registry, &InvestorRegistry::revokeCall { account: h1 })
        .await
        .expect("revoke");
    refuse!(f, f.chain.send_call(h1, f.bond, &claim).await, "BenefitNotEntitled");
    f.chain.advance_time(31 * DAY).await.expect("window closes");
    refuse!(f, f.chain.send_call(h1, f.bond, &claim).await, "BenefitNotClaimable");
}

#[tokio::test]
async fn fund_distributions_and_termination_cancel_the_units() {
    use kessai_bindings::beneficiary_units::BeneficiaryUnits as Fund;
    let mut f = fixture(5, Kind::Fund).await;
    let manager = support::parties().suite.issuer;
    let now = f.chain.timestamp().await.expect("time");
    let declare = |record: u64, pay: u64, per_unit: u64, termination: bool| Fund::declarePaymentCall {
        recordDate: record,
        paymentDate: pay,
        perUnit: U256::from(per_unit),
        termination,
    };
    f.chain
        .send_call(manager, f.bond, &declare(now + 10 * DAY, now + 20 * DAY, 50, false))
        .await
        .expect("distribution");
    f.chain
        .send_call(manager, f.bond, &declare(now + 100 * DAY, now + 110 * DAY, 1_000, true))
        .await
        .expect("termination");
    let after = declare(now + 200 * DAY, now + 210 * DAY, 1, false);
    refuse!(f, f.chain.send_call(manager, f.bond, &after).await, "FundInvalidPayment");

    f.fund(5 * UNITS_EACH * (50 + 1_000), "FUND-DIST").await;
    refuse!(f, f.pay(1, &f.holders.clone()).await, "PaymentNotDue");
    f.chain.advance_time(20 * DAY).await.expect("distribution date");
    let (_, paid) = f.pay(1, &f.holders.clone()).await.expect("distribution");
    assert_eq!(paid, 5);
    f.chain.advance_time(100 * DAY).await.expect("term end");
    let (_, paid) = f.pay(2, &f.holders.clone()).await.expect("termination");
    assert_eq!(paid, 5);
    for h in f.holders.clone() {
        assert_eq!(f.cash(h).await, U256::from(UNITS_EACH * 1_050));
        let units = f.chain.read(f.suite.security, &St::balanceOfCall { account: h }).await.expect("units");
        assert_eq!(units, U256::ZERO);
    }
    assert!(f.chain.read(f.bond, &Fund::terminatedCall {}).await.expect("terminated"));
    let supply = f.chain.read(f.suite.security, &St::totalSupplyCall {}).await.expect("supply");
    assert_eq!(supply, U256::ZERO);
}

#[tokio::test]
async fn a_called_bond_redeems_on_the_call_date_and_cancels_later_coupons() {
    let mut f = bond_fixture(2).await;
    let issuer = support::parties().suite.issuer;
    let call = Bond::callBondCall { coupon: 2, pricePerUnit: 101_000 };
    refuse!(f, f.chain.send_call(f.agent, f.bond, &call).await, "AccessControlUnauthorizedAccount");
    let last = Bond::callBondCall { coupon: 4, pricePerUnit: 101_000 };
    refuse!(f, f.chain.send_call(issuer, f.bond, &last).await, "BondInvalidTerms");
    f.chain.send_call(issuer, f.bond, &call).await.expect("call");
    assert_eq!(f.chain.read(f.bond, &Bond::statusCall {}).await.expect("status"), 3, "Called");
    f.fund(2 * UNITS_EACH * (2 * COUPON + 101_000), "CALL").await;
    let now = f.chain.timestamp().await.expect("time");
    f.chain.advance_time(f.coupon_dates[1] - now + 1).await.expect("call date");
    for payment in [1, 2, 5] {
        let (_, paid) = f.pay(payment, &f.holders.clone()).await.expect("payment");
        assert_eq!(paid, 2, "payment {payment}");
    }
    f.chain.advance_time(200 * DAY).await.expect("third coupon date");
    refuse!(f, f.pay(3, &f.holders.clone()).await, "PaymentNotDue");
    for h in f.holders.clone() {
        assert_eq!(f.cash(h).await, U256::from(UNITS_EACH * (2 * COUPON + 101_000)));
    }
    assert_eq!(f.chain.read(f.bond, &Bond::statusCall {}).await.expect("status"), 2, "Redeemed");
}

/// Review finding 4: once the redemption round completed, the final coupon (due the same day) could
/// no longer be paid to the holders a first batch missed, and the cash the rounds no longer needed
/// stayed in the bond contract for good. Coupons stay payable after the redemption; the issuer takes
/// back only what no payment still owes, once the bond is redeemed.
#[tokio::test]
async fn coupons_stay_payable_after_the_redemption_and_only_leftover_cash_returns_to_the_issuer() {
    let mut f = bond_fixture(4).await;
    let issuer = support::parties().suite.issuer;
    let per_holder = UNITS_EACH * (4 * COUPON + FACE as u64);
    f.fund(4 * per_holder + 20_000, "FUND-ALL-AND-MORE").await;
    let leftover = |to: Address, amount: u64| Bond::returnLeftoverCall { to, amount: U256::from(amount) };
    refuse!(f, f.chain.send_call(issuer, f.bond, &leftover(issuer, 1)).await, "PaymentRoundsOpen");

    let now = f.chain.timestamp().await.expect("time");
    f.chain.advance_time(f.coupon_dates[3] - now + 1).await.expect("maturity");
    let holders = f.holders.clone();
    for payment in 1..=3 {
        f.pay(payment, &holders).await.expect("coupon");
    }
    let (first, rest) = holders.split_at(2);
    f.pay(4, first).await.expect("the final coupon, first batch");
    f.pay(5, &holders).await.expect("redemption");
    assert_eq!(f.status().await, 2, "Redeemed");

    // The final coupon is still owed to two holders: that cash is not leftover.
    let owed = 2 * UNITS_EACH * COUPON;
    assert_eq!(f.cash(f.bond).await, U256::from(owed + 20_000));
    let args = match f.chain.send_call(issuer, f.bond, &leftover(issuer, owed + 20_000)).await {
        Err(DeployerError::Revert(e)) => e.args,
        other => panic!("expected PaymentLeftoverExceeded, got {other:?}"),
    };
    assert_eq!(args, ["20000".to_string(), (owed + 20_000).to_string()]);
    refuse!(f, f.chain.send_call(issuer, f.bond, &leftover(issuer, owed + 20_000)).await, "PaymentLeftoverExceeded");
    refuse!(f, f.chain.send_call(f.agent, f.bond, &leftover(f.agent, 1)).await, "AccessControlUnauthorizedAccount");

    let (_, paid) = f.pay(4, rest).await.expect("the final coupon pays the rest after the redemption");
    assert_eq!(paid, 2);
    for h in holders.clone() {
        assert_eq!(f.cash(h).await, U256::from(per_holder), "every holder has every payment");
    }
    let (_, paid) = f.pay(4, &holders).await.expect("a retry pays nobody twice");
    assert_eq!(paid, 0);
    refuse!(f, f.pay(5, &holders).await, "BondInvalidStatus");

    let bank = support::parties().suite.bank;
    let r = demo::registration(f.chain.timestamp().await.expect("time"), "issuer");
    f.suite.register(&mut f.chain, f.suite.bank_registry, bank, issuer, r).await.expect("issuer is a customer");
    let receipt = f.chain.send_call(issuer, f.bond, &leftover(issuer, 20_000)).await.expect("leftover returned");
    let returned = receipt.logs.iter().find_map(|l| Bond::LeftoverReturned::decode_log_data(&l.data).ok());
    assert_eq!(returned.map(|e| (e.to, e.amount)), Some((issuer, U256::from(20_000))));
    assert_eq!(f.cash(f.bond).await, U256::ZERO);
    assert_eq!(f.cash(issuer).await, U256::from(20_000));
}

/// Review (same class as finding 3): a municipal-bond investor whose wallet was recovered after a
/// programme's record date lost its benefits (the record-date units sit on the lost wallet), while
/// whoever held the lost key could still claim them. The lost key now claims nothing; the wallet it
/// was (last) recovered to claims the lost wallet's benefits, once.
#[tokio::test]
async fn municipal_benefits_follow_wallet_recovery() {
    use kessai_bindings::municipal_bond::MunicipalBond as Muni;
    let mut f = fixture(2, Kind::Municipal).await;
    let p = support::parties();
    let (record_date, add) = f.benefit_programme("Local products, one per 5 units");
    f.chain.send_call(p.suite.issuer, f.bond, &add).await.expect("add programme");
    let now = f.chain.timestamp().await.expect("time");
    f.chain.advance_time(record_date - now + 1).await.expect("past the record date");
    let (lost, other) = (f.holders[0], f.holders[1]);
    let (w1, w2) = (Address::repeat_byte(0xa1), Address::repeat_byte(0xa2));
    for (from, to) in [(lost, w1), (w1, w2)] {
        let r = demo::registration(f.chain.timestamp().await.expect("time"), "recovered");
        f.suite.register(&mut f.chain, f.suite.registry, p.suite.registrar, to, r).await.expect("register");
        let call = St::recoverWalletCall { lostWallet: from, newWallet: to, documentRef: keccak256(to) };
        f.chain.send_call(p.suite.authority, f.suite.security, &call).await.expect("recover");
    }
    let claim = Muni::claimBenefitCall { programme: U256::ZERO };
    let claim_of = |holder| Muni::claimBenefitOfCall { programme: U256::ZERO, holder };
    refuse!(f, f.chain.send_call(lost, f.bond, &claim).await, "BenefitNotEntitled");
    refuse!(f, f.chain.send_call(w1, f.bond, &claim_of(lost)).await, "BenefitNotEntitled");
    refuse!(f, f.chain.send_call(other, f.bond, &claim_of(lost)).await, "BenefitNotEntitled");
    let receipt = f.chain.send_call(w2, f.bond, &claim_of(lost)).await.expect("the last wallet claims");
    let event = receipt.logs.iter().find_map(|l| Muni::BenefitClaimed::decode_log(l).ok()).expect("claim");
    assert_eq!((event.holder, event.benefits), (lost, U256::from(2)));
    let by = receipt.logs.iter().find_map(|l| Muni::BenefitClaimedByRecoveredWallet::decode_log(l).ok());
    assert_eq!(by.map(|e| (e.holder, e.wallet)), Some((lost, w2)));
    refuse!(f, f.chain.send_call(w2, f.bond, &claim_of(lost)).await, "BenefitAlreadyClaimed");
}

/// Review recommendation: the bond assumed its coupons were the unit token's record dates 1..n, so a
/// unit token with a record date of its own scheduled first could not carry the bond. The bond now
/// keeps the record number it was given for coupon 1; coupons pay on their own record dates.
/// Transfers between investors end at the redemption's record date, so the register it pays is final.
#[tokio::test]
async fn a_bond_keeps_its_record_numbers_and_transfers_end_at_the_redemption_record_date() {
    let mut f = fixture_with(support::revm(), 4, Kind::Bond, &[30 * DAY]).await;
    let record = |coupon: u16| Bond::recordOfCall { coupon };
    assert_eq!(f.chain.read(f.bond, &record(1)).await.expect("record"), 2, "record 1 is the issuer's own");
    assert_eq!(f.chain.read(f.bond, &record(4)).await.expect("record"), 5);
    let end = f.coupon_dates[3] - 7 * DAY;
    assert_eq!(f.chain.read(f.suite.security, &St::transfersEndCall {}).await.expect("end"), end);
    refuse!(f, f.chain.send_call(f.agent, f.bond, &Bond::scheduleRecordDatesCall {}).await, "BondRecordDatesScheduled");

    // A holder sells half its units after coupon 1's record date: the coupon pays the register of
    // that date (record 2), not the issuer's record date 1.
    let per_holder = UNITS_EACH * (4 * COUPON + FACE as u64);
    f.fund(4 * per_holder, "FUND-RECORDS").await;
    let (a, b) = (f.holders[0], f.holders[1]);
    let now = f.chain.timestamp().await.expect("time");
    f.chain.advance_time(f.coupon_dates[0] - 7 * DAY - now + 1).await.expect("past record 2");
    let half = St::transferCall { to: b, amount: U256::from(UNITS_EACH / 2) };
    f.chain.send_call(a, f.suite.security, &half).await.expect("transfer after the record date");
    let now = f.chain.timestamp().await.expect("time");
    f.chain.advance_time(f.coupon_dates[0] - now + 1).await.expect("coupon 1");
    f.pay(1, &f.holders.clone()).await.expect("coupon 1");
    assert_eq!(f.cash(a).await, U256::from(UNITS_EACH * COUPON), "paid on its record-date units");

    // Past the redemption's record date no units move between investors; the redemption pays.
    let now = f.chain.timestamp().await.expect("time");
    f.chain.advance_time(end - now).await.expect("the redemption's record date");
    let before = f.state().await;
    let moved = f.chain.send_call(b, f.suite.security, &St::transferCall { to: a, amount: U256::from(1) }).await;
    let args = refused(moved, "TokenTransferRestricted");
    assert_eq!(args[0], (kessai_bindings::Restriction::TransfersEnded as u8).to_string());
    assert_eq!(f.state().await, before, "nothing moved");
    let now = f.chain.timestamp().await.expect("time");
    f.chain.advance_time(f.coupon_dates[3] - now + 1).await.expect("maturity");
    for payment in 2..=5 {
        f.pay(payment, &f.holders.clone()).await.expect("payment");
    }
    assert_eq!(f.status().await, 2, "Redeemed");
}
