//! Delivery rules: which requested channels may carry a link (consent, do-not-contact,
//! ad-hoc SMS policy, whether a relay or gateway exists), the outbox record, and the retry
//! schedule. Pure: the delivery module does the sending, the store keeps the records.

use serde::{Deserialize, Serialize};

use super::channel_set::ChannelSet;
use super::link::LinkRecord;
use super::policy::Channel;
use super::portal::{AccessEvent, Outcome};
use super::webhook::WebhookMessage;
use super::{LinkUid, TenantId, UnixMillis};

/// How many times in a row the worker may hand out a delivery whose attempt never records
/// an outcome (the process died mid-send) before the delivery is given up, so that no
/// delivery can bring the worker down again and again.
pub const MAX_UNFINISHED_LEASES: u32 = 3;

/// Where one delivery of one link stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum DeliveryStatus {
    /// Waiting for its (next) attempt.
    Queued,
    Sent,
    /// Given up: a permanent failure, or the attempt budget is spent.
    Failed,
    /// Replaced by a resend before it went out (its token no longer works).
    Superseded,
}

impl DeliveryStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Queued => "Queued",
            DeliveryStatus::Sent => "Sent",
            DeliveryStatus::Failed => "Failed",
            DeliveryStatus::Superseded => "Superseded",
        }
    }
}

/// What a delivery carries.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum DeliveryKind {
    /// The link itself (its portal URL with the token).
    #[default]
    Link,
    /// A one-time passcode for the portal, asked for by the recipient.
    Passcode,
    /// An event for a tenant's webhook endpoint ([`DeliveryRecord::webhook`] says which).
    Webhook,
}

impl DeliveryKind {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryKind::Link => "Link",
            DeliveryKind::Passcode => "Passcode",
            DeliveryKind::Webhook => "Webhook",
        }
    }
}

/// One message to send, as kept in the outbox. The token (or passcode) is only ever stored
/// sealed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryRecord {
    pub delivery_id: u64,
    pub link_uid: LinkUid,
    pub tenant_id: TenantId,
    pub channel: Channel,
    pub to: String,
    /// The link token — or, for a [`DeliveryKind::Passcode`], the code — sealed with the
    /// outbox key and the link uid (nonce ‖ ciphertext ‖ tag).
    #[serde(with = "super::bin::bytes")]
    pub sealed_token: Vec<u8>,
    pub status: DeliveryStatus,
    pub attempts: u32,
    pub next_attempt_at: UnixMillis,
    pub last_error: Option<String>,
    pub created_at: UnixMillis,
    pub sent_at: Option<UnixMillis>,
    /// Absent in records written before passcodes went through the outbox: those are links.
    #[serde(default)]
    pub kind: DeliveryKind,
    /// How often the worker handed this delivery out without an attempt being recorded
    /// (the process stopped mid-send); past a bound the delivery is given up.
    #[serde(default)]
    pub unfinished_leases: u32,
    /// The endpoint, id and body of a [`DeliveryKind::Webhook`] (its `channel` is unused and
    /// `to` is the endpoint's name); absent for every other kind.
    #[serde(default)]
    pub webhook: Option<WebhookMessage>,
}

impl DeliveryRecord {
    /// A delivery of `link` about to be queued, first due at `due_at` (the store assigns its
    /// id).
    pub fn queued(
        link: &LinkRecord,
        kind: DeliveryKind,
        new: NewDelivery,
        due_at: UnixMillis,
        now: UnixMillis,
    ) -> Self {
        DeliveryRecord {
            delivery_id: 0,
            link_uid: link.uid,
            tenant_id: link.tenant_id,
            channel: new.channel,
            to: new.to,
            sealed_token: new.sealed_token,
            status: DeliveryStatus::Queued,
            attempts: 0,
            next_attempt_at: due_at,
            last_error: None,
            created_at: now,
            sent_at: None,
            kind,
            unfinished_leases: 0,
            webhook: None,
        }
    }

    /// A webhook event of `link` for one endpoint, due at once.
    pub fn webhook(link: &LinkRecord, message: WebhookMessage, now: UnixMillis) -> Self {
        let new = NewDelivery {
            channel: Channel::Email,
            to: message.endpoint.clone(),
            sealed_token: Vec::new(),
        };
        let mut record = Self::queued(link, DeliveryKind::Webhook, new, now, now);
        record.webhook = Some(message);
        record
    }

    /// Whether the delivery is due the moment it is queued (a webhook event, a passcode), so
    /// the worker should run now; a create's message is first due after the create's own
    /// attempt.
    pub fn due_when_queued(&self) -> bool {
        self.next_attempt_at <= self.created_at
    }

