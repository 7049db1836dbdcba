//! Staff operations on customer links: create, list by resource, page through the tenant's
//! links, get one, revoke. Another tenant's link answers exactly like a missing one.

use uuid::Uuid;

use super::delivery;
use super::dto::*;
use super::error::ApiError;
use super::idempotency::Once;
use crate::api::{Issuer, Keyed, Records};
use crate::domain::contact::Contact;
use crate::domain::link::{ContactLookup, CreateLink, LinkRecord, LinkStatus, plan_link};
use crate::domain::resend;
use crate::domain::share::Family;
use crate::domain::tenant::StaffCaller;
use crate::domain::token::LinkToken;
use crate::domain::{ContactId, FieldError, LinkUid, Rule, UnixMillis};
use crate::store::Store;
use crate::store::commands::{
    self as cmd, ConsumeGrant, Idempotent, LinkQueued, Resend, ResendOutcome, RevokeLink,
    UnlockLink,
};
use crate::store::queries::{
    AccessLogOf, ContactOf, LinkOf, LinkWithContact, LinkWithDeliveries, LinksByResource,
    LinksByTenant,
};
use crate::store::{Replayable, ResendRefusal, Write};

/// `POST /v1/customerlink` (and its aliases). With an `Idempotency-Key` (`once`), a repeat of
/// the same request answers with the first result instead of making a second link.
pub async fn create(
    state: Issuer<'_>,
    caller: &StaffCaller,
    req: CustomerLinkCreateRequest,
    once: Option<Once>,
) -> Result<CustomerLinkCreateResponse, ApiError> {
    if let Some(first) = first_result(state, caller, once.as_ref()).await? {
        return Ok(first);
    }
    let input = create_input(req);
    let contact = usable_contact(state.store, caller, input.recipient_contact_id).await?;
    let lookup = ContactLookup::of(contact.as_ref(), input.recipient_contact_id);
    let token = LinkToken::generate()?;
    let now = state.clock.now();
    let planned = plan_link(
        &input,
        lookup,
        state.policy,
        caller,
        now,
        // Time-ordered: new links append to the primary table instead of scattering pages.
        Uuid::now_v7().into(),
        state.keys.token(Family::CustomerLink, &token),
    )
    .map_err(ApiError::Invalid)?;
    let wanted = (input.deliver_email, input.deliver_sms);
    let (deliveries, mut delivery_errors) = delivery::plan(
        state.outbox,
        state.policy,
        &planned.record,
        &token,
        wanted,
        contact.as_ref(),
    )?;
    let call = Created {
        state,
        caller,
        once: once.as_ref(),
        uid: planned.record.uid,
        token: &token,
        now,
    };
    let op = cmd::CreateLink {
        link: Box::new(planned.record),
        deliveries,
        limits: delivery::limits(state.delivery, now),
    };
    let written = match call.write(op, &delivery_errors).await? {
        Ok(written) => written,
        Err(first) => return Ok(first),
    };
    call.respond(written, &mut delivery_errors).await
}

/// The domain's view of a create request.
fn create_input(req: CustomerLinkCreateRequest) -> CreateLink {
    CreateLink {
        resource_type: req.ResourceType,
        resource_uid: req.ResourceUid.map(|g| g.0),
        // 0 is what clients with non-nullable ids send for "none".
        recipient_contact_id: req
            .RecipientContactId
            .filter(|id| *id != 0)
            .map(ContactId::from),
        recipient_email: req.RecipientEmail,
        recipient_phone: req.RecipientPhone,
        deliver_email: req.DeliverEmail.unwrap_or(false),
        deliver_sms: req.DeliverSms.unwrap_or(false),
        expires_in_hours: req.ExpiresInHours,
        max_views: req.MaxViews,
        locale: req.Locale,
    }
}

/// The contact a create names, if it exists in the caller's tenant and may be used.
pub(super) async fn usable_contact(
    store: &Store,
    caller: &StaffCaller,
    id: Option<ContactId>,
) -> Result<Option<Contact>, ApiError> {
    let Some(id) = id else {
        return Ok(None);
    };
    let query = ContactOf {
        tenant: caller.tenant_id,
        id,
    };
    Ok(store.fetch(query).await?.filter(Contact::is_usable))
}

