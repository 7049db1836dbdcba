//! One attempt of one queued delivery: render the message for the link, send it over its
//! channel, and record the outcome durably (sent, retry later, or given up). The create call
//! runs the first attempt itself under a short timeout; the worker in `jobs::outbox` runs the
//! retries, also after a restart.

use std::time::Duration;

use crate::app::AppState;
use crate::delivery::SendError;
use crate::delivery::template::MessageContext;
use crate::domain::delivery::{DeliveryRecord, mask};
use crate::domain::link::{LinkRecord, LinkStatus};
use crate::domain::policy::Channel;
use crate::domain::token::LinkToken;
use crate::store::{AttemptOutcome, RetryPolicy, WriteOp};

/// Sends `record` with `token` and records the outcome. Returns the failure, if any, as
/// staff should read it (no token, recipient masked).
pub async fn attempt(
    state: &AppState,
    record: &DeliveryRecord,
    token: &LinkToken,
) -> Result<(), String> {
    let result = send(state, record, token).await;
    let counted = match &result {
        Ok(()) => "sent",
        Err(e) if e.permanent => "failed_permanent",
        Err(_) => "failed",
    };
    state
        .metrics
        .delivery
        .record(record.channel.as_str(), counted);
    let outcome = match &result {
        Ok(()) => AttemptOutcome::Sent,
        Err(e) => AttemptOutcome::Failed {
            permanent: e.permanent,
            error: e.reason.clone(),
        },
    };
    let op = WriteOp::RecordAttempt {
        delivery_id: record.delivery_id,
        at: state.clock.now(),
        outcome,
        retry: retry_policy(state),
    };
    if let Err(e) = state.store.write(op).await {
        tracing::error!(error = %e, delivery = record.delivery_id, "could not record a delivery attempt");
    }
    result.map_err(|e| describe(record, &e))
}

/// [`attempt`] bounded by the create call's patience. When time runs out the delivery stays
/// queued (its lease expires and the worker retries it); the caller is told so.
pub async fn attempt_within(
    state: &AppState,
    record: &DeliveryRecord,
    token: &LinkToken,
    limit: Duration,
) -> Result<(), String> {
    match tokio::time::timeout(limit, attempt(state, record, token)).await {
        Ok(result) => result,
        Err(_) => {
            state
                .metrics
                .delivery
                .record(record.channel.as_str(), "timed_out");
            Err(format!(
                "{} to {} is taking longer than {} s; it stays queued and will be retried.",
                record.channel.as_str(),
                mask(&record.to),
                limit.as_secs()
            ))
        }
    }
}

/// The retry schedule from config.
pub fn retry_policy(state: &AppState) -> RetryPolicy {
    let d = &state.config.delivery;
    RetryPolicy {
        max_attempts: d.max_attempts,
        initial_ms: millis(d.backoff_initial),
        max_ms: millis(d.backoff_max),
    }
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

fn describe(record: &DeliveryRecord, e: &SendError) -> String {
    let next = if e.permanent {
        "not retried"
    } else {
        "will be retried"
    };
    format!(
        "{} to {} failed ({next}): {}",
        record.channel.as_str(),
        mask(&record.to),
        e.reason
    )
}

async fn send(
    state: &AppState,
    record: &DeliveryRecord,
    token: &LinkToken,
) -> Result<(), SendError> {
    let (link, tenant_name) = state
        .store
        .read(|r| {
            Ok((
                r.link(record.tenant_id, record.link_uid)?,
                r.tenant_name(record.tenant_id)?,
            ))
        })
        .map_err(|e| SendError::transient(format!("store: {e}")))?;
    let Some(link) = link else {
        return Err(SendError::permanent("the link no longer exists".into()));
    };
    let status = link.status(state.clock.now());
    if status != LinkStatus::Active {
        return Err(SendError::permanent(format!(
            "the link is {}",
            status.as_str()
        )));
    }
    let portal_url = format!("{}/portal/{}", state.config.public_url, token.encode());
    let expires_at = human_time(link.expires_at);
    let ctx = MessageContext {
        portal_url: &portal_url,
        recipient_name: recipient_name(&link),
        tenant_name: tenant_name.as_deref().unwrap_or(""),
        resource_type: &link.resource_type,
        expires_at: &expires_at,
    };
    let message = state.deliverer.templates.render(link.tenant_id, &ctx);
    match record.channel {
        Channel::Email => match &state.deliverer.email {
            Some(email) => email.send(&record.to, &message).await,
            None => Err(SendError::permanent("no SMTP relay is configured".into())),
        },
        Channel::Sms => match &state.deliverer.sms {
            Some(sms) => sms.send(&record.to, &message.sms).await,
            None => Err(SendError::permanent("no SMS gateway is configured".into())),
        },
    }
}

fn recipient_name(link: &LinkRecord) -> &str {
    match (&link.recipient_display_name, link.recipient_contact_id) {
        (Some(name), Some(_)) => name,
        _ => "there",
    }
}

/// `2026-12-05 04:00 UTC`.
fn human_time(ms: i64) -> String {
    let dt = time::OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000))
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02} UTC",
        dt.year(),
        u8::from(dt.month()),
        dt.day(),
        dt.hour(),
        dt.minute()
    )
}
