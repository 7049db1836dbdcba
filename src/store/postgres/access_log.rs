//! The access log on PostgreSQL, as the embedded store keeps it (`store/writer/access_log.rs`):
//! lifecycle rows are appended; noise rows (landing views, passcode sends and failures,
//! denied opens) aggregate per event, outcome and address into one row with a count
//! (`AccessLogEntry::absorb`), and at most `NOISE_ROWS_PER_LINK` of them are kept per link
//! (the least recently seen goes). A purged link's log stays under a tombstone for the
//! retention window.
//!
//! Several instances log noise of one link at once, so the noise rows of a link are changed
//! under a transaction-scoped advisory lock on that link: the repeat finds the row, the new
//! row is counted against the cap, exactly as in one writer. The lock is the last one such a
//! transaction takes (it touches only that link's log rows while holding it); a command that
//! logs noise of several links takes their locks in one order ([`noise_lock_key`]).
//!
//! Errors: the driver's, as `fault::from_pg` classifies them, and `Corrupt` for a row the
//! schema should have refused. A failed function leaves its transaction to be rolled back by
//! the command, so nothing of that command is written.

use super::fault::pg;
use tokio_postgres::Transaction;
use uuid::Uuid;

use super::records::{ACCESS_LOG_COLUMNS, access_log_from_row};
use crate::domain::link::LinkRecord;
use crate::domain::portal::{
    AccessEvent, AccessLogEntry, Actor, NOISE_ROWS_PER_LINK, Outcome, Repeats, noise_key,
};
use crate::domain::{UnixMillis, UserId};
use crate::store::StoreError;

/// Namespace of the advisory locks on a link's noise rows ("clno"), the first key of the
/// two-key form, which never meets the one-key locks (migrations).
const NOISE_LOCK_SPACE: i32 = 0x636c_6e6f;

/// A count or id as the `bigint` column holds it.
fn bigint(count: u64) -> i64 {
    i64::try_from(count).unwrap_or(i64::MAX)
}

/// Records one event of `link`: a new lifecycle row, or one more occurrence of a noise row.
pub async fn log(
    txn: &Transaction<'_>,
    link: &LinkRecord,
    event: AccessEvent,
    outcome: Outcome,
    detail: Option<String>,
    actor: &Actor,
    at: UnixMillis,
) -> Result<(), StoreError> {
    log_repeated(txn, link, event, outcome, detail, actor, Repeats::once(at)).await?;
    super::webhooks::queue(txn, link, event, outcome, at).await
}

/// Records a successful staff action on `link` (created, revoked, unlocked, resent …) by the
/// user `by`.
pub async fn log_staff(
    txn: &Transaction<'_>,
    link: &LinkRecord,
    event: AccessEvent,
    detail: Option<String>,
    by: UserId,
    at: UnixMillis,
) -> Result<(), StoreError> {
    let actor = Actor::staff(by);
    log(txn, link, event, Outcome::Success, detail, &actor, at).await
}

/// Logs occurrences already counted together: a noise event folds them into its row for the
/// address; a lifecycle event is one row (its first occurrence) each time.
pub async fn log_repeated(
    txn: &Transaction<'_>,
    link: &LinkRecord,
    event: AccessEvent,
    outcome: Outcome,
    detail: Option<String>,
    actor: &Actor,
    repeats: Repeats,
) -> Result<(), StoreError> {
    let noise = noise_key(event, outcome, actor);
    let mut row = NewRow {
        link,
        event,
        outcome,
        detail,
        actor,
        at: repeats.first,
        count: 1,
        noise: None,
    };
    let Some(key) = noise else {
        return insert(txn, &row).await;
    };
    let uid = link.uid.as_uuid();
    lock_noise(txn, uid).await?;
    if let Some(mut entry) = noise_row(txn, uid, &key).await? {
        entry.absorb(repeats, row.detail, actor);
        return update_noise(txn, &entry).await;
    }
    row.count = repeats.count;
    row.noise = Some((key, repeats.last));
    insert(txn, &row).await?;
    evict_noise(txn, uid).await
}

/// The aggregated row of `uid` under `key`, if there is one.
async fn noise_row(
    txn: &Transaction<'_>,
    uid: Uuid,
    key: &str,
) -> Result<Option<AccessLogEntry>, StoreError> {
    let sql = format!(
        "SELECT {ACCESS_LOG_COLUMNS} FROM access_log WHERE link_uid = $1 AND noise_key = $2"
    );
    let row = txn.query_opt(&sql, &[&uid, &key]).await.map_err(pg)?;
    row.as_ref().map(access_log_from_row).transpose()
}

/// Writes back what `AccessLogEntry::absorb` changed of a noise row.
async fn update_noise(txn: &Transaction<'_>, entry: &AccessLogEntry) -> Result<(), StoreError> {
    let last = entry.last_at.unwrap_or(entry.at).as_i64();
    txn.execute(
        "UPDATE access_log SET detail = $3, actor_user_agent = $4, count = $5, at = $6, \
         last_at = $7 WHERE link_uid = $1 AND id = $2",
        &[
            &entry.link_uid.as_uuid(),
            &bigint(entry.id),
            &entry.detail,
            &entry.actor.user_agent,
            &bigint(entry.count),
            &entry.at.as_i64(),
            &last,
        ],
    )
    .await
    .map_err(pg)?;
    Ok(())
}

