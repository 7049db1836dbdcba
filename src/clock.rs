//! Time source. Every rule that depends on "now" asks a [`Clock`], never the OS directly, so
//! tests can move time (expiry, purge) without sleeping. Times are UTC milliseconds since the
//! Unix epoch, formatted only at the wire edge (DESIGN.md decision 7).

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// Milliseconds since 1970-01-01T00:00:00Z.
pub type UnixMillis = i64;

/// Where "now" comes from.
pub trait Clock: Send + Sync + 'static {
    /// The current instant in UTC milliseconds.
    fn now(&self) -> UnixMillis;
}

/// The operating system's wall clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> UnixMillis {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
            .unwrap_or(0)
    }
}

/// A clock that only moves when told to; starts at the system time of its creation.
#[derive(Debug)]
pub struct ManualClock {
    now: AtomicI64,
}

impl ManualClock {
    /// A manual clock that reads the current system time until advanced.
    pub fn new() -> Self {
        Self::at(SystemClock.now())
    }

    /// A manual clock fixed at `now`.
    pub fn at(now: UnixMillis) -> Self {
        Self {
            now: AtomicI64::new(now),
        }
    }

    /// Moves time forward (or back, with a negative amount).
    pub fn advance_millis(&self, millis: i64) {
        self.now.fetch_add(millis, Ordering::SeqCst);
    }

    /// Moves time forward by whole hours.
    pub fn advance_hours(&self, hours: i64) {
        self.advance_millis(hours * 3_600_000);
    }
}

impl Default for ManualClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for ManualClock {
    fn now(&self) -> UnixMillis {
        self.now.load(Ordering::SeqCst)
    }
}
