//! Cross-chain settlement replayed in-process with faults (`kessai_sim::xchain`): two revm engines,
//! the attestors and relayers `kessai attest` and `kessai relay` run, halts, relayer crashes, a faulty
//! attestor and hostile submissions, with the invariants checked after every event.

use kessai_sim::xchain::{self, OUTCOMES, Options};

fn run(seed: u64, options: &Options) -> xchain::Run {
    kessai_sim::parallel::drive(|| xchain::run(seed, options)).expect("the run")
}

#[test]
fn random_schedules_with_every_fault_keep_both_legs_together_and_end_every_trade() {
    let options = Options { steps: 3_000, ..Options::default() };
    for seed in 1..=2 {
        let run = run(seed, &options);
        assert_eq!(run.failure, None, "{run}");
        let s = &run.stats;
        assert!(s.delivered > 20 && s.returned > 20, "both outcomes happen: {run}");
        assert!(s.halts > 0 && s.crashes > 0 && s.faulty_signatures > 0 && s.hostile_refused > 0, "{run}");
        assert!(s.failed_passes > 0, "halts made passes fail: {run}");
    }
}

#[test]
fn with_as_many_faulty_attestors_as_the_threshold_a_hostile_submission_splits_a_trade_and_is_caught() {
    let options = Options { steps: 3_000, faulty: 2, faulty_percent: 20, hostile_percent: 20, ..Options::default() };
    let run = run(1, &options);
    let failure = run.failure.expect("two colluding attestors prove what B never recorded");
    assert_eq!(failure.invariant, OUTCOMES, "{}", failure.message);
    assert!(failure.event < options.steps, "caught while running, at event {}", failure.event);
}

#[test]
fn a_seed_replays_to_the_same_run() {
    let options = Options { steps: 800, ..Options::default() };
    assert_eq!(run(5, &options), run(5, &options));
}
