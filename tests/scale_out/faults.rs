//! Faults: PostgreSQL stopped and started again under two instances; `kill -9` of one
//! instance (the real binary) under a load of creates.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use customerlink::clock::ManualClock;
use serde_json::json;

use super::*;
use crate::support::postgres::Cluster;
use crate::support::sinks::wait_until;
use crate::support::{Req, link_uid, uid};

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