    /// Counts an attempt on a queued delivery: sent, retried later (exponential backoff), or
    /// given up.
    pub fn record_attempt(&mut self, at: UnixMillis, outcome: &AttemptOutcome, retry: RetryPolicy) {
        self.attempts = self.attempts.saturating_add(1);
        self.unfinished_leases = 0;
        match outcome {
            AttemptOutcome::Sent => {
                self.status = DeliveryStatus::Sent;
                self.sent_at = Some(at);
                self.last_error = None;
            }
            AttemptOutcome::Failed { permanent, error } => {
                self.last_error = Some(error.clone());
                if *permanent || self.attempts >= retry.max_attempts {
                    self.status = DeliveryStatus::Failed;
                } else {
                    self.next_attempt_at = at.plus_ms(retry_delay_ms(
                        self.attempts,
                        retry.initial_ms,
                        retry.max_ms,
                    ));
                }
            }
        }
    }

    /// Hands a due delivery to the worker until `lease_until` (its next attempt if this one
    /// never records an outcome); `false` when it was handed out too often without one and is
    /// given up instead ([`MAX_UNFINISHED_LEASES`]).
    pub fn lease(&mut self, lease_until: UnixMillis) -> bool {
        if self.unfinished_leases >= MAX_UNFINISHED_LEASES {
            self.status = DeliveryStatus::Failed;
            self.last_error = Some(format!(
                "given up: {MAX_UNFINISHED_LEASES} attempts in a row never finished (the service stopped while sending)"
            ));
            return false;
        }
        self.unfinished_leases += 1;
        self.next_attempt_at = lease_until;
        true
    }

    /// The access-log row of an attempt's outcome: `Delivered`/`DeliveryFailed` for a link,
    /// `OtpSent` for a passcode.
    pub fn attempt_log(&self) -> (AccessEvent, Outcome, String) {
        let sent = self.status == DeliveryStatus::Sent;
        let outcome = if sent {
            Outcome::Success
        } else {
            Outcome::Failure
        };
        match self.kind {
            DeliveryKind::Link => {
                let event = if sent {
                    AccessEvent::Delivered
                } else {
                    AccessEvent::DeliveryFailed
                };
                let detail = format!(
                    "{} attempt {}{}",
                    self.channel.as_str(),
                    self.attempts,
                    self.last_error
                        .as_deref()
                        .map(|e| format!(": {e}"))
                        .unwrap_or_default()
                );
                (event, outcome, detail)
            }
            DeliveryKind::Passcode | DeliveryKind::Webhook => {
                let detail = match (&self.last_error, sent) {
                    (_, true) => format!("sent by {}", self.channel.as_str()),
                    (Some(e), false) => e.clone(),
                    (None, false) => "not sent".to_owned(),
                };
                (AccessEvent::OtpSent, outcome, detail)
            }
        }
    }
}

/// The result of one attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttemptOutcome {
    Sent,
    Failed { permanent: bool, error: String },
}

/// How failed attempts are retried.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    pub max_attempts: u32,
    pub initial_ms: i64,
    pub max_ms: i64,
}

/// A delivery to queue with a new link (or a resend).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDelivery {
    pub channel: Channel,
    pub to: String,
    pub sealed_token: Vec<u8>,
}

/// What the recipient agreed to, as seen when the link is made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Consent {
    /// A contact recipient (ad-hoc recipients have no recorded consent).
    pub is_contact: bool,
    pub sms_opt_in: bool,
    pub do_not_contact: bool,
}

/// Which channels exist in this deployment and what the policy allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChannelRules {
    pub email_configured: bool,
    pub sms_configured: bool,
    pub allow_adhoc_sms: bool,
}

/// A requested channel with the recipient's address on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Requested {
    pub channel: Channel,
    pub to: String,
}

/// Splits the requested deliveries into those that may be queued and human-readable reasons
/// for those that may not. Do-not-contact blocks every channel; SMS needs opt-in (contacts)
/// or a policy that allows ad-hoc SMS.
pub fn allowed_channels(
    requested: Vec<Requested>,
    consent: Consent,
    rules: ChannelRules,
) -> (Vec<Requested>, Vec<String>) {
    let mut allowed = Vec::new();
    let mut refused = Vec::new();
    for r in requested {
        let name = r.channel.as_str();
        let reason = match r.channel {
            _ if consent.do_not_contact => Some(format!("{name} not sent: the contact is marked DoNotContact.")),
            Channel::Email if !rules.email_configured => Some("Email not sent: no SMTP relay is configured.".to_owned()),
            Channel::Sms if !rules.sms_configured => Some("Sms not sent: no SMS gateway is configured.".to_owned()),
            Channel::Sms if consent.is_contact && !consent.sms_opt_in => {
                Some("Sms not sent: the contact has not opted in to SMS (SMSOptIn).".to_owned())
            }
            Channel::Sms if !consent.is_contact && !rules.allow_adhoc_sms => {
                Some("Sms not sent: ad-hoc phone numbers have no recorded SMS consent and the policy does not allow ad-hoc SMS.".to_owned())
            }
            _ => None,
        };
        match reason {
            Some(reason) => refused.push(reason),
            None => allowed.push(r),
        }
    }
    (allowed, refused)
}

