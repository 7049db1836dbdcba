//! Time source. Every rule that depends on "now" asks a [`Clock`], never the OS directly, so
//! tests can move time (expiry, purge) without sleeping. Background jobs also wait on the
//! clock ([`Clock::sleep`]), so a test's [`ManualClock`] drives their rounds. Times are UTC
//! milliseconds since the Unix epoch, formatted only at the wire edge (DESIGN.md decision 7).

use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::sync::watch;

pub use crate::domain::UnixMillis;

/// A wait on a clock, independent of the clock it came from.
pub type Sleep = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

/// Where "now" comes from, and how long a wait lasts.
pub trait Clock: Send + Sync + 'static {
    /// The current instant in UTC milliseconds.
    fn now(&self) -> UnixMillis;

    /// Completes once `period` has passed on this clock, measured from this call.
    fn sleep(&self, period: Duration) -> Sleep;
}

/// The operating system's wall clock; waits are on the monotonic timer, so a wall-clock
/// step neither shortens nor stretches them.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> UnixMillis {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
            .unwrap_or(0)
            .into()
    }

    fn sleep(&self, period: Duration) -> Sleep {
        Box::pin(tokio::time::sleep(period))
    }
}

/// A clock that only moves when told to; starts at the system time of its creation. A wait
/// on it ends when [`ManualClock::advance_millis`] moves it past the wait's end, never by
/// itself.
#[derive(Debug)]
pub struct ManualClock {
    now: watch::Sender<UnixMillis>,
}

impl ManualClock {
    /// A manual clock that reads the current system time until advanced.
    pub fn new() -> Self {
        Self::at(SystemClock.now())
    }

    /// A manual clock fixed at `now`.
    pub fn at(now: UnixMillis) -> Self {
        Self {
            now: watch::Sender::new(now),
        }
    }

    /// Moves time forward (or back, with a negative amount) and wakes the waits that are due.
    pub fn advance_millis(&self, millis: i64) {
        self.now.send_modify(|now| *now = now.plus_ms(millis));
    }

    /// Moves time forward by whole hours.
    pub fn advance_hours(&self, hours: i64) {
        self.advance_millis(hours * crate::domain::HOUR_MS);
    }
}

impl Default for ManualClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for ManualClock {
    fn now(&self) -> UnixMillis {
        *self.now.borrow()
    }

    fn sleep(&self, period: Duration) -> Sleep {
        let millis = i64::try_from(period.as_millis()).unwrap_or(i64::MAX);
        let until = self.now().plus_ms(millis);
        let mut moved = self.now.subscribe();
        Box::pin(async move {
            // The sender lives as long as the clock; if it is gone, time stops for good.
            if moved.wait_for(|now| *now >= until).await.is_err() {
                std::future::pending::<()>().await;
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::task::{Context, Waker};

    /// Polls the wait once: whether it has ended.
    fn ended(wait: &mut Sleep) -> bool {
        let mut cx = Context::from_waker(Waker::noop());
        wait.as_mut().poll(&mut cx).is_ready()
    }

    #[test]
    fn a_manual_wait_ends_only_when_the_clock_passes_its_end() {
        let clock = ManualClock::at(UnixMillis::from_millis(1_000));
        let mut wait = clock.sleep(Duration::from_millis(250));
        assert!(!ended(&mut wait), "no time passed on the clock");
        clock.advance_millis(249);
        assert!(!ended(&mut wait), "one millisecond short");
        clock.advance_millis(1);
        assert!(ended(&mut wait));
        assert_eq!(clock.now().as_i64(), 1_250);
    }

    #[test]
    fn a_zero_wait_on_a_manual_clock_ends_at_once() {
        assert!(ended(
            &mut ManualClock::at(UnixMillis::from_millis(5)).sleep(Duration::ZERO)
        ));
    }
}
