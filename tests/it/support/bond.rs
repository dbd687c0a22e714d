//! The bond fixture: a deployed suite whose security token is a bond (straight or municipal) or a
//! fund, with any number of registered holders, and the payments the paying agent runs.

use crate::support;
use kessai_bindings::{
    alloy::{
        primitives::{Address, U256, keccak256},
        sol_types::SolEvent,
    },
    deposit_token::DepositToken,
    investor_registry::InvestorRegistry,
    municipal_bond::MunicipalBond,
    security_token::SecurityToken as St,
    straight_bond::StraightBond as Bond,
};
use kessai_deployer::{
    DeployerError,
    chain::Chain,
    ops::Suite,
    plan::{self, BondSpec, FundSpec, Instrument},
};
use kessai_sim::{RevmChain, demo};

/// A day in seconds.
pub const DAY: u64 = 86_400;
/// The face value of a unit, in yen.
pub const FACE: u128 = 100_000;
/// The coupon rate in basis points a year.
pub const RATE_BPS: u16 = 120; // 1.2% a year, paid twice a year: ¥600 per unit per coupon
/// Units each holder is issued.
pub const UNITS_EACH: u64 = 10;

/// One coupon per unit, in yen.
pub const COUPON: u64 = (FACE as u64) * (RATE_BPS as u64) / 10_000 / 2;

/// A deployed suite whose security token is a two-year bond, with `n` registered holders of
/// `UNITS_EACH` units each; [`BondFixture::fund`] gives the bond contract deposit tokens to pay with.
pub struct BondFixture<C: Chain = RevmChain> {
    pub chain: C,
    pub suite: Suite,
    pub bond: Address,
    pub holders: Vec<Address>,
    pub agent: Address,
    pub coupon_dates: Vec<u64>,
}

pub async fn bond_fixture(n: usize) -> BondFixture {
    fixture(n, Kind::Bond).await
}

/// Which instrument the fixture's security token is.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Bond,
    Municipal,
    Fund,
}

/// As [`bond_fixture`], for any instrument.
pub async fn fixture(n: usize, kind: Kind) -> BondFixture {
    fixture_on(support::revm(), n, kind).await
}

/// As [`fixture`], on any engine.
pub async fn fixture_on<C: Chain>(chain: C, n: usize, kind: Kind) -> BondFixture<C> {
    fixture_with(chain, n, kind, &[]).await
}

/// As [`fixture_on`], with the unit token's record dates `prior` (seconds from now) scheduled by the
/// issuer before the bond schedules its own.
pub async fn fixture_with<C: Chain>(mut chain: C, n: usize, kind: Kind, prior: &[u64]) -> BondFixture<C> {
    let p = support::parties();
    let now = chain.timestamp().await.expect("time");
    let coupon_dates: Vec<u64> = (1..=4).map(|i| now + i * 182 * DAY).collect();
    let mut spec = demo::demo_spec(&p);
    spec.instrument = Some(if kind == Kind::Fund {
        Instrument::Fund(FundSpec { paying_agent: p.agent })
    } else {
        Instrument::Bond(BondSpec {
            face_value: FACE,
            coupon_rate_bps: RATE_BPS,
            coupons_per_year: 2,
            redemption_value: FACE,
            issue_date: now,
            coupon_dates: coupon_dates.clone(),
            record_offset: (7 * DAY) as u32,
            paying_agent: p.agent,
            municipal: kind == Kind::Municipal,
        })
    });
    let mut suite_plan = plan::suite_plan(&spec);
    let last = suite_plan.steps.len() - 1;
    for (k, after) in prior.iter().enumerate() {
        let step = plan::Step::Call {
            contract: plan::labels::SECURITY.into(),
            signature: "scheduleRecordDate(uint64)".into(),
            args: vec![plan::Arg::Uint(U256::from(now + after))],
            from: p.suite.issuer,
        };
        suite_plan.steps.insert(last + k, step);
    }
    let d = plan::execute(&mut chain, &suite_plan).await.expect("deploy");
    let suite = Suite::from_deployment(&d).expect("suite");
    let bond = d.address(plan::labels::INSTRUMENT).expect("bond");

    let holders: Vec<Address> =
        (0..n).map(|i| Address::left_padding_from(&(0x1000 + i as u64).to_be_bytes())).collect();
    for chunk in holders.chunks(250) {
        let k = chunk.len();
        let call = InvestorRegistry::registerBatchCall {
            accounts: chunk.to_vec(),
            classes: vec![0; k],
            countries: vec![392; k],
            kycExpiries: vec![now + 3 * 365 * DAY; k],
            dataHashes: chunk.iter().map(keccak256).collect(),
        };
        chain.send_call(p.suite.registrar, suite.registry, &call).await.expect("register holders");
        chain.send_call(p.suite.bank, suite.bank_registry, &call).await.expect("bank customers");
        let issue = St::batchIssueCall { to: chunk.to_vec(), amounts: vec![U256::from(UNITS_EACH); k] };
        chain.send_call(p.suite.issuer, suite.security, &issue).await.expect("issue units");
    }
    BondFixture { chain, suite, bond, holders, agent: p.agent, coupon_dates }
}

