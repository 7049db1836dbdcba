//! The floor under the writer: redb alone, on the same disk, inserting what one create
//! inserts into the same tables (same key and value shapes, a 600-byte record, no encoding,
//! no checks, no channel, one thread), one durable commit per batch. Run once with every index
//! of a create and once with only the indexes whose keys arrive in order (the record by its
//! v7 uid, the tenant and expiry indexes, the access log), to show what the random-key indexes
//! (token hash, resource) cost. Nothing the service does on top can be faster than this.
//! Each row runs as long as a wrk row (`--seconds`), from a fresh file of 10⁴ links.
//! Also: revoke-shaped commits (rewrite a random link's record, add its revocation index entry
//! and its log row) in a file of 10⁴ and of 10⁶ links, to show how the same commit grows with
//! the file when the pages it touches are no longer cached.

use std::path::Path;
use std::time::{Duration, Instant};

use customerlink::store::tables::{
    ACCESS_LOG, LINKS, LINKS_BY_EXPIRY, LINKS_BY_RESOURCE, LINKS_BY_REVOKED, LINKS_BY_TENANT,
    LINKS_BY_TOKEN,
};
use redb::{Database, Durability, ReadableTable, WriteTransaction};

/// One measurement of redb alone.
pub struct FloorRow {
    pub all_indexes: bool,
    pub batch: usize,
    pub ms_per_commit: f64,
    /// The thread's CPU time per commit: the rest of `ms_per_commit` is waiting for the disk.
    pub cpu_ms_per_commit: f64,
    pub creates_per_sec: f64,
}

const PRELOAD: u64 = 10_000;
const COMMITS: usize = 300;

/// Commits of 1, 16 and 64 creates, with all indexes and with in-order keys only, each in a
/// fresh file of 10⁴ links and for `duration` (at least 300 commits): as long as a wrk row
/// drives the server's creates, so the trees grow as much as the server's do in its row.
pub fn measure(dir: &Path, duration: Duration) -> Result<Vec<FloorRow>, String> {
    let mut rows = Vec::new();
    for all_indexes in [true, false] {
        for batch in [1, 16, 64] {
            let path = dir.join(format!("floor-{all_indexes}-{batch}.redb"));
            let db = preloaded(&path, PRELOAD, all_indexes)?;
            let mut next = PRELOAD;
            let started = Instant::now();
            let cpu_before = thread_cpu_ns();
            let mut commits = 0;
            while commits < COMMITS || started.elapsed() < duration {
                let txn = db.begin_write().map_err(|e| e.to_string())?;
                insert(&txn, &mut next, batch as u64, all_indexes).map_err(|e| e.to_string())?;
                txn.commit().map_err(|e| e.to_string())?;
                commits += 1;
            }
            let elapsed = started.elapsed().as_secs_f64();
            let cpu_ns = thread_cpu_ns().saturating_sub(cpu_before);
            rows.push(FloorRow {
                all_indexes,
                batch,
                ms_per_commit: elapsed * 1000.0 / commits as f64,
                cpu_ms_per_commit: cpu_ns as f64 / 1e6 / commits as f64,
                creates_per_sec: (commits * batch) as f64 / elapsed,
            });
            drop(db);
            let _ = std::fs::remove_file(&path);
        }
    }
    Ok(rows)
}

/// This thread's CPU time so far (`/proc/thread-self/schedstat`, nanoseconds on a core).
fn thread_cpu_ns() -> u64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

/// Revoke-shaped commits at one file size.
pub struct RevokeFloorRow {
    pub links: u64,
    pub file_mib: f64,
    pub ms_per_commit: f64,
}

/// Commits of 16 revoke-shaped updates of random links, after preloading `sizes` links.
pub fn measure_revokes(dir: &Path, sizes: &[u64]) -> Result<Vec<RevokeFloorRow>, String> {
    let mut rows = Vec::new();
    for &links in sizes {
        let path = dir.join(format!("floor-revoke-{links}.redb"));
        let db = preloaded(&path, links, true)?;
        let mut pick = 0x2545_f491_4f6c_dd1d_u64;
        let mut log_id = links + 1;
        let started = Instant::now();
        for _ in 0..COMMITS {
            let txn = db.begin_write().map_err(|e| e.to_string())?;
            {
                let mut revoke = || -> Result<(), redb::Error> {
                    let mut records = txn.open_table(LINKS)?;
                    let mut revoked = txn.open_table(LINKS_BY_REVOKED)?;
                    let mut log = txn.open_table(ACCESS_LOG)?;
                    for _ in 0..16 {
                        pick ^= pick << 13;
                        pick ^= pick >> 7;
                        pick ^= pick << 17;
                        let uid = uid_of(pick % links + 1);
                        let record = records.get(uid)?.map(|g| g.value().to_vec());
                        let record = record.unwrap_or_default();
                        records.insert(uid, record.as_slice())?;
                        revoked.insert((log_id as i64, uid), ())?;
                        log.insert((uid, log_id), &record[..record.len().min(200)])?;
                        log_id += 1;
                    }
                    Ok(())
                };
                revoke().map_err(|e| e.to_string())?;
            }
            txn.commit().map_err(|e| e.to_string())?;
        }
        let elapsed = started.elapsed().as_secs_f64();
        drop(db);
        let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
        let _ = std::fs::remove_file(&path);
        rows.push(RevokeFloorRow {
            links,
            file_mib: size as f64 / 1048576.0,
            ms_per_commit: elapsed * 1000.0 / COMMITS as f64,
        });
    }
    Ok(rows)
}

/// A new file at `path` holding `links` creates (links 1..=`links`), written without fsyncs
/// and then made durable by one empty commit, so no measured commit pays for the preload.
fn preloaded(path: &Path, links: u64, all_indexes: bool) -> Result<Database, String> {
    let db = Database::builder()
        .set_cache_size(16 << 20)
        .create(path)
        .map_err(|e| e.to_string())?;
    let mut next = 0;
    while next < links {
        let mut txn = db.begin_write().map_err(|e| e.to_string())?;
        txn.set_durability(Durability::None)
            .map_err(|e| e.to_string())?;
        let count = (links - next).min(8192);
        insert(&txn, &mut next, count, all_indexes).map_err(|e| e.to_string())?;
        txn.commit().map_err(|e| e.to_string())?;
    }
    let txn = db.begin_write().map_err(|e| e.to_string())?;
    txn.commit().map_err(|e| e.to_string())?;
    Ok(db)
}

/// The uid of link number `id`: v7-like, time-ordered high bits and a scrambled tail.
fn uid_of(id: u64) -> u128 {
    (u128::from(id) << 64) | u128::from(id.wrapping_mul(0x9e37_79b9_7f4a_7c15))
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
        let uid = uid_of(id);
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
