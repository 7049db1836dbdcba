//! Commands on a tenant's webhook endpoints (`PUT`/`DELETE /v1/webhook/{Name}`).

use super::Command;
use crate::domain::webhook::{WebhookEndpoint, WebhookSpec};
use crate::domain::{TenantId, UnixMillis};

/// Creates or updates an endpoint. `sealed_secret` becomes its signing secret when the
/// endpoint is new or `rotate` is set; otherwise the stored one stays. Enabling an endpoint
/// clears its failure count and the service's switch-off.
#[derive(Debug)]
pub struct PutWebhook {
    pub tenant_id: TenantId,
    pub spec: WebhookSpec,
    pub sealed_secret: Vec<u8>,
    pub rotate: bool,
    pub at: UnixMillis,
}

/// What a [`PutWebhook`] stored, and whether `sealed_secret` became the endpoint's secret.
#[derive(Debug)]
pub struct WebhookWritten {
    pub endpoint: Box<WebhookEndpoint>,
    pub secret_set: bool,
}

impl Command for PutWebhook {
    type Output = WebhookWritten;
}

/// Removes an endpoint; `false` if the tenant has none of that name. Deliveries already
/// queued for it fail permanently when their turn comes.
#[derive(Debug)]
pub struct DeleteWebhook {
    pub tenant_id: TenantId,
    pub name: String,
}

impl Command for DeleteWebhook {
    type Output = bool;
}

impl PutWebhook {
    /// The endpoint as it is after this command, given the stored one.
    pub fn merge(&self, existing: Option<WebhookEndpoint>) -> WebhookWritten {
        let spec = &self.spec;
        let secret_set = existing.is_none() || self.rotate;
        let mut endpoint = existing.unwrap_or_else(|| WebhookEndpoint {
            tenant_id: self.tenant_id,
            name: spec.name.clone(),
            url: String::new(),
            events: Vec::new(),
            enabled: false,
            sealed_secret: Vec::new(),
            created_at: self.at,
            updated_at: self.at,
            state: Default::default(),
        });
        endpoint.url = spec.url.clone();
        endpoint.events = spec.events.clone();
        if spec.enabled {
            endpoint.state.consecutive_failures = 0;
            endpoint.state.disabled_at = None;
        }
        endpoint.enabled = spec.enabled;
        endpoint.updated_at = self.at;
        if secret_set {
            endpoint.sealed_secret = self.sealed_secret.clone();
        }
        WebhookWritten {
            endpoint: Box::new(endpoint),
            secret_set,
        }
    }
}
