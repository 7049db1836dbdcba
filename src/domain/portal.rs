//! Portal rules that need no storage: the verified-session cookie (a MAC over the link, its
//! current token and an expiry — so a cookie of one link never opens another, and a resend
//! ends every session of the old token), hand-off grants, and the access-log vocabulary.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::link::{LinkRecord, LinkStatus};
use super::token::{HashKeys, Secret, random_bytes};
use super::{LinkUid, TenantId, TokenHash, UnixMillis, UserId};

/// How long a verified session lasts.
pub const SESSION_TTL_MS: i64 = 30 * 60_000;
/// How long a hand-off grant can be exchanged.
pub const GRANT_TTL_MS: i64 = 5 * 60_000;

/// The value of the session cookie for `link`, valid until `expires`.
pub fn session_cookie(keys: &HashKeys, link: &LinkRecord, expires: UnixMillis) -> String {
    let mac = keys.session_mac(link.uid.as_bytes(), &link.token_hash, expires);
    let mut raw = Vec::with_capacity(56);
    raw.extend_from_slice(link.uid.as_bytes());
    raw.extend_from_slice(&expires.as_i64().to_le_bytes());
    raw.extend_from_slice(mac.as_bytes());
    URL_SAFE_NO_PAD.encode(raw)
}

/// Whether `cookie` proves a verified session for `link` at `now` (constant-time MAC check).
pub fn session_is_valid(keys: &HashKeys, link: &LinkRecord, cookie: &str, now: UnixMillis) -> bool {
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
    let expires = UnixMillis::from_millis(i64::from_le_bytes(expires));
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
    pub link_uid: LinkUid,
    pub link_id: u64,
    pub tenant_id: TenantId,
    pub resource_type: String,
    pub resource_uid: Uuid,
    pub recipient_display_name: Option<String>,
    pub recipient_email: Option<String>,
    pub recipient_phone: Option<String>,
    pub expires_at: UnixMillis,
    /// The link's token hash when the grant was handed out: a resend replaces the token and
    /// so ends the grants of the old one. Grants stored before this field read all zeros and
    /// end at once (they lived five minutes at most).
    #[serde(default)]
    pub token_hash: TokenHash,
}

impl GrantRecord {
    /// Whether `link` (None once purged) still backs this grant at `at`: a grant never
    /// outlives its link's revocation, expiry, purge or token replacement. Checked when the
    /// grant is exchanged, in the same transaction that reads the link.
    pub fn is_backed_by(&self, link: Option<&LinkRecord>, at: UnixMillis) -> bool {
        link.is_some_and(|l| {
            l.uid == self.link_uid
                && l.tenant_id == self.tenant_id
                && l.revoked_at.is_none()
                && at < l.expires_at
                && l.token_hash == self.token_hash
        })
    }
}

/// Why a request may not open a link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpenRefusal {
    /// Revoked, expired, exhausted or locked.
    Dead(LinkStatus),
    /// The link requires a passcode and the request's session was not verified for this
    /// token.
    PasscodeNotVerified,
}

impl OpenRefusal {
    /// The access log's detail for the refused open.
    pub fn detail(self) -> &'static str {
        match self {
            OpenRefusal::Dead(status) => status.as_str(),
            OpenRefusal::PasscodeNotVerified => "passcode not verified",
        }
    }
}

/// Opens `link` at `at` for a request whose valid session cookie named `verified_for`:
/// counts the view and returns what the hand-off grant tells, or why it may not open.
pub fn open(
    link: &mut LinkRecord,
    verified_for: Option<TokenHash>,
    at: UnixMillis,
) -> Result<GrantRecord, OpenRefusal> {
    let status = link.status(at);
    if status != LinkStatus::Active {
        return Err(OpenRefusal::Dead(status));
    }
    if link.require_otp && verified_for != Some(link.token_hash) {
        return Err(OpenRefusal::PasscodeNotVerified);
    }
    link.view_count += 1;
    Ok(GrantRecord {
        link_uid: link.uid,
        link_id: link.link_id,
        tenant_id: link.tenant_id,
        resource_type: link.resource_type.clone(),
        resource_uid: link.resource_uid,
        recipient_display_name: link.recipient_display_name.clone(),
        recipient_email: link.recipient_email.clone(),
        recipient_phone: link.recipient_phone.clone(),
        expires_at: at.plus_ms(GRANT_TTL_MS),
        token_hash: link.token_hash,
    })
}

