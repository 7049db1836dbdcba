//! metrics: what `/metrics` reports, in the Prometheus text format (version 0.0.4), through
//! the `prometheus-client` crate. The layers that own the events feed its counters, gauges and
//! histograms — `http` (requests), the store's writer (commits, through [`WriterStats`], the
//! `store::WriterObserver` it is opened with), `jobs` (purge, landing log, job rounds and
//! panics), `delivery` (attempts) and `/metrics` itself (link gauges: a scrape that finds them stale recomputes them from a
//! snapshot it is handed). Recording is an atomic add after a read lock of the labelled
//! family; no global lock is taken per request. Nothing here knows about HTTP.

mod jobs;
pub mod links;
mod stats;

use std::time::Instant;

use prometheus_client::encoding::{EncodeMetric, MetricEncoder, prometheus_text};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::{Metric, Registry};

pub use jobs::JobPanics;
pub use links::LinkGauges;
pub use stats::{DeliveryStats, PortalStats, PurgeStats, RequestMetrics, WriterStats};

/// The content type of [`Metrics::render`]'s text.
pub const CONTENT_TYPE: &str = prometheus_text::CONTENT_TYPE;

/// The job name under which a panic while recomputing the link gauges is counted.
pub const LINK_GAUGES_JOB: &str = "link_gauges";

/// Upper bounds (in seconds) of request and commit latency buckets.
pub const LATENCY_BOUNDS: &[f64] = &[
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
    5.0, 10.0,
];

/// Upper bounds of writer batch sizes (commands per commit).
pub const BATCH_BOUNDS: &[f64] = &[
    1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0, 1024.0, 4096.0,
];

/// Every metric of one server, registered once in one registry.
#[derive(Debug)]
pub struct Metrics {
    pub requests: RequestMetrics,
    pub writer: std::sync::Arc<WriterStats>,
    pub purge: std::sync::Arc<PurgeStats>,
    pub delivery: std::sync::Arc<DeliveryStats>,
    pub portal: std::sync::Arc<PortalStats>,
    pub links: LinkGauges,
    /// Panicked rounds of background jobs (shared with each job's supervisor).
    pub jobs: std::sync::Arc<JobPanics>,
    uptime: Gauge,
    started: Instant,
    registry: Registry,
}

impl Metrics {
    /// A fresh set; hand [`Metrics::writer`] to `Store::open_observed` so commits count.
    pub fn new() -> Self {
        let mut metrics = Metrics {
            requests: RequestMetrics::default(),
            writer: std::sync::Arc::default(),
            purge: std::sync::Arc::default(),
            delivery: std::sync::Arc::default(),
            portal: std::sync::Arc::default(),
            links: LinkGauges::default(),
            jobs: std::sync::Arc::new(JobPanics::default()),
            uptime: Gauge::default(),
            started: Instant::now(),
            registry: Registry::default(),
        };
        metrics.jobs.register(LINK_GAUGES_JOB);
        metrics.register();
        metrics
    }

    fn register(&mut self) {
        let r = &mut self.registry;
        self.requests.register(r);
        self.writer.register(r);
        self.purge.register(r);
        self.delivery.register(r);
        self.portal.register(r);
        self.links.register(r);
        self.jobs.register_in(r);
        let help = "Seconds since the server started";
        add(r, "customerlink_uptime_seconds", help, &self.uptime);
    }

    /// The whole exposition, `# HELP`/`# TYPE` lines included.
    pub fn render(&self) -> String {
        let uptime = self.started.elapsed().as_secs();
        self.uptime.set(i64::try_from(uptime).unwrap_or(i64::MAX));
        let mut out = String::with_capacity(8192);
        // Writing into a String fails only if an encoder does, which the crate's do not.
        let _ = prometheus_text::encode(&mut out, &self.registry);
        out
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

/// Registers a clone of `metric` (the clone shares its values) under `name`. Counter names
/// leave out `_total`, which the encoder appends; `help` leaves out the final period, which
/// the registry appends.
fn add<M: Metric + Clone>(registry: &mut Registry, name: &str, help: &str, metric: &M) {
    registry.register(name, help, Listed(metric.clone()));
}

/// A metric whose `# HELP`/`# TYPE` lines are written even while it has no series (the
/// crate leaves out empty families), so every family is listed from the start.
#[derive(Debug)]
struct Listed<M>(M);

impl<M: EncodeMetric> EncodeMetric for Listed<M> {
    fn encode(&self, encoder: MetricEncoder) -> Result<(), std::fmt::Error> {
        self.0.encode(encoder)
    }

    fn metric_type(&self) -> MetricType {
        self.0.metric_type()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::millis::ms;
    use crate::store::WriterObserver as _;
    use std::time::Duration;

    #[test]
    fn exposition_has_every_family_with_labels() {
        let m = Metrics::new();
        m.requests
            .record("CustomerLinkCreateRequest", 200, Duration::from_millis(3));
        m.requests
            .record("CustomerLinkCreateRequest", 400, Duration::from_millis(1));
        m.writer.record_commit(5, Duration::from_millis(2), true);
        m.links.set(
            links::LinkCounts {
                total: 10,
                revoked: 3,
                expired: 0,
            },
            ms(5_000),
        );
        m.purge.runs.inc();
        let text = m.render();
        for line in [
            "# TYPE customerlink_http_requests_total counter",
            "# TYPE customerlink_delivery_attempts_total counter",
            "# HELP customerlink_purge_runs_total Purge rounds run.",
            "customerlink_purge_runs_total 1",
            "customerlink_http_requests_total{operation=\"CustomerLinkCreateRequest\",status=\"200\"} 1",
            "customerlink_http_requests_total{operation=\"CustomerLinkCreateRequest\",status=\"400\"} 1",
            "customerlink_http_request_duration_seconds_count{operation=\"CustomerLinkCreateRequest\"} 2",
            "customerlink_http_request_duration_seconds_bucket{operation=\"CustomerLinkCreateRequest\",le=\"0.0025\"} 1",
            "customerlink_writer_commits_total 1",
            "customerlink_writer_batch_size_bucket{le=\"8\"} 1",
            "customerlink_writer_batch_size_bucket{le=\"+Inf\"} 1",
            "customerlink_links{status=\"live\"} 7",
            "customerlink_links{status=\"revoked\"} 3",
            "customerlink_links_refreshed_timestamp_seconds 5",
            "customerlink_job_panics_total{job=\"link_gauges\"} 0",
            "# TYPE customerlink_uptime_seconds gauge",
        ] {
            assert!(text.lines().any(|l| l == line), "missing {line} in\n{text}");
        }
    }

    #[test]
    fn a_family_is_listed_before_its_first_series_and_labelled_after() {
        let m = Metrics::new();
        let text = m.render();
        assert!(text.contains("# TYPE customerlink_delivery_attempts_total counter\n"));
        assert!(!text.contains("customerlink_delivery_attempts_total{"));
        m.delivery.record("Email", "sent");
        let line = "customerlink_delivery_attempts_total{channel=\"Email\",result=\"sent\"} 1\n";
        assert!(m.render().contains(line));
    }
}
