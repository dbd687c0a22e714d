//! `kessai` run as an operator runs it: the binary, and a suite it deployed on a spawned Anvil with
//! the seller and the buyer registered and funded.

pub use crate::support::u;
use crate::support::{self, command as kessai, market::open_account};
use kessai_bindings::alloy::primitives::{Address, keccak256};
use kessai_deployer::{
    anvil::AnvilInstance,
    chain::Chain,
    manifest::Manifest,
    ops::{Position, Suite, Trade},
    rpc::RpcChain,
};
use kessai_sim::demo::{self, DemoParties};
use std::{
    path::{Path, PathBuf},
    process::Output,
};

/// What each of the seller and the buyer holds at the start: [`UNITS`] units and [`CASH`] yen.
pub use crate::support::market::{CASH, UNITS};

/// A suite deployed by `kessai deploy`, with the seller and the buyer registered on both registries
/// and holding both tokens.
pub struct CliMarket {
    _node: AnvilInstance,
    /// The library's engine on the same node, to read the chain back.
    pub chain: RpcChain,
    /// The node's endpoint.
    pub url: String,
    /// A scratch directory for terms files.
    pub dir: PathBuf,
    /// The manifest `kessai deploy` wrote.
    pub manifest: PathBuf,
    /// The deployed suite.
    pub suite: Suite,
    /// Who plays each part (Anvil's development accounts).
    pub p: DemoParties,
    /// A deadline a day after the market opened.
    pub deadline: u64,
}

/// Deploys the demo suite with `kessai deploy` on a fresh Anvil and funds the seller and the buyer.
pub async fn cli_market(name: &str) -> CliMarket {
    let (node, mut chain) = support::anvil();
    let url = node.endpoint();
    let dir = std::env::temp_dir().join(format!("kessai-trade-{name}-{}", std::process::id()));
    let manifest = dir.join("m.json");
    let out = kessai().args(["deploy", "--rpc-url", &url, "--out"]).arg(&manifest).output().expect("deploy");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let suite = Suite::from_deployment(&Manifest::read(&manifest).expect("manifest").deployment).expect("suite");
    let p = support::parties();
    let now = chain.timestamp().await.expect("time");
    for (i, who) in [p.seller, p.buyer].into_iter().enumerate() {
        open_account(&mut chain, (&suite, &p), who, now, keccak256(format!("CLI-TRADE-{i}"))).await;
    }
    CliMarket { _node: node, chain, url, dir, manifest, suite, p, deadline: demo::deadline_after(now) }
}

impl CliMarket {
    /// Writes a terms file and returns its path and the terms the contract will see.
    pub fn terms(&self, file: &str, seller: Address, buyer: Address, units: u64, amount: u64) -> (PathBuf, Trade) {
        let path = self.dir.join(file);
        let json = serde_json::json!({
            "seller": seller,
            "buyer": buyer,
            "agent": self.p.agent,
            "units": units,
            "amount": amount.to_string(),
            "deadline": self.deadline,
        });
        std::fs::write(&path, json.to_string()).expect("write terms");
        let trade = Trade {
            security: self.suite.security,
            seller,
            buyer,
            cash: self.suite.deposit,
            agent: self.p.agent,
            units: u(units),
            amount: u(amount),
            deadline: self.deadline,
        };
        (path, trade)
    }

    /// Runs `kessai [--json] trade --rpc-url … --manifest … <args>`.
    pub fn run(&self, json: bool, args: &[&str]) -> Output {
        let mut cmd = kessai();
        if json {
            cmd.arg("--json");
        }
        cmd.args(["trade", "--rpc-url", &self.url, "--manifest"]).arg(&self.manifest).args(args);
        cmd.output().expect("run kessai trade")
    }

    /// Runs a step on the trade `(terms, id)` with `--json`.
    pub fn step(&self, action: &str, terms: &Path, id: &str, extra: &[&str]) -> Output {
        let terms = terms.to_str().expect("utf-8 path");
        self.run(true, &[&[action, "--terms", terms, "--id", id][..], extra].concat())
    }

    /// The seller's and the buyer's positions.
    pub async fn positions(&mut self) -> (Position, Position) {
        let seller = self.suite.position(&mut self.chain, self.p.seller).await.expect("seller");
        let buyer = self.suite.position(&mut self.chain, self.p.buyer).await.expect("buyer");
        (seller, buyer)
    }

    /// The status flags of the trade referenced by `id`.
    pub async fn status(&mut self, seller: Address, reference: &str) -> u8 {
        self.suite.trade_status(&mut self.chain, kessai_bindings::trade_id(seller, reference)).await.expect("status")
    }
}
