//! Commands of the delivery worker, and the limits the link commands queue under.

use super::Command;
use crate::domain::delivery::DeliveryRecord;

/// Per-hour send limits, and when a just-queued delivery's first attempt may be retried by
/// the worker (after the create call's own attempt has had its chance).
#[derive(Debug, Clone, Copy)]
pub struct SendLimits {
    pub per_recipient_per_hour: u32,
    pub per_tenant_per_hour: u32,
    pub first_retry_at: i64,
}

/// Records the result of one delivery attempt and schedules a retry or gives up. `None`:
/// the delivery no longer exists.
#[derive(Debug)]
pub struct RecordAttempt {
    pub delivery_id: u64,
    pub at: i64,
    pub outcome: AttemptOutcome,
    pub retry: RetryPolicy,
}

impl Command for RecordAttempt {
    type Output = Option<DeliveryRecord>;
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

/// Takes up to `limit` queued deliveries due at `now`, moving each one's next attempt to
/// `lease_until` so a crash mid-send retries it later instead of losing it.
#[derive(Debug)]
pub struct LeaseDue {
    pub now: i64,
    pub lease_until: i64,
    pub limit: usize,
}

impl Command for LeaseDue {
    type Output = Vec<DeliveryRecord>;
}
