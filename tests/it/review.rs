//! The attacks of the external contract review (issue 14), each run as described: every one must now
//! fail with a named error and move nothing (balances, held units, holder count, trade states).

use crate::support::{
    self,
    market::{Market, market, refuse},
    security::{Fixture, refused, revert},
    u,
};
use kessai_bindings::{
    Restriction,
    alloy::primitives::{Address, B256, U256, keccak256},
    security_token::SecurityToken as St,
    trade_id,
};
use kessai_deployer::{chain::Chain, signing::Instruction};

fn approval_mode(on: bool) -> St::setRulesCall {
    St::setRulesCall { allowedClasses: 0, maxHolders: 0, lockupUntil: 0, approvalRequired: on }
}

/// The holder count and the number of watched accounts with a non-zero balance, which it must equal
/// when every holder is watched.
async fn holders<C: Chain>(f: &mut Fixture<C>, accounts: &[Address]) -> (u32, u32) {
    let count = f.read(St::rulesCall {}).await.holderCount;
    let mut nonzero = 0;
    for &account in accounts {
        if f.read(St::balanceOfCall { account }).await != U256::ZERO {
            nonzero += 1;
        }
    }
    (count, nonzero)
}

/// Finding 1: a zero-unit `transferFrom` out of an empty account, sent by anyone, counted as "the
/// sender left". Zero-unit transfers stay valid ERC-20 calls, but they no longer move the count: the
/// limit keeps binding and whole-position exits keep working.
#[tokio::test]
async fn zero_unit_transfers_from_empty_accounts_cannot_empty_the_holder_count() {
    let mut f = Fixture::new(support::revm()).await;
    let (alice, bob, carol, attacker) = (f.alice, f.bob, f.carol, f.p.agent);
    f.issuer(St::redeemCall { from: alice, amount: u(1_000) }).await.expect("redeem");
    f.issuer(St::redeemCall { from: bob, amount: u(100) }).await.expect("redeem");
    let limit = St::setRulesCall { allowedClasses: 0, maxHolders: 2, lockupUntil: 0, approvalRequired: false };
    f.operator(limit).await.expect("limit");
    f.issuer(St::issueCall { to: alice, amount: u(10) }).await.expect("first holder");
    f.issuer(St::issueCall { to: bob, amount: u(10) }).await.expect("second holder");
    let everyone = [alice, bob, carol];
    assert_eq!(holders(&mut f, &everyone).await, (2, 2));

    // The attack: anyone, twice, moves zero units from carol (registered, empty) to a holder.
    let before = f.state().await;
    for _ in 0..2 {
        f.send(attacker, St::transferFromCall { from: carol, to: alice, amount: u(0) })
            .await
            .expect("a zero-unit transfer is a valid ERC-20 call");
    }
    assert_eq!(f.state().await, before, "zero units moved nothing");
    assert_eq!(holders(&mut f, &everyone).await, (2, 2), "the holder count did not move");

    // The limit still binds: a third holder is refused, by the code and by the transfer.
    f.assert_refused(alice, carol, 1, Restriction::HolderLimitReached).await;
    refused!(f, f.issuer(St::issueCall { to: carol, amount: u(1) }).await, "TokenTransferRestricted");
    assert_eq!(holders(&mut f, &everyone).await, (2, 2));

    // Whole-position exits still work and free a place, exactly once.
    f.send(bob, St::transferCall { to: alice, amount: u(10) }).await.expect("bob leaves");
    assert_eq!(holders(&mut f, &everyone).await, (1, 1));
    f.issuer(St::redeemCall { from: alice, amount: u(20) }).await.expect("alice redeems all");
    assert_eq!(holders(&mut f, &everyone).await, (0, 0));
    f.issuer(St::issueCall { to: carol, amount: u(5) }).await.expect("carol joins");
    assert_eq!(holders(&mut f, &everyone).await, (1, 1));
}

