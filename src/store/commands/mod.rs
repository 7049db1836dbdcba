//! The writes the store takes, each its own type with its own answer ([`Command::Output`]),
//! so a caller gets exactly the outcome of what it asked and the compiler rules out the
//! rest. These types are the storage contract: they name domain values only, never redb,
//! so a second backend implements the same commands.

mod attachment;
mod link;
mod outbox;
mod portal;
mod webhook;

pub use attachment::{DeleteAttachment, PutAttachment, PutAttachmentChunk, SweepAttachmentChunks};
pub use link::{
    ContactWritten, CreateApiKey, CreateLink, CreateShare, CreateTenant, DeleteContact, FirstStart,
    GRANTS_FORGOTTEN_PER_BATCH, LOGS_FORGOTTEN_PER_BATCH, LinkQueued, PurgeReport, PurgeRetired,
    PutContact, ReissueOnRequest, Resend, ResendOutcome, ResendRefusal, ResendRules, RevokeApiKey,
    RevokeLink, RevokeLinks,
};
pub use outbox::{AttemptOutcome, LeaseDue, RecordAttempt, RetryPolicy, SendLimits};
pub use portal::{
    ConsumeGrant, IssueOtp, IssueOtpOutcome, LogDenials, LogEvent, LogLandings, OpenLink,
    OpenOutcome, UnlockLink, VerifyOtp, VerifyOutcome,
};
pub use webhook::{DeleteWebhook, PutWebhook, WebhookWritten};

use super::{IdempotencyRecord, IdempotencyStamp};

/// One logical write and what it answers. Rejections that are part of normal operation (a
/// link that does not exist, a refused resend) are `Output` values, not errors.
pub trait Command: Send + 'static {
    /// What the command reports once its batch is durable.
    type Output: Send + 'static;
}

/// Runs `command` (a create or resend) under a client's idempotency key: if the key already
/// names a live result, that is the answer and nothing is written; otherwise the stamp's
/// record is stored in the same commit as the command's writes.
#[derive(Debug)]
pub struct Idempotent<C> {
    pub command: C,
    pub stamp: Box<IdempotencyStamp>,
}

impl<C: Command> Command for Idempotent<C> {
    type Output = Replayable<C::Output>;
}

/// The answer of a command run under an idempotency key.
#[derive(Debug)]
pub enum Replayable<T> {
    /// The command ran.
    Fresh(T),
    /// The key already names a live result; nothing was written.
    Replay(Box<IdempotencyRecord>),
}
