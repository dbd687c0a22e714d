//! The suite config: a TOML file describing what to deploy — the accounts that hold each role, the
//! security token, the main bank's deposit token and any further banks, and an optional bond or fund
//! instrument — turned into a [`SuiteSpec`] and then into the plan ([`Config::plan`]).
//!
//! Syntax and type errors come from the TOML parser with their line and column. The semantic checks
//! here (addresses whose EIP-55 checksum fails, zero addresses, duplicate bank labels, bond dates out
//! of order, ...) report every problem at once, each with its place in the file and what to change.
//! Addresses follow [`crate::address`]: one-case hex is accepted with a warning. Roles that share an
//! account (the operator also the issuer, ...) collapse duties the suite separates: the config is
//! accepted with a warning naming them, unless it says `allow_shared_roles = true`.
//! `deployments/example.toml` is a complete example. An optional `[cross_chain]` section deploys the
//! suite on two chains for cross-chain settlement ([`CrossChainConfig`], `deployments/cross-chain.toml`).
//!
//! ```
//! use kessai_deployer::config::Config;
//!
//! let config = Config::parse(
//!     r#"
//!     [accounts]
//!     operator = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
//!     registrar = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
//!     issuer = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"
//!     bank = "0x90F79bf6EB2c4f870365E785982E1f101E93b906"
//!     authority = "0x14dC79964da2C08b23698B3D3cc7Ca32193d9955"
//!
//!     [security]
//!     name = "Kessai Green Bond 2031"
//!     symbol = "KGB31"
//!
//!     [deposit]
//!     name = "DCJPY (Kessai Bank)"
//!     symbol = "DCJPY"
//!     "#,
//!     "inline",
//! )
//! .unwrap();
//! assert_eq!(config.salt, "kessai");
//! assert_eq!(config.plan().steps.len(), 19);
//! ```

mod cross_chain;

pub use cross_chain::{CrossChainConfig, MAX_ATTESTORS, SideChain, peer, settlement_label, side_name};

use crate::profile::ChainProfile;
use crate::{
    address,
    error::DeployerError,
    plan::{self, BankSpec, BondSpec, DEFAULT_SALT, FundSpec, Instrument, MintingSpec, Plan, SuiteAccounts, SuiteSpec},
};
use alloy::primitives::{Address, B256, keccak256};
use serde::Deserialize;
use std::{collections::BTreeMap, path::Path};
use toml::{
    Spanned,
    value::{Datetime, Offset},
};

/// The smallest complete config, as the crate's tests and the end-to-end tests start from it: the five
/// roles on Anvil's first development accounts (operator, registrar, issuer, bank, authority), the
/// security token and the main bank's deposit token, without an instrument. It starts with an empty
/// line, so `[accounts]` is its line 2.
///
/// ```
/// use kessai_deployer::config::{Config, MINIMAL};
///
/// let config = Config::parse(MINIMAL, "minimal").unwrap();
/// assert!(config.shared_roles.is_empty() && config.spec.instrument.is_none());
/// ```
pub const MINIMAL: &str = r#"
[accounts]
operator = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
registrar = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
issuer = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"
bank = "0x90F79bf6EB2c4f870365E785982E1f101E93b906"
authority = "0x14dC79964da2C08b23698B3D3cc7Ca32193d9955"

[security]
name = "Kessai Green Bond 2031"
symbol = "KGB31"

[deposit]
name = "DCJPY (Kessai Bank)"
symbol = "DCJPY"
"#;

/// A parsed, checked suite config.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// The salt of every contract's CREATE2 address (default `kessai`).
    pub salt: String,
    /// The chain the config is meant for, if it names one (or its profile does).
    pub chain_id: Option<u64>,
    /// The network profile (`[chain] profile = "ibet"`), recorded in the manifest.
    pub profile: Option<ChainProfile>,
    /// What to deploy.
    pub spec: SuiteSpec,
    /// keccak256 of the file's bytes (recorded in the journal and the manifest).
    pub hash: B256,
    /// Accounts that hold more than one role, each with the roles it holds (in file order).
    pub shared_roles: Vec<SharedRoles>,
    /// Whether the config says that shared roles are meant (`allow_shared_roles = true`).
    pub allow_shared_roles: bool,
    /// The two chains of a cross-chain deployment (`[cross_chain]`); `chain_id` and `profile` are then
    /// unset, each chain's being here.
    pub cross_chain: Option<CrossChainConfig>,
}

