//! `[http]` and `[metrics]`: the limits the accept loop enforces and who may read `/metrics`.
//! Every limit has a safe default; a zero is a configuration error, never "unlimited".

use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

use super::proxy::{self, Cidr, ClientIpHeader};
use super::{ConfigError, err, positive};

/// `[http]` table of the file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpFile {
    pub max_body_bytes: Option<usize>,
    pub max_connections: Option<usize>,
    pub max_header_bytes: Option<usize>,
    pub header_read_timeout_secs: Option<u64>,
    pub body_read_timeout_secs: Option<u64>,
    pub request_timeout_secs: Option<u64>,
    pub keep_alive_idle_secs: Option<u64>,
    pub shutdown_grace_secs: Option<u64>,
    pub max_connections_per_address: Option<usize>,
    pub trusted_proxies: Option<Vec<String>>,
    pub client_ip_header: Option<String>,
}

/// HTTP server limits.
#[derive(Debug, Clone)]
pub struct HttpLimits {
    pub max_body_bytes: usize,
    /// Connections served at once; further connections wait in the listen backlog.
    pub max_connections: usize,
    /// Request line plus headers; more gets 431.
    pub max_header_bytes: usize,
    /// From accepting a connection, or from the first byte of a later request, until the
    /// request head is complete (slowloris protection).
    pub header_read_timeout: Duration,
    /// Reading the request body.
    pub body_read_timeout: Duration,
    /// Handling a request once its head arrived (body included), and also the longest a
    /// response write may stall on a client that does not read.
    pub request_timeout: Duration,
    /// How long a kept-alive connection may sit idle between requests.
    pub keep_alive_idle: Duration,
    pub shutdown_grace: Duration,
    /// Connections one TCP peer address may hold at once (trusted proxies are exempt: they
    /// carry everyone). At `max_connections`, idle kept-alive connections are closed first.
    pub max_connections_per_address: usize,
    /// Reverse proxies whose `client_ip_header` is believed (default none).
    pub trusted_proxies: Vec<Cidr>,
    pub client_ip_header: ClientIpHeader,
}

/// `[metrics]` table of the file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricsFile {
    pub key_file: Option<PathBuf>,
    pub links_refresh_secs: Option<u64>,
}

/// Who may read `/metrics`, and how often link gauges are recomputed.
#[derive(Debug, Clone)]
pub struct MetricsSettings {
    /// A file holding the bearer key `/metrics` requires; `None` = open (health is always open).
    pub key_file: Option<PathBuf>,
    pub links_refresh: Duration,
}

/// hyper refuses header limits below this.
const MIN_HEADER_BYTES: usize = 1024;

pub(super) fn resolve_http(f: &HttpFile, errors: &mut Vec<ConfigError>) -> HttpLimits {
    let secs = |v, d, k, e: &mut Vec<_>| Duration::from_secs(positive(v, d, k, e));
    let max_header_bytes = positive(
        f.max_header_bytes,
        16 * 1024,
        "http.max_header_bytes",
        errors,
    );
    if max_header_bytes < MIN_HEADER_BYTES {
        errors.push(err(
            "http.max_header_bytes",
            format!("must be at least {MIN_HEADER_BYTES}"),
        ));
    }
    HttpLimits {
        max_body_bytes: positive(f.max_body_bytes, 64 * 1024, "http.max_body_bytes", errors),
        max_connections: positive(f.max_connections, 1024, "http.max_connections", errors),
        max_header_bytes: max_header_bytes.max(MIN_HEADER_BYTES),
        header_read_timeout: secs(
            f.header_read_timeout_secs,
            10,
            "http.header_read_timeout_secs",
            errors,
        ),
        body_read_timeout: secs(
            f.body_read_timeout_secs,
            10,
            "http.body_read_timeout_secs",
            errors,
        ),
        request_timeout: secs(
            f.request_timeout_secs,
            30,
            "http.request_timeout_secs",
            errors,
        ),
        keep_alive_idle: secs(
            f.keep_alive_idle_secs,
            30,
            "http.keep_alive_idle_secs",
            errors,
        ),
        shutdown_grace: secs(
            f.shutdown_grace_secs,
            10,
            "http.shutdown_grace_secs",
            errors,
        ),
        max_connections_per_address: positive(
            f.max_connections_per_address,
            64,
            "http.max_connections_per_address",
            errors,
        ),
        trusted_proxies: proxy::resolve_trusted(f.trusted_proxies.as_deref(), errors),
        client_ip_header: proxy::resolve_header(f.client_ip_header.as_deref(), errors),
    }
}

