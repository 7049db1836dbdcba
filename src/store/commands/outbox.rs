//! Commands of the delivery worker, and the limits the link commands queue under.

use super::Command;
use crate::domain::UnixMillis;
use crate::domain::delivery::DeliveryRecord;
pub use crate::domain::delivery::{AttemptOutcome, RetryPolicy, SendLimits};

/// Records the result of one delivery attempt and schedules a retry or gives up. `None`:
/// the delivery no longer exists. A webhook event's attempt also updates its endpoint's
/// state, switching it off after `webhook_max_failures` failures in a row (its `disabled_at`
/// is then this attempt's `at`).
#[derive(Debug)]
pub struct RecordAttempt {
    pub delivery_id: u64,
    pub at: UnixMillis,
    pub outcome: AttemptOutcome,
    pub retry: RetryPolicy,
    pub webhook_max_failures: u32,
}

impl Command for RecordAttempt {
    type Output = Option<DeliveryRecord>;
}

impl RecordAttempt {
    /// The failure to count against a webhook endpoint, `None` for a success.
    pub fn error(&self) -> Option<&str> {
        match &self.outcome {
            AttemptOutcome::Sent => None,
            AttemptOutcome::Failed { error, .. } => Some(error),
        }
    }
}

/// Takes up to `limit` queued deliveries due at `now`, moving each one's next attempt to
/// `lease_until` so a crash mid-send retries it later instead of losing it.
#[derive(Debug)]
pub struct LeaseDue {
    pub now: UnixMillis,
    pub lease_until: UnixMillis,
    pub limit: usize,
}

impl Command for LeaseDue {
    type Output = Vec<DeliveryRecord>;
}
