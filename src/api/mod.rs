//! api: one module per operation family. Every operation is bind → handle → respond: the
//! request DTO is bound by `wire`, the handler calls domain and store, and `respond` encodes
//! the reply (or the error) in the negotiated format. Transport details stay in `http`.

mod auth;
mod contact;
mod customerlink;
pub mod dto;
pub mod error;
pub mod routes;

use bytes::Bytes;
use hyper::header::{CONTENT_TYPE, HeaderMap, HeaderValue, WWW_AUTHENTICATE};
use hyper::{Method, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::app::AppState;
use crate::wire::bind::{Sources, bind, parse_json};
use crate::wire::status::ErrorResponse;
use crate::wire::{self, Format};
use error::ApiError;
use routes::{Matched, Miss, Op};

/// A request as the api layer sees it: already size-limited and fully read.
#[derive(Debug)]
pub struct Request {
    pub method: Method,
    pub path: String,
    pub query: Option<String>,
    pub headers: HeaderMap,
    pub body: Bytes,
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

/// Answers one request; never fails (errors become error responses).
pub async fn handle(state: &AppState, req: Request) -> Response {
    let format = Format::Json;
    match dispatch(state, &req, format).await {
        Ok(response) => response,
        Err(e) => error_response(&e, format),
    }
}

async fn dispatch(state: &AppState, req: &Request, format: Format) -> Result<Response, ApiError> {
    let matched = routes::find(req.method.as_str(), &req.path).map_err(|miss| match miss {
        Miss::NotFound => {
            ApiError::NotFound(format!("No operation at {} {}", req.method, req.path))
        }
        Miss::WrongVerb(operation) => ApiError::MethodNotAllowed {
            method: req.method.to_string(),
            operation: operation.to_owned(),
        },
    })?;
    let caller = auth::authenticate(state, &req.headers)?;
    let c = &caller;
    match matched.route.op {
        Op::CreateLink => respond(
            customerlink::create(state, c, bind_dto(req, &matched)?).await?,
            format,
        ),
        Op::ListResourceLinks => respond(
            customerlink::list_for_resource(state, c, bind_dto(req, &matched)?)?,
            format,
        ),
        Op::QueryLinks => respond(
            customerlink::query(state, c, bind_dto(req, &matched)?)?,
            format,
        ),
        Op::GetLink => respond(
            customerlink::get(state, c, bind_dto(req, &matched)?)?,
            format,
        ),
        Op::RevokeLink => respond(
            customerlink::revoke(state, c, bind_dto(req, &matched)?).await?,
            format,
        ),
        Op::PutContact => respond(
            contact::put(state, c, bind_dto(req, &matched)?).await?,
            format,
        ),
        Op::GetContact => respond(contact::get(state, c, bind_dto(req, &matched)?)?, format),
        Op::DeleteContact => respond(
            contact::delete(state, c, bind_dto(req, &matched)?).await?,
            format,
        ),
        Op::ListContacts => respond(contact::list(state, c, bind_dto(req, &matched)?)?, format),
    }
}

/// Binds the route's request DTO from body, path variables and query string.
fn bind_dto<T: DeserializeOwned>(req: &Request, matched: &Matched) -> Result<T, ApiError> {
    let body = if req.body.iter().all(u8::is_ascii_whitespace) {
        None
    } else {
        check_content_type(&req.headers)?;
        Some(parse_json(&req.body, matched.route.request)?)
    };
    let query = req
        .query
        .as_deref()
        .map(routes::query_pairs)
        .unwrap_or_default();
    Ok(bind(Sources {
        body,
        path: &matched.vars,
        query: &query,
    })?)
}

/// JSON bodies only, for now; a missing Content-Type is taken as JSON (curl's habit).
fn check_content_type(headers: &HeaderMap) -> Result<(), ApiError> {
    let Some(value) = headers.get(CONTENT_TYPE) else {
        return Ok(());
    };
    let text = value.to_str().unwrap_or("");
    let media = text
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    match media.as_str() {
        "application/json" | "text/json" | "" => Ok(()),
        _ => Err(ApiError::UnsupportedMediaType(text.to_owned())),
    }
}

/// Validates `Take`: default 50, at most 500.
fn page_size(take: Option<usize>) -> Result<usize, ApiError> {
    const MAX_TAKE: usize = 500;
    let take = take.unwrap_or(50);
    if (1..=MAX_TAKE).contains(&take) {
        return Ok(take);
    }
    Err(ApiError::Invalid(vec![crate::domain::FieldError::new(
        "Take",
        "InclusiveBetween",
        format!("'Take' must be between 1 and {MAX_TAKE}. You entered {take}."),
    )]))
}

fn respond<T: Serialize>(dto: T, format: Format) -> Result<Response, ApiError> {
    let body = wire::encode(&dto, format).map_err(ApiError::Internal)?;
    Ok(Response {
        status: StatusCode::OK,
        reason: None,
        headers: content_type(format),
        body,
    })
}

fn content_type(format: Format) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static(format.content_type()),
    );
    headers
}

/// The error body in the negotiated format, with ServiceStack's status and reason phrase.
pub fn error_response(e: &ApiError, format: Format) -> Response {
    if let ApiError::Internal(detail) = e {
        tracing::error!(detail = %detail, "request failed");
    }
    let (status, response_status) = e.to_response();
    let reason = Some(response_status.ErrorCode.clone());
    let body = wire::encode(
        &ErrorResponse {
            ResponseStatus: response_status,
        },
        format,
    )
    .unwrap_or_default();
    let mut headers = content_type(format);
    if status == StatusCode::UNAUTHORIZED {
        headers.insert(
            WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer realm=\"customerlink\""),
        );
    }
    Response {
        status,
        reason,
        headers,
        body,
    }
}
