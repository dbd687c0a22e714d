//! Independent runs in parallel: each scenario (or each seed of a generated workload) replays on its
//! own in-process chain in its own thread, and the results come back in input order.
//!
//! The in-process engine never waits on anything, so its futures complete the first time they are
//! polled; [`block_on`] drives one on the current thread without an async runtime, which lets plain
//! scoped threads run whole scenarios.
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
use std::{
    future::Future,
    sync::Arc,
    task::{Context, Poll, Wake, Waker},
    thread::{self, Thread},
};

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

struct ThreadWaker(Thread);

impl Wake for ThreadWaker {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }
}

/// Runs `future` to completion on the current thread (parking while it waits).
pub fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    let waker = Waker::from(Arc::new(ThreadWaker(thread::current())));
    let mut cx = Context::from_waker(&waker);
    loop {
        match future.as_mut().poll(&mut cx) {
            Poll::Ready(output) => return output,
            Poll::Pending => thread::park(),
        }
    }
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
    let (mut chain, keys) = in_process_chain_with(scenario, options);
    block_on(run::run(&mut chain, scenario, &keys, |_| {}))
}

/// Replays every scenario on its own in-process chain, up to `threads` at once; the reports are in
/// the scenarios' order.
pub fn run_all(scenarios: &[Scenario], threads: usize) -> Vec<Result<RunReport, ScenarioError>> {
    map(scenarios, threads, run_in_process)
}
