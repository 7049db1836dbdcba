//! The tables of one write transaction and the link, key and contact commands on them.

use redb::{ReadableTable, Table, WriteTransaction};
use uuid::Uuid;

use super::super::StoreError;
use super::super::codec::{decode, encode};
use super::super::tables::*;
use super::ops::{PurgeReport, SendLimits, WriteOp, WriteOutcome};
use super::outbox::channel_list;
use crate::domain::contact::Contact;
use crate::domain::delivery::NewDelivery;
use crate::domain::link::LinkRecord;
use crate::domain::portal::{AccessEvent, Actor};
use crate::domain::tenant::ApiKeyRecord;

/// All tables open in one write transaction.
pub(super) struct Tables<'t> {
    pub(super) meta: Table<'t, &'static str, u64>,
    pub(super) tenants: Table<'t, u128, &'static [u8]>,
    pub(super) api_keys: Table<'t, [u8; 32], &'static [u8]>,
    pub(super) api_key_ids: Table<'t, u128, [u8; 32]>,
    pub(super) links: Table<'t, u128, &'static [u8]>,
    pub(super) by_token: Table<'t, [u8; 32], u128>,
    pub(super) by_tenant: Table<'t, (u128, u64), u128>,
    pub(super) by_resource: Table<'t, (u128, &'static str, u128, u64), u128>,
    pub(super) by_expiry: Table<'t, (i64, u128), ()>,
    pub(super) by_revoked: Table<'t, (i64, u128), ()>,
    pub(super) contacts: Table<'t, (u128, i32), &'static [u8]>,
    pub(super) outbox: Table<'t, u64, &'static [u8]>,
    pub(super) outbox_due: Table<'t, (i64, u64), ()>,
    pub(super) deliveries_by_link: Table<'t, (u128, u64), ()>,
    pub(super) send_counts: Table<'t, (&'static str, i64), u32>,
    pub(super) grants: Table<'t, [u8; 32], &'static [u8]>,
    pub(super) grants_by_expiry: Table<'t, (i64, [u8; 32]), ()>,
    pub(super) access_log: Table<'t, (u128, u64), &'static [u8]>,
    pub(super) access_log_noise: Table<'t, (u128, &'static str), (u64, i64)>,
    pub(super) log_tombstones: Table<'t, (i64, u128), u128>,
    pub(super) idempotency: Table<'t, (u128, [u8; 32]), &'static [u8]>,
    pub(super) idempotency_by_time: Table<'t, (i64, u128, [u8; 32]), ()>,
}

impl<'t> Tables<'t> {
    pub(super) fn open(txn: &'t WriteTransaction) -> Result<Self, StoreError> {
        Ok(Self {
            meta: txn.open_table(META)?,
            tenants: txn.open_table(TENANTS)?,
            api_keys: txn.open_table(API_KEYS)?,
            api_key_ids: txn.open_table(API_KEY_IDS)?,
            links: txn.open_table(LINKS)?,
            by_token: txn.open_table(LINKS_BY_TOKEN)?,
            by_tenant: txn.open_table(LINKS_BY_TENANT)?,
            by_resource: txn.open_table(LINKS_BY_RESOURCE)?,
            by_expiry: txn.open_table(LINKS_BY_EXPIRY)?,
            by_revoked: txn.open_table(LINKS_BY_REVOKED)?,
            contacts: txn.open_table(CONTACTS)?,
            outbox: txn.open_table(OUTBOX)?,
            outbox_due: txn.open_table(OUTBOX_DUE)?,
            deliveries_by_link: txn.open_table(DELIVERIES_BY_LINK)?,
            send_counts: txn.open_table(SEND_COUNTS)?,
            grants: txn.open_table(GRANTS)?,
            grants_by_expiry: txn.open_table(GRANTS_BY_EXPIRY)?,
            access_log: txn.open_table(ACCESS_LOG)?,
            access_log_noise: txn.open_table(ACCESS_LOG_NOISE)?,
            log_tombstones: txn.open_table(LOG_TOMBSTONES)?,
            idempotency: txn.open_table(IDEMPOTENCY)?,
            idempotency_by_time: txn.open_table(IDEMPOTENCY_BY_TIME)?,
        })
    }

