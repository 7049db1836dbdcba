//! Webhook endpoints in the embedded store: `webhooks` holds each tenant's endpoints by name.
//! Events are queued in the outbox by the access log's `log` (same transaction as the row),
//! and each attempt's outcome updates the endpoint's state.

use super::super::StoreError;
use super::super::codec::{decode, encode};
use super::super::commands::{DeleteWebhook, PutWebhook, RecordAttempt, WebhookWritten};
use super::job::Apply;
use super::tables::Tables;
use crate::domain::delivery::DeliveryRecord;
use crate::domain::link::LinkRecord;
use crate::domain::portal::{AccessEvent, Outcome};
use crate::domain::webhook::{
    WebhookEndpoint, WebhookEvent, WebhookMessage, event_body, events_of,
};

/// The `meta` key of the expiry pass's cursor: expiries up to it were announced.
const EXPIRY_CURSOR: &str = "webhook_expiry_cursor";
use crate::domain::{TenantId, UnixMillis};

impl Apply for PutWebhook {
    fn apply(&self, t: &mut Tables<'_>) -> Result<WebhookWritten, StoreError> {
        let existing = t.webhook(self.tenant_id, &self.spec.name)?;
        let written = self.merge(existing);
        t.store_webhook(&written.endpoint)?;
        Ok(written)
    }
}

impl Apply for DeleteWebhook {
    fn apply(&self, t: &mut Tables<'_>) -> Result<bool, StoreError> {
        let key = (self.tenant_id.as_u128(), self.name.as_str());
        Ok(t.webhooks.remove(key)?.is_some())
    }
}

impl Tables<'_> {
    pub(super) fn webhook(
        &self,
        tenant: TenantId,
        name: &str,
    ) -> Result<Option<WebhookEndpoint>, StoreError> {
        match self.webhooks.get((tenant.as_u128(), name))? {
            Some(g) => Ok(Some(decode(g.value())?)),
            None => Ok(None),
        }
    }

    pub(super) fn store_webhook(&mut self, e: &WebhookEndpoint) -> Result<(), StoreError> {
        let key = (e.tenant_id.as_u128(), e.name.as_str());
        self.webhooks.insert(key, encode(e)?.as_slice())?;
        Ok(())
    }

    /// The tenant's endpoints, by name.
    pub(super) fn webhooks_of(&self, tenant: TenantId) -> Result<Vec<WebhookEndpoint>, StoreError> {
        let t = tenant.as_u128();
        let mut all = Vec::new();
        for entry in self.webhooks.range((t, "")..)? {
            let (k, v) = entry?;
            if k.value().0 != t {
                break;
            }
            all.push(decode(v.value())?);
        }
        Ok(all)
    }
}

impl Tables<'_> {
    /// Queues the webhook events an access-log row stands for, one delivery per enabled
    /// endpoint of the link's tenant subscribed to each, in the same transaction as the row.
    pub(super) fn queue_webhooks(
        &mut self,
        link: &LinkRecord,
        event: AccessEvent,
        outcome: Outcome,
        at: UnixMillis,
    ) -> Result<(), StoreError> {
        for event in events_of(event, outcome, link) {
            self.queue_event(link, event, at)?;
        }
        Ok(())
    }

    /// The expiry pass of the purge: queues `link.expired` for the links (not revoked) whose
    /// expiry fell after the pass's cursor (`meta` `webhook_expiry_cursor`) and by `now`, at
    /// most `limit` of them, and moves the cursor. The first pass only sets the cursor, so
    /// links that expired before webhooks existed are not announced.
    pub(super) fn queue_expired(
        &mut self,
        now: UnixMillis,
        limit: usize,
    ) -> Result<(), StoreError> {
        let now_ms = now.as_i64();
        let cursor = self.meta.get(EXPIRY_CURSOR)?.map(|g| g.value());
        let Some(cursor) = cursor.and_then(|c| i64::try_from(c).ok()) else {
            self.meta
                .insert(EXPIRY_CURSOR, u64::try_from(now_ms).unwrap_or(0))?;
            return Ok(());
        };
        if cursor >= now_ms {
            return Ok(());
        }
        let mut due = Vec::new();
        for entry in self
            .by_expiry
            .range((cursor.saturating_add(1), 0)..=(now_ms, u128::MAX))?
            .take(limit)
        {
            due.push(entry?.0.value());
        }
        // A full batch moves the cursor to its last expiry only (links expiring in that same
        // millisecond beyond the batch are not announced).
        let through = match due.last() {
            Some((at, _)) if due.len() == limit => *at,
            _ => now_ms,
        };
        for (at, uid) in due {
            if let Some(link) = self.load_link_record(uid)?
                && link.revoked_at.is_none()
            {
                let at = UnixMillis::from_millis(at);
                self.queue_event(&link, WebhookEvent::Expired, at)?;
            }
        }
        self.meta
            .insert(EXPIRY_CURSOR, u64::try_from(through).unwrap_or(0))?;
        Ok(())
    }

    /// Queues one event of `link` for each enabled endpoint of its tenant subscribed to it.
    fn queue_event(
        &mut self,
        link: &LinkRecord,
        event: WebhookEvent,
        at: UnixMillis,
    ) -> Result<(), StoreError> {
        let endpoints = self.webhooks_of(link.tenant_id)?;
        for e in endpoints.iter().filter(|e| e.wants(event)) {
            let message = WebhookMessage {
                endpoint: e.name.clone(),
                id: format!("msg_{}", uuid::Uuid::new_v4().simple()),
                body: event_body(event, link, at),
            };
            self.enqueue(DeliveryRecord::webhook(link, message, at))?;
        }
        Ok(())
    }

    /// Counts a webhook event's attempt against its endpoint (if it still exists); `true`
    /// when this failure switched the endpoint off.
    pub(super) fn record_webhook_attempt(
        &mut self,
        record: &DeliveryRecord,
        cmd: &RecordAttempt,
    ) -> Result<bool, StoreError> {
        let Some(message) = record.webhook.as_ref() else {
            return Ok(false);
        };
        let Some(mut endpoint) = self.webhook(record.tenant_id, &message.endpoint)? else {
            return Ok(false);
        };
        let disabled = endpoint.record(cmd.at, cmd.error(), cmd.webhook_max_failures);
        self.store_webhook(&endpoint)?;
        Ok(disabled)
    }
}
