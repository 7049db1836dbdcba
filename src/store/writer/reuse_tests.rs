//! Issue 14: the pages purged links and their logs leave are reused. N links are created,
//! purged, their logs forgotten after the retention (as many purge batches as the job runs),
//! and N created again: redb's allocated pages come back to what the first N needed. A purge
//! round ends only when nothing due is left: a batch reports `more` while logs or grants are.

use redb::{Database, ReadableDatabase, ReadableTableMetadata};

use crate::config::{Config, FileConfig, Overrides};
use crate::domain::millis::ms;
use crate::domain::{LinkUid, TenantId, TokenHash, UnixMillis};
use crate::store::commands::{CreateLink, GRANTS_FORGOTTEN_PER_BATCH, PurgeReport, PurgeRetired};
use crate::store::tables::{ACCESS_LOG, GRANTS, GRANTS_BY_EXPIRY, LOG_TOMBSTONES};
use crate::store::{SendLimits, Store};

const HOUR: i64 = 3_600_000;
const N: u128 = 1000;

fn open(file: &std::path::Path) -> Store {
    let config = Config::resolve(Overrides::default(), FileConfig::default()).unwrap();
    Store::open(file, &config.writer).unwrap()
}

fn create(store: &Store, uids: std::ops::Range<u128>, at: UnixMillis) {
    for n in uids {
        let mut link = crate::domain::link::tests_support::record();
        let mut token = [0u8; 32];
        token[..16].copy_from_slice(&n.to_le_bytes());
        (link.uid, link.token_hash, link.tenant_id) = (
            LinkUid::from_u128(n),
            TokenHash(token),
            TenantId::from_u128(9),
        );
        (link.created_at, link.expires_at) = (at, at.plus_ms(HOUR));
        let limits = SendLimits {
            per_recipient_per_hour: 10,
            per_tenant_per_hour: 10,
            first_retry_at: at,
        };
        let op = CreateLink {
            link: Box::new(link),
            deliveries: vec![],
            limits,
        };
        store.write_blocking(op).unwrap();
    }
}

/// Purge batches at `now` until none is left, as one round of the purge job runs them.
fn purge_round(store: &Store, now: UnixMillis, retention: i64) -> usize {
    let mut purged = 0;
    loop {
        let op = PurgeRetired {
            retired_before: now.minus_ms(retention),
            limit: 200,
            now,
            attachments_idle_before: now.minus_ms(retention),
        };
        let PurgeReport {
            purged: n, more, ..
        } = store.write_blocking(op).unwrap();
        purged += n;
        if !more {
            return purged;
        }
    }
}

/// redb's allocated pages and the access log's rows, on the closed file.
fn allocated_and_log_rows(file: &std::path::Path) -> (u64, u64) {
    let db = Database::open(file).unwrap();
    let rows = db
        .begin_read()
        .unwrap()
        .open_table(ACCESS_LOG)
        .unwrap()
        .len()
        .unwrap();
    let txn = db.begin_write().unwrap();
    let pages = txn.stats().unwrap().allocated_pages();
    txn.abort().unwrap();
    (pages, rows)
}

#[test]
fn purged_links_and_their_logs_leave_pages_that_new_links_reuse() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("t.redb");
    let retention = 30 * 24 * HOUR;
    let store = open(&file);
    create(&store, 0..N, ms(0));
    store.close().unwrap();
    let (first, rows) = allocated_and_log_rows(&file);
    assert_eq!(rows, N as u64, "one Created row per link");

    let store = open(&file);
    let purged_at = ms(HOUR + retention + 1);
    assert_eq!(purge_round(&store, purged_at, retention), N as usize);
    let logs_due = purged_at.plus_ms(retention + 1);
    assert_eq!(purge_round(&store, logs_due, retention), 0);
    store.close().unwrap();
    let db = Database::open(&file).unwrap();
    let read = db.begin_read().unwrap();
    assert_eq!(read.open_table(LOG_TOMBSTONES).unwrap().len().unwrap(), 0);
    drop((read, db));
    assert_eq!(
        allocated_and_log_rows(&file).1,
        0,
        "one round forgot every log due"
    );

    let store = open(&file);
    create(&store, N..2 * N, logs_due);
    store.close().unwrap();
    let (again, _) = allocated_and_log_rows(&file);
    assert!(
        again <= first + first / 10,
        "{again} pages allocated after purging and creating {N} again; {first} the first time"
    );
}

#[test]
fn a_purge_batch_reports_more_while_expired_grants_remain() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("t.redb");
    open(&file).close().unwrap();
    let expired = GRANTS_FORGOTTEN_PER_BATCH as u32 + 10;
    let db = Database::open(&file).unwrap();
    let txn = db.begin_write().unwrap();
    {
        let mut grants = txn.open_table(GRANTS).unwrap();
        let mut by_expiry = txn.open_table(GRANTS_BY_EXPIRY).unwrap();
        for n in 0..expired {
            let mut grant = [0u8; 32];
            grant[..4].copy_from_slice(&n.to_le_bytes());
            grants.insert(grant, [1u8].as_slice()).unwrap();
            by_expiry.insert((1, grant), ()).unwrap();
        }
    }
    txn.commit().unwrap();
    drop(db);
    let store = open(&file);
    assert_eq!(purge_round(&store, ms(HOUR), HOUR), 0);
    store.close().unwrap();
    let db = Database::open(&file).unwrap();
    let read = db.begin_read().unwrap();
    assert_eq!(read.open_table(GRANTS).unwrap().len().unwrap(), 0);
    assert_eq!(read.open_table(GRANTS_BY_EXPIRY).unwrap().len().unwrap(), 0);
}