/// Finding 2a: with approval mode on, a holder held units for itself and executed its own hold to
/// move them without the transfer agent. A holder may not be its own notary, and a hold named for
/// any other account (a friend's wallet) moves units in approval mode only when its notary is one the
/// token's admin trusts (NOTARY_ROLE: the transfer agent's desk).
#[tokio::test]
async fn a_holder_cannot_notarise_its_own_hold_nor_move_units_past_approval_mode_through_a_hold() {
    let mut f = Fixture::new(support::revm()).await;
    let (alice, bob, friend) = (f.alice, f.bob, f.p.agent);
    f.operator(approval_mode(true)).await.expect("approval mode");
    let id = keccak256("self-notarised");
    let expiry = f.now + 86_400;
    f.watch_hold(alice, alice, id);

    refused!(f, f.send(alice, St::holdCall { notary: alice, id, amount: u(100), expiry }).await, "TokenHoldSelfNotary");
    refused!(
        f,
        f.send(alice, St::holdCall { notary: Address::ZERO, id, amount: u(100), expiry }).await,
        "TokenZeroAddress"
    );

    // A friend's wallet as notary: the hold is placed, but it cannot move units in approval mode.
    f.send(alice, St::holdCall { notary: friend, id, amount: u(100), expiry }).await.expect("hold for a friend");
    f.watch_hold(alice, friend, id);
    let before = f.state().await;
    let err = revert(f.send(friend, St::executeHoldCall { holder: alice, id, to: bob, amount: u(100) }).await);
    assert_eq!(err.name, "TokenTransferRestricted", "{err}");
    assert_eq!(err.args[0], (Restriction::ApprovalRequired as u8).to_string(), "{err}");
    assert_eq!(f.state().await, before, "the friend's execution moved nothing");

    // Out of approval mode the same hold executes like any transfer.
    f.operator(approval_mode(false)).await.expect("approval mode off");
    f.send(friend, St::executeHoldCall { holder: alice, id, to: bob, amount: u(100) }).await.expect("execute");
    assert_eq!(f.read(St::balanceOfCall { account: bob }).await, u(200));
}

/// Finding 2b: with approval mode on, a DvP trade without an agent at a price of ¥1 moved the units
/// without the transfer agent. The built-in DvP settles no security leg in approval mode (only a
/// notary holding NOTARY_ROLE may move units then); its locks can still be cancelled.
#[tokio::test]
async fn a_dvp_trade_cannot_move_units_past_approval_mode() {
    let mut m = market(support::revm()).await;
    m.chain.send_call(m.p.suite.operator, m.suite.security, &approval_mode(true)).await.expect("approval mode");
    let trade = m.trade(m.p.seller, m.p.buyer, 100, 1, Address::ZERO);
    let id = trade_id(m.p.seller, "one-yen");
    m.suite.create_trade(&mut m.chain, id, &trade).await.expect("create: the lock is harmless");
    let args = refuse!(m, &[id], "TokenTransferRestricted", m.suite.pay(&mut m.chain, id, &trade).await);
    assert_eq!(args[0], (Restriction::ApprovalRequired as u8).to_string());
    assert_eq!(
        m.check(id, &trade).await,
        kessai_deployer::ops::SettleCheck::SecurityLegRestricted(Restriction::ApprovalRequired)
    );
    // The one-transaction signed path is refused the same way.
    let signed = trade_id(m.p.seller, "one-yen-signed");
    let sigs = m.signatures(signed, &trade, Instruction::Settle).await;
    let args = refuse!(
        m,
        &[id, signed],
        "TokenTransferRestricted",
        m.suite.settle_signed(&mut m.chain, m.carol, signed, &trade, &sigs).await
    );
    assert_eq!(args[0], (Restriction::ApprovalRequired as u8).to_string());
    m.suite.cancel(&mut m.chain, m.p.seller, id, &trade).await.expect("the seller cancels");
    assert_eq!(m.position(m.p.seller).await.units_held, U256::ZERO);
}

