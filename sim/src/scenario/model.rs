//! The scenario model: parties, the instrument, and a timeline of steps with expectations, as typed
//! Rust values.
//!
//! A [`Scenario`] is what the runner executes, whatever produced it: the TOML parser
//! ([`super::parse`]) or a generator building one in code. Names are resolved once, at construction:
//! steps refer to parties, trades and benefit programmes by index ([`PartyId`], [`TradeId`],
//! [`ProgrammeId`]), so the runner does no lookups by name. Times are seconds relative to the
//! scenario's start, which the runner fixes on the chain before anything is deployed; this is what
//! makes a replay independent of the wall clock and identical on every engine.

use alloy::primitives::{Address, U256};
use serde::{Deserialize, Serialize};

/// Index of a party in [`Scenario::parties`].
pub type PartyId = usize;
/// Index of a trade in [`Scenario::trades`].
pub type TradeId = usize;
/// Index of a benefit programme in [`Scenario::programmes`] (also its on-chain number).
pub type ProgrammeId = usize;

/// Seconds in a day.
pub const DAY: u64 = 86_400;

/// A span of seconds as scenario files write it: days, hours, minutes and seconds, zeros left out
/// (`"1d 9h 30m"`, `"2d 1s"`, `"0s"`).
pub fn span(seconds: u64) -> String {
    let (d, rest) = (seconds / DAY, seconds % DAY);
    let (h, m, s) = (rest / 3_600, rest % 3_600 / 60, rest % 60);
    let parts: Vec<String> = [(d, 'd'), (h, 'h'), (m, 'm'), (s, 's')]
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, u)| format!("{n}{u}"))
        .collect();
    if parts.is_empty() { "0s".into() } else { parts.join(" ") }
}

/// A whole scenario.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scenario {
    /// Short title.
    pub name: String,
    /// What the scenario shows.
    pub description: Option<String>,
    /// Unix time at which the scenario starts; `None` starts it at the next UTC midnight after the
    /// chain's clock.
    pub start: Option<u64>,
    /// The security token (and the bond it represents, if any).
    pub instrument: Instrument,
    /// The deposit token's name and symbol.
    pub cash: TokenNames,
    /// Every party: the five suite roles first (in [`Role::SUITE`] order), then the others in the
    /// order they were declared.
    pub parties: Vec<Party>,
    /// The trades steps refer to; a trade's id on chain is derived from its name (or, for offering
    /// allotments, by the offering).
    pub trades: Vec<TradeDef>,
    /// Names of the municipal bond's benefit programmes, in the order they are added.
    pub programmes: Vec<String>,
    /// Holders whose positions are recorded after every step (each costs four reads per step).
    pub watch: Vec<Holder>,
    /// The steps: setup (registration and funding) first, then the timeline.
    pub steps: Vec<Step>,
}

impl Scenario {
    /// The party playing suite role `role`.
    pub fn suite_party(&self, role: Role) -> PartyId {
        // The parser and every constructor put the suite roles first, in `Role::SUITE` order.
        Role::SUITE.iter().position(|r| *r == role).unwrap_or(0)
    }

    /// A holder's display name.
    pub fn holder_name(&self, holder: Holder) -> &str {
        match holder {
            Holder::Party(p) => &self.parties[p].name,
            Holder::Instrument => "instrument",
        }
    }
}

/// A token's name and symbol.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenNames {
    /// Name.
    pub name: String,
    /// Symbol.
    pub symbol: String,
}

/// The security token and what it represents.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Instrument {
    /// Name and symbol of the security token.
    pub token: TokenNames,
    /// The bond whose units the token carries, with its payment machinery; `None` for plain units.
    pub bond: Option<Bond>,
}

/// A straight or municipal bond, paid in the deposit token by its paying agent.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bond {
    /// Face value per unit, in yen.
    pub face_value: u128,
    /// Annual coupon rate in basis points.
    pub coupon_rate_bps: u16,
    /// Coupons per year.
    pub coupons_per_year: u8,
    /// Redemption value per unit, in yen.
    pub redemption_value: u128,
    /// Issue date, seconds after the start.
    pub issue_date: u64,
    /// Coupon dates, seconds after the start; the last is the maturity.
    pub coupon_dates: Vec<u64>,
    /// Seconds between each record date and its payment date.
    pub record_offset: u32,
    /// The paying agent (runs the payment rounds).
    pub paying_agent: PartyId,
    /// A digital municipal bond, with benefit programmes.
    pub municipal: bool,
}

/// What a party is in the suite.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Admin of the securities registry and the security token.
    Operator,
    /// Registers investors in the securities registry.
    Registrar,
    /// Issues and redeems the security token; the bond's issuer.
    Issuer,
    /// Issues the deposit token and keeps its customer registry.
    Bank,
    /// Freezes, forces transfers and recovers wallets.
    Authority,
    /// A settlement agent (and/or paying agent).
    Agent,
    /// An investor (or any other participant: broker, underwriter).
    Investor,
}

impl Role {
    /// The roles the suite's deployment needs, in the order their parties come first.
    pub const SUITE: [Role; 5] = [Role::Operator, Role::Registrar, Role::Issuer, Role::Bank, Role::Authority];

    /// The role's name in scenario files.
    pub fn name(self) -> &'static str {
        match self {
            Self::Operator => "operator",
            Self::Registrar => "registrar",
            Self::Issuer => "issuer",
            Self::Bank => "bank",
            Self::Authority => "authority",
            Self::Agent => "agent",
            Self::Investor => "investor",
        }
    }

    /// Whether the suite's deployment needs this role.
    pub fn is_suite(self) -> bool {
        Self::SUITE.contains(&self)
    }
}

