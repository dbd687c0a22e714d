//! Finding the pinned external tools (solc wrapper, anvil) and the project root.
//!
//! Lookup order for each tool: the environment variable (`KESSAI_SOLC`, `KESSAI_ANVIL`), the pinned
//! copy installed by `npm ci` under the project root, then `PATH`. When none is found the error says
//! exactly what to run.

use crate::error::DeployerError;
use std::{
    ffi::OsString,
    path::{Path, PathBuf},
};

/// The command that installs every pinned tool.
pub const INSTALL_HINT: &str =
    "run `npm ci` in the kessai checkout (it installs the pinned solc, anvil and cast into node_modules/)";

/// The project root: `KESSAI_ROOT` if set, else the nearest ancestor of the current directory that
/// holds `contracts/src`, else the checkout this crate was built from.
pub fn project_root() -> PathBuf {
    if let Some(root) = std::env::var_os("KESSAI_ROOT") {
        return PathBuf::from(root);
    }
    if let Ok(cwd) = std::env::current_dir()
        && let Some(found) = cwd.ancestors().find(|dir| dir.join("contracts/src").is_dir())
    {
        return found.to_path_buf();
    }
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().map(Path::to_path_buf).unwrap_or_default()
}

/// Locates the solc compiler: `KESSAI_SOLC`, the npm wrapper `bin/solc` (needs `node_modules/solc`),
/// or `solc` on `PATH`.
pub fn find_solc(root: &Path) -> Result<PathBuf, DeployerError> {
    let pinned = root.join("node_modules/solc/package.json").is_file().then(|| root.join("bin/solc"));
    locate(
        "solc",
        "KESSAI_SOLC",
        std::env::var_os("KESSAI_SOLC"),
        pinned,
        std::env::var_os("PATH"),
        "a solc 0.8.30 binary",
    )
}

/// Locates anvil: `KESSAI_ANVIL`, `node_modules/.bin/anvil`, or `anvil` on `PATH`.
pub fn find_anvil(root: &Path) -> Result<PathBuf, DeployerError> {
    locate(
        "anvil",
        "KESSAI_ANVIL",
        std::env::var_os("KESSAI_ANVIL"),
        Some(root.join("node_modules/.bin/anvil")),
        std::env::var_os("PATH"),
        "an anvil 1.7 binary",
    )
}

/// Locates Hardhat (a second, independent EVM node): `KESSAI_HARDHAT`, `node_modules/.bin/hardhat`, or
/// `hardhat` on `PATH`.
pub fn find_hardhat(root: &Path) -> Result<PathBuf, DeployerError> {
    locate(
        "hardhat",
        "KESSAI_HARDHAT",
        std::env::var_os("KESSAI_HARDHAT"),
        Some(root.join("node_modules/.bin/hardhat")),
        std::env::var_os("PATH"),
        "a hardhat 2.29 launcher",
    )
}

/// Reads a freshly spawned node's stdout until `ready` recognises a line (returning what it parsed,
/// e.g. the port), then keeps draining stdout in the background so the node never blocks on a full
/// pipe. Kills the child and explains when it exits or stays silent past `timeout`.
pub(crate) fn wait_for_ready<T>(
    child: &mut std::process::Child,
    what: &str,
    timeout: std::time::Duration,
    mut ready: impl FnMut(&str) -> Option<T>,
) -> Result<T, String> {
    use std::io::{BufRead, BufReader};
    let stdout = child.stdout.take().ok_or_else(|| format!("{what} has no stdout"))?;
    let mut reader = BufReader::new(stdout);
    let deadline = std::time::Instant::now() + timeout;
    let mut line = String::new();
    loop {
        line.clear();
        let read = reader.read_line(&mut line).map_err(|e| format!("reading {what}'s output: {e}"))?;
        if read == 0 || std::time::Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!("{what} exited or stayed silent before listening (last output: {})", line.trim()));
        }
        if let Some(value) = ready(line.trim()) {
            std::thread::spawn(move || {
                let mut sink = String::new();
                while reader.read_line(&mut sink).map(|n| n > 0).unwrap_or(false) {
                    sink.clear();
                }
            });
            return Ok(value);
        }
    }
}

/// The lookup itself, with the environment passed in: the variable's value, the pinned copy, `PATH`.
fn locate(
    tool: &'static str,
    var: &'static str,
    env_value: Option<OsString>,
    pinned: Option<PathBuf>,
    path: Option<OsString>,
    what: &str,
) -> Result<PathBuf, DeployerError> {
    if let Some(value) = env_value {
        let path = PathBuf::from(value);
        return if path.is_file() {
            Ok(path)
        } else {
            Err(DeployerError::ToolMissing {
                tool,
                hint: format!("{var} points to {}, which is not a file: fix or unset it", path.display()),
            })
        };
    }
    if let Some(pinned) = pinned.filter(|p| p.is_file()) {
        return Ok(pinned);
    }
    path.and_then(|p| std::env::split_paths(&p).map(|dir| dir.join(tool)).find(|p| p.is_file()))
        .ok_or_else(|| DeployerError::ToolMissing { tool, hint: format!("{INSTALL_HINT}, or set {var} to {what}") })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wrong_environment_override_is_named() {
        let err = locate("anvil", "KESSAI_ANVIL", Some("/nonexistent/anvil".into()), None, None, "x").unwrap_err();
        let text = err.to_string();
        assert!(text.contains("KESSAI_ANVIL points to /nonexistent/anvil"), "{text}");
    }

    #[test]
    fn a_missing_tool_says_what_to_run() {
        let err = locate(
            "anvil",
            "KESSAI_ANVIL",
            None,
            Some("/nonexistent".into()),
            Some("/nonexistent-dir".into()),
            "an anvil 1.7 binary",
        )
        .unwrap_err();
        let text = err.to_string();
        assert!(text.contains("npm ci") && text.contains("KESSAI_ANVIL"), "{text}");
    }

    #[test]
    fn the_pinned_copy_is_found_in_this_checkout() {
        let root = project_root();
        assert!(root.join("contracts/src").is_dir(), "project root {} has contracts/src", root.display());
    }
}
