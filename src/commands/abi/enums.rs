//! The suite's Solidity enums with their member names, for the exported `enums.json` / `enums.ts`:
//! [`kessai_bindings::enums`] reads them from the sources that declare them.

use std::collections::BTreeMap;

/// Every enum of the suite, keyed as ABIs name its type, with its members in value order.
pub(super) fn suite_enums() -> eyre::Result<BTreeMap<String, Vec<String>>> {
    Ok(kessai_bindings::enums::suite_enums().clone())
}
