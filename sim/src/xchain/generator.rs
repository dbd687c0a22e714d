//! Generated cross-chain market days (`kessai sim gen --cross-chain`): trades spread over a trading
//! day, each locked on the asset chain and paid on the payment chain within its deadline — or, at the
//! rates asked for, never paid or paid too late — with the faults of the property runs injected at
//! their own rates: halts of either chain, relayer crashes, faulty attestors' signatures, hostile
//! submissions, delayed attestations, attestor rotations and clock skew. The result is an ordinary
//! cross-chain scenario file: `kessai sim run` replays it in-process or on two Anvils.

use super::scenario::{XChain, XScenario, XSettings, XStep};
use crate::rng::Rng;
use serde::Serialize;
use std::{collections::BTreeMap, fmt::Write};

/// How often each fault happens: for most, the probability that a trade comes with one; for the
/// faults that last (halts, delays), the share of the day they cover, so that about that share of
/// the trades meet one however many trades the day holds.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct XFaultRates {
    /// The payer never pays: the trade aborts at its deadline and the units return.
    pub unpaid: f64,
    /// The payer pays after the deadline: refused, then as unpaid.
    pub late: f64,
    /// The share of the day a chain (either, at random) is halted, in halts of 5 to 30 seconds.
    pub halt: f64,
    /// A relayer crashes and a new one starts from the chains.
    pub crash: f64,
    /// The faulty attestors sign a random state of the trade.
    pub faulty: f64,
    /// A hostile account submits a delivery and a return of the trade.
    pub hostile: f64,
    /// The share of the day the attestors' mail to the relayers is held, 5 to 30 seconds at a time.
    pub delay: f64,
    /// The authority rotates an honest attestor out.
    pub rotate: f64,
    /// One chain's clock is set 0 to 20 seconds ahead of the other's.
    pub skew: f64,
}

impl XFaultRates {
    /// Every fault at `rate`.
    pub fn all(rate: f64) -> Self {
        Self {
            unpaid: rate,
            late: rate,
            halt: rate,
            crash: rate,
            faulty: rate,
            hostile: rate,
            delay: rate,
            rotate: rate,
            skew: rate,
        }
    }
}

/// What a generated day holds.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct XGenParams {
    /// Trades in the day.
    pub trades: usize,
    /// Seconds of trading the trades are spread over (the default, 21,600, is 9:00 to 15:00).
    pub seconds: u64,
    /// The seed: the same seed gives the same file.
    pub seed: u64,
    /// The faults' rates.
    pub rates: XFaultRates,
}

impl Default for XGenParams {
    fn default() -> Self {
        Self { trades: 1_000, seconds: 21_600, seed: 1, rates: XFaultRates::all(0.01) }
    }
}

/// A day as `params` says: one lock per trade at a steady rate (each of 1 to 9 units for 100 to
/// 1,000 a unit, due 60 to 600 seconds ahead on the payment chain's clock), its payment a few
/// seconds to half its time later, and each trade's faults drawn at their rates.
pub fn generate(params: &XGenParams) -> XScenario {
    let mut rng = Rng::from_state(params.seed ^ 0x6e6e_c405_5c4a_1d5e);
    let r = params.rates;
    let mut steps = Vec::new();
    let gap = params.seconds as f64 / params.trades.max(1) as f64;
    for i in 0..params.trades {
        let at = (i as f64 * gap) as u64;
        let label = format!("T{}", i + 1);
        let (units, price, due_in) = (rng.range(1, 9), rng.range(100, 1_000), rng.range(60, 600));
        let mut step = XStep::at(at);
        (step.lock, step.units, step.amount, step.due_in) =
            (Some(label.clone()), Some(units), Some(units * price), Some(due_in));
        steps.push(step);
        let paid = if rng.unit() < r.unpaid {
            None
        } else if rng.unit() < r.late {
            Some(at + due_in + rng.range(2, 30))
        } else {
            Some(at + rng.range(1, due_in / 2))
        };
        if let Some(when) = paid {
            steps.push(XStep { pay: Some(label.clone()), ..XStep::at(when) });
        }
        // A lasting fault starts at a trade's lock with the chance that makes it cover its share of
        // the day (they last 17.5 s on average).
        let lasting = (gap / 17.5).min(1.0);
        let r = XFaultRates { halt: r.halt * lasting, delay: r.delay * lasting, ..r };
        faults(&mut rng, &r, &label, at, paid.unwrap_or(at) + 1, &mut steps);
    }
    steps.sort_by_key(|s| s.at);
    // Many trades a second share their blocks' second, as on the real chains.
    let chain = |name: &str| XChain { name: name.into(), tx_seconds: Some(0), ..XChain::default() };
    let chains =
        BTreeMap::from([("asset".to_string(), chain("ibet for Fin")), ("payment".to_string(), chain("DeCurret DCP"))]);
    XScenario {
        title: format!(
            "A generated day: {} cross-chain trades over {} s, seed {}",
            params.trades, params.seconds, params.seed
        ),
        chains,
        cross_chain: XSettings::default(),
        steps,
        expect: Vec::new(),
    }
}

