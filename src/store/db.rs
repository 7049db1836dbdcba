//! The open database handle and its replacement after a failed write (redb's commit contract:
//! after a commit fails with an I/O error, redb refuses every later write until the database
//! is closed and reopened, and the reopen repairs what the failed commit left). Readers take
//! the current handle per transaction; only the writer thread faults and reopens it. Knows
//! nothing of HTTP: callers see [`StoreError::Unavailable`] while no healthy handle exists.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use redb::Database;

use super::{StoreError, tables};

/// First wait before reopening after a failure; doubles per consecutive failure. A full
/// disk seldom clears within this, and each reopen may repair the file.
const FIRST_BACKOFF: Duration = Duration::from_millis(250);
/// Longest wait between reopen attempts while the disk stays full.
const MAX_BACKOFF: Duration = Duration::from_secs(5);
/// How long closing waits for readers that are just starting a transaction on the old handle.
const CLOSE_WAIT: Duration = Duration::from_secs(5);

/// The database handle shared by readers and the writer.
pub(super) struct DbCell {
    path: PathBuf,
    cache_bytes: usize,
    /// `None` while faulted: closed, and not yet reopened.
    current: RwLock<Option<Arc<Database>>>,
    /// When the next reopen may be tried; `Some` exactly while faulted.
    retry_at: Mutex<Option<Instant>>,
    /// Failed batches or reopens since the last successful commit (sets the backoff).
    failures: AtomicU32,
}

impl DbCell {
    /// Opens (or creates) the file and its tables. Fails with [`StoreError::Locked`] if
    /// another process holds it.
    pub(super) fn open(path: &Path, cache_bytes: usize) -> Result<DbCell, StoreError> {
        let db = open_file(path, cache_bytes)?;
        tables::ensure(&db)?;
        Ok(DbCell {
            path: path.to_owned(),
            cache_bytes,
            current: RwLock::new(Some(Arc::new(db))),
            retry_at: Mutex::new(None),
            failures: AtomicU32::new(0),
        })
    }

    /// The handle to start one transaction on. Drop it right after `begin_*`: closing after
    /// a fault waits for every clone.
    pub(super) fn current(&self) -> Result<Arc<Database>, StoreError> {
        let slot = self.current.read().map_err(|_| poisoned())?;
        slot.clone().ok_or_else(|| StoreError::Unavailable {
            retry_after_secs: self.retry_after_secs().unwrap_or(1),
        })
    }

    /// Seconds until the next reopen attempt (at least 1) while faulted; `None` when healthy.
    pub(super) fn retry_after_secs(&self) -> Option<u64> {
        let at = (*self.retry_at.lock().ok()?)?;
        let wait = at.saturating_duration_since(Instant::now());
        Some(wait.as_secs_f64().ceil().max(1.0) as u64)
    }

    /// Whether a reopen is due (faulted and its backoff has passed).
    pub(super) fn reopen_due(&self) -> bool {
        self.retry_at
            .lock()
            .ok()
            .and_then(|at| *at)
            .is_some_and(|at| Instant::now() >= at)
    }

    /// A batch committed: the next failure starts the backoff from the beginning again.
    pub(super) fn committed(&self) {
        self.failures.store(0, Ordering::Relaxed);
    }

    /// A write failed: closes the handle (redb refuses further writes on it) and schedules a
    /// reopen. Readers get [`StoreError::Unavailable`] until [`DbCell::reopen`] succeeds.
    pub(super) fn fault(&self) {
        self.schedule_retry();
        let taken = self.current.write().ok().and_then(|mut slot| slot.take());
        if let Some(db) = taken {
            close(db);
        }
    }

    /// Reopens the file (redb repairs it), checks the tables and proves a commit lands.
    /// On failure the handle stays closed and the next attempt waits longer.
    pub(super) fn reopen(&self) -> Result<(), StoreError> {
        let started = Instant::now();
        let attempt = open_file(&self.path, self.cache_bytes).and_then(|db| {
            tables::ensure(&db)?;
            tables::probe(&db)?;
            Ok(db)
        });
        match attempt {
            Ok(db) => {
                if let Ok(mut slot) = self.current.write() {
                    *slot = Some(Arc::new(db));
                }
                if let Ok(mut at) = self.retry_at.lock() {
                    *at = None;
                }
                tracing::warn!(
                    elapsed_ms = started.elapsed().as_millis() as u64,
                    "database reopened after a storage failure; writes resume"
                );
                Ok(())
            }
            Err(e) => {
                self.schedule_retry();
                Err(e)
            }
        }
    }

    /// Stops handing out the handle and closes it cleanly. Fails if it stays in use.
    pub(super) fn close(&self) -> Result<(), StoreError> {
        let taken = self.current.write().map_err(|_| poisoned())?.take();
        match taken.map(wait_until_unique) {
            Some(Err(_)) => Err(StoreError::Io("the database is still in use".into())),
            Some(Ok(db)) => db.close().map_err(|e| StoreError::Io(e.to_string())),
            None => Ok(()),
        }
    }

    fn schedule_retry(&self) {
        let failures = self.failures.fetch_add(1, Ordering::Relaxed).min(16);
        let backoff = FIRST_BACKOFF
            .saturating_mul(1 << failures.min(10))
            .min(MAX_BACKOFF);
        if let Ok(mut at) = self.retry_at.lock() {
            *at = Some(Instant::now() + backoff);
        }
    }
}

fn open_file(path: &Path, cache_bytes: usize) -> Result<Database, StoreError> {
    let started = Instant::now();
    let db = Database::builder()
        .set_cache_size(cache_bytes)
        .set_repair_callback(|session| {
            let percent = (session.progress() * 100.0).round();
            tracing::warn!(percent, "repairing the database after an unclean stop");
        })
        .create(path)
        .map_err(StoreError::from_open)?;
    tracing::debug!(
        elapsed_ms = started.elapsed().as_millis() as u64,
        "database opened"
    );
    Ok(db)
}

/// Drops the faulted handle once readers that are starting a transaction on it let go, so
/// the file lock is released before the reopen. Open read transactions do not hold it: redb
/// ends them with `DatabaseClosed`, which callers see as [`StoreError::Unavailable`].
fn close(db: Arc<Database>) {
    match wait_until_unique(db) {
        Ok(db) => {
            if let Err(e) = db.close() {
                tracing::warn!(error = %e, "closing the failed database handle reported an error");
            }
        }
        Err(db) => {
            tracing::error!("the failed database handle is still in use; it closes when released");
            drop(db);
        }
    }
}

fn wait_until_unique(mut db: Arc<Database>) -> Result<Database, Arc<Database>> {
    let deadline = Instant::now() + CLOSE_WAIT;
    loop {
        match Arc::try_unwrap(db) {
            Ok(db) => return Ok(db),
            Err(shared) if Instant::now() < deadline => {
                db = shared;
                std::thread::sleep(Duration::from_millis(1));
            }
            Err(shared) => return Err(shared),
        }
    }
}

fn poisoned() -> StoreError {
    StoreError::Io("database handle lock poisoned".into())
}
