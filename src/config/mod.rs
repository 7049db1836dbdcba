//! Configuration: flags beat environment, environment beats the TOML file, the file beats the
//! defaults. Everything is resolved and validated once at start-up into a [`Config`] that is
//! passed explicitly (no global state); a bad key is reported by name before anything starts.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

mod delivery;
mod http;
mod proxy;
mod store;

pub use delivery::{
    BodyEncoding, DeliveryFile, DeliverySettings, EmailFile, EmailSettings, HttpAuth, SmsFile,
    SmsSettings,
};
pub use http::{HttpFile, HttpLimits, MetricsFile, MetricsSettings};
pub use proxy::{Cidr, ClientIpHeader, canonical as canonical_ip};
pub use store::{PgSettings, PgSslMode, PostgresFile, StoreLocation, parse_postgres_url};

/// File name of the master secret inside the data folder.
pub const MASTER_SECRET_FILE: &str = "master.key";

/// What the command line and environment said (clap fills flags and their env fallbacks).
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    pub listen: Option<String>,
    pub data: Option<PathBuf>,
    pub public_url: Option<String>,
    pub config: Option<PathBuf>,
    pub log_level: Option<String>,
    /// `redb` or a `postgres://` URL (`--store`, `CUSTOMERLINK_STORE`).
    pub store: Option<String>,
    /// `--master-secret-file`, `CUSTOMERLINK_MASTER_SECRET_FILE`.
    pub master_secret_file: Option<PathBuf>,
    /// `--dev`, `CUSTOMERLINK_DEV`: development mode (see [`Config::dev`]).
    pub dev: bool,
    /// `--dev-allow-remote`: development mode on a non-loopback address.
    pub dev_allow_remote: bool,
}

/// The TOML file, every key optional; unknown keys are an error so a typo is not ignored.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub listen: Option<String>,
    pub public_url: Option<String>,
    pub log_level: Option<String>,
    pub master_secret_file: Option<PathBuf>,
    pub policy_file: Option<PathBuf>,
    /// Development mode (`dev = true`); the `--dev` flag also turns it on.
    pub dev: Option<bool>,
    /// Development mode may listen on a non-loopback address.
    pub dev_allow_remote: Option<bool>,
    /// `redb` (default) or a `postgres://` URL.
    pub store: Option<String>,
    #[serde(default)]
    pub postgres: PostgresFile,
    #[serde(default)]
    pub http: HttpFile,
    #[serde(default)]
    pub metrics: MetricsFile,
    #[serde(default)]
    pub purge: PurgeFile,
    #[serde(default)]
    pub writer: WriterFile,
    #[serde(default)]
    pub wire: WireFile,
    #[serde(default)]
    pub cors: CorsFile,
    #[serde(default)]
    pub email: EmailFile,
    #[serde(default)]
    pub sms: SmsFile,
    #[serde(default)]
    pub delivery: DeliveryFile,
    /// Message templates (default `<data>/templates.toml`, else the built-in ones).
    pub templates_file: Option<PathBuf>,
    #[serde(default)]
    pub portal: PortalFile,
    #[serde(default)]
    pub attachments: AttachmentsFile,
    #[serde(default)]
    pub webhooks: WebhooksFile,
}

/// `[webhooks]` table of the file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhooksFile {
    pub allowed_hosts: Option<Vec<String>>,
    pub max_consecutive_failures: Option<u32>,
    pub timeout_secs: Option<u64>,
}

/// Where webhook endpoints may point and when one that keeps failing is switched off.
#[derive(Debug, Clone)]
pub struct WebhookSettings {
    /// `Some`: endpoint URLs must have one of these host names (a tenant cannot make the
    /// service call internal addresses); `None`: any http(s) host.
    pub allowed_hosts: Option<Vec<String>>,
    /// Failed deliveries in a row after which an endpoint is disabled (default 10).
    pub max_consecutive_failures: u32,
    /// How long one POST to an endpoint may take (default 10 s).
    pub timeout: Duration,
}

/// `[attachments]` table of the file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttachmentsFile {
    pub max_bytes: Option<u64>,
    pub retention_days: Option<u64>,
}

