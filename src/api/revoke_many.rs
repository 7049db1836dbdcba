//! `POST /v1/customerlink/revoke`: revokes every customer link of the tenant that matches the
//! filters (a policy cancelled, a recipient gone, an employee left), in bounded batches — each
//! batch its own transaction, each link logged `Revoked` with the reason. Repeating the call
//! revokes what is left (nothing, once done), so it is safe to retry after any failure.

use super::dto::{CustomerLinkBulkRevokeRequest, CustomerLinkBulkRevokeResponse};
use super::error::ApiError;
use crate::api::Records;
use crate::domain::link_filter::{FilterInput, LinkFilter};
use crate::domain::tenant::StaffCaller;
use crate::store::commands::RevokeLinks;
use crate::store::queries::RevocableLinks;
use crate::wire::types::Guid;

/// Links revoked per transaction.
const BATCH: usize = 200;

/// Uids listed in the answer at most (`Revoked` counts them all).
const LISTED: usize = 1000;

/// Longest `Reason` kept in the log.
const REASON_CHARS: usize = 500;

pub async fn revoke_many(
    state: Records<'_>,
    caller: &StaffCaller,
    req: CustomerLinkBulkRevokeRequest,
) -> Result<CustomerLinkBulkRevokeResponse, ApiError> {
    let reason = req
        .Reason
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .map(|r| r.chars().take(REASON_CHARS).collect::<String>());
    let filter = LinkFilter::parse(FilterInput {
        resource_type: req.ResourceType,
        resource_uid: req.ResourceUid.map(|g| g.0),
        contact: req.RecipientContactId,
        created_by: req.CreatedByUserId.map(|g| g.0),
        status: req.Status,
    })
    .map_err(ApiError::Invalid)?;
    let mut answer = CustomerLinkBulkRevokeResponse {
        ResponseStatus: None,
        Revoked: 0,
        CustomerLinkUIDs: Vec::new(),
    };
    loop {
        let now = state.clock.now();
        let query = RevocableLinks {
            tenant: caller.tenant_id,
            filter: filter.clone(),
            now,
            limit: BATCH,
        };
        let uids = state.store.fetch(query).await?;
        if uids.is_empty() {
            return Ok(answer);
        }
        let batch = RevokeLinks {
            tenant_id: caller.tenant_id,
            uids,
            by: caller.user_id,
            at: now,
            reason: reason.clone(),
        };
        let revoked = state.store.write(batch).await?;
        if revoked.is_empty() {
            // Revoked by someone else between the read and the write: nothing is left.
            return Ok(answer);
        }
        answer.Revoked += revoked.len() as u64;
        let room = LISTED.saturating_sub(answer.CustomerLinkUIDs.len());
        let listed = revoked.iter().take(room).map(|u| Guid(u.as_uuid()));
        answer.CustomerLinkUIDs.extend(listed);
    }
}
