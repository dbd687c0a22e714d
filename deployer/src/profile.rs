//! Chain profiles and hard forks: what a known network needs from every command, named once.
//!
//! A profile fixes the rules a network runs (its hard fork), how transactions are priced there, the
//! chain id to expect and how many confirmations make a transaction final. `kessai deploy --chain
//! ibet` (or `[chain] profile = "ibet"` in a suite config) records the profile in the manifest, and
//! every later command that reads the manifest follows it without further flags.
//!
//! ```
//! use kessai_deployer::profile::{ChainProfile, Hardfork};
//!
//! let ibet: ChainProfile = "ibet".parse().unwrap();
//! assert_eq!(ibet.chain_id(), 1_010_032);
//! assert_eq!(ibet.hardfork(), Hardfork::Berlin);
//! assert!("ibet-fin".parse::<ChainProfile>().unwrap_err().contains("ibet"));
//! ```

use crate::rpc::{FeeMode, RpcOptions};
use serde::{Deserialize, Serialize};

/// EVM hard forks kessai can target or emulate, oldest first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Hardfork {
    /// Petersburg (Constantinople fix): no CHAINID; too old for the suite.
    Petersburg,
    /// Istanbul: CHAINID and SELFBALANCE; the oldest rules the suite runs on.
    Istanbul,
    /// Berlin: access lists (EIP-2929/2930); ibet for Fin's rules.
    Berlin,
    /// London: EIP-1559 and BASEFEE.
    London,
    /// Paris: the merge (PREVRANDAO).
    Paris,
    /// Shanghai: PUSH0.
    Shanghai,
    /// Cancun: transient storage, MCOPY, blobs.
    Cancun,
}

impl Hardfork {
    /// Every hard fork, oldest first.
    pub const ALL: [Self; 7] =
        [Self::Petersburg, Self::Istanbul, Self::Berlin, Self::London, Self::Paris, Self::Shanghai, Self::Cancun];

    /// The lowercase name (as Anvil's `--hardfork` takes it).
    pub fn name(self) -> &'static str {
        match self {
            Self::Petersburg => "petersburg",
            Self::Istanbul => "istanbul",
            Self::Berlin => "berlin",
            Self::London => "london",
            Self::Paris => "paris",
            Self::Shanghai => "shanghai",
            Self::Cancun => "cancun",
        }
    }
}

impl std::fmt::Display for Hardfork {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Hardfork {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim().to_ascii_lowercase();
        let wanted = if wanted == "merge" { "paris".to_string() } else { wanted };
        Self::ALL.into_iter().find(|h| h.name() == wanted).ok_or_else(|| {
            let names: Vec<&str> = Self::ALL.iter().map(|h| h.name()).collect();
            format!("unknown hard fork {s:?}: choose one of {}", names.join(", "))
        })
    }
}

/// A known network's settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChainProfile {
    /// ibet for Fin: GoQuorum with QBFT (instant finality), EVM rules of Berlin (no EIP-1559, no
    /// PUSH0), gas price 0, chain id 1010032, 1-second blocks.
    Ibet,
}

impl ChainProfile {
    /// Every profile.
    pub const ALL: [Self; 1] = [Self::Ibet];

    /// The name used in configs, manifests and `--chain`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Ibet => "ibet",
        }
    }

    /// The network's chain id: a node reporting another is refused.
    pub fn chain_id(self) -> u64 {
        match self {
            Self::Ibet => 1_010_032,
        }
    }

    /// The EVM rules the network runs.
    pub fn hardfork(self) -> Hardfork {
        match self {
            Self::Ibet => Hardfork::Berlin,
        }
    }

    /// How transactions are priced there.
    pub fn fees(self) -> FeeMode {
        match self {
            // No base fee and a zero gas price: legacy transactions at price 0, so parties need no
            // ether to act.
            Self::Ibet => FeeMode::Legacy(Some(0)),
        }
    }

    /// Blocks to wait on top of a transaction's block (0 where consensus is final at once).
    pub fn confirmations(self) -> u64 {
        match self {
            Self::Ibet => 0,
        }
    }

    /// One line describing the profile.
    pub fn describe(self) -> String {
        format!(
            "{} (chain id {}, EVM {}, legacy transactions at gas price 0, {} confirmations)",
            self.name(),
            self.chain_id(),
            self.hardfork(),
            self.confirmations()
        )
    }

    /// The JSON-RPC engine's settings for this network (other settings at their defaults).
    pub fn options(self) -> RpcOptions {
        RpcOptions { fees: self.fees(), confirmations: self.confirmations(), ..RpcOptions::default() }
    }
}

impl std::fmt::Display for ChainProfile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for ChainProfile {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL.into_iter().find(|p| p.name().eq_ignore_ascii_case(s.trim())).ok_or_else(|| {
            let names: Vec<&str> = Self::ALL.iter().map(|p| p.name()).collect();
            format!("unknown chain profile {s:?}: known profiles are {}", names.join(", "))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_merge_means_paris() {
        for h in Hardfork::ALL {
            assert_eq!(h.name().parse::<Hardfork>(), Ok(h));
        }
        assert_eq!("Merge".parse::<Hardfork>(), Ok(Hardfork::Paris));
        assert!("frontier".parse::<Hardfork>().unwrap_err().contains("berlin"));
        for p in ChainProfile::ALL {
            assert_eq!(p.name().parse::<ChainProfile>(), Ok(p));
        }
    }

    #[test]
    fn ibet_is_berlin_at_gas_price_zero_and_final_at_once() {
        let options = ChainProfile::Ibet.options();
        assert_eq!(options.fees, FeeMode::Legacy(Some(0)));
        assert_eq!(options.confirmations, 0);
        assert!(ChainProfile::Ibet.describe().contains("1010032"));
    }
}
