//! The scenario file format (TOML) and its parser into the [`model`](super::model).
//!
//! ```toml
//! [scenario]
//! name = "DCJPY pilot"
//! start = 2031-04-01T00:00:00Z        # optional; default: the next UTC midnight
//! watch = ["seller", "buyer"]         # optional; default: every registered party
//!
//! [instrument]                        # the security token (optional [instrument.bond])
//! name = "Kessai Green Bond 2031"
//! symbol = "KGB31"
//!
//! [parties.seller]                    # role = "investor" unless said otherwise
//! class = "retail"                    # retail | professional | institutional
//! country = "JP"                      # alpha-2 code or ISO 3166-1 number
//! [parties.agent]
//! role = "agent"
//! address = "0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65"  # optional: the account that plays it
//!
//! [funding]
//! seller = { units = 1_000 }
//!
//! [[step]]
//! do = "create_trade"
//! trade = "t1"
//! seller = "seller"
//! buyer = "buyer"
//! agent = "agent"
//! units = 100
//! amount = 1_000_000
//! deadline = "2d"                     # times are offsets from the start
//! expect.events = ["TradeCreated"]
//! expect.balances.seller = { units = 1_000, units_held = 100 }
//! ```
//!
//! Parsing has two passes. Serde reads the file into `Raw*` structures whose fields keep their
//! source spans ([`toml::Spanned`]), so type errors, unknown fields and malformed values are located
//! by the `toml` crate itself. The second pass checks what serde cannot (which fields a step kind
//! takes, party and trade names, event and error names) and builds the model; each of its errors
//! points at the offending value. Every error carries line, column and what was expected.

use super::{
    error::ParseError,
    events,
    model::{
        Action, BalanceExpect, Bond, DAY, EventPattern, Expect, Holder, Instrument, Origin, Party, PartyId, Registry,
        Role, Scenario, Step, SupplyExpect, TokenNames, TradeDef, TradeId, TradeState, TradeTerms,
    },
    steps::{self, Input, KINDS},
};
use alloy::primitives::U256;
use kessai_deployer::address;
use serde::{
    Deserialize, Deserializer,
    de::{self, MapAccess, Visitor},
};
use std::{collections::BTreeMap, collections::HashMap, fmt, ops::Range, path::Path};
use toml::{Spanned, value::Datetime};

type S<T> = Spanned<T>;

/// Parses a scenario file's text.
pub fn parse(src: &str) -> Result<Scenario, ParseError> {
    parse_from(src, None)
}

/// Parses the text of the scenario file at `path` (named in warnings; errors get it from the caller).
pub fn parse_from(src: &str, path: Option<&Path>) -> Result<Scenario, ParseError> {
    let raw: RawFile = toml::from_str(src).map_err(|e| {
        let span = e.span().unwrap_or(0..0);
        ParseError::at(src, span, explain_serde(e.message()))
    })?;
    Resolver::new(src, path).resolve(raw)
}

/// Makes serde's messages say what was expected in the file's terms.
fn explain_serde(message: &str) -> String {
    let message = message.trim_end();
    if let Some(rest) = message.strip_prefix("missing field ") {
        return format!("missing field {rest}: this table needs it");
    }
    if message.starts_with("unknown field") {
        return message.replacen("expected one of", "expected one of the fields", 1);
    }
    message.to_string()
}

mod raw;
mod resolve;
mod step;

pub(crate) use raw::{RawStep, one_of};
pub(crate) use resolve::{PResult, Resolver};

/// A given amount, or zero (a required one was checked before it is read).
pub(crate) fn amount(v: &Option<S<Amount>>) -> U256 {
    v.as_ref().map_or(U256::ZERO, |a| a.get_ref().0)
}

/// A given text.
pub(crate) fn text(v: &Option<S<String>>) -> Option<String> {
    v.as_ref().map(|v| v.get_ref().clone())
}
#[cfg(test)]
mod tests;

use raw::*;
