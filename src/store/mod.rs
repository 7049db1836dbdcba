//! store: where links and everything around them are kept, behind one contract — typed
//! commands ([`commands`]) and typed queries ([`queries`]) — answered by one of two backends.
//! The embedded store (the default) is a redb file: all writes go through one writer thread
//! that commits queued commands together (group commit); reads are short read transactions
//! that never wait for the writer; after a failed write the writer reopens the file (`db.rs`)
//! and meanwhile every caller gets [`StoreError::Unavailable`]. The PostgreSQL store
//! ([`postgres`]) runs each command in a transaction of its own, shared by several instances.
//! Knows nothing of HTTP or wire formats.

pub mod attachments;
mod check;
mod codec;
pub mod commands;
mod db;
mod embedded;
mod error;
pub mod export;
pub mod file_pins;
#[cfg(test)]
mod golden_tests;
mod idempotency;
pub mod postgres;
pub mod queries;
mod reader;
pub mod tables;
pub mod upgrade;
mod writer;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

pub use check::CheckReport;
pub use commands::{
    AttemptOutcome, Command, PurgeReport, Replayable, ResendRefusal, RetryPolicy, SendLimits,
};
pub use error::StoreError;
pub use idempotency::{IdempotencyKey, IdempotencyRecord, IdempotencyStamp};
pub use reader::{LinkPage, Reader};
pub use writer::Apply;

use crate::config::{PgSettings, WriterSettings};
use postgres::{PgApply, PgFetch};
use queries::Fetch;

/// Where the writer reports each batch: how many commands, how long applying and committing
/// took, and whether it committed. The store owns the reporting point; `metrics` implements
/// it, so the store knows nothing of how batches are counted (and config carries no state).
pub trait WriterObserver: Send + Sync {
    fn record_commit(&self, batch_len: usize, elapsed: Duration, committed: bool);

    /// A committed write queued deliveries that are due at once (a webhook event, a
    /// passcode): whoever sends them may start now instead of at its next interval. Called
    /// after the commit, so the deliveries are durable and visible to a lease.
    fn deliveries_queued(&self) {}
}

/// Nobody listening (admin tools, restore, tests).
impl WriterObserver for () {
    fn record_commit(&self, _: usize, _: Duration, _: bool) {}
}

/// A command both backends apply: what [`Store::write`] takes.
pub trait Write: Apply + PgApply {}
impl<C: Apply + PgApply> Write for C {}

/// A query both backends answer: what [`Store::fetch`] takes.
pub trait Read: Fetch + PgFetch {}
impl<Q: Fetch + PgFetch> Read for Q {}

/// The store every part of the program holds: cheap to clone, shared by every request.
#[derive(Clone)]
pub struct Store {
    backend: Backend,
}

#[derive(Clone)]
enum Backend {
    Embedded(embedded::Embedded),
    Postgres(postgres::Remote),
}

impl Store {
    /// Opens (or creates) the embedded database file and starts its writer thread. The file
    /// is made 0600 first, whatever the umask: it holds recipients' addresses. Fails with
    /// [`StoreError::Locked`] at once if another process holds the file.
    pub fn open(path: &Path, settings: &WriterSettings) -> Result<Store, StoreError> {
        Self::open_observed(path, settings, Arc::new(()))
    }

    /// [`Store::open`], with the writer reporting each batch to `observer` (the server's
    /// metrics).
    pub fn open_observed(
        path: &Path,
        settings: &WriterSettings,
        observer: Arc<dyn WriterObserver>,
    ) -> Result<Store, StoreError> {
        let embedded = embedded::Embedded::open_observed(path, settings, observer)?;
        Ok(Store {
            backend: Backend::Embedded(embedded),
        })
    }

    /// Connects to PostgreSQL and brings its schema to this build's version (under a lock, so
    /// instances starting together migrate once). Refuses a schema newer than this build.
    pub fn connect(settings: &PgSettings) -> Result<(Store, postgres::Migrated), StoreError> {
        Self::connect_observed(settings, Arc::new(()))
    }