    pub(super) fn apply(&mut self, op: WriteOp) -> Result<WriteOutcome, StoreError> {
        match op {
            WriteOp::CreateTenant(t) => {
                self.tenants
                    .insert(t.tenant_id.as_u128(), encode(&t)?.as_slice())?;
                Ok(WriteOutcome::Done)
            }
            WriteOp::CreateApiKey { hash, record } => {
                let bytes = encode(&record)?;
                self.api_keys.insert(hash.0, bytes.as_slice())?;
                self.api_key_ids.insert(record.key_id.as_u128(), hash.0)?;
                Ok(WriteOutcome::Done)
            }
            WriteOp::RevokeApiKey { key_id, at } => self.revoke_key(key_id, at),
            WriteOp::CreateLink {
                link,
                deliveries,
                limits,
                idempotency,
            } => self.idempotent(idempotency, |t| t.create_link(*link, deliveries, limits)),
            WriteOp::RecordAttempt {
                delivery_id,
                at,
                outcome,
                retry,
            } => self.record_attempt(delivery_id, at, outcome, retry),
            WriteOp::LeaseDue {
                now,
                lease_until,
                limit,
            } => self.lease_due(now, lease_until, limit),
            WriteOp::Portal(op) => self.portal(op),
            WriteOp::Resend {
                tenant_id,
                uid,
                by,
                token_hash,
                at,
                deliveries,
                limits,
                cooldown_ms,
                per_hour,
                idempotency,
            } => self.idempotent(idempotency, |t| {
                t.resend(
                    (tenant_id, uid, by),
                    token_hash,
                    at,
                    deliveries,
                    limits,
                    (cooldown_ms, per_hour),
                )
            }),
            WriteOp::RevokeLink {
                tenant_id,
                uid,
                by,
                at,
            } => self.revoke_link(tenant_id, uid, by, at),
            WriteOp::PutContact(c) => self.put_contact(*c),
            WriteOp::DeleteContact {
                tenant_id,
                contact_id,
            } => {
                let removed = self
                    .contacts
                    .remove((tenant_id.as_u128(), contact_id))?
                    .is_some();
                Ok(if removed {
                    WriteOutcome::Done
                } else {
                    WriteOutcome::NotFound
                })
            }
            WriteOp::Purge {
                retired_before,
                limit,
                now,
            } => self.purge(retired_before, limit, now),
        }
    }

    fn revoke_key(&mut self, key_id: Uuid, at: i64) -> Result<WriteOutcome, StoreError> {
        let Some(hash) = self.api_key_ids.get(key_id.as_u128())?.map(|g| g.value()) else {
            return Ok(WriteOutcome::NotFound);
        };
        let Some(bytes) = self.api_keys.get(hash)?.map(|g| g.value().to_vec()) else {
            return Err(StoreError::Corrupt(format!(
                "api key {key_id} has no record"
            )));
        };
        let mut record: ApiKeyRecord = decode(&bytes)?;
        if record.revoked_at.is_none() {
            record.revoked_at = Some(at);
            self.api_keys.insert(hash, encode(&record)?.as_slice())?;
        }
        Ok(WriteOutcome::Done)
    }

    /// Invariant: a stored link has exactly one entry in `by_token`, `by_tenant`,
    /// `by_resource` and `by_expiry`, and one in `by_revoked` iff it is revoked.
    fn create_link(
        &mut self,
        mut link: LinkRecord,
        deliveries: Vec<NewDelivery>,
        limits: SendLimits,
    ) -> Result<WriteOutcome, StoreError> {
        let next = self
            .meta
            .get("next_link_id")?
            .map(|g| g.value())
            .unwrap_or(1);
        link.link_id = next;
        let (queued, refused) =
            self.queue_deliveries(&link, deliveries, limits, link.created_at)?;
        link.delivery_channels = channel_list(&queued);
        let bytes = encode(&link)?;
        let uid = link.uid.as_u128();
        let tenant = link.tenant_id.as_u128();
        self.meta.insert("next_link_id", next + 1)?;
        self.links.insert(uid, bytes.as_slice())?;
        self.by_token.insert(link.token_hash, uid)?;
        self.by_tenant.insert((tenant, link.link_id), uid)?;
        let resource_type = link.resource_type.to_lowercase();
        self.by_resource.insert(
            (
                tenant,
                resource_type.as_str(),
                link.resource_uid.as_u128(),
                link.link_id,
            ),
            uid,
        )?;
        self.by_expiry.insert((link.expires_at, uid), ())?;
        let actor = Actor::staff(link.created_by_user_id);
        self.log(
            &link,
            AccessEvent::Created,
            "Success",
            None,
            &actor,
            link.created_at,
        )?;
        Ok(WriteOutcome::Created {
            link: Box::new(link),
            queued,
            refused,
        })
    }

