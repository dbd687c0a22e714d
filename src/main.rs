//! `kessai`: build the contracts, deploy the suite, and run settlements from the command line.

mod commands;

use clap::Parser;
use std::process::ExitCode;

// The simulator allocates on every transaction (revm's journal, logs, decoded events); mimalloc
// keeps that cheap and steady where the system allocator fragments over a long replay.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = commands::Cli::parse();
    cli.global.init_tracing();
    match cli.command.execute(cli.global).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(report) => {
            commands::output::print_error(cli.global, &report);
            ExitCode::FAILURE
        }
    }
}
