//! Reading a whole embedded store as domain records, table by table, for `customerlink
//! migrate` (ops must not know redb). Everything comes from one read snapshot, so the
//! records are consistent with each other; every iterator streams from the file (a large
//! store is never held in memory whole). Index tables are not exported: they only restate
//! their record table, and [`Export::counts`] gives their sizes so the copy can be verified
//! against them too. Attachments come with their sealed bytes, read from their files as they
//! are (never opened: the master secret that wraps their keys is shared).

use std::collections::HashMap;

use redb::{Key, ReadTransaction, ReadableTableMetadata, TableDefinition, Value};
use uuid::Uuid;

use super::codec::decode;
use super::tables::{self, TableVisitor};
use super::{IdempotencyRecord, Store, StoreError};
use crate::domain::attachment::AttachmentRecord;
use crate::domain::contact::Contact;
use crate::domain::delivery::DeliveryRecord;
use crate::domain::link::LinkRecord;
use crate::domain::portal::{AccessLogEntry, GrantRecord};
use crate::domain::tenant::{ApiKeyRecord, Tenant};
use crate::domain::{LinkUid, TenantId, UnixMillis};

/// One item of an export stream: a record, or why it could not be read.
pub type Item<T> = Result<T, StoreError>;

/// One `send_counts` entry, its key taken apart: messages queued in `hour` for `address`
/// (lower-cased) of `tenant`, or for the whole tenant when `address` is empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendCount {
    pub tenant: TenantId,
    pub address: String,
    pub hour: i64,
    pub sent: u32,
}

/// One access-log row, with its noise key and last-seen time when it is an aggregated noise
/// row (from `access_log_noise`).
#[derive(Debug, Clone)]
pub struct LogRow {
    pub entry: AccessLogEntry,
    pub noise: Option<(String, UnixMillis)>,
}

/// A purged link whose log is kept until the retention window ends.
#[derive(Debug, Clone, Copy)]
pub struct Tombstone {
    pub link_uid: LinkUid,
    pub tenant: TenantId,
    pub purged_at: UnixMillis,
}

/// A read snapshot of the embedded file, for export. Drop it promptly (see
/// [`super::embedded::Embedded::snapshot`]).
pub struct Export {
    txn: ReadTransaction,
    /// The folder of the sealed attachment files.
    folder: std::path::PathBuf,
}

impl Export {
    /// A snapshot of `store`; [`StoreError::Io`] when it is not the embedded store.
    pub fn of(store: &Store) -> Result<Export, StoreError> {
        let embedded = store
            .embedded()
            .ok_or_else(|| StoreError::Io("only an embedded store can be exported".into()))?;
        Ok(Export {
            txn: embedded.snapshot()?,
            folder: embedded.attachments_dir().to_owned(),
        })
    }

    /// Entries in every table of the file (index tables too), in [`tables::ALL`] order.
    pub fn counts(&self) -> Result<Vec<(&'static str, u64)>, StoreError> {
        let mut counter = Counter {
            txn: &self.txn,
            counts: Vec::new(),
        };
        tables::visit_all(&mut counter)?;
        Ok(counter.counts)
    }

    /// A counter of `meta` (`next_link_id`, `next_delivery_id`, `next_log_id`): the next
    /// value the file would hand out; `None` if nothing was ever handed out.
    pub fn next_id(&self, counter: &str) -> Result<Option<u64>, StoreError> {
        let meta = self.txn.open_table(tables::META)?;
        Ok(redb::ReadableTable::get(&meta, counter)?.map(|g| g.value()))
    }

    /// Every tenant. Like every stream here, fails with `Corrupt` on a record that does not
    /// decode and with the storage error on a failed read.
    pub fn tenants(&self) -> Result<impl Iterator<Item = Item<Tenant>>, StoreError> {
        self.rows(tables::TENANTS, |_, v| decode(v))
    }

    /// API keys with the keyed hash they are found by.
    pub fn api_keys(
        &self,
    ) -> Result<impl Iterator<Item = Item<([u8; 32], ApiKeyRecord)>>, StoreError> {
        self.rows(tables::API_KEYS, |k, v| Ok((k, decode(v)?)))
    }

    /// Every contact of every tenant.
    pub fn contacts(&self) -> Result<impl Iterator<Item = Item<Contact>>, StoreError> {
        self.rows(tables::CONTACTS, |_, v| decode(v))
    }

