//! Crash safety of the real binary: several clients create and revoke links while the server
//! is killed with SIGKILL at random moments, round after round. After every kill `check`
//! must pass on the data folder, and after every restart each acknowledged (2xx) create is
//! present with its data, each acknowledged revoke is in force, and every link that exists is
//! reachable through every index (tenant listing, resource listing, get by uid) — nothing is
//! half-present. The seed is printed; `CRASH_SEED=<n>` replays its schedule: the same
//! requests per client and the same kill points (after the same count of acknowledged
//! creates). The threads' interleaving is the OS's, so which request is in flight at a kill
//! may differ.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::{Req, Resp, cli, uid};

const ROUNDS: usize = 12;
const CLIENTS: usize = 6;
const RESOURCE_TYPES: [&str; 4] = ["Quote", "Invoice", "Policy", "Claim"];
const RESOURCE_UIDS: u128 = 4;
/// A round kills the server after 1 to this many acknowledged creates (with more in flight).
const KILL_AFTER_ACKS: u64 = 60;

/// A tiny deterministic generator (xorshift64*), so a failing run can be replayed.
#[derive(Clone)]
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// The real binary serving a data folder; its stderr is drained so it never blocks.
struct Server {
    child: Child,
    addr: SocketAddr,
    key: String,
}

impl Server {
    fn start(data: &Path) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_customerlink"))
            .args(["serve", "--listen", "127.0.0.1:0", "--data"])
            .arg(data)
            .env_remove("CUSTOMERLINK_CONFIG")
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
        let addr = wait_for_address(&rx);
        // Keep draining (the receiver must outlive the server's writes to the pipe).
        std::thread::spawn(move || while rx.recv().is_ok() {});
        let key = std::fs::read_to_string(data.join("initial-api-key"))
            .expect("initial key")
            .trim()
            .to_owned();
        Server { child, addr, key }
    }

    fn req(&self, method: &str, path: &str) -> Req {
        Req::new(self.addr, method, path).bearer(&self.key)
    }

    fn kill(mut self) {
        self.child.kill().expect("SIGKILL");
        self.child.wait().expect("reap");
    }

    /// SIGTERM, then waits for a clean exit.
    fn stop(mut self) {
        let pid = self.child.id().to_string();
        let status = Command::new("kill").args(["-TERM", &pid]).status();
        assert!(status.is_ok_and(|s| s.success()), "kill -TERM {pid}");
        let status = self.child.wait().expect("wait");
        assert!(status.success(), "clean stop exits 0, got {status}");
    }
}

pub(crate) fn wait_for_address(rx: &std::sync::mpsc::Receiver<String>) -> SocketAddr {
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut seen = Vec::new();
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        let Ok(line) = rx.recv_timeout(left) else {
            break;
        };
        if let Some(rest) = line.split("address=").nth(1) {
            let text = rest.split_whitespace().next().unwrap_or_default();
            return text.parse().expect("listen address");
        }
        seen.push(line);
    }
    panic!("server did not report its address; stderr: {seen:#?}");
}

/// What the clients were told.
#[derive(Default)]
struct Ledger {
    /// uid → the link as the create reply showed it.
    acked: HashMap<String, Value>,
    /// In ack order, to pick revoke targets.
    uids: Vec<String>,
    revoked: HashSet<String>,
    attempted_creates: usize,
    unexpected: Vec<Resp>,
}