/// Finding 2c: a hold with expiry 2^64 - 1 for a notary only the holder controls made
/// `forcedTransfer` revert (`TokenInsufficientFreeBalance`), so the holder defeated seizure. An order
/// now reaches held units in two named steps: the authority ends the hold (`forceReleaseHold`), then
/// the forced transfer takes free units, then frozen ones. A forced transfer that would need held
/// units is refused with `TokenUnitsHeld`, moving nothing; the ended hold can no longer execute.
#[tokio::test]
async fn forced_transfer_reaches_held_units_once_the_authority_ends_their_hold() {
    let mut f = Fixture::new(support::revm()).await;
    let (alice, carol, friend) = (f.alice, f.carol, f.p.agent);
    let id = keccak256("forever");
    f.send(alice, St::holdCall { notary: friend, id, amount: u(900), expiry: u64::MAX }).await.expect("hold");
    f.watch_hold(alice, friend, id);
    f.authority(St::freezeUnitsCall { account: alice, amount: u(60) }).await.expect("freeze");
    let seize = St::forcedTransferCall {
        from: alice,
        to: carol,
        amount: u(1_000),
        reason: "seizure order".into(),
        documentRef: keccak256("order-7"),
        courtOrderOverride: false,
    };
    refused!(f, f.authority(seize.clone()).await, "TokenUnitsHeld");

    // Only an enforcer ends another's hold.
    let order = keccak256("order-7");
    let end = St::forceReleaseHoldCall { holder: alice, notary: friend, id, documentRef: order };
    refused!(f, f.send(carol, end.clone()).await, "AccessControlUnauthorizedAccount");
    f.authority(end.clone()).await.expect("the authority ends the hold");
    assert_eq!(f.read(St::heldBalanceOfCall { account: alice }).await, u(0));
    assert_eq!(f.read(St::holdOfCall { holder: alice, notary: friend, id }).await._0, u(0));
    refused!(f, f.authority(end).await, "TokenHoldNotFound");

    f.authority(seize).await.expect("the seizure reaches the formerly held units");
    assert_eq!(f.read(St::balanceOfCall { account: alice }).await, u(0));
    assert_eq!(f.read(St::frozenBalanceOfCall { account: alice }).await, u(0));
    assert_eq!(f.read(St::balanceOfCall { account: carol }).await, u(1_000));

    refused!(
        f,
        f.send(friend, St::executeHoldCall { holder: alice, id, to: f.bob, amount: u(900) }).await,
        "TokenHoldNotFound"
    );
}

/// Finding 2c through the DvP: a trade whose deadline is 2^64 - 1 locks units that only the parties
/// could free. The authority ends the trade's lock by name and seizes; the trade can no longer settle,
/// and the parties' cancel still ends it and frees the buyer's payment.
#[tokio::test]
async fn forced_transfer_reaches_units_locked_in_a_trade_and_the_trade_still_cancels() {
    let mut m = market(support::revm()).await;
    let mut trade = m.standard();
    trade.deadline = u64::MAX;
    let id = trade_id(m.p.seller, "locked-forever");
    m.create_and_pay(id, &trade).await;
    let all = m.position(m.p.seller).await.units;
    let seize = St::forcedTransferCall {
        from: m.p.seller,
        to: m.carol,
        amount: all,
        reason: "seizure order".into(),
        documentRef: keccak256("order-8"),
        courtOrderOverride: false,
    };
    let authority = m.p.suite.authority;
    refuse!(m, &[id], "TokenUnitsHeld", m.chain.send_call(authority, m.suite.security, &seize).await);
    let end =
        St::forceReleaseHoldCall { holder: m.p.seller, notary: m.suite.dvp, id, documentRef: keccak256("order-8") };
    m.chain.send_call(authority, m.suite.security, &end).await.expect("the authority ends the trade's lock");
    m.chain.send_call(authority, m.suite.security, &seize).await.expect("the seizure reaches the units");
    assert_eq!(m.position(m.p.seller).await.units, U256::ZERO);
    assert_eq!(m.position(m.p.seller).await.units_held, U256::ZERO);
    refuse!(m, &[id], "TokenHoldNotFound", m.suite.approve(&mut m.chain, id, &trade).await);
    m.suite.cancel(&mut m.chain, m.p.buyer, id, &trade).await.expect("the buyer cancels");
    assert_eq!(m.position(m.p.buyer).await.cash_held, U256::ZERO, "the buyer's payment is free again");
}

/// Recovers `lost` to `new` on both tokens of the market (the authority on the security token, the
/// bank on the deposit token), registering `new` in both registries first.
async fn recover_everywhere<C: Chain>(m: &mut Market<C>, lost: Address, new: Address) {
    let now = m.chain.timestamp().await.expect("time");
    let r = kessai_sim::demo::registration(now, "investor");
    m.suite.register(&mut m.chain, m.suite.registry, m.p.suite.registrar, new, r).await.expect("register");
    m.suite.register(&mut m.chain, m.suite.bank_registry, m.p.suite.bank, new, r).await.expect("customer");
    let call = St::recoverWalletCall { lostWallet: lost, newWallet: new, documentRef: keccak256(new) };
    m.chain.send_call(m.p.suite.authority, m.suite.security, &call).await.expect("recover units");
    m.chain.send_call(m.p.suite.bank, m.suite.deposit, &call).await.expect("recover cash");
}

