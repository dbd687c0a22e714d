//! Property runs: random step sequences drawn from the scenario model's step kinds, replayed on the
//! in-process engine and checked after every step against invariants; a sequence that breaks one is
//! shrunk and written out as a scenario file that `kessai sim run` replays to the same failure.
//!
//! **Sequences.** [`generate`] builds a [`Scenario`] from a seed: the five suite roles, four
//! investors (`alice`, `bob`, `carol`, `dave`) and a settlement `agent`, a setup that registers and
//! funds the investors, then random steps — registration and revocation, security issue, redeem and
//! transfer, deposit issue and redemption, trades created, created from signatures, paid, approved,
//! settled with the buyer's signed payment or from both signatures, cancelled, released, settled in
//! gross and netted batches, and time advancing. The generator keeps a forecast of the state
//! so that most steps are ones that can succeed, and mixes in ones that must be refused (an
//! ineligible party, too little free balance, a passed deadline, a stranger, a wrong signature). The
//! forecast only steers the choice: the checks below never trust it.
//!
//! **Invariants.** After every step the checker reads what the step could have changed — the status
//! of the trades it names, the positions of the parties it concerns, both supplies — and updates a
//! [`Model`] from what it observed: the explicit issues and redemptions of successful steps, and
//! each trade's status change, applied whole (a trade that became settled moved both its legs). The
//! [`standard`] invariants then compare:
//!
//! - [`STATUSES`]: each trade's status changed exactly as the step's kind says (created, paid,
//!   approved, settled, cancelled, released), only for the trades the step names, only if the step
//!   succeeded; statuses never lose a flag;
//! - [`NO_PARTIAL_SETTLEMENT`]: every party's units and cash equal the model's — each settled trade
//!   moved both legs in full, and nothing else moved;
//! - [`HOLDS`]: every party's held units and held cash equal the sum over its open trades (units it
//!   sells, cash it has paid);
//! - [`SUPPLY`]: both supplies equal the explicit issues minus the explicit redemptions, and (on a
//!   full sweep) the parties hold all of it.
//!
//! Every [`CheckOptions::sweep_every`] steps, and after the last, a **full sweep** reads every
//! party's position and every trade's status, so a change the step should not have made anywhere is
//! caught too. Invariants are values ([`Invariant`], built with [`invariant`]): a caller adds its
//! own to the list, which is how the tests inject a false one to exercise shrinking.
//!
//! **Shrinking.** When an invariant breaks, the sequence up to the failing step is shrunk by delta
//! debugging (remove chunks, then single steps, while the same invariant still breaks) into a
//! 1-minimal sequence; then each trade that was created and later paid, approved or settled is tried
//! as one signed step instead (`settle_signed`, `create_signed_trade`), and shrinking resumes while
//! that keeps the failure. It is written as a scenario file ([`write::write`]) in which every step
//! that was refused expects its error and the last step expects what the invariant expected, so
//! `kessai sim run` on the file fails exactly there; [`Failure::reproduced`] records that the
//! written file, parsed back and checked, breaks the same invariant at the same step.
//!
//! ```no_run
//! use kessai_sim::property::{self, Options};
//!
//! let run = property::run(7, &Options { steps: 10_000, ..Options::default() }, &property::standard(), None)?;
//! if let Some(failure) = &run.failure {
//!     std::fs::write("failing.toml", &failure.toml)?;
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use crate::rng::Rng;
use crate::{
    RevmChain, RevmOptions, parallel,
    scenario::{
        ScenarioError,
        model::{
            Action, Advance, BalanceExpect, DAY, Expect, Holder, Instrument, Origin, Party, PartyId, Registry, Role,
            Scenario, Step, SupplyExpect, TokenNames, TradeDef, TradeId, TradeState, TradeTerms,
        },
        parse,
        run::{Balances, Runner, StepOutcome, StepResult},
        write,
    },
};
use alloy::{
    primitives::{B256, U256},
    signers::local::PrivateKeySigner,
};
use kessai_bindings::TradeFlags;
use kessai_deployer::{anvil, chain::Chain};
use serde::{Deserialize, Serialize};
use std::{
    collections::BTreeSet,
    sync::atomic::{AtomicU64, Ordering},
    time::{Duration, Instant},
};

// The DvP's status flags as raw bits, for the model's arithmetic (defined once, in
// `kessai_bindings::TradeFlags`).
/// Status flag: the trade exists.
pub const CREATED: u8 = TradeFlags::CREATED.bits();
/// Status flag: the buyer paid (its cash is held, or moved).
pub const PAID: u8 = TradeFlags::PAID.bits();
/// Status flag: the settlement agent approved.
pub const APPROVED: u8 = TradeFlags::APPROVED.bits();
/// Status flag: both legs moved.
pub const SETTLED: u8 = TradeFlags::SETTLED.bits();
/// Status flag: a party cancelled.
pub const CANCELLED: u8 = TradeFlags::CANCELLED.bits();
/// Status flag: released after the deadline.
pub const EXPIRED: u8 = TradeFlags::EXPIRED.bits();
/// The final flags.
pub const FINAL: u8 = TradeFlags::FINAL.bits();

