//! Recipient-side portal commands (passcodes, views, grants, access log). Links are found by
//! the keyed hash of their token, so every command acts on the token's *current* link state
//! inside the transaction.

use super::Command;
use crate::domain::delivery::DeliveryRecord;
use crate::domain::link::LinkRecord;
use crate::domain::portal::{
    AccessEvent, Actor, GrantRecord, LandingView, Outcome, RepeatedDenial,
};
use crate::domain::token::SecretHash;
use crate::domain::{LinkUid, TenantId, TokenHash, UnixMillis, UserId};

/// Issues `fresh` as the live code, or re-sends the live one, within the send limits, and
/// queues it in the outbox.
#[derive(Debug)]
pub struct IssueOtp {
    pub token_hash: TokenHash,
    /// The new code's hash and the code sealed for the outbox.
    pub fresh: (SecretHash, Vec<u8>),
    pub at: UnixMillis,
    pub actor: Actor,
}

impl Command for IssueOtp {
    type Output = IssueOtpOutcome;
}

/// What asking for a passcode did.
#[derive(Debug)]
pub enum IssueOtpOutcome {
    /// The token does not name an active link that takes passcodes.
    Unavailable,
    /// The code (new or the live one) is queued in the outbox, in this same commit, for the
    /// worker to send; `None` when the link has no address on its passcode channel.
    Queued(Option<Box<DeliveryRecord>>),
    /// Nothing sent: cooldown or hourly limit.
    Refused { retry_after_ms: i64 },
}

/// Counts the attempt, then compares `candidate` with the live code (constant time).
#[derive(Debug)]
pub struct VerifyOtp {
    pub token_hash: TokenHash,
    pub candidate: SecretHash,
    pub at: UnixMillis,
    pub actor: Actor,
}

impl Command for VerifyOtp {
    type Output = VerifyOutcome;
}

/// What checking a passcode did.
#[derive(Debug)]
pub enum VerifyOutcome {
    /// The token does not name an active link that takes passcodes.
    Unavailable,
    Verified(Box<LinkRecord>),
    /// Wrong or dead code; `locked` when this attempt used up the link's budget.
    NotVerified {
        locked: bool,
    },
}

/// The one atomic check-and-increment of a view, storing the hand-off grant if it passes.
/// `verified_for` is the token hash a valid session cookie was checked against.
#[derive(Debug)]
pub struct OpenLink {
    pub token_hash: TokenHash,
    pub verified_for: Option<TokenHash>,
    pub grant: SecretHash,
    pub at: UnixMillis,
    pub actor: Actor,
}

impl Command for OpenLink {
    type Output = OpenOutcome;
}

/// What an open did.
#[derive(Debug)]
pub enum OpenOutcome {
    /// The token does not name a usable link (unknown, revoked, expired, exhausted, locked).
    Unavailable,
    Opened(Box<LinkRecord>),
    /// The link is usable but not by this request (a passcode is required).
    Denied {
        reason: &'static str,
    },
}

/// Staff lift a lock (and the failure count). `None`: no such link in this tenant.
#[derive(Debug)]
pub struct UnlockLink {
    pub tenant_id: TenantId,
    pub uid: LinkUid,
    pub by: UserId,
    pub at: UnixMillis,
}

impl Command for UnlockLink {
    type Output = Option<Box<LinkRecord>>;
}

/// A resource application exchanges a grant (once). `None`: unknown, used, expired, another
/// tenant's, or its link no longer backs it.
#[derive(Debug)]
pub struct ConsumeGrant {
    pub grant: SecretHash,
    pub tenant_id: TenantId,
    pub at: UnixMillis,
}

impl Command for ConsumeGrant {
    type Output = Option<Box<GrantRecord>>;
}

/// Records an event that changes nothing else (a passcode sent).
#[derive(Debug)]
pub struct LogEvent {
    pub token_hash: TokenHash,
    pub event: AccessEvent,
    /// `Success`, `Failure` or `Info`.
    pub outcome: Outcome,
    pub detail: Option<String>,
    pub at: UnixMillis,
    pub actor: Actor,
}

impl Command for LogEvent {
    type Output = ();
}

/// Landing views collected since the last flush, one `LandingViewed` entry each; views of
/// links purged in the meantime are skipped.
#[derive(Debug)]
pub struct LogLandings(pub Vec<LandingView>);

impl Command for LogLandings {
    type Output = ();
}

/// Denied opens of dead links collected since the last flush, each already counted per
/// link, reason and address; links purged in the meantime are skipped.
#[derive(Debug)]
pub struct LogDenials(pub Vec<RepeatedDenial>);

impl Command for LogDenials {
    type Output = ();
}
