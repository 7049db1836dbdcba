//! Staff operations on document shares — create, list by attachment, resend, access log,
//! revoke — on the wire of the platform's `DocumentShare*` operations. A share is a link of
//! the share family (`domain::share`), so these are the link operations with the share's
//! rules: the attachment is the resource, the caller may tighten the tier, shares are named by
//! their number (`DocumentShareId`), and a customer link's number answers "not found".

use super::customerlink::{resend_refused, usable_contact};
use super::delivery;
use super::dto::*;
use super::error::ApiError;
use crate::api::{Issuer, Records};
use crate::domain::attachment::AttachmentRecord;
use crate::domain::link::{ContactLookup, CreateLink, LinkRecord, Planned, plan_in_tier};
use crate::domain::resend;
use crate::domain::share::{self, Family, SHARED_DOCUMENT, TierChoice};
use crate::domain::tenant::StaffCaller;
use crate::domain::token::LinkToken;
use crate::domain::{ContactId, FieldError, Rule, UnixMillis};
use crate::store::Store;
use crate::store::commands::{self as cmd, LinkQueued, Resend, ResendOutcome, RevokeLink};
use crate::store::queries::{AccessLogOf, AttachmentOf, ContactOf, LinksByResource, ShareOf};

/// `POST /v1/documentshare`: a share of one of the tenant's attachments, delivered at once
/// over `DeliveryChannels`.
pub async fn create(
    state: Issuer<'_>,
    caller: &StaffCaller,
    req: DocumentShareCreateRequest,
) -> Result<DocumentShareResponse, ApiError> {
    let attachment = shared_attachment(state.store, caller, req.AttachmentId).await?;
    let attachment_id = attachment.id;
    let wanted = share::delivery_wanted(req.DeliveryChannels.as_deref()).map_err(invalid)?;
    let choice = TierChoice {
        tier: req.SensitivityTier.clone(),
        require_otp: req.RequireOtp.unwrap_or(false),
        otp_channel: req.OtpChannel.clone(),
    };
    let (tier_name, tier) = share::choose_tier(state.policy, &choice).map_err(invalid)?;
    let input = create_input(req, attachment_id, wanted);
    let contact = usable_contact(state.store, caller, input.recipient_contact_id).await?;
    let lookup = ContactLookup::of(contact.as_ref(), input.recipient_contact_id);
    let token = LinkToken::generate()?;
    let now = state.clock.now();
    let planned = Planned {
        resource_type: SHARED_DOCUMENT.to_owned(),
        tier_name: &tier_name,
        tier: &tier,
        uid: uuid::Uuid::now_v7().into(),
        token_hash: state.keys.token(Family::DocumentShare, &token),
    };
    let link = plan_in_tier(&input, lookup, planned, caller, now, Vec::new())
        .map_err(ApiError::Invalid)?
        .record;
    let (deliveries, delivery_errors) = delivery::plan(
        state.outbox,
        state.policy,
        &link,
        &token,
        wanted,
        contact.as_ref(),
    )?;
    let op = cmd::CreateLink {
        link: Box::new(link),
        deliveries,
        limits: delivery::limits(state.delivery, now),
    };
    let written = state
        .store
        .write(cmd::CreateShare(op))
        .await?
        .ok_or_else(|| invalid(attachment_missing(attachment_id)))?;
    let sent = Sent {
        state,
        token: &token,
        attachment_name: &attachment.name,
        now,
    };
    Ok(sent.respond(written, delivery_errors).await)
}

/// The tenant's attachment a create names (a 400 naming `AttachmentId` otherwise).
async fn shared_attachment(
    store: &Store,
    caller: &StaffCaller,
    id: Option<crate::wire::types::Guid>,
) -> Result<AttachmentRecord, ApiError> {
    let Some(id) = id.map(|g| g.0).filter(|id| !id.is_nil()) else {
        return Err(invalid(FieldError::new("AttachmentId", Rule::NotEmpty)));
    };
    let of = AttachmentOf {
        tenant: caller.tenant_id,
        id,
    };
    store
        .fetch(of)
        .await?
        .ok_or_else(|| invalid(attachment_missing(id)))
}

