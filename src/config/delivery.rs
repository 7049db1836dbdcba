//! Delivery configuration: the SMTP relay, the SMS gateway and the outbox's retry and
//! send-limit rules. Secrets here (SMTP password, gateway tokens) are wrapped so that
//! printing the config never shows them.

use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

use super::{ConfigError, err, positive};
use crate::domain::token::Secret;

/// `[email]` table of the file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmailFile {
    /// `smtp://host:port` (plain, `?tls=opportunistic|required`), `smtps://host:port`; credentials
    /// as `user:password@`.
    pub smtp_url: Option<String>,
    pub from: Option<String>,
    pub from_name: Option<String>,
    pub reply_to: Option<String>,
    /// PEM file of a private CA that signs the relay's certificate.
    pub ca_file: Option<PathBuf>,
    pub timeout_secs: Option<u64>,
}

/// `[sms]` table of the file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmsFile {
    /// `twilio`, `http` or `log`; absent = no SMS gateway.
    pub kind: Option<String>,
    pub from: Option<String>,
    pub timeout_secs: Option<u64>,
    // twilio
    pub base_url: Option<String>,
    pub account_sid: Option<String>,
    pub auth_token: Option<String>,
    pub messaging_service_sid: Option<String>,
    // http
    pub method: Option<String>,
    pub url: Option<String>,
    pub body: Option<String>,
    pub content_type: Option<String>,
    pub auth: Option<String>,
    pub username: Option<String>,
    pub password: Option<String>,
    pub token: Option<String>,
    pub header_name: Option<String>,
    pub header_value: Option<String>,
}

/// `[delivery]` table of the file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeliveryFile {
    pub attempt_timeout_secs: Option<u64>,
    pub max_attempts: Option<u32>,
    pub backoff_initial_secs: Option<u64>,
    pub backoff_max_secs: Option<u64>,
    pub worker_interval_secs: Option<u64>,
    pub per_recipient_per_hour: Option<u32>,
    pub per_tenant_per_hour: Option<u32>,
    pub resend_cooldown_secs: Option<u64>,
    pub resends_per_hour: Option<u32>,
}

/// The SMTP relay.
#[derive(Debug, Clone)]
pub struct EmailSettings {
    pub smtp_url: Secret<String>,
    pub from: String,
    pub from_name: Option<String>,
    pub reply_to: Option<String>,
    pub ca_file: Option<PathBuf>,
    pub timeout: Duration,
}

/// How the generic HTTP gateway authenticates.
#[derive(Debug, Clone)]
pub enum HttpAuth {
    None,
    Basic {
        username: String,
        password: Secret<String>,
    },
    Bearer(Secret<String>),
    Header {
        name: String,
        value: Secret<String>,
    },
}

/// How the generic HTTP gateway's body is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyEncoding {
    /// No body; everything is in the URL (Kannel's `sendsms`).
    None,
    Form,
    Json,
}

/// The SMS gateway.
#[derive(Debug, Clone)]
pub enum SmsSettings {
    /// Twilio's Messages API (or any provider compatible with it at another base URL).
    Twilio {
        base_url: String,
        account_sid: String,
        auth_token: Secret<String>,
        from: Option<String>,
        messaging_service_sid: Option<String>,
        timeout: Duration,
    },
    /// A generic HTTP gateway (Kannel, Jasmin, …): `{to}`, `{from}`, `{text}` in URL and body.
    Http {
        method: String,
        url: String,
        body: String,
        encoding: BodyEncoding,
        auth: HttpAuth,
        from: Option<String>,
        timeout: Duration,
    },
    /// Development: log that a message would be sent (recipient masked, no text).
    Log,
}

/// Outbox retries and send limits.
#[derive(Debug, Clone)]
pub struct DeliverySettings {
    /// How long the create call waits for each first attempt.
    pub attempt_timeout: Duration,
    pub max_attempts: u32,
    pub backoff_initial: Duration,
    pub backoff_max: Duration,
    pub worker_interval: Duration,
    pub per_recipient_per_hour: u32,
    pub per_tenant_per_hour: u32,
    pub resend_cooldown: Duration,
    pub resends_per_hour: u32,
}

pub(super) fn resolve_email(f: EmailFile, errors: &mut Vec<ConfigError>) -> Option<EmailSettings> {
    let url = f.smtp_url?;
    if !(url.starts_with("smtp://") || url.starts_with("smtps://")) {
        errors.push(err("email.smtp_url", "must start with smtp:// or smtps://"));
    }
    let Some(from) = f.from else {
        errors.push(err("email.from", "is required when email.smtp_url is set"));
        return None;
    };
    Some(EmailSettings {
        smtp_url: Secret::new(url),
        from,
        from_name: f.from_name,
        reply_to: f.reply_to,
        ca_file: f.ca_file,
        timeout: Duration::from_secs(positive(f.timeout_secs, 10, "email.timeout_secs", errors)),
    })
}

