//! Deposit token rules: minters, references, redemption (own and on instruction), customers, freezes,
//! pause and blocklist — each refusal asserts the named error and unchanged balances, held and frozen
//! units, nonces, allowances and supply — and reconciliation of supply with the bank's ledger
//! references. The fixture is shared with `deposit_holds` and `deposit_signatures` (permits,
//! authorizations and contract wallets).

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