/// The access log's detail of a counted view; a share's says it was a download.
pub fn opened_detail(link: &LinkRecord) -> String {
    let view = format!("view {} of {}", link.view_count, link.max_views);
    match super::share::Family::of(link) {
        super::share::Family::CustomerLink => view,
        super::share::Family::DocumentShare => format!("Downloaded, {view}"),
    }
}

/// A landing page view on its way to the access log (written in batches, see
/// `jobs::landing_log`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LandingView {
    pub link_uid: LinkUid,
    pub at: UnixMillis,
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
    /// The recipient asked for a new link from the page of an expired or used-up link.
    ReissueRequested,
}

impl AccessEvent {
    /// Every event, in declaration order.
    pub const ALL: [AccessEvent; 15] = [
        AccessEvent::Created,
        AccessEvent::Delivered,
        AccessEvent::DeliveryFailed,
        AccessEvent::LandingViewed,
        AccessEvent::OtpSent,
        AccessEvent::OtpFailed,
        AccessEvent::OtpVerified,
        AccessEvent::Locked,
        AccessEvent::Unlocked,
        AccessEvent::Opened,
        AccessEvent::OpenDenied,
        AccessEvent::Revoked,
        AccessEvent::Resent,
        AccessEvent::Purged,
        AccessEvent::ReissueRequested,
    ];

    /// The event [`AccessEvent::as_str`] names; `None` for any other text.
    pub fn parse(text: &str) -> Option<AccessEvent> {
        Self::ALL.into_iter().find(|e| e.as_str() == text)
    }

    /// Noise: what anyone holding (or guessing at) a token can cause at will — landing
    /// views, passcode sends and failures, denied opens. Noise rows are aggregated per
    /// address and capped per link; every other event is a lifecycle row, never evicted.
    pub fn is_noise(self) -> bool {
        matches!(
            self,
            AccessEvent::LandingViewed
                | AccessEvent::OtpSent
                | AccessEvent::OtpFailed
                | AccessEvent::OpenDenied
        )
    }

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
            AccessEvent::ReissueRequested => "ReissueRequested",
        }
    }
}

/// How an access-log event ended. Stored as its name (the text the field held when it was a
/// string), so old rows read unchanged; a row naming anything else is damaged and reads as
/// corrupt, as an unknown [`AccessEvent`] does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Outcome {
    /// A staff action done, a passcode verified, a link opened, a message sent.
    Success,
    /// Something refused or failed: a wrong passcode, a denied open, a failed send.
    Failure,
    /// Neither: a landing view, a passcode sent.
    Info,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Success => "Success",
            Outcome::Failure => "Failure",
            Outcome::Info => "Info",
        }
    }
}

impl std::str::FromStr for Outcome {
    type Err = String;

    /// The stored name, exactly.
    fn from_str(text: &str) -> Result<Self, String> {
        [Outcome::Success, Outcome::Failure, Outcome::Info]
            .into_iter()
            .find(|o| o.as_str() == text)
            .ok_or_else(|| format!("unknown access-log outcome '{text}'"))
    }
}

/// Who did something, as far as the server can tell.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    /// The staff user, for staff actions.
    pub user_id: Option<UserId>,
}

impl Actor {
    /// A staff user acting through the API.
    pub fn staff(user_id: UserId) -> Actor {
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
    pub link_uid: LinkUid,
    pub link_id: u64,
    pub tenant_id: TenantId,
    pub event: AccessEvent,
    pub outcome: Outcome,
    pub detail: Option<String>,
    pub actor: Actor,
    /// When the row was written; for an aggregated noise row, its first occurrence.
    pub at: UnixMillis,
    /// Occurrences the row stands for (repeats of a noise event from one address).
    #[serde(default = "one")]
    pub count: u64,
    /// The latest occurrence of an aggregated noise row; None for lifecycle rows and for
    /// rows written before aggregation existed.
    #[serde(default)]
    pub last_at: Option<UnixMillis>,
    /// The row's hash and the chain head it followed (`domain::evidence`), set when the row
    /// is first written; `None` for rows written before the chain existed.
    #[serde(default)]
    pub chain: Option<super::evidence::ChainLink>,
}

fn one() -> u64 {
    1
}

impl AccessLogEntry {
    /// Folds more occurrences into an aggregated noise row: the count grows, the first and
    /// last times widen, and the latest occurrence's detail and User-Agent win.
    pub fn absorb(&mut self, repeats: Repeats, detail: Option<String>, actor: &Actor) {
        self.count = self.count.saturating_add(repeats.count);
        let last = self.last_at.unwrap_or(self.at);
        if repeats.last >= last {
            self.detail = detail;
            self.actor.user_agent.clone_from(&actor.user_agent);
        }
        self.last_at = Some(last.max(repeats.last));
        self.at = self.at.min(repeats.first);
    }
}

/// Opens of a dead link refused to one address for one reason, counted in memory and
/// logged together as `OpenDenied`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepeatedDenial {
    pub token_hash: TokenHash,
    /// The link's status (`Revoked`, `Expired`, …).
    pub detail: String,
    /// The latest opener (its User-Agent is the one kept).
    pub actor: Actor,
    pub repeats: Repeats,
}

