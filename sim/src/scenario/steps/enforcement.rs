//! The enforcement authority's and the operator's powers over the security token: freezes, forced
//! transfers, wallet recovery, pause, and the transfer agent's decisions in approval mode.

use super::{Action, Input, StepKind};
use crate::scenario::{
    model::Role,
    parse::{PResult, Resolver, amount, text},
    run::Words,
};

/// "all of alice's units" or "300 of alice's units".
fn units_of(w: &Words<'_>, party: usize, units: Option<alloy::primitives::U256>) -> String {
    match units {
        None => format!("{}'s account", w.party(party)),
        Some(u) => format!("{u} of {}'s units", w.party(party)),
    }
}

pub(super) const FREEZE: StepKind = StepKind {
    name: "freeze",
    about: "the authority freezes a party's whole account, or `units` of its free units",
    required: &["party"],
    optional: &["units"],
    resolve: |r, i| {
        let units = i.raw.units.as_ref().map(|u| u.get_ref().0);
        Ok(Action::Freeze { party: r.required_party(&i.raw.party)?, units })
    },
    write: |f, a| {
        let Action::Freeze { party, units } = a else { return Ok(false) };
        f.party("party", *party);
        if let Some(units) = units {
            f.amount("units", *units);
        }
        Ok(true)
    },
    describe: |w, a| {
        let Action::Freeze { party, units } = a else { return None };
        Some(format!("{} freezes {}", w.role(Role::Authority), units_of(w, *party, *units)))
    },
};

pub(super) const UNFREEZE: StepKind = StepKind {
    name: "unfreeze",
    about: "the authority lifts a party's account freeze, or releases `units` of its frozen units",
    required: &["party"],
    optional: &["units"],
    resolve: |r, i| {
        let units = i.raw.units.as_ref().map(|u| u.get_ref().0);
        Ok(Action::Unfreeze { party: r.required_party(&i.raw.party)?, units })
    },
    write: |f, a| {
        let Action::Unfreeze { party, units } = a else { return Ok(false) };
        f.party("party", *party);
        if let Some(units) = units {
            f.amount("units", *units);
        }
        Ok(true)
    },
    describe: |w, a| {
        let Action::Unfreeze { party, units } = a else { return None };
        Some(format!("{} unfreezes {}", w.role(Role::Authority), units_of(w, *party, *units)))
    },
};

pub(super) const FORCED_TRANSFER: StepKind = StepKind {
    name: "forced_transfer",
    about: "the authority moves units by order (free, then frozen; `court_order` skips the receiver's checks)",
    required: &["from", "to", "units", "reason", "document"],
    optional: &["court_order"],
    resolve: |r, i| {
        Ok(Action::ForcedTransfer {
            from: r.required_party(&i.raw.from)?,
            to: r.required_party(&i.raw.to)?,
            units: amount(&i.raw.units),
            reason: text(&i.raw.reason).unwrap_or_default(),
            document: text(&i.raw.document).unwrap_or_default(),
            court_order: i.raw.court_order.as_ref().is_some_and(|c| *c.get_ref()),
        })
    },
    write: |f, a| {
        let Action::ForcedTransfer { from, to, units, reason, document, court_order } = a else { return Ok(false) };
        f.party("from", *from);
        f.party("to", *to);
        f.amount("units", *units);
        f.text("reason", reason);
        f.text("document", document);
        f.raw("court_order", court_order.to_string());
        Ok(true)
    },
    describe: |w, a| {
        let Action::ForcedTransfer { from, to, units, reason, document, court_order } = a else { return None };
        let order = if *court_order { "court order" } else { "order" };
        Some(format!(
            "{} moves {units} units from {} to {} by {order} {document} ({reason})",
            w.role(Role::Authority),
            w.party(*from),
            w.party(*to)
        ))
    },
};

pub(super) const RECOVER_WALLET: StepKind = StepKind {
    name: "recover_wallet",
    about: "the authority moves everything a lost wallet (`from`) holds to a fresh registered one (`to`)",
    required: &["from", "to", "document"],
    optional: &[],
    resolve: |r, i| {
        Ok(Action::RecoverWallet {
            from: r.required_party(&i.raw.from)?,
            to: r.required_party(&i.raw.to)?,
            document: text(&i.raw.document).unwrap_or_default(),
        })
    },
    write: |f, a| {
        let Action::RecoverWallet { from, to, document } = a else { return Ok(false) };
        f.party("from", *from);
        f.party("to", *to);
        f.text("document", document);
        Ok(true)
    },
    describe: |w, a| {
        let Action::RecoverWallet { from, to, document } = a else { return None };
        Some(format!(
            "{} recovers {}'s wallet to {} ({document})",
            w.role(Role::Authority),
            w.party(*from),
            w.party(*to)
        ))
    },
};

