//! The access log on PostgreSQL, as the embedded store keeps it (`store/writer/access_log.rs`):
//! lifecycle rows are appended; noise rows (landing views, passcode sends and failures,
//! denied opens) aggregate per event, outcome and address into one row with a count
//! (`AccessLogEntry::absorb`), and at most `NOISE_ROWS_PER_LINK` of them are kept per link
//! (the least recently seen goes). A purged link's log stays under a tombstone for the
//! retention window.
//!
//! Several instances log events of one link at once, so every log write of a link happens
//! under a transaction-scoped advisory lock on that link: the repeat finds the row, the new
//! row is counted against the cap, and the row follows the head of the link's hash chain
//! (`domain::evidence`), exactly as in one writer. A log-only command takes the lock last (it
//! touches only that link's log rows while holding it) and, logging several links, takes
//! their locks in one order ([`noise_lock_key`]); a staff command logs after locking its link
//! rows, in their order. Should two transactions still wait on each other, PostgreSQL's
//! deadlock detector aborts one, which `fault` reports as retryable.
//!
//! Errors: the driver's, as `fault::from_pg` classifies them, and `Corrupt` for a row the
//! schema should have refused. A failed function leaves its transaction to be rolled back by
//! the command, so nothing of that command is written.

use super::fault::pg;
use tokio_postgres::Transaction;
use uuid::Uuid;

