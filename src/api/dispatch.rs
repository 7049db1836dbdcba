//! Dispatch: each request is looked up once ([`resolve`]) and what it resolves to decides
//! everything that follows — the edge policy (portal limit and headers), the handler the route
//! row holds, the error's response-DTO root and the label metrics and logs name it by.

use bytes::Bytes;
use hyper::StatusCode;
use hyper::header::{CONTENT_TYPE, HeaderMap, HeaderValue};

use super::body;
use super::error::ApiError;
use super::exchange::Exchange;
use super::handler::{Call, Dto, Handler, PortalCall, StaffCall, StaffFn};
use super::portal::{Visitor, html};
use super::respond::error_response;
use super::routes::{self, Matched, Miss, Op, Surface};
use super::{Request, Response, auth, batch, header};
use crate::app::AppState;
use crate::domain::tenant::StaffCaller;
use crate::wire::casing::Casing;
use crate::wire::negotiate::Decided;
use crate::wire::{self, Format};

/// What a request resolves to.
#[derive(Debug)]
pub(super) enum Target {
    /// A browser page of the portal.
    Page(html::Route),
    /// `OPTIONS` (a CORS preflight), by any method override.
    Preflight,
    /// `GET /openapi.json`.
    OpenApi,
    /// An operation of the route table.
    Op(Matched),
    Miss(Miss),
}

/// One lookup of a request: its target, the effective method (after `X-Http-Method-Override`)
/// and the edge policy of what its path reaches.
#[derive(Debug)]
pub(super) struct Resolved {
    pub target: Target,
    pub method: String,
    pub surface: Surface,
}

impl Resolved {
    /// The name metrics and logs give the request: a closed set (no path text ever becomes a
    /// label), so series stay bounded and no token in a path reaches a log.
    pub fn label(&self) -> &'static str {
        match &self.target {
            Target::Page(_) => "PortalPage",
            Target::Preflight => "Preflight",
            Target::OpenApi => "OpenApi",
            Target::Op(m) => m.route.request,
            Target::Miss(Miss::WrongVerb(_)) => "WrongVerb",
            Target::Miss(Miss::NotFound) => "NotFound",
        }
    }
}

/// Looks a request up once: a browser page (by the real method), else by the effective method
/// a preflight, the OpenAPI document or the route table's operation. The surface is the one of
/// the operation the path reaches by any verb (so a wrong verb keeps its path's policy).
pub(super) fn resolve(
    req: &Request,
    path: &str,
    query: &[(String, String)],
    form: &[(String, String)],
) -> Resolved {
    let method = effective_method(req, query, form);
    if let Some(route) = html::route(req) {
        let target = Target::Page(route);
        return Resolved {
            target,
            method,
            surface: Surface::Portal,
        };
    }
    let verb = if method == "HEAD" {
        "GET"
    } else {
        method.as_str()
    };
    let lookup = routes::lookup(verb, path);
    let surface = lookup.at.map_or(Surface::Staff, Op::surface);
    let target = if method == "OPTIONS" {
        Target::Preflight
    } else if verb == "GET" && req.path.eq_ignore_ascii_case("/openapi.json") {
        Target::OpenApi
    } else {
        lookup.found.map_or_else(Target::Miss, Target::Op)
    };
    Resolved {
        target,
        method,
        surface,
    }
}

/// Answers one request, and names it for metrics; never fails (errors become error responses).
pub async fn handle(state: &AppState, req: &Request) -> (Response, &'static str) {
    let mut exchange = Exchange::new(state, req);
    let form = body::form_fields(req);
    let resolved = resolve(req, &exchange.path, &exchange.query, &form);
    let label = resolved.label();
    tracing::Span::current().record("op", label);
    let surface = resolved.surface;
    let page = matches!(resolved.target, Target::Page(_));
    let outcome = if surface == Surface::Portal && !portal_budget(state, req) {
        Err(too_many(state))
    } else {
        run(state, req, &mut exchange, resolved, form).await
    };
    let mut response = outcome.unwrap_or_else(|e| error_response(&e, &exchange.style));
    finish(&exchange, page, surface, &mut response);
    (response, label)
}

