//! `GET /share/{Token}/download` (and the browser's token-free `GET /share/download`):
//! streams the shared file, counting one view atomically through the portal's own open (the
//! `OpenLink` command), after the passcode where the tier requires it.
//!
//! Views count per download, not per range: the open's hand-off grant comes back as a
//! short-lived download cookie ([`DOWNLOAD_COOKIE`], path `/share`, for the grant's lifetime,
//! [`GRANT_TTL_MS`]); a request carrying an unexpired grant of this share, still backed by
//! it (not revoked, not expired, token not replaced), is served without counting again, even
//! once the share's last view is used — that is how a download that was started completes.
//! A request without one counts a view. Unknown, revoked, expired, exhausted and locked
//! shares, and shares whose file is gone, all answer alike.

use hyper::StatusCode;
use hyper::header::{ACCEPT_RANGES, CONTENT_LENGTH, CONTENT_RANGE, HeaderValue, RANGE, SET_COOKIE};

use super::{attachment_of, unavailable};
use crate::api::attachment::{self, Answer};
use crate::api::dispatch::portal_headers;
use crate::api::dto::ShareLandingResponse;
use crate::api::error::ApiError;
use crate::api::portal::api::with_status;
use crate::api::portal::flow::{self, Opening};
use crate::api::portal::{Portal, TOKEN_COOKIE, Visitor, cookie, html};
use crate::api::routes::Matched;
use crate::api::{AppState, Request, Response, header, respond};
use crate::attachment::range::{self, Ask, Span};
use crate::domain::UnixMillis;
use crate::domain::attachment::AttachmentRecord;
use crate::domain::link::{LinkRecord, LinkStatus};
use crate::domain::portal::{GRANT_TTL_MS, parse_grant, session_is_valid};
use crate::domain::token::LinkToken;
use crate::store::queries::{GrantOf, LinkByToken};
use crate::wire::encode::Style;
use crate::wire::form;

/// Cookie that carries the grant of the download in progress (see the module docs).
pub const DOWNLOAD_COOKIE: &str = "cl_d";

/// What a download request comes to.
enum Served {
    Unavailable,
    NeedsCode,
    /// The span asked misses the file (416), said only to a recipient who may download.
    Unsatisfiable(u64),
    File {
        record: Box<AttachmentRecord>,
        ask: Ask,
        /// A new grant (a counted view) to set as the download cookie.
        grant: Option<String>,
    },
}

/// Runs a download: the file streamed, or a whole reply (an API caller's 404/403/416 in the
/// negotiated format; a browser's redirect back to its page).
pub async fn run(
    state: &AppState,
    req: &Request,
    matched: &Matched,
    style: &Style,
) -> Result<Answer, ApiError> {
    if req.method == hyper::Method::HEAD {
        // A HEAD would count a view for nothing; nothing else answers one here.
        return Err(ApiError::MethodNotAllowed {
            method: "HEAD".into(),
            operation: matched.route.request.to_owned(),
        });
    }
    let portal = Portal::from(state).of(matched.route.op.family());
    // A token in the path or query is an API call; none is the browser's token-free
    // `/share/download`, whose token is the cookie the landing set.
    let named = token_of(req, matched);
    let browser = named.is_none();
    if browser && !html::same_origin(portal, &req.headers) {
        return Ok(Answer::Whole(html::not_allowed(
            portal,
            html::locale_of(req),
        )));
    }
    let token = named.or_else(|| cookie(&req.headers, TOKEN_COOKIE).map(str::to_owned));
    let visitor = Visitor::of(req);
    let served = serve(portal, req, &token.unwrap_or_default(), &visitor).await?;
    match served {
        Served::File { record, ask, grant } => file(portal, state, &record, ask, grant).await,
        refused if browser => Ok(Answer::Whole(back(portal, &refused))),
        refused => Ok(Answer::Whole(refusal(&refused, style)?)),
    }
}

/// The token of an API request: the path's, else the query's (`/api/ShareDownloadRequest`).
fn token_of(req: &Request, matched: &Matched) -> Option<String> {
    let named = |pairs: &[(String, String)]| form::get(pairs, "Token").map(str::to_owned);
    named(&matched.vars).or_else(|| named(&form::pairs(req.query().unwrap_or(""))))
}

/// Decides the download: the one store read of the link; a dead share (without the grant of
/// a download in progress) ends there, like an unknown token, its denied open logged in the
/// landing log's next batch as the portal's are. Then its file, and either the grant or the
/// portal's open (which counts the view).
async fn serve(
    portal: Portal<'_>,
    req: &Request,
    token: &str,
    visitor: &Visitor,
) -> Result<Served, ApiError> {
    let Some(hash) = LinkToken::parse(token).map(|t| portal.keys.token(portal.family, &t)) else {
        return Ok(Served::Unavailable);
    };
    let Some(link) = portal.store.fetch(LinkByToken(hash)).await? else {
        return Ok(Served::Unavailable);
    };
    let now = portal.clock.now();
    let granted = granted(portal, &link, cookie(&req.headers, DOWNLOAD_COOKIE), now).await?;
    let status = link.status(now);
    if !granted && status != LinkStatus::Active {
        flow::deny_later(portal, &link, status.as_str(), &visitor.actor, now);
        return Ok(Served::Unavailable);
    }
    let Some(record) = attachment_of(portal.store, &link).await? else {
        return Ok(Served::Unavailable);
    };
    let (ask, record) = (
        range::ask(header(&req.headers, RANGE), record.size),
        Box::new(record),
    );
    if ask == Ask::Unsatisfiable {
        return Ok(unsatisfiable(portal, &link, granted, visitor, record.size));
    }
    if granted {
        let grant = None;
        return Ok(Served::File { record, ask, grant });
    }
    let opened = flow::open(portal, token, visitor.session(), &visitor.actor).await?;
    Ok(match opened {
        Opening::Opened { grant, .. } => Served::File {
            record,
            ask,
            grant: Some(grant.expose().clone()),
        },
        Opening::NeedsCode => Served::NeedsCode,
        Opening::Unavailable => Served::Unavailable,
    })
}

