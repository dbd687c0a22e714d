//! The scenario file format (TOML) and its parser into the [`model`](super::model).
//!
//! ```toml
//! [scenario]
//! name = "DCJPY pilot"
//! start = 2031-04-01T00:00:00Z        # optional; default: the next UTC midnight
//! watch = ["seller", "buyer"]         # optional; default: every registered party
//!
//! [instrument]                        # the security token (optional [instrument.bond])
//! name = "Kessai Green Bond 2031"
//! symbol = "KGB31"
//!
//! [parties.seller]                    # role = "investor" unless said otherwise
//! class = "retail"                    # retail | professional | institutional
//! country = "JP"                      # alpha-2 code or ISO 3166-1 number
//! [parties.agent]
//! role = "agent"
//! address = "0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65"  # optional: the account that plays it
//!
//! [funding]
//! seller = { units = 1_000 }
//!
//! [[step]]
//! do = "create_trade"
//! trade = "t1"
//! seller = "seller"
//! buyer = "buyer"
//! agent = "agent"
//! units = 100
//! amount = 1_000_000
//! deadline = "2d"                     # times are offsets from the start
//! expect.events = ["TradeCreated"]
//! expect.balances.seller = { units = 1_000, units_held = 100 }
//! ```
//!
//! Parsing has two passes. Serde reads the file into `Raw*` structures whose fields keep their
//! source spans ([`toml::Spanned`]), so type errors, unknown fields and malformed values are located
//! by the `toml` crate itself. The second pass checks what serde cannot (which fields a step kind
//! takes, party and trade names, event and error names) and builds the model; each of its errors
//! points at the offending value. Every error carries line, column and what was expected.

use super::{
    error::ParseError,
    events,
    model::{
        Action, Advance, BalanceExpect, Bond, DAY, EventPattern, Expect, Holder, Instrument, Origin, Party, PartyId,
        Registry, Role, Scenario, Step, SupplyExpect, TokenNames, TradeDef, TradeId, TradeState, TradeTerms,
    },
};
use alloy::primitives::U256;
use kessai_deployer::address;
use serde::{
    Deserialize, Deserializer,
    de::{self, MapAccess, Visitor},
};
use std::{collections::BTreeMap, collections::HashMap, fmt, ops::Range, path::Path};
use toml::{Spanned, value::Datetime};

type S<T> = Spanned<T>;

/// Parses a scenario file's text.
pub fn parse(src: &str) -> Result<Scenario, ParseError> {
    parse_from(src, None)
}

/// Parses the text of the scenario file at `path` (named in warnings; errors get it from the caller).
pub fn parse_from(src: &str, path: Option<&Path>) -> Result<Scenario, ParseError> {
    let raw: RawFile = toml::from_str(src).map_err(|e| {
        let span = e.span().unwrap_or(0..0);
        ParseError::at(src, span, explain_serde(e.message()))
    })?;
    Resolver::new(src, path).resolve(raw)
}

/// Makes serde's messages say what was expected in the file's terms.
fn explain_serde(message: &str) -> String {
    let message = message.trim_end();
    if let Some(rest) = message.strip_prefix("missing field ") {
        return format!("missing field {rest}: this table needs it");
    }
    if message.starts_with("unknown field") {
        return message.replacen("expected one of", "expected one of the fields", 1);
    }
    message.to_string()
}

// ---------------------------------------------------------------- raw values

/// A whole number of units or yen: a TOML integer, or a string of digits with `_` or `,` separators
/// for values beyond 2^63.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Amount(U256);

const AMOUNT_EXPECTED: &str = "a whole number of units or yen, 0 or more (like 1_000_000 or \"1,000,000\")";

impl<'de> Deserialize<'de> for Amount {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Amount;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(AMOUNT_EXPECTED)
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Amount, E> {
                u64::try_from(v)
                    .map(|v| Amount(U256::from(v)))
                    .map_err(|_| E::custom(format!("bad amount {v}: expected {AMOUNT_EXPECTED}")))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Amount, E> {
                Ok(Amount(U256::from(v)))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Amount, E> {
                Err(E::custom(format!("bad amount {v}: expected {AMOUNT_EXPECTED}")))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Amount, E> {
                let digits: String = v.chars().filter(|c| *c != '_' && *c != ',').collect();
                if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(E::custom(format!("bad amount \"{v}\": expected {AMOUNT_EXPECTED}")));
                }
                U256::from_str_radix(&digits, 10)
                    .map(Amount)
                    .map_err(|_| E::custom(format!("bad amount \"{v}\": it does not fit in 256 bits")))
            }
        }
        d.deserialize_any(V)
    }
}

/// A time in a scenario: an offset from the start (`"2d"`, `"1d 12h"`, or a number of seconds), or
/// an absolute TOML date-time (which needs a fixed start).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum RawTime {
    Seconds(u64),
    At(Datetime),
}

const TIME_EXPECTED: &str =
    "a duration like \"2d\", \"12h\", \"30m\", \"90s\" or \"1d 12h\" (or seconds as a number), or a date-time";