/// Limits of `PUT /v1/attachment`.
#[derive(Debug, Clone)]
pub struct AttachmentSettings {
    /// The largest file accepted (default 25 MiB); a larger upload gets 413 and leaves nothing.
    pub max_bytes: u64,
    /// How long an attachment no share points at is kept, from the later of its upload and
    /// its last share's purge, before the purge removes it (default 30 days).
    pub retention_ms: i64,
}

/// `[portal]` table of the file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PortalFile {
    pub requests_per_minute: Option<u32>,
    pub verify_attempts_per_address: Option<u32>,
    pub verify_window_secs: Option<u64>,
    pub limiter_max_keys: Option<usize>,
    pub limiter_keys_per_address: Option<u32>,
    pub reissues_per_address_per_hour: Option<u32>,
    pub reissues_per_link_per_hour: Option<u32>,
}

/// Recipient portal limits (per client address).
#[derive(Debug, Clone)]
pub struct PortalSettings {
    /// Requests per minute to `/portal` routes; more get 429.
    pub requests_per_minute: u32,
    /// Passcode entries per address per link within `verify_window`: tighter than the link's
    /// own budget, so one person holding the link cannot lock the real recipient out quickly.
    pub verify_attempts_per_address: u32,
    pub verify_window: Duration,
    /// Keys each in-memory portal limiter tracks per window; memory stays bounded by it.
    pub limiter_max_keys: usize,
    /// Keys one client (an IPv4 address or an IPv6 /64) may hold in a limiter per window, so
    /// filling a limiter takes many clients.
    pub limiter_keys_per_address: u32,
    /// "Ask for a new link" requests one address may make per hour (default 10); more are
    /// answered the same and dropped.
    pub reissues_per_address_per_hour: u32,
    /// Re-issue requests acted on per link per hour (default 3), whatever the addresses.
    pub reissues_per_link_per_hour: u32,
}

/// `[wire]` table of the file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WireFile {
    pub casing: Option<CasingSetting>,
}

/// `[cors]` table of the file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CorsFile {
    pub allowed_origins: Option<Vec<String>>,
}

/// Member-name casing of JSON/JSV replies: `auto` decides per request (the operation's DTO
/// member names as sent, then the route: README "Wire compatibility"), `pascal` and `camel`
/// force one. `?jsconfig=` and a key's `--casing` pin still override it.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CasingSetting {
    #[default]
    Auto,
    Pascal,
    Camel,
}

/// Wire settings.
#[derive(Debug, Clone, Default)]
pub struct WireSettings {
    pub casing: CasingSetting,
}

/// Which browser origins may call the API (`*` = any).
#[derive(Debug, Clone)]
pub struct CorsSettings {
    pub allowed_origins: Vec<String>,
}

impl CorsSettings {
    /// The `Access-Control-Allow-Origin` value for a request from `origin`, if allowed.
    pub fn allow_origin<'a>(&'a self, origin: Option<&'a str>) -> Option<&'a str> {
        if self.allowed_origins.iter().any(|o| o == "*") {
            return Some("*");
        }
        origin.filter(|o| {
            self.allowed_origins
                .iter()
                .any(|allowed| same_origin(allowed, o))
        })
    }
}

/// Whether two URLs (or bare origins) name the same web origin: scheme, host and port as
/// the `url` crate parses them (case-insensitive host, default ports implied). Unparsable
/// text and opaque origins (`null`) match nothing.
pub fn same_origin(a: &str, b: &str) -> bool {
    match (url::Url::parse(a), url::Url::parse(b)) {
        (Ok(a), Ok(b)) => a.origin().is_tuple() && a.origin() == b.origin(),
        _ => false,
    }
}

/// `[purge]` table of the file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PurgeFile {
    pub interval_secs: Option<u64>,
    pub retention_hours: Option<u64>,
    pub batch_size: Option<usize>,
}

/// `[writer]` table of the file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WriterFile {
    pub queue_capacity: Option<usize>,
    pub max_batch: Option<usize>,
    pub quick_repair: Option<bool>,
    pub cache_mib: Option<usize>,
}

