//! Tests of the parent module.

use super::*;

use crate::chain::{BlockRef, Receipt, Tx};
use alloy::primitives::{Bytes, LogData, address};

fn log(address: Address, topics: Vec<B256>, data: Vec<u8>) -> Log {
    Log { address, data: LogData::new_unchecked(topics, data.into()) }
}

#[test]
fn transfers_from_and_to_zero_are_issues_and_redemptions() {
    let token = address!("0x00000000000000000000000000000000000000aa");
    let a = address!("0x00000000000000000000000000000000000000a1");
    let amount = U256::from(7).to_be_bytes_vec();
    let topics = |from: Address, to: Address| vec![St::Transfer::SIGNATURE_HASH, from.into_word(), to.into_word()];
    let issue = log(token, topics(Address::ZERO, a), amount.clone());
    let redeem = log(token, topics(a, Address::ZERO), amount.clone());
    let moved = log(token, topics(a, token), amount);
    assert_eq!(EventKind::decode("SecurityToken", &issue), Some(EventKind::Issued { to: a, amount: U256::from(7) }));
    assert_eq!(
        EventKind::decode("SecurityToken", &redeem),
        Some(EventKind::Redeemed { from: a, amount: U256::from(7) })
    );
    assert_eq!(
        EventKind::decode("SecurityToken", &moved),
        Some(EventKind::Transfer { from: a, to: token, amount: U256::from(7) })
    );
    assert_eq!(EventKind::decode("TransferApprovals", &moved), None, "not a reported contract");
}

#[test]
fn a_deposit_tokens_mint_and_burn_are_reported_only_by_their_richer_events() {
    let token = address!("0x00000000000000000000000000000000000000bb");
    let a = address!("0x00000000000000000000000000000000000000a1");
    let amount = U256::from(9).to_be_bytes_vec();
    let topics = |from: Address, to: Address| vec![St::Transfer::SIGNATURE_HASH, from.into_word(), to.into_word()];
    assert_eq!(EventKind::decode("DepositToken", &log(token, topics(Address::ZERO, a), amount.clone())), None);
    assert_eq!(EventKind::decode("DepositToken", &log(token, topics(a, Address::ZERO), amount.clone())), None);
    assert_eq!(
        EventKind::decode("DepositToken", &log(token, topics(a, token), amount)),
        Some(EventKind::Transfer { from: a, to: token, amount: U256::from(9) }),
        "a deposit transfer between accounts is still reported"
    );
}

