//! `kessai watch`: prints the suite's back-office event stream ([`kessai_deployer::events`]) — one
//! line per event, as text or JSON lines — from a block or a saved cursor, once or following new
//! blocks.

use super::{GlobalArgs, engine};
use eyre::WrapErr;
use kessai_deployer::events::{Cursor, EventStream};
use std::{io::Write, path::PathBuf, time::Duration};

/// Print the suite's events: trades, transfers, issues, redemptions, deposits, payments.
///
/// With `--cursor FILE` the position after the last printed event is saved after each batch, and a
/// later run with the same file continues exactly there (the file wins over --from-block). A crash
/// between printing a batch and saving the cursor prints that batch again: key records by
/// (block, log_index) to discard repeats.
#[derive(Debug, clap::Args)]
pub struct WatchCommand {
    /// The node and the deployment manifest.
    #[command(flatten)]
    suite: engine::SuiteArgs,
    /// First block to read when no saved cursor exists (default: the suite's first deployment block).
    #[arg(long)]
    from_block: Option<u64>,
    /// Keep following new blocks until interrupted.
    #[arg(long)]
    follow: bool,
    /// Load the cursor from this file if it exists, and save it after each batch.
    #[arg(long)]
    cursor: Option<PathBuf>,
    /// Stop after this many events (the cursor then points at the next one).
    #[arg(long)]
    limit: Option<usize>,
    /// Leave the newest blocks unread until they have this many blocks on top (chains that reorganise).
    #[arg(long, default_value_t = 0)]
    confirmations: u64,
    /// Milliseconds between polls when following.
    #[arg(long, default_value_t = 1_000)]
    poll_ms: u64,
}

impl WatchCommand {
    /// Prints events until caught up (or forever with --follow).
    pub async fn execute(self, global: GlobalArgs) -> eyre::Result<()> {
        let (manifest, mut chain) = self.suite.connect(&engine::ChainArgs::default()).await?;
        let saved = match &self.cursor {
            Some(path) => Cursor::load(path).wrap_err_with(|| format!("cannot read the cursor {}", path.display()))?,
            None => None,
        };
        let first_block = manifest.deployment.contracts.values().map(|c| c.block).min().unwrap_or(0);
        let start = saved.unwrap_or(Cursor::at_block(self.from_block.unwrap_or(first_block)));
        let mut stream = EventStream::new(&manifest.deployment, start);
        stream.confirmations = self.confirmations;
        tracing::info!(target: "kessai::watch", cursor = %start, "reading events");
        let mut left = self.limit;
        let mut stdout = std::io::stdout().lock();
        loop {
            let batch = stream.next_batch(&mut chain, left).await?;
            for event in &batch.events {
                if global.json {
                    writeln!(stdout, "{}", serde_json::to_string(event)?)?;
                } else {
                    writeln!(stdout, "{event}")?;
                }
            }
            stdout.flush()?;
            if let Some(path) = &self.cursor {
                stream.cursor().save(path).wrap_err_with(|| format!("cannot save the cursor {}", path.display()))?;
            }
            if let Some(n) = left.as_mut() {
                *n -= batch.events.len();
                if *n == 0 {
                    return Ok(());
                }
            }
            if batch.caught_up {
                if !self.follow {
                    return Ok(());
                }
                tokio::time::sleep(Duration::from_millis(self.poll_ms)).await;
            }
        }
    }
}