/// Purge job settings.
#[derive(Debug, Clone)]
pub struct PurgeSettings {
    pub interval: Duration,
    /// How long an expired or revoked link is kept before it is deleted.
    pub retention_ms: i64,
    pub batch_size: usize,
}

/// Group-commit writer settings.
#[derive(Debug, Clone)]
pub struct WriterSettings {
    pub queue_capacity: usize,
    pub max_batch: usize,
    /// Record redb's allocator state in every commit, so opening after a crash needs no full
    /// scan of the file (`[writer] quick_repair`; costs commit latency — see BENCHMARKS.md).
    pub quick_repair: bool,
    /// redb's page cache in bytes (`[writer] cache_mib`). Small by default: the OS page cache
    /// keeps the file warm anyway, and this memory counts against the service's RSS.
    pub cache_bytes: usize,
}

/// The resolved configuration of one process.
#[derive(Debug, Clone)]
pub struct Config {
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    /// Base of portal URLs, without a trailing slash.
    pub public_url: String,
    /// No public URL was configured: it follows the address actually bound (port 0 included).
    pub public_url_from_listen: bool,
    pub log_level: tracing::Level,
    /// Where the records live (`store`): the redb file in the data folder, or PostgreSQL.
    pub store: StoreLocation,
    /// A key file named by the operator (`master_secret_file`): it must exist and is never
    /// created; `None` means `<data>/master.key`, created on first start.
    pub master_secret_file: Option<PathBuf>,
    pub policy_file: PathBuf,
    pub http: HttpLimits,
    pub metrics: MetricsSettings,
    pub purge: PurgeSettings,
    pub writer: WriterSettings,
    pub wire: WireSettings,
    pub cors: CorsSettings,
    /// `None`: no relay configured; requested email delivery is a delivery error.
    pub email: Option<EmailSettings>,
    /// `None`: no gateway configured; requested SMS delivery is a delivery error.
    pub sms: Option<SmsSettings>,
    pub delivery: DeliverySettings,
    pub templates_file: PathBuf,
    pub portal: PortalSettings,
    pub attachments: AttachmentSettings,
    pub webhooks: WebhookSettings,
    /// Development mode: email and SMS go to the mailbox in the data folder instead of out,
    /// `/dev/mailbox` and `/dev/resource` answer, and the built-in policy hands off to
    /// `/dev/resource`. Refused on a non-loopback address unless `dev_allow_remote`.
    pub dev: bool,
    pub dev_allow_remote: bool,
    /// Whether opening an embedded file of an older format migrates it (after keeping a copy)
    /// or refuses to start: `serve --no-migrate` and the admin commands refuse.
    pub migrate: bool,
}

/// A configuration problem, naming the key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{key}: {problem}")]
pub struct ConfigError {
    pub key: String,
    pub problem: String,
}

pub(crate) fn err(key: &str, problem: impl Into<String>) -> ConfigError {
    ConfigError {
        key: key.to_owned(),
        problem: problem.into(),
    }
}

/// Default listen address.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";

impl Config {
    /// Reads the config file (if any) and resolves everything. Fails with every bad key named.
    pub fn load(overrides: Overrides) -> Result<Config, Vec<ConfigError>> {
        let data_dir = overrides
            .data
            .clone()
            .unwrap_or_else(|| PathBuf::from("data"));
        let explicit_file = overrides.config.is_some();
        let file_path = overrides
            .config
            .clone()
            .unwrap_or_else(|| data_dir.join("customerlink.toml"));
        let file = read_file(&file_path, explicit_file).map_err(|e| vec![e])?;
        Self::resolve(overrides, file)
    }

