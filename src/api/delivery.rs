//! The delivery half of creating and re-sending a link: which requested channels may be used
//! (consent, configuration), the sealed outbox entries, the send limits, and the first
//! attempts the call makes itself before answering.

use std::time::Duration;

use super::error::ApiError;
use crate::config::DeliverySettings;
use crate::delivery::outbox::{Outbox, attempt_within};
use crate::domain::UnixMillis;
use crate::domain::contact::Contact;
use crate::domain::delivery::{
    ChannelRules, Consent, DeliveryRecord, NewDelivery, Requested, allowed_channels,
};
use crate::domain::link::LinkRecord;
use crate::domain::policy::{Channel, Policy};
use crate::domain::token::LinkToken;
use crate::store::SendLimits;

/// The deliveries to queue for `link` (sealed with the outbox's keys) and the reasons
/// requested ones were refused (a channel not configured, or not allowed by `policy`).
pub fn plan(
    outbox: &Outbox,
    policy: &Policy,
    link: &LinkRecord,
    token: &LinkToken,
    (want_email, want_sms): (bool, bool),
    contact: Option<&Contact>,
) -> Result<(Vec<NewDelivery>, Vec<String>), ApiError> {
    let mut requested = Vec::new();
    if let Some(to) = link.recipient_email.clone().filter(|_| want_email) {
        requested.push(Requested {
            channel: Channel::Email,
            to,
        });
    }
    if let Some(to) = link.recipient_phone.clone().filter(|_| want_sms) {
        requested.push(Requested {
            channel: Channel::Sms,
            to,
        });
    }
    let consent = Consent {
        is_contact: link.recipient_contact_id.is_some(),
        sms_opt_in: contact.map_or(link.sms_consent_snapshot, |c| c.sms_opt_in),
        do_not_contact: contact.is_some_and(|c| c.do_not_contact),
    };
    let rules = ChannelRules {
        email_configured: outbox.deliverer.can_send(Channel::Email),
        sms_configured: outbox.deliverer.can_send(Channel::Sms),
        allow_adhoc_sms: policy.allow_adhoc_sms,
    };
    let (allowed, refused) = allowed_channels(requested, consent, rules);
    let mut deliveries = Vec::with_capacity(allowed.len());
    for r in allowed {
        let sealed_token = outbox.keys.seal_token(token, link.uid.as_bytes())?;
        deliveries.push(NewDelivery {
            channel: r.channel,
            to: r.to,
            sealed_token,
        });
    }
    Ok((deliveries, refused))
}

/// How often a link may be re-sent (by staff, or re-issued at its recipient's request).
pub fn resend_rules(d: &DeliverySettings) -> crate::domain::resend::ResendRules {
    crate::domain::resend::ResendRules {
        cooldown_ms: i64::try_from(d.resend_cooldown.as_millis()).unwrap_or(i64::MAX),
        per_hour: d.resends_per_hour,
    }
}

/// The send limits, and when the worker may retry a delivery whose first attempt the call
/// is making right now.
pub fn limits(d: &DeliverySettings, now: UnixMillis) -> SendLimits {
    let grace = i64::try_from(d.attempt_timeout.as_millis())
        .unwrap_or(i64::MAX)
        .saturating_mul(2);
    SendLimits {
        per_recipient_per_hour: d.per_recipient_per_hour,
        per_tenant_per_hour: d.per_tenant_per_hour,
        first_retry_at: now.plus_ms(grace).plus_ms(30_000),
    }
}

/// Attempts each queued delivery once (in parallel for the two channels), bounded by the
/// attempt timeout; returns what staff should read about those that did not go out.
pub async fn first_attempts(
    outbox: &Outbox,
    limit: Duration,
    queued: &[DeliveryRecord],
    token: &LinkToken,
) -> Vec<String> {
    let mut errors = Vec::new();
    match queued {
        [] => {}
        [one] => errors.extend(attempt_within(outbox, one, token, limit).await.err()),
        [a, b] => {
            let (x, y) = tokio::join!(
                attempt_within(outbox, a, token, limit),
                attempt_within(outbox, b, token, limit)
            );
            errors.extend(x.err());
            errors.extend(y.err());
        }
        many => {
            for d in many {
                errors.extend(attempt_within(outbox, d, token, limit).await.err());
            }
        }
    }
    errors
}
