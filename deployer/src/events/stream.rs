//! The event stream: events in order, retractions after a reorganisation, checkpoints.

use super::*;

/// One event of the suite, with its position.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SuiteEvent {
    /// Block number.
    pub block: u64,
    /// Index of the log within its block.
    pub log_index: u64,
    /// The transaction that emitted it.
    pub tx_hash: B256,
    /// Manifest label of the emitting contract (`dvp`, `security`, `deposit`, `instrument`, ...).
    pub contract: String,
    /// Its address.
    pub address: Address,
    /// What happened.
    #[serde(flatten)]
    pub event: EventKind,
}

impl SuiteEvent {
    /// The event's position (a unique key on the chain).
    pub fn position(&self) -> Cursor {
        Cursor { block: self.block, log_index: self.log_index }
    }
}

impl fmt::Display for SuiteEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "block {} log {} {}: {} (tx {})", self.block, self.log_index, self.contract, self.event, self.tx_hash)
    }
}

/// An event the stream had returned from a block that a reorganisation took off the chain: undo it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Retraction {
    /// The first block after the fork point: every block from here that the stream had read is gone.
    pub fork_block: u64,
    /// The hash of the orphaned block the event was in.
    pub orphaned_hash: B256,
    /// The event, as it was returned.
    pub event: SuiteEvent,
}

impl fmt::Display for Retraction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "retracted (block {} {} is no longer on the chain): {}",
            self.event.block, self.orphaned_hash, self.event
        )
    }
}

/// One line of the stream as `kessai watch --json` prints it: `{"kind":"event", …the event…}` or
/// `{"kind":"retracted","fork_block":…,"orphaned_hash":…,"event":{…the event…}}`. A retraction
/// line does not parse as a [`SuiteEvent`], so a reader that knows only events fails on it rather
/// than booking it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum StreamLine {
    /// An event to apply.
    Event(SuiteEvent),
    /// An event to undo.
    Retracted(Retraction),
}

/// What one read of the stream returned.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Batch {
    /// Events returned earlier from blocks a reorganisation removed, newest first: undo them, in this
    /// order, before applying [`Batch::events`].
    pub retracted: Vec<Retraction>,
    /// The events, in chain order.
    pub events: Vec<SuiteEvent>,
    /// The stream has read up to the newest block it may read: wait before reading again.
    pub caught_up: bool,
}

impl Batch {
    /// The batch as stream lines, in the order to apply them: retractions, then events.
    pub fn lines(&self) -> impl Iterator<Item = StreamLine> + '_ {
        self.retracted
            .iter()
            .cloned()
            .map(StreamLine::Retracted)
            .chain(self.events.iter().cloned().map(StreamLine::Event))
    }
}

/// A block the stream read, kept to notice when it leaves the chain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeptBlock {
    /// Block number.
    pub number: u64,
    /// Its hash when the stream read it.
    pub hash: B256,
    /// The events the stream returned from it, in chain order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub events: Vec<SuiteEvent>,
}

/// Where a stream stands: its cursor and the blocks it keeps (see the module docs). Saved as one JSON
/// object, `{"block":…,"log_index":…,"kept":[…]}`; a file with the cursor alone (what earlier versions
/// saved) loads with no kept blocks.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// The position of the next log to read.
    #[serde(flatten)]
    pub cursor: Cursor,
    /// The last blocks read, oldest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub kept: Vec<KeptBlock>,
}

impl Checkpoint {
    /// A checkpoint at `cursor` with no kept blocks.
    pub fn at(cursor: Cursor) -> Self {
        Self { cursor, kept: Vec::new() }
    }

    /// Reads a checkpoint saved with [`Checkpoint::save`] (or a cursor saved with [`Cursor::save`]);
    /// `None` when the file does not exist.
    pub fn load(path: &Path) -> Result<Option<Self>, DeployerError> {
        load_json(path)
    }