impl<'de> Deserialize<'de> for RawTime {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawTime;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(TIME_EXPECTED)
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<RawTime, E> {
                u64::try_from(v)
                    .map(RawTime::Seconds)
                    .map_err(|_| E::custom(format!("negative time {v}: expected {TIME_EXPECTED}")))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<RawTime, E> {
                Ok(RawTime::Seconds(v))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<RawTime, E> {
                parse_duration(v)
                    .map(RawTime::Seconds)
                    .ok_or_else(|| E::custom(format!("bad time \"{v}\": expected {TIME_EXPECTED}")))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<RawTime, A::Error> {
                Datetime::deserialize(de::value::MapAccessDeserializer::new(map)).map(RawTime::At)
            }
        }
        d.deserialize_any(V)
    }
}

/// `"2d 12h"`, `"90s"`, `"1w"`, `"0"`: a sum of numbers with units (w, d, h, m, s).
fn parse_duration(text: &str) -> Option<u64> {
    let text = text.trim().trim_start_matches('+');
    if text == "0" {
        return Some(0);
    }
    let mut total: u64 = 0;
    let mut number: Option<u64> = None;
    let mut any = false;
    for c in text.chars() {
        if let Some(d) = c.to_digit(10) {
            number = Some(number.unwrap_or(0).checked_mul(10)?.checked_add(d.into())?);
        } else if c == '_' || (c.is_whitespace() && number.is_none()) {
            continue;
        } else {
            let unit = match c {
                'w' => 7 * DAY,
                'd' => DAY,
                'h' => 3_600,
                'm' => 60,
                's' => 1,
                _ => return None,
            };
            total = total.checked_add(number.take()?.checked_mul(unit)?)?;
            any = true;
        }
    }
    (any && number.is_none()).then_some(total)
}

/// Unix time of a TOML date-time (a date alone is its UTC midnight; no offset means UTC).
fn unix_time(dt: &Datetime) -> Option<u64> {
    let date = dt.date?;
    let (y, m, d) = (i64::from(date.year), i64::from(date.month), i64::from(date.day));
    // Days from 1970-01-01 to the civil date (H. Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let mut seconds = days * 86_400;
    if let Some(t) = dt.time {
        seconds += i64::from(t.hour) * 3_600 + i64::from(t.minute) * 60 + i64::from(t.second.unwrap_or(0));
    }
    if let Some(toml::value::Offset::Custom { minutes }) = dt.offset {
        seconds -= i64::from(minutes) * 60;
    }
    u64::try_from(seconds).ok()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    scenario: S<RawMeta>,
    instrument: Option<S<RawInstrument>>,
    cash: Option<S<RawToken>>,
    #[serde(default)]
    parties: BTreeMap<S<String>, S<RawParty>>,
    #[serde(default)]
    funding: BTreeMap<S<String>, S<RawFunding>>,
    #[serde(default)]
    step: Vec<S<RawStep>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMeta {
    name: String,
    description: Option<String>,
    start: Option<S<RawTime>>,
    watch: Option<Vec<S<String>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawToken {
    name: String,
    symbol: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawInstrument {
    name: String,
    symbol: String,
    bond: Option<S<RawBond>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBond {
    face_value: u64,
    coupon_rate_bps: u16,
    coupons_per_year: u8,
    redemption_value: Option<u64>,
    issue_date: Option<S<RawTime>>,
    coupon_dates: S<Vec<S<RawTime>>>,
    record_offset: Option<S<RawTime>>,
    paying_agent: S<String>,
    #[serde(default)]
    municipal: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawParty {
    role: Option<S<String>>,
    class: Option<S<String>>,
    country: Option<S<RawCountry>>,
    registries: Option<Vec<S<String>>>,
    kyc_valid_for: Option<S<RawTime>>,
    address: Option<S<String>>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum RawCountry {
    Number(u16),
    Code(String),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFunding {
    units: Option<S<Amount>>,
    cash: Option<S<Amount>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAllotment {
    trade: S<String>,
    investor: S<String>,
    units: S<Amount>,
    amount: S<Amount>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBalance {
    units: Option<Amount>,
    units_held: Option<Amount>,
    cash: Option<Amount>,
    cash_held: Option<Amount>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSupply {
    units: Option<Amount>,
    cash: Option<Amount>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawExpect {
    error: Option<S<String>>,
    events: Option<Vec<S<String>>>,
    balances: Option<BTreeMap<S<String>, RawBalance>>,
    supply: Option<RawSupply>,
    trades: Option<BTreeMap<S<String>, S<String>>>,
}

/// One `[[step]]`: every field any kind takes; [`KINDS`] says which fields each kind uses.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStep {
    #[serde(rename = "do")]
    kind: S<String>,
    note: Option<S<String>>,
    party: Option<S<String>>,
    registry: Option<S<String>>,
    to: Option<S<String>>,
    from: Option<S<String>>,
    by: Option<S<String>>,
    units: Option<S<Amount>>,
    amount: Option<S<Amount>>,
    reference: Option<S<String>>,
    account: Option<S<String>>,
    trade: Option<S<String>>,
    seller: Option<S<String>>,
    buyer: Option<S<String>>,
    agent: Option<S<String>>,
    deadline: Option<S<RawTime>>,
    trades: Option<S<Vec<S<String>>>>,
    netted: Option<S<bool>>,
    signatures_of: Option<S<String>>,
    underwriter: Option<S<String>>,
    allotments: Option<S<Vec<S<RawAllotment>>>>,
    coupon: Option<S<u64>>,
    holders: Option<S<Vec<S<String>>>>,
    programme: Option<S<String>>,
    title: Option<S<String>>,
    units_per_benefit: Option<S<u64>>,
    record: Option<S<u16>>,
    claim_until: Option<S<RawTime>>,
    duration: Option<S<RawTime>>,
    until: Option<S<RawTime>>,
    expect: Option<S<RawExpect>>,
}

fn span_of<T>(v: &Option<S<T>>) -> Option<Range<usize>> {
    v.as_ref().map(Spanned::span)
}

impl RawStep {
    /// Every field but `do`, with its span when present.
    fn fields(&self) -> [(&'static str, Option<Range<usize>>); 30] {
        [
            ("note", span_of(&self.note)),
            ("party", span_of(&self.party)),
            ("registry", span_of(&self.registry)),
            ("to", span_of(&self.to)),
            ("from", span_of(&self.from)),
            ("by", span_of(&self.by)),
            ("units", span_of(&self.units)),
            ("amount", span_of(&self.amount)),
            ("reference", span_of(&self.reference)),
            ("account", span_of(&self.account)),
            ("trade", span_of(&self.trade)),
            ("seller", span_of(&self.seller)),
            ("buyer", span_of(&self.buyer)),
            ("agent", span_of(&self.agent)),
            ("deadline", span_of(&self.deadline)),
            ("trades", span_of(&self.trades)),
            ("netted", span_of(&self.netted)),
            ("signatures_of", span_of(&self.signatures_of)),
            ("underwriter", span_of(&self.underwriter)),
            ("allotments", span_of(&self.allotments)),
            ("coupon", span_of(&self.coupon)),
            ("holders", span_of(&self.holders)),
            ("programme", span_of(&self.programme)),
            ("title", span_of(&self.title)),
            ("units_per_benefit", span_of(&self.units_per_benefit)),
            ("record", span_of(&self.record)),
            ("claim_until", span_of(&self.claim_until)),
            ("duration", span_of(&self.duration)),
            ("until", span_of(&self.until)),
            ("expect", span_of(&self.expect)),
        ]
    }
}

/// A step kind: its name, the fields it requires, and the fields it may take (besides `note` and
/// `expect`).
struct Kind {
    name: &'static str,
    required: &'static [&'static str],
    optional: &'static [&'static str],
}

/// Terms a trade-defining step states when it names a new trade.
const TERMS: &[&str] = &["seller", "buyer", "units", "amount", "deadline"];

const KINDS: &[Kind] = &[
    Kind { name: "register", required: &["party"], optional: &["registry"] },
    Kind { name: "revoke", required: &["party"], optional: &["registry"] },
    Kind { name: "issue", required: &["to", "units"], optional: &[] },
    Kind { name: "redeem", required: &["from", "units"], optional: &[] },
    Kind { name: "transfer", required: &["from", "to", "units"], optional: &[] },
    Kind { name: "deposit", required: &["to", "amount"], optional: &["reference"] },
    Kind { name: "withdraw", required: &["party", "amount"], optional: &["account"] },
    Kind {
        name: "create_trade",
        required: &["trade"],
        optional: &["seller", "buyer", "agent", "units", "amount", "deadline"],
    },
    Kind {
        name: "create_signed_trade",
        required: &["trade"],
        optional: &["seller", "buyer", "agent", "units", "amount", "deadline", "by", "signatures_of"],
    },
    Kind {
        name: "settle_signed",
        required: &["trade"],
        optional: &["seller", "buyer", "agent", "units", "amount", "deadline", "by", "signatures_of"],
    },
    Kind { name: "pay", required: &["trade"], optional: &[] },
    Kind { name: "approve", required: &["trade"], optional: &[] },
    Kind { name: "settle_with_payment", required: &["trade"], optional: &["by", "signatures_of"] },
    Kind { name: "cancel", required: &["trade"], optional: &["by"] },
    Kind { name: "release", required: &["trade"], optional: &["by"] },
    Kind { name: "batch", required: &["trades"], optional: &["netted", "by"] },
    Kind { name: "offer", required: &["agent", "deadline", "allotments"], optional: &["underwriter"] },
    Kind { name: "coupon", required: &["coupon"], optional: &["holders"] },
    Kind { name: "redemption", required: &[], optional: &["holders"] },
    Kind {
        name: "add_programme",
        required: &["programme", "title", "units_per_benefit", "record", "claim_until"],
        optional: &[],
    },
    Kind { name: "claim_benefit", required: &["party", "programme"], optional: &[] },
    Kind { name: "advance", required: &[], optional: &["duration", "until"] },
];

/// Contract labels an event pattern may name.
const CONTRACTS: &[&str] = &["registry", "bank_registry", "security", "deposit", "dvp", "approvals", "instrument"];

/// Alpha-2 codes accepted for `country`, with their ISO 3166-1 numbers.
const COUNTRIES: &[(&str, u16)] = &[
    ("JP", 392),
    ("US", 840),
    ("GB", 826),
    ("SG", 702),
    ("HK", 344),
    ("CN", 156),
    ("KR", 410),
    ("TW", 158),
    ("DE", 276),
    ("FR", 250),
    ("CH", 756),
    ("AU", 36),
];

const CLASSES: &[(&str, u8)] = &[("retail", 0), ("professional", 1), ("institutional", 2)];

const ROLES: &[Role] =
    &[Role::Investor, Role::Agent, Role::Operator, Role::Registrar, Role::Issuer, Role::Bank, Role::Authority];

/// A list for "expected one of" messages: `a`, `b` or `c`.
fn one_of<'a>(items: impl IntoIterator<Item = &'a str>) -> String {
    let items: Vec<String> = items.into_iter().map(|s| format!("`{s}`")).collect();
    match items.len() {
        0 => "nothing".into(),
        1 => items[0].clone(),
        n => format!("{} or {}", items[..n - 1].join(", "), items[n - 1]),
    }
}

/// The closest of `candidates` to `name`, if close enough to be a likely typo.
fn suggest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let lower = name.to_lowercase();
    candidates
        .into_iter()
        .map(|c| (strsim::levenshtein(&lower, &c.to_lowercase()), c))
        .filter(|(d, c)| *d <= 2.max(c.len() / 3))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

fn did_you_mean(suggestion: Option<&str>) -> String {
    suggestion.map(|s| format!(" (did you mean `{s}`?)")).unwrap_or_default()
}

// ---------------------------------------------------------------- resolution

struct Resolver<'a> {
    src: &'a str,
    /// The file, for warnings.
    path: Option<&'a Path>,
    start: Option<u64>,
    parties: Vec<Party>,
    /// Names (and suite role aliases) to parties.
    by_name: HashMap<String, PartyId>,
    /// Lines where each party was declared (for duplicate-role messages).
    declared_at: HashMap<PartyId, usize>,
    trades: Vec<TradeDef>,
    trade_by_name: HashMap<String, TradeId>,
    trade_lines: Vec<usize>,
    programmes: Vec<String>,
    has_bond: bool,
    /// The bond's number of coupons and whether it is municipal.
    bond_info: Option<(u64, bool)>,
    /// Setup registrations, in declaration order.
    registrations: Vec<(PartyId, Vec<Registry>)>,
    /// Parties registered anywhere during setup (the default watch list).
    registered: Vec<PartyId>,
}

type PResult<T> = std::result::Result<T, ParseError>;

impl<'a> Resolver<'a> {
    fn new(src: &'a str, path: Option<&'a Path>) -> Self {
        Self {
            src,
            path,
            start: None,
            parties: Vec::new(),
            by_name: HashMap::new(),
            declared_at: HashMap::new(),
            trades: Vec::new(),
            trade_by_name: HashMap::new(),
            trade_lines: Vec::new(),
            programmes: Vec::new(),
            has_bond: false,
            bond_info: None,
            registrations: Vec::new(),
            registered: Vec::new(),
        }
    }

    fn err(&self, span: Range<usize>, message: impl Into<String>) -> ParseError {
        ParseError::at(self.src, span, message)
    }

    fn line(&self, span: &Range<usize>) -> usize {
        self.src[..span.start.min(self.src.len())].matches('\n').count() + 1
    }

    fn resolve(mut self, raw: RawFile) -> PResult<Scenario> {
        let meta_span = raw.scenario.span();
        let meta = raw.scenario.into_inner();
        if let Some(start) = &meta.start {
            self.start = Some(match start.get_ref() {
                RawTime::At(dt) => unix_time(dt).ok_or_else(|| {
                    self.err(start.span(), "bad start: expected a date (2031-04-01) or a date-time after 1970")
                })?,
                RawTime::Seconds(_) => {
                    return Err(self.err(
                        start.span(),
                        "bad start: expected a date (2031-04-01) or a date-time (2031-04-01T09:00:00Z), not a duration",
                    ));
                }
            });
        }
        self.declare_parties(raw.parties)?;

        let token = |t: Option<S<RawToken>>, name: &str, symbol: &str| {
            t.map(|t| {
                let t = t.into_inner();
                TokenNames { name: t.name, symbol: t.symbol }
            })
            .unwrap_or_else(|| TokenNames { name: name.into(), symbol: symbol.into() })
        };
        let cash = token(raw.cash, "DCJPY (Kessai Bank)", "DCJPY");
        let instrument = match raw.instrument {
            None => Instrument { token: TokenNames { name: "Kessai Units".into(), symbol: "KSU".into() }, bond: None },
            Some(i) => {
                let i = i.into_inner();
                let bond = i.bond.map(|b| self.bond(b)).transpose()?;
                self.has_bond = bond.is_some();
                self.bond_info = bond.as_ref().map(|b| (b.coupon_dates.len() as u64, b.municipal));
                Instrument { token: TokenNames { name: i.name, symbol: i.symbol }, bond }
            }
        };

        let mut steps = Vec::new();
        // Setup: registrations in party order, then funding in party order.
        for (id, registries) in self.registrations.drain(..).collect::<Vec<_>>() {
            for registry in registries {
                steps.push(setup(Action::Register { party: id, registry }));
            }
        }
        let mut funding = Vec::new();
        for (name, f) in raw.funding {
            let party = self.party(&name)?;
            funding.push((party, f.into_inner()));
        }
        funding.sort_by_key(|(p, _)| *p);
        for (party, f) in funding {
            if let Some(units) = f.units {
                steps.push(setup(Action::Issue { to: party, units: units.into_inner().0 }));
            }
            if let Some(cash) = f.cash {
                let reference = format!("FUND-{}", self.parties[party].name);
                steps.push(setup(Action::Deposit { to: Holder::Party(party), amount: cash.into_inner().0, reference }));
            }
        }

        for (i, raw_step) in raw.step.into_iter().enumerate() {
            let step = self.step(i + 1, raw_step)?;
            steps.push(step);
        }

        let watch = match meta.watch {
            Some(names) => names.iter().map(|n| self.holder(n)).collect::<PResult<Vec<_>>>()?,
            None => {
                let mut watch: Vec<Holder> = self.registered.iter().map(|p| Holder::Party(*p)).collect();
                if self.has_bond {
                    watch.push(Holder::Instrument);
                }
                watch
            }
        };
        if steps.is_empty() {
            return Err(self.err(meta_span, "the scenario has nothing to do: expected [funding] or [[step]] tables"));
        }
        Ok(Scenario {
            name: meta.name,
            description: meta.description,
            start: self.start,
            instrument,
            cash,
            parties: self.parties,
            trades: self.trades,
            programmes: self.programmes,
            watch,
            steps,
        })
    }
}

fn setup(action: Action) -> Step {
    Step { action, expect: Expect::default(), origin: Origin::Setup, note: None }
}

/// Default KYC validity: three years.
const KYC_DEFAULT: u64 = 3 * 365 * DAY;

impl Resolver<'_> {
    fn declare_parties(&mut self, raw: BTreeMap<S<String>, S<RawParty>>) -> PResult<()> {
        for role in Role::SUITE {
            self.by_name.insert(role.name().into(), self.parties.len());
            self.parties.push(Party {
                name: role.name().into(),
                role,
                class: 2,
                country: 392,
                kyc_valid_for: KYC_DEFAULT,
                address: None,
            });
        }
        let mut entries: Vec<_> = raw.into_iter().collect();
        entries.sort_by_key(|(name, _)| name.span().start);
        for (name, party) in entries {
            let (name_span, name) = (name.span(), name.into_inner());
            let (party_span, party) = (party.span(), party.into_inner());
            if name == "instrument" {
                return Err(self.err(name_span, "`instrument` names the bond contract: choose another party name"));
            }
            let named_role = Role::SUITE.into_iter().find(|r| r.name() == name);
            let role = match &party.role {
                Some(r) => ROLES.iter().copied().find(|role| role.name() == r.get_ref()).ok_or_else(|| {
                    self.err(
                        r.span(),
                        format!(
                            "unknown role `{}`: expected {}",
                            r.get_ref(),
                            one_of(ROLES.iter().map(|role| role.name()))
                        ),
                    )
                })?,
                None => named_role.unwrap_or(Role::Investor),
            };
            if let Some(named) = named_role
                && named != role
            {
                return Err(self.err(
                    name_span,
                    format!("`{name}` is the name of a suite role: a party called `{name}` must have role `{name}`"),
                ));
            }
            let class = match &party.class {
                None if role == Role::Investor => 0,
                None => 2,
                Some(c) => CLASSES.iter().find(|(n, _)| n == c.get_ref()).map(|(_, v)| *v).ok_or_else(|| {
                    self.err(
                        c.span(),
                        format!(
                            "unknown investor class `{}`: expected {}",
                            c.get_ref(),
                            one_of(CLASSES.iter().map(|(n, _)| *n))
                        ),
                    )
                })?,
            };
            let country = match &party.country {
                None => 392,
                Some(c) => match c.get_ref() {
                    RawCountry::Number(n @ 1..=999) => *n,
                    RawCountry::Number(n) => {
                        return Err(self.err(
                            c.span(),
                            format!("bad country {n}: expected an ISO 3166-1 numeric code from 1 to 999 (392 = Japan)"),
                        ));
                    }
                    RawCountry::Code(code) => {
                        COUNTRIES.iter().find(|(a, _)| a.eq_ignore_ascii_case(code)).map(|(_, n)| *n).ok_or_else(
                            || {
                                self.err(
                                    c.span(),
                                    format!(
                                        "unknown country `{code}`: expected an ISO 3166-1 number (392) or one of {}",
                                        one_of(COUNTRIES.iter().map(|(a, _)| *a))
                                    ),
                                )
                            },
                        )?
                    }
                },
            };
            let kyc_valid_for = match &party.kyc_valid_for {
                None => KYC_DEFAULT,
                Some(t) => self.duration(t)?,
            };
            let registries = match &party.registries {
                None if role == Role::Investor => vec![Registry::Securities, Registry::Bank],
                None => Vec::new(),
                Some(list) => {
                    list.iter()
                        .map(|r| match r.get_ref().as_str() {
                            "securities" => Ok(Registry::Securities),
                            "bank" => Ok(Registry::Bank),
                            other => Err(self
                                .err(r.span(), format!("unknown registry `{other}`: expected `securities` or `bank`"))),
                        })
                        .collect::<PResult<Vec<_>>>()?
                }
            };
            let address = party.address.as_ref().map(|a| self.party_address(&name, a)).transpose()?;
            let record = Party { name: name.clone(), role, class, country, kyc_valid_for, address };
            let id = if role.is_suite() {
                let id = Role::SUITE.iter().position(|r| *r == role).unwrap_or_default();
                if let Some(line) = self.declared_at.get(&id) {
                    return Err(self.err(
                        party.role.as_ref().map_or(name_span, Spanned::span),
                        format!(
                            "the {} is already `{}` (line {line}): each suite role is played by one party",
                            role.name(),
                            self.parties[id].name
                        ),
                    ));
                }
                self.parties[id] = record;
                id
            } else {
                self.parties.push(record);
                self.parties.len() - 1
            };
            self.declared_at.insert(id, self.line(&party_span));
            self.by_name.insert(name, id);
            if !registries.is_empty() {
                self.registered.push(id);
            }
            self.registrations.push((id, registries));
        }
        Ok(())
    }

    /// A party's `address`, under [`address::parse`], played by no other party.
    fn party_address(&self, name: &str, text: &S<String>) -> PResult<alloy::primitives::Address> {
        let at = self.err(text.span(), String::new());
        let place = match self.path {
            Some(path) => format!("{}:{}:{}: parties.{name}.address", path.display(), at.line, at.column),
            None => format!("{}:{}: parties.{name}.address", at.line, at.column),
        };
        let account = address::parse_at(text.get_ref(), place).map_err(|e| self.err(text.span(), e.to_string()))?;
        if let Some((id, other)) = self.parties.iter().enumerate().find(|(_, p)| p.address == Some(account)) {
            let line = self.declared_at.get(&id).copied().unwrap_or_default();
            return Err(self.err(
                text.span(),
                format!("{account} already plays `{}` (line {line}): give each party its own account", other.name),
            ));
        }
        Ok(account)
    }

    fn party(&self, name: &S<String>) -> PResult<PartyId> {
        self.by_name.get(name.get_ref().as_str()).copied().ok_or_else(|| {
            let mut known: Vec<&str> = self.parties.iter().map(|p| p.name.as_str()).collect();
            for role in Role::SUITE {
                if !known.contains(&role.name()) {
                    known.push(role.name());
                }
            }
            let hint = did_you_mean(suggest(name.get_ref(), known.iter().copied()));
            self.err(
                name.span(),
                format!(
                    "unknown party `{}`{hint}: expected a party declared under [parties] or a suite role: {}",
                    name.get_ref(),
                    one_of(known)
                ),
            )
        })
    }

    fn holder(&self, name: &S<String>) -> PResult<Holder> {
        if name.get_ref() == "instrument" {
            if !self.has_bond {
                return Err(
                    self.err(name.span(), "`instrument` is the bond contract, but [instrument] declares no bond")
                );
            }
            return Ok(Holder::Instrument);
        }
        self.party(name).map(Holder::Party)
    }

    fn parties_list(&self, names: &S<Vec<S<String>>>) -> PResult<Vec<PartyId>> {
        names.get_ref().iter().map(|n| self.party(n)).collect()
    }

    /// A duration (time offsets are written the same way; date-times are not durations).
    fn duration(&self, t: &S<RawTime>) -> PResult<u64> {
        match t.get_ref() {
            RawTime::Seconds(s) => Ok(*s),
            RawTime::At(_) => Err(self.err(t.span(), format!("bad duration: expected {TIME_EXPECTED} but not a date"))),
        }
    }

    /// A time, as seconds after the start.
    fn time(&self, t: &S<RawTime>) -> PResult<u64> {
        match t.get_ref() {
            RawTime::Seconds(s) => Ok(*s),
            RawTime::At(dt) => {
                let Some(start) = self.start else {
                    return Err(self.err(
                        t.span(),
                        "a date-time needs a fixed start: add `start = 2031-04-01` under [scenario], or write an offset like \"2d\"",
                    ));
                };
                let at = unix_time(dt).ok_or_else(|| self.err(t.span(), "bad date-time: expected one after 1970"))?;
                at.checked_sub(start).ok_or_else(|| self.err(t.span(), "this date-time is before the scenario's start"))
            }
        }
    }

    fn bond(&mut self, raw: S<RawBond>) -> PResult<Bond> {
        let raw = raw.into_inner();
        if raw.coupon_dates.get_ref().is_empty() {
            return Err(
                self.err(raw.coupon_dates.span(), "a bond needs at least one coupon date (the last is its maturity)")
            );
        }
        let coupon_dates = raw.coupon_dates.get_ref().iter().map(|t| self.time(t)).collect::<PResult<Vec<_>>>()?;
        if coupon_dates.windows(2).any(|w| w[0] >= w[1]) {
            return Err(self.err(raw.coupon_dates.span(), "coupon dates must be in increasing order"));
        }
        let record_offset = match &raw.record_offset {
            None => 7 * DAY,
            Some(t) => self.duration(t)?,
        };
        let record_offset = u32::try_from(record_offset).map_err(|_| {
            self.err(
                span_of(&raw.record_offset).unwrap_or_default(),
                "record offset too long: expected under 136 years",
            )
        })?;
        Ok(Bond {
            face_value: raw.face_value.into(),
            coupon_rate_bps: raw.coupon_rate_bps,
            coupons_per_year: raw.coupons_per_year,
            redemption_value: raw.redemption_value.unwrap_or(raw.face_value).into(),
            issue_date: raw.issue_date.as_ref().map(|t| self.time(t)).transpose()?.unwrap_or(0),
            coupon_dates,
            record_offset,
            paying_agent: self.party(&raw.paying_agent)?,
            municipal: raw.municipal,
        })
    }

    /// An existing trade.
    fn trade(&self, name: &S<String>) -> PResult<TradeId> {
        self.trade_by_name.get(name.get_ref().as_str()).copied().ok_or_else(|| {
            let hint = did_you_mean(suggest(name.get_ref(), self.trades.iter().map(|t| t.name.as_str())));
            self.err(
                name.span(),
                format!(
                    "unknown trade `{}`{hint}: a trade is named by an earlier create_trade, create_signed_trade, \
                     settle_signed or offer step (known so far: {})",
                    name.get_ref(),
                    one_of(self.trades.iter().map(|t| t.name.as_str()))
                ),
            )
        })
    }

    fn new_trade(&mut self, name: &S<String>, terms: TradeTerms) -> PResult<TradeId> {
        if let Some(id) = self.trade_by_name.get(name.get_ref().as_str()) {
            return Err(self.err(
                name.span(),
                format!("trade `{}` is already defined at line {}", name.get_ref(), self.trade_lines[*id]),
            ));
        }
        self.trade_by_name.insert(name.get_ref().clone(), self.trades.len());
        self.trade_lines.push(self.line(&name.span()));
        self.trades.push(TradeDef { name: name.get_ref().clone(), terms });
        Ok(self.trades.len() - 1)
    }

    /// The trade a trade-defining step names: new (its terms must be given) or defined earlier (its
    /// terms must not be restated: the step replays it).
    fn defined_trade(&mut self, raw: &RawStep, step_span: &Range<usize>) -> PResult<TradeId> {
        let name = raw.trade.as_ref().ok_or_else(|| self.err(step_span.clone(), "missing field `trade`"))?;
        let given: Vec<(&str, Range<usize>)> = raw
            .fields()
            .into_iter()
            .filter(|(f, s)| s.is_some() && (TERMS.contains(f) || *f == "agent"))
            .filter_map(|(f, s)| s.map(|s| (f, s)))
            .collect();
        if let Some(existing) = self.trade_by_name.get(name.get_ref().as_str()).copied() {
            if let Some((field, span)) = given.first() {
                return Err(self.err(
                    span.clone(),
                    format!(
                        "trade `{}` was defined at line {}: this step replays it with the same terms, so `{field}` \
                         must not be given (name a new trade to state new terms)",
                        name.get_ref(),
                        self.trade_lines[existing]
                    ),
                ));
            }
            return Ok(existing);
        }
        for field in TERMS {
            if !given.iter().any(|(f, _)| f == field) {
                return Err(self.err(
                    step_span.clone(),
                    format!(
                        "missing field `{field}`: a step naming the new trade `{}` states its terms ({})",
                        name.get_ref(),
                        one_of(TERMS.iter().copied())
                    ),
                ));
            }
        }
        let need = |v: &Option<S<String>>| v.as_ref().map(|v| self.party(v)).transpose();
        let amount = |v: &Option<S<Amount>>| v.as_ref().map_or(U256::ZERO, |a| a.get_ref().0);
        let terms = TradeTerms {
            seller: need(&raw.seller)?.unwrap_or_default(),
            buyer: need(&raw.buyer)?.unwrap_or_default(),
            agent: need(&raw.agent)?,
            units: amount(&raw.units),
            amount: amount(&raw.amount),
            deadline: raw.deadline.as_ref().map(|t| self.time(t)).transpose()?.unwrap_or_default(),
        };
        self.new_trade(name, terms)
    }

    fn step(&mut self, number: usize, raw: S<RawStep>) -> PResult<Step> {
        let step_span = raw.span();
        let raw = raw.into_inner();
        let kind_name = raw.kind.get_ref().as_str();
        let Some(kind) = KINDS.iter().find(|k| k.name == kind_name) else {
            let hint = did_you_mean(suggest(kind_name, KINDS.iter().map(|k| k.name)));
            return Err(self.err(
                raw.kind.span(),
                format!("unknown step `{kind_name}`{hint}: expected {}", one_of(KINDS.iter().map(|k| k.name))),
            ));
        };
        // Fields the kind does not take, then fields it requires.
        for (field, span) in raw.fields() {
            let Some(span) = span else { continue };
            if field == "note" || field == "expect" || kind.required.contains(&field) || kind.optional.contains(&field)
            {
                continue;
            }
            let takes: Vec<&str> = kind.required.iter().chain(kind.optional).copied().collect();
            return Err(self.err(
                span,
                format!(
                    "`{field}` does not apply to a `{}` step: expected {} (and `note`, `expect`)",
                    kind.name,
                    one_of(takes)
                ),
            ));
        }
        let present: HashMap<&str, Range<usize>> =
            raw.fields().into_iter().filter_map(|(f, s)| s.map(|s| (f, s))).collect();
        for field in kind.required {
            if !present.contains_key(field) {
                return Err(self.err(
                    step_span.clone(),
                    format!(
                        "missing field `{field}`: a `{}` step needs {}",
                        kind.name,
                        one_of(kind.required.iter().copied())
                    ),
                ));
            }
        }

        let party = |v: &Option<S<String>>| -> PResult<PartyId> {
            // Required fields were checked above.
            v.as_ref().map_or(Ok(0), |v| self.party(v))
        };
        let amount = |v: &Option<S<Amount>>| v.as_ref().map_or(U256::ZERO, |a| a.get_ref().0);
        let registry = |v: &Option<S<String>>| -> PResult<Registry> {
            match v {
                None => Ok(Registry::Both),
                Some(r) => match r.get_ref().as_str() {
                    "securities" => Ok(Registry::Securities),
                    "bank" => Ok(Registry::Bank),
                    "both" => Ok(Registry::Both),
                    other => Err(self
                        .err(r.span(), format!("unknown registry `{other}`: expected `securities`, `bank` or `both`"))),
                },
            }
        };
        let text = |v: &Option<S<String>>| v.as_ref().map(|v| v.get_ref().clone());

        let action = match kind.name {
            "register" => Action::Register { party: party(&raw.party)?, registry: registry(&raw.registry)? },
            "revoke" => Action::Revoke { party: party(&raw.party)?, registry: registry(&raw.registry)? },
            "issue" => Action::Issue { to: party(&raw.to)?, units: amount(&raw.units) },
            "redeem" => Action::Redeem { from: party(&raw.from)?, units: amount(&raw.units) },
            "transfer" => Action::Transfer { from: party(&raw.from)?, to: party(&raw.to)?, units: amount(&raw.units) },
            "deposit" => {
                let to = raw.to.as_ref().map_or(Ok(Holder::Party(0)), |t| self.holder(t))?;
                let reference = text(&raw.reference).unwrap_or_else(|| format!("DEP-STEP-{number}"));
                Action::Deposit { to, amount: amount(&raw.amount), reference }
            }
            "withdraw" => {
                let p = party(&raw.party)?;
                let account = text(&raw.account).unwrap_or_else(|| format!("ACC-{}", self.parties[p].name));
                Action::Withdraw { party: p, amount: amount(&raw.amount), account }
            }
            "create_trade" => Action::CreateTrade { trade: self.defined_trade(&raw, &step_span)? },
            "create_signed_trade" | "settle_signed" => {
                let trade = self.defined_trade(&raw, &step_span)?;
                let by = match &raw.by {
                    Some(by) => self.party(by)?,
                    None => self.default_submitter(trade),
                };
                let signatures_of = raw.signatures_of.as_ref().map_or(Ok(trade), |t| self.trade(t))?;
                if kind.name == "settle_signed" {
                    Action::SettleSigned { trade, by, signatures_of }
                } else {
                    Action::CreateSignedTrade { trade, by, signatures_of }
                }
            }
            "pay" => Action::Pay { trade: self.required_trade(&raw)? },
            "approve" => {
                let trade = self.required_trade(&raw)?;
                if self.trades[trade].terms.agent.is_none() {
                    return Err(self.err(
                        span_of(&raw.trade).unwrap_or(step_span),
                        format!(
                            "trade `{}` has no agent, so nobody can approve it: it settles on payment",
                            self.trades[trade].name
                        ),
                    ));
                }
                Action::Approve { trade }
            }
            "settle_with_payment" => {
                let trade = self.required_trade(&raw)?;
                let by = match &raw.by {
                    Some(by) => self.party(by)?,
                    None => self.default_submitter(trade),
                };
                let signatures_of = raw.signatures_of.as_ref().map_or(Ok(trade), |t| self.trade(t))?;
                Action::SettleWithPayment { trade, by, signatures_of }
            }
            "cancel" | "release" => {
                let trade = self.required_trade(&raw)?;
                let by = match &raw.by {
                    Some(by) => self.party(by)?,
                    None if kind.name == "cancel" => self.trades[trade].terms.seller,
                    None => self.default_submitter(trade),
                };
                if kind.name == "cancel" { Action::Cancel { trade, by } } else { Action::Release { trade, by } }
            }
            "batch" => {
                let list = raw.trades.as_ref().map(|t| t.get_ref().as_slice()).unwrap_or_default();
                if list.is_empty() {
                    return Err(self.err(
                        span_of(&raw.trades).unwrap_or(step_span),
                        "an empty batch: expected the names of one or more paid trades",
                    ));
                }
                let trades = list.iter().map(|t| self.trade(t)).collect::<PResult<Vec<_>>>()?;
                let by = match &raw.by {
                    Some(by) => self.party(by)?,
                    None => self.default_submitter(trades[0]),
                };
                Action::Batch { trades, netted: raw.netted.as_ref().is_some_and(|n| *n.get_ref()), by }
            }
            "offer" => self.offer(&raw)?,
            "coupon" | "redemption" => {
                let Some(bond) = self.bond_coupons() else {
                    return Err(self.err(raw.kind.span(), "a payment round needs a bond: add [instrument.bond]"));
                };
                let payment = match &raw.coupon {
                    None => bond + 1,
                    Some(c) if (1..=bond).contains(c.get_ref()) => *c.get_ref(),
                    Some(c) => {
                        return Err(self.err(
                            c.span(),
                            format!("no coupon {}: expected a coupon number from 1 to {bond}", c.get_ref()),
                        ));
                    }
                };
                let holders = match &raw.holders {
                    Some(list) => self.parties_list(list)?,
                    None => self.registered.clone(),
                };
                Action::PaymentRound { payment, holders }
            }
            "add_programme" => {
                if !self.municipal() {
                    return Err(self.err(
                        raw.kind.span(),
                        "benefit programmes need a municipal bond: set `municipal = true` in [instrument.bond]",
                    ));
                }
                let name = raw.programme.as_ref().map(|p| p.get_ref().clone()).unwrap_or_default();
                if self.programmes.contains(&name) {
                    return Err(self.err(
                        span_of(&raw.programme).unwrap_or(step_span),
                        format!("programme `{name}` was already added"),
                    ));
                }
                self.programmes.push(name);
                Action::AddProgramme {
                    programme: self.programmes.len() - 1,
                    title: text(&raw.title).unwrap_or_default(),
                    units_per_benefit: raw.units_per_benefit.as_ref().map_or(0, |u| *u.get_ref()).into(),
                    record: raw.record.as_ref().map_or(0, |r| *r.get_ref()),
                    claim_until: raw.claim_until.as_ref().map(|t| self.time(t)).transpose()?.unwrap_or_default(),
                }
            }
            "claim_benefit" => {
                let p = party(&raw.party)?;
                let name = raw.programme.as_ref().map(|p| p.get_ref().as_str()).unwrap_or_default();
                let programme = self.programmes.iter().position(|n| n == name).ok_or_else(|| {
                    self.err(
                        span_of(&raw.programme).unwrap_or(step_span.clone()),
                        format!(
                            "unknown programme `{name}`: expected one added by an earlier add_programme step ({})",
                            one_of(self.programmes.iter().map(String::as_str))
                        ),
                    )
                })?;
                Action::ClaimBenefit { party: p, programme }
            }
            "advance" => match (&raw.duration, &raw.until) {
                (Some(d), None) => Action::Advance(Advance::By(self.duration(d)?)),
                (None, Some(u)) => Action::Advance(Advance::Until(self.time(u)?)),
                _ => {
                    return Err(self.err(
                        step_span,
                        "an `advance` step needs exactly one of `duration` (\"1d\": move the clock by) or \
                         `until` (\"2d 1s\": move it to that time after the start)",
                    ));
                }
            },
            other => unreachable!("kind {other} is listed in KINDS"),
        };
        let expect = match raw.expect {
            None => Expect::default(),
            Some(e) => self.expect(e.into_inner())?,
        };
        let origin = Origin::Timeline { number, line: self.line(&step_span) };
        Ok(Step { action, expect, origin, note: text(&raw.note) })
    }

    fn required_trade(&self, raw: &RawStep) -> PResult<TradeId> {
        // `trade` is required for every kind that calls this; checked before.
        raw.trade.as_ref().map_or(Ok(0), |t| self.trade(t))
    }

    /// Who submits on a trade's behalf by default: its agent, or else its seller.
    fn default_submitter(&self, trade: TradeId) -> PartyId {
        let terms = &self.trades[trade].terms;
        terms.agent.unwrap_or(terms.seller)
    }

    fn bond_coupons(&self) -> Option<u64> {
        self.bond_info.as_ref().map(|(n, _)| *n)
    }

    fn municipal(&self) -> bool {
        self.bond_info.as_ref().is_some_and(|(_, m)| *m)
    }

    fn offer(&mut self, raw: &RawStep) -> PResult<Action> {
        let underwriter = match &raw.underwriter {
            Some(u) => self.party(u)?,
            None => Role::SUITE.iter().position(|r| *r == Role::Issuer).unwrap_or_default(),
        };
        let agent = raw.agent.as_ref().map_or(Ok(0), |a| self.party(a))?;
        let deadline = raw.deadline.as_ref().map_or(Ok(0), |t| self.time(t))?;
        let mut allotments = Vec::new();
        for a in raw.allotments.iter().flat_map(|a| a.get_ref()) {
            let a = a.get_ref();
            let terms = TradeTerms {
                seller: underwriter,
                buyer: self.party(&a.investor)?,
                agent: Some(agent),
                units: a.units.get_ref().0,
                amount: a.amount.get_ref().0,
                deadline,
            };
            allotments.push(self.new_trade(&a.trade, terms)?);
        }
        if allotments.is_empty() {
            return Err(self.err(
                span_of(&raw.allotments).unwrap_or_default(),
                "an offering needs allotments: expected [{ trade = \"sub-1\", investor = \"alice\", units = 50, amount = 5_000_000 }]",
            ));
        }
        Ok(Action::Offer { underwriter, agent, deadline, allotments })
    }

    fn expect(&self, raw: RawExpect) -> PResult<Expect> {
        let mut expect = Expect::default();
        if let Some(error) = raw.error {
            if !events::is_known_error(error.get_ref()) {
                let hint = did_you_mean(suggest(error.get_ref(), events::error_names()));
                return Err(self.err(
                    error.span(),
                    format!(
                        "unknown error `{}`{hint}: expected a custom error of the suite's contracts \
                         (contracts/src/interfaces), like `DvPTradeExpired`",
                        error.get_ref()
                    ),
                ));
            }
            expect.error = Some(error.into_inner());
        }
        for pattern in raw.events.unwrap_or_default() {
            let text = pattern.get_ref();
            let (contract, name) = match text.split_once('.') {
                Some((c, n)) => (Some(c), n),
                None => (None, text.as_str()),
            };
            if let Some(c) = contract
                && !CONTRACTS.contains(&c)
            {
                return Err(self.err(
                    pattern.span(),
                    format!("unknown contract `{c}` in `{text}`: expected {}", one_of(CONTRACTS.iter().copied())),
                ));
            }
            if !events::is_known_event(name) {
                let hint = did_you_mean(suggest(name, events::event_names()));
                return Err(self.err(
                    pattern.span(),
                    format!(
                        "unknown event `{name}`{hint}: expected an event of the suite's contracts, like \
                         `TradeSettled` or `dvp.TradeSettled`"
                    ),
                ));
            }
            expect.events.push(EventPattern { contract: contract.map(str::to_string), name: name.to_string() });
        }
        let mut balances: Vec<_> = raw.balances.unwrap_or_default().into_iter().collect();
        balances.sort_by_key(|(name, _)| name.span().start);
        for (name, b) in balances {
            let holder = self.holder(&name)?;
            let v = |a: Option<Amount>| a.map(|a| a.0);
            expect.balances.push((
                holder,
                BalanceExpect {
                    units: v(b.units),
                    units_held: v(b.units_held),
                    cash: v(b.cash),
                    cash_held: v(b.cash_held),
                },
            ));
        }
        expect.supply = raw.supply.map(|s| SupplyExpect { units: s.units.map(|a| a.0), cash: s.cash.map(|a| a.0) });
        let mut trades: Vec<_> = raw.trades.unwrap_or_default().into_iter().collect();
        trades.sort_by_key(|(name, _)| name.span().start);
        for (name, state) in trades {
            let trade = self.trade(&name)?;
            let state =
                TradeState::ALL.iter().find(|(_, n)| n == state.get_ref()).map(|(s, _)| *s).ok_or_else(|| {
                    self.err(
                        state.span(),
                        format!(
                            "unknown trade state `{}`: expected {}",
                            state.get_ref(),
                            one_of(TradeState::ALL.iter().map(|(_, n)| *n))
                        ),
                    )
                })?;
            expect.trades.push((trade, state));
        }
        Ok(expect)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEAD: &str = r#"[scenario]
name = "t"
start = 2031-04-01

[parties.seller]
[parties.buyer]
[parties.agent]
role = "agent"

[funding]
seller = { units = 1_000 }
"#;

    /// `HEAD` is 11 lines; the step starts on line 12.
    fn with_step(step: &str) -> String {
        format!("{HEAD}[[step]]\n{step}")
    }

    fn error(src: &str) -> ParseError {
        match parse(src) {
            Ok(_) => panic!("expected a parse error for:\n{src}"),
            Err(e) => e,
        }
    }

    fn assert_at(e: &ParseError, line: usize, column: usize, needle: &str) {
        assert_eq!((e.line, e.column), (line, column), "{e}");
        assert!(e.message.contains(needle), "message {:?} lacks {needle:?}", e.message);
    }

    const TRADE: &str = "do = \"create_trade\"\ntrade = \"t1\"\nseller = \"seller\"\nbuyer = \"buyer\"\n";

    #[test]
    fn a_unknown_party_points_at_its_name_and_suggests_one() {
        let src = with_step(
            "do = \"create_trade\"\ntrade = \"t1\"\nseller = \"sellr\"\nbuyer = \"buyer\"\nunits = 1\namount = 1\ndeadline = \"1d\"\n",
        );
        let e = error(&src);
        assert_at(&e, 15, 10, "unknown party `sellr`");
        assert!(e.message.contains("did you mean `seller`"), "{e}");
        assert!(e.message.contains("expected a party declared under [parties]"), "{e}");
        assert!(e.to_string().contains("^^^^^^^"), "the name is underlined: {e}");
    }

    #[test]
    fn an_unknown_party_in_funding_or_expectations_is_located() {
        let e = error(&HEAD.replace("seller = { units", "sellerr = { units"));
        assert_at(&e, 11, 1, "unknown party `sellerr`");
        let e =
            error(&with_step("do = \"issue\"\nto = \"seller\"\nunits = 5\nexpect.balances.nobody = { units = 5 }\n"));
        assert_at(&e, 16, 17, "unknown party `nobody`");
    }

    #[test]
    fn a_bad_amount_points_at_the_value() {
        let e = error(&with_step("do = \"issue\"\nto = \"seller\"\nunits = -5\n"));
        assert_at(&e, 15, 9, "bad amount -5");
        assert!(e.message.contains("expected a whole number"), "{e}");
        let e = error(&with_step("do = \"issue\"\nto = \"seller\"\nunits = \"12abc\"\n"));
        assert_at(&e, 15, 9, "bad amount \"12abc\"");
        let e = error(&with_step("do = \"issue\"\nto = \"seller\"\nunits = 1.5\n"));
        assert_at(&e, 15, 9, "bad amount 1.5");
        let e = error(&HEAD.replace("units = 1_000", "units = -1"));
        assert_at(&e, 11, 20, "bad amount -1");
    }

    #[test]
    fn a_value_of_the_wrong_type_says_what_was_expected() {
        let src = with_step("do = \"batch\"\ntrades = [\"t1\"]\nnetted = \"yes\"\n");
        let e = error(&src);
        assert_at(&e, 15, 10, "invalid type: string \"yes\", expected a boolean");
        let e = error(&HEAD.replace("role = \"agent\"", "role = 7"));
        assert_at(&e, 8, 8, "invalid type: integer `7`, expected a string");
        let e = error(&with_step("do = \"advance\"\nduration = \"2x\"\n"));
        assert_at(&e, 14, 12, "bad time \"2x\"");
        assert!(e.message.contains("expected a duration like"), "{e}");
    }

    #[test]
    fn an_unknown_step_lists_the_kinds() {
        let e = error(&with_step("do = \"settle\"\ntrade = \"t1\"\n"));
        assert_at(&e, 13, 6, "unknown step `settle`");
        assert!(e.message.contains("`settle_signed`") && e.message.contains("`create_trade`"), "{e}");
    }

    #[test]
    fn a_missing_field_points_at_its_table() {
        let e = error(&with_step(&format!("{TRADE}amount = 1\ndeadline = \"1d\"\n")));
        assert_at(&e, 12, 1, "missing field `units`");
        assert!(e.message.contains("states its terms"), "{e}");
        let e = error(&with_step("do = \"issue\"\nto = \"seller\"\n"));
        assert_at(&e, 12, 1, "missing field `units`: a `issue` step needs `to` or `units`");
        let e = error(&with_step("trade = \"t1\"\n"));
        assert_at(&e, 12, 1, "missing field `do`");
        let e = error("[scenario]\nstart = 2031-04-01\n");
        assert_at(&e, 1, 1, "missing field `name`");
    }

    #[test]
    fn a_field_another_kind_takes_is_refused_where_it_stands() {
        let src = with_step(&format!("{TRADE}units = 1\namount = 1\ndeadline = \"1d\"\nnetted = true\n"));
        let e = error(&src);
        assert_at(&e, 20, 10, "`netted` does not apply to a `create_trade` step");
        let e = error(&with_step("do = \"pay\"\ntrade = \"t1\"\ncolour = \"red\"\n"));
        assert_at(&e, 15, 1, "unknown field `colour`");
    }

    #[test]
    fn trades_events_and_errors_are_checked_by_name() {
        let e = error(&with_step("do = \"pay\"\ntrade = \"t9\"\n"));
        assert_at(&e, 14, 9, "unknown trade `t9`");
        let e = error(&with_step("do = \"issue\"\nto = \"seller\"\nunits = 5\nexpect.events = [\"Isued\"]\n"));
        assert_at(&e, 16, 18, "unknown event `Isued` (did you mean `Issued`?)");
        let e = error(&with_step("do = \"issue\"\nto = \"seller\"\nunits = 5\nexpect.error = \"DvPTradeExpird\"\n"));
        assert_at(&e, 16, 16, "unknown error `DvPTradeExpird` (did you mean `DvPTradeExpired`?)");
        let e = error(&with_step(&format!(
            "{TRADE}units = 1\namount = 1\ndeadline = \"1d\"\n\n[[step]]\ndo = \"create_trade\"\ntrade = \"t1\"\nunits = 2\n"
        )));
        assert_at(&e, 24, 9, "trade `t1` was defined at line 14");
    }

    #[test]
    fn a_valid_file_becomes_the_model_with_setup_steps_first() {
        let src = with_step(&format!(
            "{TRADE}agent = \"agent\"\nunits = 100\namount = 1_000_000\ndeadline = \"2d 12h\"\n\
             expect.balances.seller = {{ units = 1000, units_held = 100 }}\nexpect.trades.t1 = \"open\"\n\n\
             [[step]]\ndo = \"advance\"\nuntil = 2031-04-04T00:00:00Z\n"
        ));
        let s = parse(&src).expect("parses");
        assert_eq!(s.start, Some(1_932_768_000), "2031-04-01T00:00:00Z");
        let names: Vec<&str> = s.parties.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["operator", "registrar", "issuer", "bank", "authority", "seller", "buyer", "agent"]);
        // Registration of both investors in both registries, the funding, then the timeline.
        let kinds: Vec<&str> = s.steps.iter().map(|s| s.action.kind()).collect();
        assert_eq!(kinds, ["register", "register", "register", "register", "issue", "create_trade", "advance"]);
        assert_eq!(s.trades[0].terms.deadline, 2 * DAY + 12 * 3_600);
        assert_eq!(s.trades[0].terms.agent, Some(7));
        assert_eq!(s.steps[5].origin, Origin::Timeline { number: 1, line: 12 });
        assert_eq!(s.steps[6].action, Action::Advance(Advance::Until(3 * DAY)));
        assert_eq!(s.watch, [Holder::Party(5), Holder::Party(6)]);
    }

    #[test]
    fn a_party_address_with_a_wrong_checksum_is_refused_where_it_stands() {
        let src = HEAD.replace(
            "role = \"agent\"\n",
            "role = \"agent\"\naddress = \"0x15d34AAf54267DB7D7c367839AAf71A00a2C6a65\"\n",
        );
        let e = error(&src);
        assert_at(&e, 9, 11, "0x15d34AAf54267DB7D7c367839AAf71A00a2C6a65 has a wrong EIP-55 checksum");
        assert!(e.message.contains("did you mean 0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65?"), "{e}");
        let e = error(&src.replace("0x15d34AAf54267DB7D7c367839AAf71A00a2C6a65", "agent-wallet"));
        assert_at(&e, 9, 11, "\"agent-wallet\" is not an address");
    }

    #[test]
    fn a_party_address_is_checked_or_one_case_and_played_by_one_party() {
        let agent = "0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65";
        for written in [agent.to_string(), agent.to_lowercase()] {
            let src = HEAD.replace("role = \"agent\"\n", &format!("role = \"agent\"\naddress = \"{written}\"\n"));
            let s = parse(&src).expect("parses");
            assert_eq!(s.parties[7].address.map(|a| a.to_string()).as_deref(), Some(agent));
            assert_eq!(s.parties[5].address, None);
        }
        let src = HEAD
            .replace("[parties.buyer]\n", &format!("[parties.buyer]\naddress = \"{agent}\"\n"))
            .replace("role = \"agent\"\n", &format!("role = \"agent\"\naddress = \"{agent}\"\n"));
        let e = error(&src);
        assert_at(&e, 10, 11, &format!("{agent} already plays `buyer` (line 6)"));
    }

    #[test]
    fn durations_and_dates() {
        assert_eq!(parse_duration("2d"), Some(2 * DAY));
        assert_eq!(parse_duration("1d 12h 30m 5s"), Some(DAY + 12 * 3_600 + 30 * 60 + 5));
        assert_eq!(parse_duration("+1w"), Some(7 * DAY));
        assert_eq!(parse_duration("0"), Some(0));
        for bad in ["", "2", "d", "2x", "1d 2", "-1d"] {
            assert_eq!(parse_duration(bad), None, "{bad}");
        }
        let dt: Datetime = "1970-01-02T00:00:01+09:00".parse().expect("datetime");
        assert_eq!(unix_time(&dt), Some(86_401 - 9 * 3_600));
        let dt: Datetime = "2000-03-01".parse().expect("date");
        assert_eq!(unix_time(&dt), Some(951_868_800));
    }

    #[test]
    fn the_example_scenarios_parse() {
        for (name, src) in [
            ("dcjpy_pilot", include_str!("../../../scenarios/dcjpy_pilot.toml")),
            ("municipal_bond", include_str!("../../../scenarios/municipal_bond.toml")),
            ("failures", include_str!("../../../scenarios/failures.toml")),
        ] {
            let s = parse(src).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert!(s.parties.len() <= 10, "{name} fits Anvil's ten development keys");
        }
    }
}
