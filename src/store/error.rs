//! The store's one error type. Rejections that are part of normal operation (a link that does
//! not exist) are not errors: they are values of each command's `Output` (`commands`).

/// What can go wrong below the domain.
#[derive(Debug, Clone)]
pub enum StoreError {
    /// Another process (usually the running server) holds the database file.
    Locked,
    /// The file or disk failed; the detail is for logs, never for clients.
    Io(String),
    /// A stored value could not be decoded: the file is damaged or from an unknown version.
    Corrupt(String),
    /// The writer has stopped (shutdown in progress).
    Closed,
    /// A write failed on the disk (full, or an I/O error) and the database is being reopened,
    /// or the PostgreSQL server cannot be reached; nothing is accepted until that is over. A
    /// write answered with this may still have become durable (redb's commit contract; a lost
    /// COMMIT reply), which is why creates take an idempotency key.
    Unavailable { retry_after_secs: u64 },
    /// A concurrent transaction (another instance) touched the same rows and the database
    /// aborted this one (PostgreSQL's serialization failure or deadlock); nothing of it was
    /// written, and running it again is safe.
    Conflict,
}

impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StoreError::Locked => f.write_str(
                "the database is in use by another customerlink process (stop the server first)",
            ),
            StoreError::Io(e) => write!(f, "storage error: {e}"),
            StoreError::Corrupt(e) => write!(f, "corrupt record: {e}"),
            StoreError::Closed => f.write_str("the store is shutting down"),
            StoreError::Conflict => {
                f.write_str("a concurrent transaction changed the same records; retry")
            }
            StoreError::Unavailable { .. } => f.write_str(
                "storage is unavailable (disk full, an I/O error, or the database server \
                 unreachable): retry shortly (the failed write may or may not have been applied)",
            ),
        }
    }
}

impl std::error::Error for StoreError {}

impl StoreError {
    /// Whether this error, met while applying a command, fails its whole batch: the disk or
    /// the handle failed, not the command (a damaged record rejects only its command).
    pub(super) fn fails_batch(&self) -> bool {
        matches!(self, StoreError::Io(_) | StoreError::Unavailable { .. })
    }

    pub(super) fn from_open(e: redb::DatabaseError) -> Self {
        match e {
            redb::DatabaseError::DatabaseAlreadyOpen => StoreError::Locked,
            other => StoreError::Io(other.to_string()),
        }
    }
}

/// A handle closed after a fault, or one whose earlier I/O failed, means "reopening": the
/// caller may retry. Every other redb error is an I/O error for the log.
macro_rules! io_from {
    ($($t:ty),*) => {$(
        impl From<$t> for StoreError {
            fn from(e: $t) -> Self {
                match redb::Error::from(e) {
                    redb::Error::DatabaseClosed | redb::Error::PreviousIo => {
                        StoreError::Unavailable { retry_after_secs: 1 }
                    }
                    other => StoreError::Io(other.to_string()),
                }
            }
        }
    )*};
}

io_from!(
    redb::Error,
    redb::StorageError,
    redb::TableError,
    redb::TransactionError,
    redb::CommitError
);
