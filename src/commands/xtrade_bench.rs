//! `kessai xtrade bench`: cross-chain settlement latency on two spawned Anvils with interval mining,
//! the attestors and a relayer running ([`kessai_deployer::xchain::bench`]). A benchmark, not a test:
//! it prints what it measured and how that compares with the goal, and never fails on a timing (only
//! when a trade does not settle at all).

use super::{GlobalArgs, Reported, output};
use kessai_deployer::xchain::bench::{self, BenchOptions};

/// Settle trades on two spawned Anvils and report the latency from each payment's block to its
/// delivery's block (p50, p90, p99, max), the throughput, and where the time goes.
#[derive(Debug, clap::Args)]
pub struct BenchCommand {
    /// Trades to settle.
    #[arg(long, default_value_t = 1_000)]
    trades: usize,
    /// Trades submitted per second (each a lock on the asset chain and a payment on the payment chain).
    #[arg(long, default_value_t = 20.0)]
    rate: f64,
    /// Seconds between blocks on both chains (Anvil's `--block-time`).
    #[arg(long, default_value_t = 1)]
    block_time: u64,
    /// Seller/payer account pairs that submit (0: three per trade per second).
    #[arg(long, default_value_t = 0)]
    senders: usize,
    /// Milliseconds between the attestors' and the relayer's passes.
    #[arg(long, default_value_t = 100)]
    poll_ms: u64,
    /// Blocks on top of a lock on the asset chain before the attestors sign it.
    #[arg(long, default_value_t = 0)]
    asset_confirmations: u64,
    /// Blocks on top of a commit on the payment chain before the attestors sign it.
    #[arg(long, default_value_t = 1)]
    payment_confirmations: u64,
    /// Seconds to wait after the last submission for every trade to settle.
    #[arg(long, default_value_t = 120)]
    settle_timeout: u64,
}

impl BenchCommand {
    /// Runs the benchmark and prints its report.
    pub async fn execute(self, global: GlobalArgs) -> eyre::Result<()> {
        let options = BenchOptions {
            trades: self.trades,
            rate: self.rate,
            block_time: self.block_time,
            senders: self.senders,
            poll_ms: self.poll_ms,
            asset_confirmations: self.asset_confirmations,
            payment_confirmations: self.payment_confirmations,
            settle_timeout_s: self.settle_timeout,
        };
        let report = bench::run(&options, &mut |line| output::progress(global, line)).await?;
        output::print_document(global, &report)?;
        // A trade that did not settle is a failure of the settlement, not a timing: said after the
        // report, with a non-zero exit.
        if report.settled < options.trades {
            let message = format!(
                "{} of {} trades did not settle within {} s of the last submission",
                options.trades - report.settled,
                options.trades,
                options.settle_timeout_s
            );
            return Err(Reported(message).into());
        }
        Ok(())
    }
}
