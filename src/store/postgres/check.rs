//! `check` on PostgreSQL. The schema's own constraints keep most of what the embedded store
//! must verify by hand (unique token hashes, foreign keys, the passcode columns set together,
//! a queued delivery's place in the due index, a lease with its owner); what remains is
//! checked here: every link reads back as a record, the resource index's key is the Rust
//! lower-casing of the type, a link's access log holds at most the noise rows allowed, and
//! log rows outlive their link only under a tombstone.

use tokio_postgres::Transaction;

use super::{PgStore, fault, records, rows};
use crate::domain::evidence::stored_chain_faults;
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
        let mut report = counts(&txn).await?;
        check_links(&txn, &mut report).await?;
        check_noise(&txn, &mut report).await?;
        check_orphan_logs(&txn, &mut report).await?;
        check_chains(&txn, &mut report).await?;
        Ok(report)
    }
}

async fn count(txn: &Transaction<'_>, sql: &str) -> Result<u64, StoreError> {
    let row = txn
        .query_one(sql, &[])
        .await
        .map_err(|e| fault::from_pg(&e))?;
    rows::unsigned::<u64>(rows::get::<i64>(&row, "n")?, "count")
}

async fn counts(txn: &Transaction<'_>) -> Result<CheckReport, StoreError> {
    Ok(CheckReport {
        tenants: count(txn, "SELECT count(*) AS n FROM tenants").await?,
        api_keys: count(txn, "SELECT count(*) AS n FROM api_keys").await?,
        links: count(txn, "SELECT count(*) AS n FROM links").await?,
        revoked_links: count(
            txn,
            "SELECT count(*) AS n FROM links WHERE revoked_at IS NOT NULL",
        )
        .await?,
        contacts: count(txn, "SELECT count(*) AS n FROM contacts").await?,
        deliveries: count(txn, "SELECT count(*) AS n FROM outbox").await?,
        idempotency_keys: count(txn, "SELECT count(*) AS n FROM idempotency").await?,
        problems: Vec::new(),
    })
}

/// Every link reads back as a record, its resource key the Rust lower-casing of its type.
async fn check_links(txn: &Transaction<'_>, report: &mut CheckReport) -> Result<(), StoreError> {
    let sql = format!("SELECT {} FROM links", rows::LINK_COLUMNS);
    let links = txn.query(&sql, &[]).await.map_err(|e| fault::from_pg(&e))?;
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
    Ok(())
}

/// No link holds more aggregated noise rows than allowed.
async fn check_noise(txn: &Transaction<'_>, report: &mut CheckReport) -> Result<(), StoreError> {
    let cap = i64::try_from(NOISE_ROWS_PER_LINK).unwrap_or(i64::MAX);
    let sql = "SELECT link_uid FROM access_log WHERE noise_key IS NOT NULL \
               GROUP BY link_uid HAVING count(*) > $1";
    let noisy = txn
        .query(sql, &[&cap])
        .await
        .map_err(|e| fault::from_pg(&e))?;
    for row in &noisy {
        let uid: uuid::Uuid = rows::get(row, "link_uid")?;
        let problem = format!("link {}: more noise rows than allowed", uid.simple());
        report.problems.push(problem);
    }
    Ok(())
}

/// Log rows outlive their link only under its tombstone.
async fn check_orphan_logs(
    txn: &Transaction<'_>,
    report: &mut CheckReport,
) -> Result<(), StoreError> {
    let sql = "SELECT DISTINCT a.link_uid FROM access_log a \
               WHERE NOT EXISTS (SELECT 1 FROM links l WHERE l.uid = a.link_uid) \
               AND NOT EXISTS (SELECT 1 FROM log_tombstones t WHERE t.link_uid = a.link_uid)";
    let orphans = txn.query(sql, &[]).await.map_err(|e| fault::from_pg(&e))?;
    for row in &orphans {
        let uid: uuid::Uuid = rows::get(row, "link_uid")?;
        report.problems.push(format!(
            "access log of link {}: neither the link nor its tombstone exists",
            uid.simple()
        ));
    }
    Ok(())
}

/// Every link's log rows, in id order, still form the hash chain they were written with
/// (`domain::evidence`): an edited, removed or inserted row shows.
async fn check_chains(txn: &Transaction<'_>, report: &mut CheckReport) -> Result<(), StoreError> {
    let sql = format!(
        "SELECT {} FROM access_log ORDER BY link_uid, id",
        records::ACCESS_LOG_COLUMNS
    );
    let found = txn
        .query(sql.as_str(), &[])
        .await
        .map_err(|e| fault::from_pg(&e))?;
    let mut entries = Vec::with_capacity(found.len());
    for row in &found {
        entries.push(records::access_log_from_row(row)?);
    }
    for rows in entries.chunk_by(|a, b| a.link_uid == b.link_uid) {
        if let Some(first) = rows.first() {
            let uid = first.link_uid.as_uuid();
            report.problems.extend(stored_chain_faults(uid, rows));
        }
    }
    Ok(())
}
