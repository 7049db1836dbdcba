//! Portal rules that need no storage: the verified-session cookie (a MAC over the link, its
//! current token and an expiry — so a cookie of one link never opens another, and a resend
//! ends every session of the old token), hand-off grants, and the access-log vocabulary.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::link::LinkRecord;
use super::token::{HashKeys, Secret, random_bytes};

/// How long a verified session lasts.
pub const SESSION_TTL_MS: i64 = 30 * 60_000;
/// How long a hand-off grant can be exchanged.
pub const GRANT_TTL_MS: i64 = 5 * 60_000;

/// The value of the session cookie for `link`, valid until `expires`.
pub fn session_cookie(keys: &HashKeys, link: &LinkRecord, expires: i64) -> String {
    let mac = keys.session_mac(link.uid.as_bytes(), &link.token_hash, expires);
    let mut raw = Vec::with_capacity(56);
    raw.extend_from_slice(link.uid.as_bytes());
    raw.extend_from_slice(&expires.to_le_bytes());
    raw.extend_from_slice(mac.as_bytes());
    URL_SAFE_NO_PAD.encode(raw)
}

/// Whether `cookie` proves a verified session for `link` at `now` (constant-time MAC check).
pub fn session_is_valid(keys: &HashKeys, link: &LinkRecord, cookie: &str, now: i64) -> bool {
    let Ok(raw) = URL_SAFE_NO_PAD.decode(cookie.trim()) else {
        return false;
    };
    let (Some(uid), Some(expires), Some(mac)) = (raw.get(..16), raw.get(16..24), raw.get(24..56))
    else {
        return false;
    };
    let (Ok(expires), Ok(mac)) = (<[u8; 8]>::try_from(expires), <[u8; 32]>::try_from(mac)) else {
        return false;
    };
    let expires = i64::from_le_bytes(expires);
    let expected = keys.session_mac(link.uid.as_bytes(), &link.token_hash, expires);
    uid == link.uid.as_bytes()
        && now < expires
        && expected == blake3::Hash::from_bytes(mac)
        && raw.len() == 56
}

/// A new hand-off grant: the secret (for the redirect) and its raw bytes (to hash).
pub fn new_grant() -> Result<(Secret<String>, [u8; 32]), getrandom::Error> {
    let bytes: [u8; 32] = random_bytes()?;
    Ok((Secret::new(URL_SAFE_NO_PAD.encode(bytes)), bytes))
}

/// Parses a grant presented by a resource application.
pub fn parse_grant(text: &str) -> Option<[u8; 32]> {
    let text = text.trim();
    if text.len() != 43 {
        return None;
    }
    URL_SAFE_NO_PAD.decode(text).ok()?.try_into().ok()
}

/// What a grant lets a resource application know (stored under the grant's keyed hash).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GrantRecord {
    pub link_uid: Uuid,
    pub link_id: u64,
    pub tenant_id: Uuid,
    pub resource_type: String,
    pub resource_uid: Uuid,
    pub recipient_display_name: Option<String>,
    pub recipient_email: Option<String>,
    pub recipient_phone: Option<String>,
    pub expires_at: i64,
}

/// A landing page view on its way to the access log (written in batches, see
/// `jobs::landing_log`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LandingView {
    pub link_uid: Uuid,
    pub at: i64,
    pub actor: Actor,
}

/// Events of a link's access log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AccessEvent {
    Created,
    Delivered,
    DeliveryFailed,
    LandingViewed,
    OtpSent,
    OtpFailed,
    OtpVerified,
    Locked,
    Unlocked,
    Opened,
    OpenDenied,
    Revoked,
    Resent,
    /// The link itself was purged; its log is kept for the retention window.
    Purged,
}

