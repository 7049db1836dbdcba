//! The outbox on PostgreSQL, as the embedded store keeps it (`store/writer/outbox.rs`):
//! deliveries queued within the hourly send limits, passcodes the portal asked for, the
//! supersede of a resend, and their removal with the link. `outbox_due` is the partial index
//! of the queued rows; `deliveries_by_link` an index of the table.
//!
//! Send counters are shared by every instance: a queue takes the tenant's counter row of the
//! hour, then the recipient's, each locked (created at 0 if absent) before the limit is
//! checked, so two instances queueing for one tenant at once count exactly. The tenant's row
//! is always locked first, so two such transactions cannot deadlock. A row's link must be
//! stored (inserted earlier in the same transaction) before its deliveries are queued: the
//! outbox refers to it.
//!
//! Errors: the driver's, as `fault::from_pg` classifies them, and `Corrupt` for a value out
//! of the schema's range. A failed function leaves its transaction to be rolled back by the
//! command, so nothing of that command is written.

use super::fault::pg;
use tokio_postgres::Transaction;
use uuid::Uuid;

use super::access_log;
use super::rows::{get, unsigned};
use crate::domain::delivery::{
    DeliveryKind, DeliveryRecord, NewDelivery, SendLimits, SentThisHour, over_limit,
};
use crate::domain::link::LinkRecord;
use crate::domain::portal::{AccessEvent, Actor, Outcome};
use crate::domain::{LinkUid, UnixMillis};
use crate::store::StoreError;

/// Queues each delivery unless its recipient or the tenant is over the hourly limit: the
/// queued records (with their ids) and the reasons for the others.
pub async fn queue_deliveries(
    txn: &Transaction<'_>,
    link: &LinkRecord,
    deliveries: &[NewDelivery],
    limits: &SendLimits,
    at: UnixMillis,
) -> Result<(Vec<DeliveryRecord>, Vec<String>), StoreError> {
    let hour = at.hour();
    let tenant = link.tenant_id.as_uuid();
    let mut queued = Vec::new();
    let mut refused = Vec::new();
    for d in deliveries {
        let to = d.to.to_lowercase();
        let tenant_count = take_count(txn, tenant, "", hour).await?;
        let to_count = take_count(txn, tenant, &to, hour).await?;
        let sent = SentThisHour {
            recipient: to_count,
            tenant: tenant_count,
        };
        if let Some(reason) = over_limit(d.channel, sent, limits) {
            refused.push(reason);
            continue;
        }
        txn.execute(
            "UPDATE send_counts SET sent = sent + 1 \
             WHERE tenant_id = $1 AND hour = $2 AND address = ANY($3)",
            &[&tenant, &hour, &vec![String::new(), to]],
        )
        .await
        .map_err(pg)?;
        let due = limits.first_retry_at;
        let record = DeliveryRecord::queued(link, DeliveryKind::Link, d.clone(), due, at);
        queued.push(enqueue(txn, record).await?);
    }
    Ok((queued, refused))
}

/// The messages counted for (`tenant`, `address`) in `hour` (address `""`: the tenant's own
/// counter), its row locked until the transaction ends; created at 0 if absent.
async fn take_count(
    txn: &Transaction<'_>,
    tenant: Uuid,
    address: &str,
    hour: i64,
) -> Result<u32, StoreError> {
    let row = txn
        .query_one(
            "INSERT INTO send_counts (tenant_id, address, hour, sent) VALUES ($1, $2, $3, 0) \
             ON CONFLICT (tenant_id, address, hour) DO UPDATE SET sent = send_counts.sent \
             RETURNING sent",
            &[&tenant, &address, &hour],
        )
        .await
        .map_err(pg)?;
    // A count past u32 (the embedded store's type) is over any limit anyway.
    let sent: i64 = get(&row, "sent")?;
    Ok(u32::try_from(sent).unwrap_or(u32::MAX))
}

/// Queues a passcode message for the link's passcode channel, due at once; its own cooldown
/// and hourly limit (in `domain::otp`) bound it, not the link send counters. `None` (with a
/// `Failure` log row) when the link has no address on that channel.
pub async fn queue_passcode(
    txn: &Transaction<'_>,
    link: &LinkRecord,
    sealed_code: Vec<u8>,
    at: UnixMillis,
    actor: &Actor,
) -> Result<Option<DeliveryRecord>, StoreError> {
    let (channel, to) = link.passcode_address();
    let event = AccessEvent::OtpSent;
    let Some(to) = to else {
        let detail = format!("no {} address for the passcode", channel.as_str());
        access_log::log(txn, link, event, Outcome::Failure, Some(detail), actor, at).await?;
        return Ok(None);
    };
    let new = NewDelivery {
        channel,
        to: to.to_owned(),
        sealed_token: sealed_code,
    };
    let record = DeliveryRecord::queued(link, DeliveryKind::Passcode, new, at, at);
    let record = enqueue(txn, record).await?;
    // Who asked is recorded now; the attempt's outcome gets its own row when it is known.
    let detail = format!("queued for {}", channel.as_str());
    access_log::log(txn, link, event, Outcome::Info, Some(detail), actor, at).await?;
    Ok(Some(record))
}

