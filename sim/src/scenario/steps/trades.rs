//! Steps of the delivery-versus-payment flow: defining trades, paying, approving, settling,
//! cancelling, releasing and batches.

use super::{Action, Input, StepKind};
use crate::scenario::{model::TradeId, parse::PResult, parse::Resolver, run::Words, write::Fields};

/// Fields a step that defines a trade takes (its terms, when the trade is new).
const DEFINES: &[&str] = &["seller", "buyer", "agent", "units", "amount", "deadline"];
/// … and a step that also submits signatures.
const DEFINES_SIGNED: &[&str] = &["seller", "buyer", "agent", "units", "amount", "deadline", "by", "signatures_of"];

/// The trade a defining step names, who submits it, and whose signatures it carries.
fn signed(r: &mut Resolver<'_>, i: &Input<'_>) -> PResult<(TradeId, usize, TradeId)> {
    let trade = r.defined_trade(i.raw, &i.span)?;
    let by = r.submitter(&i.raw.by, trade)?;
    let signatures_of = r.signatures_of(&i.raw.signatures_of, trade)?;
    Ok((trade, by, signatures_of))
}

/// Writes a signed defining step: the trade (with its terms if new), submitter and signatures.
fn write_signed(
    f: &mut Fields<'_>,
    trade: TradeId,
    by: usize,
    signatures_of: TradeId,
) -> Result<bool, crate::scenario::ScenarioError> {
    f.define(trade)?;
    f.known(signatures_of)?;
    f.party("by", by);
    f.trade_name("signatures_of", signatures_of);
    Ok(true)
}

pub(super) const CREATE_TRADE: StepKind = StepKind {
    name: "create_trade",
    about: "the seller creates a trade (new terms, or a replay of a named one); its units are held",
    required: &["trade"],
    optional: DEFINES,
    resolve: |r, i| Ok(Action::CreateTrade { trade: r.defined_trade(i.raw, &i.span)? }),
    write: |f, a| {
        let Action::CreateTrade { trade } = a else { return Ok(false) };
        f.define(*trade)?;
        Ok(true)
    },
    describe: |w, a| {
        let Action::CreateTrade { trade } = a else { return None };
        Some(format!("create trade {}: {}", w.trade(*trade), w.terms(*trade)))
    },
};

pub(super) const CREATE_SIGNED_TRADE: StepKind = StepKind {
    name: "create_signed_trade",
    about: "someone submits both parties' signatures: the trade is created with both legs locked",
    required: &["trade"],
    optional: DEFINES_SIGNED,
    resolve: |r, i| {
        let (trade, by, signatures_of) = signed(r, i)?;
        Ok(Action::CreateSignedTrade { trade, by, signatures_of })
    },
    write: |f, a| {
        let Action::CreateSignedTrade { trade, by, signatures_of } = a else { return Ok(false) };
        write_signed(f, *trade, *by, *signatures_of)
    },
    describe: |w, a| {
        let Action::CreateSignedTrade { trade, by, signatures_of } = a else { return None };
        Some(format!(
            "{} submits both signatures for trade {}{}: {}",
            w.party(*by),
            w.trade(*trade),
            w.signed(*trade, *signatures_of),
            w.terms(*trade)
        ))
    },
};

pub(super) const SETTLE_SIGNED: StepKind = StepKind {
    name: "settle_signed",
    about: "someone settles a trade in one transaction from both parties' signatures",
    required: &["trade"],
    optional: DEFINES_SIGNED,
    resolve: |r, i| {
        let (trade, by, signatures_of) = signed(r, i)?;
        Ok(Action::SettleSigned { trade, by, signatures_of })
    },
    write: |f, a| {
        let Action::SettleSigned { trade, by, signatures_of } = a else { return Ok(false) };
        write_signed(f, *trade, *by, *signatures_of)
    },
    describe: |w, a| {
        let Action::SettleSigned { trade, by, signatures_of } = a else { return None };
        Some(format!(
            "{} settles trade {} from both signatures{}: {}",
            w.party(*by),
            w.trade(*trade),
            w.signed(*trade, *signatures_of),
            w.terms(*trade)
        ))
    },
};

pub(super) const PAY: StepKind = StepKind {
    name: "pay",
    about: "the buyer pays: its cash is held, or the trade settles if no approval is outstanding",
    required: &["trade"],
    optional: &[],
    resolve: |r, i| Ok(Action::Pay { trade: r.required_trade(i.raw)? }),
    write: |f, a| {
        let Action::Pay { trade } = a else { return Ok(false) };
        f.trade("trade", *trade)?;
        Ok(true)
    },
    describe: |w, a| {
        let Action::Pay { trade } = a else { return None };
        Some(format!("{} pays for trade {}", w.party(w.scenario.trades[*trade].terms.buyer), w.trade(*trade)))
    },
};

