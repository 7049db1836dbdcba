//! Issue 13: `customerlink migrate --to postgres://…` copies a stopped embedded store into an
//! empty PostgreSQL database. A data folder filled through a real server on redb (contacts,
//! live, passcode, revoked and expired links, a grant, noise rows, a delivery queued while
//! the relay is down, an idempotency key) is migrated; a server on the database with the
//! same folder (so the same master key) then answers the same JSON, opens the old URLs,
//! verifies the passcode, replays the key, and sends each queued delivery exactly once. A
//! second migrate into the now non-empty database is refused and changes nothing.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use customerlink::config::{Config, EmailSettings, StoreLocation};
use customerlink::domain::portal::GrantRecord;
use customerlink::domain::{LinkUid, TenantId, TokenHash, UnixMillis};
use customerlink::store::tables;
use serde_json::{Value, json};

use crate::support::postgres::shared;
use crate::support::sinks::{Mail, SmtpSink, wait_until};
use crate::support::{
    Req, Resp, TestServer, cli, create_key, email_via, link_uid, portal_token, uid,
};

const WORKER_INTERVAL: Duration = Duration::from_millis(200);
const IDEMPOTENCY_KEY: &str = "migrate-me-once";

/// Email through `relay`, retried after a minute; the store as `store` says.
fn configure(c: &mut Config, relay: &str, store: StoreLocation) {
    c.email = Some(EmailSettings {
        ..email_via(relay.to_owned())
    });
    c.delivery.worker_interval = WORKER_INTERVAL;
    c.delivery.backoff_initial = Duration::from_secs(60);
    c.store = store;
}

fn create(s: &TestServer, body: Value) -> Value {
    s.post("/v1/customerlink", body).expect(200)
}

fn create_with_key(s: &TestServer) -> Resp {
    s.req("POST", "/v1/customerlink")
        .header("Idempotency-Key", IDEMPOTENCY_KEY)
        .json(&json!({"ResourceType": "Quote", "ResourceUid": uid(1), "RecipientEmail": "live@example.com", "DeliverEmail": true}))
        .send()
}

fn portal(s: &TestServer, method: &str, token: &str, what: &str) -> Req {
    Req::new(s.addr, method, &format!("/portal/{token}{what}"))
}

/// What the staff API shows of the store: each link by uid (with its deliveries), its log,
/// and the list.
fn staff_view(s: &TestServer, uids: &[String]) -> Vec<Value> {
    let mut view = vec![s.get("/v1/customerlink").expect(200)];
    for u in uids {
        view.push(s.get(&format!("/v1/customerlink/{u}")).expect(200));
        view.push(s.get(&format!("/v1/customerlink/{u}/log")).expect(200));
    }
    view.push(s.get("/v1/contact/7").expect(200));
    view
}

/// `table redb N postgres M ok` lines as table → (N, M, verdict).
fn counts(out: &str) -> BTreeMap<String, (u64, u64, String)> {
    out.lines()
        .filter_map(|line| {
            let f: Vec<&str> = line.split(' ').take(6).collect();
            let [table, "redb", n, "postgres", m, verdict] = f[..] else {
                return None;
            };
            Some((
                table.to_owned(),
                (n.parse().ok()?, m.parse().ok()?, verdict.to_owned()),
            ))
        })
        .collect()
}

#[test]
fn issue17_migrate_carries_the_sealed_attachments_byte_for_byte() {
    use crate::attachments::{download, id_of, random_bytes, upload_raw};
    let s = TestServer::start_with(|c| c.store = StoreLocation::Redb);
    let files: Vec<(String, Vec<u8>)> = [(200_000, 4), (0, 5)]
        .into_iter()
        .map(|(len, seed)| {
            let data = random_bytes(len, seed);
            let (status, reply) = upload_raw(&s, &s.key, "moved.bin", &data);
            assert_eq!(status, 200, "{reply}");
            (id_of(&reply), data)
        })
        .collect();
    let key = s.key.clone();
    let (dir, clock) = s.stop();
    let dir = dir.unwrap();

    let cluster = shared();
    let db = cluster.create_database();
    let (code, out, err) = migrate(dir.path(), &cluster.url(&db));
    assert_eq!(code, 0, "{out}{err}");
    let counts = counts(&out);
    for (table, n) in [
        ("attachments", 2),
        ("attachments_by_idle", 2),
        ("attachment_chunks", 5),
    ] {
        assert_eq!(
            counts.get(table),
            Some(&(n, n, "ok".to_owned())),
            "{table}: {out}"
        );
    }
    let pg = StoreLocation::Postgres(cluster.settings(&db));
    let s = TestServer::start_in(dir.path(), clock, |c| c.store = pg.clone());
    for (id, data) in &files {
        let (status, _, body) = download(&s, &key, id);
        assert_eq!(status, 200, "{id} on PostgreSQL");
        assert!(body == *data, "{id} came back with other bytes");
    }
}

