//! The accept loop. `serve` takes its listener and a shutdown future (so tests bind port 0
//! and stop the server themselves). Limits come from config: concurrent connections (a
//! semaphore permit per connection), header read timeout (also the keep-alive idle timeout in
//! hyper's http1), body size and body read timeout, and a grace period for shutdown after
//! which remaining connections are aborted so the database can close cleanly.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use hyper::body::Incoming;
use hyper::header::{
    ACCESS_CONTROL_ALLOW_HEADERS, ACCESS_CONTROL_ALLOW_METHODS, ACCESS_CONTROL_ALLOW_ORIGIN,
    ACCESS_CONTROL_MAX_AGE, CACHE_CONTROL, CONTENT_LENGTH, HeaderValue, ORIGIN, VARY,
};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::{GracefulConnection, GracefulShutdown};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::api::{self, error::ApiError};
use crate::app::AppState;

/// Serves until `shutdown` completes, then drains in-flight requests (bounded by the grace
/// period) and returns once every connection task has ended.
pub async fn serve(
    listener: TcpListener,
    state: Arc<AppState>,
    shutdown: impl Future<Output = ()>,
) {
    let limits = state.config.http.clone();
    let permits = Arc::new(Semaphore::new(limits.max_connections));
    let graceful = GracefulShutdown::new();
    let mut tasks = JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            () = &mut shutdown => break,
            permit = Arc::clone(&permits).acquire_owned() => permit,
        };
        let Ok(permit) = permit else { break };
        let (stream, remote) = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    // EMFILE and friends: back off instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                    continue;
                }
            },
        };
        let _ = stream.set_nodelay(true);
        let conn = graceful.watch(connection(stream, Arc::clone(&state), remote));
        tasks.spawn(async move {
            let _ = conn.await;
            drop(permit);
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

/// One HTTP/1.1 connection over any byte stream: a TCP socket here, an in-memory pipe in the
/// fuzz target that drives the whole pipeline without a network.
pub fn connection<I>(
    io: I,
    state: Arc<AppState>,
    remote: SocketAddr,
) -> impl GracefulConnection<Error = hyper::Error>
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let header_read_timeout = state.config.http.header_read_timeout;
    let service = service_fn(move |req| {
        let state = Arc::clone(&state);
        async move { Ok::<_, Infallible>(handle(&state, req, remote).await) }
    });
    http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(header_read_timeout)
        .serve_connection(TokioIo::new(io), service)
}

async fn handle(
    state: &AppState,
    req: Request<Incoming>,
    remote: SocketAddr,
) -> Response<Full<Bytes>> {
    let (parts, body) = req.into_parts();
    let origin = parts
        .headers
        .get(ORIGIN)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let mut request = api::Request {
        method: parts.method,
        path: parts.uri.path().to_owned(),
        query: parts.uri.query().map(str::to_owned),
        headers: parts.headers,
        body: Bytes::new(),
        remote: Some(remote.ip()),
    };
    let response = match read_body(state, &request.headers, body).await {
        Ok(bytes) => {
            request.body = bytes;
            api::handle(state, request).await
        }
        Err(e) => api::reject(state, &request, &e),
    };
    let mut response = into_hyper(response);
    add_cors_headers(&mut response, state, origin.as_deref());
    response
}

/// Reads the whole body within the size limit (refusing early on a declared length over
/// it) and the body read timeout.
async fn read_body(
    state: &AppState,
    headers: &hyper::HeaderMap,
    body: Incoming,
) -> Result<Bytes, ApiError> {
    let limits = &state.config.http;
    let too_large = || ApiError::PayloadTooLarge {
        limit: limits.max_body_bytes,
    };
    let declared = headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|len| len > limits.max_body_bytes as u64) {
        return Err(too_large());
    }
    let collected = tokio::time::timeout(
        limits.request_timeout,
        Limited::new(body, limits.max_body_bytes).collect(),
    );
    match collected.await {
        Ok(Ok(body)) => Ok(body.to_bytes()),
        Ok(Err(e)) if e.is::<LengthLimitError>() => Err(too_large()),
        Ok(Err(e)) => Err(ApiError::Bind(crate::wire::bind::BindError {
            field: None,
            message: format!("The request body could not be read: {e}"),
        })),
        Err(_) => Err(ApiError::RequestTimeout),
    }
}

/// CORS headers on every response, as ServiceStack's CorsFeature adds them globally
/// (servicestack-wire.md §5), with `Authorization` and `X-Api-Key` allowed so browser clients
/// can authenticate.
fn add_cors_headers(response: &mut Response<Full<Bytes>>, state: &AppState, origin: Option<&str>) {
    let Some(allowed) = state
        .config
        .cors
        .allow_origin(origin)
        .and_then(|o| HeaderValue::from_str(o).ok())
    else {
        return;
    };
    let headers = response.headers_mut();
    if allowed != "*" {
        headers.insert(VARY, HeaderValue::from_static("Origin"));
    }
    headers.insert(ACCESS_CONTROL_ALLOW_ORIGIN, allowed);
    headers.insert(
        ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static("GET, POST, PUT, DELETE, PATCH, OPTIONS, HEAD"),
    );
    headers.insert(
        ACCESS_CONTROL_ALLOW_HEADERS,
        HeaderValue::from_static("Content-Type, Authorization, X-Api-Key, X-Http-Method-Override"),
    );
    headers.insert(ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static("600"));
}

fn into_hyper(r: api::Response) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(r.body));
    *response.status_mut() = r.status;
    *response.headers_mut() = r.headers;
    response
        .headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response.headers_mut().insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    if let Some(reason) = r
        .reason
        .and_then(|r| hyper::ext::ReasonPhrase::try_from(r).ok())
    {
        response.extensions_mut().insert(reason);
    }
    response
}
