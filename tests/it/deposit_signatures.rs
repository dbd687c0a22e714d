//! Deposit token signatures: permits and transfer, receive and cancel authorizations — replays, late
//! or early use, blocked, frozen and non-customer parties, a paused token — and contract wallets
//! signing through ERC-1271 (signatures bound to the wallet). Each refusal asserts the named error and
//! that nothing moved. The fixture is `deposit`'s ([`crate::support::deposit`]).

use crate::support::{
    deposit::{
        CancelAuthorization, F, OUTSIDER, Permit, authorization, authorized_receipt, authorized_transfer, receivable,
        refused,
    },
    u,
};
use kessai_bindings::{
    alloy::{
        primitives::{Address, B256, Bytes, U256, keccak256},
        signers::SignerSync,
    },
    deposit_token::DepositToken as Dt,
};
use kessai_deployer::chain::Chain;

/// The `permit` call (signature in bytes) carrying `p` and its signature.
fn permit_call(p: &Permit, signature: Bytes) -> Dt::permit_0Call {
    Dt::permit_0Call { owner: p.owner, spender: p.spender, value: p.value, deadline: p.deadline, signature }
}

/// The `permit` call in the (v, r, s) form of EIP-2612, from a 65-byte `r ‖ s ‖ v` signature.
fn permit_vrs_call(p: &Permit, signature: &Bytes) -> Dt::permit_1Call {
    Dt::permit_1Call {
        owner: p.owner,
        spender: p.spender,
        value: p.value,
        deadline: p.deadline,
        v: signature[64],
        r: B256::from_slice(&signature[..32]),
        s: B256::from_slice(&signature[32..64]),
    }
}

#[tokio::test]
async fn permits_cannot_be_replayed_used_late_or_by_blocked_owners() {
    let mut f = F::new().await;
    let (alice, bob) = (f.alice.address(), f.bob.address());
    let permit = |nonce: u64, deadline: u64| Permit {
        owner: alice,
        spender: bob,
        value: u(5_000),
        nonce: u(nonce),
        deadline: u(deadline),
    };
    let good = permit(0, f.now + 3_600);
    let sig = f.sign(&f.alice.clone(), &good);
    f.send(bob, permit_call(&good, sig.clone())).await.expect("permit");
    assert_eq!(f.read(Dt::allowanceCall { owner: alice, spender: bob }).await, u(5_000));
    refused!(f, f.send(bob, permit_call(&good, sig)).await, "DepositInvalidSignature"); // replay: nonce moved on
    let late = permit(1, f.now - 1);
    let sig = f.sign(&f.alice.clone(), &late);
    refused!(f, f.send(bob, permit_call(&late, sig)).await, "DepositPermitExpired");
    let forged = permit(1, f.now + 3_600);
    let sig = f.sign(&f.bob.clone(), &forged);
    refused!(f, f.send(bob, permit_call(&forged, sig)).await, "DepositInvalidSignature");
    f.bank_send(Dt::setBlockedCall { account: alice, blocked: true }).await.expect("block");
    let fresh = permit(1, f.now + 3_600);
    let sig = f.sign(&f.alice.clone(), &fresh);
    refused!(f, f.send(bob, permit_call(&fresh, sig)).await, "TokenAccountBlocked");
    assert_eq!(f.read(Dt::noncesCall { owner: alice }).await, u(1), "a refused permit uses no nonce");
}

