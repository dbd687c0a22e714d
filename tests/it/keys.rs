//! `kessai keys` and the one role order: every command reads keys as operator, registrar, issuer,
//! bank, authority (then the demo's agent, seller, buyer); `kessai keys` shows the accounts in that
//! order without printing a key or decrypting a keystore.

use crate::support;
use crate::support::command as kessai;
use kessai_bindings::alloy::primitives::hex;
use kessai_deployer::anvil;

fn stdout(out: &std::process::Output) -> String {
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout.clone()).expect("utf-8")
}

#[test]
fn keys_lists_the_accounts_in_role_order_and_never_a_key() {
    let keys = anvil::dev_signers();
    let dev = anvil::dev_accounts();
    let two = format!("{},{}", hex::encode_prefixed(keys[3].to_bytes()), hex::encode_prefixed(keys[1].to_bytes()));
    let text = stdout(&kessai().arg("keys").env("KESSAI_KEYS", &two).output().expect("run kessai keys"));
    assert!(text.starts_with("2 keys from KESSAI_KEYS, in role order"), "{text}");
    assert!(text.contains(&format!("1  operator                   {}", dev[3])), "{text}");
    assert!(text.contains(&format!("2  registrar                  {}", dev[1])), "{text}");
    assert!(text.contains("no key for issuer, bank, authority"), "{text}");
    for key in &keys[..4] {
        assert!(!text.contains(&hex::encode(key.to_bytes())), "a key was printed");
    }

    let json = stdout(&kessai().args(["--json", "keys"]).output().expect("run kessai --json keys"));
    let json: serde_json::Value = serde_json::from_str(&json).expect("JSON");
    let roles: Vec<&str> = json["keys"].as_array().expect("keys").iter().map(|k| k["role"].as_str().unwrap()).collect();
    assert_eq!(roles[..8], ["operator", "registrar", "issuer", "bank", "authority", "agent", "seller", "buyer"]);
    assert_eq!(json["keys"][4]["address"], dev[4].to_checksum(None));
}

/// Keystores that name their account (geth's) are read without a password or a terminal; those that
/// do not (`cast wallet import`'s) take the password from the environment, and without one or a
/// terminal the command says what to set.
#[test]
fn keys_reads_keystores_without_decrypting_those_that_name_their_account() {
    let dir = std::env::temp_dir().join(format!("kessai-keys-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("dir");
    let password = "a password nobody types";
    let paths = support::keystores(&dir, password);
    let list = paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(",");
    let run = |password: Option<&str>| {
        let mut cmd = kessai();
        cmd.arg("keys").env("KESSAI_KEYSTORE", &list).stdin(std::process::Stdio::null());
        match password {
            Some(p) => cmd.env("KESSAI_KEYSTORE_PASSWORD", p),
            None => cmd.env_remove("KESSAI_KEYSTORE_PASSWORD"),
        };
        cmd.output().expect("run kessai keys")
    };
    let refused = run(None);
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("set KESSAI_KEYSTORE_PASSWORD"), "{stderr}");

    let text = stdout(&run(Some(password)));
    assert!(text.starts_with("8 keys from KESSAI_KEYSTORE"), "{text}");
    assert!(text.contains(&format!("5  authority                  {}", anvil::dev_accounts()[4])), "{text}");

    // Name each account in its file, as geth does: no password is needed any more.
    for (path, account) in paths.iter().zip(anvil::dev_accounts()) {
        let mut json: serde_json::Value = serde_json::from_slice(&std::fs::read(path).expect("read")).expect("JSON");
        json["address"] = serde_json::Value::String(hex::encode(account));
        std::fs::write(path, json.to_string()).expect("write");
    }
    let text = stdout(&run(None));
    assert!(text.contains(&format!("8  buyer (demo)               {}", anvil::dev_accounts()[7])), "{text}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_demo_reads_its_keys_in_the_role_order() {
    let json = stdout(&kessai().args(["--json", "demo"]).output().expect("run kessai demo"));
    let report: serde_json::Value = serde_json::from_str(&json).expect("JSON");
    let dev = anvil::dev_accounts();
    let text = report.to_string();
    assert!(text.contains(&format!("grant ENFORCER_ROLE on security to {}", dev[4])), "the fifth key is the authority");
    let seller = dev[6].to_string().to_lowercase();
    assert!(report["trade_id"].as_str().expect("trade id").starts_with(&seller), "the seventh key is the seller");
}

/// Commands that only read (`registry show`, `watch`, `ledger`, `verify`) load no key: with keystores
/// configured, no password set and no terminal, they still answer.
#[tokio::test]
async fn read_only_commands_need_no_keystore_password() {
    let market = support::cli::cli_market("keys-read-only").await;
    let keystore = market.dir.join("keystores");
    std::fs::create_dir_all(&keystore).expect("dir");
    let paths = support::keystores(&keystore, "unused here");
    let list = paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(",");
    let seller = market.p.seller.to_string();
    let out = kessai()
        .args(["--json", "registry", "--rpc-url", &market.url, "--manifest"])
        .arg(&market.manifest)
        .args(["show", "--account", &seller])
        .env("KESSAI_KEYSTORE", &list)
        .env_remove("KESSAI_KEYSTORE_PASSWORD")
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run kessai registry show");
    let shown: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("JSON");
    assert_eq!(shown["account"].as_str().map(str::to_lowercase), Some(seller.to_lowercase()), "{shown}");

    // A command that sends still needs the keys, and says how to give the password.
    let out = kessai()
        .args(["registry", "--rpc-url", &market.url, "--manifest"])
        .arg(&market.manifest)
        .args(["revoke", "--account", &seller])
        .env("KESSAI_KEYSTORE", &list)
        .env_remove("KESSAI_KEYSTORE_PASSWORD")
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run kessai registry revoke");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("set KESSAI_KEYSTORE_PASSWORD"));

    // A sender whose key is not among the keystores: the message names the keystores, not KESSAI_KEYS.
    let stranger = anvil::dev_accounts()[9].to_string();
    let out = kessai()
        .args(["registry", "--rpc-url", &market.url, "--manifest"])
        .arg(&market.manifest)
        .args(["--from", &stranger, "revoke", "--account", &seller])
        .env("KESSAI_KEYSTORE", &list)
        .env("KESSAI_KEYSTORE_PASSWORD", "unused here")
        .output()
        .expect("run kessai registry revoke --from");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains(&format!("no key for --from {stranger}: add its key to KESSAI_KEYSTORE")), "{stderr}");
}
