//! `customerlink migrate --to postgres://…`: copies a stopped embedded store into an empty
//! PostgreSQL database in one transaction and verifies every table's count (the copy itself
//! is `store::postgres::import`, the reading `store::export`; this file only orchestrates and
//! refuses). The file is opened as the server opens it, so a running server's lock refuses
//! the copy; the data folder is left as it was, so going back is starting the old server.

use std::path::PathBuf;

use super::OpsError;
use crate::config::{Config, PgSettings};
use crate::store::export::Export;
use crate::store::postgres::PgStore;
use crate::store::postgres::import::{self, Imported, TableCount};
use crate::store::{Store, StoreError};

/// What a finished copy found.
#[derive(Debug)]
pub struct Migration {
    /// Every redb table (but `meta`) beside the PostgreSQL rows that stand for it.
    pub counts: Vec<TableCount>,
    /// Whether every count matched, and so the copy was committed.
    pub committed: bool,
    /// The next link id the database hands out.
    pub next_link_id: u64,
    /// The master secret the copied hashes are keyed with: every instance needs it.
    pub master_secret: PathBuf,
}

/// Copies the embedded store of `config`'s data folder into the database `to`. Refuses
/// (`OpsError::Refused`, nothing written) when there is no store or no master secret, when
/// a server holds the file, or when the database is not empty. `Err` otherwise means the
/// copy failed and was rolled back; `Ok` with `committed: false` means the counts differ and
/// it was rolled back too.
pub fn migrate(config: &Config, to: &PgSettings) -> Result<Migration, OpsError> {
    let db = config.database_path();
    if !db.exists() {
        return Err(OpsError::Refused(format!(
            "no embedded store at {}",
            db.display()
        )));
    }
    let master_secret = config.master_secret_path();
    if !master_secret.exists() {
        return Err(OpsError::Refused(format!(
            "no master secret at {}: without it the copied links cannot be opened",
            master_secret.display()
        )));
    }
    let store = Store::open(&db, &config.writer).map_err(|e| match e {
        StoreError::Locked => OpsError::Refused(format!(
            "a running server holds {}: stop it first (migrate copies a stopped store)",
            db.display()
        )),
        other => other.into(),
    })?;
    let result = copy(&store, to);
    store.close()?;
    match result? {
        Imported::NotEmpty(tables) => Err(OpsError::Refused(format!(
            "the database {to} is not empty (rows in {}): migrate copies into an empty \
             database only; nothing was written",
            tables.join(", ")
        ))),
        Imported::Copied(copy) => Ok(Migration {
            committed: copy.is_exact(),
            counts: copy.counts,
            next_link_id: copy.next_link_id,
            master_secret,
        }),
    }
}

/// Connects (creating the schema on a new database) and runs the copy on a runtime of its
/// own; the snapshot is dropped before the store closes.
fn copy(store: &Store, to: &PgSettings) -> Result<Imported, OpsError> {
    let export = Export::of(store)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let imported = runtime.block_on(async {
        let (pg, _) = PgStore::connect(to).await?;
        let mut client = pg.client().await?;
        import::import(&mut client, &export).await
    })?;
    Ok(imported)
}
