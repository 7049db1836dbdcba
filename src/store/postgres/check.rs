//! `check` on PostgreSQL. The schema's own constraints keep most of what the embedded store
//! must verify by hand (unique token hashes, foreign keys, the passcode columns set together,
//! a queued delivery's place in the due index, a lease with its owner); what remains is
//! checked here: every link reads back as a record, the resource index's key is the Rust
//! lower-casing of the type, a link's access log holds at most the noise rows allowed, and
//! log rows outlive their link only under a tombstone.

use super::{PgStore, fault, rows};
use crate::domain::portal::NOISE_ROWS_PER_LINK;
use crate::store::{CheckReport, StoreError};

impl PgStore {
    /// Counts what is stored and lists every inconsistency found (read in one snapshot).
    pub async fn check(&self) -> Result<CheckReport, StoreError> {
        let mut client = self.client().await?;
        let txn = client
            .build_transaction()
            .isolation_level(tokio_postgres::IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()
            .await
            .map_err(|e| fault::from_pg(&e))?;
        let count = |sql: &'static str| {
            let txn = &txn;
            async move {
                let row = txn
                    .query_one(sql, &[])
                    .await
                    .map_err(|e| fault::from_pg(&e))?;
                rows::unsigned::<u64>(rows::get::<i64>(&row, "n")?, "count")
            }
        };
        let mut report = CheckReport {
            tenants: count("SELECT count(*) AS n FROM tenants").await?,
            api_keys: count("SELECT count(*) AS n FROM api_keys").await?,
            links: count("SELECT count(*) AS n FROM links").await?,
            revoked_links: count("SELECT count(*) AS n FROM links WHERE revoked_at IS NOT NULL")
                .await?,
            contacts: count("SELECT count(*) AS n FROM contacts").await?,
            deliveries: count("SELECT count(*) AS n FROM outbox").await?,
            idempotency_keys: count("SELECT count(*) AS n FROM idempotency").await?,
            problems: Vec::new(),
        };
        let links = txn
            .query(&format!("SELECT {} FROM links", rows::LINK_COLUMNS), &[])
            .await
            .map_err(|e| fault::from_pg(&e))?;
        for row in &links {
            match rows::link_from_row(row) {
                Ok(link) => {
                    let key: String = rows::get(row, "resource_key")?;
                    if key != rows::resource_key(&link.resource_type) {
                        report.problems.push(format!(
                            "link {}: resource index key does not match its type",
                            link.uid.simple()
                        ));
                    }
                }
                Err(e) => report.problems.push(format!("link record: {e}")),
            }
        }
        let noisy = txn
            .query(
                "SELECT link_uid FROM access_log WHERE noise_key IS NOT NULL \
                 GROUP BY link_uid HAVING count(*) > $1",
                &[&i64::try_from(NOISE_ROWS_PER_LINK).unwrap_or(i64::MAX)],
            )
            .await
            .map_err(|e| fault::from_pg(&e))?;
        for row in &noisy {
            let uid: uuid::Uuid = rows::get(row, "link_uid")?;
            report.problems.push(format!(
                "link {}: more noise rows than allowed",
                uid.simple()
            ));
        }
        let orphans = txn
            .query(
                "SELECT DISTINCT a.link_uid FROM access_log a \
                 WHERE NOT EXISTS (SELECT 1 FROM links l WHERE l.uid = a.link_uid) \
                 AND NOT EXISTS (SELECT 1 FROM log_tombstones t WHERE t.link_uid = a.link_uid)",
                &[],
            )
            .await
            .map_err(|e| fault::from_pg(&e))?;
        for row in &orphans {
            let uid: uuid::Uuid = rows::get(row, "link_uid")?;
            report.problems.push(format!(
                "access log of link {}: neither the link nor its tombstone exists",
                uid.simple()
            ));
        }
        Ok(report)
    }
}
