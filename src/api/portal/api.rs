//! The portal for API callers: `GET /portal/{Token}`, `POST /portal/{Token}/otp`,
//! `POST /portal/{Token}/verify`, `POST /portal/{Token}/open`, in every wire format. An
//! unusable token is a 404 whose body is the same whatever the reason.

use hyper::StatusCode;
use hyper::header::{HeaderValue, SET_COOKIE};

use super::Portal;
use super::flow::{self, Landing, Opening, Verification};
use super::{SESSION_COOKIE, Visitor};
use crate::api::dto::*;
use crate::api::error::ApiError;
use crate::api::{Response, respond};
use crate::domain::portal::SESSION_TTL_MS;
use crate::wire::encode::Style;
use crate::wire::types::UtcDateTime;

/// What every unusable token answers, whatever the reason.
pub const UNAVAILABLE: &str = "This link is not available. Ask the sender for a new one.";
const WRONG_CODE: &str = "That code is not valid. Check it, or ask for a new one.";
/// What a code request answers, whether or not a code went out (no enumeration).
pub const CODE_REQUESTED: &str =
    "If this link is valid, a code is on its way. You can ask for another in a minute.";

/// The token a request DTO carried (empty: none, which no link has).
pub fn token(t: Option<String>) -> String {
    t.unwrap_or_default()
}

/// `response` with another status.
pub fn with_status(mut response: Response, status: StatusCode) -> Response {
    response.status = status;
    response
}

/// The landing view as a DTO. Only the landing uses it: the code request answers with its
/// own fixed DTO, which says nothing of the link.
pub fn landing_dto(landing: &Landing) -> (StatusCode, PortalLandingResponse) {
    match landing {
        Landing::Unavailable => (
            StatusCode::NOT_FOUND,
            PortalLandingResponse {
                Status: "Unavailable".into(),
                Message: Some(UNAVAILABLE.into()),
                ..Default::default()
            },
        ),
        Landing::Available {
            link,
            tenant_name,
            can_view,
            code_sent,
        } => (
            StatusCode::OK,
            PortalLandingResponse {
                ResponseStatus: None,
                Status: "Active".into(),
                ResourceType: can_view.then(|| link.resource_type.clone()),
                Title: Some(tenant_name.clone()),
                CanView: *can_view,
                Message: Some(if *can_view {
                    "Ready to open.".into()
                } else {
                    "Ask for a one-time code to continue.".into()
                }),
                RequireOtp: link.require_otp,
                OtpChannel: link.otp_channel.map(|c| c.as_str().to_owned()),
                OtpSent: *code_sent,
            },
        ),
    }
}

pub async fn landing(
    portal: Portal<'_>,
    visitor: &Visitor,
    dto: PortalTokenRequest,
    style: &Style,
) -> Result<Response, ApiError> {
    let view = flow::landing(portal, &token(dto.Token), visitor.session(), &visitor.actor).await?;
    let (status, body) = landing_dto(&view);
    Ok(with_status(respond(&body, style)?, status))
}

/// Always the same answer, whether or not a code went out (no enumeration).
pub async fn request_code(
    portal: Portal<'_>,
    visitor: &Visitor,
    dto: PortalTokenRequest,
    style: &Style,
) -> Result<Response, ApiError> {
    let token = token(dto.Token);
    flow::request_code(portal, &token, &visitor.actor).await?;
    let body = PortalLandingResponse {
        Status: "CodeRequested".into(),
        Message: Some(CODE_REQUESTED.into()),
        OtpSent: true,
        RequireOtp: true,
        ..Default::default()
    };
    respond(&body, style)
}

/// `POST /portal/{Token}/reissue` (and `/share/{Token}/reissue`): always the same answer,
/// whatever the token names; the request is handled after answering (see `reissue`).
pub async fn reissue(
    portal: Portal<'_>,
    visitor: &Visitor,
    dto: PortalTokenRequest,
    style: &Style,
) -> Result<Response, ApiError> {
    super::reissue::request(portal, &token(dto.Token), &visitor.actor);
    let body = PortalLandingResponse {
        Status: "ReissueRequested".into(),
        Message: Some(super::reissue::REISSUE_REQUESTED.into()),
        ..Default::default()
    };
    respond(&body, style)
}

