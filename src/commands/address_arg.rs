//! Every command's address arguments (`--account`, `--from`, `--to`, `--holder`, ...) through one
//! clap value parser over [`kessai_deployer::address`]: a wrong EIP-55 checksum is refused by clap
//! with the checksummed form; a one-case address is accepted, and its warning is held until logging
//! is set up ([`warn_pending`]), since clap parses before that.

use clap::{Arg, Command, builder::TypedValueParser, error::ErrorKind};
use kessai_bindings::alloy::primitives::Address;
use kessai_deployer::address::{self, Checked};
use std::{
    ffi::OsStr,
    sync::{Mutex, PoisonError},
};

/// Warnings about unchecked address arguments, waiting for the log subscriber.
static PENDING: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// The value parser of address arguments: `#[arg(long, value_parser = AddressParser)]`.
#[derive(Clone, Copy, Debug)]
pub struct AddressParser;

impl TypedValueParser for AddressParser {
    type Value = Address;

    fn parse_ref(&self, cmd: &Command, arg: Option<&Arg>, value: &OsStr) -> Result<Address, clap::Error> {
        let name =
            arg.map_or_else(|| "an address".to_string(), |a| a.get_long().map_or(a.to_string(), |l| format!("--{l}")));
        let text = value.to_string_lossy();
        match address::parse(&text) {
            Ok(Checked::Valid(a)) => Ok(a),
            Ok(Checked::Unchecked(a)) => {
                PENDING.lock().unwrap_or_else(PoisonError::into_inner).push(address::unchecked_message(name, &text, a));
                Ok(a)
            }
            Err(e) => {
                Err(clap::Error::raw(ErrorKind::ValueValidation, format!("invalid value for {name}: {e}\n"))
                    .with_cmd(cmd))
            }
        }
    }
}

/// Logs the warnings about unchecked address arguments (target [`address::TARGET`]).
pub fn warn_pending() {
    for message in PENDING.lock().unwrap_or_else(PoisonError::into_inner).drain(..) {
        tracing::warn!(target: address::TARGET, "{message}");
    }
}
