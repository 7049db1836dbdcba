//! Staff operations on contacts, scoped to the caller's tenant; they give
//! `RecipientContactId` its meaning.

use super::dto::*;
use super::error::ApiError;
use crate::api::Records;
use crate::domain::tenant::StaffCaller;
use crate::domain::{ContactId, FieldError, Rule};
use crate::store::Store;
use crate::store::commands::{DeleteContact, PutContact};
use crate::store::queries::{ContactOf, ContactsOf};

pub async fn put(
    state: Records<'_>,
    caller: &StaffCaller,
    req: Contact,
) -> Result<ContactResponse, ApiError> {
    let contact = req
        .into_domain(caller.tenant_id, state.clock.now())
        .validate()
        .map_err(ApiError::Invalid)?;
    let written = state.store.write(PutContact(Box::new(contact))).await?;
    Ok(ContactResponse {
        ResponseStatus: None,
        Contact: Contact::from_domain(&written.contact),
    })
}

pub async fn get(
    store: &Store,
    caller: &StaffCaller,
    req: ContactRequest,
) -> Result<ContactResponse, ApiError> {
    let id = required_id(req.ContactId)?;
    let query = ContactOf {
        tenant: caller.tenant_id,
        id,
    };
    let contact = store.fetch(query).await?.ok_or_else(|| not_found(id))?;
    Ok(ContactResponse {
        ResponseStatus: None,
        Contact: Contact::from_domain(&contact),
    })
}

pub async fn delete(
    store: &Store,
    caller: &StaffCaller,
    req: ContactRequest,
) -> Result<EmptyResponse, ApiError> {
    let id = required_id(req.ContactId)?;
    let op = DeleteContact {
        tenant_id: caller.tenant_id,
        contact_id: id,
    };
    match store.write(op).await? {
        false => Err(not_found(id)),
        true => Ok(EmptyResponse::default()),
    }
}

pub async fn list(
    store: &Store,
    caller: &StaffCaller,
    req: ContactListRequest,
) -> Result<ContactListResponse, ApiError> {
    let take = super::page_size(req.Take)?;
    let query = ContactsOf {
        tenant: caller.tenant_id,
        skip: req.Skip.unwrap_or(0),
        take,
    };
    let (contacts, total) = store.fetch(query).await?;
    Ok(ContactListResponse {
        ResponseStatus: None,
        Contacts: contacts.iter().map(Contact::from_domain).collect(),
        Total: total,
    })
}

fn required_id(id: Option<i32>) -> Result<ContactId, ApiError> {
    id.filter(|id| *id > 0).map(ContactId::from).ok_or_else(|| {
        let error = FieldError::new("ContactId", Rule::GreaterThan(0));
        ApiError::Invalid(vec![match id {
            Some(id) => error.value(id),
            None => error,
        }])
    })
}

fn not_found(id: ContactId) -> ApiError {
    ApiError::NotFound(format!("Contact {id} not found"))
}