    pub(super) fn load_link_record(&self, uid: u128) -> Result<Option<LinkRecord>, StoreError> {
        self.load_link(uid)
    }

    /// Rewrites a stored link (same uid, same index keys).
    pub(super) fn store_link(&mut self, link: &LinkRecord) -> Result<(), StoreError> {
        self.links
            .insert(link.uid.as_u128(), encode(link)?.as_slice())?;
        Ok(())
    }

    fn load_link(&self, uid: u128) -> Result<Option<LinkRecord>, StoreError> {
        match self.links.get(uid)? {
            Some(g) => Ok(Some(decode(g.value())?)),
            None => Ok(None),
        }
    }

    fn revoke_link(
        &mut self,
        tenant_id: Uuid,
        uid: Uuid,
        by: Uuid,
        at: i64,
    ) -> Result<WriteOutcome, StoreError> {
        let Some(mut link) = self
            .load_link(uid.as_u128())?
            .filter(|l| l.tenant_id == tenant_id)
        else {
            return Ok(WriteOutcome::NotFound);
        };
        if link.revoked_at.is_none() {
            link.revoked_at = Some(at);
            link.revoked_by_user_id = Some(by);
            self.links
                .insert(uid.as_u128(), encode(&link)?.as_slice())?;
            self.by_revoked.insert((at, uid.as_u128()), ())?;
            self.log(
                &link,
                AccessEvent::Revoked,
                "Success",
                None,
                &Actor::staff(by),
                at,
            )?;
        }
        Ok(WriteOutcome::Link(Box::new(link)))
    }

    fn put_contact(&mut self, contact: Contact) -> Result<WriteOutcome, StoreError> {
        let key = (contact.tenant_id.as_u128(), contact.contact_id);
        let existing: Option<Contact> = match self.contacts.get(key)? {
            Some(g) => Some(decode(g.value())?),
            None => None,
        };
        let mut contact = contact;
        if contact.contact_guid.is_nil() {
            contact.contact_guid = existing
                .as_ref()
                .map_or_else(Uuid::new_v4, |e| e.contact_guid);
        }
        self.contacts.insert(key, encode(&contact)?.as_slice())?;
        Ok(WriteOutcome::Contact {
            contact: Box::new(contact),
            created: existing.is_none(),
        })
    }

    fn purge(
        &mut self,
        retired_before: i64,
        limit: usize,
        now: i64,
    ) -> Result<WriteOutcome, StoreError> {
        let mut victims: Vec<u128> = Vec::new();
        for index in [&self.by_expiry, &self.by_revoked] {
            for entry in index.range(..(retired_before, 0u128))? {
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
        for uid in &victims {
            // A failure after earlier deletions must abort the whole batch, never half-apply.
            self.delete_link(*uid, now)
                .map_err(|e| StoreError::Io(e.to_string()))?;
        }
        self.forget_old_send_counts(now)?;
        self.forget_expired_grants(now)?;
        self.forget_old_logs(retired_before)?;
        let more_keys = self.forget_old_idempotency(now, limit)?;
        Ok(WriteOutcome::Purged(PurgeReport {
            purged: victims.len(),
            more: more || more_keys,
        }))
    }

    /// Removes a link and every index entry that names it.
    fn delete_link(&mut self, uid: u128, now: i64) -> Result<(), StoreError> {
        let Some(link) = self.load_link(uid)? else {
            tracing::warn!(uid = %format!("{uid:032x}"), "purge: an index names a missing link; run `customerlink check`");
            return Ok(());
        };
        let tenant = link.tenant_id.as_u128();
        self.delete_deliveries(uid)?;
        self.tombstone_log(&link, now)?;
        self.links.remove(uid)?;
        self.by_token.remove(link.token_hash)?;
        self.by_tenant.remove((tenant, link.link_id))?;
        let resource_type = link.resource_type.to_lowercase();
        self.by_resource.remove((
            tenant,
            resource_type.as_str(),
            link.resource_uid.as_u128(),
            link.link_id,
        ))?;
        self.by_expiry.remove((link.expires_at, uid))?;
        if let Some(at) = link.revoked_at {
            self.by_revoked.remove((at, uid))?;
        }
        Ok(())
    }
}
