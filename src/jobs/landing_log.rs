//! The landing log: landing page views — and denied opens of dead links (revoked, expired,
//! exhausted, locked) — are collected in memory and written to the access log together every
//! [`FLUSH_EVERY`], at most [`MAX_PER_FLUSH`] of each at a time. A landing, or an open of a
//! dead token, so never waits for, or queues, a durable write of its own (a dead token then
//! answers exactly like an unknown one), and a flood costs the writer a bounded amount of
//! work. Denials are counted per link, reason and address as they arrive, so a flood from one
//! address is one entry however long it lasts; views, and denials from more than
//! [`MAX_PER_FLUSH`] distinct sources, past the bound are counted
//! (`customerlink_portal_landing_views_dropped_total`) but not itemised. Views that count — opens — are written by their own request, durably,
//! before it answers.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use super::{Handles, Job};
use crate::domain::portal::{Actor, LandingView, RepeatedDenial, Repeats};
use crate::domain::{TokenHash, UnixMillis};
use crate::metrics::PortalStats;
use crate::store::commands::{LogDenials, LogLandings};

/// How often collected views are written.
pub const FLUSH_EVERY: Duration = Duration::from_millis(250);
/// The most views one flush writes (so at most four times this per second).
pub const MAX_PER_FLUSH: usize = 256;

/// An open refused because the link is dead, to be logged as `OpenDenied`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeniedOpen {
    pub token_hash: TokenHash,
    /// The link's status (`Revoked`, `Expired`, …).
    pub detail: String,
    pub at: UnixMillis,
    pub actor: Actor,
}

/// Denials waiting for the next flush, by link, reason and address.
type DenialKey = (TokenHash, String, Option<String>);

/// Views and denied opens waiting for the next flush.
#[derive(Debug, Default)]
pub struct LandingViews {
    pending: Mutex<Vec<LandingView>>,
    denials: Mutex<HashMap<DenialKey, RepeatedDenial>>,
}

impl LandingViews {
    /// Queues a view for the next flush; `false` if this flush is already full.
    pub fn push(&self, view: LandingView) -> bool {
        let mut pending = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
        if pending.len() >= MAX_PER_FLUSH {
            return false;
        }
        pending.push(view);
        true
    }

    /// Counts a denied open for the next flush: a repeat (same link, reason and address) adds
    /// to its entry; `false` if it is new and this flush already holds the most entries.
    pub fn push_denial(&self, denial: DeniedOpen) -> bool {
        let mut denials = self.denials.lock().unwrap_or_else(PoisonError::into_inner);
        let key = (denial.token_hash, denial.detail, denial.actor.ip.clone());
        if let Some(known) = denials.get_mut(&key) {
            known.repeats.again(denial.at);
            known.actor = denial.actor;
            return true;
        }
        if denials.len() >= MAX_PER_FLUSH {
            return false;
        }
        let entry = RepeatedDenial {
            token_hash: key.0,
            detail: key.1.clone(),
            actor: denial.actor,
            repeats: Repeats::once(denial.at),
        };
        denials.insert(key, entry);
        true
    }

    fn take_denials(&self) -> Vec<RepeatedDenial> {
        let mut denials = self.denials.lock().unwrap_or_else(PoisonError::into_inner);
        let mut taken: Vec<RepeatedDenial> = std::mem::take(&mut *denials).into_values().collect();
        taken.sort_by_key(|d| d.repeats.first);
        taken
    }

    fn take(&self) -> Vec<LandingView> {
        let mut pending = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
        std::mem::take(&mut *pending)
    }
}

/// What the landing log needs: its job handles, what the portal collected and its counters.
struct LandingLog {
    handles: Handles,
    views: Arc<LandingViews>,
    stats: Arc<PortalStats>,
}

/// Starts the landing log; stopping it writes what is still collected in `views`.
pub fn spawn(handles: Handles, views: Arc<LandingViews>, stats: Arc<PortalStats>) -> Job {
    let panics = Arc::clone(&handles.panics);
    let clock = Arc::clone(&handles.clock);
    let log = Arc::new(LandingLog {
        handles,
        views,
        stats,
    });
    Job::every("landing_log", panics, clock, FLUSH_EVERY, true, move |_| {
        let log = Arc::clone(&log);
        async move { flush(&log).await }
    })
}

async fn flush(log: &LandingLog) {
    flush_denials(log).await;
    let views = log.views.take();
    if views.is_empty() {
        return;
    }
    let count = views.len() as u64;
    let op = LogLandings(views);
    match log.handles.store.write(op).await {
        Ok(_) => {
            log.stats.landing_views_logged.inc_by(count);
        }
        Err(e) => tracing::warn!(error = %e, views = count, "could not log landing views"),
    }
}

/// Writes the denied opens in one command (one commit); the store folds each into its
/// aggregated `OpenDenied` row.
async fn flush_denials(log: &LandingLog) {
    let denials = log.views.take_denials();
    if denials.is_empty() {
        return;
    }
    let count = denials.len();
    let op = LogDenials(denials);
    if let Err(e) = log.handles.store.write(op).await {
        tracing::warn!(error = %e, denials = count, "could not log denied opens");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::LinkUid;
    use crate::domain::millis::ms;

    fn view(n: u128) -> LandingView {
        LandingView {
            link_uid: LinkUid::from_u128(n),
            at: ms(0),
            actor: Actor {
                ip: None,
                user_agent: None,
                user_id: None,
            },
        }
    }

    #[test]
    fn a_full_batch_refuses_views_until_it_is_taken() {
        let views = LandingViews::default();
        for n in 0..MAX_PER_FLUSH as u128 {
            assert!(views.push(view(n)));
        }
        assert!(!views.push(view(u128::MAX)), "the batch is full");
        let taken = views.take();
        assert_eq!(taken.len(), MAX_PER_FLUSH);
        assert_eq!(taken[0], view(0), "kept in arrival order");
        assert!(views.push(view(7)), "room again after the flush took them");
    }

    #[test]
    fn repeated_denials_from_one_address_are_one_entry_and_never_dropped() {
        let views = LandingViews::default();
        let hash = |n: u16| {
            let mut h = [0u8; 32];
            h[..2].copy_from_slice(&n.to_le_bytes());
            h
        };
        let denial = |n: u16, ip: &str, at: UnixMillis| DeniedOpen {
            token_hash: TokenHash(hash(n)),
            detail: "Revoked".into(),
            at,
            actor: Actor {
                ip: Some(ip.into()),
                user_agent: None,
                user_id: None,
            },
        };
        for n in 0..MAX_PER_FLUSH as u16 {
            assert!(views.push_denial(denial(n, "192.0.2.1", ms(5))));
        }
        assert!(
            !views.push_denial(denial(0, "192.0.2.2", ms(5))),
            "a new source, full"
        );
        for at in 0..1_000 {
            assert!(
                views.push_denial(denial(0, "192.0.2.1", ms(at))),
                "a repeat"
            );
        }
        let taken = views.take_denials();
        assert_eq!(taken.len(), MAX_PER_FLUSH);
        let first = taken.iter().find(|d| d.token_hash == TokenHash(hash(0)));
        assert_eq!(
            first.map(|d| d.repeats),
            Some(Repeats {
                first: ms(0),
                last: ms(999),
                count: 1_001
            })
        );
    }
}
