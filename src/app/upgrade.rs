//! Start-up upgrade of the embedded file. A file written by an older build is migrated before
//! the store opens it: first a copy of the file is kept beside it (`customerlink.redb.v<N>.bak`,
//! N its old format, 0600), then the steps of `store::upgrade` run in order, each logged.
//! Refused, with a message that says what to do, when the config does not allow migrating
//! (`serve --no-migrate`, admin commands) or when the file is older than any step handles.
//!
//! The backup is a copy of the closed file, not a `customerlink backup` archive: the archive
//! dumps the tables this build declares, which an older format need not have. Rolling back is
//! stopping the server, putting the copy back in place, and starting the older binary.

use std::path::{Path, PathBuf};

use super::StartError;
use crate::config::Config;
use crate::store::tables::SCHEMA_VERSION;
use crate::store::upgrade;

/// Brings the embedded file of `config` to this build's format if it is older (see the module
/// doc). Nothing to do on PostgreSQL (its schema migrates on connect), for a new file, or one
/// of this format; a newer one is left for the store to refuse. Fails before writing anything
/// when migrating is refused or the backup cannot be written.
pub fn prepare(config: &Config) -> Result<(), StartError> {
    if !config.store.is_embedded() {
        return Ok(());
    }
    let path = config.database_path();
    let Some(found) = upgrade::file_version(&path)? else {
        return Ok(());
    };
    if found >= SCHEMA_VERSION {
        return Ok(());
    }
    refuse_unless_allowed(config, &path, found)?;
    let backup = backup_path(&path, found);
    copy_private(&path, &backup).map_err(|error| StartError::Io {
        path: backup.clone(),
        error,
    })?;
    tracing::warn!(
        from = found,
        to = SCHEMA_VERSION,
        backup = %backup.display(),
        "migrating the database to this build's format; the old file is kept as the backup"
    );
    upgrade::migrate(&path, found, &mut |step| {
        tracing::info!(
            from = step.from,
            to = step.from + 1,
            step = step.name,
            "migration step committed"
        );
    })?;
    tracing::info!(format = SCHEMA_VERSION, "database migrated");
    Ok(())
}

fn refuse_unless_allowed(config: &Config, path: &Path, found: u64) -> Result<(), StartError> {
    let oldest = upgrade::oldest_readable();
    if found < oldest {
        return Err(StartError::Upgrade(format!(
            "{}: database format {found} is older than any this build can migrate (it opens \
             formats {oldest} to {SCHEMA_VERSION}): upgrade through an intermediate release first",
            path.display()
        )));
    }
    if !config.migrate {
        return Err(StartError::Upgrade(format!(
            "{}: database format {found} is older than this build's ({SCHEMA_VERSION}) and \
             migrating is not allowed here (serve --no-migrate, or an admin command): start \
             `customerlink serve` without --no-migrate to migrate it (a backup is taken first)",
            path.display()
        )));
    }
    Ok(())
}

/// `customerlink.redb.v<N>.bak` beside the database, N the format it holds.
pub fn backup_path(database: &Path, version: u64) -> PathBuf {
    let mut name = database.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".v{version}.bak"));
    database.with_file_name(name)
}

/// Copies `from` to `to` through a temporary name, synced and 0600, replacing an older copy
/// (left by an upgrade that stopped before its first step committed).
fn copy_private(from: &Path, to: &Path) -> std::io::Result<()> {
    let partial = crate::ops::backup::partial_path(to);
    let _ = std::fs::remove_file(&partial);
    let mut source = std::fs::File::open(from)?;
    let mut target = crate::ops::backup::create_private(&partial)?;
    std::io::copy(&mut source, &mut target)?;
    target.sync_all()?;
    std::fs::rename(&partial, to)?;
    if let Some(dir) = to.parent() {
        std::fs::File::open(dir)?.sync_all()?;
    }
    Ok(())
}