/// Stores a new queued delivery under the next id (the identity column).
pub(super) async fn enqueue(
    txn: &Transaction<'_>,
    mut record: DeliveryRecord,
) -> Result<DeliveryRecord, StoreError> {
    let row = txn
        .query_one(
            "INSERT INTO outbox (link_uid, tenant_id, channel, recipient, sealed_token, status, \
             attempts, next_attempt_at, last_error, created_at, sent_at, kind, unfinished_leases, \
             webhook_endpoint, webhook_id, webhook_body) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) \
             RETURNING delivery_id",
            &[
                &record.link_uid.as_uuid(),
                &record.tenant_id.as_uuid(),
                &record.channel.as_str(),
                &record.to,
                &record.sealed_token,
                &record.status.as_str(),
                &i64::from(record.attempts),
                &record.next_attempt_at.as_i64(),
                &record.last_error,
                &record.created_at.as_i64(),
                &record.sent_at.map(UnixMillis::as_i64),
                &record.kind.as_str(),
                &i64::from(record.unfinished_leases),
                &record.webhook.as_ref().map(|w| w.endpoint.as_str()),
                &record.webhook.as_ref().map(|w| w.id.as_str()),
                &record.webhook.as_ref().map(|w| w.body.as_str()),
            ],
        )
        .await
        .map_err(pg)?;
    record.delivery_id = unsigned(get(&row, "delivery_id")?, "delivery_id")?;
    if record.due_when_queued() {
        super::contract::note_queued_delivery();
    }
    Ok(record)
}

/// Writes back what an attempt or a lease changes of a delivery, and its lease: held by
/// `lease` (until, owner), or none.
pub(super) async fn store_delivery(
    txn: &Transaction<'_>,
    record: &DeliveryRecord,
    lease: Option<(UnixMillis, Uuid)>,
) -> Result<(), StoreError> {
    let id = i64::try_from(record.delivery_id)
        .map_err(|_| StoreError::Corrupt(format!("delivery id {}", record.delivery_id)))?;
    txn.execute(
        "UPDATE outbox SET status = $2, attempts = $3, next_attempt_at = $4, last_error = $5, \
         sent_at = $6, unfinished_leases = $7, leased_until = $8, lease_owner = $9 \
         WHERE delivery_id = $1",
        &[
            &id,
            &record.status.as_str(),
            &i64::from(record.attempts),
            &record.next_attempt_at.as_i64(),
            &record.last_error,
            &record.sent_at.map(UnixMillis::as_i64),
            &i64::from(record.unfinished_leases),
            &lease.map(|(until, _)| until.as_i64()),
            &lease.map(|(_, owner)| owner),
        ],
    )
    .await
    .map_err(pg)?;
    Ok(())
}

/// Marks the link's queued deliveries superseded (a resend replaced their token); their
/// leases end with them. Its webhook events are not messages with a token and stay queued.
pub async fn supersede_queued(txn: &Transaction<'_>, link_uid: LinkUid) -> Result<(), StoreError> {
    txn.execute(
        "UPDATE outbox SET status = 'Superseded', leased_until = NULL, lease_owner = NULL \
         WHERE link_uid = $1 AND status = 'Queued' AND kind <> 'Webhook'",
        &[&link_uid.as_uuid()],
    )
    .await
    .map_err(pg)?;
    Ok(())
}

/// Removes every delivery of a link (purge).
pub async fn delete_deliveries(txn: &Transaction<'_>, link_uid: LinkUid) -> Result<(), StoreError> {
    txn.execute(
        "DELETE FROM outbox WHERE link_uid = $1",
        &[&link_uid.as_uuid()],
    )
    .await
    .map_err(pg)?;
    Ok(())
}

/// Drops send counters older than the previous hour.
pub async fn forget_old_send_counts(
    txn: &Transaction<'_>,
    now: UnixMillis,
) -> Result<(), StoreError> {
    let keep_from = now.hour() - 1;
    txn.execute("DELETE FROM send_counts WHERE hour < $1", &[&keep_from])
        .await
        .map_err(pg)?;
    Ok(())
}
