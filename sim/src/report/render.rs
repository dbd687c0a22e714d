//! Renderings shared by the text and HTML reports: errors with restriction names, amounts with
//! thousands separators, positions, and long lists folded.

use super::*;

/// A refused step's error as a call, `Name(arg, …)`, with a transfer restriction's code by its name
/// (`TokenTransferRestricted(InsufficientFreeBalance, alice, bob, 800)`); the step's `error` (the
/// name that `expect.error` matches) is unchanged.
pub fn error_call(error: &str, args: &[String]) -> String {
    let mut args = args.to_vec();
    if let (Some(i), Some(restriction)) =
        (kessai_bindings::restriction_arg(error), kessai_bindings::restriction_in(error, &args))
    {
        // The enum's variant names are the contract's (`IPermissionedToken.Restriction`).
        args[i] = format!("{restriction:?}");
    }
    format!("{error}({})", args.join(", "))
}

/// `text` with thousands separators in its amounts: yen (`¥1200000` → `¥1,200,000`) and units
/// (`1300 units`, `units 1300`, `1300 of alice's units`, `cash 1200000`). Other numbers — trade
/// names, references, unix times, event arguments — are left as they are.
pub fn amounts(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    let mut rest = text;
    while let Some(start) = rest.find(|c: char| c.is_ascii_digit()) {
        let len = rest[start..].find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len() - start);
        let (before, run, after) = (&rest[..start], &rest[start..start + len], &rest[start + len..]);
        out.push_str(before);
        let preceding = &text[..text.len() - rest.len() + start];
        if run.len() > 3 && is_amount(preceding, after) {
            out.push_str(&group(run));
        } else {
            out.push_str(run);
        }
        rest = after;
    }
    out.push_str(rest);
    out
}

/// Whether the digits between `before` and `after` are an amount of yen or units.
fn is_amount(before: &str, after: &str) -> bool {
    let glued = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | '#' | '/'));
    if glued(before.chars().next_back()) || glued(after.chars().next()) {
        return false;
    }
    before.ends_with('¥')
        || [" unit", " of ", " held"].iter().any(|w| after.starts_with(w))
        || ["units ", "cash ", "held "].iter().any(|w| before.ends_with(w))
}

/// A position with thousands separators: `1,000 units (100 held), ¥2,000,000`.
pub fn position(b: &Balances) -> String {
    let mut text = format!("{} units", thousands_u256(b.units));
    if !b.units_held.is_zero() {
        let _ = write!(text, " ({} held)", thousands_u256(b.units_held));
    }
    let _ = write!(text, ", ¥{}", thousands_u256(b.cash));
    if !b.cash_held.is_zero() {
        let _ = write!(text, " (¥{} held)", thousands_u256(b.cash_held));
    }
    text
}

/// At most `shown` of `items`, then how many more: `a, b, c, … and 9,997 more`.
pub fn fold(items: &[String], shown: usize) -> String {
    if items.len() <= shown {
        return items.join(", ");
    }
    format!("{}, … and {} more", items[..shown].join(", "), thousands((items.len() - shown) as u64))
}
