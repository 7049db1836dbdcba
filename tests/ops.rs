//! Operator tools through the real binary and the real server: a backup taken while writes go
//! on restores into a folder whose server serves the same links, accepts the same API key and
//! portal URLs (the master secret came along) and passes `check`; restore refuses a used
//! folder and a damaged file; compact shrinks a stopped folder; health and metrics answer.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use serde_json::{Value, json};

use crate::support::sinks::wait_until;
use crate::support::{Req, TestServer, cli, uid};

fn create(s: &TestServer, n: u128) -> Value {
    let body = json!({"ResourceType": "Quote", "ResourceUid": uid(n % 5 + 1), "RecipientEmail": format!("o{n}@example.com")});
    s.post("/v1/customerlink", body).expect(200)
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Every link of the tenant, by uid.
fn listing(s: &TestServer) -> BTreeMap<String, Value> {
    let mut all = BTreeMap::new();
    loop {
        let page = s
            .get(&format!("/v1/customerlink?Take=500&Skip={}", all.len()))
            .expect(200);
        let rows = page["Links"].as_array().unwrap().clone();
        if rows.is_empty() {
            return all;
        }
        for link in rows {
            all.insert(link["CustomerLinkUID"].as_str().unwrap().to_owned(), link);
        }
    }
}

fn mode(p: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

#[test]
fn backup_during_writes_restores_a_working_folder_with_the_same_secrets() {
    if crate::support::embedded_only("backup and restore of the file") {
        return;
    }
    let s = Arc::new(TestServer::start());
    let before: Vec<Value> = (0..60).map(|n| create(&s, n)).collect();
    let revoked = before[0]["Link"]["CustomerLinkUID"]
        .as_str()
        .unwrap()
        .to_owned();
    s.post(&format!("/v1/customerlink/{revoked}/revoke"), json!({}))
        .expect(200);
    let writing = Arc::new(AtomicBool::new(true));
    let writers: Vec<_> = (0..3)
        .map(|w| {
            let (s, writing) = (Arc::clone(&s), Arc::clone(&writing));
            std::thread::spawn(move || {
                let mut n = 1000 * (w + 1);
                while writing.load(Ordering::SeqCst) {
                    create(&s, n);
                    n += 1;
                }
                n - 1000 * (w + 1)
            })
        })
        .collect();
    let out = tempfile::tempdir().unwrap();
    let file = out.path().join("cl.backup");
    let (code, stdout, err) = cli(&["backup", path(&file), "--data", path(&s.data)]);
    writing.store(false, Ordering::SeqCst);
    let written_meanwhile: u128 = writers.into_iter().map(|w| w.join().unwrap()).sum();
    assert_eq!(code, 0, "backup failed: {err}");
    assert!(
        err.contains("streamed by the server"),
        "went through the server: {err}"
    );
    assert_eq!(stdout.trim(), path(&file));
    assert_eq!(mode(&file), 0o600, "the backup holds the master secret");
    assert!(written_meanwhile > 0, "writes went on during the backup");

    let restored = out.path().join("restored");
    let (code, stdout, err) = cli(&["restore", path(&file), "--data", path(&restored)]);
    assert_eq!(code, 0, "restore failed: {err}");
    assert!(stdout.contains("links "), "{stdout}");
    assert_eq!(mode(&restored.join("master.key")), 0o600);
    let key = s.key.clone();
    drop(s);

    // The operator kept the first key; the restored folder must accept it as it was.
    std::fs::write(restored.join("initial-api-key"), format!("{key}\n")).unwrap();
    let r = TestServer::start_in(
        &restored,
        Arc::new(customerlink::clock::ManualClock::new()),
        |_| {},
    );
    let links = listing(&r);
    for created in &before {
        let link = &created["Link"];
        let uid = link["CustomerLinkUID"].as_str().unwrap();
        let got = r.get(&format!("/v1/customerlink/{uid}")).expect(200);
        assert_eq!(got["Link"]["ResourceUid"], link["ResourceUid"]);
        assert_eq!(got["Link"]["TokenHash"], link["TokenHash"]);
        assert_eq!(got["Link"]["RecipientEmail"], link["RecipientEmail"]);
        assert!(links.contains_key(uid));
        // The portal URL minted before the backup still opens: same token hash key.
        let token = crate::support::portal_token(created);
        let landing = Req::new(r.addr, "GET", &format!("/portal/{token}"))
            .header("Accept", "application/json")
            .send();
        let want = if uid == revoked { 404 } else { 200 };
        assert_eq!(landing.status, want, "portal landing of {uid}: {landing:?}");
    }
    assert_eq!(links[&revoked]["Status"], "Revoked");
    let unknown = Req::new(r.addr, "GET", &format!("/portal/{}", "A".repeat(43)))
        .header("Accept", "application/json")
        .send();
    assert_eq!(unknown.status, 404);
    let (dir, _) = r.stop();
    assert!(dir.is_none(), "the restored folder is ours");
    let (code, out_check, err) = cli(&["check", "--data", path(&restored)]);
    assert_eq!(code, 0, "check of the restored folder: {out_check}{err}");
    assert!(
        out_check.contains(&format!("links {} ", links.len())),
        "{out_check}"
    );
}

#[test]
fn restore_refuses_a_used_folder_and_a_damaged_file() {
    if crate::support::embedded_only("restore of the file") {
        return;
    }
    let s = TestServer::start();
    create(&s, 1);
    let (dir, _) = s.stop();
    let dir = dir.unwrap();
    let out = tempfile::tempdir().unwrap();
    let file = out.path().join("offline.backup");
    let (code, _, err) = cli(&["backup", path(&file), "--data", path(dir.path())]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("read directly"),
        "no server: offline backup: {err}"
    );

    let (code, _, err) = cli(&["restore", path(&file), "--data", path(dir.path())]);
    assert_eq!(code, 1);
    assert!(err.contains("not empty"), "{err}");

    let mut bytes = std::fs::read(&file).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x55;
    let damaged = out.path().join("damaged.backup");
    std::fs::write(&damaged, &bytes).unwrap();
    let target = out.path().join("target");
    let (code, _, err) = cli(&["restore", path(&damaged), "--data", path(&target)]);
    assert_eq!(code, 1);
    assert!(err.contains("not a usable backup"), "{err}");
    assert!(
        !target.exists(),
        "nothing of a refused restore is left behind"
    );
}

#[test]
fn compact_shrinks_a_stopped_folder_and_refuses_a_running_one() {
    if crate::support::embedded_only("compaction of the file") {
        return;
    }
    let s = TestServer::start_with(|c| {
        c.purge.retention_ms = 0;
        c.purge.interval = std::time::Duration::from_millis(30);
    });
    let made: Vec<Value> = (0..400).map(|n| create(&s, n)).collect();
    let (code, _, err) = cli(&["compact", "--data", path(&s.data)]);
    assert_eq!(code, 1, "a running server holds the database");
    assert!(err.contains("in use"), "{err}");
    for m in &made[..380] {
        let uid = m["Link"]["CustomerLinkUID"].as_str().unwrap();
        s.post(&format!("/v1/customerlink/{uid}/revoke"), json!({}))
            .expect(200);
    }
    s.clock.advance_hours(1);
    wait_until(
        || {
            let metrics = Req::new(s.addr, "GET", "/metrics").send().body;
            metrics.contains("customerlink_purge_links_total 380")
        },
        "purge",
    );
    let (dir, _) = s.stop();
    let dir = dir.unwrap();
    let state_dir = dir.path();
    let before = std::fs::metadata(state_dir.join("customerlink.redb"))
        .unwrap()
        .len();
    let (code, out, err) = cli(&["compact", "--data", path(state_dir)]);
    assert_eq!(code, 0, "{err}");
    let after = std::fs::metadata(state_dir.join("customerlink.redb"))
        .unwrap()
        .len();
    assert!(after <= before, "{before} -> {after}: {out}");
    let (code, out, err) = cli(&["check", "--data", path(state_dir)]);
    assert_eq!(code, 0, "{out}{err}");
}

#[test]
fn health_and_metrics_report_the_service() {
    let s = TestServer::start();
    assert_eq!(Req::new(s.addr, "GET", "/health/live").send().status, 200);
    let ready = Req::new(s.addr, "GET", "/health/ready").send();
    assert_eq!((ready.status, ready.body.as_str()), (200, "ready\n"));
    for n in 0..3 {
        create(&s, n);
    }
    s.get("/v1/customerlink/00000000000000000000000000000001")
        .expect(404);
    let m = Req::new(s.addr, "GET", "/metrics").send();
    assert_eq!(m.status, 200);
    assert!(
        m.header("content-type")
            .unwrap()
            .starts_with("text/plain; version=0.0.4")
    );
    for line in [
        "customerlink_http_requests_total{operation=\"CustomerLinkCreateRequest\",status=\"200\"} 3",
        "customerlink_http_requests_total{operation=\"CustomerLinkRequest\",status=\"404\"} 1",
        "customerlink_http_request_duration_seconds_count{operation=\"CustomerLinkCreateRequest\"} 3",
        "customerlink_links{status=\"live\"} 3",
    ] {
        assert!(
            m.body.lines().any(|l| l == line),
            "missing {line}:\n{}",
            m.body
        );
    }
    let commits = m
        .body
        .lines()
        .find_map(|l| l.strip_prefix("customerlink_writer_commits_total "));
    assert!(
        commits
            .and_then(|c| c.parse::<u64>().ok())
            .is_some_and(|c| c >= 3),
        "{}",
        m.body
    );
    assert!(
        m.body
            .contains("customerlink_writer_commit_seconds_bucket{le=\"+Inf\"}")
    );
    assert!(m.body.contains("customerlink_purge_runs_total"));
    assert!(
        m.body
            .contains("# TYPE customerlink_delivery_attempts_total counter")
    );
}

#[test]
fn metrics_key_and_request_ids() {
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("metrics-key");
    std::fs::write(&key_file, "scrape-secret\n").unwrap();
    let kf = key_file.clone();
    let s = TestServer::start_with(move |c| c.metrics.key_file = Some(kf));
    assert_eq!(Req::new(s.addr, "GET", "/metrics").send().status, 401);
    assert_eq!(
        Req::new(s.addr, "GET", "/metrics")
            .bearer(&s.key)
            .send()
            .status,
        401,
        "a tenant key is not the metrics key"
    );
    assert_eq!(
        Req::new(s.addr, "GET", "/metrics")
            .bearer("scrape-secret")
            .send()
            .status,
        200
    );
    assert_eq!(
        Req::new(s.addr, "GET", "/health/ready").send().status,
        200,
        "health needs no key"
    );
    assert_eq!(
        Req::new(s.addr, "GET", "/admin/backup")
            .bearer(&s.key)
            .send()
            .status,
        401,
        "tenant keys never back up"
    );

    let echoed = s
        .req("GET", "/v1/contact")
        .header("X-Request-Id", "trace-42")
        .send();
    assert_eq!(echoed.header("x-request-id"), Some("trace-42"));
    let fresh = s
        .req("GET", "/v1/contact")
        .header("X-Request-Id", "bad id!")
        .send();
    let id = fresh.header("x-request-id").unwrap();
    assert!(
        id.len() == 32 && id.chars().all(|c| c.is_ascii_hexdigit()),
        "{id}"
    );
}

#[test]
fn logs_carry_request_ids_and_never_a_secret() {
    let dir = tempfile::tempdir().unwrap();
    let log_path = dir.path().join("server.log");
    let data = dir.path().join("data");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_customerlink"))
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--log-level",
            "debug",
            "--data",
            path(&data),
        ])
        .stderr(std::fs::File::create(&log_path).unwrap())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let addr: std::net::SocketAddr = loop {
        let log = std::fs::read_to_string(&log_path).unwrap_or_default();
        if let Some(rest) = log.split("address=").nth(1) {
            break rest.split_whitespace().next().unwrap().parse().unwrap();
        }
        assert!(std::time::Instant::now() < deadline, "no address in {log}");
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    let key = std::fs::read_to_string(data.join("initial-api-key"))
        .unwrap()
        .trim()
        .to_owned();
    let body = json!({"ResourceType": "Quote", "ResourceUid": uid(3), "RecipientEmail": "log@example.com"});
    let created = Req::new(addr, "POST", "/v1/customerlink")
        .header("X-Api-Key", &key)
        .json(&body)
        .send()
        .expect(200);
    let token = crate::support::portal_token(&created);
    let json_req = |m: &str, p: &str| Req::new(addr, m, p).header("Accept", "application/json");
    assert_eq!(
        json_req("GET", &format!("/portal/{token}")).send().status,
        200
    );
    assert_eq!(
        json_req("POST", &format!("/portal/{token}/open"))
            .send()
            .status,
        200
    );
    let wrong = format!("{key}x");
    assert_eq!(
        Req::new(addr, "GET", "/v1/contact")
            .bearer(&wrong)
            .send()
            .status,
        401
    );
    let traced = Req::new(addr, "GET", "/v1/contact")
        .bearer(&key)
        .header("X-Request-Id", "trace-77")
        .send();
    assert_eq!(traced.status, 200);
    let operator_key = std::fs::read_to_string(data.join("operator-key"))
        .unwrap()
        .trim()
        .to_owned();
    let pid = child.id().to_string();
    assert!(
        std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    assert!(child.wait().unwrap().success());

    let log = std::fs::read_to_string(&log_path).unwrap();
    for secret in [&key, &wrong, &token, &operator_key] {
        assert!(
            !log.contains(secret.as_str()),
            "a secret reached the log:\n{log}"
        );
    }
    assert!(
        !log.contains("/portal/"),
        "portal paths (which hold tokens) are not logged:\n{log}"
    );
    let traced_line = log
        .lines()
        .find(|l| l.contains("trace-77"))
        .unwrap_or_else(|| panic!("no request id in\n{log}"));
    assert!(
        traced_line.contains("ContactListRequest") && traced_line.contains("status=200"),
        "{traced_line}"
    );
    assert!(
        log.lines()
            .any(|l| l.contains("PortalOpenRequest") && l.contains("status=200")),
        "{log}"
    );
    assert!(
        !data.join("operator-key").exists(),
        "a clean stop withdraws the operator key"
    );
}
