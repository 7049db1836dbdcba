//! Several instances on one PostgreSQL database, proven through HTTP only (issue 13,
//! "Semantics that must hold across instances"): real servers with separate data folders,
//! the same database and the same master secret. First start creates one tenant and key;
//! view, passcode, grant and resend budgets hold across instances; the outbox sends each
//! delivery once; a revoked key dies everywhere; PostgreSQL stopping is a 503, not a crash;
//! a killed instance loses no acknowledged write; purge on every instance purges once.
//! These tests start their own PostgreSQL whichever store the rest of the suite runs on.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use customerlink::clock::ManualClock;
use customerlink::config::{Config, PgSettings, StoreLocation};
use serde_json::json;

use crate::support::postgres::{Cluster, fresh_database, shared};
use crate::support::sinks::{SmtpSink, wait_until};
use crate::support::{
    Req, Resp, TestServer, cli, email_via, link_tenant, link_uid, portal_token, uid,
};

/// One database, one master secret, and the data folders of the instances sharing them.
struct Site {
    settings: PgSettings,
    /// `postgres://…` of the database, for the CLI and spawned binaries.
    url: String,
    secret: PathBuf,
    dir: tempfile::TempDir,
}

impl Site {
    /// A fresh database on the shared cluster and a new 32-byte master secret.
    fn new() -> Site {
        let settings = fresh_database();
        let url = shared().url(&settings.dbname);
        Site::on(settings, url)
    }

    fn on(settings: PgSettings, url: String) -> Site {
        let dir = tempfile::tempdir().expect("temp dir");
        let secret = dir.path().join("shared-master.key");
        let mut bytes = uuid::Uuid::new_v4().as_bytes().to_vec();
        bytes.extend_from_slice(uuid::Uuid::new_v4().as_bytes());
        customerlink::private_fs::write_private(&secret, &bytes).expect("write master secret");
        Site {
            settings,
            url,
            secret,
            dir,
        }
    }

    /// The data folder of instance `name` (its own, never shared).
    fn folder(&self, name: &str) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::create_dir_all(&path).expect("data folder");
        path
    }

    /// Starts instance `name` on the shared database and secret; `tweak` adds to the config.
    fn instance(
        &self,
        name: &str,
        clock: Arc<ManualClock>,
        tweak: impl FnOnce(&mut Config),
    ) -> TestServer {
        let (settings, secret) = (self.settings.clone(), self.secret.clone());
        TestServer::start_sharing(&self.folder(name), clock, move |c| {
            c.store = StoreLocation::Postgres(settings);
            c.master_secret_file = Some(secret);
            c.portal.requests_per_minute = 10_000;
            c.portal.verify_attempts_per_address = 10_000;
            tweak(c);
        })
    }

    /// Two instances, "a" (first: it creates the tenant and key) and "b"; both use `a`'s key.
    fn pair(&self, tweak: impl Fn(&mut Config)) -> (TestServer, TestServer) {
        let a = self.instance("a", Arc::new(ManualClock::new()), &tweak);
        let mut b = self.instance("b", Arc::new(ManualClock::new()), &tweak);
        assert!(
            !a.key.is_empty() && b.key.is_empty(),
            "only the first writes a key"
        );
        b.key = a.key.clone();
        (a, b)
    }

    /// Runs the binary with `args` plus `--store` and `--master-secret-file` of this site.
    fn cli(&self, args: &[&str]) -> (i32, String, String) {
        let secret = self.secret.to_str().expect("utf-8 path");
        let mut all = args.to_vec();
        all.extend(["--store", &self.url, "--master-secret-file", secret]);
        cli(&all)
    }
}

