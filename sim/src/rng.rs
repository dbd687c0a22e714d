//! A small deterministic pseudo-random generator (SplitMix64) shared by generated workloads, property
//! runs and tests: the same seed gives the same sequence on every machine. Not for cryptography.

/// SplitMix64 state.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    /// A generator starting from state `state` (callers mix their seed with a constant of their own,
    /// so the workload generator and the property runner draw different sequences from one seed).
    pub fn from_state(state: u64) -> Self {
        Self(state)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: u64) -> u64 {
        // Multiply-shift: the bias is below 2^-64 × n, far under anything a run can show.
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// A number in `lo..=hi`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi - lo + 1)
    }

    /// True with probability `percent` / 100.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    /// A number in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// One of `items`, or `None` when there are none.
    pub fn pick<T: Copy>(&mut self, items: &[T]) -> Option<T> {
        (!items.is_empty()).then(|| items[self.below(items.len() as u64) as usize])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_state_gives_the_same_sequence_and_draws_stay_in_range() {
        let (mut a, mut b) = (Rng::from_state(7), Rng::from_state(7));
        for _ in 0..1_000 {
            assert_eq!(a.next_u64(), b.next_u64());
        }
        for _ in 0..1_000 {
            assert!(a.below(10) < 10);
            assert!((3..=5).contains(&a.range(3, 5)));
        }
        assert_eq!(a.below(0), 0);
        assert_eq!(a.pick::<u8>(&[]), None);
    }
}