/// Whether a trade with these status flags is open: created and not final (its locks stand).
pub fn is_open(flags: u8) -> bool {
    flags & CREATED != 0 && flags & FINAL == 0
}

/// Name of the invariant: statuses change exactly as each step's kind says.
pub const STATUSES: &str = "statuses";
/// Name of the invariant: balances equal the model (settled trades moved both legs, nothing else moved).
pub const NO_PARTIAL_SETTLEMENT: &str = "no-partial-settlement";
/// Name of the invariant: held amounts equal the sum over open trades.
pub const HOLDS: &str = "holds";
/// Name of the invariant: supplies change only by explicit issues and redemptions.
pub const SUPPLY: &str = "supply";

mod check;
mod generate;
mod invariants;
mod model;
mod shrink;

pub use check::*;
pub use generate::*;
pub use invariants::*;
pub use model::*;
pub use shrink::*;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_sequence() {
        let (a, b) = (generate(3, 500), generate(3, 500));
        assert_eq!(a, b);
        assert_ne!(a.steps, generate(4, 500).steps);
        assert_eq!(a.steps.len(), 500 + 3 * INVESTORS.len());
        let kinds: BTreeSet<&str> = a.steps.iter().map(|s| s.action.kind()).collect();
        for kind in [
            "register",
            "revoke",
            "issue",
            "deposit",
            "withdraw",
            "create_trade",
            "create_signed_trade",
            "pay",
            "approve",
            "settle_with_payment",
            "settle_signed",
            "cancel",
            "release",
            "batch",
            "advance",
        ] {
            assert!(kinds.contains(kind), "500 steps draw a `{kind}` step: {kinds:?}");
        }
        let netted: BTreeSet<bool> = a
            .steps
            .iter()
            .filter_map(|s| if let Action::Batch { netted, .. } = s.action { Some(netted) } else { None })
            .collect();
        assert_eq!(netted.len(), 2, "gross and netted batches");
    }

    /// Runs the standard invariants on one observation of `pay t1` (a trade without agent, alice
    /// selling 10 units to bob for ¥1,000, which settles); returns the first that breaks.
    fn judge(positions: &[(PartyId, Balances)], supplies: (u64, u64), after: u8) -> Option<(String, Violation)> {
        let (a, b) = (FIRST_INVESTOR, FIRST_INVESTOR + 1);
        let mut scenario = generate(1, 0);
        let terms = TradeTerms {
            seller: a,
            buyer: b,
            agent: None,
            units: U256::from(10),
            amount: U256::from(1_000),
            deadline: DAY,
        };
        scenario.trades.push(TradeDef { name: "t1".into(), terms });
        let step = Step {
            action: Action::Pay { trade: 0 },
            expect: Expect::default(),
            origin: Origin::Timeline { number: 1, line: 0 },
            note: None,
        };
        let outcome = StepOutcome {
            index: 12,
            origin: step.origin,
            kind: "pay".into(),
            description: "bob pays for trade t1".into(),
            note: None,
            result: StepResult::Ok,
            gas_used: 1,
            transactions: 1,
            events: Vec::new(),
            state: Vec::new(),
            checks: Vec::new(),
        };
        let mut model = Model::new(&scenario);
        (model.units[a], model.cash[b]) = (U256::from(100), U256::from(5_000));
        (model.units_supply, model.cash_supply) = (U256::from(100), U256::from(5_000));
        model.apply_change(&scenario, &StatusChange { trade: 0, before: 0, after: CREATED });
        let changes = [StatusChange { trade: 0, before: CREATED, after }];
        model.apply_change(&scenario, &changes[0]);
        let observation = Observation {
            scenario: &scenario,
            index: 12,
            step: &step,
            outcome: &outcome,
            model: &model,
            changes: &changes,
            positions,
            supplies: (U256::from(supplies.0), U256::from(supplies.1)),
            sweep: false,
        };
        standard().iter().find_map(|i| i.check(&observation).err().map(|v| (i.name().to_string(), v)))
    }

    #[test]
    fn each_standard_invariant_catches_what_it_guards() {
        let (a, b) = (FIRST_INVESTOR, FIRST_INVESTOR + 1);
        let at = |units: u64, held: u64, cash: u64| Balances {
            units: U256::from(units),
            units_held: U256::from(held),
            cash: U256::from(cash),
            cash_held: U256::ZERO,
        };
        let settled = CREATED | PAID | SETTLED;
        // Both legs moved, nothing held, supplies unchanged: every invariant holds.
        assert_eq!(judge(&[(a, at(90, 0, 1_000)), (b, at(10, 0, 4_000))], (100, 5_000), settled), None);

        // Only the security leg moved.
        let (name, v) = judge(&[(a, at(90, 0, 0)), (b, at(10, 0, 5_000))], (100, 5_000), settled).expect("breaks");
        assert_eq!(name, NO_PARTIAL_SETTLEMENT, "{}", v.message);
        assert!(v.message.contains("alice has 90 units and ¥0 but should have 90 units and ¥1000"), "{}", v.message);
        assert!(v.message.contains("t1 created -> created+paid+settled"), "{}", v.message);
        let want = BalanceExpect { units: Some(U256::from(90)), cash: Some(U256::from(1_000)), ..Default::default() };
        assert_eq!(v.expect.balances[0], (Holder::Party(a), want));

        // Settled, but the seller's units stay held.
        let (name, v) = judge(&[(a, at(90, 10, 1_000)), (b, at(10, 0, 4_000))], (100, 5_000), settled).expect("breaks");
        assert_eq!(name, HOLDS, "{}", v.message);
        assert_eq!(v.expect.balances[0].1.units_held, Some(U256::ZERO));

        // A unit appeared from nowhere (in nobody's watched balance).
        let (name, v) = judge(&[(a, at(90, 0, 1_000)), (b, at(10, 0, 4_000))], (101, 5_000), settled).expect("breaks");
        assert_eq!(name, SUPPLY, "{}", v.message);
        assert_eq!(v.expect.supply, Some(SupplyExpect { units: Some(U256::from(100)), cash: Some(U256::from(5_000)) }));

        // A payment that cancels the trade instead.
        let (name, v) =
            judge(&[(a, at(100, 0, 0)), (b, at(0, 0, 5_000))], (100, 5_000), CREATED | CANCELLED).expect("breaks");
        assert_eq!(name, STATUSES, "{}", v.message);
        assert!(v.message.contains("should have created+paid+settled"), "{}", v.message);
        assert_eq!(v.expect.trades, [(0, TradeState::Settled)]);
    }

    #[test]
    fn the_forecast_steers_most_steps_right() {
        let (scenario, expected) = generate_with_forecast(9, 3_000);
        let checked = check(&scenario, &standard(), &CheckOptions::default(), None).expect("runs");
        assert_eq!(checked.found, None);
        let wrong: Vec<(usize, &str, bool, &Option<String>)> = expected
            .iter()
            .zip(&checked.errors)
            .enumerate()
            .filter(|(_, (ok, error))| **ok != error.is_none())
            .map(|(i, (ok, error))| (i, scenario.steps[i].action.kind(), *ok, error))
            .collect();
        assert!(wrong.len() * 100 < expected.len(), "{} of {} forecasts wrong: {wrong:?}", wrong.len(), expected.len());
    }

    #[test]
    fn a_generated_sequence_is_written_and_parsed_back_unchanged() {
        let scenario = generate(11, 400);
        let all: Vec<usize> = (0..scenario.steps.len()).collect();
        let mut sub = subset(&scenario, &all);
        sub.watch = vec![Holder::Party(FIRST_INVESTOR), Holder::Party(FIRST_INVESTOR + 1)];
        sub.steps[20].expect = Expect {
            error: Some("DvPTradeExpired".into()),
            balances: vec![(
                Holder::Party(FIRST_INVESTOR),
                BalanceExpect { units: Some(U256::from(5)), ..Default::default() },
            )],
            supply: Some(SupplyExpect { units: Some(U256::from(7)), cash: None }),
            trades: vec![(0, TradeState::Settled)],
            ..Default::default()
        };
        sub.steps[20].note = Some("a \"quoted\" note".into());
        let toml = write::write(&sub).expect("writes");
        let parsed = parse::parse(&toml).unwrap_or_else(|e| panic!("{e}\n{toml}"));
        assert_eq!(parsed.parties, sub.parties);
        assert_eq!(parsed.trades, sub.trades);
        assert_eq!(parsed.watch, sub.watch);
        assert_eq!(parsed.steps.len(), sub.steps.len());
        for (i, (p, s)) in parsed.steps.iter().zip(&sub.steps).enumerate() {
            assert_eq!((&p.action, &p.expect, &p.note), (&s.action, &s.expect, &s.note), "step {i}");
        }
    }

    #[test]
    fn a_trade_used_before_it_is_defined_is_not_writable() {
        let scenario = generate(5, 300);
        let create =
            scenario.steps.iter().position(|s| matches!(s.action, Action::CreateTrade { .. })).expect("a create");
        let user = (create + 1..scenario.steps.len())
            .find(|i| {
                let t = defines(&scenario.steps[create].action);
                defines(&scenario.steps[*i].action).is_none()
                    && referenced_trades(&scenario.steps[*i].action).iter().any(|r| Some(*r) == t)
            })
            .expect("a later step on the same trade");
        assert!(writable(&scenario, &[create, user]));
        assert!(!writable(&scenario, &[user]));
        assert!(write::write(&subset(&scenario, &[user])).is_err());
    }

    #[test]
    fn ddmin_finds_a_one_minimal_subset() {
        // Fails when it holds 3, 7 and 11 together.
        let fails = |c: &[usize]| Ok::<_, ()>([3, 7, 11].iter().all(|x| c.contains(x)));
        let (kept, tries) = ddmin((0..40).collect(), fails, 10_000).expect("no error");
        assert_eq!(kept, [3, 7, 11]);
        assert!(tries < 200, "{tries} tries");
        let (kept, _) = ddmin((0..40).collect(), fails, 3).expect("no error");
        assert!(kept.len() > 3, "an exhausted budget stops early");
    }
}
