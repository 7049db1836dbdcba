//! Queries over one read snapshot. Every method is a point lookup or a bounded range scan of
//! an index; nothing scans the primary table except `check`.

use redb::{ReadOnlyTable, ReadTransaction, ReadableTable, ReadableTableMetadata};
use uuid::Uuid;

use super::StoreError;
use super::codec::decode;
use super::tables::*;
use crate::domain::contact::Contact;
use crate::domain::delivery::DeliveryRecord;
use crate::domain::link::LinkRecord;
use crate::domain::portal::{AccessLogEntry, GrantRecord};
use crate::domain::share::{Family, SHARED_DOCUMENT};
use crate::domain::tenant::{ApiKeyRecord, Tenant};
use crate::domain::token::SecretHash;
use crate::domain::{ContactId, LinkUid, TenantId, TokenHash, UnixMillis};
use crate::store::queries::{LinksByTenant, RevocableLinks};

/// A page of links with the number of links that matched in all.
#[derive(Debug, Default)]
pub struct LinkPage {
    pub links: Vec<LinkRecord>,
    pub total: u64,
}

/// A read snapshot; see [`super::Store::read`].
pub struct Reader {
    txn: ReadTransaction,
    /// The primary table, opened on first use: a list reads one record per entry of an
    /// index, and opening a table is a lookup of its own.
    links: std::cell::OnceCell<ReadOnlyTable<u128, &'static [u8]>>,
}

impl Reader {
    pub(super) fn new(txn: ReadTransaction) -> Self {
        Self {
            txn,
            links: std::cell::OnceCell::new(),
        }
    }

