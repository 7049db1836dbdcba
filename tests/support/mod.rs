//! Test vocabulary: a real server on a loopback port with a temporary data folder and a
//! manual clock, and a tiny blocking HTTP/1.1 client that shows raw status, headers and body.

#![allow(
    dead_code,
    reason = "each test module uses a different part of the vocabulary"
)]

pub mod keep_alive;
pub mod postgres;
mod setup;
pub mod sinks;

pub use setup::*;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use customerlink::clock::ManualClock;
use customerlink::config::{Config, FileConfig, Overrides, PgSettings, StoreLocation};
use serde_json::Value;

/// Whether the suite runs against PostgreSQL (`CUSTOMERLINK_TEST_STORE=postgres`): every
/// test server then keeps its records in a fresh database of a throwaway cluster instead of
/// the redb file, and the tests of the embedded file itself (backup, full disk, …) skip.
pub fn on_postgres() -> bool {
    std::env::var("CUSTOMERLINK_TEST_STORE").is_ok_and(|v| v == "postgres")
}

/// For a test of the embedded file itself: `true` (and a note on stderr) when the suite runs
/// on PostgreSQL, where the test's subject does not exist; the test then returns.
pub fn embedded_only(what: &str) -> bool {
    if on_postgres() {
        eprintln!("skipped on PostgreSQL: {what} is a property of the embedded file");
    }
    on_postgres()
}

/// The database of the data folder `data`: created on its first server, the same one when
/// the folder is started again (restarts keep their records).
pub fn postgres_for(data: &Path) -> PgSettings {
    let cluster = postgres::shared();
    let marker = data.join("test-postgres-database");
    let name = match std::fs::read_to_string(&marker) {
        Ok(name) => name.trim().to_owned(),
        Err(_) => {
            let name = cluster.create_database();
            std::fs::create_dir_all(data).expect("data folder");
            std::fs::write(&marker, &name).expect("database marker");
            name
        }
    };
    cluster.settings(&name)
}

/// A running server. Dropping it stops the server (and deletes the data folder it owns).
pub struct TestServer {
    pub addr: SocketAddr,
    pub data: PathBuf,
    pub clock: Arc<ManualClock>,
    /// The key the first start wrote to `<data>/initial-api-key`.
    pub key: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<Result<(), String>>>,
    _dir: Option<tempfile::TempDir>,
}

impl TestServer {
    /// A fresh server on a new temporary data folder.
    pub fn start() -> TestServer {
        Self::start_with(|_| {})
    }

    /// A fresh server whose config `tweak` may change (e.g. purge interval).
    pub fn start_with(tweak: impl FnOnce(&mut Config)) -> TestServer {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut server = Self::start_in(dir.path(), Arc::new(ManualClock::new()), tweak);
        server._dir = Some(dir);
        server
    }

    /// A server on an existing data folder (for restarts); the folder is not deleted on drop.
    pub fn start_in(
        data: &Path,
        clock: Arc<ManualClock>,
        tweak: impl FnOnce(&mut Config),
    ) -> TestServer {
        let server = Self::launch(data, clock, tweak);
        let key_file = data.join("initial-api-key");
        let deadline = Instant::now() + Duration::from_secs(10);
        while !key_file.exists() {
            assert!(Instant::now() < deadline, "server did not become ready");
            std::thread::sleep(Duration::from_millis(10));
        }
        server.answering(&key_file)
    }

    /// A server that shares a database another instance may have set up first: it waits for
    /// an answer, not for `initial-api-key` (only the first instance writes one). `key` is
    /// the key file's content if this instance wrote it, else empty.
    pub fn start_sharing(
        data: &Path,
        clock: Arc<ManualClock>,
        tweak: impl FnOnce(&mut Config),
    ) -> TestServer {
        Self::launch(data, clock, tweak).answering(&data.join("initial-api-key"))
    }