#[tokio::test]
async fn authorizations_cannot_be_replayed_used_late_or_by_blocked_payers() {
    let mut f = F::new().await;
    let (alice, bob, carol) = (f.alice.address(), f.bob.address(), f.carol);
    let auth = |nonce: &str, value: u64, before: u64| authorization(alice, bob, value, 0, before, nonce);
    let a1 = auth("n-1", 10_000, f.now + 3_600);
    let sig = f.sign(&f.alice.clone(), &a1);
    f.send(carol, authorized_transfer(&a1, sig.clone())).await.expect("relayed by anyone");
    assert_eq!(f.read(Dt::balanceOfCall { account: bob }).await, u(10_000));
    refused!(f, f.send(carol, authorized_transfer(&a1, sig)).await, "DepositAuthorizationUsed");

    let late = auth("n-2", 1, f.now - 1);
    let sig = f.sign(&f.alice.clone(), &late);
    refused!(f, f.send(carol, authorized_transfer(&late, sig)).await, "DepositAuthorizationExpired");

    // receiveWithAuthorization: only the payee collects.
    let r = receivable(authorization(alice, bob, 7, 0, f.now + 3_600, "r-1"));
    let collect = authorized_receipt(&r, f.sign(&f.alice.clone(), &r));
    refused!(f, f.send(carol, collect.clone()).await, "DepositCallerNotPayee");
    f.send(bob, collect).await.expect("payee collects");

    // A cancelled authorization cannot be used.
    let a3 = auth("n-3", 1, f.now + 3_600);
    let sig = f.sign(&f.alice.clone(), &a3);
    let cancel = CancelAuthorization { authorizer: alice, nonce: a3.nonce };
    let csig = f.sign(&f.alice.clone(), &cancel);
    f.send(carol, Dt::cancelAuthorizationCall { authorizer: alice, nonce: a3.nonce, signature: csig })
        .await
        .expect("cancel");
    refused!(f, f.send(carol, authorized_transfer(&a3, sig)).await, "DepositAuthorizationUsed");

    // A blocked payer's authorization is refused by the transfer rules, and its nonce stays unused.
    f.bank_send(Dt::setBlockedCall { account: alice, blocked: true }).await.expect("block");
    let a4 = auth("n-4", 1, f.now + 3_600);
    let sig = f.sign(&f.alice.clone(), &a4);
    let e = refused!(f, f.send(carol, authorized_transfer(&a4, sig)).await, "TokenTransferRestricted");
    assert_eq!(e.args[0], "13", "sender blocked");
    assert!(!f.read(Dt::authorizationStateCall { authorizer: alice, nonce: a4.nonce }).await);
}

/// Review recommendation: `OwnedWallet`'s ERC-1271 check accepted any signature of its owner's key
/// over the hash, so what the key signed for one wallet (or for itself) held for every wallet of the
/// same key. A signature is now bound to its wallet (EIP-191 version 0, the wallet as validator).
#[tokio::test]
async fn a_signature_for_one_wallet_is_not_valid_for_another_wallet_of_the_same_key() {
    use kessai_bindings::owned_wallet::OwnedWallet;
    let mut f = F::new().await;
    let owner = f.bob.clone();
    let (w1, w2) = (f.wallet(owner.address()).await, f.wallet(owner.address()).await);
    let hash = keccak256("one instruction");
    let sign = |digest: B256| Bytes::from(owner.sign_hash_sync(&digest).expect("sign").as_bytes().to_vec());
    let for_w1 = sign(kessai_deployer::signing::wallet_digest(w1, hash));
    let plain = sign(hash);
    let mut answers = Vec::new();
    for (wallet, signature) in [(w1, &for_w1), (w2, &for_w1), (w1, &plain), (w2, &plain)] {
        let call = OwnedWallet::isValidSignatureCall { hash, signature: signature.clone() };
        answers.push(f.chain.read(wallet, &call).await.expect("isValidSignature").0);
    }
    let (valid, invalid) = ([0x16, 0x26, 0xba, 0x7e], [0xff; 4]);
    assert_eq!(answers, [valid, invalid, invalid, invalid], "only wallet 1 accepts what was signed for it");
    let digest = f.chain.read(w1, &OwnedWallet::digestForCall { hash }).await.expect("digest");
    assert_eq!(digest, kessai_deployer::signing::wallet_digest(w1, hash), "the off-chain digest is the wallet's");
}

