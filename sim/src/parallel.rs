//! Independent runs in parallel: each scenario (or each seed of a generated workload) replays on its
//! own in-process chain in its own thread, and the results come back in input order.
//!
//! The in-process engine never waits on anything, and revm's EVM stays on the thread that made it:
//! [`drive`] makes an in-process run (its chain included) and runs it to completion on a tokio
//! current-thread runtime that each thread builds once and keeps, which lets a rayon pool's threads
//! (or any plain thread) run whole scenarios.
//!
//! ```
//! use kessai_sim::parallel;
//!
//! let squares = parallel::map(&[1u64, 2, 3, 4], 2, |n| n * n);
//! assert_eq!(squares, [1, 4, 9, 16]);
//! ```

use crate::{
    RevmChain, RevmOptions,
    scenario::{RunReport, Scenario, ScenarioError, run},
    workload::party_keys,
};
use alloy::signers::local::PrivateKeySigner;
use std::{future::Future, thread};

/// Threads to use by default: the machine's available parallelism.
pub fn default_threads() -> usize {
    thread::available_parallelism().map_or(1, |n| n.get())
}

/// Applies `f` to every item on up to `threads` threads (a rayon pool of that size); the results are
/// in the items' order.
pub fn map<T: Sync, R: Send>(items: &[T], threads: usize, f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    use rayon::prelude::*;
    let threads = threads.clamp(1, items.len().max(1));
    if threads == 1 {
        return items.iter().map(&f).collect();
    }
    match rayon::ThreadPoolBuilder::new().num_threads(threads).build() {
        Ok(pool) => pool.install(|| items.par_iter().map(&f).collect()),
        // No threads to be had: the same results, one after the other.
        Err(_) => items.iter().map(&f).collect(),
    }
}

thread_local! {
    /// This thread's runtime for in-process runs: current-thread, without I/O or timers (the engine
    /// waits on nothing), built on the first run and reused by the next ones.
    static RUNTIME: tokio::runtime::Runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a current-thread runtime without I/O or timers needs no resources to build");
}

/// Runs the future `run` makes (an in-process run, which makes its chain) to completion on this
/// thread's runtime. Called from async code (a command's `execute` replaying one scenario at a time),
/// where tokio does not start a runtime inside another, the run is made and runs on a thread of its
/// own while this one waits.
pub fn drive<F, R>(run: R) -> F::Output
where
    R: FnOnce() -> F + Send,
    F: Future,
    F::Output: Send,
{
    if tokio::runtime::Handle::try_current().is_ok() {
        return thread::scope(|scope| match scope.spawn(|| drive(run)).join() {
            Ok(output) => output,
            Err(panic) => std::panic::resume_unwind(panic),
        });
    }
    RUNTIME.with(|runtime| runtime.block_on(run()))
}

/// A fresh in-process chain for `scenario` and a key for each of its parties (Anvil's development
/// keys first, then derived ones), every party funded.
pub fn in_process_chain(scenario: &Scenario) -> (RevmChain, Vec<PrivateKeySigner>) {
    in_process_chain_with(scenario, &RevmOptions::default())
}

/// [`in_process_chain`] under `options` (hard fork, chain id).
pub fn in_process_chain_with(scenario: &Scenario, options: &RevmOptions) -> (RevmChain, Vec<PrivateKeySigner>) {
    let keys = party_keys(scenario.parties.len().max(10));
    let accounts: Vec<_> = keys.iter().map(PrivateKeySigner::address).collect();
    (RevmChain::new(options, &accounts), keys)
}

/// Replays `scenario` on a fresh in-process chain.
pub fn run_in_process(scenario: &Scenario) -> Result<RunReport, ScenarioError> {
    run_in_process_with(scenario, &RevmOptions::default())
}

/// [`run_in_process`] under `options` (hard fork, chain id).
pub fn run_in_process_with(scenario: &Scenario, options: &RevmOptions) -> Result<RunReport, ScenarioError> {
    drive(|| async {
        let (mut chain, keys) = in_process_chain_with(scenario, options);
        run::run(&mut chain, scenario, &keys, |_| {}).await
    })
}

/// Replays every scenario on its own in-process chain, up to `threads` at once; the reports are in
/// the scenarios' order.
pub fn run_all(scenarios: &[Scenario], threads: usize) -> Vec<Result<RunReport, ScenarioError>> {
    map(scenarios, threads, run_in_process)
}
