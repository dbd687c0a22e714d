//! Addresses typed by people: the one rule every parser of user input follows (suite configs, trade
//! terms, scenario files, command-line arguments).
//!
//! An address is `0x` and 40 hex digits. Mixed-case hex must pass its EIP-55 checksum: one mistyped
//! digit almost always breaks it, and sending to such an address would reach an account nobody
//! controls. All-lowercase or all-uppercase hex carries no checksum; it is accepted as
//! [`Checked::Unchecked`], and the caller warns through [`warn_unchecked`] (target
//! [`TARGET`], on stderr) with the place it came from.
//!
//! Files kessai writes itself (manifests, journals, cursors, reports) keep alloy's own parser: alloy's
//! serializer writes their addresses (in lowercase hex), nobody types them.
//!
//! ```
//! use kessai_deployer::address::{self, Checked};
//!
//! let typed = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
//! assert!(matches!(address::parse(typed), Ok(Checked::Valid(_))));
//! let lower = typed.to_lowercase();
//! assert!(matches!(address::parse(&lower), Ok(Checked::Unchecked(_))));
//! let mistyped = "0x70997970c51812dc3a010c7d01b50e0d17dc79C8";
//! let e = address::parse(mistyped).expect_err("a wrong checksum");
//! assert!(e.to_string().contains("did you mean 0x70997970C51812dc3A010C7d01b50e0d17dc79C8?"));
//! ```

use crate::error::AddressError;
use alloy::primitives::Address;
use serde::{Deserialize, Deserializer};
use std::fmt;

/// The tracing target of the warnings about unchecked addresses.
pub const TARGET: &str = "kessai::address";

/// An address that passed the rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Checked {
    /// Written in its EIP-55 checksummed form (or with no letters, where there is nothing to check).
    Valid(Address),
    /// All-lowercase or all-uppercase hex: accepted, but a mistyped digit cannot be detected.
    Unchecked(Address),
}

impl Checked {
    /// The address, checked or not.
    pub const fn address(self) -> Address {
        match self {
            Self::Valid(a) | Self::Unchecked(a) => a,
        }
    }
}

/// Parses an address typed by a person: `0x` and 40 hex digits, whose EIP-55 checksum must hold
/// when the digits are of mixed case.
pub fn parse(text: &str) -> Result<Checked, AddressError> {
    let malformed = |reason: &str| AddressError::Malformed { text: text.to_string(), reason: reason.to_string() };
    let Some(hex) = text.strip_prefix("0x") else {
        return Err(malformed("it does not start with 0x"));
    };
    if hex.len() != 40 {
        return Err(malformed(&format!("it has {} characters after 0x", hex.chars().count())));
    }
    if let Some(c) = hex.chars().find(|c| !c.is_ascii_hexdigit()) {
        return Err(malformed(&format!("{c:?} is not a hex digit")));
    }
    let address: Address = hex.parse().map_err(|e| malformed(&format!("{e}")))?;
    if address.to_checksum(None) == text {
        return Ok(Checked::Valid(address));
    }
    let letters = || hex.bytes().filter(u8::is_ascii_alphabetic);
    if letters().all(|b| b.is_ascii_lowercase()) || letters().all(|b| b.is_ascii_uppercase()) {
        return Ok(Checked::Unchecked(address));
    }
    Err(AddressError::Checksum { typed: text.to_string(), checksummed: address })
}

/// [`parse`], warning through [`warn_unchecked`] when the address carries no checksum; `place` says
/// where it was written (`config deploy.toml: line 4, column 13: accounts.registrar`).
pub fn parse_at(text: &str, place: impl fmt::Display) -> Result<Address, AddressError> {
    let checked = parse(text)?;
    if let Checked::Unchecked(address) = checked {
        warn_unchecked(place, text, address);
    }
    Ok(checked.address())
}

/// The warning about `typed`, an address written without a checksum, at `place`.
pub fn unchecked_message(place: impl fmt::Display, typed: &str, address: Address) -> String {
    // An address's Display is its checksummed form.
    format!(
        "{place}: {typed} is all one case, so it carries no EIP-55 checksum and a mistyped digit cannot be \
         detected; check it against its source and write it checksummed: {address}"
    )
}

/// Warns (target [`TARGET`]) that `typed`, at `place`, carries no checksum.
pub fn warn_unchecked(place: impl fmt::Display, typed: &str, address: Address) {
    tracing::warn!(target: TARGET, "{}", unchecked_message(place, typed, address));
}

/// A serde `deserialize_with` helper for address fields of files people write (a string, under the
/// rule of [`parse`]; an unchecked one is warned about, named by itself).
///
/// ```
/// use alloy::primitives::Address;
/// use serde::Deserialize;
///
/// #[derive(Deserialize)]
/// struct Terms {
///     #[serde(deserialize_with = "kessai_deployer::address::deserialize")]
///     buyer: Address,
/// }
/// let bad = r#"{"buyer": "0x976EA74026E726554dB657fA54763abd0C3a0aA9"}"#;
/// let e = serde_json::from_str::<Terms>(bad).err().expect("a wrong checksum");
/// assert!(e.to_string().contains("has a wrong EIP-55 checksum"));
/// ```
pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Address, D::Error> {
    let text = String::deserialize(d)?;
    parse_at(&text, "an address in the file").map_err(serde::de::Error::custom)
}

