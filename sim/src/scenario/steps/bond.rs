//! Steps of a bond's life: the primary offering, coupons and redemption, and a municipal bond's
//! benefit programmes.

use super::{Action, Input, StepKind};
use crate::scenario::{
    model::Role,
    parse::{PResult, Resolver, text},
    run::{Words, offset},
    write::Fields,
};

pub(super) const OFFER: StepKind = StepKind {
    name: "offer",
    about: "a primary offering: the underwriter creates one DvP trade per allotment, settled by the agent",
    required: &["agent", "deadline", "allotments"],
    optional: &["underwriter"],
    resolve: |r, i| r.offer(i.raw),
    write: |f, a| {
        let Action::Offer { underwriter, agent, deadline, allotments } = a else { return Ok(false) };
        if allotments.is_empty() {
            return Err(f.refuse("an offer step has no allotments"));
        }
        let mut items = Vec::new();
        for t in allotments {
            let terms = &f.s.trades[*t].terms;
            if *t != *f.defined
                || terms.seller != *underwriter
                || terms.agent != Some(*agent)
                || terms.deadline != *deadline
            {
                return Err(f.refuse(format!(
                    "allotment `{}` is not a new trade from the underwriter with the offer's agent and deadline",
                    f.s.trades[*t].name
                )));
            }
            *f.defined += 1;
            items.push(format!(
                "{{ trade = {}, investor = {}, units = {}, amount = {} }}",
                f.quoted_trade(*t),
                f.quoted_party(terms.buyer),
                crate::scenario::write::amount(terms.units),
                crate::scenario::write::amount(terms.amount)
            ));
        }
        f.party("underwriter", *underwriter);
        f.party("agent", *agent);
        f.duration("deadline", *deadline);
        f.raw("allotments", format!("[{}]", items.join(", ")));
        Ok(true)
    },
    describe: |w, a| {
        let Action::Offer { underwriter, agent, deadline, allotments } = a else { return None };
        let list: Vec<String> = allotments
            .iter()
            .map(|id| {
                let tr = &w.scenario.trades[*id].terms;
                format!("{} {} units for ¥{}", w.party(tr.buyer), tr.units, tr.amount)
            })
            .collect();
        Some(format!(
            "{} offers {} allotments (agent {}, issue date {}): {}",
            w.party(*underwriter),
            allotments.len(),
            w.party(*agent),
            offset(*deadline),
            list.join(", ")
        ))
    },
};

/// A coupon (`coupon = n`) or the redemption (no `coupon`): a payment round of the bond.
fn payment_round(r: &mut Resolver<'_>, i: &Input<'_>) -> PResult<Action> {
    let Some(bond) = r.bond_coupons() else {
        return Err(r.err(i.raw.kind.span(), "a payment round needs a bond: add [instrument.bond]"));
    };
    let payment = match &i.raw.coupon {
        None => bond + 1,
        Some(c) if (1..=bond).contains(c.get_ref()) => *c.get_ref(),
        Some(c) => {
            return Err(
                r.err(c.span(), format!("no coupon {}: expected a coupon number from 1 to {bond}", c.get_ref()))
            );
        }
    };
    let holders = match &i.raw.holders {
        Some(list) => r.parties_list(list)?,
        None => r.registered.clone(),
    };
    Ok(Action::PaymentRound { payment, holders })
}

/// Writes a payment round as `coupon` or `redemption`, whichever its number is.
fn write_payment_round(f: &mut Fields<'_>, a: &Action) -> Result<bool, crate::scenario::ScenarioError> {
    let Action::PaymentRound { payment, holders } = a else { return Ok(false) };
    let coupons =
        f.s.instrument
            .bond
            .as_ref()
            .map(|b| b.coupon_dates.len() as u64)
            .ok_or_else(|| f.refuse("a payment round needs a bond"))?;
    if (1..=coupons).contains(payment) {
        f.kind = "coupon";
        f.raw("coupon", payment.to_string());
    } else if *payment == coupons + 1 {
        f.kind = "redemption";
    } else {
        return Err(f.refuse(format!("the bond has no payment {payment}")));
    }
    f.party_names("holders", holders);
    Ok(true)
}

fn describe_payment_round(w: &Words<'_>, a: &Action) -> Option<String> {
    let Action::PaymentRound { payment, holders } = a else { return None };
    let bond = w.scenario.instrument.bond.as_ref();
    let coupons = bond.map_or(0, |b| b.coupon_dates.len() as u64);
    let what = if *payment > coupons { "redemption".to_string() } else { format!("coupon {payment}") };
    let agent = bond.map_or("the paying agent", |b| w.party(b.paying_agent));
    Some(format!("{agent} pays the {what} to {}", holders.iter().map(|h| w.party(*h)).collect::<Vec<_>>().join(", ")))
}

