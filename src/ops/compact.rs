//! Offline compaction: redb's `Database::compact` moves pages toward the start of the file and
//! truncates it; one call may not finish the job (redb #934), so it repeats while it makes
//! progress. Needs the database to itself: with a server running it fails at once.

use std::path::Path;

use redb::Database;

use super::OpsError;
use crate::store::StoreError;

/// What compaction did.
#[derive(Debug, Clone, Copy)]
pub struct Compacted {
    pub before: u64,
    pub after: u64,
    pub rounds: u32,
}

/// Upper bound on rounds (each is a full pass; progress normally stops after a few).
const MAX_ROUNDS: u32 = 32;

/// Compacts the database file at `path`.
pub fn compact(path: &Path) -> Result<Compacted, OpsError> {
    if !path.exists() {
        return Err(OpsError::Refused(format!(
            "no database at {}",
            path.display()
        )));
    }
    let before = std::fs::metadata(path)?.len();
    let mut db = Database::builder()
        .set_cache_size(64 << 20)
        .open(path)
        .map_err(|e| match e {
            redb::DatabaseError::DatabaseAlreadyOpen => OpsError::Store(StoreError::Locked),
            other => OpsError::Store(StoreError::Io(other.to_string())),
        })?;
    let mut rounds = 0;
    while rounds < MAX_ROUNDS {
        match db.compact() {
            Ok(true) => rounds += 1,
            Ok(false) => break,
            Err(e) => return Err(OpsError::Store(StoreError::Io(e.to_string()))),
        }
    }
    db.close()
        .map_err(|e| OpsError::Store(StoreError::Io(e.to_string())))?;
    let after = std::fs::metadata(path)?.len();
    Ok(Compacted {
        before,
        after,
        rounds,
    })
}
