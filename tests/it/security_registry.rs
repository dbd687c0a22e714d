//! The investor registry as the security token sees it: only registrars change it, registering an
//! existing investor updates (and re-activates) its record, and batches are all-or-nothing. Every
//! refusal asserts the decoded error and that no record, balance, hold or supply changed.

use crate::support::{
    self,
    security::{Fixture, refused, revert},
    u,
};
use kessai_bindings::{
    Restriction,
    alloy::{
        primitives::{Address, keccak256},
        sol_types::SolEvent,
    },
    investor_registry::InvestorRegistry as Reg,
    security_token::SecurityToken as St,
};
use kessai_deployer::chain::Chain;

const YEAR: u64 = 365 * 86_400;
const ACTIVE: u8 = 1;
const REVOKED: u8 = 2;

fn register(account: Address, class: u8, country: u16, kyc_expiry: u64, data: &str) -> Reg::registerCall {
    Reg::registerCall { account, investorClass: class, country, kycExpiry: kyc_expiry, dataHash: keccak256(data) }
}

#[tokio::test]
async fn only_a_registrar_registers_updates_or_revokes_investors() {
    let mut f = Fixture::new(support::revm()).await;
    let (alice, bob, carol) = (f.alice, f.bob, f.carol);
    let newcomer = Address::repeat_byte(0x42);
    f.watch_account(newcomer);
    let expiry = f.now + YEAR;
    let new = register(newcomer, 2, 392, expiry, "newcomer");
    let update = register(carol, 2, 840, expiry, "carol-v2");
    let batch = Reg::registerBatchCall {
        accounts: vec![newcomer],
        classes: vec![2],
        countries: vec![392],
        kycExpiries: vec![expiry],
        dataHashes: vec![keccak256("newcomer")],
    };
    let role = f.chain.read(f.suite.registry, &Reg::REGISTRAR_ROLECall {}).await.expect("role");

    // The registry's admin (the operator) is not a registrar: separation of duties.
    for stranger in [f.p.suite.operator, f.p.suite.issuer, f.p.suite.authority, f.p.agent, alice] {
        let err = revert(f.registry(stranger, new.clone()).await);
        assert_eq!(err.name, "AccessControlUnauthorizedAccount", "{err}");
        assert_eq!(err.args, [stranger.to_string(), role.to_string()], "{err}");
        refused!(f, f.registry(stranger, update.clone()).await, "AccessControlUnauthorizedAccount");
        refused!(f, f.registry(stranger, batch.clone()).await, "AccessControlUnauthorizedAccount");
        refused!(f, f.registry(stranger, Reg::revokeCall { account: bob }).await, "AccessControlUnauthorizedAccount");
        refused!(
            f,
            f.registry(stranger, Reg::revokeBatchCall { accounts: vec![bob, carol] }).await,
            "AccessControlUnauthorizedAccount"
        );
        refused!(
            f,
            f.registry(stranger, Reg::setFacilityCall { account: newcomer, isFacility: true }).await,
            "AccessControlUnauthorizedAccount"
        );
    }

    f.registry(f.p.suite.registrar, new).await.expect("the registrar registers");
    assert!(f.chain.read(f.suite.registry, &Reg::isEligibleCall { account: newcomer }).await.expect("eligible"));
    f.issuer(St::issueCall { to: newcomer, amount: u(1) }).await.expect("the newcomer may hold units");
}

#[tokio::test]
async fn registering_an_existing_investor_updates_its_record_and_the_tokens_see_it_at_once() {
    let mut f = Fixture::new(support::revm()).await;
    let (alice, bob, carol, registrar, registry) = (f.alice, f.bob, f.carol, f.p.suite.registrar, f.suite.registry);
    let later = f.now + 2 * YEAR;
    let receipt =
        f.chain.send_call(registrar, registry, &register(carol, 2, 840, later, "carol-v2")).await.expect("update");
    let event = receipt.logs.iter().find_map(|l| Reg::InvestorRegistered::decode_log(l).ok()).expect("event");
    assert_eq!(
        (event.account, event.investorClass, event.country, event.kycExpiry, event.dataHash),
        (carol, 2, 840, later, keccak256("carol-v2"))
    );
    let record = f.chain.read(registry, &Reg::investorOfCall { account: carol }).await.expect("record");
    assert_eq!((record.kycExpiry, record.country, record.investorClass, record.status), (later, 840, 2, ACTIVE));
    let hash = f.chain.read(registry, &Reg::dataHashOfCall { account: carol }).await.expect("hash");
    assert_eq!(hash, keccak256("carol-v2"), "the commitment to the off-chain record is replaced");

    // Institutional investors only: carol now qualifies, bob (retail) does not.
    let rules = St::setRulesCall { allowedClasses: 0b100, maxHolders: 0, lockupUntil: 0, approvalRequired: false };
    f.operator(rules).await.expect("institutional only");
    assert_eq!(f.restriction(alice, carol, 1).await, Restriction::None);
    f.assert_refused(alice, bob, 1, Restriction::InvestorClassNotAllowed).await;
    let rules = St::setRulesCall { allowedClasses: 0, maxHolders: 0, lockupUntil: 0, approvalRequired: false };
    f.operator(rules).await.expect("every class");
    // Japanese residents only: carol moved to the US.
    f.operator(St::setCountryAllowedCall { country: 392, allowed: true }).await.expect("JP only");
    f.operator(St::setCountryRuleCall { on: true }).await.expect("rule on");
    f.assert_refused(alice, carol, 1, Restriction::CountryNotAllowed).await;
    assert_eq!(f.restriction(alice, bob, 1).await, Restriction::None);
    f.operator(St::setCountryRuleCall { on: false }).await.expect("off");

    // Registering a revoked investor again re-activates it.
    f.registry(registrar, Reg::revokeCall { account: bob }).await.expect("revoke");
    f.assert_refused(alice, bob, 1, Restriction::ReceiverNotEligible).await;
    f.registry(registrar, register(bob, 0, 392, later, "bob-v2")).await.expect("re-register");
    f.send(alice, St::transferCall { to: bob, amount: u(1) }).await.expect("bob is eligible again");

    // Refused updates change nothing.
    let before = f.state().await;
    let now = f.chain.timestamp().await.expect("time");
    let err = revert(f.registry(registrar, register(carol, 0, 392, now, "carol-v3")).await);
    assert_eq!(err.name, "RegistryKycExpiryInPast", "{err}");
    assert_eq!(err.args, [carol.to_string(), now.to_string()], "{err}");
    assert_eq!(f.state().await, before, "a refused update changed something");
    refused!(f, f.registry(registrar, register(Address::ZERO, 0, 392, later, "nobody")).await, "RegistryZeroAddress");
}

