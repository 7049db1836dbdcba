//! api: one module per operation family. Every operation is bind → handle → respond: the
//! request DTO is bound by `wire` from body, path, query and form; the handler calls domain
//! and store; `respond` encodes the reply (or the error) in the negotiated format and casing.
//! Transport details (sockets, limits, CORS headers) stay in `http`.

pub mod auth;
mod body;
mod contact;
mod customerlink;
mod delivery;
pub mod dto;
pub mod error;
mod idempotency;
pub mod limits;
pub mod openapi;
pub mod portal;
pub mod routes;

use bytes::Bytes;
use hyper::header::{
    ACCEPT, CONTENT_DISPOSITION, CONTENT_TYPE, HeaderMap, HeaderValue, RETRY_AFTER, USER_AGENT,
    WWW_AUTHENTICATE,
};
use hyper::{Method, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::app::AppState;
use crate::config::CasingSetting;
use crate::wire::bind::{Sources, bind};
use crate::wire::casing::Casing;
use crate::wire::encode::{Style, encode};
use crate::wire::negotiate::{Decided, negotiate};
use crate::wire::status::ErrorResponse;
use crate::wire::{self, Format};
use body::Body;
use error::ApiError;
use routes::{Matched, Miss, Op, Surface};

/// A request as the api layer sees it: already size-limited and fully read.
#[derive(Debug)]
pub struct Request {
    pub method: Method,
    pub path: String,
    pub query: Option<String>,
    pub headers: HeaderMap,
    pub body: Bytes,
    /// The client's address: the TCP peer, or the client a trusted reverse proxy names.
    pub remote: Option<std::net::IpAddr>,
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

/// Everything bound from one request, before the operation runs.
struct Call<'a> {
    matched: Matched,
    body: Body,
    query: &'a [(String, String)],
}

/// What negotiation decided for one request, refined as the request is read.
struct Exchange {
    query: Vec<(String, String)>,
    /// The path routing sees (format suffix removed).
    path: String,
    decided_by: Decided,
    /// Set by `?jsconfig=` or the server setting; otherwise the request's own casing is mirrored.
    casing_fixed: bool,
    style: Style,
}

impl Exchange {
    fn new(state: &AppState, req: &Request) -> Exchange {
        let query = req
            .query
            .as_deref()
            .map(wire::form::pairs)
            .unwrap_or_default();
        let negotiated = negotiate(
            &req.path,
            &query,
            header(&req.headers, ACCEPT),
            header(&req.headers, CONTENT_TYPE),
        );
        let jsconfig = wire::form::get(&query, "jsconfig").and_then(Casing::from_jsconfig);
        let fixed_casing = jsconfig.or(match state.config.wire.casing {
            CasingSetting::Auto => None,
            CasingSetting::Pascal => Some(Casing::Pascal),
            CasingSetting::Camel => Some(Casing::Camel),
        });
        let style = Style {
            format: negotiated.format,
            casing: fixed_casing.unwrap_or_default(),
            jsonp: negotiated.jsonp,
            operation: "ErrorResponse",
        };
        Exchange {
            query,
            path: negotiated.path,
            decided_by: negotiated.decided_by,
            casing_fixed: fixed_casing.is_some(),
            style,
        }
    }
}

/// Answers one request; never fails (errors become error responses).
pub async fn handle(state: &AppState, req: Request) -> Response {
    let mut exchange = Exchange::new(state, &req);
    let browser = portal::html::route(&req);
    let surface = surface(browser.is_some(), &exchange.path);
    let outcome = match (surface, browser) {
        (Surface::Portal, _) if !portal_budget(state, &req) => Err(too_many(state)),
        (_, Some(route)) => portal::html::handle(state, &req, route).await,
        (_, None) => dispatch(state, &req, &mut exchange).await,
    };
    let mut response = outcome.unwrap_or_else(|e| error_response(&e, &exchange.style));
    if surface == Surface::Portal {
        portal_headers(&mut response.headers);
    }
    response
}

/// The edge policy of a request, from what it resolves to (a browser page, or the operation
/// its path reaches by any route), never from how the path is spelt.
fn surface(browser_page: bool, path: &str) -> Surface {
    if browser_page {
        return Surface::Portal;
    }
    routes::op_at(path).map_or(Surface::Staff, Op::surface)
}

/// Counts one portal request against the client's per-minute budget.
fn portal_budget(state: &AppState, req: &Request) -> bool {
    let ip = req.remote.map(|ip| ip.to_string()).unwrap_or_default();
    state.portal_limits.requests.hit(&ip, state.clock.now())
}

fn too_many(state: &AppState) -> ApiError {
    let now = state.clock.now();
    ApiError::TooManyRequests {
        message: "Too many requests; slow down.".into(),
        retry_after_secs: state.portal_limits.requests.retry_after_secs(now),
    }
}

/// What every portal response carries: nothing cached, no referrer leaking the token, not
/// indexed, not framed, and a CSP that allows only this origin's stylesheet.
fn portal_headers(headers: &mut HeaderMap) {
    let fixed = [
        ("cache-control", "no-store"),
        ("referrer-policy", "no-referrer"),
        ("x-robots-tag", "noindex, nofollow"),
        ("x-frame-options", "DENY"),
        (
            "content-security-policy",
            "default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; frame-ancestors 'none'",
        ),
    ];
    for (name, value) in fixed {
        headers.insert(name, HeaderValue::from_static(value));
    }
}

/// An error found before the request reached an operation (e.g. a body over the limit),
/// in the format the request negotiated.
pub fn reject(state: &AppState, req: &Request, e: &ApiError) -> Response {
    let exchange = Exchange::new(state, req);
    let mut response = error_response(e, &exchange.style);
    if surface(portal::html::route(req).is_some(), &exchange.path) == Surface::Portal {
        portal_headers(&mut response.headers);
    }
    response
}

async fn dispatch(
    state: &AppState,
    req: &Request,
    exchange: &mut Exchange,
) -> Result<Response, ApiError> {
    let Exchange {
        query,
        path,
        decided_by,
        casing_fixed,
        style,
    } = exchange;
    let (query, path, decided_by, casing_fixed) =
        (&query[..], path.as_str(), *decided_by, *casing_fixed);
    let form = body::form_fields(req);
    let method = effective_method(req, query, &form);
    if method == "OPTIONS" {
        return Ok(Response {
            status: StatusCode::OK,
            reason: None,
            headers: HeaderMap::new(),
            body: Bytes::new(),
        });
    }
    let route_verb = if method == "HEAD" {
        "GET"
    } else {
        method.as_str()
    };
    if route_verb == "GET" && req.path.eq_ignore_ascii_case("/openapi.json") {
        let mut headers = HeaderMap::new();
        headers.insert(
            CONTENT_TYPE,
            HeaderValue::from_static(Format::Json.content_type()),
        );
        return Ok(Response {
            status: StatusCode::OK,
            reason: None,
            headers,
            body: state.openapi.clone(),
        });
    }
    let matched = routes::find(route_verb, path).map_err(|miss| match miss {
        Miss::NotFound => ApiError::NotFound(format!("No operation at {method} {path}")),
        Miss::WrongVerb(operation) => ApiError::MethodNotAllowed {
            method: method.clone(),
            operation: operation.to_owned(),
        },
    })?;
    style.operation = matched.route.request;
    if let Some(own) = matched
        .predefined
        .filter(|_| matches!(decided_by, Decided::Accept | Decided::Default))
    {
        style.format = own;
    }
    if style.jsonp.is_some() && style.format != Format::Json {
        style.jsonp = None;
    }
    let body = body::read(req, matched.predefined, form)?;
    if !casing_fixed {
        let names = body
            .member_names()
            .chain(query.iter().map(|(k, _)| k.as_str()));
        let mirrored = Casing::of_request_names(names.filter(|n| !is_control_parameter(n)))
            .or_else(|| header(&req.headers, USER_AGENT).and_then(Casing::of_user_agent));
        if let Some(casing) = mirrored {
            style.casing = casing;
        }
    }
    let s = &*style;
    match matched.route.op {
        Op::PortalLanding => {
            return portal::api::landing(state, req, bind_call(matched, body, query)?, s);
        }
        Op::PortalOtp => {
            return portal::api::request_code(state, req, bind_call(matched, body, query)?, s)
                .await;
        }
        Op::PortalVerify => {
            return portal::api::verify(state, req, bind_call(matched, body, query)?, s).await;
        }
        Op::PortalOpen => {
            return portal::api::open(state, req, bind_call(matched, body, query)?, s).await;
        }
        _ => {}
    }
    let caller = auth::authenticate(state, &req.headers, matched.route.op)?;
    let c = &caller;
    let call = Call {
        matched,
        body,
        query,
    };
    let s = &*style;
    match call.matched.route.op {
        Op::CreateLink => {
            let dto: dto::CustomerLinkCreateRequest = call.bind()?;
            let once = idempotency::Once::from_headers(&req.headers, s.operation, &dto)?;
            respond(&customerlink::create(state, c, dto, once).await?, s)
        }
        Op::ListResourceLinks => {
            respond(&customerlink::list_for_resource(state, c, call.bind()?)?, s)
        }
        Op::QueryLinks => respond(&customerlink::query(state, c, call.bind()?)?, s),
        Op::GetLink => respond(&customerlink::get(state, c, call.bind()?)?, s),
        Op::ResendLink => {
            let dto: dto::CustomerLinkResendRequest = call.bind()?;
            let once = idempotency::Once::from_headers(&req.headers, s.operation, &dto)?;
            respond(&customerlink::resend(state, c, dto, once).await?, s)
        }
        Op::UnlockLink => respond(&customerlink::unlock(state, c, call.bind()?).await?, s),
        Op::LinkLog => respond(&customerlink::access_log(state, c, call.bind()?)?, s),
        Op::IntrospectGrant => respond(&customerlink::introspect(state, c, call.bind()?).await?, s),
        Op::PortalLanding | Op::PortalOtp | Op::PortalVerify | Op::PortalOpen => {
            Err(ApiError::Internal("portal op after auth".into()))
        }
        Op::RevokeLink => respond(&customerlink::revoke(state, c, call.bind()?).await?, s),
        Op::PutContact => respond(&contact::put(state, c, call.bind()?).await?, s),
        Op::GetContact => respond(&contact::get(state, c, call.bind()?)?, s),
        Op::DeleteContact => respond(&contact::delete(state, c, call.bind()?).await?, s),
        Op::ListContacts => respond(&contact::list(state, c, call.bind()?)?, s),
    }
}

fn bind_call<T: DeserializeOwned>(
    matched: Matched,
    body: body::Body,
    query: &[(String, String)],
) -> Result<T, ApiError> {
    Call {
        matched,
        body,
        query,
    }
    .bind()
}

impl Call<'_> {
    /// Binds the route's request DTO: body, then path variables, then query, then form.
    fn bind<T: DeserializeOwned>(self) -> Result<T, ApiError> {
        Ok(bind(Sources {
            body: self.body.value,
            path: &self.matched.vars,
            query: self.query,
            form: &self.body.form,
        })?)
    }
}