/// Finding 3: after lost -> w1 -> w2 the trade's approve, cancel and release reverted
/// `TokenInsufficientHeld(w1, 0, 100)`, the buyer's cash stayed held and units sent to the lost wallet
/// landed in the emptied w1. Forwarding now follows the whole chain: every lock settles, cancels or
/// releases from the last wallet, and `recoveredTo` names it.
#[tokio::test]
async fn locks_survive_a_chain_of_recoveries() {
    let mut m = market(support::revm()).await;
    let (seller, buyer) = (m.p.seller, m.p.buyer);
    let (w1, w2) = (Address::repeat_byte(0xa1), Address::repeat_byte(0xa2));
    let (b1, b2) = (Address::repeat_byte(0xb1), Address::repeat_byte(0xb2));
    let trade = m.standard();
    let (settled, cancelled, expired) =
        (trade_id(seller, "chain-settle"), trade_id(seller, "chain-cancel"), trade_id(seller, "chain-release"));
    let mut short = trade.clone();
    short.deadline = m.chain.timestamp().await.expect("time") + 600;
    for (id, t) in [(settled, &trade), (cancelled, &trade), (expired, &short)] {
        m.create_and_pay(id, t).await;
    }
    for (lost, new) in [(seller, w1), (w1, w2), (buyer, b1), (b1, b2)] {
        recover_everywhere(&mut m, lost, new).await;
    }
    let recovered = m.chain.read(m.suite.security, &St::recoveredToCall { lostWallet: seller }).await.expect("read");
    assert_eq!(recovered, w2, "the lost wallet forwards to the last wallet");
    assert_eq!(m.position(w2).await.units_held, U256::from(300));
    assert_eq!(m.position(b2).await.cash_held, U256::from(3_000_000));

    m.suite.approve(&mut m.chain, settled, &trade).await.expect("approve settles from w2 and b2");
    assert_eq!(m.position(b2).await.units, U256::from(1_100));
    m.suite.cancel(&mut m.chain, buyer, cancelled, &trade).await.expect("cancel");
    m.chain.advance_time(601).await.expect("past the deadline");
    m.suite.release(&mut m.chain, m.carol, expired, &short).await.expect("release");
    let (w, b) = (m.position(w2).await, m.position(b2).await);
    assert_eq!((w.units, w.units_held), (U256::from(900), U256::ZERO), "nothing stays locked");
    assert_eq!((b.cash, b.cash_held), (U256::from(49_000_000), U256::ZERO), "the buyer's cash is free again");

    // Units sent to the first lost wallet arrive at the last one; the middle wallet stays empty.
    let send = St::transferCall { to: seller, amount: U256::from(5) };
    m.chain.send_call(m.carol, m.suite.security, &send).await.expect("send to the lost wallet");
    assert_eq!(m.position(w2).await.units, U256::from(905));
    assert_eq!(m.position(w1).await.units, U256::ZERO);

    // A lost wallet is never a recovery target, and the chain cannot be re-entered.
    let (w3, ids) = (Address::repeat_byte(0xa3), [settled, cancelled, expired]);
    for (lost, new) in [(w2, w1), (w2, seller), (w1, w3)] {
        let call = St::recoverWalletCall { lostWallet: lost, newWallet: new, documentRef: B256::ZERO };
        refuse!(m, &ids, "TokenRecoveryInvalid", m.chain.send_call(m.p.suite.authority, m.suite.security, &call).await);
    }
}

