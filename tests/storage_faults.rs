//! Issue 10 item 9: a full disk. The data folder lives on a 4 MiB tmpfs; a filler file takes
//! the free space until commits fail. Writes must then answer 503 with `Retry-After`,
//! `/health/ready` must be 503, and once the filler is gone writes resume by themselves (the
//! writer reopens the database), with every link acknowledged before still there and `check`
//! clean. The admin CLI must fail with a clear error, not a panic, while the disk is full.
//! Needs root (mount); if mounting fails the test fails and says why.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use customerlink::clock::ManualClock;
use serde_json::{Value, json};

use crate::support::{Resp, TestServer, cli, uid};

/// A small tmpfs mounted on a temporary folder; unmounted on drop.
struct Tmpfs {
    dir: tempfile::TempDir,
}

impl Tmpfs {
    fn mount(size: &str) -> Tmpfs {
        let dir = tempfile::tempdir().expect("temp dir");
        let out = Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={size},mode=0700"),
                "tmpfs",
            ])
            .arg(dir.path())
            .output();
        match out {
            Ok(o) if o.status.success() => Tmpfs { dir },
            Ok(o) => panic!(
                "this test needs to mount a tmpfs (run as root): mount failed: {}",
                String::from_utf8_lossy(&o.stderr).trim()
            ),
            Err(e) => panic!("this test needs the `mount` command (run as root): {e}"),
        }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(self.dir.path()).status();
    }
}

/// Takes every free byte of the file system holding `dir`; deleting the file gives it back.
fn fill(dir: &Path) -> PathBuf {
    let path = dir.join("filler");
    let mut file = std::fs::File::create(&path).expect("filler file");
    let chunk = vec![0xa5u8; 16 * 1024];
    while file.write_all(&chunk).is_ok() {}
    for _ in 0..64 {
        let _ = file.write_all(&[0u8; 512]);
    }
    let _ = file.sync_all();
    path
}

fn create(s: &TestServer, n: u128) -> Resp {
    s.req("POST", "/v1/customerlink")
        .json(&json!({
            "ResourceType": "Quote",
            "ResourceUid": uid(n),
            "RecipientEmail": format!("r{n}@example.com"),
        }))
        .send()
}

fn link_uid(body: &Value) -> String {
    body["Link"]["CustomerLinkUID"]
        .as_str()
        .expect("link uid")
        .to_owned()
}

#[test]
fn issue10_full_disk_answers_503_and_writes_resume_without_a_restart() {
    if crate::support::embedded_only("a full disk under the database file") {
        return;
    }
    let fs = Tmpfs::mount("4m");
    let data = fs.path().join("data");
    std::fs::create_dir(&data).expect("data folder");
    let s = TestServer::start_in(&data, Arc::new(ManualClock::new()), |_| {});
    let mut acknowledged = Vec::new();
    for n in 1..4 {
        acknowledged.push(link_uid(&create(&s, n).expect(200)));
    }

    let filler = fill(fs.path());
    let mut refused = None;
    for n in 100..400 {
        let r = create(&s, n);
        match r.status {
            200 => acknowledged.push(link_uid(&r.json())),
            _ => {
                refused = Some(r);
                break;
            }
        }
    }
    let refused = refused.expect("a create fails once the disk is full");
    assert_eq!(refused.status, 503, "{}", refused.body);
    assert_eq!(
        refused.json()["ResponseStatus"]["ErrorCode"],
        "ServiceUnavailable"
    );
    let retry: u64 = refused
        .header("retry-after")
        .expect("Retry-After on the 503")
        .parse()
        .expect("Retry-After in seconds");
    assert!((1..=10).contains(&retry), "Retry-After {retry}");
    let ready = s.get("/health/ready");
    assert_eq!(ready.status, 503, "ready while writes fail: {}", ready.body);
    assert!(ready.header("retry-after").is_some());
    // Still full: writes keep failing with 503, never 500, and the server stays up.
    let again = create(&s, 500);
    assert!(
        again.status == 503 || again.status == 200,
        "while full: {} {}",
        again.status,
        again.body
    );
    if again.status == 200 {
        acknowledged.push(link_uid(&again.json()));
    }
    assert_eq!(s.get("/health/live").status, 200);
    // Reopen attempts while the disk is still full (backoff 250 ms, 500 ms, …): a reopen may
    // succeed (redb's repair frees the failed commit's pages) and a small write may fit; what
    // does not fit is a 503 again, never a 500, and readiness agrees.
    std::thread::sleep(Duration::from_millis(1500));
    let r = create(&s, 700);
    match r.status {
        200 => acknowledged.push(link_uid(&r.json())),
        503 => assert_eq!(s.get("/health/ready").status, 503),
        other => panic!("while full: {other} {}", r.body),
    }

    std::fs::remove_file(&filler).expect("remove filler");
    let deadline = Instant::now() + Duration::from_secs(20);
    let resumed = loop {
        let r = create(&s, 600);
        if r.status == 200 {
            break r;
        }
        assert_eq!(r.status, 503, "while reopening: {}", r.body);
        assert!(
            Instant::now() < deadline,
            "writes did not resume after space came back"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    acknowledged.push(link_uid(&resumed.json()));
    assert_eq!(s.get("/health/ready").status, 200);
    for uid in &acknowledged {
        s.get(&format!("/v1/customerlink/{uid}")).expect(200);
    }
    drop(s);

    let d = data.to_str().expect("utf-8 path");
    let (code, out, err) = cli(&["check", "--data", d]);
    assert_eq!(code, 0, "check after the fault: {out}{err}");

    // The admin CLI on a full disk: a clear error and a non-zero exit, never a panic.
    let filler = fill(fs.path());
    // A small write may still fit in pages the file already has (redb's repair frees the
    // failed commit's pages): write records too large for that, until one fails.
    let failed = (0..100)
        .map(|n| format!("Full Disk {n} {}", "x".repeat(16 * 1024)))
        .map(|name| cli(&["tenant", "create", "--name", &name, "--data", d]))
        .find(|(code, _, _)| *code != 0);
    let (code, _, err) = failed.expect("a tenant create fails on a full disk");
    assert_ne!(code, 101, "the CLI panicked: {err}");
    assert!(!err.contains("panicked"), "{err}");
    assert!(
        err.contains("storage") || err.contains("space"),
        "the CLI names the problem: {err}"
    );
    std::fs::remove_file(&filler).expect("remove filler");
    let (code, out, err) = cli(&["check", "--data", d]);
    assert_eq!(code, 0, "check after the CLI's failed write: {out}{err}");
}
