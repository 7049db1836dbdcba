//! Verifiable evidence (issue 15 §3): `GET /v1/customerlink/{uid}/evidence` is signed with the
//! service's Ed25519 key and carries the access log's hash chain, kept at write time. The
//! CLI (`customerlink evidence verify`) accepts an untouched document, names the row of a store
//! edit, rejects a document changed after signing, and finds the same key from the data folder
//! as `GET /v1/evidence/key` shows. On either store.

use std::path::Path;

use base64::Engine as _;
use serde_json::{Value, json};

use crate::support::sinks::wait_until;
use crate::support::{Req, TestServer, cli, on_postgres, portal_token, postgres, uid};

/// A Quote link with lifecycle rows (created, opened, revoked with a reason) and an
/// aggregated noise row (denied opens, counted twice); returns its uid.
fn link_with_events(s: &TestServer) -> String {
    let body = json!({"ResourceType": "Quote", "ResourceUid": uid(1),
                      "RecipientEmail": "a@example.com"});
    let created = s.post("/v1/customerlink", body).expect(200);
    let token = portal_token(&created);
    let link = created["Link"]["CustomerLinkUID"]
        .as_str()
        .unwrap()
        .to_owned();
    let open = || {
        Req::new(s.addr, "POST", &format!("/portal/{token}/open"))
            .header("User-Agent", "Opener/1.0")
            .send()
    };
    open().expect(200);
    let reason = json!({"Reason": "Policy cancelled"});
    s.post(&format!("/v1/customerlink/{link}/revoke"), reason)
        .expect(200);
    for _ in 0..2 {
        assert_eq!(open().status, 404);
        s.flush_landing_log();
        wait_until(|| denied_count(s, &link) > 0, "denied opens logged");
    }
    wait_until(|| denied_count(s, &link) == 2, "both denials counted");
    link
}

fn denied_count(s: &TestServer, link: &str) -> u64 {
    let log = s.get(&format!("/v1/customerlink/{link}/log")).expect(200);
    let rows = log["AccessLog"].as_array().unwrap().clone();
    let denied = rows.iter().find(|r| r["EventType"] == "OpenDenied");
    denied.map_or(0, |r| r["Count"].as_u64().unwrap())
}

fn evidence(s: &TestServer, link: &str) -> Value {
    s.get(&format!("/v1/customerlink/{link}/evidence"))
        .expect(200)
}

fn public_key(s: &TestServer) -> String {
    let answer = s.get("/v1/evidence/key").expect(200);
    answer["PublicKey"].as_str().unwrap().to_owned()
}

/// Runs `customerlink evidence verify` on `doc` with `key_args`; (exit code, stdout).
fn verify(doc: &Value, key_args: &[&str]) -> (i32, String) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("evidence.json");
    std::fs::write(&file, serde_json::to_vec_pretty(doc).unwrap()).unwrap();
    let mut args = vec!["evidence", "verify", file.to_str().unwrap()];
    args.extend(key_args);
    let (code, out, err) = cli(&args);
    (code, format!("{out}{err}"))
}

fn row_id(doc: &Value, event: &str) -> u64 {
    let rows = doc["AccessLog"].as_array().unwrap();
    let row = rows.iter().find(|r| r["EventType"] == event).unwrap();
    row["Id"].as_u64().unwrap()
}

#[test]
fn evidence_of_a_link_verifies_and_a_changed_document_fails_its_signature() {
    let s = TestServer::start();
    let link = link_with_events(&s);
    let doc = evidence(&s, &link);
    let key = public_key(&s);
    let rows = doc["AccessLog"].as_array().unwrap();
    let events: Vec<&str> = rows
        .iter()
        .map(|r| r["EventType"].as_str().unwrap())
        .collect();
    for event in ["Created", "Opened", "Revoked", "OpenDenied"] {
        assert!(events.contains(&event), "{event} in {events:?}");
    }
    assert_eq!(rows[0]["PrevHash"], "0".repeat(64), "{doc}");
    assert!(
        rows.iter()
            .all(|r| r["Chain"] == "Chained" && r["Hash"].is_string())
    );
    assert_eq!(doc["Link"]["Status"], "Revoked");
    assert_eq!(doc["Format"], "customerlink-evidence/1");
    let (code, out) = verify(&doc, &["--key", &key]);
    assert_eq!(code, 0, "{out}");
    assert!(out.starts_with("OK"), "{out}");

    let mut changed = doc.clone();
    changed["Link"]["MaxViews"] = json!(1000);
    let (code, out) = verify(&changed, &["--key", &key]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("FAIL Signature: does not verify"), "{out}");
    assert!(!out.contains("row Id"), "the chain itself is intact: {out}");

    let mut edited = doc.clone();
    let revoked = row_id(&doc, "Revoked");
    let row = edited["AccessLog"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|r| r["Id"] == revoked)
        .unwrap();
    row["DetailMessage"] = json!("Customer request");
    let (code, out) = verify(&edited, &["--key", &key]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("FAIL Signature"), "{out}");
    let fault = format!("FAIL row Id {revoked}: Hash does not match");
    assert!(out.contains(&fault), "{out}");
}

