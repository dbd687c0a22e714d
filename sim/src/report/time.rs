//! Dates in reports: ISO 8601 in UTC (the default), an IANA zone or a fixed offset, and the ticks
//! of a time axis.

use jiff::{
    Timestamp,
    civil::DateTime,
    tz::{Offset, TimeZone},
};
use std::str::FromStr;

/// The time zone a report shows its dates in: UTC (the default), an IANA zone such as
/// `Asia/Tokyo` (from the time zone database built into kessai, so every machine shows the same
/// dates), or a fixed offset such as `+09:00`.
///
/// ```
/// use kessai_sim::report::Zone;
///
/// let tokyo: Zone = "Asia/Tokyo".parse().expect("a zone");
/// assert_eq!(tokyo.iso(1_932_768_000), "2031-04-01T09:00:00+09:00");
/// assert_eq!(Zone::default().iso(1_932_768_000), "2031-04-01T00:00:00Z");
/// assert_eq!("+05:30".parse::<Zone>().expect("an offset").iso(0), "1970-01-01T05:30:00+05:30");
/// ```
#[derive(Clone, Debug)]
pub struct Zone {
    name: String,
    tz: TimeZone,
}

impl Default for Zone {
    fn default() -> Self {
        Self { name: "UTC".into(), tz: TimeZone::UTC }
    }
}

impl FromStr for Zone {
    type Err = String;

    /// `UTC`, an IANA name (`Asia/Tokyo`) or an offset from UTC (`+09:00`, `-0530`, `+09`).
    fn from_str(text: &str) -> Result<Self, String> {
        let text = text.trim();
        if text.eq_ignore_ascii_case("UTC") || text == "Z" {
            return Ok(Self::default());
        }
        if text.starts_with(['+', '-']) {
            let offset = fixed_offset(text).ok_or_else(|| {
                format!("bad offset `{text}`: give hours and minutes from UTC, such as +09:00 or -05:30")
            })?;
            return Ok(Self { name: text.into(), tz: TimeZone::fixed(offset) });
        }
        TimeZone::get(text).map(|tz| Self { name: text.into(), tz }).map_err(|e| {
            format!("unknown time zone `{text}` ({e}): give an IANA name such as Asia/Tokyo, UTC, or an offset such as +09:00")
        })
    }
}

/// `+09:00`, `-0530` or `+09` as an offset (at most 18 hours).
fn fixed_offset(text: &str) -> Option<Offset> {
    let sign = if text.starts_with('-') { -1 } else { 1 };
    let digits: String = text[1..].chars().filter(|c| *c != ':').collect();
    if !digits.chars().all(|c| c.is_ascii_digit()) || !matches!(digits.len(), 2 | 4) {
        return None;
    }
    let hours: i32 = digits[..2].parse().ok()?;
    let minutes: i32 = if digits.len() == 4 { digits[2..].parse().ok()? } else { 0 };
    if hours > 18 || minutes > 59 {
        return None;
    }
    Offset::from_seconds(sign * (hours * 3_600 + minutes * 60)).ok()
}

impl Zone {
    /// The zone's name as given (`UTC`, `Asia/Tokyo`, `+09:00`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// `unix` as an ISO 8601 date and time with its offset: `2031-04-01T09:00:00+09:00`, or
    /// `2031-04-01T00:00:00Z` at offset zero. A time beyond the year 9999 prints as unix seconds.
    pub fn iso(&self, unix: u64) -> String {
        match self.local(unix) {
            Some((civil, offset)) => format!("{}T{}{}", date(civil), clock(civil, true), suffix(offset)),
            None => format!("{unix} (unix time)"),
        }
    }

    /// The local date and time at `unix`, and the zone's offset then.
    fn local(&self, unix: u64) -> Option<(DateTime, Offset)> {
        let at = Timestamp::from_second(i64::try_from(unix).ok()?).ok()?;
        Some((self.tz.to_datetime(at), self.tz.to_offset(at)))
    }

    /// The zone's offset from UTC at `unix`, in seconds.
    pub(super) fn offset_at(&self, unix: u64) -> i64 {
        self.local(unix).map_or(0, |(_, offset)| i64::from(offset.seconds()))
    }