    /// Saves the checkpoint as JSON, atomically (the old file or the new one, never a torn file).
    pub fn save(&self, path: &Path) -> Result<(), DeployerError> {
        save_json(path, self)
    }
}

/// A contract the stream follows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Watched {
    pub(super) label: String,
    pub(super) artifact: String,
}

/// The suite's events from a cursor, batch by batch (see the module docs for the semantics).
///
/// ```no_run
/// # async fn follow(chain: &mut kessai_deployer::rpc::RpcChain) -> Result<(), kessai_deployer::DeployerError> {
/// use kessai_deployer::{events::{Checkpoint, Cursor, EventStream}, manifest::Manifest};
/// use std::path::Path;
///
/// let manifest = Manifest::read(Path::new("deployments/31337.json"))?;
/// let saved = Path::new("back-office.cursor");
/// let checkpoint = Checkpoint::load(saved)?.unwrap_or(Checkpoint::at(Cursor::at_block(0)));
/// let mut stream = EventStream::resume(&manifest.deployment, checkpoint);
/// loop {
///     let batch = stream.next_batch(chain, None).await?;
///     for gone in &batch.retracted {
///         println!("undo {}", gone.event); // reverse what the event booked
///     }
///     for event in &batch.events {
///         println!("{event}"); // book it, keyed by event.position()
///     }
///     stream.checkpoint().save(saved)?;
///     if batch.caught_up {
///         break; // or sleep and poll again
///     }
/// }
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct EventStream {
    pub(super) contracts: BTreeMap<Address, Watched>,
    pub(super) cursor: Cursor,
    pub(super) kept: BTreeMap<u64, KeptBlock>,
    /// Blocks at the head the stream leaves unread until they have this many blocks on top (0: read
    /// up to the head).
    pub confirmations: u64,
    /// Most blocks asked for in one log query.
    pub max_blocks: u64,
    /// How many of the last blocks read the stream keeps (hash and events) to detect and undo a
    /// reorganisation (at least 2; a stream that has read fewer also keeps the block below the
    /// first it read, so a fork right below what it returned is found).
    pub keep_blocks: u64,
}

impl EventStream {
    /// Blocks kept by default: deeper than any reorganisation of a live proof-of-stake chain short
    /// of a failed finality.
    pub const KEEP_BLOCKS: u64 = 64;

    /// A stream over every contract of `deployment` whose events it reports, starting at `cursor`.
    pub fn new(deployment: &Deployment, cursor: Cursor) -> Self {
        Self::resume(deployment, Checkpoint::at(cursor))
    }

    /// A stream continuing from a saved checkpoint (its cursor and kept blocks).
    pub fn resume(deployment: &Deployment, checkpoint: Checkpoint) -> Self {
        let contracts = deployment
            .contracts
            .iter()
            .filter(|(_, c)| EventKind::reports(&c.artifact))
            .map(|(label, c)| (c.address, Watched { label: label.clone(), artifact: c.artifact.clone() }))
            .collect();
        let kept = checkpoint.kept.into_iter().map(|k| (k.number, k)).collect();
        Self {
            contracts,
            cursor: checkpoint.cursor,
            kept,
            confirmations: 0,
            max_blocks: 10_000,
            keep_blocks: Self::KEEP_BLOCKS,
        }
    }

    /// The position of the next event to read.
    pub fn cursor(&self) -> Cursor {
        self.cursor
    }

    /// The cursor and the kept blocks, to save after each batch.
    pub fn checkpoint(&self) -> Checkpoint {
        Checkpoint { cursor: self.cursor, kept: self.kept.values().cloned().collect() }
    }

    /// The followed contracts' addresses.
    pub fn addresses(&self) -> Vec<Address> {
        self.contracts.keys().copied().collect()
    }

