//! One attempt of one queued delivery: render the message for the link (or the passcode),
//! send it over its channel, and record the outcome durably (sent, retry later, or given up).
//! The create call runs a link's first attempt itself under a short timeout; the worker in
//! `jobs::outbox` sends passcodes (woken at once) and runs the retries, also after a restart.
//! An attempt that panics is a permanent failure of that delivery only.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;

use futures_util::FutureExt as _;

use crate::clock::Clock;
use crate::config::DeliverySettings;
use crate::delivery::mailbox::NewMessage;
use crate::delivery::template::{MessageContext, Rendered};
use crate::delivery::{Deliverer, SendError};
use crate::domain::UnixMillis;
use crate::domain::brand::DEFAULT_ACCENT;
use crate::domain::catalogue;
use crate::domain::delivery::{DeliveryKind, DeliveryRecord, mask};
use crate::domain::link::{LinkRecord, LinkStatus};
use crate::domain::locale::Locale;
use crate::domain::policy::Channel;
use crate::domain::share::{Family, shown_type};
use crate::domain::token::{HashKeys, LinkToken, Secret};
use crate::domain::webhook::WebhookEndpoint;
use crate::metrics::DeliveryStats;
use crate::store::commands::RecordAttempt;
use crate::store::queries::{LinkOf, LinkWithTenantName, TenantOf, WebhookOf};
use crate::store::{AttemptOutcome, RetryPolicy, Store};

/// Everything one delivery attempt needs and nothing more: the create call and the outbox
/// worker both hold one, so neither the worker nor this module sees the whole server state.
/// Cheap to clone.
#[derive(Clone)]
pub struct Outbox {
    pub store: Store,
    pub clock: Arc<dyn Clock>,
    /// Opens sealed tokens and passcodes; checks a passcode is still the live one.
    pub keys: HashKeys,
    /// The email relay, SMS gateway and message templates.
    pub deliverer: Arc<Deliverer>,
    pub stats: Arc<DeliveryStats>,
    /// The service's public base URL, for the portal link in a message.
    pub public_url: Arc<str>,
    pub retry: RetryPolicy,
}

/// Sends `record` with `token` and records the outcome. Returns the failure, if any, as
/// staff should read it (no token, recipient masked).
pub async fn attempt(
    outbox: &Outbox,
    record: &DeliveryRecord,
    token: &LinkToken,
) -> Result<(), String> {
    let result = guarded(record, send(outbox, record, token)).await;
    finish(outbox, record, result).await
}

/// Attempts a delivery the worker leased: opens its sealed token or passcode and sends it.
/// One that cannot be opened (the master secret was replaced) fails permanently.
pub async fn attempt_queued(outbox: &Outbox, record: &DeliveryRecord) -> Result<(), String> {
    let uid = record.link_uid.as_bytes();
    let result = match record.kind {
        DeliveryKind::Link => match outbox.keys.open_token(&record.sealed_token, uid) {
            Some(token) => return attempt(outbox, record, &token).await,
            None => Err(unopenable()),
        },
        DeliveryKind::Passcode => match outbox
            .keys
            .open(&record.sealed_token, uid)
            .and_then(|c| String::from_utf8(c).ok())
        {
            Some(code) => {
                let code = Secret::new(code);
                guarded(record, send_passcode(outbox, record, &code)).await
            }
            None => Err(unopenable()),
        },
        DeliveryKind::Webhook => guarded(record, send_webhook(outbox, record)).await,
    };
    finish(outbox, record, result).await
}

/// Posts a webhook event to its endpoint while the endpoint exists and is enabled, signed
/// with its secret at this attempt's time.
async fn send_webhook(outbox: &Outbox, record: &DeliveryRecord) -> Result<(), SendError> {
    let Some(message) = record.webhook.as_ref() else {
        return Err(SendError::permanent(
            "a webhook delivery without its event".into(),
        ));
    };
    let query = WebhookOf {
        tenant: record.tenant_id,
        name: message.endpoint.clone(),
    };
    let endpoint = outbox
        .store
        .fetch(query)
        .await
        .map_err(|e| SendError::transient(format!("store: {e}")))?;
    let Some(endpoint) = endpoint else {
        return Err(SendError::permanent("the endpoint was deleted".into()));
    };
    if !endpoint.enabled {
        return Err(SendError::permanent("the endpoint is disabled".into()));
    }
    let context = WebhookEndpoint::seal_context(endpoint.tenant_id, &endpoint.name);
    let Some(secret) = outbox.keys.open(&endpoint.sealed_secret, &context) else {
        return Err(unopenable());
    };
    let secret = Secret::new(secret);
    let timestamp = outbox.clock.now().as_i64().div_euclid(1000);
    let sender = &outbox.deliverer.webhook;
    sender
        .send(&endpoint.url, secret.expose(), message, timestamp)
        .await
}

fn unopenable() -> SendError {
    SendError::permanent(
        "the sealed message could not be opened (was the master secret replaced?)".into(),
    )
}