pub(super) fn resolve_metrics(f: MetricsFile, errors: &mut Vec<ConfigError>) -> MetricsSettings {
    MetricsSettings {
        key_file: f.key_file,
        links_refresh: Duration::from_secs(positive(
            f.links_refresh_secs,
            60,
            "metrics.links_refresh_secs",
            errors,
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolve(text: &str) -> (HttpLimits, Vec<ConfigError>) {
        let f: HttpFile = toml::from_str(text).unwrap_or_else(|e| panic!("{e}"));
        let mut errors = Vec::new();
        (resolve_http(&f, &mut errors), errors)
    }

    #[test]
    fn every_limit_has_a_default() {
        let (l, errors) = resolve("");
        assert!(errors.is_empty());
        assert_eq!(l.max_header_bytes, 16384);
        assert_eq!(l.max_connections, 1024);
        assert_eq!(l.header_read_timeout, Duration::from_secs(10));
        assert_eq!(l.body_read_timeout, Duration::from_secs(10));
        assert_eq!(l.request_timeout, Duration::from_secs(30));
        assert_eq!(l.keep_alive_idle, Duration::from_secs(30));
        assert_eq!(l.max_connections_per_address, 64);
        assert!(l.trusted_proxies.is_empty());
        assert_eq!(l.client_ip_header, ClientIpHeader::XForwardedFor);
    }

    #[test]
    fn proxy_and_per_address_settings_are_read_and_checked() {
        let (l, errors) = resolve(
            "max_connections_per_address = 3\ntrusted_proxies = [\"10.0.0.0/8\", \"::1\"]\nclient_ip_header = \"Forwarded\"",
        );
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(l.max_connections_per_address, 3);
        assert_eq!(l.trusted_proxies.len(), 2);
        assert_eq!(l.client_ip_header, ClientIpHeader::Forwarded);
        let (_, errors) = resolve(
            "max_connections_per_address = 0\ntrusted_proxies = [\"10.0.0.0/99\"]\nclient_ip_header = \"Via\"",
        );
        let keys: Vec<_> = errors.iter().map(|e| e.key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "http.max_connections_per_address",
                "http.trusted_proxies",
                "http.client_ip_header"
            ]
        );
    }

    #[test]
    fn every_limit_is_read_and_checked() {
        let (l, errors) = resolve(
            "max_header_bytes = 2048\nbody_read_timeout_secs = 3\nkeep_alive_idle_secs = 4\nheader_read_timeout_secs = 5\nmax_connections = 6",
        );
        assert!(errors.is_empty());
        assert_eq!(l.max_header_bytes, 2048);
        assert_eq!(l.body_read_timeout, Duration::from_secs(3));
        assert_eq!(l.keep_alive_idle, Duration::from_secs(4));
        assert_eq!(l.header_read_timeout, Duration::from_secs(5));
        assert_eq!(l.max_connections, 6);
        let (_, errors) = resolve("max_header_bytes = 100\nkeep_alive_idle_secs = 0");
        let keys: Vec<_> = errors.iter().map(|e| e.key.as_str()).collect();
        assert_eq!(keys, ["http.max_header_bytes", "http.keep_alive_idle_secs"]);
    }

    #[test]
    fn metrics_settings() {
        let f: MetricsFile = toml::from_str("key_file = \"/k\"\nlinks_refresh_secs = 5")
            .unwrap_or_else(|e| panic!("{e}"));
        let m = resolve_metrics(f, &mut Vec::new());
        assert_eq!(m.key_file, Some(PathBuf::from("/k")));
        assert_eq!(m.links_refresh, Duration::from_secs(5));
    }
}
