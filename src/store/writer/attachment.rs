//! Attachment records in the embedded file. The files are written by
//! [`crate::store::attachments`] before [`PutAttachment`] is sent. Keeps the invariant of
//! `attachments_by_idle`: exactly one entry per attachment, at its `idle_since`, or at
//! [`HELD`] once the purge found a share holding it; the purge's removal of its last share
//! sets `released_at` and puts it back at that moment.

use uuid::Uuid;

use super::super::StoreError;
use super::super::codec::{decode, encode};
use super::job::Apply;
use super::tables::Tables;
use crate::domain::attachment::AttachmentRecord;
use crate::store::commands::{
    DeleteAttachment, PutAttachment, PutAttachmentChunk, SweepAttachmentChunks,
};

/// The `attachments_by_idle` time of an attachment a share was found holding: never due.
pub const HELD: i64 = i64::MAX;

impl Apply for PutAttachment {
    fn apply(&self, t: &mut Tables<'_>) -> Result<(), StoreError> {
        let r = &self.record;
        let key = (r.tenant_id.as_u128(), r.id.as_u128());
        t.attachments.insert(key, encode(&**r)?.as_slice())?;
        t.attachments_by_idle
            .insert((r.idle_since().as_i64(), key.0, key.1), ())?;
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
        let record: AttachmentRecord = match t.attachments.remove(key)? {
            Some(g) => decode(g.value())?,
            None => return Ok(None),
        };
        t.unindex_attachment(&record)?;
        Ok(Some(record))
    }
}

/// The embedded store sweeps files, not rows ([`crate::store::Store::sweep_attachments`]).
impl Apply for SweepAttachmentChunks {
    fn apply(&self, _: &mut Tables<'_>) -> Result<u64, StoreError> {
        Ok(0)
    }
}

/// The share family's resource type as `links_by_resource` keys it.
fn share_key() -> String {
    crate::domain::share::SHARED_DOCUMENT.to_lowercase()
}

impl Tables<'_> {
    /// Whether a link of the share family points at attachment `id` of `tenant`.
    fn is_shared(&self, tenant: u128, id: u128) -> Result<bool, StoreError> {
        let rt = share_key();
        let (from, to) = (
            (tenant, rt.as_str(), id, 0),
            (tenant, rt.as_str(), id, u64::MAX),
        );
        Ok(self.by_resource.range(from..=to)?.next().is_some())
    }

    /// Removes the attachment's `attachments_by_idle` entry, wherever it is.
    fn unindex_attachment(&mut self, r: &AttachmentRecord) -> Result<(), StoreError> {
        let (tenant, id) = (r.tenant_id.as_u128(), r.id.as_u128());
        self.attachments_by_idle
            .remove((r.idle_since().as_i64(), tenant, id))?;
        self.attachments_by_idle.remove((HELD, tenant, id))?;
        Ok(())
    }

    /// After a link's removal: when it was a share and no other share points at its
    /// attachment, the attachment is released at `now` (`released_at`, and indexed as idle
    /// since then). Nothing happens for a customer link or a missing attachment.
    pub(super) fn release_attachment(
        &mut self,
        link: &crate::domain::link::LinkRecord,
        now: crate::domain::UnixMillis,
    ) -> Result<(), StoreError> {
        use crate::domain::share::Family;
        if Family::of(link) != Family::DocumentShare {
            return Ok(());
        }
        let key = (link.tenant_id.as_u128(), link.resource_uid.as_u128());
        if self.is_shared(key.0, key.1)? {
            return Ok(());
        }
        let Some(mut record) = self.attachment(key)? else {
            return Ok(());
        };
        self.unindex_attachment(&record)?;
        record.released_at = Some(now);
        self.attachments.insert(key, encode(&record)?.as_slice())?;
        self.attachments_by_idle
            .insert((record.idle_since().as_i64(), key.0, key.1), ())?;
        Ok(())
    }

    fn attachment(&self, key: (u128, u128)) -> Result<Option<AttachmentRecord>, StoreError> {
        match self.attachments.get(key)? {
            Some(g) => Ok(Some(decode(g.value())?)),
            None => Ok(None),
        }
    }

    /// Removes the records of up to `limit` attachments idle since before `before` that no
    /// share points at (their files are the caller's to remove after the commit); those a
    /// share holds move to [`HELD`]. Answers the removed ids and whether more are due.
    pub(super) fn purge_idle_attachments(
        &mut self,
        before: crate::domain::UnixMillis,
        limit: usize,
    ) -> Result<(Vec<Uuid>, bool), StoreError> {
        let mut due = Vec::new();
        for entry in self.attachments_by_idle.range(..(before.as_i64(), 0, 0))? {
            due.push(entry?.0.value());
            if due.len() > limit {
                break;
            }
        }
        let more = due.len() > limit;
        due.truncate(limit);
        let mut removed = Vec::new();
        for (at, tenant, id) in due {
            self.attachments_by_idle.remove((at, tenant, id))?;
            if self.is_shared(tenant, id)? {
                self.attachments_by_idle.insert((HELD, tenant, id), ())?;
            } else {
                self.attachments.remove((tenant, id))?;
                removed.push(Uuid::from_u128(id));
            }
        }
        Ok((removed, more))
    }
}
