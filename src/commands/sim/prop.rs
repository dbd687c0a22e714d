//! `kessai sim prop`: property runs — random step sequences on the in-process engine, checked after
//! every step against the settlement invariants (statuses, no partial settlement, holds, supply);
//! a failing sequence is shrunk and written as a scenario file that `kessai sim run` replays to the
//! same failure. Independent seeds run in parallel, results in seed order.

use super::{GlobalArgs, millis, output, workloads::parse_seeds};
use crate::commands::Reported;
use clap::Args;
use eyre::WrapErr;
use kessai_sim::{
    parallel,
    property::{self, CheckOptions, Invariant, Options, PropertyRun, Stats},
    report::{Progress, thousands},
    scenario::{ScenarioError, model::TradeState},
};
use serde::Serialize;
use std::{
    fmt,
    path::{Path, PathBuf},
    sync::atomic::{AtomicU64, Ordering},
    time::{Duration, Instant},
};

/// Arguments of `kessai sim prop`.
#[derive(Debug, Args)]
pub(super) struct PropArgs {
    /// Random steps per seed (after a setup of 12 steps that registers and funds four investors).
    #[arg(long, default_value_t = 10_000)]
    steps: usize,
    /// The seed (the same seed gives the same sequence).
    #[arg(long, default_value_t = 1, conflicts_with = "seeds")]
    seed: u64,
    /// Several seeds, run in parallel: `1..8` (the eight seeds 1 to 8) or `1,5,9`.
    #[arg(long)]
    seeds: Option<String>,
    /// Threads for several seeds (default: the machine's cores).
    #[arg(long)]
    jobs: Option<usize>,
    /// Write the shrunk failing sequence here as a scenario file (with several failing seeds,
    /// `-seed<N>` is added before the extension). Without it, the file is printed.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// A full sweep (every party's position and every trade's status) every this many steps, and
    /// after the last; the step's own trades, parties and the supplies are checked after every step.
    #[arg(long, default_value_t = 1_000)]
    sweep_every: usize,
    /// Write the whole failing prefix instead of shrinking it.
    #[arg(long)]
    no_shrink: bool,
    /// Most candidate sequences replayed while shrinking.
    #[arg(long, default_value_t = 5_000)]
    shrink_budget: usize,
    /// Also require that no trade ever becomes STATE (settled, cancelled, expired, paid or
    /// approved): a deliberately false invariant, so the run finds and shrinks a short sequence
    /// that reaches STATE. Repeatable.
    #[arg(long, value_name = "STATE")]
    never: Vec<String>,
    /// Settlement across two chains instead: two in-process chains, the attestors and relayers that
    /// `kessai attest` and `kessai relay` run, and faults (halts, relayer crashes, a faulty attestor,
    /// hostile submissions), with supplies, outcomes and holdings checked after every event. A
    /// failure names the seed and the event (not shrunk yet).
    #[arg(long)]
    cross_chain: bool,
    /// With --cross-chain: attestors that sign anything, of 3 with a threshold of 2. 1 is the trust
    /// model's k−1; 2 is beyond it, and the run must catch the split trade that follows.
    #[arg(long, default_value_t = 1, requires = "cross_chain")]
    faulty_attestors: usize,
    /// With --cross-chain: the verifiers' threshold as deployed (of 3 attestors; the model is 2).
    /// 1 deploys a verifier off by one, which a single faulty attestor fools: the run must catch it
    /// and give a short scenario file that replays to the same failure (written to --out).
    #[arg(long, default_value_t = 2, requires = "cross_chain")]
    verifier_threshold: u8,
}

/// What a property run found (`kessai sim prop`): each seed's run in seed order and a verdict over
/// all of them.
#[derive(Serialize)]
struct PropReport<'a> {
    steps: usize,
    seeds: &'a [u64],
    invariants: Vec<&'a str>,
    passed: bool,
    #[serde(rename = "elapsed_ms", serialize_with = "millis")]
    elapsed: Duration,
    runs: Vec<SeedRun<'a>>,
}

