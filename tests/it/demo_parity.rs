//! The demo flow runs on the in-process engine and on a spawned Anvil with identical results.

use crate::support;
use kessai_bindings::alloy::primitives::U256;
use kessai_deployer::chain::Chain;
use kessai_sim::demo;

#[tokio::test]
async fn demo_flow_is_identical_on_revm_and_anvil() {
    let parties = support::parties();

    let mut revm = support::revm();
    let on_revm = demo::run(&mut revm, &parties, &support::key(parties.buyer), |_| {}).await.expect("demo on revm");

    let (_node, mut rpc) = support::anvil();
    let on_anvil = demo::run(&mut rpc, &parties, &support::key(parties.buyer), |_| {}).await.expect("demo on anvil");

    // The trade settled: both legs moved.
    assert_eq!(on_revm.trade_status & 8, 8, "trade settled on revm");
    let last = on_revm.steps.last().expect("steps");
    assert_eq!(last.buyer.units, U256::from(demo::TRADE_UNITS));
    assert_eq!(last.seller.units, U256::from(demo::ISSUED_UNITS - demo::TRADE_UNITS));

    // Same addresses, same code, same gas for every deployment.
    assert_eq!(on_revm.deployment.contracts.len(), on_anvil.deployment.contracts.len());
    for (label, c) in &on_revm.deployment.contracts {
        let other = &on_anvil.deployment.contracts[label];
        assert_eq!(c.address, other.address, "{label} address");
        assert_eq!(c.code_hash, other.code_hash, "{label} code");
        assert_eq!(c.gas_used, other.gas_used, "{label} deployment gas");
    }
    let grants = |d: &kessai_deployer::plan::Deployment| d.steps.iter().map(|s| s.gas_used).collect::<Vec<_>>();
    assert_eq!(grants(&on_revm.deployment), grants(&on_anvil.deployment), "role grant gas");

    // Same gas and same positions after every transaction of the flow.
    assert_eq!(on_revm.steps.len(), on_anvil.steps.len());
    for (a, b) in on_revm.steps.iter().zip(&on_anvil.steps) {
        assert_eq!(a, b, "step `{}` differs between engines", a.description);
    }
    assert_eq!(on_revm.supplies, on_anvil.supplies);

    // Same events, in the same order, from every contract of the suite.
    for (label, c) in &on_revm.deployment.contracts {
        let revm_logs: Vec<_> =
            revm.logs(&[c.address], 0, None).await.expect("revm logs").into_iter().map(|l| l.log).collect();
        let anvil_logs: Vec<_> =
            rpc.logs(&[c.address], 0, None).await.expect("anvil logs").into_iter().map(|l| l.log).collect();
        assert!(!revm_logs.is_empty(), "{label} emitted events");
        assert_eq!(revm_logs, anvil_logs, "{label} events differ");
    }
    assert_eq!(on_revm.trade_status, on_anvil.trade_status);
}
