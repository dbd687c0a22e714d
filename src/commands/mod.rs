//! The command-line interface: global flags and one module per command.

mod abi;
mod address_arg;
mod bond;
mod build;
mod demo;
mod deploy;
mod deposit;
mod engine;
mod keys;
mod ledger;
pub mod output;
mod registry;
mod security;
mod sim;
mod trade;
mod verify;
mod watch;
mod xchain;
mod xtrade;
mod xtrade_bench;

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
    /// Sends logs to stderr at the chosen level (`RUST_LOG` overrides), starting with the warnings
    /// about one-case address arguments.
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
        address_arg::warn_pending();
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
    /// The accounts of the loaded keys and the role each position plays (never a key).
    Keys(keys::KeysCommand),
    /// Drive DvP trades on a deployed suite: create, pay, approve, settle, cancel, release, status.
    Trade(trade::TradeCommand),
    /// Register or revoke investors in the securities registry or a bank's customer registry.
    Registry(registry::RegistryCommand),
    /// The issuer's actions on the security token: issue and redeem units.
    Security(security::SecurityCommand),
    /// The paying agent's coupon, redemption and distribution rounds, in resumable batches.
    Bond(bond::BondCommand),
    /// Check a deployed suite's code against the committed artifacts and its manifest.
    Verify(verify::VerifyCommand),
    /// Print the suite's events (trades, transfers, issues, deposits, payments) from a resumable cursor.
    Watch(watch::WatchCommand),
    /// Write the security token's holder register at a block as CSV and JSON.
    Ledger(ledger::LedgerCommand),
    /// Export the contracts' ABIs and a deployment.json for cast, viem and ethers.
    Abi(abi::AbiCommand),
    /// Replay settlement scenarios in-process or on a node, with their expectations checked.
    Sim(sim::SimCommand),
    /// Attest cross-chain trades: sign each final lock, commit and abort into the attestors' inbox.
    Attest(xchain::AttestCommand),
    /// Relay cross-chain trades: submit commits, aborts, deliveries and returns with attested proofs.
    Relay(xchain::RelayCommand),
    /// Drive cross-chain trades: lock on the asset chain, pay, commit, abort, deliver, return, status.
    Xtrade(xtrade::XtradeCommand),
}

impl Command {
    /// Runs the command.
    pub async fn execute(self, global: GlobalArgs) -> eyre::Result<()> {
        match self {
            Self::Build(cmd) => cmd.execute(global).await,
            Self::Demo(cmd) => cmd.execute(global).await,
            Self::Keys(cmd) => cmd.execute(global),
            Self::Deploy(cmd) => cmd.execute(global).await,
            Self::Deposit(cmd) => cmd.execute(global).await,
            Self::Trade(cmd) => cmd.execute(global).await,
            Self::Registry(cmd) => cmd.execute(global).await,
            Self::Security(cmd) => cmd.execute(global).await,
            Self::Bond(cmd) => cmd.execute(global).await,
            Self::Verify(cmd) => cmd.execute(global).await,
            Self::Watch(cmd) => cmd.execute(global).await,
            Self::Ledger(cmd) => cmd.execute(global).await,
            Self::Abi(cmd) => cmd.execute(global).await,
            Self::Sim(cmd) => cmd.execute(global).await,
            Self::Attest(cmd) => cmd.execute(global).await,
            Self::Relay(cmd) => cmd.execute(global).await,
            Self::Xtrade(cmd) => cmd.execute(global).await,
        }
    }
}

/// A failure a command has already reported in the result it printed (a verification report, a
/// scenario report with expectations that did not hold, a property run's broken invariant): it exits
/// non-zero with this message on stderr, and with `--json` prints nothing more on stdout than its
/// result.
#[derive(Debug)]
pub struct Reported(pub String);

impl std::fmt::Display for Reported {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Reported {}
