//! The instant type. Every stored or compared point in time is a `UnixMillis`, never a bare
//! `i64`, so an instant cannot be passed where a duration (`*_ms: i64`) is expected or the
//! other way round. Durations stay plain milliseconds. Stored as the same MessagePack integer
//! the bare `i64` was (`#[serde(transparent)]`), so old files read unchanged.

use serde::{Deserialize, Serialize};

use super::HOUR_MS;

/// Milliseconds since 1970-01-01T00:00:00Z (UTC).
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct UnixMillis(i64);

impl UnixMillis {
    /// The Unix epoch itself.
    pub const EPOCH: UnixMillis = UnixMillis(0);

    /// The instant `ms` milliseconds after the epoch.
    pub const fn from_millis(ms: i64) -> Self {
        UnixMillis(ms)
    }

    /// Milliseconds since the epoch (index keys, cookie bytes, the wire's date types).
    pub const fn as_i64(self) -> i64 {
        self.0
    }

    /// `ms` later (earlier when negative), saturating at the ends of the range.
    #[must_use]
    pub const fn plus_ms(self, ms: i64) -> Self {
        UnixMillis(self.0.saturating_add(ms))
    }

    /// `ms` earlier, saturating at the ends of the range.
    #[must_use]
    pub const fn minus_ms(self, ms: i64) -> Self {
        UnixMillis(self.0.saturating_sub(ms))
    }

    /// Milliseconds from `earlier` to `self` (negative when `earlier` is later).
    pub const fn ms_since(self, earlier: UnixMillis) -> i64 {
        self.0.saturating_sub(earlier.0)
    }

    /// The whole hours since the epoch: the bucket of hourly counters.
    pub const fn hour(self) -> i64 {
        self.0.div_euclid(HOUR_MS)
    }

    /// The same instant as a calendar date-time in UTC (the epoch if out of its range), for
    /// human-readable text.
    pub fn to_datetime(self) -> time::OffsetDateTime {
        time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(self.0) * 1_000_000)
            .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
    }
}

impl From<i64> for UnixMillis {
    fn from(ms: i64) -> Self {
        UnixMillis(ms)
    }
}

/// Shorthand for unit tests: the instant `n` milliseconds after the epoch.
#[cfg(test)]
pub(crate) const fn ms(n: i64) -> UnixMillis {
    UnixMillis(n)
}

impl std::fmt::Display for UnixMillis {
    /// The millisecond count, as the bare integer printed before.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arithmetic_saturates_instead_of_overflowing() {
        let t = UnixMillis::from_millis(i64::MAX - 1);
        assert_eq!(t.plus_ms(5).as_i64(), i64::MAX);
        assert_eq!(
            UnixMillis::from_millis(i64::MIN).minus_ms(1).as_i64(),
            i64::MIN
        );
    }

    #[test]
    fn differences_are_signed_milliseconds() {
        let a = UnixMillis::from_millis(1_000);
        let b = a.plus_ms(250);
        assert_eq!(b.ms_since(a), 250);
        assert_eq!(a.ms_since(b), -250);
        assert_eq!(b.minus_ms(250), a);
    }

    #[test]
    fn hours_count_from_the_epoch_and_round_down() {
        assert_eq!(UnixMillis::from_millis(HOUR_MS - 1).hour(), 0);
        assert_eq!(UnixMillis::from_millis(HOUR_MS).hour(), 1);
        assert_eq!(UnixMillis::from_millis(-1).hour(), -1);
    }

    #[test]
    fn the_datetime_is_utc_and_keeps_milliseconds() {
        let dt = UnixMillis::from_millis(1_764_301_795_123).to_datetime();
        assert_eq!((dt.year(), u8::from(dt.month()), dt.day()), (2025, 11, 28));
        assert_eq!(dt.millisecond(), 123);
        assert_eq!(dt.offset(), time::UtcOffset::UTC);
    }

    #[test]
    fn it_is_stored_as_the_bare_integer() {
        let bytes = rmp_serde::to_vec_named(&UnixMillis::from_millis(7)).unwrap();
        assert_eq!(bytes, rmp_serde::to_vec_named(&7_i64).unwrap());
    }
}