#[tokio::test]
async fn contract_wallets_sign_through_erc1271() {
    let mut f = F::new().await;
    let owner = f.bob.clone();
    let wallet = f.wallet(owner.address()).await;
    f.customer(wallet).await;
    f.watch(wallet);
    f.bank_send(Dt::issueCall { to: wallet, amount: u(50_000), depositRef: keccak256("W-1") }).await.expect("fund");
    let carol = f.carol;
    let a = authorization(wallet, carol, 20_000, 0, f.now + 3_600, "w-n-1");
    let call = |sig: Bytes| authorized_transfer(&a, sig);
    let wrong = f.sign(&f.alice.clone(), &a);
    refused!(f, f.send(carol, call(wrong)).await, "DepositInvalidSignature");
    // The owner's plain signature is not the wallet's: the wallet accepts signatures bound to it.
    let plain = f.sign(&owner, &a);
    refused!(f, f.send(carol, call(plain)).await, "DepositInvalidSignature");
    let sig = f.sign_for_wallet(&owner, wallet, &a);
    f.send(carol, call(sig)).await.expect("the wallet's owner signed");
    assert_eq!(f.balance(carol).await, u(20_000));
    assert_eq!(f.balance(wallet).await, u(30_000));
}

#[tokio::test]
async fn transfer_with_authorization_refuses_frozen_payers_and_payees() {
    let mut f = F::new().await;
    let (alice, bob, carol) = (f.alice.address(), f.bob.address(), f.carol);
    let a = authorization(alice, bob, 1_000, 0, f.now + 3_600, "frozen-1");
    let sig = f.sign(&f.alice.clone(), &a);
    let used = Dt::authorizationStateCall { authorizer: alice, nonce: a.nonce };

    f.bank_send(Dt::setAccountFrozenCall { account: alice, frozen: true }).await.expect("freeze payer");
    let e = refused!(f, f.send(carol, authorized_transfer(&a, sig.clone())).await, "TokenTransferRestricted");
    assert_eq!(e.args[0], "4", "sender frozen");
    f.bank_send(Dt::setAccountFrozenCall { account: alice, frozen: false }).await.expect("unfreeze payer");

    f.bank_send(Dt::setAccountFrozenCall { account: bob, frozen: true }).await.expect("freeze payee");
    let e = refused!(f, f.send(carol, authorized_transfer(&a, sig.clone())).await, "TokenTransferRestricted");
    assert_eq!(e.args[0], "5", "receiver frozen");
    f.bank_send(Dt::setAccountFrozenCall { account: bob, frozen: false }).await.expect("unfreeze payee");

    // A partial freeze leaves only the free balance to authorize.
    f.bank_send(Dt::freezeUnitsCall { account: alice, amount: u(999_500) }).await.expect("partial freeze");
    let e = refused!(f, f.send(carol, authorized_transfer(&a, sig.clone())).await, "TokenTransferRestricted");
    assert_eq!(e.args[0], "6", "free balance too small");
    f.bank_send(Dt::unfreezeUnitsCall { account: alice, amount: u(999_500) }).await.expect("unfreeze units");

    assert!(!f.read(used.clone()).await, "a refused authorization stays unused");
    f.send(carol, authorized_transfer(&a, sig)).await.expect("the same authorization once nothing is frozen");
    assert_eq!(f.balance(bob).await, u(1_000));
    assert!(f.read(used).await);
}

#[tokio::test]
async fn authorizations_are_refused_while_the_token_is_paused() {
    let mut f = F::new().await;
    let (alice, bob, carol) = (f.alice.address(), f.bob.address(), f.carol);
    let a = authorization(alice, bob, 1_000, 0, f.now + 3_600, "paused-1");
    let sig = f.sign(&f.alice.clone(), &a);
    let r = receivable(authorization(alice, bob, 2_000, 0, f.now + 3_600, "paused-2"));
    let collect = authorized_receipt(&r, f.sign(&f.alice.clone(), &r));
    f.bank_send(Dt::setPausedCall { paused_: true }).await.expect("pause");
    let e = refused!(f, f.send(carol, authorized_transfer(&a, sig.clone())).await, "TokenTransferRestricted");
    assert_eq!(e.args[0], "1", "paused");
    let e = refused!(f, f.send(bob, collect.clone()).await, "TokenTransferRestricted");
    assert_eq!(e.args[0], "1", "paused");
    for nonce in [a.nonce, r.nonce] {
        assert!(!f.read(Dt::authorizationStateCall { authorizer: alice, nonce }).await, "nonces stay unused");
    }

    f.bank_send(Dt::setPausedCall { paused_: false }).await.expect("unpause");
    f.send(carol, authorized_transfer(&a, sig)).await.expect("usable after the pause");
    f.send(bob, collect).await.expect("collectable after the pause");
    assert_eq!(f.balance(bob).await, u(3_000));
}

