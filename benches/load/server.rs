//! The servers under test, each in its own process so its memory and start-up are its own:
//! the real `customerlink` binary on a seeded data folder, and a bare hyper hello-world (this
//! bench binary re-run with `--serve-hello`). Both bind port 0 and report the address.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::Full;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::{TokioIo, TokioTimer};

/// A server process; killed on drop.
pub struct Process {
    child: Child,
    pub addr: SocketAddr,
    /// From spawn to the first successful reply.
    pub startup: Duration,
}

impl Process {
    /// Starts `customerlink serve` on `data` and waits until it answers.
    pub fn customerlink(data: &Path) -> Result<Process, String> {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_customerlink"));
        cmd.args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--log-level",
            "info",
            "--data",
        ])
        .arg(data);
        Self::spawn(cmd, "/health/live")
    }

    /// Starts the hello-world server.
    pub fn hello() -> Result<Process, String> {
        let exe = std::env::current_exe().map_err(|e| e.to_string())?;
        let mut cmd = Command::new(exe);
        cmd.arg("--serve-hello");
        Self::spawn(cmd, "/")
    }

    fn spawn(mut cmd: Command, probe: &str) -> Result<Process, String> {
        let started = Instant::now();
        let mut child = cmd
            .env_remove("CUSTOMERLINK_CONFIG")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| e.to_string())?;
        let stderr = child.stderr.take().ok_or("no stderr")?;
        let mut lines = BufReader::new(stderr).lines();
        let addr = loop {
            let line = lines
                .next()
                .ok_or("server exited before it reported its address")?;
            let line = line.map_err(|e| e.to_string())?;
            if let Some(rest) = line.split("address=").nth(1) {
                let text = rest.split_whitespace().next().unwrap_or_default();
                break text.parse::<SocketAddr>().map_err(|e| e.to_string())?;
            }
        };
        std::thread::spawn(move || for _ in lines {});
        while !answers(addr, probe) {
            if started.elapsed() > Duration::from_secs(60) {
                return Err("server did not answer within 60 s".into());
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        Ok(Process {
            startup: started.elapsed(),
            child,
            addr,
        })
    }

    /// The process id (for its threads' scheduler counters).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Peak resident set size so far (VmHWM), in bytes.
    pub fn peak_rss(&self) -> u64 {
        self.status_kb("VmHWM:") * 1024
    }

    /// CPU time the server has used so far (all threads, user + system), in seconds.
    pub fn cpu_seconds(&self) -> f64 {
        cpu_seconds(&format!("/proc/{}/stat", self.child.id()))
    }

    /// Resident set size now (VmRSS), in bytes.
    pub fn rss(&self) -> u64 {
        self.status_kb("VmRSS:") * 1024
    }

    fn status_kb(&self, field: &str) -> u64 {
        let path = format!("/proc/{}/status", self.child.id());
        let status = std::fs::read_to_string(path).unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix(field))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .unwrap_or(0)
    }

    /// SIGTERM and wait (a clean stop, so the next start needs no repair).
    pub fn stop(mut self) -> Result<(), String> {
        let pid = self.child.id().to_string();
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .map_err(|e| e.to_string())?;
        let status = self.child.wait().map_err(|e| e.to_string())?;
        status
            .success()
            .then_some(())
            .ok_or_else(|| format!("server exited with {status}"))
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Process {
    /// Waits until the writer has applied everything queued (its command counter stops
    /// moving for 300 ms), so one operation's leftover writes (e.g. access-log entries of
    /// landings) do not slow the next one. Returns how long that took.
    pub fn quiesce(&self) -> Duration {
        let started = Instant::now();
        let mut last = None;
        let mut stable_since = Instant::now();
        while started.elapsed() < Duration::from_secs(120) {
            let now = writer_commands(self.addr);
            if now != last {
                last = now;
                stable_since = Instant::now();
            } else if stable_since.elapsed() >= Duration::from_millis(300) {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        started.elapsed()
    }
}

/// `customerlink_writer_commands_total` from `/metrics`.
fn writer_commands(addr: SocketAddr) -> Option<u64> {
    WriterCounters::scrape(addr).map(|c| c.commands as u64)
}

/// The writer's counters, from `/metrics`.
#[derive(Debug, Clone, Copy, Default)]
pub struct WriterCounters {
    pub commits: f64,
    pub commands: f64,
    pub commit_seconds: f64,
}

/// The text of the server's `/metrics`.
pub fn metrics_text(addr: SocketAddr) -> Option<String> {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).ok()?;
    s.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .ok()?;
    let mut text = String::new();
    s.read_to_string(&mut text).ok()?;
    Some(text)
}

impl WriterCounters {
    pub fn scrape(addr: SocketAddr) -> Option<WriterCounters> {
        let text = metrics_text(addr)?;
        let value = |name: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|v| v.trim().parse::<f64>().ok())
        };
        Some(WriterCounters {
            commits: value("customerlink_writer_commits_total ")?,
            commands: value("customerlink_writer_commands_total ")?,
            commit_seconds: value("customerlink_writer_commit_seconds_sum ")?,
        })
    }

    /// (commands per commit, ms per commit) between two scrapes; `None` without commits.
    pub fn since(&self, before: &WriterCounters) -> Option<(f64, f64)> {
        let commits = self.commits - before.commits;
        (commits > 0.0).then(|| {
            let batch = (self.commands - before.commands) / commits;
            (
                batch,
                (self.commit_seconds - before.commit_seconds) * 1000.0 / commits,
            )
        })
    }
}