#[test]
fn issue17_migrate_refuses_a_store_missing_an_attachment_file() {
    use crate::attachments::{id_of, upload_raw};
    let s = TestServer::start_with(|c| c.store = StoreLocation::Redb);
    let (status, reply) = upload_raw(&s, &s.key, "gone.bin", b"gone");
    assert_eq!(status, 200, "{reply}");
    let (dir, _) = s.stop();
    let dir = dir.unwrap();
    let id = uuid::Uuid::parse_str(&id_of(&reply)).unwrap();
    let file = dir
        .path()
        .join("attachments")
        .join(format!("{}.sealed", id.simple()));
    std::fs::remove_file(file).unwrap();
    let cluster = shared();
    let db = cluster.create_database();
    let (code, out, err) = migrate(dir.path(), &cluster.url(&db));
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        err.contains(&format!("attachment {}", id.simple())),
        "{err}"
    );
    assert_eq!(cluster.psql(&db, "SELECT count(*) FROM attachments"), "0");
}

fn migrate(data: &Path, url: &str) -> (i32, String, String) {
    let d = data.to_str().unwrap();
    cli(&["migrate", "--to", url, "--data", d, "--store", "redb"])
}

/// A grant whose link was purged (purge forgets expired grants a bounded number per round, so
/// one can outlive its link), written straight into the stopped folder's file.
fn add_dangling_grant(data: &Path) {
    let db = redb::Database::open(data.join("customerlink.redb")).unwrap();
    let record = GrantRecord {
        link_uid: LinkUid::from_u128(0xdead),
        link_id: 77,
        tenant_id: TenantId::from_u128(0xdead),
        resource_type: "Quote".into(),
        resource_uid: uuid::Uuid::from_u128(1),
        recipient_display_name: None,
        recipient_email: None,
        recipient_phone: None,
        expires_at: UnixMillis::from_millis(1),
        token_hash: TokenHash([9; 32]),
    };
    let bytes = rmp_serde::to_vec_named(&record).unwrap();
    let txn = db.begin_write().unwrap();
    txn.open_table(tables::GRANTS)
        .unwrap()
        .insert([0xdd; 32], bytes.as_slice())
        .unwrap();
    txn.open_table(tables::GRANTS_BY_EXPIRY)
        .unwrap()
        .insert((1, [0xdd; 32]), ())
        .unwrap();
    txn.commit().unwrap();
}

fn code_in(mail: &Mail) -> Option<String> {
    let text = mail.unwrapped();
    let at = text.find("your code is ")? + "your code is ".len();
    Some(
        text[at..]
            .chars()
            .take_while(char::is_ascii_digit)
            .collect(),
    )
}

/// The filled data folder: what the test keeps of it.
struct Filled {
    live_token: String,
    live_url: String,
    live_uid: String,
    otp_token: String,
    revoked_token: String,
    expired_token: String,
    grant: String,
    uids: Vec<String>,
    before: Vec<Value>,
    statuses: Vec<u16>,
}

