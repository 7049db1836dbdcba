//! Attachments on PostgreSQL: chunks are inserted as the upload streams in (each its own
//! transaction, no record yet); `PutAttachment` inserts the record only if every chunk is there,
//! `DeleteAttachment` removes the record and its chunks in one transaction. The purge's part
//! (`PurgeRetired`): releasing an attachment when its last share goes, and removing those no
//! share points at once their retention window has passed.

use tokio_postgres::Transaction;

use crate::attachment::seal::chunk_count;
use crate::domain::attachment::AttachmentRecord;
use crate::store::StoreError;
use crate::store::commands::{
    DeleteAttachment, PutAttachment, PutAttachmentChunk, SweepAttachmentChunks,
};
use crate::store::postgres::contract::PgApply;
use crate::store::postgres::from_pg;
use crate::store::postgres::records::attachment_from_row;

impl PgApply for PutAttachmentChunk {
    async fn apply_pg(&self, txn: &Transaction<'_>) -> Result<(), StoreError> {
        txn.execute(
            "INSERT INTO attachment_chunks (attachment_id, n, bytes) VALUES ($1, $2, $3)",
            &[&self.id, &self.n, &self.bytes],
        )
        .await
        .map_err(|e| from_pg(&e))?;
        Ok(())
    }
}

impl PgApply for PutAttachment {
    async fn apply_pg(&self, txn: &Transaction<'_>) -> Result<(), StoreError> {
        let r = &self.record;
        let stored: i64 = txn
            .query_one(
                "SELECT count(*) FROM attachment_chunks WHERE attachment_id = $1",
                &[&r.id],
            )
            .await
            .map_err(|e| from_pg(&e))?
            .try_get(0)
            .map_err(|e| from_pg(&e))?;
        if u64::try_from(stored).ok() != Some(chunk_count(r.size)) {
            return Err(StoreError::Conflict);
        }
        let size = i64::try_from(r.size).map_err(|_| StoreError::Conflict)?;
        txn.execute(
            "INSERT INTO attachments (tenant_id, attachment_id, name, content_type, \
             download_only, size, sha256, header, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            &[
                &r.tenant_id.as_uuid(),
                &r.id,
                &r.name,
                &r.content_type,
                &r.download_only,
                &size,
                &&r.sha256[..],
                &self.header,
                &r.created_at.as_i64(),
            ],
        )
        .await
        .map_err(|e| from_pg(&e))?;
        Ok(())
    }
}

impl PgApply for DeleteAttachment {
    async fn apply_pg(
        &self,
        txn: &Transaction<'_>,
    ) -> Result<Option<AttachmentRecord>, StoreError> {
        let row = txn
            .query_opt(
                &format!(
                    "DELETE FROM attachments WHERE tenant_id = $1 AND attachment_id = $2 \
                     RETURNING {}",
                    crate::store::postgres::records::ATTACHMENT_COLUMNS
                ),
                &[&self.tenant_id.as_uuid(), &self.id],
            )
            .await
            .map_err(|e| from_pg(&e))?;
        let Some(row) = row else {
            return Ok(None);
        };
        txn.execute(
            "DELETE FROM attachment_chunks WHERE attachment_id = $1",
            &[&self.id],
        )
        .await
        .map_err(|e| from_pg(&e))?;
        attachment_from_row(&row).map(Some)
    }
}

impl PgApply for SweepAttachmentChunks {
    async fn apply_pg(&self, txn: &Transaction<'_>) -> Result<u64, StoreError> {
        txn.execute(
            "DELETE FROM attachment_chunks c WHERE c.written_at < now() - interval '1 hour' \
             AND NOT EXISTS (SELECT 1 FROM attachments a WHERE a.attachment_id = c.attachment_id)",
            &[],
        )
        .await
        .map_err(|e| from_pg(&e))
    }
}

/// The share family's resource type as the `resource_key` column holds it.
fn share_key() -> String {
    crate::domain::share::SHARED_DOCUMENT.to_lowercase()
}

/// After a link's removal in the purge: when it was a share and no other share points at its
/// attachment, sets the attachment's `released_at` to `now`. Nothing for a customer link.
pub(in crate::store::postgres) async fn release_attachment(
    txn: &Transaction<'_>,
    link: &crate::domain::link::LinkRecord,
    now: crate::domain::UnixMillis,
) -> Result<(), StoreError> {
    use crate::domain::share::Family;
    if Family::of(link) != Family::DocumentShare {
        return Ok(());
    }
    txn.execute(
        "UPDATE attachments SET released_at = $3 WHERE tenant_id = $1 AND attachment_id = $2 \
         AND NOT EXISTS (SELECT 1 FROM links l WHERE l.tenant_id = $1 AND l.resource_key = $4 \
         AND l.resource_uid = $2)",
        &[
            &link.tenant_id.as_uuid(),
            &link.resource_uid,
            &now.as_i64(),
            &share_key(),
        ],
    )
    .await
    .map_err(|e| from_pg(&e))?;
    Ok(())
}

/// `attachments a` idle since before `$1` with no link of the share family (`$2`) on it.
const IDLE_UNSHARED: &str = "greatest(a.created_at, coalesce(a.released_at, 0)) < $1 \
    AND NOT EXISTS (SELECT 1 FROM links l WHERE l.tenant_id = a.tenant_id \
    AND l.resource_key = $2 AND l.resource_uid = a.attachment_id)";

/// Removes up to `limit` attachments (record and chunks) idle since before `before` that no
/// share points at, skipping rows another instance holds. Answers the removed ids and
/// whether a full batch was removed (more may be due).
pub(in crate::store::postgres) async fn purge_idle_attachments(
    txn: &Transaction<'_>,
    before: crate::domain::UnixMillis,
    limit: usize,
) -> Result<(Vec<uuid::Uuid>, bool), StoreError> {
    let rows = txn
        .query(
            &format!(
                "WITH due AS (SELECT tenant_id, attachment_id FROM attachments a \
             WHERE {IDLE_UNSHARED} ORDER BY greatest(a.created_at, coalesce(a.released_at, 0)) LIMIT $3 \
             FOR UPDATE SKIP LOCKED), \
             gone AS (DELETE FROM attachments a USING due WHERE a.tenant_id = due.tenant_id \
             AND a.attachment_id = due.attachment_id RETURNING a.attachment_id), \
             chunks AS (DELETE FROM attachment_chunks c USING gone \
             WHERE c.attachment_id = gone.attachment_id) \
             SELECT attachment_id FROM gone"
            ),
            &[&before.as_i64(), &share_key(), &(limit as i64)],
        )
        .await
        .map_err(|e| from_pg(&e))?;
    let removed = rows
        .iter()
        .map(|row| row.try_get::<_, uuid::Uuid>(0).map_err(|e| from_pg(&e)))
        .collect::<Result<Vec<_>, _>>()?;
    let more = removed.len() >= limit && any_idle(txn, before).await?;
    Ok((removed, more))
}

/// Whether an attachment no share points at is idle since before `before`.
async fn any_idle(
    txn: &Transaction<'_>,
    before: crate::domain::UnixMillis,
) -> Result<bool, StoreError> {
    let row = txn
        .query_one(
            &format!("SELECT EXISTS (SELECT 1 FROM attachments a WHERE {IDLE_UNSHARED})"),
            &[&before.as_i64(), &share_key()],
        )
        .await
        .map_err(|e| from_pg(&e))?;
    row.try_get(0).map_err(|e| from_pg(&e))
}