    /// Reads the next events: first checks that the newest kept block is still on the chain (if not,
    /// returns the retractions and moves the cursor back: see the module docs); then reads from the
    /// cursor up to the newest readable block (the head less [`EventStream::confirmations`]), at most
    /// [`EventStream::max_blocks`] blocks and, with `limit`, at most that many events. Moves the
    /// cursor just past what it returned.
    pub async fn next_batch<C: Chain>(&mut self, chain: &mut C, limit: Option<usize>) -> Result<Batch, DeployerError> {
        let retracted = self.retract_orphans(chain).await?;
        if !retracted.is_empty() {
            return Ok(Batch { retracted, events: Vec::new(), caught_up: false });
        }
        let head = chain.head().await?;
        let Some(newest) = head.checked_sub(self.confirmations) else {
            return Ok(Batch { caught_up: true, ..Batch::default() });
        };
        if self.cursor.block > newest {
            return Ok(Batch { caught_up: true, ..Batch::default() });
        }
        let to = newest.min(self.cursor.block.saturating_add(self.max_blocks.max(1) - 1));
        let logs = chain.logs(&self.addresses(), self.cursor.block, Some(to)).await?;
        // The hashes of the blocks to keep, read after the logs: when a log's block hash differs, or
        // the blocks do not link up with those kept, the chain changed during this read; return
        // nothing, and the next read finds out how (a reorganisation is retracted there).
        let Some(blocks) = self.linked_blocks(chain, to).await? else { return Ok(Batch::default()) };
        if logs.iter().any(|l| blocks.get(&l.block).is_some_and(|h| *h != l.block_hash)) {
            return Ok(Batch::default());
        }
        let (events, held_back) = self.decode_logs(logs, limit);
        self.keep(&blocks, held_back.map_or(to, |c| c.block), &events);
        match held_back {
            Some(cursor) => {
                self.cursor = cursor;
                Ok(Batch { events, ..Batch::default() })
            }
            None => {
                self.cursor = Cursor::at_block(to + 1);
                Ok(Batch { events, caught_up: to == newest, ..Batch::default() })
            }
        }
    }

    /// The hashes of the blocks to keep after a read up to `to`, by number; `None` when they do not
    /// link up with each other and with the blocks kept (the chain changed during the read).
    ///
    /// From the block below the first one read (kept too, with no events: a fork right below what
    /// this read returns is then found, even by a stream that has read only a few blocks).
    async fn linked_blocks<C: Chain>(
        &self,
        chain: &mut C,
        to: u64,
    ) -> Result<Option<BTreeMap<u64, B256>>, DeployerError> {
        let keep_from = self.cursor.block.max((to + 1).saturating_sub(self.keep_blocks.max(2)));
        let keep_from = keep_from.saturating_sub(1);
        let mut blocks = BTreeMap::new();
        let mut parent = keep_from.checked_sub(1).and_then(|n| self.kept.get(&n)).map(|k| k.hash);
        for number in keep_from..=to {
            let Some(block) = chain.block_ref(number).await? else { return Ok(None) };
            let known = self.kept.get(&number).map(|k| k.hash);
            if parent.is_some_and(|p| p != block.parent_hash) || known.is_some_and(|h| h != block.hash) {
                return Ok(None);
            }
            parent = Some(block.hash);
            blocks.insert(number, block.hash);
        }
        Ok(Some(blocks))
    }

    /// The suite's events among `logs` from the cursor on, at most `limit` of them; with the
    /// position of the first event held back by the limit, where the next read starts.
    fn decode_logs(&self, logs: Vec<LocatedLog>, limit: Option<usize>) -> (Vec<SuiteEvent>, Option<Cursor>) {
        let mut events = Vec::new();
        for l in logs {
            if !self.cursor.admits(l.block, l.log_index) {
                continue;
            }
            let Some(watched) = self.contracts.get(&l.log.address) else { continue };
            let Some(event) = EventKind::decode(&watched.artifact, &l.log) else { continue };
            if limit.is_some_and(|n| events.len() >= n) {
                return (events, Some(Cursor { block: l.block, log_index: l.log_index }));
            }
            events.push(SuiteEvent {
                block: l.block,
                log_index: l.log_index,
                tx_hash: l.tx_hash,
                contract: watched.label.clone(),
                address: l.log.address,
                event,
            });
        }
        (events, None)
    }

