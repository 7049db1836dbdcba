//! Every table of the file and its key layout (documented in `docs/storage.md`). Index tables
//! map to the primary key only; they are written in the same transaction as their record.

use redb::{Database, Key, ReadableTable, TableDefinition, Value, WriteTransaction};

use super::StoreError;

/// Declares every table once: its constant, and its entry in [`ALL`] and [`visit_all`], so no
/// list of tables can miss one.
macro_rules! tables {
    ($($(#[doc = $doc:literal])* $ident:ident: $name:literal, $key:ty => $value:ty;)*) => {
        $($(#[doc = $doc])* pub const $ident: TableDefinition<$key, $value> = TableDefinition::new($name);)*

        /// Every table as (name, key type, value type), in dump order; `docs/storage.md` lists
        /// the same (a unit test compares them).
        pub const ALL: &[(&str, &str, &str)] = &[$(($name, stringify!($key), stringify!($value))),*];

        /// Hands every table's definition to `visitor`, in the order of [`ALL`].
        pub fn visit_all<T: TableVisitor>(visitor: &mut T) -> Result<(), T::Error> {
            $(visitor.visit($ident)?;)*
            Ok(())
        }
    };
}

/// Does something with each table's typed definition (see [`visit_all`]), so code that
/// needs every table (create on open, backup) takes them from the one list.
pub trait TableVisitor {
    type Error;
    fn visit<K, V>(&mut self, table: TableDefinition<'static, K, V>) -> Result<(), Self::Error>
    where
        K: Key + Send + Sync + 'static,
        V: Value + Send + Sync + 'static;
}

tables! {
    /// Counters and format markers: `schema_version`, `next_link_id`, `reopens`, and the
    /// webhook expiry pass's cursor `webhook_expiry_cursor`.
    META: "meta", &str => u64;
    /// tenant id → Tenant.
    TENANTS: "tenants", u128 => &[u8];
    /// keyed hash of the API key → ApiKeyRecord.
    API_KEYS: "api_keys", [u8; 32] => &[u8];
    /// key id → keyed hash (to list and revoke keys by id).
    API_KEY_IDS: "api_key_ids", u128 => [u8; 32];
    /// link uid → LinkRecord (primary).
    LINKS: "links", u128 => &[u8];
    /// keyed token hash → link uid.
    LINKS_BY_TOKEN: "links_by_token", [u8; 32] => u128;
    /// (tenant, link id) → link uid; newest first by reverse iteration.
    LINKS_BY_TENANT: "links_by_tenant", (u128, u64) => u128;
    /// (tenant, lower-cased resource type, resource uid, link id) → link uid.
    LINKS_BY_RESOURCE: "links_by_resource", (u128, &str, u128, u64) => u128;
    /// (expires at, link uid) → (); every stored link has exactly one entry.
    LINKS_BY_EXPIRY: "links_by_expiry", (i64, u128) => ();
    /// (revoked at, link uid) → (); exactly the revoked links.
    LINKS_BY_REVOKED: "links_by_revoked", (i64, u128) => ();
    /// delivery id → DeliveryRecord (the outbox).
    OUTBOX: "outbox", u64 => &[u8];
    /// (next attempt at, delivery id) → (); exactly the queued deliveries.
    OUTBOX_DUE: "outbox_due", (i64, u64) => ();
    /// (link uid, delivery id) → (); every delivery of a link.
    DELIVERIES_BY_LINK: "deliveries_by_link", (u128, u64) => ();
    /// (`to:<address>` or `tenant:<id>`, hour since epoch) → messages queued in that hour.
    SEND_COUNTS: "send_counts", (&str, i64) => u32;
    /// keyed hash of a hand-off grant → GrantRecord (removed when exchanged or by purge).
    GRANTS: "grants", [u8; 32] => &[u8];
    /// (expires at, keyed grant hash) → (); exactly the stored grants.
    GRANTS_BY_EXPIRY: "grants_by_expiry", (i64, [u8; 32]) => ();
    /// (link uid, entry id) → AccessLogEntry: every lifecycle row, and at most
    /// `NOISE_ROWS_PER_LINK` aggregated noise rows per link.
    ACCESS_LOG: "access_log", (u128, u64) => &[u8];
    /// (link uid, noise key "event|outcome|address") → (entry id, last seen): exactly the
    /// aggregated noise rows of `access_log`, so a repeat finds its row without a scan.
    ACCESS_LOG_NOISE: "access_log_noise", (u128, &str) => (u64, i64);
    /// (purged at, link uid) → tenant: logs of purged links, deleted after the retention window.
    LOG_TOMBSTONES: "log_tombstones", (i64, u128) => u128;
    /// (tenant, contact id) → Contact.
    CONTACTS: "contacts", (u128, i32) => &[u8];
    /// (tenant, BLAKE3 of the client's `Idempotency-Key`) → IdempotencyRecord: the create or
    /// resend that key made, written in the same transaction as that link.
    IDEMPOTENCY: "idempotency", (u128, [u8; 32]) => &[u8];
    /// (created at, tenant, key hash) → (); exactly the stored idempotency records (for purge).
    IDEMPOTENCY_BY_TIME: "idempotency_by_time", (i64, u128, [u8; 32]) => ();
    /// (tenant, attachment id) → AttachmentRecord; its sealed file is
    /// `attachments/<id>.sealed` beside the database.
    ATTACHMENTS: "attachments", (u128, u128) => &[u8];
    /// (idle since, tenant, attachment id) → (): exactly one entry per attachment, at
    /// `AttachmentRecord::idle_since`, or at i64::MAX once the purge found a share holding it;
    /// the purge finds the due ones without a scan.
    ATTACHMENTS_BY_IDLE: "attachments_by_idle", (i64, u128, u128) => ();
    /// (tenant, endpoint name) → WebhookEndpoint (its signing secret sealed).
    WEBHOOKS: "webhooks", (u128, &str) => &[u8];
}

/// The on-disk format version this build writes: 2 stores records as MessagePack arrays with
/// byte strings as `bin` (`codec`); version 1 records (named maps, byte arrays) still read,
/// but a build of version 1 cannot read version 2 records, so the marker must move.
pub const SCHEMA_VERSION: u64 = 2;

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
            Some(v) if v < SCHEMA_VERSION => {
                return Err(StoreError::Corrupt(format!(
                    "database format {v} is older than this build's ({SCHEMA_VERSION}): start \
                     `customerlink serve` once to migrate it (a backup is taken first)"
                )));
            }
            Some(_) => {}
        }
    }
    visit_all(&mut Create(&txn))?;
    index_idle_attachments(&txn)?;
    txn.commit()?;
    Ok(())
}

/// A file written before `attachments_by_idle` existed: every attachment goes into it at its
/// `idle_since` (the purge then finds those due, and moves the ones shares hold).
fn index_idle_attachments(txn: &WriteTransaction) -> Result<(), StoreError> {
    use redb::ReadableTableMetadata;
    let mut index = txn.open_table(ATTACHMENTS_BY_IDLE)?;
    let records = txn.open_table(ATTACHMENTS)?;
    if !index.is_empty()? || records.is_empty()? {
        return Ok(());
    }
    for entry in records.iter()? {
        let (k, v) = entry?;
        let (tenant, id) = k.value();
        let record: crate::domain::attachment::AttachmentRecord = super::codec::decode(v.value())?;
        index.insert((record.idle_since().as_i64(), tenant, id), ())?;
    }
    Ok(())
}

/// Opens (so creates) each table in one write transaction.
struct Create<'a>(&'a WriteTransaction);

impl TableVisitor for Create<'_> {
    type Error = StoreError;

    fn visit<K, V>(&mut self, table: TableDefinition<'static, K, V>) -> Result<(), StoreError>
    where
        K: Key + Send + Sync + 'static,
        V: Value + Send + Sync + 'static,
    {
        self.0.open_table(table)?;
        Ok(())
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The (name, key type, value type) rows of the "Tables" section of `docs/storage.md`.
    fn documented(doc: &str) -> Vec<(String, String, String)> {
        let section = doc.split("\n## Tables\n").nth(1).unwrap_or_default();
        let section = section.split("\n## ").next().unwrap_or_default();
        section
            .lines()
            .filter(|line| line.starts_with("| `"))
            .map(|line| {
                let cell = |n: usize| line.split(" | ").nth(n).unwrap_or_default();
                let plain = |n: usize| cell(n).trim_matches(|c| c == '|' || c == ' ' || c == '`');
                (plain(0).into(), compact(plain(1)), compact(plain(2)))
            })
            .collect()
    }

    /// A type's text without spaces, so `stringify!` spacing does not matter.
    fn compact(ty: &str) -> String {
        ty.chars().filter(|c| !c.is_whitespace()).collect()
    }

    #[test]
    fn the_storage_doc_lists_exactly_the_tables_in_code() {
        let mut documented = documented(include_str!("../../docs/storage.md"));
        let mut declared: Vec<_> = ALL
            .iter()
            .map(|(name, key, value)| ((*name).to_owned(), compact(key), compact(value)))
            .collect();
        documented.sort();
        declared.sort();
        assert_eq!(
            documented, declared,
            "docs/storage.md's table list is out of date"
        );
    }

    /// A database whose `meta.schema_version` is `version`, then `ensure`d.
    fn ensured(version: u64) -> (Result<(), StoreError>, Option<u64>) {
        let dir = tempfile::tempdir().unwrap();
        let db = Database::create(dir.path().join("t.redb")).unwrap();
        let txn = db.begin_write().unwrap();
        txn.open_table(META)
            .unwrap()
            .insert("schema_version", version)
            .unwrap();
        txn.commit().unwrap();
        let result = ensure(&db);
        let read = db.begin_write().unwrap();
        let stored = read
            .open_table(META)
            .unwrap()
            .get("schema_version")
            .unwrap()
            .map(|v| v.value());
        (result, stored)
    }

    #[test]
    fn an_older_file_is_left_to_the_start_up_migration() {
        let (result, stored) = ensured(1);
        assert!(matches!(result, Err(StoreError::Corrupt(m)) if m.contains("older")));
        assert_eq!(stored, Some(1));
    }

    #[test]
    fn a_newer_file_is_refused() {
        let (result, stored) = ensured(SCHEMA_VERSION + 1);
        assert!(matches!(result, Err(StoreError::Corrupt(m)) if m.contains("newer")));
        assert_eq!(stored, Some(SCHEMA_VERSION + 1));
    }

    #[test]
    fn every_table_has_a_unique_name() {
        let mut names: Vec<_> = ALL.iter().map(|t| t.0).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), ALL.len());
    }
}
