//! Creates and resends under an idempotency key on PostgreSQL. Semantics:
//! `store::writer::idempotency`. The key's row is read `FOR UPDATE`; when there is none yet,
//! two instances running the same key at once both run the command, but only one INSERT of
//! the key can commit: the other fails on the primary key and is answered `Conflict`, so
//! [`super::super::PgStore::write`] runs it again from scratch, and that try finds the first
//! one's record and replays it. A key names at most one result across instances.

use tokio_postgres::Transaction;
use uuid::Uuid;

use super::super::records::{IDEMPOTENCY_COLUMNS, idempotency_from_row};
use super::super::rows::get;
use super::super::{PgApply, fault};
use crate::domain::UnixMillis;
use crate::store::StoreError;
use crate::store::commands::{Idempotent, Replayable};
use crate::store::idempotency::{IDEMPOTENCY_WINDOW_MS, IdempotencyRecord, IdempotencyStamp};
use crate::store::writer::MaybeQueued;

impl<C> PgApply for Idempotent<C>
where
    C: PgApply,
    C::Output: MaybeQueued,
{
    /// Replays the key's live record, or runs the command and stores the stamp's record
    /// (with the refused deliveries) in the same transaction.
    async fn apply_pg(&self, txn: &Transaction<'_>) -> Result<Replayable<C::Output>, StoreError> {
        let stamp = &*self.stamp;
        let existing = record_for_update(txn, stamp).await?;
        if let Some(found) = &existing
            && found.is_live(stamp.record.created_at)
        {
            return Ok(Replayable::Replay(Box::new(found.clone())));
        }
        let outcome = self.command.apply_pg(txn).await?;
        let Some(queued) = outcome.queued() else {
            return Ok(Replayable::Fresh(outcome));
        };
        let mut record = stamp.record.clone();
        record
            .delivery_errors
            .extend(queued.refused.iter().cloned());
        store_record(txn, stamp, &record, existing.is_some()).await?;
        Ok(Replayable::Fresh(outcome))
    }
}

/// The stamp's key's record (live or not), locked until the transaction ends.
async fn record_for_update(
    txn: &Transaction<'_>,
    stamp: &IdempotencyStamp,
) -> Result<Option<IdempotencyRecord>, StoreError> {
    let sql = format!(
        "SELECT {IDEMPOTENCY_COLUMNS} FROM idempotency \
         WHERE tenant_id = $1 AND key_hash = $2 FOR UPDATE"
    );
    let row = txn
        .query_opt(
            sql.as_str(),
            &[&stamp.tenant_id.as_uuid(), &stamp.key.0.as_slice()],
        )
        .await
        .map_err(|e| fault::from_pg(&e))?;
    row.as_ref().map(idempotency_from_row).transpose()
}

/// Inserts the key's record, or replaces the expired one the transaction holds. A key
/// another transaction inserted meanwhile is `Conflict` (retried, then replayed).
async fn store_record(
    txn: &Transaction<'_>,
    stamp: &IdempotencyStamp,
    record: &IdempotencyRecord,
    replace: bool,
) -> Result<(), StoreError> {
    let sql = if replace {
        "UPDATE idempotency SET operation = $3, fingerprint = $4, link_uid = $5, \
         sealed_token = $6, delivery_errors = $7, created_at = $8 \
         WHERE tenant_id = $1 AND key_hash = $2"
            .to_owned()
    } else {
        format!(
            "INSERT INTO idempotency (tenant_id, key_hash, {IDEMPOTENCY_COLUMNS}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
        )
    };
    let result = txn
        .execute(
            sql.as_str(),
            &[
                &stamp.tenant_id.as_uuid(),
                &stamp.key.0.as_slice(),
                &record.operation,
                &record.fingerprint.as_slice(),
                &record.link_uid.as_uuid(),
                &record.sealed_token,
                &record.delivery_errors,
                &record.created_at.as_i64(),
            ],
        )
        .await;
    match result {
        Ok(_) => Ok(()),
        Err(e) if fault::unique_violation(&e).is_some() => Err(StoreError::Conflict),
        Err(e) => Err(fault::from_pg(&e)),
    }
}

/// Deletes up to `limit` records older than the window at `now` that no other instance is
/// deleting; answers whether more remain.
pub(super) async fn forget_old_idempotency(
    txn: &Transaction<'_>,
    now: UnixMillis,
    limit: usize,
) -> Result<bool, StoreError> {
    let cutoff = now.minus_ms(IDEMPOTENCY_WINDOW_MS);
    let fetch = i64::try_from(limit).unwrap_or(i64::MAX - 1) + 1;
    let rows = txn
        .query(
            "SELECT tenant_id, key_hash FROM idempotency WHERE created_at < $1 \
             ORDER BY created_at LIMIT $2 FOR UPDATE SKIP LOCKED",
            &[&cutoff.as_i64(), &fetch],
        )
        .await
        .map_err(|e| fault::from_pg(&e))?;
    let more = rows.len() > limit;
    for row in rows.iter().take(limit) {
        let tenant: Uuid = get(row, "tenant_id")?;
        let key: Vec<u8> = get(row, "key_hash")?;
        txn.execute(
            "DELETE FROM idempotency WHERE tenant_id = $1 AND key_hash = $2",
            &[&tenant, &key],
        )
        .await
        .map_err(|e| fault::from_pg(&e))?;
    }
    Ok(more)
}
