//! Webhook endpoint DTOs (issue 15 §1; our own operations, the platform had none).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::domain::webhook::WebhookEndpoint;
use crate::wire::status::ResponseStatus;
use crate::wire::types::UtcDateTime;
use crate::wire::types::lenient::opt_bool;

/// `PUT /v1/webhook/{Name}`: creates or replaces the endpoint. `Events` are names such as
/// `link.opened`; `Enabled` defaults to true; `RotateSecret` issues a new signing secret.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(default)]
pub struct WebhookPutRequest {
    pub Name: Option<String>,
    pub Url: Option<String>,
    pub Events: Vec<String>,
    #[serde(deserialize_with = "opt_bool")]
    pub Enabled: Option<bool>,
    #[serde(deserialize_with = "opt_bool")]
    pub RotateSecret: Option<bool>,
}

/// `DELETE /v1/webhook/{Name}`.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(default)]
pub struct WebhookRequest {
    pub Name: Option<String>,
}

/// `GET /v1/webhook`.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(default)]
pub struct WebhookListRequest {}

/// An endpoint and how deliveries to it have gone. `DisabledAtUtc` is set when the service
/// switched it off after too many failures in a row (a PUT with `Enabled` turns it back on).
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Webhook {
    pub Name: String,
    pub Url: String,
    pub Events: Vec<String>,
    pub Enabled: bool,
    pub CreatedAtUtc: UtcDateTime,
    pub UpdatedAtUtc: UtcDateTime,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub LastSuccessAtUtc: Option<UtcDateTime>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub LastError: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub LastErrorAtUtc: Option<UtcDateTime>,
    pub ConsecutiveFailures: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub DisabledAtUtc: Option<UtcDateTime>,
}

impl Webhook {
    pub fn from_domain(e: &WebhookEndpoint) -> Self {
        Webhook {
            Name: e.name.clone(),
            Url: e.url.clone(),
            Events: e.events.iter().map(|e| e.name().to_owned()).collect(),
            Enabled: e.enabled,
            CreatedAtUtc: e.created_at.into(),
            UpdatedAtUtc: e.updated_at.into(),
            LastSuccessAtUtc: e.state.last_success_at.map(Into::into),
            LastError: e.state.last_error.clone(),
            LastErrorAtUtc: e.state.last_error_at.map(Into::into),
            ConsecutiveFailures: e.state.consecutive_failures,
            DisabledAtUtc: e.state.disabled_at.map(Into::into),
        }
    }
}

/// The endpoint, and on creation or `RotateSecret` its signing secret `whsec_…` — shown
/// this once; the service keeps it only sealed.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct WebhookResponse {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ResponseStatus: Option<ResponseStatus>,
    pub Webhook: Webhook,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub Secret: Option<String>,
}

/// The tenant's endpoints, by name.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct WebhookListResponse {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ResponseStatus: Option<ResponseStatus>,
    pub Webhooks: Vec<Webhook>,
}
