//! The event stream on a chain that reorganises, through the `kessai` binary on Anvil: a back office
//! following `kessai watch --follow --json` through an `anvil_reorg` (with replacement transactions)
//! and an `anvil_rollback`, and one restarted from a checkpoint saved before both, each applying
//! events and undoing retractions, ends with exactly the balances and trade states the chain holds.
//! Also: one deposit issue is one event, and `ledger` at a block before the suite is refused.

use crate::support::command as kessai;
use crate::support::{
    self,
    cli::{CliMarket, cli_market, u},
};
use kessai_bindings::{
    alloy::{
        primitives::{Address, B256, U256, keccak256},
        providers::Provider,
        sol_types::SolCall,
    },
    deposit_token::DepositToken as Dt,
    security_token::SecurityToken as St,
};
use kessai_deployer::{
    anvil,
    events::{Checkpoint, EventKind, StreamLine, SuiteEvent},
    rpc::RpcChain,
};
use std::{
    collections::{BTreeMap, BTreeSet},
    io::BufRead,
    path::Path,
    process::{Child, Stdio},
    sync::mpsc::{Receiver, RecvTimeoutError},
    time::{Duration, Instant},
};

/// A back office's books built from the stream alone: balances per token and account, and per trade
/// how many applied events set each status flag. A retraction undoes what its event did.
#[derive(Clone, Debug, Default)]
struct Books {
    balances: BTreeMap<(Address, Address), i128>,
    flags: BTreeMap<(B256, u8), i64>,
    applied: usize,
    retracted: usize,
}

impl Books {
    fn apply_line(&mut self, line: &StreamLine) {
        match line {
            StreamLine::Event(e) => {
                self.apply(e, 1);
                self.applied += 1;
            }
            StreamLine::Retracted(r) => {
                self.apply(&r.event, -1);
                self.retracted += 1;
            }
        }
    }

    fn apply(&mut self, e: &SuiteEvent, sign: i128) {
        let amount = |a: &U256| i128::try_from(a.to::<u128>()).expect("fits") * sign;
        let mut moved = |account: Address, delta: i128| {
            *self.balances.entry((e.address, account)).or_default() += delta;
        };
        let flag = match &e.event {
            EventKind::Transfer { from, to, amount: a } => {
                moved(*from, -amount(a));
                moved(*to, amount(a));
                None
            }
            EventKind::Issued { to, amount: a } | EventKind::DepositIssued { to, amount: a, .. } => {
                moved(*to, amount(a));
                None
            }
            EventKind::Redeemed { from, amount: a } | EventKind::DepositRedeemed { from, amount: a, .. } => {
                moved(*from, -amount(a));
                None
            }
            EventKind::TradeCreated { id, .. } => Some((*id, 1)),
            EventKind::TradePaid { id } => Some((*id, 2)),
            EventKind::TradeApproved { id, .. } => Some((*id, 4)),
            EventKind::TradeSettled { id } => Some((*id, 8)),
            EventKind::TradeCancelled { id, .. } => Some((*id, 16)),
            EventKind::TradeExpired { id } => Some((*id, 32)),
            EventKind::TradeSettledBySignatures { id, .. } => Some((*id, 15)),
            _ => None,
        };
        if let Some((id, bits)) = flag {
            *self.flags.entry((id, bits)).or_default() += i64::try_from(sign).expect("±1");
        }
    }

    /// The status flags the books give trade `id`.
    fn status(&self, id: B256) -> u8 {
        self.flags.iter().filter(|((t, _), n)| *t == id && **n > 0).fold(0, |s, ((_, bits), _)| s | bits)
    }

    /// Asserts the books equal the chain: every account's balance of both tokens, both supplies,
    /// and the status of every trade the books or the test know of. No count went below zero.
    async fn assert_match(&self, m: &mut CliMarket, chain: &mut RpcChain, trades: &BTreeSet<B256>) {
        let (security, deposit) = (m.suite.security, m.suite.deposit);
        let mut accounts: BTreeSet<Address> = anvil::dev_accounts().into_iter().collect();
        accounts.extend(self.balances.keys().map(|(_, a)| *a));
        for who in accounts {
            let p = m.suite.position(chain, who).await.expect("position");
            let book = |token| self.balances.get(&(token, who)).copied().unwrap_or(0);
            assert_eq!(book(security), i128::try_from(p.units.to::<u128>()).expect("fits"), "units of {who}");
            assert_eq!(book(deposit), i128::try_from(p.cash.to::<u128>()).expect("fits"), "cash of {who}");
        }
        let (units, cash) = m.suite.supplies(chain).await.expect("supplies");
        let total = |token| self.balances.iter().filter(|((t, _), _)| *t == token).map(|(_, v)| v).sum::<i128>();
        assert_eq!((total(security), total(deposit)), (i128::from(units.to::<u64>()), i128::from(cash.to::<u64>())));
        let mut ids: BTreeSet<B256> = self.flags.keys().map(|(id, _)| *id).collect();
        ids.extend(trades);
        for id in ids {
            assert_eq!(self.status(id), m.suite.trade_status(chain, id).await.expect("status"), "trade {id}");
        }
        assert!(self.flags.values().all(|n| (0..=1).contains(n)), "each trade step once: {:?}", self.flags);
    }
}

