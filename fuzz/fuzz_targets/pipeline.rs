#![no_main]
//! `pipeline`: the whole service on raw HTTP/1.1 bytes — hyper's parser, limits, negotiation,
//! routing, authentication, body parsing, binding, the handlers, the store and every writer —
//! through `customerlink::http::connection` over an in-memory `tokio::io::duplex`, no network.
//!
//! Placeholders: before sending, every `@KEY@` in the input becomes a valid API key of the
//! fuzz tenant, every `@KEY64@` `base64("{key}:")` (for `Authorization: Basic`), every
//! `@LINK@` the 32-hex `CustomerLinkUID` of a link created at start-up, and `@TOKEN@` /
//! `@OTPTOKEN@` the portal tokens of two more links (a `Quote` one that opens without a
//! passcode and a `Claim` one that needs one); contact 7 exists too. So seeds reach the
//! authenticated handlers and the recipient portal.
//!
//! Per input: write the bytes plus a trailing CRLF, half-close, read until the server closes.
//! (The CRLF is an empty line hyper skips between requests. It keeps hyper's read buffer
//! non-empty while the last request is answered: `http::connection` leaves hyper's
//! `half_close` off, so an EOF seen mid-request would drop the response unwritten.)
//! Asserts: the server closes within 5 s; the output is a sequence of complete responses,
//! each `HTTP/1.1 ` (or `HTTP/1.0 ` for a 1.0 request) and a 3-digit status, never 5xx; and a
//! JSON, JSV, XML or JSONL body parses with our own readers.
//!
//! `FUZZ_SHOW=1` prints every request and response, e.g. to see what a seed or a crash does:
//! `FUZZ_SHOW=1 cargo fuzz run -s none pipeline fuzz/seeds/pipeline/create-json`.
//!
//! One `AppState` serves every input (built in `init`, on a fresh data folder in /dev/shm);
//! writes persist across inputs. The folder outlives the process (libFuzzer exits without
//! destructors); the next run deletes it.

use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use base64::Engine as _;
use customerlink::app::AppState;
use customerlink::clock::{Clock, ManualClock};
use customerlink::config::{Config, FileConfig, Overrides};
use customerlink::ops::admin::{KeySpec, create_key, create_tenant};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::runtime::Runtime;

/// How long the server may take to answer everything and close.
const DEADLINE: Duration = Duration::from_secs(5);
const REMOTE: SocketAddr =
    SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 40000);

struct Harness {
    runtime: Runtime,
    state: Arc<AppState>,
    key: String,
    key64: String,
    link: String,
    token: String,
    otp_token: String,
    /// `FUZZ_SHOW=1`: print every exchange (to see what a seed or crash input does).
    show: bool,
}

static HARNESS: OnceLock<Harness> = OnceLock::new();

fuzz_target!(
    init: {
        HARNESS.get_or_init(setup);
    },
    |data: &[u8]| {
        let h = HARNESS.get_or_init(setup);
        let mut input = data.to_vec();
        let placeholders = [
            ("@KEY64@", &h.key64),
            ("@KEY@", &h.key),
            ("@LINK@", &h.link),
            ("@OTPTOKEN@", &h.otp_token),
            ("@TOKEN@", &h.token),
        ];
        for (placeholder, value) in placeholders {
            input = replace(&input, placeholder.as_bytes(), value.as_bytes());
        }
        let out = exchange(h, &input);
        if h.show {
            eprintln!(
                "--- request\n{}\n--- response\n{}",
                String::from_utf8_lossy(&input),
                String::from_utf8_lossy(&out)
            );
        }
        check_responses(&out);
    }
);

/// A fresh data folder, in /dev/shm when there is one (redb's fsyncs then cost nothing):
/// `customerlink-fuzz-<pid>-XXXX`. libFuzzer exits without running destructors, so each run
/// instead deletes the folders of earlier runs whose process is gone.
fn data_dir() -> std::path::PathBuf {
    let shm = std::path::Path::new("/dev/shm");
    let base = if shm.is_dir() {
        shm.to_owned()
    } else {
        std::env::temp_dir()
    };
    let prefix = "customerlink-fuzz-";
    if std::path::Path::new("/proc/self").exists() {
        for entry in std::fs::read_dir(&base).into_iter().flatten().flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let pid = name
                .strip_prefix(prefix)
                .and_then(|rest| rest.split('-').next())
                .and_then(|pid| pid.parse::<u32>().ok());
            if let Some(pid) = pid
                && !std::path::Path::new(&format!("/proc/{pid}")).exists()
            {
                let _ = std::fs::remove_dir_all(entry.path());
            }
        }
    }
    tempfile::Builder::new()
        .prefix(&format!("{prefix}{}-", std::process::id()))
        .tempdir_in(&base)
        .expect("temp dir")
        .keep()
}

