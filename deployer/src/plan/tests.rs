//! Tests of the parent module.

use super::*;

#[test]
fn salts_and_addresses_follow_the_documented_formulas() {
    // cast keccak $(cast abi-encode "f(string,string)" kessai dvp)
    let salt = deploy_salt("kessai", "dvp");
    assert_eq!(salt, b256!("0x5292cd2569a72946997f0d5b63d6f165c522663fddb7b964935db076bbd8ed49"));
    // cast create2 --deployer 0x4e59…956C --salt <salt> --init-code 0x00
    assert_eq!(create2_address(salt, &[0]), address!("0xCCf6a40b4f0808BF25042540F8F4f67ee76A34fb"));
    assert_ne!(deploy_salt("kessai", "dvp"), deploy_salt("other", "dvp"));
    assert_eq!(keccak256(DETERMINISTIC_DEPLOYER_TX), DETERMINISTIC_DEPLOYER_TX_HASH);
}

/// The suite with a bond and a second bank, on distinct accounts.
fn full_suite() -> Plan {
    let a = |b: u8| Address::repeat_byte(b);
    let accounts = SuiteAccounts { operator: a(1), registrar: a(2), issuer: a(3), bank: a(4), authority: a(5) };
    let bond = BondSpec {
        face_value: 1_000_000,
        coupon_rate_bps: 150,
        coupons_per_year: 2,
        redemption_value: 1_000_000,
        issue_date: 2_000_000_000,
        coupon_dates: vec![2_100_000_000, 2_200_000_000],
        record_offset: 604_800,
        paying_agent: a(6),
        municipal: false,
    };
    suite_plan(&SuiteSpec {
        accounts,
        security: ("Bond".into(), "B".into()),
        deposit: ("DCJPY".into(), "DCJPY".into()),
        minting: MintingSpec::default(),
        extra_banks: vec![BankSpec {
            label: "second".into(),
            token: ("DCJPY2".into(), "DCJPY2".into()),
            bank: a(7),
            minting: MintingSpec::default(),
        }],
        instrument: Some(Instrument::Bond(bond)),
    })
}

#[test]
fn the_suite_goes_out_in_six_waves_each_step_after_what_it_needs() {
    let plan = full_suite();
    let waves = plan.waves();
    assert_eq!(plan.steps.len(), 32);
    assert_eq!(waves.len(), 6, "{waves:?}");
    let mut order: Vec<usize> = waves.iter().flatten().copied().collect();
    order.sort_unstable();
    assert_eq!(order, (0..32).collect::<Vec<_>>(), "every step in one wave");
    let wave_of = |i: usize| waves.iter().position(|w| w.contains(&i)).expect("placed");
    let index = |what: &str| plan.steps.iter().position(|s| s.describe() == what).unwrap_or_else(|| panic!("{what}"));
    let deploy_of = |label: &str| {
        plan.steps
            .iter()
            .position(|s| matches!(s, Step::Deploy { label: l, .. } if l == label))
            .unwrap_or_else(|| panic!("{label}"))
    };
    for (i, step) in plan.steps.iter().enumerate() {
        // Every step comes after the deployment of each contract it acts on or is given.
        let mut needs = BTreeSet::new();
        match step {
            Step::Deploy { args, .. } | Step::Call { args, .. } => contracts_in(args, &mut needs),
            Step::GrantRole { .. } | Step::SetFacility { .. } => {}
        }
        match step {
            Step::GrantRole { contract, .. } | Step::Call { contract, .. } => {
                needs.insert(contract.clone());
            }
            Step::SetFacility { registry, .. } => {
                needs.insert(registry.clone());
            }
            Step::Deploy { .. } => {}
        }
        for label in needs {
            assert!(wave_of(deploy_of(&label)) < wave_of(i), "{} before {}", label, step.describe());
        }
        // A sender's steps in one wave keep the plan's order.
        assert!(waves[wave_of(i)].windows(2).all(|w| w[0] < w[1]));
    }
    // A call after the setup it may use: the deposit's own deployment, the rights granted to the bond.
    let schedule = index("call instrument.scheduleRecordDates()");
    let issuer_role = plan
        .steps
        .iter()
        .position(|s| matches!(s, Step::GrantRole { role, .. } if role == "ISSUER_ROLE"))
        .expect("issuer grant");
    assert!(wave_of(issuer_role) < wave_of(schedule));
    let facility = plan.steps.iter().position(|s| matches!(s, Step::SetFacility { .. })).expect("facility");
    assert!(wave_of(facility) < wave_of(schedule));
    // The grants on a token after the call that configures its minter; grants on one contract together.
    let minter = index("call deposit.configureMinter(address,uint128,uint128,uint64)");
    let pauser = index(&format!("grant PAUSER_ROLE on deposit to {}", Address::repeat_byte(4)));
    let freezer = index(&format!("grant FREEZER_ROLE on deposit to {}", Address::repeat_byte(4)));
    assert!(wave_of(minter) < wave_of(pauser));
    assert_eq!(wave_of(pauser), wave_of(freezer));
}

#[test]
fn predicted_addresses_depend_on_salt_and_arguments_not_on_order() {
    let from = Address::repeat_byte(1);
    let registry = |label: &str| Step::Deploy {
        label: label.into(),
        artifact: "InvestorRegistry".into(),
        from,
        args: vec![Arg::Address(from), Arg::Address(from)],
    };
    let plan = Plan { steps: vec![registry("a"), registry("b")], ..Default::default() };
    let swapped = Plan { steps: vec![registry("b"), registry("a")], ..Default::default() };
    let a = plan.predicted_addresses().expect("addresses");
    assert_eq!(a, swapped.predicted_addresses().expect("addresses"));
    assert_ne!(a["a"], a["b"], "the label is in the salt");
    let salted = plan.clone().with_salt("other").predicted_addresses().expect("addresses");
    assert!(a.values().all(|x| !salted.values().any(|y| x == y)), "another salt, other addresses");
}
