//! The portal for browsers: small server-rendered pages that work without JavaScript and load
//! nothing from elsewhere. The first request swaps the token in the URL for an HttpOnly
//! cookie and redirects to the token-free `/portal`, so the token leaves the address bar and
//! history; every later step is a same-origin form post.

use bytes::Bytes;
use hyper::header::{ACCEPT, CONTENT_TYPE, HeaderMap, HeaderValue, LOCATION, ORIGIN, SET_COOKIE};
use hyper::{Method, StatusCode};

use super::flow::{self, Landing, Opening, Verification, escape};
use super::{SESSION_COOKIE, TOKEN_COOKIE, actor, cookie, set_cookie};
use crate::api::error::ApiError;
use crate::api::{Request, Response};
use crate::app::AppState;
use crate::domain::portal::SESSION_TTL_MS;
use crate::wire::form;

const STYLE: &str = include_str!("style.css");

/// The browser routes; `None` when the request is not one of them.
pub async fn handle(state: &AppState, req: &Request) -> Option<Result<Response, ApiError>> {
    let path = req.path.trim_end_matches('/');
    let post = req.method == Method::POST;
    Some(match (req.method.clone(), path) {
        (Method::GET | Method::HEAD, "/portal/style.css") => {
            Ok(raw(StatusCode::OK, "text/css; charset=utf-8", STYLE.into()))
        }
        (Method::GET | Method::HEAD, "/portal") => page(state, req).await,
        (_, "/portal/otp" | "/portal/verify" | "/portal/open") if post => {
            act(state, req, path).await
        }
        (Method::GET | Method::HEAD, p) if wants_html(&req.headers) => {
            let token = p.strip_prefix("/portal/").filter(|t| !t.contains('/'))?;
            Ok(swap_token(state, token))
        }
        _ => return None,
    })
}

fn wants_html(headers: &HeaderMap) -> bool {
    headers
        .get(ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("text/html"))
}

fn secure(state: &AppState) -> bool {
    state.config.public_url.starts_with("https://")
}

/// `GET /portal/{token}` from a browser: keep the token in a cookie, drop it from the URL.
/// Nothing else happens here — mail scanners that fetch the link change no state.
fn swap_token(state: &AppState, token: &str) -> Response {
    let value = form::percent_decode(token).unwrap_or_default();
    let mut r = redirect("/portal");
    let cookie = set_cookie(TOKEN_COOKIE, &value, 24 * 3600, "Lax", secure(state));
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        r.headers.insert(SET_COOKIE, v);
    }
    r
}

async fn page(state: &AppState, req: &Request) -> Result<Response, ApiError> {
    let token = cookie(&req.headers, TOKEN_COOKIE).unwrap_or("");
    let view = flow::landing(
        state,
        token,
        cookie(&req.headers, SESSION_COOKIE),
        &actor(req),
    )?;
    let notice = req.query.as_deref().map(form::pairs).unwrap_or_default();
    let notice = form::get(&notice, "m").unwrap_or("");
    Ok(match view {
        Landing::Unavailable => html(StatusCode::NOT_FOUND, "Link not available", &unavailable()),
        Landing::Available {
            link,
            tenant_name,
            can_view,
            code_sent,
        } => {
            let who = escape(&tenant_name);
            let body = if can_view {
                format!(
                    "<h1>{who} shared {} {} with you</h1>{}<form method=\"post\" action=\"/portal/open\"><button type=\"submit\">Open the {}</button></form><p class=\"small\">Each opening counts as one view ({} of {} used).</p>",
                    article(&link.resource_type),
                    escape(&link.resource_type),
                    notice_html(notice),
                    escape(&link.resource_type),
                    link.view_count,
                    link.max_views
                )
            } else {
                let channel = if link.otp_channel.as_deref() == Some("Sms") {
                    "text message"
                } else {
                    "email"
                };
                let code_form = if code_sent || notice == "sent" || notice == "wrong" {
                    "<form method=\"post\" action=\"/portal/verify\"><label for=\"code\">One-time code</label><input id=\"code\" name=\"Code\" inputmode=\"numeric\" autocomplete=\"one-time-code\" pattern=\"[0-9 -]*\" required autofocus><button type=\"submit\">Verify</button></form>"
                } else {
                    ""
                };
                format!(
                    "<h1>{who} shared something with you</h1><p>To make sure it reaches the right person, we will send a one-time code by {channel}.</p>{}{code_form}<form method=\"post\" action=\"/portal/otp\"><button type=\"submit\" class=\"secondary\">{}</button></form>",
                    notice_html(notice),
                    if code_sent {
                        "Send the code again"
                    } else {
                        "Send me a code"
                    }
                )
            };
            html(StatusCode::OK, &tenant_name, &body)
        }
    })
}