pub async fn verify(
    portal: Portal<'_>,
    visitor: &Visitor,
    dto: PortalVerifyRequest,
    style: &Style,
) -> Result<Response, ApiError> {
    let code = dto.Code.unwrap_or_default();
    let verdict = Verdict::of(portal, visitor, &token(dto.Token), &code).await?;
    let body = PortalVerifyResponse {
        Verified: verdict.verified,
        Status: verdict.status.into(),
        Message: Some(verdict.message.into()),
        ..Default::default()
    };
    verdict.respond(&body, style)
}

/// What a passcode check answers, whatever the DTO it is written in (`/portal` and
/// `/share` verify the same way): the status, the fields, and the session cookie once
/// verified. Too many attempts from the address is a 429.
pub struct Verdict {
    pub http: StatusCode,
    pub verified: bool,
    pub status: &'static str,
    pub message: &'static str,
    cookie: Option<String>,
}

impl Verdict {
    pub async fn of(
        portal: Portal<'_>,
        visitor: &Visitor,
        token: &str,
        code: &str,
    ) -> Result<Verdict, ApiError> {
        let verdict = |http, verified, status, message, cookie| Verdict {
            http,
            verified,
            status,
            message,
            cookie,
        };
        Ok(
            match flow::verify(portal, token, code, &visitor.actor).await? {
                Verification::Verified { session } => {
                    let ttl = SESSION_TTL_MS / 1000;
                    let cookie = portal.cookie(SESSION_COOKIE, &session, ttl, "Strict");
                    verdict(
                        StatusCode::OK,
                        true,
                        "Verified",
                        "Code accepted.",
                        Some(cookie),
                    )
                }
                Verification::Wrong => verdict(StatusCode::OK, false, "Invalid", WRONG_CODE, None),
                Verification::TooMany { retry_after_secs } => {
                    return Err(ApiError::TooManyRequests {
                        message: "Too many attempts from this address; try again later.".into(),
                        retry_after_secs,
                    });
                }
                Verification::Unavailable => verdict(
                    StatusCode::NOT_FOUND,
                    false,
                    "Unavailable",
                    UNAVAILABLE,
                    None,
                ),
            },
        )
    }

    /// `body` (the verdict in the surface's DTO) with the verdict's status and cookie.
    pub fn respond<T: serde::Serialize + schemars::JsonSchema>(
        self,
        body: &T,
        style: &Style,
    ) -> Result<Response, ApiError> {
        let mut response = with_status(respond(body, style)?, self.http);
        if let Some(value) = self.cookie.and_then(|c| HeaderValue::from_str(&c).ok()) {
            response.headers.insert(SET_COOKIE, value);
        }
        Ok(response)
    }
}

pub async fn open(
    portal: Portal<'_>,
    visitor: &Visitor,
    dto: PortalTokenRequest,
    style: &Style,
) -> Result<Response, ApiError> {
    let result = flow::open(portal, &token(dto.Token), visitor.session(), &visitor.actor).await?;
    let (status, body) = match result {
        Opening::Opened {
            grant,
            target_url,
            grant_expires_at,
        } => (
            StatusCode::OK,
            PortalOpenResponse {
                Status: "Opened".into(),
                Grant: Some(grant.expose().clone()),
                TargetUrl: target_url,
                GrantExpiresAtUtc: Some(UtcDateTime::from(grant_expires_at)),
                ..Default::default()
            },
        ),
        Opening::NeedsCode => (
            StatusCode::FORBIDDEN,
            PortalOpenResponse {
                Status: "CodeRequired".into(),
                Message: Some("Verify the one-time code first.".into()),
                ..Default::default()
            },
        ),
        Opening::Unavailable => (
            StatusCode::NOT_FOUND,
            PortalOpenResponse {
                Status: "Unavailable".into(),
                Message: Some(UNAVAILABLE.into()),
                ..Default::default()
            },
        ),
    };
    Ok(with_status(respond(&body, style)?, status))
}