/// Finding 3, the hold path: an expired hold of the first lost wallet is released by the last
/// wallet, and a notary executes it from there.
#[tokio::test]
async fn holds_of_a_twice_recovered_wallet_release_and_execute_from_the_last_wallet() {
    let mut f = Fixture::new(support::revm()).await;
    let (alice, bob, notary) = (f.alice, f.bob, f.p.agent);
    let (w1, w2) = (Address::repeat_byte(0xa1), Address::repeat_byte(0xa2));
    for w in [w1, w2] {
        f.register(w, 0, 392).await;
        f.watch_account(w);
    }
    let (expiring, executed) = (keccak256("expiring"), keccak256("executed"));
    f.send(alice, St::holdCall { notary, id: expiring, amount: u(100), expiry: f.now + 600 }).await.expect("hold");
    f.send(alice, St::holdCall { notary, id: executed, amount: u(50), expiry: f.now + 86_400 }).await.expect("hold");
    for (lost, new) in [(alice, w1), (w1, w2)] {
        let call = St::recoverWalletCall { lostWallet: lost, newWallet: new, documentRef: B256::ZERO };
        f.authority(call).await.expect("recover");
    }
    f.send(notary, St::executeHoldCall { holder: alice, id: executed, to: bob, amount: u(50) }).await.expect("execute");
    f.chain.advance_time(601).await.expect("past the expiry");
    let release = St::releaseHoldCall { holder: alice, notary, id: expiring };
    refused!(f, f.send(bob, release.clone()).await, "TokenHoldUnauthorized");
    f.send(w2, release).await.expect("the last wallet releases");
    assert_eq!(f.read(St::heldBalanceOfCall { account: w2 }).await, u(0));
    assert_eq!(f.read(St::balanceOfCall { account: w2 }).await, u(950));
}

/// Finding 3, the bound: a chain of recoveries has at most `MAX_RECOVERIES` links, so forwarding
/// never loops without end; the ninth recovery of one investor is refused and moves nothing.
#[tokio::test]
async fn a_chain_of_recoveries_is_bounded() {
    let mut f = Fixture::new(support::revm()).await;
    let max = f.read(St::MAX_RECOVERIESCall {}).await;
    assert_eq!(max, u(8));
    let mut last = f.alice;
    for i in 1..=8u8 {
        let next = Address::repeat_byte(0xc0 + i);
        f.register(next, 0, 392).await;
        f.authority(St::recoverWalletCall { lostWallet: last, newWallet: next, documentRef: B256::ZERO })
            .await
            .expect("recover");
        last = next;
    }
    assert_eq!(f.read(St::recoveredToCall { lostWallet: f.alice }).await, last);
    let next = Address::repeat_byte(0xd0);
    f.register(next, 0, 392).await;
    f.watch_account(last);
    f.watch_account(next);
    refused!(
        f,
        f.authority(St::recoverWalletCall { lostWallet: last, newWallet: next, documentRef: B256::ZERO }).await,
        "TokenRecoveryChainTooLong"
    );
    // Units sent to the first wallet still arrive at the last one.
    f.send(f.bob, St::transferCall { to: f.alice, amount: u(1) }).await.expect("send to the first wallet");
    assert_eq!(f.read(St::balanceOfCall { account: last }).await, u(1_001));
}

/// Two paid trades in opposite directions with the same price: both parties' cash positions net to
/// zero. Returns them as a batch.
async fn offsetting_trades<C: Chain>(m: &mut Market<C>, tag: &str) -> Vec<(B256, kessai_deployer::ops::Trade)> {
    let (s, b, a) = (m.p.seller, m.p.buyer, m.p.agent);
    let mut batch = Vec::new();
    for (i, t) in [m.trade(s, b, 10, 1_000, a), m.trade(b, s, 5, 1_000, a)].into_iter().enumerate() {
        let id = trade_id(t.seller, format!("{tag}-{i}"));
        m.create_and_pay(id, &t).await;
        batch.push((id, t));
    }
    batch
}

/// Finding 6: with the deposit token paused, a party blocklisted or a party's registration revoked,
/// the gross batch reverted but the netted batch of the same trades settled, because parties whose
/// positions net to zero moved no cash and met no check. The netted batch now refuses exactly what the
/// gross batch refuses (a named error, nothing moved), and both settle once the control is lifted.
#[tokio::test]
async fn a_netted_batch_refuses_what_the_gross_batch_refuses() {
    use kessai_bindings::{deposit_token::DepositToken as Dt, investor_registry::InvestorRegistry};
    let mut m = market(support::revm()).await;
    let batch = offsetting_trades(&mut m, "net-zero").await;
    let ids: Vec<B256> = batch.iter().map(|(id, _)| *id).collect();
    let (bank, buyer, seller) = (m.p.suite.bank, m.p.buyer, m.p.seller);
    for control in ["paused", "blocked", "revoked"] {
        match control {
            "paused" => m.chain.send_call(bank, m.suite.deposit, &Dt::setPausedCall { paused_: true }).await,
            "blocked" => {
                m.chain.send_call(bank, m.suite.deposit, &Dt::setBlockedCall { account: buyer, blocked: true }).await
            }
            _ => {
                m.chain.send_call(bank, m.suite.bank_registry, &InvestorRegistry::revokeCall { account: seller }).await
            }
        }
        .map(|_| ())
        .expect(control);
        for netted in [false, true] {
            let name = if netted { "DvPBatchCashRestricted" } else { "TokenTransferRestricted" };
            refuse!(m, &ids, name, m.suite.settle_batch(&mut m.chain, m.p.agent, &batch, netted).await);
        }
        match control {
            "paused" => {
                m.chain.send_call(bank, m.suite.deposit, &Dt::setPausedCall { paused_: false }).await.map(|_| ())
            }
            "blocked" => m
                .chain
                .send_call(bank, m.suite.deposit, &Dt::setBlockedCall { account: buyer, blocked: false })
                .await
                .map(|_| ()),
            _ => {
                let now = m.chain.timestamp().await.expect("time");
                let r = kessai_sim::demo::registration(now, "investor");
                m.suite.register(&mut m.chain, m.suite.bank_registry, bank, seller, r).await.map(|_| ())
            }
        }
        .expect("lift the control");
    }
    m.suite.settle_batch(&mut m.chain, m.p.agent, &batch, true).await.expect("the netted batch settles");
    assert_eq!(m.position(buyer).await.cash_held, U256::ZERO);
}

