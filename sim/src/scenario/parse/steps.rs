//! Resolution of each step (and its expectations) into the model.

use super::*;

impl Resolver<'_> {
    pub(super) fn step(&mut self, number: usize, raw: S<RawStep>) -> PResult<Step> {
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

    pub(super) fn required_trade(&self, raw: &RawStep) -> PResult<TradeId> {
        // `trade` is required for every kind that calls this; checked before.
        raw.trade.as_ref().map_or(Ok(0), |t| self.trade(t))
    }

    /// Who submits on a trade's behalf by default: its agent, or else its seller.
    pub(super) fn default_submitter(&self, trade: TradeId) -> PartyId {
        let terms = &self.trades[trade].terms;
        terms.agent.unwrap_or(terms.seller)
    }

    pub(super) fn bond_coupons(&self) -> Option<u64> {
        self.bond_info.as_ref().map(|(n, _)| *n)
    }

    pub(super) fn municipal(&self) -> bool {
        self.bond_info.as_ref().is_some_and(|(_, m)| *m)
    }

    pub(super) fn offer(&mut self, raw: &RawStep) -> PResult<Action> {
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

    pub(super) fn expect(&self, raw: RawExpect) -> PResult<Expect> {
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