#[tokio::test]
async fn transfer_with_authorization_refuses_a_non_customer_payee() {
    let mut f = F::new().await;
    let (alice, carol) = (f.alice.address(), f.carol);
    f.watch(OUTSIDER);
    let a = authorization(alice, OUTSIDER, 1_000, 0, f.now + 3_600, "outsider-1");
    let sig = f.sign(&f.alice.clone(), &a);
    let e = refused!(f, f.send(carol, authorized_transfer(&a, sig)).await, "TokenTransferRestricted");
    assert_eq!(e.args[0], "3", "receiver is not a customer");

    // Nor can the non-customer collect it itself.
    let r = receivable(authorization(alice, OUTSIDER, 1_000, 0, f.now + 3_600, "outsider-2"));
    let collect = authorized_receipt(&r, f.sign(&f.alice.clone(), &r));
    let e = refused!(f, f.send(OUTSIDER, collect).await, "TokenTransferRestricted");
    assert_eq!(e.args[0], "3", "receiver is not a customer");
    for nonce in [a.nonce, r.nonce] {
        assert!(!f.read(Dt::authorizationStateCall { authorizer: alice, nonce }).await, "nonces stay unused");
    }
}

#[tokio::test]
async fn transfer_with_authorization_is_refused_until_valid_after_has_passed() {
    let mut f = F::new().await;
    let (alice, bob, carol) = (f.alice.address(), f.bob.address(), f.carol);
    // The in-process engine runs each transaction in a new block one second after the chain's time.
    let now = f.chain.timestamp().await.expect("time");
    let valid_after = now + 600;
    let a = authorization(alice, bob, 1_000, valid_after, valid_after + 3_600, "later-1");
    let sig = f.sign(&f.alice.clone(), &a);
    let e = refused!(f, f.send(carol, authorized_transfer(&a, sig.clone())).await, "DepositAuthorizationNotYetValid");
    assert_eq!(e.args[0], valid_after.to_string());

    f.chain.advance_time(599).await.expect("time");
    refused!(f, f.send(carol, authorized_transfer(&a, sig.clone())).await, "DepositAuthorizationNotYetValid"); // at validAfter itself: valid only strictly after
    assert!(!f.read(Dt::authorizationStateCall { authorizer: alice, nonce: a.nonce }).await, "nonce unused");

    f.chain.advance_time(1).await.expect("time");
    f.send(carol, authorized_transfer(&a, sig)).await.expect("valid one second after validAfter");
    assert_eq!(f.balance(bob).await, u(1_000));
}

/// A permit from Alice to Bob for ¥5,000 with nonce 0, valid for an hour.
fn alice_permits_bob(f: &F) -> Permit {
    Permit {
        owner: f.alice.address(),
        spender: f.bob.address(),
        value: u(5_000),
        nonce: U256::ZERO,
        deadline: u(f.now + 3_600),
    }
}

#[tokio::test]
async fn permit_refuses_a_frozen_owner_or_spender() {
    let mut f = F::new().await;
    let (alice, bob) = (f.alice.address(), f.bob.address());
    let p = alice_permits_bob(&f);
    let sig = f.sign(&f.alice.clone(), &p);

    f.bank_send(Dt::setAccountFrozenCall { account: alice, frozen: true }).await.expect("freeze owner");
    let e = refused!(f, f.send(bob, permit_call(&p, sig.clone())).await, "TokenAccountFrozen");
    assert_eq!(e.args[0], alice.to_string());
    f.bank_send(Dt::setAccountFrozenCall { account: alice, frozen: false }).await.expect("unfreeze owner");

    f.bank_send(Dt::setAccountFrozenCall { account: bob, frozen: true }).await.expect("freeze spender");
    let e = refused!(f, f.send(bob, permit_call(&p, sig.clone())).await, "TokenAccountFrozen");
    assert_eq!(e.args[0], bob.to_string());
    f.bank_send(Dt::setAccountFrozenCall { account: bob, frozen: false }).await.expect("unfreeze spender");

    f.send(bob, permit_call(&p, sig)).await.expect("the same permit once neither is frozen");
    assert_eq!(f.read(Dt::allowanceCall { owner: alice, spender: bob }).await, u(5_000));
    assert_eq!(f.read(Dt::noncesCall { owner: alice }).await, u(1));
}

