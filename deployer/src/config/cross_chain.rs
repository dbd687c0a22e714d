//! The `[cross_chain]` section of a suite config: the suite deployed on two chains for cross-chain
//! settlement — the asset chain (A: the security token and `CrossChainDelivery`) and the payment chain
//! (B: the deposit token and `CrossChainPayment`) — with the attestor set both chains' verifiers
//! accept and the authorities of the delivery contract's emergency resolution. It is checked like the
//! rest of the config (every problem at once, each with its place and what to change) and turned into
//! each chain's plan ([`Config::plan_for`]) and what each chain's manifest records about the other
//! ([`Config::link_for`]). `deployments/cross-chain.toml` is a complete example.
//!
//! ```
//! use kessai_deployer::{
//!     config::{Config, MINIMAL},
//!     xchain::plan::{Side, xlabels},
//! };
//!
//! let text = format!(
//!     r#"{MINIMAL}
//! [cross_chain]
//! attestors = ["0x5d5c99EdF529335160FF180fA141Dd4967fc00D2", "0xa64C3a7dB2a92f47Bc3c0729563D8B1F351A62A4"]
//! threshold = 2
//! resolvers = ["0x14dC79964da2C08b23698B3D3cc7Ca32193d9955", "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"]
//! resolution_approvals = 2
//! resolution_delay_days = 30
//!
//! [cross_chain.asset]
//! profile = "ibet"
//!
//! [cross_chain.payment]
//! chain_id = 31337
//! "#
//! );
//! let config = Config::parse(&text, "inline").unwrap();
//! let x = config.cross_chain.as_ref().unwrap();
//! assert_eq!((x.asset.chain_id, x.payment.chain_id), (1_010_032, 31_337));
//! let asset = config.plan_for(Side::Asset).unwrap().predicted_addresses().unwrap();
//! let link = config.link_for(Side::Payment).unwrap().unwrap();
//! assert_eq!((link.peer_chain_id, link.peer_contract), (1_010_032, asset[xlabels::DELIVERY]));
//! ```

use super::{Checker, Config};
use crate::{
    error::DeployerError,
    manifest::CrossChainLink,
    plan::{Plan, SuiteSpec},
    profile::ChainProfile,
    xchain::plan::{self as xplan, CrossChainSpec, Side, xlabels},
};
use alloy::primitives::Address;
use serde::Deserialize;
use std::collections::BTreeMap;
use toml::Spanned;

/// The most attestors a verifier holds (`AttestationVerifier.MAX_ATTESTORS`).
pub const MAX_ATTESTORS: usize = 32;

/// Seconds in a day: the resolution delay is written in days.
const DAY: u64 = 86_400;

/// One chain of a cross-chain deployment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SideChain {
    /// The chain's id: a node reporting another is refused before anything is sent.
    pub chain_id: u64,
    /// The chain's network profile (`profile = "ibet"`): it prices and confirms the chain's
    /// transactions and is recorded in the chain's manifest.
    pub profile: Option<ChainProfile>,
}

/// The `[cross_chain]` section, checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CrossChainConfig {
    /// The attestor set of both chains' verifiers.
    pub attestors: Vec<Address>,
    /// The attestor signatures a proof needs (k of the n attestors).
    pub threshold: u8,
    /// The accounts given AUTHORITY_ROLE on the asset chain's delivery contract.
    pub resolvers: Vec<Address>,
    /// The distinct resolver approvals an emergency resolution needs.
    pub resolution_approvals: u8,
    /// Seconds from an emergency resolution's first approval until it may be carried out.
    pub resolution_delay: u64,
    /// The asset chain (A).
    pub asset: SideChain,
    /// The payment chain (B).
    pub payment: SideChain,
}

impl CrossChainConfig {
    /// What the deployment adds to `suite` on both chains.
    pub fn spec(&self, suite: &SuiteSpec) -> CrossChainSpec {
        CrossChainSpec {
            suite: suite.clone(),
            attestors: self.attestors.clone(),
            threshold: self.threshold,
            resolvers: self.resolvers.clone(),
            resolution_approvals: self.resolution_approvals,
            resolution_delay: self.resolution_delay,
        }
    }