pub(super) const PAUSE: StepKind = StepKind {
    name: "pause",
    about: "the operator pauses the security token: nothing moves until it resumes",
    required: &[],
    optional: &[],
    resolve: |_, _| Ok(Action::Pause),
    write: |_, a| Ok(matches!(a, Action::Pause)),
    describe: |w, a| {
        matches!(a, Action::Pause).then(|| format!("{} pauses the security token", w.role(Role::Operator)))
    },
};

pub(super) const RESUME: StepKind = StepKind {
    name: "resume",
    about: "the operator resumes a paused security token",
    required: &[],
    optional: &[],
    resolve: |_, _| Ok(Action::Resume),
    write: |_, a| Ok(matches!(a, Action::Resume)),
    describe: |w, a| {
        matches!(a, Action::Resume).then(|| format!("{} resumes the security token", w.role(Role::Operator)))
    },
};

/// A request named by an earlier `request_transfer` step.
fn named_request(r: &Resolver<'_>, i: &Input<'_>) -> PResult<String> {
    let name = text(&i.raw.request).unwrap_or_default();
    if r.requests.contains(&name) {
        return Ok(name);
    }
    Err(r.err(
        i.raw.request.as_ref().map_or(i.span.clone(), toml::Spanned::span),
        format!("unknown request `{name}`: expected one named by an earlier request_transfer step"),
    ))
}

pub(super) const REQUEST_TRANSFER: StepKind = StepKind {
    name: "request_transfer",
    about: "a holder asks the approvals desk to transfer `units` to `to`; they are held until the agent decides",
    required: &["from", "to", "units", "request"],
    optional: &[],
    resolve: |r, i| {
        let request = text(&i.raw.request).unwrap_or_default();
        if !r.requests.insert(request.clone()) {
            return Err(r.err(
                i.raw.request.as_ref().map_or(i.span.clone(), toml::Spanned::span),
                format!("request `{request}` is already named by an earlier step: name each request once"),
            ));
        }
        Ok(Action::RequestTransfer {
            from: r.required_party(&i.raw.from)?,
            to: r.required_party(&i.raw.to)?,
            units: amount(&i.raw.units),
            request,
        })
    },
    write: |f, a| {
        let Action::RequestTransfer { from, to, units, request } = a else { return Ok(false) };
        f.party("from", *from);
        f.party("to", *to);
        f.amount("units", *units);
        f.text("request", request);
        Ok(true)
    },
    describe: |w, a| {
        let Action::RequestTransfer { from, to, units, request } = a else { return None };
        Some(format!("{} requests a transfer of {units} units to {} ({request})", w.party(*from), w.party(*to)))
    },
};

pub(super) const APPROVE_TRANSFER: StepKind = StepKind {
    name: "approve_transfer",
    about: "the transfer agent approves a pending request: the held units move",
    required: &["request"],
    optional: &[],
    resolve: |r, i| Ok(Action::ApproveTransfer { request: named_request(r, i)? }),
    write: |f, a| {
        let Action::ApproveTransfer { request } = a else { return Ok(false) };
        f.text("request", request);
        Ok(true)
    },
    describe: |w, a| {
        let Action::ApproveTransfer { request } = a else { return None };
        Some(format!("{} approves transfer request {request}", w.role(Role::Registrar)))
    },
};

pub(super) const REJECT_TRANSFER: StepKind = StepKind {
    name: "reject_transfer",
    about: "the transfer agent rejects a pending request with a `reason`: the held units are released",
    required: &["request", "reason"],
    optional: &[],
    resolve: |r, i| {
        Ok(Action::RejectTransfer { request: named_request(r, i)?, reason: text(&i.raw.reason).unwrap_or_default() })
    },
    write: |f, a| {
        let Action::RejectTransfer { request, reason } = a else { return Ok(false) };
        f.text("request", request);
        f.text("reason", reason);
        Ok(true)
    },
    describe: |w, a| {
        let Action::RejectTransfer { request, reason } = a else { return None };
        Some(format!("{} rejects transfer request {request} ({reason})", w.role(Role::Registrar)))
    },
};