use super::records::{ACCESS_LOG_COLUMNS, access_log_from_row};
use crate::domain::evidence::GENESIS;
use crate::domain::link::LinkRecord;
use crate::domain::portal::{
    AccessEvent, AccessLogEntry, Actor, NOISE_ROWS_PER_LINK, Outcome, Repeats, noise_key,
};
use crate::domain::{UnixMillis, UserId};
use crate::store::StoreError;
use crate::store::commands::LOGS_FORGOTTEN_PER_BATCH;

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
/// address; a lifecycle event is one row (its first occurrence) each time. Every write holds
/// the link's advisory lock, so the chain head read before a new row is still the head when
/// the row commits (see [`chain_head`]).
pub async fn log_repeated(
    txn: &Transaction<'_>,
    link: &LinkRecord,
    event: AccessEvent,
    outcome: Outcome,
    detail: Option<String>,
    actor: &Actor,
    repeats: Repeats,
) -> Result<(), StoreError> {
    let uid = link.uid.as_uuid();
    lock_noise(txn, uid).await?;
    let Some(key) = noise_key(event, outcome, actor) else {
        let row = fresh(link, event, outcome, detail, actor, repeats.first);
        return insert(txn, row, None).await;
    };
    if let Some(mut entry) = noise_row(txn, uid, &key).await? {
        entry.absorb(repeats, detail, actor);
        return update_noise(txn, &entry).await;
    }
    let mut row = fresh(link, event, outcome, detail, actor, repeats.first);
    row.count = repeats.count;
    row.last_at = Some(repeats.last);
    insert(txn, row, Some(&key)).await?;
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

/// A row about to be appended; its id is drawn and its chain sealed by [`insert`].
fn fresh(
    link: &LinkRecord,
    event: AccessEvent,
    outcome: Outcome,
    detail: Option<String>,
    actor: &Actor,
    at: UnixMillis,
) -> AccessLogEntry {
    AccessLogEntry {
        id: 0,
        link_uid: link.uid,
        link_id: link.link_id,
        tenant_id: link.tenant_id,
        event,
        outcome,
        detail,
        actor: actor.clone(),
        at,
        count: 1,
        last_at: None,
        chain: None,
    }
}

/// The head of `uid`'s hash chain: the hash of its last chained lifecycle row, or `GENESIS`.
/// The caller holds the link's advisory lock, which every log write of the link takes before
/// this read and keeps until its transaction ends; commands run at READ COMMITTED, so this
/// statement sees every row the lock's previous holder committed. So two instances cannot
/// both read one head and fork the chain, and ids (drawn under the lock) follow its order.
async fn chain_head(txn: &Transaction<'_>, uid: Uuid) -> Result<[u8; 32], StoreError> {
    let row = txn
        .query_opt(
            "SELECT hash FROM access_log WHERE link_uid = $1 AND noise_key IS NULL \
             AND hash IS NOT NULL ORDER BY id DESC LIMIT 1",
            &[&uid],
        )
        .await
        .map_err(pg)?;
    let Some(row) = row else {
        return Ok(GENESIS);
    };
    let hash: Vec<u8> = row.try_get(0).map_err(pg)?;
    hash.try_into()
        .map_err(|_| StoreError::Corrupt(format!("access log of {uid}: a hash is not 32 bytes")))
}

/// Appends a row under the next id (the identity column's sequence: one for every link, as
/// the embedded store's `next_log_id`), sealed after the link's chain head.
async fn insert(
    txn: &Transaction<'_>,
    mut row: AccessLogEntry,
    noise: Option<&str>,
) -> Result<(), StoreError> {
    let uid = row.link_uid.as_uuid();
    let next = txn
        .query_one(
            "SELECT nextval(pg_get_serial_sequence('access_log', 'id'))",
            &[],
        )
        .await
        .map_err(pg)?;
    row.id = u64::try_from(next.try_get::<_, i64>(0).map_err(pg)?)
        .map_err(|_| StoreError::Corrupt("access log id out of range".into()))?;
    row.seal(chain_head(txn, uid).await?);
    let link_id = i64::try_from(row.link_id)
        .map_err(|_| StoreError::Corrupt(format!("link id {} out of range", row.link_id)))?;
    let chain = row.chain.map(|c| (c.hash.to_vec(), c.prev_hash.to_vec()));
    let (hash, prev) = chain.unzip();
    txn.execute(
        "INSERT INTO access_log (link_uid, id, link_id, tenant_id, event, outcome, detail, \
         actor_ip, actor_user_agent, actor_user_id, at, count, last_at, noise_key, hash, \
         prev_hash) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
        &[
            &uid,
            &bigint(row.id),
            &link_id,
            &row.tenant_id.as_uuid(),
            &row.event.as_str(),
            &row.outcome.as_str(),
            &row.detail,
            &row.actor.ip,
            &row.actor.user_agent,
            &row.actor.user_id.map(UserId::as_uuid),
            &row.at.as_i64(),
            &bigint(row.count),
            &row.last_at.map(UnixMillis::as_i64),
            &noise,
            &hash,
            &prev,
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

/// Deletes the logs of up to [`LOGS_FORGOTTEN_PER_BATCH`] links purged before
/// `purged_before` (oldest first); rows another instance is deleting right now are left to
/// it. Returns whether the batch was full, so the purge round goes on until none is due.
pub async fn forget_old_logs(
    txn: &Transaction<'_>,
    purged_before: UnixMillis,
) -> Result<bool, StoreError> {
    let limit = i64::try_from(LOGS_FORGOTTEN_PER_BATCH).unwrap_or(i64::MAX);
    let row = txn
        .query_one(
            "WITH due AS ( \
                 SELECT link_uid FROM log_tombstones WHERE purged_at < $1 \
                 ORDER BY purged_at, link_uid LIMIT $2 FOR UPDATE SKIP LOCKED), \
             gone AS ( \
                 DELETE FROM log_tombstones t USING due WHERE t.link_uid = due.link_uid \
                 RETURNING t.link_uid), \
             logs AS ( \
                 DELETE FROM access_log a USING gone WHERE a.link_uid = gone.link_uid) \
             SELECT count(*) AS forgotten FROM gone",
            &[&purged_before.as_i64(), &limit],
        )
        .await
        .map_err(pg)?;
    let forgotten: i64 = row.try_get("forgotten").map_err(pg)?;
    Ok(forgotten >= limit)
}
