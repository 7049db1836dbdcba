//! metrics: what `/metrics` reports, in the Prometheus text format (version 0.0.4). Counters
//! and histograms are plain atomics fed by the layers that own the events — `http` (requests),
//! the store's writer (commits, through [`WriterStats`] in its settings), `jobs` (purge, job
//! rounds and panics) and `delivery` (attempts). The link gauges are no job's: a scrape that
//! finds them stale recomputes them ([`links::refresh`]). Nothing here knows about HTTP; only
//! `links` reads, from a snapshot it is handed.

mod histogram;
mod jobs;
pub mod links;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

pub use histogram::{BATCH_BOUNDS, Histogram, LATENCY_BOUNDS};
pub use jobs::JobPanics;

/// The job name under which a panic while recomputing the link gauges is counted.
pub const LINK_GAUGES_JOB: &str = "link_gauges";

/// Every metric of one server.
#[derive(Debug)]
pub struct Metrics {
    pub requests: RequestMetrics,
    pub writer: std::sync::Arc<WriterStats>,
    pub purge: PurgeStats,
    pub delivery: DeliveryStats,
    pub portal: PortalStats,
    pub links: LinkGauges,
    /// Panicked rounds of background jobs (shared with each job's supervisor).
    pub jobs: std::sync::Arc<JobPanics>,
    started: Instant,
}

impl Metrics {
    /// `writer` is the instance the store's writer reports to (from its settings).
    pub fn new(writer: std::sync::Arc<WriterStats>) -> Self {
        let metrics = Metrics {
            requests: RequestMetrics::default(),
            writer,
            purge: PurgeStats::default(),
            delivery: DeliveryStats::default(),
            portal: PortalStats::default(),
            links: LinkGauges::default(),
            jobs: std::sync::Arc::new(JobPanics::default()),
            started: Instant::now(),
        };
        metrics.jobs.register(LINK_GAUGES_JOB);
        metrics
    }

    /// The whole exposition, `# HELP`/`# TYPE` lines included.
    pub fn render(&self) -> String {
        let mut out = String::with_capacity(8192);
        self.requests.render(&mut out);
        self.writer.render(&mut out);
        self.purge.render(&mut out);
        self.delivery.render(&mut out);
        self.portal.render(&mut out);
        self.links.render(&mut out);
        self.jobs.render(&mut out);
        header(
            &mut out,
            "customerlink_uptime_seconds",
            "gauge",
            "Seconds since the server started.",
        );
        let _ = writeln!(
            out,
            "customerlink_uptime_seconds {}",
            self.started.elapsed().as_secs()
        );
        out
    }
}

fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

fn counter(out: &mut String, name: &str, help: &str, value: &AtomicU64) {
    header(out, name, "counter", help);
    let _ = writeln!(out, "{name} {}", value.load(Ordering::Relaxed));
}

/// Requests by operation (the request DTO name, or a fixed name for service endpoints) and
/// HTTP status, and a latency histogram per operation. Operation names come from a closed
/// set, so the number of series is bounded whatever clients send.
#[derive(Debug, Default)]
pub struct RequestMetrics {
    by_op: Mutex<BTreeMap<&'static str, OpStats>>,
}

#[derive(Debug)]
struct OpStats {
    by_status: BTreeMap<u16, u64>,
    latency: Histogram,
}

impl RequestMetrics {
    /// Records one answered request.
    pub fn record(&self, operation: &'static str, status: u16, elapsed: Duration) {
        let mut map = self.by_op.lock().unwrap_or_else(|p| p.into_inner());
        let stats = map.entry(operation).or_insert_with(|| OpStats {
            by_status: BTreeMap::new(),
            latency: Histogram::new(LATENCY_BOUNDS),
        });
        *stats.by_status.entry(status).or_insert(0) += 1;
        stats.latency.observe(elapsed.as_secs_f64());
    }

