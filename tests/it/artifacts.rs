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
    // PUSH0 (0x5f) must never appear as an opcode: walk the code skipping PUSH data.
    for artifact in kessai_bindings::ARTIFACTS {
        let value: serde_json::Value = serde_json::from_str(artifact.json).expect("artifact JSON");
        assert_eq!(value["compiler"]["evmVersion"], "paris", "{}", artifact.name);
        let code = kessai_bindings::alloy::primitives::hex::decode(value["deployedBytecode"].as_str().expect("code"))
            .expect("hex");
        let mut pc = 0;
        while pc < code.len() {
            let op = code[pc];
            assert_ne!(op, 0x5f, "{} uses PUSH0 at {pc}", artifact.name);
            pc += 1 + if (0x60..=0x7f).contains(&op) { usize::from(op - 0x5f) } else { 0 };
        }
    }
}