impl AccessEvent {
    pub fn as_str(self) -> &'static str {
        match self {
            AccessEvent::Created => "Created",
            AccessEvent::Delivered => "Delivered",
            AccessEvent::DeliveryFailed => "DeliveryFailed",
            AccessEvent::LandingViewed => "LandingViewed",
            AccessEvent::OtpSent => "OtpSent",
            AccessEvent::OtpFailed => "OtpFailed",
            AccessEvent::OtpVerified => "OtpVerified",
            AccessEvent::Locked => "Locked",
            AccessEvent::Unlocked => "Unlocked",
            AccessEvent::Opened => "Opened",
            AccessEvent::OpenDenied => "OpenDenied",
            AccessEvent::Revoked => "Revoked",
            AccessEvent::Resent => "Resent",
            AccessEvent::Purged => "Purged",
        }
    }
}

/// Who did something, as far as the server can tell.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    /// The staff user, for staff actions.
    pub user_id: Option<Uuid>,
}

impl Actor {
    /// A staff user acting through the API.
    pub fn staff(user_id: Uuid) -> Actor {
        Actor {
            user_id: Some(user_id),
            ..Actor::default()
        }
    }
}

/// One row of a link's access log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessLogEntry {
    pub id: u64,
    pub link_uid: Uuid,
    pub link_id: u64,
    pub tenant_id: Uuid,
    pub event: AccessEvent,
    /// `Success`, `Failure` or `Info`.
    pub outcome: String,
    pub detail: Option<String>,
    pub actor: Actor,
    pub at: i64,
}

/// Entries kept per link; older ones are dropped, so a scanner cannot grow a log forever.
pub const LOG_CAP_PER_LINK: usize = 200;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::token::Secret;

    fn link(uid: u128, token: u8) -> LinkRecord {
        let mut l: LinkRecord =
            rmp_serde::from_slice(&rmp_serde::to_vec_named(&sample()).unwrap()).unwrap();
        l.uid = Uuid::from_u128(uid);
        l.token_hash = [token; 32];
        l
    }

    fn sample() -> LinkRecord {
        use crate::domain::link::*;
        use crate::domain::policy::*;
        let policy = Policy::parse(DEFAULT_POLICY).unwrap();
        let caller = crate::domain::tenant::StaffCaller {
            tenant_id: Uuid::nil(),
            user_id: Uuid::nil(),
            agent_id: None,
            roles: vec![],
        };
        let req = CreateLink {
            resource_type: Some("Quote".into()),
            resource_uid: Some(Uuid::from_u128(1)),
            recipient_email: Some("a@b.co".into()),
            ..CreateLink::default()
        };
        plan_link(
            &req,
            ContactLookup::NotRequested,
            &policy,
            &caller,
            0,
            Uuid::from_u128(1),
            crate::domain::token::SecretHash([0; 32]),
        )
        .unwrap()
        .record
    }

    #[test]
    fn sessions_are_bound_to_link_token_and_time() {
        let keys = HashKeys::derive(&Secret::new([3; 32]));
        let a = link(1, 1);
        let cookie = session_cookie(&keys, &a, 1_000);
        assert!(session_is_valid(&keys, &a, &cookie, 999));
        assert!(!session_is_valid(&keys, &a, &cookie, 1_000), "expired");
        assert!(
            !session_is_valid(&keys, &link(2, 1), &cookie, 0),
            "another link"
        );
        assert!(
            !session_is_valid(&keys, &link(1, 2), &cookie, 0),
            "the token was rotated"
        );
        let other_keys = HashKeys::derive(&Secret::new([4; 32]));
        assert!(!session_is_valid(&other_keys, &a, &cookie, 0));
        assert!(!session_is_valid(&keys, &a, "garbage", 0));
        assert!(!session_is_valid(&keys, &a, &format!("{cookie}AA"), 0));
    }

    #[test]
    fn grants_round_trip() {
        let (text, bytes) = new_grant().unwrap();
        assert_eq!(parse_grant(text.expose()), Some(bytes));
        assert_eq!(parse_grant("short"), None);
    }
}
