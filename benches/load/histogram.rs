//! The server's own latency histograms, read from `/metrics`: the create requests'
//! (`customerlink_http_request_duration_seconds`, operation `CustomerLinkCreateRequest`) and
//! the writer's commits (`customerlink_writer_commit_seconds`). Under contention the load
//! generator shares the cores, so its latencies include its own waiting; the server's
//! histogram is the server's share.

use std::net::SocketAddr;

/// Cumulative bucket counts by upper bound (seconds), as Prometheus exposes them.
#[derive(Debug, Clone, Default)]
pub struct Buckets(pub Vec<(f64, f64)>);

/// The two histograms at one moment.
#[derive(Debug, Clone, Default)]
pub struct ServerHistograms {
    pub create: Buckets,
    pub commit: Buckets,
}

impl ServerHistograms {
    pub fn scrape(addr: SocketAddr) -> Option<ServerHistograms> {
        let text = super::server::metrics_text(addr)?;
        Some(ServerHistograms {
            create: buckets(
                &text,
                "customerlink_http_request_duration_seconds_bucket{operation=\"CustomerLinkCreateRequest\",le=\"",
            ),
            commit: buckets(&text, "customerlink_writer_commit_seconds_bucket{le=\""),
        })
    }
}

fn buckets(text: &str, prefix: &str) -> Buckets {
    Buckets(
        text.lines()
            .filter_map(|l| l.strip_prefix(prefix))
            .filter_map(|rest| {
                let (le, count) = rest.split_once("\"} ")?;
                let le = if le == "+Inf" {
                    f64::INFINITY
                } else {
                    le.parse().ok()?
                };
                Some((le, count.trim().parse().ok()?))
            })
            .collect(),
    )
}

impl Buckets {
    /// The counts observed between `before` and `self`.
    pub fn since(&self, before: &Buckets) -> Buckets {
        Buckets(
            self.0
                .iter()
                .map(|&(le, n)| {
                    let was = before.0.iter().find(|b| b.0 == le).map_or(0.0, |b| b.1);
                    (le, n - was)
                })
                .collect(),
        )
    }

    /// The `q` quantile in milliseconds, interpolated linearly inside its bucket (so only as
    /// fine as the buckets: 1, 2.5, 5, 10, 25, 50, 100, 250 ms …).
    pub fn quantile_ms(&self, q: f64) -> f64 {
        let total = self.0.last().map_or(0.0, |b| b.1);
        if total <= 0.0 {
            return 0.0;
        }
        let rank = q * total;
        let mut lower = (0.0, 0.0);
        for &(le, count) in &self.0 {
            if count >= rank {
                if le.is_infinite() {
                    return lower.0 * 1000.0;
                }
                let within = (rank - lower.1) / (count - lower.1).max(1e-9);
                return (lower.0 + (le - lower.0) * within) * 1000.0;
            }
            lower = (le, count);
        }
        lower.0 * 1000.0
    }

    /// Observations above `ms` (a bucket bound): what stalled.
    pub fn over_ms(&self, ms: f64) -> f64 {
        let at = |le: f64| {
            self.0
                .iter()
                .find(|b| b.0 * 1000.0 >= le)
                .map_or(0.0, |b| b.1)
        };
        self.0.last().map_or(0.0, |b| b.1) - at(ms)
    }

    /// The upper bound (ms) of the highest bucket holding an observation.
    pub fn max_bucket_ms(&self) -> f64 {
        let mut previous = 0.0;
        let mut top = 0.0;
        for &(le, count) in &self.0 {
            if count > previous {
                top = le;
            }
            previous = count;
        }
        top * 1000.0
    }
}
