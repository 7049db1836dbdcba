//! The portal for browsers: small server-rendered pages that work without JavaScript and load
//! nothing from elsewhere. The first request swaps the token in the URL for an HttpOnly
//! cookie and redirects to the token-free `/portal` (or `/share` for a document share), so
//! the token leaves the address bar and history; every later step is a same-origin form post
//! (a share's download, a same-origin `GET /share/download`).

use bytes::Bytes;
use hyper::header::{
    ACCEPT, ACCEPT_LANGUAGE, CONTENT_TYPE, HeaderMap, HeaderValue, LOCATION, ORIGIN, SET_COOKIE,
};
use hyper::{Method, StatusCode};

use super::flow::{self, Landing, Opening, Verification};
use super::pages::{self, Brand, LinkView};
use super::{Portal, SESSION_COOKIE, TOKEN_COOKIE, Visitor, cookie};
use crate::api::error::ApiError;
use crate::api::{Request, Response};
use crate::domain::catalogue::text;
use crate::domain::locale::Locale;
use crate::domain::policy::Channel;
use crate::domain::portal::SESSION_TTL_MS;
use crate::domain::share::Family;
use crate::wire::form;

const STYLE: &str = include_str!("style.css");

/// A browser route, resolved before anything runs: the surface (`/portal` or `/share`, by
/// the family of tokens it serves) and the step.
#[derive(Debug)]
pub struct Route {
    pub family: Family,
    step: Step,
}