/// Query parameters that steer the wire rather than carry DTO members.
fn is_control_parameter(name: &str) -> bool {
    [
        "format",
        "callback",
        "jsconfig",
        "x-http-method-override",
        "_",
    ]
    .iter()
    .any(|p| p.eq_ignore_ascii_case(name))
}

/// `X-Http-Method-Override` header, then query, then form field, then the real method
/// (servicestack-wire.md §7.3).
fn effective_method(
    req: &Request,
    query: &[(String, String)],
    form: &[(String, String)],
) -> String {
    let name = "X-Http-Method-Override";
    header(&req.headers, name)
        .or_else(|| wire::form::get(query, name))
        .or_else(|| wire::form::get(form, name))
        .map_or_else(
            || req.method.as_str().to_owned(),
            |m| m.trim().to_ascii_uppercase(),
        )
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
    Err(ApiError::Invalid(vec![crate::domain::FieldError::new(
        "Take",
        "InclusiveBetween",
        format!("'Take' must be between 1 and {MAX_TAKE}. You entered {take}."),
    )]))
}

pub(crate) fn respond<T: Serialize + schemars::JsonSchema>(
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
/// phrase. JSONP errors are sent with status 200, as ServiceStack does (§3.4).
pub fn error_response(e: &ApiError, style: &Style) -> Response {
    if let ApiError::Internal(detail) = e {
        tracing::error!(detail = %detail, "request failed");
    }
    let (status, response_status) = e.to_response();
    let reason = response_status.ErrorCode.clone();
    let mut response = respond(
        &ErrorResponse {
            ResponseStatus: response_status,
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
