//! The writer: a [`Scenario`] back into the TOML file format, so a scenario built in code (a
//! generated workload, a shrunk failing sequence) can be saved, read and edited by a person.
//!
//! [`parse`](super::parse::parse) of the written text gives back the same model, except that each
//! timeline step's `line` is where it now stands in the file. Everything is written out explicitly
//! (every party with its role, class, country, KYC validity, registries and account when named;
//! every step's submitter, signatures, references and registries; the watch list) so nothing depends
//! on the parser's defaults. A model the format cannot express is refused with the reason: setup steps other than
//! the registrations and funding the `[parties]` and `[funding]` tables describe, a trade used
//! before a step defines it, a payment number the bond does not have, and the like.
//!
//! ```
//! use kessai_sim::scenario::{parse, write};
//!
//! let src = "[scenario]\nname = \"one issue\"\n[parties.alice]\n[funding]\nalice = { units = 10 }\n";
//! let scenario = parse::parse(src).expect("parses");
//! let written = write::write(&scenario).expect("writable");
//! assert_eq!(write::without_lines(&parse::parse(&written).expect("parses")), write::without_lines(&scenario));
//! ```

use super::{
    error::ScenarioError,
    model::{Action, BalanceExpect, DAY, Expect, Holder, Origin, PartyId, Registry, Role, Scenario, Step, TradeId},
    steps,
};
use alloy::primitives::U256;
use std::fmt::Write as _;
use toml_writer::{ToTomlKey as _, ToTomlValue as _, TomlKeyBuilder, TomlStringBuilder};

/// The model with every timeline step's line set to 0: what a round trip through the file format
/// preserves.
pub fn without_lines(scenario: &Scenario) -> Scenario {
    let mut s = scenario.clone();
    for step in &mut s.steps {
        if let Origin::Timeline { line, .. } = &mut step.origin {
            *line = 0;
        }
    }
    s
}

/// Writes `scenario` as a scenario file.
pub fn write(scenario: &Scenario) -> Result<String, ScenarioError> {
    Writer::new(scenario)?.write()
}

/// Writes `scenario` to `path`.
pub fn save(scenario: &Scenario, path: impl AsRef<std::path::Path>) -> Result<(), ScenarioError> {
    let path = path.as_ref();
    let text = write(scenario)?;
    std::fs::write(path, text).map_err(|source| ScenarioError::Read { path: path.to_path_buf(), source })
}

fn refuse(message: impl std::fmt::Display) -> ScenarioError {
    ScenarioError::Setup(format!("cannot write the scenario as a file: {message}"))
}

struct Writer<'s> {
    s: &'s Scenario,
    out: String,
    /// Registries each party is registered in during setup, in order.
    registries: Vec<Vec<Registry>>,
    /// (units, cash) each party is funded with during setup.
    funding: Vec<(Option<U256>, Option<U256>)>,
    /// Index of the first timeline step.
    first_timeline: usize,
}

