//! The operator key: at start the server writes a fresh random key to `<data>/operator-key`
//! (0600) and its bound address to `<data>/server-address`; `GET /admin/backup` accepts only
//! that key (never a tenant API key). Whoever can read the data folder — the operator — can
//! back up the running server; nobody else can. A clean stop removes both files.

use std::net::SocketAddr;
use std::path::Path;

use base64::Engine as _;

use crate::domain::token::random_bytes;

/// The key file inside the data folder.
pub const OPERATOR_KEY_FILE: &str = "operator-key";
/// The file naming the address the server listens on.
pub const ADDRESS_FILE: &str = "server-address";

/// Writes a new operator key and the address; replaces files of an earlier run.
pub fn publish(data: &Path, addr: SocketAddr) -> std::io::Result<()> {
    let key = random_bytes::<32>().map_err(std::io::Error::other)?;
    let text = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(key);
    let key_path = data.join(OPERATOR_KEY_FILE);
    let _ = std::fs::remove_file(&key_path);
    super::write_private(&key_path, format!("{text}\n").as_bytes())?;
    let addr_path = data.join(ADDRESS_FILE);
    let _ = std::fs::remove_file(&addr_path);
    super::write_private(&addr_path, format!("{addr}\n").as_bytes())
}

/// Removes the key and address at a clean stop.
pub fn withdraw(data: &Path) {
    let _ = std::fs::remove_file(data.join(OPERATOR_KEY_FILE));
    let _ = std::fs::remove_file(data.join(ADDRESS_FILE));
}

/// Reads a key file (first line, trimmed).
pub fn read_key(path: &Path) -> std::io::Result<String> {
    Ok(std::fs::read_to_string(path)?
        .lines()
        .next()
        .unwrap_or_default()
        .trim()
        .to_owned())
}

/// Whether `presented` equals the key in `path`, compared in constant time (as BLAKE3
/// hashes). A missing or empty key file authorises nobody.
pub fn key_matches(path: &Path, presented: &str) -> bool {
    match read_key(path) {
        Ok(key) if !key.is_empty() => {
            blake3::hash(key.as_bytes()) == blake3::hash(presented.as_bytes())
        }
        _ => false,
    }
}

/// The address `customerlink backup` should call: the published one, with a wildcard bind
/// address replaced by loopback.
pub fn server_address(data: &Path) -> Option<SocketAddr> {
    let text = std::fs::read_to_string(data.join(ADDRESS_FILE)).ok()?;
    let mut addr: SocketAddr = text.trim().parse().ok()?;
    if addr.ip().is_unspecified() {
        addr.set_ip(match addr {
            SocketAddr::V4(_) => std::net::Ipv4Addr::LOCALHOST.into(),
            SocketAddr::V6(_) => std::net::Ipv6Addr::LOCALHOST.into(),
        });
    }
    Some(addr)
}
