//! What a suite is made of (accounts, instrument, banks) and the plan built from it.

use super::*;

/// The accounts that play each role in the suite. Duties are separated: the securities operator
/// (registry and token admin, rules, pause), its registrar (also the transfer agent approving
/// transfers in approval mode), the issuer, the
/// enforcement authority (freezes, forced transfers, recovery), and the bank.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SuiteAccounts {
    /// Admin of the securities-side registry and of the security token.
    pub operator: Address,
    /// Registers investors in the securities-side registry.
    pub registrar: Address,
    /// Issues and redeems the security token.
    pub issuer: Address,
    /// The bank: admin and registrar of its customer registry, admin, minter, pauser and enforcer of
    /// the deposit token.
    pub bank: Address,
    /// Freezes, forces transfers and recovers wallets on the security token.
    pub authority: Address,
}

impl SuiteAccounts {
    /// The role order every command and the simulator read keys in (`KESSAI_KEYS`,
    /// `KESSAI_KEYSTORE`, Anvil's development keys): the suite's five roles first, in this order;
    /// then the demo's agent, seller and buyer, or a scenario's other parties in file order.
    pub const ROLES: [&'static str; 5] = ["operator", "registrar", "issuer", "bank", "authority"];

    /// The first five accounts, in [`Self::ROLES`] order; `None` if fewer are given.
    pub fn in_role_order(accounts: &[Address]) -> Option<Self> {
        let [operator, registrar, issuer, bank, authority, ..] = *accounts else { return None };
        Some(Self { operator, registrar, issuer, bank, authority })
    }

    /// The five accounts, in [`Self::ROLES`] order.
    pub fn to_array(&self) -> [Address; 5] {
        [self.operator, self.registrar, self.issuer, self.bank, self.authority]
    }
}

/// A straight bond on the suite's security token, paid in its deposit token.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BondSpec {
    /// Face value per unit, in yen.
    pub face_value: u128,
    /// Annual coupon rate in basis points.
    pub coupon_rate_bps: u16,
    /// Coupons per year.
    pub coupons_per_year: u8,
    /// Redemption value per unit, in yen.
    pub redemption_value: u128,
    /// Issue date (unix time).
    pub issue_date: u64,
    /// Coupon dates, the last being the maturity.
    pub coupon_dates: Vec<u64>,
    /// Seconds between each record date and its payment date.
    pub record_offset: u32,
    /// The paying agent (trust bank) that runs payment batches.
    pub paying_agent: Address,
    /// A digital municipal bond (with benefit programmes) rather than a plain straight bond.
    #[serde(default)]
    pub municipal: bool,
}

/// A real-estate fund whose beneficiary units are the suite's security token.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FundSpec {
    /// The paying agent (trust bank) that runs distribution batches.
    pub paying_agent: Address,
}

/// What the suite's security token is, beyond a plain unit token.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Instrument {
    /// A straight bond (or municipal bond) paid in the deposit token.
    Bond(BondSpec),
    /// Beneficiary units of a fund, with distributions paid in the deposit token.
    Fund(FundSpec),
}

/// A bank's minter limits for its own key in the plan.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MintingSpec {
    /// Total the bank's minter may issue.
    pub allowance: u128,
    /// Most it may issue per period.
    pub limit_per_period: u128,
    /// Period length in seconds.
    pub period: u64,
}

impl Default for MintingSpec {
    fn default() -> Self {
        Self { allowance: 1_000_000_000_000_000, limit_per_period: 10_000_000_000_000, period: 86_400 }
    }
}

/// A further bank with its own customer registry and deposit token, deployed from the same code.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BankSpec {
    /// Label suffix: contracts are `bank_registry_<label>` and `deposit_<label>`.
    pub label: String,
    /// Deposit token name and symbol.
    pub token: (String, String),
    /// The bank's account (admin, registrar, master minter, minter, enforcement).
    pub bank: Address,
    /// The bank minter's limits.
    #[serde(default)]
    pub minting: MintingSpec,
}

/// What to deploy: the accounts and the names of the two tokens.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SuiteSpec {
    /// Role holders.
    pub accounts: SuiteAccounts,
    /// Security token name and symbol.
    pub security: (String, String),
    /// Deposit token name and symbol.
    pub deposit: (String, String),
    /// The main bank minter's limits.
    #[serde(default)]
    pub minting: MintingSpec,
    /// Further banks, each with its own registry and deposit token.
    #[serde(default)]
    pub extra_banks: Vec<BankSpec>,
    /// The instrument contract attached to the security token, if any.
    #[serde(default)]
    pub instrument: Option<Instrument>,
}

/// Labels of the suite's contracts.
pub mod labels {
    /// The securities-side investor registry.
    pub const REGISTRY: &str = "registry";
    /// The bank's customer registry.
    pub const BANK_REGISTRY: &str = "bank_registry";
    /// The security token.
    pub const SECURITY: &str = "security";
    /// The deposit token.
    pub const DEPOSIT: &str = "deposit";
    /// The DvP contract.
    pub const DVP: &str = "dvp";
    /// The transfer agent's desk for approval mode.
    pub const APPROVALS: &str = "approvals";
    /// The instrument contract (bond or fund payments) of the security token.
    pub const INSTRUMENT: &str = "instrument";
}

