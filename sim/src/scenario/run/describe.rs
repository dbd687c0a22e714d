//! Step descriptions and offsets for reports.

use super::*;

/// A relative time: `start+2d 1s`.
pub fn offset(seconds: u64) -> String {
    format!("start+{}", crate::scenario::model::span(seconds))
}

/// What `action` does, in words.
pub fn describe(scenario: &Scenario, action: &Action) -> String {
    crate::scenario::steps::describe(&Words { scenario }, action)
}

/// The names and phrases step descriptions are made of.
pub(crate) struct Words<'s> {
    pub(crate) scenario: &'s Scenario,
}

impl<'s> Words<'s> {
    pub(crate) fn party(&self, id: PartyId) -> &'s str {
        self.scenario.parties[id].name.as_str()
    }

    /// The party playing a suite role.
    pub(crate) fn role(&self, role: Role) -> &'s str {
        self.party(self.scenario.suite_party(role))
    }

    pub(crate) fn holder(&self, holder: Holder) -> &'s str {
        self.scenario.holder_name(holder)
    }

    pub(crate) fn trade(&self, id: TradeId) -> &'s str {
        self.scenario.trades[id].name.as_str()
    }

    pub(crate) fn registry(&self, r: Registry) -> &'static str {
        match r {
            Registry::Securities => "the securities registry",
            Registry::Bank => "the bank's registry",
            Registry::Both => "both registries",
        }
    }

    /// A trade's terms in a sentence.
    pub(crate) fn terms(&self, id: TradeId) -> String {
        let tr = &self.scenario.trades[id].terms;
        let agent = tr.agent.map_or_else(|| "no agent".to_string(), |a| format!("agent {}", self.party(a)));
        format!(
            "{} sells {} units to {} for ¥{}, {agent}, deadline {}",
            self.party(tr.seller),
            tr.units,
            self.party(tr.buyer),
            tr.amount,
            offset(tr.deadline)
        )
    }

    /// Says when a step carries the signatures made for another trade.
    pub(crate) fn signed(&self, trade: TradeId, of: TradeId) -> String {
        if trade == of { String::new() } else { format!(" with the signatures made for {}", self.trade(of)) }
    }
}