    /// Starts the server thread on `data`; returns once it listens (before it answers).
    fn launch(data: &Path, clock: Arc<ManualClock>, tweak: impl FnOnce(&mut Config)) -> TestServer {
        let overrides = Overrides {
            data: Some(data.to_owned()),
            listen: Some("127.0.0.1:0".into()),
            public_url: Some("https://links.example.test".into()),
            ..Overrides::default()
        };
        let mut config = Config::resolve(overrides, FileConfig::default()).expect("config");
        if on_postgres() {
            config.store = StoreLocation::Postgres(postgres_for(data));
        }
        tweak(&mut config);
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let run_clock = Arc::clone(&clock);
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .map_err(|e| e.to_string())?;
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                    .await
                    .map_err(|e| e.to_string())?;
                let _ = ready_tx.send(listener.local_addr().map_err(|e| e.to_string()));
                customerlink::app::run(config, run_clock, listener, async {
                    let _ = stopped.await;
                })
                .await
                .map_err(|e| e.to_string())
            })
        });
        let addr = ready_rx
            .recv()
            .expect("server thread started")
            .expect("bound");
        TestServer {
            addr,
            data: data.to_owned(),
            clock,
            key: String::new(),
            stop: Some(stop),
            thread: Some(thread),
            _dir: None,
        }
    }

    /// Waits until the server answers (requests are only answered once bootstrap finished),
    /// then reads its key from `key_file` (empty if there is none).
    fn answering(mut self, key_file: &Path) -> TestServer {
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.get("/v1/contact").status == 0 {
            assert!(Instant::now() < deadline, "server did not answer");
            std::thread::sleep(Duration::from_millis(10));
        }
        self.key = std::fs::read_to_string(key_file)
            .map(|k| k.trim().to_owned())
            .unwrap_or_default();
        self
    }

    /// Stops the server cleanly and waits for it; returns what a restart needs.
    pub fn stop(mut self) -> (Option<tempfile::TempDir>, Arc<ManualClock>) {
        self.shutdown();
        (self._dir.take(), Arc::clone(&self.clock))
    }

    fn shutdown(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let result = thread.join().expect("server thread panicked");
            result.expect("server stopped with an error");
        }
    }

    /// Moves the clock by the landing log's flush interval, so what it collected so far is
    /// written in its next round; then wait for the row or metric that shows it.
    pub fn flush_landing_log(&self) {
        let every = customerlink::jobs::landing_log::FLUSH_EVERY;
        self.clock.advance_millis(every.as_millis() as i64);
    }

    /// Finished rounds of a background job (`customerlink_job_rounds_total{job}`).
    pub fn job_rounds(&self, job: &str) -> u64 {
        let prefix = format!("customerlink_job_rounds_total{{job=\"{job}\"}} ");
        let metrics = Req::new(self.addr, "GET", "/metrics").send().body;
        let line = metrics
            .lines()
            .find_map(|l| l.strip_prefix(prefix.as_str()));
        line.and_then(|n| n.trim().parse().ok()).unwrap_or(0)
    }

    /// Waits until `job` finished a whole round that started after this call, moving the
    /// clock by its `period` to run each round: the round in progress (if any) may finish
    /// first, so this waits for two. Then "nothing happened" is an answer, not a guess.
    pub fn job_round(&self, job: &str, period: Duration) {
        for _ in 0..2 {
            let done = self.job_rounds(job);
            self.clock.advance_millis(period.as_millis() as i64);
            sinks::wait_until(|| self.job_rounds(job) > done, job);
        }
    }

    /// A request with the initial key as Bearer token.
    pub fn req(&self, method: &str, path: &str) -> Req {
        Req::new(self.addr, method, path).bearer(&self.key)
    }

    pub fn get(&self, path: &str) -> Resp {
        self.req("GET", path).send()
    }

    pub fn post(&self, path: &str, body: Value) -> Resp {
        self.req("POST", path).json(&body).send()
    }

    pub fn put(&self, path: &str, body: Value) -> Resp {
        self.req("PUT", path).json(&body).send()
    }

    pub fn delete(&self, path: &str) -> Resp {
        self.req("DELETE", path).send()
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// Runs the real binary with `args`; returns (exit code, stdout, stderr).
/// On PostgreSQL (see [`on_postgres`]) a command on a data folder (`--data DIR`) works on
/// that folder's database, as its servers do.
pub fn cli(args: &[&str]) -> (i32, String, String) {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_customerlink"));
    command
        .args(args)
        .env_remove("CUSTOMERLINK_DATA")
        .env_remove("CUSTOMERLINK_LISTEN")
        .env_remove("CUSTOMERLINK_STORE");
    let data = args
        .iter()
        .position(|a| *a == "--data")
        .and_then(|i| args.get(i + 1));
    if let Some(data) = data.filter(|_| on_postgres() && !args.contains(&"--store")) {
        let settings = postgres_for(Path::new(data));
        command.env(
            "CUSTOMERLINK_STORE",
            postgres::shared().url(&settings.dbname),
        );
    }
    let out = command.output().expect("run customerlink");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A request under construction.
pub struct Req {
    addr: SocketAddr,
    method: String,
    path: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Req {
    pub fn new(addr: SocketAddr, method: &str, path: &str) -> Req {
        Req {
            addr,
            method: method.into(),
            path: path.into(),
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    pub fn header(mut self, name: &str, value: &str) -> Req {
        self.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Removes a header set earlier (e.g. the default Bearer key).
    pub fn without(mut self, name: &str) -> Req {
        self.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        self
    }

    pub fn bearer(self, key: &str) -> Req {
        self.header("Authorization", &format!("Bearer {key}"))
    }

    pub fn json(self, body: &Value) -> Req {
        self.header("Content-Type", "application/json")
            .raw_body(body.to_string().into_bytes())
    }

    pub fn raw_body(mut self, body: Vec<u8>) -> Req {
        self.body = body;
        self
    }

    /// Sends with `Connection: close` and reads the whole response. Status 0 = no answer.
    pub fn send(self) -> Resp {
        let mut head = format!(
            "{} {} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n",
            self.method, self.path, self.addr
        );
        for (n, v) in &self.headers {
            head.push_str(&format!("{n}: {v}\r\n"));
        }
        head.push_str(&format!("Content-Length: {}\r\n\r\n", self.body.len()));
        let Ok(mut stream) = TcpStream::connect(self.addr) else {
            return Resp::default();
        };
        let _ = stream.set_read_timeout(Some(Duration::from_secs(30)));
        if stream
            .write_all(head.as_bytes())
            .and_then(|()| stream.write_all(&self.body))
            .is_err()
        {
            return Resp::default();
        }
        let mut raw = Vec::new();
        let _ = stream.read_to_end(&mut raw);
        Resp::parse(&raw)
    }
}

/// A response as received.
#[derive(Debug, Default, Clone)]
pub struct Resp {
    pub status: u16,
    pub reason: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Resp {
    fn parse(raw: &[u8]) -> Resp {
        let text = String::from_utf8_lossy(raw);
        let Some((head, body)) = text.split_once("\r\n\r\n") else {
            return Resp::default();
        };
        let mut lines = head.split("\r\n");
        let status_line = lines.next().unwrap_or_default();
        let mut parts = status_line.splitn(3, ' ');
        let _version = parts.next();
        let status = parts.next().and_then(|s| s.parse().ok()).unwrap_or(0);
        let reason = parts.next().unwrap_or_default().to_owned();
        let headers = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
            .collect();
        Resp {
            status,
            reason,
            headers,
            body: body.to_owned(),
        }
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The body as JSON; panics with the whole response if it is not JSON.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {self:?}"))
    }

    /// Asserts the status, printing the whole response on mismatch; returns the JSON body.
    pub fn expect(&self, status: u16) -> Value {
        assert_eq!(self.status, status, "unexpected response: {self:#?}");
        self.json()
    }
}

/// Field names of a ResponseStatus's `Errors`.
pub fn error_fields(body: &Value) -> Vec<String> {
    body["ResponseStatus"]["Errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .map(|e| e["FieldName"].as_str().unwrap_or_default().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// The token at the end of a create response's `PortalUrl`.
pub fn portal_token(created: &Value) -> String {
    let url = created["PortalUrl"].as_str().unwrap_or_default();
    url.rsplit('/').next().unwrap_or_default().to_owned()
}

/// A resource uid for tests (N-form Guid).
pub fn uid(n: u128) -> String {
    format!("{n:032x}")
}
