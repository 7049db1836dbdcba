//! The portal steps, shared by the API and the browser pages. Unknown, expired, revoked,
//! exhausted and locked tokens all end in the same `Unavailable`, after the same one store
//! read and no durable write (a dead token's denied open is logged in the landing log's next
//! batch), so a caller cannot tell them apart, not even by time. Only `open` consumes a view.
//! Passcodes go out through the outbox: asking for one never waits for the relay.

use super::Portal;
use crate::api::error::ApiError;
use crate::domain::link::{LinkRecord, LinkStatus};
use crate::domain::otp::{generate_code, normalise_entry};
use crate::domain::portal::{
    Actor, LandingView, SESSION_TTL_MS, new_grant, session_cookie, session_is_valid,
};
use crate::domain::share::Family;
use crate::domain::token::{LinkToken, Secret};
use crate::domain::{TokenHash, UnixMillis};
use crate::jobs::landing_log::DeniedOpen;
use crate::store::commands::{IssueOtp, OpenLink, OpenOutcome, VerifyOtp, VerifyOutcome};
use crate::store::queries::{LandingOf, LinkByToken};

/// What the landing page may show.
#[derive(Debug, Clone)]
pub enum Landing {
    Unavailable,
    Available {
        link: Box<LinkRecord>,
        tenant_name: String,
        /// No passcode needed, or a valid session proves it.
        can_view: bool,
        /// A live code exists (it was sent and can still be entered).
        code_sent: bool,
    },
}

/// Result of a passcode check.
#[derive(Debug, Clone)]
pub enum Verification {
    /// The `Set-Cookie` session value for this link.
    Verified {
        session: String,
    },
    Wrong,
    /// Too many attempts from this address; try later.
    TooMany {
        retry_after_secs: u64,
    },
    Unavailable,
}

/// Result of opening.
#[derive(Debug, Clone)]
pub enum Opening {
    Opened {
        grant: Secret<String>,
        target_url: Option<String>,
        grant_expires_at: UnixMillis,
    },
    NeedsCode,
    Unavailable,
}

pub(super) fn token_hash(portal: Portal<'_>, token: &str) -> Option<TokenHash> {
    LinkToken::parse(token).map(|t| portal.keys.token(portal.family, &t))
}

/// The landing view. Changes nothing; logs at most one `LandingViewed` per link and address
/// per minute, in the next batch of the landing log (never a write on the request's path).
pub async fn landing(
    portal: Portal<'_>,
    token: &str,
    session: Option<&str>,
    actor: &Actor,
) -> Result<Landing, ApiError> {
    let now = portal.clock.now();
    let found = match token_hash(portal, token) {
        Some(token) => portal.store.fetch(LandingOf { token, now }).await?,
        None => None,
    };
    let Some((link, tenant_name)) = found else {
        return Ok(Landing::Unavailable);
    };
    let Some(link) = backed(portal, link).await? else {
        return Ok(Landing::Unavailable);
    };
    log_landing(portal, &link, actor, now);
    let verified = session.is_some_and(|s| session_is_valid(portal.keys, &link, s, now));
    Ok(Landing::Available {
        can_view: !link.require_otp || verified,
        code_sent: link.otp.as_ref().is_some_and(|o| o.is_live(now)),
        link: Box::new(link),
        tenant_name,
    })
}

fn log_landing(portal: Portal<'_>, link: &LinkRecord, actor: &Actor, now: UnixMillis) {
    let mut buffer = uuid::Uuid::encode_buffer();
    let uid = link.uid.simple().encode_lower(&mut buffer);
    let address = actor.ip.as_deref().unwrap_or("");
    if !portal.limits.landing_log.hit_scoped(address, uid, now) {
        return;
    }
    let view = LandingView {
        link_uid: link.uid,
        at: now,
        actor: actor.clone(),
    };
    if !portal.limits.landing_views.push(view) {
        portal.stats.landing_views_dropped.inc();
    }
}

/// Queues a passcode for the link's channel (a new code, or the live one again) in the
/// outbox, durably, and wakes the outbox worker to send it: the answer never waits for the
/// relay. The caller answers the same whatever happened here, so nothing can be learned from
/// it; a token that names no usable passcode link costs one read and no write.
pub async fn request_code(portal: Portal<'_>, token: &str, actor: &Actor) -> Result<(), ApiError> {
    let Some(hash) = token_hash(portal, token) else {
        return Ok(());
    };
    let now = portal.clock.now();
    let Some(link) = usable(portal, hash, now).await? else {
        return Ok(());
    };
    let code = generate_code(if link.otp_digits == 0 {
        6
    } else {
        link.otp_digits
    })?;
    let sealed = portal
        .keys
        .seal(code.expose().as_bytes(), link.uid.as_bytes())?;
    let op = IssueOtp {
        token_hash: hash,
        fresh: (portal.keys.otp(link.uid.as_bytes(), code.expose()), sealed),
        at: now,
        actor: actor.clone(),
    };
    // A queued passcode is due at once: its commit rings the outbox worker
    // (`WriterObserver::deliveries_queued`); the answer never waits for the send.
    portal.store.write(op).await?;
    Ok(())
}

