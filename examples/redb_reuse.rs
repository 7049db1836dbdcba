//! Whether redb hands freed pages back to new allocations, outside customerlink: N records of
//! ~220 B under a sequential key with two random-key indexes, written in durable commits of
//! 32 (as the writer does), all deleted in commits of 200 (as the purge job does), then N
//! written again. Prints the file's length, its blocks on disk and redb's allocated pages
//! after each step (`cargo run --example redb_reuse -- 200000 [reader]`; with
//! `reader`, a read transaction stays open across the delete, as a long read would).

use std::os::unix::fs::MetadataExt;
use std::path::Path;

use redb::{Database, ReadableDatabase, ReadableTableMetadata, TableDefinition};

const RECORDS: TableDefinition<u128, &[u8]> = TableDefinition::new("records");
const BY_TOKEN: TableDefinition<&[u8], u128> = TableDefinition::new("by_token");
const BY_RESOURCE: TableDefinition<&[u8], ()> = TableDefinition::new("by_resource");

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let n: u64 = args
        .get(1)
        .map(|a| a.parse())
        .transpose()?
        .unwrap_or(200_000);
    let hold_reader = args.iter().any(|a| a == "reader");
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("reuse.redb");
    let db = Database::builder().create(&path)?;
    let mut rng = 0x9E37_79B9_7F4A_7C15u64;
    insert(&db, 0..n, &mut rng)?;
    report(&db, &path, "written")?;
    let reader = if hold_reader {
        Some(db.begin_read()?)
    } else {
        None
    };
    delete(&db, 0..n)?;
    report(&db, &path, "all deleted")?;
    drop(reader);
    insert(&db, n..2 * n, &mut rng)?;
    report(&db, &path, "written again")?;
    delete(&db, n..2 * n)?;
    insert(&db, 2 * n..3 * n, &mut rng)?;
    report(&db, &path, "deleted, written a third time")?;
    Ok(())
}

fn next(rng: &mut u64) -> u64 {
    *rng = rng.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *rng;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The token index key of record `i` is derived from `i`, so the delete can find it.
fn token(i: u64) -> [u8; 32] {
    let mut s = i.wrapping_mul(0xD6E8_FEB8_6659_FD93);
    let mut key = [0u8; 32];
    for chunk in key.chunks_mut(8) {
        chunk.copy_from_slice(&next(&mut s).to_le_bytes());
    }
    key
}

fn resource(i: u64, uid: u128) -> [u8; 32] {
    let mut s = (i / 4).wrapping_mul(0xA076_1D64_78BD_642F);
    let mut key = [0u8; 32];
    key[..8].copy_from_slice(&next(&mut s).to_le_bytes());
    key[8..16].copy_from_slice(&next(&mut s).to_le_bytes());
    key[16..].copy_from_slice(&uid.to_be_bytes());
    key
}

/// The three tables of one write transaction.
struct Tables<'t> {
    records: redb::Table<'t, u128, &'static [u8]>,
    by_token: redb::Table<'t, &'static [u8], u128>,
    by_resource: redb::Table<'t, &'static [u8], ()>,
}

/// Runs `each` on every record index of `range`, `per_commit` to a durable commit.
fn in_commits(
    db: &Database,
    range: std::ops::Range<u64>,
    per_commit: usize,
    mut each: impl FnMut(&mut Tables<'_>, u64) -> Result<(), redb::StorageError>,
) -> Result<(), Box<dyn std::error::Error>> {
    let ids: Vec<u64> = range.collect();
    for batch in ids.chunks(per_commit) {
        let txn = db.begin_write()?;
        {
            let mut tables = Tables {
                records: txn.open_table(RECORDS)?,
                by_token: txn.open_table(BY_TOKEN)?,
                by_resource: txn.open_table(BY_RESOURCE)?,
            };
            for &i in batch {
                each(&mut tables, i)?;
            }
        }
        txn.commit()?;
    }
    Ok(())
}

fn insert(
    db: &Database,
    range: std::ops::Range<u64>,
    rng: &mut u64,
) -> Result<(), Box<dyn std::error::Error>> {
    in_commits(db, range, 32, |t, i| {
        let uid = u128::from(i);
        let mut value = [0u8; 220];
        for chunk in value.chunks_mut(8) {
            let bytes = next(rng).to_le_bytes();
            chunk.copy_from_slice(&bytes[..chunk.len()]);
        }
        t.records.insert(uid, value.as_slice())?;
        t.by_token.insert(token(i).as_slice(), uid)?;
        t.by_resource.insert(resource(i, uid).as_slice(), ())?;
        Ok(())
    })
}

fn delete(db: &Database, range: std::ops::Range<u64>) -> Result<(), Box<dyn std::error::Error>> {
    in_commits(db, range, 200, |t, i| {
        let uid = u128::from(i);
        t.records.remove(uid)?;
        t.by_token.remove(token(i).as_slice())?;
        t.by_resource.remove(resource(i, uid).as_slice())?;
        Ok(())
    })
}

fn report(db: &Database, path: &Path, step: &str) -> Result<(), Box<dyn std::error::Error>> {
    let txn = db.begin_write()?;
    let stats = txn.stats()?;
    let records = txn.open_table(RECORDS)?.len()?;
    txn.abort()?;
    let meta = std::fs::metadata(path)?;
    let mib = |b: u64| b as f64 / 1048576.0;
    println!(
        "{step:32} records {records:8}  length {:8.1} MiB  on disk {:8.1} MiB  allocated {:8.1} MiB",
        mib(meta.len()),
        mib(meta.blocks() * 512),
        mib(stats.allocated_pages() * stats.page_size() as u64),
    );
    Ok(())
}
