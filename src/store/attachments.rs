//! Sealed attachment bytes, on either backend, behind one interface: an [`Upload`] takes the
//! sealed header and chunks as they are produced and [`Upload::commit`]s the record only once
//! the bytes are durable; [`Store::sealed_piece`] reads piece `n` back (0 the header, 1.. the
//! chunks), so a download streams one chunk at a time.
//!
//! Embedded: `<data>/attachments/` (0700), one `<id>.sealed` file (0600) per attachment:
//! written to `.<id>.tmp`, fsynced, renamed, the directory fsynced, and only then the record
//! committed. A crash leaves at most a temp file (or, after a delete, a file without a
//! record); [`Store::sweep_attachments`] removes both at start. PostgreSQL: each chunk is a row
//! inserted as it is sealed, the record (with the header) inserted after checking every chunk
//! is there; chunks without a record are swept after an hour.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use uuid::Uuid;

use super::commands::SweepAttachmentChunks;
use super::commands::{PutAttachment, PutAttachmentChunk};
use super::queries::{AllAttachments, AttachmentChunk};
use super::{Backend, Store, StoreError};
use crate::attachment::seal::{HEADER, SEALED_CHUNK, chunk_count};
use crate::domain::attachment::AttachmentRecord;

/// The attachments folder beside the embedded database file.
pub fn folder(database: &Path) -> PathBuf {
    database
        .parent()
        .unwrap_or_else(|| Path::new("."))
        .join("attachments")
}

/// The sealed file of an attachment.
pub fn file_of(folder: &Path, id: Uuid) -> PathBuf {
    folder.join(format!("{}.sealed", id.simple()))
}

fn io(path: &Path, e: std::io::Error) -> StoreError {
    StoreError::Io(format!("{}: {e}", path.display()))
}

/// An upload in progress; dropped without [`Upload::commit`], it leaves nothing visible (the
/// temp file is removed; PostgreSQL chunks without a record are swept).
pub struct Upload {
    id: Uuid,
    kind: Kind,
    chunks: i64,
}

enum Kind {
    File {
        tmp: PathBuf,
        path: PathBuf,
        dir: PathBuf,
        file: Option<File>,
    },
    Postgres {
        header: Vec<u8>,
    },
}

impl Store {
    /// Starts storing attachment `id`, whose sealed header is `header`.
    pub fn begin_upload(&self, id: Uuid, header: &[u8]) -> Result<Upload, StoreError> {
        let kind = match &self.backend {
            Backend::Embedded(e) => {
                let dir = e.attachments_dir().to_owned();
                crate::private_fs::dir(&dir).map_err(|err| io(&dir, err))?;
                let tmp = dir.join(format!(".{}.tmp", id.simple()));
                let mut options = std::fs::OpenOptions::new();
                options.write(true).create_new(true);
                #[cfg(unix)]
                std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
                let mut file = options.open(&tmp).map_err(|err| io(&tmp, err))?;
                file.write_all(header).map_err(|err| io(&tmp, err))?;
                Kind::File {
                    path: file_of(&dir, id),
                    tmp,
                    dir,
                    file: Some(file),
                }
            }
            Backend::Postgres(_) => Kind::Postgres {
                header: header.to_vec(),
            },
        };
        Ok(Upload {
            id,
            kind,
            chunks: 0,
        })
    }

    /// Piece `n` of a stored attachment: 0 the sealed header, 1.. the sealed chunks; `None`
    /// past the end or when the bytes are missing.
    pub async fn sealed_piece(&self, id: Uuid, n: u64) -> Result<Option<Vec<u8>>, StoreError> {
        match &self.backend {
            Backend::Embedded(e) => read_piece(&file_of(e.attachments_dir(), id), n),
            Backend::Postgres(_) => {
                let n = i64::try_from(n).map_err(|_| StoreError::Conflict)?;
                self.fetch(AttachmentChunk { id, n }).await
            }
        }
    }

    /// Removes an attachment's bytes once its record is gone (embedded: the file, or later if a
    /// backup is copying the folder; PostgreSQL: the record's removal took the chunks).
    pub fn discard_attachment(&self, id: Uuid) -> Result<(), StoreError> {
        if let Backend::Embedded(e) = &self.backend {
            let path = file_of(e.attachments_dir(), id);
            e.remove_file(path.clone()).map_err(|err| io(&path, err))?;
        }
        Ok(())
    }
}