impl<'s> Writer<'s> {
    fn new(s: &'s Scenario) -> Result<Self, ScenarioError> {
        let n = s.parties.len();
        if n < Role::SUITE.len() || Role::SUITE.iter().enumerate().any(|(i, r)| s.parties[i].role != *r) {
            return Err(refuse("the five suite roles must be its first parties, in order"));
        }
        let mut names = std::collections::HashSet::new();
        for p in &s.parties {
            if p.name == "instrument" || !names.insert(p.name.as_str()) {
                return Err(refuse(format!("party name `{}` is reserved or used twice", p.name)));
            }
            if Role::SUITE.iter().any(|r| r.name() == p.name && *r != p.role) {
                return Err(refuse(format!(
                    "party `{}` bears a suite role's name but plays {}",
                    p.name,
                    p.role.name()
                )));
            }
        }
        let mut trade_names = std::collections::HashSet::new();
        if let Some(t) = s.trades.iter().find(|t| !trade_names.insert(t.name.as_str())) {
            return Err(refuse(format!("trade name `{}` is used twice", t.name)));
        }

        // Setup: registrations by party (in party order), then funding by party (units, then cash).
        let first_timeline = s.steps.iter().position(|st| st.origin != Origin::Setup).unwrap_or(s.steps.len());
        if s.steps[first_timeline..].iter().any(|st| st.origin == Origin::Setup) {
            return Err(refuse("setup steps must all come before the timeline"));
        }
        let mut registries = vec![Vec::new(); n];
        let mut funding = vec![(None, None); n];
        for step in &s.steps[..first_timeline] {
            if step.expect != Expect::default() || step.note.is_some() {
                return Err(refuse("a setup step has expectations or a note: make it a timeline step"));
            }
            match &step.action {
                Action::Register { party, registry: r @ (Registry::Securities | Registry::Bank) } => {
                    registries[*party].push(*r)
                }
                Action::Issue { to, units } if funding[*to].0.is_none() => funding[*to].0 = Some(*units),
                Action::Deposit { to: Holder::Party(p), amount, reference }
                    if funding[*p].1.is_none() && *reference == format!("FUND-{}", s.parties[*p].name) =>
                {
                    funding[*p].1 = Some(*amount)
                }
                other => {
                    return Err(refuse(format!(
                        "setup step `{}` is not a registration or funding that [parties] and [funding] describe",
                        other.kind()
                    )));
                }
            }
        }
        let writer = Self { s, out: String::new(), registries, funding, first_timeline };
        // The parser rebuilds setup in its own order; the model's must be that order.
        if writer.setup_steps() != s.steps[..first_timeline].iter().map(|st| st.action.clone()).collect::<Vec<_>>() {
            return Err(refuse(
                "its setup steps are not in file order (registrations party by party, then funding party by \
                 party, units before cash)",
            ));
        }
        Ok(writer)
    }

    /// The setup steps the parser derives from the written `[parties]` and `[funding]`.
    fn setup_steps(&self) -> Vec<Action> {
        let mut steps = Vec::new();
        for (party, registries) in self.registries.iter().enumerate() {
            for r in registries {
                steps.push(Action::Register { party, registry: *r });
            }
        }
        for (party, (units, cash)) in self.funding.iter().enumerate() {
            if let Some(units) = units {
                steps.push(Action::Issue { to: party, units: *units });
            }
            if let Some(amount) = cash {
                let reference = format!("FUND-{}", self.s.parties[party].name);
                steps.push(Action::Deposit { to: Holder::Party(party), amount: *amount, reference });
            }
        }
        steps
    }

    fn party(&self, id: PartyId) -> String {
        key(&self.s.parties[id].name)
    }

    fn party_str(&self, id: PartyId) -> String {
        string(&self.s.parties[id].name)
    }

    fn holder_str(&self, holder: Holder) -> String {
        string(self.s.holder_name(holder))
    }

    /// The file: the tables that describe the scenario and its setup, then one `[[step]]` per
    /// timeline step.
    fn write(mut self) -> Result<String, ScenarioError> {
        let s = self.s;
        let mut o = String::new();
        self.scenario_table(&mut o);
        self.instrument_tables(&mut o)?;
        self.cash_table(&mut o);
        for id in 0..s.parties.len() {
            self.party_table(&mut o, id)?;
        }
        self.funding_table(&mut o);
        self.out = o;

        let mut defined = 0;
        let mut programmes = 0;
        for step in &s.steps[self.first_timeline..] {
            self.step(step, &mut defined, &mut programmes)?;
        }
        Ok(self.out)
    }

    /// The `[scenario]` table: name, description, start and watch list.
    fn scenario_table(&self, o: &mut String) {
        let s = self.s;
        o.push_str("[scenario]\n");
        let _ = writeln!(o, "name = {}", string(&s.name));
        if let Some(d) = &s.description {
            let _ = writeln!(o, "description = {}", string(d));
        }
        if let Some(start) = s.start {
            let _ = writeln!(o, "start = {}", datetime(start));
        }
        let watch: Vec<String> = s.watch.iter().map(|h| self.holder_str(*h)).collect();
        let _ = writeln!(o, "watch = [{}]", watch.join(", "));
    }