/// Parses `kessai watch --json` output lines.
fn lines(stdout: &[u8]) -> Vec<StreamLine> {
    String::from_utf8_lossy(stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not a stream line ({e}): {l}")))
        .collect()
}

/// A running `kessai --json watch --follow` and its stdout lines.
struct Follower {
    child: Child,
    lines: Receiver<String>,
}

impl Follower {
    fn spawn(m: &CliMarket, cursor: &Path) -> Self {
        let mut child = kessai()
            .args(["--json", "watch", "--rpc-url", &m.url, "--manifest"])
            .arg(&m.manifest)
            .args(["--follow", "--poll-ms", "100", "--cursor"])
            .arg(cursor)
            .stdout(Stdio::piped())
            .spawn()
            .expect("spawn watch --follow");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Self { child, lines }
    }

    /// Waits until the follower's checkpoint has read the chain's head as it is now (its newest kept
    /// block is the head, by hash), then applies every line it printed to `books`.
    async fn catch_up(&mut self, chain: &RpcChain, cursor: &Path, books: &mut Books) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let head = chain.provider().get_block(chain.block_number().await.expect("head").into()).await;
            let head = head.expect("block").expect("head block").header;
            let saved = Checkpoint::load(cursor).ok().flatten();
            let at_head = saved.as_ref().is_some_and(|c| {
                c.cursor.block == head.number + 1 && c.kept.last().is_some_and(|k| k.hash == head.hash)
            });
            if at_head {
                break;
            }
            assert!(self.child.try_wait().expect("wait").is_none(), "watch exited early");
            let at = saved.map(|c| (c.cursor, c.kept.last().map(|k| (k.number, k.hash))));
            assert!(Instant::now() < deadline, "watch did not read block {} {}: at {at:?}", head.number, head.hash);
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        // Lines are printed before the checkpoint is saved: all are in the pipe; take them.
        loop {
            match self.lines.recv_timeout(Duration::from_millis(300)) {
                Ok(line) => books.apply_line(&serde_json::from_str(&line).expect("stream line")),
                Err(RecvTimeoutError::Timeout) => break,
                Err(RecvTimeoutError::Disconnected) => panic!("watch closed its output"),
            }
        }
    }
}

