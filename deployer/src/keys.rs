//! Signing keys for deployments and operator commands: comma-separated hex keys from an environment
//! variable, encrypted JSON keystores (Web3 Secret Storage, as written by `cast wallet` or geth),
//! or Anvil's public development keys for a local chain. Keys are never printed or logged: errors
//! name the source and the account, not the secret.

use crate::error::DeployerError;
use alloy::signers::local::PrivateKeySigner;
use std::path::Path;

/// Parses comma-separated hex private keys (as held in `var`, which is named in errors).
pub fn parse_keys(var: &str, value: &str) -> Result<Vec<PrivateKeySigner>, DeployerError> {
    value
        .split(',')
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .enumerate()
        .map(|(i, k)| {
            // The parse error never contains the key itself.
            k.parse::<PrivateKeySigner>().map_err(|_| {
                DeployerError::Keys(format!(
                    "key {} of {var} is not a 32-byte hex private key (comma-separated, 0x prefix optional)",
                    i + 1
                ))
            })
        })
        .collect()
}

/// Decrypts the keystore file at `path` with `password`.
pub fn decrypt_keystore(path: &Path, password: &str) -> Result<PrivateKeySigner, DeployerError> {
    if !path.is_file() {
        return Err(DeployerError::Keys(format!("keystore {} does not exist", path.display())));
    }
    // eth-keystore's errors describe the file (MAC mismatch, bad JSON), never the key.
    PrivateKeySigner::decrypt_keystore(path, password)
        .map_err(|source| DeployerError::KeystoreDecrypt { path: path.to_path_buf(), source })
}

/// The account of the keystore file at `path`, read from its `address` field without decrypting it
/// (geth writes one; `cast wallet import` does not: then `None`).
pub fn keystore_address(path: &Path) -> Result<Option<alloy::primitives::Address>, DeployerError> {
    let text = std::fs::read_to_string(path)
        .map_err(|source| DeployerError::KeystoreRead { path: path.to_path_buf(), source })?;
    let json: serde_json::Value = serde_json::from_str(&text)
        .map_err(|source| DeployerError::KeystoreJson { path: path.to_path_buf(), source })?;
    let Some(address) = json.get("address").and_then(serde_json::Value::as_str) else { return Ok(None) };
    let hex = address.strip_prefix("0x").unwrap_or(address);
    hex.parse::<alloy::primitives::Address>()
        .map(Some)
        .map_err(|_| DeployerError::Keys(format!("keystore {} has a malformed `address` {address}", path.display())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_keys_are_refused_without_echoing_them() {
        let secret = "0xnot-a-key-but-secret";
        let err = parse_keys("KESSAI_KEYS", secret).unwrap_err().to_string();
        assert!(err.contains("key 1 of KESSAI_KEYS"), "{err}");
        assert!(!err.contains("secret"), "the value must not be echoed: {err}");
        let keys = parse_keys(
            "KESSAI_KEYS",
            "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80, 59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
        )
        .expect("two keys");
        assert_eq!(keys.len(), 2);
    }

    #[test]
    fn a_keystore_decrypts_with_its_password_only() {
        let path = crate::tools::project_root().join("tests/fixtures/operator.keystore.json");
        let key = decrypt_keystore(&path, "kessai-test").expect("decrypt");
        assert_eq!(
            key.address(),
            "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266".parse::<alloy::primitives::Address>().unwrap()
        );
        let err = decrypt_keystore(&path, "wrong").unwrap_err().to_string();
        assert!(err.contains("cannot decrypt keystore") && err.contains("wrong password"), "{err}");
        let err = decrypt_keystore(Path::new("/nonexistent/key.json"), "x").unwrap_err().to_string();
        assert!(err.contains("does not exist"), "{err}");
    }
}
