//! Deposit token rules: minters, references, redemption (own and on instruction), customers, freezes,
//! pause, blocklist, permits and authorizations (ERC-1271 wallets included) — each refusal asserts the
//! named error and unchanged balances, held and frozen units, nonces, allowances and supply — and
//! reconciliation of supply with the bank's ledger references. The fixture is shared with
//! `deposit_holds`.

use crate::support;
pub(crate) use crate::support::u;
use kessai_bindings::{
    RevertError,
    alloy::{
        primitives::{Address, B256, Bytes, U256, keccak256},
        signers::{SignerSync, local::PrivateKeySigner},
        sol,
        sol_types::{Eip712Domain, SolCall, SolEvent, SolStruct, eip712_domain},
    },
    deposit_token::DepositToken as Dt,
    investor_registry::InvestorRegistry,
};
use kessai_deployer::{
    DeployerError, anvil,
    chain::{Chain, Tx},
    ops::Suite,
    plan,
};
use kessai_sim::{RevmChain, demo};
use std::collections::HashMap;

sol! {
    struct Permit { address owner; address spender; uint256 value; uint256 nonce; uint256 deadline; }
    struct TransferWithAuthorization { address from; address to; uint256 value; uint256 validAfter; uint256 validBefore; bytes32 nonce; }
    struct ReceiveWithAuthorization { address from; address to; uint256 value; uint256 validAfter; uint256 validBefore; bytes32 nonce; }
    struct CancelAuthorization { address authorizer; bytes32 nonce; }
}

/// A deployed suite with three customers of the bank (Alice holds ¥1,000,000) and the accounts whose
/// state each refusal must leave unchanged.
pub(crate) struct F {
    pub(crate) chain: RevmChain,
    pub(crate) suite: Suite,
    pub(crate) bank: Address,
    pub(crate) alice: PrivateKeySigner,
    pub(crate) bob: PrivateKeySigner,
    pub(crate) carol: Address,
    pub(crate) now: u64,
    watched: Vec<Address>,
}

/// A watched account as the token records it.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Account {
    who: Address,
    balance: U256,
    held: U256,
    frozen: U256,
    permit_nonce: U256,
}

/// What a refused call must leave unchanged: the watched accounts, the non-zero allowances among
/// them, and the total supply.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct State {
    accounts: Vec<Account>,
    allowances: Vec<(Address, Address, U256)>,
    supply: U256,
}

/// An account that is not a customer of the bank.
pub(crate) const OUTSIDER: Address = Address::repeat_byte(0x45);

impl F {
    pub(crate) async fn new() -> Self {
        let mut chain = support::revm();
        let p = support::parties();
        let d = plan::execute(&mut chain, &plan::suite_plan(&demo::demo_spec(&p))).await.expect("deploy");
        let suite = Suite::from_deployment(&d).expect("suite");
        let now = chain.timestamp().await.expect("time");
        let keys = anvil::dev_signers();
        let (alice, bob) = (keys[5].clone(), keys[6].clone());
        let carol = Address::repeat_byte(0xc0);
        let watched = vec![alice.address(), bob.address(), carol, p.suite.bank];
        let mut f = Self { chain, suite, bank: p.suite.bank, alice, bob, carol, now, watched };
        for who in [f.alice.address(), f.bob.address(), carol] {
            f.customer(who).await;
        }
        f.bank_send(Dt::issueCall { to: f.alice.address(), amount: u(1_000_000), depositRef: keccak256("D-1") })
            .await
            .expect("issue");
        f
    }

    /// Registers `who` as a customer of the bank for a year.
    pub(crate) async fn customer(&mut self, who: Address) {
        self.customer_until(who, self.now + 365 * 86_400).await;
    }

    /// Registers `who` as a customer of the bank whose KYC expires at `kyc_expiry`.
    pub(crate) async fn customer_until(&mut self, who: Address, kyc_expiry: u64) {
        let call = InvestorRegistry::registerCall {
            account: who,
            investorClass: 0,
            country: 392,
            kycExpiry: kyc_expiry,
            dataHash: keccak256(who),
        };
        self.chain.send_call(self.bank, self.suite.bank_registry, &call).await.expect("register customer");
    }

    /// Adds `who` to the accounts every snapshot records.
    pub(crate) fn watch(&mut self, who: Address) {
        self.watched.push(who);
    }

    /// Deploys an ERC-1271 contract wallet controlled by `owner`'s key.
    pub(crate) async fn wallet(&mut self, owner: Address) -> Address {
        let creation =
            plan::creation_code("OwnedWallet", &[kessai_bindings::alloy::dyn_abi::DynSolValue::Address(owner)])
                .expect("code");
        let receipt = self.chain.send(Tx { from: owner, to: None, data: creation }).await.expect("deploy wallet");
        receipt.contract_address.expect("wallet")
    }

