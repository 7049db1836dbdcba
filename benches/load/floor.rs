//! The floor under the writer: redb alone, on the same disk, inserting what one create
//! inserts into the same tables (same key and value shapes, a 600-byte record, no encoding,
//! no checks, no channel, one thread), one durable commit per batch. Run once with every index
//! of a create and once with only the indexes whose keys arrive in order (the record by its
//! v7 uid, the tenant and expiry indexes, the access log), to show what the random-key indexes
//! (token hash, resource) cost. Nothing the service does on top can be faster than this.

use std::path::Path;
use std::time::Instant;

use customerlink::store::tables::{
    ACCESS_LOG, LINKS, LINKS_BY_EXPIRY, LINKS_BY_RESOURCE, LINKS_BY_TENANT, LINKS_BY_TOKEN,
};
use redb::{Database, Durability, WriteTransaction};

/// One measurement of redb alone.
pub struct FloorRow {
    pub all_indexes: bool,
    pub batch: usize,
    pub ms_per_commit: f64,
    pub creates_per_sec: f64,
}

const PRELOAD: u64 = 10_000;
const COMMITS: usize = 300;

/// Commits of 1, 16 and 64 creates, with all indexes and with in-order keys only.
pub fn measure(dir: &Path) -> Result<Vec<FloorRow>, String> {
    let mut rows = Vec::new();
    for all_indexes in [true, false] {
        let path = dir.join(format!("floor-{all_indexes}.redb"));
        let db = Database::builder()
            .set_cache_size(16 << 20)
            .create(&path)
            .map_err(|e| e.to_string())?;
        let mut next = 0;
        let mut preload = db.begin_write().map_err(|e| e.to_string())?;
        preload
            .set_durability(Durability::None)
            .map_err(|e| e.to_string())?;
        insert(&preload, &mut next, PRELOAD, all_indexes).map_err(|e| e.to_string())?;
        preload.commit().map_err(|e| e.to_string())?;
        for batch in [1, 16, 64] {
            let started = Instant::now();
            for _ in 0..COMMITS {
                let txn = db.begin_write().map_err(|e| e.to_string())?;
                insert(&txn, &mut next, batch as u64, all_indexes).map_err(|e| e.to_string())?;
                txn.commit().map_err(|e| e.to_string())?;
            }
            let elapsed = started.elapsed().as_secs_f64();
            rows.push(FloorRow {
                all_indexes,
                batch,
                ms_per_commit: elapsed * 1000.0 / COMMITS as f64,
                creates_per_sec: (COMMITS * batch) as f64 / elapsed,
            });
        }
        drop(db);
        let _ = std::fs::remove_file(&path);
    }
    Ok(rows)
}

/// `count` creates: the record and its index entries (and its `Created` log row).
fn insert(
    txn: &WriteTransaction,
    next: &mut u64,
    count: u64,
    all_indexes: bool,
) -> Result<(), redb::Error> {
    let record = [0x5a_u8; 600];
    let tenant = 7_u128;
    let mut links = txn.open_table(LINKS)?;
    let mut by_token = txn.open_table(LINKS_BY_TOKEN)?;
    let mut by_tenant = txn.open_table(LINKS_BY_TENANT)?;
    let mut by_resource = txn.open_table(LINKS_BY_RESOURCE)?;
    let mut by_expiry = txn.open_table(LINKS_BY_EXPIRY)?;
    let mut log = txn.open_table(ACCESS_LOG)?;
    for _ in 0..count {
        *next += 1;
        let id = *next;
        // v7-like: time-ordered high bits, a scrambled tail.
        let uid = (u128::from(id) << 64) | u128::from(id.wrapping_mul(0x9e37_79b9_7f4a_7c15));
        let random = |salt: u128| {
            uid.wrapping_mul(0x2545_f491_4f6c_dd1d_9e37_79b9_7f4a_7c15)
                .rotate_left(61)
                ^ salt
        };
        links.insert(uid, record.as_slice())?;
        by_tenant.insert((tenant, id), uid)?;
        by_expiry.insert((1_000_000 + id as i64, uid), ())?;
        log.insert((uid, id), &record[..200])?;
        if all_indexes {
            let mut token = [0u8; 32];
            token[..16].copy_from_slice(&random(1).to_le_bytes());
            token[16..].copy_from_slice(&random(2).to_le_bytes());
            by_token.insert(token, uid)?;
            by_resource.insert((tenant, "invoice", random(3), id), uid)?;
        }
    }
    Ok(())
}
