//! "Ask for a new link" on the page of an unusable link. The request is answered at once with
//! the same text for every token — before anything is looked up, so neither the answer nor
//! its timing tells whether a link existed — and queued in memory for the re-issue job, which
//! applies the tier's `reissue` policy after the answer: `off` does nothing; `notify` logs
//! `ReissueRequested` (raising `link.reissue_requested` for subscribed webhooks); `auto` also
//! re-sends the link to its original address with a new token, a fresh expiry and view budget,
//! within the resend limits. Only expired and used-up links qualify, never revoked or locked
//! ones. Requests are limited per address (here) and per link (in the job); past either they
//! are dropped, still with the same answer. A queued request does not survive a restart.

use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::Notify;

use super::Portal;
use super::flow::token_hash;
use crate::api::delivery;
use crate::api::error::ApiError;
use crate::api::limits::Limiter;
use crate::clock::Clock;
use crate::config::DeliverySettings;
use crate::delivery::outbox::Outbox;
use crate::domain::link::LinkRecord;
use crate::domain::policy::{Policy, Reissue, Tier};
use crate::domain::portal::{AccessEvent, Actor, Outcome};
use crate::domain::resend::{self, reissuable};
use crate::domain::share::Family;
use crate::domain::token::{HashKeys, LinkToken};
use crate::domain::{HOUR_MS, TokenHash, UnixMillis, UserId};
use crate::store::Store;
use crate::store::commands::{LogEvent, ReissueOnRequest, Resend, ResendOutcome};
use crate::store::queries::{ContactOf, LinkByToken};

/// What every re-issue request answers, whatever the token and whatever happens next.
pub const REISSUE_REQUESTED: &str =
    "Thank you. If a new link can be sent, it is on its way to the address the link was sent to.";

/// The most requests waiting for the job; more are dropped (and said so in the log).
const MAX_PENDING: usize = 256;

/// One request, as the job needs it: the token only as its keyed hash.
#[derive(Debug, Clone)]
pub struct ReissueRequest {
    pub token_hash: TokenHash,
    pub family: Family,
    pub actor: Actor,
    pub at: UnixMillis,
}

/// Requests waiting for the re-issue job, and its doorbell.
#[derive(Debug, Default)]
pub struct ReissueRequests {
    pending: Mutex<Vec<ReissueRequest>>,
    pub wake: Arc<Notify>,
}

impl ReissueRequests {
    fn push(&self, request: ReissueRequest) -> bool {
        let mut pending = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
        if pending.len() >= MAX_PENDING {
            return false;
        }
        pending.push(request);
        true
    }

