//! Link gauges from one read snapshot, through the indexes: the total and the revoked count
//! are table lengths (O(1)); expired-but-not-revoked walks only the expired part of the
//! expiry index (bounded by the purge retention). Exhausted and locked links count as live:
//! telling them apart would need a scan of every record.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use redb::{ReadTransaction, ReadableTableMetadata};

use crate::domain::UnixMillis;
use crate::domain::link::LinkRecord;
use crate::store::StoreError;
use crate::store::tables::{LINKS, LINKS_BY_EXPIRY, LINKS_BY_REVOKED};

/// Link counts at one moment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LinkCounts {
    pub total: u64,
    pub revoked: u64,
    /// Expired and not revoked.
    pub expired: u64,
}

/// Counts links at `now` (Unix ms) in one snapshot.
pub fn count(txn: &ReadTransaction, now: UnixMillis) -> Result<LinkCounts, StoreError> {
    let links = txn.open_table(LINKS)?;
    let mut counts = LinkCounts {
        total: links.len()?,
        revoked: txn.open_table(LINKS_BY_REVOKED)?.len()?,
        expired: 0,
    };
    for entry in txn
        .open_table(LINKS_BY_EXPIRY)?
        .range(..=(now.as_i64(), u128::MAX))?
    {
        let uid = entry?.0.value().1;
        if let Some(record) = links.get(uid)? {
            let link: LinkRecord = rmp_serde::from_slice(record.value())
                .map_err(|e| StoreError::Corrupt(e.to_string()))?;
            counts.expired += u64::from(link.revoked_at.is_none());
        }
    }
    Ok(counts)
}

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