/// A participant with its own account.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Party {
    /// Its name in the scenario.
    pub name: String,
    /// What it is.
    pub role: Role,
    /// Investor class: 0 retail, 1 professional, 2 institutional.
    pub class: u8,
    /// ISO 3166-1 numeric country (392 = Japan).
    pub country: u16,
    /// How long its KYC stays valid after the start, in seconds.
    pub kyc_valid_for: u64,
    /// The account that plays it, when the scenario names one (the engine must hold its key);
    /// otherwise the runner gives it the next free key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<Address>,
}

/// Someone who can hold tokens: a party or the instrument contract (which holds the bond's payment
/// funds).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Holder {
    /// A party.
    Party(PartyId),
    /// The bond contract.
    Instrument,
}

/// Which registry a registration step writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Registry {
    /// The securities side's investor registry (who may hold the security token).
    Securities,
    /// The bank's customer registry (who may hold the deposit token).
    Bank,
    /// Both, securities first.
    Both,
}

/// Terms of a trade, with parties by index and the deadline relative to the start.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TradeTerms {
    /// Delivers the units.
    pub seller: PartyId,
    /// Pays.
    pub buyer: PartyId,
    /// The settlement agent whose approval settles the trade; `None` settles on payment.
    pub agent: Option<PartyId>,
    /// Security units.
    pub units: U256,
    /// Deposit tokens paid.
    pub amount: U256,
    /// Seconds after the start after which the trade can only be released.
    pub deadline: u64,
}

/// A named trade and its terms.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TradeDef {
    /// Its name in the scenario.
    pub name: String,
    /// Its terms.
    pub terms: TradeTerms,
}

/// How far to move the clock.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Advance {
    /// By this many seconds.
    By(u64),
    /// To this many seconds after the start (no move if the clock is already there).
    Until(u64),
}

pub use super::steps::Action;

/// Where a step came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "phase", rename_all = "snake_case")]
pub enum Origin {
    /// Registration and funding derived from `[parties]` and `[funding]`.
    Setup,
    /// The `number`th `[[step]]` of the timeline (from 1), at `line` of its file (0 when built in code).
    Timeline {
        /// Position in the timeline, from 1.
        number: usize,
        /// Line of its `[[step]]` header.
        line: usize,
    },
}

/// One step of the scenario.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Step {
    /// What it does.
    pub action: Action,
    /// What must hold after it.
    pub expect: Expect,
    /// Where it came from.
    pub origin: Origin,
    /// The author's note, shown in reports.
    pub note: Option<String>,
}

/// Expected balances of one holder; unset fields are not checked.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BalanceExpect {
    /// Security units.
    pub units: Option<U256>,
    /// Security units held.
    pub units_held: Option<U256>,
    /// Deposit tokens.
    pub cash: Option<U256>,
    /// Deposit tokens held.
    pub cash_held: Option<U256>,
}

/// Expected total supplies; unset fields are not checked.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SupplyExpect {
    /// Security token supply.
    pub units: Option<U256>,
    /// Deposit token supply.
    pub cash: Option<U256>,
}

/// An expected trade state (from the DvP contract's status flags).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TradeState {
    /// No such trade on chain.
    Missing,
    /// Created, neither paid nor approved, not finished.
    Open,
    /// Paid, not approved, not finished.
    Paid,
    /// Approved, not paid, not finished.
    Approved,
    /// Settled: both legs moved.
    Settled,
    /// Cancelled by a party.
    Cancelled,
    /// Released after its deadline.
    Expired,
}

impl TradeState {
    /// Every state, with its name in scenario files.
    pub const ALL: [(TradeState, &'static str); 7] = [
        (Self::Missing, "missing"),
        (Self::Open, "open"),
        (Self::Paid, "paid"),
        (Self::Approved, "approved"),
        (Self::Settled, "settled"),
        (Self::Cancelled, "cancelled"),
        (Self::Expired, "expired"),
    ];

    /// The state's name.
    pub fn name(self) -> &'static str {
        Self::ALL.iter().find(|(s, _)| *s == self).map_or("?", |(_, n)| n)
    }

    /// The state the DvP status flags ([`kessai_bindings::TradeFlags`]) describe.
    pub fn from_flags(flags: u8) -> Self {
        use kessai_bindings::TradeFlags as F;
        let f = F::of(flags);
        let step = f & (F::PAID | F::APPROVED);
        if f.is_empty() {
            Self::Missing
        } else if f.contains(F::SETTLED) {
            Self::Settled
        } else if f.contains(F::CANCELLED) {
            Self::Cancelled
        } else if f.contains(F::EXPIRED) {
            Self::Expired
        } else if step == F::PAID {
            Self::Paid
        } else if step == F::APPROVED {
            Self::Approved
        } else {
            Self::Open
        }
    }
}

/// An expected event: its name, optionally qualified by the emitting contract's label.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventPattern {
    /// Contract label (`dvp`, `security`, `deposit`, `registry`, `bank_registry`, `instrument`), if given.
    pub contract: Option<String>,
    /// Event name.
    pub name: String,
}

impl std::fmt::Display for EventPattern {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.contract {
            Some(c) => write!(f, "{c}.{}", self.name),
            None => f.write_str(&self.name),
        }
    }
}

/// What must hold after a step. Without `error`, the step must succeed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Expect {
    /// The step must fail with this named error.
    pub error: Option<String>,
    /// These events must be emitted, in this order (others may come between).
    pub events: Vec<EventPattern>,
    /// Holders' balances after the step.
    pub balances: Vec<(Holder, BalanceExpect)>,
    /// Total supplies after the step.
    pub supply: Option<SupplyExpect>,
    /// Trade states after the step.
    pub trades: Vec<(TradeId, TradeState)>,
}
