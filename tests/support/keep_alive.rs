//! One request on a kept-alive connection, for tests about connection reuse and limits that
//! `Req` (which always sends `Connection: close`) cannot show.

use std::io::{Read, Write};
use std::net::TcpStream;

/// Sends `GET /v1/contact` with `key` on `conn` and reads one whole response, leaving the
/// connection open; the status, or an error saying how the server closed it first.
pub fn exchange(conn: &mut TcpStream, key: &str) -> Result<u16, String> {
    let req = format!("GET /v1/contact HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {key}\r\n\r\n");
    conn.write_all(req.as_bytes())
        .map_err(|e| format!("write failed: {e}"))?;
    let mut raw = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let n = match conn.read(&mut buf) {
            Ok(n) if n > 0 => n,
            _ => return Err(format!("closed early: {}", String::from_utf8_lossy(&raw))),
        };
        raw.extend_from_slice(&buf[..n]);
        if let Some(status) = complete_status(&raw) {
            return Ok(status);
        }
    }
}

/// The status of `raw` once it holds a whole response (head and `Content-Length` body).
fn complete_status(raw: &[u8]) -> Option<u16> {
    let text = String::from_utf8_lossy(raw);
    let (head, body) = text.split_once("\r\n\r\n")?;
    let len: usize = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length:")
                .map(|v| v.trim().parse().unwrap_or(0))
        })
        .unwrap_or(0);
    if body.len() < len {
        return None;
    }
    head.get(9..12)?.parse().ok()
}
