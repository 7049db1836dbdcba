//! `POST /v1/customerlink/revoke`: the bulk revocation's filters and its answer (our own
//! operation; the platform had none).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::wire::status::ResponseStatus;
use crate::wire::types::Guid;
use crate::wire::types::lenient::opt_i32;

/// At least one subject: `ResourceType` with `ResourceUid`, `RecipientContactId` or
/// `CreatedByUserId`; `Status` narrows further. Every matching link of the caller's tenant
/// that is not revoked yet is revoked, with `Reason` in its access log.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(default)]
pub struct CustomerLinkBulkRevokeRequest {
    pub ResourceType: Option<String>,
    pub ResourceUid: Option<Guid>,
    #[serde(deserialize_with = "opt_i32")]
    pub RecipientContactId: Option<i32>,
    pub CreatedByUserId: Option<Guid>,
    pub Status: Option<String>,
    pub Reason: Option<String>,
}

/// How many links this call revoked, and the first of their uids (at most 1000).
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct CustomerLinkBulkRevokeResponse {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ResponseStatus: Option<ResponseStatus>,
    pub Revoked: u64,
    pub CustomerLinkUIDs: Vec<Guid>,
}