async fn first_result(
    state: Issuer<'_>,
    caller: &StaffCaller,
    once: Option<&Once>,
) -> Result<Option<CustomerLinkCreateResponse>, ApiError> {
    match once {
        Some(once) => once.first_result(state, caller).await,
        None => Ok(None),
    }
}

/// A create or resend about to be written: what its reply needs.
struct Created<'a> {
    state: Issuer<'a>,
    caller: &'a StaffCaller,
    once: Option<&'a Once>,
    uid: LinkUid,
    token: &'a LinkToken,
    now: UnixMillis,
}

impl Created<'_> {
    /// Writes the create or resend, under the caller's idempotency key if it sent one; a key
    /// that already names a result answers with that result (`Err`) and writes nothing.
    async fn write<C>(
        &self,
        command: C,
        delivery_errors: &[String],
    ) -> Result<Result<C::Output, CustomerLinkCreateResponse>, ApiError>
    where
        C: Write,
        Idempotent<C>: Write<Output = Replayable<C::Output>>,
    {
        let (state, caller) = (self.state, self.caller);
        let Some(once) = self.once else {
            return Ok(Ok(state.store.write(command).await?));
        };
        let stamp = once.stamp(
            state,
            caller,
            self.uid,
            self.token,
            self.now,
            delivery_errors,
        )?;
        Ok(
            match state.store.write(Idempotent { command, stamp }).await? {
                Replayable::Fresh(output) => Ok(output),
                Replayable::Replay(record) => Err(once.replay(state, caller, &record).await?),
            },
        )
    }

    /// Answers a written create or resend like a create: makes the first delivery attempts.
    async fn respond(
        self,
        written: LinkQueued,
        delivery_errors: &mut Vec<String>,
    ) -> Result<CustomerLinkCreateResponse, ApiError> {
        let state = self.state;
        delivery_errors.extend(written.refused);
        delivery_errors.extend(
            delivery::first_attempts(
                state.outbox,
                state.delivery.attempt_timeout,
                &written.queued,
                self.token,
            )
            .await,
        );
        Ok(CustomerLinkCreateResponse {
            ResponseStatus: None,
            Link: CustomerLinkExtended::from_record(&written.link, self.now),
            PortalUrl: Family::CustomerLink.recipient_url(state.public_url, self.token),
            DeliveryErrors: std::mem::take(delivery_errors),
        })
    }
}

/// What a resend refused, as the API answers it.
fn resend_result(outcome: ResendOutcome, uid: LinkUid) -> Result<LinkQueued, ApiError> {
    match outcome {
        ResendOutcome::Resent(written) => Ok(written),
        ResendOutcome::NotFound => Err(not_found(uid)),
        ResendOutcome::Refused(refusal) => Err(resend_refused(refusal, "link")),
    }
}

/// A refused resend of a `noun` ("link", "share"): 409 while it is not active, 429 within
/// the resend limits.
pub(super) fn resend_refused(refusal: ResendRefusal, noun: &str) -> ApiError {
    match refusal {
        ResendRefusal::NotActive(status) => ApiError::Conflict(format!(
            "The {noun} is {}; only active {noun}s can be re-sent.",
            status.as_str()
        )),
        ResendRefusal::RateLimited { retry_after_ms } => ApiError::TooManyRequests {
            message: format!("This {noun} was re-sent too recently."),
            retry_after_secs: (retry_after_ms.max(0) as u64).div_ceil(1000),
        },
    }
}

