//! The committed artifacts are exactly what a fresh build of `contracts/` produces.

use kessai_deployer::{build, tools};

#[test]
fn committed_artifacts_equal_a_fresh_build() {
    let root = tools::project_root();
    let stale = build::stale_artifacts(&root).unwrap_or_else(|e| panic!("the contract build failed: {e}"));
    assert!(
        stale.is_empty(),
        "bindings/artifacts/ differ from a fresh build for {stale:?}: run `cargo run -- build` and commit the artifacts"
    );
}

#[test]
fn artifacts_target_pre_shanghai_chains() {
    // PUSH0 (0x5f) must never appear as an opcode: walk the code skipping PUSH data. solc may append
    // a data section (large constants) after the code's final INVALID (0xfe); bytes there are data.
    for artifact in kessai_bindings::artifacts() {
        let name = &artifact.contract_name;
        assert_eq!(artifact.compiler.evm_version, "paris", "{name}");
        let code = &artifact.deployed_bytecode;
        let (mut pc, mut last_invalid, mut push0) = (0, 0, Vec::new());
        while pc < code.len() {
            let op = code[pc];
            match op {
                0x5f => push0.push(pc),
                0xfe => last_invalid = pc,
                _ => {}
            }
            pc += 1 + if (0x60..=0x7f).contains(&op) { usize::from(op - 0x5f) } else { 0 };
        }
        let in_code: Vec<usize> = push0.into_iter().filter(|&at| at < last_invalid).collect();
        assert!(in_code.is_empty(), "{name} uses PUSH0 at {in_code:?}");
    }
}

#[tokio::test]
async fn the_settlement_flow_runs_on_a_pre_shanghai_evm() {
    // Execution is the proof: on Paris rules a PUSH0 (or any later opcode) halts the transaction.
    let options = kessai_sim::RevmOptions { spec: kessai_sim::SpecId::MERGE, ..Default::default() };
    let parties = crate::support::parties();
    let chain = &mut kessai_sim::RevmChain::new(&options, &parties.senders());
    let report = kessai_sim::demo::run(chain, &parties, &crate::support::key(parties.buyer), |_| {})
        .await
        .expect("the demo flow on Paris rules");
    assert_eq!(report.trade_status, 1 | 2 | 4 | 8, "settled");
}
