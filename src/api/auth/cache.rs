//! The key cache: callers of API keys this process has already looked up, so a busy key
//! costs one hash, not a store read, per request. A key revoked through the running server
//! (`customerlink key revoke` over the operator channel) is forgotten at once; a lookup that
//! raced with that revocation does not put the key back.

use std::collections::HashMap;
use std::sync::{PoisonError, RwLock};

use uuid::Uuid;

use crate::domain::UnixMillis;
use crate::domain::tenant::StaffCaller;

/// Entries the cache holds at most (a deployment has far fewer keys).
const CAP: usize = 10_000;

/// Callers of valid keys by the keys' keyed hash. Unknown and revoked keys are never
/// remembered (every attempt costs a lookup, none grows the map).
#[derive(Debug, Default)]
pub struct KeyCache {
    inner: RwLock<Inner>,
    /// How long an entry is trusted; `None`: until forgotten (the embedded store, where
    /// every revocation goes through this process).
    max_age_ms: Option<i64>,
}

#[derive(Debug, Default)]
struct Inner {
    callers: HashMap<[u8; 32], Entry>,
    /// Counts [`KeyCache::forget`] calls; a lookup remembers its result only if none
    /// happened since it started.
    forgets: u64,
}

/// A remembered caller: its key id (for [`KeyCache::forget`]) and when it was looked up.
#[derive(Debug)]
struct Entry {
    key_id: Uuid,
    caller: StaffCaller,
    at: UnixMillis,
}

/// Taken before a store lookup, handed back to [`KeyCache::remember`].
#[derive(Debug, Clone, Copy)]
pub struct Ticket(u64);

impl KeyCache {
    /// A cache whose entries are trusted at most `max_age` (a store shared by several
    /// instances, where a revocation may come from elsewhere).
    pub fn expiring(max_age: std::time::Duration) -> KeyCache {
        KeyCache {
            inner: RwLock::default(),
            max_age_ms: Some(i64::try_from(max_age.as_millis()).unwrap_or(i64::MAX)),
        }
    }

    /// The cached caller of the key with this hash, if still trusted at `now`.
    pub fn get(&self, hash: &[u8; 32], now: UnixMillis) -> Option<StaffCaller> {
        let inner = self.inner.read().unwrap_or_else(PoisonError::into_inner);
        let entry = inner.callers.get(hash)?;
        let fresh = self
            .max_age_ms
            .is_none_or(|max| now.ms_since(entry.at) < max);
        fresh.then(|| entry.caller.clone())
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
    pub fn remember(
        &self,
        ticket: Ticket,
        hash: [u8; 32],
        key_id: Uuid,
        caller: StaffCaller,
        at: UnixMillis,
    ) {
        let mut inner = self.inner.write().unwrap_or_else(PoisonError::into_inner);
        let known = inner.callers.contains_key(&hash);
        if inner.forgets == ticket.0 && (known || inner.callers.len() < CAP) {
            let entry = Entry { key_id, caller, at };
            inner.callers.insert(hash, entry);
        }
    }

    /// Drops the key `key_id`; call after its revocation is durable.
    pub fn forget(&self, key_id: Uuid) {
        let mut inner = self.inner.write().unwrap_or_else(PoisonError::into_inner);
        inner.callers.retain(|_, entry| entry.key_id != key_id);
        inner.forgets += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: UnixMillis = UnixMillis::from_millis(1_000);

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
        cache.remember(cache.ticket(), [1; 32], a, caller(), T0);
        cache.remember(cache.ticket(), [2; 32], b, caller(), T0);
        let raced = cache.ticket();
        cache.forget(a);
        assert!(cache.get(&[1; 32], T0).is_none());
        assert!(cache.get(&[2; 32], T0).is_some(), "other keys stay");
        cache.remember(raced, [1; 32], a, caller(), T0);
        assert!(
            cache.get(&[1; 32], T0).is_none(),
            "read before the revocation"
        );
        cache.remember(cache.ticket(), [3; 32], Uuid::from_u128(3), caller(), T0);
        assert!(cache.get(&[3; 32], T0).is_some());
    }

    #[test]
    fn an_expiring_cache_trusts_an_entry_only_for_its_age() {
        let cache = KeyCache::expiring(std::time::Duration::from_secs(5));
        cache.remember(cache.ticket(), [1; 32], Uuid::from_u128(1), caller(), T0);
        assert!(cache.get(&[1; 32], T0.plus_ms(4_999)).is_some());
        assert!(
            cache.get(&[1; 32], T0.plus_ms(5_000)).is_none(),
            "looked up again"
        );
        let endless = KeyCache::default();
        endless.remember(endless.ticket(), [1; 32], Uuid::from_u128(1), caller(), T0);
        assert!(endless.get(&[1; 32], T0.plus_ms(i64::MAX / 2)).is_some());
    }
}
