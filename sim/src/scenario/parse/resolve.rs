//! Resolution of the raw file into the model: parties, times, bonds and trades.

use super::*;

pub(crate) struct Resolver<'a> {
    pub(crate) src: &'a str,
    /// The offset of every newline in `src`, so a span's line is a binary search, not a count from
    /// the file's start (which made parsing quadratic in the number of steps).
    pub(crate) newlines: Vec<usize>,
    /// The file, for warnings.
    pub(crate) path: Option<&'a Path>,
    pub(crate) start: Option<u64>,
    pub(crate) parties: Vec<Party>,
    /// Names (and suite role aliases) to parties.
    pub(crate) by_name: HashMap<String, PartyId>,
    /// Lines where each party was declared (for duplicate-role messages).
    pub(crate) declared_at: HashMap<PartyId, usize>,
    pub(crate) trades: Vec<TradeDef>,
    pub(crate) trade_by_name: HashMap<String, TradeId>,
    pub(crate) trade_lines: Vec<usize>,
    pub(crate) programmes: Vec<String>,
    /// Names of the transfer requests made so far (approval mode).
    pub(crate) requests: std::collections::HashSet<String>,
    pub(crate) has_bond: bool,
    /// The bond's number of coupons and whether it is municipal.
    pub(crate) bond_info: Option<(u64, bool)>,
    /// Setup registrations, in declaration order.
    pub(crate) registrations: Vec<(PartyId, Vec<Registry>)>,
    /// Parties registered anywhere during setup (the default watch list).
    pub(crate) registered: Vec<PartyId>,
}

pub(crate) type PResult<T> = std::result::Result<T, ParseError>;

impl<'a> Resolver<'a> {
    pub(crate) fn new(src: &'a str, path: Option<&'a Path>) -> Self {
        Self {
            src,
            newlines: src.match_indices('\n').map(|(i, _)| i).collect(),
            path,
            start: None,
            parties: Vec::new(),
            by_name: HashMap::new(),
            declared_at: HashMap::new(),
            trades: Vec::new(),
            trade_by_name: HashMap::new(),
            trade_lines: Vec::new(),
            programmes: Vec::new(),
            requests: std::collections::HashSet::new(),
            has_bond: false,
            bond_info: None,
            registrations: Vec::new(),
            registered: Vec::new(),
        }
    }

    pub(crate) fn err(&self, span: Range<usize>, message: impl Into<String>) -> ParseError {
        ParseError::at(self.src, span, message)
    }

    pub(crate) fn line(&self, span: &Range<usize>) -> usize {
        self.newlines.partition_point(|&n| n < span.start) + 1
    }

