//! One request, from hyper's parsed head to hyper's response: a request id (the client's
//! `X-Request-Id` if it is sane, else a new one; echoed on the reply) that every log line of
//! the request names (`crate::logging`); service endpoints (`/health/*`, `/metrics`, `/admin/backup`) before the API;
//! the body read under the size limit and body timeout; the whole handling under the request
//! timeout; CORS and fixed headers; and one metrics observation per request. The client's
//! address is resolved here once (`client_ip`: the peer, or what a trusted proxy says). Logs name the
//! operation, never the path, query or headers (a portal path holds a token).

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, LengthLimitError, Limited};
use hyper::body::Incoming;
use hyper::header::{
    ACCESS_CONTROL_ALLOW_HEADERS, ACCESS_CONTROL_ALLOW_METHODS, ACCESS_CONTROL_ALLOW_ORIGIN,
    ACCESS_CONTROL_MAX_AGE, CACHE_CONTROL, CONTENT_LENGTH, HeaderName, HeaderValue, ORIGIN, VARY,
    X_CONTENT_TYPE_OPTIONS,
};
use hyper::{Request, Response};

use super::body::ResponseBody;
use super::{admin, client_ip};
use crate::api::AppState;
use crate::api::{self, error::ApiError};
use crate::config::{CorsSettings, HttpLimits};

/// The header that carries the request id both ways.
pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Answers one request; never fails.
pub(super) async fn handle(
    state: &AppState,
    req: Request<Incoming>,
    remote: SocketAddr,
) -> Response<ResponseBody> {
    let id = request_id(req.headers());
    let answered = measured(state, req, remote);
    let mut response = crate::logging::in_request(id.clone(), answered).await;
    response.headers_mut().insert(REQUEST_ID, id);
    response
}

/// The answer, counted and logged once it is known. The operation is named once the request
/// is looked up: whatever answers (admin or api) names it, once.
async fn measured(
    state: &AppState,
    req: Request<Incoming>,
    remote: SocketAddr,
) -> Response<ResponseBody> {
    let started = Instant::now();
    let (response, operation) = answer(state, req, remote).await;
    let status = response.status().as_u16();
    let elapsed = started.elapsed();
    state.metrics.requests.record(operation, status, elapsed);
    log_outcome(status, elapsed);
    response
}

fn log_outcome(status: u16, elapsed: Duration) {
    let micros = elapsed.as_micros() as u64;
    if status >= 500 {
        tracing::warn!(status, micros, "request failed");
    } else {
        tracing::debug!(status, micros, "request answered");
    }
}

/// A client-supplied id of 1–64 characters from `[A-Za-z0-9._-]`, else a fresh one.
fn request_id(headers: &hyper::HeaderMap) -> HeaderValue {
    let sane = |v: &&HeaderValue| {
        let b = v.as_bytes();
        (1..=64).contains(&b.len())
            && b.iter()
                .all(|c| c.is_ascii_alphanumeric() || b"._-".contains(c))
    };
    match headers.get(REQUEST_ID).filter(sane) {
        Some(v) => v.clone(),
        None => fresh_request_id(),
    }
}

