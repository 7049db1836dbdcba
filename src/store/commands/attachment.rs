//! Attachment records. The sealed file is written (and on the embedded store fsynced and
//! renamed into place) before [`PutAttachment`] commits, so a record never names a missing
//! file; [`DeleteAttachment`] removes the record first and the file after.

use uuid::Uuid;

use super::Command;
use crate::domain::TenantId;
use crate::domain::attachment::AttachmentRecord;

/// Stores an attachment's record once its file is durable. On PostgreSQL it also stores
/// the sealed header, and fails with [`crate::store::StoreError::Conflict`] unless every chunk
/// ([`PutAttachmentChunk`]) is there.
#[derive(Debug)]
pub struct PutAttachment {
    pub record: Box<AttachmentRecord>,
    pub header: Vec<u8>,
}

impl Command for PutAttachment {
    type Output = ();
}

/// One sealed chunk of an upload in progress (PostgreSQL only; the embedded store writes
/// chunks to the file). Chunks without a record are removed by the purge.
#[derive(Debug)]
pub struct PutAttachmentChunk {
    pub id: Uuid,
    pub n: i64,
    pub bytes: Vec<u8>,
}

impl Command for PutAttachmentChunk {
    type Output = ();
}

/// Deletes an attachment's record (and on PostgreSQL its chunks); answers the record, `None`
/// when the tenant has none by that id.
#[derive(Debug)]
pub struct DeleteAttachment {
    pub tenant_id: TenantId,
    pub id: Uuid,
}

impl Command for DeleteAttachment {
    type Output = Option<AttachmentRecord>;
}

/// Removes chunks over an hour old that no record names (uploads that died; PostgreSQL
/// only). Answers how many were removed.
#[derive(Debug)]
pub struct SweepAttachmentChunks;

impl Command for SweepAttachmentChunks {
    type Output = u64;
}