/// Drives creates (3 in 4) and revokes until the server stops answering.
fn client(addr: SocketAddr, key: String, ledger: Arc<Mutex<Ledger>>, mut rng: Rng, tag: String) {
    for n in 0.. {
        let target = {
            let l = ledger.lock().unwrap();
            (rng.below(4) == 0 && !l.uids.is_empty())
                .then(|| l.uids[rng.below(l.uids.len() as u64) as usize].clone())
        };
        let resp = match target {
            Some(uid) => {
                let r = Req::new(addr, "POST", &format!("/v1/customerlink/{uid}/revoke"))
                    .bearer(&key)
                    .send();
                if let (200, Some(link)) = (r.status, acked_link(&r)) {
                    assert_eq!(link["Status"], "Revoked", "{r:?}");
                    ledger.lock().unwrap().revoked.insert(uid);
                }
                r
            }
            None => {
                let body = json!({
                    "ResourceType": RESOURCE_TYPES[rng.below(4) as usize],
                    "ResourceUid": uid(1 + u128::from(rng.below(RESOURCE_UIDS as u64))),
                    "RecipientEmail": format!("{tag}-{n}@example.com"),
                });
                ledger.lock().unwrap().attempted_creates += 1;
                let r = Req::new(addr, "POST", "/v1/customerlink")
                    .bearer(&key)
                    .json(&body)
                    .send();
                if let (200, Some(link)) = (r.status, acked_link(&r)) {
                    let uid = link["CustomerLinkUID"].as_str().unwrap().to_owned();
                    let mut l = ledger.lock().unwrap();
                    l.uids.push(uid.clone());
                    l.acked.insert(uid, link);
                }
                r
            }
        };
        match resp.status {
            0 => return,
            200 => {}
            _ => ledger.lock().unwrap().unexpected.push(resp),
        }
    }
}

/// The `Link` of a complete 200 reply (a reply cut short by the kill is no acknowledgement).
fn acked_link(r: &Resp) -> Option<Value> {
    serde_json::from_str::<Value>(&r.body)
        .ok()
        .map(|v| v["Link"].clone())
        .filter(Value::is_object)
}

/// Every link the tenant listing shows, by uid, after checking `Total` against the pages.
fn all_links(s: &Server) -> BTreeMap<String, Value> {
    let mut links = BTreeMap::new();
    let mut total = None;
    loop {
        let page = s
            .req(
                "GET",
                &format!("/v1/customerlink?Take=500&Skip={}", links.len()),
            )
            .send()
            .expect(200);
        total.get_or_insert(page["Total"].as_u64().unwrap());
        let rows = page["Links"].as_array().unwrap();
        for link in rows {
            let uid = link["CustomerLinkUID"].as_str().unwrap().to_owned();
            assert!(links.insert(uid, link.clone()).is_none(), "listed twice");
        }
        if rows.is_empty() {
            break;
        }
    }
    assert_eq!(Some(links.len() as u64), total, "Total matches the pages");
    links
}

/// The resource index holds exactly the listed links, with the same data.
fn check_resource_index(s: &Server, listed: &BTreeMap<String, Value>) {
    let mut seen = HashSet::new();
    for rt in RESOURCE_TYPES {
        for ru in 1..=RESOURCE_UIDS {
            let body = s
                .req(
                    "GET",
                    &format!("/v1/customerlink/resource/{rt}/{}", uid(ru)),
                )
                .send()
                .expect(200);
            for link in body["Links"].as_array().unwrap() {
                let uid = link["CustomerLinkUID"].as_str().unwrap();
                assert_eq!(listed.get(uid), Some(link), "resource index entry {uid}");
                assert!(seen.insert(uid.to_owned()));
            }
        }
    }
    assert_eq!(seen.len(), listed.len(), "resource index covers every link");
}

/// The stored link equals what the create reply acknowledged (revocation aside).
fn assert_same_link(stored: &Value, acked: &Value) {
    for (field, value) in acked.as_object().unwrap() {
        if field == "Status" || field.starts_with("Revoked") {
            continue;
        }
        assert_eq!(&stored[field], value, "field {field} of {stored}");
    }
}

