//! Link gauges from one read snapshot, through the indexes: the total and the revoked count
//! are table lengths (O(1)); expired-but-not-revoked walks only the expired part of the
//! expiry index (bounded by the purge retention). Exhausted and locked links count as live:
//! telling them apart would need a scan of every record.

use std::sync::atomic::Ordering;

use redb::{ReadTransaction, ReadableTableMetadata};

use super::LinkGauges;
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
pub fn count(txn: &ReadTransaction, now: i64) -> Result<LinkCounts, StoreError> {
    let links = txn.open_table(LINKS)?;
    let mut counts = LinkCounts {
        total: links.len()?,
        revoked: txn.open_table(LINKS_BY_REVOKED)?.len()?,
        expired: 0,
    };
    for entry in txn
        .open_table(LINKS_BY_EXPIRY)?
        .range(..=(now, u128::MAX))?
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

impl LinkGauges {
    /// Publishes counts taken at `now` (Unix ms).
    pub fn set(&self, counts: LinkCounts, now: i64) {
        self.total.store(counts.total, Ordering::Relaxed);
        self.revoked.store(counts.revoked, Ordering::Relaxed);
        self.expired.store(counts.expired, Ordering::Relaxed);
        self.refreshed_at
            .store(u64::try_from(now / 1000).unwrap_or(0), Ordering::Relaxed);
    }
}