    /// The `[instrument]` table, and `[instrument.bond]` when the units are a bond.
    fn instrument_tables(&self, o: &mut String) -> Result<(), ScenarioError> {
        let token = &self.s.instrument.token;
        o.push_str("\n[instrument]\n");
        let _ = writeln!(o, "name = {}\nsymbol = {}", string(&token.name), string(&token.symbol));
        let Some(b) = &self.s.instrument.bond else { return Ok(()) };
        let face = u64::try_from(b.face_value).map_err(|_| refuse("the bond's face value exceeds 2^64"))?;
        let redemption =
            u64::try_from(b.redemption_value).map_err(|_| refuse("the bond's redemption value exceeds 2^64"))?;
        o.push_str("\n[instrument.bond]\n");
        let _ = writeln!(o, "face_value = {}", integer(u128::from(face)));
        let _ = writeln!(o, "coupon_rate_bps = {}", b.coupon_rate_bps);
        let _ = writeln!(o, "coupons_per_year = {}", b.coupons_per_year);
        let _ = writeln!(o, "redemption_value = {}", integer(u128::from(redemption)));
        let _ = writeln!(o, "issue_date = {}", duration(b.issue_date));
        let dates: Vec<String> = b.coupon_dates.iter().map(|d| duration(*d)).collect();
        let _ = writeln!(o, "coupon_dates = [{}]", dates.join(", "));
        let _ = writeln!(o, "record_offset = {}", duration(u64::from(b.record_offset)));
        let _ = writeln!(o, "paying_agent = {}", self.party_str(b.paying_agent));
        let _ = writeln!(o, "municipal = {}", b.municipal);
        Ok(())
    }

    /// The `[cash]` table: the deposit token's names.
    fn cash_table(&self, o: &mut String) {
        o.push_str("\n[cash]\n");
        let _ = writeln!(o, "name = {}\nsymbol = {}", string(&self.s.cash.name), string(&self.s.cash.symbol));
    }

    /// The `[parties.<name>]` table of party `id`, every field written out.
    fn party_table(&self, o: &mut String, id: PartyId) -> Result<(), ScenarioError> {
        let p = &self.s.parties[id];
        let _ = writeln!(o, "\n[parties.{}]", self.party(id));
        let _ = writeln!(o, "role = {}", string(p.role.name()));
        let Some(class) = kessai_bindings::INVESTOR_CLASSES.get(usize::from(p.class)) else {
            return Err(refuse(format!("party `{}` has investor class {}", p.name, p.class)));
        };
        let _ = writeln!(o, "class = {}", string(class));
        let _ = writeln!(o, "country = {}", p.country);
        let _ = writeln!(o, "kyc_valid_for = {}", duration(p.kyc_valid_for));
        if let Some(address) = p.address {
            let _ = writeln!(o, "address = {}", string(&address.to_string()));
        }
        let registries: Vec<String> = self.registries[id]
            .iter()
            .map(|r| string(if *r == Registry::Securities { "securities" } else { "bank" }))
            .collect();
        let _ = writeln!(o, "registries = [{}]", registries.join(", "));
        Ok(())
    }

    /// The `[funding]` table, when anyone is funded during setup: each funded party's units and cash.
    fn funding_table(&self, o: &mut String) {
        if !self.funding.iter().any(|f| f.0.is_some() || f.1.is_some()) {
            return;
        }
        o.push_str("\n[funding]\n");
        for (id, (units, cash)) in self.funding.iter().enumerate() {
            let mut fields = Vec::new();
            if let Some(u) = units {
                fields.push(format!("units = {}", amount(*u)));
            }
            if let Some(c) = cash {
                fields.push(format!("cash = {}", amount(*c)));
            }
            if !fields.is_empty() {
                let _ = writeln!(o, "{} = {{ {} }}", self.party(id), fields.join(", "));
            }
        }
    }

