//! The cross-chain DvP's shared types: the terms both chains hash alike, the states a trade passes
//! through, and the conversions between the copies of these types each contract's bindings carry.
//!
//! Each `sol!` module generates its own `CrossChainTerms` types; they have the same ABI, so one
//! converts into another through its encoding ([`for_payment`], [`for_delivery`]).
//!
//! ```
//! use kessai_bindings::cross_chain::state_name;
//! assert_eq!(state_name("3"), "Committed");
//! assert_eq!(state_name("9"), "state 9");
//! ```

use crate::{cross_chain_delivery, cross_chain_payment};
use alloy::sol_types::SolValue;

/// The terms of a cross-chain trade, as the delivery contract's bindings type them (the tooling's own).
pub type Terms = cross_chain_delivery::CrossChainTerms::Terms;

/// Where a trade stands (`CrossChainTerms.State`): a `uint8` in the bindings, named by [`state_name`].
pub type State = cross_chain_payment::CrossChainTerms::State;

/// The states, by value, as `CrossChainTerms.State` declares them.
pub mod states {
    /// Not seen.
    pub const NONE: u8 = 0;
    /// Units locked on the asset chain (attested to the payment chain).
    pub const LOCKED: u8 = 1;
    /// Cash locked on the payment chain.
    pub const PAID: u8 = 2;
    /// Committed on the payment chain (attested to the asset chain).
    pub const COMMITTED: u8 = 3;
    /// Aborted on the payment chain (attested to the asset chain).
    pub const ABORTED: u8 = 4;
}

/// The same terms typed for the payment contract's calls.
pub fn for_payment(terms: &Terms) -> cross_chain_payment::CrossChainTerms::Terms {
    // Both are the ABI tuple of `CrossChainTerms.Terms`: the encoding of one decodes as the other.
    cross_chain_payment::CrossChainTerms::Terms::abi_decode(&terms.abi_encode()).expect("the same ABI tuple")
}

/// The same terms typed for the delivery contract's calls (the tooling's [`Terms`]).
pub fn for_delivery(terms: &cross_chain_payment::CrossChainTerms::Terms) -> Terms {
    Terms::abi_decode(&terms.abi_encode()).expect("the same ABI tuple")
}

/// The state's name for a rendered `uint8` (`"3"` is `Committed`), or `state N` for a value the enum
/// does not have.
pub fn state_name(rendered: &str) -> String {
    match rendered.parse::<u8>().ok().and_then(|n| crate::enums::member("CrossChainTerms.State", n)) {
        Some(name) => name.to_string(),
        None => format!("state {rendered}"),
    }
}

#[cfg(test)]
mod tests {
    use super::states::*;

    #[test]
    fn the_state_constants_are_the_solidity_enum() {
        for (value, name) in
            [(NONE, "None"), (LOCKED, "Locked"), (PAID, "Paid"), (COMMITTED, "Committed"), (ABORTED, "Aborted")]
        {
            assert_eq!(crate::enums::member("CrossChainTerms.State", value), Some(name));
        }
    }
}
