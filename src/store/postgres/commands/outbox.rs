//! The delivery worker's commands on PostgreSQL (`store/writer/outbox.rs`). Several instances
//! run a worker on one outbox: `LeaseDue` takes due queued rows with `FOR UPDATE SKIP LOCKED`
//! and marks each leased by this process until `lease_until`, so another instance neither
//! waits for nor takes them; a lease past its expiry (its instance died mid-send) is due
//! again and taken by whoever asks next. `RecordAttempt` locks its row, applies the attempt
//! (`DeliveryRecord::record_attempt`) and ends the lease.

use std::sync::OnceLock;

use tokio_postgres::Transaction;
use uuid::Uuid;

use super::super::records::{DELIVERY_COLUMNS, delivery_from_row};
use super::super::rows::{LINK_COLUMNS, link_from_row};
use super::super::{PgApply, access_log, fault, outbox};
use crate::domain::UnixMillis;
use crate::domain::delivery::{DeliveryRecord, DeliveryStatus};
use crate::domain::portal::Actor;
use crate::store::StoreError;
use crate::store::commands::{LeaseDue, RecordAttempt};

fn pg(e: tokio_postgres::Error) -> StoreError {
    fault::from_pg(&e)
}

/// This process's lease owner: a random id drawn once, so a lease names the instance that
/// holds it.
pub fn lease_owner() -> Uuid {
    static OWNER: OnceLock<Uuid> = OnceLock::new();
    *OWNER.get_or_init(Uuid::new_v4)
}

impl PgApply for LeaseDue {
    async fn apply_pg(&self, txn: &Transaction<'_>) -> Result<Vec<DeliveryRecord>, StoreError> {
        let (now, limit) = (
            self.now.as_i64(),
            i64::try_from(self.limit).unwrap_or(i64::MAX),
        );
        let rows = txn
            .query(
                &format!(
                    "SELECT {DELIVERY_COLUMNS} FROM outbox \
                     WHERE status = 'Queued' AND next_attempt_at <= $1 \
                       AND (leased_until IS NULL OR leased_until <= $1) \
                     ORDER BY next_attempt_at, delivery_id LIMIT $2 \
                     FOR UPDATE SKIP LOCKED"
                ),
                &[&now, &limit],
            )
            .await
            .map_err(pg)?;
        let mut leased = Vec::with_capacity(rows.len());
        for row in &rows {
            let mut record = delivery_from_row(row)?;
            if !record.lease(self.lease_until) {
                outbox::store_delivery(txn, &record, None).await?;
                log_attempt(txn, &record, self.now).await?;
                continue;
            }
            let lease = Some((self.lease_until, lease_owner()));
            outbox::store_delivery(txn, &record, lease).await?;
            leased.push(record);
        }
        Ok(leased)
    }
}

impl PgApply for RecordAttempt {
    async fn apply_pg(&self, txn: &Transaction<'_>) -> Result<Option<DeliveryRecord>, StoreError> {
        let Ok(id) = i64::try_from(self.delivery_id) else {
            return Ok(None);
        };
        let row = txn
            .query_opt(
                &format!("SELECT {DELIVERY_COLUMNS} FROM outbox WHERE delivery_id = $1 FOR UPDATE"),
                &[&id],
            )
            .await
            .map_err(pg)?;
        let Some(row) = row else {
            return Ok(None);
        };
        let mut record = delivery_from_row(&row)?;
        if record.status != DeliveryStatus::Queued {
            return Ok(Some(record));
        }
        record.record_attempt(self.at, &self.outcome, self.retry);
        outbox::store_delivery(txn, &record, None).await?;
        log_attempt(txn, &record, self.at).await?;
        Ok(Some(record))
    }
}

/// The access log row for an attempt (`DeliveryRecord::attempt_log`), if its link is still
/// stored.
async fn log_attempt(
    txn: &Transaction<'_>,
    record: &DeliveryRecord,
    at: UnixMillis,
) -> Result<(), StoreError> {
    let row = txn
        .query_opt(
            &format!("SELECT {LINK_COLUMNS} FROM links WHERE uid = $1"),
            &[&record.link_uid.as_uuid()],
        )
        .await
        .map_err(pg)?;
    let Some(row) = row else {
        return Ok(());
    };
    let link = link_from_row(&row)?;
    let (event, outcome, detail) = record.attempt_log();
    let actor = Actor::default();
    access_log::log(txn, &link, event, outcome, Some(detail), &actor, at).await
}
