//! Webhook endpoints (Standard Webhooks 1.0): what a tenant subscribed where, the rules a
//! `PUT /v1/webhook/{Name}` must pass (http(s) URL, optionally only allowed hosts, known event
//! names), the per-endpoint delivery state staff see, and when an endpoint that keeps failing
//! is switched off. Pure: the store keeps the records, `delivery::webhook` sends.

use serde::{Deserialize, Serialize};

use super::link::LinkRecord;
use super::portal::{AccessEvent, Outcome};
use super::{FieldError, Rule, TenantId, UnixMillis};

/// Longest endpoint name (it is a path segment and a key).
pub const MAX_NAME_CHARS: usize = 64;

/// Longest URL accepted.
pub const MAX_URL_CHARS: usize = 2_000;

/// Longest error kept in an endpoint's state.
const MAX_ERROR_CHARS: usize = 300;

/// The events a webhook endpoint can subscribe to, by their wire names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum WebhookEvent {
    Created,
    Delivered,
    DeliveryFailed,
    OtpVerified,
    Opened,
    Exhausted,
    Locked,
    Revoked,
    Resent,
    Expired,
    ReissueRequested,
}

impl WebhookEvent {
    pub const ALL: [WebhookEvent; 11] = [
        WebhookEvent::Created,
        WebhookEvent::Delivered,
        WebhookEvent::DeliveryFailed,
        WebhookEvent::OtpVerified,
        WebhookEvent::Opened,
        WebhookEvent::Exhausted,
        WebhookEvent::Locked,
        WebhookEvent::Revoked,
        WebhookEvent::Resent,
        WebhookEvent::Expired,
        WebhookEvent::ReissueRequested,
    ];

    /// The `type` of the event body (`link.opened`).
    pub fn name(self) -> &'static str {
        match self {
            WebhookEvent::Created => "link.created",
            WebhookEvent::Delivered => "link.delivered",
            WebhookEvent::DeliveryFailed => "link.delivery_failed",
            WebhookEvent::OtpVerified => "link.otp_verified",
            WebhookEvent::Opened => "link.opened",
            WebhookEvent::Exhausted => "link.exhausted",
            WebhookEvent::Locked => "link.locked",
            WebhookEvent::Revoked => "link.revoked",
            WebhookEvent::Resent => "link.resent",
            WebhookEvent::Expired => "link.expired",
            WebhookEvent::ReissueRequested => "link.reissue_requested",
        }
    }

    /// The event named `name` (exact, lower case), if any.
    pub fn parse(name: &str) -> Option<WebhookEvent> {
        Self::ALL.into_iter().find(|e| e.name() == name)
    }
}

/// One endpoint of a tenant, as stored. The signing secret is only ever stored sealed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookEndpoint {
    pub tenant_id: TenantId,
    pub name: String,
    pub url: String,
    pub events: Vec<WebhookEvent>,
    /// Staff's switch; also turned off after too many failures in a row.
    pub enabled: bool,
    /// The secret's raw bytes (what `whsec_` carries in base64), sealed with the outbox key
    /// and [`WebhookEndpoint::seal_context`].
    #[serde(with = "super::bin::bytes")]
    pub sealed_secret: Vec<u8>,
    pub created_at: UnixMillis,
    pub updated_at: UnixMillis,
    #[serde(default)]
    pub state: EndpointState,
}

/// How deliveries to an endpoint have gone (`GET /v1/webhook`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndpointState {
    #[serde(default)]
    pub last_success_at: Option<UnixMillis>,
    #[serde(default)]
    pub last_error: Option<String>,
    #[serde(default)]
    pub last_error_at: Option<UnixMillis>,
    #[serde(default)]
    pub consecutive_failures: u32,
    /// Set when the service switched the endpoint off for failing; cleared by a PUT.
    #[serde(default)]
    pub disabled_at: Option<UnixMillis>,
}

