//! The data folder is 0700 and every file the server writes into it 0600, whatever the
//! umask (issue 10, item 14): the real binary runs under `umask 000`, and a folder and
//! database left wider by an earlier run are tightened on start.

use std::io::{BufRead, BufReader};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::Req;

/// A server process, killed if a failed assertion drops it before [`stop`].
struct Running(Option<Child>);

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(mut child) = self.0.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// The binary serving `data` under umask 000, once it answers.
fn serve_with_umask_000(data: &Path) -> Running {
    let mut child = Command::new("sh")
        .args(["-c", "umask 000; exec \"$@\"", "sh"])
        .arg(env!("CARGO_BIN_EXE_customerlink"))
        .args(["serve", "--listen", "127.0.0.1:0", "--data"])
        .arg(data)
        .env_remove("CUSTOMERLINK_CONFIG")
        .env("CUSTOMERLINK_LOG_LEVEL", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let running = Running(Some(child));
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let line = rx.recv_timeout(left).expect("server reports its address");
        if let Some(rest) = line.split("address=").nth(1) {
            let addr = rest.split_whitespace().next().unwrap().parse().unwrap();
            std::thread::spawn(move || while rx.recv().is_ok() {});
            // Once it answers, it has published its operator key and handles SIGTERM.
            assert_eq!(Req::new(addr, "GET", "/health/live").send().status, 200);
            return running;
        }
    }
}

fn stop(mut running: Running) {
    let mut child = running.0.take().unwrap();
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    assert!(child.wait().unwrap().success());
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

fn assert_private(data: &Path, files: &[&str]) {
    assert_eq!(mode(data), 0o700, "data folder");
    for name in files {
        assert_eq!(mode(&data.join(name)), 0o600, "{name}");
    }
}

#[test]
fn a_server_under_umask_000_keeps_its_folder_and_files_private() {
    if crate::support::embedded_only("the mode of the database file") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let child = serve_with_umask_000(&data);
    assert_private(
        &data,
        &[
            "customerlink.redb",
            "master.key",
            "initial-api-key",
            "operator-key",
            "server-address",
        ],
    );
    stop(child);
}

#[test]
fn a_folder_and_database_left_wider_are_tightened_on_start() {
    if crate::support::embedded_only("the mode of the database file") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    stop(serve_with_umask_000(&data));
    let wide = |path: &Path, mode: u32| {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
    };
    wide(&data, 0o777);
    wide(&data.join("customerlink.redb"), 0o666);
    let child = serve_with_umask_000(&data);
    assert_private(&data, &["customerlink.redb", "master.key", "operator-key"]);
    stop(child);
}