/// The length of the sealed file of `size` plaintext bytes: the header, then every chunk with
/// its tag.
pub fn sealed_len(size: u64) -> u64 {
    HEADER as u64 + size + chunk_count(size) * crate::attachment::seal::TAG as u64
}

/// Every attachment a snapshot of the embedded file holds, as (id, length of its sealed file),
/// for a backup to copy the files of exactly those. Fails on a record that does not decode.
pub fn in_snapshot(txn: &redb::ReadTransaction) -> Result<Vec<(Uuid, u64)>, StoreError> {
    use redb::ReadableTable;
    let table = txn.open_table(super::tables::ATTACHMENTS)?;
    let mut found = Vec::new();
    for entry in table.iter()? {
        let (_, v) = entry?;
        let record: AttachmentRecord = super::codec::decode(v.value())?;
        found.push((record.id, sealed_len(record.size)));
    }
    Ok(found)
}

/// Piece `n` of the sealed file at `path` (0 the header, 1.. the chunks); `None` past its end
/// or when the file is missing.
pub(super) fn read_piece(path: &Path, n: u64) -> Result<Option<Vec<u8>>, StoreError> {
    let mut file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io(path, e)),
    };
    let (offset, len) = match n {
        0 => (0, HEADER),
        n => (HEADER as u64 + (n - 1) * SEALED_CHUNK as u64, SEALED_CHUNK),
    };
    file.seek(SeekFrom::Start(offset))
        .map_err(|e| io(path, e))?;
    let mut buf = Vec::with_capacity(len);
    file.take(len as u64)
        .read_to_end(&mut buf)
        .map_err(|e| io(path, e))?;
    Ok((!buf.is_empty()).then_some(buf))
}

impl Upload {
    /// Stores the next sealed chunk.
    pub async fn write(&mut self, store: &Store, chunk: Vec<u8>) -> Result<(), StoreError> {
        self.chunks += 1;
        match &mut self.kind {
            Kind::File { tmp, file, .. } => match file {
                Some(f) => f.write_all(&chunk).map_err(|e| io(tmp, e)),
                None => Err(StoreError::Io("the upload file is closed".into())),
            },
            Kind::Postgres { .. } => {
                let command = PutAttachmentChunk {
                    id: self.id,
                    n: self.chunks,
                    bytes: chunk,
                };
                store.write(command).await
            }
        }
    }

    /// Makes the bytes durable, then commits the record naming them.
    pub async fn commit(
        mut self,
        store: &Store,
        record: AttachmentRecord,
    ) -> Result<(), StoreError> {
        let header = match &mut self.kind {
            Kind::File {
                tmp,
                path,
                dir,
                file,
            } => {
                // fsync of a large file takes a while: off the async workers.
                let (f, tmp, path, dir) = (file.take(), tmp.clone(), path.clone(), dir.clone());
                tokio::task::spawn_blocking(move || make_durable(f, &tmp, &path, &dir))
                    .await
                    .map_err(|e| StoreError::Io(e.to_string()))??;
                Vec::new()
            }
            Kind::Postgres { header } => std::mem::take(header),
        };
        let command = PutAttachment {
            record: Box::new(record),
            header,
        };
        let id = self.id;
        // (Dropping `self` afterwards removes nothing: the temp file was renamed.)
        match store.write(command).await {
            Ok(()) => Ok(()),
            Err(e) => {
                // The record was not written (or may not have been): no file without it.
                if !matches!(e, StoreError::Unavailable { .. }) {
                    let _ = store.discard_attachment(id);
                }
                Err(e)
            }
        }
    }
}

/// fsync the file, rename it into place, fsync the folder: after this the file survives a
/// crash under its final name.
fn make_durable(file: Option<File>, tmp: &Path, path: &Path, dir: &Path) -> Result<(), StoreError> {
    if let Some(f) = file {
        f.sync_all().map_err(|e| io(tmp, e))?;
    }
    std::fs::rename(tmp, path).map_err(|e| io(path, e))?;
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| io(dir, e))
}

