//! Serde for amounts as decimal strings in reports (JSON readers need not parse hex):
//! `#[serde(with = "crate::decimal")]`.

use alloy::primitives::U256;
use serde::{Deserialize, Deserializer, Serializer, de};

/// Writes `v` in decimal.
pub fn serialize<S: Serializer>(v: &U256, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(v)
}

/// Reads a decimal string.
pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<U256, D::Error> {
    let s = String::deserialize(d)?;
    U256::from_str_radix(&s, 10).map_err(de::Error::custom)
}