    fn render(&self, out: &mut String) {
        let map = self.by_op.lock().unwrap_or_else(|p| p.into_inner());
        header(
            out,
            "customerlink_http_requests_total",
            "counter",
            "Answered requests by operation and status.",
        );
        for (op, stats) in map.iter() {
            for (status, n) in &stats.by_status {
                let _ = writeln!(
                    out,
                    "customerlink_http_requests_total{{operation=\"{op}\",status=\"{status}\"}} {n}"
                );
            }
        }
        let name = "customerlink_http_request_duration_seconds";
        header(
            out,
            name,
            "histogram",
            "Time from the request head to the response, by operation.",
        );
        for (op, stats) in map.iter() {
            stats
                .latency
                .render(out, name, &format!("operation=\"{op}\""));
        }
    }
}

/// What the single writer thread reports after each batch (see `store::writer`).
#[derive(Debug)]
pub struct WriterStats {
    commits: AtomicU64,
    failed: AtomicU64,
    commands: AtomicU64,
    batch_size: Histogram,
    commit_seconds: Histogram,
}

impl Default for WriterStats {
    fn default() -> Self {
        WriterStats {
            commits: AtomicU64::new(0),
            failed: AtomicU64::new(0),
            commands: AtomicU64::new(0),
            batch_size: Histogram::new(BATCH_BOUNDS),
            commit_seconds: Histogram::new(LATENCY_BOUNDS),
        }
    }
}

impl WriterStats {
    /// One write transaction of `batch_len` commands took `elapsed` (begin to durable commit).
    pub fn record_commit(&self, batch_len: usize, elapsed: Duration, committed: bool) {
        let counter = if committed {
            &self.commits
        } else {
            &self.failed
        };
        counter.fetch_add(1, Ordering::Relaxed);
        self.commands.fetch_add(batch_len as u64, Ordering::Relaxed);
        self.batch_size.observe(batch_len as f64);
        self.commit_seconds.observe(elapsed.as_secs_f64());
    }

    /// Durable commits so far.
    pub fn commits(&self) -> u64 {
        self.commits.load(Ordering::Relaxed)
    }

    /// Commands applied so far (committed or not).
    pub fn commands(&self) -> u64 {
        self.commands.load(Ordering::Relaxed)
    }

    /// Seconds spent applying and committing batches so far.
    pub fn commit_seconds_sum(&self) -> f64 {
        self.commit_seconds.sum()
    }

    fn render(&self, out: &mut String) {
        counter(
            out,
            "customerlink_writer_commits_total",
            "Durable write transactions committed.",
            &self.commits,
        );
        counter(
            out,
            "customerlink_writer_failed_batches_total",
            "Write batches that failed (nothing of them was written).",
            &self.failed,
        );
        counter(
            out,
            "customerlink_writer_commands_total",
            "Write commands applied by the writer.",
            &self.commands,
        );
        let name = "customerlink_writer_batch_size";
        header(
            out,
            name,
            "histogram",
            "Commands per write transaction (group commit).",
        );
        self.batch_size.render(out, name, "");
        let name = "customerlink_writer_commit_seconds";
        header(
            out,
            name,
            "histogram",
            "Time to apply and durably commit one batch.",
        );
        self.commit_seconds.render(out, name, "");
    }
}

/// The purge job's work.
#[derive(Debug, Default)]
pub struct PurgeStats {
    pub runs: AtomicU64,
    pub purged: AtomicU64,
    pub failures: AtomicU64,
}

impl PurgeStats {
    fn render(&self, out: &mut String) {
        counter(
            out,
            "customerlink_purge_runs_total",
            "Purge rounds run.",
            &self.runs,
        );
        counter(
            out,
            "customerlink_purge_links_total",
            "Retired links deleted by purge.",
            &self.purged,
        );
        counter(
            out,
            "customerlink_purge_failures_total",
            "Purge rounds that failed.",
            &self.failures,
        );
    }
}

/// The landing log's batches (`jobs::landing_log`).
#[derive(Debug, Default)]
pub struct PortalStats {
    pub landing_views_logged: AtomicU64,
    pub landing_views_dropped: AtomicU64,
}

