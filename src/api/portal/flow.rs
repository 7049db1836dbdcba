//! The portal steps, shared by the API and the browser pages. Unknown, expired, revoked,
//! exhausted and locked tokens all end in the same `Unavailable`, after the same one store
//! read, so a caller cannot tell them apart. Only `open` consumes a view.

use std::sync::atomic::Ordering;

use crate::api::error::ApiError;
use crate::app::AppState;
use crate::delivery::template::MessageContext;
use crate::domain::link::{LinkRecord, LinkStatus};
use crate::domain::otp::{generate_code, normalise_entry};
use crate::domain::policy::Channel;
use crate::domain::portal::{
    AccessEvent, Actor, LandingView, SESSION_TTL_MS, new_grant, session_cookie, session_is_valid,
};
use crate::domain::token::{LinkToken, Secret, SecretHash};
use crate::store::{PortalOp, PortalOutcome, WriteOp, WriteOutcome};

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
        grant_expires_at: i64,
    },
    NeedsCode,
    Unavailable,
}

fn token_hash(state: &AppState, token: &str) -> Option<SecretHash> {
    LinkToken::parse(token).map(|t| state.keys.link_token(&t))
}

/// The landing view. Changes nothing; logs at most one `LandingViewed` per link and address
/// per minute, in the next batch of the landing log (never a write on the request's path).
pub fn landing(
    state: &AppState,
    token: &str,
    session: Option<&str>,
    actor: &Actor,
) -> Result<Landing, ApiError> {
    let hash = token_hash(state, token);
    let now = state.clock.now();
    let found = state.store.read(|r| match &hash {
        Some(h) => {
            let link = r.link_by_token(h)?;
            let name = match &link {
                Some(l) => r.tenant_name(l.tenant_id)?,
                None => None,
            };
            Ok(link.zip(Some(name.unwrap_or_default())))
        }
        None => Ok(None),
    })?;
    let Some((link, tenant_name)) = found.filter(|(l, _)| l.status(now) == LinkStatus::Active)
    else {
        return Ok(Landing::Unavailable);
    };
    log_landing(state, &link, actor, now);
    let verified = session.is_some_and(|s| session_is_valid(&state.keys, &link, s, now));
    Ok(Landing::Available {
        can_view: !link.require_otp || verified,
        code_sent: link.otp.as_ref().is_some_and(|o| o.is_live(now)),
        link: Box::new(link),
        tenant_name,
    })
}

fn log_landing(state: &AppState, link: &LinkRecord, actor: &Actor, now: i64) {
    let key = format!(
        "{}|{}",
        actor.ip.as_deref().unwrap_or(""),
        link.uid.simple()
    );
    if !state.portal_limits.landing_log.hit(&key, now) {
        return;
    }
    let view = LandingView {
        link_uid: link.uid,
        at: now,
        actor: actor.clone(),
    };
    if !state.portal_limits.landing_views.push(view) {
        let dropped = &state.metrics.portal.landing_views_dropped;
        dropped.fetch_add(1, Ordering::Relaxed);
    }
}

/// Sends a passcode over the link's channel (a new code, or the live one again). The caller
/// answers the same whatever happened here, so nothing can be learned from it.
pub async fn request_code(state: &AppState, token: &str, actor: &Actor) -> Result<(), ApiError> {
    let Some(hash) = token_hash(state, token) else {
        return Ok(());
    };
    let now = state.clock.now();
    let Some(link) = state.store.read(|r| r.link_by_token(&hash))? else {
        return Ok(());
    };
    let code = generate_code(if link.otp_digits == 0 {
        6
    } else {
        link.otp_digits
    })?;
    let sealed = state
        .keys
        .seal(code.expose().as_bytes(), link.uid.as_bytes())?;
    let op = WriteOp::Portal(PortalOp::IssueOtp {
        token_hash: hash.0,
        fresh: (state.keys.otp(link.uid.as_bytes(), code.expose()), sealed),
        at: now,
        actor: actor.clone(),
    });
    let WriteOutcome::Portal(PortalOutcome::SendCode { link, sealed_code }) =
        state.store.write(op).await?
    else {
        return Ok(());
    };
    let Some(code) = state
        .keys
        .open(&sealed_code, link.uid.as_bytes())
        .and_then(|c| String::from_utf8(c).ok())
    else {
        return Ok(());
    };
    let result = send_code(state, &link, &code).await;
    let (outcome, detail) = match &result {
        Ok(channel) => ("Success", format!("sent by {channel}")),
        Err(reason) => ("Failure", reason.clone()),
    };
    let log = WriteOp::Portal(PortalOp::Log {
        token_hash: link.token_hash,
        event: AccessEvent::OtpSent,
        outcome,
        detail: Some(detail),
        at: now,
        actor: actor.clone(),
    });
    state.store.write(log).await?;
    Ok(())
}

