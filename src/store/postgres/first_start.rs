//! The first start on PostgreSQL: several instances may start together on an empty database,
//! so the check for "no tenant yet" and the writes happen under one transaction-scoped
//! advisory lock — the second instance waits, then finds the tenant and creates nothing.

use tokio_postgres::Transaction;

use super::{PgApply, fault, rows};
use crate::store::StoreError;
use crate::store::commands::FirstStart;

/// The advisory lock of the first start ("clfirst" in ASCII).
const FIRST_START_LOCK: i64 = 0x0063_6c66_6972_7374;

impl PgApply for FirstStart {
    async fn apply_pg(&self, txn: &Transaction<'_>) -> Result<bool, StoreError> {
        txn.execute("SELECT pg_advisory_xact_lock($1)", &[&FIRST_START_LOCK])
            .await
            .map_err(|e| fault::from_pg(&e))?;
        let row = txn
            .query_one("SELECT count(*) AS n FROM tenants", &[])
            .await
            .map_err(|e| fault::from_pg(&e))?;
        if rows::get::<i64>(&row, "n")? > 0 {
            return Ok(false);
        }
        self.tenant.apply_pg(txn).await?;
        self.key.apply_pg(txn).await?;
        Ok(true)
    }
}
