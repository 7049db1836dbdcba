//! ops: the operator's tools — tenants and API keys (`admin`, also used by the first-start
//! bootstrap), and those that work on a whole data folder: a consistent backup from one
//! read snapshot (offline, or streamed by the running server), restore into a new folder,
//! offline compaction, the copy of a stopped store into PostgreSQL (`migrate`), and the operator key that lets `customerlink backup` and
//! `customerlink key revoke` reach the server that holds the database lock. The backup format is documented in `docs/storage.md`.

pub mod admin;
pub mod backup;
pub mod compact;
pub mod evidence;
mod format;
pub mod migrate;
pub mod operator;
mod remote;
pub mod restore;
mod sealed;
mod tables;

use std::path::Path;

use crate::config::Config;
use crate::domain::UnixMillis;
use crate::domain::token::Secret;
use crate::store::StoreError;

/// Why an operator tool failed.
#[derive(Debug, thiserror::Error)]
pub enum OpsError {
    #[error(transparent)]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The backup file is damaged, truncated, or not a backup.
    #[error("not a usable backup: {0}")]
    Format(String),
    /// The request cannot be carried out as asked (e.g. a non-empty restore target).
    #[error("{0}")]
    Refused(String),
}

macro_rules! store_from {
    ($($t:ty),*) => {$(
        impl From<$t> for OpsError {
            fn from(e: $t) -> Self {
                OpsError::Store(StoreError::from(e))
            }
        }
    )*};
}

store_from!(
    redb::StorageError,
    redb::TableError,
    redb::TransactionError,
    redb::CommitError
);

/// Reads the 32-byte master secret.
pub fn read_master_secret(path: &Path) -> Result<Secret<[u8; 32]>, OpsError> {
    let bytes = std::fs::read(path)?;
    let bytes: [u8; 32] = bytes.try_into().map_err(|_| {
        OpsError::Refused(format!("{} is not a 32-byte master secret", path.display()))
    })?;
    Ok(Secret::new(bytes))
}

pub use crate::private_fs::write_private;

/// How a backup was taken.
#[derive(Debug, Clone, Copy)]
pub enum Via {
    /// No server held the database; the command read it itself.
    Offline,
    /// Streamed by the server running on the data folder.
    Server(std::net::SocketAddr),
}

/// Backs up the data folder of `config` into `file`: directly when no server holds the
/// database, else through the running server with the operator key it published.
pub fn backup_folder(
    config: &Config,
    file: &Path,
    now: UnixMillis,
) -> Result<(backup::Summary, Via), OpsError> {
    let db = config.database_path();
    if !db.exists() {
        return Err(OpsError::Refused(format!(
            "no database at {}",
            db.display()
        )));
    }
    let mut shown = 0;
    let mut progress = |done: u64, total: u64| {
        if done >= shown + 250_000 || done == total {
            shown = done;
            eprintln!("backup: {done}/{total} entries");
        }
    };
    match crate::store::Store::open(&db, &config.writer) {
        Ok(store) => {
            let extras = backup::Extras::gather(config, now)?;
            let Some(embedded) = store.embedded() else {
                return Err(OpsError::Refused("not an embedded store".into()));
            };
            let result = embedded
                .pinned_snapshot()
                .map_err(OpsError::from)
                .and_then(|(txn, _pin)| backup::to_file(&txn, &extras, file, &mut progress));
            store.close()?;
            Ok((result?, Via::Offline))
        }
        Err(StoreError::Locked) => {
            let (addr, key) = operator_channel(config)?;
            Ok((remote::fetch(addr, &key, file)?, Via::Server(addr)))
        }
        Err(e) => Err(e.into()),
    }
}

/// Where the server holding the data folder listens, and the operator key it published.
fn operator_channel(config: &Config) -> Result<(std::net::SocketAddr, String), OpsError> {
    let addr = operator::server_address(&config.data_dir).unwrap_or(config.listen);
    let key_path = config.data_dir.join(operator::OPERATOR_KEY_FILE);
    let key = operator::read_key(&key_path).map_err(|e| {
        OpsError::Refused(format!(
            "the database is in use, but the operator key {} cannot be read ({e})",
            key_path.display()
        ))
    })?;
    Ok((addr, key))
}

/// On a shared database no file lock says whether a server runs with this data folder: the
/// one that published its address there, if it answers, revokes the key (and forgets it at
/// once); otherwise the caller revokes it in the database directly (other instances then
/// refuse it within `postgres.key_cache_secs`).
fn revoke_through_running_server(
    config: &Config,
    key_id: uuid::Uuid,
) -> Option<std::net::SocketAddr> {
    let addr = operator::server_address(&config.data_dir)?;
    let key_path = config.data_dir.join(operator::OPERATOR_KEY_FILE);
    let key = operator::read_key(&key_path).ok()?;
    remote::revoke_key(addr, &key, key_id).ok().map(|()| addr)
}

/// Revokes an API key through the server that holds the data folder, if one does:
/// `Ok(Some(address))` once the revocation is durable and the server refuses the key.
/// `Ok(None)` when no server holds the database, for the caller to revoke it directly.
pub fn revoke_key_online(
    config: &Config,
    key_id: uuid::Uuid,
) -> Result<Option<std::net::SocketAddr>, OpsError> {
    if !config.store.is_embedded() {
        return Ok(revoke_through_running_server(config, key_id));
    }
    let db = config.database_path();
    if !db.exists() {
        return Ok(None);
    }
    match crate::store::Store::open(&db, &config.writer) {
        Ok(store) => {
            store.close()?;
            Ok(None)
        }
        Err(StoreError::Locked) => {
            let (addr, key) = operator_channel(config)?;
            remote::revoke_key(addr, &key, key_id)?;
            Ok(Some(addr))
        }
        Err(e) => Err(e.into()),
    }
}