/// Fills a redb server's folder through its API, its relay down.
fn fill(s: &TestServer) -> Filled {
    s.put(
        "/v1/contact/7",
        json!({"FirstName": "Bo", "EmailWork": "bo@work.example"}),
    )
    .expect(200);
    let expired = create(
        s,
        json!({"ResourceType": "Quote", "ResourceUid": uid(4), "RecipientEmail": "e@example.com", "ExpiresInHours": 1}),
    );
    let revoked = create(
        s,
        json!({"ResourceType": "Quote", "ResourceUid": uid(3), "RecipientEmail": "r@example.com"}),
    );
    s.post(
        &format!("/v1/customerlink/{}/revoke", link_uid(&revoked)),
        json!({}),
    )
    .expect(200);
    s.clock.advance_millis(2 * 3_600_000);
    let live = create_with_key(s).expect(200);
    assert_eq!(
        live["DeliveryErrors"].as_array().map(Vec::len),
        Some(1),
        "{live}"
    );
    let otp = create(
        s,
        json!({"ResourceType": "Document", "ResourceUid": uid(2), "RecipientContactId": 7}),
    );
    let (live_token, otp_token) = (portal_token(&live), portal_token(&otp));
    // The passcode message is queued (and its first attempt fails: the relay is down).
    let sent = portal(s, "POST", &otp_token, "/otp").send().expect(200);
    assert_eq!(sent["OtpSent"], true, "{sent}");
    let grant = portal(s, "POST", &live_token, "/open").send().expect(200)["Grant"]
        .as_str()
        .unwrap()
        .to_owned();
    let tokens = [
        &live_token,
        &otp_token,
        &portal_token(&revoked),
        &portal_token(&expired),
    ];
    // Landing views: aggregated noise rows.
    let statuses = tokens
        .iter()
        .map(|t| portal(s, "GET", t, "").send().status)
        .collect();
    portal(s, "GET", &live_token, "").send().expect(200);
    s.flush_landing_log();
    let uids: Vec<String> = [&live, &otp, &revoked, &expired].map(link_uid).to_vec();
    wait_until(
        || {
            let log = s
                .get(&format!("/v1/customerlink/{}/log", uids[0]))
                .expect(200);
            log.to_string().contains("LandingViewed")
        },
        "the landing views logged",
    );
    s.job_round("outbox", WORKER_INTERVAL);
    wait_until(
        || {
            s.deliveries(&otp)
                .first()
                .is_some_and(|d| d["Attempts"] == 1)
        },
        "the passcode's first attempt",
    );
    Filled {
        live_url: live["PortalUrl"].as_str().unwrap().to_owned(),
        live_uid: uids[0].clone(),
        live_token,
        otp_token,
        revoked_token: portal_token(&revoked),
        expired_token: portal_token(&expired),
        grant,
        before: staff_view(s, &uids),
        uids,
        statuses,
    }
}