#[tokio::test]
async fn batches_revoke_and_register_every_account_or_none() {
    let mut f = Fixture::new(support::revm()).await;
    let (alice, bob, carol, registrar, registry) = (f.alice, f.bob, f.carol, f.p.suite.registrar, f.suite.registry);
    let outsider = Address::repeat_byte(0x99);
    f.watch_account(outsider);

    let before = f.state().await;
    let err = revert(f.registry(registrar, Reg::revokeBatchCall { accounts: vec![bob, carol, outsider] }).await);
    assert_eq!(err.name, "RegistryNotRegistered", "{err}");
    assert_eq!(err.args, [outsider.to_string()], "{err}");
    assert_eq!(f.state().await, before, "bob and carol stay active when the batch fails");
    refused!(
        f,
        f.registry(registrar, Reg::revokeBatchCall { accounts: vec![bob, carol, bob] }).await,
        "RegistryNotRegistered"
    );

    let record_of = |who: Address| Reg::investorOfCall { account: who };
    let bob_record = f.chain.read(registry, &record_of(bob)).await.expect("record");
    f.registry(registrar, Reg::revokeBatchCall { accounts: vec![bob, carol] }).await.expect("revoke batch");
    for who in [bob, carol] {
        assert!(!f.chain.read(registry, &Reg::isEligibleCall { account: who }).await.expect("eligible"));
        let record = f.chain.read(registry, &record_of(who)).await.expect("record");
        assert_eq!(record.status, REVOKED);
        let hash = f.chain.read(registry, &Reg::dataHashOfCall { account: who }).await.expect("hash");
        assert_eq!(hash, keccak256(who), "the record stays for audit");
    }
    let bob_revoked = f.chain.read(registry, &record_of(bob)).await.expect("record");
    assert_eq!(
        (bob_revoked.kycExpiry, bob_revoked.country, bob_revoked.investorClass),
        (bob_record.kycExpiry, bob_record.country, bob_record.investorClass)
    );
    f.assert_refused(alice, bob, 1, Restriction::ReceiverNotEligible).await;
    f.assert_refused(bob, alice, 1, Restriction::SenderNotEligible).await;
    refused!(f, f.registry(registrar, Reg::revokeBatchCall { accounts: vec![bob] }).await, "RegistryNotRegistered");
    refused!(f, f.registry(registrar, Reg::revokeCall { account: carol }).await, "RegistryNotRegistered");

    // Registration batches are all-or-nothing too.
    let expiry = f.now + YEAR;
    let batch = |accounts: Vec<Address>, expiries: Vec<u64>| Reg::registerBatchCall {
        classes: vec![0; accounts.len()],
        countries: vec![392; accounts.len()],
        dataHashes: accounts.iter().map(keccak256).collect(),
        kycExpiries: expiries,
        accounts,
    };
    refused!(f, f.registry(registrar, batch(vec![bob, carol], vec![expiry])).await, "RegistryLengthMismatch");
    refused!(f, f.registry(registrar, batch(vec![bob, carol], vec![expiry, f.now])).await, "RegistryKycExpiryInPast");
    f.registry(registrar, batch(vec![bob, carol], vec![expiry, expiry])).await.expect("register batch");
    for who in [bob, carol] {
        let record = f.chain.read(registry, &record_of(who)).await.expect("record");
        assert_eq!((record.status, record.kycExpiry), (ACTIVE, expiry));
    }
    assert_eq!(f.restriction(alice, bob, 1).await, Restriction::None);
}