    /// Every webhook endpoint, its secret still sealed.
    pub fn webhooks(
        &self,
    ) -> Result<impl Iterator<Item = Item<crate::domain::webhook::WebhookEndpoint>>, StoreError>
    {
        self.rows(tables::WEBHOOKS, |_, v| decode(v))
    }

    /// Every link, with its token hash and passcode state as stored.
    pub fn links(&self) -> Result<impl Iterator<Item = Item<LinkRecord>>, StoreError> {
        self.rows(tables::LINKS, |_, v| decode(v))
    }

    /// Every delivery of the outbox, whatever its status.
    pub fn deliveries(&self) -> Result<impl Iterator<Item = Item<DeliveryRecord>>, StoreError> {
        self.rows(tables::OUTBOX, |_, v| decode(v))
    }

    /// The hourly send counters, their keys taken apart.
    pub fn send_counts(&self) -> Result<impl Iterator<Item = Item<SendCount>>, StoreError> {
        self.rows(tables::SEND_COUNTS, |(key, hour), sent| {
            let (tenant, address) = parse_count_key(key)?;
            Ok(SendCount {
                tenant,
                address,
                hour,
                sent,
            })
        })
    }

    /// Grants with the keyed hash they are exchanged by.
    pub fn grants(
        &self,
    ) -> Result<impl Iterator<Item = Item<([u8; 32], GrantRecord)>>, StoreError> {
        self.rows(tables::GRANTS, |k, v| Ok((k, decode(v)?)))
    }

    /// Whether the link `uid` is stored (a grant may outlive its purged link until purge
    /// forgets expired grants, a bounded number per round).
    pub fn has_link(&self, uid: LinkUid) -> Result<bool, StoreError> {
        let links = self.txn.open_table(tables::LINKS)?;
        Ok(redb::ReadableTable::get(&links, uid.as_u128())?.is_some())
    }

    /// Every access-log row; the noise index is read first (it holds at most
    /// `NOISE_ROWS_PER_LINK` rows per link).
    pub fn access_log(&self) -> Result<impl Iterator<Item = Item<LogRow>>, StoreError> {
        let mut noise = HashMap::new();
        for row in self.rows(tables::ACCESS_LOG_NOISE, |(uid, key), (id, last)| {
            Ok(((uid, id), (key.to_owned(), UnixMillis::from_millis(last))))
        })? {
            let (at, found) = row?;
            noise.insert(at, found);
        }
        self.rows(tables::ACCESS_LOG, move |(uid, id), v| {
            Ok(LogRow {
                entry: decode(v)?,
                noise: noise.get(&(uid, id)).cloned(),
            })
        })
    }

    /// The tombstones of purged links whose logs are still kept.
    pub fn tombstones(&self) -> Result<impl Iterator<Item = Item<Tombstone>>, StoreError> {
        self.rows(tables::LOG_TOMBSTONES, |(purged_at, uid), tenant| {
            Ok(Tombstone {
                link_uid: LinkUid::from_u128(uid),
                tenant: TenantId::from_u128(tenant),
                purged_at: UnixMillis::from_millis(purged_at),
            })
        })
    }

    /// Idempotency records with their tenant and the BLAKE3 of the client's key.
    pub fn idempotency(
        &self,
    ) -> Result<impl Iterator<Item = Item<(TenantId, [u8; 32], IdempotencyRecord)>>, StoreError>
    {
        self.rows(tables::IDEMPOTENCY, |(tenant, key), v| {
            Ok((TenantId::from_u128(tenant), key, decode(v)?))
        })
    }

    /// Every attachment record with its 65-byte sealed header (from its file). Fails with
    /// `Corrupt` when a record's file is missing.
    pub fn attachments(
        &self,
    ) -> Result<impl Iterator<Item = Item<(AttachmentRecord, Vec<u8>)>>, StoreError> {
        let folder = self.folder.clone();
        self.rows(tables::ATTACHMENTS, move |_, v| {
            let record: AttachmentRecord = decode(v)?;
            let header = sealed_piece(&folder, record.id, 0)?;
            Ok((record, header))
        })
    }

