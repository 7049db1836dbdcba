//! Where the records live: the embedded redb file (the default) or a PostgreSQL database that
//! several instances share. `store` (file), `--store` and `CUSTOMERLINK_STORE` are parsed once
//! into a [`StoreLocation`], so nothing downstream handles the URL text. The password leaves
//! its wrapper only to open a connection: `Display` and `Debug` show `***` instead.

use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

use super::{ConfigError, err, positive};
use crate::domain::token::Secret;

/// The two stores. `Redb` is `<data>/customerlink.redb`.
#[derive(Debug, Clone, Default)]
pub enum StoreLocation {
    #[default]
    Redb,
    Postgres(PgSettings),
}

impl StoreLocation {
    /// Whether the store is the file in the data folder (which the file tools — backup,
    /// restore, compact, the operator channel — work on).
    pub fn is_embedded(&self) -> bool {
        matches!(self, StoreLocation::Redb)
    }
}

/// How the connection is protected (`sslmode`, with libpq's meaning).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PgSslMode {
    /// Plain TCP.
    Disable,
    /// TLS if the server offers it, else plain; the certificate is not checked.
    Prefer,
    /// TLS or no connection; the certificate is not checked (stops passive eavesdropping only).
    Require,
    /// TLS with the certificate chain checked against the trusted roots and the host name.
    VerifyFull,
}

impl PgSslMode {
    fn parse(text: &str) -> Option<Self> {
        match text {
            "disable" => Some(Self::Disable),
            "prefer" => Some(Self::Prefer),
            "require" => Some(Self::Require),
            "verify-full" => Some(Self::VerifyFull),
            _ => None,
        }
    }

    /// The `sslmode` value, as written in the URL.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Disable => "disable",
            Self::Prefer => "prefer",
            Self::Require => "require",
            Self::VerifyFull => "verify-full",
        }
    }
}

/// A parsed `postgres://` URL plus the `[postgres]` tuning keys of the file.
#[derive(Clone)]
pub struct PgSettings {
    pub host: String,
    pub port: u16,
    pub user: String,
    /// `None`: no password in the URL (trust or peer authentication).
    pub password: Option<Secret<String>>,
    pub dbname: String,
    pub ssl_mode: PgSslMode,
    /// `sslrootcert`: a PEM file of CA certificates trusted for `verify-full` instead of the
    /// built-in Mozilla roots (managed services often sign with their own CA).
    pub root_cert: Option<PathBuf>,
    /// Connections this instance keeps at most (`postgres.pool_size`).
    pub pool_size: usize,
    /// Longest wait for a TCP connection and its handshake, and for a free pooled connection
    /// (`postgres.connect_timeout_secs`); past it the caller gets "unavailable" (503).
    pub connect_timeout: Duration,
    /// Server-side limit on one statement (`postgres.statement_timeout_secs`).
    pub statement_timeout: Duration,
    /// How long an instance trusts an API key it looked up (`postgres.key_cache_secs`): a
    /// key revoked through another instance, or directly in the database, is refused here
    /// at most this long after.
    pub key_cache: Duration,
}

/// The URL without its password, for logs and messages.
impl std::fmt::Display for PgSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let password = if self.password.is_some() { ":***" } else { "" };
        write!(
            f,
            "postgres://{}{password}@{}:{}/{}?sslmode={}",
            self.user,
            self.host,
            self.port,
            self.dbname,
            self.ssl_mode.as_str()
        )
    }
}

impl std::fmt::Debug for PgSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgSettings")
            .field("url", &self.to_string())
            .field("root_cert", &self.root_cert)
            .field("pool_size", &self.pool_size)
            .field("connect_timeout", &self.connect_timeout)
            .field("statement_timeout", &self.statement_timeout)
            .field("key_cache", &self.key_cache)
            .finish()
    }
}

