//! The accept loop. `serve` takes its listener and a shutdown future (so tests bind port 0
//! and stop the server themselves). Limits come from config: concurrent connections and
//! connections per address ([`Slots`]; at the limit, one accepted connection waits for an idle
//! one to close or a busy one to end, the rest in the listen backlog), the connection guard's
//! time limits, the header size, and a grace period for shutdown after which remaining
//! connections are aborted so the database can close cleanly. (`app` publishes the operator
//! key and the bound address around it; this loop knows nothing of the data folder.)

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::{GracefulConnection, GracefulShutdown};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::sync::OwnedSemaphorePermit;
use tokio::task::JoinSet;

use super::exchange;
use super::io::{Busy, Guarded, Requests, Timeouts};
use super::slots::Slots;
use crate::api::AppState;

/// Serves until `shutdown` completes, then drains in-flight requests (bounded by the grace
/// period) and returns once every connection task has ended.
pub async fn serve(
    listener: TcpListener,
    state: Arc<AppState>,
    shutdown: impl Future<Output = ()>,
) {
    let limits = state.config.http.clone();
    let slots = Slots::new(limits.max_connections, limits.max_connections_per_address);
    let graceful = GracefulShutdown::new();
    let mut tasks = JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        let (stream, remote) = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    // EMFILE and friends: back off instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
        };
        let peer = crate::config::canonical_ip(remote.ip());
        let exempt = limits.trusted_proxies.iter().any(|b| b.contains(peer));
        let Some(mut slot) = slots.admit((!exempt).then_some(peer)) else {
            refuse(stream);
            continue;
        };
        let permit = tokio::select! {
            () = &mut shutdown => break,
            permit = make_room(&slots) => permit,
        };
        let Some(permit) = permit else { break };
        let _ = stream.set_nodelay(true);
        let requests = Arc::new(Requests::default());
        slot.serve(permit, &requests);
        let conn = graceful.watch(serve_connection(
            stream,
            Arc::clone(&state),
            remote,
            requests,
        ));
        tasks.spawn(async move {
            let _ = conn.await;
            drop(slot);
        });
        while tasks.try_join_next().is_some() {}
    }
    drop(listener);
    if tokio::time::timeout(limits.shutdown_grace, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("shutdown grace period over; closing the remaining connections");
    }
    tasks.abort_all();
    while tasks.join_next().await.is_some() {}
}

/// A global slot for the connection just accepted: a free one, else one an idle kept-alive
/// connection gives up (asked again every 100 ms while everyone is busy); `None` once the
/// server is closing.
async fn make_room(slots: &Slots) -> Option<OwnedSemaphorePermit> {
    if let Some(permit) = slots.try_permit() {
        return Some(permit);
    }
    loop {
        slots.evict_idle();
        tokio::select! {
            permit = slots.permit() => return permit,
            () = tokio::time::sleep(Duration::from_millis(100)) => {}
        }
    }
}

/// A connection over its address's share: a 503 if the socket takes it at once (no waiting,
/// no task), then closed.
fn refuse(stream: tokio::net::TcpStream) {
    const BUSY: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
    let _ = stream.try_write(BUSY);
    tracing::debug!("connection refused: too many from one address");
}

/// One HTTP/1.1 connection over any byte stream: a TCP socket here, an in-memory pipe in the
/// fuzz target that drives the whole pipeline without a network. The stream is wrapped in the
/// connection guard (idle, header and write-stall limits); hyper enforces the header size.
pub fn connection<I>(
    io: I,
    state: Arc<AppState>,
    remote: SocketAddr,
) -> impl GracefulConnection<Error = hyper::Error>
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    serve_connection(io, state, remote, Arc::default())
}

/// [`connection`], reporting its requests to `requests` (which the slots watch for idleness).
fn serve_connection<I>(
    io: I,
    state: Arc<AppState>,
    remote: SocketAddr,
    requests: Arc<Requests>,
) -> impl GracefulConnection<Error = hyper::Error>
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let limits = &state.config.http;
    let timeouts = Timeouts {
        header_read: limits.header_read_timeout,
        keep_alive_idle: limits.keep_alive_idle,
        write_stall: limits.request_timeout,
    };
    let max_header_bytes = limits.max_header_bytes;
    let io = Guarded::new(io, Arc::clone(&requests), timeouts);
    let service = service_fn(move |req| {
        let state = Arc::clone(&state);
        let busy = Busy::start(&requests);
        async move {
            let response = exchange::handle(&state, req, remote).await;
            Ok::<_, Infallible>(response.map(|body| body.holding(busy)))
        }
    });
    http1::Builder::new()
        // A client may shut its write side after sending; it still gets its response.
        .half_close(true)
        .timer(TokioTimer::new())
        // The guard enforces the header timeout (hyper's would also cut idle connections).
        .header_read_timeout(None)
        .max_header_size(max_header_bytes)
        .serve_connection(TokioIo::new(io), service)
}