/// Runs one send so that a panic inside it (a bug, or a library that panics on odd input)
/// ends this attempt as a permanent failure instead of the caller's task: the request, or
/// the worker's round and every delivery queued behind this one.
async fn guarded(
    record: &DeliveryRecord,
    send: impl Future<Output = Result<(), SendError>>,
) -> Result<(), SendError> {
    match AssertUnwindSafe(send).catch_unwind().await {
        Ok(result) => result,
        Err(_) => {
            tracing::error!(
                delivery = record.delivery_id,
                "a delivery attempt panicked; the delivery is marked failed"
            );
            Err(SendError::permanent("internal error while sending".into()))
        }
    }
}

/// Counts the outcome and records it durably.
async fn finish(
    outbox: &Outbox,
    record: &DeliveryRecord,
    result: Result<(), SendError>,
) -> Result<(), String> {
    let counted = match &result {
        Ok(()) => "sent",
        Err(e) if e.permanent => "failed_permanent",
        Err(_) => "failed",
    };
    outbox.stats.record(label(record), counted);
    let outcome = match &result {
        Ok(()) => AttemptOutcome::Sent,
        Err(e) => AttemptOutcome::Failed {
            permanent: e.permanent,
            error: e.reason.clone(),
        },
    };
    let op = RecordAttempt {
        delivery_id: record.delivery_id,
        at: outbox.clock.now(),
        outcome,
        retry: outbox.retry,
        webhook_max_failures: outbox.deliverer.webhook.max_failures,
    };
    let at = op.at;
    match outbox.store.write(op).await {
        // Only a failure of the endpoint itself counts against it (a refusal because it is
        // off or gone is permanent and changes nothing).
        Ok(_)
            if record.kind == DeliveryKind::Webhook
                && result.as_ref().is_err_and(|e| !e.permanent) =>
        {
            note_if_disabled(outbox, record, at).await;
        }
        Ok(_) => {}
        Err(e) => {
            tracing::error!(error = %e, delivery = record.delivery_id, "could not record a delivery attempt");
        }
    }
    result.map_err(|e| describe(record, &e))
}

/// The metric label of a delivery: its channel, or `Webhook`.
fn label(record: &DeliveryRecord) -> &'static str {
    match record.kind {
        DeliveryKind::Webhook => "Webhook",
        _ => record.channel.as_str(),
    }
}

/// Says (log line and metric) that a webhook endpoint was switched off for failing, when the
/// failed attempt recorded at `at` did so (the store then set its `disabled_at` to `at`).
async fn note_if_disabled(outbox: &Outbox, record: &DeliveryRecord, at: UnixMillis) {
    let Some(name) = record.webhook.as_ref().map(|w| w.endpoint.clone()) else {
        return;
    };
    let query = WebhookOf {
        tenant: record.tenant_id,
        name: name.clone(),
    };
    let Ok(Some(endpoint)) = outbox.store.fetch(query).await else {
        return;
    };
    if endpoint.state.disabled_at != Some(at) {
        return;
    }
    tracing::warn!(
        tenant = %record.tenant_id.as_uuid(),
        endpoint = %name,
        failures = endpoint.state.consecutive_failures,
        "webhook endpoint disabled after failing too often in a row; a PUT with Enabled turns it back on"
    );
    outbox.stats.endpoint_disabled();
}

