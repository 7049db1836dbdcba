//! Link lifecycle on PostgreSQL: create (the link id from the `link_ids` sequence), resend
//! (the token replaced in the same UPDATE that keeps the row, so the old URL dies with this
//! commit), revoke and the purge. Semantics: `store::writer::link` and `writer::outbox`
//! (`resend`). Every command that decides on a link takes its row `FOR UPDATE` first; the
//! purge takes its victims `FOR UPDATE SKIP LOCKED`, so instances purging at once share the
//! work instead of waiting on each other.

use tokio_postgres::Transaction;

use super::super::access_log::{
    self as access_log, forget_old_logs, log_staff, noise_lock_key, tombstone_log,
};
use super::super::outbox::{
    delete_deliveries, forget_old_send_counts, queue_deliveries, supersede_queued,
};
use super::super::rows::{
    LINK_ASSIGNMENTS, LINK_COLUMNS, LINK_VALUES, LinkRow, get, link_from_row, unsigned,
};
use super::super::{PgApply, fault};
use super::attachment::{purge_idle_attachments, release_attachment};
use super::idempotency::forget_old_idempotency;
use super::portal::forget_expired_grants;
use crate::domain::delivery::channels_of;
use crate::domain::link::LinkRecord;
use crate::domain::portal::{AccessEvent, Outcome};
use crate::domain::{LinkUid, TenantId, TokenHash, UnixMillis, UserId, resend};
use crate::store::StoreError;
use crate::store::commands::{
    CreateLink, CreateShare, LinkQueued, PurgeReport, PurgeRetired, Resend, ResendOutcome,
    RevokeLink, RevokeLinks,
};

impl PgApply for CreateLink {
    /// Inserts the link first (its deliveries reference it), then queues the deliveries
    /// and records the channels they went out on.
    async fn apply_pg(&self, txn: &Transaction<'_>) -> Result<LinkQueued, StoreError> {
        let mut link = (*self.link).clone();
        link.link_id = next_link_id(txn).await?;
        insert_link(txn, &link).await?;
        let (queued, refused) =
            queue_deliveries(txn, &link, &self.deliveries, &self.limits, link.created_at).await?;
        if !queued.is_empty() {
            link.sent_over(&queued);
            store_link(txn, &link).await?;
        }
        let (by, at) = (link.created_by_user_id, link.created_at);
        log_staff(txn, &link, AccessEvent::Created, None, by, at).await?;
        Ok(LinkQueued {
            link: Box::new(link),
            queued,
            refused,
        })
    }
}

impl PgApply for CreateShare {
    async fn apply_pg(&self, txn: &Transaction<'_>) -> Result<Option<LinkQueued>, StoreError> {
        let link = &self.0.link;
        let held = txn
            .query_opt(
                "SELECT 1 FROM attachments WHERE tenant_id = $1 AND attachment_id = $2 FOR SHARE",
                &[&link.tenant_id.as_uuid(), &link.resource_uid],
            )
            .await
            .map_err(fault::pg)?;
        match held {
            Some(_) => self.0.apply_pg(txn).await.map(Some),
            None => Ok(None),
        }
    }
}

impl PgApply for Resend {
    /// Locks the link, applies `domain::resend`, supersedes its queued deliveries and
    /// replaces the token, all in one transaction.
    async fn apply_pg(&self, txn: &Transaction<'_>) -> Result<ResendOutcome, StoreError> {
        let Some(mut link) = tenant_link_for_update(txn, self.tenant_id, self.uid).await? else {
            return Ok(ResendOutcome::NotFound);
        };
        let renewed = match &self.reissue {
            None => resend::resend(&mut link, self.at, self.rules),
            Some(r) => resend::reissue(&mut link, self.at, self.rules, r.expires_at),
        };
        if let Err(refusal) = renewed {
            return Ok(ResendOutcome::Refused(refusal));
        }
        supersede_queued(txn, self.uid).await?;
        link.token_hash = self.token_hash;
        let (queued, refused) =
            queue_deliveries(txn, &link, &self.deliveries, &self.limits, self.at).await?;
        link.sent_over(&queued);
        store_link(txn, &link).await?;
        let mut detail = format!("new token; {} queued", channels_of(&queued));
        if let Some(r) = &self.reissue {
            let (event, asked) = (AccessEvent::ReissueRequested, Some("auto".to_owned()));
            access_log::log(txn, &link, event, Outcome::Info, asked, &r.actor, self.at).await?;
            detail = format!("re-issued on request: new expiry; {detail}");
        }
        log_staff(
            txn,
            &link,
            AccessEvent::Resent,
            Some(detail),
            self.by,
            self.at,
        )
        .await?;
        Ok(ResendOutcome::Resent(LinkQueued {
            link: Box::new(link),
            queued,
            refused,
        }))
    }
}

