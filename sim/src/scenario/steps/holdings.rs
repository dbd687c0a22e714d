//! Steps that change who may hold what, and how much: registrations, issuance, transfers, cash.

use super::{Action, Input, StepKind};
use crate::scenario::{
    model::{Holder, Registry, Role},
    parse::{amount, text},
};

fn registry_name(r: Registry) -> &'static str {
    match r {
        Registry::Securities => "securities",
        Registry::Bank => "bank",
        Registry::Both => "both",
    }
}

pub(super) const REGISTER: StepKind = StepKind {
    name: "register",
    about: "the registrar (or the bank) registers a party in the securities registry, the bank's, or both",
    required: &["party"],
    optional: &["registry"],
    resolve: |r, i: &Input<'_>| {
        Ok(Action::Register { party: r.required_party(&i.raw.party)?, registry: r.registry(&i.raw.registry)? })
    },
    write: |f, a| {
        let Action::Register { party, registry } = a else { return Ok(false) };
        f.party("party", *party);
        f.text("registry", registry_name(*registry));
        Ok(true)
    },
    describe: |w, a| {
        let Action::Register { party, registry } = a else { return None };
        Some(format!("register {} in {}", w.party(*party), w.registry(*registry)))
    },
};

pub(super) const REVOKE: StepKind = StepKind {
    name: "revoke",
    about: "the registrar (or the bank) revokes a party's registration",
    required: &["party"],
    optional: &["registry"],
    resolve: |r, i| {
        Ok(Action::Revoke { party: r.required_party(&i.raw.party)?, registry: r.registry(&i.raw.registry)? })
    },
    write: |f, a| {
        let Action::Revoke { party, registry } = a else { return Ok(false) };
        f.party("party", *party);
        f.text("registry", registry_name(*registry));
        Ok(true)
    },
    describe: |w, a| {
        let Action::Revoke { party, registry } = a else { return None };
        Some(format!("revoke {} in {}", w.party(*party), w.registry(*registry)))
    },
};

pub(super) const ISSUE: StepKind = StepKind {
    name: "issue",
    about: "the issuer issues security units to a party",
    required: &["to", "units"],
    optional: &[],
    resolve: |r, i| Ok(Action::Issue { to: r.required_party(&i.raw.to)?, units: amount(&i.raw.units) }),
    write: |f, a| {
        let Action::Issue { to, units } = a else { return Ok(false) };
        f.party("to", *to);
        f.amount("units", *units);
        Ok(true)
    },
    describe: |w, a| {
        let Action::Issue { to, units } = a else { return None };
        Some(format!("{} issues {units} units to {}", w.role(Role::Issuer), w.party(*to)))
    },
};

pub(super) const REDEEM: StepKind = StepKind {
    name: "redeem",
    about: "the issuer redeems (cancels) a holder's security units",
    required: &["from", "units"],
    optional: &[],
    resolve: |r, i| Ok(Action::Redeem { from: r.required_party(&i.raw.from)?, units: amount(&i.raw.units) }),
    write: |f, a| {
        let Action::Redeem { from, units } = a else { return Ok(false) };
        f.party("from", *from);
        f.amount("units", *units);
        Ok(true)
    },
    describe: |w, a| {
        let Action::Redeem { from, units } = a else { return None };
        Some(format!("{} redeems {units} of {}'s units", w.role(Role::Issuer), w.party(*from)))
    },
};

pub(super) const TRANSFER: StepKind = StepKind {
    name: "transfer",
    about: "a holder transfers security units to another party (the token's transfer rules apply)",
    required: &["from", "to", "units"],
    optional: &[],
    resolve: |r, i| {
        Ok(Action::Transfer {
            from: r.required_party(&i.raw.from)?,
            to: r.required_party(&i.raw.to)?,
            units: amount(&i.raw.units),
        })
    },
    write: |f, a| {
        let Action::Transfer { from, to, units } = a else { return Ok(false) };
        f.party("from", *from);
        f.party("to", *to);
        f.amount("units", *units);
        Ok(true)
    },
    describe: |w, a| {
        let Action::Transfer { from, to, units } = a else { return None };
        Some(format!("{} transfers {units} units to {}", w.party(*from), w.party(*to)))
    },
};

pub(super) const DEPOSIT: StepKind = StepKind {
    name: "deposit",
    about: "the bank issues deposit tokens to a party (or the bond) against a deposit ledger entry",
    required: &["to", "amount"],
    optional: &["reference"],
    resolve: |r, i| {
        let to = i.raw.to.as_ref().map_or(Ok(Holder::Party(0)), |t| r.holder(t))?;
        let reference = text(&i.raw.reference).unwrap_or_else(|| format!("DEP-STEP-{}", i.number));
        Ok(Action::Deposit { to, amount: amount(&i.raw.amount), reference })
    },
    write: |f, a| {
        let Action::Deposit { to, amount, reference } = a else { return Ok(false) };
        f.holder("to", *to);
        f.amount("amount", *amount);
        f.text("reference", reference);
        Ok(true)
    },
    describe: |w, a| {
        let Action::Deposit { to, amount, reference } = a else { return None };
        Some(format!("{} issues ¥{amount} to {} against deposit {reference}", w.role(Role::Bank), w.holder(*to)))
    },
};

pub(super) const WITHDRAW: StepKind = StepKind {
    name: "withdraw",
    about: "a holder redeems deposit tokens into its bank account",
    required: &["party", "amount"],
    optional: &["account"],
    resolve: |r, i| {
        let party = r.required_party(&i.raw.party)?;
        let account = text(&i.raw.account).unwrap_or_else(|| format!("ACC-{}", r.parties[party].name));
        Ok(Action::Withdraw { party, amount: amount(&i.raw.amount), account })
    },
    write: |f, a| {
        let Action::Withdraw { party, amount, account } = a else { return Ok(false) };
        f.party("party", *party);
        f.amount("amount", *amount);
        f.text("account", account);
        Ok(true)
    },
    describe: |w, a| {
        let Action::Withdraw { party, amount, account } = a else { return None };
        Some(format!("{} redeems ¥{amount} into account {account}", w.party(*party)))
    },
};

pub(super) const TRANSFER_DEPOSIT: StepKind = StepKind {
    name: "transfer_deposit",
    about: "a holder pays deposit tokens to another party (both must be in the bank's registry)",
    required: &["from", "to", "amount"],
    optional: &[],
    resolve: |r, i| {
        Ok(Action::TransferDeposit {
            from: r.required_party(&i.raw.from)?,
            to: r.required_party(&i.raw.to)?,
            amount: amount(&i.raw.amount),
        })
    },
    write: |f, a| {
        let Action::TransferDeposit { from, to, amount } = a else { return Ok(false) };
        f.party("from", *from);
        f.party("to", *to);
        f.amount("amount", *amount);
        Ok(true)
    },
    describe: |w, a| {
        let Action::TransferDeposit { from, to, amount } = a else { return None };
        Some(format!("{} pays ¥{amount} in deposit tokens to {}", w.party(*from), w.party(*to)))
    },
};
