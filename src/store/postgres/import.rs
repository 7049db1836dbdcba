//! Copying an exported embedded store into an empty PostgreSQL database (`customerlink
//! migrate`): every record table streamed with binary `COPY` (10⁵ links take seconds, not
//! minutes) in ONE transaction, the id sequences set past the copied ids, then every redb
//! table's size — index tables too — compared with the rows that stand for it here. Only a
//! copy whose counts all match is committed; anything else rolls back and leaves the
//! database empty. The records keep their ids, hashes and sealed bytes exactly: tokens stay
//! keyed hashes, so links keep their URLs under the same master key, and the attachments'
//! sealed files become their header and `attachment_chunks` rows unopened (the same master
//! key unwraps them); the chunk count is verified beside the tables'.

use tokio_postgres::Transaction;
use tokio_postgres::binary_copy::BinaryCopyInWriter;
use tokio_postgres::types::{ToSql, Type};

use super::PgClient;
use super::fault::from_pg;
use super::records::{
    ACCESS_LOG_COLUMNS, ATTACHMENT_COLUMNS, CONTACT_COLUMNS, DELIVERY_COLUMNS, IDEMPOTENCY_COLUMNS,
    TENANT_COLUMNS, casing_name,
};
use super::rows::{LINK_COLUMNS, LinkRow};
use crate::domain::attachment::AttachmentRecord;
use crate::domain::contact::Contact;
use crate::domain::delivery::DeliveryRecord;
use crate::domain::portal::GrantRecord;
use crate::domain::tenant::{ApiKeyRecord, Tenant};
use crate::domain::{TenantId, UnixMillis};
use crate::store::IdempotencyRecord;
use crate::store::StoreError;
use crate::store::export::{Export, Item};
use crate::store::export::{LogRow, SendCount, Tombstone};

/// Every table of the PostgreSQL schema that holds records, in copy order (a row's foreign
/// keys are copied before it).
pub const TABLES: &[&str] = &[
    "tenants",
    "api_keys",
    "contacts",
    "links",
    "outbox",
    "send_counts",
    "grants",
    "access_log",
    "log_tombstones",
    "idempotency",
    "attachments",
    "attachment_chunks",
    "webhooks",
];

/// How each redb table is counted here: its record table, or the rows its index covers.
/// `meta` holds counters, which become sequences (see [`set_sequences`]).
const COUNTS: &[(&str, &str)] = &[
    ("tenants", "SELECT count(*) FROM tenants"),
    ("api_keys", "SELECT count(*) FROM api_keys"),
    ("api_key_ids", "SELECT count(*) FROM api_keys"),
    ("links", "SELECT count(*) FROM links"),
    ("links_by_token", "SELECT count(*) FROM links"),
    ("links_by_tenant", "SELECT count(*) FROM links"),
    ("links_by_resource", "SELECT count(*) FROM links"),
    ("links_by_expiry", "SELECT count(*) FROM links"),
    (
        "links_by_revoked",
        "SELECT count(*) FROM links WHERE revoked_at IS NOT NULL",
    ),
    ("outbox", "SELECT count(*) FROM outbox"),
    (
        "outbox_due",
        "SELECT count(*) FROM outbox WHERE status = 'Queued'",
    ),
    ("deliveries_by_link", "SELECT count(*) FROM outbox"),
    ("send_counts", "SELECT count(*) FROM send_counts"),
    ("grants", "SELECT count(*) FROM grants"),
    ("grants_by_expiry", "SELECT count(*) FROM grants"),
    ("access_log", "SELECT count(*) FROM access_log"),
    (
        "access_log_noise",
        "SELECT count(*) FROM access_log WHERE noise_key IS NOT NULL",
    ),
    ("log_tombstones", "SELECT count(*) FROM log_tombstones"),
    ("contacts", "SELECT count(*) FROM contacts"),
    ("idempotency", "SELECT count(*) FROM idempotency"),
    ("idempotency_by_time", "SELECT count(*) FROM idempotency"),
    ("attachments", "SELECT count(*) FROM attachments"),
    ("attachments_by_idle", "SELECT count(*) FROM attachments"),
    ("webhooks", "SELECT count(*) FROM webhooks"),
];