impl Drop for Upload {
    fn drop(&mut self) {
        if let Kind::File { tmp, file, .. } = &mut self.kind {
            drop(file.take());
            let _ = std::fs::remove_file(tmp);
        }
    }
}

impl Store {
    /// Start-up and purge: removes temp files of uploads that never finished and files no
    /// record names (embedded), or chunks over an hour old that no record names (PostgreSQL).
    /// Answers how many were removed.
    pub async fn sweep_attachments(&self) -> Result<u64, StoreError> {
        match &self.backend {
            Backend::Embedded(e) => {
                let named: std::collections::HashSet<Uuid> = self
                    .fetch(AllAttachments)
                    .await?
                    .into_iter()
                    .map(|r| r.id)
                    .collect();
                let mut removed = 0;
                for (path, id, temp) in list_folder(e.attachments_dir())? {
                    if temp || !id.is_some_and(|id| named.contains(&id)) {
                        std::fs::remove_file(&path).map_err(|err| io(&path, err))?;
                        removed += 1;
                    }
                }
                Ok(removed)
            }
            Backend::Postgres(_) => self.write(SweepAttachmentChunks).await,
        }
    }

    /// `check` for attachments: every record's bytes open under `wrap` to its size and
    /// digest (which proves every chunk is there and unaltered), and (embedded) every file in
    /// the folder is named by a record. Answers the problems found and how many were checked.
    pub async fn check_attachments(
        &self,
        wrap: &crate::attachment::seal::WrapKey,
    ) -> Result<(u64, Vec<String>), StoreError> {
        let records = self.fetch(AllAttachments).await?;
        let mut problems = Vec::new();
        for r in &records {
            if let Err(problem) = self.verify(wrap, r).await? {
                problems.push(format!("attachment {}: {problem}", r.id.simple()));
            }
        }
        if let Backend::Embedded(e) = &self.backend {
            let named: std::collections::HashSet<Uuid> = records.iter().map(|r| r.id).collect();
            for (path, id, temp) in list_folder(e.attachments_dir())? {
                if !temp && !id.is_some_and(|id| named.contains(&id)) {
                    problems.push(format!(
                        "{}: a file no attachment record names",
                        path.display()
                    ));
                }
            }
        }
        Ok((records.len() as u64, problems))
    }

    async fn verify(
        &self,
        wrap: &crate::attachment::seal::WrapKey,
        r: &AttachmentRecord,
    ) -> Result<Result<(), String>, StoreError> {
        use crate::attachment::seal::Opener;
        let Some(header) = self.sealed_piece(r.id, 0).await? else {
            return Ok(Err("its sealed bytes are missing".into()));
        };
        let mut opener = match Opener::new(wrap, r.id.into_bytes(), &header) {
            Ok(o) => o,
            Err(e) => return Ok(Err(e.to_string())),
        };
        let count = chunk_count(r.size);
        let mut sha = ring::digest::Context::new(&ring::digest::SHA256);
        let mut size = 0u64;
        for n in 0..count {
            let Some(sealed) = self.sealed_piece(r.id, n + 1).await? else {
                return Ok(Err(format!("chunk {n} is missing")));
            };
            match opener.open(&sealed, n + 1 == count) {
                Ok(plain) => {
                    sha.update(&plain);
                    size += plain.len() as u64;
                }
                Err(e) => return Ok(Err(e.to_string())),
            }
        }
        if self.sealed_piece(r.id, count + 1).await?.is_some() {
            return Ok(Err("bytes follow its last chunk".into()));
        }
        if size != r.size || sha.finish().as_ref() != r.sha256 {
            return Ok(Err("its size or SHA-256 differs from the record".into()));
        }
        Ok(Ok(()))
    }
}

/// Every file of the folder: (path, the id its name gives, whether it is an upload's temp
/// file). A missing folder is empty.
fn list_folder(dir: &Path) -> Result<Vec<(PathBuf, Option<Uuid>, bool)>, StoreError> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io(dir, e)),
    };
    let mut files = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| io(dir, e))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let temp = name.starts_with('.') && name.ends_with(".tmp");
        let id = name
            .strip_suffix(".sealed")
            .and_then(|stem| Uuid::try_parse(stem).ok());
        files.push((entry.path(), id, temp));
    }
    Ok(files)
}