    pub(crate) async fn send<T: SolCall>(&mut self, from: Address, call: T) -> Result<(), DeployerError> {
        self.chain.send_call(from, self.suite.deposit, &call).await.map(|_| ())
    }
    pub(crate) async fn bank_send<T: SolCall>(&mut self, call: T) -> Result<(), DeployerError> {
        self.send(self.bank, call).await
    }
    pub(crate) async fn read<T: SolCall>(&mut self, call: T) -> T::Return {
        self.chain.read(self.suite.deposit, &call).await.expect("read")
    }
    pub(crate) async fn balance(&mut self, account: Address) -> U256 {
        self.read(Dt::balanceOfCall { account }).await
    }
    pub(crate) async fn state(&mut self) -> State {
        let watched = self.watched.clone();
        let mut accounts = Vec::new();
        let mut allowances = Vec::new();
        for &who in &watched {
            accounts.push(Account {
                who,
                balance: self.balance(who).await,
                held: self.read(Dt::heldBalanceOfCall { account: who }).await,
                frozen: self.read(Dt::frozenBalanceOfCall { account: who }).await,
                permit_nonce: self.read(Dt::noncesCall { owner: who }).await,
            });
            for &spender in &watched {
                let allowance = self.read(Dt::allowanceCall { owner: who, spender }).await;
                if !allowance.is_zero() {
                    allowances.push((who, spender, allowance));
                }
            }
        }
        State { accounts, allowances, supply: self.read(Dt::totalSupplyCall {}).await }
    }
    /// Runs `op`'s result check: the revert `name`, and nothing moved since `before`.
    pub(crate) async fn refused(
        &mut self,
        result: Result<(), DeployerError>,
        name: &str,
        before: State,
    ) -> RevertError {
        let err = match result {
            Err(DeployerError::Revert(e)) => e,
            other => panic!("expected {name}, got {other:?}"),
        };
        assert_eq!(err.name, name, "{err}");
        assert_eq!(self.state().await, before, "{name} moved something");
        err
    }
    fn domain(&self) -> Eip712Domain {
        eip712_domain! {
            name: "DCJPY (Kessai Bank)",
            version: "1",
            chain_id: 31337,
            verifying_contract: self.suite.deposit,
        }
    }
    pub(crate) fn sign<S: SolStruct>(&self, key: &PrivateKeySigner, data: &S) -> Bytes {
        let hash = data.eip712_signing_hash(&self.domain());
        Bytes::from(key.sign_hash_sync(&hash).expect("sign").as_bytes().to_vec())
    }

    /// `key`'s signature of `data` for its contract wallet `wallet` (bound to that wallet).
    pub(crate) fn sign_for_wallet<S: SolStruct>(&self, key: &PrivateKeySigner, wallet: Address, data: &S) -> Bytes {
        let hash = kessai_deployer::signing::wallet_digest(wallet, data.eip712_signing_hash(&self.domain()));
        Bytes::from(key.sign_hash_sync(&hash).expect("sign").as_bytes().to_vec())
    }
}

/// Asserts that `$op` reverts with `$name` and that nothing moved since `$before`; yields the error.
macro_rules! refused {
    ($f:ident, $op:expr, $name:expr, $before:expr) => {{
        let result = $op;
        $f.refused(result, $name, $before).await
    }};
}
pub(crate) use refused;

/// An EIP-3009 transfer authorization, valid strictly after `valid_after` and before `valid_before`.
pub(crate) fn authorization(
    from: Address,
    to: Address,
    value: u64,
    valid_after: u64,
    valid_before: u64,
    nonce: &str,
) -> TransferWithAuthorization {
    TransferWithAuthorization {
        from,
        to,
        value: u(value),
        validAfter: u(valid_after),
        validBefore: u(valid_before),
        nonce: keccak256(nonce),
    }
}

