//! The load generator: a fixed number of keep-alive HTTP/1.1 connections (hyper's client
//! connection API), each sending its next request as soon as the previous reply is read, for
//! a fixed time after a short warm-up. The same generator drives every server, so the ratio
//! to the hello-world baseline measures the server, not the client.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::Request;
use hyper_util::rt::TokioIo;

/// Builds request number `i` (numbers are unique across connections within a run).
pub type MakeRequest = Arc<dyn Fn(u64) -> Request<Full<Bytes>> + Send + Sync>;

/// What one run measured.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    pub per_sec: f64,
    pub p50: Duration,
    pub p99: Duration,
    pub p999: Duration,
    /// Replies whose status was not the expected one (or connections that failed).
    pub errors: u64,
    /// Requests sent in all, warm-up included (for CPU time per request).
    pub sent: u64,
}

/// Drives `addr` with `connections` connections for `warmup + duration`.
pub async fn run(
    addr: SocketAddr,
    make: MakeRequest,
    expect: u16,
    connections: usize,
    warmup: Duration,
    duration: Duration,
) -> Outcome {
    let counter = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let (measure_from, end) = (start + warmup, start + warmup + duration);
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..connections {
        let (make, counter) = (Arc::clone(&make), Arc::clone(&counter));
        set.spawn(connection(addr, make, counter, expect, measure_from, end));
    }
    let mut latencies = Vec::new();
    let mut errors = 0;
    for (lat, err) in set.join_all().await {
        latencies.extend(lat);
        errors += err;
    }
    latencies.sort_unstable();
    let at = |q: f64| {
        let i = ((latencies.len() as f64 * q) as usize).min(latencies.len().saturating_sub(1));
        Duration::from_micros(latencies.get(i).copied().unwrap_or(0).into())
    };
    Outcome {
        per_sec: latencies.len() as f64 / duration.as_secs_f64(),
        p50: at(0.50),
        p99: at(0.99),
        p999: at(0.999),
        errors,
        sent: counter.load(Ordering::Relaxed),
    }
}

/// One keep-alive connection; returns the latencies (µs) measured and the error count.
async fn connection(
    addr: SocketAddr,
    make: MakeRequest,
    counter: Arc<AtomicU64>,
    expect: u16,
    measure_from: Instant,
    end: Instant,
) -> (Vec<u32>, u64) {
    let mut latencies = Vec::with_capacity(1 << 16);
    let mut errors = 0;
    'reconnect: while Instant::now() < end {
        let Ok(stream) = tokio::net::TcpStream::connect(addr).await else {
            errors += 1;
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        };
        let _ = stream.set_nodelay(true);
        let Ok((mut sender, conn)) =
            hyper::client::conn::http1::handshake(TokioIo::new(stream)).await
        else {
            errors += 1;
            continue;
        };
        tokio::spawn(conn);
        while Instant::now() < end {
            let request = make(counter.fetch_add(1, Ordering::Relaxed));
            let sent = Instant::now();
            let ok = match sender.send_request(request).await {
                Ok(response) => {
                    let status = response.status().as_u16();
                    response.into_body().collect().await.is_ok() && status == expect
                }
                Err(_) => {
                    errors += 1;
                    continue 'reconnect;
                }
            };
            if sent >= measure_from {
                latencies.push(u32::try_from(sent.elapsed().as_micros()).unwrap_or(u32::MAX));
                errors += u64::from(!ok);
            }
        }
    }
    (latencies, errors)
}

/// A request with the bench's fixed headers.
pub fn request(
    method: &str,
    path: String,
    key: Option<&str>,
    body: Option<String>,
) -> Request<Full<Bytes>> {
    let mut builder = Request::builder()
        .method(method)
        .uri(path)
        .header("host", "127.0.0.1")
        .header("accept", "application/json");
    if let Some(key) = key {
        builder = builder.header("authorization", format!("Bearer {key}"));
    }
    let body = match body {
        Some(text) => {
            builder = builder.header("content-type", "application/json");
            Bytes::from(text)
        }
        None => Bytes::new(),
    };
    builder.body(Full::new(body)).unwrap_or_default()
}