/// One seed's run, with where its failing sequence was written.
#[derive(Serialize)]
struct SeedRun<'a> {
    seed: u64,
    generated: usize,
    #[serde(rename = "elapsed_ms", serialize_with = "millis")]
    elapsed: Duration,
    stats: &'a Stats,
    failure: Option<SeedFailure<'a>>,
    /// Whether the failing sequence was shrunk (for the text).
    #[serde(skip)]
    shrunk: bool,
}

/// The invariant a seed broke, its shrunk sequence and whether the written file reproduces it.
#[derive(Serialize)]
struct SeedFailure<'a> {
    invariant: &'a str,
    step: usize,
    message: &'a str,
    shrunk_steps: usize,
    candidates: usize,
    reproduced: bool,
    file: Option<&'a Path>,
    toml: &'a str,
}

/// `failing.toml` for seed 3 of several: `failing-seed3.toml`.
fn out_path(out: &Path, seed: u64, several: bool) -> PathBuf {
    if !several {
        return out.to_path_buf();
    }
    let stem = out.file_stem().map_or_else(|| "failing".into(), |s| s.to_string_lossy().into_owned());
    let name = match out.extension() {
        Some(ext) => format!("{stem}-seed{seed}.{}", ext.to_string_lossy()),
        None => format!("{stem}-seed{seed}"),
    };
    out.with_file_name(name)
}

/// What a property run of several seeds found: each seed's run (in seed order), where its failing
/// sequence was written, and how long it all took.
struct Outcome {
    runs: Vec<PropertyRun>,
    files: Vec<Option<PathBuf>>,
    elapsed: Duration,
}

impl PropArgs {
    /// Runs the seeds, prints what they found (text or `--json`) and fails if an invariant broke.
    pub(super) fn execute(self, global: GlobalArgs) -> eyre::Result<()> {
        let seeds = match &self.seeds {
            Some(text) => parse_seeds(text)?,
            None => vec![self.seed],
        };
        let invariants = self.invariants()?;
        let jobs = self.jobs.unwrap_or_else(parallel::default_threads).max(1);
        if self.cross_chain {
            let options = kessai_sim::xchain::Options {
                steps: self.steps,
                faulty: self.faulty_attestors,
                threshold: self.verifier_threshold,
                ..Default::default()
            };
            return super::xprop::execute(options, &seeds, jobs, self.out.as_deref(), global);
        }
        output::progress(global, self.plan(&seeds, &invariants, jobs));
        let outcome = self.run(&seeds, &invariants, jobs, global)?;
        let report = self.report(&seeds, &invariants, &outcome);
        output::print_document(global, &report)?;
        report.verdict()
    }

    /// The standard invariants, and one per `--never STATE`.
    fn invariants(&self) -> eyre::Result<Vec<Box<dyn Invariant>>> {
        let mut invariants = property::standard();
        for name in &self.never {
            let state = TradeState::ALL.iter().find(|(_, n)| n == name).map(|(s, _)| *s);
            match state.and_then(property::never) {
                Some(inv) => invariants.push(inv),
                None => eyre::bail!(
                    "--never {name}: expected a state a trade can reach: settled, cancelled, expired, paid or approved"
                ),
            }
        }
        Ok(invariants)
    }

    /// The options of each seed's run.
    fn options(&self) -> Options {
        Options {
            steps: self.steps,
            check: CheckOptions { sweep_every: self.sweep_every },
            shrink: !self.no_shrink,
            shrink_budget: self.shrink_budget,
        }
    }

