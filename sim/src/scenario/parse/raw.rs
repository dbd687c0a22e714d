//! The file as TOML gives it: raw values with their spans, before names are resolved.

use super::*;

/// A whole number of units or yen, read as every file kessai reads amounts from
/// ([`kessai_deployer::amount`]).
pub(crate) use kessai_deployer::amount::Amount;

/// A time in a scenario: an offset from the start (`"2d"`, `"1d 12h"`, or a number of seconds), or
/// an absolute TOML date-time (which needs a fixed start).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RawTime {
    Seconds(u64),
    At(Datetime),
}

pub(crate) const TIME_EXPECTED: &str =
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
pub(crate) fn parse_duration(text: &str) -> Option<u64> {
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
pub(crate) fn unix_time(dt: &Datetime) -> Option<u64> {
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
pub(crate) struct RawFile {
    pub(crate) scenario: S<RawMeta>,
    pub(crate) instrument: Option<S<RawInstrument>>,
    pub(crate) cash: Option<S<RawToken>>,
    #[serde(default)]
    pub(crate) parties: BTreeMap<S<String>, S<RawParty>>,
    #[serde(default)]
    pub(crate) funding: BTreeMap<S<String>, S<RawFunding>>,
    #[serde(default)]
    pub(crate) step: Vec<S<RawStep>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawMeta {
    pub(crate) name: String,
    pub(crate) description: Option<String>,
    pub(crate) start: Option<S<RawTime>>,
    pub(crate) watch: Option<Vec<S<String>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawToken {
    pub(crate) name: String,
    pub(crate) symbol: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawInstrument {
    pub(crate) name: String,
    pub(crate) symbol: String,
    pub(crate) bond: Option<S<RawBond>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawBond {
    pub(crate) face_value: u64,
    pub(crate) coupon_rate_bps: u16,
    pub(crate) coupons_per_year: u8,
    pub(crate) redemption_value: Option<u64>,
    pub(crate) issue_date: Option<S<RawTime>>,
    pub(crate) coupon_dates: S<Vec<S<RawTime>>>,
    pub(crate) record_offset: Option<S<RawTime>>,
    pub(crate) paying_agent: S<String>,
    #[serde(default)]
    pub(crate) municipal: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawParty {
    pub(crate) role: Option<S<String>>,
    pub(crate) class: Option<S<String>>,
    pub(crate) country: Option<S<RawCountry>>,
    pub(crate) registries: Option<Vec<S<String>>>,
    pub(crate) kyc_valid_for: Option<S<RawTime>>,
    pub(crate) address: Option<S<String>>,
}

#[derive(Deserialize)]
#[serde(untagged)]
pub(crate) enum RawCountry {
    Number(u16),
    Code(String),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawFunding {
    pub(crate) units: Option<S<Amount>>,
    pub(crate) cash: Option<S<Amount>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawAllotment {
    pub(crate) trade: S<String>,
    pub(crate) investor: S<String>,
    pub(crate) units: S<Amount>,
    pub(crate) amount: S<Amount>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawBalance {
    pub(crate) units: Option<Amount>,
    pub(crate) units_held: Option<Amount>,
    pub(crate) cash: Option<Amount>,
    pub(crate) cash_held: Option<Amount>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawSupply {
    pub(crate) units: Option<Amount>,
    pub(crate) cash: Option<Amount>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawExpect {
    pub(crate) error: Option<S<String>>,
    pub(crate) events: Option<Vec<S<String>>>,
    pub(crate) balances: Option<BTreeMap<S<String>, RawBalance>>,
    pub(crate) supply: Option<RawSupply>,
    pub(crate) trades: Option<BTreeMap<S<String>, S<String>>>,
}

/// One `[[step]]`: every field any kind takes; the step table ([`crate::scenario::steps`]) says
/// which fields each kind uses. A kind that needs a field no other kind has adds it here.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawStep {
    #[serde(rename = "do")]
    pub(crate) kind: S<String>,
    pub(crate) note: Option<S<String>>,
    pub(crate) party: Option<S<String>>,
    pub(crate) registry: Option<S<String>>,
    pub(crate) to: Option<S<String>>,
    pub(crate) from: Option<S<String>>,
    pub(crate) by: Option<S<String>>,
    pub(crate) units: Option<S<Amount>>,
    pub(crate) amount: Option<S<Amount>>,
    pub(crate) reference: Option<S<String>>,
    pub(crate) account: Option<S<String>>,
    pub(crate) trade: Option<S<String>>,
    pub(crate) seller: Option<S<String>>,
    pub(crate) buyer: Option<S<String>>,
    pub(crate) agent: Option<S<String>>,
    pub(crate) deadline: Option<S<RawTime>>,
    pub(crate) trades: Option<S<Vec<S<String>>>>,
    pub(crate) netted: Option<S<bool>>,
    pub(crate) signatures_of: Option<S<String>>,
    pub(crate) underwriter: Option<S<String>>,
    pub(crate) allotments: Option<S<Vec<S<RawAllotment>>>>,
    pub(crate) coupon: Option<S<u64>>,
    pub(crate) holders: Option<S<Vec<S<String>>>>,
    pub(crate) programme: Option<S<String>>,
    pub(crate) title: Option<S<String>>,
    pub(crate) units_per_benefit: Option<S<u64>>,
    pub(crate) record: Option<S<u16>>,
    pub(crate) claim_until: Option<S<RawTime>>,
    pub(crate) duration: Option<S<RawTime>>,
    pub(crate) until: Option<S<RawTime>>,
    pub(crate) reason: Option<S<String>>,
    pub(crate) document: Option<S<String>>,
    pub(crate) court_order: Option<S<bool>>,
    pub(crate) request: Option<S<String>>,
    pub(crate) expect: Option<S<RawExpect>>,
}

pub(crate) fn span_of<T>(v: &Option<S<T>>) -> Option<Range<usize>> {
    v.as_ref().map(Spanned::span)
}

impl RawStep {
    /// Every field but `do`, with its span when present.
    pub(crate) fn fields(&self) -> [(&'static str, Option<Range<usize>>); 34] {
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
            ("reason", span_of(&self.reason)),
            ("document", span_of(&self.document)),
            ("court_order", span_of(&self.court_order)),
            ("request", span_of(&self.request)),
            ("expect", span_of(&self.expect)),
        ]
    }
}

/// Terms a trade-defining step states when it names a new trade.
pub(crate) const TERMS: &[&str] = &["seller", "buyer", "units", "amount", "deadline"];

/// Contract labels an event pattern may name.
pub(crate) const CONTRACTS: &[&str] =
    &["registry", "bank_registry", "security", "deposit", "dvp", "approvals", "instrument"];

/// Alpha-2 codes accepted for `country`, with their ISO 3166-1 numbers.
pub(crate) const COUNTRIES: &[(&str, u16)] = &[
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

pub(crate) const ROLES: &[Role] =
    &[Role::Investor, Role::Agent, Role::Operator, Role::Registrar, Role::Issuer, Role::Bank, Role::Authority];

/// A list for "expected one of" messages: `a`, `b` or `c`.
pub(crate) fn one_of<'a>(items: impl IntoIterator<Item = &'a str>) -> String {
    listed(items, "or")
}

/// A list of what is needed together: `a`, `b` and `c`.
pub(crate) fn all_of<'a>(items: impl IntoIterator<Item = &'a str>) -> String {
    listed(items, "and")
}

fn listed<'a>(items: impl IntoIterator<Item = &'a str>, conjunction: &str) -> String {
    let items: Vec<String> = items.into_iter().map(|s| format!("`{s}`")).collect();
    match items.len() {
        0 => "nothing".into(),
        1 => items[0].clone(),
        n => format!("{} {conjunction} {}", items[..n - 1].join(", "), items[n - 1]),
    }
}

/// The closest of `candidates` to `name`, if close enough to be a likely typo.
pub(crate) fn suggest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let lower = name.to_lowercase();
    candidates
        .into_iter()
        .map(|c| (strsim::levenshtein(&lower, &c.to_lowercase()), c))
        .filter(|(d, c)| *d <= 2.max(c.len() / 3))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

pub(crate) fn did_you_mean(suggestion: Option<&str>) -> String {
    suggestion.map(|s| format!(" (did you mean `{s}`?)")).unwrap_or_default()
}