/// Runs `request(i)` for i in 0..n on `n` threads at once; returns the responses in order.
/// A 503 (the pool busy past its wait on this shared 2-core machine) is retried after its
/// `Retry-After`, as a client does: it promises that nothing was done.
fn at_once(n: usize, request: impl Fn(usize) -> Resp + Send + Sync + 'static) -> Vec<Resp> {
    let request = Arc::new(request);
    let threads: Vec<_> = (0..n)
        .map(|i| {
            let request = Arc::clone(&request);
            std::thread::spawn(move || {
                let mut r = request(i);
                for _ in 0..20 {
                    if r.status != 503 {
                        break;
                    }
                    assert!(r.header("retry-after").is_some(), "{r:?}");
                    std::thread::sleep(Duration::from_millis(200));
                    r = request(i);
                }
                r
            })
        })
        .collect();
    threads.into_iter().map(|t| t.join().unwrap()).collect()
}

/// The instance that serves request `i`: they alternate.
fn either(pair: &(TestServer, TestServer), i: usize) -> &TestServer {
    if i.is_multiple_of(2) {
        &pair.0
    } else {
        &pair.1
    }
}

fn quote(s: &TestServer, n: u128, max_views: u32, email: &str) -> (String, String) {
    let body = json!({"ResourceType": "Quote", "ResourceUid": uid(n), "RecipientEmail": email, "MaxViews": max_views});
    let created = s.post("/v1/customerlink", body).expect(200);
    (portal_token(&created), link_uid(&created))
}

fn portal(s: &TestServer, action: &str, token: &str) -> Req {
    Req::new(s.addr, "POST", &format!("/portal/{token}/{action}"))
}

/// The event types of a link's access log, as `s` serves it.
fn events(s: &TestServer, link: &str) -> Vec<String> {
    let log = s.get(&format!("/v1/customerlink/{link}/log")).expect(200);
    log["AccessLog"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["EventType"].as_str().unwrap().to_owned())
        .collect()
}

fn count(events: &[String], kind: &str) -> usize {
    events.iter().filter(|e| *e == kind).count()
}

fn statuses(responses: &[Resp]) -> Vec<u16> {
    responses.iter().map(|r| r.status).collect()
}

#[test]
fn two_instances_starting_together_on_an_empty_database_create_one_tenant_and_key() {
    let site = Arc::new(Site::new());
    let starts: Vec<_> = ["a", "b"]
        .into_iter()
        .map(|name| {
            let site = Arc::clone(&site);
            std::thread::spawn(move || site.instance(name, Arc::new(ManualClock::new()), |_| {}))
        })
        .collect();
    let servers: Vec<TestServer> = starts.into_iter().map(|t| t.join().unwrap()).collect();
    let keys: Vec<&TestServer> = servers.iter().filter(|s| !s.key.is_empty()).collect();
    assert_eq!(
        keys.len(),
        1,
        "exactly one data folder gets initial-api-key"
    );
    let written = servers
        .iter()
        .filter(|s| s.data.join("initial-api-key").exists())
        .count();
    assert_eq!(written, 1);
    let key = keys[0].key.clone();
    for s in &servers {
        let r = Req::new(s.addr, "GET", "/v1/customerlink")
            .bearer(&key)
            .send();
        assert_eq!(r.status, 200, "every instance accepts the one key: {r:?}");
    }
    let db = &site.settings.dbname;
    assert_eq!(shared().psql(db, "SELECT count(*) FROM tenants"), "1");
    assert_eq!(shared().psql(db, "SELECT count(*) FROM api_keys"), "1");
}

#[test]
fn opens_spread_over_two_instances_succeed_exactly_max_views_times() {
    let site = Site::new();
    let pair = Arc::new(site.pair(|_| {}));
    let (token, link) = quote(&pair.0, 1, 3, "v@example.com");
    let p = Arc::clone(&pair);
    let opens = at_once(24, move |i| portal(either(&p, i), "open", &token).send());
    let codes = statuses(&opens);
    assert_eq!(codes.iter().filter(|c| **c == 200).count(), 3, "{codes:?}");
    assert_eq!(codes.iter().filter(|c| **c == 404).count(), 21, "{codes:?}");
    for s in [&pair.0, &pair.1] {
        let shown = s.get(&format!("/v1/customerlink/{link}")).expect(200);
        assert_eq!(shown["Link"]["ViewCount"], 3);
        assert_eq!(shown["Link"]["Status"], "Exhausted");
        assert_eq!(count(&events(s, &link), "Opened"), 3);
    }
}