#[test]
fn stream_lines_say_their_kind_and_a_retraction_is_not_an_event() {
    let event = SuiteEvent {
        block: 7,
        log_index: 1,
        tx_hash: B256::repeat_byte(4),
        contract: "deposit".into(),
        address: Address::repeat_byte(5),
        event: EventKind::Transfer {
            from: Address::repeat_byte(6),
            to: Address::repeat_byte(7),
            amount: U256::from(3),
        },
    };
    let line = serde_json::to_string(&StreamLine::Event(event.clone())).expect("serialize");
    assert!(line.starts_with(r#"{"kind":"event","block":7"#), "{line}");
    assert_eq!(serde_json::from_str::<SuiteEvent>(&line).expect("an event line is an event"), event);
    assert_eq!(serde_json::from_str::<StreamLine>(&line).expect("parse"), StreamLine::Event(event.clone()));
    let gone = StreamLine::Retracted(Retraction { fork_block: 6, orphaned_hash: B256::repeat_byte(8), event });
    let line = serde_json::to_string(&gone).expect("serialize");
    assert!(line.starts_with(r#"{"kind":"retracted","fork_block":6"#), "{line}");
    assert_eq!(serde_json::from_str::<StreamLine>(&line).expect("parse"), gone);
    assert!(serde_json::from_str::<SuiteEvent>(&line).is_err(), "a retraction never parses as an event");
}

/// A chain in memory: per block its hash, its parent's hash and its logs; fork with `replace`.
struct Forkable {
    blocks: Vec<(B256, B256, Vec<Log>)>,
    fork: u8,
}

impl Forkable {
    const TOKEN: Address = Address::repeat_byte(0xaa);

    /// Genesis only.
    fn new() -> Self {
        Self { blocks: vec![(B256::repeat_byte(1), B256::ZERO, Vec::new())], fork: 0 }
    }

    /// Mines a block with an issue of each of `amounts` (one log each).
    fn mine(&mut self, amounts: &[u64]) {
        let parent = self.blocks.last().map_or(B256::ZERO, |b| b.0);
        let mut seed = parent.0;
        seed[0] ^= 0x5a;
        seed[1] = self.fork;
        let hash = alloy::primitives::keccak256(seed);
        let topics = vec![St::Transfer::SIGNATURE_HASH, Address::ZERO.into_word(), Address::repeat_byte(1).into_word()];
        let logs = amounts.iter().map(|a| log(Self::TOKEN, topics.clone(), U256::from(*a).to_be_bytes_vec())).collect();
        self.blocks.push((hash, parent, logs));
    }

    /// Drops the last `depth` blocks and mines replacements with these issues.
    fn replace(&mut self, depth: usize, blocks: &[&[u64]]) {
        self.blocks.truncate(self.blocks.len() - depth);
        self.fork += 1;
        for amounts in blocks {
            self.mine(amounts);
        }
    }

    /// The sum of the issues on the chain now.
    fn issued(&self) -> u64 {
        self.blocks.iter().flat_map(|b| &b.2).map(|l| U256::from_be_slice(&l.data.data).to::<u64>()).sum()
    }

    fn deployment() -> Deployment {
        let token = crate::plan::DeployedContract {
            artifact: "SecurityToken".into(),
            address: Self::TOKEN,
            tx_hash: B256::ZERO,
            block: 0,
            gas_used: 0,
            code_hash: B256::ZERO,
        };
        Deployment { contracts: [("security".to_string(), token)].into(), ..Deployment::default() }
    }
}

/// What a test chain without state or transactions answers to a request for them.
fn stateless() -> DeployerError {
    DeployerError::Answer("this test chain has logs and blocks only".into())
}

impl Chain for Forkable {
    async fn chain_id(&mut self) -> Result<u64, DeployerError> {
        Ok(31337)
    }

    async fn send(&mut self, _: Tx) -> Result<Receipt, DeployerError> {
        Err(stateless())
    }

    async fn call(&mut self, _: Address, _: Address, _: Bytes) -> Result<Bytes, DeployerError> {
        Err(stateless())
    }

    async fn call_at(&mut self, _: u64, _: Address, _: Bytes) -> Result<Bytes, DeployerError> {
        Err(stateless())
    }

    async fn head(&mut self) -> Result<u64, DeployerError> {
        Ok(self.blocks.len() as u64 - 1)
    }

    async fn timestamp(&mut self) -> Result<u64, DeployerError> {
        Err(stateless())
    }

    async fn timestamp_at(&mut self, _: u64) -> Result<u64, DeployerError> {
        Err(stateless())
    }

    async fn block_ref(&mut self, block: u64) -> Result<Option<BlockRef>, DeployerError> {
        let found = self.blocks.get(usize::try_from(block).expect("small"));
        Ok(found.map(|(hash, parent_hash, _)| BlockRef { number: block, hash: *hash, parent_hash: *parent_hash }))
    }

    async fn advance_time(&mut self, _: u64) -> Result<(), DeployerError> {
        Err(stateless())
    }

    async fn logs(&mut self, _: &[Address], from: u64, to: Option<u64>) -> Result<Vec<LocatedLog>, DeployerError> {
        let to = to.unwrap_or(u64::MAX);
        let mut out = Vec::new();
        for (number, (hash, _, logs)) in self.blocks.iter().enumerate() {
            let number = number as u64;
            if (from..=to).contains(&number) {
                for (i, l) in logs.iter().enumerate() {
                    let (block_hash, tx_hash, log_index) = (*hash, B256::ZERO, i as u64);
                    out.push(LocatedLog { block: number, log_index, tx_hash, block_hash, log: l.clone() });
                }
            }
        }
        Ok(out)
    }

    async fn code(&mut self, _: Address) -> Result<Bytes, DeployerError> {
        Err(stateless())
    }
}

/// Applies a batch to a running total of issues: events add, retractions subtract.
fn book(total: &mut i64, batch: &Batch) {
    let amount = |e: &SuiteEvent| match e.event {
        EventKind::Issued { amount, .. } => amount.to::<i64>(),
        _ => 0,
    };
    *total -= batch.retracted.iter().map(|r| amount(&r.event)).sum::<i64>();
    *total += batch.events.iter().map(amount).sum::<i64>();
}

#[tokio::test]
async fn a_reorg_is_retracted_newest_first_and_its_replacements_read_also_across_a_restart_inside_a_block() {
    let mut chain = Forkable::new();
    for amounts in [&[1u64][..], &[], &[2, 4], &[8], &[16, 32]] {
        chain.mine(amounts);
    }
    let mut stream = EventStream::new(&Forkable::deployment(), Cursor::at_block(0));
    let mut total = 0;
    // Stop inside block 5 (after its first issue), then restart from the saved checkpoint.
    let first = stream.next_batch(&mut chain, Some(5)).await.expect("read");
    book(&mut total, &first);
    assert_eq!((total, stream.cursor()), (31, Cursor { block: 5, log_index: 1 }));
    let saved = serde_json::to_string(&stream.checkpoint()).expect("json");
    let saved: Checkpoint = serde_json::from_str(&saved).expect("parse");
    let mut stream = EventStream::resume(&Forkable::deployment(), saved);
    // The last three blocks (3: 2 and 4, 4: 8, 5: 16 and 32) are replaced by 64, nothing, 128.
    chain.replace(3, &[&[64], &[], &[128]]);
    let batch = stream.next_batch(&mut chain, None).await.expect("reorg");
    let gone: Vec<(u64, u64)> = batch.retracted.iter().map(|r| (r.event.block, r.event.log_index)).collect();
    assert_eq!(gone, [(5, 0), (4, 0), (3, 1), (3, 0)], "newest first; block 5's unread issue is not retracted");
    assert!(batch.retracted.iter().all(|r| r.fork_block == 3) && batch.events.is_empty() && !batch.caught_up);
    book(&mut total, &batch);
    loop {
        let batch = stream.next_batch(&mut chain, None).await.expect("replacements");
        assert!(batch.retracted.is_empty(), "nothing retracted twice");
        book(&mut total, &batch);
        if batch.caught_up {
            break;
        }
    }
    assert_eq!(total, i64::try_from(chain.issued()).expect("small"), "the books equal the chain");
    assert_eq!(stream.cursor(), Cursor::at_block(6));
}

#[tokio::test]
async fn a_reorg_below_the_kept_blocks_stops_the_stream_naming_the_oldest() {
    let mut chain = Forkable::new();
    for _ in 0..6 {
        chain.mine(&[1]);
    }
    let mut stream = EventStream::new(&Forkable::deployment(), Cursor::at_block(0));
    stream.keep_blocks = 3;
    assert_eq!(stream.read_to_head(&mut chain).await.expect("read").len(), 6);
    assert_eq!(stream.checkpoint().kept.iter().map(|k| k.number).collect::<Vec<_>>(), [4, 5, 6]);
    chain.replace(4, &[&[2], &[2], &[2], &[2]]);
    let error = stream.next_batch(&mut chain, None).await.expect_err("too deep");
    assert!(matches!(error, DeployerError::ReorgBeyondWindow { oldest_kept: 4, kept: 3 }), "{error}");
    assert_eq!(stream.cursor(), Cursor::at_block(7), "the stream did not move");
}

#[tokio::test]
async fn a_stream_that_read_one_block_retracts_it_when_it_is_replaced() {
    let mut chain = Forkable::new();
    for amounts in [&[1u64][..], &[2]] {
        chain.mine(amounts);
    }
    let mut stream = EventStream::new(&Forkable::deployment(), Cursor::at_block(2));
    assert_eq!(stream.read_to_head(&mut chain).await.expect("read").len(), 1);
    chain.replace(1, &[&[4]]);
    let batch = stream.next_batch(&mut chain, None).await.expect("reorg");
    assert_eq!(batch.retracted.len(), 1, "{batch:?}");
    assert_eq!(batch.retracted[0].fork_block, 2);
    let replaced = stream.read_to_head(&mut chain).await.expect("replacement");
    assert!(
        matches!(replaced[..], [SuiteEvent { block: 2, event: EventKind::Issued { amount, .. }, .. }] if amount == U256::from(4))
    );
}

#[test]
fn a_cursor_file_of_earlier_versions_loads_as_a_checkpoint_without_kept_blocks() {
    let dir = std::env::temp_dir().join(format!("kessai-checkpoint-{}", std::process::id()));
    let path = dir.join("c.json");
    let cursor = Cursor { block: 9, log_index: 4 };
    cursor.save(&path).expect("save");
    assert_eq!(Checkpoint::load(&path).expect("load"), Some(Checkpoint::at(cursor)));
    let kept = KeptBlock { number: 8, hash: B256::repeat_byte(9), events: Vec::new() };
    let checkpoint = Checkpoint { cursor, kept: vec![kept] };
    checkpoint.save(&path).expect("save");
    assert_eq!(Checkpoint::load(&path).expect("load"), Some(checkpoint));
    assert_eq!(Cursor::load(&path).expect("a checkpoint still reads as a cursor"), Some(cursor));
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn events_round_trip_through_json_lines_with_decimal_amounts() {
    let event = SuiteEvent {
        block: 12,
        log_index: 3,
        tx_hash: B256::repeat_byte(1),
        contract: "security".into(),
        address: Address::repeat_byte(2),
        event: EventKind::Issued { to: Address::repeat_byte(3), amount: U256::from(10).pow(U256::from(30)) },
    };
    let line = serde_json::to_string(&event).expect("serialize");
    assert!(line.contains(r#""event":"issued""#), "{line}");
    assert!(line.contains(r#""amount":"1000000000000000000000000000000""#), "{line}");
    assert_eq!(serde_json::from_str::<SuiteEvent>(&line).expect("parse"), event);
}

#[test]
fn a_cursor_admits_its_own_position_and_later_ones_only() {
    let c = Cursor { block: 5, log_index: 2 };
    assert!(c.admits(5, 2) && c.admits(5, 3) && c.admits(6, 0));
    assert!(!c.admits(5, 1) && !c.admits(4, 9));
    let dir = std::env::temp_dir().join(format!("kessai-cursor-{}", std::process::id()));
    let path = dir.join("c.json");
    assert_eq!(Cursor::load(&path).expect("missing is fine"), None);
    c.save(&path).expect("save");
    assert_eq!(Cursor::load(&path).expect("load"), Some(c));
    let _ = std::fs::remove_dir_all(dir);
}
