//! The reads the store answers, each its own type with its own answer ([`Query::Output`]) —
//! the read half of the storage contract, as [`super::commands`] is the write half. They name
//! domain values only, so each backend answers them its own way: the embedded store from one
//! short read transaction ([`Fetch`], over [`super::Reader`]), never held across an `.await`.

use uuid::Uuid;

use super::{IdempotencyKey, IdempotencyRecord, LinkPage, Reader, StoreError};
use crate::domain::attachment::AttachmentRecord;
use crate::domain::contact::Contact;
use crate::domain::delivery::DeliveryRecord;
use crate::domain::link::{LinkRecord, LinkStatus};
use crate::domain::link_filter::LinkFilter;
use crate::domain::portal::{AccessLogEntry, GrantRecord};
use crate::domain::share::Family;
use crate::domain::tenant::{ApiKeyRecord, Tenant};
use crate::domain::token::SecretHash;
use crate::domain::{ContactId, LinkUid, TenantId, TokenHash, UnixMillis};

/// One read and what it answers.
pub trait Query: Send + 'static {
    type Output: Send + 'static;
}

/// How the embedded store answers a [`Query`]: from one read snapshot.
pub trait Fetch: Query {
    fn fetch(&self, r: &Reader) -> Result<Self::Output, StoreError>;
}

