//! `kessai sim bench --cross-chain`: complete cross-chain DvP settlements per second on the
//! in-process engine (one thread and two), raw revm and two Anvils (batched, and one transaction at
//! a time), measured in one run on the same workload ([`kessai_sim::xchain::bench`]).

use super::{GlobalArgs, output};
use kessai_sim::xchain::bench::{self, XBenchOptions};

/// Runs the benchmark, telling what it measures on stderr, and prints its report (text or
/// `--json`). It fails only when an engine disagrees (gas or balances) or cannot run, never on a
/// timing.
pub(super) async fn execute(options: XBenchOptions, global: GlobalArgs) -> eyre::Result<()> {
    let report =
        bench::run(&options, &mut |what| output::caption(global, format_args!("… cross-chain, {what}"))).await?;
    output::print_document(global, &report)
}
