//! store: the redb file, its tables and indexes. All writes go through one writer thread that
//! commits queued commands together (group commit); reads are short read transactions that
//! never wait for the writer. After a failed write the writer reopens the file (`db.rs`);
//! meanwhile every caller gets [`StoreError::Unavailable`]. Knows nothing of HTTP or wire formats.

mod check;
mod codec;
pub mod commands;
mod db;
mod error;
#[cfg(test)]
mod golden_tests;
mod idempotency;
pub mod postgres;
pub mod queries;
mod reader;
pub mod tables;
mod writer;

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use redb::ReadableDatabase;

pub use check::CheckReport;
pub use commands::{
    AttemptOutcome, Command, PurgeReport, Replayable, ResendRefusal, RetryPolicy, SendLimits,
};
pub use error::StoreError;
pub use idempotency::{IdempotencyKey, IdempotencyRecord, IdempotencyStamp};
pub use reader::{LinkPage, Reader};
pub use writer::Apply;

use crate::config::WriterSettings;

/// Where the writer reports each batch: how many commands, how long applying and committing
/// took, and whether it committed. The store owns the reporting point; `metrics` implements
/// it, so the store knows nothing of how batches are counted (and config carries no state).
pub trait WriterObserver: Send + Sync {
    fn record_commit(&self, batch_len: usize, elapsed: Duration, committed: bool);
}

/// Nobody listening (admin tools, restore, tests).
impl WriterObserver for () {
    fn record_commit(&self, _: usize, _: Duration, _: bool) {}
}

/// Handle to the open database; cheap to clone, shared by every request.
#[derive(Clone)]
pub struct Store {
    db: Arc<db::DbCell>,
    writer: writer::WriterHandle,
    thread: Arc<Mutex<Option<std::thread::JoinHandle<()>>>>,
}

impl Store {
    /// Opens (or creates) the database and starts the writer thread. The file is made 0600
    /// first (created so, or tightened), whatever the umask: it holds recipients' addresses.
    /// Fails with [`StoreError::Locked`] at once if another process holds the file.
    pub fn open(path: &Path, settings: &WriterSettings) -> Result<Store, StoreError> {
        Self::open_observed(path, settings, Arc::new(()))
    }

    /// [`Store::open`], with the writer reporting each batch to `observer` (the server's
    /// metrics). Fails as [`Store::open`] does.
    pub fn open_observed(
        path: &Path,
        settings: &WriterSettings,
        observer: Arc<dyn WriterObserver>,
    ) -> Result<Store, StoreError> {
        crate::private_fs::file(path)
            .map_err(|e| StoreError::Io(format!("{}: {e}", path.display())))?;
        let db = Arc::new(db::DbCell::open(path, settings.cache_bytes)?);
        let (writer, thread) = writer::spawn(Arc::clone(&db), settings, observer)?;
        Ok(Store {
            db,
            writer,
            thread: Arc::new(Mutex::new(Some(thread))),
        })
    }

    /// Applies one command durably and answers exactly its output. `Ok` means it is on disk
    /// (or was a no-op/rejection). [`StoreError::Unavailable`] means the disk failed: the
    /// command may or may not have become durable (redb's commit contract). Any other `Err`
    /// means nothing of it was written.
    pub async fn write<C: Apply>(&self, command: C) -> Result<C::Output, StoreError> {
        self.writer.send(command).await
    }

    /// [`Store::write`] for synchronous callers (admin commands); not for async contexts.
    pub fn write_blocking<C: Apply>(&self, command: C) -> Result<C::Output, StoreError> {
        self.writer.send_blocking(command)
    }

    /// Answers one read ([`queries`]). The embedded store answers from one short read
    /// transaction on the calling thread: a point lookup or bounded range scan that never
    /// waits for the writer.
    pub async fn fetch<Q: queries::Fetch>(&self, query: Q) -> Result<Q::Output, StoreError> {
        self.read(|r| query.fetch(r))
    }

    /// [`Store::fetch`] for synchronous callers (admin commands, start-up).
    pub fn fetch_blocking<Q: queries::Fetch>(&self, query: Q) -> Result<Q::Output, StoreError> {
        self.read(|r| query.fetch(r))
    }

    /// Whether the store answers a read at all (readiness).
    pub fn ping(&self) -> Result<(), StoreError> {
        self.read(|_| Ok(()))
    }

    /// Runs `f` in one short read transaction. The closure is synchronous, so the snapshot
    /// can never be held across an `.await` (which would pin old pages and grow the file).
    fn read<T>(&self, f: impl FnOnce(&Reader) -> Result<T, StoreError>) -> Result<T, StoreError> {
        let txn = self.db.current()?.begin_read()?;
        f(&Reader::new(txn))
    }

    /// Whether the writer thread is running (it stops only at shutdown or if it died).
    pub fn is_writing(&self) -> bool {
        self.writer.is_alive()
    }

    /// `Some(seconds until the next reopen attempt)` while a storage failure stops writes.
    pub fn write_fault(&self) -> Option<u64> {
        self.db.retry_after_secs()
    }

    /// A read snapshot of the whole file for operator tools (backup, link gauges), which
    /// read tables the [`Reader`] does not expose. Drop it promptly: while it lives, pages
    /// freed by later commits cannot be reused and the file grows.
    pub fn snapshot(&self) -> Result<redb::ReadTransaction, StoreError> {
        Ok(self.db.current()?.begin_read()?)
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

    /// Stops the writer and closes the database so redb records a clean shutdown (the next
    /// open then needs no repair). Fails if another handle still shares the store.
    pub fn close(self) -> Result<(), StoreError> {
        self.shutdown();
        if Arc::strong_count(&self.db) > 1 {
            return Err(StoreError::Io("the database is still in use".into()));
        }
        self.db.close()
    }
}
