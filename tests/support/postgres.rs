//! A throwaway PostgreSQL cluster for the tests: `initdb` + `pg_ctl` in a temporary folder, run
//! as the unprivileged `postgres` user (the tests run as root, which PostgreSQL refuses), on a
//! free loopback port with password (SCRAM) authentication and `fsync` on. One shared cluster
//! per test binary and one fresh database per test; a test that stops or restarts PostgreSQL
//! starts a private cluster. A watchdog process stops each cluster and deletes its folder when
//! the test binary exits, however it exits, so no postmaster is left behind.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};

use customerlink::config::{PgSettings, parse_postgres_url};

/// One running cluster.
pub struct Cluster {
    bin: PathBuf,
    dir: PathBuf,
    pub port: u16,
    /// The superuser's password (user `postgres`).
    pub password: String,
    /// Server settings beyond port and sockets (TLS).
    options: String,
    watchdog: Option<Child>,
}

static SHARED: OnceLock<Cluster> = OnceLock::new();
static DATABASES: AtomicU32 = AtomicU32::new(0);

/// The cluster every test of this binary shares (started on first use).
pub fn shared() -> &'static Cluster {
    SHARED.get_or_init(Cluster::start)
}

/// A fresh, empty database on the shared cluster, as typed settings.
pub fn fresh_database() -> PgSettings {
    let cluster = shared();
    cluster.settings(&cluster.create_database())
}

impl Cluster {
    /// Creates and starts a new cluster; panics (fails the test) with the reason if it cannot.
    pub fn start() -> Cluster {
        Self::start_configured(false)
    }

    /// [`Cluster::start`] with TLS on: the server's certificate names `localhost` and is
    /// signed by a CA of its own, [`Cluster::ca_file`].
    pub fn start_with_tls() -> Cluster {
        Self::start_configured(true)
    }

    /// The PEM file of the CA that signed a TLS cluster's certificate.
    pub fn ca_file(&self) -> PathBuf {
        self.dir.join("ca.pem")
    }

    fn start_configured(tls: bool) -> Cluster {
        let bin = bin_dir();
        let dir = PathBuf::from(run_as_postgres(
            Command::new("mktemp").args(["-d", "/tmp/customerlink-pg-XXXXXX"]),
        ));
        let password = format!("pg-{}", uuid::Uuid::new_v4().simple());
        let pwfile = dir.join("pwfile");
        std::fs::write(&pwfile, &password).expect("write pwfile");
        set_readable(&pwfile);
        run_as_postgres(Command::new(bin.join("initdb")).args([
            "-D".as_ref(),
            dir.join("data").as_os_str(),
            "-U".as_ref(),
            "postgres".as_ref(),
            "--auth-local=trust".as_ref(),
            "--auth-host=scram-sha-256".as_ref(),
            format!("--pwfile={}", pwfile.display()).as_ref(),
            "--no-locale".as_ref(),
            "-E".as_ref(),
            "UTF8".as_ref(),
        ]));
        let _ = std::fs::remove_file(&pwfile);
        let options = if tls {
            make_certificates(&dir);
            format!(
                "-c ssl=on -c ssl_cert_file={0}/server.pem -c ssl_key_file={0}/server.key",
                dir.display()
            )
        } else {
            String::new()
        };
        let mut cluster = Cluster {
            port: free_port(),
            bin,
            dir,
            password,
            options,
            watchdog: None,
        };
        cluster.pg_ctl(&["start"]);
        cluster.watchdog = Some(cluster.spawn_watchdog());
        cluster
    }

    /// `postgres://postgres:<password>@127.0.0.1:<port>/<db>?sslmode=disable`.
    pub fn url(&self, db: &str) -> String {
        format!(
            "postgres://postgres:{}@127.0.0.1:{}/{db}?sslmode=disable",
            self.password, self.port
        )
    }

    /// [`Cluster::url`] parsed, with short timeouts so fault tests are quick.
    pub fn settings(&self, db: &str) -> PgSettings {
        let mut settings = parse_postgres_url(&self.url(db)).expect("test URL parses");
        settings.pool_size = 4;
        settings.connect_timeout = std::time::Duration::from_secs(2);
        settings
    }

    /// Creates an empty database and returns its name.
    pub fn create_database(&self) -> String {
        let n = DATABASES.fetch_add(1, Ordering::Relaxed);
        let name = format!("t{}_{n}", std::process::id());
        self.psql("postgres", &format!("CREATE DATABASE {name}"));
        name
    }

    /// Runs `sql` in `db` as the superuser over the local socket; returns the unaligned rows.
    pub fn psql(&self, db: &str, sql: &str) -> String {
        let port = self.port.to_string();
        let socket = self.dir.to_string_lossy().into_owned();
        run_as_postgres(Command::new(self.bin.join("psql")).args([
            "-X",
            "-q",
            "-A",
            "-t",
            "-v",
            "ON_ERROR_STOP=1",
            "-h",
            &socket,
            "-p",
            &port,
            "-d",
            db,
            "-c",
            sql,
        ]))
    }