/// [`attempt`] bounded by the create call's patience. When time runs out the delivery stays
/// queued (its lease expires and the worker retries it); the caller is told so.
pub async fn attempt_within(
    outbox: &Outbox,
    record: &DeliveryRecord,
    token: &LinkToken,
    limit: Duration,
) -> Result<(), String> {
    match tokio::time::timeout(limit, attempt(outbox, record, token)).await {
        Ok(result) => result,
        Err(_) => {
            outbox.stats.record(label(record), "timed_out");
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
pub fn retry_policy(d: &DeliverySettings) -> RetryPolicy {
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
    outbox: &Outbox,
    record: &DeliveryRecord,
    token: &LinkToken,
) -> Result<(), SendError> {
    let (link, tenant_name) = read_link(outbox, record).await?;
    let portal_url = Family::of(&link).recipient_url(&outbox.public_url, token);
    let locale = link.locale.unwrap_or_default();
    let expires_at = locale.format_time(link.expires_at);
    let accent = accent_of(outbox, &link).await?;
    let ctx = MessageContext {
        portal_url: &portal_url,
        recipient_name: recipient_name(&link, locale),
        tenant_name: &tenant_name,
        resource_type: shown_type(&link),
        expires_at: &expires_at,
        locale,
        accent: &accent,
    };
    let message = outbox.deliverer.templates.render(link.tenant_id, &ctx);
    over_channel(outbox, record, &message).await
}

/// Sends a passcode while its link is usable and it is still the link's live code (one that
/// expired or was replaced while queued would only cost the recipient a wrong try).
async fn send_passcode(
    outbox: &Outbox,
    record: &DeliveryRecord,
    code: &Secret<String>,
) -> Result<(), SendError> {
    let (link, tenant_name) = read_link(outbox, record).await?;
    let now = outbox.clock.now();
    let hash = outbox.keys.otp(link.uid.as_bytes(), code.expose());
    let live = link
        .otp
        .as_ref()
        .is_some_and(|o| o.is_live(now) && o.code_hash == hash);
    if !live {
        return Err(SendError::permanent(
            "the passcode expired or was replaced before it could be sent".into(),
        ));
    }
    let accent = accent_of(outbox, &link).await?;
    let ctx = MessageContext {
        portal_url: "",
        recipient_name: "",
        tenant_name: &tenant_name,
        resource_type: shown_type(&link),
        expires_at: "",
        locale: link.locale.unwrap_or_default(),
        accent: &accent,
    };
    let message = outbox
        .deliverer
        .templates
        .passcode(link.tenant_id, &ctx, code.expose());
    over_channel(outbox, record, &message).await
}

/// The delivery's link if it is still active, and its tenant's name.
async fn read_link(
    outbox: &Outbox,
    record: &DeliveryRecord,
) -> Result<(LinkRecord, String), SendError> {
    let of = LinkOf {
        tenant: record.tenant_id,
        uid: record.link_uid,
    };
    let found = outbox
        .store
        .fetch(LinkWithTenantName(of))
        .await
        .map_err(|e| SendError::transient(format!("store: {e}")))?;
    let Some((link, tenant_name)) = found else {
        return Err(SendError::permanent("the link no longer exists".into()));
    };
    let status = link.status(outbox.clock.now());
    if status != LinkStatus::Active {
        return Err(SendError::permanent(format!(
            "the link is {}",
            status.as_str()
        )));
    }
    Ok((link, tenant_name))
}

/// Sends a rendered message over the delivery's channel (in dev mode: into the mailbox).
async fn over_channel(
    outbox: &Outbox,
    record: &DeliveryRecord,
    message: &Rendered,
) -> Result<(), SendError> {
    if let Some(mailbox) = &outbox.deliverer.mailbox {
        let (subject, text) = match record.channel {
            Channel::Email => (message.subject.clone(), message.text.clone()),
            Channel::Sms => (String::new(), message.sms.clone()),
        };
        let kept = NewMessage {
            at: outbox.clock.now(),
            channel: record.channel,
            to: record.to.clone(),
            subject,
            text,
        };
        return mailbox.keep(kept).await;
    }
    match record.channel {
        Channel::Email => match &outbox.deliverer.email {
            Some(email) => email.send(&record.to, message).await,
            None => Err(SendError::permanent("no SMTP relay is configured".into())),
        },
        Channel::Sms => match &outbox.deliverer.sms {
            Some(sms) => sms.send(&record.to, &message.sms).await,
            None => Err(SendError::permanent("no SMS gateway is configured".into())),
        },
    }
}

/// The contact's name, else the catalogue's word for an unnamed recipient (`there`).
fn recipient_name(link: &LinkRecord, locale: Locale) -> &str {
    match (&link.recipient_display_name, link.recipient_contact_id) {
        (Some(name), Some(_)) => name,
        _ => catalogue::text(locale, "mail.anonymous"),
    }
}

/// The tenant's accent colour for HTML messages (the portal's own without one).
async fn accent_of(outbox: &Outbox, link: &LinkRecord) -> Result<String, SendError> {
    let tenant = outbox
        .store
        .fetch(TenantOf(link.tenant_id))
        .await
        .map_err(|e| SendError::transient(format!("store: {e}")))?;
    Ok(tenant
        .and_then(|t| t.accent)
        .unwrap_or_else(|| DEFAULT_ACCENT.to_owned()))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "a failed expectation is a failed test")]

    use super::*;
    use crate::domain::delivery::DeliveryStatus;
    use crate::domain::millis::ms;

    #[test]
    fn a_panicking_send_is_a_permanent_failure_of_that_delivery() {
        let record = DeliveryRecord {
            delivery_id: 7,
            link_uid: crate::domain::LinkUid::from_u128(0),
            tenant_id: crate::domain::TenantId::from_u128(0),
            channel: Channel::Email,
            to: "a@example.com".into(),
            sealed_token: Vec::new(),
            status: DeliveryStatus::Queued,
            attempts: 0,
            next_attempt_at: ms(0),
            last_error: None,
            created_at: ms(0),
            sent_at: None,
            kind: DeliveryKind::Link,
            unfinished_leases: 0,
            webhook: None,
        };
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let failed = runtime.block_on(guarded(&record, async {
            panic!("a library panicked while sending");
        }));
        assert_eq!(
            failed,
            Err(SendError::permanent("internal error while sending".into()))
        );
        let fine = runtime.block_on(guarded(&record, async { Ok(()) }));
        assert_eq!(fine, Ok(()));
    }
}