    /// What is about to run: seeds, steps, threads, invariants and the sweep.
    fn plan(&self, seeds: &[u64], invariants: &[Box<dyn Invariant>], jobs: usize) -> String {
        format!(
            "property run: {} seed{} × {} random steps on {} thread{}; invariants: {}; full sweep every {} steps",
            seeds.len(),
            if seeds.len() == 1 { "" } else { "s" },
            thousands(self.steps as u64),
            jobs.min(seeds.len()),
            if jobs.min(seeds.len()) == 1 { "" } else { "s" },
            invariants.iter().map(|i| i.name()).collect::<Vec<_>>().join(", "),
            thousands(self.sweep_every as u64)
        )
    }

    /// Runs every seed on up to `jobs` worker threads while this one draws the progress lines
    /// (unless `--json`; one per seed when several run), then writes each failing sequence if `--out`
    /// asks for it.
    fn run(
        &self,
        seeds: &[u64],
        invariants: &[Box<dyn Invariant>],
        jobs: usize,
        global: GlobalArgs,
    ) -> eyre::Result<Outcome> {
        let options = self.options();
        let began = Instant::now();
        let done: Vec<AtomicU64> = seeds.iter().map(|_| AtomicU64::new(0)).collect();
        let per_seed = (self.steps + 3 * property::INVESTORS.len()) as u64;
        let progress = match seeds {
            _ if global.json => Progress::hidden(),
            [_] => Progress::new([("steps", per_seed)]),
            _ => Progress::new(seeds.iter().map(|seed| (format!("seed {seed}"), per_seed))),
        };
        let results = std::thread::scope(|scope| {
            let worker = scope.spawn(|| property::run_seeds(seeds, &options, invariants, jobs, Some(&done)));
            while !worker.is_finished() {
                for (line, done) in done.iter().enumerate() {
                    progress.set(line, done.load(Ordering::Relaxed));
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            worker.join()
        });
        progress.finish();
        let results: Vec<Result<PropertyRun, ScenarioError>> =
            results.map_err(|_| eyre::eyre!("a property run panicked"))?;
        let elapsed = began.elapsed();

        let mut runs = Vec::with_capacity(results.len());
        for (seed, result) in seeds.iter().zip(results) {
            runs.push(result.wrap_err_with(|| format!("the property run of seed {seed} could not run"))?);
        }
        let several = runs.iter().filter(|r| r.failure.is_some()).count() > 1;
        let files = self.write_failures(&runs, several)?;
        Ok(Outcome { runs, files, elapsed })
    }

    /// Writes each failing sequence under `--out` (the seed added to the name when `several` seeds
    /// failed); where each run's went, if anywhere.
    fn write_failures(&self, runs: &[PropertyRun], several: bool) -> eyre::Result<Vec<Option<PathBuf>>> {
        let mut files: Vec<Option<PathBuf>> = Vec::with_capacity(runs.len());
        for run in runs {
            let file = match (&run.failure, &self.out) {
                (Some(f), Some(out)) => {
                    let path = out_path(out, run.seed, several);
                    std::fs::write(&path, &f.toml)
                        .wrap_err_with(|| format!("cannot write the failing sequence to {}", path.display()))?;
                    Some(path)
                }
                _ => None,
            };
            files.push(file);
        }
        Ok(files)
    }

    /// The report of the run: each seed's run with where its failing sequence went.
    fn report<'a>(
        &self,
        seeds: &'a [u64],
        invariants: &'a [Box<dyn Invariant>],
        outcome: &'a Outcome,
    ) -> PropReport<'a> {
        let runs: Vec<SeedRun<'a>> = outcome
            .runs
            .iter()
            .zip(&outcome.files)
            .map(|(r, file)| SeedRun {
                seed: r.seed,
                generated: r.generated,
                elapsed: r.elapsed,
                stats: &r.stats,
                failure: r.failure.as_ref().map(|f| SeedFailure {
                    invariant: &f.found.invariant,
                    step: f.found.index,
                    message: &f.found.message,
                    shrunk_steps: f.shrunk.steps.len(),
                    candidates: f.candidates,
                    reproduced: f.reproduced,
                    file: file.as_deref(),
                    toml: &f.toml,
                }),
                shrunk: !self.no_shrink,
            })
            .collect();
        PropReport {
            steps: self.steps,
            seeds,
            invariants: invariants.iter().map(|i| i.name()).collect(),
            passed: runs.iter().all(|r| r.failure.is_none()),
            elapsed: outcome.elapsed,
            runs,
        }
    }
}