pub(super) const APPROVE: StepKind = StepKind {
    name: "approve",
    about: "the trade's agent approves it; it settles if paid",
    required: &["trade"],
    optional: &[],
    resolve: |r, i| {
        let trade = r.required_trade(i.raw)?;
        if r.trades[trade].terms.agent.is_none() {
            return Err(r.err(
                i.raw.trade.as_ref().map_or(i.span.clone(), toml::Spanned::span),
                format!(
                    "trade `{}` has no agent, so nobody can approve it: it settles on payment",
                    r.trades[trade].name
                ),
            ));
        }
        Ok(Action::Approve { trade })
    },
    write: |f, a| {
        let Action::Approve { trade } = a else { return Ok(false) };
        f.known(*trade)?;
        if f.s.trades[*trade].terms.agent.is_none() {
            return Err(f.refuse(format!("trade `{}` has no agent to approve it", f.s.trades[*trade].name)));
        }
        f.trade_name("trade", *trade);
        Ok(true)
    },
    describe: |w, a| {
        let Action::Approve { trade } = a else { return None };
        let agent = w.scenario.trades[*trade].terms.agent.map_or("nobody", |p| w.party(p));
        Some(format!("{agent} approves trade {}", w.trade(*trade)))
    },
};

pub(super) const SETTLE_WITH_PAYMENT: StepKind = StepKind {
    name: "settle_with_payment",
    about: "the agent settles a created trade from the buyer's signed payment, both legs at once",
    required: &["trade"],
    optional: &["by", "signatures_of"],
    resolve: |r, i| {
        let trade = r.required_trade(i.raw)?;
        let by = r.submitter(&i.raw.by, trade)?;
        let signatures_of = r.signatures_of(&i.raw.signatures_of, trade)?;
        Ok(Action::SettleWithPayment { trade, by, signatures_of })
    },
    write: |f, a| {
        let Action::SettleWithPayment { trade, by, signatures_of } = a else { return Ok(false) };
        f.known(*trade)?;
        f.known(*signatures_of)?;
        f.trade_name("trade", *trade);
        f.party("by", *by);
        f.trade_name("signatures_of", *signatures_of);
        Ok(true)
    },
    describe: |w, a| {
        let Action::SettleWithPayment { trade, by, signatures_of } = a else { return None };
        Some(format!(
            "{} settles trade {} with the buyer's signed payment{}",
            w.party(*by),
            w.trade(*trade),
            w.signed(*trade, *signatures_of)
        ))
    },
};

pub(super) const CANCEL: StepKind = StepKind {
    name: "cancel",
    about: "a party to the trade (the seller by default) cancels it; its holds are released",
    required: &["trade"],
    optional: &["by"],
    resolve: |r, i| {
        let trade = r.required_trade(i.raw)?;
        let by = match &i.raw.by {
            Some(by) => r.party(by)?,
            None => r.trades[trade].terms.seller,
        };
        Ok(Action::Cancel { trade, by })
    },
    write: |f, a| {
        let Action::Cancel { trade, by } = a else { return Ok(false) };
        f.trade("trade", *trade)?;
        f.party("by", *by);
        Ok(true)
    },
    describe: |w, a| {
        let Action::Cancel { trade, by } = a else { return None };
        Some(format!("{} cancels trade {}", w.party(*by), w.trade(*trade)))
    },
};

pub(super) const RELEASE: StepKind = StepKind {
    name: "release",
    about: "anyone releases an unsettled trade after its deadline; its holds are released",
    required: &["trade"],
    optional: &["by"],
    resolve: |r, i| {
        let trade = r.required_trade(i.raw)?;
        Ok(Action::Release { trade, by: r.submitter(&i.raw.by, trade)? })
    },
    write: |f, a| {
        let Action::Release { trade, by } = a else { return Ok(false) };
        f.trade("trade", *trade)?;
        f.party("by", *by);
        Ok(true)
    },
    describe: |w, a| {
        let Action::Release { trade, by } = a else { return None };
        Some(format!("{} releases trade {}", w.party(*by), w.trade(*trade)))
    },
};

pub(super) const BATCH: StepKind = StepKind {
    name: "batch",
    about: "the agent approves and settles paid trades at once, gross or netted",
    required: &["trades"],
    optional: &["netted", "by"],
    resolve: |r, i| {
        let list = i.raw.trades.as_ref().map(|t| t.get_ref().as_slice()).unwrap_or_default();
        if list.is_empty() {
            return Err(r.err(
                i.raw.trades.as_ref().map_or(i.span.clone(), toml::Spanned::span),
                "an empty batch: expected the names of one or more paid trades",
            ));
        }
        let trades = list.iter().map(|t| r.trade(t)).collect::<PResult<Vec<_>>>()?;
        let by = r.submitter(&i.raw.by, trades[0])?;
        Ok(Action::Batch { trades, netted: i.raw.netted.as_ref().is_some_and(|n| *n.get_ref()), by })
    },
    write: |f, a| {
        let Action::Batch { trades, netted, by } = a else { return Ok(false) };
        if trades.is_empty() {
            return Err(f.refuse("a batch step has no trades"));
        }
        for t in trades {
            f.known(*t)?;
        }
        f.trade_names("trades", trades);
        f.raw("netted", netted.to_string());
        f.party("by", *by);
        Ok(true)
    },
    describe: |w: &Words<'_>, a| {
        let Action::Batch { trades, netted, by } = a else { return None };
        Some(format!(
            "{} settles a {} batch of {}",
            w.party(*by),
            if *netted { "netted" } else { "gross" },
            trades.iter().map(|id| w.trade(*id)).collect::<Vec<_>>().join(", ")
        ))
    },
};
