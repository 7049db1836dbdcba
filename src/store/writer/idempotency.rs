//! Creates and resends under an idempotency key, inside the writer's transaction: the key is
//! looked up and its record written in the same commit as the link, so a key names at most
//! one result even when two requests with it race. Purge drops records past the window.

use super::super::StoreError;
use super::super::codec::{decode, encode};
use super::super::commands::{Idempotent, LinkQueued, Replayable, ResendOutcome};
use super::super::idempotency::{IDEMPOTENCY_WINDOW_MS, IdempotencyRecord, IdempotencyStamp};
use super::job::Apply;
use super::tables::Tables;
use crate::domain::UnixMillis;

/// An answer that may have queued a link (then its key's record is stored).
pub trait MaybeQueued {
    fn queued(&self) -> Option<&LinkQueued>;
}

impl MaybeQueued for LinkQueued {
    fn queued(&self) -> Option<&LinkQueued> {
        Some(self)
    }
}

impl MaybeQueued for ResendOutcome {
    fn queued(&self) -> Option<&LinkQueued> {
        match self {
            ResendOutcome::Resent(queued) => Some(queued),
            ResendOutcome::NotFound | ResendOutcome::Refused(_) => None,
        }
    }
}

impl<C> Apply for Idempotent<C>
where
    C: Apply,
    C::Output: MaybeQueued,
{
    fn apply(&self, t: &mut Tables<'_>) -> Result<Self::Output, StoreError> {
        t.idempotent(&self.stamp, |t| self.command.apply(t))
    }
}

impl Tables<'_> {
    /// Runs `write` unless the stamp's key already names a live result (then returns it as
    /// [`Replayable::Replay`] and writes nothing). A successful create or resend stores the
    /// stamp's record, replacing an expired one. Invariant: `idempotency_by_time` holds
    /// exactly one entry per record.
    fn idempotent<T: MaybeQueued>(
        &mut self,
        stamp: &IdempotencyStamp,
        write: impl FnOnce(&mut Self) -> Result<T, StoreError>,
    ) -> Result<Replayable<T>, StoreError> {
        let key = (stamp.tenant_id.as_u128(), stamp.key.0);
        let existing = match self.idempotency.get(key)? {
            Some(g) => Some(decode::<IdempotencyRecord>(g.value())?),
            None => None,
        };
        if let Some(found) = &existing
            && found.is_live(stamp.record.created_at)
        {
            return Ok(Replayable::Replay(Box::new(found.clone())));
        }
        let outcome = write(self)?;
        let Some(queued) = outcome.queued() else {
            return Ok(Replayable::Fresh(outcome));
        };
        if let Some(old) = existing {
            self.idempotency_by_time
                .remove((old.created_at.as_i64(), key.0, key.1))?;
        }
        let mut record = stamp.record.clone();
        record
            .delivery_errors
            .extend(queued.refused.iter().cloned());
        self.idempotency.insert(key, encode(&record)?.as_slice())?;
        self.idempotency_by_time
            .insert((record.created_at.as_i64(), key.0, key.1), ())?;
        Ok(Replayable::Fresh(outcome))
    }

    /// Removes up to `limit` records older than the window at `now`; returns whether more
    /// remain.
    pub(super) fn forget_old_idempotency(
        &mut self,
        now: UnixMillis,
        limit: usize,
    ) -> Result<bool, StoreError> {
        let cutoff = now.minus_ms(IDEMPOTENCY_WINDOW_MS);
        let mut old = Vec::new();
        for entry in self
            .idempotency_by_time
            .range(..(cutoff.as_i64(), 0u128, [0u8; 32]))?
        {
            if old.len() > limit {
                break;
            }
            old.push(entry?.0.value());
        }
        let more = old.len() > limit;
        old.truncate(limit);
        for (at, tenant, key) in old {
            self.idempotency_by_time.remove((at, tenant, key))?;
            self.idempotency.remove((tenant, key))?;
        }
        Ok(more)
    }
}
