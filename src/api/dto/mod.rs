//! Wire DTOs, member for member as the service we replace declares them
//! (`shared/seed/customerlink-create-dtos.txt`, `reference/trendsic-api.md`), in its member
//! order (subclass members first, as ServiceStack writes them). Conversions from domain
//! types live here too, so handlers stay short. Null members are omitted on the wire.
#![allow(
    non_snake_case,
    reason = "members carry the exact ServiceStack wire names"
)]

mod attachment;
mod bulk;
mod evidence;
mod portal;
mod share;
mod webhook;

pub use attachment::*;
pub use bulk::*;
pub use evidence::*;
pub use portal::*;
pub use share::*;
pub use webhook::*;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::domain::contact::Contact as ContactRecord;
use crate::domain::delivery::{DeliveryRecord, DeliveryStatus};
use crate::domain::link::LinkRecord;
use crate::domain::{TenantId, UnixMillis};
use crate::wire::status::ResponseStatus;
use crate::wire::types::lenient::{opt_bool, opt_i32, opt_usize};
use crate::wire::types::{Guid, UtcDateTime};

/// `CustomerLinkExtended : CustomerLink`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct CustomerLinkExtended {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub RecipientDisplayName: Option<String>,
    pub RecipientType: String,
    pub Status: String,
    pub CustomerLinkId: u64,
    pub CustomerLinkUID: Guid,
    pub TokenHash: String,
    pub ResourceType: String,
    pub ResourceUid: Guid,
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
    pub TenantId: Guid,
    /// The recipient's language, when the link was created with one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub Locale: Option<String>,
}

/// Instants reach the wire as its UTC date type.
impl From<UnixMillis> for UtcDateTime {
    fn from(at: UnixMillis) -> Self {
        UtcDateTime(at.as_i64())
    }
}

impl CustomerLinkExtended {
    /// The wire view of a stored link, with its status as of `now`.
    pub fn from_record(l: &LinkRecord, now: UnixMillis) -> Self {
        Self {
            RecipientDisplayName: l.recipient_display_name.clone(),
            RecipientType: l.recipient_type.as_str().to_owned(),
            Status: l.status(now).as_str().to_owned(),
            CustomerLinkId: l.link_id,
            CustomerLinkUID: Guid(l.uid.as_uuid()),
            TokenHash: l.token_hash.to_hex(),
            ResourceType: l.resource_type.clone(),
            ResourceUid: Guid(l.resource_uid),
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
            TenantId: Guid(l.tenant_id.as_uuid()),
            Locale: l.locale.map(|l| l.tag().to_owned()),
        }
    }
}