    /// Every sealed chunk of every attachment as (attachment id, n from 1, bytes), read one
    /// at a time from the files; as many per attachment as its size calls for.
    pub fn attachment_chunks(
        &self,
    ) -> Result<impl Iterator<Item = Item<(Uuid, i64, Vec<u8>)>>, StoreError> {
        let folder = self.folder.clone();
        let records = self.rows(tables::ATTACHMENTS, |_, v| decode::<AttachmentRecord>(v))?;
        Ok(
            records.flat_map(move |record| -> Box<dyn Iterator<Item = _>> {
                let record = match record {
                    Ok(r) => r,
                    Err(e) => return Box::new(std::iter::once(Err(e))),
                };
                let folder = folder.clone();
                let count = crate::attachment::seal::chunk_count(record.size);
                Box::new((1..=count).map(move |n| {
                    let bytes = sealed_piece(&folder, record.id, n)?;
                    Ok((record.id, i64::try_from(n).unwrap_or(i64::MAX), bytes))
                }))
            }),
        )
    }

    /// How many sealed chunks the attachments hold together (what the copy must count).
    pub fn attachment_chunk_count(&self) -> Result<u64, StoreError> {
        let records = self.rows(tables::ATTACHMENTS, |_, v| decode::<AttachmentRecord>(v))?;
        let mut total = 0;
        for r in records {
            total += crate::attachment::seal::chunk_count(r?.size);
        }
        Ok(total)
    }

    /// Streams `table`, each entry turned into a record by `read`.
    fn rows<K, V, T>(
        &self,
        table: TableDefinition<'static, K, V>,
        read: impl for<'a> Fn(K::SelfType<'a>, V::SelfType<'a>) -> Result<T, StoreError> + 'static,
    ) -> Result<impl Iterator<Item = Item<T>> + 'static, StoreError>
    where
        K: Key + 'static,
        V: Value + 'static,
    {
        let range = self
            .txn
            .open_table(table)?
            .range::<K::SelfType<'static>>(..)?;
        Ok(range.map(move |entry| {
            let (k, v) = entry?;
            read(k.value(), v.value())
        }))
    }
}

/// Piece `n` of an attachment's sealed file (0 the header); `Corrupt` when it is missing.
fn sealed_piece(folder: &std::path::Path, id: Uuid, n: u64) -> Result<Vec<u8>, StoreError> {
    let path = super::attachments::file_of(folder, id);
    super::attachments::read_piece(&path, n)?.ok_or_else(|| {
        StoreError::Corrupt(format!(
            "attachment {}: piece {n} of its sealed file is missing",
            id.simple()
        ))
    })
}

/// `to:<tenant>:<address>` or `tenant:<tenant>` (tenant in simple hex), as the writer keys
/// `send_counts`.
fn parse_count_key(key: &str) -> Result<(TenantId, String), StoreError> {
    let bad = || {
        StoreError::Corrupt(format!(
            "send_counts key of unknown shape ({} bytes)",
            key.len()
        ))
    };
    let (tenant, address) = if let Some(rest) = key.strip_prefix("to:") {
        let (tenant, address) = rest.split_once(':').ok_or_else(bad)?;
        (tenant, address.to_owned())
    } else {
        (key.strip_prefix("tenant:").ok_or_else(bad)?, String::new())
    };
    let tenant = Uuid::try_parse(tenant).map_err(|_| bad())?;
    Ok((TenantId::from(tenant), address))
}

/// Counts each table's entries.
struct Counter<'t> {
    txn: &'t ReadTransaction,
    counts: Vec<(&'static str, u64)>,
}

impl TableVisitor for Counter<'_> {
    type Error = StoreError;

    fn visit<K, V>(&mut self, table: TableDefinition<'static, K, V>) -> Result<(), StoreError>
    where
        K: Key + Send + Sync + 'static,
        V: Value + Send + Sync + 'static,
    {
        let len = self.txn.open_table(table)?.len()?;
        let name = tables::ALL
            .iter()
            .map(|t| t.0)
            .find(|n| *n == redb::TableHandle::name(&table))
            .unwrap_or("unknown");
        self.counts.push((name, len));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn send_count_keys_come_apart_as_the_writer_builds_them() {
        let tenant = TenantId::from_u128(0xabc);
        let to = format!("to:{}:a:b@example.com", tenant.simple());
        assert_eq!(
            parse_count_key(&to).ok(),
            Some((tenant, "a:b@example.com".to_owned()))
        );
        let whole = format!("tenant:{}", tenant.simple());
        assert_eq!(parse_count_key(&whole).ok(), Some((tenant, String::new())));
        assert!(parse_count_key("to:nothex:x").is_err());
        assert!(parse_count_key("other").is_err());
    }
}