/// [`deserialize`] for an optional field (use with `#[serde(default)]`).
pub fn deserialize_option<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Address>, D::Error> {
    let text = Option::<String>::deserialize(d)?;
    text.map(|t| parse_at(&t, "an address in the file").map_err(serde::de::Error::custom)).transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    const REGISTRAR: &str = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";

    #[test]
    fn a_checksummed_address_is_valid() {
        let a = parse(REGISTRAR).expect("valid");
        assert_eq!(a, Checked::Valid(REGISTRAR.parse().expect("address")));
        assert!(matches!(parse(&format!("0x{}", "0".repeat(40))), Ok(Checked::Valid(a)) if a.is_zero()));
        // No letters: nothing to check, nothing to warn about.
        let digits = "0x1234567890123456789012345678901234567890";
        assert!(matches!(parse(digits), Ok(Checked::Valid(_))));
    }

    #[test]
    fn one_case_is_accepted_unchecked() {
        let lower = REGISTRAR.to_lowercase();
        let upper = format!("0x{}", REGISTRAR[2..].to_uppercase());
        for text in [&lower, &upper] {
            assert_eq!(parse(text).expect("one case"), Checked::Unchecked(REGISTRAR.parse().expect("address")));
        }
        let message = unchecked_message("accounts.registrar", &lower, REGISTRAR.parse().expect("address"));
        assert!(message.starts_with(&format!("accounts.registrar: {lower} is all one case")), "{message}");
        assert!(message.ends_with(REGISTRAR), "{message}");
    }

    #[test]
    fn a_wrong_checksum_is_refused_with_the_checksummed_form_of_what_was_typed() {
        // A letter's case changed; then one digit mistyped, whose checksummed form is another account's.
        for (typed, meant) in [
            ("0x70997970c51812dc3a010c7d01b50e0d17dc79C8", REGISTRAR),
            ("0x70997970C51812dc3A010C7d01b50e0d17dc79c8", REGISTRAR),
            ("0x70997970C51812dc3A010C7d01b50e0d17dc79C9", "0x70997970c51812dc3a010c7D01B50E0D17Dc79c9"),
        ] {
            let e = parse(typed).expect_err("a wrong checksum");
            assert_eq!(
                e.to_string(),
                format!(
                    "{typed} has a wrong EIP-55 checksum: did you mean {meant}? A mistyped digit would send to an \
                     address nobody controls; copy the address again from its source"
                )
            );
        }
    }

    #[test]
    fn malformed_text_says_what_an_address_is() {
        for (text, reason) in [
            ("0x7099", "it has 4 characters after 0x"),
            ("70997970C51812dc3A010C7d01b50e0d17dc79C8", "it does not start with 0x"),
            ("0x70997970C51812dc3A010C7d01b50e0d17dc79CG", "'G' is not a hex digit"),
            ("0X70997970C51812dc3A010C7d01b50e0d17dc79C8", "it does not start with 0x"),
        ] {
            let e = parse(text).expect_err("malformed").to_string();
            assert!(e.contains(reason) && e.contains("expected 0x and 40 hex digits"), "{e}");
        }
    }

    #[test]
    fn serde_fields_follow_the_rule() {
        #[derive(Debug, Deserialize)]
        struct Terms {
            #[serde(deserialize_with = "deserialize")]
            seller: Address,
            #[serde(default, deserialize_with = "deserialize_option")]
            agent: Option<Address>,
        }
        let ok: Terms = serde_json::from_str(&format!(r#"{{"seller": "{REGISTRAR}"}}"#)).expect("terms");
        assert_eq!((ok.seller.to_string(), ok.agent), (REGISTRAR.to_string(), None));
        let ok: Terms =
            serde_json::from_str(&format!(r#"{{"seller": "{REGISTRAR}", "agent": "{}"}}"#, REGISTRAR.to_lowercase()))
                .expect("an unchecked agent");
        assert_eq!(ok.agent, Some(ok.seller));
        let bad = r#"{"seller": "0x70997970c51812dc3a010c7d01b50e0d17dc79C8"}"#;
        let e = serde_json::from_str::<Terms>(bad).expect_err("refused").to_string();
        assert!(e.contains("did you mean 0x70997970C51812dc3A010C7d01b50e0d17dc79C8?") && e.contains("line 1"), "{e}");
        let bad = format!(r#"{{"seller": "{REGISTRAR}", "agent": "0x15d34AAf54267DB7D7c367839AAf71A00a2C6A66"}}"#);
        assert!(serde_json::from_str::<Terms>(&bad).expect_err("refused").to_string().contains("wrong EIP-55"));
    }
}
