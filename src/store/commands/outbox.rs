//! Commands of the delivery worker, and the limits the link commands queue under.

use super::Command;
use crate::domain::UnixMillis;
use crate::domain::delivery::DeliveryRecord;
pub use crate::domain::delivery::{AttemptOutcome, RetryPolicy, SendLimits};

/// Records the result of one delivery attempt and schedules a retry or gives up. `None`:
/// the delivery no longer exists.
#[derive(Debug)]
pub struct RecordAttempt {
    pub delivery_id: u64,
    pub at: UnixMillis,
    pub outcome: AttemptOutcome,
    pub retry: RetryPolicy,
}

impl Command for RecordAttempt {
    type Output = Option<DeliveryRecord>;
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
