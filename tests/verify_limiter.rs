//! Issue 10, item 2: the per-address passcode limiter cannot be switched off by filling it.
//! Unknown tokens cost nothing in it, one client cannot fill it, and a full limiter refuses
//! (429) rather than letting new keys through uncounted.

use customerlink::domain::token::LinkToken;
use serde_json::{Value, json};

use crate::support::{Req, Resp, TestServer, portal_token, uid};

fn document(s: &TestServer, n: u128) -> String {
    let created = s
        .post(
            "/v1/customerlink",
            json!({"ResourceType": "Document", "ResourceUid": uid(n), "RecipientEmail": "doc@example.com"}),
        )
        .expect(200);
    portal_token(&created)
}

fn verify(s: &TestServer, token: &str) -> Resp {
    Req::new(s.addr, "POST", &format!("/portal/{token}/verify"))
        .json(&json!({"Code": "000000"}))
        .send()
}

fn wrong(r: &Resp) -> Value {
    let body = r.expect(200);
    assert_eq!(body["Verified"], false, "{body}");
    body
}

#[test]
fn issue_10_a_flood_of_unknown_tokens_does_not_switch_the_passcode_limiter_off() {
    let s = TestServer::start_with(|c| {
        c.portal.requests_per_minute = 100_000;
        c.portal.limiter_max_keys = 50;
    });
    let token = document(&s, 1);
    for _ in 0..60 {
        let random = LinkToken::generate().unwrap().encode();
        assert_eq!(verify(&s, &random).status, 404);
    }
    for _ in 0..3 {
        wrong(&verify(&s, &token));
    }
    let limited = verify(&s, &token);
    assert_eq!(limited.status, 429, "{limited:#?}");
    assert!(limited.header("retry-after").is_some());
}

#[test]
fn issue_10_a_dead_token_is_never_limited_so_it_looks_like_an_unknown_one() {
    let s = TestServer::start_with(|c| c.portal.requests_per_minute = 100_000);
    let created = s
        .post(
            "/v1/customerlink",
            json!({"ResourceType": "Document", "ResourceUid": uid(1), "RecipientEmail": "doc@example.com"}),
        )
        .expect(200);
    let link_uid = created["Link"]["CustomerLinkUID"].as_str().unwrap();
    s.post(&format!("/v1/customerlink/{link_uid}/revoke"), json!({}))
        .expect(200);
    let dead = portal_token(&created);
    let unknown = LinkToken::generate().unwrap().encode();
    for _ in 0..5 {
        let (d, u) = (verify(&s, &dead), verify(&s, &unknown));
        assert_eq!((d.status, d.body), (404, u.body));
    }
}

#[test]
fn issue_10_one_address_cannot_fill_the_passcode_limiter() {
    let s = TestServer::start_with(|c| {
        c.portal.requests_per_minute = 100_000;
        c.portal.limiter_keys_per_address = 2;
    });
    let tokens: Vec<String> = (1..=3).map(|n| document(&s, n)).collect();
    wrong(&verify(&s, &tokens[0]));
    wrong(&verify(&s, &tokens[1]));
    let third = verify(&s, &tokens[2]);
    assert_eq!(
        third.status, 429,
        "a third link in the same window is refused, not counted: {third:#?}"
    );
    assert!(third.header("retry-after").is_some());
    wrong(&verify(&s, &tokens[0]));
    s.clock.advance_millis(15 * 60_000);
    wrong(&verify(&s, &tokens[2]));
}
