//! Purge: every interval, deletes links that have been expired or revoked for longer than the
//! retention, with all their index entries, in small batches through the writer so it never
//! holds the writer for long. Finds its work through the expiry and revocation indexes, so it
//! never scans the links table. It also retires attachments: removing a share's link
//! releases its attachment when it was the last share, and attachments no share points at
//! are removed once `[attachments] retention_days` have passed since their upload or release
//! (found through `attachments_by_idle`; the embedded files after the commit).

use std::sync::Arc;

use tokio::sync::watch;

use super::{Handles, Job};
use crate::config::PurgeSettings;
use crate::metrics::PurgeStats;
use crate::store::StoreError;
use crate::store::commands::{PurgeRetired, SweepAttachmentChunks};

/// What the purge needs: its job handles, its settings (and `[attachments]
/// retention_days`, as milliseconds) and its counters.
struct Purge {
    handles: Handles,
    settings: PurgeSettings,
    attachment_retention_ms: i64,
    stats: Arc<PurgeStats>,
}

/// Starts the purge job; stopping it ends the current round after its batch.
pub fn spawn(
    handles: Handles,
    settings: PurgeSettings,
    attachment_retention_ms: i64,
    stats: Arc<PurgeStats>,
) -> Job {
    let period = settings.interval;
    let panics = Arc::clone(&handles.panics);
    let clock = Arc::clone(&handles.clock);
    let purge = Arc::new(Purge {
        handles,
        settings,
        attachment_retention_ms,
        stats,
    });
    Job::every("purge", panics, clock, period, false, move |stopped| {
        let purge = Arc::clone(&purge);
        async move {
            let stats = &purge.stats;
            stats.runs.inc();
            match purge_retired(&purge, &stopped).await {
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

/// Removes the files of attachments whose records the purge removed (after that commit, as
/// DELETE does); a file that cannot be removed is swept at the next start.
fn discard_files(store: &crate::store::Store, ids: &[uuid::Uuid]) {
    for id in ids {
        if let Err(e) = store.discard_attachment(*id) {
            tracing::warn!(error = %e, "a purged attachment's file could not be removed");
        }
    }
    if !ids.is_empty() {
        tracing::info!(attachments = ids.len(), "purged unshared attachments");
    }
}

/// Purges everything due, batch by batch; returns how many links were deleted.
async fn purge_retired(
    purge: &Purge,
    stopped: &watch::Receiver<bool>,
) -> Result<usize, StoreError> {
    let settings = &purge.settings;
    let mut total = 0;
    loop {
        let now = purge.handles.clock.now();
        let op = PurgeRetired {
            retired_before: now.minus_ms(settings.retention_ms),
            limit: settings.batch_size,
            now,
            attachments_idle_before: now.minus_ms(purge.attachment_retention_ms),
        };
        let report = purge.handles.store.write(op).await?;
        discard_files(&purge.handles.store, &report.attachments);
        // PostgreSQL: chunks of uploads that died over an hour ago (a no-op on the embedded
        // store, whose leftovers are swept at start, when no upload is in flight).
        purge.handles.store.write(SweepAttachmentChunks).await?;
        total += report.purged;
        purge.stats.purged.inc_by(report.purged as u64);
        if !report.more || *stopped.borrow() {
            return Ok(total);
        }
        tokio::task::yield_now().await;
    }
}
