//! The master secret: 32 random bytes, file mode 0600. Every hash key derives from it, so it is
//! part of every backup and never logged. The default `<data>/master.key` is created on first
//! start; a file the operator names (`master_secret_file`) is only read, because instances that
//! share a database must share one key — each creating its own would split the link space.

use std::path::Path;

use super::StartError;
use crate::domain::token::{Secret, random_bytes};
use crate::private_fs::write_private;

/// Reads the secret, creating it (0600) if the file does not exist.
pub fn load_or_create(path: &Path) -> Result<Secret<[u8; 32]>, StartError> {
    if let Some(secret) = read(path)? {
        return Ok(secret);
    }
    let bytes = random_bytes::<32>().map_err(StartError::Random)?;
    write_private(path, &bytes).map_err(|error| StartError::Io {
        path: path.to_owned(),
        error,
    })?;
    Ok(Secret::new(bytes))
}

/// Reads the secret the operator named; a missing file is an error, never created.
pub fn load_named(path: &Path) -> Result<Secret<[u8; 32]>, StartError> {
    read(path)?.ok_or_else(|| StartError::MasterSecret {
        path: path.to_owned(),
        problem: "not found (a named key file is never created: copy the key every instance \
                  shares here)"
            .into(),
    })
}

/// The secret at `path`, `None` if there is no such file.
fn read(path: &Path) -> Result<Option<Secret<[u8; 32]>>, StartError> {
    let problem = |problem: String| StartError::MasterSecret {
        path: path.to_owned(),
        problem,
    };
    match std::fs::read(path) {
        Ok(bytes) => {
            let len = bytes.len();
            let bytes: [u8; 32] = bytes.try_into().map_err(|_| {
                problem(format!("holds {len} bytes; a master secret is exactly 32"))
            })?;
            Ok(Some(Secret::new(bytes)))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(problem(format!("cannot be read: {e}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_named_key_must_exist_and_hold_32_bytes() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let path = dir.path().join("cl.key");
        let missing = load_named(&path).err().map(|e| e.to_string());
        assert!(missing.is_some_and(|m| m.contains("not found")));
        assert!(!path.exists(), "a named key must not be created");
        std::fs::write(&path, [7u8; 31]).unwrap_or_else(|e| panic!("{e}"));
        let short = load_named(&path).err().map(|e| e.to_string());
        assert!(short.is_some_and(|m| m.contains("31 bytes")));
        std::fs::write(&path, [7u8; 32]).unwrap_or_else(|e| panic!("{e}"));
        let key = load_named(&path).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(key.expose(), &[7u8; 32]);
    }

    #[test]
    fn the_default_key_is_created_once() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let path = dir.path().join("master.key");
        let first = load_or_create(&path).unwrap_or_else(|e| panic!("{e}"));
        let again = load_or_create(&path).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(first.expose(), again.expose());
    }
}
