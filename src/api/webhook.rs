//! Staff operations on the tenant's webhook endpoints: `PUT /v1/webhook/{Name}` (create or
//! replace; the signing secret `whsec_…` is answered on creation and on `RotateSecret`, and
//! stored only sealed), `GET /v1/webhook` (with each endpoint's delivery state) and
//! `DELETE /v1/webhook/{Name}`.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use super::dto::{EmptyResponse, WebhookRequest, WebhookResponse};
use super::dto::{Webhook, WebhookListRequest, WebhookListResponse, WebhookPutRequest};
use super::error::ApiError;
use super::state::AppState;
use crate::domain::tenant::StaffCaller;
use crate::domain::token::{Secret, random_bytes};
use crate::domain::webhook::{SpecInput, WebhookEndpoint, WebhookSpec};
use crate::store::Store;
use crate::store::commands::{DeleteWebhook, PutWebhook};
use crate::store::queries::WebhooksOf;

/// Bytes of a signing secret (Standard Webhooks asks for 24 to 64).
const SECRET_BYTES: usize = 32;

pub async fn put(
    state: &AppState,
    caller: &StaffCaller,
    req: WebhookPutRequest,
) -> Result<WebhookResponse, ApiError> {
    let input = SpecInput {
        name: req.Name,
        url: req.Url,
        events: req.Events,
        enabled: req.Enabled,
    };
    let allowed = state.config.webhooks.allowed_hosts.as_deref();
    let spec = WebhookSpec::parse(input, allowed).map_err(ApiError::Invalid)?;
    let secret = Secret::new(random_bytes::<SECRET_BYTES>()?);
    let context = WebhookEndpoint::seal_context(caller.tenant_id, &spec.name);
    let sealed_secret = state.keys.seal(secret.expose(), &context)?;
    let op = PutWebhook {
        tenant_id: caller.tenant_id,
        spec,
        sealed_secret,
        rotate: req.RotateSecret.unwrap_or(false),
        at: state.clock.now(),
    };
    let written = state.store.write(op).await?;
    let shown = written
        .secret_set
        .then(|| format!("whsec_{}", STANDARD.encode(secret.expose())));
    Ok(WebhookResponse {
        ResponseStatus: None,
        Webhook: Webhook::from_domain(&written.endpoint),
        Secret: shown,
    })
}

pub async fn list(
    store: &Store,
    caller: &StaffCaller,
    _req: WebhookListRequest,
) -> Result<WebhookListResponse, ApiError> {
    let all = store.fetch(WebhooksOf(caller.tenant_id)).await?;
    Ok(WebhookListResponse {
        ResponseStatus: None,
        Webhooks: all.iter().map(Webhook::from_domain).collect(),
    })
}

pub async fn delete(
    store: &Store,
    caller: &StaffCaller,
    req: WebhookRequest,
) -> Result<EmptyResponse, ApiError> {
    let name = req.Name.unwrap_or_default();
    let op = DeleteWebhook {
        tenant_id: caller.tenant_id,
        name: name.clone(),
    };
    match store.write(op).await? {
        true => Ok(EmptyResponse::default()),
        false => Err(ApiError::NotFound(format!("Webhook '{name}' not found"))),
    }
}