fn setup() -> Harness {
    let dir = data_dir();
    let overrides = Overrides {
        data: Some(dir),
        public_url: Some("https://links.example.test".into()),
        ..Overrides::default()
    };
    let mut config = Config::resolve(overrides, FileConfig::default()).expect("config");
    config.http.header_read_timeout = Duration::from_millis(200);
    config.http.request_timeout = Duration::from_secs(1);
    config.http.body_read_timeout = Duration::from_millis(500);
    config.http.keep_alive_idle = Duration::from_millis(200);
    let clock = Arc::new(ManualClock::new());
    // AppState::open and the admin functions block on the writer's channel: outside the runtime.
    let state = AppState::open(config, clock.clone()).expect("open the data folder");
    let now = clock.now();
    let tenant = create_tenant(&state.store, "Fuzz", now).expect("tenant");
    let spec = KeySpec {
        tenant_id: tenant,
        user_id: uuid::Uuid::from_u128(0x5f1b_0c6e_2d7a_4b8c_9d0e_1f2a_3b4c_5d6e).into(),
        agent_id: Some(42),
        name: Some("fuzz".into()),
        roles: vec!["Administrator".into()],
        casing: None,
    };
    let key = create_key(&state.store, &state.keys, spec, now)
        .expect("key")
        .expose()
        .clone();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let mut h = Harness {
        runtime,
        state: Arc::new(state),
        key64: base64::engine::general_purpose::STANDARD.encode(format!("{key}:")),
        key,
        link: String::new(),
        token: String::new(),
        otp_token: String::new(),
        show: std::env::var_os("FUZZ_SHOW").is_some_and(|v| v == "1"),
    };
    let contact = request(
        &h,
        "PUT /v1/contact/7",
        r#"{"FirstName":"Bo","EmailWork":"bo@work.example","Phone":"+46 70 123 45 67","SMSOptIn":true}"#,
    );
    assert!(
        contact.starts_with(b"HTTP/1.1 200 "),
        "{}",
        String::from_utf8_lossy(&contact)
    );
    let link = |resource_type: &str| {
        let body = format!(
            r#"{{"ResourceType":"{resource_type}","ResourceUid":"0f1e2d3c4b5a69788796a5b4c3d2e1f0","RecipientEmail":"ann@example.com","DeliverEmail":true}}"#
        );
        let created = request(&h, "POST /v1/customerlink", &body);
        let text = String::from_utf8_lossy(&created).into_owned();
        let json = text
            .split_once("\r\n\r\n")
            .map(|(_, b)| b)
            .unwrap_or_default();
        let reply: Value = serde_json::from_str(json).unwrap_or_else(|e| panic!("{e}: {text}"));
        let uid = reply["Link"]["CustomerLinkUID"].as_str();
        let url = reply["PortalUrl"].as_str();
        let token = url.and_then(|u| u.rsplit_once('/')).map(|(_, t)| t);
        match (uid, token) {
            (Some(uid), Some(token)) => (uid.to_owned(), token.to_owned()),
            _ => panic!("no link: {text}"),
        }
    };
    let (staff_link, _) = link("Quote");
    let (_, token) = link("Quote");
    let (_, otp_token) = link("Claim");
    (h.link, h.token, h.otp_token) = (staff_link, token, otp_token);
    h
}

/// One authenticated JSON request during set-up.
fn request(h: &Harness, line: &str, json: &str) -> Vec<u8> {
    let raw = format!(
        "{line} HTTP/1.1\r\nHost: fuzz\r\nAuthorization: Bearer {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{json}",
        h.key,
        json.len()
    );
    exchange(h, raw.as_bytes())
}

/// Serves one connection that sends `input` (plus CRLF, see the module docs) and half-closes;
/// returns everything the server wrote before closing.
fn exchange(h: &Harness, input: &[u8]) -> Vec<u8> {
    h.runtime.block_on(async {
        let (client, server) = tokio::io::duplex(64 * 1024);
        let conn = customerlink::http::connection(server, Arc::clone(&h.state), REMOTE);
        let (mut rd, mut wr) = tokio::io::split(client);
        let mut out = Vec::new();
        let serve = async {
            let _ = conn.await;
        };
        let write = async {
            let _ = wr.write_all(input).await;
            let _ = wr.write_all(b"\r\n").await;
            let _ = wr.shutdown().await;
        };
        let read = rd.read_to_end(&mut out);
        let finished =
            tokio::time::timeout(DEADLINE, async { tokio::join!(serve, write, read) }).await;
        assert!(
            finished.is_ok(),
            "the server did not close the connection within {DEADLINE:?}; it wrote {:?}",
            String::from_utf8_lossy(&out)
        );
        out
    })
}

