//! Issue 10, item 11: a hand-off grant never outlives its link. Revocation, a resend (which
//! replaces the token) and purge each end the grants of the link they retire, even ones that
//! were handed out before and never exchanged.

use std::time::Duration;

use customerlink::config::Config;
use serde_json::{Value, json};

use crate::support::{Req, TestServer, create_key_with_roles, portal_token, uid};

/// A server and a `ResourceServer` key of its default tenant.
pub(crate) fn server_with_resource_key(tweak: fn(&mut Config)) -> (TestServer, String) {
    let s = TestServer::start_with(tweak);
    let tenant = s.tenant_id();
    s.restart_after(
        |data| create_key_with_roles(data, &tenant, &["ResourceServer"]),
        tweak,
    )
}

/// Creates a Quote link (no passcode) valid for `hours`; returns (token, uid).
pub(crate) fn quote(s: &TestServer, hours: u32) -> (String, String) {
    let created = s
        .post(
            "/v1/customerlink",
            json!({"ResourceType": "Quote", "ResourceUid": uid(1), "RecipientEmail": "a@example.com", "ExpiresInHours": hours}),
        )
        .expect(200);
    let uid = created["Link"]["CustomerLinkUID"]
        .as_str()
        .unwrap()
        .to_owned();
    (portal_token(&created), uid)
}

pub(crate) fn open(s: &TestServer, token: &str) -> String {
    Req::new(s.addr, "POST", &format!("/portal/{token}/open"))
        .send()
        .expect(200)["Grant"]
        .as_str()
        .unwrap()
        .to_owned()
}

pub(crate) fn introspect(s: &TestServer, key: &str, grant: &str) -> Value {
    s.req("POST", "/v1/customerlink/grant/introspect")
        .bearer(key)
        .json(&json!({"Grant": grant}))
        .send()
        .expect(200)
}

#[test]
fn issue_10_a_grant_ends_when_its_link_is_revoked() {
    let (s, rs_key) = server_with_resource_key(|_| {});
    let (token, link_uid) = quote(&s, 24);
    let kept = open(&s, &token);
    let ended = open(&s, &token);
    assert_eq!(introspect(&s, &rs_key, &kept)["Active"], true);
    s.post(&format!("/v1/customerlink/{link_uid}/revoke"), json!({}))
        .expect(200);
    assert_eq!(
        introspect(&s, &rs_key, &ended),
        json!({"Active": false}),
        "the link was revoked after the open"
    );
}

#[test]
fn issue_10_a_grant_ends_when_its_link_is_resent() {
    let (s, rs_key) = server_with_resource_key(|_| {});
    let (token, link_uid) = quote(&s, 24);
    let old = open(&s, &token);
    let resent = s
        .post(&format!("/v1/customerlink/{link_uid}/resend"), json!({}))
        .expect(200);
    let fresh = open(&s, &portal_token(&resent));
    assert_eq!(
        introspect(&s, &rs_key, &old),
        json!({"Active": false}),
        "a grant of the replaced token"
    );
    assert_eq!(
        introspect(&s, &rs_key, &fresh)["Active"],
        true,
        "the new token's grants work"
    );
}

#[test]
fn issue_10_a_grant_ends_when_its_link_is_purged() {
    let (s, rs_key) = server_with_resource_key(|c| {
        c.purge.interval = Duration::from_millis(30);
        c.purge.retention_ms = 0;
    });
    let (token, link_uid) = quote(&s, 1);
    s.clock.advance_millis(59 * 60_000);
    let grant = open(&s, &token);
    s.clock.advance_millis(2 * 60_000);
    crate::support::sinks::wait_until(
        || s.get(&format!("/v1/customerlink/{link_uid}")).status == 404,
        "purge",
    );
    assert_eq!(
        introspect(&s, &rs_key, &grant),
        json!({"Active": false}),
        "the grant is still within its five minutes, but its link is gone"
    );
}
