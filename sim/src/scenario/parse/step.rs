//! Resolution of each step (and its expectations) into the model.

use super::*;

impl Resolver<'_> {
    pub(crate) fn step(&mut self, number: usize, raw: S<RawStep>) -> PResult<Step> {
        let step_span = raw.span();
        let raw = raw.into_inner();
        let kind_name = raw.kind.get_ref().as_str();
        let Some(kind) = steps::named(kind_name) else {
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
                    "`{field}` does not apply to `{}` steps: expected {} (and `note`, `expect`)",
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
                        "missing field `{field}`: `{}` steps need {}",
                        kind.name,
                        all_of(kind.required.iter().copied())
                    ),
                ));
            }
        }

        let action = (kind.resolve)(self, &Input { raw: &raw, span: step_span.clone(), number })?;
        let expect = match raw.expect {
            None => Expect::default(),
            Some(e) => self.expect(e.into_inner())?,
        };
        let origin = Origin::Timeline { number, line: self.line(&step_span) };
        Ok(Step { action, expect, origin, note: text(&raw.note) })
    }

    /// A party a kind requires (its presence was checked before the kind's entry runs).
    pub(crate) fn required_party(&self, v: &Option<S<String>>) -> PResult<PartyId> {
        v.as_ref().map_or(Ok(0), |v| self.party(v))
    }

    /// `registry = "securities" | "bank" | "both"` (both when not given).
    pub(crate) fn registry(&self, v: &Option<S<String>>) -> PResult<Registry> {
        match v {
            None => Ok(Registry::Both),
            Some(r) => {
                match r.get_ref().as_str() {
                    "securities" => Ok(Registry::Securities),
                    "bank" => Ok(Registry::Bank),
                    "both" => Ok(Registry::Both),
                    other => Err(self
                        .err(r.span(), format!("unknown registry `{other}`: expected `securities`, `bank` or `both`"))),
                }
            }
        }
    }

    /// `by`, or the trade's default submitter.
    pub(crate) fn submitter(&self, by: &Option<S<String>>, trade: TradeId) -> PResult<PartyId> {
        match by {
            Some(by) => self.party(by),
            None => Ok(self.default_submitter(trade)),
        }
    }

    /// `signatures_of`, or the trade itself.
    pub(crate) fn signatures_of(&self, of: &Option<S<String>>, trade: TradeId) -> PResult<TradeId> {
        of.as_ref().map_or(Ok(trade), |t| self.trade(t))
    }

    pub(crate) fn required_trade(&self, raw: &RawStep) -> PResult<TradeId> {
        // `trade` is required for every kind that calls this; checked before.
        raw.trade.as_ref().map_or(Ok(0), |t| self.trade(t))
    }

    /// Who submits on a trade's behalf by default: its agent, or else its seller.
    pub(crate) fn default_submitter(&self, trade: TradeId) -> PartyId {
        let terms = &self.trades[trade].terms;
        terms.agent.unwrap_or(terms.seller)
    }

    pub(crate) fn bond_coupons(&self) -> Option<u64> {
        self.bond_info.as_ref().map(|(n, _)| *n)
    }

    pub(crate) fn municipal(&self) -> bool {
        self.bond_info.as_ref().is_some_and(|(_, m)| *m)
    }

    pub(crate) fn offer(&mut self, raw: &RawStep) -> PResult<Action> {
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

    pub(crate) fn expect(&self, raw: RawExpect) -> PResult<Expect> {
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
