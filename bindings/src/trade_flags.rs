//! The status flags of a DvP trade (`TradeStatusLib`), the one Rust definition every crate uses.

bitflags::bitflags! {
    /// A DvP trade's status flags, as `DvP.statusOf` returns them.
    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
    pub struct TradeFlags: u8 {
        /// The trade exists (the seller's units are locked unless it settled at once).
        const CREATED = 1;
        /// The buyer paid (its cash is locked, or moved).
        const PAID = 2;
        /// The settlement agent approved.
        const APPROVED = 4;
        /// Both legs moved.
        const SETTLED = 8;
        /// A party cancelled; the locks were released.
        const CANCELLED = 16;
        /// Released after the deadline.
        const EXPIRED = 32;
        /// The final states: nothing can happen to the trade any more.
        const FINAL = Self::SETTLED.bits() | Self::CANCELLED.bits() | Self::EXPIRED.bits();
    }
}

impl TradeFlags {
    /// Each flag with its word, in flag order.
    pub const WORDS: [(Self, &'static str); 6] = [
        (Self::CREATED, "created"),
        (Self::PAID, "paid"),
        (Self::APPROVED, "approved"),
        (Self::SETTLED, "settled"),
        (Self::CANCELLED, "cancelled"),
        (Self::EXPIRED, "expired"),
    ];

    /// The flags of the raw status `bits` (unknown bits kept, so nothing is lost).
    pub const fn of(bits: u8) -> Self {
        Self::from_bits_retain(bits)
    }

    /// The words of the flags that are set, in flag order.
    pub fn words(self) -> Vec<&'static str> {
        Self::WORDS.iter().filter(|(f, _)| self.contains(*f)).map(|(_, w)| *w).collect()
    }

    /// True for a trade that exists and has not reached a final state.
    pub const fn is_open(self) -> bool {
        self.contains(Self::CREATED) && !self.intersects(Self::FINAL)
    }
}

#[cfg(test)]
mod tests {
    use super::TradeFlags;

    #[test]
    fn words_follow_the_flags() {
        assert_eq!(TradeFlags::of(1 | 2 | 8).words(), ["created", "paid", "settled"]);
        assert!(TradeFlags::of(1 | 2).is_open());
        assert!(!TradeFlags::of(1 | 16).is_open());
        assert!(!TradeFlags::of(0).is_open());
        assert_eq!(TradeFlags::FINAL.bits(), 8 | 16 | 32);
    }
}
