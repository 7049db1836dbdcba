//! Fixed-window counters in memory, per client address (and per link where it matters):
//! the `/portal` request rate and the per-address passcode budget. Losing them on restart is
//! acceptable — the durable per-link budgets live in the store.

use std::collections::HashMap;
use std::sync::Mutex;

/// Counts hits per key within fixed windows.
#[derive(Debug)]
pub struct Limiter {
    limit: u32,
    window_ms: i64,
    windows: Mutex<HashMap<String, (i64, u32)>>,
}

/// Entries kept before old windows are swept.
const SWEEP_AT: usize = 50_000;

impl Limiter {
    pub fn new(limit: u32, window_ms: i64) -> Limiter {
        Limiter {
            limit,
            window_ms: window_ms.max(1),
            windows: Mutex::new(HashMap::new()),
        }
    }

    /// Counts a hit; `false` when the key is over its limit in the current window.
    pub fn hit(&self, key: &str, now: i64) -> bool {
        let window = now.div_euclid(self.window_ms);
        let Ok(mut windows) = self.windows.lock() else {
            return true;
        };
        if windows.len() >= SWEEP_AT {
            windows.retain(|_, (w, _)| *w == window);
        }
        let entry = windows.entry(key.to_owned()).or_insert((window, 0));
        if entry.0 != window {
            *entry = (window, 0);
        }
        entry.1 = entry.1.saturating_add(1);
        entry.1 <= self.limit
    }

    /// Seconds until the key's window ends (for `Retry-After`).
    pub fn retry_after_secs(&self, now: i64) -> u64 {
        let rest = self.window_ms - now.rem_euclid(self.window_ms);
        u64::try_from(rest).unwrap_or(0).div_ceil(1000)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_per_key_and_window() {
        let l = Limiter::new(2, 1_000);
        assert!(l.hit("a", 0) && l.hit("a", 10));
        assert!(!l.hit("a", 20));
        assert!(l.hit("b", 20));
        assert!(l.hit("a", 1_000), "a new window");
        assert_eq!(l.retry_after_secs(1_500), 1);
    }
}
