//! Tests of the parent module.

use super::send::bump;

#[test]
fn a_replacement_raises_the_fee_by_an_eighth_and_zero_stays_zero() {
    assert_eq!(bump(0), 0);
    assert_eq!(bump(8), 10);
    assert_eq!(bump(1_000_000_000), 1_125_000_001);
}