/// Everything acknowledged is there; everything there is whole. Returns the link count.
fn verify(s: &Server, ledger: &Ledger, round_uids: &[String]) -> usize {
    let listed = all_links(s);
    check_resource_index(s, &listed);
    for (uid, link) in &ledger.acked {
        let stored = listed
            .get(uid)
            .unwrap_or_else(|| panic!("acknowledged create {uid} lost"));
        assert_same_link(stored, link);
    }
    for uid in &ledger.revoked {
        assert_eq!(
            listed[uid]["Status"], "Revoked",
            "acknowledged revoke of {uid} lost"
        );
        assert!(listed[uid].get("RevokedAtUtc").is_some());
    }
    let unacked = listed.keys().filter(|u| !ledger.acked.contains_key(*u));
    for uid in unacked.chain(round_uids) {
        let got = s
            .req("GET", &format!("/v1/customerlink/{uid}"))
            .send()
            .expect(200);
        let mut link = got["Link"].clone();
        link.as_object_mut().unwrap().remove("Deliveries");
        assert_eq!(link, listed[uid], "get by uid agrees with the listing");
    }
    assert!(
        listed.len() <= ledger.attempted_creates,
        "no link from nowhere"
    );
    listed.len()
}

fn check_data(data: &Path) -> String {
    let (code, out, err) = cli(&["check", "--data", data.to_str().unwrap()]);
    assert_eq!(code, 0, "check failed:\n{out}\n{err}");
    out
}

/// Waits until `count` creates in all were acknowledged (the kill point is an event, so a
/// replayed seed kills at the same point of the load, not after the same wall time).
fn wait_for_acks(ledger: &Mutex<Ledger>, count: usize) {
    let give_up = Instant::now() + Duration::from_secs(60);
    while ledger.lock().unwrap().uids.len() < count {
        assert!(
            Instant::now() < give_up,
            "the load stalled before {count} acks"
        );
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// Runs one round of load on `s` and kills it after a seeded number of acknowledged creates;
/// returns the uids acked in it.
fn load_and_kill(
    s: Server,
    ledger: &Arc<Mutex<Ledger>>,
    rng: &mut Rng,
    round: usize,
) -> Vec<String> {
    let before = ledger.lock().unwrap().uids.len();
    let clients: Vec<_> = (0..CLIENTS)
        .map(|c| {
            let (addr, key, ledger) = (s.addr, s.key.clone(), Arc::clone(ledger));
            let seed = Rng(rng.next() | 1);
            let tag = format!("r{round}c{c}");
            std::thread::spawn(move || client(addr, key, ledger, seed, tag))
        })
        .collect();
    let kill_after = before + 1 + rng.below(KILL_AFTER_ACKS) as usize;
    wait_for_acks(ledger, kill_after);
    s.kill();
    for c in clients {
        c.join().expect("client thread");
    }
    ledger.lock().unwrap().uids[before..].to_vec()
}

#[test]
fn acknowledged_writes_survive_kill_9() {
    if crate::support::embedded_only("a kill -9 of the only process writing the file") {
        return;
    }
    let seed = std::env::var("CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .subsec_nanos();
            u64::from(nanos) | 1
        });
    eprintln!("crash test seed: CRASH_SEED={seed}");
    let mut rng = Rng(seed);
    let dir = tempfile::tempdir().unwrap();
    let ledger = Arc::new(Mutex::new(Ledger::default()));
    let mut server = Server::start(dir.path());
    for round in 0..ROUNDS {
        let round_uids = load_and_kill(server, &ledger, &mut rng, round);
        check_data(dir.path());
        server = Server::start(dir.path());
        let l = ledger.lock().unwrap();
        assert!(
            l.unexpected.is_empty(),
            "unexpected replies: {:#?}",
            l.unexpected
        );
        let count = verify(&server, &l, &round_uids);
        eprintln!(
            "round {round}: {} acked this round, {count} links stored, {} acked in all, {} attempted, {} revokes acked",
            round_uids.len(),
            l.acked.len(),
            l.attempted_creates,
            l.revoked.len()
        );
    }
    let l = ledger.lock().unwrap();
    assert!(l.acked.len() >= ROUNDS, "the load generated writes");
    let count = verify(&server, &l, &[]);
    server.stop();
    let out = check_data(dir.path());
    assert!(out.contains(&format!("links {count} ")), "{out}");
}
