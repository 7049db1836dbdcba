//! Attachments (issue 17, first slice): streamed uploads (raw and multipart), byte-identical
//! streamed downloads, sniffed types, the size limit, tenant isolation, deletion, encryption
//! at rest (no plaintext stored; one flipped byte fails the download cleanly and `check`
//! reports it) and a kill -9 mid-upload leaving nothing visible — on either store.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::time::Duration;

use serde_json::Value;

use crate::support::{self, TestServer, cli, on_postgres};

/// Deterministic pseudo-random bytes (xorshift64*).
pub(crate) fn random_bytes(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x >> 12;
            x ^= x << 25;
            x ^= x >> 27;
            (x.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 56) as u8
        })
        .collect()
}

fn sha256_hex(data: &[u8]) -> String {
    ring::digest::digest(&ring::digest::SHA256, data)
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A raw HTTP exchange keeping the body as bytes: (status, lower-cased headers, body).
pub(crate) fn exchange(
    addr: SocketAddr,
    head: &str,
    body: &[u8],
) -> (u16, Vec<(String, String)>, Vec<u8>) {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    stream.write_all(head.as_bytes()).unwrap();
    // The server may answer (413) and close before the whole body is sent.
    let _ = stream.write_all(body);
    let mut raw = Vec::new();
    let _ = stream.read_to_end(&mut raw);
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no response head: {:?}", String::from_utf8_lossy(&raw)));
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    (status, headers, raw[split + 4..].to_vec())
}

fn find<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

/// `PUT /v1/attachment` with the raw file; answers (status, JSON body).
pub(crate) fn upload_raw(s: &TestServer, key: &str, name: &str, data: &[u8]) -> (u16, Value) {
    let head = format!(
        "PUT /v1/attachment HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\
         Authorization: Bearer {key}\r\nAccept: application/json\r\n\
         Content-Type: application/octet-stream\r\n\
         Content-Disposition: attachment; filename=\"{name}\"\r\nContent-Length: {}\r\n\r\n",
        data.len()
    );
    let (status, _, body) = exchange(s.addr, &head, data);
    (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
}

fn multipart_body(boundary: &str, name: &str, data: &[u8]) -> Vec<u8> {
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nhi\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n\
         Content-Type: text/html\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(data);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    body
}

fn upload_multipart(s: &TestServer, name: &str, data: &[u8]) -> (u16, Value) {
    let boundary = "----customerlink-test-boundary";
    let body = multipart_body(boundary, name, data);
    let head = format!(
        "PUT /v1/attachment HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\
         Authorization: Bearer {}\r\nContent-Type: multipart/form-data; boundary={boundary}\r\n\
         Content-Length: {}\r\n\r\n",
        s.key,
        body.len()
    );
    let (status, _, body) = exchange(s.addr, &head, &body);
    (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
}

pub(crate) fn download(
    s: &TestServer,
    key: &str,
    id: &str,
) -> (u16, Vec<(String, String)>, Vec<u8>) {
    let head = format!(
        "GET /v1/attachment/{id} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\
         Authorization: Bearer {key}\r\n\r\n"
    );
    exchange(s.addr, &head, b"")
}

pub(crate) fn id_of(reply: &Value) -> String {
    reply["AttachmentId"].as_str().unwrap().to_owned()
}

#[test]
fn raw_and_multipart_uploads_come_back_byte_identical_with_their_digest() {
    let s = TestServer::start();
    let data = random_bytes(3 * 1024 * 1024 + 17, 7);
    let (status, reply) = upload_raw(&s, &s.key, "big.bin", &data);
    assert_eq!(status, 200, "{reply}");
    assert_eq!(reply["Name"], "big.bin");
    assert_eq!(reply["Size"], data.len() as u64);
    assert_eq!(reply["Sha256"], sha256_hex(&data));
    assert_eq!(reply["ContentType"], "application/octet-stream");
    let (status, headers, body) = download(&s, &s.key, &id_of(&reply));
    assert_eq!(status, 200);
    assert!(body == data, "the download differs ({} bytes)", body.len());
    assert_eq!(
        find(&headers, "content-length"),
        Some(&*data.len().to_string())
    );
    assert!(
        find(&headers, "content-disposition")
            .unwrap()
            .starts_with("attachment; filename=\"big.bin\"")
    );
    assert_eq!(find(&headers, "x-content-type-options"), Some("nosniff"));
    assert_eq!(find(&headers, "cache-control"), Some("no-store"));

    let pdf = [&b"%PDF-1.7\n"[..], &random_bytes(200_000, 3)].concat();
    let (status, reply) = upload_multipart(&s, "policy.pdf", &pdf);
    assert_eq!(status, 200, "{reply}");
    assert_eq!(reply["Name"], "policy.pdf");
    assert_eq!(
        reply["ContentType"], "application/pdf",
        "sniffed, not the part's text/html"
    );
    assert_eq!(reply["DownloadOnly"], false);
    assert_eq!(reply["Sha256"], sha256_hex(&pdf));
    let (status, headers, body) = download(&s, &s.key, &id_of(&reply));
    assert_eq!(status, 200);
    assert!(body == pdf);
    assert_eq!(find(&headers, "content-type"), Some("application/pdf"));
    s.check();
}

#[test]
fn html_named_pdf_is_download_only_octets() {
    let s = TestServer::start();
    let html = b"<!doctype html><html><script>alert(document.cookie)</script></html>";
    let (status, reply) = upload_raw(&s, &s.key, "invoice.pdf", html);
    assert_eq!(status, 200, "{reply}");
    assert_eq!(reply["ContentType"], "application/octet-stream");
    assert_eq!(reply["DownloadOnly"], true);
    let (_, headers, body) = download(&s, &s.key, &id_of(&reply));
    assert_eq!(body, html);
    assert_eq!(
        find(&headers, "content-type"),
        Some("application/octet-stream")
    );
    let (_, reply) = upload_raw(&s, &s.key, "notes.txt", "plain text\n".as_bytes());
    assert_eq!(reply["ContentType"], "text/plain; charset=utf-8");
}

/// No attachment files in the data folder (embedded), no rows (PostgreSQL).
fn nothing_stored(s: &TestServer) {
    if on_postgres() {
        return;
    }
    let dir = s.data.join("attachments");
    let files: Vec<_> = std::fs::read_dir(&dir)
        .map(|d| d.filter_map(Result::ok).map(|e| e.file_name()).collect())
        .unwrap_or_default();
    assert!(files.is_empty(), "left in {}: {files:?}", dir.display());
}

#[test]
fn over_the_limit_is_413_and_leaves_nothing() {
    let s = TestServer::start_with(|c| c.attachments.max_bytes = 100_000);
    // Declared too large: refused before reading.
    let (status, reply) = upload_raw(&s, &s.key, "a.bin", &random_bytes(100_001, 1));
    assert_eq!(status, 413, "{reply}");
    // Declared within the multipart slack, but the file itself passes the limit mid-stream.
    let (status, reply) = upload_multipart(&s, "b.bin", &random_bytes(120_000, 2));
    assert_eq!(status, 413, "{reply}");
    nothing_stored(&s);
    let (status, _) = upload_raw(&s, &s.key, "c.bin", &random_bytes(100_000, 3));
    assert_eq!(status, 200, "exactly the limit is accepted");
    let out = s.check();
    assert!(out.contains("attachments 1"), "{out}");
}

#[test]
fn another_tenant_sees_a_missing_attachment_and_delete_removes_it() {
    let (s, b) = TestServer::with_second_tenant(|_| {});
    let (_, reply) = upload_raw(&s, &s.key, "a.txt", b"tenant A's file");
    let id = id_of(&reply);
    let missing = uuid::Uuid::new_v4().to_string();
    let (theirs, _, body_theirs) = download(&s, &b, &id);
    let (none, _, body_none) = download(&s, &b, &missing);
    assert_eq!((theirs, none), (404, 404));
    assert_eq!(
        String::from_utf8_lossy(&body_theirs).replace(&id, "X"),
        String::from_utf8_lossy(&body_none).replace(&missing, "X")
    );
    let resp = s
        .req("DELETE", &format!("/v1/attachment/{id}"))
        .bearer(&b)
        .send();
    assert_eq!(resp.status, 404, "{resp:?}");
    let resp = s.delete(&format!("/v1/attachment/{id}?Force=true"));
    assert_eq!(resp.expect(200)["AttachmentId"], id);
    assert_eq!(download(&s, &s.key, &id).0, 404);
    assert_eq!(s.delete(&format!("/v1/attachment/{id}")).status, 404);
    nothing_stored(&s);
    s.check();
}

const MARKER: &[u8] = b"CUSTOMERLINK-PLAINTEXT-MARKER";

/// Flips one byte of sealed chunk `n` (0-based) of attachment `id`.
fn flip_byte(s: &TestServer, id: &str, n: u64) {
    let uuid = uuid::Uuid::parse_str(id).unwrap();
    if on_postgres() {
        let db = support::postgres_for(&s.data).dbname;
        support::postgres::shared().psql(
            &db,
            &format!(
                "UPDATE attachment_chunks SET bytes = set_byte(bytes, 10, get_byte(bytes, 10) # 1) \
                 WHERE attachment_id = '{uuid}' AND n = {}",
                n + 1
            ),
        );
    } else {
        let path = s
            .data
            .join("attachments")
            .join(format!("{}.sealed", uuid.simple()));
        let mut bytes = std::fs::read(&path).unwrap();
        let at = 65 + n as usize * (65536 + 16) + 10;
        bytes[at] ^= 1;
        std::fs::write(&path, bytes).unwrap();
    }
}

/// Whether the stored bytes contain `needle` anywhere.
fn stored_contains(s: &TestServer, needle: &[u8]) -> bool {
    if on_postgres() {
        let db = support::postgres_for(&s.data).dbname;
        let hex: String = needle.iter().map(|b| format!("{b:02x}")).collect();
        let n = support::postgres::shared().psql(
            &db,
            &format!(
                "SELECT count(*) FROM attachment_chunks WHERE position('\\x{hex}'::bytea in bytes) > 0"
            ),
        );
        return n != "0";
    }
    std::fs::read_dir(s.data.join("attachments"))
        .unwrap()
        .filter_map(Result::ok)
        .any(|e| {
            let bytes = std::fs::read(e.path()).unwrap();
            bytes.windows(needle.len()).any(|w| w == needle)
        })
}

#[test]
fn stored_bytes_hold_no_plaintext_and_a_flipped_byte_fails_cleanly() {
    let s = TestServer::start();
    let data = MARKER.repeat(200_000 / MARKER.len());
    let (_, reply) = upload_raw(&s, &s.key, "marked.txt", &data);
    let id = id_of(&reply);
    assert!(!stored_contains(&s, MARKER), "plaintext found at rest");
    // The probe looks where the bytes are: it finds what is stored in clear there.
    let probe: &[u8] = if on_postgres() { &[0] } else { b"CLA1" };
    assert!(stored_contains(&s, probe), "the probe finds nothing at all");

    flip_byte(&s, &id, 1);
    let (status, headers, body) = download(&s, &s.key, &id);
    // The first chunk opened before the answer started; the second fails: the transfer is
    // cut after exactly the first chunk, short of the declared length.
    assert_eq!(status, 200);
    assert_eq!(
        find(&headers, "content-length"),
        Some(&*data.len().to_string())
    );
    assert!(
        body.len() <= 65536,
        "{} bytes after a bad chunk",
        body.len()
    );
    assert!(body.len() < data.len());
    assert_eq!(&body[..], &data[..body.len()]);

    flip_byte(&s, &id, 0);
    let (status, _, _) = download(&s, &s.key, &id);
    assert_eq!(status, 500, "a damaged first chunk is an error status");

    let (dir, _) = s.stop();
    let dir = dir.unwrap();
    let (code, out, _) = cli(&["check", "--data", dir.path().to_str().unwrap()]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains(&format!("PROBLEM attachment {}", id.replace('-', ""))),
        "{out}"
    );
}

#[test]
fn check_reports_a_missing_file_and_a_file_without_record() {
    if support::embedded_only("files in the data folder") {
        return;
    }
    let s = TestServer::start();
    let (_, a) = upload_raw(&s, &s.key, "a.txt", b"one");
    let (dir, _) = s.stop();
    let dir = dir.unwrap();
    let folder = dir.path().join("attachments");
    let a = uuid::Uuid::parse_str(&id_of(&a)).unwrap();
    let file = folder.join(format!("{}.sealed", a.simple()));
    let stray = folder.join(format!("{}.sealed", uuid::Uuid::new_v4().simple()));
    std::fs::rename(&file, &stray).unwrap();
    let (code, out, _) = cli(&["check", "--data", dir.path().to_str().unwrap()]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("bytes are missing"), "{out}");
    assert!(out.contains("a file no attachment record names"), "{out}");
}

#[test]
fn a_kill_9_mid_upload_leaves_no_attachment_and_check_clean() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let server = spawn_binary(data);
    let key = std::fs::read_to_string(data.join("initial-api-key")).unwrap();
    let mut stream = TcpStream::connect(server.1).unwrap();
    let head = format!(
        "PUT /v1/attachment HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\n\
         Content-Disposition: attachment; filename=\"slow.bin\"\r\nContent-Length: 1000000\r\n\r\n",
        key.trim()
    );
    stream.write_all(head.as_bytes()).unwrap();
    for piece in random_bytes(300_000, 9).chunks(30_000) {
        stream.write_all(piece).unwrap();
        std::thread::sleep(Duration::from_millis(20));
    }
    if !on_postgres() {
        wait_for_temp_file(&data.join("attachments"));
    } else {
        std::thread::sleep(Duration::from_millis(300));
    }
    let mut child = server.0;
    child.kill().unwrap();
    child.wait().unwrap();
    let (code, out, _) = cli(&["check", "--data", data.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("attachments 0"), "{out}");
    // The next start sweeps what the crash left.
    let s = TestServer::start_in(
        data,
        std::sync::Arc::new(customerlink::clock::ManualClock::new()),
        |_| {},
    );
    let (code, out, _) = {
        drop(s);
        cli(&["check", "--data", data.to_str().unwrap()])
    };
    assert_eq!(code, 0, "{out}");
    if !on_postgres() {
        let left = std::fs::read_dir(data.join("attachments")).unwrap().count();
        assert_eq!(left, 0, "the start removed the temp file");
    }
}

fn wait_for_temp_file(dir: &Path) {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let temp = std::fs::read_dir(dir)
            .map(|d| {
                d.filter_map(Result::ok)
                    .any(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
            })
            .unwrap_or(false);
        if temp {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no upload in progress"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The real binary serving `data` (on the test's store); its stderr drained.
fn spawn_binary(data: &Path) -> (std::process::Child, SocketAddr) {
    use std::io::BufRead as _;
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_customerlink"));
    command
        .args(["serve", "--listen", "127.0.0.1:0", "--data"])
        .arg(data)
        .env_remove("CUSTOMERLINK_CONFIG")
        .env_remove("CUSTOMERLINK_STORE")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped());
    if on_postgres() {
        let settings = support::postgres_for(data);
        command.env(
            "CUSTOMERLINK_STORE",
            support::postgres::shared().url(&settings.dbname),
        );
    }
    let mut child = command.spawn().unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
        {
            let _ = tx.send(line);
        }
    });
    let addr = crate::crash::wait_for_address(&rx);
    std::thread::spawn(move || while rx.recv().is_ok() {});
    let key_file = data.join("initial-api-key");
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !key_file.exists() {
        assert!(std::time::Instant::now() < deadline, "no initial key");
        std::thread::sleep(Duration::from_millis(10));
    }
    (child, addr)
}

#[test]
fn every_spelling_of_the_upload_streams_past_the_body_limit() {
    let s = TestServer::start_with(|c| c.http.max_body_bytes = 1024);
    let data = random_bytes(300_000, 11);
    for path in [
        "/v1/attachment",
        "/api/AttachmentUploadRequest",
        "/json/reply/AttachmentUploadRequest",
    ] {
        let head = format!(
            "PUT {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Bearer {}\r\n\
             Content-Disposition: attachment; filename=\"a.bin\"\r\nContent-Length: {}\r\n\r\n",
            s.key,
            data.len()
        );
        let (status, _, body) = exchange(s.addr, &head, &data);
        let reply: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        assert_eq!(status, 200, "{path}: {reply}");
        assert_eq!(reply["Sha256"], sha256_hex(&data), "{path}");
    }
    // Other routes keep the whole-body limit.
    let big = serde_json::json!({ "Name": "x".repeat(2000) });
    assert_eq!(s.put("/v1/contact/1", big).status, 413);
    // No key: refused before the body is read.
    let resp = s
        .req("PUT", "/v1/attachment")
        .without("Authorization")
        .raw_body(data.clone())
        .send();
    assert_eq!(resp.status, 401, "{resp:?}");
}
