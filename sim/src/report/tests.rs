//! Tests of the parent module.

use super::*;

#[test]
fn ticks_are_round_and_cover_the_maximum() {
    let (t, top) = ticks(1_234.0);
    assert_eq!(top, 1_250.0);
    assert_eq!(t, [0.0, 250.0, 500.0, 750.0, 1_000.0, 1_250.0]);
    assert_eq!(ticks(0.0).1, 1.0);
    assert!(ticks(7.0).1 >= 7.0);
}

#[test]
fn numbers_are_compact_on_axes_and_grouped_in_tables() {
    assert_eq!(compact(1_500.0), "1.5k");
    assert_eq!(compact(2_000_000.0), "2M");
    assert_eq!(compact(12.0), "12");
    assert_eq!(thousands(1_234_567), "1,234,567");
    assert_eq!(thousands(999), "999");
    assert_eq!(esc("<a href=\"x\">&</a>"), "&lt;a href=&quot;x&quot;&gt;&amp;&lt;/a&gt;");
}

#[test]
fn the_progress_line_shows_count_share_and_bar() {
    let p = Progress::with_enabled("steps", 200, false);
    let line = p.line(50, Duration::from_secs(1));
    assert!(line.starts_with("steps [#######-----------------------] 50/200 25% 50/s ETA 3s"), "{line}");
}
