//! api: one module per operation family. Every operation is bind → handle → respond: the
//! request DTO is bound by `wire` from body, path, query and form; the handler calls domain
//! and store; `respond` encodes the reply (or the error) in the negotiated format and casing.
//! Transport details (sockets, limits, CORS headers) stay in `http`.

pub mod auth;
mod batch;
mod body;
mod casing;
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
    ACCEPT, CONTENT_DISPOSITION, CONTENT_TYPE, HeaderMap, HeaderValue, RETRY_AFTER, VARY,
    WWW_AUTHENTICATE,
};
use hyper::{Method, StatusCode};
use schemars::JsonSchema;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::app::AppState;
use crate::config::CasingSetting;
use crate::domain::tenant::StaffCaller;
use crate::wire::bind::{Sources, bind};
use crate::wire::casing::Casing;
use crate::wire::encode::{Style, encode};
use crate::wire::negotiate::{Decided, negotiate};
use crate::wire::node::{Node, to_node};
use crate::wire::status::ErrorBody;
use crate::wire::{self, Format};
use body::Body;
use casing::CasingRule;
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
    casing: CasingRule,
    style: Style,
    /// `Accept` chose the reply format, or would have had it been sent (`Vary: Accept`).
    vary_accept: bool,
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
        let casing = CasingRule {
            jsconfig: wire::form::get(&query, "jsconfig").and_then(Casing::from_jsconfig),
            server: match state.config.wire.casing {
                CasingSetting::Auto => None,
                CasingSetting::Pascal => Some(Casing::Pascal),
                CasingSetting::Camel => Some(Casing::Camel),
            },
            api_json_only: routes::is_api_route(&negotiated.path)
                && header(&req.headers, ACCEPT).is_some_and(casing::json_only),
        };
        // Before the body is read (and for errors raised before routing), the query's member
        // names of the operation the path reaches are all there is to go on.
        let members = routes::route_at(&negotiated.path).and_then(|route| {
            let names = query.iter().map(|(k, _)| k.as_str());
            Casing::of_members(names, routes::request_members(route.request))
        });
        let style = Style {
            format: negotiated.format,
            casing: casing.decide(None, members),
            jsonp: negotiated.jsonp,
            operation: "ErrorResponse",
        };
        // On `/api/{Op}` Accept may decide the casing; elsewhere on a predefined route the
        // route's own format wins over it.
        let vary_accept = routes::is_api_route(&negotiated.path)
            || (matches!(negotiated.decided_by, Decided::Accept | Decided::Default)
                && !routes::is_predefined_route(&negotiated.path));
        Exchange {
            query,
            path: negotiated.path,
            decided_by: negotiated.decided_by,
            casing,
            style,
            vary_accept,
        }
    }

    /// `Vary: Accept` when the Accept header chose (or could have chosen) the format.
    fn vary(&self, response: &mut Response) {
        if self.vary_accept {
            response
                .headers
                .append(VARY, HeaderValue::from_static("Accept"));
        }
    }
}

