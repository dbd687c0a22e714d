//! The benchmark's revm engines: the in-process engine ([`RevmChain`], one per chain, driven through
//! the [`Chain`] trait) and raw revm (revm alone, from a snapshot of the same state), each on one
//! thread (the chains' transactions interleaved settlement by settlement) and on two (one chain per
//! thread: with the proofs signed in advance the chains do not wait for each other).

use super::{
    super::{ASSET_CHAIN, PAYMENT_CHAIN},
    Measured,
    workload::{Transactions, Workload, balance_of, check_chain, compare, set_up_side},
};
use crate::{RevmChain, RevmOptions, evm::BLOCK_GAS_LIMIT, parallel};
use kessai_bindings::alloy::primitives::{Address, B256, TxKind, U256};
use kessai_deployer::{
    DeployerError, anvil,
    chain::{Chain, Tx},
    plan::Deployment,
    profile::Hardfork,
    xchain::{plan::Side, trade::TwoSuites},
};
use revm::{
    DatabaseRef, ExecuteCommitEvm, ExecuteEvm,
    context::{BlockEnv, TxEnv},
    context_interface::result::ExecutionResult,
    database::{CacheDB, EmptyDB},
    handler::{MainnetContext, MainnetEvm},
};
use std::{
    sync::Barrier,
    thread,
    time::{Duration, Instant},
};

/// Where and at what cost a transaction was mined in-process: every engine must use the same gas,
/// and raw revm executes it in the same block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Mined {
    pub(super) gas: u64,
    pub(super) block: u64,
    pub(super) timestamp: u64,
}

/// A side's chain id and EVM rules: the asset chain like ibet for Fin (Berlin), the payment chain on
/// Cancun.
pub(super) fn rules(side: Side) -> (u64, Hardfork) {
    if side == Side::Asset { (ASSET_CHAIN, Hardfork::Berlin) } else { (PAYMENT_CHAIN, Hardfork::Cancun) }
}

/// A fresh in-process chain for `side`, deployed and funded by [`set_up_side`].
pub(super) async fn set_up(side: Side, workload: &Workload) -> Result<(RevmChain, Deployment), DeployerError> {
    let (chain_id, hardfork) = rules(side);
    let mut funded = anvil::dev_accounts();
    funded.extend(workload.senders(side).iter().map(|k| k.address()));
    let mut chain = RevmChain::new(&RevmOptions::new(hardfork, chain_id), &funded);
    let deployment = set_up_side(&mut chain, side, workload).await?;
    Ok((chain, deployment))
}

/// Sends `tx` through the engine trait and records where it was mined.
async fn send<C: Chain>(chain: &mut C, tx: &Tx, mined: &mut Vec<Mined>) -> Result<(), DeployerError> {
    let receipt = chain.send(tx.clone()).await?;
    let timestamp = chain.timestamp().await?;
    mined.push(Mined { gas: receipt.gas_used, block: receipt.block_number, timestamp });
    Ok(())
}

/// Every settlement in turn on one thread: the lock on A, the payment and the commit on B, the
/// delivery on A.
pub(super) async fn settle_interleaved<C: Chain>(
    a: &mut C,
    b: &mut C,
    txs: &Transactions,
) -> Result<(Vec<Mined>, Vec<Mined>), DeployerError> {
    let (mut on_a, mut on_b) = (Vec::with_capacity(txs.asset.len()), Vec::with_capacity(txs.payment.len()));
    for (at_a, at_b) in txs.asset.chunks_exact(2).zip(txs.payment.chunks_exact(2)) {
        send(a, &at_a[0], &mut on_a).await?;
        send(b, &at_b[0], &mut on_b).await?;
        send(b, &at_b[1], &mut on_b).await?;
        send(a, &at_a[1], &mut on_a).await?;
    }
    Ok((on_a, on_b))
}

/// One chain's transactions in order.
async fn settle_side<C: Chain>(chain: &mut C, txs: &[Tx]) -> Result<Vec<Mined>, DeployerError> {
    let mut mined = Vec::with_capacity(txs.len());
    for tx in txs {
        send(chain, tx, &mut mined).await?;
    }
    Ok(mined)
}

/// The in-process engine on one thread: both chains set up (untimed), every settlement in turn
/// (timed), then every party's balance checked.
pub(super) fn in_process_one(
    workload: &Workload,
    suites: &TwoSuites,
    txs: &Transactions,
) -> Result<(Measured, Vec<Mined>, Vec<Mined>), DeployerError> {
    parallel::drive(|| async {
        let (mut a, _) = set_up(Side::Asset, workload).await?;
        let (mut b, _) = set_up(Side::Payment, workload).await?;
        let began = Instant::now();
        let (on_a, on_b) = settle_interleaved(&mut a, &mut b, txs).await?;
        let seconds = began.elapsed().as_secs_f64();
        let settled = workload.trades.len();
        let mut balances =
            check_chain("in-process", &mut a, Side::Asset, &workload.expected(Side::Asset, suites, settled)).await?;
        balances +=
            check_chain("in-process", &mut b, Side::Payment, &workload.expected(Side::Payment, suites, settled))
                .await?;
        let gas = (on_a.iter().map(|m| m.gas).collect(), on_b.iter().map(|m| m.gas).collect());
        Ok((Measured { seconds, gas, balances }, on_a, on_b))
    })
}

