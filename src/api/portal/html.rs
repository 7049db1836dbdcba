//! The portal for browsers: small server-rendered pages that work without JavaScript and load
//! nothing from elsewhere. The first request swaps the token in the URL for an HttpOnly
//! cookie and redirects to the token-free `/portal`, so the token leaves the address bar and
//! history; every later step is a same-origin form post.

use bytes::Bytes;
use hyper::header::{ACCEPT, CONTENT_TYPE, HeaderMap, HeaderValue, LOCATION, ORIGIN, SET_COOKIE};
use hyper::{Method, StatusCode};

use super::flow::{self, Landing, Opening, Verification, escape};
use super::{SESSION_COOKIE, TOKEN_COOKIE, Visitor, cookie, set_cookie};
use crate::api::error::ApiError;
use crate::api::{Request, Response};
use crate::app::AppState;
use crate::domain::portal::SESSION_TTL_MS;
use crate::wire::form;

const STYLE: &str = include_str!("style.css");

/// A browser route, resolved before anything runs (these are all portal routes).
#[derive(Debug)]
pub enum Route {
    Style,
    Page,
    /// A form post on the current link: `/portal/otp`, `/portal/verify` or `/portal/open`.
    Act(&'static str),
    /// The confirmation form of [`swap_token`]: replace the current link with another.
    Switch,
    /// `GET /portal/{token}` asking for HTML: the raw (still percent-encoded) token segment.
    Swap(String),
}

/// The browser route of a request; `None` when it is not one (exact, lower-case paths: the
/// cookies are scoped to `Path=/portal`, which browsers compare case-sensitively).
pub fn route(req: &Request) -> Option<Route> {
    let path = req.path.trim_end_matches('/');
    let get = req.method == Method::GET || req.method == Method::HEAD;
    let post = req.method == Method::POST;
    match path {
        "/portal/style.css" if get => Some(Route::Style),
        "/portal" if get => Some(Route::Page),
        "/portal/otp" if post => Some(Route::Act("/portal/otp")),
        "/portal/verify" if post => Some(Route::Act("/portal/verify")),
        "/portal/open" if post => Some(Route::Act("/portal/open")),
        "/portal/switch" if post => Some(Route::Switch),
        p if get && wants_html(&req.headers) => {
            let token = p.strip_prefix("/portal/").filter(|t| !t.contains('/'))?;
            Some(Route::Swap(token.to_owned()))
        }
        _ => None,
    }
}

/// What a browser page may know of its request, typed (never the raw request): who asks,
/// the link cookie, whether the browser vouches for the request, the posted form fields and
/// the notice the previous step left in the query.
#[derive(Debug)]
pub struct Browser {
    visitor: Visitor,
    token: Option<String>,
    same_origin: bool,
    user_initiated: bool,
    form: Vec<(String, String)>,
    notice: String,
}

impl Browser {
    pub fn of(state: &AppState, req: &Request) -> Browser {
        let query = req.query.as_deref().map(form::pairs).unwrap_or_default();
        Browser {
            visitor: Visitor::of(req),
            token: cookie(&req.headers, TOKEN_COOKIE).map(str::to_owned),
            same_origin: same_origin(state, &req.headers),
            user_initiated: user_initiated(&req.headers),
            form: std::str::from_utf8(&req.body)
                .map(form::pairs)
                .unwrap_or_default(),
            notice: form::get(&query, "m").unwrap_or("").to_owned(),
        }
    }
}

/// Answers a browser route.
pub async fn handle(state: &AppState, b: Browser, route: Route) -> Result<Response, ApiError> {
    match route {
        Route::Style => Ok(raw(StatusCode::OK, "text/css; charset=utf-8", STYLE.into())),
        Route::Page => page(state, &b).await,
        Route::Act(path) => act(state, &b, path).await,
        Route::Switch => Ok(switch(state, &b)),
        Route::Swap(token) => Ok(swap_token(state, &b, &token)),
    }
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
/// Nothing else happens here — mail scanners that fetch the link change no state. Only a
/// well-formed token reaches `Set-Cookie`; anything else is "not available". A navigation the
/// browser does not vouch for as the user's own (`Sec-Fetch-Site` other than `same-origin` or
/// `none`, or absent) may not replace a different link's cookie: it gets a same-origin
/// confirmation form instead, so another site cannot swap the recipient's open link.
fn swap_token(state: &AppState, b: &Browser, raw_token: &str) -> Response {
    let decoded = form::percent_decode(raw_token).unwrap_or_default();
    let Some(token) = well_formed(&decoded) else {
        return html(StatusCode::NOT_FOUND, "Link not available", &unavailable());
    };
    let current = b.token.as_deref();
    if current.is_some_and(|c| c != token) && !b.user_initiated {
        return confirm_switch(token);
    }
    with_token_cookie(state, redirect("/portal"), token)
}

/// The text when it is a link token's URL form (length and alphabet), else `None`.
fn well_formed(text: &str) -> Option<&str> {
    crate::domain::token::LinkToken::parse(text).map(|_| text)
}

/// Whether the browser says the navigation was the user's own: typed, bookmarked
/// (`Sec-Fetch-Site: none`) or from our own pages (`same-origin`).
fn user_initiated(headers: &HeaderMap) -> bool {
    headers
        .get("sec-fetch-site")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|s| s.eq_ignore_ascii_case("same-origin") || s.eq_ignore_ascii_case("none"))
}

fn confirm_switch(token: &str) -> Response {
    let body = format!(
        "<h1>You have another link open</h1><p>Continue with this one? The link you had open stays valid; you can open it again from its message.</p><form method=\"post\" action=\"/portal/switch\"><input type=\"hidden\" name=\"Token\" value=\"{}\"><button type=\"submit\">Continue with this link</button></form><p class=\"small\"><a href=\"/portal\">Back to the link you had open</a></p>",
        escape(token)
    );
    html(StatusCode::OK, "Another link", &body)
}

/// `POST /portal/switch` from the confirmation form: same-origin only, well-formed only.
fn switch(state: &AppState, b: &Browser) -> Response {
    if !b.same_origin {
        return not_allowed();
    }
    match form::get(&b.form, "Token").and_then(well_formed) {
        Some(token) => with_token_cookie(state, redirect("/portal"), token),
        None => html(StatusCode::NOT_FOUND, "Link not available", &unavailable()),
    }
}

/// Adds the token cookie; `token` must be well-formed (it is written into `Set-Cookie`).
fn with_token_cookie(state: &AppState, mut r: Response, token: &str) -> Response {
    let cookie = set_cookie(TOKEN_COOKIE, token, 24 * 3600, "Lax", secure(state));
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        r.headers.insert(SET_COOKIE, v);
    }
    r
}

fn not_allowed() -> Response {
    html(
        StatusCode::FORBIDDEN,
        "Not allowed",
        "<h1>Not allowed</h1><p>This form must be sent from this site. <a href=\"/portal\">Back to your link</a>.</p>",
    )
}

async fn page(state: &AppState, b: &Browser) -> Result<Response, ApiError> {
    let token = b.token.as_deref().unwrap_or("");
    let view = flow::landing(state, token, b.visitor.session(), &b.visitor.actor)?;
    let notice = b.notice.as_str();
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
async fn act(state: &AppState, b: &Browser, path: &str) -> Result<Response, ApiError> {
    if !b.same_origin {
        return Ok(not_allowed());
    }
    let token = b.token.clone().unwrap_or_default();
    let session = b.visitor.session();
    let who = &b.visitor.actor;
    Ok(match path {
        "/portal/otp" => {
            flow::request_code(state, &token, who).await?;
            redirect("/portal?m=sent")
        }
        "/portal/verify" => {
            let code = form::get(&b.form, "Code").unwrap_or("");
            match flow::verify(state, &token, code, who).await? {
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
        _ => match flow::open(state, &token, session, who).await? {
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