    /// The chain of `side`.
    pub fn chain(&self, side: Side) -> SideChain {
        match side {
            Side::Asset => self.asset,
            Side::Payment => self.payment,
        }
    }
}

impl Config {
    /// The plan of `side`'s chain, salted with the config's salt like [`Config::plan`]: both chains
    /// share the salt, so every address on both is known before anything is sent. `None` without
    /// `[cross_chain]`.
    pub fn plan_for(&self, side: Side) -> Option<Plan> {
        let x = self.cross_chain.as_ref()?;
        Some(xplan::plan(&x.spec(&self.spec), side).with_salt(self.salt.clone()))
    }

    /// What the manifest of `side`'s chain records about the other chain: its id and the planned
    /// address of its settlement contract. `None` without `[cross_chain]`.
    pub fn link_for(&self, side: Side) -> Result<Option<CrossChainLink>, DeployerError> {
        let (Some(x), Some(peer_plan)) = (&self.cross_chain, self.plan_for(peer(side))) else { return Ok(None) };
        let label = settlement_label(peer(side));
        let peer_contract = peer_plan.predicted_addresses()?.remove(label).ok_or_else(|| {
            DeployerError::Plan(format!("the {} chain's plan deploys no {label}", side_name(peer(side))))
        })?;
        Ok(Some(CrossChainLink { side, peer_chain_id: x.chain(peer(side)).chain_id, peer_contract }))
    }
}

/// The other side of a cross-chain trade.
pub fn peer(side: Side) -> Side {
    match side {
        Side::Asset => Side::Payment,
        Side::Payment => Side::Asset,
    }
}

/// The label of the settlement contract on `side`'s chain: the delivery contract on the asset chain,
/// the payment contract on the payment chain.
pub fn settlement_label(side: Side) -> &'static str {
    match side {
        Side::Asset => xlabels::DELIVERY,
        Side::Payment => xlabels::PAYMENT,
    }
}