/// The `transferWithAuthorization` call carrying `a` and its signature.
pub(crate) fn authorized_transfer(
    a: &TransferWithAuthorization,
    signature: Bytes,
) -> Dt::transferWithAuthorizationCall {
    Dt::transferWithAuthorizationCall {
        from: a.from,
        to: a.to,
        value: a.value,
        validAfter: a.validAfter,
        validBefore: a.validBefore,
        nonce: a.nonce,
        signature,
    }
}

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
async fn issuance_is_tied_to_unique_references_and_minter_limits() {
    let mut f = F::new().await;
    let alice = f.alice.address();
    let before = f.state().await;
    let dup = f.bank_send(Dt::issueCall { to: alice, amount: u(1), depositRef: keccak256("D-1") }).await;
    f.refused(dup, "DepositReferenceUsed", before).await;

    // A second minter with a ¥500,000 allowance and ¥100,000 per hour.
    let minter = Address::repeat_byte(0x3a);
    let config = Dt::configureMinterCall { minter, allowance: 500_000, limitPerPeriod: 100_000, period: 3_600 };
    let before = f.state().await;
    let by_minter = f.send(minter, config.clone()).await;
    f.refused(by_minter, "AccessControlUnauthorizedAccount", before).await;
    f.bank_send(config).await.expect("configure");
    let issue = |amount: u64, r: &str| Dt::issueCall { to: alice, amount: u(amount), depositRef: keccak256(r) };
    f.send(minter, issue(60_000, "M-1")).await.expect("within limits");
    let before = f.state().await;
    let err = refused!(f, f.send(minter, issue(50_000, "M-2")).await, "DepositRateLimitExceeded", before);
    assert_eq!(err.args[1], "40000", "remaining in the period");
    f.chain.advance_time(3_600).await.expect("next period");
    for i in 0..4 {
        f.send(minter, issue(100_000, &format!("M-3-{i}"))).await.expect("next periods");
        f.chain.advance_time(3_600).await.expect("next period");
    }
    let before = f.state().await;
    let err = refused!(f, f.send(minter, issue(50_000, "M-4")).await, "DepositMinterAllowanceExceeded", before);
    assert_eq!(err.args[1], "40000", "allowance left: 500,000 - 460,000");
    f.bank_send(Dt::removeMinterCall { minter }).await.expect("remove");
    let before = f.state().await;
    refused!(f, f.send(minter, issue(1, "M-5")).await, "DepositNotMinter", before);
    let before = f.state().await;
    let outsider = Address::repeat_byte(0x44);
    let to_outsider = f.bank_send(Dt::issueCall { to: outsider, amount: u(1), depositRef: keccak256("X") }).await;
    f.refused(to_outsider, "TokenAccountNotEligible", before).await;
    assert!(!f.read(Dt::isReferenceUsedCall { depositRef: keccak256("X") }).await, "a refused issue uses no reference");
}

#[tokio::test]
async fn issue_and_redeem_refuse_a_zero_reference() {
    let mut f = F::new().await;
    let (alice, bob) = (f.alice.address(), f.bob.address());
    let before = f.state().await;
    let issue = Dt::issueCall { to: bob, amount: u(1), depositRef: B256::ZERO };
    refused!(f, f.bank_send(issue).await, "DepositZeroReference", before);
    assert!(!f.read(Dt::isReferenceUsedCall { depositRef: B256::ZERO }).await, "the zero reference stays unused");
    let before = f.state().await;
    let redeem = Dt::redeemCall { amount: u(1), accountRef: B256::ZERO };
    refused!(f, f.send(alice, redeem).await, "DepositZeroReference", before);
    let before = f.state().await;
    let redeem_for = Dt::redeemForCall { holder: alice, amount: u(1), accountRef: B256::ZERO };
    refused!(f, f.bank_send(redeem_for).await, "DepositZeroReference", before);
}

#[tokio::test]
async fn the_bank_redeems_on_a_customers_instruction_and_only_from_the_free_balance() {
    let mut f = F::new().await;
    let (alice, bob, bank) = (f.alice.address(), f.bob.address(), f.bank);
    let suite = f.suite;
    let account_ref = keccak256("ACC-ALICE");
    let receipt =
        suite.redeem_deposit_for(&mut f.chain, bank, alice, u(250_000), account_ref).await.expect("redeem for alice");
    let redeemed: Vec<_> = receipt.logs.iter().filter_map(|l| Dt::DepositRedeemed::decode_log(l).ok()).collect();
    assert_eq!(redeemed.len(), 1, "one redemption reported");
    assert_eq!((redeemed[0].from, redeemed[0].amount, redeemed[0].accountRef), (alice, u(250_000), account_ref));
    assert_eq!(f.balance(alice).await, u(750_000));
    assert_eq!(f.read(Dt::totalSupplyCall {}).await, u(750_000));

    // Only REDEEMER_ROLE redeems for someone else.
    let before = f.state().await;
    let by_bob = suite.redeem_deposit_for(&mut f.chain, bob, alice, u(1), account_ref).await.map(|_| ());
    refused!(f, by_bob, "AccessControlUnauthorizedAccount", before);

    // Frozen units stay: the redemption is limited to the free balance.
    f.bank_send(Dt::freezeUnitsCall { account: alice, amount: u(700_000) }).await.expect("partial freeze");
    let before = f.state().await;
    let over = suite.redeem_deposit_for(&mut f.chain, bank, alice, u(50_001), account_ref).await.map(|_| ());
    let e = refused!(f, over, "TokenInsufficientFreeBalance", before);
    assert_eq!(e.args[1..], ["50000".to_string(), "50001".to_string()], "free balance and amount");

    f.bank_send(Dt::setAccountFrozenCall { account: alice, frozen: true }).await.expect("freeze");
    let before = f.state().await;
    let frozen = suite.redeem_deposit_for(&mut f.chain, bank, alice, u(1), account_ref).await.map(|_| ());
    refused!(f, frozen, "TokenAccountFrozen", before);
    f.bank_send(Dt::setAccountFrozenCall { account: alice, frozen: false }).await.expect("unfreeze");

    f.bank_send(Dt::setPausedCall { paused_: true }).await.expect("pause");
    let before = f.state().await;
    let paused = suite.redeem_deposit_for(&mut f.chain, bank, alice, u(1), account_ref).await.map(|_| ());
    refused!(f, paused, "TokenPaused", before);
}