/// The suite's plan: two registries, a security token, a deposit token, the DvP contract, the role
/// grants that separate duties, and the grants that let the DvP contract place holds on both tokens.
pub fn suite_plan(spec: &SuiteSpec) -> Plan {
    use labels::*;
    let a = spec.accounts;
    let deploy = Step::deploy;
    let grant = Step::grant;
    let mut plan = Plan {
        salt: default_salt(),
        steps: vec![
            // The DvP contract first: the tokens trust it as their settlement notary from construction.
            deploy(DVP, "DvP", a.operator, vec![]),
            deploy(REGISTRY, "InvestorRegistry", a.operator, vec![Arg::Address(a.operator), Arg::Address(a.registrar)]),
            deploy(
                SECURITY,
                "SecurityToken",
                a.operator,
                vec![
                    Arg::String(spec.security.0.clone()),
                    Arg::String(spec.security.1.clone()),
                    Arg::Contract(REGISTRY.into()),
                    Arg::Address(a.operator),
                    Arg::Address(a.issuer),
                    Arg::Contract(DVP.into()),
                ],
            ),
            grant(SECURITY, "RULES_ROLE", Arg::Address(a.operator), a.operator),
            grant(SECURITY, "PAUSER_ROLE", Arg::Address(a.operator), a.operator),
            deploy(
                APPROVALS,
                "TransferApprovals",
                a.operator,
                vec![Arg::Address(a.operator), Arg::Address(a.registrar)],
            ),
            grant(SECURITY, "NOTARY_ROLE", Arg::Contract(APPROVALS.into()), a.operator),
            grant(SECURITY, "FREEZER_ROLE", Arg::Address(a.authority), a.operator),
            grant(SECURITY, "ENFORCER_ROLE", Arg::Address(a.authority), a.operator),
            grant(SECURITY, "RECOVERY_ROLE", Arg::Address(a.authority), a.operator),
        ],
    };
    let (name, symbol) = spec.deposit.clone();
    plan.steps.extend(bank_steps(BANK_REGISTRY, DEPOSIT, name, symbol, a.bank, spec.minting));
    plan.steps.extend(instrument_steps(spec));
    // Further banks come last, so adding one to a deployed suite only appends steps (a resumable,
    // compatible change); CREATE2 addresses do not depend on the order.
    for b in &spec.extra_banks {
        let (registry, deposit) = (format!("{BANK_REGISTRY}_{}", b.label), format!("{DEPOSIT}_{}", b.label));
        let (name, symbol) = b.token.clone();
        plan.steps.extend(bank_steps(&registry, &deposit, name, symbol, b.bank, b.minting));
    }
    plan
}

/// The instrument contract of the suite's security token and its wiring, if any.
pub(super) fn instrument_steps(spec: &SuiteSpec) -> Vec<Step> {
    use labels::*;
    let a = spec.accounts;
    let deploy = Step::deploy;
    let instrument = match &spec.instrument {
        None => return Vec::new(),
        Some(Instrument::Bond(bond)) => {
            let u = |v: u128| Arg::Uint(U256::from(v));
            let maturity = bond.coupon_dates.last().copied().unwrap_or_default();
            let terms = Arg::Tuple(vec![
                u(bond.face_value),
                u(bond.coupon_rate_bps.into()),
                u(bond.coupons_per_year.into()),
                u(bond.redemption_value),
                u(bond.issue_date.into()),
                u(maturity.into()),
                u(bond.record_offset.into()),
            ]);
            let dates = Arg::Array(bond.coupon_dates.iter().map(|d| u((*d).into())).collect());
            let artifact = if bond.municipal { "MunicipalBond" } else { "StraightBond" };
            let args = vec![
                Arg::Contract(SECURITY.into()),
                Arg::Contract(DEPOSIT.into()),
                terms,
                dates,
                Arg::Address(a.issuer),
                Arg::Address(a.issuer),
                Arg::Address(bond.paying_agent),
            ];
            deploy(INSTRUMENT, artifact, a.issuer, args)
        }
        Some(Instrument::Fund(fund)) => {
            let args = vec![
                Arg::Contract(SECURITY.into()),
                Arg::Contract(DEPOSIT.into()),
                Arg::Address(a.issuer),
                Arg::Address(a.issuer),
                Arg::Address(fund.paying_agent),
            ];
            deploy(INSTRUMENT, "BeneficiaryUnits", a.issuer, args)
        }
    };
    let mut steps = vec![
        instrument,
        Step::grant(SECURITY, "ISSUER_ROLE", Arg::Contract(INSTRUMENT.into()), a.operator),
        Step::SetFacility { registry: BANK_REGISTRY.into(), account: Arg::Contract(INSTRUMENT.into()), from: a.bank },
    ];
    if matches!(spec.instrument, Some(Instrument::Bond(_))) {
        steps.push(Step::Call {
            contract: INSTRUMENT.into(),
            signature: "scheduleRecordDates()".into(),
            args: vec![],
            from: a.issuer,
        });
    }
    steps
}
