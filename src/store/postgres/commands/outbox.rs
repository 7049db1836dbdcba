//! The delivery worker's commands on PostgreSQL (`store/writer/outbox.rs`). Several instances
//! run a worker on one outbox: `LeaseDue` takes due queued rows with `FOR UPDATE SKIP LOCKED`
//! and marks each leased by this process until `lease_until`, so another instance neither
//! waits for nor takes them; a lease past its expiry (its instance died mid-send) is due
//! again and taken by whoever asks next. `RecordAttempt` locks its row, applies the attempt
//! (`DeliveryRecord::record_attempt`) and ends the lease.

use crate::store::postgres::fault::pg;
use std::sync::OnceLock;

use tokio_postgres::Transaction;
use uuid::Uuid;

use super::super::records::{DELIVERY_COLUMNS, delivery_from_row};
use super::super::rows::{LINK_COLUMNS, link_from_row};
use super::super::{PgApply, access_log, outbox};
use crate::domain::UnixMillis;
use crate::domain::delivery::DeliveryKind;
use crate::domain::delivery::{DeliveryRecord, DeliveryStatus};
use crate::domain::portal::Actor;
use crate::store::StoreError;
use crate::store::commands::{LeaseDue, RecordAttempt};
use crate::store::postgres::webhooks;

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
        let mut given_up = Vec::new();
        for row in &rows {
            let mut record = delivery_from_row(row)?;
            if !record.lease(self.lease_until) {
                outbox::store_delivery(txn, &record, None).await?;
                given_up.push(record);
                continue;
            }
            let lease = Some((self.lease_until, lease_owner()));
            outbox::store_delivery(txn, &record, lease).await?;
            leased.push(record);
        }
        // in the order of the links' noise locks (a passcode's row is noise)
        given_up.sort_by_key(|d| access_log::noise_lock_key(d.link_uid.as_uuid()));
        for record in &given_up {
            log_attempt(txn, record, self.now).await?;
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
                &format!(
                    "SELECT {DELIVERY_COLUMNS}, lease_owner, leased_until FROM outbox \
                     WHERE delivery_id = $1 FOR UPDATE"
                ),
                &[&id],
            )
            .await
            .map_err(pg)?;
        let Some(row) = row else {
            return Ok(None);
        };
        let mut record = delivery_from_row(&row)?;
        if record.status != DeliveryStatus::Queued || leased_by_another(&row, self)? {
            return Ok(Some(record));
        }
        record.record_attempt(self.at, &self.outcome, self.retry);
        outbox::store_delivery(txn, &record, None).await?;
        log_attempt(txn, &record, self.at).await?;
        webhooks::record_attempt(txn, &record, self).await?;
        Ok(Some(record))
    }
}

/// Whether another instance holds a live lease on the delivery: an attempt of ours that
/// outlived our lease then records only a success (the message did go out); a failure is the
/// live lease holder's to record, or its lease would end early and the delivery be sent again.
fn leased_by_another(
    row: &tokio_postgres::Row,
    attempt: &RecordAttempt,
) -> Result<bool, StoreError> {
    let owner: Option<Uuid> = super::super::rows::get(row, "lease_owner")?;
    let until: Option<i64> = super::super::rows::get(row, "leased_until")?;
    let live_elsewhere =
        owner.is_some_and(|o| o != lease_owner()) && until.is_some_and(|u| u > attempt.at.as_i64());
    Ok(live_elsewhere && !matches!(attempt.outcome, crate::store::AttemptOutcome::Sent))
}

/// The access log row for an attempt (`DeliveryRecord::attempt_log`), if its link is still
/// stored; a webhook event's attempts are its endpoint's state, not the link's log.
async fn log_attempt(
    txn: &Transaction<'_>,
    record: &DeliveryRecord,
    at: UnixMillis,
) -> Result<(), StoreError> {
    if record.kind == DeliveryKind::Webhook {
        return Ok(());
    }
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
