//! Document-share DTOs, member for member as the platform declares them
//! (`reference/trendsic-api.md` §1–2): `DocumentShareExtended` (subclass members first), the
//! create request with the caller's tier choice, the one response shape of create, list,
//! resend and revoke (a *list* even for one share), and the access-log rows.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::domain::UnixMillis;
use crate::domain::link::LinkRecord;
use crate::domain::portal::AccessLogEntry;
use crate::wire::status::ResponseStatus;
use crate::wire::types::lenient::{opt_bool, opt_i32};
use crate::wire::types::{Guid, UtcDateTime};

/// `DocumentShareExtended : DocumentShare`. No `TenantId` (the platform's DTO has none; the
/// service still scopes every share to the caller's tenant); `ExpiresAtUtc` is never null.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct DocumentShareExtended {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub AttachmentName: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub RecipientDisplayName: Option<String>,
    pub RecipientType: String,
    /// Staff accounts are the calling application's; the service knows no names.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub CreatedByName: Option<String>,
    pub Status: String,
    pub DocumentShareId: u64,
    pub DocumentShareUID: Guid,
    pub TokenHash: String,
    pub AttachmentId: Guid,
    pub SensitivityTier: String,
    pub RequireOtp: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub OtpChannel: Option<String>,
    pub DeliveryChannels: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub RecipientContactId: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub RecipientEmail: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub RecipientPhone: Option<String>,
    pub SmsConsentSnapshot: bool,
    pub CreatedByUserId: Guid,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub CreatedByAgentId: Option<i32>,
    pub CreatedAtUtc: UtcDateTime,
    pub ExpiresAtUtc: UtcDateTime,
    pub MaxViews: u32,
    pub ViewCount: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub RevokedAtUtc: Option<UtcDateTime>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub RevokedByUserId: Option<Guid>,
    /// The recipient's language, when the share was created with one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub Locale: Option<String>,
}

impl DocumentShareExtended {
    /// The wire view of a stored share, with its status as of `now`.
    pub fn from_record(l: &LinkRecord, attachment_name: Option<&str>, now: UnixMillis) -> Self {
        Self {
            AttachmentName: attachment_name.map(str::to_owned),
            RecipientDisplayName: l.recipient_display_name.clone(),
            RecipientType: l.recipient_type.as_str().to_owned(),
            CreatedByName: None,
            Status: l.status(now).as_str().to_owned(),
            DocumentShareId: l.link_id,
            DocumentShareUID: Guid(l.uid.as_uuid()),
            TokenHash: l.token_hash.to_hex(),
            AttachmentId: Guid(l.resource_uid),
            SensitivityTier: l.sensitivity_tier.clone(),
            RequireOtp: l.require_otp,
            OtpChannel: l.otp_channel.map(|c| c.as_str().to_owned()),
            DeliveryChannels: l.delivery_channels.to_string(),
            RecipientContactId: l.recipient_contact_id.map(i32::from),
            RecipientEmail: l.recipient_email.clone(),
            RecipientPhone: l.recipient_phone.clone(),
            SmsConsentSnapshot: l.sms_consent_snapshot,
            CreatedByUserId: Guid(l.created_by_user_id.as_uuid()),
            CreatedByAgentId: l.created_by_agent_id,
            CreatedAtUtc: UtcDateTime::from(l.created_at),
            ExpiresAtUtc: UtcDateTime::from(l.expires_at),
            MaxViews: l.max_views,
            ViewCount: l.view_count,
            RevokedAtUtc: l.revoked_at.map(UtcDateTime::from),
            RevokedByUserId: l.revoked_by_user_id.map(|u| Guid(u.as_uuid())),
            Locale: l.locale.map(|l| l.tag().to_owned()),
        }
    }
}

/// `POST /v1/documentshare`. The counts are non-nullable on the platform: `0` takes the
/// tier's default. `RequireOtp`, `OtpChannel` and `SensitivityTier` may only tighten what the
/// policy's tier for documents asks.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(default)]
pub struct DocumentShareCreateRequest {
    pub AttachmentId: Option<Guid>,
    #[serde(deserialize_with = "opt_i32")]
    pub RecipientContactId: Option<i32>,
    pub RecipientEmail: Option<String>,
    pub RecipientPhone: Option<String>,
    /// `true` for a recipient who is not a contact (the contact id is then ignored).
    #[serde(deserialize_with = "opt_bool")]
    pub IsAdhoc: Option<bool>,
    pub SensitivityTier: Option<String>,
    #[serde(deserialize_with = "opt_bool")]
    pub RequireOtp: Option<bool>,
    pub OtpChannel: Option<String>,
    /// `Email`, `Sms` or `Email,Sms`: where the share is delivered now.
    pub DeliveryChannels: Option<String>,
    #[serde(deserialize_with = "opt_i32")]
    pub ExpiresInHours: Option<i32>,
    #[serde(deserialize_with = "opt_i32")]
    pub MaxViews: Option<i32>,
    /// The recipient's language (`en`, `es`), as on a customer link's create.
    pub Locale: Option<String>,
}

/// The reply of create, list, resend, revoke and delete.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct DocumentShareResponse {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ResponseStatus: Option<ResponseStatus>,
    pub DocumentShare: Vec<DocumentShareExtended>,
    /// The recipient's URL: only when a token was just made (create, resend).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ShareUrl: Option<String>,
    /// Deliveries refused or failed at once (an extension; the platform's DTO has none).
    /// Omitted when empty, so the schema must not call it required (hence `default`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub DeliveryErrors: Vec<String>,
}

/// `GET /v1/documentshare/attachment/{AttachmentId}`.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(default)]
pub struct DocumentShareListRequest {
    pub AttachmentId: Option<Guid>,
}

/// Every operation on one share by its number: resend, log, revoke, delete.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(default)]
pub struct DocumentShareIdRequest {
    #[serde(deserialize_with = "crate::wire::types::lenient::opt_u64")]
    pub DocumentShareId: Option<u64>,
}

/// One row of a share's access log.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct DocumentShareAccessLog {
    pub DocumentShareAccessLogId: u64,
    pub DocumentShareId: u64,
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
    pub CreatedAtUtc: UtcDateTime,
}

impl DocumentShareAccessLog {
    pub fn from_entry(e: &AccessLogEntry) -> Self {
        Self {
            DocumentShareAccessLogId: e.id,
            DocumentShareId: e.link_id,
            EventType: e.event.as_str().to_owned(),
            Outcome: e.outcome.as_str().to_owned(),
            DetailMessage: e.detail.clone(),
            IpAddress: e.actor.ip.clone(),
            UserAgent: e.actor.user_agent.clone(),
            ActorUserId: e.actor.user_id.map(|u| Guid(u.as_uuid())),
            CreatedAtUtc: UtcDateTime::from(e.at),
        }
    }
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct DocumentShareLogResponse {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ResponseStatus: Option<ResponseStatus>,
    pub AccessLog: Vec<DocumentShareAccessLog>,
}
