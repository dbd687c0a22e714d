//! Restriction codes: the token's own message for every code, and every code `canTransfer` can
//! return read back as the same variant of the Rust enum.

use crate::support::{self, security::Fixture, u};
use kessai_bindings::{Restriction, alloy::primitives::Address, security_token::SecurityToken as St};
use kessai_deployer::chain::Chain;
use std::collections::{BTreeSet, HashSet};

#[tokio::test]
async fn message_for_gives_a_distinct_message_for_every_restriction_code() {
    let mut f = Fixture::new(support::revm()).await;
    let mut seen = HashSet::new();
    for r in Restriction::ALL {
        let message = f.read(St::messageForCall { code: r as u8 }).await;
        assert!(!message.trim().is_empty(), "{r:?} has no message");
        assert!(seen.insert(message.clone()), "{r:?} shares its message \"{message}\" with another code");
    }
    assert_eq!(seen.len(), Restriction::ALL.len());
    let beyond = Restriction::ALL.len() as u8;
    assert_eq!(Restriction::from_code(beyond), None);
    let unknown = f.chain.read(f.suite.security, &St::messageForCall { code: beyond }).await;
    assert!(unknown.is_err(), "code {beyond} is not a restriction, yet messageFor answered {unknown:?}");
}

#[tokio::test]
async fn every_can_transfer_code_round_trips_with_the_rust_enum() {
    let mut f = Fixture::new(support::revm()).await;
    let (alice, bob) = (f.alice, f.bob);
    let outsider = Address::repeat_byte(0x99);
    let mut seen = BTreeSet::new();

    // Each case: set the situation up, read the raw code, refuse the transfer with it, undo.
    seen.insert(raw(&mut f, alice, bob, 1, Restriction::None).await);

    f.operator(St::setPausedCall { paused_: true }).await.expect("pause");
    seen.insert(refused(&mut f, alice, bob, 1, Restriction::Paused).await);
    f.operator(St::setPausedCall { paused_: false }).await.expect("unpause");

    seen.insert(refused(&mut f, outsider, bob, 0, Restriction::SenderNotEligible).await);
    seen.insert(refused(&mut f, alice, outsider, 1, Restriction::ReceiverNotEligible).await);

    f.authority(St::setAccountFrozenCall { account: bob, frozen: true }).await.expect("freeze");
    seen.insert(refused(&mut f, bob, alice, 1, Restriction::SenderFrozen).await);
    seen.insert(refused(&mut f, alice, bob, 1, Restriction::ReceiverFrozen).await);
    f.authority(St::setAccountFrozenCall { account: bob, frozen: false }).await.expect("unfreeze");

    seen.insert(refused(&mut f, bob, alice, 101, Restriction::InsufficientFreeBalance).await);

    f.operator(rules(0b110, 0, 0, false)).await.expect("professional and institutional only");
    seen.insert(refused(&mut f, alice, bob, 1, Restriction::InvestorClassNotAllowed).await);
    f.operator(rules(0, 0, 0, false)).await.expect("rules off");

    f.operator(St::setCountryAllowedCall { country: 840, allowed: true }).await.expect("US only");
    f.operator(St::setCountryRuleCall { on: true }).await.expect("rule on");
    seen.insert(refused(&mut f, alice, bob, 1, Restriction::CountryNotAllowed).await);
    f.operator(St::setCountryRuleCall { on: false }).await.expect("off");

    f.operator(rules(0, 0, f.now + 86_400, false)).await.expect("lock-up");
    seen.insert(refused(&mut f, alice, bob, 1, Restriction::LockedUp).await);
    f.operator(rules(0, 0, 0, true)).await.expect("approval mode");
    seen.insert(refused(&mut f, alice, bob, 1, Restriction::ApprovalRequired).await);
    f.operator(rules(0, 0, 0, false)).await.expect("rules off");

    seen.insert(refused(&mut f, alice, Address::ZERO, 1, Restriction::InvalidReceiver).await);

    // The suite grants no blocklister on the security token: the admin appoints one.
    let role = f.read(St::BLOCKLISTER_ROLECall {}).await;
    let authority = f.p.suite.authority;
    f.operator(St::grantRoleCall { role, account: authority }).await.expect("grant blocklister");
    f.authority(St::setBlockedCall { account: bob, blocked: true }).await.expect("block");
    seen.insert(refused(&mut f, bob, alice, 1, Restriction::SenderBlocked).await);
    seen.insert(refused(&mut f, alice, bob, 1, Restriction::ReceiverBlocked).await);
    f.authority(St::setBlockedCall { account: bob, blocked: false }).await.expect("unblock");

    // The end of transfers (a bond's redemption record date) once it has passed; then removed.
    let now = f.chain.timestamp().await.expect("time");
    f.issuer(St::setTransfersEndCall { date: now + 60 }).await.expect("end of transfers");
    f.chain.advance_time(61).await.expect("past the end");
    seen.insert(refused(&mut f, alice, bob, 1, Restriction::TransfersEnded).await);
    f.issuer(St::setTransfersEndCall { date: 0 }).await.expect("no end");

    // A holder limit needs an empty supply: redeem everything, set it, and fill the one place.
    f.issuer(St::redeemCall { from: alice, amount: u(1_000) }).await.expect("redeem");
    f.issuer(St::redeemCall { from: bob, amount: u(100) }).await.expect("redeem");
    f.operator(rules(0, 1, 0, false)).await.expect("one holder");
    f.issuer(St::issueCall { to: alice, amount: u(10) }).await.expect("issue");
    seen.insert(refused(&mut f, alice, bob, 1, Restriction::HolderLimitReached).await);

    let all: BTreeSet<u8> = Restriction::ALL.iter().map(|r| *r as u8).collect();
    assert_eq!(seen, all, "every code is reachable and read back");
}

fn rules(allowed_classes: u8, max_holders: u32, lockup_until: u64, approval: bool) -> St::setRulesCall {
    St::setRulesCall {
        allowedClasses: allowed_classes,
        maxHolders: max_holders,
        lockupUntil: lockup_until,
        approvalRequired: approval,
    }
}

/// The raw code `canTransfer` returns, asserted to be `expected` and to read back as it.
async fn raw<C: Chain>(f: &mut Fixture<C>, from: Address, to: Address, amount: u64, expected: Restriction) -> u8 {
    let code = f.read(St::canTransferCall { from, to, amount: u(amount) }).await;
    assert_eq!(code, expected as u8, "canTransfer({from}, {to}, {amount})");
    assert_eq!(Restriction::from_code(code), Some(expected), "code {code}");
    code
}

/// As [`raw`], and the transfer itself is refused with the same code and moves nothing.
async fn refused<C: Chain>(f: &mut Fixture<C>, from: Address, to: Address, amount: u64, expected: Restriction) -> u8 {
    let code = raw(f, from, to, amount, expected).await;
    f.assert_refused(from, to, amount, expected).await;
    code
}
