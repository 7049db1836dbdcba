//! The commands the writer applies and what they report. Each command checks before it
//! mutates, so a rejected command leaves the batch untouched.

use uuid::Uuid;

use crate::domain::contact::Contact;
use crate::domain::delivery::{DeliveryRecord, NewDelivery};
use crate::domain::link::{LinkRecord, LinkStatus};
use crate::domain::portal::{AccessEvent, Actor, GrantRecord, LandingView, RepeatedDenial};
use crate::domain::tenant::{ApiKeyRecord, Tenant};
use crate::domain::token::SecretHash;
use crate::store::{IdempotencyRecord, IdempotencyStamp};

/// One logical write.
#[derive(Debug)]
pub enum WriteOp {
    CreateTenant(Tenant),
    CreateApiKey {
        hash: SecretHash,
        record: ApiKeyRecord,
    },
    RevokeApiKey {
        key_id: Uuid,
        at: i64,
    },
    /// Stores a new link (the writer assigns `link_id`) and queues its deliveries, each
    /// within the send limits.
    CreateLink {
        link: Box<LinkRecord>,
        deliveries: Vec<NewDelivery>,
        limits: SendLimits,
        /// Run under the client's idempotency key (see [`IdempotencyStamp`]).
        idempotency: Option<Box<IdempotencyStamp>>,
    },
    /// Records the result of one delivery attempt and schedules a retry or gives up.
    RecordAttempt {
        delivery_id: u64,
        at: i64,
        outcome: AttemptOutcome,
        retry: RetryPolicy,
    },
    /// Takes up to `limit` queued deliveries due at `now`, moving each one's next attempt to
    /// `lease_until` so a crash mid-send retries it later instead of losing it.
    LeaseDue {
        now: i64,
        lease_until: i64,
        limit: usize,
    },
    /// Replaces the link's token (the old URL stops working in this commit), supersedes its
    /// queued deliveries and queues new ones.
    Resend {
        tenant_id: Uuid,
        uid: Uuid,
        by: Uuid,
        token_hash: SecretHash,
        at: i64,
        deliveries: Vec<NewDelivery>,
        limits: SendLimits,
        cooldown_ms: i64,
        per_hour: u32,
        idempotency: Option<Box<IdempotencyStamp>>,
    },
    /// Sets the revocation once; revoking again returns the link unchanged.
    RevokeLink {
        tenant_id: Uuid,
        uid: Uuid,
        by: Uuid,
        at: i64,
    },
    PutContact(Box<Contact>),
    DeleteContact {
        tenant_id: Uuid,
        contact_id: i32,
    },
    /// A recipient-side portal command (passcodes, views, grants, access log).
    Portal(PortalOp),
    /// Deletes up to `limit` links retired (expired or revoked) before `retired_before`, with
    /// their deliveries, and send counters of hours before `now`'s previous one.
    Purge {
        retired_before: i64,
        limit: usize,
        now: i64,
    },
}

/// What a write did.
#[derive(Debug)]
pub enum WriteOutcome {
    Done,
    Link(Box<LinkRecord>),
    Contact {
        contact: Box<Contact>,
        created: bool,
    },
    /// A link was created or re-sent: its deliveries queued, and why others were not.
    Created {
        link: Box<LinkRecord>,
        queued: Vec<DeliveryRecord>,
        refused: Vec<String>,
    },
    Deliveries(Vec<DeliveryRecord>),
    Portal(PortalOutcome),
    ResendRefused(ResendRefusal),
    /// The target does not exist (in this tenant); nothing was written.
    NotFound,
    Purged(PurgeReport),
    /// The idempotency key already names a live result; nothing was written.
    Replay(Box<IdempotencyRecord>),
}

/// Result of one purge batch.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct PurgeReport {
    pub purged: usize,
    /// More retired links remain (the batch hit its limit).
    pub more: bool,
}

/// Per-hour send limits, and when a just-queued delivery's first attempt may be retried by
/// the worker (after the create call's own attempt has had its chance).
#[derive(Debug, Clone, Copy)]
pub struct SendLimits {
    pub per_recipient_per_hour: u32,
    pub per_tenant_per_hour: u32,
    pub first_retry_at: i64,
}

/// The result of one attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttemptOutcome {
    Sent,
    Failed { permanent: bool, error: String },
}

/// How failed attempts are retried.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    pub max_attempts: u32,
    pub initial_ms: i64,
    pub max_ms: i64,
}

/// Why a resend was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResendRefusal {
    /// Revoked, expired or exhausted links are not re-sent.
    NotActive(LinkStatus),
    /// Too soon after the previous resend, or too many in the last hour.
    RateLimited { retry_after_ms: i64 },
}

/// Portal commands. Links are found by the keyed hash of their token, so every command acts
/// on the token's *current* link state inside the transaction.
#[derive(Debug)]
pub enum PortalOp {
    /// Issues `fresh` as the live code, or re-sends the live one, within the send limits,
    /// and queues it in the outbox.
    IssueOtp {
        token_hash: [u8; 32],
        fresh: (SecretHash, Vec<u8>),
        at: i64,
        actor: Actor,
    },
    /// Counts the attempt, then compares `candidate` with the live code (constant time).
    VerifyOtp {
        token_hash: [u8; 32],
        candidate: SecretHash,
        at: i64,
        actor: Actor,
    },
    /// The one atomic check-and-increment of a view, storing the hand-off grant if it passes.
    /// `verified_for` is the token hash a valid session cookie was checked against.
    Open {
        token_hash: [u8; 32],
        verified_for: Option<[u8; 32]>,
        grant: SecretHash,
        at: i64,
        actor: Actor,
    },
    /// Staff lift a lock (and the failure count).
    Unlock {
        tenant_id: Uuid,
        uid: Uuid,
        by: Uuid,
        at: i64,
    },
    /// A resource application exchanges a grant (once).
    ConsumeGrant {
        grant: SecretHash,
        tenant_id: Uuid,
        at: i64,
    },
    /// Records an event that changes nothing else (a passcode sent).
    Log {
        token_hash: [u8; 32],
        event: AccessEvent,
        /// `Success`, `Failure` or `Info`.
        outcome: &'static str,
        detail: Option<String>,
        at: i64,
        actor: Actor,
    },
    /// Landing views collected since the last flush, one `LandingViewed` entry each; views of
    /// links purged in the meantime are skipped.
    LogLandings(Vec<LandingView>),
    /// Denied opens of dead links collected since the last flush, each already counted per
    /// link, reason and address; links purged in the meantime are skipped.
    LogDenials(Vec<RepeatedDenial>),
}

/// What a portal command did.
#[derive(Debug)]
pub enum PortalOutcome {
    /// The token does not name a usable link (unknown, revoked, expired, exhausted, locked).
    Unavailable,
    /// The code (new or the live one) is queued in the outbox, in this same commit, for the
    /// worker to send; `None` when the link has no address on its passcode channel.
    CodeQueued(Option<Box<DeliveryRecord>>),
    /// Nothing sent: cooldown or hourly limit.
    CodeRefused {
        retry_after_ms: i64,
    },
    Verified(Box<LinkRecord>),
    /// Wrong or dead code; `locked` when this attempt used up the link's budget.
    NotVerified {
        locked: bool,
    },
    Opened(Box<LinkRecord>),
    /// The link is usable but not by this request (a passcode is required).
    OpenDenied {
        reason: &'static str,
    },
    Grant(Box<GrantRecord>),
    Done,
}