    /// The model of `raw`: its parties, instrument and cash, the setup their tables describe, then
    /// the timeline's steps.
    pub(crate) fn resolve(mut self, raw: RawFile) -> PResult<Scenario> {
        let meta_span = raw.scenario.span();
        let meta = raw.scenario.into_inner();
        self.start = self.start_time(meta.start.as_ref())?;
        self.declare_parties(raw.parties)?;
        let cash = token_names(raw.cash, "DCJPY (Kessai Bank)", "DCJPY");
        let instrument = self.instrument(raw.instrument)?;

        // Setup: registrations in party order, then funding in party order.
        let mut steps = self.registration_steps();
        steps.extend(self.funding_steps(raw.funding)?);
        for (i, raw_step) in raw.step.into_iter().enumerate() {
            let step = self.step(i + 1, raw_step)?;
            steps.push(step);
        }

        let watch = self.watch_list(meta.watch)?;
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

    /// The scenario's `start`, if given: a date or a date-time after 1970, not a duration.
    fn start_time(&self, start: Option<&S<RawTime>>) -> PResult<Option<u64>> {
        let Some(start) = start else { return Ok(None) };
        match start.get_ref() {
            RawTime::At(dt) => unix_time(dt).map(Some).ok_or_else(|| {
                self.err(start.span(), "bad start: expected a date (2031-04-01) or a date-time after 1970")
            }),
            RawTime::Seconds(_) => Err(self.err(
                start.span(),
                "bad start: expected a date (2031-04-01) or a date-time (2031-04-01T09:00:00Z), not a duration",
            )),
        }
    }

    /// The `[instrument]` table (units named "Kessai Units" without one), with its bond if it
    /// declares one.
    fn instrument(&mut self, raw: Option<S<RawInstrument>>) -> PResult<Instrument> {
        let Some(i) = raw else {
            return Ok(Instrument {
                token: TokenNames { name: "Kessai Units".into(), symbol: "KSU".into() },
                bond: None,
            });
        };
        let i = i.into_inner();
        let bond = i.bond.map(|b| self.bond(b)).transpose()?;
        self.has_bond = bond.is_some();
        self.bond_info = bond.as_ref().map(|b| (b.coupon_dates.len() as u64, b.municipal));
        Ok(Instrument { token: TokenNames { name: i.name, symbol: i.symbol }, bond })
    }

    /// The setup registrations, in the order the parties were declared.
    fn registration_steps(&mut self) -> Vec<Step> {
        let mut steps = Vec::new();
        for (id, registries) in std::mem::take(&mut self.registrations) {
            for registry in registries {
                steps.push(setup(Action::Register { party: id, registry }));
            }
        }
        steps
    }

    /// The setup funding of the `[funding]` table, in party order: units, then cash.
    fn funding_steps(&self, raw: BTreeMap<S<String>, S<RawFunding>>) -> PResult<Vec<Step>> {
        let mut funding = Vec::new();
        for (name, f) in raw {
            let party = self.party(&name)?;
            funding.push((party, f.into_inner()));
        }
        funding.sort_by_key(|(p, _)| *p);
        let mut steps = Vec::new();
        for (party, f) in funding {
            if let Some(units) = f.units {
                steps.push(setup(Action::Issue { to: party, units: units.into_inner().0 }));
            }
            if let Some(cash) = f.cash {
                let reference = format!("FUND-{}", self.parties[party].name);
                steps.push(setup(Action::Deposit { to: Holder::Party(party), amount: cash.into_inner().0, reference }));
            }
        }
        Ok(steps)
    }

    /// The holders to watch: those named, or else every party registered during setup (and the
    /// bond contract, when there is one).
    fn watch_list(&self, names: Option<Vec<S<String>>>) -> PResult<Vec<Holder>> {
        match names {
            Some(names) => names.iter().map(|n| self.holder(n)).collect(),
            None => {
                let mut watch: Vec<Holder> = self.registered.iter().map(|p| Holder::Party(*p)).collect();
                if self.has_bond {
                    watch.push(Holder::Instrument);
                }
                Ok(watch)
            }
        }
    }
}

/// The names of a token table, or the defaults without one.
fn token_names(t: Option<S<RawToken>>, name: &str, symbol: &str) -> TokenNames {
    t.map(|t| {
        let t = t.into_inner();
        TokenNames { name: t.name, symbol: t.symbol }
    })
    .unwrap_or_else(|| TokenNames { name: name.into(), symbol: symbol.into() })
}

pub(crate) fn setup(action: Action) -> Step {
    Step { action, expect: Expect::default(), origin: Origin::Setup, note: None }
}

/// Default KYC validity: three years.
pub(crate) const KYC_DEFAULT: u64 = 3 * 365 * DAY;

impl Resolver<'_> {
    /// The parties: the suite roles, then the `[parties]` tables in file order.
    pub(crate) fn declare_parties(&mut self, raw: BTreeMap<S<String>, S<RawParty>>) -> PResult<()> {
        self.declare_suite();
        let mut entries: Vec<_> = raw.into_iter().collect();
        entries.sort_by_key(|(name, _)| name.span().start);
        for (name, party) in entries {
            self.declare_party(name, party)?;
        }
        Ok(())
    }

    /// The five suite roles, each a party under its own name until the file declares who plays it.
    fn declare_suite(&mut self) {
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
    }

    /// One `[parties.<name>]` table: the party, where it sits, and its setup registrations.
    fn declare_party(&mut self, name: S<String>, party: S<RawParty>) -> PResult<()> {
        let (name_span, name) = (name.span(), name.into_inner());
        let (party_span, party) = (party.span(), party.into_inner());
        if name == "instrument" {
            return Err(self.err(name_span, "`instrument` names the bond contract: choose another party name"));
        }
        let role = self.party_role(&name, &name_span, party.role.as_ref())?;
        let class = self.party_class(party.class.as_ref(), role)?;
        let country = self.party_country(party.country.as_ref())?;
        let kyc_valid_for = match &party.kyc_valid_for {
            None => KYC_DEFAULT,
            Some(t) => self.duration(t)?,
        };
        let registries = self.party_registries(party.registries.as_deref(), role)?;
        let address = party.address.as_ref().map(|a| self.party_address(&name, a)).transpose()?;
        let record = Party { name: name.clone(), role, class, country, kyc_valid_for, address };
        let id = self.seat(record, party.role.as_ref().map_or(name_span, Spanned::span))?;
        self.declared_at.insert(id, self.line(&party_span));
        self.by_name.insert(name, id);
        if !registries.is_empty() {
            self.registered.push(id);
        }
        self.registrations.push((id, registries));
        Ok(())
    }