/// The one store read of the passcode steps: the link behind the token if it is active and
/// needs a passcode. Unknown, dead and passcode-free links all end here, with no write.
async fn usable(
    portal: Portal<'_>,
    hash: TokenHash,
    now: UnixMillis,
) -> Result<Option<LinkRecord>, ApiError> {
    let link = portal
        .store
        .fetch(LinkByToken(hash))
        .await?
        .filter(|l| l.require_otp && l.status(now) == LinkStatus::Active);
    match link {
        Some(link) => backed(portal, link).await,
        None => Ok(None),
    }
}

/// The link, if what it points at is still there: a share whose file is gone (deleted with
/// `Force`) is as dead as a revoked one, at every step. A customer link's resource lives
/// elsewhere and is not checked.
async fn backed(portal: Portal<'_>, link: LinkRecord) -> Result<Option<LinkRecord>, ApiError> {
    if portal.family != Family::DocumentShare {
        return Ok(Some(link));
    }
    let file = crate::api::share::attachment_of(portal.store, &link).await?;
    Ok(file.map(|_| link))
}

/// Checks a passcode: the per-address budget first, then the link's own (in the store).
/// The address budget is keyed by link and counted only for a link that takes passcodes, so
/// unknown and dead tokens cost nothing in it (and cannot crowd real links out of it), and a
/// 429 never tells a once-real token from a never-issued one.
pub async fn verify(
    portal: Portal<'_>,
    token: &str,
    entry: &str,
    actor: &Actor,
) -> Result<Verification, ApiError> {
    let Some(hash) = token_hash(portal, token) else {
        return Ok(Verification::Unavailable);
    };
    let now = portal.clock.now();
    let Some(link) = usable(portal, hash, now).await? else {
        return Ok(Verification::Unavailable);
    };
    let key = format!(
        "{}|{}",
        actor.ip.as_deref().unwrap_or(""),
        link.uid.simple()
    );
    if !portal.limits.verify.hit(&key, now) {
        return Ok(Verification::TooMany {
            retry_after_secs: portal.limits.verify.retry_after_secs(now),
        });
    }
    let candidate = portal
        .keys
        .otp(link.uid.as_bytes(), &normalise_entry(entry));
    let op = VerifyOtp {
        token_hash: hash,
        candidate,
        at: now,
        actor: actor.clone(),
    };
    Ok(match portal.store.write(op).await? {
        VerifyOutcome::Verified(link) => Verification::Verified {
            session: session_cookie(portal.keys, &link, now.plus_ms(SESSION_TTL_MS)),
        },
        VerifyOutcome::NotVerified { locked: false } => Verification::Wrong,
        VerifyOutcome::NotVerified { locked: true } | VerifyOutcome::Unavailable => {
            Verification::Unavailable
        }
    })
}

/// Opens the link: the one call that counts a view, atomically, and yields the grant.
pub async fn open(
    portal: Portal<'_>,
    token: &str,
    session: Option<&str>,
    actor: &Actor,
) -> Result<Opening, ApiError> {
    let Some(hash) = token_hash(portal, token) else {
        return Ok(Opening::Unavailable);
    };
    let now = portal.clock.now();
    let Some(link) = portal.store.fetch(LinkByToken(hash)).await? else {
        return Ok(Opening::Unavailable);
    };
    let status = link.status(now);
    if status != LinkStatus::Active {
        deny_later(portal, &link, status.as_str(), actor, now);
        return Ok(Opening::Unavailable);
    }
    let verified_for = session
        .filter(|s| session_is_valid(portal.keys, &link, s, now))
        .map(|_| link.token_hash);
    let (grant, grant_bytes) = new_grant()?;
    let op = OpenLink {
        token_hash: hash,
        verified_for,
        grant: portal.keys.grant(&grant_bytes),
        at: now,
        actor: actor.clone(),
    };
    Ok(match portal.store.write(op).await? {
        OpenOutcome::Opened(link) => {
            let target_url = portal
                .policy
                .resource_url(
                    &link.resource_type,
                    &link.resource_uid.simple().to_string(),
                    &link.tenant_id.simple().to_string(),
                )
                .map(|url| {
                    let joiner = if url.contains('?') { '&' } else { '?' };
                    format!("{url}{joiner}grant={}", grant.expose())
                });
            Opening::Opened {
                grant,
                target_url,
                grant_expires_at: now.plus_ms(crate::domain::portal::GRANT_TTL_MS),
            }
        }
        OpenOutcome::Denied { .. } => Opening::NeedsCode,
        OpenOutcome::Unavailable => Opening::Unavailable,
    })
}

/// Logs an open of a dead link (`OpenDenied`) in the landing log's next batch, like a
/// landing view: a dead token answers after the one read, with no write of its own, exactly
/// like an unknown one.
pub fn deny_later(
    portal: Portal<'_>,
    link: &LinkRecord,
    why: &str,
    actor: &Actor,
    now: UnixMillis,
) {
    let denial = DeniedOpen {
        token_hash: link.token_hash,
        detail: why.to_owned(),
        at: now,
        actor: actor.clone(),
    };
    if !portal.limits.landing_views.push_denial(denial) {
        portal.stats.landing_views_dropped.inc();
    }
}
