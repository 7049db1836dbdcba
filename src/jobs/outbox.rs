//! The outbox worker: leases the deliveries that are due (passcodes the portal just queued,
//! first attempts whose create call gave up waiting, retries after backoff, anything left
//! from before a restart) and attempts each once. It runs a round at once, then whenever
//! `deliverer.wake` rings (a passcode was queued) and at the latest every interval. Each
//! attempt is guarded (`delivery::outbox`): one that panics or fails permanently marks only
//! its own delivery `Failed`. Stops after the current round when asked.

use std::sync::Arc;

use super::Job;
use crate::app::AppState;
use crate::delivery::outbox::attempt_queued;
use crate::store::commands::LeaseDue;

/// How many deliveries one round takes.
const ROUND: usize = 32;

/// Starts the worker; stopping it lets the current round finish.
pub fn spawn(state: Arc<AppState>) -> Job {
    let period = state.config.delivery.worker_interval;
    let panics = Arc::clone(&state.metrics.jobs);
    let wake = Arc::clone(&state.deliverer.wake);
    let clock = Arc::clone(&state.clock);
    Job::every_or_when_woken("outbox", panics, clock, period, wake, move |_| {
        let state = Arc::clone(&state);
        async move {
            if let Err(e) = run_due(&state).await {
                tracing::error!(error = %e, "outbox round failed; will retry next interval");
            }
        }
    })
}

/// One round: lease what is due and attempt each delivery once.
pub async fn run_due(state: &AppState) -> Result<usize, crate::store::StoreError> {
    let now = state.clock.now();
    let lease = state.config.delivery.attempt_timeout.as_millis() as i64 * 2 + 60_000;
    let op = LeaseDue {
        now,
        lease_until: now.saturating_add(lease),
        limit: ROUND,
    };
    let due = state.store.write(op).await?;
    for record in &due {
        if let Err(reason) = attempt_queued(state, record).await {
            tracing::warn!(delivery = record.delivery_id, reason = %reason, "delivery attempt failed");
        }
    }
    Ok(due.len())
}