impl PortalStats {
    fn render(&self, out: &mut String) {
        counter(
            out,
            "customerlink_portal_landing_views_logged_total",
            "Landing page views written to the access log.",
            &self.landing_views_logged,
        );
        counter(
            out,
            "customerlink_portal_landing_views_dropped_total",
            "Landing page views not itemised in the access log because a batch was full.",
            &self.landing_views_dropped,
        );
    }
}

/// Delivery attempts by channel and result.
#[derive(Debug, Default)]
pub struct DeliveryStats {
    by: Mutex<BTreeMap<(&'static str, &'static str), u64>>,
}

impl DeliveryStats {
    /// `result` is one of `sent`, `failed`, `failed_permanent`, `timed_out`.
    pub fn record(&self, channel: &'static str, result: &'static str) {
        let mut map = self.by.lock().unwrap_or_else(|p| p.into_inner());
        *map.entry((channel, result)).or_insert(0) += 1;
    }

    fn render(&self, out: &mut String) {
        let name = "customerlink_delivery_attempts_total";
        header(
            out,
            name,
            "counter",
            "Delivery attempts by channel and result.",
        );
        let map = self.by.lock().unwrap_or_else(|p| p.into_inner());
        for ((channel, result), n) in map.iter() {
            let _ = writeln!(
                out,
                "{name}{{channel=\"{channel}\",result=\"{result}\"}} {n}"
            );
        }
    }
}

/// Stored links by status, recomputed by [`links::refresh`] when a scrape finds them stale.
#[derive(Debug, Default)]
pub struct LinkGauges {
    pub total: AtomicU64,
    pub revoked: AtomicU64,
    /// Expired and not revoked.
    pub expired: AtomicU64,
    /// Unix seconds of the last refresh (0 = not yet).
    pub refreshed_at: AtomicU64,
}

impl LinkGauges {
    fn render(&self, out: &mut String) {
        let load = |a: &AtomicU64| a.load(Ordering::Relaxed);
        let (total, revoked, expired) =
            (load(&self.total), load(&self.revoked), load(&self.expired));
        let name = "customerlink_links";
        header(
            out,
            name,
            "gauge",
            "Stored links by status (live = active or out of views; not yet purged).",
        );
        let live = total.saturating_sub(revoked).saturating_sub(expired);
        for (status, n) in [("live", live), ("expired", expired), ("revoked", revoked)] {
            let _ = writeln!(out, "{name}{{status=\"{status}\"}} {n}");
        }
        let name = "customerlink_links_refreshed_timestamp_seconds";
        header(
            out,
            name,
            "gauge",
            "When the link gauges were last computed.",
        );
        let _ = writeln!(out, "{name} {}", load(&self.refreshed_at));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exposition_has_every_family_with_labels() {
        let m = Metrics::new(std::sync::Arc::default());
        m.requests
            .record("CustomerLinkCreateRequest", 200, Duration::from_millis(3));
        m.requests
            .record("CustomerLinkCreateRequest", 400, Duration::from_millis(1));
        m.writer.record_commit(5, Duration::from_millis(2), true);
        m.delivery.record("Email", "sent");
        m.links.total.store(10, Ordering::Relaxed);
        m.links.revoked.store(3, Ordering::Relaxed);
        let text = m.render();
        for line in [
            "customerlink_http_requests_total{operation=\"CustomerLinkCreateRequest\",status=\"200\"} 1",
            "customerlink_http_requests_total{operation=\"CustomerLinkCreateRequest\",status=\"400\"} 1",
            "customerlink_http_request_duration_seconds_count{operation=\"CustomerLinkCreateRequest\"} 2",
            "customerlink_writer_commits_total 1",
            "customerlink_writer_batch_size_bucket{le=\"8\"} 1",
            "customerlink_delivery_attempts_total{channel=\"Email\",result=\"sent\"} 1",
            "customerlink_links{status=\"live\"} 7",
            "customerlink_links{status=\"revoked\"} 3",
            "customerlink_job_panics_total{job=\"link_gauges\"} 0",
        ] {
            assert!(text.lines().any(|l| l == line), "missing {line} in\n{text}");
        }
    }
}