    /// A party's role: the one `given`, else the suite role it is named after, else investor; a
    /// party named after a suite role must play that role.
    fn party_role(&self, name: &str, name_span: &Range<usize>, given: Option<&S<String>>) -> PResult<Role> {
        let named_role = Role::SUITE.into_iter().find(|r| r.name() == name);
        let role = match given {
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
                name_span.clone(),
                format!("`{name}` is the name of a suite role: a party called `{name}` must have role `{name}`"),
            ));
        }
        Ok(role)
    }

    /// A party's investor class: the one `given`, else retail for an investor and institutional
    /// for any other role.
    fn party_class(&self, given: Option<&S<String>>, role: Role) -> PResult<u8> {
        match given {
            None if role == Role::Investor => Ok(0),
            None => Ok(2),
            Some(c) => {
                kessai_bindings::INVESTOR_CLASSES.iter().position(|n| n == c.get_ref()).map(|v| v as u8).ok_or_else(
                    || {
                        self.err(
                            c.span(),
                            format!(
                                "unknown investor class `{}`: expected {}",
                                c.get_ref(),
                                one_of(kessai_bindings::INVESTOR_CLASSES)
                            ),
                        )
                    },
                )
            }
        }
    }

    /// A party's country: an ISO 3166-1 number or a known two-letter code; Japan (392) if not
    /// `given`.
    fn party_country(&self, given: Option<&S<RawCountry>>) -> PResult<u16> {
        let Some(c) = given else { return Ok(392) };
        match c.get_ref() {
            RawCountry::Number(n @ 1..=999) => Ok(*n),
            RawCountry::Number(n) => Err(self.err(
                c.span(),
                format!("bad country {n}: expected an ISO 3166-1 numeric code from 1 to 999 (392 = Japan)"),
            )),
            RawCountry::Code(code) => {
                COUNTRIES.iter().find(|(a, _)| a.eq_ignore_ascii_case(code)).map(|(_, n)| *n).ok_or_else(|| {
                    self.err(
                        c.span(),
                        format!(
                            "unknown country `{code}`: expected an ISO 3166-1 number (392) or one of {}",
                            one_of(COUNTRIES.iter().map(|(a, _)| *a))
                        ),
                    )
                })
            }
        }
    }

    /// The registries a party is registered in during setup: those `given`, else both for an
    /// investor and none for any other role.
    fn party_registries(&self, given: Option<&[S<String>]>, role: Role) -> PResult<Vec<Registry>> {
        match given {
            None if role == Role::Investor => Ok(vec![Registry::Securities, Registry::Bank]),
            None => Ok(Vec::new()),
            Some(list) => list
                .iter()
                .map(|r| match r.get_ref().as_str() {
                    "securities" => Ok(Registry::Securities),
                    "bank" => Ok(Registry::Bank),
                    other => {
                        Err(self.err(r.span(), format!("unknown registry `{other}`: expected `securities` or `bank`")))
                    }
                })
                .collect(),
        }
    }

    /// Seats a declared party: a suite role's party takes the role's place (refused, pointing at
    /// `role_span`, when another party already plays it), any other is added; returns its id.
    fn seat(&mut self, record: Party, role_span: Range<usize>) -> PResult<PartyId> {
        if !record.role.is_suite() {
            self.parties.push(record);
            return Ok(self.parties.len() - 1);
        }
        let id = Role::SUITE.iter().position(|r| *r == record.role).unwrap_or_default();
        if let Some(line) = self.declared_at.get(&id) {
            return Err(self.err(
                role_span,
                format!(
                    "the {} is already `{}` (line {line}): each suite role is played by one party",
                    record.role.name(),
                    self.parties[id].name
                ),
            ));
        }
        self.parties[id] = record;
        Ok(id)
    }

    /// A party's `address`, under [`address::parse`], played by no other party.
    pub(crate) fn party_address(&self, name: &str, text: &S<String>) -> PResult<alloy::primitives::Address> {
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

    pub(crate) fn party(&self, name: &S<String>) -> PResult<PartyId> {
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

    pub(crate) fn holder(&self, name: &S<String>) -> PResult<Holder> {
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

    pub(crate) fn parties_list(&self, names: &S<Vec<S<String>>>) -> PResult<Vec<PartyId>> {
        names.get_ref().iter().map(|n| self.party(n)).collect()
    }

    /// A duration (time offsets are written the same way; date-times are not durations).
    pub(crate) fn duration(&self, t: &S<RawTime>) -> PResult<u64> {
        match t.get_ref() {
            RawTime::Seconds(s) => Ok(*s),
            RawTime::At(_) => Err(self.err(t.span(), format!("bad duration: expected {TIME_EXPECTED} but not a date"))),
        }
    }

    /// A time, as seconds after the start.
    pub(crate) fn time(&self, t: &S<RawTime>) -> PResult<u64> {
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

    pub(crate) fn bond(&mut self, raw: S<RawBond>) -> PResult<Bond> {
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
    pub(crate) fn trade(&self, name: &S<String>) -> PResult<TradeId> {
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

    pub(crate) fn new_trade(&mut self, name: &S<String>, terms: TradeTerms) -> PResult<TradeId> {
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
    pub(crate) fn defined_trade(&mut self, raw: &RawStep, step_span: &Range<usize>) -> PResult<TradeId> {
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
}
