//! Issue 10 item 9: the `Idempotency-Key` header on create and resend. The same key in the
//! same tenant within 24 h answers with the first result (same link, same `PortalUrl`), on
//! every alias of the operation; the same key with another request is a 422; another tenant's
//! key is its own; after 24 h (and a purge) the key is free again.

use serde_json::{Value, json};

use crate::support::sinks::wait_until;
use crate::support::{Resp, TestServer, uid};

fn create_with_key(s: &TestServer, path: &str, key: &str, bearer: &str, r: u128) -> Resp {
    s.req("POST", path)
        .bearer(bearer)
        .header("Idempotency-Key", key)
        .json(&json!({
            "ResourceType": "Quote",
            "ResourceUid": uid(r),
            "RecipientEmail": "idem@example.com",
        }))
        .send()
}

fn links_of_resource(s: &TestServer, bearer: &str, r: u128) -> usize {
    let body: Value = s
        .req(
            "GET",
            &format!("/v1/customerlink/resource/Quote/{}", uid(r)),
        )
        .bearer(bearer)
        .send()
        .expect(200);
    body["Links"].as_array().map_or(0, Vec::len)
}

#[test]
fn issue10_same_idempotency_key_twice_makes_one_link_on_every_alias() {
    let s = TestServer::start();
    let key = s.key.clone();
    let first = create_with_key(&s, "/v1/customerlink", "order-7f3a", &key, 1).expect(200);
    let again = create_with_key(&s, "/v1/customerlink", "order-7f3a", &key, 1).expect(200);
    assert_eq!(again, first, "a resend answers with the first result");
    let alias =
        create_with_key(&s, "/api/CustomerLinkCreateRequest", "order-7f3a", &key, 1).expect(200);
    assert_eq!(
        alias["Link"]["CustomerLinkUID"],
        first["Link"]["CustomerLinkUID"]
    );
    assert_eq!(alias["PortalUrl"], first["PortalUrl"]);
    assert_eq!(links_of_resource(&s, &key, 1), 1, "one link, not three");

    let reused = create_with_key(&s, "/v1/customerlink", "order-7f3a", &key, 2);
    assert_eq!(reused.status, 422, "{}", reused.body);
    assert!(reused.body.contains("Idempotency-Key"), "{}", reused.body);
    assert_eq!(links_of_resource(&s, &key, 2), 0);

    let fresh = create_with_key(&s, "/v1/customerlink", "order-other", &key, 1).expect(200);
    assert_ne!(
        fresh["Link"]["CustomerLinkUID"],
        first["Link"]["CustomerLinkUID"]
    );
    let bad = create_with_key(&s, "/v1/customerlink", "", &key, 1);
    assert_eq!(bad.status, 400, "{}", bad.body);

    // After the 24 h window the key is free again (the expired record is replaced).
    s.clock.advance_hours(25);
    let later = create_with_key(&s, "/v1/customerlink", "order-7f3a", &key, 1).expect(200);
    assert_ne!(
        later["Link"]["CustomerLinkUID"],
        first["Link"]["CustomerLinkUID"]
    );
}

#[test]
fn issue10_same_idempotency_key_in_two_tenants_makes_two_links() {
    let (s, b) = TestServer::with_second_tenant(|_| {});
    let a = s.key.clone();
    let from_a = create_with_key(&s, "/v1/customerlink", "shared-key", &a, 1).expect(200);
    let from_b = create_with_key(&s, "/v1/customerlink", "shared-key", &b, 1).expect(200);
    assert_ne!(
        from_a["Link"]["CustomerLinkUID"],
        from_b["Link"]["CustomerLinkUID"]
    );
    assert_eq!(links_of_resource(&s, &a, 1), 1);
    assert_eq!(links_of_resource(&s, &b, 1), 1);
    s.check();
}

#[test]
fn issue10_resend_with_the_same_idempotency_key_resends_once() {
    let s = TestServer::start();
    let created = s.quote_link(3, "r@example.com");
    let link = created["Link"]["CustomerLinkUID"].as_str().expect("uid");
    let resend = |key: &str| {
        s.req("POST", &format!("/v1/customerlink/{link}/resend"))
            .header("Idempotency-Key", key)
            .json(&json!({}))
            .send()
    };
    let first = resend("resend-1").expect(200);
    // Without the key a second resend this soon would be refused (cooldown); with it, the
    // first result comes back and the token is not replaced again.
    let again = resend("resend-1").expect(200);
    assert_eq!(again["PortalUrl"], first["PortalUrl"]);
    assert_ne!(first["PortalUrl"], created["PortalUrl"]);
    assert_eq!(resend("resend-2").status, 429);
}

/// Waits until a whole purge round ran at the clock's current time: the first round that
/// starts after it, then the start of the next, which begins only once that one finished.
/// Each round is driven by moving the clock one purge interval (30 ms here).
fn complete_purge_round(s: &TestServer) {
    for _ in 0..2 {
        let runs = purge_runs(s);
        s.clock.advance_millis(30);
        wait_until(|| purge_runs(s) > runs, "a purge round");
    }
}

#[test]
fn issue10_purge_forgets_idempotency_keys_after_24_hours() {
    let s = TestServer::start_with(|c| {
        c.purge.interval = std::time::Duration::from_millis(30);
    });
    let key = s.key.clone();
    create_with_key(&s, "/v1/customerlink", "kept-a-day", &key, 1).expect(200);
    create_with_key(&s, "/v1/customerlink", "kept-a-day-too", &key, 2).expect(200);
    s.clock.advance_hours(23);
    create_with_key(&s, "/v1/customerlink", "younger", &key, 3).expect(200);
    s.clock.advance_hours(2);
    complete_purge_round(&s);
    let out = s.check();
    assert!(out.contains("idempotency_keys 1"), "{out}");
}

fn purge_runs(s: &TestServer) -> u64 {
    let metrics = s.get("/metrics");
    metrics
        .body
        .lines()
        .find_map(|l| l.strip_prefix("customerlink_purge_runs_total "))
        .and_then(|v| v.trim().parse().ok())
        .expect("purge runs metric")
}

#[test]
fn issue10_concurrent_creates_with_one_idempotency_key_make_one_link() {
    let s = TestServer::start();
    let key = s.key.clone();
    let bodies: Vec<Value> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..8)
            .map(|_| scope.spawn(|| create_with_key(&s, "/v1/customerlink", "race", &key, 9)))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("client thread").expect(200))
            .collect()
    });
    for body in &bodies {
        assert_eq!(
            body["Link"]["CustomerLinkUID"],
            bodies[0]["Link"]["CustomerLinkUID"]
        );
        assert_eq!(body["PortalUrl"], bodies[0]["PortalUrl"]);
    }
    assert_eq!(links_of_resource(&s, &key, 9), 1);
}
