//! Issue 18, item 4: upgrades are tested, not hoped for. `tests/fixtures/v1/` is a data folder
//! written by the build of storage format 1 (tenants, keys, contacts, live, revoked, expired
//! and used-up links, a queued delivery, a grant, access logs, a document share and its
//! attachment), with `manifest.json` saying what a later build must find in it. Every build
//! opens it, serves its links by their original URLs, lists them and passes `check`; a build
//! of a newer format migrates it at start after keeping a copy of the old file, and refuses
//! to with `--no-migrate`. The fixture of each older format stays in the suite.
//!
//! The fixture is written by `write_the_fixture_of_this_format` (ignored; run it once per new
//! format: `cargo test --test tests upgrade::write_the_fixture -- --ignored`), which makes
//! `tests/fixtures/v<SCHEMA_VERSION>/` from fixed inputs on a manual clock.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use customerlink::app::upgrade::backup_path;
use customerlink::clock::{Clock, ManualClock};
use customerlink::config::Config;
use customerlink::domain::UnixMillis;
use customerlink::store::tables::{META, SCHEMA_VERSION};
use redb::ReadableDatabase;
use serde_json::{Value, json};

use crate::support::{Req, TestServer, cli, email_via, embedded_only, new_tenant_key, uid};

/// The fixture of format 1, the first the service shipped.
const V1: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/v1");
/// The fixture of format 2 (records as MessagePack arrays).
const V2: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/v2");
/// Every committed fixture: each release opens all of them.
const FIXTURES: &[&str] = &[V1, V2];

/// When the fixture was written (2026-11-01T00:00:00Z); its clock ends a few hours later.
const WRITTEN_AT: i64 = 1_793_491_200_000;

/// Files of a data folder that make up a fixture (the rest is written by each start).
const FIXTURE_FILES: &[&str] = &["customerlink.redb", "master.key", "initial-api-key"];

