//! The outbox worker: every interval, leases the deliveries that are due (first attempts
//! whose create call gave up waiting, retries after backoff, anything left from before a
//! restart) and attempts each once. Stops after the current round when asked.

use std::sync::Arc;

use super::Job;
use crate::app::AppState;
use crate::delivery::outbox::{attempt, retry_policy};
use crate::store::{AttemptOutcome, WriteOp, WriteOutcome};

/// How many deliveries one round takes.
const ROUND: usize = 32;

/// Starts the worker; stopping it lets the current round finish.
pub fn spawn(state: Arc<AppState>) -> Job {
    let period = state.config.delivery.worker_interval;
    let panics = Arc::clone(&state.metrics.jobs);
    Job::every("outbox", panics, period, false, move |_| {
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
    let op = WriteOp::LeaseDue {
        now,
        lease_until: now.saturating_add(lease),
        limit: ROUND,
    };
    let WriteOutcome::Deliveries(due) = state.store.write(op).await? else {
        return Ok(0);
    };
    for record in &due {
        match state
            .keys
            .open_token(&record.sealed_token, record.link_uid.as_bytes())
        {
            Some(token) => {
                if let Err(reason) = attempt(state, record, &token).await {
                    tracing::warn!(delivery = record.delivery_id, reason = %reason, "delivery attempt failed");
                }
            }
            None => {
                let op = WriteOp::RecordAttempt {
                    delivery_id: record.delivery_id,
                    at: state.clock.now(),
                    outcome: AttemptOutcome::Failed {
                        permanent: true,
                        error:
                            "the sealed link could not be opened (was the master secret replaced?)"
                                .into(),
                    },
                    retry: retry_policy(state),
                };
                state.store.write(op).await?;
            }
        }
    }
    Ok(due.len())
}
