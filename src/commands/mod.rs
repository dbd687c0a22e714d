//! The command-line interface: global flags and one module per command.

mod build;
mod demo;
mod deploy;
mod deposit;
mod engine;
mod trade;

use clap::{Args, Parser, Subcommand};

/// kessai: settle tokenized securities against tokenized bank deposits.
#[derive(Debug, Parser)]
#[command(name = "kessai", version, about)]
pub struct Cli {
    /// Flags every command accepts.
    #[command(flatten)]
    pub global: GlobalArgs,
    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

/// Flags every command accepts.
#[derive(Clone, Copy, Debug, Args)]
pub struct GlobalArgs {
    /// More log output on stderr (-v info, -vv debug, -vvv trace).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Print machine-readable JSON on stdout, and nothing else.
    #[arg(long, global = true)]
    pub json: bool,
}

impl GlobalArgs {
    /// Sends logs to stderr at the chosen level (`RUST_LOG` overrides).
    pub fn init_tracing(&self) {
        let level = match self.verbose {
            0 => "warn",
            1 => "kessai=info",
            2 => "kessai=debug",
            _ => "trace",
        };
        let filter = tracing_subscriber::EnvFilter::try_from_default_env()
            .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
        tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).init();
    }
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Compile contracts/ into bindings/artifacts/ (or check that they are up to date).
    Build(build::BuildCommand),
    /// Deploy the suite on a node (or an embedded Anvil) and write its manifest.
    Deploy(deploy::DeployCommand),
    /// A bank's operator actions on its deposit token.
    Deposit(deposit::DepositCommand),
    /// Run the DCJPY pilot's seven-step DvP flow, in-process or on a node.
    Demo(demo::DemoCommand),
    /// Drive DvP trades on a deployed suite: create, pay, approve, settle, cancel, release, status.
    Trade(trade::TradeCommand),
}

impl Command {
    /// Runs the command.
    pub async fn execute(self, global: GlobalArgs) -> eyre::Result<()> {
        match self {
            Self::Build(cmd) => cmd.execute(global).await,
            Self::Demo(cmd) => cmd.execute(global).await,
            Self::Deploy(cmd) => cmd.execute(global).await,
            Self::Deposit(cmd) => cmd.execute(global).await,
            Self::Trade(cmd) => cmd.execute(global).await,
        }
    }
}