    fn step(&mut self, step: &Step, defined: &mut usize, programmes: &mut usize) -> Result<(), ScenarioError> {
        let mut f = Fields { s: self.s, kind: "", lines: Vec::new(), defined, programmes };
        steps::write(&mut f, &step.action)?;
        let Fields { kind, mut lines, .. } = f;
        if let Some(note) = &step.note {
            lines.insert(0, format!("note = {}", string(note)));
        }
        self.expect(&step.expect, *defined, &mut lines)?;
        let _ = write!(self.out, "\n[[step]]\ndo = {}\n", string(kind));
        for line in lines {
            self.out.push_str(&line);
            self.out.push('\n');
        }
        Ok(())
    }

    fn expect(&self, e: &Expect, defined: usize, f: &mut Vec<String>) -> Result<(), ScenarioError> {
        if let Some(error) = &e.error {
            f.push(format!("expect.error = {}", string(error)));
        }
        if !e.events.is_empty() {
            let events: Vec<String> = e.events.iter().map(|p| string(&p.to_string())).collect();
            f.push(format!("expect.events = [{}]", events.join(", ")));
        }
        let mut seen = std::collections::HashSet::new();
        for (holder, b) in &e.balances {
            if !seen.insert(*holder) {
                return Err(refuse(format!("a step expects {}'s balances twice", self.s.holder_name(*holder))));
            }
            f.push(format!("expect.balances.{} = {}", key(self.s.holder_name(*holder)), balance(b)));
        }
        if let Some(supply) = &e.supply {
            let mut fields = Vec::new();
            if let Some(u) = supply.units {
                fields.push(format!("units = {}", amount(u)));
            }
            if let Some(c) = supply.cash {
                fields.push(format!("cash = {}", amount(c)));
            }
            f.push(format!("expect.supply = {{ {} }}", fields.join(", ")));
        }
        let mut seen = std::collections::HashSet::new();
        for (trade, state) in &e.trades {
            if *trade >= defined {
                return Err(refuse(format!(
                    "trade `{}` is expected before a step defines it",
                    self.s.trades[*trade].name
                )));
            }
            if !seen.insert(*trade) {
                return Err(refuse(format!("a step expects trade `{}` twice", self.s.trades[*trade].name)));
            }
            f.push(format!("expect.trades.{} = {}", key(&self.s.trades[*trade].name), string(state.name())));
        }
        Ok(())
    }
}

/// The fields of one step being written, in the order the file shows them; the step table's
/// entries fill it.
pub(crate) struct Fields<'w> {
    pub(crate) s: &'w Scenario,
    /// The `do` it is written as.
    pub(crate) kind: &'static str,
    lines: Vec<String>,
    /// Trades defined by the steps written so far (a trade is defined before it is used).
    pub(crate) defined: &'w mut usize,
    /// Benefit programmes added so far.
    pub(crate) programmes: &'w mut usize,
}