/// `POST /v1/customerlink`.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(default)]
pub struct CustomerLinkCreateRequest {
    pub ResourceType: Option<String>,
    pub ResourceUid: Option<Guid>,
    #[serde(deserialize_with = "opt_i32")]
    pub RecipientContactId: Option<i32>,
    pub RecipientEmail: Option<String>,
    pub RecipientPhone: Option<String>,
    #[serde(deserialize_with = "opt_bool")]
    pub DeliverEmail: Option<bool>,
    #[serde(deserialize_with = "opt_bool")]
    pub DeliverSms: Option<bool>,
    #[serde(deserialize_with = "opt_i32")]
    pub ExpiresInHours: Option<i32>,
    #[serde(deserialize_with = "opt_i32")]
    pub MaxViews: Option<i32>,
    /// The recipient's language (`en`, `es`; a regional tag such as `es-MX` is taken by its
    /// language): the link's pages, email and SMS use it. Optional; unsupported is a 400.
    pub Locale: Option<String>,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct CustomerLinkCreateResponse {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ResponseStatus: Option<ResponseStatus>,
    pub Link: CustomerLinkExtended,
    pub PortalUrl: String,
    pub DeliveryErrors: Vec<String>,
}

/// `GET /v1/customerlink/resource/{ResourceType}/{ResourceUid}`.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(default)]
pub struct CustomerLinkListRequest {
    pub ResourceType: Option<String>,
    pub ResourceUid: Option<Guid>,
}

/// Links of a resource, or a page of the tenant's links (then with `Total`).
#[derive(Debug, Clone, Default, Serialize, JsonSchema)]
pub struct CustomerLinkListResponse {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ResponseStatus: Option<ResponseStatus>,
    pub Links: Vec<CustomerLinkExtended>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub Total: Option<u64>,
}

/// `GET /v1/customerlink?Status=&Skip=&Take=`.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(default)]
pub struct CustomerLinkQueryRequest {
    pub Status: Option<String>,
    #[serde(deserialize_with = "opt_usize")]
    pub Skip: Option<usize>,
    #[serde(deserialize_with = "opt_usize")]
    pub Take: Option<usize>,
}

/// `GET /v1/customerlink/{CustomerLinkUID}`.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(default)]
pub struct CustomerLinkRequest {
    pub CustomerLinkUID: Option<Guid>,
}

/// `POST /v1/customerlink/{CustomerLinkUID}/revoke`, `DELETE /v1/customerlink/{CustomerLinkUID}`.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(default)]
pub struct CustomerLinkRevokeRequest {
    pub CustomerLinkUID: Option<Guid>,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct CustomerLinkResponse {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ResponseStatus: Option<ResponseStatus>,
    pub Link: CustomerLinkExtended,
    /// Per channel: queued, sent, failed (with reason and attempts) or superseded by a resend.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub Deliveries: Option<Vec<CustomerLinkDelivery>>,
}

/// One delivery of a link (an addition of customerlink; clients that do not know it ignore it).
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct CustomerLinkDelivery {
    pub DeliveryId: u64,
    /// `Link` (the link itself) or `Passcode` (a one-time code the recipient asked for).
    pub Kind: String,
    pub Channel: String,
    pub Status: String,
    pub Attempts: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub LastError: Option<String>,
    pub CreatedAtUtc: UtcDateTime,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub SentAtUtc: Option<UtcDateTime>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub NextAttemptAtUtc: Option<UtcDateTime>,
}

impl CustomerLinkDelivery {
    pub fn from_record(d: &DeliveryRecord) -> Self {
        let queued = d.status == DeliveryStatus::Queued;
        Self {
            DeliveryId: d.delivery_id,
            Kind: d.kind.as_str().to_owned(),
            Channel: d.channel.as_str().to_owned(),
            Status: d.status.as_str().to_owned(),
            Attempts: d.attempts,
            LastError: d.last_error.clone(),
            CreatedAtUtc: UtcDateTime::from(d.created_at),
            SentAtUtc: d.sent_at.map(UtcDateTime::from),
            NextAttemptAtUtc: queued.then_some(UtcDateTime::from(d.next_attempt_at)),
        }
    }
}

/// `POST /v1/customerlink/{CustomerLinkUID}/resend`: a new token, delivered again.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(default)]
pub struct CustomerLinkResendRequest {
    pub CustomerLinkUID: Option<Guid>,
    #[serde(deserialize_with = "opt_bool")]
    pub DeliverEmail: Option<bool>,
    #[serde(deserialize_with = "opt_bool")]
    pub DeliverSms: Option<bool>,
}

/// The recipient-relevant subset of the platform's `Contact`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct Contact {
    #[serde(deserialize_with = "opt_i32")]
    pub ContactId: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ContactGUID: Option<Guid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub FirstName: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub LastName: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub Name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub EmailWork: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub EmailPersonal: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub Phone: Option<String>,
    #[serde(deserialize_with = "opt_bool")]
    pub SMSOptIn: Option<bool>,
    #[serde(deserialize_with = "opt_bool")]
    pub DoNotContact: Option<bool>,
    #[serde(deserialize_with = "opt_bool")]
    pub Active: Option<bool>,
    #[serde(deserialize_with = "opt_bool")]
    pub Deleted: Option<bool>,
}

impl Contact {
    pub fn from_domain(c: &ContactRecord) -> Self {
        Self {
            ContactId: Some(c.contact_id.get()),
            ContactGUID: Some(Guid(c.contact_guid)),
            FirstName: c.first_name.clone(),
            LastName: c.last_name.clone(),
            Name: c.name.clone(),
            EmailWork: c.email_work.clone(),
            EmailPersonal: c.email_personal.clone(),
            Phone: c.phone.clone(),
            SMSOptIn: Some(c.sms_opt_in),
            DoNotContact: Some(c.do_not_contact),
            Active: Some(c.active),
            Deleted: Some(c.deleted),
        }
    }

    /// The stored form; an omitted `Active` means active (a contact nobody deactivated).
    pub fn into_domain(self, tenant_id: TenantId, now: UnixMillis) -> ContactRecord {
        ContactRecord {
            tenant_id,
            contact_id: self.ContactId.unwrap_or_default().into(),
            contact_guid: self.ContactGUID.map(|g| g.0).unwrap_or_default(),
            first_name: self.FirstName,
            last_name: self.LastName,
            name: self.Name,
            email_work: self.EmailWork,
            email_personal: self.EmailPersonal,
            phone: self.Phone,
            sms_opt_in: self.SMSOptIn.unwrap_or(false),
            do_not_contact: self.DoNotContact.unwrap_or(false),
            active: self.Active.unwrap_or(true),
            deleted: self.Deleted.unwrap_or(false),
            updated_at: now,
        }
    }
}

/// `GET`/`DELETE /v1/contact/{ContactId}`.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(default)]
pub struct ContactRequest {
    #[serde(deserialize_with = "opt_i32")]
    pub ContactId: Option<i32>,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ContactResponse {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ResponseStatus: Option<ResponseStatus>,
    pub Contact: Contact,
}

/// `GET /v1/contact?Skip=&Take=`.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(default)]
pub struct ContactListRequest {
    #[serde(deserialize_with = "opt_usize")]
    pub Skip: Option<usize>,
    #[serde(deserialize_with = "opt_usize")]
    pub Take: Option<usize>,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ContactListResponse {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ResponseStatus: Option<ResponseStatus>,
    pub Contacts: Vec<Contact>,
    pub Total: u64,
}

/// A reply with nothing but its status (a successful delete).
#[derive(Debug, Clone, Default, Serialize, JsonSchema)]
pub struct EmptyResponse {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ResponseStatus: Option<ResponseStatus>,
}
