//! The landing log: landing page views — and denied opens of dead links (revoked, expired,
//! exhausted, locked) — are collected in memory and written to the access log together every
//! [`FLUSH_EVERY`], at most [`MAX_PER_FLUSH`] of each at a time. A landing, or an open of a
//! dead token, so never waits for, or queues, a durable write of its own (a dead token then
//! answers exactly like an unknown one), and a flood costs the writer a bounded amount of
//! work; entries past the bound are counted (`customerlink_portal_landing_views_dropped_total`)
//! but not itemised. Views that count — opens — are written by their own request, durably,
//! before it answers.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use futures_util::future::join_all;

use super::Job;
use crate::app::AppState;
use crate::domain::portal::{AccessEvent, Actor, LandingView};
use crate::store::{PortalOp, WriteOp};

/// How often collected views are written.
pub const FLUSH_EVERY: Duration = Duration::from_millis(250);
/// The most views one flush writes (so at most four times this per second).
pub const MAX_PER_FLUSH: usize = 256;

/// An open refused because the link is dead, to be logged as `OpenDenied`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeniedOpen {
    pub token_hash: [u8; 32],
    /// The link's status (`Revoked`, `Expired`, …).
    pub detail: String,
    pub at: i64,
    pub actor: Actor,
}

/// Views and denied opens waiting for the next flush.
#[derive(Debug, Default)]
pub struct LandingViews {
    pending: Mutex<Vec<LandingView>>,
    denials: Mutex<Vec<DeniedOpen>>,
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

    /// Queues a denied open for the next flush; `false` if this flush is already full.
    pub fn push_denial(&self, denial: DeniedOpen) -> bool {
        let mut denials = self.denials.lock().unwrap_or_else(PoisonError::into_inner);
        if denials.len() >= MAX_PER_FLUSH {
            return false;
        }
        denials.push(denial);
        true
    }

    fn take_denials(&self) -> Vec<DeniedOpen> {
        let mut denials = self.denials.lock().unwrap_or_else(PoisonError::into_inner);
        std::mem::take(&mut *denials)
    }

    fn take(&self) -> Vec<LandingView> {
        let mut pending = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
        std::mem::take(&mut *pending)
    }
}

/// Starts the landing log; stopping it writes what is still collected.
pub fn spawn(state: Arc<AppState>) -> Job {
    let panics = Arc::clone(&state.metrics.jobs);
    Job::every("landing_log", panics, FLUSH_EVERY, true, move |_| {
        let state = Arc::clone(&state);
        async move { flush(&state).await }
    })
}

async fn flush(state: &AppState) {
    flush_denials(state).await;
    let views = state.portal_limits.landing_views.take();
    if views.is_empty() {
        return;
    }
    let count = views.len() as u64;
    let op = WriteOp::Portal(PortalOp::LogLandings(views));
    match state.store.write(op).await {
        Ok(_) => {
            let logged = &state.metrics.portal.landing_views_logged;
            logged.fetch_add(count, Ordering::Relaxed);
        }
        Err(e) => tracing::warn!(error = %e, views = count, "could not log landing views"),
    }
}

/// Writes the denied opens as ordinary `PortalOp::Log` commands (the store decides how a
/// denial is kept), all queued at once so the writer applies them in one commit.
async fn flush_denials(state: &AppState) {
    let denials = state.portal_limits.landing_views.take_denials();
    if denials.is_empty() {
        return;
    }
    let writes = denials.into_iter().map(|d| {
        state.store.write(WriteOp::Portal(PortalOp::Log {
            token_hash: d.token_hash,
            event: AccessEvent::OpenDenied,
            outcome: "Failure",
            detail: Some(d.detail),
            at: d.at,
            actor: d.actor,
        }))
    });
    let failed = join_all(writes).await.iter().filter(|r| r.is_err()).count();
    if failed > 0 {
        tracing::warn!(denials = failed, "could not log denied opens");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view(n: u128) -> LandingView {
        LandingView {
            link_uid: uuid::Uuid::from_u128(n),
            at: 0,
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
}