/// Finding 7b: a buyer recovered on the deposit token made the netted batch revert (its net payment
/// was a transfer from the lost wallet) while the gross batch worked. Net payments now come out of the
/// locked payments, which follow recovery like every lock.
#[tokio::test]
async fn a_netted_batch_follows_a_recovered_buyer() {
    let mut m = market(support::revm()).await;
    let (id, t) = m.paid("net-recovered").await;
    let (fresh, buyer) = (Address::repeat_byte(0xb7), m.p.buyer);
    recover_everywhere(&mut m, buyer, fresh).await;
    let seller_cash = m.position(m.p.seller).await.cash;
    m.suite.settle_batch(&mut m.chain, m.p.agent, &[(id, t.clone())], true).await.expect("netted batch");
    assert_eq!(m.position(m.p.seller).await.cash, seller_cash + t.amount);
    let b = m.position(fresh).await;
    assert_eq!((b.units, b.cash_held), (U256::from(1_100), U256::ZERO));
}

/// Finding 7a: switching the built-in settlement contract off also stopped it from releasing its
/// locks, so a trade could neither be cancelled nor released. Releasing stays possible (it only
/// frees units); locking and moving stay off.
#[tokio::test]
async fn a_switched_off_settlement_contract_still_releases_its_locks() {
    let mut m = market(support::revm()).await;
    let (id, t) = m.paid("switched-off-lock").await;
    let off = St::setSettlementEnabledCall { enabled: false };
    m.chain.send_call(m.p.suite.operator, m.suite.security, &off).await.expect("units: off");
    m.chain.send_call(m.p.suite.bank, m.suite.deposit, &off).await.expect("cash: off");
    refuse!(m, &[id], "AccessControlUnauthorizedAccount", m.suite.approve(&mut m.chain, id, &t).await);
    m.suite.cancel(&mut m.chain, m.p.seller, id, &t).await.expect("the seller cancels");
    let (s, b) = (m.position(m.p.seller).await, m.position(m.p.buyer).await);
    assert_eq!((s.units_held, b.cash_held), (U256::ZERO, U256::ZERO), "both locks released");
}

/// Finding 8: `freezeUnits` cast the new frozen total to 72 bits, so freezing 2^72 + 1 units recorded
/// 1. It now refuses a total above the field with a named error and changes nothing.
#[tokio::test]
async fn freezing_more_units_than_the_frozen_field_holds_is_refused() {
    let mut f = Fixture::new(support::revm()).await;
    let alice = f.alice;
    let big = U256::from(1u128 << 72) + u(1);
    f.issuer(St::issueCall { to: alice, amount: big }).await.expect("issue 2^72 + 1 more");
    refused!(f, f.authority(St::freezeUnitsCall { account: alice, amount: big }).await, "TokenFrozenCapExceeded");
    let max = U256::from((1u128 << 72) - 1);
    f.authority(St::freezeUnitsCall { account: alice, amount: max }).await.expect("the largest total freezes");
    assert_eq!(f.read(St::frozenBalanceOfCall { account: alice }).await, max);
}