/// Occurrences of one noise event from one address, already counted together (a flood of
/// denials is collected in memory as one entry, then written as one row update).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Repeats {
    pub first: UnixMillis,
    pub last: UnixMillis,
    pub count: u64,
}

impl Repeats {
    /// A single occurrence.
    pub fn once(at: UnixMillis) -> Repeats {
        Repeats {
            first: at,
            last: at,
            count: 1,
        }
    }

    /// One more occurrence at `at`.
    pub fn again(&mut self, at: UnixMillis) {
        self.count = self.count.saturating_add(1);
        self.first = self.first.min(at);
        self.last = self.last.max(at);
    }
}

/// The key under which repeats of a noise event aggregate into one row: the event, its
/// outcome and the client address. None for lifecycle events, which are never aggregated.
pub fn noise_key(event: AccessEvent, outcome: Outcome, actor: &Actor) -> Option<String> {
    event.is_noise().then(|| {
        format!(
            "{}|{}|{}",
            event.as_str(),
            outcome.as_str(),
            actor.ip.as_deref().unwrap_or("")
        )
    })
}

/// Aggregated noise rows kept per link; past it the least recently seen one goes, so a
/// scanner from many addresses cannot grow a log forever. Lifecycle rows do not count.
pub const NOISE_ROWS_PER_LINK: usize = 200;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::millis::ms;
    use crate::domain::token::Secret;

    fn link(uid: u128, token: u8) -> LinkRecord {
        let mut l = crate::domain::link::tests_support::record();
        l.uid = LinkUid::from_u128(uid);
        l.token_hash = TokenHash([token; 32]);
        l
    }

    #[test]
    fn an_outcome_is_stored_as_its_name_and_nothing_else_reads() {
        for o in [Outcome::Success, Outcome::Failure, Outcome::Info] {
            let bytes = rmp_serde::to_vec_named(&o).unwrap();
            assert_eq!(bytes, rmp_serde::to_vec_named(o.as_str()).unwrap());
            assert_eq!(o.as_str().parse(), Ok(o));
        }
        let stored = rmp_serde::to_vec_named("Maybe").unwrap();
        assert!(rmp_serde::from_slice::<Outcome>(&stored).is_err());
    }

    #[test]
    fn sessions_are_bound_to_link_token_and_time() {
        let keys = HashKeys::derive(&Secret::new([3; 32]));
        let a = link(1, 1);
        let cookie = session_cookie(&keys, &a, ms(1_000));
        assert!(session_is_valid(&keys, &a, &cookie, ms(999)));
        assert!(!session_is_valid(&keys, &a, &cookie, ms(1_000)), "expired");
        assert!(
            !session_is_valid(&keys, &link(2, 1), &cookie, ms(0)),
            "another link"
        );
        assert!(
            !session_is_valid(&keys, &link(1, 2), &cookie, ms(0)),
            "the token was rotated"
        );
        let other_keys = HashKeys::derive(&Secret::new([4; 32]));
        assert!(!session_is_valid(&other_keys, &a, &cookie, ms(0)));
        assert!(!session_is_valid(&keys, &a, "garbage", ms(0)));
        assert!(!session_is_valid(&keys, &a, &format!("{cookie}AA"), ms(0)));
    }

    #[test]
    fn a_grant_is_backed_only_by_its_live_link_and_token() {
        let l = link(1, 7);
        let grant = GrantRecord {
            link_uid: l.uid,
            link_id: l.link_id,
            tenant_id: l.tenant_id,
            resource_type: l.resource_type.clone(),
            resource_uid: l.resource_uid,
            recipient_display_name: None,
            recipient_email: None,
            recipient_phone: None,
            expires_at: ms(1_000),
            token_hash: l.token_hash,
        };
        assert!(grant.is_backed_by(Some(&l), ms(0)));
        assert!(!grant.is_backed_by(None, ms(0)), "purged");
        assert!(!grant.is_backed_by(Some(&link(1, 8)), ms(0)), "resent");
        assert!(
            !grant.is_backed_by(Some(&link(2, 7)), ms(0)),
            "another link"
        );
        let mut revoked = l.clone();
        revoked.revoked_at = Some(ms(0));
        assert!(!grant.is_backed_by(Some(&revoked), ms(0)), "revoked");
        assert!(!grant.is_backed_by(Some(&l), l.expires_at), "expired");
    }

    fn from(ip: &str, ua: &str) -> Actor {
        Actor {
            ip: Some(ip.into()),
            user_agent: Some(ua.into()),
            user_id: None,
        }
    }

    #[test]
    fn noise_rows_aggregate_per_event_outcome_and_address() {
        let a = from("192.0.2.1", "A");
        let key = noise_key(AccessEvent::OpenDenied, Outcome::Failure, &a);
        assert_eq!(key.as_deref(), Some("OpenDenied|Failure|192.0.2.1"));
        let b = from("192.0.2.2", "A");
        assert_ne!(
            key,
            noise_key(AccessEvent::OpenDenied, Outcome::Failure, &b)
        );
        assert_eq!(noise_key(AccessEvent::Opened, Outcome::Success, &a), None);
    }

    #[test]
    fn an_old_row_reads_as_one_and_absorbs_repeats() {
        let a = from("192.0.2.1", "A");
        #[derive(Serialize)]
        struct OldRow {
            id: u64,
            link_uid: LinkUid,
            link_id: u64,
            tenant_id: TenantId,
            event: AccessEvent,
            outcome: String,
            detail: Option<String>,
            actor: Actor,
            at: UnixMillis,
        }
        let old = OldRow {
            id: 1,
            link_uid: Uuid::nil().into(),
            link_id: 1,
            tenant_id: Uuid::nil().into(),
            event: AccessEvent::OpenDenied,
            outcome: "Failure".into(),
            detail: Some("Revoked".into()),
            actor: a.clone(),
            at: ms(100),
        };
        let mut row: AccessLogEntry =
            rmp_serde::from_slice(&rmp_serde::to_vec_named(&old).unwrap()).unwrap();
        assert_eq!(
            (row.count, row.last_at),
            (1, None),
            "an old row reads as one"
        );
        row.absorb(
            Repeats::once(ms(300)),
            Some("Expired".into()),
            &from("192.0.2.1", "B"),
        );
        row.absorb(
            Repeats::once(ms(50)),
            Some("early".into()),
            &from("192.0.2.1", "C"),
        );
        assert_eq!((row.count, row.at, row.last_at), (3, ms(50), Some(ms(300))));
        assert_eq!(
            row.detail.as_deref(),
            Some("Expired"),
            "the latest detail wins"
        );
        assert_eq!(row.actor.user_agent.as_deref(), Some("B"));
    }

    #[test]
    fn grants_round_trip() {
        let (text, bytes) = new_grant().unwrap();
        assert_eq!(parse_grant(text.expose()), Some(bytes));
        assert_eq!(parse_grant("short"), None);
    }

    #[test]
    fn an_open_counts_the_view_only_when_the_link_may_be_opened() {
        let mut link = crate::domain::link::tests_support::record();
        link.max_views = 1;
        let grant = open(&mut link, None, ms(10)).unwrap();
        assert_eq!(
            (link.view_count, grant.expires_at),
            (1, ms(10 + GRANT_TTL_MS))
        );
        assert_eq!(grant.token_hash, link.token_hash);
        let refused = open(&mut link, None, ms(11));
        assert_eq!(refused, Err(OpenRefusal::Dead(LinkStatus::Exhausted)));
        assert_eq!(link.view_count, 1);
        link.max_views = 5;
        link.require_otp = true;
        let refused = open(&mut link, Some(TokenHash([0; 32])), ms(12)).unwrap_err();
        assert_eq!(
            (refused, refused.detail()),
            (OpenRefusal::PasscodeNotVerified, "passcode not verified")
        );
        let verified = Some(link.token_hash);
        assert!(open(&mut link, verified, ms(13)).is_ok());
        assert_eq!(link.view_count, 2);
    }
}