/// `POST /v1/customerlink/{uid}/resend`: a new token (the old URL stops working at once),
/// delivered again over the chosen channels (default: the channels it went out on).
pub async fn resend(
    state: Issuer<'_>,
    caller: &StaffCaller,
    req: CustomerLinkResendRequest,
    once: Option<Once>,
) -> Result<CustomerLinkCreateResponse, ApiError> {
    let uid = required_uid(req.CustomerLinkUID)?;
    if let Some(first) = first_result(state, caller, once.as_ref()).await? {
        return Ok(first);
    }
    let of = LinkOf {
        tenant: caller.tenant_id,
        uid,
    };
    let found = state.store.fetch(LinkWithContact(of)).await?;
    let (link, contact) = found
        .filter(|(l, _)| Family::CustomerLink.owns(l))
        .ok_or_else(|| not_found(uid))?;
    let wanted =
        resend::channels(&link, req.DeliverEmail, req.DeliverSms).map_err(ApiError::Invalid)?;
    let token = LinkToken::generate()?;
    let now = state.clock.now();
    let (deliveries, mut delivery_errors) = delivery::plan(
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
        uid,
        by: caller.user_id,
        token_hash: state.keys.token(Family::CustomerLink, &token),
        at: now,
        deliveries,
        limits: delivery::limits(state.delivery, now),
        rules: delivery::resend_rules(d),
        reissue: None,
    };
    let call = Created {
        state,
        caller,
        once: once.as_ref(),
        uid,
        token: &token,
        now,
    };
    let written = match call.write(op, &delivery_errors).await? {
        Ok(outcome) => resend_result(outcome, uid)?,
        Err(first) => return Ok(first),
    };
    call.respond(written, &mut delivery_errors).await
}

pub async fn list_for_resource(
    state: Records<'_>,
    caller: &StaffCaller,
    req: CustomerLinkListRequest,
) -> Result<CustomerLinkListResponse, ApiError> {
    let resource_type = req
        .ResourceType
        .filter(|t| !t.trim().is_empty())
        .map(|t| crate::domain::resource_type::clean(&t).unwrap_or(t));
    let resource_uid = req.ResourceUid.map(|g| g.0);
    let (Some(resource_type), Some(resource_uid)) = (resource_type, resource_uid) else {
        return Err(ApiError::Invalid(vec![
            FieldError::new("ResourceUid", Rule::NotEmpty)
                .message("'Resource Type' and '{PropertyName}' are required."),
        ]));
    };
    let query = LinksByResource {
        tenant: caller.tenant_id,
        resource_type,
        resource_uid,
    };
    let mut links = state.store.fetch(query).await?;
    // A share's marker type is not a type a customer link can have, but it can be spelt.
    links.retain(|l| Family::CustomerLink.owns(l));
    Ok(list_response(&links, None, state.clock.now()))
}

pub async fn query(
    state: Records<'_>,
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
            ApiError::Invalid(vec![FieldError::new("Status", Rule::Enum).value(text)])
        })?),
    };
    let take = super::page_size(req.Take)?;
    let now = state.clock.now();
    let query = LinksByTenant {
        tenant: caller.tenant_id,
        family: Family::CustomerLink,
        status,
        now,
        skip: req.Skip.unwrap_or(0),
        take,
    };
    let page = state.store.fetch(query).await?;
    Ok(list_response(&page.links, Some(page.total), now))
}

pub async fn get(
    state: Records<'_>,
    caller: &StaffCaller,
    req: CustomerLinkRequest,
) -> Result<CustomerLinkResponse, ApiError> {
    let uid = required_uid(req.CustomerLinkUID)?;
    let of = LinkOf {
        tenant: caller.tenant_id,
        uid,
    };
    let found = state.store.fetch(LinkWithDeliveries(of)).await?;
    let (link, deliveries) = found
        .filter(|(l, _)| Family::CustomerLink.owns(l))
        .ok_or_else(|| not_found(uid))?;
    Ok(CustomerLinkResponse {
        ResponseStatus: None,
        Link: CustomerLinkExtended::from_record(&link, state.clock.now()),
        Deliveries: Some(
            deliveries
                .iter()
                .map(CustomerLinkDelivery::from_record)
                .collect(),
        ),
    })
}

pub async fn revoke(
    state: Records<'_>,
    caller: &StaffCaller,
    req: CustomerLinkRevokeRequest,
) -> Result<CustomerLinkResponse, ApiError> {
    let uid = required_uid(req.CustomerLinkUID)?;
    let now = state.clock.now();
    let op = RevokeLink {
        tenant_id: caller.tenant_id,
        uid,
        by: caller.user_id,
        at: now,
    };
    write_link(state.store, uid, op, now).await
}