/// One blocking GET; true on a 200.
fn answers(addr: SocketAddr, path: &str) -> bool {
    use std::io::{Read, Write};
    let Ok(mut s) = std::net::TcpStream::connect(addr) else {
        return false;
    };
    let req = format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    let mut buf = Vec::new();
    s.write_all(req.as_bytes()).is_ok()
        && s.read_to_end(&mut buf).is_ok()
        && buf.starts_with(b"HTTP/1.1 200")
}

/// The reply of GET by uid as the service sends it (its headers but `content-length` and
/// `date`, which hyper adds, and a 683-byte body), for hello-world's `/reply`: what these
/// bytes alone cost the kernel and wrk, with no work behind them.
const GET_REPLY_HEADERS: [(&str, &str); 9] = [
    ("content-type", "application/json; charset=utf-8"),
    ("vary", "Accept"),
    ("cache-control", "no-store"),
    ("x-content-type-options", "nosniff"),
    ("access-control-allow-origin", "*"),
    (
        "access-control-allow-methods",
        "GET, POST, PUT, DELETE, PATCH, OPTIONS, HEAD",
    ),
    (
        "access-control-allow-headers",
        "Content-Type, Authorization, X-Api-Key, X-Http-Method-Override, Idempotency-Key",
    ),
    ("access-control-max-age", "600"),
    ("x-request-id", "f3d376dc40cdf3d1000000000007bdb1"),
];
const GET_REPLY_BODY: &str = concat!(
    r#"{"Link":{"RecipientDisplayName":"w0@example.com","RecipientType":"AdHoc","Status":"Active","#,
    r#""CustomerLinkId":1,"CustomerLinkUID":"01a22ec564c97172a37bf190c7552b04","TokenHash":"#,
    r#""3bdd7f4226aee298eb40ddab871b5f91802ee3bfee87bcfc2c39c73d0f4c7721","ResourceType":"Invoice","#,
    r#""ResourceUid":"6e50af13bb9e417ea729f3905dd9bd1c","SensitivityTier":"Standard","RequireOtp":false,"#,
    r#""DeliveryChannels":"","RecipientEmail":"w0@example.com","SmsConsentSnapshot":false,"#,
    r#""CreatedByUserId":"81a7495e9c2240e0ace70828bb5a4221","CreatedAtUtc":"2026-11-30T23:23:38.0570000Z","#,
    r#""ExpiresAtUtc":"2026-12-07T23:23:38.0570000Z","MaxViews":50,"ViewCount":0,"#,
    r#""TenantId":"5da6d66ca5374569add6dc64464b01c9"},"Deliveries":[]}"#
);

/// hello-world's answer: a 13-byte body, or on `/reply` the bytes of GET by uid's reply.
fn hello_reply(path: &str) -> Response<Full<Bytes>> {
    if path != "/reply" {
        return Response::new(Full::new(Bytes::from_static(b"Hello, world!")));
    }
    let mut response = Response::new(Full::new(Bytes::from_static(GET_REPLY_BODY.as_bytes())));
    for (name, value) in GET_REPLY_HEADERS {
        response
            .headers_mut()
            .insert(name, hyper::header::HeaderValue::from_static(value));
    }
    response
}

/// `--serve-hello`: the baseline. hyper http1 with the same timer the real server uses and
/// a fixed 13-byte body (or, on `/reply`, GET by uid's reply bytes); nothing else.
pub fn serve_hello() -> Result<(), String> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(|e| e.to_string())?;
        eprintln!(
            "hello-world address={}",
            listener.local_addr().map_err(|e| e.to_string())?
        );
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let _ = stream.set_nodelay(true);
            tokio::spawn(async move {
                let service = service_fn(|req: Request<hyper::body::Incoming>| async move {
                    Ok::<_, std::convert::Infallible>(hello_reply(req.uri().path()))
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .timer(TokioTimer::new())
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    })
}

/// CPU time this bench process (the load generator) has used so far, in seconds.
pub fn own_cpu_seconds() -> f64 {
    cpu_seconds("/proc/self/stat")
}

/// utime + stime of a `/proc/…/stat` file, in seconds.
fn cpu_seconds(stat: &str) -> f64 {
    let text = std::fs::read_to_string(stat).unwrap_or_default();
    // Fields after the command name (which may hold spaces) start at `state`, field 3;
    // utime and stime are fields 14 and 15.
    let rest = text.rsplit_once(')').map_or("", |(_, r)| r);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (ticks(11) + ticks(12)) / clock_ticks()
}

/// The kernel's clock ticks per second (`getconf CLK_TCK`; 100 on Linux unless told otherwise).
fn clock_ticks() -> f64 {
    static TICKS: std::sync::OnceLock<f64> = std::sync::OnceLock::new();
    *TICKS.get_or_init(|| {
        Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|o| String::from_utf8(o.stdout).ok())
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(100.0)
    })
}
