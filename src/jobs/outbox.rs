//! The outbox worker: leases the deliveries that are due (passcodes the portal just queued,
//! first attempts whose create call gave up waiting, retries after backoff, anything left
//! from before a restart) and attempts each once. It runs a round at once, then whenever
//! `deliverer.wake` rings (a passcode was queued) and at the latest every interval. Each
//! attempt is guarded (`delivery::outbox`): one that panics or fails permanently marks only
//! its own delivery `Failed`. Stops after the current round when asked.

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
    let lease = settings.attempt_timeout.as_millis() as i64 * 2 + 60_000;
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

/// One round: lease what is due (each for `lease` ms) and attempt each delivery once.
async fn run_due(outbox: &Outbox, lease: i64) -> Result<usize, crate::store::StoreError> {
    let now = outbox.clock.now();
    let op = LeaseDue {
        now,
        lease_until: now.plus_ms(lease),
        limit: ROUND,
    };
    let due = outbox.store.write(op).await?;
    for record in &due {
        if let Err(reason) = attempt_queued(outbox, record).await {
            tracing::warn!(delivery = record.delivery_id, reason = %reason, "delivery attempt failed");
        }
    }
    Ok(due.len())
}
