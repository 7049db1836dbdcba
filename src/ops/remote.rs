//! The client side of the operator channel: an online backup (`GET /admin/backup` on the
//! running server with the operator key, streamed to a 0600 partial file with progress on
//! stderr, then verified and renamed into place) and an online key revocation
//! (`POST /admin/keys/{id}/revoke`).

use std::io::Write as _;
use std::net::SocketAddr;
use std::path::Path;
use std::time::Instant;

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper_util::rt::TokioIo;

use super::OpsError;
use super::backup::{Summary, create_private, finish_file, partial_path};

/// Fetches a backup from the server at `addr` into `path`.
pub fn fetch(addr: SocketAddr, key: &str, path: &Path) -> Result<Summary, OpsError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let partial = partial_path(path);
    let _ = std::fs::remove_file(&partial);
    let result = runtime
        .block_on(download(addr, key, &partial))
        .and_then(|summary| {
            finish_file(&partial, path).map(|header| Summary {
                attachments: header.attachments,
                ..summary
            })
        });
    if result.is_err() {
        let _ = std::fs::remove_file(&partial);
    }
    result
}

fn refused(e: impl std::fmt::Display) -> OpsError {
    OpsError::Refused(e.to_string())
}

/// Revokes `key_id` through the server at `addr`; `Ok` once the revocation is durable and
/// the server refuses the key.
pub fn revoke_key(addr: SocketAddr, key: &str, key_id: uuid::Uuid) -> Result<(), OpsError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let path = format!("/admin/keys/{}/revoke", key_id.simple());
    let status = runtime.block_on(async {
        let response = call(addr, key, hyper::Method::POST, &path).await?;
        Ok::<_, OpsError>(response.status())
    })?;
    match status {
        s if s.is_success() => Ok(()),
        hyper::StatusCode::NOT_FOUND => Err(refused(format!("no API key {}", key_id.simple()))),
        s => Err(refused(format!("the server refused the revocation: {s}"))),
    }
}

/// Sends one bodiless request with the operator key.
async fn call(
    addr: SocketAddr,
    key: &str,
    method: hyper::Method,
    path: &str,
) -> Result<hyper::Response<hyper::body::Incoming>, OpsError> {
    let stream = tokio::net::TcpStream::connect(addr)
        .await
        .map_err(|e| refused(format!("no server answering at {addr} ({e})")))?;
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(refused)?;
    tokio::spawn(conn);
    let request = hyper::Request::builder()
        .method(method)
        .uri(path)
        .header("host", addr.to_string())
        .header("authorization", format!("Bearer {key}"))
        .body(Empty::<Bytes>::new())
        .map_err(refused)?;
    sender.send_request(request).await.map_err(refused)
}

async fn download(addr: SocketAddr, key: &str, partial: &Path) -> Result<Summary, OpsError> {
    let response = call(addr, key, hyper::Method::GET, "/admin/backup").await?;
    if !response.status().is_success() {
        return Err(refused(format!(
            "the server refused the backup: {}",
            response.status()
        )));
    }
    let entries: u64 = response
        .headers()
        .get("x-backup-entries")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut file = std::io::BufWriter::with_capacity(1 << 20, create_private(partial)?);
    let mut body = response.into_body();
    let (started, mut bytes, mut shown) = (Instant::now(), 0u64, 0u64);
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| refused(format!("the backup stream broke off: {e}")))?;
        if let Ok(data) = frame.into_data() {
            file.write_all(&data)?;
            bytes += data.len() as u64;
            if bytes - shown >= 16 << 20 {
                shown = bytes;
                eprintln!(
                    "backup: {} MiB received ({} entries in the snapshot, {:.0} s)",
                    bytes >> 20,
                    entries,
                    started.elapsed().as_secs_f64()
                );
            }
        }
    }
    file.flush()?;
    Ok(Summary {
        entries,
        bytes,
        attachments: 0,
    })
}
