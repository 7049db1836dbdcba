//! The tenant, key, link, contact and purge commands on the write transaction's tables.

use uuid::Uuid;

use super::super::StoreError;
use super::super::codec::{decode, encode};
use super::super::commands::{
    ContactWritten, CreateApiKey, CreateLink, CreateShare, CreateTenant, DeleteContact, FirstStart,
    LinkQueued, PurgeReport, PurgeRetired, PutContact, RevokeApiKey, RevokeLink, RevokeLinks,
};
use super::job::Apply;
use super::tables::Tables;
use crate::domain::UnixMillis;
use crate::domain::link::LinkRecord;
use crate::domain::portal::AccessEvent;
use crate::domain::tenant::ApiKeyRecord;

impl Apply for CreateTenant {
    fn apply(&self, t: &mut Tables<'_>) -> Result<(), StoreError> {
        let tenant = &self.0;
        t.tenants
            .insert(tenant.tenant_id.as_u128(), encode(tenant)?.as_slice())?;
        Ok(())
    }
}

impl Apply for CreateApiKey {
    fn apply(&self, t: &mut Tables<'_>) -> Result<(), StoreError> {
        let bytes = encode(&self.record)?;
        t.api_keys.insert(self.hash.0, bytes.as_slice())?;
        t.api_key_ids
            .insert(self.record.key_id.as_u128(), self.hash.0)?;
        Ok(())
    }
}

impl Apply for FirstStart {
    fn apply(&self, t: &mut Tables<'_>) -> Result<bool, StoreError> {
        if t.tenants.len()? > 0 {
            return Ok(false);
        }
        self.tenant.apply(t)?;
        self.key.apply(t)?;
        Ok(true)
    }
}

impl Apply for RevokeApiKey {
    fn apply(&self, t: &mut Tables<'_>) -> Result<bool, StoreError> {
        let key_id = self.key_id;
        let Some(hash) = t.api_key_ids.get(key_id.as_u128())?.map(|g| g.value()) else {
            return Ok(false);
        };
        let Some(bytes) = t.api_keys.get(hash)?.map(|g| g.value().to_vec()) else {
            return Err(StoreError::Corrupt(format!(
                "api key {key_id} has no record"
            )));
        };
        let mut record: ApiKeyRecord = decode(&bytes)?;
        if record.revoked_at.is_none() {
            record.revoked_at = Some(self.at);
            t.api_keys.insert(hash, encode(&record)?.as_slice())?;
        }
        Ok(true)
    }
}

impl Apply for CreateLink {
    fn apply(&self, t: &mut Tables<'_>) -> Result<Self::Output, StoreError> {
        t.create_link((*self.link).clone(), &self.deliveries, self.limits)
    }
}

impl Apply for CreateShare {
    fn apply(&self, t: &mut Tables<'_>) -> Result<Self::Output, StoreError> {
        let link = &self.0.link;
        let key = (link.tenant_id.as_u128(), link.resource_uid.as_u128());
        if t.attachments.get(key)?.is_none() {
            return Ok(None);
        }
        self.0.apply(t).map(Some)
    }
}

impl Apply for RevokeLink {
    fn apply(&self, t: &mut Tables<'_>) -> Result<Self::Output, StoreError> {
        let uid = self.uid.as_u128();
        let Some(mut link) = t
            .load_link_record(uid)?
            .filter(|l| l.tenant_id == self.tenant_id)
        else {
            return Ok(None);
        };
        t.revoke(&mut link, self.by, self.at, None)?;
        Ok(Some(Box::new(link)))
    }
}

impl Apply for RevokeLinks {
    fn apply(&self, t: &mut Tables<'_>) -> Result<Self::Output, StoreError> {
        let mut revoked = Vec::with_capacity(self.uids.len());
        for uid in &self.uids {
            let found = t.load_link_record(uid.as_u128())?;
            let Some(mut link) = found.filter(|l| l.tenant_id == self.tenant_id) else {
                continue;
            };
            if t.revoke(&mut link, self.by, self.at, self.reason.clone())? {
                revoked.push(*uid);
            }
        }
        Ok(revoked)
    }
}

impl Tables<'_> {
    /// Revokes `link` unless it already is (then `false`), with its index entry and log row.
    fn revoke(
        &mut self,
        link: &mut LinkRecord,
        by: crate::domain::UserId,
        at: UnixMillis,
        reason: Option<String>,
    ) -> Result<bool, StoreError> {
        if link.revoked_at.is_some() {
            return Ok(false);
        }
        link.revoked_at = Some(at);
        link.revoked_by_user_id = Some(by);
        self.store_link(link)?;
        self.by_revoked
            .insert((at.as_i64(), link.uid.as_u128()), ())?;
        self.log_staff(link, AccessEvent::Revoked, reason, by, at)?;
        Ok(true)
    }
}