impl WebhookEndpoint {
    /// The 16 bytes a sealed secret is bound to: the tenant and the endpoint name, so a sealed
    /// secret copied to another endpoint does not open.
    pub fn seal_context(tenant_id: TenantId, name: &str) -> [u8; 16] {
        let mut h = blake3::Hasher::new();
        h.update(b"customerlink webhook secret v1");
        h.update(tenant_id.as_bytes());
        h.update(name.as_bytes());
        let mut out = [0u8; 16];
        out.copy_from_slice(&h.finalize().as_bytes()[..16]);
        out
    }

    /// Whether an event of this kind is sent to the endpoint now.
    pub fn wants(&self, event: WebhookEvent) -> bool {
        self.enabled && self.events.contains(&event)
    }

    /// Counts one delivery attempt's outcome; `true` when this failure switched the endpoint
    /// off (it reached `max_failures` in a row). Attempts refused because the endpoint is
    /// off are not the endpoint's failures and change nothing.
    pub fn record(&mut self, at: UnixMillis, error: Option<&str>, max_failures: u32) -> bool {
        if !self.enabled {
            return false;
        }
        match error {
            None => {
                self.state.last_success_at = Some(at);
                self.state.consecutive_failures = 0;
                false
            }
            Some(e) => {
                self.state.last_error = Some(e.chars().take(MAX_ERROR_CHARS).collect());
                self.state.last_error_at = Some(at);
                self.state.consecutive_failures = self.state.consecutive_failures.saturating_add(1);
                let disable = self.state.consecutive_failures >= max_failures;
                if disable {
                    self.enabled = false;
                    self.state.disabled_at = Some(at);
                }
                disable
            }
        }
    }
}

/// One event for one endpoint, as the outbox keeps it: the endpoint's name, the stable
/// `webhook-id` (the same on every retry, also after a restart) and the JSON body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookMessage {
    pub endpoint: String,
    pub id: String,
    pub body: String,
}

/// The webhook events an access-log row stands for: the row's own event, and
/// `link.exhausted` beside the open that used the last view.
pub fn events_of(event: AccessEvent, outcome: Outcome, link: &LinkRecord) -> Vec<WebhookEvent> {
    let success = outcome == Outcome::Success;
    let own = match event {
        AccessEvent::Created if success => Some(WebhookEvent::Created),
        AccessEvent::Delivered => Some(WebhookEvent::Delivered),
        AccessEvent::DeliveryFailed => Some(WebhookEvent::DeliveryFailed),
        AccessEvent::OtpVerified if success => Some(WebhookEvent::OtpVerified),
        AccessEvent::Opened if success => Some(WebhookEvent::Opened),
        AccessEvent::Locked => Some(WebhookEvent::Locked),
        AccessEvent::Revoked if success => Some(WebhookEvent::Revoked),
        AccessEvent::Resent if success => Some(WebhookEvent::Resent),
        AccessEvent::ReissueRequested => Some(WebhookEvent::ReissueRequested),
        _ => None,
    };
    let exhausted = own == Some(WebhookEvent::Opened) && link.view_count >= link.max_views;
    own.into_iter()
        .chain(exhausted.then_some(WebhookEvent::Exhausted))
        .collect()
}

/// The resource type an event names: a document share's is `DocumentShare` (its stored
/// marker is internal), its `ResourceUid` the attachment's id.
fn event_resource_type(link: &LinkRecord) -> &str {
    match crate::domain::share::Family::of(link) {
        crate::domain::share::Family::CustomerLink => &link.resource_type,
        crate::domain::share::Family::DocumentShare => "DocumentShare",
    }
}

/// The event body: `{"type", "timestamp", "data": {…the link's facts…}}`. Never a token, a
/// passcode or a grant: only what `GET /v1/customerlink/{uid}` shows staff.
pub fn event_body(event: WebhookEvent, link: &LinkRecord, at: UnixMillis) -> String {
    let timestamp = at
        .to_datetime()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    let body = serde_json::json!({
        "type": event.name(),
        "timestamp": timestamp,
        "data": {
            "CustomerLinkUID": link.uid.as_uuid().to_string(),
            "CustomerLinkId": link.link_id,
            "TenantId": link.tenant_id.as_uuid().to_string(),
            "ResourceType": event_resource_type(link),
            "ResourceUid": link.resource_uid.to_string(),
            "RecipientDisplayName": link.recipient_display_name,
            "ViewCount": link.view_count,
            "MaxViews": link.max_views,
            "Status": link.status(at).as_str(),
        }
    });
    body.to_string()
}