#[tokio::test]
async fn transfers_respect_customers_freezes_pause_and_the_blocklist() {
    let mut f = F::new().await;
    let (alice, bob, carol) = (f.alice.address(), f.bob.address(), f.carol);
    let t = |to: Address, amount: u64| Dt::transferCall { to, amount: u(amount) };
    let code = |e: &RevertError| e.args[0].clone();

    let before = f.state().await;
    let e = refused!(f, f.send(alice, t(OUTSIDER, 1)).await, "TokenTransferRestricted", before);
    assert_eq!(code(&e), "3", "receiver is not a customer");

    f.bank_send(Dt::setAccountFrozenCall { account: alice, frozen: true }).await.expect("freeze");
    let before = f.state().await;
    let e = refused!(f, f.send(alice, t(bob, 1)).await, "TokenTransferRestricted", before);
    assert_eq!(code(&e), "4", "frozen sender");
    let before = f.state().await;
    refused!(
        f,
        f.send(alice, Dt::redeemCall { amount: u(1), accountRef: keccak256("ACC") }).await,
        "TokenAccountFrozen",
        before
    );
    f.bank_send(Dt::setAccountFrozenCall { account: alice, frozen: false }).await.expect("unfreeze");

    f.bank_send(Dt::setPausedCall { paused_: true }).await.expect("pause");
    let before = f.state().await;
    let e = refused!(f, f.send(alice, t(bob, 1)).await, "TokenTransferRestricted", before);
    assert_eq!(code(&e), "1", "paused");
    let before = f.state().await;
    let issue = Dt::issueCall { to: bob, amount: u(1), depositRef: keccak256("P") };
    refused!(f, f.bank_send(issue).await, "TokenPaused", before);
    f.bank_send(Dt::setPausedCall { paused_: false }).await.expect("unpause");

    f.bank_send(Dt::setBlockedCall { account: carol, blocked: true }).await.expect("block");
    let before = f.state().await;
    let e = refused!(f, f.send(alice, t(carol, 1)).await, "TokenTransferRestricted", before);
    assert_eq!(code(&e), "14", "blocked receiver");
    let before = f.state().await;
    refused!(f, f.send(carol, Dt::approveCall { spender: alice, amount: u(1) }).await, "TokenAccountBlocked", before);

    // Partial freeze, then a court-ordered seizure to the bank's escrow (the bank is a facility).
    f.chain
        .send_call(
            f.bank,
            f.suite.bank_registry,
            &InvestorRegistry::setFacilityCall { account: f.bank, isFacility: true },
        )
        .await
        .expect("escrow facility");
    f.bank_send(Dt::freezeUnitsCall { account: alice, amount: u(300_000) }).await.expect("partial freeze");
    let before = f.state().await;
    let e = refused!(f, f.send(alice, t(bob, 700_001)).await, "TokenTransferRestricted", before);
    assert_eq!(code(&e), "6");
    f.send(alice, t(bob, 700_000)).await.expect("the free part moves");
    let seize = Dt::forcedTransferCall {
        from: alice,
        to: f.bank,
        amount: u(300_000),
        reason: "seizure order 2026-77".into(),
        documentRef: keccak256("order-77"),
        courtOrderOverride: true,
    };
    f.bank_send(seize).await.expect("seize");
    assert_eq!(f.read(Dt::balanceOfCall { account: alice }).await, U256::ZERO);
    assert_eq!(f.read(Dt::balanceOfCall { account: f.bank }).await, u(300_000));
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
    let call = |p: &Permit, sig: Bytes| Dt::permit_0Call {
        owner: p.owner,
        spender: p.spender,
        value: p.value,
        deadline: p.deadline,
        signature: sig,
    };
    let good = permit(0, f.now + 3_600);
    let sig = f.sign(&f.alice.clone(), &good);
    f.send(bob, call(&good, sig.clone())).await.expect("permit");
    assert_eq!(f.read(Dt::allowanceCall { owner: alice, spender: bob }).await, u(5_000));
    let before = f.state().await;
    refused!(f, f.send(bob, call(&good, sig)).await, "DepositInvalidSignature", before); // replay: nonce moved on
    let late = permit(1, f.now - 1);
    let sig = f.sign(&f.alice.clone(), &late);
    let before = f.state().await;
    refused!(f, f.send(bob, call(&late, sig)).await, "DepositPermitExpired", before);
    let forged = permit(1, f.now + 3_600);
    let sig = f.sign(&f.bob.clone(), &forged);
    let before = f.state().await;
    refused!(f, f.send(bob, call(&forged, sig)).await, "DepositInvalidSignature", before);
    f.bank_send(Dt::setBlockedCall { account: alice, blocked: true }).await.expect("block");
    let fresh = permit(1, f.now + 3_600);
    let sig = f.sign(&f.alice.clone(), &fresh);
    let before = f.state().await;
    refused!(f, f.send(bob, call(&fresh, sig)).await, "TokenAccountBlocked", before);
    assert_eq!(f.read(Dt::noncesCall { owner: alice }).await, u(1), "a refused permit uses no nonce");
}

