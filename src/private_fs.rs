//! Files and folders only the service's own user may read. The data folder holds names,
//! addresses and phone numbers (the database) and the master secret, so it is 0700 and
//! the database 0600 whatever the umask: created with those modes, and tightened on every
//! open if an earlier version, a restore or an operator left them wider.

use std::io;
use std::path::Path;

/// Mode of the data folder and any folder the service creates for its data.
pub const DIR_MODE: u32 = 0o700;
/// Mode of every file the service writes into its data folder.
pub const FILE_MODE: u32 = 0o600;

/// Creates `path` (and missing parents) as 0700, or tightens an existing folder to 0700.
/// Fails if the folder cannot be created or its mode not set (e.g. not its owner).
pub fn dir(path: &Path) -> io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, DIR_MODE);
    builder.create(path)?;
    tighten(path, DIR_MODE)
}

/// Makes sure `path` exists as a 0600 file without touching its contents: an empty file is
/// created if missing (for a program such as redb that then fills it), an existing one is
/// tightened to 0600.
pub fn file(path: &Path) -> io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(false);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, FILE_MODE);
    drop(options.open(path)?);
    tighten(path, FILE_MODE)
}

#[cfg(unix)]
fn tighten(path: &Path, mode: u32) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt as _;
    let current = std::fs::metadata(path)?.permissions().mode() & 0o777;
    if current == mode {
        return Ok(());
    }
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
}

#[cfg(not(unix))]
fn tighten(_path: &Path, _mode: u32) -> io::Result<()> {
    Ok(())
}

/// Writes a new file readable only by its owner (0600, synced); fails if it already exists.
pub fn write_private(path: &Path, contents: &[u8]) -> io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, FILE_MODE);
    let mut file = options.open(path)?;
    io::Write::write_all(&mut file, contents)?;
    file.sync_all()
}

#[cfg(test)]
#[cfg(unix)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt as _;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn creates_private_and_tightens_what_exists() {
        let tmp = tempfile::tempdir().unwrap();
        let data = tmp.path().join("a/b");
        dir(&data).unwrap();
        assert_eq!(mode(&data), 0o700);
        let db = data.join("db");
        std::fs::write(&db, b"kept").unwrap();
        std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o666)).unwrap();
        std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o755)).unwrap();
        dir(&data).unwrap();
        file(&db).unwrap();
        assert_eq!((mode(&data), mode(&db)), (0o700, 0o600));
        assert_eq!(std::fs::read(&db).unwrap(), b"kept");
        let fresh = data.join("new");
        file(&fresh).unwrap();
        assert_eq!(mode(&fresh), 0o600);
    }
}
