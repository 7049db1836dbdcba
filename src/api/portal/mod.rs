//! The recipient portal: the same four steps — landing, request a code, verify it, open —
//! for API callers (`api`, JSON/JSV/XML on `/portal/{Token}…`) and for browsers (`html`,
//! server-rendered pages on token-free URLs once the token has been swapped for a cookie).
//! `flow` holds the steps themselves; both front ends only translate.

pub mod api;
pub mod brand;
pub mod flow;
pub mod html;
mod pages;
pub mod reissue;

use hyper::header::{COOKIE, HeaderMap, USER_AGENT};

use super::limits::{Capacity, Limiter};
use super::{AppState, Request};
use crate::clock::Clock;
use crate::config::PortalSettings;
use crate::domain::policy::Policy;
use crate::domain::portal::Actor;
use crate::domain::share::Family;
use crate::domain::token::HashKeys;
use crate::metrics::PortalStats;
use crate::store::Store;

/// Cookie that carries the link token in the browser flow (the URL no longer does).
pub const TOKEN_COOKIE: &str = "cl_t";
/// Cookie that proves a verified passcode for one link.
pub const SESSION_COOKIE: &str = "cl_s";

/// What the portal steps may use, and nothing else of the state: no API keys, no delivery
/// settings or relay, no configuration beyond the public URL. The route table hands it over.
#[derive(Clone, Copy)]
pub struct Portal<'a> {
    pub store: &'a Store,
    pub clock: &'a dyn Clock,
    pub keys: &'a HashKeys,
    pub policy: &'a Policy,
    pub limits: &'a PortalLimits,
    /// Counts landing views the landing log had no room for.
    pub stats: &'a PortalStats,
    /// Decides the cookies' `Secure` flag and the origin browser forms must come from.
    pub public_url: &'a str,
    /// Whose tokens this surface accepts: `/portal/…` customer links, `/share/…` shares.
    pub family: Family,
    /// Re-issue requests for the worker that handles them after the answer.
    pub reissues: &'a reissue::ReissueRequests,
}

impl<'a> From<&'a AppState> for Portal<'a> {
    fn from(state: &'a AppState) -> Self {
        Portal {
            store: &state.store,
            clock: &*state.clock,
            keys: &state.keys,
            policy: &state.policy,
            limits: &state.portal_limits,
            stats: &state.metrics.portal,
            public_url: &state.config.public_url,
            family: Family::CustomerLink,
            reissues: &state.reissues,
        }
    }
}

impl Portal<'_> {
    /// Whether the portal is served over HTTPS (cookies then carry `Secure`).
    pub fn secure(&self) -> bool {
        self.public_url.starts_with("https://")
    }

    /// The surface's path, `/portal` or `/share`: its pages live under it and its cookies
    /// are scoped to it, so a share's cookies never reach the portal and the other way round.
    pub fn base(&self) -> &'static str {
        match self.family {
            Family::CustomerLink => "/portal",
            Family::DocumentShare => "/share",
        }
    }

    /// This surface's `Set-Cookie` value (see [`set_cookie`]), scoped to [`Portal::base`].
    pub fn cookie(&self, name: &str, value: &str, max_age_secs: i64, same_site: &str) -> String {
        set_cookie(
            name,
            value,
            max_age_secs,
            same_site,
            self.secure(),
            self.base(),
        )
    }

    /// This surface for another family's tokens.
    pub fn of(self, family: Family) -> Self {
        Portal { family, ..self }
    }
}

/// In-memory limits of the portal, per client address (an IPv6 client is its /64). Keys are
/// `address` or `address|scope`; see [`Limiter`].
#[derive(Debug)]
pub struct PortalLimits {
    pub requests: Limiter,
    pub verify: Limiter,
    /// At most one `LandingViewed` log entry per link and address per minute.
    pub landing_log: Limiter,
    /// "Ask for a new link" requests per address per hour (`[portal] reissues_per_address_per_hour`).
    pub reissue: Limiter,
    /// Landing views waiting for the next batch write of the access log.
    pub landing_views: std::sync::Arc<crate::jobs::landing_log::LandingViews>,
}

impl PortalLimits {
    pub fn new(settings: &PortalSettings) -> Self {
        let window = i64::try_from(settings.verify_window.as_millis()).unwrap_or(i64::MAX);
        let capacity = Capacity {
            max_keys: settings.limiter_max_keys,
            keys_per_client: settings.limiter_keys_per_address,
        };
        PortalLimits {
            requests: Limiter::new(settings.requests_per_minute, 60_000, capacity),
            verify: Limiter::new(settings.verify_attempts_per_address, window, capacity),
            landing_log: Limiter::new(1, 60_000, capacity),
            reissue: Limiter::new(settings.reissues_per_address_per_hour, 3_600_000, capacity),
            landing_views: Default::default(),
        }
    }
}

/// What a portal operation may know of its request: who asks and the session cookie they
/// carry — typed, so a step cannot reach for anything else of the raw request.
#[derive(Debug)]
pub struct Visitor {
    pub actor: Actor,
    /// The verified-passcode cookie ([`SESSION_COOKIE`]), if sent.
    pub session: Option<String>,
}

impl Visitor {
    pub fn of(req: &Request) -> Visitor {
        Visitor {
            actor: actor(req),
            session: cookie(&req.headers, SESSION_COOKIE).map(str::to_owned),
        }
    }

    pub fn session(&self) -> Option<&str> {
        self.session.as_deref()
    }
}

/// Who is asking: the client address and User-Agent (for the access log and limits).
pub fn actor(req: &Request) -> Actor {
    Actor {
        ip: req.remote.map(|ip| ip.to_string()),
        user_agent: req
            .headers
            .get(USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|ua| ua.chars().take(256).collect()),
        user_id: None,
    }
}

/// The value of a cookie.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// A `Set-Cookie` value scoped to `path`: HttpOnly, `Secure` behind HTTPS.
pub fn set_cookie(
    name: &str,
    value: &str,
    max_age_secs: i64,
    same_site: &str,
    secure: bool,
    path: &str,
) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!(
        "{name}={value}; Path={path}; HttpOnly; SameSite={same_site}; Max-Age={max_age_secs}{secure}"
    )
}
