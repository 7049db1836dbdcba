//! The re-issue job: handles the "Ask for a new link" requests the portal queued, after it
//! answered them (`api::portal::reissue`). Woken by each request; also runs every second in
//! case a wake was missed. Stopping it drops what is still queued (requests are not durable).

use std::sync::Arc;
use std::time::Duration;

use super::Job;
use crate::api::portal::reissue::Reissuer;
use crate::metrics::JobPanics;

/// Starts the job.
pub fn spawn(reissuer: Reissuer, panics: Arc<JobPanics>) -> Job {
    let wake = Arc::clone(&reissuer.requests.wake);
    let clock = Arc::clone(&reissuer.clock);
    let reissuer = Arc::new(reissuer);
    let period = Duration::from_secs(1);
    Job::every_or_when_woken("reissue", panics, clock, period, wake, move |_| {
        let reissuer = Arc::clone(&reissuer);
        async move { reissuer.run_pending().await }
    })
}