#[test]
fn issue13_migrate_copies_a_stopped_store_and_links_keep_working() {
    let sink = SmtpSink::start();
    let (port, relay) = (sink.port, sink.url());
    drop(sink);
    let s = TestServer::start_with(|c| configure(c, &relay, StoreLocation::Redb));
    let tenant = s.tenant_id();
    let filled = fill(&s);
    let (dir, clock) = s.stop();
    let dir = dir.unwrap();
    let d = dir.path().to_str().unwrap();
    add_dangling_grant(dir.path());
    let rs_key = create_key(
        dir.path(),
        &tenant,
        &["--role", "ResourceServer", "--store", "redb"],
    );

    let cluster = shared();
    let db = cluster.create_database();
    let url = cluster.url(&db);
    let (code, out, err) = migrate(dir.path(), &url);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        !format!("{out}{err}").contains(&cluster.password),
        "no password printed"
    );
    let counts = counts(&out);
    for (table, n) in [
        ("tenants", 1),
        ("api_keys", 2),
        ("contacts", 1),
        ("links", 5),
        ("links_by_revoked", 1),
        ("idempotency", 1),
        ("log_tombstones", 0),
    ] {
        assert_eq!(
            counts.get(table),
            Some(&(n, n, "ok".to_owned())),
            "{table}: {out}"
        );
    }
    for table in ["grants", "grants_by_expiry"] {
        assert_eq!(counts[table], (2, 1, "ok".to_owned()), "{out}");
    }
    assert!(
        out.contains("grants redb 2 postgres 1 ok (1 of purged links not copied)"),
        "{out}"
    );
    for table in [
        "outbox",
        "outbox_due",
        "access_log",
        "access_log_noise",
        "send_counts",
    ] {
        let (redb, pg, ok) = &counts[table];
        assert!(*redb > 0 && redb == pg && ok == "ok", "{table}: {out}");
    }
    // Every table but `meta`, and the attachments' sealed chunks.
    assert_eq!(counts.len(), tables::ALL.len(), "{out}");
    let master = dir.path().join("master.key");
    assert!(
        err.contains(&master.display().to_string()) && err.contains("master_secret_file"),
        "{err}"
    );

    let pg = StoreLocation::Postgres(cluster.settings(&db));
    let s = TestServer::start_in(dir.path(), clock, |c| configure(c, &relay, pg.clone()));
    assert_eq!(
        staff_view(&s, &filled.uids),
        filled.before,
        "the same JSON after the move"
    );
    let tokens = [
        &filled.live_token,
        &filled.otp_token,
        &filled.revoked_token,
        &filled.expired_token,
    ];
    let statuses: Vec<u16> = tokens
        .iter()
        .map(|t| portal(&s, "GET", t, "").send().status)
        .collect();
    assert_eq!(statuses, filled.statuses);
    assert_eq!(statuses[0], 200, "the live link lands");
    assert!(filled.live_url.ends_with(&filled.live_token));
    let introspected = s
        .req("POST", "/v1/customerlink/grant/introspect")
        .bearer(&rs_key)
        .json(&json!({"Grant": filled.grant}))
        .send()
        .expect(200);
    assert_eq!(introspected["Active"], true, "{introspected}");
    let replay = create_with_key(&s).expect(200);
    assert_eq!(replay["PortalUrl"].as_str(), Some(filled.live_url.as_str()));
    assert_eq!(link_uid(&replay), filled.live_uid);
    let newer = create(
        &s,
        json!({"ResourceType": "Quote", "ResourceUid": uid(9), "RecipientEmail": "n@example.com"}),
    );
    assert!(
        newer["Link"]["CustomerLinkId"].as_u64() > Some(5),
        "{newer}"
    );

    // The relay comes up: each queued delivery goes out once, from the new store.
    let sink = SmtpSink::start_on(port);
    s.clock.advance_millis(61_000);
    let mails = sink.wait_for(2);
    assert!(
        mails
            .iter()
            .any(|m| m.unwrapped().contains(&filled.live_url))
    );
    let code = mails.iter().find_map(code_in).expect("the passcode mail");
    let verified = portal(&s, "POST", &filled.otp_token, "/verify")
        .json(&json!({"Code": code}))
        .send()
        .expect(200);
    assert_eq!(verified["Verified"], true, "{verified}");
    s.job_round("outbox", WORKER_INTERVAL);
    s.clock.advance_millis(3_600_000);
    s.job_round("outbox", WORKER_INTERVAL);
    assert_eq!(sink.mails().len(), 2, "nothing sent twice");
    // A second instance with a folder of its own, pointed at the same master secret as the
    // migration advised: the old URL lands there too, and it made no key of its own.
    let other = tempfile::tempdir().unwrap();
    let key_file = "initial-api-key";
    std::fs::copy(dir.path().join(key_file), other.path().join(key_file)).unwrap();
    let second = TestServer::start_in(other.path(), std::sync::Arc::clone(&s.clock), |c| {
        configure(c, &relay, pg.clone());
        c.master_secret_file = Some(master.clone());
    });
    let landed = portal(&second, "GET", &filled.live_token, "").send();
    assert_eq!(landed.status, 200, "{landed:?}");
    second
        .get(&format!("/v1/customerlink/{}", filled.live_uid))
        .expect(200);
    assert!(!other.path().join("master.key").exists());
    drop((s, second));
    let (code, out, err) = cli(&["check", "--data", d, "--store", &url]);
    assert_eq!(code, 0, "{out}{err}");

    let links = cluster.psql(&db, "SELECT count(*) FROM links");
    let (code, out, err) = migrate(dir.path(), &url);
    assert_ne!(code, 0, "{out}");
    assert!(
        err.contains("not empty") && err.contains("nothing was written"),
        "{err}"
    );
    assert!(!err.contains(&cluster.password), "{err}");
    assert_eq!(cluster.psql(&db, "SELECT count(*) FROM links"), links);
    assert_eq!(links.trim(), "6");
}

#[test]
fn issue13_migrate_refuses_a_running_server_and_a_folder_without_a_store() {
    let s = TestServer::start_with(|c| c.store = StoreLocation::Redb);
    let cluster = shared();
    let db = cluster.create_database();
    let (code, out, err) = migrate(&s.data, &cluster.url(&db));
    assert_ne!(code, 0, "{out}");
    assert!(err.contains("stop it first"), "{err}");
    assert_eq!(
        cluster
            .psql(
                &db,
                "SELECT count(*) FROM pg_tables WHERE tablename = 'links'"
            )
            .trim(),
        "0"
    );
    drop(s);
    let empty = tempfile::tempdir().unwrap();
    let (code, _, err) = migrate(empty.path(), &cluster.url(&db));
    assert_ne!(code, 0);
    assert!(err.contains("no embedded store"), "{err}");
}