impl PropReport<'_> {
    /// Fails (the report already printed) when an invariant broke, naming the seeds.
    fn verdict(&self) -> eyre::Result<()> {
        let failing: Vec<String> =
            self.runs.iter().filter(|r| r.failure.is_some()).map(|r| r.seed.to_string()).collect();
        if failing.is_empty() {
            Ok(())
        } else {
            Err(Reported(format!("an invariant broke (seed {})", failing.join(", "))).into())
        }
    }
}

/// Each seed's run, then a verdict over all of them.
impl fmt::Display for PropReport<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for run in &self.runs {
            writeln!(f, "{run}")?;
        }
        let steps: usize = self.runs.iter().map(|r| r.stats.steps).sum();
        let failed = self.runs.iter().filter(|r| r.failure.is_some()).count();
        let verdict = if failed == 0 {
            format!("every invariant held ({:.0} steps/s)", steps as f64 / self.elapsed.as_secs_f64().max(1e-9))
        } else {
            format!("{failed} failed (shrinking included)")
        };
        write!(
            f,
            "\n{} seed{}, {} steps checked in {:.2} s: {verdict}",
            self.runs.len(),
            if self.runs.len() == 1 { "" } else { "s" },
            thousands(steps as u64),
            self.elapsed.as_secs_f64(),
        )
    }
}

/// The seed's counts and time; if an invariant broke, which, how it was shrunk, and where the
/// sequence was written (or the sequence itself).
impl fmt::Display for SeedRun<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.stats;
        write!(
            f,
            "seed {}: {} steps, {} succeeded; trades: {} created, {} settled, {} cancelled, {} expired; {:.2} s — {}",
            self.seed,
            thousands(s.steps as u64),
            thousands(s.succeeded as u64),
            thousands(s.created as u64),
            thousands(s.settled as u64),
            thousands(s.cancelled as u64),
            thousands(s.expired as u64),
            self.elapsed.as_secs_f64(),
            if self.failure.is_some() { "FAILED" } else { "ok" }
        )?;
        let Some(failure) = &self.failure else { return Ok(()) };
        write!(f, "\n  invariant `{}` broke: {}", failure.invariant, failure.message)?;
        let how = if self.shrunk {
            format!(
                "shrunk to {} steps ({} candidate sequences replayed)",
                failure.shrunk_steps,
                thousands(failure.candidates as u64)
            )
        } else {
            format!("not shrunk: the {} steps up to the failure", failure.shrunk_steps)
        };
        write!(
            f,
            "\n  {how}; the written file {}",
            if failure.reproduced {
                "replays to the same failure"
            } else {
                "does NOT reproduce the failure on its own (the failure depends on more than the kept steps)"
            }
        )?;
        match failure.file {
            Some(path) => write!(f, "\n  written to {} — replay it: kessai sim run {}", path.display(), path.display()),
            None => write!(f, "\n  (give --out FILE to write it)\n\n{}", failure.toml),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeds_are_ranges_or_lists() {
        assert_eq!(parse_seeds("1..4").expect("range"), [1, 2, 3, 4]);
        assert_eq!(parse_seeds("1..=2").expect("range"), [1, 2]);
        assert_eq!(parse_seeds("7").expect("one"), [7]);
        assert_eq!(parse_seeds("1,5, 9").expect("list"), [1, 5, 9]);
        assert!(parse_seeds("4..1").is_err() && parse_seeds("x").is_err());
        assert_eq!(out_path(Path::new("a/f.toml"), 3, true), Path::new("a/f-seed3.toml"));
        assert_eq!(out_path(Path::new("f.toml"), 3, false), Path::new("f.toml"));
    }
}
