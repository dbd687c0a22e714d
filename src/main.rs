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
    let json = cli.global.json;
    match cli.command.execute(cli.global).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(report) => {
            // One line per cause, outermost first; no backtrace noise for an operator.
            let mut lines = report.chain().map(ToString::to_string).collect::<Vec<_>>();
            lines.dedup();
            eprintln!("error: {}", lines.join("\n  caused by: "));
            if json && report.downcast_ref::<commands::Reported>().is_none() {
                // With --json a failure is JSON on standard output too, like every result.
                println!("{}", error_json(&report, &lines));
            }
            ExitCode::FAILURE
        }
    }
}

/// A failure as one JSON object: `{"error": {"message", "causes", "revert"}}`, `revert` holding the
/// decoded contract error (name, arguments, sentence) when a transaction or call was refused.
fn error_json(report: &eyre::Report, lines: &[String]) -> serde_json::Value {
    use kessai_bindings::RevertError;
    use kessai_deployer::DeployerError;
    let revert = report.chain().find_map(|cause| match cause.downcast_ref::<DeployerError>() {
        Some(DeployerError::Revert(e)) => Some(e.clone()),
        _ => cause.downcast_ref::<RevertError>().cloned(),
    });
    serde_json::json!({
        "error": {
            "message": lines.first(),
            "causes": lines.get(1..).unwrap_or_default(),
            "revert": revert.map(|e| serde_json::json!({ "name": e.name, "args": e.args, "message": e.message })),
        }
    })
}