/// `[postgres]` table of the file: tuning for a PostgreSQL store (ignored for redb).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PostgresFile {
    pub pool_size: Option<usize>,
    pub connect_timeout_secs: Option<u64>,
    pub statement_timeout_secs: Option<u64>,
    pub key_cache_secs: Option<u64>,
}

/// Resolves `store` (flag/env text beats the file's) with the `[postgres]` tuning keys.
pub(super) fn resolve_store(
    text: Option<&str>,
    tuning: &PostgresFile,
    errors: &mut Vec<ConfigError>,
) -> StoreLocation {
    let pool_size = positive(tuning.pool_size, 16, "postgres.pool_size", errors);
    let connect = positive(
        tuning.connect_timeout_secs,
        5,
        "postgres.connect_timeout_secs",
        errors,
    );
    let statement = positive(
        tuning.statement_timeout_secs,
        10,
        "postgres.statement_timeout_secs",
        errors,
    );
    let key_cache = positive(tuning.key_cache_secs, 5, "postgres.key_cache_secs", errors);
    match text.map(str::trim) {
        None | Some("redb") => StoreLocation::Redb,
        Some(url) => match parse_postgres_url(url) {
            Ok(mut settings) => {
                settings.pool_size = pool_size;
                settings.connect_timeout = Duration::from_secs(connect);
                settings.statement_timeout = Duration::from_secs(statement);
                settings.key_cache = Duration::from_secs(key_cache);
                StoreLocation::Postgres(settings)
            }
            Err(problem) => {
                errors.push(err("store", problem));
                StoreLocation::Redb
            }
        },
    }
}

/// Parses `postgres://user:password@host:port/db?sslmode=…[&sslrootcert=FILE]`. The problem
/// it reports never quotes the text, which may hold the password.
pub fn parse_postgres_url(text: &str) -> Result<PgSettings, String> {
    const SHAPE: &str =
        "must be `redb` or a URL like postgres://user:password@host:5432/db?sslmode=require";
    let url = url::Url::parse(text).map_err(|e| format!("{SHAPE} ({e})"))?;
    if !matches!(url.scheme(), "postgres" | "postgresql") {
        return Err(SHAPE.to_owned());
    }
    let host = url
        .host_str()
        .filter(|h| !h.is_empty())
        .ok_or_else(|| format!("{SHAPE} (no host)"))?;
    let user = decode(url.username(), "user name")?;
    if user.is_empty() {
        return Err(format!("{SHAPE} (no user name)"));
    }
    let password = url
        .password()
        .map(|p| decode(p, "password"))
        .transpose()?
        .map(Secret::new);
    let dbname = decode(url.path().trim_start_matches('/'), "database name")?;
    if dbname.is_empty() || dbname.contains('/') {
        return Err(format!("{SHAPE} (no database name)"));
    }
    let mut settings = PgSettings {
        host: host.trim_matches(|c| c == '[' || c == ']').to_owned(),
        port: url.port().unwrap_or(5432),
        user,
        password,
        dbname,
        ssl_mode: PgSslMode::Prefer,
        root_cert: None,
        pool_size: 16,
        connect_timeout: Duration::from_secs(5),
        statement_timeout: Duration::from_secs(10),
        key_cache: Duration::from_secs(5),
    };
    apply_parameters(&url, &mut settings)?;
    Ok(settings)
}

/// The URL's query: `sslmode` and `sslrootcert`; anything else is refused by name, so a libpq
/// parameter this build does not honour is not silently ignored.
fn apply_parameters(url: &url::Url, settings: &mut PgSettings) -> Result<(), String> {
    for (name, value) in url.query_pairs() {
        match name.as_ref() {
            "sslmode" => {
                settings.ssl_mode = PgSslMode::parse(&value).ok_or_else(|| {
                    "sslmode must be disable, prefer, require or verify-full".to_owned()
                })?;
            }
            "sslrootcert" => settings.root_cert = Some(PathBuf::from(value.as_ref())),
            other => {
                return Err(format!(
                    "unknown URL parameter {other:?} (known: sslmode, sslrootcert)"
                ));
            }
        }
    }
    if settings.root_cert.is_some() && settings.ssl_mode != PgSslMode::VerifyFull {
        return Err("sslrootcert is used only with sslmode=verify-full".to_owned());
    }
    Ok(())
}