/// Declares a query type's output and its answer from a [`Reader`].
macro_rules! queries {
    ($($(#[$doc:meta])* $name:ident => $output:ty = |$q:ident, $r:ident| $body:expr;)*) => {$(
        impl Query for $name {
            type Output = $output;
        }
        $(#[$doc])*
        impl Fetch for $name {
            fn fetch(&self, $r: &Reader) -> Result<$output, StoreError> {
                let $q = self;
                $body
            }
        }
    )*};
}

/// A link by uid, only if it belongs to the tenant (another tenant's link is "missing").
#[derive(Debug, Clone, Copy)]
pub struct LinkOf {
    pub tenant: TenantId,
    pub uid: LinkUid,
}

/// A link by the keyed hash of its token (the portal's one lookup).
#[derive(Debug, Clone, Copy)]
pub struct LinkByToken(pub TokenHash);

/// A link and its deliveries (`GET /v1/customerlink/{uid}`), from one snapshot.
#[derive(Debug, Clone, Copy)]
pub struct LinkWithDeliveries(pub LinkOf);

/// A link and its recipient's contact, if it names one (a resend), from one snapshot.
#[derive(Debug, Clone, Copy)]
pub struct LinkWithContact(pub LinkOf);

/// A link and its tenant's display name (what a message or the landing page shows).
#[derive(Debug, Clone, Copy)]
pub struct LinkWithTenantName(pub LinkOf);

/// The active link behind a token with its tenant's name (the landing page).
#[derive(Debug, Clone, Copy)]
pub struct LandingOf {
    pub token: TokenHash,
    pub now: UnixMillis,
}

/// A tenant's links to one resource, newest first.
#[derive(Debug, Clone)]
pub struct LinksByResource {
    pub tenant: TenantId,
    pub resource_type: String,
    pub resource_uid: Uuid,
}

/// One page of a tenant's links of one family, newest first, maybe of one status at `now`.
#[derive(Debug, Clone, Copy)]
pub struct LinksByTenant {
    pub tenant: TenantId,
    pub family: Family,
    pub status: Option<LinkStatus>,
    pub now: UnixMillis,
    pub skip: usize,
    pub take: usize,
}

/// A document share by its number (`DocumentShareId`), only if it is the tenant's and a
/// share (a customer link's number answers "missing").
#[derive(Debug, Clone, Copy)]
pub struct ShareOf {
    pub tenant: TenantId,
    pub id: u64,
}

/// The next links a bulk revocation takes: up to `limit` links of the tenant matching
/// `filter` at `now` (never revoked ones), in link-number order.
#[derive(Debug, Clone)]
pub struct RevocableLinks {
    pub tenant: TenantId,
    pub filter: LinkFilter,
    pub now: UnixMillis,
    pub limit: usize,
}

/// A link's access log, oldest first (empty for another tenant's link).
#[derive(Debug, Clone, Copy)]
pub struct AccessLogOf {
    pub tenant: TenantId,
    pub uid: LinkUid,
}

/// A contact of the tenant.
#[derive(Debug, Clone, Copy)]
pub struct ContactOf {
    pub tenant: TenantId,
    pub id: ContactId,
}

/// One page of the tenant's contacts and how many it has in all.
#[derive(Debug, Clone, Copy)]
pub struct ContactsOf {
    pub tenant: TenantId,
    pub skip: usize,
    pub take: usize,
}

/// A tenant's webhook endpoints, by name.
#[derive(Debug, Clone, Copy)]
pub struct WebhooksOf(pub TenantId);

/// One webhook endpoint of a tenant, by name (the outbox worker, about to send to it).
#[derive(Debug, Clone)]
pub struct WebhookOf {
    pub tenant: TenantId,
    pub name: String,
}

/// An API key by the keyed hash of its secret.
#[derive(Debug, Clone, Copy)]
pub struct ApiKeyByHash(pub SecretHash);

/// A tenant's API keys, oldest first.
#[derive(Debug, Clone, Copy)]
pub struct ApiKeysOf(pub TenantId);

/// A tenant by id.
#[derive(Debug, Clone, Copy)]
pub struct TenantOf(pub TenantId);

/// Link counts at one moment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LinkCounts {
    pub total: u64,
    pub revoked: u64,
    /// Expired and not revoked.
    pub expired: u64,
}

/// How many links are stored, revoked, and expired (not revoked) at `now` — the link gauges.
/// The embedded store counts through its indexes: the total and the revoked count are table
/// lengths; expired-but-not-revoked walks only the expired part of the expiry index (bounded
/// by the purge retention).
#[derive(Debug, Clone, Copy)]
pub struct LinkCountsAt {
    pub now: UnixMillis,
}

/// How many tenants exist (zero on a first start).
#[derive(Debug, Clone, Copy)]
pub struct TenantCount;

/// The live record of an idempotency key in a tenant at `now`.
#[derive(Debug, Clone, Copy)]
pub struct IdempotencyOf {
    pub tenant: TenantId,
    pub key: IdempotencyKey,
    pub now: UnixMillis,
}

/// An attachment's record, only if it belongs to the tenant (another tenant's is "missing").
#[derive(Debug, Clone, Copy)]
pub struct AttachmentOf {
    pub tenant: TenantId,
    pub id: Uuid,
}

/// One sealed chunk of an attachment (PostgreSQL keeps them as rows; the embedded store
/// reads them from the file and never answers this query: it answers `None`).
#[derive(Debug, Clone, Copy)]
pub struct AttachmentChunk {
    pub id: Uuid,
    pub n: i64,
}

/// Every attachment record of every tenant (for `check` and the sweep).
#[derive(Debug, Clone, Copy)]
pub struct AllAttachments;

/// A stored hand-off grant by its keyed hash, without taking it (a share's download grant
/// lets the ranges of one download through without counting more views).
#[derive(Debug, Clone, Copy)]
pub struct GrantOf(pub SecretHash);

queries! {
    LinkOf => Option<LinkRecord> = |q, r| r.link(q.tenant, q.uid);
    LinkByToken => Option<LinkRecord> = |q, r| r.link_by_token(&q.0);
    /// The writer records a channel for every link delivery it queues, and passcodes exist
    /// only for links that require one: any other link has none to scan for.
    LinkWithDeliveries => Option<(LinkRecord, Vec<DeliveryRecord>)> = |q, r| {
        let Some(link) = r.link(q.0.tenant, q.0.uid)? else {
            return Ok(None);
        };
        let deliveries = if !link.delivery_channels.is_empty() || link.require_otp {
            r.deliveries_for_link(q.0.uid)?
        } else {
            Vec::new()
        };
        Ok(Some((link, deliveries)))
    };
    LinkWithContact => Option<(LinkRecord, Option<Contact>)> = |q, r| {
        let Some(link) = r.link(q.0.tenant, q.0.uid)? else {
            return Ok(None);
        };
        let contact = match link.recipient_contact_id {
            Some(id) => r.contact(q.0.tenant, id)?,
            None => None,
        };
        Ok(Some((link, contact)))
    };
    LinkWithTenantName => Option<(LinkRecord, String)> = |q, r| {
        let Some(link) = r.link(q.0.tenant, q.0.uid)? else {
            return Ok(None);
        };
        let name = r.tenant_name(q.0.tenant)?.unwrap_or_default();
        Ok(Some((link, name)))
    };
    LandingOf => Option<(LinkRecord, String)> = |q, r| {
        let link = r.link_by_token(&q.token)?;
        let Some(link) = link.filter(|l| l.status(q.now) == LinkStatus::Active) else {
            return Ok(None);
        };
        let name = r.tenant_name(link.tenant_id)?.unwrap_or_default();
        Ok(Some((link, name)))
    };
    LinksByResource => Vec<LinkRecord> = |q, r| {
        r.links_by_resource(q.tenant, &q.resource_type, q.resource_uid)
    };
    LinksByTenant => LinkPage = |q, r| r.links_by_tenant(q);
    RevocableLinks => Vec<LinkUid> = |q, r| r.revocable_links(q);
    ShareOf => Option<LinkRecord> = |q, r| {
        Ok(r.link_by_number(q.tenant, q.id)?.filter(|l| Family::DocumentShare.owns(l)))
    };
    AccessLogOf => Vec<AccessLogEntry> = |q, r| r.access_log(q.tenant, q.uid);
    ContactOf => Option<Contact> = |q, r| r.contact(q.tenant, q.id);
    ContactsOf => (Vec<Contact>, u64) = |q, r| r.contacts(q.tenant, q.skip, q.take);
    ApiKeyByHash => Option<ApiKeyRecord> = |q, r| r.api_key(&q.0);
    ApiKeysOf => Vec<ApiKeyRecord> = |q, r| r.api_keys(q.0);
    TenantOf => Option<Tenant> = |q, r| r.tenant(q.0);
    TenantCount => u64 = |_q, r| r.tenant_count();
    LinkCountsAt => LinkCounts = |q, r| r.link_counts(q.now);
    IdempotencyOf => Option<IdempotencyRecord> = |q, r| r.idempotency(q.tenant, q.key, q.now);
    AttachmentOf => Option<AttachmentRecord> = |q, r| r.attachment(q.tenant, q.id);
    AttachmentChunk => Option<Vec<u8>> = |_q, _r| Ok(None);
    AllAttachments => Vec<AttachmentRecord> = |_q, r| r.all_attachments();
    GrantOf => Option<GrantRecord> = |q, r| r.grant(&q.0);
    WebhooksOf => Vec<crate::domain::webhook::WebhookEndpoint> = |q, r| r.webhooks(q.0);
    WebhookOf => Option<crate::domain::webhook::WebhookEndpoint> = |q, r| r.webhook(q.tenant, &q.name);
}
