//! ServiceStack's AutoBatch: `POST /api/{Op}[]` (and `/{fmt}/reply/{Op}[]`, `/{fmt}/oneway/{Op}[]`)
//! with an array of request DTOs runs them one after another and answers the array of their
//! replies, as `CreateAutoBatchServiceExec` in ServiceStack/src/ServiceStack/Host/
//! ServiceController.cs does. The first failure stops the batch and is the reply: its
//! ResponseStatus carries the failing index in `Meta["AutoBatchIndex"]` (`AfterEachRequest` in
//! ServiceStack/src/ServiceStack/Host/ServiceRunner.cs), and `X-AutoBatch-Completed` counts the
//! requests completed before it (`SetAutoBatchCompletedHeader`; on success, all of them).
//! Requests completed before a failure stay done: ServiceStack has no batch transaction either.
//! Public portal operations are not batched: their per-request limits would not hold.

use hyper::StatusCode;
use hyper::header::{CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue};
use serde_json::Value;

use super::body::Body;
use super::dispatch::execute;
use super::error::ApiError;
use super::handler::{Call, Handler};
use super::respond::error_response_with;
use super::routes::Matched;
use super::{Request, Response, auth};
use crate::api::AppState;
use crate::domain::tenant::CasingPin;
use crate::domain::{FieldError, Rule};
use crate::wire::bind::BindError;
use crate::wire::casing::Casing;
use crate::wire::encode::{Style, encode_node};
use crate::wire::node::Node;

/// Most requests one batch may carry (the body size limit bounds it too).
pub const MAX_ITEMS: usize = 100;

/// ServiceStack's `HttpHeaders.XAutoBatchCompleted`.
const COMPLETED: HeaderName = HeaderName::from_static("x-autobatch-completed");

/// Runs a batch. `casing` decides the reply casing once the key (and its pin) is known.
pub(super) async fn run(
    state: &AppState,
    req: &Request,
    matched: Matched,
    body: Body,
    style: &mut Style,
    casing: impl Fn(Option<CasingPin>) -> Casing,
) -> Result<Response, ApiError> {
    let op = matched.route.request;
    let Handler::Staff(_, handler) = matched.route.handler else {
        return Err(ApiError::NotFound(format!(
            "{op}[] is not offered: portal operations are sent one request at a time."
        )));
    };
    let items = items(op, body.value)?;
    let caller = auth::authenticate(state.into(), &req.headers, matched.route.op).await?;
    style.casing = casing(caller.casing);
    let mut replies = Vec::with_capacity(items.len());
    for (i, item) in items.into_iter().enumerate() {
        let call = Call {
            matched: matched.clone(),
            body: Body {
                value: Some(item),
                form: Vec::new(),
            },
            query: &[],
        };
        let reply = execute(handler, state, req, &caller, call, Some(i)).await;
        match reply.and_then(|dto| dto.keep()) {
            Ok(reply) => replies.push(reply),
            Err(e) => return Ok(failed(&e, i, style)),
        }
    }
    let count = replies.len();
    let encoded = encode_node(&Node::List(replies), style, None);
    let mut headers = HeaderMap::with_capacity(16);
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(encoded.content_type));
    headers.insert(COMPLETED, HeaderValue::from(count));
    Ok(Response {
        status: StatusCode::OK,
        reason: None,
        headers,
        body: encoded.body,
    })
}

/// The requests of a batch body: an array of at most [`MAX_ITEMS`] (no body is none).
fn items(op: &str, value: Option<Value>) -> Result<Vec<Value>, ApiError> {
    let items = match value {
        None => Vec::new(),
        Some(Value::Array(items)) => items,
        Some(_) => {
            return Err(ApiError::Bind(BindError::Unreadable {
                content_type: None,
                detail: format!("a batch of {op} is an array of requests"),
            }));
        }
    };
    if items.len() > MAX_ITEMS {
        return Err(ApiError::Invalid(vec![
            FieldError::new("Requests", Rule::Custom("LessThanOrEqual"))
                .value(items.len())
                .message(format!(
                    "A batch may hold at most {MAX_ITEMS} requests; this one has {}.",
                    items.len()
                )),
        ]));
    }
    Ok(items)
}

/// The error of request `index`, marked as ServiceStack marks it.
fn failed(e: &ApiError, index: usize, style: &Style) -> Response {
    let mut response = error_response_with(e, style, |status| {
        status
            .Meta
            .get_or_insert_with(Default::default)
            .insert("AutoBatchIndex".into(), index.to_string());
    });
    response.headers.insert(COMPLETED, HeaderValue::from(index));
    response
}