#[test]
fn the_data_folders_key_is_the_published_key() {
    let s = TestServer::start();
    let link = link_with_events(&s);
    let doc = evidence(&s, &link);
    let data = s.data.to_str().unwrap().to_owned();
    let (code, out) = verify(&doc, &["--data", &data]);
    assert_eq!(code, 0, "{out}");

    let master: [u8; 32] = std::fs::read(s.data.join("master.key"))
        .unwrap()
        .try_into()
        .unwrap();
    let keys = customerlink::domain::token::HashKeys::derive(
        &customerlink::domain::token::Secret::new(master),
    );
    let derived =
        base64::engine::general_purpose::STANDARD.encode(keys.evidence_public_key().unwrap());
    assert_eq!(public_key(&s), derived);

    let empty = tempfile::tempdir().unwrap();
    let (code, out) = verify(&doc, &["--data", empty.path().to_str().unwrap()]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("no --key given"), "{out}");
    assert!(
        !empty.path().join("master.key").exists(),
        "verifying creates no secret"
    );

    let other = base64::engine::general_purpose::STANDARD.encode([7u8; 32]);
    let (code, out) = verify(&doc, &["--key", &other]);
    assert_eq!(code, 1, "another key: {out}");
    assert!(out.contains("FAIL Signature"), "{out}");
}

/// Rewrites the access-log rows of `link` in the stopped embedded store under `data`.
fn edit_embedded_log(
    data: &Path,
    change: impl Fn(&mut customerlink::domain::portal::AccessLogEntry),
) {
    use customerlink::domain::portal::AccessLogEntry;
    use redb::{ReadableTable, TableDefinition};
    const LOG: TableDefinition<(u128, u64), &[u8]> = TableDefinition::new("access_log");
    let db = redb::Database::open(data.join("customerlink.redb")).unwrap();
    let txn = db.begin_write().unwrap();
    {
        let mut table = txn.open_table(LOG).unwrap();
        let rows: Vec<((u128, u64), Vec<u8>)> = table
            .iter()
            .unwrap()
            .map(|r| {
                let (k, v) = r.unwrap();
                (k.value(), v.value().to_vec())
            })
            .collect();
        for (key, bytes) in rows {
            let mut entry: AccessLogEntry = rmp_serde::from_slice(&bytes).unwrap();
            change(&mut entry);
            let bytes = rmp_serde::to_vec_named(&entry).unwrap();
            table.insert(key, bytes.as_slice()).unwrap();
        }
    }
    txn.commit().unwrap();
}

/// Runs `sql` on the test server's PostgreSQL database.
fn edit_postgres(s: &TestServer, sql: &str) {
    let settings = crate::support::postgres_for(&s.data);
    postgres::shared().psql(&settings.dbname, sql);
}

#[test]
fn an_edit_of_a_stored_row_is_named_by_the_chain() {
    let s = TestServer::start();
    let link = link_with_events(&s);
    let revoked = row_id(&evidence(&s, &link), "Revoked");
    let s = if on_postgres() {
        let sql = format!("UPDATE access_log SET detail = 'Customer request' WHERE id = {revoked}");
        edit_postgres(&s, &sql);
        s
    } else {
        let edit = |e: &mut customerlink::domain::portal::AccessLogEntry| {
            if e.id == revoked {
                e.detail = Some("Customer request".into());
            }
        };
        s.restart_after(|data| edit_embedded_log(data, edit), |_| {})
            .0
    };
    let doc = evidence(&s, &link);
    let (code, out) = verify(&doc, &["--key", &public_key(&s)]);
    assert_eq!(code, 1, "{out}");
    let fault = format!("FAIL row Id {revoked}: Hash does not match the row's contents");
    assert!(out.contains(&fault), "{out}");
    assert!(
        !out.contains("Signature"),
        "the service signed what it holds: {out}"
    );
    let (dir, _) = s.stop();
    let dir = dir.expect("the server owned its data folder");
    let data = dir.path().to_str().expect("utf-8");
    let (code, out, err) = crate::support::cli(&["check", "--data", data]);
    assert_ne!(code, 0, "check sees the edit: {out}{err}");
    let broken = format!("chain broken at row Id {revoked}: Hash does not match");
    assert!(format!("{out}{err}").contains(&broken), "{out}{err}");
}

