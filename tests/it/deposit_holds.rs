//! Holds, seizures and expired KYC on the deposit token: units a customer holds for a notary stay in
//! its balance but cannot move until the notary executes the hold or the holder releases it after
//! expiry; forced transfers and receipts follow the bank's customer registry. Each refusal asserts the
//! named error and unchanged balances, held units and supply.

use crate::support::{
    deposit::{F, OUTSIDER, authorization, authorized_transfer, refused},
    u,
};
use kessai_bindings::{
    alloy::primitives::{Address, B256, U256, keccak256},
    deposit_token::DepositToken as Dt,
};
use kessai_deployer::chain::Chain;

/// The notary of the holds below: any account may be named by a holder.
const NOTARY: Address = Address::repeat_byte(0x70);

impl F {
    /// The hold (holder, NOTARY, id) as (amount, expiry).
    async fn hold_of(&mut self, holder: Address, id: B256) -> (U256, u64) {
        let h = self.read(Dt::holdOfCall { holder, notary: NOTARY, id }).await;
        (h._0, h._1)
    }

    /// A forced transfer of `amount` from `from` to `to` under a court order; `court_order_override`
    /// waives the receiver's eligibility.
    fn seizure(from: Address, to: Address, amount: u64, court_order_override: bool) -> Dt::forcedTransferCall {
        Dt::forcedTransferCall {
            from,
            to,
            amount: u(amount),
            reason: "seizure order 2026-81".into(),
            documentRef: keccak256("order-81"),
            courtOrderOverride: court_order_override,
        }
    }
}

#[tokio::test]
async fn held_units_cannot_move_until_the_notary_executes_the_hold() {
    let mut f = F::new().await;
    let (alice, bob) = (f.alice.address(), f.bob.address());
    f.watch(OUTSIDER);
    let id = keccak256("H-1");
    let expiry = f.chain.timestamp().await.expect("time") + 3_600;
    f.send(alice, Dt::holdCall { notary: NOTARY, id, amount: u(400_000), expiry }).await.expect("hold");
    assert_eq!(f.hold_of(alice, id).await, (u(400_000), expiry));
    assert_eq!(f.balance(alice).await, u(1_000_000), "held units stay in the balance");
    assert_eq!(f.read(Dt::freeBalanceOfCall { account: alice }).await, u(600_000));

    let e =
        refused!(f, f.send(alice, Dt::transferCall { to: bob, amount: u(600_001) }).await, "TokenTransferRestricted");
    assert_eq!(e.args[0], "6", "free balance too small");
    let redeem = Dt::redeemCall { amount: u(600_001), accountRef: keccak256("ACC") };
    let e = refused!(f, f.send(alice, redeem).await, "TokenInsufficientFreeBalance");
    assert_eq!(e.args[1..], ["600000".to_string(), "600001".to_string()]);
    // A seizure reaches held units too (see review::forced_transfer_reaches_held_units_…), never
    // more than the balance.
    refused!(f, f.bank_send(F::seizure(alice, bob, 1_000_001, true)).await, "ERC20InsufficientBalance");
    let again = Dt::holdCall { notary: NOTARY, id, amount: u(1), expiry };
    refused!(f, f.send(alice, again).await, "TokenHoldExists");

    // Before expiry only the notary ends the hold.
    let release = Dt::releaseHoldCall { holder: alice, notary: NOTARY, id };
    let e = refused!(f, f.send(alice, release.clone()).await, "TokenHoldNotExpired");
    assert_eq!(e.args[1], expiry.to_string());
    refused!(f, f.send(bob, release).await, "TokenHoldUnauthorized");

    // The notary executes exactly the held amount, to a customer.
    let execute = |to: Address, amount: u64| Dt::executeHoldCall { holder: alice, id, to, amount: u(amount) };
    refused!(f, f.send(NOTARY, execute(bob, 399_999)).await, "TokenHoldAmountMismatch");
    let e = refused!(f, f.send(NOTARY, execute(OUTSIDER, 400_000)).await, "TokenTransferRestricted");
    assert_eq!(e.args[0], "3", "receiver is not a customer");
    refused!(f, f.send(bob, execute(bob, 400_000)).await, "TokenHoldNotFound"); // bob is not its notary
    assert_eq!(f.hold_of(alice, id).await, (u(400_000), expiry), "the refusals left the hold in place");

    f.send(NOTARY, execute(bob, 400_000)).await.expect("the notary executes");
    assert_eq!((f.balance(alice).await, f.balance(bob).await), (u(600_000), u(400_000)));
    assert_eq!(f.read(Dt::heldBalanceOfCall { account: alice }).await, U256::ZERO);
    assert_eq!(f.hold_of(alice, id).await, (U256::ZERO, 0), "the hold is gone");
    assert_eq!(f.read(Dt::totalSupplyCall {}).await, u(1_000_000));
}