/// Finding 5: trade ids were global and bound to nobody, so anyone could store junk terms under the
/// id the parties meant to use and make their `createTrade` / `settleSigned` revert `DvPTradeExists`
/// forever. An id now carries its seller in its top 20 bytes: a squatter can only create trades it
/// sells itself, under its own ids.
#[tokio::test]
async fn nobody_can_squat_another_sellers_trade_id() {
    let mut m = market(support::revm()).await;
    let (seller, squatter) = (m.p.seller, m.carol);
    let trade = m.standard();
    let id = trade_id(seller, "BOOKING-42");
    // The squatter's junk terms under the seller's id: it sells 1 unit to the buyer for ¥1.
    let junk = m.trade(squatter, m.p.buyer, 1, 1, Address::ZERO);
    let args = refuse!(m, &[id], "DvPTradeIdNotBound", m.suite.create_trade(&mut m.chain, id, &junk).await);
    assert_eq!(args, [id.to_string(), squatter.to_string()]);
    let sigs = m.signatures(id, &junk, Instruction::Settle).await;
    refuse!(m, &[id], "DvPTradeIdNotBound", m.suite.settle_signed(&mut m.chain, squatter, id, &junk, &sigs).await);
    let sigs = m.signatures(id, &junk, Instruction::Lock).await;
    refuse!(
        m,
        &[id],
        "DvPTradeIdNotBound",
        m.suite.create_signed_trade(&mut m.chain, squatter, id, &junk, &sigs).await
    );
    // The parties' trade goes through; the squatter's own ids remain its own.
    m.suite.create_trade(&mut m.chain, id, &trade).await.expect("the seller's trade under its id");
    let own = trade_id(squatter, "BOOKING-42");
    m.suite.create_trade(&mut m.chain, own, &junk).await.expect("the squatter's trade under its own id");
    assert_eq!((m.status(id).await, m.status(own).await), (1, 1));
}

/// Found by the review property run: once seizures reached held units, a forced transfer from a
/// wallet to itself (directly, or to a lost wallet that forwards to it) moved nothing but stripped
/// its holds. It is refused and changes nothing.
#[tokio::test]
async fn a_forced_transfer_to_the_same_wallet_is_refused() {
    let mut f = Fixture::new(support::revm()).await;
    let (alice, notary) = (f.alice, f.p.agent);
    let fresh = Address::repeat_byte(0xfe);
    f.register(fresh, 0, 392).await;
    f.watch_account(fresh);
    let id = keccak256("kept");
    f.send(alice, St::holdCall { notary, id, amount: u(900), expiry: u64::MAX }).await.expect("hold");
    f.watch_hold(alice, notary, id);
    f.authority(St::recoverWalletCall { lostWallet: alice, newWallet: fresh, documentRef: B256::ZERO })
        .await
        .expect("recover");
    let forced = |to: Address| St::forcedTransferCall {
        from: fresh,
        to,
        amount: u(1_000),
        reason: "order".into(),
        documentRef: B256::ZERO,
        courtOrderOverride: true,
    };
    for to in [fresh, alice] {
        refused!(f, f.authority(forced(to)).await, "TokenForcedTransferToSelf");
    }
    assert_eq!(f.read(St::heldBalanceOfCall { account: fresh }).await, u(900));
}

/// Design change 1: locks were anonymous — the tokens kept one held total per account and ignored
/// the lock id, so any notary could execute or release another notary's locks. The token now records
/// each hold per (holder, notary, id): a second notary (here a transfer agent's desk with NOTARY_ROLE)
/// finds none of its own under the DvP's trade id — its execution is refused with
/// `TokenHoldNotFound`, its release frees nothing — and the trade still settles.
#[tokio::test]
async fn a_notary_cannot_execute_or_release_another_notarys_lock() {
    let mut m = market(support::revm()).await;
    let (id, trade) = m.paid("someone-elses-lock").await;
    let rogue = m.carol;
    let role = m.chain.read(m.suite.security, &St::NOTARY_ROLECall {}).await.expect("role");
    let grant = St::grantRoleCall { role, account: rogue };
    m.chain.send_call(m.p.suite.operator, m.suite.security, &grant).await.expect("a second notary");
    let dvp = m.suite.dvp;
    let recorded = m.chain.read(m.suite.security, &St::holdOfCall { holder: m.p.seller, notary: dvp, id }).await;
    assert_eq!(recorded.expect("hold")._0, trade.units, "the token records the trade's lock under the DvP");

    let execute = St::notaryExecuteCall { holder: m.p.seller, id, to: rogue, amount: trade.units };
    let args = refuse!(m, &[id], "TokenHoldNotFound", m.chain.send_call(rogue, m.suite.security, &execute).await);
    assert_eq!(args, [m.p.seller.to_string(), rogue.to_string(), id.to_string()]);
    let before = m.snapshot(&[id]).await;
    let release = St::notaryReleaseCall { holder: m.p.seller, id, amount: trade.units };
    m.chain.send_call(rogue, m.suite.security, &release).await.expect("a release of a lock it does not have");
    assert_eq!(m.snapshot(&[id]).await, before, "the release of another notary's lock freed nothing");
    assert_eq!(m.position(m.p.seller).await.units_held, trade.units);

    m.suite.approve(&mut m.chain, id, &trade).await.expect("the trade still settles");
    assert_eq!(m.status(id).await, 1 | 2 | 4 | 8);
}

