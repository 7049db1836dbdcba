//! Service endpoints beside the API: `/health/live` (the process answers), `/health/ready`
//! (the store reads, its writer runs and no storage failure stops writes), `/metrics` (Prometheus text; bearer key from
//! `[metrics] key_file` when set) and `/admin/backup` (a consistent backup stream; only the
//! operator key from `<data>/operator-key`, never a tenant API key). Health needs no key.

use bytes::Bytes;
use hyper::header::{CONTENT_TYPE, HeaderMap, HeaderValue, RETRY_AFTER, WWW_AUTHENTICATE};
use hyper::{Method, Response, StatusCode};

use super::body::ResponseBody;
use std::time::Duration;

use crate::api::AppState;
use crate::clock::Clock;
use crate::config::Config;
use crate::metrics::Metrics;
use crate::ops::{backup, operator};
use crate::store::queries::LinkCountsAt;
use crate::store::{NotReady, Store};

/// `POST /admin/keys/{id}/revoke`, also for the operator key only.
mod keys;

/// The answer if `path` is a service endpoint, with the endpoint's fixed name for metrics and
/// logs; `None` hands the request to the API.
pub(super) async fn handle(
    state: &AppState,
    method: &Method,
    path: &str,
    headers: &HeaderMap,
) -> Option<(&'static str, Response<ResponseBody>)> {
    if let Some(response) = keys::handle(state, method, path, headers).await {
        return Some(("AdminRevokeKey", response));
    }
    if method != Method::GET && method != Method::HEAD {
        return None;
    }
    Some(match path {
        "/health/live" => ("HealthLive", text(StatusCode::OK, "live\n")),
        "/health/ready" => ("HealthReady", ready(&state.store).await),
        "/metrics" => ("Metrics", metrics(state, headers).await),
        "/admin/backup" => ("AdminBackup", backup(state.into(), headers)),
        _ => return None,
    })
}

fn text(status: StatusCode, body: &'static str) -> Response<ResponseBody> {
    let mut r = Response::new(ResponseBody::full(Bytes::from_static(body.as_bytes())));
    *r.status_mut() = status;
    r.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r.headers_mut()
        .insert("cache-control", HeaderValue::from_static("no-store"));
    r
}

fn unauthorized() -> Response<ResponseBody> {
    let mut r = text(StatusCode::UNAUTHORIZED, "unauthorized\n");
    r.headers_mut().insert(
        WWW_AUTHENTICATE,
        HeaderValue::from_static("Bearer realm=\"customerlink-operator\""),
    );
    r
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(hyper::header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, key) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| key.trim())
}

/// Ready when the store can answer and take writes. While the embedded database is being
/// reopened after a failed write (e.g. a full disk) this is 503 with `Retry-After`, so a load
/// balancer sends traffic elsewhere; so is a database server that does not answer.
async fn ready(store: &Store) -> Response<ResponseBody> {
    let unavailable = |body| text(StatusCode::SERVICE_UNAVAILABLE, body);
    match store.ready().await {
        Ok(()) => text(StatusCode::OK, "ready\n"),
        Err(NotReady::Reopening { retry_after_secs }) => {
            let mut r = unavailable("storage failing; reopening the database\n");
            let value = HeaderValue::from(retry_after_secs);
            r.headers_mut().insert(RETRY_AFTER, value);
            r
        }
        Err(NotReady::Unreadable) => unavailable("store not readable\n"),
        Err(NotReady::WriterStopped) => unavailable("writer stopped\n"),
        Err(NotReady::Unreachable) => {
            let mut r = unavailable("database server unreachable\n");
            r.headers_mut().insert(RETRY_AFTER, HeaderValue::from(1));
            r
        }
    }
}

async fn metrics(state: &AppState, headers: &HeaderMap) -> Response<ResponseBody> {
    if let Some(key_file) = &state.config.metrics.key_file
        && !bearer(headers).is_some_and(|k| operator::key_matches(key_file, k))
    {
        return unauthorized();
    }
    let every = state.config.metrics.links_refresh;
    refresh_link_gauges(&state.metrics, &state.store, &*state.clock, every).await;
    let mut r = Response::new(ResponseBody::full(state.metrics.render().into()));
    r.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static(crate::metrics::CONTENT_TYPE),
    );
    r
}

/// Recomputes link gauges when older than `[metrics] links_refresh_secs` (off the async
/// threads; a failure keeps the old values and is logged).
async fn refresh_link_gauges(metrics: &Metrics, store: &Store, clock: &dyn Clock, every: Duration) {
    let now = clock.now();
    let every = i64::try_from(every.as_millis()).unwrap_or(i64::MAX);
    if metrics
        .links
        .refreshed_at()
        .is_some_and(|at| now.ms_since(at) < every)
    {
        return;
    }
    let store = store.clone();
    let counted = move || store.fetch_blocking(LinkCountsAt { now });
    match tokio::task::spawn_blocking(counted).await {
        Ok(Ok(counts)) => metrics.links.set(counts, now),
        Ok(Err(e)) => tracing::warn!(error = %e, "link gauges not refreshed"),
        Err(e) => {
            if e.is_panic() {
                let job = crate::metrics::LINK_GAUGES_JOB;
                metrics.jobs.panicked(job);
            }
            tracing::warn!(error = %e, "link gauges not refreshed");
        }
    }
}

/// What a backup reads: the store, and the data folder's files beside it (via the config).
struct BackupSource<'a> {
    store: &'a Store,
    config: &'a Config,
    clock: &'a dyn Clock,
}

impl<'a> From<&'a AppState> for BackupSource<'a> {
    fn from(state: &'a AppState) -> Self {
        BackupSource {
            store: &state.store,
            config: &state.config,
            clock: &*state.clock,
        }
    }
}

fn backup(state: BackupSource<'_>, headers: &HeaderMap) -> Response<ResponseBody> {
    let key_file = state.config.data_dir.join(operator::OPERATOR_KEY_FILE);
    if !bearer(headers).is_some_and(|k| operator::key_matches(&key_file, k)) {
        return unauthorized();
    }
    let Some(embedded) = state.store.embedded() else {
        return text(
            StatusCode::CONFLICT,
            "the store is PostgreSQL: back it up with PostgreSQL's own tools (pg_dump, base backups + WAL)\n",
        );
    };
    let started = embedded
        .pinned_snapshot()
        .map_err(crate::ops::OpsError::from)
        .and_then(|(txn, pin)| {
            let total = backup::count(&txn)?;
            let extras = backup::Extras::gather(state.config, state.clock.now())?;
            Ok((total, backup::stream(txn, pin, extras)))
        });
    match started {
        Ok((total, chunks)) => {
            tracing::info!(entries = total, "backup started");
            let mut r = Response::new(ResponseBody::stream(chunks));
            let h = r.headers_mut();
            h.insert(
                CONTENT_TYPE,
                HeaderValue::from_static("application/octet-stream"),
            );
            h.insert("x-backup-entries", HeaderValue::from(total));
            h.insert("cache-control", HeaderValue::from_static("no-store"));
            r
        }
        Err(e) => {
            tracing::error!(error = %e, "backup could not start");
            text(
                StatusCode::INTERNAL_SERVER_ERROR,
                "backup failed; see the server log\n",
            )
        }
    }
}