fn notice_html(notice: &str) -> &'static str {
    match notice {
        "sent" => {
            "<p class=\"notice\" role=\"status\">If this link is valid, a code is on its way. You can ask for another in a minute.</p>"
        }
        "wrong" => {
            "<p class=\"error\" role=\"alert\">That code is not valid. Check it, or ask for a new one.</p>"
        }
        "wait" => {
            "<p class=\"error\" role=\"alert\">Too many attempts. Please wait a while and try again.</p>"
        }
        "code" => "<p class=\"error\" role=\"alert\">Please verify the one-time code first.</p>",
        "verified" => "<p class=\"notice\" role=\"status\">Code accepted.</p>",
        _ => "",
    }
}

/// `a` or `an` before a resource type name.
fn article(word: &str) -> &'static str {
    match word.chars().next().map(|c| c.to_ascii_lowercase()) {
        Some('a' | 'e' | 'i' | 'o' | 'u') => "an",
        _ => "a",
    }
}

fn unavailable() -> String {
    "<h1>This link is not available</h1><p>It may have expired or been used up. Ask the sender for a new one.</p>".into()
}

/// The form posts. Refused when the browser says they come from another origin.
async fn act(state: &AppState, req: &Request, path: &str) -> Result<Response, ApiError> {
    if !same_origin(state, &req.headers) {
        return Ok(html(
            StatusCode::FORBIDDEN,
            "Not allowed",
            "<h1>Not allowed</h1><p>This form must be sent from this site. <a href=\"/portal\">Back to your link</a>.</p>",
        ));
    }
    let token = cookie(&req.headers, TOKEN_COOKIE).unwrap_or("").to_owned();
    let session = cookie(&req.headers, SESSION_COOKIE);
    let who = actor(req);
    Ok(match path {
        "/portal/otp" => {
            flow::request_code(state, &token, &who).await?;
            redirect("/portal?m=sent")
        }
        "/portal/verify" => {
            let fields = std::str::from_utf8(&req.body)
                .map(form::pairs)
                .unwrap_or_default();
            let code = form::get(&fields, "Code").unwrap_or("");
            match flow::verify(state, &token, code, &who).await? {
                Verification::Verified { session } => {
                    let mut r = redirect("/portal?m=verified");
                    let cookie = set_cookie(
                        SESSION_COOKIE,
                        &session,
                        SESSION_TTL_MS / 1000,
                        "Strict",
                        secure(state),
                    );
                    if let Ok(v) = HeaderValue::from_str(&cookie) {
                        r.headers.insert(SET_COOKIE, v);
                    }
                    r
                }
                Verification::Wrong => redirect("/portal?m=wrong"),
                Verification::TooMany { .. } => redirect("/portal?m=wait"),
                Verification::Unavailable => redirect("/portal"),
            }
        }
        _ => match flow::open(state, &token, session, &who).await? {
            Opening::Opened {
                target_url: Some(url),
                ..
            } => redirect(&url),
            Opening::Opened {
                target_url: None, ..
            } => html(
                StatusCode::OK,
                "Opened",
                "<h1>Opened</h1><p>The view was counted, but no application is configured to show this kind of resource. Please contact the sender.</p>",
            ),
            Opening::NeedsCode => redirect("/portal?m=code"),
            Opening::Unavailable => redirect("/portal"),
        },
    })
}

/// Whether a form post comes from our own pages. Browsers say so in `Sec-Fetch-Site`; under
/// `Referrer-Policy: no-referrer` they send `Origin: null`, so `Origin` decides only when it
/// names a real origin. Requests without either (non-browser clients) pass.
fn same_origin(state: &AppState, headers: &HeaderMap) -> bool {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(site) = header("sec-fetch-site") {
        return site.eq_ignore_ascii_case("same-origin") || site.eq_ignore_ascii_case("none");
    }
    let Some(origin) = header(ORIGIN.as_str()).filter(|o| *o != "null") else {
        return true;
    };
    let public = &state.config.public_url;
    let public_origin = public
        .find("://")
        .and_then(|i| public[i + 3..].find('/').map(|j| &public[..i + 3 + j]))
        .unwrap_or(public);
    origin.eq_ignore_ascii_case(public_origin)
}

fn redirect(to: &str) -> Response {
    let mut r = raw(
        StatusCode::SEE_OTHER,
        "text/plain; charset=utf-8",
        Bytes::new(),
    );
    if let Ok(v) = HeaderValue::from_str(to) {
        r.headers.insert(LOCATION, v);
    }
    r
}

fn html(status: StatusCode, title: &str, body: &str) -> Response {
    let page = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{}</title><link rel=\"stylesheet\" href=\"/portal/style.css\"></head><body><main>{body}</main></body></html>",
        escape(title)
    );
    raw(status, "text/html; charset=utf-8", page.into())
}

fn raw(status: StatusCode, content_type: &'static str, body: Bytes) -> Response {
    let mut headers = HeaderMap::new();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    Response {
        status,
        reason: None,
        headers,
        body,
    }
}