    /// Stops the server (fast: sessions are ended, as in a planned restart).
    pub fn stop(&self) {
        self.pg_ctl(&["stop", "-m", "fast"]);
    }

    /// Starts it again on the same port after [`Cluster::stop`].
    pub fn start_again(&self) {
        self.pg_ctl(&["start"]);
    }

    /// `pg_ctl restart -m fast`.
    pub fn restart(&self) {
        self.pg_ctl(&["restart", "-m", "fast"]);
    }

    fn pg_ctl(&self, action: &[&str]) {
        let data = self.dir.join("data");
        let log = self.dir.join("log");
        let options = format!(
            "-p {} -h 127.0.0.1 -k {} -c max_connections=200 {}",
            self.port,
            self.dir.display(),
            self.options
        );
        run_as_postgres(
            Command::new(self.bin.join("pg_ctl"))
                .args(["-w", "-t", "60", "-D"])
                .arg(&data)
                .arg("-l")
                .arg(&log)
                .args(["-o", &options])
                .args(action),
        );
    }

    /// A shell that waits for this process to end, then stops the cluster and removes it.
    fn spawn_watchdog(&self) -> Child {
        let script = format!(
            "while kill -0 {pid} 2>/dev/null; do sleep 1; done; \
             {as_pg} '{bin}/pg_ctl' -D '{dir}/data' -m immediate stop; rm -rf '{dir}'",
            pid = std::process::id(),
            as_pg = if is_root() {
                "runuser -u postgres --"
            } else {
                ""
            },
            bin = self.bin.display(),
            dir = self.dir.display(),
        );
        Command::new("sh")
            .args(["-c", &script])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start the cluster's watchdog")
    }
}

/// A private cluster is stopped and removed when the test drops it.
impl Drop for Cluster {
    fn drop(&mut self) {
        let data = self.dir.join("data");
        let _ = Command::new(self.bin.join("pg_ctl"))
            .args([
                "-D".as_ref(),
                data.as_os_str(),
                "-m".as_ref(),
                "immediate".as_ref(),
            ])
            .arg("stop")
            .output_as_postgres();
        let _ = std::fs::remove_dir_all(&self.dir);
        if let Some(mut watchdog) = self.watchdog.take() {
            let _ = watchdog.kill();
            let _ = watchdog.wait();
        }
    }
}

/// Runs a command as `postgres` when we are root (else as ourselves).
trait AsPostgres {
    fn output_as_postgres(&mut self) -> std::io::Result<std::process::Output>;
}

impl AsPostgres for Command {
    fn output_as_postgres(&mut self) -> std::io::Result<std::process::Output> {
        if !is_root() {
            return self.output();
        }
        let mut wrapped = Command::new("runuser");
        wrapped
            .args(["-u", "postgres", "--"])
            .arg(self.get_program());
        wrapped.args(self.get_args());
        wrapped.output()
    }
}

/// Runs `command` as `postgres`; panics with its stderr if it fails; returns trimmed stdout.
fn run_as_postgres(command: &mut Command) -> String {
    let out = command.output_as_postgres().expect("run a PostgreSQL tool");
    assert!(
        out.status.success(),
        "{:?} failed: {}",
        command.get_program(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// The folder holding `initdb`, `pg_ctl` and `psql`: beside `initdb` on PATH (symlinks
/// resolved), else the newest /usr/lib/postgresql/*/bin.
pub fn bin_dir() -> PathBuf {
    let on_path = std::env::var_os("PATH").into_iter().flat_map(|p| {
        std::env::split_paths(&p)
            .map(|dir| dir.join("initdb"))
            .collect::<Vec<_>>()
    });
    let installed = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path().join("bin/initdb"));
    let mut installed: Vec<PathBuf> = installed.collect();
    installed.sort();
    on_path
        .chain(installed.into_iter().rev())
        .filter_map(|initdb| std::fs::canonicalize(initdb).ok())
        .find_map(|initdb| {
            let dir = initdb.parent()?.to_owned();
            dir.join("psql").exists().then_some(dir)
        })
        .expect("PostgreSQL binaries (initdb, pg_ctl, psql): apt-get install postgresql")
}

/// A CA and a server certificate for `localhost` signed by it (EC P-256, two days), made by
/// the `openssl` command in `dir` as `postgres` (the server refuses a key others can read).
fn make_certificates(dir: &Path) {
    let script = "set -e; cd \"$1\"; ec='-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes'
        openssl req -x509 $ec -keyout ca.key -out ca.pem -days 2 -subj /CN=customerlink-test-ca
        openssl req $ec -keyout server.key -out server.csr -subj /CN=localhost
        printf 'subjectAltName=DNS:localhost\n' > server.ext
        openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial \
            -out server.pem -days 2 -extfile server.ext
        chmod 600 server.key";
    run_as_postgres(Command::new("sh").args(["-c", script, "sh"]).arg(dir));
}

fn is_root() -> bool {
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

/// Lets `postgres` read a file root wrote.
fn set_readable(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o644));
}

/// A loopback port nobody listens on now.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}