impl PgApply for RevokeLink {
    /// Locks the link; revokes it once (a second revoke answers it unchanged).
    async fn apply_pg(&self, txn: &Transaction<'_>) -> Result<Option<Box<LinkRecord>>, StoreError> {
        let Some(mut link) = tenant_link_for_update(txn, self.tenant_id, self.uid).await? else {
            return Ok(None);
        };
        revoke(txn, &mut link, self.by, self.at, None).await?;
        Ok(Some(Box::new(link)))
    }
}

impl PgApply for RevokeLinks {
    /// Locks and revokes each link in turn, in the order of their log locks
    /// ([`log_lock_order`]): two batches, or a batch and a landing-log flush, running at once
    /// take their locks in one order.
    async fn apply_pg(&self, txn: &Transaction<'_>) -> Result<Vec<LinkUid>, StoreError> {
        let mut uids = self.uids.clone();
        uids.sort_by_key(|uid| log_lock_order(*uid));
        let mut revoked = Vec::with_capacity(uids.len());
        for uid in &uids {
            let Some(mut link) = tenant_link_for_update(txn, self.tenant_id, *uid).await? else {
                continue;
            };
            if revoke(txn, &mut link, self.by, self.at, self.reason.clone()).await? {
                revoked.push(*uid);
            }
        }
        Ok(revoked)
    }
}

/// The order in which a command that logs several links takes their log locks (the advisory
/// lock every log write takes; `access_log`): the lock's key, then the uid.
fn log_lock_order(uid: LinkUid) -> (i32, u128) {
    (noise_lock_key(uid.as_uuid()), uid.as_u128())
}

/// Revokes a locked `link` unless it already is (then `false`), with its log row.
async fn revoke(
    txn: &Transaction<'_>,
    link: &mut LinkRecord,
    by: UserId,
    at: UnixMillis,
    reason: Option<String>,
) -> Result<bool, StoreError> {
    if link.revoked_at.is_some() {
        return Ok(false);
    }
    link.revoked_at = Some(at);
    link.revoked_by_user_id = Some(by);
    store_link(txn, link).await?;
    log_staff(txn, link, AccessEvent::Revoked, reason, by, at).await?;
    Ok(true)
}

impl PgApply for PurgeRetired {
    /// Deletes a bounded batch of retired links no other instance is purging right now,
    /// then the expired side records (send counts, grants, tombstoned logs, idempotency
    /// keys), each in bounded batches too.
    async fn apply_pg(&self, txn: &Transaction<'_>) -> Result<PurgeReport, StoreError> {
        crate::store::postgres::webhooks::queue_expired(txn, self.now, self.limit).await?;
        let (mut victims, more) = retired(txn, self.retired_before, self.limit).await?;
        victims.sort_by_key(|link| log_lock_order(link.uid));
        for link in &victims {
            delete_link(txn, link, self.now).await?;
        }
        let (attachments, more_attachments) =
            purge_idle_attachments(txn, self.attachments_idle_before, self.limit).await?;
        forget_old_send_counts(txn, self.now).await?;
        let more_grants = forget_expired_grants(txn, self.now).await?;
        let more_logs = forget_old_logs(txn, self.retired_before).await?;
        let more_keys = forget_old_idempotency(txn, self.now, self.limit).await?;
        Ok(PurgeReport {
            purged: victims.len(),
            more: more || more_keys || more_attachments || more_logs || more_grants,
            attachments,
        })
    }
}

/// The next link id: a sequence never hands a value out twice, across instances too.
async fn next_link_id(txn: &Transaction<'_>) -> Result<u64, StoreError> {
    let row = txn
        .query_one("SELECT nextval('link_ids')", &[])
        .await
        .map_err(|e| fault::from_pg(&e))?;
    let id: i64 = get(&row, "nextval")?;
    unsigned(id, "link_id")
}

