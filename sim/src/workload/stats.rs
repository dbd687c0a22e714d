//! Settlement statistics of a replayed workload and the netting comparison.

use super::*;

/// Refused steps of a run, by error name.
pub type Refusals = Vec<(String, usize)>;

/// What a replay of one settlement model of a workload did, read back from its report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SettlementStats {
    /// The model.
    pub settlement: Settlement,
    /// Trades in the workload.
    pub trades: usize,
    /// Trades that settled.
    pub settled: usize,
    /// Trades that did not settle, by what the generator meant them to do (`normal`: a trade that
    /// failed only because this model left a party short of free units or cash).
    pub unsettled: Vec<(TradeKind, usize)>,
    /// Refused steps by error name.
    pub refusals: Refusals,
    /// Value of the settled trades (the cash that moves when every trade pays in full).
    #[serde(with = "crate::decimal")]
    pub settled_value: U256,
    /// Deposit tokens that actually moved between parties.
    #[serde(with = "crate::decimal")]
    pub cash_moved: U256,
    /// Deposit-token transfers between parties.
    pub cash_transfers: u64,
    /// Largest total of deposit tokens locked for trades at any point.
    #[serde(with = "crate::decimal")]
    pub peak_cash_locked: U256,
    /// Transactions mined after setup.
    pub transactions: u64,
    /// Gas of those transactions.
    pub gas_used: u64,
    /// Whether the chain did what the generator's ledger predicted (every expectation held, and
    /// every trade ended in its predicted state).
    pub as_predicted: bool,
}

impl SettlementStats {
    /// Reads the figures of a replay of `workload.scenario(settlement)`.
    pub fn from_report(workload: &Workload, settlement: Settlement, report: &RunReport) -> Self {
        let expected = workload.expected_states(settlement);
        let scenario_trades = workload.trades.len();
        let by_name: HashMap<String, TradeId> = (0..scenario_trades).map(|i| (workload.trade_name(i), i)).collect();
        let mut settled = 0;
        let mut settled_value = U256::ZERO;
        let mut unsettled: HashMap<TradeKind, usize> = HashMap::new();
        let mut matches_prediction = report.final_state.trades.len() == scenario_trades;
        for (i, (name, state)) in report.final_state.trades.iter().enumerate() {
            let Some(t) = by_name.get(name).map(|t| &workload.trades[*t]) else { continue };
            if *state == TradeState::Settled {
                settled += 1;
                settled_value += U256::from(t.amount);
            } else {
                *unsettled.entry(t.kind).or_default() += 1;
            }
            matches_prediction &= expected.get(i) == Some(state);
        }

        let mut refusals: HashMap<String, usize> = HashMap::new();
        let mut cash_moved = U256::ZERO;
        let mut cash_transfers = 0;
        let mut locked: HashMap<TradeId, u128> = HashMap::new();
        let mut locked_total: u128 = 0;
        let mut peak: u128 = 0;
        let mut transactions = 0;
        let mut gas_used = 0;
        for step in report.steps.iter().filter(|s| s.origin != Origin::Setup) {
            if let Some(e) = step.result.error() {
                *refusals.entry(e.to_string()).or_default() += 1;
            }
            transactions += u64::from(step.transactions);
            gas_used += step.gas_used;
            let (moved, transfers) = cash_movements(step);
            cash_moved += moved;
            cash_transfers += transfers;
            for event in step.events.iter().filter(|e| e.contract == "dvp") {
                let Some(t) = event.args.first().and_then(|(_, v)| by_name.get(v)).copied() else { continue };
                match event.name.as_str() {
                    "TradePaid" => {
                        locked.insert(t, workload.trades[t].amount);
                        locked_total += workload.trades[t].amount;
                    }
                    "TradeSettled" | "TradeCancelled" | "TradeExpired" => {
                        if let Some(a) = locked.remove(&t) {
                            locked_total -= a;
                        }
                    }
                    _ => {}
                }
            }
            peak = peak.max(locked_total);
        }
        let mut unsettled: Vec<(TradeKind, usize)> = unsettled.into_iter().collect();
        unsettled.sort();
        let mut refusals: Refusals = refusals.into_iter().collect();
        refusals.sort();
        Self {
            settlement,
            trades: scenario_trades,
            settled,
            unsettled,
            refusals,
            settled_value,
            cash_moved,
            cash_transfers,
            peak_cash_locked: U256::from(peak),
            transactions,
            gas_used,
            as_predicted: matches_prediction && report.passed(),
        }
    }

    /// Trades that did not settle.
    pub fn failed(&self) -> usize {
        self.unsettled.iter().map(|(_, n)| n).sum()
    }
}

/// Deposit tokens moved between parties in a step (mints and burns excluded), and the transfers.
pub(super) fn cash_movements(step: &StepOutcome) -> (U256, u64) {
    let mut moved = U256::ZERO;
    let mut transfers = 0;
    for event in step.events.iter().filter(|e| e.contract == "deposit" && e.name == "Transfer") {
        let arg = |name: &str| event.args.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str());
        if arg("from") == Some("address(0)") || arg("to") == Some("address(0)") {
            continue;
        }
        if let Some(value) = arg("value").and_then(|v| U256::from_str_radix(v, 10).ok()) {
            moved += value;
            transfers += 1;
        }
    }
    (moved, transfers)
}

/// Gross and netted settlement of the same workload, side by side.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NettingComparison {
    /// Seed of the workload.
    pub seed: u64,
    /// Per-trade settlement.
    pub gross: SettlementStats,
    /// Netted batches per settlement window.
    pub netted: SettlementStats,
}

impl NettingComparison {
    /// Cash that had to move netted, as a fraction of gross (1.0 when gross moved nothing).
    pub fn cash_moved_ratio(&self) -> f64 {
        let g = f64::from(self.gross.cash_moved);
        if g == 0.0 { 1.0 } else { f64::from(self.netted.cash_moved) / g }
    }
}