async fn send_code(
    state: &AppState,
    link: &LinkRecord,
    code: &str,
) -> Result<&'static str, String> {
    let tenant = state
        .store
        .read(|r| r.tenant_name(link.tenant_id))
        .ok()
        .flatten()
        .unwrap_or_default();
    let text =
        format!("{tenant}: your code is {code}. It is valid for 10 minutes. Do not share it.");
    match link.otp_channel.as_deref() {
        Some("Sms") => {
            let (Some(sms), Some(to)) = (&state.deliverer.sms, &link.recipient_phone) else {
                return Err("no SMS gateway or phone".into());
            };
            sms.send(to, &text)
                .await
                .map(|()| Channel::Sms.as_str())
                .map_err(|e| e.reason)
        }
        _ => {
            let (Some(email), Some(to)) = (&state.deliverer.email, &link.recipient_email) else {
                return Err("no SMTP relay or email address".into());
            };
            let ctx = MessageContext {
                portal_url: "",
                recipient_name: "",
                tenant_name: &tenant,
                resource_type: &link.resource_type,
                expires_at: "",
            };
            let mut message = state.deliverer.templates.render(link.tenant_id, &ctx);
            message.subject = format!("{tenant}: your verification code");
            message.text = format!("{text}\n");
            message.html = format!(
                "<p>{}</p><p style=\"font-size: 1.5em; letter-spacing: 0.2em\"><b>{code}</b></p>",
                escape(&format!(
                    "{tenant}: your code is valid for 10 minutes. Do not share it."
                ))
            );
            email
                .send(to, &message)
                .await
                .map(|()| Channel::Email.as_str())
                .map_err(|e| e.reason)
        }
    }
}

/// Checks a passcode: the per-address budget first, then the link's own (in the store).
/// The address budget is keyed by link and counted only for a link that takes passcodes, so
/// unknown and dead tokens cost nothing in it (and cannot crowd real links out of it), and a
/// 429 never tells a once-real token from a never-issued one.
pub async fn verify(
    state: &AppState,
    token: &str,
    entry: &str,
    actor: &Actor,
) -> Result<Verification, ApiError> {
    let Some(hash) = token_hash(state, token) else {
        return Ok(Verification::Unavailable);
    };
    let now = state.clock.now();
    let takes_codes = |l: &LinkRecord| l.require_otp && l.status(now) == LinkStatus::Active;
    let Some(link) = state
        .store
        .read(|r| r.link_by_token(&hash))?
        .filter(takes_codes)
    else {
        return Ok(Verification::Unavailable);
    };
    let key = format!(
        "{}|{}",
        actor.ip.as_deref().unwrap_or(""),
        link.uid.simple()
    );
    if !state.portal_limits.verify.hit(&key, now) {
        return Ok(Verification::TooMany {
            retry_after_secs: state.portal_limits.verify.retry_after_secs(now),
        });
    }
    let candidate = state.keys.otp(link.uid.as_bytes(), &normalise_entry(entry));
    let op = WriteOp::Portal(PortalOp::VerifyOtp {
        token_hash: hash.0,
        candidate,
        at: now,
        actor: actor.clone(),
    });
    Ok(match state.store.write(op).await? {
        WriteOutcome::Portal(PortalOutcome::Verified(link)) => Verification::Verified {
            session: session_cookie(&state.keys, &link, now + SESSION_TTL_MS),
        },
        WriteOutcome::Portal(PortalOutcome::NotVerified { locked: false }) => Verification::Wrong,
        _ => Verification::Unavailable,
    })
}

/// Opens the link: the one call that counts a view, atomically, and yields the grant.
pub async fn open(
    state: &AppState,
    token: &str,
    session: Option<&str>,
    actor: &Actor,
) -> Result<Opening, ApiError> {
    let Some(hash) = token_hash(state, token) else {
        return Ok(Opening::Unavailable);
    };
    let now = state.clock.now();
    let Some(link) = state.store.read(|r| r.link_by_token(&hash))? else {
        return Ok(Opening::Unavailable);
    };
    let verified_for = session
        .filter(|s| session_is_valid(&state.keys, &link, s, now))
        .map(|_| link.token_hash);
    let (grant, grant_bytes) = new_grant()?;
    let op = WriteOp::Portal(PortalOp::Open {
        token_hash: hash.0,
        verified_for,
        grant: state.keys.grant(&grant_bytes),
        at: now,
        actor: actor.clone(),
    });
    Ok(match state.store.write(op).await? {
        WriteOutcome::Portal(PortalOutcome::Opened(link)) => {
            let target_url = state
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
                grant_expires_at: now + crate::domain::portal::GRANT_TTL_MS,
            }
        }
        WriteOutcome::Portal(PortalOutcome::OpenDenied { .. }) => Opening::NeedsCode,
        _ => Opening::Unavailable,
    })
}

/// Minimal HTML escaping for text placed in markup.
pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}
