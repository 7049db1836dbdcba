//! Fixed-window counters in memory, per client (and per link where it matters): the
//! `/portal` request rate, the per-address passcode budget and the landing-log throttle.
//! Losing them on restart is acceptable — the durable per-link budgets live in the store.
//!
//! Memory is bounded, and the bound never turns a limiter off: a window holds at most
//! `max_keys` keys, one client at most `keys_per_client` of them, and a hit that would need a
//! key beyond either bound is refused (fail closed). So filling a limiter takes many clients,
//! and even then clients already counted in the window keep their budgets.

use crate::domain::UnixMillis;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;

/// How many keys a limiter may track per window.
#[derive(Debug, Clone, Copy)]
pub struct Capacity {
    /// Keys in all (memory bound).
    pub max_keys: usize,
    /// Keys of one client (an IPv4 address or an IPv6 /64).
    pub keys_per_client: u32,
}

/// Counts hits per key within fixed windows.
///
/// A key is `client` or `client|scope`: the part before the first `|` is the client address,
/// which the limiter groups itself (IPv6 by /64, since one host owns a whole /64), so every
/// call site gets the same rules by construction.
#[derive(Debug)]
pub struct Limiter {
    limit: u32,
    window_ms: i64,
    capacity: Capacity,
    current: Mutex<Window>,
}

/// The counts of the current window only: a count from an earlier window never matters, so
/// a new window simply starts empty (no sweeping, O(1) per hit).
#[derive(Debug, Default)]
struct Window {
    number: i64,
    /// Per client and scope (empty for the client's own budget, which then costs no
    /// allocation: the portal's request budget is counted on every portal request).
    counts: HashMap<(Client, Box<str>), u32>,
    /// Keys each client holds in `counts`.
    per_client: HashMap<Client, u32>,
}

/// A client as the limiter groups it: an IPv4 address, an IPv6 /64, or text that is no
/// address (kept as it is).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Client {
    V4(u32),
    V6Net(u64),
    Text(Box<str>),
}

impl Client {
    fn of_ip(ip: IpAddr) -> Client {
        match ip.to_canonical() {
            IpAddr::V4(v4) => Client::V4(u32::from(v4)),
            IpAddr::V6(v6) => Client::V6Net((u128::from(v6) >> 64) as u64),
        }
    }

    fn of(address: &str) -> Client {
        match address.parse::<IpAddr>() {
            Ok(ip) => Client::of_ip(ip),
            Err(_) => Client::Text(address.into()),
        }
    }
}

impl Limiter {
    pub fn new(limit: u32, window_ms: i64, capacity: Capacity) -> Limiter {
        Limiter {
            limit,
            window_ms: window_ms.max(1),
            capacity,
            current: Mutex::new(Window::default()),
        }
    }

    /// Counts a hit; `false` when the key is over its limit in the current window, or when it
    /// is new and the window (or its client's share of it) is full.
    pub fn hit(&self, key: &str, now: UnixMillis) -> bool {
        let (address, scope) = key.split_once('|').unwrap_or((key, ""));
        self.hit_scoped(address, scope, now)
    }

    /// [`Limiter::hit`] for the key `address|scope`, without making that text.
    pub fn hit_scoped(&self, address: &str, scope: &str, now: UnixMillis) -> bool {
        self.count(Client::of(address), scope, now)
    }

    /// [`Limiter::hit`] for a client's own budget, by address (`None`: the unknown client).
    pub fn hit_address(&self, address: Option<IpAddr>, now: UnixMillis) -> bool {
        let client = address.map_or(Client::Text("".into()), Client::of_ip);
        self.count(client, "", now)
    }

