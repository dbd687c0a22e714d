//! Whole amounts (units or yen) in files people write — scenario files, trade terms — read the same
//! way everywhere: a non-negative integer, or a string of digits with `_` or `,` separators for
//! values beyond what the format's numbers hold. Everything else is refused with what was expected.

use alloy::primitives::U256;
use serde::{
    Deserialize, Deserializer,
    de::{self, Visitor},
};
use std::fmt;

/// What an amount looks like, for error messages.
pub const EXPECTED: &str = "a whole number of units or yen, 0 or more (like 1_000_000 or \"1,000,000\")";

/// A whole number of units or yen.
///
/// ```
/// use kessai_deployer::amount::Amount;
///
/// let big: Amount = serde_json::from_str("\"1,000,000,000,000,000,000,000\"").expect("a string of digits");
/// assert_eq!(big.0.to_string(), "1000000000000000000000");
/// let e = serde_json::from_str::<Amount>("-5").expect_err("negative");
/// assert!(e.to_string().starts_with("bad amount -5: expected a whole number"), "{e}");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Amount(pub U256);

impl<'de> Deserialize<'de> for Amount {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(AmountVisitor)
    }
}

/// A serde `deserialize_with` helper for `U256` amount fields.
pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<U256, D::Error> {
    Amount::deserialize(d).map(|a| a.0)
}

struct AmountVisitor;

/// How serde_json hands over a number when its `arbitrary_precision` feature is on (another crate
/// of the build enables it): a one-entry map from this key to the number's text.
const JSON_NUMBER: &str = "$serde_json::private::Number";

impl<'de> Visitor<'de> for AmountVisitor {
    type Value = Amount;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(EXPECTED)
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Amount, E> {
        u64::try_from(v)
            .map(|v| Amount(U256::from(v)))
            .map_err(|_| E::custom(format!("bad amount {v}: expected {EXPECTED}")))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Amount, E> {
        Ok(Amount(U256::from(v)))
    }

    fn visit_i128<E: de::Error>(self, v: i128) -> Result<Amount, E> {
        u128::try_from(v)
            .map(|v| Amount(U256::from(v)))
            .map_err(|_| E::custom(format!("bad amount {v}: expected {EXPECTED}")))
    }

    fn visit_u128<E: de::Error>(self, v: u128) -> Result<Amount, E> {
        Ok(Amount(U256::from(v)))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Amount, E> {
        let hint = if v.fract() == 0.0 && v >= 0.0 {
            "a number this large loses digits: write it as a string of digits, like \"1000000000000000000000\""
        } else {
            EXPECTED
        };
        Err(E::custom(format!("bad amount {v}: expected {hint}")))
    }

    fn visit_map<M: de::MapAccess<'de>>(self, mut map: M) -> Result<Amount, M::Error> {
        let key: Option<String> = map.next_key()?;
        if key.as_deref() != Some(JSON_NUMBER) {
            return Err(de::Error::invalid_type(de::Unexpected::Map, &self));
        }
        let text: String = map.next_value()?;
        if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
            return U256::from_str_radix(&text, 10)
                .map(Amount)
                .map_err(|_| de::Error::custom(format!("bad amount {text}: it does not fit in 256 bits")));
        }
        Err(de::Error::custom(format!("bad amount {text}: expected {EXPECTED}")))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Amount, E> {
        let digits: String = v.chars().filter(|c| *c != '_' && *c != ',').collect();
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(E::custom(format!("bad amount \"{v}\": expected {EXPECTED}")));
        }
        U256::from_str_radix(&digits, 10)
            .map(Amount)
            .map_err(|_| E::custom(format!("bad amount \"{v}\": it does not fit in 256 bits")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_refused_with_what_to_write() {
        // Beyond 2^64 a JSON number is exact only with serde_json's `arbitrary_precision`, which
        // this build has: it is read exactly; otherwise the message asks for a string of digits.
        match serde_json::from_str::<Amount>("123456789012345678901234567890123") {
            Ok(a) => assert_eq!(a.0.to_string(), "123456789012345678901234567890123"),
            Err(e) => assert!(e.to_string().contains("write it as a string of digits"), "{e}"),
        }
        let e = serde_json::from_str::<Amount>(&format!("{}0", U256::MAX)).expect_err("beyond 2^256");
        assert!(e.to_string().contains("does not fit in 256 bits"), "{e}");
        let e = serde_json::from_str::<Amount>("-5").expect_err("negative");
        assert!(e.to_string().starts_with("bad amount -5: expected a whole number of units or yen, 0 or more"), "{e}");
        let e = serde_json::from_str::<Amount>("2.5").expect_err("a fraction");
        assert!(e.to_string().starts_with("bad amount 2.5: expected a whole number"), "{e}");
        let e = serde_json::from_str::<Amount>(&format!("\"{}0\"", U256::MAX)).expect_err("beyond 2^256");
        assert!(e.to_string().contains("does not fit in 256 bits"), "{e}");
        let max: Amount = serde_json::from_str(&format!("\"{}\"", U256::MAX)).expect("2^256 - 1");
        assert_eq!(max.0, U256::MAX);
        let plain: Amount = serde_json::from_str("1000").expect("an integer");
        assert_eq!(plain.0, U256::from(1000));
    }
}