impl Fields<'_> {
    pub(crate) fn refuse(&self, message: impl std::fmt::Display) -> ScenarioError {
        refuse(message)
    }

    /// `field = value`, the value already written as TOML.
    pub(crate) fn raw(&mut self, field: &str, value: String) {
        self.lines.push(kv(field, value));
    }

    pub(crate) fn text(&mut self, field: &str, value: &str) {
        self.raw(field, string(value));
    }

    pub(crate) fn amount(&mut self, field: &str, value: U256) {
        self.raw(field, amount(value));
    }

    pub(crate) fn duration(&mut self, field: &str, seconds: u64) {
        self.raw(field, duration(seconds));
    }

    pub(crate) fn quoted_party(&self, id: PartyId) -> String {
        string(&self.s.parties[id].name)
    }

    pub(crate) fn quoted_trade(&self, id: TradeId) -> String {
        string(&self.s.trades[id].name)
    }

    pub(crate) fn party(&mut self, field: &str, id: PartyId) {
        self.raw(field, self.quoted_party(id));
    }

    pub(crate) fn holder(&mut self, field: &str, holder: Holder) {
        self.raw(field, string(self.s.holder_name(holder)));
    }

    pub(crate) fn party_names(&mut self, field: &str, ids: &[PartyId]) {
        let names: Vec<String> = ids.iter().map(|p| self.quoted_party(*p)).collect();
        self.raw(field, format!("[{}]", names.join(", ")));
    }

    pub(crate) fn trade_name(&mut self, field: &str, id: TradeId) {
        self.raw(field, self.quoted_trade(id));
    }

    pub(crate) fn trade_names(&mut self, field: &str, ids: &[TradeId]) {
        let names: Vec<String> = ids.iter().map(|t| self.quoted_trade(*t)).collect();
        self.raw(field, format!("[{}]", names.join(", ")));
    }

    /// Refuses a trade no earlier step defines.
    pub(crate) fn known(&self, t: TradeId) -> Result<(), ScenarioError> {
        if t < *self.defined {
            Ok(())
        } else {
            Err(refuse(format!("trade `{}` is used before a step defines it", self.s.trades[t].name)))
        }
    }

    /// A defined trade, by name.
    pub(crate) fn trade(&mut self, field: &str, t: TradeId) -> Result<(), ScenarioError> {
        self.known(t)?;
        self.trade_name(field, t);
        Ok(())
    }

    /// A defining step names trade `t`: new (the next to define: its terms follow) or a replay.
    pub(crate) fn define(&mut self, t: TradeId) -> Result<(), ScenarioError> {
        self.trade_name("trade", t);
        if t < *self.defined {
            return Ok(());
        }
        if t != *self.defined {
            return Err(refuse(format!(
                "trade `{}` is defined out of order: trades must be listed in the order steps define them",
                self.s.trades[t].name
            )));
        }
        *self.defined += 1;
        let terms = &self.s.trades[t].terms;
        self.party("seller", terms.seller);
        self.party("buyer", terms.buyer);
        if let Some(agent) = terms.agent {
            self.party("agent", agent);
        }
        self.amount("units", terms.units);
        self.amount("amount", terms.amount);
        self.duration("deadline", terms.deadline);
        Ok(())
    }
}

fn kv(name: &str, value: String) -> String {
    format!("{name} = {value}")
}

fn balance(b: &BalanceExpect) -> String {
    let mut fields = Vec::new();
    for (name, v) in [("units", b.units), ("units_held", b.units_held), ("cash", b.cash), ("cash_held", b.cash_held)] {
        if let Some(v) = v {
            fields.push(format!("{name} = {}", amount(v)));
        }
    }
    format!("{{ {} }}", fields.join(", "))
}

/// A TOML basic string (`"…"`, escaped where TOML requires it), always in double quotes so every
/// written file quotes alike.
fn string(s: &str) -> String {
    TomlStringBuilder::new(s).as_basic().to_toml_value()
}

/// A TOML key: bare when it can be, a basic string otherwise.
fn key(s: &str) -> String {
    let key = TomlKeyBuilder::new(s);
    key.as_unquoted().unwrap_or_else(|| key.as_basic()).to_toml_key()
}

/// An integer with `_` between thousands.
pub(crate) fn integer(v: u128) -> String {
    let digits = v.to_string();
    let mut out = String::with_capacity(digits.len() * 4 / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push('_');
        }
        out.push(c);
    }
    out
}

/// An amount: a TOML integer when it fits one, else a string of digits.
pub(crate) fn amount(v: U256) -> String {
    match u64::try_from(v) {
        Ok(small) if small <= i64::MAX as u64 => integer(u128::from(small)),
        _ => string(&v.to_string()),
    }
}

/// A duration or offset as a TOML string: `"1d 9h 30m"`, `"0s"`.
fn duration(seconds: u64) -> String {
    string(&super::model::span(seconds))
}

