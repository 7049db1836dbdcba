//! The outbox worker: every interval, leases the deliveries that are due (first attempts
//! whose create call gave up waiting, retries after backoff, anything left from before a
//! restart) and attempts each once. Stops after the current round when asked.

use std::sync::Arc;

use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::app::AppState;
use crate::delivery::outbox::{attempt, retry_policy};
use crate::store::{AttemptOutcome, WriteOp, WriteOutcome};

/// How many deliveries one round takes.
const ROUND: usize = 32;

/// Running worker; `stop` ends it after the current round.
pub struct OutboxHandle {
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl OutboxHandle {
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

pub fn spawn(state: Arc<AppState>) -> OutboxHandle {
    let (stop, mut stopped) = watch::channel(false);
    let task = tokio::spawn(async move {
        let mut ticks = tokio::time::interval(state.config.delivery.worker_interval);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = stopped.changed() => return,
                _ = ticks.tick() => {}
            }
            if let Err(e) = run_due(&state).await {
                tracing::error!(error = %e, "outbox round failed; will retry next interval");
            }
        }
    });
    OutboxHandle { stop, task }
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