#[test]
fn rows_from_before_the_chain_are_unchained_and_the_chain_starts_after_them() {
    let s = TestServer::start();
    let created = s.quote_link(1, "a@example.com");
    let link = created["Link"]["CustomerLinkUID"]
        .as_str()
        .unwrap()
        .to_owned();
    let s = if on_postgres() {
        edit_postgres(&s, "UPDATE access_log SET hash = NULL, prev_hash = NULL");
        s
    } else {
        let strip = |e: &mut customerlink::domain::portal::AccessLogEntry| e.chain = None;
        s.restart_after(|data| edit_embedded_log(data, strip), |_| {})
            .0
    };
    s.post(&format!("/v1/customerlink/{link}/revoke"), json!({}))
        .expect(200);
    let doc = evidence(&s, &link);
    let rows = doc["AccessLog"].as_array().unwrap();
    assert_eq!(rows[0]["Chain"], "Unchained", "{doc}");
    assert!(rows[0].get("Hash").is_none_or(Value::is_null));
    let last = rows.last().unwrap();
    assert_eq!(
        (&last["EventType"], &last["Chain"]),
        (&json!("Revoked"), &json!("Chained"))
    );
    assert_eq!(last["PrevHash"], "0".repeat(64));
    let (code, out) = verify(&doc, &["--key", &public_key(&s)]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("unchained rows"), "{out}");
}

/// The Python block of docs/evidence.md, so the documented algorithm is the one that runs.
fn python_verifier() -> String {
    let doc =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/evidence.md")).unwrap();
    let start = doc.find("```python\n").unwrap() + "```python\n".len();
    let end = start + doc[start..].find("```").unwrap();
    doc[start..end].to_owned()
}

/// Runs the docs' verifier on `doc`; (exit code, output).
fn python_verify(script: &Path, doc: &Value, key: &str) -> (i32, String) {
    let file = script.with_file_name("evidence.json");
    std::fs::write(&file, serde_json::to_vec(doc).unwrap()).unwrap();
    let out = std::process::Command::new("python3")
        .arg(script)
        .arg(&file)
        .arg(key)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    (
        out.status.code().unwrap_or(-1),
        text + &String::from_utf8_lossy(&out.stderr),
    )
}

#[test]
fn the_python_verifier_of_the_docs_agrees() {
    let has_modules = std::process::Command::new("python3")
        .args(["-c", "import blake3, cryptography"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !has_modules {
        eprintln!("skipped: python3 with the blake3 and cryptography modules is not installed");
        return;
    }
    let s = TestServer::start();
    let link = link_with_events(&s);
    let doc = evidence(&s, &link);
    let key = public_key(&s);
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("verify.py");
    std::fs::write(&script, python_verifier()).unwrap();
    let (code, out) = python_verify(&script, &doc, &key);
    assert_eq!((code, out.trim()), (0, "OK"));

    let mut edited = doc.clone();
    let rows = edited["AccessLog"].as_array_mut().unwrap();
    let opened = rows
        .iter_mut()
        .find(|r| r["EventType"] == "Opened")
        .unwrap();
    opened["IpAddress"] = json!("198.51.100.7");
    let (code, out) = python_verify(&script, &edited, &key);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("FAIL Signature"), "{out}");
    assert!(out.contains(": Hash does not match"), "{out}");
}

#[test]
fn evidence_answers_in_every_format_and_only_for_the_callers_links() {
    let s = TestServer::start();
    let link = link_with_events(&s);
    for (format, member) in [
        ("xml", "Signature"),
        ("jsv", "Signature"),
        ("csv", "PrevHash"),
    ] {
        let r = s.get(&format!("/v1/customerlink/{link}/evidence?format={format}"));
        assert_eq!(r.status, 200, "{format}: {}", r.body);
        assert!(r.body.contains(member), "{format}: {}", r.body);
    }
    let missing = s.get(&format!("/v1/customerlink/{}/evidence", uid(77)));
    assert_eq!(missing.status, 404);
    let anonymous = Req::new(s.addr, "GET", "/v1/evidence/key").send();
    assert_eq!(anonymous.status, 401);
}
