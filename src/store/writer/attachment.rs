//! Attachment records in the embedded file. The files are written by
//! [`crate::store::attachments`] before [`PutAttachment`] is sent.

use super::super::StoreError;
use super::super::codec::{decode, encode};
use super::job::Apply;
use super::tables::Tables;
use crate::domain::attachment::AttachmentRecord;
use crate::store::commands::{
    DeleteAttachment, PutAttachment, PutAttachmentChunk, SweepAttachmentChunks,
};

impl Apply for PutAttachment {
    fn apply(&self, t: &mut Tables<'_>) -> Result<(), StoreError> {
        let r = &self.record;
        let key = (r.tenant_id.as_u128(), r.id.as_u128());
        t.attachments.insert(key, encode(&**r)?.as_slice())?;
        Ok(())
    }
}

impl Apply for PutAttachmentChunk {
    fn apply(&self, _: &mut Tables<'_>) -> Result<(), StoreError> {
        Err(StoreError::Io(
            "attachment chunks are written to files on the embedded store".into(),
        ))
    }
}

impl Apply for DeleteAttachment {
    fn apply(&self, t: &mut Tables<'_>) -> Result<Option<AttachmentRecord>, StoreError> {
        let key = (self.tenant_id.as_u128(), self.id.as_u128());
        match t.attachments.remove(key)? {
            Some(g) => Ok(Some(decode(g.value())?)),
            None => Ok(None),
        }
    }
}

/// The embedded store sweeps files, not rows ([`crate::store::Store::sweep_attachments`]).
impl Apply for SweepAttachmentChunks {
    fn apply(&self, _: &mut Tables<'_>) -> Result<u64, StoreError> {
        Ok(0)
    }
}
