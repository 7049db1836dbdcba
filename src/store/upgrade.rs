//! Upgrades of the embedded file's format: the steps that bring a file written by an older
//! build (its `meta.schema_version`) up to [`SCHEMA_VERSION`]. Each step runs in its own write
//! transaction that also records the version it reached, so an interrupted upgrade resumes at
//! the first step that did not commit. Knows only redb: whether to migrate, the backup taken
//! before, and the log belong to start-up (`app::upgrade`).

use std::path::Path;

use redb::{Database, ReadableDatabase, TableError, WriteTransaction};

use super::StoreError;
use super::tables::{META, SCHEMA_VERSION};

/// One step: it rewrites a file of format `from` into format `from + 1` inside `txn` (the
/// caller records the new version in the same transaction and commits).
pub struct Step {
    pub from: u64,
    pub name: &'static str,
    pub run: fn(&WriteTransaction) -> Result<(), StoreError>,
}

/// Every step this build knows, by `from`, consecutive and ending at `SCHEMA_VERSION - 1`.
/// Empty while format 1 is the only one; a format change adds its step here.
pub const STEPS: &[Step] = &[];

/// redb's page cache while a step runs (the server opens the file with its own setting later).
const CACHE_BYTES: usize = 64 << 20;

/// The oldest format this build opens: [`SCHEMA_VERSION`] less the unbroken chain of steps
/// that leads up to it.
pub fn oldest_readable() -> u64 {
    let mut version = SCHEMA_VERSION;
    while version > 0 && step_from(version - 1).is_some() {
        version -= 1;
    }
    version
}

fn step_from(version: u64) -> Option<&'static Step> {
    STEPS.iter().find(|s| s.from == version)
}

/// The format recorded in the file at `path`: `None` when there is no file yet or it holds
/// nothing. Opens the file (redb repairs it after an unclean stop) and closes it again; fails
/// with [`StoreError::Locked`] if another process holds it.
pub fn file_version(path: &Path) -> Result<Option<u64>, StoreError> {
    if !path.exists() {
        return Ok(None);
    }
    let db = open(path)?;
    let txn = db.begin_read()?;
    let meta = match txn.open_table(META) {
        Ok(meta) => meta,
        Err(TableError::TableDoesNotExist(_)) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    Ok(meta.get("schema_version")?.map(|v| v.value()))
}

/// Runs the steps from format `from` up to [`SCHEMA_VERSION`], telling `done` of each once it
/// committed. Fails with [`StoreError::Corrupt`] before writing anything if no step starts at
/// some version on the way; a failing step leaves the file at the last committed one.
pub fn migrate(path: &Path, from: u64, done: &mut dyn FnMut(&Step)) -> Result<(), StoreError> {
    let steps = (from..SCHEMA_VERSION)
        .map(|v| {
            step_from(v).ok_or_else(|| {
                StoreError::Corrupt(format!("no migration step from database format {v}"))
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let db = open(path)?;
    for step in steps {
        let txn = db.begin_write()?;
        (step.run)(&txn)?;
        txn.open_table(META)?
            .insert("schema_version", step.from + 1)?;
        txn.commit()?;
        done(step);
    }
    Ok(())
}

fn open(path: &Path) -> Result<Database, StoreError> {
    Database::builder()
        .set_cache_size(CACHE_BYTES)
        .create(path)
        .map_err(StoreError::from_open)
}