/// A TOML offset date-time in UTC: `2031-04-01T00:00:00Z`.
pub(crate) fn datetime(unix: u64) -> String {
    let days = (unix / DAY) as i64;
    let rest = unix % DAY;
    // Civil date from days since 1970-01-01 (H. Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z", rest / 3_600, rest % 3_600 / 60, rest % 60)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::{model::Advance, parse::parse};

    fn round_trip(name: &str, src: &str) {
        let scenario = parse(src).unwrap_or_else(|e| panic!("{name}: {e}"));
        let written = write(&scenario).unwrap_or_else(|e| panic!("{name}: {e}"));
        let again =
            parse(&written).unwrap_or_else(|e| panic!("{name}: the written file does not parse: {e}\n{written}"));
        assert_eq!(without_lines(&again), without_lines(&scenario), "{name}:\n{written}");
        assert_eq!(write(&again).expect("writable"), written, "{name}: writing is stable");
    }

    #[test]
    fn the_example_scenarios_round_trip() {
        round_trip("dcjpy_pilot", include_str!("../../../scenarios/dcjpy_pilot.toml"));
        round_trip("municipal_bond", include_str!("../../../scenarios/municipal_bond.toml"));
        round_trip("failures", include_str!("../../../scenarios/failures.toml"));
        round_trip("enforcement", include_str!("../../../scenarios/enforcement.toml"));
        round_trip("approvals", include_str!("../../../scenarios/approvals.toml"));
        let pinned = include_str!("../../../scenarios/dcjpy_pilot.toml").replace(
            "[parties.buyer]\n",
            "[parties.buyer]\naddress = \"0x976EA74026E726554dB657fA54763abd0C3a0aa9\"\n",
        );
        round_trip("dcjpy_pilot with the buyer's account", &pinned);
        assert!(write(&parse(&pinned).expect("parses")).expect("writes").contains("address = \"0x976E"));
    }

    #[test]
    fn values_are_written_the_way_the_parser_reads_them() {
        assert_eq!(datetime(1_932_768_000), "2031-04-01T00:00:00Z");
        assert_eq!(datetime(951_868_800 + 3_661), "2000-03-01T01:01:01Z");
        assert_eq!(duration(0), "\"0s\"");
        assert_eq!(duration(DAY + 9 * 3_600 + 5), "\"1d 9h 5s\"");
        assert_eq!(amount(U256::from(1_234_567u64)), "1_234_567");
        assert_eq!(amount(U256::from(u64::MAX)), format!("\"{}\"", u64::MAX));
        assert_eq!(key("t-1_a"), "t-1_a");
        assert_eq!(key("a b"), "\"a b\"");
        assert_eq!(string("say \"hi\"\\\n"), "\"say \\\"hi\\\"\\\\\\n\"");
        assert_eq!(string("tab\tbell\u{7}del\u{7f}"), "\"tab\\tbell\\u0007del\\u007F\"");
        assert_eq!(key("it's \"q\""), "\"it's \\\"q\\\"\"");
        let odd = "a \"b\" \\ c\nd\u{1}e";
        let toml = format!("{} = {}", key(odd), string(odd));
        let table: toml::Table = toml.parse().unwrap_or_else(|e| panic!("{toml}: {e}"));
        assert_eq!(table.get(odd).and_then(toml::Value::as_str), Some(odd), "{toml}");
    }

    #[test]
    fn a_setup_the_format_cannot_express_is_refused() {
        let mut s = parse(include_str!("../../../scenarios/dcjpy_pilot.toml")).expect("parses");
        s.steps.insert(
            0,
            Step {
                action: Action::Advance(Advance::By(1)),
                expect: Expect::default(),
                origin: Origin::Setup,
                note: None,
            },
        );
        let err = write(&s).expect_err("an advance in setup");
        assert!(err.to_string().contains("is not a registration or funding"), "{err}");
    }
}
