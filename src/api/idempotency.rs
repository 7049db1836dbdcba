//! The `Idempotency-Key` header on create and resend (decided by the resolved operation, so
//! every alias of the route behaves the same). A key names the first result for 24 h in its
//! tenant: a resend of the same request gets that result again (the same link, the same
//! `PortalUrl`), never a second link; the same key with a different request is a 422.

use hyper::header::HeaderMap;

use super::dto::{CustomerLinkCreateResponse, CustomerLinkExtended};
use super::error::ApiError;
use crate::api::Issuer;
use crate::domain::tenant::StaffCaller;
use crate::domain::token::LinkToken;
use crate::domain::{FieldError, LinkUid, Rule, UnixMillis};
use crate::store::queries::{IdempotencyOf, LinkOf};
use crate::store::{IdempotencyKey, IdempotencyRecord, IdempotencyStamp};

/// The header, as IETF draft-ietf-httpapi-idempotency-key-header and payment APIs name it.
pub const HEADER: &str = "idempotency-key";
/// Longest key accepted (Stripe's limit).
const MAX_LEN: usize = 255;

/// One request's key and what identifies the request itself.
pub struct Once {
    key: IdempotencyKey,
    operation: &'static str,
    fingerprint: [u8; 32],
}

impl Once {
    /// `None` without the header; 400 if the header is empty, too long or not visible ASCII.
    /// `request` is the bound DTO: its `Debug` form lists every member after binding, so the
    /// same request in any wire format or through any alias has the same fingerprint.
    /// For item `item` of an AutoBatch, the client's key stands for the whole batch, so each
    /// item gets the key with its index appended, and a retried batch replays every item it
    /// already ran.
    pub fn for_item(
        headers: &HeaderMap,
        operation: &'static str,
        request: &impl std::fmt::Debug,
        item: Option<usize>,
    ) -> Result<Option<Once>, ApiError> {
        let Some(value) = headers.get(HEADER) else {
            return Ok(None);
        };
        let text = value
            .to_str()
            .ok()
            .filter(|t| (1..=MAX_LEN).contains(&t.len()))
            .filter(|t| t.bytes().all(|b| b.is_ascii_graphic()))
            .ok_or_else(|| {
                ApiError::Invalid(vec![
                    FieldError::new("Idempotency-Key", Rule::Custom("InvalidIdempotencyKey"))
                        .display("Idempotency-Key")
                        .message(format!(
                            "'{{PropertyName}}' must be 1 to {MAX_LEN} visible ASCII characters."
                        )),
                ])
            })?;
        let mut hasher = blake3::Hasher::new();
        hasher.update(operation.as_bytes());
        hasher.update(format!("{request:?}").as_bytes());
        Ok(Some(Once {
            key: match item {
                Some(i) => IdempotencyKey::of(&format!("{text}[{i}]")),
                None => IdempotencyKey::of(text),
            },
            operation,
            fingerprint: *hasher.finalize().as_bytes(),
        }))
    }

    /// What the writer stores beside the link `uid` this request writes with `token`.
    pub fn stamp(
        &self,
        state: Issuer<'_>,
        caller: &StaffCaller,
        uid: LinkUid,
        token: &LinkToken,
        now: UnixMillis,
        delivery_errors: &[String],
    ) -> Result<Box<IdempotencyStamp>, ApiError> {
        Ok(Box::new(IdempotencyStamp {
            tenant_id: caller.tenant_id,
            key: self.key,
            record: IdempotencyRecord {
                operation: self.operation.to_owned(),
                fingerprint: self.fingerprint,
                link_uid: uid,
                sealed_token: state.keys.seal_token(token, uid.as_bytes())?,
                delivery_errors: delivery_errors.to_vec(),
                created_at: now,
            },
        }))
    }

    /// The first result of this key, if it has one (read before any work is done).
    pub async fn first_result(
        &self,
        state: Issuer<'_>,
        caller: &StaffCaller,
    ) -> Result<Option<CustomerLinkCreateResponse>, ApiError> {
        let now = state.clock.now();
        let query = IdempotencyOf {
            tenant: caller.tenant_id,
            key: self.key,
            now,
        };
        match state.store.fetch(query).await? {
            Some(record) => self.replay(state, caller, &record).await.map(Some),
            None => Ok(None),
        }
    }

    /// Rebuilds the first reply from its record: the link as it is now, the same `PortalUrl`
    /// and the delivery errors known when it was written. 422 if the key was used for a different request.
    pub async fn replay(
        &self,
        state: Issuer<'_>,
        caller: &StaffCaller,
        record: &IdempotencyRecord,
    ) -> Result<CustomerLinkCreateResponse, ApiError> {
        if record.operation != self.operation || record.fingerprint != self.fingerprint {
            return Err(ApiError::Unprocessable(
                "This Idempotency-Key was already used with a different request; \
                 use a new key for a new request."
                    .into(),
            ));
        }
        let uid = record.link_uid;
        let of = LinkOf {
            tenant: caller.tenant_id,
            uid,
        };
        let link = state.store.fetch(of).await?;
        let token = state.keys.open_token(&record.sealed_token, uid.as_bytes());
        let (Some(link), Some(token)) = (link, token) else {
            return Err(ApiError::Conflict(format!(
                "The link {} made with this Idempotency-Key is no longer available.",
                uid.simple()
            )));
        };
        Ok(CustomerLinkCreateResponse {
            ResponseStatus: None,
            Link: CustomerLinkExtended::from_record(&link, state.clock.now()),
            PortalUrl: crate::domain::share::Family::CustomerLink
                .recipient_url(state.public_url, &token),
            DeliveryErrors: record.delivery_errors.clone(),
        })
    }
}