/// The link rules' view of a share's create: the attachment is the resource; an ad-hoc
/// share names no contact; `0` counts take the tier's defaults.
fn create_input(
    req: DocumentShareCreateRequest,
    attachment_id: uuid::Uuid,
    (deliver_email, deliver_sms): (bool, bool),
) -> CreateLink {
    let adhoc = req.IsAdhoc.unwrap_or(false);
    share::as_link_request(CreateLink {
        resource_type: None,
        resource_uid: Some(attachment_id),
        recipient_contact_id: req
            .RecipientContactId
            .filter(|id| *id != 0 && !adhoc)
            .map(ContactId::from),
        recipient_email: req.RecipientEmail,
        recipient_phone: req.RecipientPhone,
        deliver_email,
        deliver_sms,
        expires_in_hours: req.ExpiresInHours,
        max_views: req.MaxViews,
        locale: req.Locale,
    })
}

/// A create or resend just written: its first delivery attempts, then the reply.
struct Sent<'a> {
    state: Issuer<'a>,
    token: &'a LinkToken,
    attachment_name: &'a str,
    now: UnixMillis,
}

impl Sent<'_> {
    async fn respond(self, written: LinkQueued, mut errors: Vec<String>) -> DocumentShareResponse {
        let state = self.state;
        errors.extend(written.refused);
        let limit = state.delivery.attempt_timeout;
        errors.extend(
            delivery::first_attempts(state.outbox, limit, &written.queued, self.token).await,
        );
        DocumentShareResponse {
            ResponseStatus: None,
            DocumentShare: vec![DocumentShareExtended::from_record(
                &written.link,
                Some(self.attachment_name),
                self.now,
            )],
            ShareUrl: Some(Family::DocumentShare.recipient_url(state.public_url, self.token)),
            DeliveryErrors: errors,
        }
    }
}

/// `GET /v1/documentshare/attachment/{AttachmentId}`: the attachment's shares, newest first.
pub async fn list(
    state: Records<'_>,
    caller: &StaffCaller,
    req: DocumentShareListRequest,
) -> Result<DocumentShareResponse, ApiError> {
    let Some(id) = req.AttachmentId.map(|g| g.0).filter(|id| !id.is_nil()) else {
        return Err(invalid(FieldError::new("AttachmentId", Rule::NotEmpty)));
    };
    let of = AttachmentOf {
        tenant: caller.tenant_id,
        id,
    };
    let name = state.store.fetch(of).await?.map(|a| a.name);
    let query = LinksByResource {
        tenant: caller.tenant_id,
        resource_type: SHARED_DOCUMENT.to_owned(),
        resource_uid: id,
    };
    let shares = state.store.fetch(query).await?;
    if name.is_none() && shares.is_empty() {
        return Err(ApiError::NotFound(format!(
            "Attachment {} not found",
            id.simple()
        )));
    }
    let now = state.clock.now();
    Ok(DocumentShareResponse {
        ResponseStatus: None,
        DocumentShare: shares
            .iter()
            .map(|l| DocumentShareExtended::from_record(l, name.as_deref(), now))
            .collect(),
        ShareUrl: None,
        DeliveryErrors: Vec::new(),
    })
}

/// `POST /v1/documentshare/{DocumentShareId}/resend`: a new token (the old URL stops working
/// at once), delivered again over the channels it last went out on.
pub async fn resend(
    state: Issuer<'_>,
    caller: &StaffCaller,
    req: DocumentShareIdRequest,
) -> Result<DocumentShareResponse, ApiError> {
    let link = find(state.store, caller, req.DocumentShareId).await?;
    let contact = match link.recipient_contact_id {
        Some(id) => {
            let query = ContactOf {
                tenant: caller.tenant_id,
                id,
            };
            state.store.fetch(query).await?
        }
        None => None,
    };
    let wanted = resend::channels(&link, None, None).map_err(ApiError::Invalid)?;
    let token = LinkToken::generate()?;
    let now = state.clock.now();
    let (deliveries, delivery_errors) = delivery::plan(
        state.outbox,
        state.policy,
        &link,
        &token,
        wanted,
        contact.as_ref(),
    )?;
    let d = state.delivery;
    let op = Resend {
        tenant_id: caller.tenant_id,
        uid: link.uid,
        by: caller.user_id,
        token_hash: state.keys.token(Family::DocumentShare, &token),
        at: now,
        deliveries,
        limits: delivery::limits(d, now),
        rules: delivery::resend_rules(d),
        reissue: None,
    };
    let written = resent(state.store.write(op).await?, link.link_id)?;
    let name = attachment_name(state.store, caller, &link).await?;
    let sent = Sent {
        state,
        token: &token,
        attachment_name: &name,
        now,
    };
    Ok(sent.respond(written, delivery_errors).await)
}

