//! Attachments on PostgreSQL: chunks are inserted as the upload streams in (each its own
//! transaction, no record yet); `PutAttachment` inserts the record only if every chunk is there,
//! `DeleteAttachment` removes the record and its chunks in one transaction.

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
