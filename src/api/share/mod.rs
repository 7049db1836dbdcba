//! Document shares, the recipient's side (issue 17): `GET /share/{Token}`, `POST
//! /share/{Token}/otp`, `POST /share/{Token}/verify` in every wire format, the browser pages
//! of `/share` (the portal's pages on the share surface) and the download ([`download`]).
//! A share is a link, so every step is the portal's own ([`super::portal::flow`]) on a
//! [`Portal`] of the share family; only the DTOs, the document's name and the file differ. A
//! share whose attachment is gone answers like any dead link.

pub mod download;

use hyper::StatusCode;

use super::dto::{
    PortalTokenRequest, PortalVerifyRequest, ShareLandingResponse, ShareVerifyResponse,
};
use super::error::ApiError;
use super::portal::api::{CODE_REQUESTED, UNAVAILABLE, Verdict, token, with_status};
use super::portal::flow::{self, Landing};
use super::portal::{Portal, Visitor};
use super::{Response, respond};
use crate::domain::attachment::AttachmentRecord;
use crate::domain::link::LinkRecord;
use crate::domain::portal::Actor;
use crate::domain::share::Family;
use crate::store::Store;
use crate::store::queries::AttachmentOf;
use crate::wire::encode::Style;

/// A share's landing: the portal's view, and the document's name once it may be viewed.
#[derive(Debug)]
pub struct ShareLanding {
    pub view: Landing,
    pub document: Option<String>,
}

/// The portal's landing of the token (which finds a share whose file is gone unavailable),
/// plus the document's name only once the recipient may view (no passcode needed, or a
/// verified session): nothing of the file before the passcode.
pub async fn landing(
    portal: Portal<'_>,
    token: &str,
    session: Option<&str>,
    actor: &Actor,
) -> Result<ShareLanding, ApiError> {
    let view = flow::landing(portal, token, session, actor).await?;
    let Landing::Available {
        link,
        can_view: true,
        ..
    } = &view
    else {
        return Ok(ShareLanding {
            view,
            document: None,
        });
    };
    Ok(match attachment_of(portal.store, link).await? {
        Some(file) => ShareLanding {
            view,
            document: Some(file.name),
        },
        None => ShareLanding {
            view: Landing::Unavailable,
            document: None,
        },
    })
}

/// The file a share points at, if the link is a share and the file is still there.
pub(crate) async fn attachment_of(
    store: &Store,
    link: &LinkRecord,
) -> Result<Option<AttachmentRecord>, ApiError> {
    if !Family::DocumentShare.owns(link) {
        return Ok(None);
    }
    let query = AttachmentOf {
        tenant: link.tenant_id,
        id: link.resource_uid,
    };
    Ok(store.fetch(query).await?)
}

/// What every unusable share answers, at every step (404).
pub fn unavailable() -> ShareLandingResponse {
    ShareLandingResponse {
        Status: "Unavailable".into(),
        Message: Some(UNAVAILABLE.into()),
        ..Default::default()
    }
}

fn landing_dto(shown: ShareLanding) -> (StatusCode, ShareLandingResponse) {
    let Landing::Available {
        link,
        can_view,
        code_sent,
        ..
    } = shown.view
    else {
        return (StatusCode::NOT_FOUND, unavailable());
    };
    let message = if can_view {
        "Ready to download."
    } else {
        "Ask for a one-time code to continue."
    };
    let body = ShareLandingResponse {
        ResponseStatus: None,
        Status: "Active".into(),
        RequireOtp: link.require_otp,
        OtpChannel: link.otp_channel.map(|c| c.as_str().to_owned()),
        OtpSent: code_sent,
        DocumentName: shown.document,
        CanView: can_view,
        Message: Some(message.into()),
    };
    (StatusCode::OK, body)
}

/// `GET /share/{Token}` for API callers.
pub async fn landing_api(
    portal: Portal<'_>,
    visitor: &Visitor,
    dto: PortalTokenRequest,
    style: &Style,
) -> Result<Response, ApiError> {
    let token = token(dto.Token);
    let shown = landing(portal, &token, visitor.session(), &visitor.actor).await?;
    let (status, body) = landing_dto(shown);
    Ok(with_status(respond(&body, style)?, status))
}

/// `POST /share/{Token}/otp`: always the same answer, whether or not a code went out.
pub async fn request_code(
    portal: Portal<'_>,
    visitor: &Visitor,
    dto: PortalTokenRequest,
    style: &Style,
) -> Result<Response, ApiError> {
    flow::request_code(portal, &token(dto.Token), &visitor.actor).await?;
    let body = ShareLandingResponse {
        Status: "CodeRequested".into(),
        RequireOtp: true,
        OtpSent: true,
        Message: Some(CODE_REQUESTED.into()),
        ..Default::default()
    };
    respond(&body, style)
}

/// `POST /share/{Token}/verify`: the portal's check, in the share's DTO and cookie path.
pub async fn verify(
    portal: Portal<'_>,
    visitor: &Visitor,
    dto: PortalVerifyRequest,
    style: &Style,
) -> Result<Response, ApiError> {
    let code = dto.Code.unwrap_or_default();
    let verdict = Verdict::of(portal, visitor, &token(dto.Token), &code).await?;
    let body = ShareVerifyResponse {
        ResponseStatus: None,
        Verified: verdict.verified,
        Status: verdict.status.into(),
        Message: Some(verdict.message.into()),
    };
    verdict.respond(&body, style)
}

/// The route table's handler of the download, reached only where the transport could not
/// stream (no spelling of the route does): answers like an unusable share.
pub async fn not_streamed(
    _portal: Portal<'_>,
    _visitor: &Visitor,
    _dto: PortalTokenRequest,
    style: &Style,
) -> Result<Response, ApiError> {
    Ok(with_status(
        respond(&unavailable(), style)?,
        StatusCode::NOT_FOUND,
    ))
}