#[test]
fn wrong_passcodes_from_two_instances_spend_one_budget_and_lock_the_link_once() {
    let sink = SmtpSink::start();
    let site = Site::new();
    let pair = Arc::new(site.pair(|c| c.email = Some(email_via(sink.url()))));
    let created = pair
        .0
        .post(
            "/v1/customerlink",
            json!({"ResourceType": "Document", "ResourceUid": uid(2), "RecipientEmail": "d@example.com"}),
        )
        .expect(200);
    let (token, link) = (portal_token(&created), link_uid(&created));
    portal(&pair.1, "otp", &token).send().expect(200);
    let p = Arc::clone(&pair);
    let t = token.clone();
    let tries = at_once(30, move |i| {
        portal(either(&p, i), "verify", &t)
            .json(&json!({"Code": "000000"}))
            .send()
    });
    assert!(
        tries.iter().all(|r| r.status == 200 || r.status == 404),
        "{:?}",
        statuses(&tries)
    );
    let verified = tries
        .iter()
        .filter(|r| r.status == 200 && r.json()["Verified"] == true);
    assert_eq!(verified.count(), 0);
    for s in [&pair.0, &pair.1] {
        let shown = s.get(&format!("/v1/customerlink/{link}")).expect(200);
        assert_eq!(shown["Link"]["Status"], "Locked");
        assert_eq!(count(&events(s, &link), "Locked"), 1, "locked once");
        assert_eq!(portal(s, "open", &token).send().status, 404);
    }
}

#[test]
fn a_grant_is_exchanged_once_across_instances() {
    let site = Site::new();
    let pair = site.pair(|_| {});
    let (token, _) = quote(&pair.0, 3, 5, "g@example.com");
    let tenant = link_tenant(&pair.0.quote_link(4, "t@example.com"));
    // An admin command against the database while both instances run.
    let (code, key, err) = site.cli(&[
        "key",
        "create",
        "--tenant",
        &tenant,
        "--user",
        &uid(0x5a),
        "--role",
        "ResourceServer",
    ]);
    assert_eq!(code, 0, "{err}");
    let rs_key = key.trim().to_owned();
    let grant = portal(&pair.1, "open", &token).send().expect(200)["Grant"]
        .as_str()
        .unwrap()
        .to_owned();
    let pair = Arc::new(pair);
    let p = Arc::clone(&pair);
    let answers = at_once(12, move |i| {
        Req::new(
            either(&p, i).addr,
            "POST",
            "/v1/customerlink/grant/introspect",
        )
        .bearer(&rs_key)
        .json(&json!({"Grant": grant}))
        .send()
    });
    let active: Vec<bool> = answers
        .iter()
        .map(|r| r.expect(200)["Active"] == true)
        .collect();
    assert_eq!(active.iter().filter(|a| **a).count(), 1, "{active:?}");
}

#[test]
fn a_resend_on_one_instance_kills_the_old_url_on_both_at_once() {
    let site = Site::new();
    let pair = Arc::new(site.pair(|c| c.delivery.resend_cooldown = Duration::ZERO));
    let (old, link) = quote(&pair.0, 5, 50, "r@example.com");
    assert_eq!(
        portal(&pair.1, "open", &old).send().status,
        200,
        "served by b"
    );
    let resent = pair
        .0
        .post(&format!("/v1/customerlink/{link}/resend"), json!({}))
        .expect(200);
    let fresh = portal_token(&resent);
    for s in [&pair.0, &pair.1] {
        assert_eq!(portal(s, "open", &old).send().status, 404, "old URL dead");
    }
    assert_eq!(portal(&pair.1, "open", &fresh).send().status, 200);

    // Resends from both instances at once: whichever are accepted, one URL survives.
    let p = Arc::clone(&pair);
    let l = link.clone();
    let resends = at_once(8, move |i| {
        either(&p, i).post(&format!("/v1/customerlink/{l}/resend"), json!({}))
    });
    let tokens: Vec<String> = resends
        .iter()
        .filter(|r| r.status == 200)
        .map(|r| portal_token(&r.json()))
        .collect();
    assert!(!tokens.is_empty(), "{:?}", statuses(&resends));
    let live: Vec<&String> = tokens
        .iter()
        .filter(|t| portal(&pair.1, "open", t).send().status == 200)
        .collect();
    assert_eq!(live.len(), 1, "one URL survives {} resends", tokens.len());
    assert_eq!(portal(&pair.0, "open", &fresh).send().status, 404);
}

