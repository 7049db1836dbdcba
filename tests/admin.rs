//! The executable itself: admin commands on a stopped data folder, refusal while a server
//! holds it, and a clean exit on SIGTERM.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use crate::support::{Req, TestServer, cli};

fn is_hex32(s: &str) -> bool {
    s.len() == 32 && s.chars().all(|c| c.is_ascii_hexdigit())
}

#[test]
fn tenant_and_key_commands_print_only_their_value() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let (code, tenant, err) = cli(&["--data", d, "tenant", "create", "--name", "Acme"]);
    assert_eq!(code, 0, "{err}");
    let tenant = tenant.trim_end_matches('\n');
    assert!(is_hex32(tenant), "{tenant:?}");
    let user = "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0";
    let args = [
        "key", "create", "--tenant", tenant, "--user", user, "--agent", "9", "--name", "ci",
        "--role", "Agent", "--role", "Worker", "--data", d,
    ];
    let (code, key, err) = cli(&args);
    assert_eq!(code, 0, "{err}");
    let key = key.trim_end_matches('\n');
    assert!(
        key.starts_with("clk_") && key.len() == 47 && !key.contains('\n'),
        "{key:?}"
    );
    assert!(!err.contains(key), "the key is never logged");

    let (code, list, _) = cli(&["key", "list", "--tenant", tenant, "--data", d]);
    assert_eq!(code, 0);
    let lines: Vec<&str> = list.lines().collect();
    assert_eq!(lines.len(), 1, "{list}");
    let cols: Vec<&str> = lines[0].split('\t').collect();
    assert_eq!(
        &cols[1..],
        [
            "0f1e2d3c4b5a69788796a5b4c3d2e1f0",
            "active",
            "ci",
            "Agent,Worker",
            "auto"
        ]
    );
    assert!(!list.contains(key), "listing never shows the key");

    let (code, out, _) = cli(&["key", "revoke", cols[0], "--data", d]);
    assert_eq!((code, out.trim()), (0, cols[0]));
    let (_, list, _) = cli(&["key", "list", "--tenant", tenant, "--data", d]);
    assert!(list.contains("\trevoked\t"), "{list}");

    let (code, _, err) = cli(&[
        "key",
        "list",
        "--tenant",
        "00000000000000000000000000000001",
        "--data",
        d,
    ]);
    assert_eq!(code, 1);
    assert!(err.contains("no tenant"), "{err}");
    let (code, _, err) = cli(&[
        "key",
        "revoke",
        "00000000000000000000000000000001",
        "--data",
        d,
    ]);
    assert_eq!(code, 1);
    assert!(err.contains("no API key"), "{err}");
    let (code, _, _) = cli(&[
        "key", "create", "--tenant", "nope", "--user", user, "--data", d,
    ]);
    assert_eq!(code, 2, "a bad Guid is a usage error");
}

#[test]
fn admin_commands_fail_at_once_while_a_server_holds_the_database() {
    if crate::support::embedded_only("the file lock held by a server") {
        return;
    }
    let s = TestServer::start();
    // "in use" proves the command failed instead of waiting for the lock: the server keeps
    // it for as long as this test runs, so a waiting command would never answer.
    let (code, out, err) = cli(&[
        "tenant",
        "create",
        "--name",
        "X",
        "--data",
        s.data.to_str().unwrap(),
    ]);
    assert_eq!(code, 1);
    assert!(out.is_empty());
    assert!(err.contains("in use"), "{err}");
    s.get("/v1/customerlink").expect(200);
}

#[test]
fn admin_commands_work_with_a_relay_configured() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    std::fs::write(
        dir.path().join("customerlink.toml"),
        "[email]\nsmtp_url = \"smtp://127.0.0.1:1\"\nfrom = \"links@example.test\"\n",
    )
    .unwrap();
    let (code, out, err) = cli(&["tenant", "create", "--name", "Mail", "--data", d]);
    assert_eq!(code, 0, "{err}");
    assert!(is_hex32(out.trim()));
    let (code, _, err) = cli(&["check", "--data", d]);
    assert_eq!(code, 0, "{err}");
    assert!(
        !err.contains("repair"),
        "the database was closed cleanly: {err}"
    );
}

#[test]
fn check_reports_counts_on_a_consistent_database() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let (code, _, _) = cli(&["tenant", "create", "--name", "A", "--data", d]);
    assert_eq!(code, 0);
    let (code, out, err) = cli(&["check", "--data", d]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.starts_with("tenants 1 api_keys 0 contacts 0 links 0"),
        "{out}"
    );
}

#[test]
fn binary_serves_writes_the_initial_key_and_exits_zero_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_customerlink"))
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--data",
            dir.path().to_str().unwrap(),
        ])
        .env("CUSTOMERLINK_LOG_LEVEL", "info")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let mut log = String::new();
    let addr = loop {
        let line = lines.next().expect("server log ended early").unwrap();
        log.push_str(&line);
        log.push('\n');
        if let Some(rest) = line.split("address=").nth(1) {
            break rest.split_whitespace().next().unwrap().to_owned();
        }
    };
    let key_path = dir.path().join("initial-api-key");
    let key = std::fs::read_to_string(&key_path).unwrap();
    let key = key.trim();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&key_path).unwrap().permissions().mode() & 0o777,
            0o600
        );
        let secret = dir.path().join("master.key");
        assert_eq!(
            std::fs::metadata(secret).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    assert!(
        log.contains("initial-api-key") && !log.contains(key),
        "{log}"
    );
    let resp = Req::new(addr.parse().unwrap(), "GET", "/v1/customerlink")
        .bearer(key)
        .send();
    assert_eq!(resp.status, 200, "{resp:?}");

    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let exit = child.wait().unwrap();
    assert_eq!(exit.code(), Some(0));
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    assert!(
        rest.iter().any(|l| l.contains("customerlink stopped")),
        "{rest:?}"
    );
}
