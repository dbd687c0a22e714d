//! Tests of the parent module.

use super::*;

use kessai_deployer::anvil;

fn scenario(buyer: &str) -> Scenario {
    let src = format!(
        "[scenario]\nname = \"keys\"\n[parties.seller]\n[parties.buyer]\n{buyer}\n[funding]\nseller = {{ units = 1 }}\n"
    );
    crate::scenario::parse::parse(&src).expect("parses")
}

fn accounts(keys: &[PrivateKeySigner]) -> Vec<Address> {
    keys.iter().map(PrivateKeySigner::address).collect()
}

#[test]
fn parties_take_the_keys_in_order_unless_they_name_their_account() {
    let keys = anvil::dev_signers();
    let dev = anvil::dev_accounts();
    let plain = assign_keys(&scenario(""), &keys).expect("keys");
    assert_eq!(accounts(&plain), dev[..7]);

    // The buyer names the seller's usual account: the seller takes the next free key.
    let named = assign_keys(&scenario(&format!("address = \"{}\"", dev[5])), &keys).expect("keys");
    assert_eq!(accounts(&named), [&dev[..5], &[dev[6], dev[5]]].concat());

    let stranger = "0x1234567890123456789012345678901234567890";
    let Err(ScenarioError::Setup(e)) = assign_keys(&scenario(&format!("address = \"{stranger}\"")), &keys) else {
        panic!("no key for a stranger's account");
    };
    assert!(e.starts_with(&format!("party `buyer` is played by {stranger}, but the engine holds no key")), "{e}");
    let Err(ScenarioError::Setup(e)) = assign_keys(&scenario(""), &keys[..6]) else { panic!("too few keys") };
    assert!(e.contains("the engine holds only 6 keys"), "{e}");
}