    fn count(&self, client: Client, scope: &str, now: UnixMillis) -> bool {
        let number = now.as_i64().div_euclid(self.window_ms);
        let mut current = match self.current.lock() {
            Ok(current) => current,
            Err(poisoned) => poisoned.into_inner(),
        };
        if current.number != number {
            current.number = number;
            current.counts.clear();
            current.per_client.clear();
        }
        let key = (client, Box::<str>::from(scope));
        if let Some(count) = current.counts.get_mut(&key) {
            *count = count.saturating_add(1);
            return *count <= self.limit;
        }
        let held = current.per_client.get(&key.0).copied().unwrap_or(0);
        if current.counts.len() >= self.capacity.max_keys || held >= self.capacity.keys_per_client {
            return false;
        }
        current.per_client.insert(key.0.clone(), held + 1);
        current.counts.insert(key, 1);
        self.limit >= 1
    }

    /// Seconds until the current window ends (for `Retry-After`).
    pub fn retry_after_secs(&self, now: UnixMillis) -> u64 {
        let rest = self.window_ms - now.as_i64().rem_euclid(self.window_ms);
        u64::try_from(rest).unwrap_or(0).div_ceil(1000)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::millis::ms;

    const ROOMY: Capacity = Capacity {
        max_keys: 1_000,
        keys_per_client: 100,
    };

    #[test]
    fn limits_per_key_and_window() {
        let l = Limiter::new(2, 1_000, ROOMY);
        assert!(l.hit("a", ms(0)) && l.hit("a", ms(10)));
        assert!(!l.hit("a", ms(20)));
        assert!(l.hit("b", ms(20)));
        assert!(l.hit("a", ms(1_000)), "a new window");
        assert_eq!(l.retry_after_secs(ms(1_500)), 1);
    }

    #[test]
    fn a_full_window_refuses_new_keys_and_the_next_one_starts_empty() {
        let l = Limiter::new(
            5,
            1_000,
            Capacity {
                max_keys: 3,
                keys_per_client: 100,
            },
        );
        for n in 1..=3 {
            assert!(l.hit(&format!("10.0.0.{n}"), ms(0)));
        }
        assert!(!l.hit("10.0.0.4", ms(1)), "full: a new key fails closed");
        assert!(l.hit("10.0.0.1", ms(2)), "known keys keep their budget");
        assert_eq!(l.current.lock().map(|w| w.counts.len()).ok(), Some(3));
        assert!(l.hit("10.0.0.4", ms(1_000)), "a new window");
        assert_eq!(l.current.lock().map(|w| w.counts.len()).ok(), Some(1));
    }

    #[test]
    fn one_client_cannot_fill_the_window() {
        let l = Limiter::new(
            5,
            1_000,
            Capacity {
                max_keys: 100,
                keys_per_client: 2,
            },
        );
        assert!(l.hit("10.0.0.1|link-a", ms(0)) && l.hit("10.0.0.1|link-b", ms(0)));
        assert!(
            !l.hit("10.0.0.1|link-c", ms(0)),
            "a third key of one client"
        );
        assert!(l.hit("10.0.0.1|link-a", ms(0)), "its own keys still count");
        assert!(
            l.hit("10.0.0.2|link-c", ms(0)),
            "other clients are unaffected"
        );
    }

    #[test]
    fn an_ipv6_client_is_its_slash_64() {
        let l = Limiter::new(
            2,
            1_000,
            Capacity {
                max_keys: 100,
                keys_per_client: 1,
            },
        );
        assert!(l.hit("2001:db8:1:2::1", ms(0)));
        assert!(l.hit("2001:db8:1:2:ffff::9", ms(0)), "same /64, same key");
        assert!(
            !l.hit("2001:db8:1:2:abcd::1", ms(0)),
            "the /64's budget is used up"
        );
        assert!(l.hit("2001:db8:1:3::1", ms(0)), "another /64");
        assert!(!l.hit("2001:db8:1:2::7|link", ms(0)), "one key per /64");
        assert_eq!(Client::of("::ffff:192.0.2.7"), Client::of("192.0.2.7"));
        assert_eq!(Client::of(""), Client::Text("".into()));
        let mapped = "::ffff:192.0.2.9".parse().ok();
        assert!(l.hit_address(mapped, ms(0)) && !l.hit("192.0.2.9|link", ms(0)));
    }
}
