//! Several instances on one PostgreSQL database, proven through HTTP only (issue 13,
//! "Semantics that must hold across instances"): real servers with separate data folders,
//! the same database and the same master secret. First start creates one tenant and key;
//! view, passcode, grant and resend budgets hold across instances; the outbox sends each
//! delivery once; a revoked key dies everywhere; PostgreSQL stopping is a 503, not a crash;
//! a killed instance loses no acknowledged write; purge on every instance purges once.
//! These tests start their own PostgreSQL whichever store the rest of the suite runs on.
//! Here: the site (database, secret, folders) and the vocabulary the submodules share.

mod admin;
mod budgets;
mod evidence;
mod faults;
mod outbox;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use customerlink::clock::ManualClock;
use customerlink::config::{Config, PgSettings, StoreLocation};
use serde_json::json;

use crate::support::postgres::{fresh_database, shared};
use crate::support::{Req, Resp, TestServer, cli, link_uid, portal_token, uid};

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

    /// `key create` for `tenant` against the shared database (instances may be running);
    /// `more` are further arguments (name, roles). Returns the key.
    fn create_key(&self, tenant: &str, user: &str, more: &[&str]) -> String {
        let mut args = vec!["key", "create", "--tenant", tenant, "--user", user];
        args.extend_from_slice(more);
        let (code, key, err) = self.cli(&args);
        assert_eq!(code, 0, "{err}");
        key.trim().to_owned()
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
