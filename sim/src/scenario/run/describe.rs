//! Step descriptions and offsets for reports.

use super::*;

/// A relative time: `start+2d 1s`.
pub fn offset(seconds: u64) -> String {
    format!("start+{}", crate::scenario::model::span(seconds))
}

/// What `action` does, in words.
pub fn describe(scenario: &Scenario, action: &Action) -> String {
    let p = |id: PartyId| scenario.parties[id].name.as_str();
    let role = |r: Role| p(scenario.suite_party(r));
    let t = |id: TradeId| scenario.trades[id].name.as_str();
    let registry = |r: &Registry| match r {
        Registry::Securities => "the securities registry",
        Registry::Bank => "the bank's registry",
        Registry::Both => "both registries",
    };
    let terms = |id: TradeId| {
        let tr = &scenario.trades[id].terms;
        let agent = tr.agent.map_or_else(|| "no agent".to_string(), |a| format!("agent {}", p(a)));
        format!(
            "{} sells {} units to {} for ¥{}, {agent}, deadline {}",
            p(tr.seller),
            tr.units,
            p(tr.buyer),
            tr.amount,
            offset(tr.deadline)
        )
    };
    let signed = |trade: TradeId, of: TradeId| {
        if trade == of { String::new() } else { format!(" with the signatures made for {}", t(of)) }
    };
    match action {
        Action::Register { party, registry: r } => format!("register {} in {}", p(*party), registry(r)),
        Action::Revoke { party, registry: r } => format!("revoke {} in {}", p(*party), registry(r)),
        Action::Issue { to, units } => format!("{} issues {units} units to {}", role(Role::Issuer), p(*to)),
        Action::Redeem { from, units } => format!("{} redeems {units} of {}'s units", role(Role::Issuer), p(*from)),
        Action::Transfer { from, to, units } => format!("{} transfers {units} units to {}", p(*from), p(*to)),
        Action::Deposit { to, amount, reference } => {
            format!(
                "{} issues ¥{amount} to {} against deposit {reference}",
                role(Role::Bank),
                scenario.holder_name(*to)
            )
        }
        Action::Withdraw { party, amount, account } => {
            format!("{} redeems ¥{amount} into account {account}", p(*party))
        }
        Action::CreateTrade { trade } => format!("create trade {}: {}", t(*trade), terms(*trade)),
        Action::CreateSignedTrade { trade, by, signatures_of } => format!(
            "{} submits both signatures for trade {}{}: {}",
            p(*by),
            t(*trade),
            signed(*trade, *signatures_of),
            terms(*trade)
        ),
        Action::Pay { trade } => format!("{} pays for trade {}", p(scenario.trades[*trade].terms.buyer), t(*trade)),
        Action::Approve { trade } => {
            let agent = scenario.trades[*trade].terms.agent.map_or("nobody", p);
            format!("{agent} approves trade {}", t(*trade))
        }
        Action::SettleWithPayment { trade, by, signatures_of } => format!(
            "{} settles trade {} with the buyer's signed payment{}",
            p(*by),
            t(*trade),
            signed(*trade, *signatures_of)
        ),
        Action::SettleSigned { trade, by, signatures_of } => format!(
            "{} settles trade {} from both signatures{}: {}",
            p(*by),
            t(*trade),
            signed(*trade, *signatures_of),
            terms(*trade)
        ),
        Action::Cancel { trade, by } => format!("{} cancels trade {}", p(*by), t(*trade)),
        Action::Release { trade, by } => format!("{} releases trade {}", p(*by), t(*trade)),
        Action::Batch { trades, netted, by } => format!(
            "{} settles a {} batch of {}",
            p(*by),
            if *netted { "netted" } else { "gross" },
            trades.iter().map(|id| t(*id)).collect::<Vec<_>>().join(", ")
        ),
        Action::Offer { underwriter, agent, deadline, allotments } => format!(
            "{} offers {} allotments (agent {}, issue date {}): {}",
            p(*underwriter),
            allotments.len(),
            p(*agent),
            offset(*deadline),
            allotments
                .iter()
                .map(|id| {
                    let tr = &scenario.trades[*id].terms;
                    format!("{} {} units for ¥{}", p(tr.buyer), tr.units, tr.amount)
                })
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Action::PaymentRound { payment, holders } => {
            let coupons = scenario.instrument.bond.as_ref().map_or(0, |b| b.coupon_dates.len() as u64);
            let what = if *payment > coupons { "redemption".to_string() } else { format!("coupon {payment}") };
            let agent = scenario.instrument.bond.as_ref().map_or("the paying agent", |b| p(b.paying_agent));
            format!("{agent} pays the {what} to {}", holders.iter().map(|h| p(*h)).collect::<Vec<_>>().join(", "))
        }
        Action::AddProgramme { programme, title, units_per_benefit, record, claim_until } => format!(
            "{} adds benefit programme {} \"{title}\": one per {units_per_benefit} units at record {record}, \
             claimable until {}",
            role(Role::Issuer),
            scenario.programmes[*programme],
            offset(*claim_until)
        ),
        Action::ClaimBenefit { party, programme } => {
            format!("{} claims programme {}", p(*party), scenario.programmes[*programme])
        }
        Action::Advance(Advance::By(s)) => format!("advance the clock by {}", offset(*s).trim_start_matches("start+")),
        Action::Advance(Advance::Until(s)) => format!("advance the clock to {}", offset(*s)),
    }
}