#[tokio::test]
async fn the_holder_releases_an_expired_hold_which_the_notary_can_no_longer_execute() {
    let mut f = F::new().await;
    let (alice, bob) = (f.alice.address(), f.bob.address());
    let id = keccak256("H-2");
    // The in-process engine runs each transaction in a new block one second after the chain's time.
    let expiry = f.chain.timestamp().await.expect("time") + 60;
    f.send(alice, Dt::holdCall { notary: NOTARY, id, amount: u(100_000), expiry }).await.expect("hold");
    let release = Dt::releaseHoldCall { holder: alice, notary: NOTARY, id };
    f.chain.advance_time(58).await.expect("time");
    refused!(f, f.send(alice, release.clone()).await, "TokenHoldNotExpired"); // at the expiry itself

    f.chain.advance_time(1).await.expect("time");
    let execute = Dt::executeHoldCall { holder: alice, id, to: bob, amount: u(100_000) };
    let e = refused!(f, f.send(NOTARY, execute).await, "TokenHoldExpired");
    assert_eq!(e.args[1], expiry.to_string());
    f.send(alice, release).await.expect("the holder releases after expiry");
    assert_eq!(f.read(Dt::heldBalanceOfCall { account: alice }).await, U256::ZERO);
    assert_eq!(f.hold_of(alice, id).await, (U256::ZERO, 0));
    f.send(alice, Dt::transferCall { to: bob, amount: u(1_000_000) }).await.expect("everything is free again");
}

#[tokio::test]
async fn holds_follow_the_freeze_pause_and_customer_rules() {
    let mut f = F::new().await;
    let (alice, bob) = (f.alice.address(), f.bob.address());
    let expiry = f.chain.timestamp().await.expect("time") + 3_600;
    let hold = |id: &str, amount: u64| Dt::holdCall { notary: NOTARY, id: keccak256(id), amount: u(amount), expiry };

    let e = refused!(f, f.send(alice, hold("H-3", 1_000_001)).await, "TokenInsufficientFreeBalance");
    assert_eq!(e.args[1], "1000000");
    f.bank_send(Dt::setAccountFrozenCall { account: alice, frozen: true }).await.expect("freeze");
    refused!(f, f.send(alice, hold("H-3", 1)).await, "TokenAccountFrozen");
    f.bank_send(Dt::setAccountFrozenCall { account: alice, frozen: false }).await.expect("unfreeze");
    f.bank_send(Dt::setPausedCall { paused_: true }).await.expect("pause");
    refused!(f, f.send(alice, hold("H-3", 1)).await, "TokenPaused");
    f.bank_send(Dt::setPausedCall { paused_: false }).await.expect("unpause");
    refused!(f, f.send(OUTSIDER, hold("H-3", 1)).await, "TokenAccountNotEligible");

    // A placed hold executes only under the transfer rules in force at execution.
    f.send(alice, hold("H-3", 5_000)).await.expect("hold");
    let execute = Dt::executeHoldCall { holder: alice, id: keccak256("H-3"), to: bob, amount: u(5_000) };
    f.bank_send(Dt::setPausedCall { paused_: true }).await.expect("pause");
    let e = refused!(f, f.send(NOTARY, execute.clone()).await, "TokenTransferRestricted");
    assert_eq!(e.args[0], "1", "paused");
    f.bank_send(Dt::setPausedCall { paused_: false }).await.expect("unpause");
    f.bank_send(Dt::setAccountFrozenCall { account: bob, frozen: true }).await.expect("freeze payee");
    let e = refused!(f, f.send(NOTARY, execute.clone()).await, "TokenTransferRestricted");
    assert_eq!(e.args[0], "5", "receiver frozen");
    f.bank_send(Dt::setAccountFrozenCall { account: bob, frozen: false }).await.expect("unfreeze payee");
    f.send(NOTARY, execute).await.expect("executes once the rules allow");
    assert_eq!(f.balance(bob).await, u(5_000));
}