/// A span that misses the file (416), said only to whom may download (the size it tells is
/// the file's): a download in progress, or a verified session where the tier needs one. No
/// view is counted.
fn unsatisfiable(
    portal: Portal<'_>,
    link: &LinkRecord,
    granted: bool,
    visitor: &Visitor,
    size: u64,
) -> Served {
    let now = portal.clock.now();
    let verified = visitor
        .session()
        .is_some_and(|s| session_is_valid(portal.keys, link, s, now));
    if granted || !link.require_otp || verified {
        Served::Unsatisfiable(size)
    } else {
        Served::NeedsCode
    }
}

/// Whether the download cookie holds an unexpired grant of this share that it still backs
/// (one more read, only when the request carries such a cookie).
async fn granted(
    portal: Portal<'_>,
    link: &LinkRecord,
    grant: Option<&str>,
    now: UnixMillis,
) -> Result<bool, ApiError> {
    let Some(bytes) = grant.and_then(parse_grant) else {
        return Ok(false);
    };
    let hash = portal.keys.grant(&bytes);
    let Some(record) = portal.store.fetch(GrantOf(hash)).await? else {
        return Ok(false);
    };
    Ok(record.link_uid == link.uid
        && now < record.expires_at
        && record.is_backed_by(Some(link), now))
}

/// The file (or its span): the portal's headers, then the file's own (attachment
/// disposition, sniffed type or `application/octet-stream`, `nosniff`, `no-store`, a
/// sandbox), `Accept-Ranges`, and the download cookie when this request counted the view.
async fn file(
    portal: Portal<'_>,
    state: &AppState,
    record: &AttachmentRecord,
    ask: Ask,
    grant: Option<String>,
) -> Result<Answer, ApiError> {
    let (status, span) = match ask {
        Ask::Part(span) => (StatusCode::PARTIAL_CONTENT, span),
        _ => (StatusCode::OK, Span::whole(record.size)),
    };
    let mut headers = hyper::HeaderMap::new();
    portal_headers(&mut headers);
    headers.extend(attachment::file_headers(record));
    headers.insert(ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    headers.insert(CONTENT_LENGTH, HeaderValue::from(span.len()));
    let content_range = HeaderValue::from_str(&span.content_range(record.size));
    if let (StatusCode::PARTIAL_CONTENT, Ok(v)) = (status, content_range) {
        headers.insert(CONTENT_RANGE, v);
    }
    if let Some(grant) = grant {
        let cookie = portal.cookie(DOWNLOAD_COOKIE, &grant, GRANT_TTL_MS / 1000, "Lax");
        if let Ok(v) = HeaderValue::from_str(&cookie) {
            headers.insert(SET_COOKIE, v);
        }
    }
    let chunks = attachment::stream(&state.store, &state.keys, record, span).await?;
    Ok(Answer::File {
        status,
        headers,
        chunks,
    })
}

/// An API caller's refusal: the landing's "unavailable" (404), "code required" (403), or a
/// 416 naming the file's size.
fn refusal(served: &Served, style: &Style) -> Result<Response, ApiError> {
    let (status, body) = match served {
        Served::NeedsCode => (
            StatusCode::FORBIDDEN,
            ShareLandingResponse {
                Status: "CodeRequired".into(),
                RequireOtp: true,
                Message: Some("Verify the one-time code first.".into()),
                ..Default::default()
            },
        ),
        Served::Unsatisfiable(_) => (
            StatusCode::RANGE_NOT_SATISFIABLE,
            ShareLandingResponse {
                Status: "RangeNotSatisfiable".into(),
                CanView: true,
                Message: Some("The requested range is outside the file.".into()),
                ..Default::default()
            },
        ),
        _ => (StatusCode::NOT_FOUND, unavailable()),
    };
    let mut response = with_status(respond(&body, style)?, status);
    if let Served::Unsatisfiable(size) = served {
        if let Ok(v) = HeaderValue::from_str(&format!("bytes */{size}")) {
            response.headers.insert(CONTENT_RANGE, v);
        }
        response
            .headers
            .insert(ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    }
    Ok(response)
}

/// A browser's refusal: back to its page, which says why (or that the share is gone).
fn back(portal: Portal<'_>, served: &Served) -> Response {
    match served {
        Served::NeedsCode => html::redirect(&format!("{}?m=code", portal.base())),
        _ => html::redirect(portal.base()),
    }
}
