//! Finding the pinned external tools (solc wrapper, anvil) and the project root.
//!
//! Lookup order for each tool: the environment variable (`KESSAI_SOLC`, `KESSAI_ANVIL`), the pinned
//! copy installed by `npm ci` under the project root, then `PATH`. When none is found the error says
//! exactly what to run.

use crate::error::DeployerError;
use std::path::{Path, PathBuf};

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
    if let Some(path) = env_tool("KESSAI_SOLC")? {
        return Ok(path);
    }
    let wrapper = root.join("bin/solc");
    if wrapper.is_file() && root.join("node_modules/solc/package.json").is_file() {
        return Ok(wrapper);
    }
    on_path("solc").ok_or_else(|| DeployerError::ToolMissing {
        tool: "solc",
        hint: format!("{INSTALL_HINT}, or set KESSAI_SOLC to a solc 0.8.30 binary"),
    })
}

/// Locates anvil: `KESSAI_ANVIL`, `node_modules/.bin/anvil`, or `anvil` on `PATH`.
pub fn find_anvil(root: &Path) -> Result<PathBuf, DeployerError> {
    if let Some(path) = env_tool("KESSAI_ANVIL")? {
        return Ok(path);
    }
    let pinned = root.join("node_modules/.bin/anvil");
    if pinned.is_file() {
        return Ok(pinned);
    }
    on_path("anvil").ok_or_else(|| DeployerError::ToolMissing {
        tool: "anvil",
        hint: format!("{INSTALL_HINT}, or set KESSAI_ANVIL to an anvil 1.7 binary"),
    })
}

fn env_tool(var: &'static str) -> Result<Option<PathBuf>, DeployerError> {
    match std::env::var_os(var) {
        None => Ok(None),
        Some(value) => {
            let path = PathBuf::from(value);
            if path.is_file() {
                Ok(Some(path))
            } else {
                Err(DeployerError::ToolMissing {
                    tool: var,
                    hint: format!("{var} points to {}, which is not a file", path.display()),
                })
            }
        }
    }
}

fn on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|dir| dir.join(name)).find(|p| p.is_file())
}