#[tokio::test]
async fn seizure_to_a_non_customer_needs_a_court_order_override() {
    let mut f = F::new().await;
    let (alice, bob) = (f.alice.address(), f.bob.address());
    f.watch(OUTSIDER);
    let e = refused!(f, f.bank_send(F::seizure(alice, OUTSIDER, 100_000, false)).await, "TokenAccountNotEligible");
    assert_eq!(e.args[0], OUTSIDER.to_string());
    f.bank_send(Dt::setAccountFrozenCall { account: bob, frozen: true }).await.expect("freeze");
    refused!(f, f.bank_send(F::seizure(alice, bob, 100_000, false)).await, "TokenAccountFrozen");
    refused!(f, f.send(bob, F::seizure(alice, bob, 1, true)).await, "AccessControlUnauthorizedAccount");

    f.bank_send(F::seizure(alice, OUTSIDER, 100_000, true)).await.expect("the court order overrides");
    assert_eq!((f.balance(alice).await, f.balance(OUTSIDER).await), (u(900_000), u(100_000)));
    assert_eq!(f.read(Dt::totalSupplyCall {}).await, u(1_000_000), "a seizure moves, it does not burn");
}

#[tokio::test]
async fn a_customer_whose_kyc_expired_cannot_receive() {
    let mut f = F::new().await;
    let (alice, carol) = (f.alice.address(), f.carol);
    let dave = Address::repeat_byte(0xda);
    let kyc_expiry = f.chain.timestamp().await.expect("time") + 100;
    f.customer_until(dave, kyc_expiry).await;
    f.watch(dave);
    f.send(alice, Dt::transferCall { to: dave, amount: u(10) }).await.expect("a customer while KYC is valid");
    f.chain.advance_time(100).await.expect("KYC expires");

    let e = refused!(f, f.send(alice, Dt::transferCall { to: dave, amount: u(1) }).await, "TokenTransferRestricted");
    assert_eq!(e.args[0], "3", "receiver is not eligible");
    let issue = Dt::issueCall { to: dave, amount: u(1), depositRef: keccak256("KYC-1") };
    refused!(f, f.bank_send(issue).await, "TokenAccountNotEligible");
    refused!(f, f.bank_send(F::seizure(alice, dave, 1, false)).await, "TokenAccountNotEligible");
    let a = authorization(alice, dave, 1, 0, kyc_expiry + 3_600, "kyc-n-1");
    let sig = f.sign(&f.alice.clone(), &a);
    let e = refused!(f, f.send(carol, authorized_transfer(&a, sig)).await, "TokenTransferRestricted");
    assert_eq!(e.args[0], "3", "receiver is not eligible");
    let e = refused!(f, f.send(dave, Dt::transferCall { to: alice, amount: u(1) }).await, "TokenTransferRestricted");
    assert_eq!(e.args[0], "2", "sender is not eligible");

    // What it holds can still be redeemed into its deposit account.
    f.send(dave, Dt::redeemCall { amount: u(10), accountRef: keccak256("ACC-DAVE") }).await.expect("redeem");
    assert_eq!(f.balance(dave).await, U256::ZERO);
}