pub(super) fn resolve_sms(f: SmsFile, errors: &mut Vec<ConfigError>) -> Option<SmsSettings> {
    let timeout = Duration::from_secs(positive(f.timeout_secs, 10, "sms.timeout_secs", errors));
    let mut required = |value: Option<String>, key: &str| {
        value.unwrap_or_else(|| {
            errors.push(err(key, "is required for this sms.kind"));
            String::new()
        })
    };
    match f.kind.as_deref()? {
        "log" => Some(SmsSettings::Log),
        "twilio" => Some(SmsSettings::Twilio {
            base_url: f
                .base_url
                .unwrap_or_else(|| "https://api.twilio.com".into())
                .trim_end_matches('/')
                .to_owned(),
            account_sid: required(f.account_sid, "sms.account_sid"),
            auth_token: Secret::new(required(f.auth_token, "sms.auth_token")),
            from: f.from,
            messaging_service_sid: f.messaging_service_sid,
            timeout,
        }),
        "http" => {
            let url = required(f.url.clone(), "sms.url");
            let auth = resolve_sms_auth(&f, errors);
            let encoding = resolve_sms_encoding(&f, errors);
            Some(SmsSettings::Http {
                method: f
                    .method
                    .unwrap_or_else(|| "POST".into())
                    .to_ascii_uppercase(),
                url,
                body: f.body.unwrap_or_default(),
                encoding,
                auth,
                from: f.from,
                timeout,
            })
        }
        _ => {
            errors.push(err("sms.kind", "must be twilio, http or log"));
            None
        }
    }
}

/// `sms.auth` and the credentials it needs (`kind = "http"`).
fn resolve_sms_auth(f: &SmsFile, errors: &mut Vec<ConfigError>) -> HttpAuth {
    let mut required = |value: &Option<String>, key: &str| {
        value.clone().unwrap_or_else(|| {
            errors.push(err(key, "is required for this sms.auth"));
            String::new()
        })
    };
    match f.auth.as_deref().unwrap_or("none") {
        "none" => HttpAuth::None,
        "basic" => HttpAuth::Basic {
            username: required(&f.username, "sms.username"),
            password: Secret::new(f.password.clone().unwrap_or_default()),
        },
        "bearer" => HttpAuth::Bearer(Secret::new(required(&f.token, "sms.token"))),
        "header" => HttpAuth::Header {
            name: required(&f.header_name, "sms.header_name"),
            value: Secret::new(required(&f.header_value, "sms.header_value")),
        },
        _ => {
            errors.push(err("sms.auth", "must be none, basic, bearer or header"));
            HttpAuth::None
        }
    }
}

/// `sms.content_type`: how the body template is sent (default `form` when there is a body).
fn resolve_sms_encoding(f: &SmsFile, errors: &mut Vec<ConfigError>) -> BodyEncoding {
    let default = if f.body.is_some() { "form" } else { "none" };
    match f.content_type.as_deref().unwrap_or(default) {
        "none" => BodyEncoding::None,
        "form" => BodyEncoding::Form,
        "json" => BodyEncoding::Json,
        _ => {
            errors.push(err("sms.content_type", "must be none, form or json"));
            BodyEncoding::None
        }
    }
}

pub(super) fn resolve_delivery(
    f: &DeliveryFile,
    errors: &mut Vec<ConfigError>,
) -> DeliverySettings {
    let secs = |v, d, k, e: &mut Vec<_>| Duration::from_secs(positive(v, d, k, e));
    DeliverySettings {
        attempt_timeout: secs(
            f.attempt_timeout_secs,
            5,
            "delivery.attempt_timeout_secs",
            errors,
        ),
        max_attempts: positive(f.max_attempts, 8, "delivery.max_attempts", errors),
        backoff_initial: secs(
            f.backoff_initial_secs,
            30,
            "delivery.backoff_initial_secs",
            errors,
        ),
        backoff_max: secs(
            f.backoff_max_secs,
            3600,
            "delivery.backoff_max_secs",
            errors,
        ),
        worker_interval: secs(
            f.worker_interval_secs,
            5,
            "delivery.worker_interval_secs",
            errors,
        ),
        per_recipient_per_hour: positive(
            f.per_recipient_per_hour,
            10,
            "delivery.per_recipient_per_hour",
            errors,
        ),
        per_tenant_per_hour: positive(
            f.per_tenant_per_hour,
            1000,
            "delivery.per_tenant_per_hour",
            errors,
        ),
        resend_cooldown: secs(
            f.resend_cooldown_secs,
            60,
            "delivery.resend_cooldown_secs",
            errors,
        ),
        resends_per_hour: positive(f.resends_per_hour, 5, "delivery.resends_per_hour", errors),
    }
}
