//! Webhook endpoints on PostgreSQL (`webhooks`, migration `005_webhooks.sql`): the row as the
//! embedded store's `WebhookEndpoint`, read and written by the webhook commands, by the access
//! log (which endpoints want an event) and by the outbox (an attempt's outcome).
//!
//! Errors: the driver's, as `fault::from_pg` classifies them, and `Corrupt` for a stored value
//! the schema should have refused (an unknown event name).

use tokio_postgres::{Client, Row, Transaction};

use super::contract::PgFetch;
use super::fault::from_pg;
use super::rows::{get, millis, unsigned};
use crate::domain::delivery::DeliveryRecord;
use crate::domain::link::LinkRecord;
use crate::domain::portal::{AccessEvent, Outcome};
use crate::domain::webhook::{
    EndpointState, WebhookEndpoint, WebhookEvent, WebhookMessage, event_body, events_of,
};
use crate::domain::{TenantId, UnixMillis};
use crate::store::StoreError;
use crate::store::commands::RecordAttempt;
use crate::store::queries::{WebhookOf, WebhooksOf};

/// The columns [`from_row`] reads (and `customerlink migrate` copies, in this order).
pub const COLUMNS: &str = "tenant_id, name, url, events, enabled, sealed_secret, created_at, \
    updated_at, last_success_at, last_error, last_error_at, consecutive_failures, disabled_at";

fn from_row(row: &Row) -> Result<WebhookEndpoint, StoreError> {
    let names: Vec<String> = get(row, "events")?;
    let events = names
        .iter()
        .map(|n| {
            WebhookEvent::parse(n)
                .ok_or_else(|| StoreError::Corrupt(format!("column events: unknown event {n:?}")))
        })
        .collect::<Result<_, _>>()?;
    let opt_ms = |c: &str| -> Result<Option<UnixMillis>, StoreError> {
        Ok(get::<Option<i64>>(row, c)?.map(millis))
    };
    Ok(WebhookEndpoint {
        tenant_id: TenantId::from(get::<uuid::Uuid>(row, "tenant_id")?),
        name: get(row, "name")?,
        url: get(row, "url")?,
        events,
        enabled: get(row, "enabled")?,
        sealed_secret: get(row, "sealed_secret")?,
        created_at: millis(get(row, "created_at")?),
        updated_at: millis(get(row, "updated_at")?),
        state: EndpointState {
            last_success_at: opt_ms("last_success_at")?,
            last_error: get(row, "last_error")?,
            last_error_at: opt_ms("last_error_at")?,
            consecutive_failures: unsigned(
                get(row, "consecutive_failures")?,
                "consecutive_failures",
            )?,
            disabled_at: opt_ms("disabled_at")?,
        },
    })
}

/// One endpoint, its row locked until the transaction ends.
pub async fn load(
    txn: &Transaction<'_>,
    tenant: TenantId,
    name: &str,
) -> Result<Option<WebhookEndpoint>, StoreError> {
    let sql =
        format!("SELECT {COLUMNS} FROM webhooks WHERE tenant_id = $1 AND name = $2 FOR UPDATE");
    let row = txn
        .query_opt(&sql, &[&tenant.as_uuid(), &name])
        .await
        .map_err(|e| from_pg(&e))?;
    row.as_ref().map(from_row).transpose()
}

/// The tenant's endpoints subscribed to `event` and enabled.
pub async fn wanting(
    txn: &Transaction<'_>,
    tenant: TenantId,
    event: WebhookEvent,
) -> Result<Vec<WebhookEndpoint>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM webhooks WHERE tenant_id = $1 AND enabled AND $2 = ANY(events) \
         ORDER BY name"
    );
    let rows = txn
        .query(&sql, &[&tenant.as_uuid(), &event.name()])
        .await
        .map_err(|e| from_pg(&e))?;
    rows.iter().map(from_row).collect()
}

/// Inserts or replaces the endpoint's row.
pub async fn store(txn: &Transaction<'_>, e: &WebhookEndpoint) -> Result<(), StoreError> {
    let events: Vec<&str> = e.events.iter().map(|e| e.name()).collect();
    let ms = |m: Option<UnixMillis>| m.map(UnixMillis::as_i64);
    txn.execute(
        "INSERT INTO webhooks (tenant_id, name, url, events, enabled, sealed_secret, created_at, \
         updated_at, last_success_at, last_error, last_error_at, consecutive_failures, disabled_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) \
         ON CONFLICT (tenant_id, name) DO UPDATE SET url = $3, events = $4, enabled = $5, \
         sealed_secret = $6, updated_at = $8, last_success_at = $9, last_error = $10, \
         last_error_at = $11, consecutive_failures = $12, disabled_at = $13",
        &[
            &e.tenant_id.as_uuid(),
            &e.name,
            &e.url,
            &events,
            &e.enabled,
            &e.sealed_secret,
            &e.created_at.as_i64(),
            &e.updated_at.as_i64(),
            &ms(e.state.last_success_at),
            &e.state.last_error,
            &ms(e.state.last_error_at),
            &i64::from(e.state.consecutive_failures),
            &ms(e.state.disabled_at),
        ],
    )
    .await
    .map_err(|e| from_pg(&e))?;
    Ok(())
}

