//! Backup: everything a restore needs — every table, the master secret and the data folder's
//! config files — written from ONE read snapshot, so the copy is consistent while writes go
//! on. The server streams it from `GET /admin/backup`; `customerlink backup` writes it to a
//! file (0600: it holds the master secret) and verifies it before it calls it done. With no
//! server running, the command takes the snapshot itself. The sealed files of the snapshot's
//! attachments follow the tables (`ops::sealed`), kept on disk by the snapshot's pin.

use std::io::{self, Write};
use std::path::Path;

use bytes::Bytes;
use redb::ReadTransaction;
use tokio::sync::mpsc;

use super::format::{Header, Writer};
use super::{OpsError, tables};
use crate::config::Config;
use crate::domain::UnixMillis;
use crate::domain::token::Secret;
use crate::store::file_pins::Pin;
use crate::store::tables::SCHEMA_VERSION;

/// Config files of the data folder that travel with the backup (when present).
pub const FOLDER_FILES: &[&str] = &["customerlink.toml", "policy.toml", "templates.toml"];

/// Called every so many entries with (entries written, entries in the snapshot).
pub type Progress<'a> = &'a mut dyn FnMut(u64, u64);

/// What a backup held.
#[derive(Debug, Clone, Copy, Default)]
pub struct Summary {
    pub entries: u64,
    pub bytes: u64,
    /// Attachments whose sealed files the backup carries.
    pub attachments: u64,
}

/// Everything besides the tables that goes into a backup.
pub struct Extras {
    pub master: Secret<[u8; 32]>,
    pub files: Vec<(String, Vec<u8>)>,
    pub created_at: UnixMillis,
    /// The folder of the sealed attachment files.
    pub attachments: std::path::PathBuf,
}

impl Extras {
    /// Reads the master secret and the folder's config files.
    pub fn gather(config: &Config, created_at: UnixMillis) -> Result<Extras, OpsError> {
        let master = super::read_master_secret(&config.master_secret_path())?;
        let mut files = Vec::new();
        for name in FOLDER_FILES {
            match std::fs::read(config.data_dir.join(name)) {
                Ok(contents) => files.push(((*name).to_owned(), contents)),
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(Extras {
            master,
            files,
            created_at,
            attachments: crate::store::attachments::folder(&config.database_path()),
        })
    }
}

/// Entries in the snapshot's tables (for progress).
pub fn count(txn: &ReadTransaction) -> Result<u64, OpsError> {
    tables::all().iter().map(|t| t.len(txn)).sum()
}

/// Writes the whole snapshot to `out`.
pub fn write(
    txn: &ReadTransaction,
    extras: &Extras,
    out: impl Write,
    progress: Progress<'_>,
) -> Result<Summary, OpsError> {
    tables::check_covered(txn)?;
    let mut counts = Vec::new();
    for t in tables::all() {
        counts.push((t.name().to_owned(), t.len(txn)?));
    }
    let total = counts.iter().map(|(_, n)| n).sum();
    let attachments = super::sealed::list(txn)?;
    let mut w = Writer::new(out)?;
    w.header(&Header {
        format: super::format::FORMAT_VERSION,
        schema_version: SCHEMA_VERSION,
        created_at_ms: extras.created_at.as_i64(),
        tables: counts,
        producer: format!("customerlink {}", env!("CARGO_PKG_VERSION")),
        attachments: attachments.len() as u64,
    })?;
    w.secret(extras.master.expose())?;
    for (name, contents) in &extras.files {
        w.file(name, contents)?;
    }
    let mut done = 0u64;
    for t in tables::all() {
        w.table(t.name())?;
        t.dump(txn, &mut |k, v| {
            done += 1;
            if done.is_multiple_of(65_536) {
                progress(done, total);
            }
            w.entry(k, v)
        })?;
    }
    progress(done, total);
    super::sealed::copy_all(&attachments, &extras.attachments, &mut w)?;
    let bytes = w.bytes;
    w.finish()?;
    Ok(Summary {
        entries: done,
        bytes: bytes + 37,
        attachments: attachments.len() as u64,
    })
}

/// Writes a backup file (0600, via a temporary name, synced, then verified) from a snapshot.
pub fn to_file(
    txn: &ReadTransaction,
    extras: &Extras,
    path: &Path,
    progress: Progress<'_>,
) -> Result<Summary, OpsError> {
    let partial = partial_path(path);
    let _ = std::fs::remove_file(&partial);
    let file = create_private(&partial)?;
    let result = write(
        txn,
        extras,
        io::BufWriter::with_capacity(1 << 20, file),
        progress,
    )
    .and_then(|summary| finish_file(&partial, path).map(|_| summary));
    if result.is_err() {
        let _ = std::fs::remove_file(&partial);
    }
    result
}

/// `FILE.partial`, where a backup is written before it is verified and renamed.
pub fn partial_path(path: &Path) -> std::path::PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".partial");
    path.with_file_name(name)
}

/// A new file only its owner can read (replacing a stale partial).
pub fn create_private(path: &Path) -> io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)
}

/// Syncs the partial file, verifies it end to end, and renames it into place; answers its
/// header.
pub fn finish_file(partial: &Path, path: &Path) -> Result<Header, OpsError> {
    std::fs::File::open(partial)?.sync_all()?;
    let header = super::restore::verify(partial)?;
    std::fs::rename(partial, path)?;
    Ok(header)
}

/// Streams a backup of `txn` as chunks on a channel, from a blocking thread (the snapshot is
/// never held across an `.await`); `pin` keeps the snapshot's attachment files on disk until
/// the stream ends. A failure mid-way ends the stream with an error.
pub fn stream(txn: ReadTransaction, pin: Pin, extras: Extras) -> mpsc::Receiver<io::Result<Bytes>> {
    let (tx, rx) = mpsc::channel(8);
    tokio::task::spawn_blocking(move || {
        let _pin = pin;
        let mut sink = ChannelWriter {
            tx: tx.clone(),
            buf: Vec::with_capacity(CHUNK),
        };
        match write(&txn, &extras, &mut sink, &mut |_, _| {}) {
            Ok(summary) => tracing::info!(
                entries = summary.entries,
                bytes = summary.bytes,
                attachments = summary.attachments,
                "backup streamed"
            ),
            Err(e) => {
                tracing::warn!(error = %e, "backup stream ended early");
                let _ = tx.blocking_send(Err(io::Error::other("backup failed")));
            }
        }
    });
    rx
}

const CHUNK: usize = 256 * 1024;

/// `Write` into a bounded channel; a gone receiver (client hung up) stops the backup.
struct ChannelWriter {
    tx: mpsc::Sender<io::Result<Bytes>>,
    buf: Vec<u8>,
}

impl Write for ChannelWriter {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= CHUNK {
            self.flush()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK)));
        self.tx
            .blocking_send(Ok(chunk))
            .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "backup client went away"))
    }
}