/// Design change 1, second half: NOTARY_ROLE (place holds, settle one's own) and the power to move
/// any holder's free units are apart. A notary — what the transfer agent's desk needs — can no longer
/// move a holder's free units without a hold; that needs SETTLER_ROLE.
#[tokio::test]
async fn placing_holds_does_not_give_the_power_to_move_free_units() {
    let mut m = market(support::revm()).await;
    let notary = m.carol;
    let role = m.chain.read(m.suite.security, &St::NOTARY_ROLECall {}).await.expect("role");
    let grant = St::grantRoleCall { role, account: notary };
    m.chain.send_call(m.p.suite.operator, m.suite.security, &grant).await.expect("a notary");
    let take = St::notaryTransferCall { from: m.p.seller, to: notary, amount: u(100) };
    let args =
        refuse!(m, &[], "AccessControlUnauthorizedAccount", m.chain.send_call(notary, m.suite.security, &take).await);
    let settler = m.chain.read(m.suite.security, &St::SETTLER_ROLECall {}).await.expect("role");
    assert_eq!(args, [notary.to_string(), settler.to_string()]);

    // The same account with SETTLER_ROLE may (the role is for audited settlement contracts).
    let grant = St::grantRoleCall { role: settler, account: notary };
    m.chain.send_call(m.p.suite.operator, m.suite.security, &grant).await.expect("a settler");
    let before = m.position(m.p.seller).await.units;
    m.chain.send_call(notary, m.suite.security, &take).await.expect("a settler moves free units");
    assert_eq!(m.position(m.p.seller).await.units, before - u(100));
}

/// Design change 2: one signature over the terms drove `createSignedTrade`, `settleSigned` and
/// `settleWithPayment`, so a third party holding a settlement instruction could turn it into a trade
/// with both legs locked (or use a buyer's agreement as its payment instruction). Each path now has its
/// own EIP-712 type: a signature drives only the path it was given for.
#[tokio::test]
async fn a_signature_drives_only_the_path_it_was_given_for() {
    let mut m = market(support::revm()).await;
    let trade = m.standard();
    let id = trade_id(m.p.seller, "one-path");
    let settle = m.signatures(id, &trade, Instruction::Settle).await;
    let lock = m.signatures(id, &trade, Instruction::Lock).await;
    let third = m.carol;
    let args = refuse!(
        m,
        &[id],
        "DvPInvalidSignature",
        m.suite.create_signed_trade(&mut m.chain, third, id, &trade, &settle).await
    );
    assert_eq!(args[1], m.p.seller.to_string());
    refuse!(m, &[id], "DvPInvalidSignature", m.suite.settle_signed(&mut m.chain, m.p.agent, id, &trade, &lock).await);

    // The seller creates; neither the buyer's settlement nor its locking signature is a payment
    // instruction.
    m.suite.create_trade(&mut m.chain, id, &trade).await.expect("create");
    for sig in [&settle.buyer, &lock.buyer] {
        refuse!(
            m,
            &[id],
            "DvPInvalidSignature",
            m.suite.settle_with_payment(&mut m.chain, m.p.agent, id, &trade, sig).await
        );
    }
    let pay = m.sign(m.p.buyer, id, &trade, Instruction::Pay).await;
    m.suite.settle_with_payment(&mut m.chain, m.p.agent, id, &trade, &pay).await.expect("the payment instruction");
    assert_eq!(m.status(id).await, 1 | 2 | 4 | 8);
}