impl PgFetch for WebhookOf {
    async fn fetch_pg(&self, client: &Client) -> Result<Option<WebhookEndpoint>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM webhooks WHERE tenant_id = $1 AND name = $2");
        let row = client
            .query_opt(&sql, &[&self.tenant.as_uuid(), &self.name])
            .await
            .map_err(|e| from_pg(&e))?;
        row.as_ref().map(from_row).transpose()
    }
}

impl PgFetch for WebhooksOf {
    async fn fetch_pg(&self, client: &Client) -> Result<Vec<WebhookEndpoint>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM webhooks WHERE tenant_id = $1 ORDER BY name");
        let rows = client
            .query(&sql, &[&self.0.as_uuid()])
            .await
            .map_err(|e| from_pg(&e))?;
        rows.iter().map(from_row).collect()
    }
}

/// Queues the webhook events an access-log row stands for, one delivery per enabled endpoint
/// of the link's tenant subscribed to each, in the row's transaction.
pub async fn queue(
    txn: &Transaction<'_>,
    link: &LinkRecord,
    event: AccessEvent,
    outcome: Outcome,
    at: UnixMillis,
) -> Result<(), StoreError> {
    for event in events_of(event, outcome, link) {
        queue_event(txn, link, event, at).await?;
    }
    Ok(())
}

/// Queues one event of `link` for each enabled endpoint of its tenant subscribed to it.
async fn queue_event(
    txn: &Transaction<'_>,
    link: &LinkRecord,
    event: WebhookEvent,
    at: UnixMillis,
) -> Result<(), StoreError> {
    for e in wanting(txn, link.tenant_id, event).await? {
        let message = WebhookMessage {
            endpoint: e.name.clone(),
            id: format!("msg_{}", uuid::Uuid::new_v4().simple()),
            body: event_body(event, link, at),
        };
        super::outbox::enqueue(txn, DeliveryRecord::webhook(link, message, at)).await?;
    }
    Ok(())
}

/// The purge's expiry pass, as the embedded store's (`store/writer/webhook.rs`): queues
/// `link.expired` for the links (not revoked) that expired after the cursor row of
/// `webhook_expiry_cursor` and by `now`, at most `limit`, and moves the cursor. The row is
/// locked, so two instances' purges do not announce one expiry twice; the first pass only
/// sets it.
pub async fn queue_expired(
    txn: &Transaction<'_>,
    now: UnixMillis,
    limit: usize,
) -> Result<(), StoreError> {
    let row = txn
        .query_opt("SELECT through FROM webhook_expiry_cursor FOR UPDATE", &[])
        .await
        .map_err(|e| from_pg(&e))?;
    let Some(row) = row else {
        txn.execute(
            "INSERT INTO webhook_expiry_cursor (through) VALUES ($1) ON CONFLICT DO NOTHING",
            &[&now.as_i64()],
        )
        .await
        .map_err(|e| from_pg(&e))?;
        return Ok(());
    };
    let cursor: i64 = get(&row, "through")?;
    if cursor >= now.as_i64() {
        return Ok(());
    }
    let sql = format!(
        "SELECT {} FROM links WHERE expires_at > $1 AND expires_at <= $2 \
         AND revoked_at IS NULL ORDER BY expires_at LIMIT $3",
        super::rows::LINK_COLUMNS
    );
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let rows = txn
        .query(&sql, &[&cursor, &now.as_i64(), &limit])
        .await
        .map_err(|e| from_pg(&e))?;
    let mut through = now;
    for row in &rows {
        let link = super::rows::link_from_row(row)?;
        queue_event(txn, &link, WebhookEvent::Expired, link.expires_at).await?;
        through = link.expires_at;
    }
    if i64::try_from(rows.len()).ok() != Some(limit) {
        through = now;
    }
    txn.execute(
        "UPDATE webhook_expiry_cursor SET through = $1",
        &[&through.as_i64()],
    )
    .await
    .map_err(|e| from_pg(&e))?;
    Ok(())
}

/// Counts a webhook event's attempt against its endpoint (if it still exists); `true` when
/// this failure switched the endpoint off.
pub async fn record_attempt(
    txn: &Transaction<'_>,
    record: &DeliveryRecord,
    cmd: &RecordAttempt,
) -> Result<bool, StoreError> {
    let Some(message) = record.webhook.as_ref() else {
        return Ok(false);
    };
    let Some(mut endpoint) = load(txn, record.tenant_id, &message.endpoint).await? else {
        return Ok(false);
    };
    let disabled = endpoint.record(cmd.at, cmd.error(), cmd.webhook_max_failures);
    store(txn, &endpoint).await?;
    Ok(disabled)
}
