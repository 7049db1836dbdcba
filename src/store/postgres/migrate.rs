//! Versioned schema migrations, embedded in the binary so an instance never depends on files
//! beside it. All pending steps run in ONE transaction under a transaction-scoped advisory
//! lock: instances starting together queue on the lock, the first applies, the others then
//! find nothing to do; a failed step leaves the database as it was. Each applied step is a row
//! of `schema_version`. A database whose version is newer than this build knows is refused
//! (an older instance must not write records it does not understand).

use tokio_postgres::Client;

use super::fault;
use crate::store::StoreError;

/// One embedded step: its number (consecutive from 1), a name, and its SQL.
pub struct Migration {
    pub version: i32,
    pub name: &'static str,
    pub sql: &'static str,
}

/// Every step this build knows, in order.
pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "schema",
        sql: include_str!("migrations/001_schema.sql"),
    },
    Migration {
        version: 2,
        name: "attachments",
        sql: include_str!("migrations/002_attachments.sql"),
    },
    Migration {
        version: 3,
        name: "attachment retire",
        sql: include_str!("migrations/003_attachment_retire.sql"),
    },
    Migration {
        version: 4,
        name: "access log chain",
        sql: include_str!("migrations/004_access_log_chain.sql"),
    },
    Migration {
        version: 5,
        name: "webhooks",
        sql: include_str!("migrations/005_webhooks.sql"),
    },
    Migration {
        version: 6,
        name: "locale and branding",
        sql: include_str!("migrations/006_locale_branding.sql"),
    },
];

/// The schema version this build writes.
pub fn latest() -> i32 {
    MIGRATIONS.last().map_or(0, |m| m.version)
}

/// Key of the advisory lock that serialises migrations ("clschema" in ASCII), the same in
/// every instance and distinct from any lock the commands take.
pub const LOCK_KEY: i64 = 0x636c_7363_6865_6d61;

/// The table of applied steps; created here, before any step, so it can be read.
const VERSION_TABLE: &str = "CREATE TABLE IF NOT EXISTS schema_version (
    version    integer     PRIMARY KEY,
    name       text        NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
)";

/// What a run found and left: `from == to` when there was nothing to apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Migrated {
    pub from: i32,
    pub to: i32,
}

/// Brings the database to the last of `steps` (the server passes [`MIGRATIONS`]; tests a
/// longer list); see the module doc.
pub async fn run_steps(client: &mut Client, steps: &[Migration]) -> Result<Migrated, StoreError> {
    let pg = |e: tokio_postgres::Error| fault::from_pg(&e);
    let txn = client.transaction().await.map_err(pg)?;
    // Waiting for another instance's migration, or a long step, is not a stuck statement.
    txn.batch_execute("SET LOCAL statement_timeout = 0")
        .await
        .map_err(pg)?;
    txn.execute("SELECT pg_advisory_xact_lock($1)", &[&LOCK_KEY])
        .await
        .map_err(pg)?;
    txn.batch_execute(VERSION_TABLE).await.map_err(pg)?;
    let row = txn
        .query_one("SELECT coalesce(max(version), 0) FROM schema_version", &[])
        .await
        .map_err(pg)?;
    let from: i32 = row.get(0);
    let known = steps.last().map_or(0, |m| m.version);
    if from > known {
        return Err(newer(from, known));
    }
    for step in steps.iter().filter(|m| m.version > from) {
        txn.batch_execute(step.sql)
            .await
            .map_err(|e| failed_step(step, &e))?;
        txn.execute(
            "INSERT INTO schema_version (version, name) VALUES ($1, $2)",
            &[&step.version, &step.name],
        )
        .await
        .map_err(pg)?;
    }
    txn.commit().await.map_err(pg)?;
    Ok(Migrated { from, to: known })
}

/// The refusal to run on a newer schema, naming both versions.
fn newer(found: i32, known: i32) -> StoreError {
    StoreError::Corrupt(format!(
        "the database schema is version {found}, newer than this build knows ({known}): \
         run a customerlink at least as new as the one that migrated it"
    ))
}

/// A step that failed: its name, and the server's reason (or "unavailable" if it went away).
fn failed_step(step: &Migration, e: &tokio_postgres::Error) -> StoreError {
    match fault::from_pg(e) {
        StoreError::Io(detail) => StoreError::Io(format!(
            "schema migration {:03}_{}: {detail}",
            step.version, step.name
        )),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_consecutive_from_one() {
        for (i, m) in MIGRATIONS.iter().enumerate() {
            assert_eq!(usize::try_from(m.version).ok(), Some(i + 1), "{}", m.name);
            assert!(!m.sql.trim().is_empty());
        }
        assert_eq!(usize::try_from(latest()).ok(), Some(MIGRATIONS.len()));
    }

    #[test]
    fn the_steps_have_a_counterpart_of_every_redb_table() {
        let sql: String = MIGRATIONS.iter().map(|m| m.sql).collect();
        let words: std::collections::HashSet<&str> = sql
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .collect();
        for (table, _, _) in crate::store::tables::ALL {
            if *table == "meta" {
                continue; // counters: a sequence and identity columns
            }
            assert!(
                words.contains(table),
                "{table} is not named in any migration"
            );
        }
    }
}
