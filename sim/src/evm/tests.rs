//! Tests of the parent module: the engine's history serves the back office's event stream and holder
//! register, and a read of a past state is refused rather than answered from the latest one.

use super::*;
use crate::demo;
use kessai_deployer::{
    anvil,
    events::{self, Cursor, EventKind, EventStream},
    plan::labels,
};

#[tokio::test]
async fn the_event_stream_and_the_holder_register_read_the_in_process_history() {
    let parties = demo::DemoParties::from_accounts(&anvil::dev_accounts()).expect("ten accounts");
    let mut chain = RevmChain::new(&RevmOptions::default(), &parties.senders());
    let buyer = anvil::dev_signers().into_iter().find(|k| k.address() == parties.buyer).expect("the buyer's key");
    let report = demo::run(&mut chain, &parties, &buyer, |_| {}).await.expect("demo");

    // Every block links to its parent; none past the head.
    let head = chain.head().await.expect("head");
    let mut parent = B256::ZERO;
    for number in 0..=head {
        let block = chain.block_ref(number).await.expect("block").expect("mined");
        assert_eq!((block.number, block.parent_hash), (number, parent), "block {number} links to its parent");
        parent = block.hash;
    }
    assert_eq!(chain.block_ref(head + 1).await.expect("block"), None);

    // The stream reads the suite's events in chain order, the settlement among them.
    let mut stream = EventStream::new(&report.deployment, Cursor::at_block(0));
    let read = stream.read_to_head(&mut chain).await.expect("events");
    assert!(read.iter().any(|e| matches!(e.event, EventKind::TradeSettled { id } if id == report.trade_id)));
    assert!(read.windows(2).all(|w| w[0].position() < w[1].position()), "positions increase");
    assert_eq!(stream.cursor(), Cursor::at_block(head + 1));

    // The register at the head: the buyer holds what it bought.
    let security = &report.deployment.contracts[labels::SECURITY];
    let register = events::holder_register(&mut chain, security.address, security.block, head).await.expect("register");
    let line = register.holders.iter().find(|h| h.holder == parties.buyer).expect("the buyer is a holder");
    assert_eq!(line.units, U256::from(demo::TRADE_UNITS));
    assert_eq!(register.timestamp, chain.timestamp().await.expect("time"));

    // An older block's state is gone: refused, naming the block and the head.
    let error =
        events::holder_register(&mut chain, security.address, security.block, head - 1).await.expect_err("past");
    assert!(matches!(error, DeployerError::PastStateUnavailable { block, head: h } if block == head - 1 && h == head));
    let error = chain.timestamp_at(head + 1).await.expect_err("future");
    assert!(matches!(error, DeployerError::NotMined { block, head: h } if block == head + 1 && h == head));
}