/// How far the clock moves to make a failed delivery due again: past the 1 s backoff, far
/// below the worker's lease (60 s and two attempt timeouts), so a lease never expires
/// under an attempt in progress. (Moving it past the lease during a round makes the other
/// instance retake and send what is being sent: that is what a lease expiry means.)
const RETRY: Duration = Duration::from_secs(2);

/// Two instances sending through `sink`, sharing one clock (as synced hosts do).
fn senders(site: &Site, sink_url: &str) -> (TestServer, TestServer) {
    let clock = Arc::new(ManualClock::new());
    let tweak = |c: &mut Config| {
        c.email = Some(email_via(sink_url));
        c.delivery.backoff_initial = Duration::from_secs(1);
        c.delivery.backoff_max = Duration::from_secs(1);
        c.delivery.attempt_timeout = Duration::from_secs(5);
        c.delivery.worker_interval = Duration::from_millis(50);
        c.delivery.max_attempts = 50;
    };
    let a = site.instance("a", Arc::clone(&clock), tweak);
    let mut b = site.instance("b", clock, tweak);
    b.key = a.key.clone();
    (a, b)
}

/// Runs outbox rounds on both instances until `sink` holds `n` messages (a first attempt
/// that outlived its create call is retried 30 s later: the clock moves until then).
fn send_until(pair: &(TestServer, TestServer), sink: &SmtpSink, n: usize) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while sink.mails().len() < n {
        assert!(
            Instant::now() < deadline,
            "only {} sent",
            sink.mails().len()
        );
        for s in [&pair.0, &pair.1] {
            s.job_round("outbox", RETRY);
        }
    }
}

/// Asserts the sink holds exactly one message for each of `recipients` (and nothing else).
fn exactly_once(sink: &SmtpSink, recipients: &BTreeSet<String>) {
    let mails = sink.mails();
    let got: Vec<String> = mails.iter().flat_map(|m| m.rcpt.clone()).collect();
    let distinct: BTreeSet<String> = got.iter().cloned().collect();
    assert_eq!(got.len(), recipients.len(), "duplicates or strays: {got:?}");
    assert_eq!(&distinct, recipients);
}

#[test]
fn queued_deliveries_are_sent_exactly_once_by_two_running_instances() {
    let sink = SmtpSink::start();
    let site = Site::new();
    let pair = Arc::new(senders(&site, &sink.url()));
    let p = Arc::clone(&pair);
    let created = at_once(16, move |i| {
        let body = json!({"ResourceType": "Quote", "ResourceUid": uid(i as u128 + 1), "RecipientEmail": format!("m{i}@example.com"), "DeliverEmail": true});
        either(&p, i).post("/v1/customerlink", body)
    });
    assert!(
        created.iter().all(|r| r.status == 200),
        "{:?}",
        statuses(&created)
    );
    let recipients: BTreeSet<String> = (0..16).map(|i| format!("m{i}@example.com")).collect();
    send_until(&pair, &sink, 16);
    for s in [&pair.0, &pair.1] {
        s.job_round("outbox", Duration::from_secs(5));
    }
    exactly_once(&sink, &recipients);
}

