//! Staff authentication: an API key from `Authorization: Bearer KEY`,
//! `Authorization: Basic base64(KEY:)` or `X-Api-Key: KEY`, looked up by its keyed hash.
//! Missing, malformed, unknown and revoked keys all get the same 401.

use std::borrow::Cow;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hyper::header::{AUTHORIZATION, HeaderMap, HeaderName};

use super::error::ApiError;
use super::routes::Op;
use crate::api::AppState;
use crate::clock::Clock;
use crate::domain::tenant::{Role, StaffCaller};
use crate::domain::token::{ApiKey, HashKeys};
use crate::store::Store;
use crate::store::queries::ApiKeyByHash;

mod cache;

pub use cache::KeyCache;

/// What checking an API key needs, and nothing more: the key hash, the callers already
/// looked up (and the clock that ages them), and the store that holds the keys.
#[derive(Clone, Copy)]
pub struct Gate<'a> {
    pub keys: &'a HashKeys,
    pub cache: &'a KeyCache,
    pub store: &'a Store,
    pub clock: &'a dyn Clock,
}

impl<'a> From<&'a AppState> for Gate<'a> {
    fn from(state: &'a AppState) -> Self {
        Gate {
            keys: &state.keys,
            cache: &state.key_cache,
            store: &state.store,
            clock: &*state.clock,
        }
    }
}

/// The caller behind a valid, unrevoked key that may call `op`: 401 for no valid key, 403
/// (with a ResponseStatus) when the key lacks the role the operation declares.
pub async fn authenticate(
    gate: Gate<'_>,
    headers: &HeaderMap,
    op: Op,
) -> Result<StaffCaller, ApiError> {
    let caller = caller(gate, headers).await?;
    match op.needs() {
        Some(role) if !caller.may(role) => Err(ApiError::Forbidden(forbidden(role).into())),
        _ => Ok(caller),
    }
}

fn forbidden(role: Role) -> &'static str {
    match role {
        Role::ResourceServer => "This operation needs an API key with the ResourceServer role.",
        Role::Staff => {
            "This API key has only the ResourceServer role: it may exchange grants and nothing else."
        }
    }
}

/// The caller behind a valid, unrevoked key.
async fn caller(gate: Gate<'_>, headers: &HeaderMap) -> Result<StaffCaller, ApiError> {
    let key = presented_key(headers)
        .and_then(|text| ApiKey::parse(&text))
        .ok_or(ApiError::Unauthorized)?;
    let hash = gate.keys.api_key(&key);
    let cache = gate.cache;
    let now = gate.clock.now();
    if let Some(caller) = cache.get(&hash.0, now) {
        return Ok(caller);
    }
    let ticket = cache.ticket();
    let record = gate.store.fetch(ApiKeyByHash(hash)).await?;
    match record {
        Some(k) if k.revoked_at.is_none() => {
            let caller = StaffCaller::from(&k);
            cache.remember(ticket, hash.0, k.key_id, caller.clone(), now);
            Ok(caller)
        }
        _ => Err(ApiError::Unauthorized),
    }
}

/// The key text as sent: borrowed from the header, except a Basic credential (decoded).
fn presented_key(headers: &HeaderMap) -> Option<Cow<'_, str>> {
    const X_API_KEY: HeaderName = HeaderName::from_static("x-api-key");
    if let Some(v) = headers.get(X_API_KEY) {
        return v.to_str().ok().map(Cow::Borrowed);
    }
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, rest) = value.split_once(' ')?;
    if scheme.eq_ignore_ascii_case("bearer") {
        Some(Cow::Borrowed(rest.trim()))
    } else if scheme.eq_ignore_ascii_case("basic") {
        let decoded = STANDARD.decode(rest.trim()).ok()?;
        let text = String::from_utf8(decoded).ok()?;
        Some(Cow::Owned(
            text.split_once(':')
                .map_or(text.as_str(), |(user, _)| user)
                .to_owned(),
        ))
    } else {
        None
    }
}
