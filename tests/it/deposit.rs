//! Deposit token rules: minters, references, redemption (own and on instruction), customers, freezes,
//! pause and blocklist — each refusal asserts the named error and unchanged balances, held and frozen
//! units, nonces, allowances and supply — and reconciliation of supply with the bank's ledger
//! references. The fixture ([`support::deposit`]) is shared with `deposit_holds` and
//! `deposit_signatures` (permits, authorizations and contract wallets).

use crate::support::{
    self,
    deposit::{F, OUTSIDER, refused},
    u,
};
use kessai_bindings::{
    RevertError,
    alloy::{
        primitives::{Address, B256, U256, keccak256},
        sol_types::{SolCall, SolEvent},
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
use kessai_sim::demo;
use std::collections::HashMap;

#[tokio::test]
async fn issuance_is_tied_to_unique_references_and_minter_limits() {
    let mut f = F::new().await;
    let alice = f.alice.address();
    let dup = Dt::issueCall { to: alice, amount: u(1), depositRef: keccak256("D-1") };
    refused!(f, f.bank_send(dup).await, "DepositReferenceUsed");

    // A second minter with a ¥500,000 allowance and ¥100,000 per hour.
    let minter = Address::repeat_byte(0x3a);
    let config = Dt::configureMinterCall { minter, allowance: 500_000, limitPerPeriod: 100_000, period: 3_600 };
    refused!(f, f.send(minter, config.clone()).await, "AccessControlUnauthorizedAccount");
    f.bank_send(config).await.expect("configure");
    let issue = |amount: u64, r: &str| Dt::issueCall { to: alice, amount: u(amount), depositRef: keccak256(r) };
    f.send(minter, issue(60_000, "M-1")).await.expect("within limits");
    let err = refused!(f, f.send(minter, issue(50_000, "M-2")).await, "DepositRateLimitExceeded");
    assert_eq!(err.args[1], "40000", "remaining in the period");
    f.chain.advance_time(3_600).await.expect("next period");
    for i in 0..4 {
        f.send(minter, issue(100_000, &format!("M-3-{i}"))).await.expect("next periods");
        f.chain.advance_time(3_600).await.expect("next period");
    }
    let err = refused!(f, f.send(minter, issue(50_000, "M-4")).await, "DepositMinterAllowanceExceeded");
    assert_eq!(err.args[1], "40000", "allowance left: 500,000 - 460,000");
    f.bank_send(Dt::removeMinterCall { minter }).await.expect("remove");
    refused!(f, f.send(minter, issue(1, "M-5")).await, "DepositNotMinter");
    let outsider = Address::repeat_byte(0x44);
    let to_outsider = Dt::issueCall { to: outsider, amount: u(1), depositRef: keccak256("X") };
    refused!(f, f.bank_send(to_outsider).await, "TokenAccountNotEligible");
    assert!(!f.read(Dt::isReferenceUsedCall { depositRef: keccak256("X") }).await, "a refused issue uses no reference");
}

#[tokio::test]
async fn issue_and_redeem_refuse_a_zero_reference() {
    let mut f = F::new().await;
    let (alice, bob) = (f.alice.address(), f.bob.address());
    let issue = Dt::issueCall { to: bob, amount: u(1), depositRef: B256::ZERO };
    refused!(f, f.bank_send(issue).await, "DepositZeroReference");
    assert!(!f.read(Dt::isReferenceUsedCall { depositRef: B256::ZERO }).await, "the zero reference stays unused");
    let redeem = Dt::redeemCall { amount: u(1), accountRef: B256::ZERO };
    refused!(f, f.send(alice, redeem).await, "DepositZeroReference");
    let redeem_for = Dt::redeemForCall { holder: alice, amount: u(1), accountRef: B256::ZERO };
    refused!(f, f.bank_send(redeem_for).await, "DepositZeroReference");
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
    refused!(
        f,
        suite.redeem_deposit_for(&mut f.chain, bob, alice, u(1), account_ref).await.map(|_| ()),
        "AccessControlUnauthorizedAccount"
    );

    // Frozen units stay: the redemption is limited to the free balance.
    f.bank_send(Dt::freezeUnitsCall { account: alice, amount: u(700_000) }).await.expect("partial freeze");
    let e = refused!(
        f,
        suite.redeem_deposit_for(&mut f.chain, bank, alice, u(50_001), account_ref).await.map(|_| ()),
        "TokenInsufficientFreeBalance"
    );
    assert_eq!(e.args[1..], ["50000".to_string(), "50001".to_string()], "free balance and amount");

    f.bank_send(Dt::setAccountFrozenCall { account: alice, frozen: true }).await.expect("freeze");
    refused!(
        f,
        suite.redeem_deposit_for(&mut f.chain, bank, alice, u(1), account_ref).await.map(|_| ()),
        "TokenAccountFrozen"
    );
    f.bank_send(Dt::setAccountFrozenCall { account: alice, frozen: false }).await.expect("unfreeze");

    f.bank_send(Dt::setPausedCall { paused_: true }).await.expect("pause");
    refused!(
        f,
        suite.redeem_deposit_for(&mut f.chain, bank, alice, u(1), account_ref).await.map(|_| ()),
        "TokenPaused"
    );
}

#[tokio::test]
async fn transfers_respect_customers_freezes_pause_and_the_blocklist() {
    let mut f = F::new().await;
    let (alice, bob, carol) = (f.alice.address(), f.bob.address(), f.carol);
    let t = |to: Address, amount: u64| Dt::transferCall { to, amount: u(amount) };
    let code = |e: &RevertError| e.args[0].clone();

    let e = refused!(f, f.send(alice, t(OUTSIDER, 1)).await, "TokenTransferRestricted");
    assert_eq!(code(&e), "3", "receiver is not a customer");

    f.bank_send(Dt::setAccountFrozenCall { account: alice, frozen: true }).await.expect("freeze");
    let e = refused!(f, f.send(alice, t(bob, 1)).await, "TokenTransferRestricted");
    assert_eq!(code(&e), "4", "frozen sender");
    refused!(
        f,
        f.send(alice, Dt::redeemCall { amount: u(1), accountRef: keccak256("ACC") }).await,
        "TokenAccountFrozen"
    );
    f.bank_send(Dt::setAccountFrozenCall { account: alice, frozen: false }).await.expect("unfreeze");

    f.bank_send(Dt::setPausedCall { paused_: true }).await.expect("pause");
    let e = refused!(f, f.send(alice, t(bob, 1)).await, "TokenTransferRestricted");
    assert_eq!(code(&e), "1", "paused");
    let issue = Dt::issueCall { to: bob, amount: u(1), depositRef: keccak256("P") };
    refused!(f, f.bank_send(issue).await, "TokenPaused");
    f.bank_send(Dt::setPausedCall { paused_: false }).await.expect("unpause");

    f.bank_send(Dt::setBlockedCall { account: carol, blocked: true }).await.expect("block");
    let e = refused!(f, f.send(alice, t(carol, 1)).await, "TokenTransferRestricted");
    assert_eq!(code(&e), "14", "blocked receiver");
    refused!(f, f.send(carol, Dt::approveCall { spender: alice, amount: u(1) }).await, "TokenAccountBlocked");

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
    let e = refused!(f, f.send(alice, t(bob, 700_001)).await, "TokenTransferRestricted");
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
    let logs: Vec<_> =
        f.chain.logs(&[f.suite.deposit], 0, None).await.expect("logs").into_iter().map(|l| l.log).collect();
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
            let tx = Tx { from: *desk, to: Some(f.suite.deposit), data: power(other).into() };
            let err = refused!(f, f.chain.send(tx).await.map(|_| ()), "AccessControlUnauthorizedAccount");
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