impl Drop for Follower {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A fresh engine: after a reorganisation the old one's nonce cache describes lost blocks.
fn engine(url: &str) -> RpcChain {
    RpcChain::connect(url, anvil::dev_signers()).expect("connect")
}

/// Creates (and with `settle`, pays and approves) trade `reference` of `units` for `amount`.
async fn trade(m: &mut CliMarket, chain: &mut RpcChain, reference: &str, units: u64, settle: bool) -> B256 {
    let (_, t) = m.terms(&format!("{reference}.json"), m.p.seller, m.p.buyer, units, units * 1_000);
    let id = kessai_bindings::trade_id(m.p.seller, reference);
    m.suite.create_trade(chain, id, &t).await.expect("create");
    if settle {
        m.suite.pay(chain, id, &t).await.expect("pay");
        m.suite.approve(chain, id, &t).await.expect("approve");
    }
    id
}

/// A transaction for `anvil_reorg` to mine into the new chain: Anvil signs for its dev accounts.
fn replacement(from: Address, to: Address, call: &impl SolCall, offset: u64) -> serde_json::Value {
    let data = format!("0x{}", kessai_bindings::alloy::hex::encode(call.abi_encode()));
    serde_json::json!([{ "from": from, "to": to, "input": data, "gas": "0x200000" }, offset])
}

#[tokio::test]
async fn a_back_office_following_through_a_reorg_and_a_rollback_and_one_restarted_end_as_the_chain() {
    let mut m = cli_market("reorg").await;
    let url = m.url.clone();
    let (cursor, before) = (m.dir.join("office.cursor"), m.dir.join("before.cursor"));
    let mut chain = engine(&url);
    let mut follower = Follower::spawn(&m, &cursor);
    let mut books = Books::default();
    let mut trades = BTreeSet::new();

    // A settled trade and a cash redemption, followed live.
    trades.insert(trade(&mut m, &mut chain, "REORG-1", 100, true).await);
    m.suite.redeem_deposit(&mut chain, m.p.buyer, u(1_000_000), keccak256("ACCOUNT-B")).await.expect("redeem");
    follower.catch_up(&chain, &cursor, &mut books).await;
    books.assert_match(&mut m, &mut chain, &trades).await;

    // Three more blocks with events: a trade created and paid, and an issue. Save the checkpoint
    // and the books as they are before the chain reorganises.
    trades.insert(trade(&mut m, &mut chain, "REORG-2", 50, false).await);
    let (_, t2) = m.terms("REORG-2.json", m.p.seller, m.p.buyer, 50, 50_000);
    m.suite.pay(&mut chain, kessai_bindings::trade_id(m.p.seller, "REORG-2"), &t2).await.expect("pay");
    m.suite.issue_security(&mut chain, m.p.suite.issuer, m.p.seller, u(5)).await.expect("issue");
    follower.catch_up(&chain, &cursor, &mut books).await;
    books.assert_match(&mut m, &mut chain, &trades).await;
    std::fs::copy(&cursor, &before).expect("save the checkpoint before the reorg");
    let books_before = books.clone();
    let orphaned_head = chain.block_number().await.expect("head");
    assert_eq!(
        m.suite.trade_status(&mut chain, kessai_bindings::trade_id(m.p.seller, "REORG-2")).await.expect("status"),
        3
    );

    // Anvil replaces the last three blocks; the new chain carries other transactions.
    let issue = St::issueCall { to: m.p.buyer, amount: u(77) };
    let cash = Dt::issueCall { to: m.p.seller, amount: u(4_242), depositRef: keccak256("REORG-CASH") };
    let pairs = vec![
        replacement(m.p.suite.issuer, m.suite.security, &issue, 0),
        replacement(m.p.suite.bank, m.suite.deposit, &cash, 1),
    ];
    // The pinned Anvil takes the depth and the [transaction, block offset] pairs as positional
    // parameters.
    let reorg = serde_json::json!([3, pairs]);
    let _: serde_json::Value = chain.provider().raw_request("anvil_reorg".into(), reorg).await.expect("anvil_reorg");
    let mut chain = engine(&url);
    assert_eq!(chain.block_number().await.expect("head"), orphaned_head, "a reorg of depth 3 keeps the height");
    assert_eq!(
        m.suite.trade_status(&mut chain, kessai_bindings::trade_id(m.p.seller, "REORG-2")).await.expect("status"),
        0,
        "trade 2 is gone"
    );
    let retracted = books.retracted;
    follower.catch_up(&chain, &cursor, &mut books).await;
    assert_eq!(books.retracted - retracted, 3, "the create, the pay and the issue are retracted");
    books.assert_match(&mut m, &mut chain, &trades).await;

    // Anvil rolls back two blocks; then a new trade settles and is cancelled on the shorter chain.
    let rollback = serde_json::json!([2]);
    let _: serde_json::Value =
        chain.provider().raw_request("anvil_rollback".into(), rollback).await.expect("anvil_rollback");
    let mut chain = engine(&url);
    assert_eq!(chain.block_number().await.expect("head"), orphaned_head - 2);
    trades.insert(trade(&mut m, &mut chain, "REORG-3", 20, true).await);
    let id4 = trade(&mut m, &mut chain, "REORG-4", 10, false).await;
    let (_, t4) = m.terms("REORG-4.json", m.p.seller, m.p.buyer, 10, 10_000);
    m.suite.cancel(&mut chain, m.p.seller, id4, &t4).await.expect("cancel");
    trades.insert(id4);
    let retracted = books.retracted;
    follower.catch_up(&chain, &cursor, &mut books).await;
    assert!(books.retracted > retracted, "the rolled-back blocks' events are retracted");
    books.assert_match(&mut m, &mut chain, &trades).await;
    drop(follower);

    // A back office restarted from the checkpoint saved before both: it retracts what it had read
    // from the orphaned blocks, then reads the chain as it is.
    let mut restarted = books_before;
    let out = kessai()
        .args(["--json", "watch", "--rpc-url", &url, "--manifest"])
        .arg(&m.manifest)
        .arg("--cursor")
        .arg(&before)
        .output()
        .expect("watch");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let printed = lines(&out.stdout);
    let first_event = printed.iter().position(|l| matches!(l, StreamLine::Event(_))).unwrap_or(printed.len());
    assert!(first_event >= 3, "retractions come first: {printed:?}");
    assert!(printed[first_event..].iter().all(|l| matches!(l, StreamLine::Event(_))), "then only events");
    for line in &printed {
        restarted.apply_line(line);
    }
    restarted.assert_match(&mut m, &mut chain, &trades).await;
    // Both back offices hold the same books.
    assert_eq!(restarted.balances, books.balances);
    let _ = std::fs::remove_dir_all(&m.dir);
}

#[tokio::test]
async fn a_deposit_issue_and_redemption_are_one_event_each_and_confirmations_hold_back_the_head() {
    let mut m = cli_market("one-fact").await;
    let mut chain = engine(&m.url);
    let start = chain.block_number().await.expect("head") + 1;
    let reference = keccak256("ONE-FACT");
    let issued =
        m.suite.issue_deposit(&mut chain, m.p.suite.bank, m.p.buyer, u(9_000), reference).await.expect("issue");
    let account = keccak256("ONE-FACT-ACCOUNT");
    m.suite.redeem_deposit(&mut chain, m.p.buyer, u(2_000), account).await.expect("redeem");
    // The chain logged two events per step (Transfer and DepositIssued / DepositRedeemed).
    assert_eq!(issued.logs.len(), 2, "the mint logs Transfer and DepositIssued");
    let out = kessai()
        .args(["--json", "watch", "--rpc-url", &m.url, "--manifest"])
        .arg(&m.manifest)
        .args(["--from-block", &start.to_string()])
        .output()
        .expect("watch");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let events: Vec<EventKind> = lines(&out.stdout)
        .into_iter()
        .map(|l| match l {
            StreamLine::Event(e) => e.event,
            StreamLine::Retracted(r) => panic!("nothing reorganised: {r:?}"),
        })
        .collect();
    assert_eq!(
        events,
        [
            EventKind::DepositIssued {
                to: m.p.buyer,
                amount: u(9_000),
                deposit_ref: reference,
                minter: m.p.suite.bank
            },
            EventKind::DepositRedeemed { from: m.p.buyer, amount: u(2_000), account_ref: account },
        ]
    );
    // With one confirmation the head block (the redemption) is left unread.
    let deeper = kessai()
        .args(["--json", "watch", "--rpc-url", &m.url, "--manifest"])
        .arg(&m.manifest)
        .args(["--from-block", &start.to_string(), "--confirmations", "1"])
        .output()
        .expect("watch");
    assert_eq!(lines(&deeper.stdout).len(), 1, "{}", String::from_utf8_lossy(&deeper.stdout));
    // Summing the stream's issues and redemptions gives the supply.
    let mut books = Books::default();
    let all =
        kessai().args(["--json", "watch", "--rpc-url", &m.url, "--manifest"]).arg(&m.manifest).output().expect("watch");
    for line in lines(&all.stdout) {
        books.apply_line(&line);
    }
    books.assert_match(&mut m, &mut chain, &BTreeSet::new()).await;
    let _ = std::fs::remove_dir_all(&m.dir);
}

#[tokio::test]
async fn ledger_at_a_block_before_the_suite_is_refused_naming_its_first_block() {
    let m = cli_market("ledger-before").await;
    let sent_before = support::sent_so_far(&m.chain).await;
    let manifest = kessai_deployer::manifest::Manifest::read(&m.manifest).expect("manifest");
    let first = manifest.deployment.contracts.values().map(|c| c.block).min().expect("contracts");
    assert!(first > 0, "the suite is not in the genesis block");
    let csv = m.dir.join("before.csv");
    let out = kessai()
        .args(["--json", "ledger", "--rpc-url", &m.url, "--manifest"])
        .arg(&m.manifest)
        .args(["--block", &(first - 1).to_string(), "--csv"])
        .arg(&csv)
        .output()
        .expect("ledger");
    // Refused, and with --json stdout holds only the error: no register.
    support::refused(&out, &format!("block {} is before the suite existed: its first block is {first}", first - 1));
    assert!(!csv.exists(), "no file written");
    assert_eq!(support::sent_so_far(&m.chain).await, sent_before, "nothing sent");
    let _ = std::fs::remove_dir_all(&m.dir);
}