/// The faults that come with trade `label`, locked at `at` and paid (or not) before `after`.
fn faults(rng: &mut Rng, r: &XFaultRates, label: &str, at: u64, after: u64, steps: &mut Vec<XStep>) {
    let chain = |rng: &mut Rng| if rng.chance(50) { "asset" } else { "payment" }.to_string();
    if rng.unit() < r.halt {
        steps.push(XStep { halt: Some(chain(rng)), duration: Some(rng.range(5, 30)), ..XStep::at(at) });
    }
    if rng.unit() < r.crash {
        steps.push(XStep { crash_relayer: Some(rng.below(3) as usize), ..XStep::at(at + rng.range(0, 20)) });
    }
    if rng.unit() < r.faulty {
        let state = ["locked", "committed", "aborted"][rng.below(3) as usize];
        let step = XStep { sign_falsely: Some(label.into()), state: Some(state.into()), ..XStep::at(after) };
        steps.push(step);
    }
    if rng.unit() < r.hostile {
        steps.push(XStep { hostile: Some(label.into()), ..XStep::at(after + rng.range(0, 10)) });
    }
    if rng.unit() < r.delay {
        steps.push(XStep { delay_proofs: Some(true), duration: Some(rng.range(5, 30)), ..XStep::at(at) });
    }
    if rng.unit() < r.rotate {
        steps.push(XStep { rotate_attestor: Some(rng.below(2) as usize), ..XStep::at(at + rng.range(0, 20)) });
    }
    if rng.unit() < r.skew {
        steps.push(XStep { skew: Some(chain(rng)), lead: Some(rng.range(0, 20)), ..XStep::at(at) });
    }
}

/// `scenario` as a cross-chain scenario file.
pub fn write(scenario: &XScenario) -> String {
    let mut text = String::new();
    let _ = writeln!(text, "title = {}", quoted(&scenario.title));
    for (name, chain) in &scenario.chains {
        let _ = writeln!(text, "\n[chains.{name}]");
        table(&mut text, chain);
    }
    let _ = writeln!(text, "\n[cross_chain]");
    table(&mut text, &scenario.cross_chain);
    for step in &scenario.steps {
        let _ = writeln!(text, "\n[[steps]]");
        table(&mut text, step);
    }
    for expect in &scenario.expect {
        let _ = writeln!(text, "\n[[expect]]");
        table(&mut text, expect);
    }
    text
}

/// A flat table's `key = value` lines (strings quoted as JSON writes them, which TOML reads the
/// same).
fn table(text: &mut String, value: &impl Serialize) {
    let Ok(serde_json::Value::Object(fields)) = serde_json::to_value(value) else { return };
    // A step's time first, then its fields by name.
    let (first, rest): (Vec<_>, Vec<_>) = fields.into_iter().partition(|(key, _)| key == "at");
    for (key, value) in first.into_iter().chain(rest) {
        let value = match value {
            serde_json::Value::String(s) => quoted(&s),
            other => other.to_string(),
        };
        let _ = writeln!(text, "{key} = {value}");
    }
}

fn quoted(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_day_is_the_same_for_a_seed_and_parses_back_to_itself() {
        let params = XGenParams { trades: 200, rates: XFaultRates::all(0.05), ..XGenParams::default() };
        let text = write(&generate(&params));
        assert_eq!(text, write(&generate(&params)));
        let parsed = XScenario::parse(&text, "generated").expect("parses");
        assert_eq!(write(&parsed), text);
        let count = |f: fn(&XStep) -> bool| parsed.steps.iter().filter(|s| f(s)).count();
        assert_eq!(count(|s| s.lock.is_some()), 200);
        assert!(count(|s| s.pay.is_some()) > 180);
        for (what, f) in [
            ("halt", (|s: &XStep| s.halt.is_some()) as fn(&XStep) -> bool),
            ("crash", |s| s.crash_relayer.is_some()),
            ("faulty", |s| s.sign_falsely.is_some()),
            ("hostile", |s| s.hostile.is_some()),
            ("delay", |s| s.delay_proofs.is_some()),
            ("rotate", |s| s.rotate_attestor.is_some()),
            ("skew", |s| s.skew.is_some()),
        ] {
            assert!(count(f) > 0, "no {what} in {text}");
        }
    }
}