/// One account holding several roles of a config.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SharedRoles {
    /// The account.
    pub address: Address,
    /// The roles it holds, as the config names them (`accounts.operator`, `instrument.paying_agent`).
    pub roles: Vec<String>,
}

impl std::fmt::Display for SharedRoles {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let roles = match self.roles.as_slice() {
            [] => String::new(),
            [one] => one.clone(),
            [init @ .., last] => format!("{} and {last}", init.join(", ")),
        };
        let all = if self.roles.len() == 2 { "both" } else { "all" };
        write!(
            f,
            "{roles} are {all} {}: one key would hold duties the suite separates; give each role its own account, \
             or set allow_shared_roles = true at the top of the config if this is meant",
            self.address
        )
    }
}

impl Config {
    /// Reads and checks the config at `path`.
    pub fn load(path: &Path) -> Result<Self, DeployerError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| DeployerError::Config(format!("cannot read config {}: {e}", path.display())))?;
        Self::parse(&text, &path.display().to_string())
    }

    /// Parses and checks `text`; `origin` names it in error messages.
    pub fn parse(text: &str, origin: &str) -> Result<Self, DeployerError> {
        let raw: RawConfig =
            toml::from_str(text).map_err(|e| DeployerError::Config(format!("config {origin}: {e}")))?;
        let mut checker = Checker { text, origin, problems: Vec::new(), roles: Vec::new() };
        let config = checker.check(raw, keccak256(text.as_bytes()));
        match (config, checker.problems.is_empty()) {
            (Some(config), true) => {
                if !config.allow_shared_roles {
                    for shared in &config.shared_roles {
                        tracing::warn!(target: "kessai::deploy", "config {origin}: {shared}");
                    }
                }
                Ok(config)
            }
            _ => {
                let n = checker.problems.len();
                let list = checker.problems.iter().map(|p| format!("  {p}")).collect::<Vec<_>>().join("\n");
                Err(DeployerError::Config(format!(
                    "config {origin}: {n} problem{}:\n{list}",
                    if n == 1 { "" } else { "s" }
                )))
            }
        }
    }

    /// The deployment plan, salted with the config's salt.
    pub fn plan(&self) -> Plan {
        plan::suite_plan(&self.spec).with_salt(self.salt.clone())
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    salt: Option<Spanned<String>>,
    chain_id: Option<Spanned<u64>>,
    chain: Option<RawChain>,
    allow_shared_roles: Option<bool>,
    accounts: RawAccounts,
    security: RawToken,
    deposit: RawDeposit,
    #[serde(default)]
    banks: Vec<RawBank>,
    instrument: Option<RawInstrument>,
    cross_chain: Option<cross_chain::RawCrossChain>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawChain {
    profile: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAccounts {
    operator: Spanned<String>,
    registrar: Spanned<String>,
    issuer: Spanned<String>,
    bank: Spanned<String>,
    authority: Spanned<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawToken {
    name: Spanned<String>,
    symbol: Spanned<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDeposit {
    name: Spanned<String>,
    symbol: Spanned<String>,
    minting: Option<RawMinting>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMinting {
    allowance: u128,
    limit_per_period: u128,
    period: Spanned<u64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBank {
    label: Spanned<String>,
    name: Spanned<String>,
    symbol: Spanned<String>,
    bank: Spanned<String>,
    minting: Option<RawMinting>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawInstrument {
    kind: Spanned<String>,
    paying_agent: Spanned<String>,
    face_value: Option<Spanned<u128>>,
    redemption_value: Option<u128>,
    coupon_rate_bps: Option<u16>,
    coupons_per_year: Option<Spanned<u8>>,
    issue_date: Option<Spanned<Datetime>>,
    coupon_dates: Option<Spanned<Vec<Spanned<Datetime>>>>,
    record_offset_days: Option<u32>,
}

/// Collects problems with their places, and the accounts holding each role.
struct Checker<'a> {
    text: &'a str,
    origin: &'a str,
    problems: Vec<String>,
    /// Each role's account, in file order.
    roles: Vec<(String, Address)>,
}

impl Checker<'_> {
    fn place(&self, offset: usize) -> (usize, usize) {
        let before = &self.text[..offset.min(self.text.len())];
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        (line, column)
    }

    fn problem<T>(&mut self, at: &Spanned<T>, message: impl std::fmt::Display) {
        let (line, column) = self.place(at.span().start);
        self.problems.push(format!("line {line}, column {column}: {message}"));
    }

    /// The account holding the role `what`: its address under [`address::parse`], not zero.
    fn address(&mut self, value: &Spanned<String>, what: &str) -> Address {
        let account = self.account(value, what);
        self.roles.push((what.to_string(), account));
        account
    }

    /// The address `value` under [`address::parse`], not zero, for `what` (not a role of the suite's).
    fn account(&mut self, value: &Spanned<String>, what: &str) -> Address {
        let (line, column) = self.place(value.span().start);
        let place = format!("config {}: line {line}, column {column}: {what}", self.origin);
        let account = match address::parse_at(value.get_ref(), place) {
            Ok(account) => account,
            Err(e) => {
                self.problem(value, format!("{what}: {e}"));
                return Address::ZERO;
            }
        };
        if account.is_zero() {
            self.problem(value, format!("{what} is the zero address: give the account's real address"));
        }
        account
    }

    /// Accounts holding more than one role.
    fn shared_roles(&self) -> Vec<SharedRoles> {
        let mut shared: Vec<SharedRoles> = Vec::new();
        for (role, account) in &self.roles {
            match shared.iter_mut().find(|s| s.address == *account) {
                Some(s) => s.roles.push(role.clone()),
                None => shared.push(SharedRoles { address: *account, roles: vec![role.clone()] }),
            }
        }
        shared.retain(|s| s.roles.len() > 1 && !s.address.is_zero());
        shared
    }

    fn text(&mut self, value: &Spanned<String>, what: &str) -> String {
        if value.get_ref().trim().is_empty() {
            self.problem(value, format!("{what} is empty: give it a value"));
        }
        value.get_ref().clone()
    }

    fn minting(&mut self, raw: Option<RawMinting>, what: &str) -> MintingSpec {
        let Some(m) = raw else { return MintingSpec::default() };
        if *m.period.get_ref() == 0 {
            self.problem(&m.period, format!("{what}.minting.period is 0: give the rate-limit period in seconds"));
        }
        MintingSpec { allowance: m.allowance, limit_per_period: m.limit_per_period, period: *m.period.get_ref() }
    }

    /// A date (midnight UTC) or a date and time with an offset, as unix time.
    fn date(&mut self, value: &Spanned<Datetime>, what: &str) -> Option<u64> {
        let dt = value.get_ref();
        let Some(date) = dt.date else {
            self.problem(value, format!("{what} is a time without a date: write a date such as 2027-04-01"));
            return None;
        };
        let mut seconds = days_from_civil(date.year.into(), date.month.into(), date.day.into()) * 86_400;
        if let Some(time) = dt.time {
            let Some(offset) = dt.offset else {
                self.problem(
                    value,
                    format!(
                        "{what} has a time but no UTC offset: add one (2027-04-01T09:00:00+09:00) or give the date alone"
                    ),
                );
                return None;
            };
            let minutes = match offset {
                Offset::Z => 0,
                Offset::Custom { minutes } => i64::from(minutes),
            };
            seconds += i64::from(time.hour) * 3_600 + i64::from(time.minute) * 60 + i64::from(time.second.unwrap_or(0))
                - minutes * 60;
        }
        if seconds < 0 {
            self.problem(value, format!("{what} is before 1970: give a date in the bond's lifetime"));
            return None;
        }
        Some(seconds as u64)
    }

    /// Checks every part of `raw`, recording each problem; `None` when a part cannot be built.
    fn check(&mut self, raw: RawConfig, hash: B256) -> Option<Config> {
        let salt = match &raw.salt {
            Some(s) => self.text(s, "salt"),
            None => DEFAULT_SALT.to_string(),
        };
        let accounts = self.accounts(&raw.accounts);
        let security =
            (self.text(&raw.security.name, "security.name"), self.text(&raw.security.symbol, "security.symbol"));
        let deposit = (self.text(&raw.deposit.name, "deposit.name"), self.text(&raw.deposit.symbol, "deposit.symbol"));
        let minting = self.minting(raw.deposit.minting, "deposit");
        let extra_banks = self.banks(raw.banks);
        let instrument = match raw.instrument {
            None => None,
            Some(i) => self.instrument(i),
        };
        let single_profile = raw.chain.and_then(|c| c.profile);
        let cross_chain = raw.cross_chain.map(|x| self.cross_chain(x, raw.chain_id.as_ref(), single_profile.as_ref()));
        let profile = self.profile(single_profile.as_ref(), "chain.profile");
        let chain_id = self.chain_id(raw.chain_id.as_ref(), profile);
        Some(Config {
            salt,
            chain_id,
            profile,
            spec: SuiteSpec { accounts, security, deposit, minting, extra_banks, instrument },
            hash,
            shared_roles: self.shared_roles(),
            allow_shared_roles: raw.allow_shared_roles.unwrap_or(false),
            cross_chain,
        })
    }

    /// The accounts holding the suite's roles (`[accounts]`).
    fn accounts(&mut self, a: &RawAccounts) -> SuiteAccounts {
        SuiteAccounts {
            operator: self.address(&a.operator, "accounts.operator"),
            registrar: self.address(&a.registrar, "accounts.registrar"),
            issuer: self.address(&a.issuer, "accounts.issuer"),
            bank: self.address(&a.bank, "accounts.bank"),
            authority: self.address(&a.authority, "accounts.authority"),
        }
    }

    /// The further banks (`[[banks]]`), each with a well-formed label no other bank uses.
    fn banks(&mut self, raw: Vec<RawBank>) -> Vec<BankSpec> {
        let mut extra_banks = Vec::new();
        let mut labels: BTreeMap<String, usize> = BTreeMap::new();
        for (i, b) in raw.into_iter().enumerate() {
            let label = self.bank_label(&b.label, &mut labels);
            let what = format!("banks[{i}]");
            let token = (self.text(&b.name, &format!("{what}.name")), self.text(&b.symbol, &format!("{what}.symbol")));
            let bank = self.address(&b.bank, &format!("{what}.bank"));
            let minting = self.minting(b.minting, &what);
            extra_banks.push(BankSpec { label, token, bank, minting });
        }
        extra_banks
    }

    /// A bank's label: lowercase letters, digits and _, and not in `labels` (the labels seen so far,
    /// each with its line, which this one joins).
    fn bank_label(&mut self, value: &Spanned<String>, labels: &mut BTreeMap<String, usize>) -> String {
        let label = value.get_ref().clone();
        if label.is_empty() || !label.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_') {
            self.problem(
                value,
                format!(
                    "bank label {label:?} must be lowercase letters, digits and _ (it names the contracts \
                     bank_registry_<label> and deposit_<label>)"
                ),
            );
        }
        let (line, _) = self.place(value.span().start);
        if let Some(first) = labels.insert(label.clone(), line) {
            labels.insert(label.clone(), first);
            self.problem(
                value,
                format!("bank label {label:?} is used twice (first at line {first}): give each bank its own label"),
            );
        }
        label
    }

    /// The network profile `profile` (the setting `what`) names, if any.
    fn profile(&mut self, profile: Option<&Spanned<String>>, what: &str) -> Option<ChainProfile> {
        profile.and_then(|p| match p.get_ref().parse::<ChainProfile>() {
            Ok(profile) => Some(profile),
            Err(e) => {
                self.problem(p, format!("{what}: {e}"));
                None
            }
        })
    }

    /// The chain id: `chain_id` when given (it must agree with the profile), else the profile's.
    fn chain_id(&mut self, chain_id: Option<&Spanned<u64>>, profile: Option<ChainProfile>) -> Option<u64> {
        match (chain_id, profile) {
            (Some(id), Some(profile)) if *id.get_ref() != profile.chain_id() => {
                self.problem(
                    id,
                    format!(
                        "chain_id {} contradicts the chain profile {profile}, whose chain id is {}: drop chain_id or \
                         correct it",
                        id.get_ref(),
                        profile.chain_id()
                    ),
                );
                None
            }
            (Some(id), _) => Some(*id.get_ref()),
            (None, profile) => profile.map(ChainProfile::chain_id),
        }
    }

    /// The instrument (`[instrument]`): a fund, or a bond with all its terms.
    fn instrument(&mut self, i: RawInstrument) -> Option<Instrument> {
        let paying_agent = self.address(&i.paying_agent, "instrument.paying_agent");
        let kind = i.kind.get_ref().as_str();
        let municipal = match kind {
            "fund" => return Some(self.fund(&i, paying_agent)),
            "bond" => false,
            "municipal_bond" => true,
            other => {
                self.problem(
                    &i.kind,
                    format!("instrument kind {other:?} is unknown: use \"bond\", \"municipal_bond\" or \"fund\""),
                );
                return None;
            }
        };
        let (Some(face), Some(rate), Some(per_year), Some(issue), Some(coupons), Some(offset_days)) = (
            &i.face_value,
            i.coupon_rate_bps,
            &i.coupons_per_year,
            &i.issue_date,
            &i.coupon_dates,
            i.record_offset_days,
        ) else {
            self.missing_bond_terms(&i, kind);
            return None;
        };
        if *face.get_ref() == 0 {
            self.problem(face, "instrument.face_value is 0: give the face value per unit, in yen");
        }
        if ![1, 2, 4, 12].contains(per_year.get_ref()) {
            self.problem(per_year, "instrument.coupons_per_year must be 1, 2, 4 or 12");
        }
        let issue_date = self.date(issue, "instrument.issue_date");
        let record_offset = u64::from(offset_days) * 86_400;
        let coupon_dates = self.coupon_dates(coupons, issue_date, offset_days);
        Some(Instrument::Bond(BondSpec {
            face_value: *face.get_ref(),
            coupon_rate_bps: rate,
            coupons_per_year: *per_year.get_ref(),
            redemption_value: i.redemption_value.unwrap_or(*face.get_ref()),
            issue_date: issue_date?,
            coupon_dates,
            record_offset: u32::try_from(record_offset).ok()?,
            paying_agent,
            municipal,
        }))
    }

    /// A fund paid by `paying_agent`; the bond terms `i` sets do not apply to it.
    fn fund(&mut self, i: &RawInstrument, paying_agent: Address) -> Instrument {
        let bond_fields = [
            ("face_value", i.face_value.is_some()),
            ("redemption_value", i.redemption_value.is_some()),
            ("coupon_rate_bps", i.coupon_rate_bps.is_some()),
            ("coupons_per_year", i.coupons_per_year.is_some()),
            ("issue_date", i.issue_date.is_some()),
            ("coupon_dates", i.coupon_dates.is_some()),
            ("record_offset_days", i.record_offset_days.is_some()),
        ];
        for (field, _) in bond_fields.iter().filter(|(_, set)| *set) {
            self.problem(&i.kind, format!("instrument.{field} applies to bonds only: remove it from a fund"));
        }
        Instrument::Fund(FundSpec { paying_agent })
    }

    /// Reports each term a bond of `kind` needs that `i` does not set.
    fn missing_bond_terms(&mut self, i: &RawInstrument, kind: &str) {
        for (field, set) in [
            ("face_value", i.face_value.is_some()),
            ("coupon_rate_bps", i.coupon_rate_bps.is_some()),
            ("coupons_per_year", i.coupons_per_year.is_some()),
            ("issue_date", i.issue_date.is_some()),
            ("coupon_dates", i.coupon_dates.is_some()),
            ("record_offset_days", i.record_offset_days.is_some()),
        ] {
            if !set {
                self.problem(&i.kind, format!("a {kind} needs instrument.{field}"));
            }
        }
    }

    /// The coupon dates as unix times: at least one, in order, the first after the issue date plus
    /// the record offset (`offset_days`).
    fn coupon_dates(
        &mut self,
        coupons: &Spanned<Vec<Spanned<Datetime>>>,
        issue_date: Option<u64>,
        offset_days: u32,
    ) -> Vec<u64> {
        let record_offset = u64::from(offset_days) * 86_400;
        if coupons.get_ref().is_empty() {
            self.problem(coupons, "instrument.coupon_dates is empty: list the coupon dates, the last being maturity");
        }
        let mut dates = Vec::new();
        for (n, d) in coupons.get_ref().iter().enumerate() {
            let Some(date) = self.date(d, &format!("instrument.coupon_dates[{n}]")) else { continue };
            if let Some(&previous) = dates.last()
                && date <= previous
            {
                self.problem(
                    d,
                    format!("coupon date {} is not after the one before it: list them in order", d.get_ref()),
                );
            }
            if n == 0
                && let Some(issue) = issue_date
                && date <= issue + record_offset
            {
                self.problem(
                    d,
                    format!(
                        "the first coupon date {} must come after the issue date plus the record offset \
                         ({offset_days} days): move it later or shorten the offset",
                        d.get_ref()
                    ),
                );
            }
            dates.push(date);
        }
        dates
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = MINIMAL;

    fn error(text: &str) -> String {
        Config::parse(text, "t.toml").expect_err("a problem").to_string()
    }

    #[test]
    fn a_chain_profile_sets_the_chain_id_and_a_contradiction_is_refused_at_its_place() {
        let ibet = format!("[chain]\nprofile = \"ibet\"\n{BASE}");
        let config = Config::parse(&ibet, "t.toml").expect("ibet");
        assert_eq!((config.profile, config.chain_id), (Some(ChainProfile::Ibet), Some(1_010_032)));
        let contradiction = format!("chain_id = 31337\n{ibet}");
        let e = error(&contradiction);
        assert!(e.contains("line 1, column 12") && e.contains("contradicts the chain profile ibet"), "{e}");
        let unknown = error(&format!("[chain]\nprofile = \"ibet-fin\"\n{BASE}"));
        assert!(unknown.contains("line 2") && unknown.contains("known profiles are ibet"), "{unknown}");
    }

    #[test]
    fn the_example_config_parses_into_a_bond_suite_with_two_banks() {
        let text = include_str!("../../deployments/example.toml");
        let config = Config::parse(text, "example.toml").expect("example");
        assert_eq!(config.salt, "kessai");
        assert_eq!(config.spec.extra_banks.len(), 1);
        let Some(Instrument::Bond(bond)) = &config.spec.instrument else { panic!("a bond") };
        assert_eq!(bond.issue_date, 1_806_537_600, "2027-04-01T00:00:00Z");
        assert_eq!(bond.coupon_dates.len(), 8);
        assert_eq!(bond.record_offset, 7 * 86_400);
        assert_eq!(config.hash, keccak256(text.as_bytes()));
        let plan = config.plan();
        assert_eq!(plan.salt, "kessai");
        assert_eq!(plan.predicted_addresses().expect("addresses").len(), 9);
    }

    #[test]
    fn syntax_and_type_errors_carry_line_and_column() {
        let text = format!("{BASE}\n[deposit.minting]\nallowance = 10\nlimit_per_period = \"ten\"\nperiod = 86400\n");
        let e = error(&text);
        assert!(e.contains("config t.toml: TOML parse error at line 19, column 20"), "{e}");
        assert!(e.contains("invalid type: string \"ten\""), "{e}");

        let e = error(&BASE.replace("[security]", "[security]\ndecimals = 0"));
        assert!(e.contains("line 10, column 1") && e.contains("unknown field `decimals`"), "{e}");

        let e = error(&BASE.replace("0x70997970C51812dc3A010C7d01b50e0d17dc79C8", "0x7099"));
        assert!(e.contains("line 4, column 13"), "{e}");

        let e = error(&format!("{BASE}[instrument]\nkind = \"bond\"\nissue_date = 2027-02-30\n"));
        assert!(e.contains("line 18"), "an impossible date is a parse error: {e}");
    }

    #[test]
    fn semantic_errors_are_all_listed_with_their_places_and_fixes() {
        let text = BASE
            .replace("0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC", "0x0000000000000000000000000000000000000000")
            + r#"
[[banks]]
label = "b"
name = "DCJPY (Second Bank)"
symbol = "DCJPY-B"
bank = "0x23618e81E3f5cdF7f54C3d65f7FBc0aBf5B21E8f"

[[banks]]
label = "b"
name = "DCJPY (Third Bank)"
symbol = ""
bank = "0xa0Ee7A142d267C1f36714E4a8F75612F20a79720"

[instrument]
kind = "bond"
paying_agent = "0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65"
face_value = 1000000
coupon_rate_bps = 150
coupons_per_year = 3
issue_date = 2027-04-01
coupon_dates = [2027-04-05, 2028-04-01, 2027-10-01]
record_offset_days = 7
"#;
        let e = error(&text);
        assert!(e.starts_with("config t.toml: 6 problems:"), "{e}");
        assert!(e.contains("line 5, column 10: accounts.issuer is the zero address"), "{e}");
        assert!(e.contains("line 24, column 9: bank label \"b\" is used twice (first at line 18)"), "{e}");
        assert!(e.contains("line 26, column 10: banks[1].symbol is empty"), "{e}");
        assert!(e.contains("line 34, column 20: instrument.coupons_per_year must be 1, 2, 4 or 12"), "{e}");
        assert!(
            e.contains("line 36, column 17: the first coupon date 2027-04-05 must come after the issue date"),
            "{e}"
        );
        assert!(e.contains("line 36, column 41: coupon date 2027-10-01 is not after the one before it"), "{e}");
    }

    #[test]
    fn addresses_with_a_wrong_checksum_are_all_refused_with_their_places_and_checksummed_forms() {
        let text = BASE
            .replace("0x70997970C51812dc3A010C7d01b50e0d17dc79C8", "0x70997970c51812dc3a010c7d01b50e0d17dc79C8")
            .replace("0x14dC79964da2C08b23698B3D3cc7Ca32193d9955", "0x14dC79964da2C08b23698B3D3cc7Ca32193d9956")
            + "[instrument]\nkind = \"fund\"\npaying_agent = \"0x15d34AAf54267DB7D7c367839AAf71A00a2C6A6\"\n";
        let e = error(&text);
        assert!(e.starts_with("config t.toml: 3 problems:"), "{e}");
        assert!(
            e.contains(
                "line 4, column 13: accounts.registrar: 0x70997970c51812dc3a010c7d01b50e0d17dc79C8 has a wrong \
                 EIP-55 checksum: did you mean 0x70997970C51812dc3A010C7d01b50e0d17dc79C8? A mistyped digit would \
                 send to an address nobody controls; copy the address again from its source"
            ),
            "{e}"
        );
        assert!(e.contains("line 7, column 13: accounts.authority: 0x14dC79964da2C08b23698B3D3cc7Ca32193d9956 has a wrong EIP-55 checksum"), "{e}");
        assert!(e.contains("line 18, column 16: instrument.paying_agent: \"0x15d34AAf54267DB7D7c367839AAf71A00a2C6A6\" is not an address: it has 39 characters after 0x"), "{e}");
    }

    #[test]
    fn one_case_addresses_are_accepted() {
        let lower = BASE.replace(
            "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
            &"0x70997970C51812dc3A010C7d01b50e0d17dc79C8".to_lowercase(),
        );
        let config = Config::parse(&lower, "t.toml").expect("unchecked, with a warning");
        assert_eq!(config.spec.accounts.registrar.to_string(), "0x70997970C51812dc3A010C7d01b50e0d17dc79C8");
    }

    #[test]
    fn roles_sharing_an_account_are_listed_and_may_be_allowed() {
        assert_eq!(Config::parse(BASE, "t.toml").expect("base").shared_roles, []);
        let operator = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266";
        let text = BASE
            .replace("0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC", operator)
            .replace("0x14dC79964da2C08b23698B3D3cc7Ca32193d9955", "0x70997970C51812dc3A010C7d01b50e0d17dc79C8")
            + &format!("[instrument]\nkind = \"fund\"\npaying_agent = \"{operator}\"\n");
        let config = Config::parse(&text, "t.toml").expect("shared roles are a warning");
        let shared: Vec<String> = config.shared_roles.iter().map(ToString::to_string).collect();
        assert_eq!(shared.len(), 2, "{shared:?}");
        assert!(
            shared[0].starts_with(&format!(
                "accounts.operator, accounts.issuer and instrument.paying_agent are all {operator}: one key would \
                 hold duties the suite separates"
            )),
            "{shared:?}"
        );
        assert!(shared[1].starts_with("accounts.registrar and accounts.authority are both 0x7099"), "{shared:?}");
        assert!(shared[1].ends_with("or set allow_shared_roles = true at the top of the config if this is meant"));
        assert!(!config.allow_shared_roles);
        let allowed = Config::parse(&format!("allow_shared_roles = true\n{text}"), "t.toml").expect("allowed");
        assert!(allowed.allow_shared_roles);
        assert_eq!(allowed.shared_roles, config.shared_roles, "still known, not warned about");
    }

    #[test]
    fn instrument_kinds_and_their_fields_are_checked() {
        let fund = format!(
            "{BASE}[instrument]\nkind = \"fund\"\npaying_agent = \"0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65\"\nface_value = 1\n"
        );
        assert!(error(&fund).contains("instrument.face_value applies to bonds only"));
        let fund = fund.replace("face_value = 1\n", "");
        let config = Config::parse(&fund, "t.toml").expect("fund");
        assert!(matches!(config.spec.instrument, Some(Instrument::Fund(_))));

        let bond = format!(
            "{BASE}[instrument]\nkind = \"municipal_bond\"\npaying_agent = \"0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65\"\n"
        );
        let e = error(&bond);
        assert!(e.contains("6 problems") && e.contains("a municipal_bond needs instrument.issue_date"), "{e}");
        let e = error(&bond.replace("municipal_bond", "share"));
        assert!(e.contains("instrument kind \"share\" is unknown"), "{e}");
    }

    #[test]
    fn dates_are_midnight_utc_or_an_instant_with_its_offset() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(days_from_civil(2027, 4, 1) * 86_400, 1_806_537_600);
        let with = |date: &str| {
            format!(
                "{BASE}[instrument]\nkind = \"bond\"\npaying_agent = \"0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65\"\n\
                 face_value = 100\ncoupon_rate_bps = 100\ncoupons_per_year = 1\nissue_date = {date}\n\
                 coupon_dates = [2028-04-01]\nrecord_offset_days = 7\n"
            )
        };
        let issue = |date: &str| match Config::parse(&with(date), "t.toml").expect("bond").spec.instrument {
            Some(Instrument::Bond(b)) => b.issue_date,
            other => panic!("{other:?}"),
        };
        assert_eq!(issue("2027-04-01T09:00:00+09:00"), 1_806_537_600);
        assert_eq!(issue("2027-04-01T00:00:00Z"), 1_806_537_600);
        assert!(error(&with("2027-04-01T09:00:00")).contains("has a time but no UTC offset"));
    }
}
