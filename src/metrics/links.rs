//! Link gauges: stored links by status, counted by the store (`store::queries::LinkCountsAt`)
//! when a scrape finds them stale. Exhausted and locked links count as live: telling them
//! apart would need a scan of every record.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

use crate::domain::UnixMillis;
pub use crate::store::queries::LinkCounts;

/// A link status as a label: `live` (active or out of views), `expired` or `revoked`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct Status {
    status: &'static str,
}

/// Stored links by status, recomputed by `/metrics` when a scrape finds them stale.
#[derive(Debug, Default)]
pub struct LinkGauges {
    by_status: Family<Status, Gauge>,
    /// Unix seconds of the last refresh (0 = not yet).
    refreshed_at: Gauge,
}

impl LinkGauges {
    /// Publishes counts taken at `now` (Unix ms).
    pub fn set(&self, counts: LinkCounts, now: UnixMillis) {
        let live = counts
            .total
            .saturating_sub(counts.revoked)
            .saturating_sub(counts.expired);
        for (status, n) in [
            ("live", live),
            ("expired", counts.expired),
            ("revoked", counts.revoked),
        ] {
            let n = i64::try_from(n).unwrap_or(i64::MAX);
            self.by_status.get_or_create(&Status { status }).set(n);
        }
        self.refreshed_at.set((now.as_i64() / 1000).max(0));
    }

    /// Unix ms of the last refresh; `None` before the first.
    pub fn refreshed_at(&self) -> Option<UnixMillis> {
        Some(self.refreshed_at.get() * 1000)
            .filter(|ms| *ms != 0)
            .map(UnixMillis::from)
    }

    pub(super) fn register(&self, r: &mut Registry) {
        let help = "Stored links by status (live = active or out of views; not yet purged)";
        super::add(r, "customerlink_links", help, &self.by_status);
        let help = "When the link gauges were last computed";
        let name = "customerlink_links_refreshed_timestamp_seconds";
        super::add(r, name, help, &self.refreshed_at);
    }
}