    /// Combines overrides and file contents (no I/O).
    pub fn resolve(o: Overrides, f: FileConfig) -> Result<Config, Vec<ConfigError>> {
        let mut errors = Vec::new();
        let data_dir = o.data.unwrap_or_else(|| PathBuf::from("data"));
        let listen = resolve_listen(o.listen.or(f.listen), &mut errors);
        let public_url_from_listen = o.public_url.is_none() && f.public_url.is_none();
        let public_url = resolve_public_url(o.public_url.or(f.public_url), listen, &mut errors);
        let log_level = resolve_log_level(o.log_level.or(f.log_level), &mut errors);
        let http = http::resolve_http(&f.http, &mut errors);
        let metrics = http::resolve_metrics(f.metrics, &mut errors);
        let purge = resolve_purge(&f.purge, &mut errors);
        let writer = resolve_writer(&f.writer, &mut errors);
        let store = store::resolve_store(
            o.store.as_deref().or(f.store.as_deref()),
            &f.postgres,
            &mut errors,
        );
        let policy_file = f
            .policy_file
            .unwrap_or_else(|| data_dir.join("policy.toml"));
        let templates_file = (f.templates_file).unwrap_or_else(|| data_dir.join("templates.toml"));
        let delivery = delivery::resolve_delivery(&f.delivery, &mut errors);
        let portal = resolve_portal(&f.portal, &mut errors);
        let attachments = resolve_attachments(&f.attachments, &mut errors);
        let webhooks = resolve_webhooks(f.webhooks, &mut errors);
        let email = delivery::resolve_email(f.email, &mut errors);
        let sms = delivery::resolve_sms(f.sms, &mut errors);
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(Config {
            listen,
            public_url: public_url.trim_end_matches('/').to_owned(),
            public_url_from_listen,
            data_dir,
            log_level,
            store,
            master_secret_file: o.master_secret_file.or(f.master_secret_file),
            policy_file,
            http,
            metrics,
            purge,
            writer,
            wire: WireSettings {
                casing: f.wire.casing.unwrap_or_default(),
            },
            email,
            sms,
            delivery,
            templates_file,
            portal,
            attachments,
            webhooks,
            dev: o.dev || f.dev.unwrap_or(false),
            dev_allow_remote: o.dev_allow_remote || f.dev_allow_remote.unwrap_or(false),
            migrate: true,
            cors: CorsSettings {
                allowed_origins: (f.cors.allowed_origins).unwrap_or_else(|| vec!["*".into()]),
            },
        })
    }

    /// The development mailbox's folder inside the data folder.
    pub fn dev_mailbox_path(&self) -> PathBuf {
        self.data_dir.join("dev-mailbox")
    }

    /// The redb file inside the data folder.
    pub fn database_path(&self) -> PathBuf {
        self.data_dir.join("customerlink.redb")
    }

    /// The master secret file: `master_secret_file` if set, else [`MASTER_SECRET_FILE`] in
    /// the data folder.
    pub fn master_secret_path(&self) -> PathBuf {
        self.master_secret_file
            .clone()
            .unwrap_or_else(|| self.data_dir.join(MASTER_SECRET_FILE))
    }
}

/// The portal's per-address limits (`[portal]`).
fn resolve_portal(f: &PortalFile, errors: &mut Vec<ConfigError>) -> PortalSettings {
    PortalSettings {
        requests_per_minute: positive(
            f.requests_per_minute,
            120,
            "portal.requests_per_minute",
            errors,
        ),
        verify_attempts_per_address: positive(
            f.verify_attempts_per_address,
            3,
            "portal.verify_attempts_per_address",
            errors,
        ),
        verify_window: Duration::from_secs(positive(
            f.verify_window_secs,
            900,
            "portal.verify_window_secs",
            errors,
        )),
        limiter_max_keys: positive(
            f.limiter_max_keys,
            50_000,
            "portal.limiter_max_keys",
            errors,
        ),
        limiter_keys_per_address: positive(
            f.limiter_keys_per_address,
            64,
            "portal.limiter_keys_per_address",
            errors,
        ),
        reissues_per_address_per_hour: positive(
            f.reissues_per_address_per_hour,
            10,
            "portal.reissues_per_address_per_hour",
            errors,
        ),
        reissues_per_link_per_hour: positive(
            f.reissues_per_link_per_hour,
            3,
            "portal.reissues_per_link_per_hour",
            errors,
        ),
    }
}

/// Longest `attachments.retention_days` accepted (100 years).
const MAX_RETENTION_DAYS: u64 = 36_500;

