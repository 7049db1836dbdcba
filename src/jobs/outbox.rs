//! The outbox worker: leases the deliveries that are due (passcodes the portal just queued,
//! first attempts whose create call gave up waiting, retries after backoff, anything left from
//! before a restart) and attempts each once. It runs a round at once, then whenever
//! `deliverer.wake` rings (a commit queued a passcode or another delivery due at once) and at the
//! latest every interval. Each attempt is guarded (`delivery::outbox`): one that panics or
//! fails permanently marks only its own delivery `Failed`. A round ends early once its lease
//! could not cover another attempt, so an instance never sends what another may have retaken
//! after the lease ended (several instances share one outbox on PostgreSQL). Stops after the
//! current round when asked.

use std::sync::Arc;

use super::Job;
use crate::config::DeliverySettings;
use crate::delivery::outbox::{Outbox, attempt_queued};
use crate::metrics::JobPanics;
use crate::store::commands::LeaseDue;

/// How many deliveries one round takes.
const ROUND: usize = 32;

/// Starts the worker; stopping it lets the current round finish.
pub fn spawn(outbox: Outbox, settings: &DeliverySettings, panics: Arc<JobPanics>) -> Job {
    let period = settings.worker_interval;
    let attempt_bound = settings.attempt_timeout.as_millis() as i64 * 2;
    let lease = Lease {
        length: attempt_bound + 60_000,
        attempt_bound,
    };
    let wake = Arc::clone(&outbox.deliverer.wake);
    let clock = Arc::clone(&outbox.clock);
    let outbox = Arc::new(outbox);
    Job::every_or_when_woken("outbox", panics, clock, period, wake, move |_| {
        let outbox = Arc::clone(&outbox);
        async move {
            if let Err(e) = run_due(&outbox, lease).await {
                tracing::error!(error = %e, "outbox round failed; will retry next interval");
            }
        }
    })
}

/// How long a round's lease lasts, and how long one attempt may take.
#[derive(Clone, Copy)]
struct Lease {
    /// Milliseconds from the lease to its expiry.
    length: i64,
    /// The longest an attempt is expected to take (two attempt timeouts).
    attempt_bound: i64,
}

/// One round: lease what is due (each for `lease.length` ms) and attempt each delivery
/// once, in turn. Once what is left of the lease could not cover another attempt the round
/// ends: past its expiry another instance may lease (and send) the rest, so sending them
/// here too would send them twice. They are retaken, here or there, when the lease ends.
async fn run_due(outbox: &Outbox, lease: Lease) -> Result<usize, crate::store::StoreError> {
    let now = outbox.clock.now();
    let lease_until = now.plus_ms(lease.length);
    let op = LeaseDue {
        now,
        lease_until,
        limit: ROUND,
    };
    let due = outbox.store.write(op).await?;
    for (done, record) in due.iter().enumerate() {
        if outbox.clock.now().plus_ms(lease.attempt_bound) > lease_until {
            tracing::warn!(
                left = due.len() - done,
                "the outbox round outlived its lease; the rest is retaken when the lease ends"
            );
            break;
        }
        if let Err(reason) = attempt_queued(outbox, record).await {
            tracing::warn!(delivery = record.delivery_id, reason = %reason, "delivery attempt failed");
        }
    }
    Ok(due.len())
}
