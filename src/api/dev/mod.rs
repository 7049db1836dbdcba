//! Development mode's own pages: `GET /dev/mailbox` (the messages the dev mailbox kept,
//! newest first) and `GET /dev/resource` (a stand-in resource application: it exchanges the
//! grant it is handed through the same exchange as `POST /v1/customerlink/grant/introspect`
//! and shows what a real application would receive). They exist only in dev mode: the lookup
//! resolves them only then, so otherwise they are unknown routes like any other. HTML by
//! default; the usual negotiation (`.json`, `?format=json`, an `Accept` without `text/html`)
//! gives the same data as a DTO in any wire format.

mod pages;

use bytes::Bytes;
use hyper::StatusCode;
use hyper::header::{ACCEPT, CONTENT_TYPE, HeaderMap, HeaderValue};
use schemars::JsonSchema;
use serde::Serialize;

use super::dto::GrantIntrospectResponse;
use super::error::ApiError;
use super::{AppState, Request, Response, header, respond};
use crate::domain::TenantId;
use crate::wire::encode::Style;
use crate::wire::form;
use crate::wire::negotiate::Decided;
use crate::wire::types::UtcDateTime;

/// A dev-mode page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Page {
    Mailbox,
    Resource,
}

impl Page {
    /// The page at `path` (format suffix already removed) for a `GET`, in dev mode only.
    pub fn at(dev: bool, verb: &str, path: &str) -> Option<Page> {
        if !dev || verb != "GET" {
            return None;
        }
        match path.trim_end_matches('/') {
            "/dev/mailbox" => Some(Page::Mailbox),
            "/dev/resource" => Some(Page::Resource),
            _ => None,
        }
    }

    /// The name metrics and logs give the request.
    pub fn label(self) -> &'static str {
        match self {
            Page::Mailbox => "DevMailbox",
            Page::Resource => "DevResource",
        }
    }
}

/// `GET /dev/mailbox` as data.
#[derive(Debug, Clone, Default, Serialize, JsonSchema)]
#[allow(non_snake_case, reason = "wire member names")]
pub struct DevMailboxResponse {
    pub Messages: Vec<DevMailboxMessage>,
}

/// One kept message, with the URLs its text holds.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[allow(non_snake_case, reason = "wire member names")]
pub struct DevMailboxMessage {
    pub Id: u64,
    pub SentAtUtc: UtcDateTime,
    pub Channel: String,
    pub To: String,
    pub Subject: String,
    pub Text: String,
    pub Links: Vec<String>,
}

/// Answers a dev page: HTML, or the DTO in the negotiated format, with the portal's
/// security headers (the pages hold live links).
pub async fn handle(
    state: &AppState,
    req: &Request,
    decided_by: Decided,
    style: &Style,
    page: Page,
) -> Result<Response, ApiError> {
    let mut response = answer(state, req, decided_by, style, page).await?;
    super::dispatch::portal_headers(&mut response.headers);
    Ok(response)
}

/// The page's answer. Polling it is not a recipient's request: no portal budget is spent.
async fn answer(
    state: &AppState,
    req: &Request,
    decided_by: Decided,
    style: &Style,
    page: Page,
) -> Result<Response, ApiError> {
    let html = wants_html(req, decided_by);
    match page {
        Page::Mailbox => {
            let listing = mailbox(state).await?;
            if html {
                return Ok(html_response(pages::mailbox(&listing.Messages)));
            }
            respond(&listing, style)
        }
        Page::Resource => {
            let query = req.query().map(form::pairs).unwrap_or_default();
            let grant = form::get(&query, "grant").unwrap_or("");
            let tenant = form::get(&query, "tenant").and_then(|t| t.parse::<uuid::Uuid>().ok());
            let received = match tenant {
                Some(tenant) => exchange(state, tenant, grant).await?,
                None => GrantIntrospectResponse::default(),
            };
            if html {
                return Ok(html_response(pages::resource(&received)));
            }
            respond(&received, style)
        }
    }
}

/// HTML unless the request chose another format: a suffix, `?format=`, a callback, or an
/// `Accept` that does not ask for HTML.
fn wants_html(req: &Request, decided_by: Decided) -> bool {
    match decided_by {
        Decided::Default => true,
        Decided::Accept => header(&req.headers, ACCEPT).is_some_and(|a| a.contains("text/html")),
        _ => false,
    }
}

/// The kept messages, newest first.
async fn mailbox(state: &AppState) -> Result<DevMailboxResponse, ApiError> {
    let Some(mailbox) = state.outbox.deliverer.mailbox.clone() else {
        return Ok(DevMailboxResponse::default());
    };
    let listed = tokio::task::spawn_blocking(move || mailbox.list())
        .await
        .map_err(|_| ApiError::Unavailable("The mailbox could not be read.".into()))?
        .map_err(|e| ApiError::Unavailable(format!("The mailbox could not be read: {e}")))?;
    let messages = listed
        .into_iter()
        .map(|m| DevMailboxMessage {
            Id: m.id,
            SentAtUtc: UtcDateTime::from(m.at),
            Channel: m.channel.as_str().to_owned(),
            To: m.to,
            Subject: m.subject,
            Links: links_in(&m.text),
            Text: m.text,
        })
        .collect();
    Ok(DevMailboxResponse { Messages: messages })
}

/// Exchanges `grant` for the tenant named in the hand-off URL, exactly as a resource
/// application holding that tenant's `ResourceServer` key would.
async fn exchange(
    state: &AppState,
    tenant: uuid::Uuid,
    grant: &str,
) -> Result<GrantIntrospectResponse, ApiError> {
    let tenant = TenantId::from(tenant);
    super::customerlink::exchange_grant(state.into(), tenant, grant).await
}

/// The `http(s)://` URLs in a message's text, in order.
pub fn links_in(text: &str) -> Vec<String> {
    text.split_whitespace()
        .filter(|w| w.starts_with("http://") || w.starts_with("https://"))
        .map(|w| w.trim_end_matches(['.', ',', ')']).to_owned())
        .collect()
}

fn html_response(page: String) -> Response {
    let mut headers = HeaderMap::new();
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    Response {
        status: StatusCode::OK,
        reason: None,
        headers,
        body: Bytes::from(page),
    }
}