impl<C: Chain> BondFixture<C> {
    pub async fn fund(&mut self, amount: u64, reference: &str) {
        let bank = support::parties().suite.bank;
        let call =
            DepositToken::issueCall { to: self.bond, amount: U256::from(amount), depositRef: keccak256(reference) };
        self.chain.send_call(bank, self.suite.deposit, &call).await.expect("fund the bond");
    }

    pub async fn pay(&mut self, payment: u64, holders: &[Address]) -> Result<(u64, usize), DeployerError> {
        let call = Bond::payCall { payment: U256::from(payment), holders: holders.to_vec() };
        let receipt = self.chain.send_call(self.agent, self.bond, &call).await?;
        let paid =
            receipt.logs.iter().filter(|l| l.topics().first() == Some(&Bond::HolderPaid::SIGNATURE_HASH)).count();
        Ok((receipt.gas_used, paid))
    }

    /// Units and cash of every holder, the instrument's cash, and the unit supply.
    pub async fn state(&mut self) -> (Vec<(U256, U256)>, U256, U256) {
        let mut holders = Vec::new();
        for h in self.holders.clone() {
            let units = self.chain.read(self.suite.security, &St::balanceOfCall { account: h }).await.expect("units");
            holders.push((units, self.cash(h).await));
        }
        let supply = self.chain.read(self.suite.security, &St::totalSupplyCall {}).await.expect("supply");
        (holders, self.cash(self.bond).await, supply)
    }

    /// Whether each of `holders` is marked paid for `payment`.
    pub async fn paid(&mut self, payment: u64, holders: &[Address]) -> Vec<bool> {
        let mut paid = Vec::new();
        for h in holders {
            let call = Bond::isPaidCall { payment: U256::from(payment), holder: *h };
            paid.push(self.chain.read(self.bond, &call).await.expect("paid?"));
        }
        paid
    }

    /// The bond's status (0 issued, 1 matured, 2 redeemed, 3 called, 4 defaulted).
    pub async fn status(&mut self) -> u8 {
        self.chain.read(self.bond, &Bond::statusCall {}).await.expect("status")
    }

    pub async fn cash(&mut self, who: Address) -> U256 {
        self.chain.read(self.suite.deposit, &DepositToken::balanceOfCall { account: who }).await.expect("cash")
    }

    /// A municipal bond's benefit programme `name` — one benefit per 5 units held at record 1, claimable
    /// for 30 days after its record date — with that record date.
    pub fn benefit_programme(&self, name: &str) -> (u64, MunicipalBond::addProgrammeCall) {
        let record_date = self.coupon_dates[0] - 7 * DAY;
        let add = MunicipalBond::addProgrammeCall {
            name: name.into(),
            unitsPerBenefit: 5,
            record: 1,
            claimUntil: record_date + 30 * DAY,
        };
        (record_date, add)
    }

    /// Runs coupon 1 for every holder in batches of `batch`; returns the gas of each batch.
    pub async fn coupon_round(&mut self, batch: usize) -> Vec<u64> {
        let holders = self.holders.clone();
        let mut gas = Vec::new();
        for chunk in holders.chunks(batch) {
            let (g, paid) = self.pay(1, chunk).await.expect("coupon batch");
            assert_eq!(paid, chunk.len());
            gas.push(g);
        }
        gas
    }
}
