//! Dispatch: runs what the one lookup of a request ([`super::resolve`]) found — under the edge
//! policy of its surface (portal limit and headers), with the handler its route row holds —
//! and answers the label metrics and logs name it by.

use bytes::Bytes;
use hyper::StatusCode;
use hyper::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue,
    REFERRER_POLICY, X_FRAME_OPTIONS,
};

use super::body;
use super::error::ApiError;
use super::exchange::{Exchange, Negotiation};
use super::handler::{Call, Dto, Handler, PortalCall, StaffCall, StaffFn};
use super::portal::{PortalLimits, Visitor, brand, html};
use super::resolve::{Resolved, Target, resolve};
use super::respond::error_response;
use super::routes::{self, Matched, Miss, Surface};
use super::{Request, Response, auth, batch};
use crate::api::AppState;
use crate::clock::Clock;
use crate::domain::tenant::StaffCaller;
use crate::wire::Format;
use crate::wire::casing::Casing;
use crate::wire::negotiate::Decided;

/// Answers one request, and names it for metrics; never fails (errors become error responses).
pub async fn handle(state: &AppState, req: &Request) -> (Response, &'static str) {
    let negotiation = Negotiation::of(req);
    let form = body::form_fields(req);
    let n = &negotiation;
    let resolved = resolve(req, &n.negotiated.path, &n.query, &form, state.config.dev);
    let mut exchange = Exchange::new(state.config.wire.casing, req, negotiation, &resolved);
    let label = resolved.label();
    crate::logging::name_operation(label);
    let surface = resolved.surface;
    let page = matches!(resolved.target, Target::Page(_));
    let admitted = match surface {
        Surface::Portal => portal_budget(&state.portal_limits, &*state.clock, req),
        Surface::Staff => Ok(()),
    };
    let outcome = match admitted {
        Ok(()) => run(state, req, &mut exchange, resolved, form).await,
        Err(e) => Err(e),
    };
    let mut response = outcome.unwrap_or_else(|e| error_response(&e, &exchange.style));
    finish(&exchange, page, surface, &mut response);
    (response, label)
}

/// An error found before the request was read (e.g. a body over the limit), in the format the
/// request negotiated, as the error of the operation the request is addressed to.
pub fn reject(state: &AppState, req: &Request, e: &ApiError) -> (Response, &'static str) {
    let negotiation = Negotiation::of(req);
    let n = &negotiation;
    let resolved = resolve(req, &n.negotiated.path, &n.query, &[], state.config.dev);
    let mut exchange = Exchange::new(state.config.wire.casing, req, negotiation, &resolved);
    if let Target::Op(matched) = &resolved.target {
        exchange.style.operation = matched.route.request;
    }
    let mut response = error_response(e, &exchange.style);
    let page = matches!(resolved.target, Target::Page(_));
    finish(&exchange, page, resolved.surface, &mut response);
    let label = resolved.label();
    crate::logging::name_operation(label);
    (response, label)
}

/// `Vary: Accept` (not on browser pages) and the portal's headers on its surface.
fn finish(exchange: &Exchange, page: bool, surface: Surface, response: &mut Response) {
    if !page {
        exchange.vary(response);
    }
    if surface == Surface::Portal {
        portal_headers(&mut response.headers);
    }
}

/// Counts one portal request against the client's per-minute budget; 429 once it is spent.
pub(super) fn portal_budget(
    limits: &PortalLimits,
    clock: &dyn Clock,
    req: &Request,
) -> Result<(), ApiError> {
    let now = clock.now();
    if limits.requests.hit_address(req.remote, now) {
        return Ok(());
    }
    Err(ApiError::TooManyRequests {
        message: "Too many requests; slow down.".into(),
        retry_after_secs: limits.requests.retry_after_secs(now),
    })
}