/// Inserts a new link row. Fails (`Io`) on a uid or token hash already stored.
pub(in crate::store::postgres) async fn insert_link(
    txn: &Transaction<'_>,
    link: &LinkRecord,
) -> Result<(), StoreError> {
    let sql = format!("INSERT INTO links ({LINK_COLUMNS}) VALUES ({LINK_VALUES})");
    let row = LinkRow::of(link);
    txn.execute(sql.as_str(), &row.params())
        .await
        .map_err(|e| fault::from_pg(&e))?;
    Ok(())
}

/// Rewrites every column of a stored link (the caller holds its row lock).
pub(in crate::store::postgres) async fn store_link(
    txn: &Transaction<'_>,
    link: &LinkRecord,
) -> Result<(), StoreError> {
    let sql = format!("UPDATE links SET {LINK_ASSIGNMENTS} WHERE uid = $1");
    let row = LinkRow::of(link);
    let updated = txn
        .execute(sql.as_str(), &row.params())
        .await
        .map_err(|e| fault::from_pg(&e))?;
    if updated != 1 {
        return Err(StoreError::Corrupt(format!(
            "link {} vanished under its row lock",
            link.uid.simple()
        )));
    }
    Ok(())
}

/// The link `uid`, locked until the transaction ends; `None` if there is none.
pub(in crate::store::postgres) async fn link_for_update(
    txn: &Transaction<'_>,
    uid: LinkUid,
) -> Result<Option<LinkRecord>, StoreError> {
    link_where(txn, "uid = $1 FOR UPDATE", &uid.as_uuid()).await
}

/// The link behind a token hash, locked until the transaction ends.
pub(in crate::store::postgres) async fn link_by_token_for_update(
    txn: &Transaction<'_>,
    token_hash: TokenHash,
) -> Result<Option<LinkRecord>, StoreError> {
    link_where(txn, "token_hash = $1 FOR UPDATE", &token_hash.0.as_slice()).await
}

/// The one link `condition` (on `$1`) selects, in the transaction.
pub(in crate::store::postgres) async fn link_where(
    txn: &Transaction<'_>,
    condition: &str,
    param: &(dyn tokio_postgres::types::ToSql + Sync),
) -> Result<Option<LinkRecord>, StoreError> {
    let sql = format!("SELECT {LINK_COLUMNS} FROM links WHERE {condition}");
    let row = txn
        .query_opt(sql.as_str(), &[param])
        .await
        .map_err(|e| fault::from_pg(&e))?;
    row.as_ref().map(link_from_row).transpose()
}

/// [`link_for_update`] if the link is the tenant's (another tenant's is "no such link").
pub(in crate::store::postgres) async fn tenant_link_for_update(
    txn: &Transaction<'_>,
    tenant_id: TenantId,
    uid: LinkUid,
) -> Result<Option<LinkRecord>, StoreError> {
    Ok(link_for_update(txn, uid)
        .await?
        .filter(|l| l.tenant_id == tenant_id))
}

/// Up to `limit` links retired (expired or revoked) before `retired_before` that no other
/// transaction holds, locked; and whether more remain (one more was found).
async fn retired(
    txn: &Transaction<'_>,
    retired_before: UnixMillis,
    limit: usize,
) -> Result<(Vec<LinkRecord>, bool), StoreError> {
    let sql = format!(
        "SELECT {LINK_COLUMNS} FROM links \
         WHERE expires_at < $1 OR revoked_at < $1 \
         LIMIT $2 FOR UPDATE SKIP LOCKED"
    );
    let fetch = i64::try_from(limit).unwrap_or(i64::MAX - 1) + 1;
    let rows = txn
        .query(sql.as_str(), &[&retired_before.as_i64(), &fetch])
        .await
        .map_err(|e| fault::from_pg(&e))?;
    let mut victims = rows
        .iter()
        .map(link_from_row)
        .collect::<Result<Vec<_>, _>>()?;
    let more = victims.len() > limit;
    victims.truncate(limit);
    Ok((victims, more))
}

/// Removes a link with its deliveries (its grants go by the foreign key) and leaves its
/// access log under a tombstone.
async fn delete_link(
    txn: &Transaction<'_>,
    link: &LinkRecord,
    now: UnixMillis,
) -> Result<(), StoreError> {
    delete_deliveries(txn, link.uid).await?;
    tombstone_log(txn, link, now).await?;
    txn.execute("DELETE FROM links WHERE uid = $1", &[&link.uid.as_uuid()])
        .await
        .map_err(|e| fault::from_pg(&e))?;
    release_attachment(txn, link, now).await
}