/// `[attachments]`: the largest file an upload may carry (25 MiB by default) and the days an
/// unshared attachment is kept (30 by default; 1 to [`MAX_RETENTION_DAYS`], so a fresh
/// upload is never purged before a share can be made for it).
fn resolve_attachments(f: &AttachmentsFile, errors: &mut Vec<ConfigError>) -> AttachmentSettings {
    let max_bytes = positive(
        f.max_bytes,
        25 * 1024 * 1024,
        "attachments.max_bytes",
        errors,
    );
    let mut days = positive(f.retention_days, 30, "attachments.retention_days", errors);
    if days > MAX_RETENTION_DAYS {
        let problem = format!("must be at most {MAX_RETENTION_DAYS}");
        errors.push(err("attachments.retention_days", problem));
        days = 30;
    }
    AttachmentSettings {
        max_bytes,
        retention_ms: (days * 86_400_000) as i64,
    }
}

/// `[webhooks]`: allowed target hosts (lower-cased; optional), failures in a row before an
/// endpoint is switched off (default 10) and the per-request timeout (default 10 s).
fn resolve_webhooks(f: WebhooksFile, errors: &mut Vec<ConfigError>) -> WebhookSettings {
    let allowed_hosts = f.allowed_hosts.map(|hosts| {
        hosts
            .into_iter()
            .map(|h| h.trim().to_ascii_lowercase())
            .collect::<Vec<_>>()
    });
    if let Some(bad) = allowed_hosts
        .iter()
        .flatten()
        .find(|h| h.is_empty() || h.contains(['/', ':', ' ']))
    {
        let problem = format!("{bad:?} is not a host name");
        errors.push(err("webhooks.allowed_hosts", problem));
    }
    WebhookSettings {
        allowed_hosts,
        max_consecutive_failures: positive(
            f.max_consecutive_failures,
            10,
            "webhooks.max_consecutive_failures",
            errors,
        ),
        timeout: Duration::from_secs(positive(
            f.timeout_secs,
            10,
            "webhooks.timeout_secs",
            errors,
        )),
    }
}

/// `log_level` (flag or file), default `info`.
fn resolve_log_level(text: Option<String>, errors: &mut Vec<ConfigError>) -> tracing::Level {
    let text = text.unwrap_or_else(|| "info".into());
    text.parse::<tracing::Level>().unwrap_or_else(|_| {
        let allowed = "must be one of error, warn, info, debug, trace";
        errors.push(err("log_level", allowed));
        tracing::Level::INFO
    })
}

/// `listen` (flag or file), default [`DEFAULT_LISTEN`].
fn resolve_listen(text: Option<String>, errors: &mut Vec<ConfigError>) -> SocketAddr {
    let text = text.unwrap_or_else(|| DEFAULT_LISTEN.to_owned());
    text.parse::<SocketAddr>().unwrap_or_else(|_| {
        errors.push(err(
            "listen",
            format!("'{text}' is not an address like 127.0.0.1:8080"),
        ));
        SocketAddr::from(([127, 0, 0, 1], 8080))
    })
}

/// `public_url` (flag or file), default `http://{listen}`; must be http(s).
fn resolve_public_url(
    url: Option<String>,
    listen: SocketAddr,
    errors: &mut Vec<ConfigError>,
) -> String {
    let url = url.unwrap_or_else(|| format!("http://{listen}"));
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        errors.push(err("public_url", "must start with http:// or https://"));
    }
    url
}

fn read_file(path: &Path, required: bool) -> Result<FileConfig, ConfigError> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !required => {
            return Ok(FileConfig::default());
        }
        Err(e) => {
            return Err(err(
                "config",
                format!("cannot read {}: {e}", path.display()),
            ));
        }
    };
    toml::from_str(&text).map_err(|e| err("config", format!("{}: {e}", path.display())))
}

pub(crate) fn positive<T: PartialOrd + Default + Copy>(
    value: Option<T>,
    default: T,
    key: &str,
    errors: &mut Vec<ConfigError>,
) -> T {
    let v = value.unwrap_or(default);
    if v <= T::default() {
        errors.push(err(key, "must be greater than zero"));
        return default;
    }
    v
}

