//! Connection slots: at most `max_connections` connections are served at once, and one TCP peer
//! address (IPv6: per /64) holds at most `max_connections_per_address` of them, so a single
//! client cannot take every slot. Trusted proxies are exempt from the per-address cap (they
//! carry everyone's connections; cap clients at the proxy). When every slot is taken, idle
//! kept-alive connections are asked to close so a waiting client gets in; busy ones are never
//! cut.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::io::Requests;

/// The slots of one server.
#[derive(Debug)]
pub struct Slots {
    permits: Arc<Semaphore>,
    per_address: usize,
    state: Mutex<Registry>,
}

#[derive(Debug, Default)]
struct Registry {
    by_address: HashMap<IpAddr, usize>,
    live: HashMap<u64, Arc<Requests>>,
    next_id: u64,
}

/// One connection's place: its address count and (once served) its global permit. Dropping
/// it gives both back.
#[derive(Debug)]
pub struct Slot {
    slots: Arc<Slots>,
    address: Option<IpAddr>,
    id: Option<u64>,
    permit: Option<OwnedSemaphorePermit>,
}

impl Slots {
    pub fn new(max_connections: usize, per_address: usize) -> Arc<Slots> {
        Arc::new(Slots {
            permits: Arc::new(Semaphore::new(max_connections)),
            per_address,
            state: Mutex::default(),
        })
    }

    fn registry(&self) -> MutexGuard<'_, Registry> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Counts a new connection from `address` (`None` = exempt); `None` when the address
    /// already holds its share.
    pub fn admit(self: &Arc<Self>, address: Option<IpAddr>) -> Option<Slot> {
        let address = address.map(share_of);
        if let Some(address) = address {
            let mut registry = self.registry();
            let count = registry.by_address.entry(address).or_default();
            if *count >= self.per_address {
                return None;
            }
            *count += 1;
        }
        Some(Slot {
            slots: Arc::clone(self),
            address,
            id: None,
            permit: None,
        })
    }

    /// Asks one idle connection to close (to free a slot); false when none is idle.
    pub fn evict_idle(&self) -> bool {
        let registry = self.registry();
        let idle = registry.live.values().find(|r| r.is_idle());
        if let Some(requests) = idle {
            requests.close_when_idle();
        }
        idle.is_some()
    }

    /// A free global slot right now, if there is one.
    pub fn try_permit(&self) -> Option<OwnedSemaphorePermit> {
        Arc::clone(&self.permits).try_acquire_owned().ok()
    }

    /// Waits for a global slot.
    pub async fn permit(&self) -> Option<OwnedSemaphorePermit> {
        Arc::clone(&self.permits).acquire_owned().await.ok()
    }
}

/// The address a connection counts against: the IPv4 address, or the IPv6 /64 (one
/// subscriber's allocation, which hands its holder 2^64 addresses).
fn share_of(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V6(v6) => {
            let [a, b, c, d, ..] = v6.segments();
            IpAddr::from([a, b, c, d, 0, 0, 0, 0])
        }
        v4 => v4,
    }
}

impl Slot {
    /// The connection is served: it holds `permit` and can be asked to make room.
    pub fn serve(&mut self, permit: OwnedSemaphorePermit, requests: &Arc<Requests>) {
        let mut registry = self.slots.registry();
        let id = registry.next_id;
        registry.next_id += 1;
        registry.live.insert(id, Arc::clone(requests));
        self.id = Some(id);
        self.permit = Some(permit);
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut registry = self.slots.registry();
        if let Some(id) = self.id {
            registry.live.remove(&id);
        }
        if let Some(address) = self.address
            && let Some(count) = registry.by_address.get_mut(&address)
        {
            *count = count.saturating_sub(1);
            if *count == 0 {
                registry.by_address.remove(&address);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_holds_at_most_its_share_and_gets_it_back() {
        let slots = Slots::new(10, 2);
        let a: IpAddr = [10, 0, 0, 1].into();
        let first = slots.admit(Some(a));
        let second = slots.admit(Some(a));
        assert!(first.is_some() && second.is_some());
        assert!(slots.admit(Some(a)).is_none());
        assert!(slots.admit(Some([10, 0, 0, 2].into())).is_some());
        assert!(slots.admit(None).is_some(), "exempt");
        drop(first);
        assert!(slots.admit(Some(a)).is_some());
        let v6 = |s: &str| s.parse::<IpAddr>().ok();
        let _x = slots.admit(v6("2001:db8:0:1::1"));
        let _y = slots.admit(v6("2001:db8:0:1::2"));
        assert!(slots.admit(v6("2001:db8:0:1:ffff::9")).is_none(), "one /64");
        assert!(slots.admit(v6("2001:db8:0:2::1")).is_some());
    }
}
