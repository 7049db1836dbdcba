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
pub const STEPS: &[Step] = &[Step {
    from: 1,
    name: "records as MessagePack arrays (format 2)",
    run: records_as_arrays,
}];

/// Format 2 writes records as arrays with `bin` byte strings (`store::codec`). Format-1 records
/// (named maps) still decode, so nothing is rewritten: each record takes the new form the
/// next time it is written, and `customerlink compact` returns the space. The step only moves
/// the marker, which makes a format-1 build refuse the file instead of misreading it.
fn records_as_arrays(_txn: &WriteTransaction) -> Result<(), StoreError> {
    Ok(())
}

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
    run_steps(path, from, SCHEMA_VERSION, STEPS, done)
}

/// [`migrate`] from `from` to `to` with `steps` (tests pass their own).
fn run_steps(
    path: &Path,
    from: u64,
    to: u64,
    steps: &[Step],
    done: &mut dyn FnMut(&Step),
) -> Result<(), StoreError> {
    let chain = (from..to)
        .map(|v| {
            steps.iter().find(|s| s.from == v).ok_or_else(|| {
                StoreError::Corrupt(format!("no migration step from database format {v}"))
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let db = open(path)?;
    for step in chain {
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

#[cfg(test)]
mod tests {
    use super::*;
    use redb::ReadableTable;

    fn mark(txn: &WriteTransaction) -> Result<(), StoreError> {
        let mut meta = txn.open_table(META)?;
        let runs = meta.get("test_step_runs")?.map_or(0, |v| v.value());
        meta.insert("test_step_runs", runs + 1)?;
        Ok(())
    }

    fn fail(_: &WriteTransaction) -> Result<(), StoreError> {
        Err(StoreError::Corrupt("step failed".into()))
    }

    const STEPS: &[Step] = &[
        Step {
            from: 7,
            name: "seven",
            run: mark,
        },
        Step {
            from: 8,
            name: "eight",
            run: mark,
        },
        Step {
            from: 9,
            name: "nine",
            run: fail,
        },
    ];

    fn file_at(version: u64) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let db = open(&dir.path().join("db")).unwrap();
        let txn = db.begin_write().unwrap();
        txn.open_table(META)
            .unwrap()
            .insert("schema_version", version)
            .unwrap();
        txn.commit().unwrap();
        dir
    }

    fn meta(path: &Path, key: &str) -> Option<u64> {
        let db = open(path).unwrap();
        let txn = db.begin_read().unwrap();
        let table = txn.open_table(META).unwrap();
        table.get(key).unwrap().map(|v| v.value())
    }

    #[test]
    fn steps_run_in_order_each_recording_the_version_it_reached() {
        let dir = file_at(7);
        let path = dir.path().join("db");
        let mut seen = Vec::new();
        run_steps(&path, 7, 9, STEPS, &mut |s| seen.push(s.name)).unwrap();
        assert_eq!(seen, ["seven", "eight"]);
        assert_eq!(file_version(&path).unwrap(), Some(9));
        assert_eq!(meta(&path, "test_step_runs"), Some(2));
    }

    #[test]
    fn a_failing_step_leaves_the_file_at_the_last_committed_one() {
        let dir = file_at(8);
        let path = dir.path().join("db");
        assert!(run_steps(&path, 8, 10, STEPS, &mut |_| {}).is_err());
        assert_eq!(
            file_version(&path).unwrap(),
            Some(9),
            "step eight committed"
        );
        assert_eq!(meta(&path, "test_step_runs"), Some(1));
    }

    #[test]
    fn a_gap_in_the_chain_is_refused_before_anything_is_written() {
        let dir = file_at(5);
        let path = dir.path().join("db");
        let err = run_steps(&path, 5, 9, STEPS, &mut |_| {}).unwrap_err();
        assert!(
            err.to_string()
                .contains("no migration step from database format 5")
        );
        assert_eq!(file_version(&path).unwrap(), Some(5));
    }

    #[test]
    fn a_missing_or_empty_file_has_no_version() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db");
        assert_eq!(file_version(&path).unwrap(), None);
        assert!(!path.exists(), "asking does not create the file");
        std::fs::write(&path, b"").unwrap();
        assert_eq!(file_version(&path).unwrap(), None);
    }

    #[test]
    fn the_real_steps_form_one_chain_ending_at_this_format() {
        for (i, step) in super::STEPS.iter().enumerate() {
            assert_eq!(step.from, oldest_readable() + i as u64, "{}", step.name);
        }
        assert_eq!(
            oldest_readable() + super::STEPS.len() as u64,
            SCHEMA_VERSION
        );
    }
}
