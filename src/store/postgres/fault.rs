//! PostgreSQL and pool errors as [`StoreError`]s. What a retry can cure — the server
//! unreachable, restarting or shutting down, the pool exhausted, a statement cancelled by its
//! timeout, a serialization conflict — is `Unavailable` (the API answers 503 + `Retry-After`);
//! the rest is `Io` for the log. The connection's password is never part of either: the URL is
//! never handed to the driver as text, and its errors do not quote the configuration.

use deadpool_postgres::PoolError;
use tokio_postgres::error::SqlState;

use crate::store::StoreError;

/// Seconds a client is told to wait before retrying after a connection fault.
const RETRY_AFTER_SECS: u64 = 1;

/// SQLSTATEs a retry can cure.
const TRANSIENT: &[SqlState] = &[
    SqlState::ADMIN_SHUTDOWN,
    SqlState::CRASH_SHUTDOWN,
    SqlState::CANNOT_CONNECT_NOW,
    SqlState::TOO_MANY_CONNECTIONS,
    SqlState::QUERY_CANCELED,
    SqlState::READ_ONLY_SQL_TRANSACTION,
];

/// SQLSTATEs of a transaction aborted for another's sake: run it again.
const CONFLICTS: &[SqlState] = &[
    SqlState::T_R_SERIALIZATION_FAILURE,
    SqlState::T_R_DEADLOCK_DETECTED,
];

/// The retryable answer.
pub fn unavailable() -> StoreError {
    StoreError::Unavailable {
        retry_after_secs: RETRY_AFTER_SECS,
    }
}

/// [`from_pg`] by value, for `.map_err(pg)`.
pub fn pg(e: tokio_postgres::Error) -> StoreError {
    from_pg(&e)
}

/// Classifies a driver error.
pub fn from_pg(e: &tokio_postgres::Error) -> StoreError {
    if CONFLICTS.contains(e.code().unwrap_or(&SqlState::SUCCESSFUL_COMPLETION)) {
        return StoreError::Conflict;
    }
    if is_transient(e) {
        return unavailable();
    }
    StoreError::Io(format!("postgres: {}", describe(e)))
}

/// Classifies a pool error: a wait past `connect_timeout` means "unavailable".
pub fn from_pool(e: &PoolError) -> StoreError {
    match e {
        PoolError::Timeout(_) => unavailable(),
        PoolError::Backend(e) => from_pg(e),
        PoolError::Closed => StoreError::Closed,
        other => StoreError::Io(format!("postgres pool: {}", describe(other))),
    }
}

/// The constraint a unique violation names, so a command can tell "someone else wrote this
/// key first" (another instance) from a failure.
pub fn unique_violation(e: &tokio_postgres::Error) -> Option<&str> {
    let db = e.as_db_error()?;
    (db.code() == &SqlState::UNIQUE_VIOLATION).then(|| db.constraint().unwrap_or_default())
}

/// Whether the connection broke (closed, refused, reset: no server answer at all) or the
/// server answered with a retryable SQLSTATE (class 08 is "connection exception").
fn is_transient(e: &tokio_postgres::Error) -> bool {
    match e.code() {
        Some(code) => TRANSIENT.contains(code) || code.code().starts_with("08"),
        None => e.is_closed() || io_source(e),
    }
}

/// Whether the error comes from the socket (connect refused, reset) or is the driver's own
/// timeout. A failed TLS handshake (a certificate that does not verify) is not: retrying
/// cannot cure it, and it must reach the log as itself.
fn io_source(e: &tokio_postgres::Error) -> bool {
    if e.to_string() == "error performing TLS handshake" {
        return false;
    }
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        if s.is::<std::io::Error>() {
            return true;
        }
        source = s.source();
    }
    e.to_string() == "timeout waiting for server"
}

/// The error with its causes (the driver's `Display` leaves them out: "db error").
pub fn describe(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}