/// The channels the given deliveries go out on (shown as `Email,Sms`).
pub fn channels_of(deliveries: &[DeliveryRecord]) -> ChannelSet {
    ChannelSet::of(deliveries.iter().map(|d| d.channel))
}

/// Per-hour send limits, and when a just-queued delivery's first attempt may be retried by
/// the worker (after the create call's own attempt has had its chance).
#[derive(Debug, Clone, Copy)]
pub struct SendLimits {
    pub per_recipient_per_hour: u32,
    pub per_tenant_per_hour: u32,
    pub first_retry_at: UnixMillis,
}

/// Messages already sent this hour, to one recipient (within the tenant) and by the tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SentThisHour {
    pub recipient: u32,
    pub tenant: u32,
}

/// Why one more message on `channel` may not go out this hour, if it may not: the
/// recipient's limit is checked before the tenant's.
pub fn over_limit(channel: Channel, sent: SentThisHour, limits: &SendLimits) -> Option<String> {
    let over = [
        (
            sent.recipient,
            limits.per_recipient_per_hour,
            "this recipient",
        ),
        (sent.tenant, limits.per_tenant_per_hour, "the tenant"),
    ]
    .into_iter()
    .find(|(count, limit, _)| count >= limit);
    over.map(|(_, limit, who)| {
        format!(
            "{} not sent: {who} reached its limit of {limit} messages per hour.",
            channel.as_str()
        )
    })
}

/// When attempt number `attempts` (1-based, just failed) is retried: exponential from
/// `initial_ms`, capped at `max_ms`.
pub fn retry_delay_ms(attempts: u32, initial_ms: i64, max_ms: i64) -> i64 {
    let doublings = attempts.saturating_sub(1).min(30);
    initial_ms.saturating_mul(1i64 << doublings).min(max_ms)
}