/// Percent-decodes one URL part (`p%40ss` → `p@ss`).
fn decode(part: &str, what: &str) -> Result<String, String> {
    percent_encoding::percent_decode_str(part)
        .decode_utf8()
        .map(|s| s.into_owned())
        .map_err(|_| format!("the {what} in the URL is not UTF-8"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(text: &str) -> PgSettings {
        parse_postgres_url(text).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn a_full_url_is_parsed_and_decoded() {
        let s = parsed("postgres://cl:p%40ss@db.example:6432/links?sslmode=verify-full");
        assert_eq!((s.host.as_str(), s.port), ("db.example", 6432));
        assert_eq!((s.user.as_str(), s.dbname.as_str()), ("cl", "links"));
        assert_eq!(
            s.password.as_ref().map(|p| p.expose().as_str()),
            Some("p@ss")
        );
        assert_eq!(s.ssl_mode, PgSslMode::VerifyFull);
    }

    #[test]
    fn defaults_are_libpqs() {
        let s = parsed("postgresql://cl@localhost/links");
        assert_eq!(s.port, 5432);
        assert_eq!(s.ssl_mode, PgSslMode::Prefer);
        assert!(s.password.is_none());
    }

    #[test]
    fn the_password_is_never_shown() {
        let s = parsed("postgres://cl:hunter2@localhost/links?sslmode=require");
        assert_eq!(
            s.to_string(),
            "postgres://cl:***@localhost:5432/links?sslmode=require"
        );
        assert!(!format!("{s:?}").contains("hunter2"));
        assert!(!format!("{:?}", StoreLocation::Postgres(s)).contains("hunter2"));
    }

    #[test]
    fn bad_urls_are_refused_without_quoting_them() {
        for bad in [
            "mysql://cl:hunter2@localhost/links",
            "postgres://cl:hunter2@/links",
            "postgres://:hunter2@localhost/links",
            "postgres://cl:hunter2@localhost/",
            "postgres://cl:hunter2@localhost/links?sslmode=allow",
            "postgres://cl:hunter2@localhost/links?sslmode=verify-ca",
            "postgres://cl:hunter2@localhost/links?password=x",
            "postgres://cl:hunter2@localhost/links?sslrootcert=/ca.pem",
            "hunter2",
        ] {
            let e = parse_postgres_url(bad).err().unwrap_or_default();
            assert!(!e.is_empty(), "{bad} was accepted");
            assert!(!e.contains("hunter2"), "{e}");
        }
    }

    #[test]
    fn redb_is_the_default_and_tuning_keys_apply() {
        let mut errors = Vec::new();
        let tuning = PostgresFile::default();
        assert!(matches!(
            resolve_store(None, &tuning, &mut errors),
            StoreLocation::Redb
        ));
        assert!(matches!(
            resolve_store(Some("redb"), &tuning, &mut errors),
            StoreLocation::Redb
        ));
        let tuning = PostgresFile {
            pool_size: Some(3),
            connect_timeout_secs: Some(2),
            statement_timeout_secs: Some(7),
            key_cache_secs: Some(9),
        };
        let location = resolve_store(Some("postgres://u@h/d"), &tuning, &mut errors);
        let StoreLocation::Postgres(s) = location else {
            panic!("not postgres")
        };
        assert_eq!(s.pool_size, 3);
        assert_eq!(s.connect_timeout, Duration::from_secs(2));
        assert_eq!(s.statement_timeout, Duration::from_secs(7));
        assert!(errors.is_empty(), "{errors:?}");
    }
}