#[tokio::test]
async fn authorizations_cannot_be_replayed_used_late_or_by_blocked_payers() {
    let mut f = F::new().await;
    let (alice, bob, carol) = (f.alice.address(), f.bob.address(), f.carol);
    let auth = |nonce: &str, value: u64, before: u64| TransferWithAuthorization {
        from: alice,
        to: bob,
        value: u(value),
        validAfter: U256::ZERO,
        validBefore: u(before),
        nonce: keccak256(nonce),
    };
    let call = |a: &TransferWithAuthorization, sig: Bytes| Dt::transferWithAuthorizationCall {
        from: a.from,
        to: a.to,
        value: a.value,
        validAfter: a.validAfter,
        validBefore: a.validBefore,
        nonce: a.nonce,
        signature: sig,
    };
    let a1 = auth("n-1", 10_000, f.now + 3_600);
    let sig = f.sign(&f.alice.clone(), &a1);
    f.send(carol, call(&a1, sig.clone())).await.expect("relayed by anyone");
    assert_eq!(f.read(Dt::balanceOfCall { account: bob }).await, u(10_000));
    let before = f.state().await;
    refused!(f, f.send(carol, call(&a1, sig)).await, "DepositAuthorizationUsed", before);

    let late = auth("n-2", 1, f.now - 1);
    let sig = f.sign(&f.alice.clone(), &late);
    let before = f.state().await;
    refused!(f, f.send(carol, call(&late, sig)).await, "DepositAuthorizationExpired", before);

    // receiveWithAuthorization: only the payee collects.
    let r = ReceiveWithAuthorization {
        from: alice,
        to: bob,
        value: u(7),
        validAfter: U256::ZERO,
        validBefore: u(f.now + 3_600),
        nonce: keccak256("r-1"),
    };
    let sig = f.sign(&f.alice.clone(), &r);
    let collect = Dt::receiveWithAuthorizationCall {
        from: r.from,
        to: r.to,
        value: r.value,
        validAfter: r.validAfter,
        validBefore: r.validBefore,
        nonce: r.nonce,
        signature: sig,
    };
    let before = f.state().await;
    refused!(f, f.send(carol, collect.clone()).await, "DepositCallerNotPayee", before);
    f.send(bob, collect).await.expect("payee collects");

    // A cancelled authorization cannot be used.
    let a3 = auth("n-3", 1, f.now + 3_600);
    let sig = f.sign(&f.alice.clone(), &a3);
    let cancel = CancelAuthorization { authorizer: alice, nonce: a3.nonce };
    let csig = f.sign(&f.alice.clone(), &cancel);
    f.send(carol, Dt::cancelAuthorizationCall { authorizer: alice, nonce: a3.nonce, signature: csig })
        .await
        .expect("cancel");
    let before = f.state().await;
    refused!(f, f.send(carol, call(&a3, sig)).await, "DepositAuthorizationUsed", before);

    // A blocked payer's authorization is refused by the transfer rules, and its nonce stays unused.
    f.bank_send(Dt::setBlockedCall { account: alice, blocked: true }).await.expect("block");
    let a4 = auth("n-4", 1, f.now + 3_600);
    let sig = f.sign(&f.alice.clone(), &a4);
    let before = f.state().await;
    let e = refused!(f, f.send(carol, call(&a4, sig)).await, "TokenTransferRestricted", before);
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
    let a = TransferWithAuthorization {
        from: wallet,
        to: carol,
        value: u(20_000),
        validAfter: U256::ZERO,
        validBefore: u(f.now + 3_600),
        nonce: keccak256("w-n-1"),
    };
    let call = |sig: Bytes| Dt::transferWithAuthorizationCall {
        from: a.from,
        to: a.to,
        value: a.value,
        validAfter: a.validAfter,
        validBefore: a.validBefore,
        nonce: a.nonce,
        signature: sig,
    };
    let wrong = f.sign(&f.alice.clone(), &a);
    let before = f.state().await;
    refused!(f, f.send(carol, call(wrong)).await, "DepositInvalidSignature", before);
    // The owner's plain signature is not the wallet's: the wallet accepts signatures bound to it.
    let plain = f.sign(&owner, &a);
    let before = f.state().await;
    refused!(f, f.send(carol, call(plain)).await, "DepositInvalidSignature", before);
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
    let before = f.state().await;
    let e = refused!(f, f.send(carol, authorized_transfer(&a, sig.clone())).await, "TokenTransferRestricted", before);
    assert_eq!(e.args[0], "4", "sender frozen");
    f.bank_send(Dt::setAccountFrozenCall { account: alice, frozen: false }).await.expect("unfreeze payer");

    f.bank_send(Dt::setAccountFrozenCall { account: bob, frozen: true }).await.expect("freeze payee");
    let before = f.state().await;
    let e = refused!(f, f.send(carol, authorized_transfer(&a, sig.clone())).await, "TokenTransferRestricted", before);
    assert_eq!(e.args[0], "5", "receiver frozen");
    f.bank_send(Dt::setAccountFrozenCall { account: bob, frozen: false }).await.expect("unfreeze payee");

    // A partial freeze leaves only the free balance to authorize.
    f.bank_send(Dt::freezeUnitsCall { account: alice, amount: u(999_500) }).await.expect("partial freeze");
    let before = f.state().await;
    let e = refused!(f, f.send(carol, authorized_transfer(&a, sig.clone())).await, "TokenTransferRestricted", before);
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
    let r = ReceiveWithAuthorization {
        from: alice,
        to: bob,
        value: u(2_000),
        validAfter: U256::ZERO,
        validBefore: u(f.now + 3_600),
        nonce: keccak256("paused-2"),
    };
    let collect = Dt::receiveWithAuthorizationCall {
        from: r.from,
        to: r.to,
        value: r.value,
        validAfter: r.validAfter,
        validBefore: r.validBefore,
        nonce: r.nonce,
        signature: f.sign(&f.alice.clone(), &r),
    };
    f.bank_send(Dt::setPausedCall { paused_: true }).await.expect("pause");
    let before = f.state().await;
    let e = refused!(f, f.send(carol, authorized_transfer(&a, sig.clone())).await, "TokenTransferRestricted", before);
    assert_eq!(e.args[0], "1", "paused");
    let before = f.state().await;
    let e = refused!(f, f.send(bob, collect.clone()).await, "TokenTransferRestricted", before);
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
    let before = f.state().await;
    let e = refused!(f, f.send(carol, authorized_transfer(&a, sig)).await, "TokenTransferRestricted", before);
    assert_eq!(e.args[0], "3", "receiver is not a customer");

    // Nor can the non-customer collect it itself.
    let r = ReceiveWithAuthorization {
        from: alice,
        to: OUTSIDER,
        value: u(1_000),
        validAfter: U256::ZERO,
        validBefore: u(f.now + 3_600),
        nonce: keccak256("outsider-2"),
    };
    let collect = Dt::receiveWithAuthorizationCall {
        from: r.from,
        to: r.to,
        value: r.value,
        validAfter: r.validAfter,
        validBefore: r.validBefore,
        nonce: r.nonce,
        signature: f.sign(&f.alice.clone(), &r),
    };
    let before = f.state().await;
    let e = refused!(f, f.send(OUTSIDER, collect).await, "TokenTransferRestricted", before);
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
    let before = f.state().await;
    let e = refused!(
        f,
        f.send(carol, authorized_transfer(&a, sig.clone())).await,
        "DepositAuthorizationNotYetValid",
        before
    );
    assert_eq!(e.args[0], valid_after.to_string());

    f.chain.advance_time(599).await.expect("time");
    let before = f.state().await;
    refused!(f, f.send(carol, authorized_transfer(&a, sig.clone())).await, "DepositAuthorizationNotYetValid", before); // at validAfter itself: valid only strictly after
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
    let before = f.state().await;
    let e = refused!(f, f.send(bob, permit_call(&p, sig.clone())).await, "TokenAccountFrozen", before);
    assert_eq!(e.args[0], alice.to_string());
    f.bank_send(Dt::setAccountFrozenCall { account: alice, frozen: false }).await.expect("unfreeze owner");

    f.bank_send(Dt::setAccountFrozenCall { account: bob, frozen: true }).await.expect("freeze spender");
    let before = f.state().await;
    let e = refused!(f, f.send(bob, permit_call(&p, sig.clone())).await, "TokenAccountFrozen", before);
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
    let before = f.state().await;
    refused!(f, f.send(bob, permit_call(&p, sig.clone())).await, "TokenPaused", before);
    let before = f.state().await;
    refused!(f, f.send(bob, permit_vrs_call(&p, &sig)).await, "TokenPaused", before);
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
    let before = f.state().await;
    let pay = |to: Address| Dt::transferFromCall { from: alice, to, amount: u(1_000) };
    let e = refused!(f, f.send(bob, pay(OUTSIDER)).await, "TokenTransferRestricted", before);
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
    let before = f.state().await;
    let e = refused!(f, f.send(alice, permit_call(&p, wrong)).await, "DepositInvalidSignature", before);
    assert_eq!(e.args[0], wallet.to_string());

    let plain = f.sign(&owner, &p);
    let before = f.state().await;
    refused!(f, f.send(alice, permit_call(&p, plain)).await, "DepositInvalidSignature", before);
    let sig = f.sign_for_wallet(&owner, wallet, &p);
    f.send(alice, permit_call(&p, sig)).await.expect("the wallet's owner signed");
    assert_eq!(f.read(Dt::allowanceCall { owner: wallet, spender: alice }).await, u(20_000));
    assert_eq!(f.read(Dt::noncesCall { owner: wallet }).await, u(1));
    f.send(alice, Dt::transferFromCall { from: wallet, to: carol, amount: u(20_000) }).await.expect("spend");
    assert_eq!((f.balance(wallet).await, f.balance(carol).await), (u(30_000), u(20_000)));
    assert_eq!(f.read(Dt::allowanceCall { owner: wallet, spender: alice }).await, U256::ZERO);
}