/// What every portal response carries: nothing cached (unless the response set its own
/// caching: the versioned branding assets), no referrer leaking the token, not indexed, not
/// framed, and a CSP that allows only this origin's stylesheets and
/// images.
pub(super) fn portal_headers(headers: &mut HeaderMap) {
    // Names as constants: a name given as text is parsed and checked on every insert.
    const X_ROBOTS_TAG: HeaderName = HeaderName::from_static("x-robots-tag");
    headers
        .entry(CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    let fixed = [
        (REFERRER_POLICY, "no-referrer"),
        (X_ROBOTS_TAG, "noindex, nofollow"),
        (X_FRAME_OPTIONS, "DENY"),
        (
            CONTENT_SECURITY_POLICY,
            "default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; frame-ancestors 'none'",
        ),
    ];
    for (name, value) in fixed {
        headers.insert(name, HeaderValue::from_static(value));
    }
}

/// Runs what the request resolved to.
async fn run(
    state: &AppState,
    req: &Request,
    exchange: &mut Exchange,
    resolved: Resolved,
    form: Vec<(String, String)>,
) -> Result<Response, ApiError> {
    match resolved.target {
        Target::Page(route) => {
            let portal = state.into();
            Box::pin(html::handle(portal, html::Browser::of(portal, req), route)).await
        }
        Target::Brand(asset) => {
            exchange.vary_accept = false;
            Box::pin(brand::serve(&state.store, asset)).await
        }
        Target::Preflight => Ok(plain(HeaderMap::new(), Bytes::new())),
        Target::OpenApi => {
            exchange.vary_accept = false;
            let mut headers = HeaderMap::new();
            let json = HeaderValue::from_static(Format::Json.content_type());
            headers.insert(CONTENT_TYPE, json);
            Ok(plain(headers, state.openapi.clone()))
        }
        Target::Dev(page) => {
            let page = super::dev::handle(state, req, exchange.decided_by, &exchange.style, page);
            Box::pin(page).await
        }
        Target::Miss(miss) => Err(missed(miss, resolved.method, &exchange.path)),
        Target::Op(matched) => operate(state, req, exchange, matched, form).await,
    }
}

/// A 200 with these headers and body.
fn plain(headers: HeaderMap, body: Bytes) -> Response {
    Response {
        status: StatusCode::OK,
        reason: None,
        headers,
        body,
    }
}

fn missed(miss: Miss, method: String, path: &str) -> ApiError {
    match miss {
        Miss::NotFound => ApiError::NotFound(format!("No operation at {method} {path}")),
        Miss::WrongVerb(operation) => ApiError::MethodNotAllowed {
            method,
            operation: operation.to_owned(),
        },
    }
}

/// Reads the body for the matched operation, settles the reply style and runs the row's handler.
async fn operate(
    state: &AppState,
    req: &Request,
    exchange: &mut Exchange,
    matched: Matched,
    form: Vec<(String, String)>,
) -> Result<Response, ApiError> {
    settle_format(exchange, &matched);
    let query = &exchange.query[..];
    let style = &mut exchange.style;
    let body = body::read(req, matched.predefined, matched.batch, form)?;
    let sent = Casing::of_members(
        body.member_names()
            .chain(query.iter().map(|(k, _)| k.as_str())),
        routes::request_members(matched.route.request),
    );
    let rule = exchange.casing;
    style.casing = rule.decide(None, sent);
    if matched.batch {
        let batch = batch::run(state, req, matched, body, style, |pin| {
            rule.decide(pin, sent)
        });
        return Box::pin(batch).await;
    }
    let call = Call {
        matched,
        body,
        query,
    };
    match call.matched.route.handler {
        Handler::Portal(run) => {
            let visitor = Visitor::of(req);
            let family = call.matched.route.op.family();
            run(PortalCall {
                portal: super::portal::Portal::from(state).of(family),
                visitor,
                style,
                call,
            })
            .await
        }
        Handler::Staff(_, run) => {
            let caller =
                auth::authenticate(state.into(), &req.headers, call.matched.route.op).await?;
            style.casing = rule.decide(caller.casing, sent);
            execute(run, state, req, &caller, call, None)
                .await?
                .respond(style)
        }
    }
}

/// The operation the style names, and a predefined route's own format unless the request
/// named one explicitly (JSONP only with JSON).
fn settle_format(exchange: &mut Exchange, matched: &Matched) {
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
}

/// Runs one staff operation for an authenticated caller. `item` is the index within an
/// AutoBatch (it scopes the `Idempotency-Key` to the item).
pub(super) async fn execute(
    run: StaffFn,
    state: &AppState,
    req: &Request,
    caller: &StaffCaller,
    call: Call<'_>,
    item: Option<usize>,
) -> Result<Dto, ApiError> {
    let headers = &req.headers;
    run(StaffCall {
        state,
        caller,
        headers,
        item,
        call,
    })
    .await
}

/// A request for an operation whose body is not read beforehand (see
/// [`super::attachment`]): the lookup's answer, kept to settle the reply style.
pub struct Streamed {
    pub matched: Matched,
    negotiation: Negotiation,
    resolved: Resolved,
}

/// The one lookup, for the transport before it reads the body: the matched operation unless
/// the request is something else (a miss, a page, a batch).
pub fn streamed_target(req: &Request) -> Option<Streamed> {
    let negotiation = Negotiation::of(req);
    let n = &negotiation;
    let mut resolved = resolve(req, &n.negotiated.path, &n.query, &[], false);
    let target = std::mem::replace(&mut resolved.target, Target::Preflight);
    match target {
        Target::Op(matched) if !matched.batch => Some(Streamed {
            matched,
            negotiation,
            resolved,
        }),
        _ => None,
    }
}

impl Streamed {
    /// The reply style, settled as dispatch settles it for an operation.
    pub(super) fn into_exchange(self, state: &AppState, req: &Request) -> (Exchange, Matched) {
        let Streamed {
            matched,
            negotiation,
            mut resolved,
        } = self;
        resolved.target = Target::Op(matched.clone());
        let mut exchange = Exchange::new(state.config.wire.casing, req, negotiation, &resolved);
        crate::logging::name_operation(matched.route.request);
        settle_format(&mut exchange, &matched);
        (exchange, matched)
    }
}

/// [`finish`] for a staff operation's reply.
pub(super) fn finish_staff(exchange: &Exchange, response: &mut Response) {
    finish(exchange, false, Surface::Staff, response);
}

/// [`finish`] for a portal operation's whole reply (not a browser page).
pub(super) fn finish_portal(exchange: &Exchange, response: &mut Response) {
    finish(exchange, false, Surface::Portal, response);
}