/// Masks an address for logs and error messages: `a***@example.com`, `+1******4567`.
pub fn mask(address: &str) -> String {
    match address.split_once('@') {
        Some((local, domain)) => format!("{}***@{domain}", local.chars().next().unwrap_or('*')),
        None => {
            let chars: Vec<char> = address.chars().collect();
            let keep_end = chars.len().saturating_sub(4);
            chars
                .iter()
                .enumerate()
                .map(|(i, c)| if i < 2 || i >= keep_end { *c } else { '*' })
                .collect()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::millis::ms;

    const ALL_ON: ChannelRules = ChannelRules {
        email_configured: true,
        sms_configured: true,
        allow_adhoc_sms: false,
    };

    fn both() -> Vec<Requested> {
        vec![
            Requested {
                channel: Channel::Email,
                to: "a@b.co".into(),
            },
            Requested {
                channel: Channel::Sms,
                to: "+15551234567".into(),
            },
        ]
    }

    fn channels(r: &(Vec<Requested>, Vec<String>)) -> Vec<Channel> {
        r.0.iter().map(|x| x.channel).collect()
    }

    #[test]
    fn consent_rules() {
        let opted_in = Consent {
            is_contact: true,
            sms_opt_in: true,
            do_not_contact: false,
        };
        assert_eq!(
            channels(&allowed_channels(both(), opted_in, ALL_ON)),
            [Channel::Email, Channel::Sms]
        );
        let no_opt_in = Consent {
            sms_opt_in: false,
            ..opted_in
        };
        let r = allowed_channels(both(), no_opt_in, ALL_ON);
        assert_eq!(channels(&r), [Channel::Email]);
        assert!(r.1[0].contains("SMSOptIn"));
        let dnc = Consent {
            do_not_contact: true,
            ..opted_in
        };
        let r = allowed_channels(both(), dnc, ALL_ON);
        assert!(r.0.is_empty() && r.1.len() == 2);
        let adhoc = Consent {
            is_contact: false,
            sms_opt_in: false,
            do_not_contact: false,
        };
        assert_eq!(
            channels(&allowed_channels(both(), adhoc, ALL_ON)),
            [Channel::Email]
        );
        let lenient = ChannelRules {
            allow_adhoc_sms: true,
            ..ALL_ON
        };
        assert_eq!(channels(&allowed_channels(both(), adhoc, lenient)).len(), 2);
    }

    #[test]
    fn unconfigured_channels_are_refused_with_a_reason() {
        let consent = Consent {
            is_contact: true,
            sms_opt_in: true,
            do_not_contact: false,
        };
        let none = ChannelRules {
            email_configured: false,
            sms_configured: false,
            allow_adhoc_sms: true,
        };
        let r = allowed_channels(both(), consent, none);
        assert!(r.0.is_empty());
        assert!(r.1[0].contains("no SMTP relay") && r.1[1].contains("no SMS gateway"));
    }

    fn queued(kind: DeliveryKind) -> DeliveryRecord {
        let link = crate::domain::link::tests_support::record();
        let new = NewDelivery {
            channel: Channel::Email,
            to: "a@b.co".into(),
            sealed_token: vec![],
        };
        DeliveryRecord::queued(&link, kind, new, ms(10), ms(0))
    }

    #[test]
    fn only_a_delivery_due_when_queued_asks_for_the_worker_at_once() {
        assert!(
            !queued(DeliveryKind::Link).due_when_queued(),
            "due after the create's try"
        );
        let link = crate::domain::link::tests_support::record();
        let message = WebhookMessage {
            endpoint: "crm".into(),
            id: "msg_1".into(),
            body: "{}".into(),
        };
        assert!(DeliveryRecord::webhook(&link, message, ms(5)).due_when_queued());
    }

    #[test]
    fn attempts_retry_then_give_up_and_say_so_in_the_log() {
        let retry = RetryPolicy {
            max_attempts: 2,
            initial_ms: 100,
            max_ms: 1_000,
        };
        let failed = AttemptOutcome::Failed {
            permanent: false,
            error: "busy".into(),
        };
        let mut d = queued(DeliveryKind::Link);
        d.unfinished_leases = 1;
        d.record_attempt(ms(50), &failed, retry);
        assert_eq!(
            (d.status, d.attempts, d.next_attempt_at, d.unfinished_leases),
            (DeliveryStatus::Queued, 1, ms(150), 0)
        );
        d.record_attempt(ms(200), &failed, retry);
        assert_eq!(d.status, DeliveryStatus::Failed);
        let (event, outcome, detail) = d.attempt_log();
        assert_eq!(
            (event, outcome, detail.as_str()),
            (
                AccessEvent::DeliveryFailed,
                Outcome::Failure,
                "Email attempt 2: busy"
            )
        );
        let mut p = queued(DeliveryKind::Passcode);
        p.record_attempt(ms(50), &AttemptOutcome::Sent, retry);
        assert_eq!(
            p.attempt_log(),
            (
                AccessEvent::OtpSent,
                Outcome::Success,
                "sent by Email".into()
            )
        );
    }

    #[test]
    fn a_delivery_leased_too_often_without_an_outcome_is_given_up() {
        let mut d = queued(DeliveryKind::Link);
        for n in 1..=MAX_UNFINISHED_LEASES {
            assert!(d.lease(ms(1_000)));
            assert_eq!((d.unfinished_leases, d.next_attempt_at), (n, ms(1_000)));
        }
        assert!(!d.lease(ms(2_000)));
        assert_eq!(d.status, DeliveryStatus::Failed);
        assert!(
            d.last_error
                .as_deref()
                .is_some_and(|e| e.starts_with("given up"))
        );
    }

    #[test]
    fn backoff_doubles_and_caps() {
        let d: Vec<i64> = (1..=6).map(|a| retry_delay_ms(a, 1_000, 10_000)).collect();
        assert_eq!(d, [1_000, 2_000, 4_000, 8_000, 10_000, 10_000]);
        assert_eq!(retry_delay_ms(u32::MAX, 1_000, 10_000), 10_000);
    }

    #[test]
    fn masking() {
        assert_eq!(mask("ann@example.com"), "a***@example.com");
        assert_eq!(mask("+15551234567"), "+1******4567");
    }

    #[test]
    fn the_recipient_limit_is_checked_before_the_tenant_limit() {
        let limits = SendLimits {
            per_recipient_per_hour: 2,
            per_tenant_per_hour: 5,
            first_retry_at: ms(0),
        };
        let sent = |recipient, tenant| SentThisHour { recipient, tenant };
        assert_eq!(over_limit(Channel::Email, sent(1, 4), &limits), None);
        assert_eq!(
            over_limit(Channel::Sms, sent(2, 5), &limits).as_deref(),
            Some("Sms not sent: this recipient reached its limit of 2 messages per hour.")
        );
        assert_eq!(
            over_limit(Channel::Email, sent(0, 5), &limits).as_deref(),
            Some("Email not sent: the tenant reached its limit of 5 messages per hour.")
        );
    }
}
