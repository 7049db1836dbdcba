//! The master secret: 32 random bytes created on first start, file mode 0600. Every hash key
//! derives from it, so it is part of every backup and never logged.

use std::io::Write as _;
use std::path::Path;

use super::StartError;
use crate::domain::token::{Secret, random_bytes};

/// File name of the master secret inside the data folder.
pub const MASTER_SECRET_FILE: &str = "master.key";

/// Reads the secret, creating it (0600) if the file does not exist.
pub fn load_or_create(path: &Path) -> Result<Secret<[u8; 32]>, StartError> {
    let io = |error| StartError::Io {
        path: path.to_owned(),
        error,
    };
    match std::fs::read(path) {
        Ok(bytes) => {
            let bytes: [u8; 32] = bytes.try_into().map_err(|_| {
                io(std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    "master secret must be exactly 32 bytes",
                ))
            })?;
            Ok(Secret::new(bytes))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let bytes = random_bytes::<32>().map_err(StartError::Random)?;
            write_private(path, &bytes).map_err(io)?;
            Ok(Secret::new(bytes))
        }
        Err(e) => Err(io(e)),
    }
}

/// Writes a new file readable only by its owner; fails if it already exists.
pub fn write_private(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    file.write_all(contents)?;
    file.sync_all()
}
