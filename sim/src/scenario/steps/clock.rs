//! Moving the chain's clock.

use super::{Action, StepKind};
use crate::scenario::{model::Advance, run::offset};

pub(super) const ADVANCE: StepKind = StepKind {
    name: "advance",
    about: "moves the chain's clock by a `duration`, or `until` a time after the start",
    required: &[],
    optional: &["duration", "until"],
    resolve: |r, i| match (&i.raw.duration, &i.raw.until) {
        (Some(d), None) => Ok(Action::Advance(Advance::By(r.duration(d)?))),
        (None, Some(u)) => Ok(Action::Advance(Advance::Until(r.time(u)?))),
        _ => Err(r.err(
            i.span.clone(),
            "an `advance` step needs exactly one of `duration` (\"1d\": move the clock by) or `until` (\"2d 1s\": \
             move it to that time after the start)",
        )),
    },
    write: |f, a| {
        match a {
            Action::Advance(Advance::By(seconds)) => f.duration("duration", *seconds),
            Action::Advance(Advance::Until(at)) => f.duration("until", *at),
            _ => return Ok(false),
        }
        Ok(true)
    },
    describe: |_, a| match a {
        Action::Advance(Advance::By(s)) => Some(format!("advance the clock by {}", crate::scenario::model::span(*s))),
        Action::Advance(Advance::Until(s)) => Some(format!("advance the clock to {}", offset(*s))),
        _ => None,
    },
};