    /// Round instants covering `from..=to` for a time axis (at most about eight), labelled in this
    /// zone: local times of day (with the date where it changes) or midnights, and first days of
    /// months for spans of months.
    pub(super) fn ticks(&self, from: u64, to: u64) -> Vec<Tick> {
        const STEPS: [u64; 21] = [
            1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1_800, 3_600, 7_200, 10_800, 21_600, 43_200, 86_400, 172_800,
            604_800, 1_209_600,
        ];
        let span = to.saturating_sub(from).max(1);
        match STEPS.iter().find(|s| span / *s <= 8) {
            Some(step) => self.clock_ticks(from, to, *step),
            None => self.month_ticks(from, to, span),
        }
    }

    /// Ticks every `step` seconds, on round local times.
    fn clock_ticks(&self, from: u64, to: u64, step: u64) -> Vec<Tick> {
        let (step, offset) = (step as i64, self.offset_at(from));
        let local_from = from as i64 + offset;
        let mut at = (local_from + step - 1).div_euclid(step) * step - offset;
        let mut ticks = Vec::new();
        let mut last_date = String::new();
        while at <= to as i64 {
            let unix = at.max(0) as u64;
            let Some((civil, _)) = self.local(unix) else { break };
            let day = date(civil);
            let label = if step >= 86_400 { day.clone() } else { clock(civil, step < 60) };
            let date_line = (step < 86_400 && day != last_date).then(|| day.clone());
            last_date = day;
            ticks.push(Tick { at: unix, label, date: date_line });
            at += step;
        }
        ticks
    }

    /// Ticks on the first days of months (every 1, 2, 3 or 6 months, or whole years), at local
    /// midnight.
    fn month_ticks(&self, from: u64, to: u64, span: u64) -> Vec<Tick> {
        const MONTH: u64 = 2_629_746;
        let months = span / MONTH + 1;
        let every = [1, 2, 3, 6, 12].into_iter().find(|m| months / m <= 8).unwrap_or(12 * months.div_ceil(96));
        let Some((civil, _)) = self.local(from) else { return Vec::new() };
        let mut day = civil.date().first_of_month();
        let mut ticks = Vec::new();
        while let Ok(zoned) = day.to_zoned(self.tz.clone()) {
            let at = zoned.timestamp().as_second();
            if at > to as i64 {
                break;
            }
            let index = i64::from(day.year()) * 12 + i64::from(day.month()) - 1;
            if at >= from as i64 && index % every as i64 == 0 {
                ticks.push(Tick {
                    at: at as u64,
                    label: date(day.to_datetime(jiff::civil::Time::midnight())),
                    date: None,
                });
            }
            let Ok(next) = day.checked_add(jiff::Span::new().months(1)) else { break };
            day = next;
        }
        ticks
    }
}

/// A labelled instant on a time axis.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Tick {
    /// Unix time.
    pub(super) at: u64,
    /// The date, or the time of day.
    pub(super) label: String,
    /// The date under a time of day, where the date changes.
    pub(super) date: Option<String>,
}

/// `2031-04-01`.
fn date(civil: DateTime) -> String {
    format!("{:04}-{:02}-{:02}", civil.year(), civil.month(), civil.day())
}

/// `09:00:00`, or `09:00` without seconds.
fn clock(civil: DateTime, seconds: bool) -> String {
    if seconds {
        format!("{:02}:{:02}:{:02}", civil.hour(), civil.minute(), civil.second())
    } else {
        format!("{:02}:{:02}", civil.hour(), civil.minute())
    }
}

/// `Z` at offset zero, else `+09:00` (hours and minutes, as ISO 8601 writes them).
fn suffix(offset: Offset) -> String {
    let seconds = offset.seconds();
    if seconds == 0 {
        return "Z".into();
    }
    let (sign, abs) = (if seconds < 0 { '-' } else { '+' }, seconds.unsigned_abs());
    format!("{sign}{:02}:{:02}", abs / 3_600, abs % 3_600 / 60)
}