/// Applies a staff write to one link and answers with the link as it now is.
async fn write_link<C: Write<Output = Option<Box<LinkRecord>>>>(
    store: &Store,
    uid: LinkUid,
    op: C,
    now: UnixMillis,
) -> Result<CustomerLinkResponse, ApiError> {
    let link = store.write(op).await?.ok_or_else(|| not_found(uid))?;
    Ok(CustomerLinkResponse {
        ResponseStatus: None,
        Link: CustomerLinkExtended::from_record(&link, now),
        Deliveries: None,
    })
}

fn list_response(
    links: &[LinkRecord],
    total: Option<u64>,
    now: UnixMillis,
) -> CustomerLinkListResponse {
    CustomerLinkListResponse {
        ResponseStatus: None,
        Links: links
            .iter()
            .map(|l| CustomerLinkExtended::from_record(l, now))
            .collect(),
        Total: total,
    }
}

pub(super) fn required_uid(uid: Option<crate::wire::types::Guid>) -> Result<LinkUid, ApiError> {
    uid.map(|g| g.0)
        .filter(|u| !u.is_nil())
        .map(LinkUid::from)
        .ok_or_else(|| {
            let error = FieldError::new("CustomerLinkUID", Rule::NotEmpty);
            ApiError::Invalid(vec![match uid {
                Some(nil) => error.value(nil.0.hyphenated()),
                None => error,
            }])
        })
}

pub(super) fn not_found(uid: LinkUid) -> ApiError {
    ApiError::NotFound(format!("Customer link {} not found", uid.simple()))
}

/// `POST /v1/customerlink/{uid}/unlock`: lifts a passcode lock and clears the failure count.
pub async fn unlock(
    state: Records<'_>,
    caller: &StaffCaller,
    req: CustomerLinkUidRequest,
) -> Result<CustomerLinkResponse, ApiError> {
    let uid = required_uid(req.CustomerLinkUID)?;
    let now = state.clock.now();
    let op = UnlockLink {
        tenant_id: caller.tenant_id,
        uid,
        by: caller.user_id,
        at: now,
    };
    write_link(state.store, uid, op, now).await
}

/// `GET /v1/customerlink/{uid}/log`: the access log, also after the link was purged.
pub async fn access_log(
    store: &Store,
    caller: &StaffCaller,
    req: CustomerLinkUidRequest,
) -> Result<CustomerLinkLogResponse, ApiError> {
    let uid = required_uid(req.CustomerLinkUID)?;
    let query = AccessLogOf {
        tenant: caller.tenant_id,
        uid,
    };
    let entries = store.fetch(query).await?;
    if entries.is_empty() {
        return Err(not_found(uid));
    }
    Ok(CustomerLinkLogResponse {
        ResponseStatus: None,
        AccessLog: entries
            .iter()
            .map(CustomerLinkAccessLog::from_entry)
            .collect(),
    })
}

/// `POST /v1/customerlink/grant/introspect`: exchanges a grant once; later calls, expired,
/// unknown and other tenants' grants all answer `Active: false`. Only keys with the
/// `ResourceServer` role get here (the route table says so; `auth` checks it).
pub async fn introspect(
    state: Keyed<'_>,
    caller: &StaffCaller,
    req: GrantIntrospectRequest,
) -> Result<GrantIntrospectResponse, ApiError> {
    exchange_grant(state, caller.tenant_id, req.Grant.as_deref().unwrap_or("")).await
}

/// Exchanges `grant` (its URL text) once for `tenant`: what introspection answers, and what
/// dev mode's `/dev/resource` shows. Unknown, used, expired and other tenants' grants are all
/// `Active: false`.
pub async fn exchange_grant(
    state: Keyed<'_>,
    tenant: crate::domain::TenantId,
    grant: &str,
) -> Result<GrantIntrospectResponse, ApiError> {
    let Some(grant) = crate::domain::portal::parse_grant(grant) else {
        return Ok(GrantIntrospectResponse::default());
    };
    let op = ConsumeGrant {
        grant: state.keys.grant(&grant),
        tenant_id: tenant,
        at: state.clock.now(),
    };
    Ok(match state.store.write(op).await? {
        Some(record) => GrantIntrospectResponse::active(&record),
        None => GrantIntrospectResponse::default(),
    })
}
