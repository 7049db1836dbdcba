//! Restore: a backup file becomes a new, working data folder. The whole file is verified
//! first (its hash, its header), so a damaged file is refused before anything is written;
//! then the tables are loaded in transactions of bounded size, the master secret (0600) and
//! config files are written, the sealed attachment files put back (`ops::sealed`), and the
//! result is checked like `customerlink check` does (every attachment opened to its digest
//! under the restored master secret). A target that is not empty is refused; a failed
//! restore removes what it wrote.

use std::fs::File;
use std::io::BufReader;
use std::path::Path;

use redb::Database;

use super::format::{Frame, Header, Reader};
use super::{OpsError, tables};
use crate::config::WriterSettings;
use crate::store::tables::SCHEMA_VERSION;
use crate::store::upgrade;
use crate::store::{CheckReport, Store};

/// Entries per write transaction while loading.
const LOAD_BATCH: usize = 50_000;

fn open(path: &Path) -> Result<Reader<BufReader<File>>, OpsError> {
    Reader::new(BufReader::with_capacity(1 << 20, File::open(path)?))
}

/// Reads the whole file and checks its hash and header; returns the header.
pub fn verify(path: &Path) -> Result<Header, OpsError> {
    let mut reader = open(path)?;
    let mut header = None;
    loop {
        match reader.next_frame()? {
            Frame::Header(h) => header = Some(h),
            Frame::End => break,
            _ => {}
        }
    }
    let header = header.ok_or_else(|| OpsError::Format("no header".into()))?;
    if header.schema_version > SCHEMA_VERSION {
        return Err(OpsError::Format(format!(
            "database format {} is newer than this build understands ({SCHEMA_VERSION})",
            header.schema_version
        )));
    }
    Ok(header)
}

/// Restores `backup` into `dir` (created if missing; must be empty). Returns the check report
/// of the restored database.
pub fn restore(
    backup: &Path,
    dir: &Path,
    settings: &WriterSettings,
    progress: super::backup::Progress<'_>,
) -> Result<CheckReport, OpsError> {
    let header = verify(backup)?;
    let existed = dir.exists();
    if existed && std::fs::read_dir(dir)?.next().is_some() {
        return Err(OpsError::Refused(format!(
            "{} is not empty; restore only into a new or empty folder",
            dir.display()
        )));
    }
    crate::private_fs::dir(dir)?;
    let total = header.tables.iter().map(|(_, n)| n).sum();
    let result = load(backup, dir, total, progress)
        .and_then(|files| expect_files(&header, files))
        .and_then(|()| check(dir, settings));
    if result.is_err() {
        clear(dir, existed);
    }
    result
}

/// Every attachment the header announces came with its file.
fn expect_files(header: &Header, files: u64) -> Result<(), OpsError> {
    if files != header.attachments {
        return Err(OpsError::Format(format!(
            "{files} attachment files for {} attachments",
            header.attachments
        )));
    }
    Ok(())
}

/// Loads the tables and writes the files; answers how many attachment files it wrote.
fn load(
    backup: &Path,
    dir: &Path,
    total: u64,
    progress: super::backup::Progress<'_>,
) -> Result<u64, OpsError> {
    let path = dir.join("customerlink.redb");
    crate::private_fs::file(&path)?;
    let db = Database::builder()
        .set_cache_size(64 << 20)
        .create(path)
        .map_err(|e| OpsError::Store(crate::store::StoreError::Io(e.to_string())))?;
    let mut reader = open(backup)?;
    let mut loader = Loader {
        db: &db,
        table: None,
        pending: Vec::new(),
        done: 0,
    };
    let mut sealed = super::sealed::Restorer::new(dir);
    loop {
        match reader.next_frame()? {
            Frame::Secret(secret) => {
                super::write_private(&dir.join(crate::config::MASTER_SECRET_FILE), &secret)?
            }
            Frame::File { name, contents } => write_folder_file(dir, &name, &contents)?,
            Frame::Table(name) => {
                loader.flush()?;
                let codec = tables::find(&name)
                    .ok_or_else(|| OpsError::Format(format!("unknown table {name}")))?;
                loader.table = Some(codec);
            }
            Frame::Entry { key, value } => {
                loader.pending.push((key, value));
                if loader.pending.len() >= LOAD_BATCH {
                    loader.flush()?;
                    progress(loader.done, total);
                }
            }
            Frame::Sealed { id, bytes } => sealed.piece(id, &bytes)?,
            Frame::Header(_) => {}
            Frame::End => break,
        }
    }
    loader.flush()?;
    sealed.finish()?;
    progress(loader.done, total);
    drop(loader);
    db.close()
        .map_err(|e| OpsError::Store(crate::store::StoreError::Io(e.to_string())))?;
    Ok(sealed.files)
}

/// Only the known config files, by bare name (a backup cannot write elsewhere).
fn write_folder_file(dir: &Path, name: &str, contents: &[u8]) -> Result<(), OpsError> {
    if !super::backup::FOLDER_FILES.contains(&name) {
        return Err(OpsError::Format(format!("unexpected file {name}")));
    }
    super::write_private(&dir.join(name), contents)?;
    Ok(())
}

struct Loader<'a> {
    db: &'a Database,
    table: Option<&'static dyn tables::TableCodec>,
    pending: Vec<(Vec<u8>, Vec<u8>)>,
    done: u64,
}

impl Loader<'_> {
    fn flush(&mut self) -> Result<(), OpsError> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let table = self
            .table
            .ok_or_else(|| OpsError::Format("an entry before any table".into()))?;
        let txn = self.db.begin_write()?;
        table.load(&txn, &self.pending)?;
        txn.commit()?;
        self.done += self.pending.len() as u64;
        self.pending.clear();
        Ok(())
    }
}

/// Checks the restored folder, after bringing a database of an older format to this build's
/// (the backup file is the copy of the old one; `app::upgrade` keeps one for a live folder).
fn check(dir: &Path, settings: &WriterSettings) -> Result<CheckReport, OpsError> {
    let master = super::read_master_secret(&dir.join(crate::config::MASTER_SECRET_FILE))?;
    let wrap = crate::domain::token::HashKeys::derive(&master).attachment_wrap();
    let runtime = tokio::runtime::Builder::new_current_thread().build()?;
    let database = dir.join("customerlink.redb");
    if let Some(found) = upgrade::file_version(&database)?.filter(|v| *v < SCHEMA_VERSION) {
        upgrade::migrate(&database, found, &mut |_| {})?;
    }
    let store = Store::open(&database, settings)?;
    let report = store.check().and_then(|mut report| {
        let (_, problems) = runtime.block_on(store.check_attachments(&wrap))?;
        report.problems.extend(problems);
        Ok(report)
    });
    store.close()?;
    let report = report?;
    if !report.is_consistent() {
        return Err(OpsError::Format(format!(
            "the restored database is inconsistent: {:?}",
            report.problems
        )));
    }
    Ok(report)
}

/// Removes what a failed restore wrote.
fn clear(dir: &Path, existed: bool) {
    if !existed {
        let _ = std::fs::remove_dir_all(dir);
        return;
    }
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            let path = entry.path();
            let _ = match path.is_dir() {
                true => std::fs::remove_dir_all(path),
                false => std::fs::remove_file(path),
            };
        }
    }
}