/// A validated `PUT /v1/webhook/{Name}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookSpec {
    pub name: String,
    pub url: String,
    pub events: Vec<WebhookEvent>,
    pub enabled: bool,
}

/// What a PUT sent, before validation.
#[derive(Debug, Clone, Default)]
pub struct SpecInput {
    pub name: Option<String>,
    pub url: Option<String>,
    pub events: Vec<String>,
    pub enabled: Option<bool>,
}

impl WebhookSpec {
    /// Checks every field, reporting all problems: a name of letters, digits, `-`, `_`, `.`;
    /// an absolute http(s) URL whose host is in `allowed_hosts` when that list is set; at
    /// least one event, each a known name.
    pub fn parse(
        input: SpecInput,
        allowed_hosts: Option<&[String]>,
    ) -> Result<Self, Vec<FieldError>> {
        let mut errors = Vec::new();
        let name = input.name.unwrap_or_default();
        if !valid_name(&name) {
            errors.push(FieldError::new("Name", Rule::Predicate).value(name.clone()).message(
                format!("'{{PropertyName}}' must be 1 to {MAX_NAME_CHARS} letters, digits, '-', '_' or '.'."),
            ));
        }
        let url = input.url.unwrap_or_default();
        if let Some(problem) = url_problem(&url, allowed_hosts) {
            errors.push(
                FieldError::new("Url", Rule::Predicate)
                    .value(url.clone())
                    .message(problem),
            );
        }
        let events = parse_events(&input.events, &mut errors);
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(WebhookSpec {
            name,
            url,
            events,
            enabled: input.enabled.unwrap_or(true),
        })
    }
}

fn valid_name(name: &str) -> bool {
    (1..=MAX_NAME_CHARS).contains(&name.chars().count())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// Why `url` may not be a target, if it may not.
fn url_problem(url: &str, allowed_hosts: Option<&[String]>) -> Option<String> {
    if url.is_empty() || url.len() > MAX_URL_CHARS {
        return Some(format!(
            "'{{PropertyName}}' must be an http(s) URL of at most {MAX_URL_CHARS} characters."
        ));
    }
    let Ok(parsed) = url::Url::parse(url) else {
        return Some("'{PropertyName}' is not a valid absolute URL.".into());
    };
    if !matches!(parsed.scheme(), "http" | "https") {
        return Some("'{PropertyName}' must use http or https.".into());
    }
    let Some(host) = parsed.host_str() else {
        return Some("'{PropertyName}' has no host.".into());
    };
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Some("'{PropertyName}' must not carry credentials.".into());
    }
    match allowed_hosts {
        Some(allowed) if !allowed.iter().any(|a| a.eq_ignore_ascii_case(host)) => Some(format!(
            "'{{PropertyName}}' host '{host}' is not in webhooks.allowed_hosts."
        )),
        _ => None,
    }
}