/// An error found before the request was read (e.g. a body over the limit), in the format the
/// request negotiated, as the error of the operation the request is addressed to.
pub fn reject(state: &AppState, req: &Request, e: &ApiError) -> (Response, &'static str) {
    let mut exchange = Exchange::new(state, req);
    let resolved = resolve(req, &exchange.path, &exchange.query, &[]);
    if let Target::Op(matched) = &resolved.target {
        exchange.style.operation = matched.route.request;
    }
    let mut response = error_response(e, &exchange.style);
    let page = matches!(resolved.target, Target::Page(_));
    finish(&exchange, page, resolved.surface, &mut response);
    (response, resolved.label())
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

/// Runs what the request resolved to.
async fn run(
    state: &AppState,
    req: &Request,
    exchange: &mut Exchange,
    resolved: Resolved,
    form: Vec<(String, String)>,
) -> Result<Response, ApiError> {
    match resolved.target {
        Target::Page(route) => html::handle(state, html::Browser::of(state, req), route).await,
        Target::Preflight => Ok(plain(HeaderMap::new(), Bytes::new())),
        Target::OpenApi => {
            exchange.vary_accept = false;
            let mut headers = HeaderMap::new();
            let json = HeaderValue::from_static(Format::Json.content_type());
            headers.insert(CONTENT_TYPE, json);
            Ok(plain(headers, state.openapi.clone()))
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
        return batch::run(state, req, matched, body, style, |pin| {
            rule.decide(pin, sent)
        })
        .await;
    }
    let call = Call {
        matched,
        body,
        query,
    };
    match call.matched.route.handler {
        Handler::Portal(run) => {
            let visitor = Visitor::of(req);
            run(PortalCall {
                state,
                visitor,
                style,
                call,
            })
            .await
        }
        Handler::Staff(_, run) => {
            let caller = auth::authenticate(state, &req.headers, call.matched.route.op)?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use hyper::Method;

    fn request(method: Method, path: &str, headers: &[(&'static str, &'static str)]) -> Request {
        let mut map = HeaderMap::new();
        for (name, value) in headers {
            map.insert(*name, HeaderValue::from_static(value));
        }
        Request {
            method,
            path: path.into(),
            query: None,
            headers: map,
            body: Bytes::new(),
            remote: None,
        }
    }

    fn resolved(req: &Request, form: &[(String, String)]) -> Resolved {
        resolve(req, &req.path, &[], form)
    }

    #[test]
    fn the_label_is_what_dispatch_runs_after_the_method_override() {
        let over = [("x-http-method-override", "get")];
        let r = resolved(&request(Method::POST, "/v1/customerlink", &over), &[]);
        assert_eq!(
            (r.label(), r.method.as_str()),
            ("CustomerLinkQueryRequest", "GET")
        );
        let form = [("X-Http-Method-Override".to_owned(), "DELETE".to_owned())];
        let r = resolved(&request(Method::POST, "/v1/customerlink/abc", &[]), &form);
        assert_eq!(r.label(), "CustomerLinkRevokeRequest");
        let r = resolved(&request(Method::HEAD, "/v1/customerlink/abc", &[]), &[]);
        assert_eq!(r.label(), "CustomerLinkRequest");
        let preflight = [("x-http-method-override", "OPTIONS")];
        let r = resolved(&request(Method::POST, "/v1/customerlink", &preflight), &[]);
        assert_eq!(r.label(), "Preflight");
    }

    #[test]
    fn pages_misses_and_fixed_names() {
        let html = [("accept", "text/html")];
        let cases = [
            (
                Method::GET,
                "/portal",
                &[][..],
                "PortalPage",
                Surface::Portal,
            ),
            (
                Method::GET,
                "/portal/t",
                &html[..],
                "PortalPage",
                Surface::Portal,
            ),
            (
                Method::GET,
                "/portal/t",
                &[][..],
                "PortalLandingRequest",
                Surface::Portal,
            ),
            (
                Method::OPTIONS,
                "/portal/t/otp",
                &[][..],
                "Preflight",
                Surface::Portal,
            ),
            (
                Method::PATCH,
                "/portal/t/open",
                &[][..],
                "WrongVerb",
                Surface::Portal,
            ),
            (
                Method::PATCH,
                "/v1/customerlink",
                &[][..],
                "WrongVerb",
                Surface::Staff,
            ),
            (
                Method::GET,
                "/nope/secret-looking",
                &[][..],
                "NotFound",
                Surface::Staff,
            ),
            (
                Method::GET,
                "/OpenAPI.json",
                &[][..],
                "OpenApi",
                Surface::Staff,
            ),
        ];
        for (method, path, headers, label, surface) in cases {
            let r = resolved(&request(method, path, headers), &[]);
            assert_eq!((r.label(), r.surface), (label, surface), "{path}");
        }
    }
}
