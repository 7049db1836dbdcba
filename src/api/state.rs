//! The state the request path shares: built once by `app` at start (`AppState::open`) and
//! shared as `Arc<AppState>` by the accept loop and the handlers. Background jobs and
//! delivery never see it: they get narrow handles (`jobs::Handles`, `delivery::outbox::Outbox`),
//! and so do the staff operations that only touch records ([`Records`], `&Store`).

use std::sync::Arc;

use crate::clock::Clock;
use crate::config::{Config, DeliverySettings};
use crate::delivery::outbox::Outbox;
use crate::domain::policy::Policy;
use crate::domain::token::HashKeys;
use crate::metrics::Metrics;
use crate::store::Store;

/// Everything a request handler may use; handlers that need less take the narrower field.
pub struct AppState {
    pub config: Config,
    pub store: Store,
    pub clock: Arc<dyn Clock>,
    pub policy: Policy,
    pub keys: HashKeys,
    /// `/openapi.json`, generated once from the route table.
    pub openapi: bytes::Bytes,
    /// Delivery attempts: the email relay, SMS gateway and templates, and what they record.
    pub outbox: Outbox,
    /// Per-address limits of the recipient portal.
    pub portal_limits: super::portal::PortalLimits,
    /// "Ask for a new link" requests waiting for the re-issue job.
    pub reissues: Arc<super::portal::reissue::ReissueRequests>,
    /// Callers of API keys this process has already looked up.
    pub key_cache: super::auth::KeyCache,
    /// What `/metrics` reports.
    pub metrics: Metrics,
}

/// The store and the clock: all that the staff operations on stored records use (get, lists,
/// revoke, unlock, the access log, contacts). A handler that takes it cannot reach the keys,
/// config, delivery or the portal's limits. The route table hands it over (`.into()`).
#[derive(Clone, Copy)]
pub struct Records<'a> {
    pub store: &'a Store,
    pub clock: &'a dyn Clock,
}

impl<'a> From<&'a AppState> for Records<'a> {
    fn from(state: &'a AppState) -> Self {
        Records {
            store: &state.store,
            clock: &*state.clock,
        }
    }
}

/// For staff operations that only read or write records and need no time.
impl<'a> From<&'a AppState> for &'a Store {
    fn from(state: &'a AppState) -> Self {
        &state.store
    }
}

/// What minting a link uses — create, resend and their idempotent replays: records, keys,
/// the tier policy, the outbox and its settings, the public URL. No portal limits, API-key
/// cache or metrics. The route table hands it over (`.into()`).
#[derive(Clone, Copy)]
pub struct Issuer<'a> {
    pub store: &'a Store,
    pub clock: &'a dyn Clock,
    pub keys: &'a HashKeys,
    pub policy: &'a Policy,
    pub outbox: &'a Outbox,
    pub delivery: &'a DeliverySettings,
    /// The portal URLs in replies start with it.
    pub public_url: &'a str,
}

impl<'a> From<&'a AppState> for Issuer<'a> {
    fn from(state: &'a AppState) -> Self {
        Issuer {
            store: &state.store,
            clock: &*state.clock,
            keys: &state.keys,
            policy: &state.policy,
            outbox: &state.outbox,
            delivery: &state.config.delivery,
            public_url: &state.config.public_url,
        }
    }
}

/// Records, the clock and the keys derived from the master secret: what exchanging a grant
/// (the grant's keyed hash) and issuing evidence (the signing key, `IssuedAtUtc`) use.
#[derive(Clone, Copy)]
pub struct Keyed<'a> {
    pub store: &'a Store,
    pub clock: &'a dyn Clock,
    pub keys: &'a HashKeys,
}

impl<'a> From<&'a AppState> for Keyed<'a> {
    fn from(state: &'a AppState) -> Self {
        Keyed {
            store: &state.store,
            clock: &*state.clock,
            keys: &state.keys,
        }
    }
}
