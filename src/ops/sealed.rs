//! The sealed attachment files in a backup: copied byte for byte (never opened: they stay
//! sealed under their own keys, wrapped by a key derived from the master secret that travels
//! in the same backup), in frames of at most [`SEALED_PIECE`] bytes after the tables. The
//! backup copies the files of exactly the attachments its snapshot holds, while a pin keeps
//! them on disk (`store::file_pins`); a missing file or one of the wrong length fails the
//! backup, naming the attachment. Restore writes each file as the upload does: a 0600 temp
//! file in the 0700 `attachments/` folder, fsynced, renamed, the folder fsynced.

use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use redb::ReadTransaction;
use uuid::Uuid;

use super::OpsError;
use super::format::{SEALED_PIECE, Writer};
use crate::store::attachments::{file_of, in_snapshot};

/// The attachments of a snapshot: (id, sealed length).
pub type Listed = Vec<(Uuid, u64)>;

/// The attachments `txn` holds, whose files the backup will carry.
pub fn list(txn: &ReadTransaction) -> Result<Listed, OpsError> {
    Ok(in_snapshot(txn)?)
}

/// Copies each listed file from `folder` into `w`; answers the sealed bytes copied.
pub fn copy_all<W: Write>(
    listed: &Listed,
    folder: &Path,
    w: &mut Writer<W>,
) -> Result<u64, OpsError> {
    let mut total = 0;
    for (id, len) in listed {
        total += copy_one(*id, *len, &file_of(folder, *id), w)?;
    }
    Ok(total)
}

fn copy_one<W: Write>(id: Uuid, len: u64, path: &Path, w: &mut Writer<W>) -> Result<u64, OpsError> {
    let missing = |what: String| {
        OpsError::Refused(format!(
            "attachment {}: {what}; run `customerlink check` (nothing was backed up)",
            id.simple()
        ))
    };
    let file =
        File::open(path).map_err(|e| missing(format!("its sealed file cannot be read ({e})")))?;
    let found = file.metadata()?.len();
    if found != len {
        return Err(missing(format!(
            "its sealed file has {found} bytes, its record needs {len}"
        )));
    }
    let mut source = file.take(len);
    let mut buf = vec![0u8; SEALED_PIECE];
    let mut copied = 0u64;
    loop {
        let n = read_full(&mut source, &mut buf)?;
        if n == 0 {
            break;
        }
        w.sealed(id.as_bytes(), &buf[..n])?;
        copied += n as u64;
    }
    if copied != len {
        return Err(missing("its sealed file shrank while it was copied".into()));
    }
    Ok(copied)
}

fn read_full(source: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match source.read(&mut buf[filled..])? {
            0 => break,
            n => filled += n,
        }
    }
    Ok(filled)
}

/// Restore's side: writes the pieces of each file as they come, a file complete when the
/// next id (or the end) comes.
pub struct Restorer {
    dir: PathBuf,
    current: Option<(Uuid, File, PathBuf)>,
    pub files: u64,
}

impl Restorer {
    /// Files go into `<data>/attachments/` (created 0700 with the first one).
    pub fn new(data: &Path) -> Restorer {
        Restorer {
            dir: crate::store::attachments::folder(&data.join("customerlink.redb")),
            current: None,
            files: 0,
        }
    }

    /// Appends a piece of attachment `id`'s sealed file.
    pub fn piece(&mut self, id: [u8; 16], bytes: &[u8]) -> Result<(), OpsError> {
        let id = Uuid::from_bytes(id);
        if self.current.as_ref().is_none_or(|(at, _, _)| *at != id) {
            self.finish()?;
            self.current = Some(self.open(id)?);
        }
        if let Some((_, file, _)) = &mut self.current {
            file.write_all(bytes)?;
        }
        Ok(())
    }

    fn open(&self, id: Uuid) -> Result<(Uuid, File, PathBuf), OpsError> {
        crate::private_fs::dir(&self.dir)?;
        if file_of(&self.dir, id).exists() {
            return Err(OpsError::Format(format!(
                "attachment {} appears twice",
                id.simple()
            )));
        }
        let tmp = self.dir.join(format!(".{}.tmp", id.simple()));
        let file = super::backup::create_private(&tmp)?;
        Ok((id, file, tmp))
    }

    /// Makes the file in progress durable under its final name, then the folder.
    pub fn finish(&mut self) -> Result<(), OpsError> {
        let Some((id, file, tmp)) = self.current.take() else {
            return Ok(());
        };
        file.sync_all()?;
        std::fs::rename(&tmp, file_of(&self.dir, id))?;
        File::open(&self.dir)?.sync_all()?;
        self.files += 1;
        Ok(())
    }
}
