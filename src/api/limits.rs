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
    max_keys: usize,
    current: Mutex<Window>,
}

/// The counts of the current window only: a count from an earlier window never matters, so
/// a new window simply starts empty (no sweeping, O(1) per hit).
#[derive(Debug, Default)]
struct Window {
    number: i64,
    counts: HashMap<String, u32>,
}

/// Keys tracked per window. Past this (a flood from many addresses or over many links) new
/// keys go uncounted until the window ends, so memory stays bounded; the durable per-link
/// budgets in the store still hold.
const MAX_KEYS: usize = 50_000;

impl Limiter {
    pub fn new(limit: u32, window_ms: i64, max_keys: usize) -> Limiter {
        Limiter {
            limit,
            max_keys,
            window_ms: window_ms.max(1),
            current: Mutex::new(Window::default()),
        }
    }

    /// Counts a hit; `false` when the key is over its limit in the current window.
    pub fn hit(&self, key: &str, now: i64) -> bool {
        let number = now.div_euclid(self.window_ms);
        let Ok(mut current) = self.current.lock() else {
            return true;
        };
        if current.number != number {
            current.number = number;
            current.counts.clear();
        }
        let full = current.counts.len() >= self.max_keys;
        let count = match current.counts.get_mut(key) {
            Some(count) => count,
            None if full => return true,
            None => current.counts.entry(key.to_owned()).or_insert(0),
        };
        *count = count.saturating_add(1);
        *count <= self.limit
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
        let l = Limiter::new(2, 1_000, MAX_KEYS);
        assert!(l.hit("a", 0) && l.hit("a", 10));
        assert!(!l.hit("a", 20));
        assert!(l.hit("b", 20));
        assert!(l.hit("a", 1_000), "a new window");
        assert_eq!(l.retry_after_secs(1_500), 1);
    }

    #[test]
    fn a_full_window_stays_bounded_and_the_next_one_starts_empty() {
        let l = Limiter::new(1, 1_000, MAX_KEYS);
        for n in 0..MAX_KEYS {
            assert!(l.hit(&n.to_string(), 0));
        }
        assert!(!l.hit("0", 1), "known keys are still counted");
        assert!(l.hit("new", 2) && l.hit("new", 3), "new keys go uncounted");
        assert_eq!(
            l.current.lock().map(|w| w.counts.len()).ok(),
            Some(MAX_KEYS)
        );
        assert!(l.hit("0", 1_000), "a new window");
        assert_eq!(l.current.lock().map(|w| w.counts.len()).ok(), Some(1));
    }
}
