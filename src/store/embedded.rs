//! The embedded store: one redb file, one writer thread committing queued commands together,
//! reads from short read transactions on the caller's thread.

use std::path::Path;
use std::sync::{Arc, Mutex};

use redb::ReadableDatabase;

use super::queries::Fetch;
use super::{Apply, CheckReport, NotReady, Reader, StoreError, WriterObserver, check, db, writer};
use crate::config::WriterSettings;

/// Handle to the open file; cheap to clone.
#[derive(Clone)]
pub struct Embedded {
    db: Arc<db::DbCell>,
    writer: writer::WriterHandle,
    thread: Arc<Mutex<Option<std::thread::JoinHandle<()>>>>,
    /// `attachments/` beside the file.
    attachments: Arc<std::path::PathBuf>,
    /// Defers file removals while a backup copies the folder.
    pins: Arc<super::file_pins::FilePins>,
}

impl Embedded {
    /// Opens (or creates) the database and starts the writer thread. The file is made 0600
    /// first (created so, or tightened), whatever the umask: it holds recipients' addresses.
    /// Fails with [`StoreError::Locked`] at once if another process holds the file.
    pub fn open(path: &Path, settings: &WriterSettings) -> Result<Embedded, StoreError> {
        Self::open_observed(path, settings, Arc::new(()))
    }

    /// [`Embedded::open`], with the writer reporting each batch to `observer` (the server's
    /// metrics). Fails as [`Embedded::open`] does.
    pub fn open_observed(
        path: &Path,
        settings: &WriterSettings,
        observer: Arc<dyn WriterObserver>,
    ) -> Result<Embedded, StoreError> {
        crate::private_fs::file(path)
            .map_err(|e| StoreError::Io(format!("{}: {e}", path.display())))?;
        let db = Arc::new(db::DbCell::open(path, settings.cache_bytes)?);
        let (writer, thread) = writer::spawn(Arc::clone(&db), settings, observer)?;
        Ok(Embedded {
            attachments: Arc::new(super::attachments::folder(path)),
            pins: Arc::default(),
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

    /// [`Embedded::write`] for synchronous callers (admin commands); not for async contexts.
    pub fn write_blocking<C: Apply>(&self, command: C) -> Result<C::Output, StoreError> {
        self.writer.send_blocking(command)
    }

    /// Answers one read ([`super::queries`]). The embedded store answers from one short read
    /// transaction on the calling thread: a point lookup or bounded range scan that never
    /// waits for the writer.
    pub async fn fetch<Q: Fetch>(&self, query: Q) -> Result<Q::Output, StoreError> {
        self.read(|r| query.fetch(r))
    }

    /// [`Embedded::fetch`] for synchronous callers (admin commands, start-up).
    pub fn fetch_blocking<Q: Fetch>(&self, query: Q) -> Result<Q::Output, StoreError> {
        self.read(|r| query.fetch(r))
    }

    /// Runs `f` in one short read transaction. The closure is synchronous, so the snapshot
    /// can never be held across an `.await` (which would pin old pages and grow the file).
    fn read<T>(&self, f: impl FnOnce(&Reader) -> Result<T, StoreError>) -> Result<T, StoreError> {
        let txn = self.db.current()?.begin_read()?;
        f(&Reader::new(txn))
    }

    /// Ready when a read transaction opens, the writer thread runs and no storage failure
    /// stops writes.
    pub fn ready(&self) -> Result<(), NotReady> {
        if let Some(retry_after_secs) = self.db.retry_after_secs() {
            return Err(NotReady::Reopening { retry_after_secs });
        }
        if self.read(|_| Ok(())).is_err() {
            return Err(NotReady::Unreadable);
        }
        if !self.writer.is_alive() {
            return Err(NotReady::WriterStopped);
        }
        Ok(())
    }

    /// A read snapshot of the whole file for operator tools (backup, link gauges), which
    /// read tables the [`Reader`] does not expose. Drop it promptly: while it lives, pages
    /// freed by later commits cannot be reused and the file grows.
    pub fn snapshot(&self) -> Result<redb::ReadTransaction, StoreError> {
        Ok(self.db.current()?.begin_read()?)
    }

    /// A snapshot for a backup, with the pin that keeps the sealed files of every attachment
    /// it holds on disk until the pin is dropped (see [`super::file_pins`]): pinned first,
    /// then the snapshot opened.
    pub fn pinned_snapshot(
        &self,
    ) -> Result<(redb::ReadTransaction, super::file_pins::Pin), StoreError> {
        let pin = self.pins.pin();
        Ok((self.snapshot()?, pin))
    }

    /// Removes an attachment's sealed file once its record's removal has committed (deferred
    /// while a backup holds a pin). A missing file is not an error.
    pub fn remove_file(&self, path: std::path::PathBuf) -> std::io::Result<()> {
        self.pins.remove(path)
    }

    /// Where the sealed attachment files are.
    pub fn attachments_dir(&self) -> &std::path::Path {
        &self.attachments
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