/// What a resend did, as the API answers it.
fn resent(outcome: ResendOutcome, id: u64) -> Result<LinkQueued, ApiError> {
    match outcome {
        ResendOutcome::Resent(written) => Ok(written),
        ResendOutcome::NotFound => Err(not_found(id)),
        ResendOutcome::Refused(refusal) => Err(resend_refused(refusal, "share")),
    }
}

/// `POST /v1/documentshare/{DocumentShareId}/revoke` and `DELETE /v1/documentshare/{…}`:
/// the share stops working at once; its record and log stay until the purge.
pub async fn revoke(
    state: Records<'_>,
    caller: &StaffCaller,
    req: DocumentShareIdRequest,
) -> Result<DocumentShareResponse, ApiError> {
    let share = find(state.store, caller, req.DocumentShareId).await?;
    let now = state.clock.now();
    let op = RevokeLink {
        tenant_id: caller.tenant_id,
        uid: share.uid,
        by: caller.user_id,
        at: now,
    };
    let link = state
        .store
        .write(op)
        .await?
        .ok_or_else(|| not_found(share.link_id))?;
    let name = attachment_name(state.store, caller, &link).await?;
    Ok(DocumentShareResponse {
        ResponseStatus: None,
        DocumentShare: vec![DocumentShareExtended::from_record(&link, Some(&name), now)],
        ShareUrl: None,
        DeliveryErrors: Vec::new(),
    })
}

/// `GET /v1/documentshare/{DocumentShareId}/log`: who opened, verified and downloaded.
pub async fn access_log(
    store: &Store,
    caller: &StaffCaller,
    req: DocumentShareIdRequest,
) -> Result<DocumentShareLogResponse, ApiError> {
    let share = find(store, caller, req.DocumentShareId).await?;
    let query = AccessLogOf {
        tenant: caller.tenant_id,
        uid: share.uid,
    };
    let entries = store.fetch(query).await?;
    Ok(DocumentShareLogResponse {
        ResponseStatus: None,
        AccessLog: entries
            .iter()
            .map(DocumentShareAccessLog::from_entry)
            .collect(),
    })
}

/// The tenant's share with this number; anything else (another tenant's, a customer link's,
/// none) is "not found".
async fn find(
    store: &Store,
    caller: &StaffCaller,
    id: Option<u64>,
) -> Result<LinkRecord, ApiError> {
    let Some(id) = id.filter(|id| *id != 0) else {
        return Err(invalid(FieldError::new("DocumentShareId", Rule::NotEmpty)));
    };
    let query = ShareOf {
        tenant: caller.tenant_id,
        id,
    };
    store.fetch(query).await?.ok_or_else(|| not_found(id))
}

/// The name of the share's attachment (empty once it is gone).
async fn attachment_name(
    store: &Store,
    caller: &StaffCaller,
    link: &LinkRecord,
) -> Result<String, ApiError> {
    let of = AttachmentOf {
        tenant: caller.tenant_id,
        id: link.resource_uid,
    };
    Ok(store.fetch(of).await?.map(|a| a.name).unwrap_or_default())
}

fn attachment_missing(id: uuid::Uuid) -> FieldError {
    FieldError::new("AttachmentId", Rule::Custom("NotFound"))
        .value(id.hyphenated())
        .message("Attachment {PropertyValue} does not exist.")
}

fn invalid(error: FieldError) -> ApiError {
    ApiError::Invalid(vec![error])
}

fn not_found(id: u64) -> ApiError {
    ApiError::NotFound(format!("Document share {id} not found"))
}