pub(super) const COUPON: StepKind = StepKind {
    name: "coupon",
    about: "the paying agent pays coupon `coupon` to the holders of record (all registered parties by default)",
    required: &["coupon"],
    optional: &["holders"],
    resolve: payment_round,
    write: write_payment_round,
    describe: describe_payment_round,
};

pub(super) const REDEMPTION: StepKind = StepKind {
    name: "redemption",
    about: "the paying agent redeems the bond for the holders of record",
    required: &[],
    optional: &["holders"],
    resolve: payment_round,
    write: write_payment_round,
    describe: describe_payment_round,
};

pub(super) const ADD_PROGRAMME: StepKind = StepKind {
    name: "add_programme",
    about: "the issuer adds a benefit programme to a municipal bond (one benefit per so many units at a record)",
    required: &["programme", "title", "units_per_benefit", "record", "claim_until"],
    optional: &[],
    resolve: |r, i| {
        if !r.municipal() {
            return Err(r.err(
                i.raw.kind.span(),
                "benefit programmes need a municipal bond: set `municipal = true` in [instrument.bond]",
            ));
        }
        let name = text(&i.raw.programme).unwrap_or_default();
        if r.programmes.contains(&name) {
            return Err(r.err(
                i.raw.programme.as_ref().map_or(i.span.clone(), toml::Spanned::span),
                format!("programme `{name}` was already added"),
            ));
        }
        r.programmes.push(name);
        Ok(Action::AddProgramme {
            programme: r.programmes.len() - 1,
            title: text(&i.raw.title).unwrap_or_default(),
            units_per_benefit: i.raw.units_per_benefit.as_ref().map_or(0, |u| *u.get_ref()).into(),
            record: i.raw.record.as_ref().map_or(0, |r| *r.get_ref()),
            claim_until: i.raw.claim_until.as_ref().map(|t| r.time(t)).transpose()?.unwrap_or_default(),
        })
    },
    write: |f, a| {
        let Action::AddProgramme { programme, title, units_per_benefit, record, claim_until } = a else {
            return Ok(false);
        };
        if *programme != *f.programmes {
            return Err(f.refuse("benefit programmes must be listed in the order they are added"));
        }
        *f.programmes += 1;
        let units =
            u64::try_from(*units_per_benefit).map_err(|_| f.refuse("a programme's units per benefit exceed 2^64"))?;
        f.text("programme", &f.s.programmes[*programme]);
        f.text("title", title);
        f.raw("units_per_benefit", crate::scenario::write::integer(u128::from(units)));
        f.raw("record", record.to_string());
        f.duration("claim_until", *claim_until);
        Ok(true)
    },
    describe: |w, a| {
        let Action::AddProgramme { programme, title, units_per_benefit, record, claim_until } = a else {
            return None;
        };
        Some(format!(
            "{} adds benefit programme {} \"{title}\": one per {units_per_benefit} units at record {record}, \
             claimable until {}",
            w.role(Role::Issuer),
            w.scenario.programmes[*programme],
            offset(*claim_until)
        ))
    },
};

pub(super) const CLAIM_BENEFIT: StepKind = StepKind {
    name: "claim_benefit",
    about: "a holder claims its benefits from a programme",
    required: &["party", "programme"],
    optional: &[],
    resolve: |r, i| {
        let party = r.required_party(&i.raw.party)?;
        let name = i.raw.programme.as_ref().map(|p| p.get_ref().as_str()).unwrap_or_default();
        let programme = r.programmes.iter().position(|n| n == name).ok_or_else(|| {
            r.err(
                i.raw.programme.as_ref().map_or(i.span.clone(), toml::Spanned::span),
                format!(
                    "unknown programme `{name}`: expected one added by an earlier add_programme step ({})",
                    crate::scenario::parse::one_of(r.programmes.iter().map(String::as_str))
                ),
            )
        })?;
        Ok(Action::ClaimBenefit { party, programme })
    },
    write: |f, a| {
        let Action::ClaimBenefit { party, programme } = a else { return Ok(false) };
        if *programme >= *f.programmes {
            return Err(f.refuse("a benefit is claimed from a programme not added yet"));
        }
        f.party("party", *party);
        f.text("programme", &f.s.programmes[*programme]);
        Ok(true)
    },
    describe: |w, a| {
        let Action::ClaimBenefit { party, programme } = a else { return None };
        Some(format!("{} claims programme {}", w.party(*party), w.scenario.programmes[*programme]))
    },
};
