//! Encoding replies: a response DTO in the negotiated format and casing, and every error as
//! ServiceStack shapes it (status, reason phrase, the operation's response-DTO root).

use bytes::Bytes;
use hyper::StatusCode;
use hyper::header::{
    CONTENT_DISPOSITION, CONTENT_TYPE, HeaderMap, HeaderValue, RETRY_AFTER, WWW_AUTHENTICATE,
};
use schemars::JsonSchema;
use serde::Serialize;

use super::error::ApiError;
use super::{Response, routes};
use crate::wire;
use crate::wire::encode::{Style, encode};
use crate::wire::status::ErrorBody;

/// A response DTO as the response, in the request's style.
pub(crate) fn respond<T: Serialize + JsonSchema>(
    dto: &T,
    style: &Style,
) -> Result<Response, ApiError> {
    let encoded = encode(dto, style).map_err(ApiError::Internal)?;
    // Room for the transport's fixed, CORS and request-id headers without regrowing.
    let mut headers = HeaderMap::with_capacity(16);
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(encoded.content_type));
    if let Some(disposition) = encoded
        .content_disposition
        .and_then(|d| HeaderValue::from_str(&d).ok())
    {
        headers.insert(CONTENT_DISPOSITION, disposition);
    }
    Ok(Response {
        status: StatusCode::OK,
        reason: None,
        headers,
        body: encoded.body,
    })
}

/// The error body in the negotiated format and casing, with ServiceStack's status and reason
/// phrase: the response DTO of the operation `style` names (`ErrorResponse` when none), with
/// only its `ResponseStatus` set. JSONP errors are sent with status 200, as ServiceStack does
/// (§3.4).
pub fn error_response(e: &ApiError, style: &Style) -> Response {
    error_response_with(e, style, |_| {})
}

/// [`error_response`], with the ResponseStatus adjusted first (e.g. an AutoBatch's index).
pub(super) fn error_response_with(
    e: &ApiError,
    style: &Style,
    adjust: impl FnOnce(&mut wire::status::ResponseStatus),
) -> Response {
    if let ApiError::Internal(detail) = e {
        tracing::error!(detail = %detail, "request failed");
    }
    let (status, mut response_status) = e.to_response(style.operation);
    adjust(&mut response_status);
    let reason = response_status.ErrorCode.clone();
    let mut response = respond(
        &ErrorBody {
            type_name: routes::error_root(style.operation),
            status: response_status,
        },
        style,
    )
    .unwrap_or_else(|_| Response {
        status,
        reason: None,
        headers: HeaderMap::new(),
        body: Bytes::new(),
    });
    if style.jsonp.is_none() {
        response.status = status;
        response.reason = Some(reason);
    }
    if let Some(secs) = e.retry_after_secs() {
        response
            .headers
            .insert(RETRY_AFTER, HeaderValue::from(secs));
    }
    if status == StatusCode::UNAUTHORIZED {
        response.headers.insert(
            WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer realm=\"customerlink\""),
        );
    }
    response
}
