//! Webhook endpoints in the embedded store: `webhooks` holds each tenant's endpoints by name.

use redb::ReadableTable;

use super::super::StoreError;
use super::super::codec::{decode, encode};
use super::super::commands::{DeleteWebhook, PutWebhook, WebhookWritten};
use super::job::Apply;
use super::tables::Tables;
use crate::domain::TenantId;
use crate::domain::webhook::WebhookEndpoint;

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
