//! api: one module per operation family. Every operation is bind → handle → respond: the
//! request DTO is bound by `wire` from body, path, query and form; the handler calls domain
//! and store; `respond` encodes the reply (or the error) in the negotiated format and casing.
//! Transport details (sockets, limits, CORS headers) stay in `http`.
//!
//! The request path: `exchange` negotiates the reply style, `resolve` looks the request up
//! once in `routes` (whose rows hold their `handler`), `dispatch` runs what it found, and
//! `respond` encodes the answer.

pub mod attachment;
pub mod auth;
mod batch;
mod body;
mod casing;
mod contact;
pub(crate) mod customerlink;
mod delivery;
mod dev;
mod dispatch;
mod documentshare;
pub mod dto;
pub mod error;
mod evidence;
mod exchange;
pub mod handler;
mod idempotency;
pub mod limits;
pub mod openapi;
pub mod portal;
mod resolve;
mod respond;
mod revoke_many;
pub mod routes;
pub mod share;
mod state;
mod webhook;

use bytes::Bytes;
use hyper::header::HeaderMap;
use hyper::{Method, StatusCode, Uri};

use error::ApiError;

pub use dispatch::{handle, reject};
pub use respond::error_response;
pub(crate) use respond::respond;
pub use state::{AppState, Issuer, Keyed, Records};

/// A request as the api layer sees it: already size-limited and fully read. The URI is
/// hyper's own (moved, not copied); [`Request::path`] and [`Request::query`] read it.
#[derive(Debug)]
pub struct Request {
    pub method: Method,
    pub uri: Uri,
    pub headers: HeaderMap,
    pub body: Bytes,
    /// The client's address: the TCP peer, or the client a trusted reverse proxy names.
    pub remote: Option<std::net::IpAddr>,
}

impl Request {
    /// The path, still percent-encoded.
    pub fn path(&self) -> &str {
        self.uri.path()
    }

    /// The query string without its `?`, if the URI has one.
    pub fn query(&self) -> Option<&str> {
        self.uri.query()
    }
}

/// A reply ready for the transport.
#[derive(Debug)]
pub struct Response {
    pub status: StatusCode,
    /// The reason phrase to send (ServiceStack sends the error code there).
    pub reason: Option<String>,
    pub headers: HeaderMap,
    pub body: Bytes,
}

fn header<K: hyper::header::AsHeaderName>(headers: &HeaderMap, name: K) -> Option<&str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// Validates `Take`: default 50, at most 500.
fn page_size(take: Option<usize>) -> Result<usize, ApiError> {
    const MAX_TAKE: usize = 500;
    let take = take.unwrap_or(50);
    if (1..=MAX_TAKE).contains(&take) {
        return Ok(take);
    }
    Err(ApiError::Invalid(vec![
        crate::domain::FieldError::new(
            "Take",
            crate::domain::Rule::InclusiveBetween(1, MAX_TAKE as i64),
        )
        .value(take),
    ]))
}
