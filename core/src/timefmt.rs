//! Timestamps: RFC 3339, UTC, whole seconds, written `YYYY-MM-DDTHH:MM:SSZ`.
//!
//! Signed payloads accept only that exact canonical form, so a time has one
//! spelling. The command line is more forgiving (any RFC 3339 offset, which is
//! converted to UTC).

use std::fmt;

use chrono::{DateTime, SecondsFormat, TimeZone, Timelike, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A point in time, UTC, whole seconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(i64);

/// A timestamp string was not in the required form.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not an RFC 3339 UTC time like 2026-01-31T12:00:00Z")]
pub struct TimeError(pub String);

impl Timestamp {
    /// The current time, truncated to whole seconds.
    pub fn now() -> Self {
        Timestamp(Utc::now().timestamp())
    }

    pub fn from_unix(secs: i64) -> Self {
        Timestamp(secs)
    }

    pub fn unix(self) -> i64 {
        self.0
    }

    /// Parses the canonical form used inside signed payloads.
    pub fn parse_canonical(s: &str) -> Result<Self, TimeError> {
        let t = Self::parse_lenient(s)?;
        if t.to_string() != s {
            return Err(TimeError(crate::sanitize::line(s)));
        }
        Ok(t)
    }

    /// Parses any RFC 3339 time (command-line input); fractions are dropped.
    pub fn parse_lenient(s: &str) -> Result<Self, TimeError> {
        DateTime::parse_from_rfc3339(s.trim())
            .map(|d| Timestamp(d.timestamp()))
            .map_err(|_| TimeError(crate::sanitize::line(s)))
    }

    pub fn plus_seconds(self, secs: i64) -> Option<Self> {
        self.0.checked_add(secs).map(Timestamp)
    }

    pub fn plus_days(self, days: u32) -> Option<Self> {
        self.plus_seconds(i64::from(days) * 86_400)
    }

    /// Seconds from `self` to `later` (negative if `later` is earlier).
    pub fn seconds_until(self, later: Timestamp) -> i64 {
        later.0.saturating_sub(self.0)
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match Utc.timestamp_opt(self.0, 0).single() {
            Some(d) => f.write_str(&d.to_rfc3339_opts(SecondsFormat::Secs, true)),
            None => write!(f, "@{}", self.0),
        }
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Timestamp::parse_canonical(&s).map_err(serde::de::Error::custom)
    }
}

/// "in 3 days", "2 hours ago": a short human rendering of a duration.
pub fn human_duration(secs: i64) -> String {
    let a = secs.unsigned_abs();
    let (n, unit) = if a >= 2 * 86_400 {
        (a / 86_400, "days")
    } else if a >= 2 * 3600 {
        (a / 3600, "hours")
    } else if a >= 120 {
        (a / 60, "minutes")
    } else {
        (a, "seconds")
    };
    if secs == 0 {
        "now".into()
    } else if secs > 0 {
        format!("in {n} {unit}")
    } else {
        format!("{n} {unit} ago")
    }
}

/// A time as people read it: "15 November 2026, 09:00 UTC", with the
/// seconds only when there are some ("09:00:30 UTC"), so nothing the
/// RFC 3339 form says is lost.
pub fn human_datetime(t: Timestamp) -> String {
    match Utc.timestamp_opt(t.0, 0).single() {
        Some(d) if d.second() == 0 => d.format("%-d %B %Y, %H:%M UTC").to_string(),
        Some(d) => d.format("%-d %B %Y, %H:%M:%S UTC").to_string(),
        None => t.to_string(),
    }
}

/// When `t` is, seen from `now`, in the words a status page uses: "in 16
/// days", "3 days ago", "2 months ago". Rounded down (an expiry "in 16
/// days" is at least 16 days away), in the largest unit of which there are
/// at least two, up to years; days below 100 (a quarterly canary's whole
/// life, "in 89 days"), then months of 30 days.
pub fn relative(t: Timestamp, now: Timestamp) -> String {
    let secs = now.seconds_until(t);
    let a = secs.unsigned_abs();
    const DAY: u64 = 86_400;
    let (n, unit) = if a >= 730 * DAY {
        (a / (365 * DAY), "year")
    } else if a >= 100 * DAY {
        (a / (30 * DAY), "month")
    } else if a >= 2 * DAY {
        (a / DAY, "day")
    } else if a >= 2 * 3600 {
        (a / 3600, "hour")
    } else if a >= 120 {
        (a / 60, "minute")
    } else {
        (a, "second")
    };
    let s = if n == 1 { "" } else { "s" };
    match secs {
        0 => "now".into(),
        1.. => format!("in {n} {unit}{s}"),
        _ => format!("{n} {unit}{s} ago"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_form_is_strict() {
        let t = Timestamp::parse_canonical("2026-11-26T16:00:00Z").unwrap();
        assert_eq!(t.to_string(), "2026-11-26T16:00:00Z");
        for bad in [
            "2026-11-26T16:00:00+00:00",
            "2026-11-26T16:00:00.5Z",
            "2026-11-26 16:00:00Z",
            "2026-11-26t16:00:00z",
            "yesterday",
            "",
        ] {
            assert!(Timestamp::parse_canonical(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn lenient_form_converts_to_utc() {
        let t = Timestamp::parse_lenient("2026-11-26T18:00:00+02:00").unwrap();
        assert_eq!(t.to_string(), "2026-11-26T16:00:00Z");
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!(human_duration(5 * 86_400 + 10), "in 5 days");
        assert_eq!(human_duration(-3 * 3600), "3 hours ago");
        assert_eq!(human_duration(30), "in 30 seconds");
    }

    #[test]
    fn times_read_as_people_write_them() {
        let t = |s: &str| Timestamp::parse_canonical(s).unwrap();
        assert_eq!(
            human_datetime(t("2026-11-15T09:00:00Z")),
            "15 November 2026, 09:00 UTC"
        );
        assert_eq!(
            human_datetime(t("2026-03-01T23:05:07Z")),
            "1 March 2026, 23:05:07 UTC"
        );
        assert_eq!(
            human_datetime(t("1970-01-01T00:00:00Z")),
            "1 January 1970, 00:00 UTC"
        );
    }

    #[test]
    fn relative_times_round_down_in_the_largest_unit_of_two() {
        let now = Timestamp::parse_canonical("2026-11-15T00:00:00Z").unwrap();
        let at = |secs: i64| relative(now.plus_seconds(secs).unwrap(), now);
        const D: i64 = 86_400;
        assert_eq!(at(16 * D + 9 * 3600), "in 16 days");
        assert_eq!(at(-3 * D), "3 days ago");
        assert_eq!(at(-(2 * D - 1)), "47 hours ago");
        assert_eq!(at(3600), "in 60 minutes");
        assert_eq!(at(-119), "119 seconds ago");
        assert_eq!(at(1), "in 1 second");
        assert_eq!(at(0), "now");
        assert_eq!(at(89 * D + 3600), "in 89 days");
        assert_eq!(at(-99 * D), "99 days ago");
        assert_eq!(at(-100 * D), "3 months ago");
        assert_eq!(at(-185 * D), "6 months ago");
        assert_eq!(at(729 * D), "in 24 months");
        assert_eq!(at(-800 * D), "2 years ago");
        // Never a panic at the ends of time.
        let far = relative(
            Timestamp::from_unix(i64::MAX),
            Timestamp::from_unix(i64::MIN),
        );
        assert!(far.starts_with("in "), "{far}");
        assert!(!human_datetime(Timestamp::from_unix(i64::MAX)).is_empty());
    }
}