    /// [`Store::connect`], with every command's commit reported to `observer`.
    pub fn connect_observed(
        settings: &PgSettings,
        observer: Arc<dyn WriterObserver>,
    ) -> Result<(Store, postgres::Migrated), StoreError> {
        let (remote, migrated) = postgres::Remote::connect(settings, observer)?;
        let backend = Backend::Postgres(remote);
        Ok((Store { backend }, migrated))
    }

    /// Applies one command durably and answers exactly its output. `Ok` means it is on disk
    /// (committed). [`StoreError::Unavailable`] means the disk or the database server failed:
    /// the command may or may not have become durable. Any other `Err` means nothing of it
    /// was written.
    pub async fn write<C: Write>(&self, command: C) -> Result<C::Output, StoreError> {
        match &self.backend {
            Backend::Embedded(e) => e.write(command).await,
            // Boxed: a database round trip's future is large, and without the box every
            // handler's future (embedded too) would carry, and move, its size.
            Backend::Postgres(p) => Box::pin(p.write(command)).await,
        }
    }

    /// [`Store::write`] for synchronous callers (admin commands); not for async contexts.
    pub fn write_blocking<C: Write>(&self, command: C) -> Result<C::Output, StoreError> {
        match &self.backend {
            Backend::Embedded(e) => e.write_blocking(command),
            Backend::Postgres(p) => p.write_blocking(command),
        }
    }

    /// Answers one read ([`queries`]).
    pub async fn fetch<Q: Read>(&self, query: Q) -> Result<Q::Output, StoreError> {
        match &self.backend {
            Backend::Embedded(e) => e.fetch(query).await,
            // Boxed, as in `write`.
            Backend::Postgres(p) => Box::pin(p.fetch(query)).await,
        }
    }

    /// [`Store::fetch`] for synchronous callers (admin commands, start-up).
    pub fn fetch_blocking<Q: Read>(&self, query: Q) -> Result<Q::Output, StoreError> {
        match &self.backend {
            Backend::Embedded(e) => e.fetch_blocking(query),
            Backend::Postgres(p) => p.fetch_blocking(query),
        }
    }

    /// Whether the store can answer and take writes now (readiness): `Err` while a read
    /// fails, the writer has stopped, or the database server cannot be reached.
    pub async fn ready(&self) -> Result<(), NotReady> {
        match &self.backend {
            Backend::Embedded(e) => e.ready(),
            Backend::Postgres(p) => p.ping().await.map_err(|_| NotReady::Unreachable),
        }
    }

    /// The embedded file's read snapshot, for the tools that read it whole (backup, link
    /// gauges, check); `None` on PostgreSQL, whose own tools do that (`pg_dump`, SQL).
    pub fn embedded(&self) -> Option<&embedded::Embedded> {
        match &self.backend {
            Backend::Embedded(e) => Some(e),
            Backend::Postgres(_) => None,
        }
    }

    /// Verifies every index against the records.
    pub fn check(&self) -> Result<CheckReport, StoreError> {
        match &self.backend {
            Backend::Embedded(e) => e.check(),
            Backend::Postgres(p) => p.check_blocking(),
        }
    }

    /// Finishes queued writes and stops the embedded writer thread; a PostgreSQL store has
    /// nothing queued. Idempotent.
    pub fn shutdown(&self) {
        if let Backend::Embedded(e) = &self.backend {
            e.shutdown();
        }
    }

    /// Stops the writer and closes the embedded file so redb records a clean shutdown. Fails
    /// if another handle still shares the store.
    pub fn close(self) -> Result<(), StoreError> {
        match self.backend {
            Backend::Embedded(e) => e.close(),
            Backend::Postgres(_) => Ok(()),
        }
    }
}

/// Why the store is not ready.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotReady {
    /// A write failed on the disk; the file is being reopened (retry after the seconds).
    Reopening { retry_after_secs: u64 },
    /// A read transaction does not open.
    Unreadable,
    /// The writer thread has stopped.
    WriterStopped,
    /// The database server does not answer.
    Unreachable,
}
