//! The master secret: 32 random bytes created on first start, file mode 0600. Every hash key
//! derives from it, so it is part of every backup and never logged.

use std::path::Path;

use super::StartError;
use crate::domain::token::{Secret, random_bytes};
use crate::private_fs::write_private;

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