/// The in-process engine on two threads: each sets up its chain, both start together, each sends its
/// chain's transactions, then checks its parties' balances.
pub(super) fn in_process_two(
    workload: &Workload,
    suites: &TwoSuites,
    txs: &Transactions,
) -> Result<(Measured, Vec<Mined>, Vec<Mined>), DeployerError> {
    let settled = workload.trades.len();
    let (seconds, (a, balances_a), (b, balances_b)) = on_two_threads(
        |side| Ok(block_on(set_up(side, workload))??.0),
        |side, mut chain: RevmChain| {
            block_on(async {
                let mined = settle_side(&mut chain, txs.of(side)).await?;
                let ended = Instant::now();
                let expected = workload.expected(side, suites, settled);
                let balances = check_chain("in-process (two threads)", &mut chain, side, &expected).await?;
                Ok((ended, (mined, balances)))
            })?
        },
    )?;
    let gas = (a.iter().map(|m| m.gas).collect(), b.iter().map(|m| m.gas).collect());
    Ok((Measured { seconds, gas, balances: balances_a + balances_b }, a, b))
}

/// Runs `prepare` then `run` for each chain on a thread of its own; the timed parts start together
/// (each thread waits for the other's preparation) and the result's seconds run from the first
/// start to the last end `run` reports (before anything it does untimed afterwards).
fn on_two_threads<P, T: Send>(
    prepare: impl Fn(Side) -> Result<P, DeployerError> + Sync,
    run: impl Fn(Side, P) -> Result<(Instant, T), DeployerError> + Sync,
) -> Result<(f64, T, T), DeployerError> {
    let barrier = Barrier::new(2);
    let on = |side: Side| {
        let prepared = prepare(side);
        barrier.wait();
        let began = Instant::now();
        let (ended, value) = run(side, prepared?)?;
        Ok::<_, DeployerError>((began, ended, value))
    };
    let joined = |handle: thread::ScopedJoinHandle<'_, _>| match handle.join() {
        Ok(result) => result,
        Err(panic) => std::panic::resume_unwind(panic),
    };
    let (a, b) = thread::scope(|scope| {
        let a = scope.spawn(|| on(Side::Asset));
        let b = scope.spawn(|| on(Side::Payment));
        (joined(a), joined(b))
    });
    let ((a_began, a_ended, a), (b_began, b_ended, b)) = (a?, b?);
    let seconds = a_ended.max(b_ended).duration_since(a_began.min(b_began));
    Ok((seconds.max(Duration::from_nanos(1)).as_secs_f64(), a, b))
}

/// revm alone over a snapshot of a chain's state.
type RawEvm = MainnetEvm<MainnetContext<CacheDB<EmptyDB>>>;

/// A side's snapshot ready for raw revm: the EVM over the state after setup, and that side's
/// transactions as revm's environments, each with its sender's nonce counted from the snapshot.
struct Raw {
    evm: RawEvm,
    envs: Vec<TxEnv>,
}

impl Raw {
    /// `side`'s chain set up in-process (untimed), its state cloned and the engine dropped.
    async fn snapshot(side: Side, workload: &Workload, txs: &Transactions) -> Result<Self, DeployerError> {
        let (chain, _) = set_up(side, workload).await?;
        let db = chain.db().clone();
        drop(chain);
        let (chain_id, hardfork) = rules(side);
        let envs = crate::evm::tx_envs(&db, txs.of(side).iter().map(|tx| (tx.from, tx.to, &tx.data)), chain_id);
        let evm = crate::evm::build_evm(db, crate::evm::spec_id(hardfork), chain_id);
        Ok(Self { evm, envs })
    }

    /// Executes `env` in the block it was mined in in-process and commits it; its gas.
    fn execute(&mut self, env: TxEnv, at: &Mined) -> Result<u64, DeployerError> {
        self.evm.set_block(BlockEnv {
            number: U256::from(at.block),
            timestamp: U256::from(at.timestamp),
            gas_limit: BLOCK_GAS_LIMIT,
            basefee: 0,
            prevrandao: Some(B256::ZERO),
            ..Default::default()
        });
        let result = self.evm.transact_commit(env).map_err(in_process("executing a transaction"))?;
        let ExecutionResult::Success { .. } = result else {
            return Err(DeployerError::Answer(format!("raw revm: a benchmark transaction failed: {result:?}")));
        };
        Ok(result.tx_gas_used())
    }

