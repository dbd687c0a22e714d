//! The reference model the checker keeps from what it observed.

use super::*;

/// What the checker expects of the chain, kept from what it observed: balances changed by the
/// explicit issues and redemptions of successful steps and by each trade's status changes.
#[derive(Clone, Debug)]
pub struct Model {
    pub(super) units: Vec<U256>,
    pub(super) cash: Vec<U256>,
    pub(super) statuses: Vec<u8>,
    pub(super) open: BTreeSet<TradeId>,
    /// Security token supply.
    pub units_supply: U256,
    /// Deposit token supply.
    pub cash_supply: U256,
}

impl Model {
    pub(super) fn new(scenario: &Scenario) -> Self {
        let n = scenario.parties.len();
        Self {
            units: vec![U256::ZERO; n],
            cash: vec![U256::ZERO; n],
            statuses: vec![0; scenario.trades.len()],
            open: BTreeSet::new(),
            units_supply: U256::ZERO,
            cash_supply: U256::ZERO,
        }
    }

    /// Trade `trade`'s status flags, as last observed.
    pub fn status(&self, trade: TradeId) -> u8 {
        self.statuses[trade]
    }

    /// The open trades.
    pub fn open_trades(&self) -> impl Iterator<Item = TradeId> + '_ {
        self.open.iter().copied()
    }

    /// The position `party` should have: its units and cash, and as held amounts the sum over its
    /// open trades (units it sells; cash it has paid).
    pub fn position(&self, scenario: &Scenario, party: PartyId) -> Balances {
        let mut b = Balances { units: self.units[party], cash: self.cash[party], ..Default::default() };
        for t in &self.open {
            let terms = &scenario.trades[*t].terms;
            if terms.seller == party {
                b.units_held += terms.units;
            }
            if terms.buyer == party && self.statuses[*t] & PAID != 0 {
                b.cash_held += terms.amount;
            }
        }
        b
    }

    /// The effects of a successful step other than trade status changes: explicit issues,
    /// redemptions and transfers.
    pub(super) fn apply_step(&mut self, action: &Action) {
        match action {
            Action::Issue { to, units } => {
                self.units[*to] = self.units[*to].wrapping_add(*units);
                self.units_supply = self.units_supply.wrapping_add(*units);
            }
            Action::Redeem { from, units } => {
                self.units[*from] = self.units[*from].wrapping_sub(*units);
                self.units_supply = self.units_supply.wrapping_sub(*units);
            }
            Action::Transfer { from, to, units } => {
                self.units[*from] = self.units[*from].wrapping_sub(*units);
                self.units[*to] = self.units[*to].wrapping_add(*units);
            }
            Action::Deposit { to: Holder::Party(to), amount, .. } => {
                self.cash[*to] = self.cash[*to].wrapping_add(*amount);
                self.cash_supply = self.cash_supply.wrapping_add(*amount);
            }
            Action::Withdraw { party, amount, .. } => {
                self.cash[*party] = self.cash[*party].wrapping_sub(*amount);
                self.cash_supply = self.cash_supply.wrapping_sub(*amount);
            }
            _ => {}
        }
    }

    /// A trade's observed status change, applied whole: settling moves both legs.
    pub(super) fn apply_change(&mut self, scenario: &Scenario, change: &StatusChange) {
        let terms = &scenario.trades[change.trade].terms;
        let (was, is) = (change.before & SETTLED != 0, change.after & SETTLED != 0);
        if was != is {
            let (u, a) = (terms.units, terms.amount);
            let (s, b) = (terms.seller, terms.buyer);
            if is {
                self.units[s] = self.units[s].wrapping_sub(u);
                self.units[b] = self.units[b].wrapping_add(u);
                self.cash[b] = self.cash[b].wrapping_sub(a);
                self.cash[s] = self.cash[s].wrapping_add(a);
            } else {
                self.units[s] = self.units[s].wrapping_add(u);
                self.units[b] = self.units[b].wrapping_sub(u);
                self.cash[b] = self.cash[b].wrapping_add(a);
                self.cash[s] = self.cash[s].wrapping_sub(a);
            }
        }
        self.statuses[change.trade] = change.after;
        if is_open(change.after) {
            self.open.insert(change.trade);
        } else {
            self.open.remove(&change.trade);
        }
    }
}