fn resolve_purge(f: &PurgeFile, errors: &mut Vec<ConfigError>) -> PurgeSettings {
    let retention_hours = f.retention_hours.unwrap_or(30 * 24);
    PurgeSettings {
        interval: Duration::from_secs(positive(f.interval_secs, 60, "purge.interval_secs", errors)),
        retention_ms: i64::try_from(
            retention_hours.saturating_mul(crate::domain::HOUR_MS.unsigned_abs()),
        )
        .unwrap_or(i64::MAX),
        batch_size: positive(f.batch_size, 200, "purge.batch_size", errors),
    }
}

fn resolve_writer(f: &WriterFile, errors: &mut Vec<ConfigError>) -> WriterSettings {
    WriterSettings {
        queue_capacity: positive(f.queue_capacity, 4096, "writer.queue_capacity", errors),
        max_batch: positive(f.max_batch, 1024, "writer.max_batch", errors),
        quick_repair: f.quick_repair.unwrap_or(false),
        cache_bytes: positive(f.cache_mib, 16, "writer.cache_mib", errors).saturating_mul(1 << 20),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(text: &str) -> FileConfig {
        toml::from_str(text).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn defaults_apply_when_nothing_is_set() {
        let c = Config::resolve(Overrides::default(), FileConfig::default())
            .unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(c.listen.to_string(), DEFAULT_LISTEN);
        assert_eq!(c.public_url, "http://127.0.0.1:8080");
        assert_eq!(c.data_dir, PathBuf::from("data"));
        assert_eq!(c.http.max_body_bytes, 65536);
        assert_eq!(c.purge.interval, Duration::from_secs(60));
        assert_eq!(c.purge.retention_ms, 30 * 24 * 3_600_000);
        assert_eq!(c.policy_file, PathBuf::from("data/policy.toml"));
    }

    #[test]
    fn webhooks_keys_have_defaults_and_are_checked() {
        let resolve = |text: &str| Config::resolve(Overrides::default(), file(text));
        let c = resolve("").unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(c.webhooks.allowed_hosts, None);
        assert_eq!(c.webhooks.max_consecutive_failures, 10);
        assert_eq!(c.webhooks.timeout, Duration::from_secs(10));
        let text = "[webhooks]\nallowed_hosts = [\"Hooks.Example.com\"]\nmax_consecutive_failures = 3\ntimeout_secs = 2";
        let c = resolve(text).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(
            c.webhooks.allowed_hosts,
            Some(vec!["hooks.example.com".to_owned()])
        );
        assert_eq!(c.webhooks.max_consecutive_failures, 3);
        assert_eq!(c.webhooks.timeout, Duration::from_secs(2));
        for (bad, key) in [
            ("allowed_hosts = [\"http://x\"]", "webhooks.allowed_hosts"),
            (
                "max_consecutive_failures = 0",
                "webhooks.max_consecutive_failures",
            ),
            ("timeout_secs = 0", "webhooks.timeout_secs"),
        ] {
            let errors = resolve(&format!("[webhooks]\n{bad}"))
                .err()
                .unwrap_or_default();
            assert!(errors.iter().any(|e| e.key == key), "{bad}: {errors:?}");
        }
    }

    #[test]
    fn attachments_retention_days_defaults_to_30_and_is_bounded() {
        let resolve = |text: &str| Config::resolve(Overrides::default(), file(text));
        let c = resolve("").unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(c.attachments.retention_ms, 30 * 86_400_000);
        let c = resolve("[attachments]\nretention_days = 2").unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(c.attachments.retention_ms, 2 * 86_400_000);
        for bad in ["0", "36501"] {
            let errors = resolve(&format!("[attachments]\nretention_days = {bad}"))
                .err()
                .unwrap_or_default();
            assert!(
                errors.iter().any(|e| e.key == "attachments.retention_days"),
                "{bad}: {errors:?}"
            );
        }
    }

    #[test]
    fn the_master_secret_is_in_the_data_folder_unless_named() {
        let mut c = Config::resolve(Overrides::default(), FileConfig::default())
            .unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(c.master_secret_path(), PathBuf::from("data/master.key"));
        c.master_secret_file = Some(PathBuf::from("/secrets/cl.key"));
        assert_eq!(c.master_secret_path(), PathBuf::from("/secrets/cl.key"));
    }

    #[test]
    fn flags_beat_file() {
        let o = Overrides {
            listen: Some("127.0.0.1:9000".into()),
            ..Overrides::default()
        };
        let c = Config::resolve(
            o,
            file("listen = \"127.0.0.1:7000\"\npublic_url = \"https://x.example/\""),
        )
        .unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(c.listen.port(), 9000);
        assert_eq!(c.public_url, "https://x.example");
    }

    #[test]
    fn every_bad_key_is_reported() {
        let f = file(
            "listen = \"nope\"\nlog_level = \"loud\"\n[purge]\ninterval_secs = 0\n[http]\nmax_body_bytes = 0",
        );
        let errors = Config::resolve(Overrides::default(), f)
            .err()
            .unwrap_or_default();
        let keys: Vec<_> = errors.iter().map(|e| e.key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "listen",
                "log_level",
                "http.max_body_bytes",
                "purge.interval_secs"
            ]
        );
    }

    #[test]
    fn origins_compare_scheme_host_and_port() {
        assert!(same_origin("https://A.example", "https://a.example/portal"));
        assert!(same_origin("http://a.example:80", "http://a.example"));
        assert!(!same_origin("http://a.example", "https://a.example"));
        assert!(!same_origin("https://a.example:8443", "https://a.example"));
        assert!(!same_origin("null", "null"));
        assert!(!same_origin("not a url", "not a url"));
    }

    #[test]
    fn wire_and_cors_settings() {
        let c = Config::resolve(Overrides::default(), FileConfig::default()).unwrap();
        assert_eq!(c.wire.casing, CasingSetting::Auto);
        assert_eq!(c.cors.allow_origin(Some("https://a.example")), Some("*"));
        let f =
            file("[wire]\ncasing = \"camel\"\n[cors]\nallowed_origins = [\"https://a.example\"]");
        let c = Config::resolve(Overrides::default(), f).unwrap();
        assert_eq!(c.wire.casing, CasingSetting::Camel);
        assert_eq!(
            c.cors.allow_origin(Some("https://A.example")),
            Some("https://A.example")
        );
        assert_eq!(c.cors.allow_origin(Some("https://evil.example")), None);
        assert_eq!(c.cors.allow_origin(None), None);
    }

    #[test]
    fn unknown_file_keys_are_rejected() {
        assert!(toml::from_str::<FileConfig>("lisen = \"x\"").is_err());
    }

    #[test]
    fn tuning_keys_are_read_from_the_file() {
        let f = file(
            "[purge]\nretention_hours = 1\nbatch_size = 5\n[writer]\nmax_batch = 7\ncache_mib = 8\n[http]\nrequest_timeout_secs = 3",
        );
        let c = Config::resolve(Overrides::default(), f).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(c.purge.retention_ms, 3_600_000);
        assert_eq!(c.purge.batch_size, 5);
        assert_eq!(c.writer.max_batch, 7);
        assert_eq!(c.writer.cache_bytes, 8 << 20);
        assert_eq!(c.http.request_timeout, Duration::from_secs(3));
    }

    #[test]
    fn portal_limiter_keys() {
        let c = Config::resolve(Overrides::default(), FileConfig::default()).unwrap();
        assert_eq!(
            (c.portal.limiter_max_keys, c.portal.limiter_keys_per_address),
            (50_000, 64)
        );
        let f = file("[portal]\nlimiter_max_keys = 10\nlimiter_keys_per_address = 2");
        let c = Config::resolve(Overrides::default(), f).unwrap();
        assert_eq!(
            (c.portal.limiter_max_keys, c.portal.limiter_keys_per_address),
            (10, 2)
        );
        let f = file("[portal]\nlimiter_max_keys = 0\nlimiter_keys_per_address = 0");
        let keys: Vec<String> = Config::resolve(Overrides::default(), f)
            .err()
            .unwrap_or_default()
            .into_iter()
            .map(|e| e.key)
            .collect();
        assert_eq!(
            keys,
            ["portal.limiter_max_keys", "portal.limiter_keys_per_address"]
        );
    }
}