/// 32 hex digits: a random per-process prefix and a counter, unique without a syscall per
/// request (a random id per request cost a `getrandom` call each).
fn fresh_request_id() -> HeaderValue {
    use std::sync::OnceLock;
    use std::sync::atomic::{AtomicU64, Ordering};
    static PREFIX: OnceLock<u64> = OnceLock::new();
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let prefix = *PREFIX.get_or_init(|| {
        let mut bytes = [0u8; 8];
        // Without randomness the ids are still unique within this process.
        let _ = getrandom::fill(&mut bytes);
        u64::from_le_bytes(bytes)
    });
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let mut id = [0u8; 32];
    for (i, byte) in prefix
        .to_be_bytes()
        .into_iter()
        .chain(n.to_be_bytes())
        .enumerate()
    {
        id[2 * i] = HEX[usize::from(byte >> 4)];
        id[2 * i + 1] = HEX[usize::from(byte & 0xf)];
    }
    HeaderValue::from_bytes(&id).unwrap_or(HeaderValue::from_static("-"))
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// The response and the name of what answered it (a service endpoint or the api's lookup).
async fn answer(
    state: &AppState,
    req: Request<Incoming>,
    remote: SocketAddr,
) -> (Response<ResponseBody>, &'static str) {
    let (parts, body) = req.into_parts();
    if let Some((operation, response)) =
        admin::handle(state, &parts.method, parts.uri.path(), &parts.headers).await
    {
        crate::logging::name_operation(operation);
        return (response, operation);
    }
    let client = client_ip::client_ip(&state.config.http, &parts.headers, remote.ip());
    let origin = parts
        .headers
        .get(ORIGIN)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let mut request = api::Request {
        method: parts.method,
        uri: parts.uri,
        headers: parts.headers,
        body: Bytes::new(),
        remote: Some(client),
    };
    let limit = state.config.http.request_timeout;
    if let Some(streamed) = api::attachment::streamed(&request) {
        let answer = streamed_answer(state, &request, streamed, body, origin.as_deref());
        return Box::pin(answer).await;
    }
    let (response, operation) =
        match tokio::time::timeout(limit, read_and_handle(state, &mut request, body)).await {
            Ok(answered) => answered,
            Err(_) => {
                tracing::warn!(limit_secs = limit.as_secs(), "request timeout");
                let e = ApiError::Unavailable("The request took too long to handle.".into());
                // The request (headers included) outlives the dropped handling, so the 503 is
                // in the format the request negotiated.
                api::reject(state, &request, &e)
            }
        };
    let mut response = into_hyper(response);
    add_cors_headers(&mut response, &state.config.cors, origin.as_deref());
    (response, operation)
}

/// An operation that takes its body unread or streams its reply (attachments): handed the
/// body as it arrives, under the request timeout like any other; a file reply streams after.
async fn streamed_answer(
    state: &AppState,
    request: &api::Request,
    streamed: api::attachment::Streamed,
    body: Incoming,
    origin: Option<&str>,
) -> (Response<ResponseBody>, &'static str) {
    let limit = state.config.http.request_timeout;
    let run = api::attachment::run_streamed(state, request, streamed, body);
    let (answer, operation) = match tokio::time::timeout(limit, run).await {
        Ok(answered) => answered,
        Err(_) => {
            tracing::warn!(limit_secs = limit.as_secs(), "request timeout");
            let e = ApiError::Unavailable("The request took too long to handle.".into());
            let (response, operation) = api::reject(state, request, &e);
            (api::attachment::Answer::Whole(response), operation)
        }
    };
    let mut response = match answer {
        api::attachment::Answer::Whole(r) => into_hyper(r),
        api::attachment::Answer::File {
            status,
            headers,
            chunks,
        } => {
            let mut response = Response::new(ResponseBody::stream(chunks));
            *response.status_mut() = status;
            *response.headers_mut() = headers;
            response
        }
    };
    add_cors_headers(&mut response, &state.config.cors, origin);
    (response, operation)
}

async fn read_and_handle(
    state: &AppState,
    request: &mut api::Request,
    body: Incoming,
) -> (api::Response, &'static str) {
    match read_body(&state.config.http, &request.headers, body).await {
        Ok(bytes) => {
            request.body = bytes;
            // Boxed so the futures around it (timeout, span, hyper's slot) stay small: every
            // level a future is moved through copies all of it.
            Box::pin(api::handle(state, request)).await
        }
        Err(e) => api::reject(state, request, &e),
    }
}

/// Reads the whole body within the size limit (refusing early on a declared length over
/// it) and the body read timeout.
async fn read_body(
    limits: &HttpLimits,
    headers: &hyper::HeaderMap,
    body: Incoming,
) -> Result<Bytes, ApiError> {
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
    // Most requests (every GET) have no body: nothing to read, no timer to arm.
    if hyper::body::Body::is_end_stream(&body) {
        return Ok(Bytes::new());
    }
    let collected = tokio::time::timeout(
        limits.body_read_timeout,
        Limited::new(body, limits.max_body_bytes).collect(),
    );
    match collected.await {
        Ok(Ok(body)) => Ok(body.to_bytes()),
        Ok(Err(e)) if e.is::<LengthLimitError>() => Err(too_large()),
        Ok(Err(e)) => Err(ApiError::Bind(crate::wire::bind::BindError::Unreadable {
            content_type: None,
            detail: format!("The request body could not be read: {e}"),
        })),
        Err(_) => Err(ApiError::RequestTimeout),
    }
}

/// CORS headers on every response, as ServiceStack's CorsFeature adds them globally
/// (servicestack-wire.md §5), with `Authorization` and `X-Api-Key` allowed so browser clients
/// can authenticate.
fn add_cors_headers(
    response: &mut Response<ResponseBody>,
    cors: &CorsSettings,
    origin: Option<&str>,
) {
    let Some(allowed) = cors
        .allow_origin(origin)
        .and_then(|o| HeaderValue::from_str(o).ok())
    else {
        return;
    };
    let headers = response.headers_mut();
    if allowed != "*" {
        headers.append(VARY, HeaderValue::from_static("Origin"));
    }
    headers.insert(ACCESS_CONTROL_ALLOW_ORIGIN, allowed);
    headers.insert(
        ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static("GET, POST, PUT, DELETE, PATCH, OPTIONS, HEAD"),
    );
    headers.insert(
        ACCESS_CONTROL_ALLOW_HEADERS,
        HeaderValue::from_static(
            "Content-Type, Authorization, X-Api-Key, X-Http-Method-Override, Idempotency-Key",
        ),
    );
    headers.insert(ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static("600"));
}

fn into_hyper(r: api::Response) -> Response<ResponseBody> {
    let mut response = Response::new(ResponseBody::full(r.body));
    *response.status_mut() = r.status;
    *response.headers_mut() = r.headers;
    // Nothing is cached unless the answer says otherwise (the versioned branding assets).
    response
        .headers_mut()
        .entry(CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    response
        .headers_mut()
        .insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    if let Some(reason) = r
        .reason
        .and_then(|r| hyper::ext::ReasonPhrase::try_from(r).ok())
    {
        response.extensions_mut().insert(reason);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The size of the future `f` returns, without calling it.
    fn returned_size<A, B, C, F>(_: impl Fn(A, B, C) -> F) -> usize {
        std::mem::size_of::<F>()
    }

    /// hyper keeps each request's future and every await moves the futures inside it: an
    /// `async fn` holds all it may await, so a large rare branch inlined here is copied on
    /// every request (it was 30 KB in a release build). Large branches are boxed where the
    /// request branches; this keeps them so.
    #[test]
    fn a_request_future_stays_small() {
        let request =
            returned_size(|s: &'static AppState, r: Request<Incoming>, a| handle(s, r, a));
        assert!(request <= 4608, "a request's future is {request} bytes");
        let api = returned_size(|s: &'static AppState, r: &'static api::Request, _: ()| {
            api::handle(s, r)
        });
        assert!(api <= 2048, "api::handle's future is {api} bytes");
    }

    #[test]
    fn request_ids_are_echoed_only_when_sane() {
        let mut h = hyper::HeaderMap::new();
        h.insert(REQUEST_ID, HeaderValue::from_static("abc-123_x.y"));
        assert_eq!(request_id(&h), "abc-123_x.y");
        h.insert(REQUEST_ID, HeaderValue::from_static("has space"));
        let fresh = request_id(&h);
        assert_eq!(fresh.len(), 32);
        assert_ne!(fresh, request_id(&h), "fresh ids differ");
        h.insert(
            REQUEST_ID,
            HeaderValue::from_str(&"a".repeat(65)).unwrap_or(HeaderValue::from_static("")),
        );
        assert_eq!(request_id(&h).len(), 32);
    }
}