fn parse_events(names: &[String], errors: &mut Vec<FieldError>) -> Vec<WebhookEvent> {
    if names.is_empty() {
        errors.push(FieldError::new("Events", Rule::NotEmpty));
    }
    let mut events = Vec::new();
    for name in names {
        match WebhookEvent::parse(name.trim()) {
            Some(e) if !events.contains(&e) => events.push(e),
            Some(_) => {}
            None => errors.push(
                FieldError::new("Events", Rule::Enum)
                    .value(name.clone())
                    .message(format!(
                        "'{name}' is not a webhook event (link.created, link.opened, …)."
                    )),
            ),
        }
    }
    events
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::millis::ms;

    fn input(url: &str, events: &[&str]) -> SpecInput {
        SpecInput {
            name: Some("crm".into()),
            url: Some(url.into()),
            events: events.iter().map(|e| (*e).to_owned()).collect(),
            enabled: None,
        }
    }

    fn fields(r: Result<WebhookSpec, Vec<FieldError>>) -> Vec<&'static str> {
        r.err()
            .unwrap_or_default()
            .iter()
            .map(|e| e.field)
            .collect()
    }

    #[test]
    fn urls_must_be_http_and_on_allowed_hosts() {
        let ok = WebhookSpec::parse(input("https://hooks.example.com/x", &["link.opened"]), None);
        assert!(ok.is_ok_and(|s| s.enabled && s.events == [WebhookEvent::Opened]));
        for bad in [
            "ftp://a.example/x",
            "hooks.example.com",
            "",
            "https://u:p@a.example/",
        ] {
            assert_eq!(
                fields(WebhookSpec::parse(input(bad, &["link.opened"]), None)),
                ["Url"]
            );
        }
        let allowed = ["hooks.example.com".to_owned()];
        let other = input("http://10.0.0.1/x", &["link.opened"]);
        assert_eq!(fields(WebhookSpec::parse(other, Some(&allowed))), ["Url"]);
        let listed = input("http://HOOKS.example.com:8080/x", &["link.opened"]);
        assert!(WebhookSpec::parse(listed, Some(&allowed)).is_ok());
    }

    #[test]
    fn events_must_be_known_and_present() {
        let r = WebhookSpec::parse(
            input("http://a.example/", &["link.opened", "link.nope"]),
            None,
        );
        assert_eq!(fields(r), ["Events"]);
        assert_eq!(
            fields(WebhookSpec::parse(input("http://a.example/", &[]), None)),
            ["Events"]
        );
        for e in WebhookEvent::ALL {
            assert_eq!(WebhookEvent::parse(e.name()), Some(e));
        }
    }

    #[test]
    fn access_events_map_to_webhook_events_and_the_last_view_also_exhausts() {
        let mut link = crate::domain::link::tests_support::record();
        link.max_views = 2;
        link.view_count = 1;
        let of = |e, o, l: &LinkRecord| events_of(e, o, l);
        assert_eq!(
            of(AccessEvent::Opened, Outcome::Success, &link),
            [WebhookEvent::Opened]
        );
        link.view_count = 2;
        assert_eq!(
            of(AccessEvent::Opened, Outcome::Success, &link),
            [WebhookEvent::Opened, WebhookEvent::Exhausted]
        );
        assert_eq!(
            of(AccessEvent::Locked, Outcome::Failure, &link),
            [WebhookEvent::Locked]
        );
        assert_eq!(
            of(AccessEvent::OtpVerified, Outcome::Success, &link),
            [WebhookEvent::OtpVerified]
        );
        assert!(of(AccessEvent::Revoked, Outcome::Failure, &link).is_empty());
        for noise in [
            AccessEvent::LandingViewed,
            AccessEvent::OtpSent,
            AccessEvent::OpenDenied,
        ] {
            assert!(of(noise, Outcome::Success, &link).is_empty());
        }
        let body = event_body(WebhookEvent::Opened, &link, link.created_at);
        assert!(
            body.starts_with(r#"{"type":"link.opened","timestamp":"#),
            "{body}"
        );
        let mut share = link.clone();
        share.resource_type = crate::domain::share::SHARED_DOCUMENT.into();
        let body = event_body(WebhookEvent::Opened, &share, link.created_at);
        assert!(body.contains(r#""ResourceType":"DocumentShare""#), "{body}");
    }

    #[test]
    fn an_endpoint_is_switched_off_after_enough_failures_in_a_row() {
        let mut e = WebhookEndpoint {
            tenant_id: TenantId::from_u128(1),
            name: "crm".into(),
            url: "http://a.example/".into(),
            events: vec![WebhookEvent::Opened],
            enabled: true,
            sealed_secret: vec![],
            created_at: ms(0),
            updated_at: ms(0),
            state: EndpointState::default(),
        };
        assert!(!e.record(ms(1), Some("500"), 2));
        assert!(!e.record(ms(2), None, 2));
        assert!(!e.record(ms(3), Some("500"), 2));
        assert!(e.record(ms(4), Some("500"), 2));
        assert!(!e.wants(WebhookEvent::Opened));
        assert_eq!(
            (e.state.consecutive_failures, e.state.disabled_at),
            (2, Some(ms(4)))
        );
        assert!(!e.record(ms(5), Some("500"), 2), "switched off once");
    }
}