    fn links(&self) -> Result<&ReadOnlyTable<u128, &'static [u8]>, StoreError> {
        if let Some(table) = self.links.get() {
            return Ok(table);
        }
        let table = self.table(LINKS)?;
        Ok(self.links.get_or_init(|| table))
    }

    pub(super) fn table<K: redb::Key + 'static, V: redb::Value + 'static>(
        &self,
        def: redb::TableDefinition<K, V>,
    ) -> Result<ReadOnlyTable<K, V>, StoreError> {
        Ok(self.txn.open_table(def)?)
    }

    /// A link by uid, only if it belongs to `tenant_id` (another tenant's link is "missing").
    pub fn link(
        &self,
        tenant_id: TenantId,
        uid: LinkUid,
    ) -> Result<Option<LinkRecord>, StoreError> {
        Ok(self
            .link_any_tenant(uid.as_u128())?
            .filter(|l| l.tenant_id == tenant_id))
    }

    pub(super) fn link_any_tenant(&self, uid: u128) -> Result<Option<LinkRecord>, StoreError> {
        match self.links()?.get(uid)? {
            Some(g) => Ok(Some(decode(g.value())?)),
            None => Ok(None),
        }
    }

    /// A stored grant by its keyed hash (read, not taken).
    pub fn grant(&self, hash: &SecretHash) -> Result<Option<GrantRecord>, StoreError> {
        match self.table(GRANTS)?.get(hash.0)? {
            Some(g) => Ok(Some(decode(g.value())?)),
            None => Ok(None),
        }
    }

    /// A link by the keyed hash of its token (for the portal).
    pub fn link_by_token(&self, hash: &TokenHash) -> Result<Option<LinkRecord>, StoreError> {
        match self.table(LINKS_BY_TOKEN)?.get(hash.0)? {
            Some(uid) => self.link_any_tenant(uid.value()),
            None => Ok(None),
        }
    }

    /// Links of one resource, newest first.
    pub fn links_by_resource(
        &self,
        tenant_id: TenantId,
        resource_type: &str,
        resource_uid: Uuid,
    ) -> Result<Vec<LinkRecord>, StoreError> {
        let t = tenant_id.as_u128();
        let rt = resource_type.to_lowercase();
        let ru = resource_uid.as_u128();
        let index = self.table(LINKS_BY_RESOURCE)?;
        let mut links = Vec::new();
        for entry in index
            .range((t, rt.as_str(), ru, 0)..=(t, rt.as_str(), ru, u64::MAX))?
            .rev()
        {
            if let Some(link) = self.link_any_tenant(entry?.1.value())? {
                links.push(link);
            }
        }
        Ok(links)
    }

    /// The tenant's links of one family, newest first, optionally only those with a status.
    /// Entries are read without decoding their record where nothing needs it (no status
    /// filter, and a tenant without shares asking for customer links).
    pub fn links_by_tenant(&self, q: &LinksByTenant) -> Result<LinkPage, StoreError> {
        let t = q.tenant.as_u128();
        let index = self.table(LINKS_BY_TENANT)?;
        let mixed = q.family == Family::DocumentShare || self.has_shares(t)?;
        let decode_all = q.status.is_some() || mixed;
        let mut page = LinkPage::default();
        let mut matched = 0usize;
        for entry in index.range((t, 0)..=(t, u64::MAX))?.rev() {
            let uid = entry?.1.value();
            let in_page = matched >= q.skip && page.links.len() < q.take;
            if !decode_all && !in_page {
                matched += 1;
                continue;
            }
            let Some(link) = self.link_any_tenant(uid)? else {
                continue;
            };
            let wanted = q.family.owns(&link) && q.status.is_none_or(|s| link.status(q.now) == s);
            if !wanted {
                continue;
            }
            if in_page {
                page.links.push(link);
            }
            matched += 1;
        }
        page.total = matched as u64;
        Ok(page)
    }

    /// The next links of a bulk revocation: through the resource index when the filter names
    /// a resource, else through the tenant's links.
    pub fn revocable_links(&self, q: &RevocableLinks) -> Result<Vec<LinkUid>, StoreError> {
        let t = q.tenant.as_u128();
        let mut found = Vec::new();
        let mut take = |uid: u128| -> Result<bool, StoreError> {
            if let Some(link) = self.link_any_tenant(uid)?
                && q.filter.matches(&link, q.now)
            {
                found.push(link.uid);
            }
            Ok(found.len() < q.limit)
        };
        if let Some((rt, ru)) = &q.filter.resource {
            let (rt, ru) = (rt.to_lowercase(), ru.as_u128());
            let index = self.table(LINKS_BY_RESOURCE)?;
            for entry in index.range((t, rt.as_str(), ru, 0)..=(t, rt.as_str(), ru, u64::MAX))? {
                if !take(entry?.1.value())? {
                    break;
                }
            }
        } else {
            for entry in self.table(LINKS_BY_TENANT)?.range((t, 0)..=(t, u64::MAX))? {
                if !take(entry?.1.value())? {
                    break;
                }
            }
        }
        Ok(found)
    }

    /// Whether the tenant has any document share (they are indexed by their marker type).
    fn has_shares(&self, tenant: u128) -> Result<bool, StoreError> {
        let marker = SHARED_DOCUMENT.to_lowercase();
        let from = (tenant, marker.as_str(), 0u128, 0u64);
        let to = (tenant, marker.as_str(), u128::MAX, u64::MAX);
        Ok(self
            .table(LINKS_BY_RESOURCE)?
            .range(from..=to)?
            .next()
            .is_some())
    }

    /// A link by its number in the tenant.
    pub fn link_by_number(
        &self,
        tenant_id: TenantId,
        id: u64,
    ) -> Result<Option<LinkRecord>, StoreError> {
        match self
            .table(LINKS_BY_TENANT)?
            .get((tenant_id.as_u128(), id))?
        {
            Some(uid) => self.link_any_tenant(uid.value()),
            None => Ok(None),
        }
    }

    /// Every delivery of a link, oldest first.
    /// The link's messages to its recipient (links, passcodes; not its webhook events).
    pub fn deliveries_for_link(&self, uid: LinkUid) -> Result<Vec<DeliveryRecord>, StoreError> {
        let u = uid.as_u128();
        let outbox = self.table(OUTBOX)?;
        let mut deliveries = Vec::new();
        for entry in self
            .table(DELIVERIES_BY_LINK)?
            .range((u, 0)..=(u, u64::MAX))?
        {
            let id = entry?.0.value().1;
            if let Some(g) = outbox.get(id)? {
                let d: DeliveryRecord = decode(g.value())?;
                if d.kind != crate::domain::delivery::DeliveryKind::Webhook {
                    deliveries.push(d);
                }
            }
        }
        Ok(deliveries)
    }

    /// A link's access log (also after the link was purged), oldest first; only the tenant's.
    pub fn access_log(
        &self,
        tenant_id: TenantId,
        uid: LinkUid,
    ) -> Result<Vec<AccessLogEntry>, StoreError> {
        let u = uid.as_u128();
        let mut entries = Vec::new();
        for entry in self.table(ACCESS_LOG)?.range((u, 0)..=(u, u64::MAX))? {
            let e: AccessLogEntry = decode(entry?.1.value())?;
            if e.tenant_id == tenant_id {
                entries.push(e);
            }
        }
        // Landing views are written in batches after the fact, so ids alone are not in
        // time order.
        entries.sort_by_key(|e| (e.at, e.id));
        Ok(entries)
    }

    pub fn attachment(
        &self,
        tenant_id: TenantId,
        id: uuid::Uuid,
    ) -> Result<Option<crate::domain::attachment::AttachmentRecord>, StoreError> {
        match self
            .table(ATTACHMENTS)?
            .get((tenant_id.as_u128(), id.as_u128()))?
        {
            Some(g) => Ok(Some(decode(g.value())?)),
            None => Ok(None),
        }
    }

    pub fn all_attachments(
        &self,
    ) -> Result<Vec<crate::domain::attachment::AttachmentRecord>, StoreError> {
        let mut all = Vec::new();
        for entry in self.table(ATTACHMENTS)?.iter()? {
            all.push(decode(entry?.1.value())?);
        }
        Ok(all)
    }

    pub fn tenant_name(&self, tenant_id: TenantId) -> Result<Option<String>, StoreError> {
        Ok(self.tenant(tenant_id)?.map(|t| t.name))
    }

    pub fn contact(
        &self,
        tenant_id: TenantId,
        contact_id: ContactId,
    ) -> Result<Option<Contact>, StoreError> {
        match self
            .table(CONTACTS)?
            .get((tenant_id.as_u128(), contact_id.get()))?
        {
            Some(g) => Ok(Some(decode(g.value())?)),
            None => Ok(None),
        }
    }

    /// The tenant's webhook endpoints, by name.
    pub fn webhooks(
        &self,
        tenant_id: TenantId,
    ) -> Result<Vec<crate::domain::webhook::WebhookEndpoint>, StoreError> {
        let t = tenant_id.as_u128();
        let mut all = Vec::new();
        for entry in self.table(WEBHOOKS)?.range((t, "")..)? {
            let (k, v) = entry?;
            if k.value().0 != t {
                break;
            }
            all.push(decode(v.value())?);
        }
        Ok(all)
    }

    /// One endpoint of the tenant by name.
    pub fn webhook(
        &self,
        tenant_id: TenantId,
        name: &str,
    ) -> Result<Option<crate::domain::webhook::WebhookEndpoint>, StoreError> {
        match self.table(WEBHOOKS)?.get((tenant_id.as_u128(), name))? {
            Some(g) => Ok(Some(decode(g.value())?)),
            None => Ok(None),
        }
    }

    /// The tenant's contacts by id, with the total count.
    pub fn contacts(
        &self,
        tenant_id: TenantId,
        skip: usize,
        take: usize,
    ) -> Result<(Vec<Contact>, u64), StoreError> {
        let t = tenant_id.as_u128();
        let table = self.table(CONTACTS)?;
        let mut contacts = Vec::new();
        let mut total = 0u64;
        for entry in table.range((t, i32::MIN)..=(t, i32::MAX))? {
            let entry = entry?;
            if total >= skip as u64 && contacts.len() < take {
                contacts.push(decode(entry.1.value())?);
            }
            total += 1;
        }
        Ok((contacts, total))
    }

    pub fn api_key(&self, hash: &SecretHash) -> Result<Option<ApiKeyRecord>, StoreError> {
        match self.table(API_KEYS)?.get(hash.0)? {
            Some(g) => Ok(Some(decode(g.value())?)),
            None => Ok(None),
        }
    }

    /// Every key of a tenant (revoked ones included), oldest first.
    pub fn api_keys(&self, tenant_id: TenantId) -> Result<Vec<ApiKeyRecord>, StoreError> {
        let mut keys = Vec::new();
        for entry in self.table(API_KEYS)?.iter()? {
            let record: ApiKeyRecord = decode(entry?.1.value())?;
            if record.tenant_id == tenant_id {
                keys.push(record);
            }
        }
        keys.sort_by_key(|k| k.created_at);
        Ok(keys)
    }

    pub fn tenant(&self, tenant_id: TenantId) -> Result<Option<Tenant>, StoreError> {
        match self.table(TENANTS)?.get(tenant_id.as_u128())? {
            Some(g) => Ok(Some(decode(g.value())?)),
            None => Ok(None),
        }
    }

    pub fn tenant_count(&self) -> Result<u64, StoreError> {
        Ok(self.table(TENANTS)?.len()?)
    }

    /// See [`super::queries::LinkCountsAt`].
    pub fn link_counts(&self, now: UnixMillis) -> Result<super::queries::LinkCounts, StoreError> {
        let links = self.table(LINKS)?;
        let mut counts = super::queries::LinkCounts {
            total: links.len()?,
            revoked: self.table(LINKS_BY_REVOKED)?.len()?,
            expired: 0,
        };
        for entry in self
            .table(LINKS_BY_EXPIRY)?
            .range(..=(now.as_i64(), u128::MAX))?
        {
            let uid = entry?.0.value().1;
            if let Some(record) = links.get(uid)? {
                let link: LinkRecord = decode(record.value())?;
                counts.expired += u64::from(link.revoked_at.is_none());
            }
        }
        Ok(counts)
    }
}
