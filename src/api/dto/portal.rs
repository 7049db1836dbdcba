//! Portal and hand-off DTOs: the platform's `PortalLandingResponse` plus the share landing's
//! `RequireOtp`/`OtpChannel`/`OtpSent`, `ShareVerifyResponse`-like verification, the open
//! reply with its grant, grant introspection, and the access log shaped like the platform's
//! `DocumentShareAccessLog`.
#![allow(
    non_snake_case,
    reason = "members carry the exact ServiceStack wire names"
)]

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::domain::portal::{AccessLogEntry, GrantRecord};
use crate::wire::status::ResponseStatus;
use crate::wire::types::{Guid, UtcDateTime};

/// `GET /portal/{Token}`, `POST /portal/{Token}/otp`, `POST /portal/{Token}/open`.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(default)]
pub struct PortalTokenRequest {
    pub Token: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, JsonSchema)]
pub struct PortalLandingResponse {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ResponseStatus: Option<ResponseStatus>,
    pub Status: String,
    /// Only once the recipient may view (no passcode needed, or verified).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ResourceType: Option<String>,
    /// The sender's (tenant's) name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub Title: Option<String>,
    pub CanView: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub Message: Option<String>,
    pub RequireOtp: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub OtpChannel: Option<String>,
    pub OtpSent: bool,
}

/// `POST /portal/{Token}/verify`.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(default)]
pub struct PortalVerifyRequest {
    pub Token: Option<String>,
    pub Code: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, JsonSchema)]
pub struct PortalVerifyResponse {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ResponseStatus: Option<ResponseStatus>,
    pub Verified: bool,
    pub Status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub Message: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, JsonSchema)]
pub struct PortalOpenResponse {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ResponseStatus: Option<ResponseStatus>,
    pub Status: String,
    /// The one-time hand-off grant (exchange it at `/v1/customerlink/grant/introspect`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub Grant: Option<String>,
    /// Where the resource lives, with `grant=` appended (absent when the policy has no URL).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub TargetUrl: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub GrantExpiresAtUtc: Option<UtcDateTime>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub Message: Option<String>,
}

/// `POST /v1/customerlink/grant/introspect` (API key with the `ResourceServer` role).
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(default)]
pub struct GrantIntrospectRequest {
    pub Grant: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, JsonSchema)]
pub struct GrantIntrospectResponse {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ResponseStatus: Option<ResponseStatus>,
    pub Active: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub CustomerLinkUID: Option<Guid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub CustomerLinkId: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub TenantId: Option<Guid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ResourceType: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ResourceUid: Option<Guid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub RecipientDisplayName: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub RecipientEmail: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub RecipientPhone: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ExpiresAtUtc: Option<UtcDateTime>,
}

impl GrantIntrospectResponse {
    pub fn active(g: &GrantRecord) -> Self {
        Self {
            ResponseStatus: None,
            Active: true,
            CustomerLinkUID: Some(Guid(g.link_uid.as_uuid())),
            CustomerLinkId: Some(g.link_id),
            TenantId: Some(Guid(g.tenant_id.as_uuid())),
            ResourceType: Some(g.resource_type.clone()),
            ResourceUid: Some(Guid(g.resource_uid)),
            RecipientDisplayName: g.recipient_display_name.clone(),
            RecipientEmail: g.recipient_email.clone(),
            RecipientPhone: g.recipient_phone.clone(),
            ExpiresAtUtc: Some(UtcDateTime::from(g.expires_at)),
        }
    }
}

/// `POST /v1/customerlink/{CustomerLinkUID}/unlock`, `GET /v1/customerlink/{CustomerLinkUID}/log`.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(default)]
pub struct CustomerLinkUidRequest {
    pub CustomerLinkUID: Option<Guid>,
}

/// One access-log row, like the platform's `DocumentShareAccessLog`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct CustomerLinkAccessLog {
    pub Id: u64,
    pub CustomerLinkId: u64,
    pub EventType: String,
    pub Outcome: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub DetailMessage: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub IpAddress: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub UserAgent: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ActorUserId: Option<Guid>,
    /// When the row was written; for an aggregated row, its first occurrence.
    pub CreatedAtUtc: UtcDateTime,
    /// Occurrences the row stands for: repeats of a noise event (landing view, passcode
    /// sent or failed, denied open) from one address share one row.
    pub Count: u64,
    /// First and latest occurrence of an aggregated noise row (absent on lifecycle rows).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub FirstAtUtc: Option<UtcDateTime>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub LastAtUtc: Option<UtcDateTime>,
}

impl CustomerLinkAccessLog {
    pub fn from_entry(e: &AccessLogEntry) -> Self {
        Self {
            Id: e.id,
            CustomerLinkId: e.link_id,
            EventType: e.event.as_str().to_owned(),
            Outcome: e.outcome.as_str().to_owned(),
            DetailMessage: e.detail.clone(),
            IpAddress: e.actor.ip.clone(),
            UserAgent: e.actor.user_agent.clone(),
            ActorUserId: e.actor.user_id.map(|u| Guid(u.as_uuid())),
            CreatedAtUtc: UtcDateTime::from(e.at),
            Count: e.count,
            FirstAtUtc: e.last_at.map(|_| UtcDateTime::from(e.at)),
            LastAtUtc: e.last_at.map(UtcDateTime::from),
        }
    }
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct CustomerLinkLogResponse {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ResponseStatus: Option<ResponseStatus>,
    pub AccessLog: Vec<CustomerLinkAccessLog>,
}

/// `GET /share/{Token}` and `POST /share/{Token}/otp` (the platform's `ShareLandingResponse`,
/// member for member). `DocumentName` only once the recipient may view.
#[derive(Debug, Clone, Default, Serialize, JsonSchema)]
pub struct ShareLandingResponse {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ResponseStatus: Option<ResponseStatus>,
    pub Status: String,
    pub RequireOtp: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub OtpChannel: Option<String>,
    pub OtpSent: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub DocumentName: Option<String>,
    pub CanView: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub Message: Option<String>,
}

/// `POST /share/{Token}/verify` (the platform's `ShareVerifyResponse`).
#[derive(Debug, Clone, Default, Serialize, JsonSchema)]
pub struct ShareVerifyResponse {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ResponseStatus: Option<ResponseStatus>,
    pub Verified: bool,
    pub Status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub Message: Option<String>,
}
