//! store: the redb file, its tables and indexes. All writes go through one writer thread that
//! commits queued commands together (group commit); reads are short read transactions that
//! never wait for the writer. Knows nothing of HTTP or wire formats.

mod check;
mod codec;
mod error;
mod reader;
pub mod tables;
mod writer;

use std::path::Path;
use std::sync::{Arc, Mutex};

use redb::{Database, ReadableDatabase};

pub use check::CheckReport;
pub use error::StoreError;
pub use reader::{LinkPage, Reader};
pub use writer::{
    AttemptOutcome, PortalOp, PortalOutcome, PurgeReport, ResendRefusal, RetryPolicy, SendLimits,
    WriteOp, WriteOutcome,
};

use crate::config::WriterSettings;

/// Handle to the open database; cheap to clone, shared by every request.
#[derive(Clone)]
pub struct Store {
    db: Arc<Database>,
    writer: writer::WriterHandle,
    thread: Arc<Mutex<Option<std::thread::JoinHandle<()>>>>,
}

impl Store {
    /// Opens (or creates) the database and starts the writer thread. The file is made 0600
    /// first (created so, or tightened), whatever the umask: it holds recipients' addresses.
    /// Fails with [`StoreError::Locked`] at once if another process holds the file.
    pub fn open(path: &Path, settings: &WriterSettings) -> Result<Store, StoreError> {
        let started = std::time::Instant::now();
        crate::private_fs::file(path)
            .map_err(|e| StoreError::Io(format!("{}: {e}", path.display())))?;
        let db = Database::builder()
            .set_cache_size(settings.cache_bytes)
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
        let db = Arc::new(db);
        tables::ensure(&db)?;
        let (writer, thread) = writer::spawn(Arc::clone(&db), settings)?;
        Ok(Store {
            db,
            writer,
            thread: Arc::new(Mutex::new(Some(thread))),
        })
    }

    /// Applies one command durably. `Ok` means it is on disk (or was a no-op/rejection).
    /// An `Err` means nothing of this command was written.
    pub async fn write(&self, op: WriteOp) -> Result<WriteOutcome, StoreError> {
        self.writer.send(op).await
    }

    /// [`Store::write`] for synchronous callers (admin commands); not for async contexts.
    pub fn write_blocking(&self, op: WriteOp) -> Result<WriteOutcome, StoreError> {
        self.writer.send_blocking(op)
    }

    /// Runs `f` in one short read transaction. The closure is synchronous, so the snapshot
    /// can never be held across an `.await` (which would pin old pages and grow the file).
    pub fn read<T>(
        &self,
        f: impl FnOnce(&Reader) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let txn = self.db.begin_read()?;
        f(&Reader::new(txn))
    }

    /// Whether the writer thread is running (it stops only at shutdown or if it died).
    pub fn is_writing(&self) -> bool {
        self.writer.is_alive()
    }

    /// A read snapshot of the whole file for operator tools (backup, link gauges), which
    /// read tables the [`Reader`] does not expose. Drop it promptly: while it lives, pages
    /// freed by later commits cannot be reused and the file grows.
    pub fn snapshot(&self) -> Result<redb::ReadTransaction, StoreError> {
        Ok(self.db.begin_read()?)
    }

    /// Verifies every index against the records.
    pub fn check(&self) -> Result<CheckReport, StoreError> {
        self.read(check::run)
    }

    /// Finishes queued writes, stops the writer thread and waits for it. Idempotent.
    pub fn shutdown(&self) {
        self.writer.stop();
        let handle = self.thread.lock().map(|mut t| t.take()).unwrap_or(None);
        if let Some(handle) = handle {
            let _ = handle.join();
        }
    }

    /// Stops the writer and drops the database so redb records a clean shutdown (the next
    /// open then needs no repair). Fails if another handle still shares the database.
    pub fn close(self) -> Result<(), StoreError> {
        self.shutdown();
        match Arc::try_unwrap(self.db) {
            Ok(db) => {
                drop(db);
                Ok(())
            }
            Err(_) => Err(StoreError::Io("the database is still in use".into())),
        }
    }
}