/// One redb table's entries beside the PostgreSQL rows that stand for them.
#[derive(Debug, Clone)]
pub struct TableCount {
    pub table: &'static str,
    pub redb: u64,
    pub postgres: u64,
    /// Entries deliberately not copied: grants of links already purged (dead: a grant is
    /// only ever honoured while its link exists, and the schema's foreign key refuses them).
    pub skipped: u64,
}

impl TableCount {
    /// Whether every entry is here or was deliberately skipped.
    pub fn matches(&self) -> bool {
        self.redb == self.postgres.saturating_add(self.skipped)
    }
}

/// What a copy did.
#[derive(Debug)]
pub enum Imported {
    /// The target already holds records (the tables named): nothing was written.
    NotEmpty(Vec<&'static str>),
    /// Copied; committed only if every count matches ([`Copy::is_exact`]).
    Copied(Copy),
}

/// The counts of a finished copy, and the next link id the database hands out.
#[derive(Debug)]
pub struct Copy {
    pub counts: Vec<TableCount>,
    pub next_link_id: u64,
}

impl Copy {
    /// Whether every redb table's count matched (and so the copy was committed).
    pub fn is_exact(&self) -> bool {
        self.counts.iter().all(TableCount::matches)
    }
}

/// Copies `export` into the database behind `client` in one transaction (see the module
/// doc). `Err` (connection lost, a row the schema refuses) means nothing was committed;
/// `NotEmpty` and an inexact [`Copy`] mean the same.
pub async fn import(client: &mut PgClient, export: &Export) -> Result<Imported, StoreError> {
    let txn = client.transaction().await.map_err(|e| from_pg(&e))?;
    // A copy is one long transaction; the instances' per-statement limit is not for it.
    let lock = format!(
        "SET LOCAL statement_timeout = 0; LOCK TABLE {} IN EXCLUSIVE MODE",
        TABLES.join(", ")
    );
    txn.batch_execute(&lock).await.map_err(|e| from_pg(&e))?;
    let occupied = occupied(&txn).await?;
    if !occupied.is_empty() {
        return Ok(Imported::NotEmpty(occupied));
    }
    let dangling = copy_all(&txn, export).await?;
    let next_link_id = set_sequences(&txn, export).await?;
    let copy = Copy {
        counts: counts(&txn, export, dangling).await?,
        next_link_id,
    };
    if copy.is_exact() {
        txn.commit().await.map_err(|e| from_pg(&e))?;
    }
    Ok(Imported::Copied(copy))
}

/// The tables of [`TABLES`] that hold a row.
async fn occupied(txn: &Transaction<'_>) -> Result<Vec<&'static str>, StoreError> {
    let mut found = Vec::new();
    for table in TABLES {
        let sql = format!("SELECT EXISTS (SELECT 1 FROM {table})");
        let row = txn.query_one(&sql, &[]).await.map_err(|e| from_pg(&e))?;
        if row.get::<_, bool>(0) {
            found.push(*table);
        }
    }
    Ok(found)
}

/// Streams every record table, parents first; returns the dangling grants left out.
async fn copy_all(txn: &Transaction<'_>, export: &Export) -> Result<u64, StoreError> {
    copy(
        txn,
        "tenants",
        TENANT_COLUMNS,
        export.tenants()?.map(|t| tenant_row(t?)),
    )
    .await?;
    let columns = format!("key_hash, {}", super::records::API_KEY_COLUMNS);
    copy(
        txn,
        "api_keys",
        &columns,
        export.api_keys()?.map(|k| api_key_row(k?)),
    )
    .await?;
    copy(
        txn,
        "contacts",
        CONTACT_COLUMNS,
        export.contacts()?.map(|c| contact_row(c?)),
    )
    .await?;
    let links = export.links()?.map(|l| l.map(|l| LinkRow::of(&l)));
    copy(txn, "links", LINK_COLUMNS, links).await?;
    let dangling = copy_outbox(txn, export).await?;
    copy_logs(txn, export).await?;
    copy_attachments(txn, export).await?;
    copy(
        txn,
        "webhooks",
        super::webhooks::COLUMNS,
        export.webhooks()?.map(|w| webhook_row(w?)),
    )
    .await?;
    Ok(dangling)
}

/// The attachment records (with their sealed headers) and every sealed chunk, as they are.
async fn copy_attachments(txn: &Transaction<'_>, export: &Export) -> Result<(), StoreError> {
    let columns = format!("{ATTACHMENT_COLUMNS}, header");
    copy(
        txn,
        "attachments",
        &columns,
        export.attachments()?.map(|a| attachment_row(a?)),
    )
    .await?;
    copy(
        txn,
        "attachment_chunks",
        "attachment_id, n, bytes",
        export
            .attachment_chunks()?
            .map(|c| c.map(|(id, n, bytes)| vec![p(id), p(n), p(bytes)])),
    )
    .await
    .map(|_| ())
}

fn attachment_row((a, header): (AttachmentRecord, Vec<u8>)) -> Result<Vec<Param>, StoreError> {
    Ok(vec![
        p(a.tenant_id.as_uuid()),
        p(a.id),
        p(a.name),
        p(a.content_type),
        p(a.download_only),
        p(bigint(a.size)?),
        p(a.sha256.to_vec()),
        p(a.created_at.as_i64()),
        p(a.released_at.map(|r| r.as_i64())),
        p(header),
    ])
}

/// The outbox (ids, statuses and due times kept; no lease), the send counters and the
/// grants of stored links; returns how many grants named a purged link.
async fn copy_outbox(txn: &Transaction<'_>, export: &Export) -> Result<u64, StoreError> {
    copy(
        txn,
        "outbox",
        DELIVERY_COLUMNS,
        export.deliveries()?.map(|d| delivery_row(d?)),
    )
    .await?;
    let columns = "tenant_id, address, hour, sent";
    copy(
        txn,
        "send_counts",
        columns,
        export.send_counts()?.map(|s| send_count_row(s?)),
    )
    .await?;
    let columns = super::commands::GRANT_COLUMNS;
    let dangling = std::cell::Cell::new(0);
    let grants = export.grants()?.filter(|g| match g {
        Ok((_, g)) => {
            let backed = export.has_link(g.link_uid).unwrap_or(true);
            dangling.set(dangling.get() + u64::from(!backed));
            backed
        }
        Err(_) => true,
    });
    copy(txn, "grants", columns, grants.map(|g| grant_row(g?))).await?;
    Ok(dangling.get())
}

/// The access logs (ids, counts and noise keys kept), tombstones and idempotency records.
async fn copy_logs(txn: &Transaction<'_>, export: &Export) -> Result<(), StoreError> {
    let columns = format!("{ACCESS_LOG_COLUMNS}, noise_key");
    copy(
        txn,
        "access_log",
        &columns,
        export.access_log()?.map(|r| log_row(r?)),
    )
    .await?;
    let columns = "link_uid, tenant_id, purged_at";
    copy(
        txn,
        "log_tombstones",
        columns,
        export.tombstones()?.map(|t| tombstone_row(t?)),
    )
    .await?;
    let columns = format!("tenant_id, key_hash, {IDEMPOTENCY_COLUMNS}");
    copy(
        txn,
        "idempotency",
        &columns,
        export.idempotency()?.map(|i| idempotency_row(i?)),
    )
    .await
    .map(|_| ())
}

fn tenant_row(t: Tenant) -> Result<Vec<Param>, StoreError> {
    Ok(vec![
        p(t.tenant_id.as_uuid()),
        p(t.name),
        p(t.created_at.as_i64()),
        p(t.accent),
        p(t.logo.map(|l| l.bytes().to_vec())),
    ])
}

fn api_key_row((hash, k): ([u8; 32], ApiKeyRecord)) -> Result<Vec<Param>, StoreError> {
    Ok(vec![
        p(hash.to_vec()),
        p(k.key_id),
        p(k.tenant_id.as_uuid()),
        p(k.user_id.as_uuid()),
        p(k.agent_id),
        p(k.name),
        p(k.roles),
        p(k.created_at.as_i64()),
        p(k.revoked_at.map(UnixMillis::as_i64)),
        p(k.casing.map(casing_name)),
    ])
}

fn contact_row(c: Contact) -> Result<Vec<Param>, StoreError> {
    Ok(vec![
        p(c.tenant_id.as_uuid()),
        p(i32::from(c.contact_id)),
        p(c.contact_guid),
        p(c.first_name),
        p(c.last_name),
        p(c.name),
        p(c.email_work),
        p(c.email_personal),
        p(c.phone),
        p(c.sms_opt_in),
        p(c.do_not_contact),
        p(c.active),
        p(c.deleted),
        p(c.updated_at.as_i64()),
    ])
}

fn delivery_row(d: DeliveryRecord) -> Result<Vec<Param>, StoreError> {
    Ok(vec![
        p(bigint(d.delivery_id)?),
        p(d.link_uid.as_uuid()),
        p(d.tenant_id.as_uuid()),
        p(d.channel.as_str()),
        p(d.to),
        p(d.sealed_token),
        p(d.status.as_str()),
        p(i64::from(d.attempts)),
        p(d.next_attempt_at.as_i64()),
        p(d.last_error),
        p(d.created_at.as_i64()),
        p(d.sent_at.map(UnixMillis::as_i64)),
        p(d.kind.as_str()),
        p(i64::from(d.unfinished_leases)),
        p(d.webhook.as_ref().map(|w| w.endpoint.clone())),
        p(d.webhook.as_ref().map(|w| w.id.clone())),
        p(d.webhook.map(|w| w.body)),
    ])
}

fn webhook_row(w: crate::domain::webhook::WebhookEndpoint) -> Result<Vec<Param>, StoreError> {
    let events: Vec<String> = w.events.iter().map(|e| e.name().to_owned()).collect();
    let ms = |m: Option<UnixMillis>| m.map(UnixMillis::as_i64);
    Ok(vec![
        p(w.tenant_id.as_uuid()),
        p(w.name),
        p(w.url),
        p(events),
        p(w.enabled),
        p(w.sealed_secret),
        p(w.created_at.as_i64()),
        p(w.updated_at.as_i64()),
        p(ms(w.state.last_success_at)),
        p(w.state.last_error),
        p(ms(w.state.last_error_at)),
        p(i64::from(w.state.consecutive_failures)),
        p(ms(w.state.disabled_at)),
    ])
}

fn send_count_row(s: SendCount) -> Result<Vec<Param>, StoreError> {
    Ok(vec![
        p(s.tenant.as_uuid()),
        p(s.address),
        p(s.hour),
        p(i64::from(s.sent)),
    ])
}

fn grant_row((hash, g): ([u8; 32], GrantRecord)) -> Result<Vec<Param>, StoreError> {
    Ok(vec![
        p(hash.to_vec()),
        p(g.link_uid.as_uuid()),
        p(bigint(g.link_id)?),
        p(g.tenant_id.as_uuid()),
        p(g.resource_type),
        p(g.resource_uid),
        p(g.recipient_display_name),
        p(g.recipient_email),
        p(g.recipient_phone),
        p(g.expires_at.as_i64()),
        p(g.token_hash.0.to_vec()),
    ])
}

fn log_row(r: LogRow) -> Result<Vec<Param>, StoreError> {
    let e = r.entry;
    // A noise row's last sighting is its index entry's (the first one's is its `at`).
    let (last, key) = match r.noise {
        Some((key, last)) => (Some(last.as_i64()), Some(key)),
        None => (None, None),
    };
    Ok(vec![
        p(e.link_uid.as_uuid()),
        p(bigint(e.id)?),
        p(bigint(e.link_id)?),
        p(e.tenant_id.as_uuid()),
        p(e.event.as_str()),
        p(e.outcome.as_str()),
        p(e.detail),
        p(e.actor.ip),
        p(e.actor.user_agent),
        p(e.actor.user_id.map(|u| u.as_uuid())),
        p(e.at.as_i64()),
        p(bigint(e.count)?),
        p(last),
        p(e.chain.map(|c| c.hash.to_vec())),
        p(e.chain.map(|c| c.prev_hash.to_vec())),
        p(key),
    ])
}

fn tombstone_row(t: Tombstone) -> Result<Vec<Param>, StoreError> {
    Ok(vec![
        p(t.link_uid.as_uuid()),
        p(t.tenant.as_uuid()),
        p(t.purged_at.as_i64()),
    ])
}

fn idempotency_row(
    (tenant, key, r): (TenantId, [u8; 32], IdempotencyRecord),
) -> Result<Vec<Param>, StoreError> {
    Ok(vec![
        p(tenant.as_uuid()),
        p(key.to_vec()),
        p(r.operation),
        p(r.fingerprint.to_vec()),
        p(r.link_uid.as_uuid()),
        p(r.sealed_token),
        p(r.delivery_errors),
        p(r.created_at.as_i64()),
    ])
}

/// One owned column value.
type Param = Box<dyn ToSql + Sync + Send>;

fn p<T: ToSql + Sync + Send + 'static>(value: T) -> Param {
    Box::new(value)
}

/// An id or count as `bigint`; past its range the file is damaged.
fn bigint(n: u64) -> Result<i64, StoreError> {
    i64::try_from(n).map_err(|_| StoreError::Corrupt(format!("{n} is out of bigint range")))
}

/// A row ready for `COPY`: its values in the statement's column order.
trait CopyRow {
    fn values(&self) -> Vec<&(dyn ToSql + Sync)>;
}

impl CopyRow for Vec<Param> {
    fn values(&self) -> Vec<&(dyn ToSql + Sync)> {
        self.iter().map(|v| &**v as &(dyn ToSql + Sync)).collect()
    }
}

impl CopyRow for LinkRow {
    fn values(&self) -> Vec<&(dyn ToSql + Sync)> {
        self.params().to_vec()
    }
}

/// Streams `rows` into `table` with one binary `COPY`; the column types come from the table
/// itself, so they cannot drift from the schema. Returns the rows written.
async fn copy<R: CopyRow>(
    txn: &Transaction<'_>,
    table: &str,
    columns: &str,
    rows: impl Iterator<Item = Item<R>>,
) -> Result<u64, StoreError> {
    let probe = format!("SELECT {columns} FROM {table} LIMIT 0");
    let probe = txn.prepare(&probe).await.map_err(|e| from_pg(&e))?;
    let types: Vec<Type> = probe.columns().iter().map(|c| c.type_().clone()).collect();
    let sql = format!("COPY {table} ({columns}) FROM STDIN (FORMAT binary)");
    let sink = txn.copy_in(&sql).await.map_err(|e| from_pg(&e))?;
    let writer = BinaryCopyInWriter::new(sink, &types);
    let mut writer = std::pin::pin!(writer);
    for row in rows {
        let row = row?;
        let values = row.values();
        writer
            .as_mut()
            .write(&values)
            .await
            .map_err(|e| copy_error(table, &e))?;
    }
    writer.finish().await.map_err(|e| copy_error(table, &e))
}

/// A refused row names its table and the constraint, never the row: the database's detail
/// ("Failing row contains …") would print names and addresses.
fn copy_error(table: &str, e: &tokio_postgres::Error) -> StoreError {
    match (from_pg(e), e.as_db_error()) {
        (StoreError::Io(_), Some(db)) => StoreError::Io(format!(
            "copying {table}: {} (constraint {})",
            db.message(),
            db.constraint().unwrap_or("none")
        )),
        (StoreError::Io(detail), None) => StoreError::Io(format!("copying {table}: {detail}")),
        (other, _) => other,
    }
}

/// Sets `link_ids` and the identity sequences of `outbox` and `access_log` past every copied
/// id and past the file's own counters, so the next id handed out is one the file never
/// used. Returns the next link id.
async fn set_sequences(txn: &Transaction<'_>, export: &Export) -> Result<u64, StoreError> {
    let sequences = [
        ("'link_ids'", "link_id", "links", "next_link_id"),
        (
            "pg_get_serial_sequence('outbox', 'delivery_id')",
            "delivery_id",
            "outbox",
            "next_delivery_id",
        ),
        (
            "pg_get_serial_sequence('access_log', 'id')",
            "id",
            "access_log",
            "next_log_id",
        ),
    ];
    let mut next_link_id = 1;
    for (sequence, column, table, counter) in sequences {
        let used = bigint(export.next_id(counter)?.unwrap_or(1).saturating_sub(1))?;
        let sql = format!(
            "SELECT setval({sequence}, greatest(v, 1), v > 0) + (v > 0)::int \
             FROM (SELECT greatest($1::bigint, coalesce(max({column}), 0)) AS v FROM {table}) s"
        );
        let row = txn
            .query_one(&sql, &[&used])
            .await
            .map_err(|e| from_pg(&e))?;
        if table == "links" {
            next_link_id = u64::try_from(row.get::<_, i64>(0)).unwrap_or(1);
        }
    }
    Ok(next_link_id)
}

/// Every redb table's size beside its count here (`meta` excepted: it became sequences);
/// `dangling` grants were left out on purpose.
async fn counts(
    txn: &Transaction<'_>,
    export: &Export,
    dangling: u64,
) -> Result<Vec<TableCount>, StoreError> {
    let mut out = Vec::new();
    for (table, redb) in export.counts()? {
        if table == "meta" {
            continue;
        }
        let sql = COUNTS.iter().find(|c| c.0 == table).map(|c| c.1);
        let postgres = match sql {
            Some(sql) => {
                let row = txn.query_one(sql, &[]).await.map_err(|e| from_pg(&e))?;
                u64::try_from(row.get::<_, i64>(0)).unwrap_or(0)
            }
            // A table this build does not know how to copy: the copy cannot be exact.
            None => u64::MAX,
        };
        let skipped = if table.starts_with("grants") {
            dangling
        } else {
            0
        };
        out.push(TableCount {
            table,
            redb,
            postgres,
            skipped,
        });
    }
    out.push(chunk_count(txn, export).await?);
    Ok(out)
}

/// The sealed chunks the file's attachments call for beside the rows copied (not a redb
/// table: the files beside it).
async fn chunk_count(txn: &Transaction<'_>, export: &Export) -> Result<TableCount, StoreError> {
    let row = txn
        .query_one("SELECT count(*) FROM attachment_chunks", &[])
        .await
        .map_err(|e| from_pg(&e))?;
    Ok(TableCount {
        table: "attachment_chunks",
        redb: export.attachment_chunk_count()?,
        postgres: u64::try_from(row.get::<_, i64>(0)).unwrap_or(0),
        skipped: 0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_redb_table_but_meta_has_a_count_here() {
        let mut declared: Vec<_> = crate::store::tables::ALL
            .iter()
            .map(|t| t.0)
            .filter(|n| *n != "meta")
            .collect();
        let mut counted: Vec<_> = COUNTS.iter().map(|c| c.0).collect();
        declared.sort_unstable();
        counted.sort_unstable();
        assert_eq!(declared, counted);
    }
}