#[test]
fn deliveries_queued_while_the_relay_was_down_go_out_once_when_it_returns() {
    let port = SmtpSink::start().stop();
    let site = Site::new();
    let pair = Arc::new(senders(&site, &format!("smtp://127.0.0.1:{port}")));
    let p = Arc::clone(&pair);
    let created = at_once(12, move |i| {
        let body = json!({"ResourceType": "Quote", "ResourceUid": uid(i as u128 + 1), "RecipientEmail": format!("q{i}@example.com"), "DeliverEmail": true});
        either(&p, i).post("/v1/customerlink", body)
    });
    assert!(
        created.iter().all(|r| r.status == 200),
        "{:?}",
        statuses(&created)
    );
    // Both instances try (and fail) a while, each lease going to one of them.
    for _ in 0..3 {
        for s in [&pair.0, &pair.1] {
            s.job_round("outbox", RETRY);
        }
    }
    for r in &created {
        let deliveries = either(&pair, 0).deliveries(&r.json());
        let d = &deliveries[0];
        assert_eq!(d["Status"], "Queued", "{d}");
        assert!(
            d["Attempts"].as_u64().unwrap() >= 2,
            "retried while down: {d}"
        );
    }
    let sink = SmtpSink::start_on(port);
    let recipients: BTreeSet<String> = (0..12).map(|i| format!("q{i}@example.com")).collect();
    send_until(&pair, &sink, 12);
    for s in [&pair.0, &pair.1] {
        s.job_round("outbox", RETRY);
    }
    exactly_once(&sink, &recipients);
}

#[test]
fn a_slow_relay_gets_each_message_once_though_a_round_outlives_its_lease() {
    // Each message takes 2.5 s of the shared clock: a round of 32 (80 s) outlives the
    // worker's 70 s lease (60 s + two 5 s attempt timeouts), so the other instance retakes
    // the rest of the round while the first is still working through it.
    let port = SmtpSink::start().stop();
    let site = Site::new();
    let pair = Arc::new(senders(&site, &format!("smtp://127.0.0.1:{port}")));
    let p = Arc::clone(&pair);
    let created = at_once(40, move |i| {
        let body = json!({"ResourceType": "Quote", "ResourceUid": uid(i as u128 + 1), "RecipientEmail": format!("s{i}@example.com"), "DeliverEmail": true});
        either(&p, i).post("/v1/customerlink", body)
    });
    assert!(
        created.iter().all(|r| r.status == 200),
        "{:?}",
        statuses(&created)
    );
    let sink = SmtpSink::start_on(port);
    sink.each_message_takes(Arc::clone(&pair.0.clock), 2_500);
    let recipients: BTreeSet<String> = (0..40).map(|i| format!("s{i}@example.com")).collect();
    send_until(&pair, &sink, 40);
    for s in [&pair.0, &pair.1] {
        s.job_round("outbox", RETRY);
    }
    exactly_once(&sink, &recipients);
}

/// The id of the key named `name` of `tenant`, as `key list` shows it.
fn key_id(site: &Site, tenant: &str, name: &str) -> String {
    let (code, list, err) = site.cli(&["key", "list", "--tenant", tenant]);
    assert_eq!(code, 0, "{err}");
    list.lines()
        .find(|l| l.contains(&format!("\t{name}\t")))
        .and_then(|l| l.split('\t').next())
        .unwrap_or_else(|| panic!("no key {name}: {list}"))
        .to_owned()
}

#[test]
fn a_key_revoked_through_one_instance_is_refused_there_at_once_and_on_the_other_within_the_cache_time()
 {
    let site = Site::new();
    let (a, b) = site.pair(|c| {
        if let StoreLocation::Postgres(s) = &mut c.store {
            s.key_cache = Duration::from_secs(5);
        }
    });
    let tenant = link_tenant(&a.quote_link(1, "k@example.com"));
    let (code, key, err) = site.cli(&[
        "key",
        "create",
        "--tenant",
        &tenant,
        "--user",
        &uid(0x5b),
        "--name",
        "doomed",
    ]);
    assert_eq!(code, 0, "{err}");
    let doomed = key.trim().to_owned();
    let list = |s: &TestServer| {
        Req::new(s.addr, "GET", "/v1/customerlink")
            .bearer(&doomed)
            .send()
            .status
    };
    assert_eq!(
        (list(&a), list(&b)),
        (200, 200),
        "valid, and cached on both"
    );

    let id = key_id(&site, &tenant, "doomed");
    let folder = a.data.to_str().unwrap().to_owned();
    let (code, out, err) = site.cli(&["key", "revoke", &id, "--data", &folder]);
    assert_eq!((code, out.trim()), (0, id.as_str()), "{err}");
    assert_eq!(
        list(&a),
        401,
        "refused at once by the instance that revoked it"
    );
    b.clock.advance_millis(5_001);
    assert_eq!(
        list(&b),
        401,
        "refused by the other once its cache time passed"
    );
    let ok = |s: &TestServer| s.get("/v1/customerlink").status;
    assert_eq!((ok(&a), ok(&b)), (200, 200), "other keys keep working");
}

