//! The outbox worker: leases the deliveries that are due (passcodes the portal just queued,
//! first attempts whose create call gave up waiting, retries after backoff, anything left
//! from before a restart) and attempts each once. It runs a round at once, then whenever
//! `deliverer.wake` rings (a passcode was queued) and at the latest every interval. Each
//! attempt is guarded (`delivery::outbox`): one that panics or fails permanently marks only
//! its own delivery `Failed`. Stops after the current round when asked.

use std::sync::Arc;
use std::time::Duration;

use super::Job;
use crate::app::AppState;
use crate::delivery::outbox::attempt_queued;
use crate::store::{WriteOp, WriteOutcome};

/// How many deliveries one round takes.
const ROUND: usize = 32;

/// Starts the worker; stopping it lets the current round finish.
pub fn spawn(state: Arc<AppState>) -> Job {
    let period = state.config.delivery.worker_interval;
    // The job ticks at once after each round; the round itself waits (for the doorbell, the
    // interval or the stop signal) before it works, so the first round runs right away.
    let mut first = true;
    Job::every(Duration::from_millis(1), false, move |mut stop| {
        let state = Arc::clone(&state);
        let wait = !std::mem::take(&mut first);
        async move {
            if wait {
                tokio::select! {
                    _ = state.deliverer.wake.notified() => {}
                    _ = tokio::time::sleep(period) => {}
                    _ = stop.changed() => return,
                }
            }
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
    let op = WriteOp::LeaseDue {
        now,
        lease_until: now.saturating_add(lease),
        limit: ROUND,
    };
    let WriteOutcome::Deliveries(due) = state.store.write(op).await? else {
        return Ok(0);
    };
    for record in &due {
        if let Err(reason) = attempt_queued(state, record).await {
            tracing::warn!(delivery = record.delivery_id, reason = %reason, "delivery attempt failed");
        }
    }
    Ok(due.len())
}
