//! Staff operations on customer links: create, list by resource, page through the tenant's
//! links, get one, revoke. Another tenant's link answers exactly like a missing one.

use uuid::Uuid;

use super::dto::*;
use super::error::ApiError;
use crate::app::AppState;
use crate::domain::FieldError;
use crate::domain::contact::Contact;
use crate::domain::link::{ContactLookup, CreateLink, LinkRecord, LinkStatus, plan_link};
use crate::domain::tenant::StaffCaller;
use crate::domain::token::LinkToken;
use crate::store::{WriteOp, WriteOutcome};

pub async fn create(
    state: &AppState,
    caller: &StaffCaller,
    req: CustomerLinkCreateRequest,
) -> Result<CustomerLinkCreateResponse, ApiError> {
    let input = CreateLink {
        resource_type: req.ResourceType,
        resource_uid: req.ResourceUid.map(|g| g.0),
        // 0 is what clients with non-nullable ids send for "none".
        recipient_contact_id: req.RecipientContactId.filter(|id| *id != 0),
        recipient_email: req.RecipientEmail,
        recipient_phone: req.RecipientPhone,
        deliver_email: req.DeliverEmail.unwrap_or(false),
        deliver_sms: req.DeliverSms.unwrap_or(false),
        expires_in_hours: req.ExpiresInHours,
        max_views: req.MaxViews,
    };
    let contact: Option<Contact> = match input.recipient_contact_id {
        Some(id) => state
            .store
            .read(|r| r.contact(caller.tenant_id, id))?
            .filter(Contact::is_usable),
        None => None,
    };
    let lookup = match (&contact, input.recipient_contact_id) {
        (Some(c), _) => ContactLookup::Found(c),
        (None, Some(_)) => ContactLookup::Missing,
        (None, None) => ContactLookup::NotRequested,
    };
    let token = LinkToken::generate()?;
    let now = state.clock.now();
    let planned = plan_link(
        &input,
        lookup,
        &state.policy,
        caller,
        now,
        Uuid::new_v4(),
        state.keys.link_token(&token),
    )
    .map_err(ApiError::Invalid)?;
    let link = expect_link(
        state
            .store
            .write(WriteOp::CreateLink(Box::new(planned.record)))
            .await?,
    )?;
    Ok(CustomerLinkCreateResponse {
        ResponseStatus: None,
        Link: CustomerLinkExtended::from_record(&link, now),
        PortalUrl: format!("{}/portal/{}", state.config.public_url, token.encode()),
        DeliveryErrors: Vec::new(),
    })
}

pub fn list_for_resource(
    state: &AppState,
    caller: &StaffCaller,
    req: CustomerLinkListRequest,
) -> Result<CustomerLinkListResponse, ApiError> {
    let resource_type = req.ResourceType.filter(|t| !t.trim().is_empty());
    let resource_uid = req.ResourceUid.map(|g| g.0);
    let (Some(resource_type), Some(resource_uid)) = (resource_type, resource_uid) else {
        return Err(ApiError::Invalid(vec![FieldError::new(
            "ResourceUid",
            "NotEmpty",
            "ResourceType and ResourceUid are required.",
        )]));
    };
    let links = state
        .store
        .read(|r| r.links_by_resource(caller.tenant_id, &resource_type, resource_uid))?;
    Ok(list_response(state, &links, None))
}

pub fn query(
    state: &AppState,
    caller: &StaffCaller,
    req: CustomerLinkQueryRequest,
) -> Result<CustomerLinkListResponse, ApiError> {
    let status = match req
        .Status
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        None => None,
        Some(text) => Some(LinkStatus::parse(text).ok_or_else(|| {
            ApiError::Invalid(vec![FieldError::new(
                "Status",
                "Enum",
                format!("'{text}' is not a status: use Active, Expired, Exhausted or Revoked."),
            )])
        })?),
    };
    let take = super::page_size(req.Take)?;
    let now = state.clock.now();
    let page = state
        .store
        .read(|r| r.links_by_tenant(caller.tenant_id, status, now, req.Skip.unwrap_or(0), take))?;
    Ok(list_response(state, &page.links, Some(page.total)))
}

pub fn get(
    state: &AppState,
    caller: &StaffCaller,
    req: CustomerLinkRequest,
) -> Result<CustomerLinkResponse, ApiError> {
    let uid = required_uid(req.CustomerLinkUID)?;
    let link = state
        .store
        .read(|r| r.link(caller.tenant_id, uid))?
        .ok_or_else(|| not_found(uid))?;
    Ok(CustomerLinkResponse {
        ResponseStatus: None,
        Link: CustomerLinkExtended::from_record(&link, state.clock.now()),
    })
}

pub async fn revoke(
    state: &AppState,
    caller: &StaffCaller,
    req: CustomerLinkRevokeRequest,
) -> Result<CustomerLinkResponse, ApiError> {
    let uid = required_uid(req.CustomerLinkUID)?;
    let now = state.clock.now();
    let op = WriteOp::RevokeLink {
        tenant_id: caller.tenant_id,
        uid,
        by: caller.user_id,
        at: now,
    };
    let link = match state.store.write(op).await? {
        WriteOutcome::NotFound => return Err(not_found(uid)),
        other => expect_link(other)?,
    };
    Ok(CustomerLinkResponse {
        ResponseStatus: None,
        Link: CustomerLinkExtended::from_record(&link, now),
    })
}

fn list_response(
    state: &AppState,
    links: &[LinkRecord],
    total: Option<u64>,
) -> CustomerLinkListResponse {
    let now = state.clock.now();
    CustomerLinkListResponse {
        ResponseStatus: None,
        Links: links
            .iter()
            .map(|l| CustomerLinkExtended::from_record(l, now))
            .collect(),
        Total: total,
    }
}

fn required_uid(uid: Option<crate::wire::types::Guid>) -> Result<Uuid, ApiError> {
    uid.map(|g| g.0).filter(|u| !u.is_nil()).ok_or_else(|| {
        ApiError::Invalid(vec![FieldError::new(
            "CustomerLinkUID",
            "NotEmpty",
            "'Customer Link UID' must not be empty.",
        )])
    })
}

fn not_found(uid: Uuid) -> ApiError {
    ApiError::NotFound(format!("Customer link {} not found", uid.simple()))
}

fn expect_link(outcome: WriteOutcome) -> Result<LinkRecord, ApiError> {
    match outcome {
        WriteOutcome::Link(link) => Ok(*link),
        other => Err(ApiError::Internal(format!(
            "unexpected write outcome {other:?}"
        ))),
    }
}