    /// Checks every party's balance on `side`'s chain with read-only calls (untimed).
    fn check(
        &mut self,
        engine: &str,
        side: Side,
        expected: &[(Address, Address, U256)],
    ) -> Result<usize, DeployerError> {
        compare(engine, side, expected, |token, holder| {
            let env = TxEnv {
                caller: Address::ZERO,
                kind: TxKind::Call(token),
                data: balance_of(holder),
                nonce: self
                    .evm
                    .ctx
                    .journaled_state
                    .database
                    .basic_ref(Address::ZERO)
                    .ok()
                    .flatten()
                    .map_or(0, |a| a.nonce),
                gas_limit: BLOCK_GAS_LIMIT,
                gas_price: 0,
                chain_id: Some(self.evm.ctx.cfg.chain_id),
                ..Default::default()
            };
            let outcome = self.evm.transact(env).map_err(in_process("reading a balance"))?;
            let ExecutionResult::Success { output, .. } = outcome.result else {
                return Err(DeployerError::Answer(format!("raw revm: balanceOf failed: {:?}", outcome.result)));
            };
            Ok(U256::from_be_slice(output.data().get(..32).unwrap_or_default()))
        })
    }
}

/// Runs `future` to completion on a runtime of this thread's own (a thread the benchmark started,
/// which has none): the in-process engine answers at once, and its state never leaves the thread.
fn block_on<F: Future>(future: F) -> Result<F::Output, DeployerError> {
    let runtime = tokio::runtime::Builder::new_current_thread().build()?;
    Ok(runtime.block_on(future))
}

/// An error of revm itself, saying what it was doing.
fn in_process<E: std::error::Error + Send + Sync + 'static>(what: &'static str) -> impl Fn(E) -> DeployerError {
    move |e| DeployerError::InProcess { what, source: Box::new(e) }
}

/// Raw revm on one thread: both snapshots, every settlement in turn as the in-process engine sends
/// them, each transaction in the block it was mined in there.
pub(super) fn raw_one(
    workload: &Workload,
    suites: &TwoSuites,
    txs: &Transactions,
    blocks: (&[Mined], &[Mined]),
) -> Result<Measured, DeployerError> {
    parallel::drive(|| async {
        let a = Raw::snapshot(Side::Asset, workload, txs).await?;
        let b = Raw::snapshot(Side::Payment, workload, txs).await?;
        raw_interleaved(workload, suites, (a, b), blocks)
    })
}

/// [`raw_one`]'s timed part and its check of the balances.
fn raw_interleaved(
    workload: &Workload,
    suites: &TwoSuites,
    (mut a, mut b): (Raw, Raw),
    blocks: (&[Mined], &[Mined]),
) -> Result<Measured, DeployerError> {
    let (mut gas_a, mut gas_b) = (Vec::with_capacity(a.envs.len()), Vec::with_capacity(b.envs.len()));
    let (envs_a, envs_b) = (std::mem::take(&mut a.envs), std::mem::take(&mut b.envs));
    let mut on_a = envs_a.into_iter().zip(blocks.0);
    let mut on_b = envs_b.into_iter().zip(blocks.1);
    let began = Instant::now();
    while let (Some((lock, at_lock)), Some((deliver, at_deliver))) = (on_a.next(), on_a.next()) {
        let (Some((pay, at_pay)), Some((commit, at_commit))) = (on_b.next(), on_b.next()) else { break };
        gas_a.push(a.execute(lock, at_lock)?);
        gas_b.push(b.execute(pay, at_pay)?);
        gas_b.push(b.execute(commit, at_commit)?);
        gas_a.push(a.execute(deliver, at_deliver)?);
    }
    let seconds = began.elapsed().as_secs_f64();
    let settled = workload.trades.len();
    let balances = a.check("raw revm", Side::Asset, &workload.expected(Side::Asset, suites, settled))?
        + b.check("raw revm", Side::Payment, &workload.expected(Side::Payment, suites, settled))?;
    Ok(Measured { seconds, gas: (gas_a, gas_b), balances })
}

/// Raw revm on two threads: each takes its chain's snapshot, both start together, each executes its
/// chain's transactions in the blocks they were mined in in-process.
pub(super) fn raw_two(
    workload: &Workload,
    suites: &TwoSuites,
    txs: &Transactions,
    blocks: (&[Mined], &[Mined]),
) -> Result<Measured, DeployerError> {
    let settled = workload.trades.len();
    let (seconds, (gas_a, balances_a), (gas_b, balances_b)) = on_two_threads(
        |side| block_on(Raw::snapshot(side, workload, txs))?,
        |side, mut raw: Raw| {
            let at = if side == Side::Asset { blocks.0 } else { blocks.1 };
            let envs = std::mem::take(&mut raw.envs);
            let mut gas = Vec::with_capacity(envs.len());
            for (env, mined) in envs.into_iter().zip(at) {
                gas.push(raw.execute(env, mined)?);
            }
            let ended = Instant::now();
            let balances = raw.check("raw revm (two threads)", side, &workload.expected(side, suites, settled))?;
            Ok((ended, (gas, balances)))
        },
    )?;
    Ok(Measured { seconds, gas: (gas_a, gas_b), balances: balances_a + balances_b })
}