    fn take(&self) -> Vec<ReissueRequest> {
        std::mem::take(&mut *self.pending.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

/// The answering side: counts the request against the address's budget and queues it for
/// the job. Reads and writes nothing, so every token costs the same.
pub fn request(portal: Portal<'_>, token: &str, actor: &Actor) {
    let now = portal.clock.now();
    let address = actor.ip.as_deref().unwrap_or("");
    if !portal.limits.reissue.hit(address, now) {
        tracing::info!("re-issue request over the per-address limit; dropped");
        return;
    }
    let Some(token_hash) = token_hash(portal, token) else {
        return;
    };
    let queued = ReissueRequest {
        token_hash,
        family: portal.family,
        actor: actor.clone(),
        at: now,
    };
    if !portal.reissues.push(queued) {
        tracing::warn!("re-issue queue full; a request was dropped");
        return;
    }
    portal.reissues.wake.notify_one();
}

/// What the re-issue job uses: the records, keys, policy and outbox, its queue, and the
/// per-link budget.
pub struct Reissuer {
    pub store: Store,
    pub clock: Arc<dyn Clock>,
    pub keys: HashKeys,
    pub policy: Policy,
    pub outbox: Outbox,
    pub delivery: DeliverySettings,
    pub requests: Arc<ReissueRequests>,
    /// Requests acted on per link per hour.
    pub per_link: Limiter,
}

impl Reissuer {
    /// Handles every queued request in arrival order; a failure is logged and ends only its
    /// own request.
    pub async fn run_pending(&self) {
        for request in self.requests.take() {
            if let Err(e) = self.handle(&request).await {
                tracing::warn!(error = ?e, "a re-issue request failed");
            }
        }
    }

    async fn handle(&self, request: &ReissueRequest) -> Result<(), ApiError> {
        let found = self.store.fetch(LinkByToken(request.token_hash)).await?;
        let Some(link) = found.filter(|l| request.family.owns(l)) else {
            return Ok(());
        };
        if !reissuable(&link, request.at) {
            return Ok(());
        }
        let Some(tier) = self.policy.tiers.get(&link.sensitivity_tier) else {
            return Ok(());
        };
        if tier.reissue == Reissue::Off {
            return Ok(());
        }
        if !self
            .per_link
            .hit(&link.uid.simple().to_string(), request.at)
        {
            tracing::info!(link = %link.uid, "re-issue request over the per-link limit; dropped");
            return Ok(());
        }
        match tier.reissue {
            Reissue::Auto => self.auto(request, &link, tier).await,
            _ => self.note(request, "notify".into()).await,
        }
    }

    /// Logs `ReissueRequested` (which raises `link.reissue_requested`).
    async fn note(&self, request: &ReissueRequest, detail: String) -> Result<(), ApiError> {
        let op = LogEvent {
            token_hash: request.token_hash,
            event: AccessEvent::ReissueRequested,
            outcome: Outcome::Info,
            detail: Some(detail),
            at: request.at,
            actor: request.actor.clone(),
        };
        Ok(self.store.write(op).await?)
    }

    /// Re-sends the link with a new token and the tier's fresh limits, over the channels it
    /// last went out on, and makes the first attempts (the outbox retries the rest).
    async fn auto(
        &self,
        request: &ReissueRequest,
        link: &LinkRecord,
        tier: &Tier,
    ) -> Result<(), ApiError> {
        let Ok(wanted) = resend::channels(link, None, None) else {
            return self
                .note(request, "auto; not re-issued: no address".into())
                .await;
        };
        let contact = match link.recipient_contact_id {
            Some(id) => {
                let of = ContactOf {
                    tenant: link.tenant_id,
                    id,
                };
                self.store.fetch(of).await?
            }
            None => None,
        };
        let token = LinkToken::generate()?;
        let (outbox, policy) = (&self.outbox, &self.policy);
        let (deliveries, _) =
            delivery::plan(outbox, policy, link, &token, wanted, contact.as_ref())?;
        let life = i64::from(tier.default_expires_in_hours) * HOUR_MS;
        let op = Resend {
            tenant_id: link.tenant_id,
            uid: link.uid,
            by: UserId::from(uuid::Uuid::nil()),
            token_hash: self.keys.token(request.family, &token),
            at: request.at,
            deliveries,
            limits: delivery::limits(&self.delivery, request.at),
            rules: delivery::resend_rules(&self.delivery),
            reissue: Some(ReissueOnRequest {
                expires_at: request.at.plus_ms(life),
                actor: request.actor.clone(),
            }),
        };
        match self.store.write(op).await? {
            ResendOutcome::Resent(written) => {
                let limit = self.delivery.attempt_timeout;
                delivery::first_attempts(&self.outbox, limit, &written.queued, &token).await;
                Ok(())
            }
            ResendOutcome::Refused(why) => {
                let detail = format!("auto; not re-issued: {}", refusal_text(why));
                self.note(request, detail).await
            }
            ResendOutcome::NotFound => Ok(()),
        }
    }
}

fn refusal_text(why: resend::ResendRefusal) -> String {
    match why {
        resend::ResendRefusal::NotActive(status) => format!("the link is {}", status.as_str()),
        resend::ResendRefusal::RateLimited { .. } => "resend limit reached".into(),
    }
}