#[test]
fn postgres_stopped_is_503_with_retry_after_and_both_instances_serve_again_by_themselves() {
    let cluster = Cluster::start();
    let db = cluster.create_database();
    let site = Site::on(cluster.settings(&db), cluster.url(&db));
    let (a, b) = site.pair(|_| {});
    let (token, link) = quote(&a, 1, 50, "f@example.com");

    cluster.stop();
    for s in [&a, &b] {
        let create = s.post(
            "/v1/customerlink",
            json!({"ResourceType": "Quote", "ResourceUid": uid(2), "RecipientEmail": "x@example.com"}),
        );
        assert_eq!(create.status, 503, "{create:?}");
        assert!(create.header("retry-after").is_some(), "{create:?}");
        let read = s.get(&format!("/v1/customerlink/{link}"));
        assert_eq!(read.status, 503, "{read:?}");
        assert!(read.header("retry-after").is_some());
        let open = portal(s, "open", &token).send();
        assert_eq!(open.status, 503, "{open:?}");
        assert_eq!(Req::new(s.addr, "GET", "/health/ready").send().status, 503);
        assert_eq!(Req::new(s.addr, "GET", "/health/live").send().status, 200);
    }

    cluster.start_again();
    for s in [&a, &b] {
        wait_until(
            || Req::new(s.addr, "GET", "/health/ready").send().status == 200,
            "ready again",
        );
        s.get(&format!("/v1/customerlink/{link}")).expect(200);
        assert_eq!(portal(s, "open", &token).send().status, 200);
    }
}

/// The real binary serving one data folder of a site; killed with SIGKILL on drop.
struct Process {
    child: Child,
    addr: SocketAddr,
}

impl Process {
    fn start(site: &Site, data: &Path) -> Process {
        let mut child = Command::new(env!("CARGO_BIN_EXE_customerlink"))
            .args(["serve", "--listen", "127.0.0.1:0", "--data"])
            .arg(data)
            .args(["--store", &site.url, "--master-secret-file"])
            .arg(&site.secret)
            .env_remove("CUSTOMERLINK_CONFIG")
            .env_remove("CUSTOMERLINK_STORE")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start customerlink");
        let stderr = child.stderr.take().expect("piped stderr");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let deadline = Instant::now() + Duration::from_secs(30);
        let addr = loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = rx.recv_timeout(left).expect("the binary logs its address");
            if let Some(rest) = line.split("address=").nth(1) {
                let text = rest.split_whitespace().next().unwrap_or_default();
                break text.parse().expect("listen address");
            }
        };
        std::thread::spawn(move || while rx.recv().is_ok() {});
        Process { child, addr }
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        self.kill();
    }
}

