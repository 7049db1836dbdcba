//! `GET /v1/customerlink/{uid}/evidence` and `GET /v1/evidence/key` (issue 15 §3): the link's
//! facts and complete access log, signed with the service's Ed25519 key, and that key's public
//! half. The document's format and signed bytes are `crate::evidence`'s (docs/evidence.md);
//! the hashes were fixed when each row was written, so the handler only copies them.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use super::dto::{
    CustomerLinkDelivery, CustomerLinkEvidenceResponse, CustomerLinkExtended,
    CustomerLinkUidRequest, EvidenceKeyRequest, EvidenceKeyResponse, EvidenceLogRow,
};
use super::error::ApiError;
use super::state::Keyed;
use crate::domain::LinkUid;
use crate::domain::link::LinkRecord;
use crate::domain::share::Family;
use crate::domain::tenant::StaffCaller;
use crate::evidence::{FORMAT, canonical_json};
use crate::store::queries::{AccessLogOf, LinkOf, LinkWithDeliveries};
use crate::wire::types::UtcDateTime;

/// The signed evidence of one link of the caller's tenant; 404 as `GET` for another's.
pub async fn evidence(
    state: Keyed<'_>,
    caller: &StaffCaller,
    req: CustomerLinkUidRequest,
) -> Result<CustomerLinkEvidenceResponse, ApiError> {
    let uid = super::customerlink::required_uid(req.CustomerLinkUID)?;
    let of = LinkOf {
        tenant: caller.tenant_id,
        uid,
    };
    let (link, deliveries) = state
        .store
        .fetch(LinkWithDeliveries(of))
        .await?
        .filter(|(l, _)| Family::CustomerLink.owns(l))
        .ok_or_else(|| super::customerlink::not_found(uid))?;
    let log = state.store.fetch(AccessLogOf {
        tenant: caller.tenant_id,
        uid,
    });
    let mut doc = document(&link, uid, state.clock.now())?;
    doc.Deliveries = deliveries
        .iter()
        .map(|d| to_value(&CustomerLinkDelivery::from_record(d)))
        .collect::<Result<_, _>>()?;
    // The chain's order is the ids' (the log reads order by time).
    let mut log = log.await?;
    log.sort_by_key(|e| e.id);
    doc.AccessLog = log.iter().map(EvidenceLogRow::from_entry).collect();
    sign(state, doc)
}

/// The unsigned document of `link`, without its deliveries and log yet.
fn document(
    link: &LinkRecord,
    uid: LinkUid,
    now: crate::domain::UnixMillis,
) -> Result<CustomerLinkEvidenceResponse, ApiError> {
    Ok(CustomerLinkEvidenceResponse {
        ResponseStatus: None,
        Format: FORMAT.to_owned(),
        IssuedAtUtc: UtcDateTime::from(now).to_wire(),
        CustomerLinkUID: uid.as_uuid().to_string(),
        CustomerLinkId: link.link_id,
        TenantId: link.tenant_id.as_uuid().to_string(),
        Link: to_value(&CustomerLinkExtended::from_record(link, now))?,
        AccessLog: Vec::new(),
        Deliveries: Vec::new(),
        Signature: String::new(),
    })
}

/// A wire DTO as plain JSON values (Guids and dates become the strings the JSON form shows).
fn to_value(dto: &impl serde::Serialize) -> Result<serde_json::Value, ApiError> {
    serde_json::to_value(dto).map_err(|e| ApiError::Internal(e.to_string()))
}

/// Signs the canonical bytes of `doc` (everything but `Signature`).
fn sign(
    state: Keyed<'_>,
    mut doc: CustomerLinkEvidenceResponse,
) -> Result<CustomerLinkEvidenceResponse, ApiError> {
    let signer = state
        .keys
        .evidence_signer()
        .ok_or_else(|| ApiError::Internal("the evidence signing key is unusable".into()))?;
    let bytes = canonical_json(&to_value(&doc)?);
    doc.Signature = STANDARD.encode(signer.sign(&bytes).as_ref());
    Ok(doc)
}

/// The public key that verifies evidence documents of this service.
pub async fn public_key(
    state: Keyed<'_>,
    _caller: &StaffCaller,
    _req: EvidenceKeyRequest,
) -> Result<EvidenceKeyResponse, ApiError> {
    let key = state
        .keys
        .evidence_public_key()
        .ok_or_else(|| ApiError::Internal("the evidence signing key is unusable".into()))?;
    Ok(EvidenceKeyResponse {
        ResponseStatus: None,
        PublicKey: STANDARD.encode(key),
    })
}
