//! A back office integrating kessai through `kessai-bindings` alone: an alloy provider and the
//! bindings' `sol!` types, no deployer. Given a node and a deployment manifest, it prints every DvP
//! trade event and the security token's holders with their balances.
//!
//! ```sh
//! cargo run --example back_office -- http://127.0.0.1:8545 deployments/31337.json
//! ```
//!
//! The manifest is plain JSON (`contracts.<label>.address`), so a system in any language can read it
//! the same way; `kessai abi --out DIR --manifest M` exports the ABIs for non-Rust clients.

use kessai_bindings::{
    alloy::{
        primitives::{Address, U256},
        providers::{Provider, ProviderBuilder},
        rpc::types::Filter,
        sol_types::{SolEvent, SolEventInterface},
    },
    dvp::DvP::DvPEvents,
    security_token::SecurityToken,
};
use std::collections::BTreeSet;

#[tokio::main]
async fn main() -> eyre::Result<()> {
    let mut args = std::env::args().skip(1);
    let (Some(url), Some(manifest_path)) = (args.next(), args.next()) else {
        eyre::bail!("usage: back_office <RPC_URL> <MANIFEST>");
    };
    let manifest: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&manifest_path)?)?;
    let address = |label: &str| -> eyre::Result<Address> {
        let text = manifest["contracts"][label]["address"]
            .as_str()
            .ok_or_else(|| eyre::eyre!("{manifest_path} has no contract labelled {label}"))?;
        Ok(text.parse()?)
    };
    let (dvp, security) = (address("dvp")?, address("security")?);
    // alloy's HTTP client is reqwest; this workspace builds it with rustls and no default crypto
    // provider (no aws-lc build), so pick ring once, before the first client is made.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let provider = ProviderBuilder::new().connect_http(url.parse()?);
    let head = provider.get_block_number().await?;
    println!("chain {} at block {head}", provider.get_chain_id().await?);

    // Every DvP event, decoded with the bindings' event enum.
    println!("DvP trades ({dvp}):");
    for log in provider.get_logs(&Filter::new().address(dvp).from_block(0).to_block(head)).await? {
        let block = log.block_number.unwrap_or_default();
        let Ok(event) = DvPEvents::decode_log(&log.inner) else { continue };
        let line = match event.data {
            DvPEvents::TradeCreated(e) => format!(
                "trade {} created: seller {} buyer {}, {} units for {} (agent {}, deadline {})",
                e.id, e.seller, e.buyer, e.units, e.amount, e.agent, e.deadline
            ),
            DvPEvents::TradePaid(e) => format!("trade {} paid", e.id),
            DvPEvents::TradeApproved(e) => format!("trade {} approved by {}", e.id, e.agent),
            DvPEvents::TradeSettled(e) => format!("trade {} settled", e.id),
            DvPEvents::TradeSettledBySignatures(e) => format!("trade {} settled by signatures", e.id),
            DvPEvents::TradeCancelled(e) => format!("trade {} cancelled by {}", e.id, e.by),
            DvPEvents::TradeExpired(e) => format!("trade {} expired", e.id),
            DvPEvents::BatchSettled(e) => format!("batch {} settled: {} trades", e.batchId, e.trades),
            _ => continue,
        };
        println!("  [block {block}] {line}");
    }

    // Holders: every receiver of a Transfer, with its balance now.
    let transfers = Filter::new()
        .address(security)
        .event_signature(SecurityToken::Transfer::SIGNATURE_HASH)
        .from_block(0)
        .to_block(head);
    let mut holders = BTreeSet::new();
    for log in provider.get_logs(&transfers).await? {
        let transfer = SecurityToken::Transfer::decode_log(&log.inner)?;
        if transfer.to != Address::ZERO {
            holders.insert(transfer.to);
        }
    }
    let token = SecurityToken::new(security, &provider);
    let supply: U256 = token.totalSupply().call().await?;
    println!("holders of {} ({security}), supply {supply}:", token.symbol().call().await?);
    for holder in holders {
        let units = token.balanceOf(holder).call().await?;
        let held = token.heldBalanceOf(holder).call().await?;
        println!("  {holder} {units} units ({held} held)");
    }
    Ok(())
}
