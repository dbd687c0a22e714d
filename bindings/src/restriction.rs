//! Transfer restriction codes of the permissioned tokens, as a Rust enum with operator messages.

use std::fmt;

/// Why a transfer is refused (`IPermissionedToken.Restriction`). Returned by `canTransfer` and
/// carried by the `TokenTransferRestricted` error.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Restriction {
    /// The transfer would succeed.
    None = 0,
    /// The token is paused.
    Paused = 1,
    /// The sender is not eligible in the registry.
    SenderNotEligible = 2,
    /// The receiver is not eligible in the registry.
    ReceiverNotEligible = 3,
    /// The sender's account is frozen.
    SenderFrozen = 4,
    /// The receiver's account is frozen.
    ReceiverFrozen = 5,
    /// The sender's free balance (balance − held − frozen) is too small.
    InsufficientFreeBalance = 6,
    /// The receiver's investor class may not hold the token.
    InvestorClassNotAllowed = 7,
    /// The receiver's country may not hold the token.
    CountryNotAllowed = 8,
    /// The token has as many holders as it may have.
    HolderLimitReached = 9,
    /// The token is in its lock-up period.
    LockedUp = 10,
    /// Transfers need the transfer agent's approval.
    ApprovalRequired = 11,
    /// The receiver is the zero address.
    InvalidReceiver = 12,
    /// The sender is on the blocklist.
    SenderBlocked = 13,
    /// The receiver is on the blocklist.
    ReceiverBlocked = 14,
    /// Transfers between investors ended (the bond's redemption record date passed).
    TransfersEnded = 15,
}

impl Restriction {
    /// Every code, in order.
    pub const ALL: [Self; 16] = [
        Self::None,
        Self::Paused,
        Self::SenderNotEligible,
        Self::ReceiverNotEligible,
        Self::SenderFrozen,
        Self::ReceiverFrozen,
        Self::InsufficientFreeBalance,
        Self::InvestorClassNotAllowed,
        Self::CountryNotAllowed,
        Self::HolderLimitReached,
        Self::LockedUp,
        Self::ApprovalRequired,
        Self::InvalidReceiver,
        Self::SenderBlocked,
        Self::ReceiverBlocked,
        Self::TransfersEnded,
    ];

    /// The code for a raw value, if it is one.
    pub fn from_code(code: u8) -> Option<Self> {
        Self::ALL.get(usize::from(code)).copied()
    }

    /// What the code means and what to do about it.
    pub const fn message(self) -> &'static str {
        match self {
            Self::None => "the transfer is allowed",
            Self::Paused => "the token is paused: wait until the pauser resumes it",
            Self::SenderNotEligible => {
                "the sender is not an eligible investor: the registrar must register it or renew its KYC"
            }
            Self::ReceiverNotEligible => {
                "the receiver is not an eligible investor: the registrar must register it or renew its KYC"
            }
            Self::SenderFrozen => "the sender's account is frozen by the enforcement authority",
            Self::ReceiverFrozen => "the receiver's account is frozen by the enforcement authority",
            Self::InsufficientFreeBalance => {
                "the sender's free balance (balance minus held and frozen units) is too small"
            }
            Self::InvestorClassNotAllowed => "the receiver's investor class may not hold this token",
            Self::CountryNotAllowed => "the receiver's country may not hold this token",
            Self::HolderLimitReached => "the token has reached its maximum number of holders",
            Self::LockedUp => "the token is in its lock-up period: transfers open at the lock-up date",
            Self::ApprovalRequired => "transfers of this token need the transfer agent's approval: use requestTransfer",
            Self::InvalidReceiver => "the receiver is the zero address",
            Self::SenderBlocked => "the sender is on the blocklist",
            Self::ReceiverBlocked => "the receiver is on the blocklist",
            Self::TransfersEnded => {
                "transfers ended at the redemption's record date: the units are being redeemed and move only by redemption"
            }
        }
    }
}

impl fmt::Display for Restriction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())
    }
}

/// Which argument of a custom error is a [`Restriction`] code, as the ABIs type it (`enum
/// IPermissionedToken.Restriction`): `TokenTransferRestricted`'s first,
/// `DvPBatchCashRestricted`'s second; `None` for errors that carry none.
///
/// ```
/// assert_eq!(kessai_bindings::restriction_arg("DvPBatchCashRestricted"), Some(1));
/// assert_eq!(kessai_bindings::restriction_arg("DvPTradeExists"), None);
/// ```
pub fn restriction_arg(error: &str) -> Option<usize> {
    // The ABIs say it: the input typed `enum IPermissionedToken.Restriction`.
    crate::artifacts().iter().flat_map(|a| a.abi.errors()).filter(|e| e.name == error).find_map(|e| {
        e.inputs
            .iter()
            .position(|p| p.internal_type().is_some_and(|t| t.to_string() == "enum IPermissionedToken.Restriction"))
    })
}

/// The restriction a rendered error's arguments carry, if the error carries one and it is known.
pub fn restriction_in(error: &str, args: &[String]) -> Option<Restriction> {
    let code = args.get(restriction_arg(error)?)?;
    code.parse().ok().and_then(Restriction::from_code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for (i, r) in Restriction::ALL.iter().enumerate() {
            assert_eq!(Restriction::from_code(i as u8), Some(*r));
            assert_eq!(*r as u8, i as u8);
        }
        assert_eq!(Restriction::from_code(16), None);
    }
}