/// The side's name, as its section (`[cross_chain.asset]`) and messages say it.
pub fn side_name(side: Side) -> &'static str {
    match side {
        Side::Asset => "asset",
        Side::Payment => "payment",
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawCrossChain {
    attestors: Spanned<Vec<Spanned<String>>>,
    threshold: Spanned<u8>,
    resolvers: Spanned<Vec<Spanned<String>>>,
    resolution_approvals: Spanned<u8>,
    resolution_delay_days: Spanned<u64>,
    asset: Spanned<RawSide>,
    payment: Spanned<RawSide>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSide {
    chain_id: Option<Spanned<u64>>,
    profile: Option<Spanned<String>>,
}

impl Checker<'_> {
    /// Checks `[cross_chain]`. `chain_id` and `profile` are the single-chain settings (top-level
    /// `chain_id`, `[chain] profile`), which it excludes.
    pub(super) fn cross_chain(
        &mut self,
        raw: RawCrossChain,
        chain_id: Option<&Spanned<u64>>,
        profile: Option<&Spanned<String>>,
    ) -> CrossChainConfig {
        if let Some(id) = chain_id {
            self.problem(
                id,
                "chain_id names one chain, but [cross_chain] deploys on two: remove it and give each chain's id in \
                 [cross_chain.asset] and [cross_chain.payment]",
            );
        }
        if let Some(p) = profile {
            self.problem(
                p,
                "[chain] profile describes one chain, but [cross_chain] deploys on two: remove it and give the \
                 profile in [cross_chain.asset] or [cross_chain.payment], whichever chain it describes",
            );
        }
        let attestors = self.distinct(&raw.attestors, "cross_chain.attestors", "attestor");
        let resolvers = self.distinct(&raw.resolvers, "cross_chain.resolvers", "resolver");
        self.threshold(&raw.attestors, &raw.threshold);
        self.approvals(&raw.resolvers, &raw.resolution_approvals);
        let resolution_delay = self.delay(&raw.resolution_delay_days);
        let asset = self.side_chain(&raw.asset, Side::Asset);
        let payment = self.side_chain(&raw.payment, Side::Payment);
        if asset.chain_id != 0 && asset.chain_id == payment.chain_id {
            // At the payment chain's id when it is written, else at its section (a profile's id).
            let span = raw.payment.get_ref().chain_id.as_ref().map_or(raw.payment.span(), Spanned::span);
            let (line, column) = self.place(span.start);
            self.problems.push(format!(
                "line {line}, column {column}: [cross_chain.asset] and [cross_chain.payment] are both chain {}: the \
                 two sides settle on two different chains; correct one of the chain ids",
                asset.chain_id
            ));
        }
        CrossChainConfig {
            attestors,
            threshold: *raw.threshold.get_ref(),
            resolvers,
            resolution_approvals: *raw.resolution_approvals.get_ref(),
            resolution_delay,
            asset,
            payment,
        }
    }

    /// The accounts of the list `what` (each `what[i]` a checked, non-zero address), each of which
    /// (`one`: "attestor") may be listed once; a repeat is reported with the line of the first.
    fn distinct(&mut self, list: &Spanned<Vec<Spanned<String>>>, what: &str, one: &str) -> Vec<Address> {
        let mut first_at: BTreeMap<Address, usize> = BTreeMap::new();
        let mut accounts = Vec::new();
        for (i, value) in list.get_ref().iter().enumerate() {
            let account = self.account(value, &format!("{what}[{i}]"));
            let (line, _) = self.place(value.span().start);
            match first_at.get(&account) {
                Some(first) if !account.is_zero() => self.problem(
                    value,
                    format!("{one} {account} is listed twice (first at line {first}): list each {one} once"),
                ),
                _ => {
                    first_at.insert(account, line);
                }
            }
            accounts.push(account);
        }
        accounts
    }

    /// The threshold: 1 to the number of attestors, who are 1 to [`MAX_ATTESTORS`].
    fn threshold(&mut self, attestors: &Spanned<Vec<Spanned<String>>>, threshold: &Spanned<u8>) {
        let (n, k) = (attestors.get_ref().len(), *threshold.get_ref());
        if n == 0 {
            self.problem(
                attestors,
                "cross_chain.attestors is empty: list the attestors whose signatures both chains' verifiers accept",
            );
        } else if n > MAX_ATTESTORS {
            self.problem(
                attestors,
                format!("cross_chain.attestors lists {n}, more than a verifier holds: list at most {MAX_ATTESTORS}"),
            );
        }
        if k == 0 {
            self.problem(
                threshold,
                "cross_chain.threshold is 0: a proof needs at least one attestor's signature; give k of the n \
                 attestors",
            );
        } else if n > 0 && usize::from(k) > n {
            self.problem(
                threshold,
                format!(
                    "cross_chain.threshold {k} is more than the {n} attestors: no proof could ever be made; lower it \
                     or add attestors"
                ),
            );
        }
    }

    /// The approvals of an emergency resolution: at least 2, and no more than the resolvers.
    fn approvals(&mut self, resolvers: &Spanned<Vec<Spanned<String>>>, approvals: &Spanned<u8>) {
        let (m, a) = (resolvers.get_ref().len(), *approvals.get_ref());
        if a < 2 {
            self.problem(
                approvals,
                format!(
                    "cross_chain.resolution_approvals is {a}: an emergency resolution needs the approvals of at least \
                     2 distinct resolvers (the delivery contract refuses fewer); give 2 or more"
                ),
            );
        } else if usize::from(a) > m {
            self.problem(
                approvals,
                format!(
                    "cross_chain.resolution_approvals {a} is more than the {m} resolvers: no resolution could ever \
                     be approved; lower it or add resolvers"
                ),
            );
        }
    }

    /// The resolution delay in seconds: at least a day.
    fn delay(&mut self, days: &Spanned<u64>) -> u64 {
        let delay = days.get_ref().checked_mul(DAY);
        if *days.get_ref() == 0 {
            self.problem(
                days,
                "cross_chain.resolution_delay_days is 0: an emergency resolution must wait after its first approval, \
                 so that everyone can see it coming; give the days to wait",
            );
        } else if delay.is_none() {
            self.problem(
                days,
                format!("cross_chain.resolution_delay_days is too large: give at most {}", u64::MAX / DAY),
            );
        }
        delay.unwrap_or(0)
    }

    /// The chain of `side` (`[cross_chain.<side>]`): a non-zero chain id, given or the profile's (both
    /// must agree).
    fn side_chain(&mut self, raw: &Spanned<RawSide>, side: Side) -> SideChain {
        let name = side_name(side);
        let RawSide { chain_id: given, profile: named } = raw.get_ref();
        let profile = self.profile(named.as_ref(), &format!("cross_chain.{name}.profile"));
        let chain_id = self.chain_id(given.as_ref(), profile);
        if given.is_none() && named.is_none() {
            self.problem(
                raw,
                format!("[cross_chain.{name}] names no chain: give its chain_id (and its profile, if it has one)"),
            );
        }
        if let Some(id) = given.as_ref().filter(|id| *id.get_ref() == 0) {
            self.problem(id, format!("cross_chain.{name}.chain_id is 0: give the {name} chain's id (eth_chainId)"));
        }
        SideChain { chain_id: chain_id.unwrap_or(0), profile }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::MINIMAL;
    use alloy::{primitives::B256, signers::local::PrivateKeySigner};

    const EXAMPLE: &str = include_str!("../../../deployments/cross-chain.toml");

    /// A good `[cross_chain]` section after the minimal suite.
    fn good() -> String {
        format!(
            r#"{MINIMAL}
[cross_chain]
attestors = ["0x5d5c99EdF529335160FF180fA141Dd4967fc00D2", "0xa64C3a7dB2a92f47Bc3c0729563D8B1F351A62A4"]
threshold = 2
resolvers = ["0x14dC79964da2C08b23698B3D3cc7Ca32193d9955", "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"]
resolution_approvals = 2
resolution_delay_days = 30

[cross_chain.asset]
chain_id = 1010032
profile = "ibet"

[cross_chain.payment]
chain_id = 31337
"#
        )
    }

    fn error(text: &str) -> String {
        Config::parse(text, "x.toml").expect_err("a problem").to_string()
    }

    /// `line L, column C` of what follows the first `before` in `text` (a value after its key).
    fn after(text: &str, before: &str) -> String {
        let offset = text.find(before).unwrap_or_else(|| panic!("{before:?} in the config")) + before.len();
        let line_start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
        format!("line {}, column {}", text[..offset].matches('\n').count() + 1, offset - line_start + 1)
    }

    #[test]
    fn the_example_plans_both_chains_with_shared_addresses_and_links_each_to_the_other() {
        let config = Config::parse(EXAMPLE, "cross-chain.toml").expect("the example");
        let x = config.cross_chain.as_ref().expect("[cross_chain]");
        let keys: Vec<Address> = (0xa1..=0xa3u8)
            .map(|b| PrivateKeySigner::from_bytes(&B256::repeat_byte(b)).expect("key").address())
            .collect();
        assert_eq!(x.attestors, keys, "the attestors are the keys 0xa1…a1, 0xa2…a2, 0xa3…a3");
        assert_eq!((x.threshold, x.resolution_approvals, x.resolution_delay), (2, 2, 30 * DAY));
        let (registrar, authority) = (config.spec.accounts.registrar, config.spec.accounts.authority);
        assert_eq!(x.resolvers, [authority, registrar]);
        assert_eq!(x.asset, SideChain { chain_id: 1_010_032, profile: Some(ChainProfile::Ibet) });
        assert_eq!(x.payment, SideChain { chain_id: 31_337, profile: None });
        assert_eq!((config.chain_id, config.profile), (None, None));
        assert!(config.shared_roles.is_empty(), "resolvers are authorities by design: {:?}", config.shared_roles);

        let asset = config.plan_for(Side::Asset).expect("asset plan");
        let payment = config.plan_for(Side::Payment).expect("payment plan");
        assert_eq!((asset.salt.as_str(), payment.salt.as_str()), (config.salt.as_str(), config.salt.as_str()));
        let (on_a, on_b) = (asset.predicted_addresses().expect("A"), payment.predicted_addresses().expect("B"));
        for (label, address) in config.plan().predicted_addresses().expect("suite") {
            assert_eq!((on_a[&label], on_b[&label]), (address, address), "{label}: one address on both chains");
        }
        assert_eq!(on_a[xlabels::VERIFIER], on_b[xlabels::VERIFIER]);
        assert!(!on_a.contains_key(xlabels::PAYMENT) && !on_b.contains_key(xlabels::DELIVERY));
        let link = |side| config.link_for(side).expect("link").expect("cross-chain");
        assert_eq!(
            link(Side::Asset),
            CrossChainLink { side: Side::Asset, peer_chain_id: 31_337, peer_contract: on_b[xlabels::PAYMENT] }
        );
        assert_eq!(
            link(Side::Payment),
            CrossChainLink { side: Side::Payment, peer_chain_id: 1_010_032, peer_contract: on_a[xlabels::DELIVERY] }
        );
    }

    #[test]
    fn a_single_chain_config_has_no_cross_chain_plans() {
        let config = Config::parse(MINIMAL, "minimal").expect("minimal");
        assert_eq!(config.cross_chain, None);
        assert_eq!(config.plan_for(Side::Asset), None);
        assert_eq!(config.link_for(Side::Payment).expect("no link"), None);
        let good = Config::parse(&good(), "x.toml").expect("good");
        assert_eq!(good.plan().steps, config.plan().steps, "Config::plan stays the single-chain suite");
    }

    #[test]
    fn wrong_zero_and_repeated_addresses_are_all_refused_with_their_places() {
        let (first, second) =
            ("0x5d5c99EdF529335160FF180fA141Dd4967fc00D2", "0xa64C3a7dB2a92f47Bc3c0729563D8B1F351A62A4");
        let zero = "0x0000000000000000000000000000000000000000";
        let (registrar, authority) =
            ("0x70997970C51812dc3A010C7d01b50e0d17dc79C8", "0x14dC79964da2C08b23698B3D3cc7Ca32193d9955");
        let text = good()
            .replace(&format!("\"{second}\"]"), &format!("\"{}A5\", \"{zero}\", \"{first}\"]", &second[..40]))
            .replace(&format!("\"{registrar}\"]"), &format!("\"{authority}\"]"));
        let e = error(&text);
        assert!(e.starts_with("config x.toml: 4 problems:"), "{e}");
        let typo = after(&text, &format!("{first}\", "));
        assert!(
            e.contains(&format!(
                "{typo}: cross_chain.attestors[1]: {}A5 has a wrong EIP-55 checksum: did you mean",
                &second[..40]
            )),
            "{e}"
        );
        let at_zero = after(&text, "A5\", ");
        assert!(e.contains(&format!("{at_zero}: cross_chain.attestors[2] is the zero address")), "{e}");
        let repeat = after(&text, &format!("{zero}\", "));
        assert!(
            e.contains(&format!(
                "{repeat}: attestor {first} is listed twice (first at line 18): list each attestor once"
            )),
            "{e}"
        );
        let repeat = after(&text, &format!("{authority}\", "));
        assert!(e.contains(&format!("{repeat}: resolver {authority} is listed twice (first at line 20)")), "{e}");
    }

    #[test]
    fn thresholds_approvals_and_delays_out_of_range_are_all_refused_with_their_fixes() {
        let text = good()
            .replace("threshold = 2", "threshold = 3")
            .replace("resolution_approvals = 2", "resolution_approvals = 1")
            .replace("resolution_delay_days = 30", "resolution_delay_days = 0");
        let e = error(&text);
        assert!(e.starts_with("config x.toml: 3 problems:"), "{e}");
        let (threshold, approvals, delay) =
            (after(&text, "threshold = "), after(&text, "approvals = "), after(&text, "delay_days = "));
        assert!(
            e.contains(&format!(
                "{threshold}: cross_chain.threshold 3 is more than the 2 attestors: no proof could ever be made; lower \
                 it or add attestors"
            )),
            "{e}"
        );
        assert!(
            e.contains(&format!(
                "{approvals}: cross_chain.resolution_approvals is 1: an emergency resolution needs the approvals of at \
                 least 2 distinct resolvers"
            )),
            "{e}"
        );
        assert!(e.contains(&format!("{delay}: cross_chain.resolution_delay_days is 0")), "{e}");

        let text = good()
            .replace("threshold = 2", "threshold = 0")
            .replace("resolution_approvals = 2", "resolution_approvals = 3")
            .replace("resolution_delay_days = 30", "resolution_delay_days = 300_000_000_000_000");
        let e = error(&text);
        assert!(e.starts_with("config x.toml: 3 problems:"), "{e}");
        assert!(e.contains(&format!("{threshold}: cross_chain.threshold is 0: a proof needs at least one")), "{e}");
        assert!(
            e.contains(&format!("{approvals}: cross_chain.resolution_approvals 3 is more than the 2 resolvers")),
            "{e}"
        );
        assert!(e.contains("cross_chain.resolution_delay_days is too large: give at most 213503982334601"), "{e}");

        let (first, second) =
            ("0x5d5c99EdF529335160FF180fA141Dd4967fc00D2", "0xa64C3a7dB2a92f47Bc3c0729563D8B1F351A62A4");
        let empty = good().replace(&format!("[\"{first}\", \"{second}\"]"), "[]");
        let e = error(&empty);
        assert!(e.starts_with("config x.toml: 1 problem:"), "{e}");
        assert!(e.contains(&format!("{}: cross_chain.attestors is empty", after(&empty, "attestors = "))), "{e}");
        let many: Vec<String> = (1..=33u8).map(|i| format!("\"{}\"", Address::repeat_byte(i))).collect();
        let many = good().replace(&format!("[\"{first}\", \"{second}\"]"), &format!("[{}]", many.join(", ")));
        let e = error(&many);
        assert!(e.contains("cross_chain.attestors lists 33, more than a verifier holds: list at most 32"), "{e}");
    }

    #[test]
    fn the_chains_must_be_two_named_non_zero_and_agree_with_their_profiles() {
        let same = good().replace("chain_id = 31337", "chain_id = 1010032");
        let e = error(&same);
        assert!(e.starts_with("config x.toml: 1 problem:"), "{e}");
        assert!(
            e.contains(&format!(
                "{}: [cross_chain.asset] and [cross_chain.payment] are both chain 1010032: the two sides settle on two \
                 different chains",
                after(&same, "[cross_chain.payment]\nchain_id = ")
            )),
            "{e}"
        );

        let text = good().replace("chain_id = 1010032", "chain_id = 31338").replace("chain_id = 31337", "chain_id = 0");
        let e = error(&text);
        assert!(e.starts_with("config x.toml: 2 problems:"), "{e}");
        let (asset, payment) =
            (after(&text, "[cross_chain.asset]\nchain_id = "), after(&text, "[cross_chain.payment]\nchain_id = "));
        assert!(
            e.contains(&format!(
                "{asset}: chain_id 31338 contradicts the chain profile ibet, whose chain id is 1010032"
            )),
            "{e}"
        );
        assert!(
            e.contains(&format!("{payment}: cross_chain.payment.chain_id is 0: give the payment chain's id")),
            "{e}"
        );

        let text = good().replace("chain_id = 31337\n", "").replace("profile = \"ibet\"", "profile = \"ibet-fin\"");
        let e = error(&text);
        assert!(e.starts_with("config x.toml: 2 problems:"), "{e}");
        assert!(
            e.contains(&format!(
                "{}: cross_chain.asset.profile: unknown chain profile \"ibet-fin\"",
                after(&text, "profile = ")
            )),
            "{e}"
        );
        assert!(e.contains("[cross_chain.payment] names no chain: give its chain_id"), "{e}");

        let profile_only = good().replace("chain_id = 1010032\n", "");
        let x = Config::parse(&profile_only, "x.toml").expect("the profile names the chain").cross_chain;
        assert_eq!(x.map(|x| x.asset.chain_id), Some(1_010_032));
    }

    #[test]
    fn a_single_chain_id_or_profile_beside_cross_chain_is_refused_naming_the_sides() {
        let text = format!("chain_id = 31337\n[chain]\nprofile = \"ibet\"\n{}", good());
        let e = error(&text);
        assert!(e.starts_with("config x.toml: 3 problems:"), "{e}");
        assert!(
            e.contains(
                "line 1, column 12: chain_id names one chain, but [cross_chain] deploys on two: remove it and give \
                 each chain's id in [cross_chain.asset] and [cross_chain.payment]"
            ),
            "{e}"
        );
        assert!(
            e.contains("line 3, column 11: [chain] profile describes one chain, but [cross_chain] deploys on two"),
            "{e}"
        );
        assert!(e.contains("line 1, column 12: chain_id 31337 contradicts the chain profile ibet"), "{e}");
    }
}