    /// Keeps the blocks read up to `read_to` with the `events` returned from them, and forgets the
    /// blocks older than the last [`EventStream::keep_blocks`].
    fn keep(&mut self, blocks: &BTreeMap<u64, B256>, read_to: u64, events: &[SuiteEvent]) {
        for (&number, &hash) in blocks.range(..=read_to) {
            self.kept.entry(number).or_insert_with(|| KeptBlock { number, hash, events: Vec::new() });
        }
        for event in events {
            if let Some(kept) = self.kept.get_mut(&event.block) {
                kept.events.push(event.clone());
            }
        }
        let floor = (read_to + 1).saturating_sub(self.keep_blocks.max(2));
        self.kept = self.kept.split_off(&floor);
    }

    /// When the newest kept block has left the chain: finds the newest kept block still on it (the
    /// fork point), forgets the blocks after it, moves the cursor to the block after it and returns
    /// the events returned from the forgotten blocks, newest first. Empty when nothing changed.
    pub(super) async fn retract_orphans<C: Chain>(&mut self, chain: &mut C) -> Result<Vec<Retraction>, DeployerError> {
        let Some((&newest, kept)) = self.kept.last_key_value() else { return Ok(Vec::new()) };
        if chain.block_ref(newest).await?.is_some_and(|b| b.hash == kept.hash) {
            return Ok(Vec::new());
        }
        let mut common = None;
        for (&number, kept) in self.kept.iter().rev().skip(1) {
            if chain.block_ref(number).await?.is_some_and(|b| b.hash == kept.hash) {
                common = Some(number);
                break;
            }
        }
        let Some(common) = common else {
            let oldest_kept = self.kept.first_key_value().map_or(newest, |(&n, _)| n);
            return Err(DeployerError::ReorgBeyondWindow { oldest_kept, kept: self.kept.len() });
        };
        let fork_block = common + 1;
        let orphaned = self.kept.split_off(&fork_block);
        let retracted: Vec<Retraction> = orphaned
            .values()
            .rev()
            .flat_map(|k| {
                k.events.iter().rev().map(|event| Retraction {
                    fork_block,
                    orphaned_hash: k.hash,
                    event: event.clone(),
                })
            })
            .collect();
        tracing::warn!(
            target: "kessai::events",
            fork_block,
            orphaned = orphaned.len(),
            retracted = retracted.len(),
            "the chain reorganised: events from orphaned blocks retracted, reading their replacements"
        );
        self.cursor = Cursor::at_block(fork_block);
        if retracted.is_empty() {
            // Nothing to undo; a read from the fork point follows at once.
            return Ok(Vec::new());
        }
        Ok(retracted)
    }

    /// Every event from the cursor up to the newest readable block (repeated batches), with the
    /// retractions applied: an event retracted during the read is left out. Fails when a
    /// reorganisation retracts an event returned before this call (follow such a chain with
    /// [`EventStream::next_batch`] and apply [`Batch::retracted`]).
    pub async fn read_to_head<C: Chain>(&mut self, chain: &mut C) -> Result<Vec<SuiteEvent>, DeployerError> {
        let mut all: Vec<SuiteEvent> = Vec::new();
        loop {
            let batch = self.next_batch(chain, None).await?;
            for gone in &batch.retracted {
                match all.iter().rposition(|e| *e == gone.event) {
                    Some(i) => {
                        all.remove(i);
                    }
                    None => {
                        return Err(DeployerError::EventRetracted {
                            fork_block: gone.fork_block,
                            event: gone.event.to_string(),
                        });
                    }
                }
            }
            all.extend(batch.events);
            if batch.caught_up {
                return Ok(all);
            }
        }
    }
}
