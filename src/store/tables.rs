//! Every table of the file and its key layout (documented in `docs/storage.md`). Index tables
//! map to the primary key only; they are written in the same transaction as their record.

use redb::{Database, ReadableTable, TableDefinition};

use super::StoreError;

/// Counters and format markers: `schema_version`, `next_link_id`, `reopens`.
pub const META: TableDefinition<&str, u64> = TableDefinition::new("meta");
/// tenant id → Tenant.
pub const TENANTS: TableDefinition<u128, &[u8]> = TableDefinition::new("tenants");
/// keyed hash of the API key → ApiKeyRecord.
pub const API_KEYS: TableDefinition<[u8; 32], &[u8]> = TableDefinition::new("api_keys");
/// key id → keyed hash (to list and revoke keys by id).
pub const API_KEY_IDS: TableDefinition<u128, [u8; 32]> = TableDefinition::new("api_key_ids");
/// link uid → LinkRecord (primary).
pub const LINKS: TableDefinition<u128, &[u8]> = TableDefinition::new("links");
/// keyed token hash → link uid.
pub const LINKS_BY_TOKEN: TableDefinition<[u8; 32], u128> = TableDefinition::new("links_by_token");
/// (tenant, link id) → link uid; newest first by reverse iteration.
pub const LINKS_BY_TENANT: TableDefinition<(u128, u64), u128> =
    TableDefinition::new("links_by_tenant");
/// (tenant, lower-cased resource type, resource uid, link id) → link uid.
pub const LINKS_BY_RESOURCE: TableDefinition<(u128, &str, u128, u64), u128> =
    TableDefinition::new("links_by_resource");
/// (expires at, link uid) → (); every stored link has exactly one entry.
pub const LINKS_BY_EXPIRY: TableDefinition<(i64, u128), ()> =
    TableDefinition::new("links_by_expiry");
/// (revoked at, link uid) → (); exactly the revoked links.
pub const LINKS_BY_REVOKED: TableDefinition<(i64, u128), ()> =
    TableDefinition::new("links_by_revoked");
/// delivery id → DeliveryRecord (the outbox).
pub const OUTBOX: TableDefinition<u64, &[u8]> = TableDefinition::new("outbox");
/// (next attempt at, delivery id) → (); exactly the queued deliveries.
pub const OUTBOX_DUE: TableDefinition<(i64, u64), ()> = TableDefinition::new("outbox_due");
/// (link uid, delivery id) → (); every delivery of a link.
pub const DELIVERIES_BY_LINK: TableDefinition<(u128, u64), ()> =
    TableDefinition::new("deliveries_by_link");
/// (`to:<address>` or `tenant:<id>`, hour since epoch) → messages queued in that hour.
pub const SEND_COUNTS: TableDefinition<(&str, i64), u32> = TableDefinition::new("send_counts");
/// keyed hash of a hand-off grant → GrantRecord (removed when exchanged or by purge).
pub const GRANTS: TableDefinition<[u8; 32], &[u8]> = TableDefinition::new("grants");
/// (expires at, keyed grant hash) → (); exactly the stored grants.
pub const GRANTS_BY_EXPIRY: TableDefinition<(i64, [u8; 32]), ()> =
    TableDefinition::new("grants_by_expiry");
/// (link uid, entry id) → AccessLogEntry: every lifecycle row, and at most
/// `NOISE_ROWS_PER_LINK` aggregated noise rows per link.
pub const ACCESS_LOG: TableDefinition<(u128, u64), &[u8]> = TableDefinition::new("access_log");
/// (link uid, noise key "event|outcome|address") → (entry id, last seen): exactly the
/// aggregated noise rows of `access_log`, so a repeat finds its row without a scan.
pub const ACCESS_LOG_NOISE: TableDefinition<(u128, &str), (u64, i64)> =
    TableDefinition::new("access_log_noise");
/// (purged at, link uid) → tenant: logs of purged links, deleted after the retention window.
pub const LOG_TOMBSTONES: TableDefinition<(i64, u128), u128> =
    TableDefinition::new("log_tombstones");
/// (tenant, BLAKE3 of the client's `Idempotency-Key`) → IdempotencyRecord: the create or
/// resend that key made, written in the same transaction as that link.
pub const IDEMPOTENCY: TableDefinition<(u128, [u8; 32]), &[u8]> =
    TableDefinition::new("idempotency");
/// (created at, tenant, key hash) → (); exactly the stored idempotency records (for purge).
pub const IDEMPOTENCY_BY_TIME: TableDefinition<(i64, u128, [u8; 32]), ()> =
    TableDefinition::new("idempotency_by_time");
/// (tenant, contact id) → Contact.
pub const CONTACTS: TableDefinition<(u128, i32), &[u8]> = TableDefinition::new("contacts");

/// The on-disk format version this build writes.
pub const SCHEMA_VERSION: u64 = 1;

/// Creates missing tables and checks the format version, so readers never meet a missing table.
pub fn ensure(db: &Database) -> Result<(), StoreError> {
    let txn = db.begin_write()?;
    {
        let mut meta = txn.open_table(META)?;
        let version = meta.get("schema_version")?.map(|v| v.value());
        match version {
            None => {
                meta.insert("schema_version", SCHEMA_VERSION)?;
            }
            Some(v) if v > SCHEMA_VERSION => {
                return Err(StoreError::Corrupt(format!(
                    "database format {v} is newer than this build understands ({SCHEMA_VERSION})"
                )));
            }
            Some(_) => {}
        }
        txn.open_table(TENANTS)?;
        txn.open_table(API_KEYS)?;
        txn.open_table(API_KEY_IDS)?;
        txn.open_table(LINKS)?;
        txn.open_table(LINKS_BY_TOKEN)?;
        txn.open_table(LINKS_BY_TENANT)?;
        txn.open_table(LINKS_BY_RESOURCE)?;
        txn.open_table(LINKS_BY_EXPIRY)?;
        txn.open_table(LINKS_BY_REVOKED)?;
        txn.open_table(CONTACTS)?;
        txn.open_table(OUTBOX)?;
        txn.open_table(OUTBOX_DUE)?;
        txn.open_table(DELIVERIES_BY_LINK)?;
        txn.open_table(SEND_COUNTS)?;
        txn.open_table(GRANTS)?;
        txn.open_table(GRANTS_BY_EXPIRY)?;
        txn.open_table(ACCESS_LOG)?;
        txn.open_table(ACCESS_LOG_NOISE)?;
        txn.open_table(LOG_TOMBSTONES)?;
        txn.open_table(IDEMPOTENCY)?;
        txn.open_table(IDEMPOTENCY_BY_TIME)?;
    }
    txn.commit()?;
    Ok(())
}

/// Proves a write lands after a reopen: counts reopens in `meta` (`reopens`) and commits.
/// Fails with the storage error if the disk still refuses the write.
pub fn probe(db: &Database) -> Result<(), StoreError> {
    let txn = db.begin_write()?;
    {
        let mut meta = txn.open_table(META)?;
        let reopens = meta.get("reopens")?.map_or(0, |v| v.value());
        meta.insert("reopens", reopens + 1)?;
    }
    txn.commit()?;
    Ok(())
}
