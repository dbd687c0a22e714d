//! `kessai watch`: prints the suite's back-office event stream ([`kessai_deployer::events`]) — one
//! line per event, as text or JSON lines — from a block or a saved checkpoint, once or following new
//! blocks; on a chain that reorganises, retractions of the events from orphaned blocks come before
//! the events of their replacements.

use super::{GlobalArgs, engine, output};
use eyre::WrapErr;
use kessai_deployer::{
    events::{Checkpoint, Cursor, EventStream, StreamLine},
    manifest::Manifest,
};
use serde::Serialize;
use std::{fmt, io::Write, path::PathBuf, time::Duration};

/// Chain ids of local development nodes (Anvil, Hardhat, Ganache), which reorganise only on request.
const DEV_CHAIN_IDS: [u64; 2] = [31_337, 1_337];

/// Confirmations on a chain without a recorded profile that is not a local development node.
const UNKNOWN_CHAIN_CONFIRMATIONS: u64 = 12;

/// Print the suite's events: trades, transfers, issues, redemptions, deposits, payments.
///
/// With `--cursor FILE` the checkpoint (the position after the last printed event, and the hashes
/// and events of the last blocks read) is saved after each batch, and a later run with the same
/// file continues exactly there (the file wins over --from-block). A crash between printing a batch
/// and saving the checkpoint prints that batch again: key records by (block, log_index) to discard
/// repeats.
///
/// Blocks are read once they have --confirmations blocks on top. When the chain reorganises below
/// that depth anyway, the events already printed from the orphaned blocks are printed again as
/// retractions (text: `retracted (…)`; JSON: `{"kind":"retracted","fork_block":…,"orphaned_hash":…,
/// "event":{…}}`, newest first; event lines carry `"kind":"event"`), then the events of the blocks
/// that replaced them. A consumer that undoes each retraction ends with what the chain holds.
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
    /// Load the checkpoint from this file if it exists, and save it after each batch.
    #[arg(long)]
    cursor: Option<PathBuf>,
    /// Stop after this many events (the cursor then points at the next one).
    #[arg(long)]
    limit: Option<usize>,
    /// Leave the newest blocks unread until they have this many blocks on top (default: the chain
    /// profile's recorded in the manifest; without one, 0 on local development chains (chain id
    /// 31337 or 1337) and 12 elsewhere).
    #[arg(long)]
    confirmations: Option<u64>,
    /// Milliseconds between polls when following.
    #[arg(long, default_value_t = 1_000)]
    poll_ms: u64,
}

/// The confirmations to wait for on the manifest's chain when none are given.
fn default_confirmations(manifest: &Manifest) -> u64 {
    match manifest.profile {
        Some(profile) => profile.confirmations(),
        None if DEV_CHAIN_IDS.contains(&manifest.deployment.chain_id) => 0,
        None => UNKNOWN_CHAIN_CONFIRMATIONS,
    }
}

impl WatchCommand {
    /// Prints events until caught up (or forever with --follow).
    pub async fn execute(self, global: GlobalArgs) -> eyre::Result<()> {
        let (manifest, mut chain) = self.suite.connect_read_only().await?;
        let mut stream = self.open(&manifest)?;
        let mut left = self.limit;
        let mut stdout = std::io::stdout().lock();
        loop {
            let batch = stream.next_batch(&mut chain, left).await?;
            for line in batch.lines() {
                output::write_line(&mut stdout, global, &Line(line))?;
            }
            stdout.flush()?;
            if let Some(path) = &self.cursor {
                stream
                    .checkpoint()
                    .save(path)
                    .wrap_err_with(|| format!("cannot save the cursor {}", path.display()))?;
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

    /// The stream from the saved checkpoint, else from `--from-block` or the suite's first block.
    fn open(&self, manifest: &Manifest) -> eyre::Result<EventStream> {
        let saved = match &self.cursor {
            Some(path) => {
                Checkpoint::load(path).wrap_err_with(|| format!("cannot read the cursor {}", path.display()))?
            }
            None => None,
        };
        let first_block = manifest.deployment.contracts.values().map(|c| c.block).min().unwrap_or(0);
        let start = saved.unwrap_or(Checkpoint::at(Cursor::at_block(self.from_block.unwrap_or(first_block))));
        let cursor = start.cursor;
        let mut stream = EventStream::resume(&manifest.deployment, start);
        stream.confirmations = self.confirmations.unwrap_or_else(|| default_confirmations(manifest));
        tracing::info!(target: "kessai::watch", %cursor, confirmations = stream.confirmations, "reading events");
        Ok(stream)
    }
}

/// One line of the stream: an event, or the retraction of one from an orphaned block.
#[derive(Serialize)]
#[serde(transparent)]
struct Line(StreamLine);

impl fmt::Display for Line {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            StreamLine::Event(event) => event.fmt(f),
            StreamLine::Retracted(gone) => gone.fmt(f),
        }
    }
}
