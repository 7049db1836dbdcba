//! Commands on tenants, API keys, links and contacts, and the purge.

use uuid::Uuid;

use super::Command;
use super::outbox::SendLimits;
use crate::domain::contact::Contact;
use crate::domain::delivery::{DeliveryRecord, NewDelivery};
use crate::domain::link::LinkRecord;
pub use crate::domain::resend::{ResendRefusal, ResendRules};
use crate::domain::tenant::{ApiKeyRecord, Tenant};
use crate::domain::token::SecretHash;
use crate::domain::{ContactId, LinkUid, TenantId, TokenHash, UnixMillis, UserId};

/// Stores a new tenant.
#[derive(Debug)]
pub struct CreateTenant(pub Tenant);

impl Command for CreateTenant {
    type Output = ();
}

/// Stores a new API key under the hash of its secret.
#[derive(Debug)]
pub struct CreateApiKey {
    pub hash: SecretHash,
    pub record: ApiKeyRecord,
}

impl Command for CreateApiKey {
    type Output = ();
}

/// The first start of an empty store: the first tenant and its first key, written only if no
/// tenant exists yet — decided inside the write, so of several instances starting together
/// on one database exactly one creates them. Answers whether it did.
#[derive(Debug)]
pub struct FirstStart {
    pub tenant: CreateTenant,
    pub key: CreateApiKey,
}

impl Command for FirstStart {
    type Output = bool;
}

/// Revokes a key once; answers `false` when there is no such key.
#[derive(Debug)]
pub struct RevokeApiKey {
    pub key_id: Uuid,
    pub at: UnixMillis,
}

impl Command for RevokeApiKey {
    type Output = bool;
}

/// Stores a new link (the writer assigns `link_id`) and queues its deliveries, each within
/// the send limits.
#[derive(Debug)]
pub struct CreateLink {
    pub link: Box<LinkRecord>,
    pub deliveries: Vec<NewDelivery>,
    pub limits: SendLimits,
}

impl Command for CreateLink {
    type Output = LinkQueued;
}

/// Stores a new document share, only if the attachment it points at is still there in the
/// same transaction (an attachment retired by the purge meanwhile answers `None`); on
/// PostgreSQL the attachment's row is held `FOR SHARE` until the commit, so another
/// instance's purge cannot take it either.
#[derive(Debug)]
pub struct CreateShare(pub CreateLink);

impl Command for CreateShare {
    type Output = Option<LinkQueued>;
}

/// A link created or re-sent: its deliveries queued, and why others were not.
#[derive(Debug)]
pub struct LinkQueued {
    pub link: Box<LinkRecord>,
    pub queued: Vec<DeliveryRecord>,
    pub refused: Vec<String>,
}

/// Replaces the link's token (the old URL stops working in this commit), supersedes its
/// queued deliveries and queues new ones, if the resend rules allow it at `at`.
#[derive(Debug)]
pub struct Resend {
    pub tenant_id: TenantId,
    pub uid: LinkUid,
    pub by: UserId,
    pub token_hash: TokenHash,
    pub at: UnixMillis,
    pub deliveries: Vec<NewDelivery>,
    pub limits: SendLimits,
    pub rules: ResendRules,
    /// A re-issue the recipient asked for (`domain::resend::reissue`) instead of a staff
    /// resend: an expired or used-up link renewed, logged `ReissueRequested` then `Resent`.
    pub reissue: Option<ReissueOnRequest>,
}

/// What renews a link re-issued at its recipient's request.
#[derive(Debug)]
pub struct ReissueOnRequest {
    /// The renewed link's end of life (the tier's default life from now).
    pub expires_at: UnixMillis,
    /// Who asked (address, user agent) for the `ReissueRequested` row.
    pub actor: crate::domain::portal::Actor,
}

impl Command for Resend {
    type Output = ResendOutcome;
}

/// What a resend did.
#[derive(Debug)]
pub enum ResendOutcome {
    Resent(LinkQueued),
    /// No such link in this tenant; nothing was written.
    NotFound,
    Refused(ResendRefusal),
}

/// Revokes each of these links of the tenant that is not revoked yet, logging `Revoked` with
/// `reason`; answers the links it revoked (a bulk revocation's batch: the links were chosen
/// by [`crate::store::queries::RevocableLinks`] and may have changed since — a link revoked
/// meanwhile is skipped, so repeating a batch revokes nothing twice).
#[derive(Debug)]
pub struct RevokeLinks {
    pub tenant_id: TenantId,
    pub uids: Vec<LinkUid>,
    pub by: UserId,
    pub at: UnixMillis,
    pub reason: Option<String>,
}

impl Command for RevokeLinks {
    type Output = Vec<LinkUid>;
}

/// Sets the revocation once; revoking again returns the link unchanged. `None`: no such
/// link in this tenant.
#[derive(Debug)]
pub struct RevokeLink {
    pub tenant_id: TenantId,
    pub uid: LinkUid,
    pub by: UserId,
    pub at: UnixMillis,
}

impl Command for RevokeLink {
    type Output = Option<Box<LinkRecord>>;
}

/// Creates or replaces a contact (keeping its guid).
#[derive(Debug)]
pub struct PutContact(pub Box<Contact>);

impl Command for PutContact {
    type Output = ContactWritten;
}

/// The contact as stored.
#[derive(Debug)]
pub struct ContactWritten {
    pub contact: Box<Contact>,
    pub created: bool,
}

/// Deletes a contact; answers `false` when there was none.
#[derive(Debug)]
pub struct DeleteContact {
    pub tenant_id: TenantId,
    pub contact_id: ContactId,
}

impl Command for DeleteContact {
    type Output = bool;
}

/// Deletes up to `limit` links retired (expired or revoked) before `retired_before`, with
/// their deliveries, and send counters of hours before `now`'s previous one. Removing a
/// share's link releases its attachment when no other share points at it (`released_at`
/// set to `now`, in the same transaction); up to `limit` attachments no share points at and
/// idle since before `attachments_idle_before` are removed (records, and on PostgreSQL their
/// chunks; the embedded files are the caller's to remove after the commit). The logs of up
/// to [`LOGS_FORGOTTEN_PER_BATCH`] links purged before `retired_before` go too, and up to
/// [`GRANTS_FORGOTTEN_PER_BATCH`] grants expired before `now`.
#[derive(Debug)]
pub struct PurgeRetired {
    pub retired_before: UnixMillis,
    pub limit: usize,
    pub now: UnixMillis,
    pub attachments_idle_before: UnixMillis,
}

impl Command for PurgeRetired {
    type Output = PurgeReport;
}

/// How many purged links' logs one [`PurgeRetired`] batch deletes at most (a link's log is
/// a few rows, so this bounds the batch like `limit` does).
pub const LOGS_FORGOTTEN_PER_BATCH: usize = 100;

/// How many expired grants one [`PurgeRetired`] batch deletes at most.
pub const GRANTS_FORGOTTEN_PER_BATCH: usize = 1000;

/// Result of one purge batch.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct PurgeReport {
    pub purged: usize,
    /// More retired links (or due attachments, idempotency keys, expired grants or logs
    /// past the retention) remain: the batch hit its limit.
    pub more: bool,
    /// Attachments whose records were removed: their files go after the commit.
    pub attachments: Vec<uuid::Uuid>,
}