fn replace(data: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len());
    let mut rest = data;
    while let Some(i) = find(rest, from) {
        out.extend_from_slice(&rest[..i]);
        out.extend_from_slice(to);
        rest = &rest[i + from.len()..];
    }
    out.extend_from_slice(rest);
    out
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// The server's output must be whole responses, one after another.
fn check_responses(out: &[u8]) {
    let show = || String::from_utf8_lossy(out).into_owned();
    let mut rest = out;
    while !rest.is_empty() {
        assert!(
            rest.starts_with(b"HTTP/1.1 ") || rest.starts_with(b"HTTP/1.0 "),
            "not a status line at byte {}: {}",
            out.len() - rest.len(),
            show()
        );
        assert!(
            rest.len() >= 13
                && rest[9..12].iter().all(u8::is_ascii_digit)
                && matches!(rest[12], b' ' | b'\r'),
            "no 3-digit status: {}",
            show()
        );
        let mut headers = [httparse::EMPTY_HEADER; 64];
        let mut response = httparse::Response::new(&mut headers);
        let head_len = match response.parse(rest) {
            Ok(httparse::Status::Complete(n)) => n,
            Ok(httparse::Status::Partial) => panic!("truncated response head: {}", show()),
            Err(e) => panic!("malformed response head ({e}): {}", show()),
        };
        let status = response.code.unwrap_or_default();
        assert!(
            !(500..600).contains(&status),
            "server error {status}: {}",
            show()
        );
        let header = |name: &str| {
            response
                .headers
                .iter()
                .find(|h| h.name.eq_ignore_ascii_case(name))
                .map(|h| String::from_utf8_lossy(h.value).into_owned())
        };
        let content_type = header("content-type");
        let length = if (100..200).contains(&status) || status == 204 || status == 304 {
            Some(0)
        } else {
            header("content-length")
                .map(|v| v.trim().parse::<usize>().expect("numeric Content-Length"))
        };
        let Some(length) = length else {
            // Delimited by the end of the connection (or chunked): the rest is this body.
            break;
        };
        // A response to HEAD carries the Content-Length of the body it would have had, but no
        // body. None of our bodies starts with `HTTP/1.` (JSON and JSV start with `{`, XML
        // with `<?xml`, CSV with a header row, JSONP with a sanitised name), so a response
        // right after the head means this one had no body.
        let bodiless = rest.len() == head_len || rest[head_len..].starts_with(b"HTTP/1.");
        let body_len = if bodiless { 0 } else { length };
        let after_body = head_len + body_len;
        assert!(
            rest.len() == after_body
                || rest
                    .get(after_body..)
                    .is_some_and(|r| r.starts_with(b"HTTP/1.")),
            "response body does not match its Content-Length {length}: {}",
            show()
        );
        check_body(content_type.as_deref(), &rest[head_len..after_body]);
        rest = &rest[after_body..];
    }
}

/// Bodies in our own formats must be readable by our own readers.
fn check_body(content_type: Option<&str>, body: &[u8]) {
    if body.is_empty() {
        return;
    }
    let media = content_type
        .and_then(|c| c.split(';').next())
        .map(str::trim);
    let text =
        || std::str::from_utf8(body).unwrap_or_else(|e| panic!("{media:?} body not UTF-8: {e}"));
    match media {
        Some("application/json") => {
            if let Err(e) = serde_json::from_slice::<Value>(body) {
                panic!("JSON body does not parse ({e}): {}", text());
            }
        }
        Some("text/jsonl") => {
            for line in text().lines().filter(|l| !l.is_empty()) {
                if let Err(e) = serde_json::from_str::<Value>(line) {
                    panic!("JSONL line does not parse ({e}): {line}");
                }
            }
        }
        Some("application/jsv") => {
            if let Err(e) = customerlink::wire::jsv::parse(text()) {
                panic!("JSV body does not parse ({e}): {}", text());
            }
        }
        Some("application/xml") => {
            if let Err(e) = customerlink::wire::xml::parse(body) {
                panic!("XML body does not parse ({e}): {}", text());
            }
        }
        _ => {}
    }
}