/// xorshift64*: a small deterministic generator for the random sequence.
fn next(state: &mut u64) -> u64 {
    *state ^= *state >> 12;
    *state ^= *state << 25;
    *state ^= *state >> 27;
    state.wrapping_mul(0x2545_f491_4f6c_dd1d)
}

#[tokio::test]
async fn supply_reconciles_with_the_ledger_references_after_random_activity() {
    let mut f = F::new().await;
    let people = [f.alice.address(), f.bob.address(), f.carol];
    let mut seed = 0x5eed_u64;
    let (mut issued, mut redeemed) = (0, 0);
    for step in 0..300 {
        let who = people[(next(&mut seed) % 3) as usize];
        let amount = 1 + next(&mut seed) % 50_000;
        match next(&mut seed) % 3 {
            0 => {
                let call = Dt::issueCall { to: who, amount: u(amount), depositRef: keccak256(format!("L-{step}")) };
                f.bank_send(call).await.expect("issue");
                issued += 1;
            }
            1 => {
                let to = people[(next(&mut seed) % 3) as usize];
                let _ = f.send(who, Dt::transferCall { to, amount: u(amount) }).await;
            }
            _ => {
                let call = Dt::redeemCall { amount: u(amount), accountRef: keccak256(format!("ACC-{who}")) };
                if f.send(who, call).await.is_ok() {
                    redeemed += 1;
                }
            }
        }
    }
    assert!(issued > 50 && redeemed > 20, "the sequence exercised both ({issued} issues, {redeemed} redemptions)");
    let logs = f.chain.logs(f.suite.deposit, 0).await.expect("logs");
    let mut by_reference: HashMap<B256, i128> = HashMap::new();
    let mut issue_refs = std::collections::HashSet::new();
    for log in &logs {
        if let Ok(e) = Dt::DepositIssued::decode_log(log) {
            assert!(issue_refs.insert(e.depositRef), "each ledger debit is issued once");
            *by_reference.entry(e.depositRef).or_default() += i128::try_from(e.amount).expect("amount");
        } else if let Ok(e) = Dt::DepositRedeemed::decode_log(log) {
            *by_reference.entry(e.accountRef).or_default() -= i128::try_from(e.amount).expect("amount");
        }
    }
    let net: i128 = by_reference.values().sum();
    let supply = f.read(Dt::totalSupplyCall {}).await;
    assert_eq!(U256::from(net as u128), supply, "issues minus redemptions over all references = total supply");
}