/// Answers one request; never fails (errors become error responses).
pub async fn handle(state: &AppState, req: Request) -> Response {
    let mut exchange = Exchange::new(state, &req);
    let browser = portal::html::route(&req);
    let page = browser.is_some();
    let surface = surface(page, &exchange.path);
    let outcome = match (surface, browser) {
        (Surface::Portal, _) if !portal_budget(state, &req) => Err(too_many(state)),
        (_, Some(route)) => portal::html::handle(state, &req, route).await,
        (_, None) => dispatch(state, &req, &mut exchange).await,
    };
    let mut response = outcome.unwrap_or_else(|e| error_response(&e, &exchange.style));
    if !page {
        exchange.vary(&mut response);
    }
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

/// An error found before the request was read (e.g. a body over the limit), in the format the
/// request negotiated, as the error of the operation the request is addressed to.
pub fn reject(state: &AppState, req: &Request, e: &ApiError) -> Response {
    let mut exchange = Exchange::new(state, req);
    if let Ok(matched) = routes::find(req.method.as_str(), &exchange.path) {
        exchange.style.operation = matched.route.request;
    }
    let mut response = error_response(e, &exchange.style);
    let browser = portal::html::route(req).is_some();
    if !browser {
        exchange.vary(&mut response);
    }
    if surface(browser, &exchange.path) == Surface::Portal {
        portal_headers(&mut response.headers);
    }
    response
}

async fn dispatch(
    state: &AppState,
    req: &Request,
    exchange: &mut Exchange,
) -> Result<Response, ApiError> {
    let query = &exchange.query[..];
    let path = exchange.path.as_str();
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
        exchange.vary_accept = false;
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
    let style = &mut exchange.style;
    style.operation = matched.route.request;
    if let Some(own) = matched
        .predefined
        .filter(|_| matches!(exchange.decided_by, Decided::Accept | Decided::Default))
    {
        style.format = own;
    }
    if style.jsonp.is_some() && style.format != Format::Json {
        style.jsonp = None;
    }
    let body = body::read(req, matched.predefined, matched.batch, form)?;
    let members = routes::request_members(matched.route.request);
    let sent = Casing::of_members(
        body.member_names()
            .chain(query.iter().map(|(k, _)| k.as_str())),
        members,
    );
    let rule = exchange.casing;
    style.casing = rule.decide(None, sent);
    if matched.batch {
        return batch::run(state, req, matched, body, style, |pin| {
            rule.decide(pin, sent)
        })
        .await;
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
    style.casing = rule.decide(caller.casing, sent);
    let call = Call {
        matched,
        body,
        query,
    };
    execute(state, req, &caller, call, None, &Encode(style)).await
}

/// Where an operation's reply goes: encoded as the response, or kept as one item of a batch.
trait Reply {
    type Out;
    fn put<T: Serialize + JsonSchema>(&self, dto: &T) -> Result<Self::Out, ApiError>;
}

/// The reply is the response, in the request's style.
struct Encode<'a>(&'a Style);

impl Reply for Encode<'_> {
    type Out = Response;
    fn put<T: Serialize + JsonSchema>(&self, dto: &T) -> Result<Response, ApiError> {
        respond(dto, self.0)
    }
}

/// The reply is kept (format-neutral) to be written later with its batch.
struct Keep;

impl Reply for Keep {
    type Out = Node;
    fn put<T: Serialize + JsonSchema>(&self, dto: &T) -> Result<Node, ApiError> {
        to_node(dto).map_err(|e| ApiError::Internal(e.to_string()))
    }
}

/// Runs one staff operation for an authenticated caller. `item` is the index within an
/// AutoBatch (it scopes the `Idempotency-Key` to the item).
async fn execute<R: Reply>(
    state: &AppState,
    req: &Request,
    c: &StaffCaller,
    call: Call<'_>,
    item: Option<usize>,
    out: &R,
) -> Result<R::Out, ApiError> {
    let operation = call.matched.route.request;
    match call.matched.route.op {
        Op::CreateLink => {
            let dto: dto::CustomerLinkCreateRequest = call.bind()?;
            let once = idempotency::Once::for_item(&req.headers, operation, &dto, item)?;
            out.put(&customerlink::create(state, c, dto, once).await?)
        }
        Op::ListResourceLinks => out.put(&customerlink::list_for_resource(state, c, call.bind()?)?),
        Op::QueryLinks => out.put(&customerlink::query(state, c, call.bind()?)?),
        Op::GetLink => out.put(&customerlink::get(state, c, call.bind()?)?),
        Op::ResendLink => {
            let dto: dto::CustomerLinkResendRequest = call.bind()?;
            let once = idempotency::Once::for_item(&req.headers, operation, &dto, item)?;
            out.put(&customerlink::resend(state, c, dto, once).await?)
        }
        Op::UnlockLink => out.put(&customerlink::unlock(state, c, call.bind()?).await?),
        Op::LinkLog => out.put(&customerlink::access_log(state, c, call.bind()?)?),
        Op::IntrospectGrant => out.put(&customerlink::introspect(state, c, call.bind()?).await?),
        Op::PortalLanding | Op::PortalOtp | Op::PortalVerify | Op::PortalOpen => {
            Err(ApiError::Internal("portal op after auth".into()))
        }
        Op::RevokeLink => out.put(&customerlink::revoke(state, c, call.bind()?).await?),
        Op::PutContact => out.put(&contact::put(state, c, call.bind()?).await?),
        Op::GetContact => out.put(&contact::get(state, c, call.bind()?)?),
        Op::DeleteContact => out.put(&contact::delete(state, c, call.bind()?).await?),
        Op::ListContacts => out.put(&contact::list(state, c, call.bind()?)?),
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
    Err(ApiError::Invalid(vec![
        crate::domain::FieldError::new(
            "Take",
            crate::domain::Rule::InclusiveBetween(1, MAX_TAKE as i64),
        )
        .value(take),
    ]))
}

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
fn error_response_with(
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