fn manifest(fixture: &str) -> Value {
    let text = std::fs::read_to_string(Path::new(fixture).join("manifest.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// A private copy of `fixture` (the server must not change the committed files).
fn copy_of(fixture: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_tree(Path::new(fixture), dir.path());
    dir
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// A server on `data` with the fixture's clock, `tweak` applied.
fn start_on(data: &Path, m: &Value, tweak: impl FnOnce(&mut Config)) -> TestServer {
    let clock = ManualClock::at(UnixMillis::from_millis(m["clock_ms"].as_i64().unwrap()));
    TestServer::start_in(data, Arc::new(clock), tweak)
}

fn path_str(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn format_of(database: &Path) -> u64 {
    let db = redb::Database::open(database).unwrap();
    let txn = db.begin_read().unwrap();
    let meta = txn.open_table(META).unwrap();
    meta.get("schema_version").unwrap().unwrap().value()
}

/// Every link and share of the manifest answers its recorded status at its original path.
fn assert_serves(s: &TestServer, m: &Value) {
    for link in m["links"].as_array().unwrap() {
        let path = link["path"].as_str().unwrap();
        let r = Req::new(s.addr, "GET", path)
            .header("Accept", "application/json")
            .send();
        assert_eq!(r.status, link["status"], "{}: {path}: {r:#?}", link["name"]);
    }
}

#[test]
fn issue_18_every_fixture_opens_serves_its_links_lists_them_and_passes_check() {
    if embedded_only("the fixture is an embedded data folder") {
        return;
    }
    for fixture in FIXTURES {
        opens_serves_lists_and_checks(fixture);
    }
}

fn opens_serves_lists_and_checks(fixture: &str) {
    let m = manifest(fixture);
    let dir = copy_of(fixture);
    let s = start_on(dir.path(), &m, |_| {});
    assert_eq!(s.key, m["api_key"], "the initial key still authenticates");
    assert_serves(&s, &m);
    let listed = s.get("/v1/customerlink").expect(200);
    assert_eq!(listed["Total"], m["tenant_a_links"], "{listed}");
    let other = s
        .req("GET", "/v1/customerlink")
        .bearer(m["tenant_b_key"].as_str().unwrap())
        .send()
        .expect(200);
    assert_eq!(other["Total"], m["tenant_b_links"], "{other}");
    for contact in m["contacts"].as_array().unwrap() {
        s.get(&format!("/v1/contact/{contact}")).expect(200);
    }
    let rows = log_rows(&s, m["live_uid"].as_str().unwrap());
    let written = m["live_log_rows"].as_u64().unwrap();
    assert!(rows >= written, "{rows} access log rows, {written} written");
    drop(s);
    let (code, report, err) = cli(&["check", "--data", path_str(dir.path())]);
    assert_eq!(code, 0, "{report}{err}");
    assert!(report.contains("attachments 1"), "{report}");
}

#[test]
fn issue_18_a_fixture_older_than_this_build_is_migrated_after_a_copy_is_kept() {
    if embedded_only("migration rewrites the embedded file") {
        return;
    }
    let m = manifest(V1);
    let fixture_format = m["schema_version"].as_u64().unwrap();
    let dir = copy_of(V1);
    let database = dir.path().join("customerlink.redb");
    let backup = backup_path(&database, fixture_format);
    let s = start_on(dir.path(), &m, |_| {});
    assert_serves(&s, &m);
    drop(s);
    assert_eq!(
        format_of(&database),
        SCHEMA_VERSION,
        "opened at this format"
    );
    // Live once a format change adds its step (SCHEMA_VERSION > the fixture's).
    assert_eq!(
        backup.exists(),
        fixture_format < SCHEMA_VERSION,
        "a copy is kept exactly when the file was migrated"
    );
    if backup.exists() {
        assert_eq!(
            format_of(&backup),
            fixture_format,
            "the copy is the old file"
        );
    }
}

#[test]
fn issue_18_no_migrate_starts_on_a_current_file_and_refuses_an_older_one() {
    if embedded_only("migration rewrites the embedded file") {
        return;
    }
    let m = manifest(V1);
    let dir = copy_of(V1);
    if m["schema_version"].as_u64().unwrap() == SCHEMA_VERSION {
        let s = start_on(dir.path(), &m, |c| c.migrate = false);
        assert_serves(&s, &m);
        return;
    }
    let (code, _, err) = serve(dir.path(), &["--no-migrate"]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("--no-migrate"), "{err}");
    assert!(!backup_path(&dir.path().join("customerlink.redb"), 1).exists());
}

#[test]
fn issue_18_a_file_older_than_any_migration_step_is_refused_and_left_alone() {
    if embedded_only("the format marker is in the embedded file") {
        return;
    }
    let dir = copy_of(V1);
    let database = dir.path().join("customerlink.redb");
    set_format(&database, 0);
    let (code, _, err) = serve(dir.path(), &[]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("database format 0 is older than any this build can migrate"),
        "{err}"
    );
    let (code, _, err) = cli(&["check", "--data", path_str(dir.path())]);
    assert_eq!(code, 1, "an admin command refuses it too: {err}");
    assert_eq!(format_of(&database), 0, "the file is left as it was");
    assert!(!backup_path(&database, 0).exists(), "no copy when refused");
}

#[test]
fn issue_18_an_admin_command_does_not_migrate_an_older_file() {
    if embedded_only("the format marker is in the embedded file") {
        return;
    }
    if SCHEMA_VERSION < 2 {
        eprintln!("no older format exists yet");
        return;
    }
    let dir = copy_of(V1);
    let (code, _, err) = cli(&["check", "--data", path_str(dir.path())]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("customerlink serve"), "says what to do: {err}");
}

fn log_rows(s: &TestServer, link_uid: &str) -> u64 {
    let log = s
        .get(&format!("/v1/customerlink/{link_uid}/log"))
        .expect(200);
    log["AccessLog"].as_array().unwrap().len() as u64
}

/// Runs `customerlink serve` on `data` (loopback, any port) with `more` flags; for starts that
/// must fail, so it returns.
fn serve(data: &Path, more: &[&str]) -> (i32, String, String) {
    let mut args = vec!["serve", "--data", path_str(data), "--listen", "127.0.0.1:0"];
    args.extend(more);
    cli(&args)
}

fn set_format(database: &Path, version: u64) {
    let db = redb::Database::open(database).unwrap();
    let txn = db.begin_write().unwrap();
    txn.open_table(META)
        .unwrap()
        .insert("schema_version", version)
        .unwrap();
    txn.commit().unwrap();
}

/// Writes `tests/fixtures/v<SCHEMA_VERSION>/` (refusing to replace one): see the module doc.
#[test]
#[ignore = "writes the upgrade fixture of a new format; run by hand once per format"]
fn write_the_fixture_of_this_format() {
    if embedded_only("the fixture is an embedded data folder") {
        return;
    }
    let target = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(format!("v{SCHEMA_VERSION}"));
    assert!(!target.exists(), "{} exists", target.display());
    let (dir, m) = fill_a_data_folder();
    copy_fixture_files(dir.path(), &target);
    let text = serde_json::to_string_pretty(&m).unwrap();
    std::fs::write(target.join("manifest.json"), text + "\n").unwrap();
}

/// A stopped, compacted data folder holding one of everything, and its manifest.
fn fill_a_data_folder() -> (tempfile::TempDir, Value) {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::at(UnixMillis::from_millis(WRITTEN_AT)));
    // A relay nobody answers: the delivery stays queued.
    let relay = |c: &mut Config| c.email = Some(email_via("smtp://127.0.0.1:9"));
    let s = TestServer::start_in(dir.path(), Arc::clone(&clock), relay);
    let api_key = s.key.clone();
    drop(s);
    let (_, tenant_b_key) = new_tenant_key(dir.path(), "Tenant B");
    let s = TestServer::start_in(dir.path(), Arc::clone(&clock), relay);
    let mut m = fill(&s, &api_key, &tenant_b_key);
    m["clock_ms"] = json!(clock.now().as_i64());
    drop(s);
    let (code, _, err) = cli(&["compact", "--data", path_str(dir.path())]);
    assert_eq!(code, 0, "{err}");
    (dir, m)
}

/// Makes the records through the API; answers the manifest (without the clock).
fn fill(s: &TestServer, api_key: &str, tenant_b_key: &str) -> Value {
    for (id, name) in [(7, "Bo"), (8, "Cy")] {
        let body = json!({"FirstName": name, "LastName": "Lind", "EmailWork": format!("{name}@example.com")});
        s.put(&format!("/v1/contact/{id}"), body).expect(200);
    }
    let create = |n: u128, extra: Value| {
        let mut body =
            json!({"ResourceType": "Quote", "ResourceUid": uid(n), "ExpiresInHours": 720});
        for (k, v) in extra.as_object().unwrap() {
            body[k] = v.clone();
        }
        s.post("/v1/customerlink", body).expect(200)
    };
    let to_ann = json!({"RecipientEmail": "ann@example.com"});
    let live = create(1, to_ann.clone());
    let delivered = create(2, json!({"RecipientContactId": 7, "DeliverEmail": true}));
    let revoked = create(3, to_ann.clone());
    let expired = create(
        4,
        json!({"RecipientEmail": "ann@example.com", "ExpiresInHours": 1}),
    );
    let used_up = create(
        5,
        json!({"RecipientEmail": "ann@example.com", "MaxViews": 1}),
    );
    let other = s
        .req("POST", "/v1/customerlink")
        .bearer(tenant_b_key)
        .json(&json!({"ResourceType": "Invoice", "ResourceUid": uid(6), "RecipientEmail": "bea@example.com"}))
        .send()
        .expect(200);
    let revoke = format!("/v1/customerlink/{}/revoke", link_uid(&revoked));
    s.post(&revoke, json!({})).expect(200);
    let path = |created: &Value| format!("/portal/{}", crate::support::portal_token(created));
    Req::new(s.addr, "GET", &path(&live)).send().expect(200);
    Req::new(s.addr, "POST", &format!("{}/open", path(&live)))
        .send()
        .expect(200);
    Req::new(s.addr, "POST", &format!("{}/open", path(&used_up)))
        .send()
        .expect(200);
    let share = share_a_document(s);
    s.clock.advance_hours(2);
    s.flush_landing_log();
    std::thread::sleep(std::time::Duration::from_millis(500));
    let mut links = Vec::new();
    for (name, created, status) in [
        ("live", &live, 200),
        ("delivered", &delivered, 200),
        ("revoked", &revoked, 404),
        ("expired", &expired, 404),
        ("used up", &used_up, 404),
        ("tenant B", &other, 200),
    ] {
        links.push(json!({"name": name, "path": path(created), "status": status}));
    }
    links.push(json!({"name": "document share", "path": share, "status": 200}));
    let m = json!({
        "schema_version": SCHEMA_VERSION,
        "api_key": api_key,
        "tenant_b_key": tenant_b_key,
        "tenant_a_links": 5,
        "tenant_b_links": 1,
        "contacts": [7, 8],
        "live_uid": link_uid(&live),
        "live_log_rows": log_rows(s, &link_uid(&live)),
        "links": links,
    });
    assert_serves(s, &m);
    m
}

/// Uploads a small attachment and shares it; answers the share's path.
fn share_a_document(s: &TestServer) -> String {
    let reply = s
        .req("PUT", "/v1/attachment")
        .header("Content-Type", "application/octet-stream")
        .header("Content-Disposition", "attachment; filename=\"quote.pdf\"")
        .raw_body(b"%PDF-1.4 fixture".to_vec())
        .send()
        .expect(200);
    let attachment = reply["AttachmentId"].as_str().unwrap();
    let shared = s
        .post(
            "/v1/documentshare",
            json!({"AttachmentId": attachment, "RecipientContactId": 0, "RecipientEmail": "ann@example.com", "IsAdhoc": true, "ExpiresInHours": 0, "MaxViews": 0}),
        )
        .expect(200);
    let url = shared["ShareUrl"].as_str().unwrap();
    format!("/share/{}", url.rsplit('/').next().unwrap())
}

fn link_uid(created: &Value) -> String {
    crate::support::link_uid(created)
}

fn copy_fixture_files(data: &Path, target: &Path) {
    std::fs::create_dir_all(target).unwrap();
    for name in FIXTURE_FILES {
        std::fs::copy(data.join(name), target.join(name)).unwrap();
    }
    copy_tree(&data.join("attachments"), &target.join("attachments"));
}