#[tokio::test]
async fn two_banks_deploy_their_own_tokens_from_the_same_code() {
    let mut chain = support::revm();
    let p = support::parties();
    let second_bank = anvil::dev_accounts()[8];
    let mut spec = demo::demo_spec(&p);
    spec.extra_banks.push(plan::BankSpec {
        label: "b".into(),
        token: ("DCJPY (Second Bank)".into(), "DCJPY-B".into()),
        bank: second_bank,
        minting: Default::default(),
    });
    let d = plan::execute(&mut chain, &plan::suite_plan(&spec)).await.expect("deploy");
    let (token_a, token_b) = (d.address("deposit").expect("a"), d.address("deposit_b").expect("b"));
    let registry_b = d.address("bank_registry_b").expect("registry b");
    for token in [token_a, token_b] {
        let code = chain.code(token).await.expect("code");
        assert!(kessai_deployer::verify::matches_artifact("DepositToken", &code).expect("verify"), "same code");
        assert!(!kessai_deployer::verify::matches_artifact("SecurityToken", &code).expect("verify"));
    }
    let now = chain.timestamp().await.expect("time");
    let customer = p.buyer;
    let reg = demo::registration(now, "customer");
    let suite = Suite::from_deployment(&d).expect("suite");
    suite.register(&mut chain, registry_b, second_bank, customer, reg).await.expect("customer of bank B only");
    let issue = |r: &str| Dt::issueCall { to: customer, amount: u(100), depositRef: keccak256(r) };
    chain.send_call(second_bank, token_b, &issue("B-1")).await.expect("bank B issues to its customer");
    let refused = chain.send_call(p.suite.bank, token_a, &issue("A-1")).await;
    assert!(matches!(refused, Err(DeployerError::Revert(ref e)) if e.name == "TokenAccountNotEligible"), "{refused:?}");
    let other_minter = chain.send_call(p.suite.bank, token_b, &issue("B-2")).await;
    assert!(
        matches!(other_minter, Err(DeployerError::Revert(ref e)) if e.name == "DepositNotMinter"),
        "{other_minter:?}"
    );
    assert_eq!(chain.read(token_b, &Dt::totalSupplyCall {}).await.expect("b"), u(100));
    assert_eq!(chain.read(token_a, &Dt::totalSupplyCall {}).await.expect("a"), U256::ZERO);
}

