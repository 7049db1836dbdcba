//! Webhook endpoint commands on PostgreSQL: the embedded writer's merge on the row taken
//! `FOR UPDATE`, so two instances' PUTs of one endpoint apply one after the other.

use tokio_postgres::Transaction;

use crate::store::StoreError;
use crate::store::commands::{DeleteWebhook, PutWebhook, WebhookWritten};
use crate::store::postgres::contract::PgApply;
use crate::store::postgres::from_pg;
use crate::store::postgres::webhooks;

impl PgApply for PutWebhook {
    async fn apply_pg(&self, txn: &Transaction<'_>) -> Result<WebhookWritten, StoreError> {
        let existing = webhooks::load(txn, self.tenant_id, &self.spec.name).await?;
        let written = self.merge(existing);
        webhooks::store(txn, &written.endpoint).await?;
        Ok(written)
    }
}

impl PgApply for DeleteWebhook {
    async fn apply_pg(&self, txn: &Transaction<'_>) -> Result<bool, StoreError> {
        let deleted = txn
            .execute(
                "DELETE FROM webhooks WHERE tenant_id = $1 AND name = $2",
                &[&self.tenant_id.as_uuid(), &self.name],
            )
            .await
            .map_err(|e| from_pg(&e))?;
        Ok(deleted > 0)
    }
}