#[test]
fn a_killed_instance_loses_no_acknowledged_create_and_the_other_keeps_serving() {
    let site = Arc::new(Site::new());
    let survivor = Arc::new(site.instance("a", Arc::new(ManualClock::new()), |_| {}));
    let mut victim = Process::start(&site, &site.folder("b"));
    let victim_addr = victim.addr;
    let key = survivor.key.clone();
    let r = Req::new(victim_addr, "GET", "/v1/customerlink")
        .bearer(&key)
        .send();
    assert_eq!(r.status, 200, "the spawned instance serves: {r:?}");

    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let workers: Vec<_> = (0..4)
        .map(|w| {
            let (s, stop, key) = (Arc::clone(&survivor), Arc::clone(&stop), key.clone());
            std::thread::spawn(move || {
                let mut acknowledged = Vec::new();
                let mut answered_after_kill = 0;
                for n in 0.. {
                    let done = stop.load(std::sync::atomic::Ordering::SeqCst);
                    if done && answered_after_kill >= 5 {
                        break;
                    }
                    let addr = if w % 2 == 0 { s.addr } else { victim_addr };
                    let addr = if done { s.addr } else { addr };
                    let body = json!({"ResourceType": "Quote", "ResourceUid": uid((w * 100_000 + n + 1) as u128), "RecipientEmail": "k@example.com"});
                    let r = Req::new(addr, "POST", "/v1/customerlink")
                        .bearer(&key)
                        .json(&body)
                        .send();
                    if r.status == 200 {
                        acknowledged.push((link_uid(&r.json()), addr == victim_addr));
                        answered_after_kill += usize::from(done);
                    }
                }
                acknowledged
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(1500));
    victim.kill();
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    let acknowledged: Vec<(String, bool)> = workers
        .into_iter()
        .flat_map(|w| w.join().unwrap())
        .collect();
    let by_victim = acknowledged.iter().filter(|(_, v)| *v).count();
    assert!(by_victim > 10, "too little load on the victim: {by_victim}");
    eprintln!(
        "kill -9 under load: {} acknowledged creates, {by_victim} by the killed instance",
        acknowledged.len()
    );
    for (link, _) in &acknowledged {
        survivor
            .get(&format!("/v1/customerlink/{link}"))
            .expect(200);
    }
    let total = survivor.get("/v1/customerlink").expect(200)["Total"]
        .as_u64()
        .unwrap();
    // A create the victim committed but died before answering may be there too.
    assert!(total >= acknowledged.len() as u64, "{total} listed");

    let scratch = site.folder("check");
    let (code, out, err) = site.cli(&["check", "--data", scratch.to_str().unwrap()]);
    assert_eq!(code, 0, "check clean: {out}{err}");
}

/// `customerlink_purge_links_total` of one instance.
fn purged(s: &TestServer) -> u64 {
    let metrics = Req::new(s.addr, "GET", "/metrics").send().body;
    metrics
        .lines()
        .find_map(|l| l.strip_prefix("customerlink_purge_links_total "))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(0)
}

#[test]
fn purge_on_both_instances_at_once_purges_every_retired_link_once() {
    let site = Site::new();
    let clock = Arc::new(ManualClock::new());
    let tweak = |c: &mut Config| {
        c.purge.interval = Duration::from_secs(60);
        c.purge.retention_ms = 3_600_000;
        c.purge.batch_size = 3;
    };
    let a = site.instance("a", Arc::clone(&clock), tweak);
    let mut b = site.instance("b", Arc::clone(&clock), tweak);
    b.key = a.key.clone();
    let mut retired = Vec::new();
    let mut kept = Vec::new();
    for n in 1..=20 {
        let s = if n % 2 == 0 { &a } else { &b };
        let (_, link) = quote(s, n, 5, "p@example.com");
        if n % 4 == 3 {
            kept.push(link);
        } else {
            s.post(&format!("/v1/customerlink/{link}/revoke"), json!({}))
                .expect(200);
            retired.push(link);
        }
    }
    clock.advance_hours(2);
    wait_until(
        || {
            retired
                .iter()
                .all(|l| a.get(&format!("/v1/customerlink/{l}")).status == 404)
        },
        "purge",
    );
    for s in [&a, &b] {
        s.job_round("purge", Duration::from_secs(60));
    }
    assert_eq!(
        purged(&a) + purged(&b),
        retired.len() as u64,
        "each retired link purged once (a {}, b {})",
        purged(&a),
        purged(&b)
    );
    for link in &kept {
        b.get(&format!("/v1/customerlink/{link}")).expect(200);
    }
    let scratch = site.folder("check");
    let (code, out, err) = site.cli(&["check", "--data", scratch.to_str().unwrap()]);
    assert_eq!(code, 0, "check clean: {out}{err}");
    assert!(out.contains(&format!("links {}", kept.len())), "{out}");
}