#[tokio::test]
async fn permit_is_refused_while_the_token_is_paused() {
    let mut f = F::new().await;
    let (alice, bob) = (f.alice.address(), f.bob.address());
    let p = alice_permits_bob(&f);
    let sig = f.sign(&f.alice.clone(), &p);
    f.bank_send(Dt::setPausedCall { paused_: true }).await.expect("pause");
    refused!(f, f.send(bob, permit_call(&p, sig.clone())).await, "TokenPaused");
    refused!(f, f.send(bob, permit_vrs_call(&p, &sig)).await, "TokenPaused");
    f.bank_send(Dt::setPausedCall { paused_: false }).await.expect("unpause");
    f.send(bob, permit_vrs_call(&p, &sig)).await.expect("the (v, r, s) permit after the pause");
    assert_eq!(f.read(Dt::allowanceCall { owner: alice, spender: bob }).await, u(5_000));
}

#[tokio::test]
async fn a_permitted_spender_cannot_pay_a_non_customer() {
    let mut f = F::new().await;
    let (alice, bob, carol) = (f.alice.address(), f.bob.address(), f.carol);
    f.watch(OUTSIDER);
    let p = alice_permits_bob(&f);
    let sig = f.sign(&f.alice.clone(), &p);
    f.send(bob, permit_call(&p, sig)).await.expect("permit");
    let pay = |to: Address| Dt::transferFromCall { from: alice, to, amount: u(1_000) };
    let e = refused!(f, f.send(bob, pay(OUTSIDER)).await, "TokenTransferRestricted");
    assert_eq!(e.args[0], "3", "receiver is not a customer");
    f.send(bob, pay(carol)).await.expect("a customer payee");
    assert_eq!(f.read(Dt::allowanceCall { owner: alice, spender: bob }).await, u(4_000));
    assert_eq!(f.balance(carol).await, u(1_000));
}

#[tokio::test]
async fn permits_sign_through_erc1271_contract_wallets() {
    let mut f = F::new().await;
    let (alice, carol) = (f.alice.address(), f.carol);
    let owner = f.bob.clone();
    let wallet = f.wallet(owner.address()).await;
    f.customer(wallet).await;
    f.watch(wallet);
    f.bank_send(Dt::issueCall { to: wallet, amount: u(50_000), depositRef: keccak256("W-P-1") }).await.expect("fund");
    let p = Permit { owner: wallet, spender: alice, value: u(20_000), nonce: U256::ZERO, deadline: u(f.now + 3_600) };

    let wrong = f.sign(&f.alice.clone(), &p);
    let e = refused!(f, f.send(alice, permit_call(&p, wrong)).await, "DepositInvalidSignature");
    assert_eq!(e.args[0], wallet.to_string());

    let plain = f.sign(&owner, &p);
    refused!(f, f.send(alice, permit_call(&p, plain)).await, "DepositInvalidSignature");
    let sig = f.sign_for_wallet(&owner, wallet, &p);
    f.send(alice, permit_call(&p, sig)).await.expect("the wallet's owner signed");
    assert_eq!(f.read(Dt::allowanceCall { owner: wallet, spender: alice }).await, u(20_000));
    assert_eq!(f.read(Dt::noncesCall { owner: wallet }).await, u(1));
    f.send(alice, Dt::transferFromCall { from: wallet, to: carol, amount: u(20_000) }).await.expect("spend");
    assert_eq!((f.balance(wallet).await, f.balance(carol).await), (u(30_000), u(20_000)));
    assert_eq!(f.read(Dt::allowanceCall { owner: wallet, spender: alice }).await, U256::ZERO);
}