/// Waits for (and then holds, until the transaction ends) the lock on `uid`'s noise rows.
async fn lock_noise(txn: &Transaction<'_>, uid: Uuid) -> Result<(), StoreError> {
    txn.execute(
        "SELECT pg_advisory_xact_lock($1, $2)",
        &[&NOISE_LOCK_SPACE, &noise_lock_key(uid)],
    )
    .await
    .map_err(pg)?;
    Ok(())
}

/// The second key of the lock on `uid`'s noise rows (the uid folded to 32 bits; two links
/// that share one merely wait for each other). A command that logs noise of several links
/// logs them in the order of this key, so two such commands cannot deadlock.
pub fn noise_lock_key(uid: Uuid) -> i32 {
    let mut folded = [0u8; 4];
    for (i, b) in uid.as_bytes().iter().enumerate() {
        folded[i % 4] ^= b;
    }
    i32::from_be_bytes(folded)
}

/// A row about to be appended; `noise` is its aggregation key and last occurrence.
struct NewRow<'a> {
    link: &'a LinkRecord,
    event: AccessEvent,
    outcome: Outcome,
    detail: Option<String>,
    actor: &'a Actor,
    at: UnixMillis,
    count: u64,
    noise: Option<(String, UnixMillis)>,
}

/// Appends a row under the next id (the identity column: one sequence for every link, as the
/// embedded store's `next_log_id`).
async fn insert(txn: &Transaction<'_>, row: &NewRow<'_>) -> Result<(), StoreError> {
    let link_id = i64::try_from(row.link.link_id)
        .map_err(|_| StoreError::Corrupt(format!("link id {} out of range", row.link.link_id)))?;
    let (key, last) = match &row.noise {
        Some((key, last)) => (Some(key.as_str()), Some(last.as_i64())),
        None => (None, None),
    };
    txn.execute(
        "INSERT INTO access_log (link_uid, link_id, tenant_id, event, outcome, detail, \
         actor_ip, actor_user_agent, actor_user_id, at, count, last_at, noise_key) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
        &[
            &row.link.uid.as_uuid(),
            &link_id,
            &row.link.tenant_id.as_uuid(),
            &row.event.as_str(),
            &row.outcome.as_str(),
            &row.detail,
            &row.actor.ip,
            &row.actor.user_agent,
            &row.actor.user_id.map(UserId::as_uuid),
            &row.at.as_i64(),
            &bigint(row.count),
            &last,
            &key,
        ],
    )
    .await
    .map_err(pg)?;
    Ok(())
}

/// Drops the least recently seen noise rows past the per-link cap (ties: the older id goes).
async fn evict_noise(txn: &Transaction<'_>, uid: Uuid) -> Result<(), StoreError> {
    let keep = i64::try_from(NOISE_ROWS_PER_LINK).unwrap_or(i64::MAX);
    txn.execute(
        "DELETE FROM access_log WHERE link_uid = $1 AND id IN ( \
             SELECT id FROM access_log WHERE link_uid = $1 AND noise_key IS NOT NULL \
             ORDER BY last_at DESC, id DESC OFFSET $2)",
        &[&uid, &keep],
    )
    .await
    .map_err(pg)?;
    Ok(())
}

/// Marks a purged link's log so it is deleted once the retention window has passed.
pub async fn tombstone_log(
    txn: &Transaction<'_>,
    link: &LinkRecord,
    at: UnixMillis,
) -> Result<(), StoreError> {
    let actor = Actor::default();
    log(
        txn,
        link,
        AccessEvent::Purged,
        Outcome::Info,
        None,
        &actor,
        at,
    )
    .await?;
    txn.execute(
        "INSERT INTO log_tombstones (link_uid, tenant_id, purged_at) VALUES ($1, $2, $3) \
         ON CONFLICT (link_uid) DO NOTHING",
        &[&link.uid.as_uuid(), &link.tenant_id.as_uuid(), &at.as_i64()],
    )
    .await
    .map_err(pg)?;
    Ok(())
}

/// Deletes the logs of up to 100 links purged before `purged_before` (oldest first); rows
/// another instance is deleting right now are left to it.
pub async fn forget_old_logs(
    txn: &Transaction<'_>,
    purged_before: UnixMillis,
) -> Result<(), StoreError> {
    txn.execute(
        "WITH due AS ( \
             SELECT link_uid FROM log_tombstones WHERE purged_at < $1 \
             ORDER BY purged_at, link_uid LIMIT 100 FOR UPDATE SKIP LOCKED), \
         gone AS ( \
             DELETE FROM log_tombstones t USING due WHERE t.link_uid = due.link_uid \
             RETURNING t.link_uid) \
         DELETE FROM access_log a USING gone WHERE a.link_uid = gone.link_uid",
        &[&purged_before.as_i64()],
    )
    .await
    .map_err(pg)?;
    Ok(())
}