impl Apply for PutContact {
    fn apply(&self, t: &mut Tables<'_>) -> Result<ContactWritten, StoreError> {
        let mut contact = (*self.0).clone();
        let key = (contact.tenant_id.as_u128(), contact.contact_id.get());
        let existing: Option<crate::domain::contact::Contact> = match t.contacts.get(key)? {
            Some(g) => Some(decode(g.value())?),
            None => None,
        };
        if contact.contact_guid.is_nil() {
            contact.contact_guid = existing
                .as_ref()
                .map_or_else(Uuid::new_v4, |e| e.contact_guid);
        }
        t.contacts.insert(key, encode(&contact)?.as_slice())?;
        Ok(ContactWritten {
            contact: Box::new(contact),
            created: existing.is_none(),
        })
    }
}

impl Apply for DeleteContact {
    fn apply(&self, t: &mut Tables<'_>) -> Result<bool, StoreError> {
        let key = (self.tenant_id.as_u128(), self.contact_id.get());
        Ok(t.contacts.remove(key)?.is_some())
    }
}

impl Apply for PurgeRetired {
    fn apply(&self, t: &mut Tables<'_>) -> Result<PurgeReport, StoreError> {
        t.queue_expired(self.now, self.limit)?;
        let (victims, more) = t.retired(self.retired_before, self.limit)?;
        for uid in &victims {
            t.delete_link(*uid, self.now)?;
        }
        let (attachments, more_attachments) =
            t.purge_idle_attachments(self.attachments_idle_before, self.limit)?;
        t.forget_old_send_counts(self.now)?;
        let more_grants = t.forget_expired_grants(self.now)?;
        let more_logs = t.forget_old_logs(self.retired_before)?;
        let more_keys = t.forget_old_idempotency(self.now, self.limit)?;
        Ok(PurgeReport {
            purged: victims.len(),
            more: more || more_keys || more_attachments || more_logs || more_grants,
            attachments,
        })
    }
}

impl Tables<'_> {
    /// Invariant: a stored link has exactly one entry in `by_token`, `by_tenant`,
    /// `by_resource` and `by_expiry`, and one in `by_revoked` iff it is revoked.
    pub(super) fn create_link(
        &mut self,
        mut link: LinkRecord,
        deliveries: &[crate::domain::delivery::NewDelivery],
        limits: super::super::commands::SendLimits,
    ) -> Result<LinkQueued, StoreError> {
        link.link_id = self.next_id("next_link_id")?;
        let (queued, refused) =
            self.queue_deliveries(&link, deliveries, limits, link.created_at)?;
        link.sent_over(&queued);
        let uid = link.uid.as_u128();
        let tenant = link.tenant_id.as_u128();
        self.store_link(&link)?;
        self.by_token.insert(link.token_hash.0, uid)?;
        self.by_tenant.insert((tenant, link.link_id), uid)?;
        let resource_type = link.resource_type.to_lowercase();
        let resource = (tenant, resource_type.as_str(), link.resource_uid.as_u128());
        self.by_resource
            .insert((resource.0, resource.1, resource.2, link.link_id), uid)?;
        self.by_expiry.insert((link.expires_at.as_i64(), uid), ())?;
        let (by, at) = (link.created_by_user_id, link.created_at);
        self.log_staff(&link, AccessEvent::Created, None, by, at)?;
        Ok(LinkQueued {
            link: Box::new(link),
            queued,
            refused,
        })
    }

    /// Up to `limit` links retired before `retired_before`, and whether more remain.
    fn retired(
        &self,
        retired_before: UnixMillis,
        limit: usize,
    ) -> Result<(Vec<u128>, bool), StoreError> {
        let mut victims: Vec<u128> = Vec::new();
        for index in [&self.by_expiry, &self.by_revoked] {
            for entry in index.range(..(retired_before.as_i64(), 0u128))? {
                if victims.len() > limit {
                    break;
                }
                let uid = entry?.0.value().1;
                if !victims.contains(&uid) {
                    victims.push(uid);
                }
            }
        }
        let more = victims.len() > limit;
        victims.truncate(limit);
        Ok((victims, more))
    }

    /// Removes a link and every index entry that names it.
    fn delete_link(&mut self, uid: u128, now: UnixMillis) -> Result<(), StoreError> {
        let Some(link) = self.load_link_record(uid)? else {
            tracing::warn!(uid = %format!("{uid:032x}"), "purge: an index names a missing link; run `customerlink check`");
            return Ok(());
        };
        let tenant = link.tenant_id.as_u128();
        self.delete_deliveries(uid)?;
        self.tombstone_log(&link, now)?;
        self.links.remove(uid)?;
        self.by_token.remove(link.token_hash.0)?;
        self.by_tenant.remove((tenant, link.link_id))?;
        let resource_type = link.resource_type.to_lowercase();
        self.by_resource.remove((
            tenant,
            resource_type.as_str(),
            link.resource_uid.as_u128(),
            link.link_id,
        ))?;
        self.by_expiry.remove((link.expires_at.as_i64(), uid))?;
        if let Some(at) = link.revoked_at {
            self.by_revoked.remove((at.as_i64(), uid))?;
        }
        self.release_attachment(&link, now)
    }
}
