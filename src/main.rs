//! `kessai`: build the contracts, deploy the suite, and run settlements from the command line.

mod commands;

use clap::Parser;

#[tokio::main]
async fn main() -> eyre::Result<()> {
    let cli = commands::Cli::parse();
    cli.global.init_tracing();
    cli.command.execute(cli.global).await
}
