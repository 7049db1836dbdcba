//! The counters and histograms fed on the hot paths: requests, writer commits, purge rounds,
//! landing-log batches and delivery attempts. Each group registers its own series.

use std::sync::atomic::AtomicU64;
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use super::{BATCH_BOUNDS, LATENCY_BOUNDS, add};

/// Operation and status of an answered request.
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct OpStatus {
    operation: &'static str,
    status: u16,
}

/// Operation of an answered request.
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct Op {
    operation: &'static str,
}

fn latency() -> Histogram {
    Histogram::new(LATENCY_BOUNDS.iter().copied())
}

/// Requests by operation (the request DTO name, or a fixed name for service endpoints) and
/// HTTP status, and a latency histogram per operation. Operation names come from a closed
/// set, so the number of series is bounded whatever clients send.
#[derive(Debug)]
pub struct RequestMetrics {
    by_status: Family<OpStatus, Counter>,
    latency: Family<Op, Histogram>,
}

impl Default for RequestMetrics {
    fn default() -> Self {
        RequestMetrics {
            by_status: Family::default(),
            latency: Family::new_with_constructor(latency),
        }
    }
}

impl RequestMetrics {
    /// Records one answered request.
    pub fn record(&self, operation: &'static str, status: u16, elapsed: Duration) {
        self.by_status
            .get_or_create(&OpStatus { operation, status })
            .inc();
        let seconds = elapsed.as_secs_f64();
        self.latency
            .get_or_create(&Op { operation })
            .observe(seconds);
    }

    pub(super) fn register(&self, r: &mut Registry) {
        let help = "Answered requests by operation and status";
        add(r, "customerlink_http_requests", help, &self.by_status);
        let help = "Time from the request head to the response, by operation";
        add(
            r,
            "customerlink_http_request_duration_seconds",
            help,
            &self.latency,
        );
    }
}

/// What the single writer thread reports after each batch (see `store::writer`).
#[derive(Debug)]
pub struct WriterStats {
    commits: Counter,
    failed: Counter,
    commands: Counter,
    batch_size: Histogram,
    commit_seconds: Histogram,
    /// The histogram's sum, readable in-process (the load bench reads it).
    commit_seconds_sum: Counter<f64, AtomicU64>,
}

impl Default for WriterStats {
    fn default() -> Self {
        WriterStats {
            commits: Counter::default(),
            failed: Counter::default(),
            commands: Counter::default(),
            batch_size: Histogram::new(BATCH_BOUNDS.iter().copied()),
            commit_seconds: latency(),
            commit_seconds_sum: Counter::default(),
        }
    }
}

/// One write transaction of `batch_len` commands took `elapsed` (begin to durable commit).
impl crate::store::WriterObserver for WriterStats {
    fn record_commit(&self, batch_len: usize, elapsed: Duration, committed: bool) {
        let outcome = if committed {
            &self.commits
        } else {
            &self.failed
        };
        outcome.inc();
        self.commands.inc_by(batch_len as u64);
        self.batch_size.observe(batch_len as f64);
        self.commit_seconds.observe(elapsed.as_secs_f64());
        self.commit_seconds_sum.inc_by(elapsed.as_secs_f64());
    }
}

impl WriterStats {
    /// Durable commits so far.
    pub fn commits(&self) -> u64 {
        self.commits.get()
    }

    /// Commands applied so far (committed or not).
    pub fn commands(&self) -> u64 {
        self.commands.get()
    }

    /// Seconds spent applying and committing batches so far.
    pub fn commit_seconds_sum(&self) -> f64 {
        self.commit_seconds_sum.get()
    }

    pub(super) fn register(&self, r: &mut Registry) {
        let help = "Durable write transactions committed";
        add(r, "customerlink_writer_commits", help, &self.commits);
        let help = "Write batches that failed (nothing of them was written)";
        add(r, "customerlink_writer_failed_batches", help, &self.failed);
        let help = "Write commands applied by the writer";
        add(r, "customerlink_writer_commands", help, &self.commands);
        let help = "Commands per write transaction (group commit)";
        add(r, "customerlink_writer_batch_size", help, &self.batch_size);
        let help = "Time to apply and durably commit one batch";
        add(
            r,
            "customerlink_writer_commit_seconds",
            help,
            &self.commit_seconds,
        );
    }
}

/// The purge job's work.
#[derive(Debug, Default)]
pub struct PurgeStats {
    pub runs: Counter,
    pub purged: Counter,
    pub failures: Counter,
}

impl PurgeStats {
    pub(super) fn register(&self, r: &mut Registry) {
        add(r, "customerlink_purge_runs", "Purge rounds run", &self.runs);
        let help = "Retired links deleted by purge";
        add(r, "customerlink_purge_links", help, &self.purged);
        let help = "Purge rounds that failed";
        add(r, "customerlink_purge_failures", help, &self.failures);
    }
}

/// The landing log's batches (`jobs::landing_log`).
#[derive(Debug, Default)]
pub struct PortalStats {
    pub landing_views_logged: Counter,
    pub landing_views_dropped: Counter,
}

impl PortalStats {
    pub(super) fn register(&self, r: &mut Registry) {
        let name = "customerlink_portal_landing_views_logged";
        let help = "Landing page views written to the access log";
        add(r, name, help, &self.landing_views_logged);
        let name = "customerlink_portal_landing_views_dropped";
        let help = "Landing page views not itemised in the access log because a batch was full";
        add(r, name, help, &self.landing_views_dropped);
    }
}

/// Channel and result of a delivery attempt.
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct Attempt {
    channel: &'static str,
    result: &'static str,
}

/// Delivery attempts by channel and result.
#[derive(Debug, Default)]
pub struct DeliveryStats {
    by: Family<Attempt, Counter>,
    endpoints_disabled: Counter,
}

impl DeliveryStats {
    /// `result` is one of `sent`, `failed`, `failed_permanent`, `timed_out`.
    pub fn record(&self, channel: &'static str, result: &'static str) {
        self.by.get_or_create(&Attempt { channel, result }).inc();
    }

    /// A webhook endpoint was switched off for failing too often in a row.
    pub fn endpoint_disabled(&self) {
        self.endpoints_disabled.inc();
    }

    pub(super) fn register(&self, r: &mut Registry) {
        let help = "Delivery attempts by channel and result";
        add(r, "customerlink_delivery_attempts", help, &self.by);
        let help = "Webhook endpoints switched off after too many failures in a row";
        add(
            r,
            "customerlink_webhook_endpoints_disabled",
            help,
            &self.endpoints_disabled,
        );
    }
}
