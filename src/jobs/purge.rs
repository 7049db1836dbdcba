//! Purge: every interval, deletes links that have been expired or revoked for longer than the
//! retention, with all their index entries, in small batches through the writer so it never
//! holds the writer for long. Finds its work through the expiry and revocation indexes, so it
//! never scans the links table.

use std::sync::Arc;

use tokio::sync::watch;

use super::Job;
use crate::app::AppState;
use crate::store::StoreError;
use crate::store::commands::PurgeRetired;

/// Starts the purge job; stopping it ends the current round after its batch.
pub fn spawn(state: Arc<AppState>) -> Job {
    let period = state.config.purge.interval;
    let panics = Arc::clone(&state.metrics.jobs);
    let clock = Arc::clone(&state.clock);
    Job::every("purge", panics, clock, period, false, move |stopped| {
        let state = Arc::clone(&state);
        async move {
            let stats = &state.metrics.purge;
            stats.runs.inc();
            match purge_retired(&state, &stopped).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(purged = n, "purged retired links"),
                Err(e) => {
                    stats.failures.inc();
                    tracing::error!(error = %e, "purge failed; will retry next interval");
                }
            }
        }
    })
}

/// Purges everything due, batch by batch; returns how many links were deleted.
pub async fn purge_retired(
    state: &AppState,
    stopped: &watch::Receiver<bool>,
) -> Result<usize, StoreError> {
    let settings = &state.config.purge;
    let mut total = 0;
    loop {
        let now = state.clock.now();
        let op = PurgeRetired {
            retired_before: now.saturating_sub(settings.retention_ms),
            limit: settings.batch_size,
            now,
        };
        let report = state.store.write(op).await?;
        total += report.purged;
        state.metrics.purge.purged.inc_by(report.purged as u64);
        if !report.more || *stopped.borrow() {
            return Ok(total);
        }
        tokio::task::yield_now().await;
    }
}
