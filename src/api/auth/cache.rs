//! The key cache: callers of API keys this process has already looked up, so a busy key
//! costs one hash, not a store read, per request. A key revoked through the running server
//! (`customerlink key revoke` over the operator channel) is forgotten at once; a lookup that
//! raced with that revocation does not put the key back.

use std::collections::HashMap;
use std::sync::{PoisonError, RwLock};

use uuid::Uuid;

use crate::domain::tenant::StaffCaller;

/// Entries the cache holds at most (a deployment has far fewer keys).
const CAP: usize = 10_000;

/// Callers of valid keys by the keys' keyed hash. Unknown and revoked keys are never
/// remembered (every attempt costs a lookup, none grows the map).
#[derive(Debug, Default)]
pub struct KeyCache {
    inner: RwLock<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    callers: HashMap<[u8; 32], (Uuid, StaffCaller)>,
    /// Counts [`KeyCache::forget`] calls; a lookup remembers its result only if none
    /// happened since it started.
    forgets: u64,
}

/// Taken before a store lookup, handed back to [`KeyCache::remember`].
#[derive(Debug, Clone, Copy)]
pub struct Ticket(u64);

impl KeyCache {
    /// The cached caller of the key with this hash.
    pub fn get(&self, hash: &[u8; 32]) -> Option<StaffCaller> {
        let inner = self.inner.read().unwrap_or_else(PoisonError::into_inner);
        inner.callers.get(hash).map(|(_, caller)| caller.clone())
    }

    /// Call before reading the key from the store.
    pub fn ticket(&self) -> Ticket {
        Ticket(
            self.inner
                .read()
                .unwrap_or_else(PoisonError::into_inner)
                .forgets,
        )
    }

    /// Remembers a key read as valid, unless a key was forgotten since `ticket` was taken
    /// (the read may predate that revocation) or the cache is full.
    pub fn remember(&self, ticket: Ticket, hash: [u8; 32], key_id: Uuid, caller: StaffCaller) {
        let mut inner = self.inner.write().unwrap_or_else(PoisonError::into_inner);
        if inner.forgets == ticket.0 && inner.callers.len() < CAP {
            inner.callers.insert(hash, (key_id, caller));
        }
    }

    /// Drops the key `key_id`; call after its revocation is durable.
    pub fn forget(&self, key_id: Uuid) {
        let mut inner = self.inner.write().unwrap_or_else(PoisonError::into_inner);
        inner.callers.retain(|_, (id, _)| *id != key_id);
        inner.forgets += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caller() -> StaffCaller {
        StaffCaller {
            tenant_id: Uuid::nil().into(),
            user_id: Uuid::nil().into(),
            agent_id: None,
            roles: vec![],
            casing: None,
        }
    }

    #[test]
    fn a_forgotten_key_is_gone_and_a_racing_lookup_does_not_restore_it() {
        let cache = KeyCache::default();
        let (a, b) = (Uuid::from_u128(1), Uuid::from_u128(2));
        cache.remember(cache.ticket(), [1; 32], a, caller());
        cache.remember(cache.ticket(), [2; 32], b, caller());
        let raced = cache.ticket();
        cache.forget(a);
        assert!(cache.get(&[1; 32]).is_none());
        assert!(cache.get(&[2; 32]).is_some(), "other keys stay");
        cache.remember(raced, [1; 32], a, caller());
        assert!(cache.get(&[1; 32]).is_none(), "read before the revocation");
        cache.remember(cache.ticket(), [3; 32], Uuid::from_u128(3), caller());
        assert!(cache.get(&[3; 32]).is_some());
    }
}