#[tokio::test]
async fn each_enforcement_power_is_its_own_role() {
    let mut f = F::new().await;
    let (alice, bob) = (f.alice.address(), f.bob.address());
    // The bank hands each power to a different desk; each desk can use its own power and no other.
    let desks: Vec<(&str, Address)> = vec![
        ("PAUSER_ROLE", Address::repeat_byte(0xa1)),
        ("FREEZER_ROLE", Address::repeat_byte(0xa2)),
        ("BLOCKLISTER_ROLE", Address::repeat_byte(0xa3)),
        ("ENFORCER_ROLE", Address::repeat_byte(0xa4)),
        ("MASTER_MINTER_ROLE", Address::repeat_byte(0xa5)),
    ];
    for (role, desk) in &desks {
        f.bank_send(Dt::grantRoleCall { role: keccak256(role.as_bytes()), account: *desk }).await.expect("grant");
    }
    let power = |role: &str| -> Vec<u8> {
        match role {
            "PAUSER_ROLE" => Dt::setPausedCall { paused_: true }.abi_encode(),
            "FREEZER_ROLE" => Dt::setAccountFrozenCall { account: alice, frozen: true }.abi_encode(),
            "BLOCKLISTER_ROLE" => Dt::setBlockedCall { account: alice, blocked: true }.abi_encode(),
            "ENFORCER_ROLE" => Dt::forcedTransferCall {
                from: alice,
                to: bob,
                amount: u(10),
                reason: "court order 42".into(),
                documentRef: keccak256("order-42"),
                courtOrderOverride: false,
            }
            .abi_encode(),
            _ => Dt::configureMinterCall { minter: bob, allowance: 1, limitPerPeriod: 1, period: 1 }.abi_encode(),
        }
    };
    for (role, desk) in &desks {
        for (other, _) in desks.iter().filter(|(r, _)| r != role) {
            let before = f.state().await;
            let result = f.chain.send(Tx { from: *desk, to: Some(f.suite.deposit), data: power(other).into() }).await;
            let err = refused!(f, result.map(|_| ()), "AccessControlUnauthorizedAccount", before);
            assert!(err.message.contains(other), "{desk} using {other}: {}", err.message);
        }
    }
    for (role, desk) in &desks {
        let result = f.chain.send(Tx { from: *desk, to: Some(f.suite.deposit), data: power(role).into() }).await;
        result.unwrap_or_else(|e| panic!("{role} holder could not use its power: {e}"));
        // Undo what the power changed so the next desk starts from the same state.
        match *role {
            "PAUSER_ROLE" => f.send(*desk, Dt::setPausedCall { paused_: false }).await.expect("resume"),
            "FREEZER_ROLE" => {
                f.send(*desk, Dt::setAccountFrozenCall { account: alice, frozen: false }).await.expect("thaw")
            }
            "BLOCKLISTER_ROLE" => {
                f.send(*desk, Dt::setBlockedCall { account: alice, blocked: false }).await.expect("unblock")
            }
            _ => {}
        }
    }
    assert_eq!(f.balance(bob).await, u(10), "the enforcer's forced transfer moved ¥10");
}