#[derive(Debug)]
enum Step {
    Style,
    Page,
    /// A form post on the current link: `{base}/otp`, `{base}/verify` or `/portal/open`.
    Act(Act),
    /// The confirmation form of [`swap_token`]: replace the current link with another.
    Switch,
    /// `GET {base}/{token}` asking for HTML: the raw (still percent-encoded) token segment.
    Swap(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Act {
    Otp,
    Verify,
    Open,
    Reissue,
}

/// The browser route of a request; `None` when it is not one (exact, lower-case paths: the
/// cookies are scoped to `Path=/portal` or `Path=/share`, which browsers compare
/// case-sensitively). A share's download (`GET /share/download`) is not a page: it streams,
/// through the route table.
pub fn route(req: &Request) -> Option<Route> {
    let path = req.path().trim_end_matches('/');
    let (family, rest) = if let Some(rest) = path.strip_prefix("/portal") {
        (Family::CustomerLink, rest)
    } else {
        (Family::DocumentShare, path.strip_prefix("/share")?)
    };
    let get = req.method == Method::GET || req.method == Method::HEAD;
    let post = req.method == Method::POST;
    let step = match rest {
        "/style.css" if get => Step::Style,
        "" if get => Step::Page,
        "/otp" if post => Step::Act(Act::Otp),
        "/verify" if post => Step::Act(Act::Verify),
        "/open" if post && family == Family::CustomerLink => Step::Act(Act::Open),
        "/reissue" if post => Step::Act(Act::Reissue),
        "/switch" if post => Step::Switch,
        r if get && wants_html(&req.headers) => {
            let token = r.strip_prefix('/').filter(|t| !t.contains('/'))?;
            if family == Family::DocumentShare && token == "download" {
                return None;
            }
            Step::Swap(token.to_owned())
        }
        _ => return None,
    };
    Some(Route { family, step })
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
    /// The browser's language (`Accept-Language`), for pages of links that name none.
    locale: Locale,
}

impl Browser {
    pub fn of(portal: Portal<'_>, req: &Request) -> Browser {
        let query = req.query().map(form::pairs).unwrap_or_default();
        Browser {
            visitor: Visitor::of(req),
            token: cookie(&req.headers, TOKEN_COOKIE).map(str::to_owned),
            same_origin: same_origin(portal, &req.headers),
            user_initiated: user_initiated(&req.headers),
            form: std::str::from_utf8(&req.body)
                .map(form::pairs)
                .unwrap_or_default(),
            notice: form::get(&query, "m").unwrap_or("").to_owned(),
            locale: locale_of(req),
        }
    }
}

/// Answers a browser route, on the surface of the route's family.
pub async fn handle(portal: Portal<'_>, b: Browser, route: Route) -> Result<Response, ApiError> {
    let portal = portal.of(route.family);
    match route.step {
        Step::Style => Ok(raw(StatusCode::OK, "text/css; charset=utf-8", STYLE.into())),
        Step::Page => page(portal, &b).await,
        Step::Act(act) => step(portal, &b, act).await,
        Step::Switch => Ok(switch(portal, &b)),
        Step::Swap(token) => Ok(swap_token(portal, &b, &token)),
    }
}

fn wants_html(headers: &HeaderMap) -> bool {
    headers
        .get(ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("text/html"))
}

/// `GET /portal/{token}` from a browser: keep the token in a cookie, drop it from the URL.
/// Nothing else happens here — mail scanners that fetch the link change no state. Only a
/// well-formed token reaches `Set-Cookie`; anything else is "not available". A navigation the
/// browser does not vouch for as the user's own (`Sec-Fetch-Site` other than `same-origin` or
/// `none`, or absent) may not replace a different link's cookie: it gets a same-origin
/// confirmation form instead, so another site cannot swap the recipient's open link.
fn swap_token(portal: Portal<'_>, b: &Browser, raw_token: &str) -> Response {
    let decoded = form::percent_decode(raw_token).unwrap_or_default();
    let Some(token) = well_formed(&decoded) else {
        return unavailable(portal, b.locale, "");
    };
    let current = b.token.as_deref();
    if current.is_some_and(|c| c != token) && !b.user_initiated {
        let form = pages::confirm_switch(b.locale, portal.base(), token);
        return plain_page(StatusCode::OK, b.locale, "page.switch.title", form);
    }
    with_token_cookie(portal, redirect(portal.base()), token)
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

/// `POST /portal/switch` from the confirmation form: same-origin only, well-formed only.
fn switch(portal: Portal<'_>, b: &Browser) -> Response {
    if !b.same_origin {
        return not_allowed(portal, b.locale);
    }
    match form::get(&b.form, "Token").and_then(well_formed) {
        Some(token) => with_token_cookie(portal, redirect(portal.base()), token),
        None => unavailable(portal, b.locale, ""),
    }
}

/// Adds the token cookie; `token` must be well-formed (it is written into `Set-Cookie`).
fn with_token_cookie(portal: Portal<'_>, mut r: Response, token: &str) -> Response {
    let cookie = portal.cookie(TOKEN_COOKIE, token, 24 * 3600, "Lax");
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        r.headers.insert(SET_COOKIE, v);
    }
    r
}

/// A form post (or a share's download) from another origin, in the browser's language.
pub fn not_allowed(portal: Portal<'_>, locale: Locale) -> Response {
    let body = pages::not_allowed(locale, portal.base());
    plain_page(
        StatusCode::FORBIDDEN,
        locale,
        "page.not_allowed.title",
        body,
    )
}

/// The one page of every unusable link.
fn unavailable(portal: Portal<'_>, locale: Locale, notice: &str) -> Response {
    let body = pages::unavailable(locale, portal.base(), notice);
    plain_page(
        StatusCode::NOT_FOUND,
        locale,
        "page.unavailable.title",
        body,
    )
}

/// The browser's language of a request (a share's download answers in it).
pub fn locale_of(req: &Request) -> Locale {
    Locale::negotiate(
        req.headers
            .get(ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok()),
    )
}

async fn page(portal: Portal<'_>, b: &Browser) -> Result<Response, ApiError> {
    let token = b.token.as_deref().unwrap_or("");
    let (session, who) = (b.visitor.session(), &b.visitor.actor);
    let (view, document) = match portal.family {
        Family::CustomerLink => (flow::landing(portal, token, session, who).await?, None),
        Family::DocumentShare => {
            let landing = crate::api::share::landing(portal, token, session, who).await?;
            (landing.view, landing.document)
        }
    };
    let Landing::Available {
        link,
        tenant_name,
        can_view,
        code_sent,
    } = view
    else {
        return Ok(unavailable(portal, b.locale, &b.notice));
    };
    let locale = link.locale.unwrap_or(b.locale);
    let notice = b.notice.as_str();
    let body = if !can_view {
        let channel = if link.otp_channel == Some(Channel::Sms) {
            "channel.sms"
        } else {
            "channel.email"
        };
        let code_form = code_sent || notice == "sent" || notice == "wrong";
        let shown = pages::CodeView {
            base: portal.base(),
            tenant_name: &tenant_name,
            channel,
        };
        pages::needs_code(locale, &shown, notice, code_form, code_sent)
    } else {
        let view = LinkView {
            tenant_name: &tenant_name,
            resource_type: &link.resource_type,
            view_count: link.view_count,
            max_views: link.max_views,
        };
        let ready = match document {
            Some(name) => pages::document_ready(locale, &view, &name, notice),
            None => pages::can_view(locale, &view, notice),
        };
        pages::with_expiry(locale, ready, &locale.format_time(link.expires_at))
    };
    let brand = super::brand::of(portal.store, link.tenant_id, locale, &tenant_name).await?;
    let page = pages::document(locale, &tenant_name, &brand, body);
    Ok(raw(StatusCode::OK, "text/html; charset=utf-8", page.into()))
}

/// The form posts. Refused when the browser says they come from another origin.
async fn step(portal: Portal<'_>, b: &Browser, act: Act) -> Result<Response, ApiError> {
    if !b.same_origin {
        return Ok(not_allowed(portal, b.locale));
    }
    let token = b.token.clone().unwrap_or_default();
    let who = &b.visitor.actor;
    let back = |notice: &str| redirect(&format!("{}?m={notice}", portal.base()));
    Ok(match act {
        Act::Otp => {
            flow::request_code(portal, &token, who).await?;
            back("sent")
        }
        Act::Verify => {
            let code = form::get(&b.form, "Code").unwrap_or("");
            match flow::verify(portal, &token, code, who).await? {
                Verification::Verified { session } => {
                    let mut r = back("verified");
                    let ttl = SESSION_TTL_MS / 1000;
                    let cookie = portal.cookie(SESSION_COOKIE, &session, ttl, "Strict");
                    if let Ok(v) = HeaderValue::from_str(&cookie) {
                        r.headers.insert(SET_COOKIE, v);
                    }
                    r
                }
                Verification::Wrong => back("wrong"),
                Verification::TooMany { .. } => back("wait"),
                Verification::Unavailable => redirect(portal.base()),
            }
        }
        Act::Open => match flow::open(portal, &token, b.visitor.session(), who).await? {
            Opening::Opened {
                target_url: Some(url),
                ..
            } => redirect(&url),
            Opening::Opened {
                target_url: None, ..
            } => {
                let body = pages::opened_nowhere(b.locale);
                plain_page(StatusCode::OK, b.locale, "page.opened.title", body)
            }
            Opening::NeedsCode => back("code"),
            Opening::Unavailable => redirect(portal.base()),
        },
        Act::Reissue => {
            super::reissue::request(portal, &token, who);
            back("reissue")
        }
    })
}

/// Whether a form post comes from our own pages. Browsers say so in `Sec-Fetch-Site`; under
/// `Referrer-Policy: no-referrer` they send `Origin: null`, so `Origin` decides only when it
/// names a real origin. Requests without either (non-browser clients) pass.
pub fn same_origin(portal: Portal<'_>, headers: &HeaderMap) -> bool {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(site) = header("sec-fetch-site") {
        return site.eq_ignore_ascii_case("same-origin") || site.eq_ignore_ascii_case("none");
    }
    let Some(origin) = header(ORIGIN.as_str()).filter(|o| *o != "null") else {
        return true;
    };
    crate::config::same_origin(origin, portal.public_url)
}

/// A 303 to `to` (a same-origin path).
pub fn redirect(to: &str) -> Response {
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

/// A page without a tenant's branding, titled by the catalogue's `title_key`.
fn plain_page(
    status: StatusCode,
    locale: Locale,
    title_key: &'static str,
    body: maud::Markup,
) -> Response {
    let page = pages::document(locale, text(locale, title_key), &Brand::default(), body);
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
