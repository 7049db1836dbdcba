//! Purge deletes links retired (expired or revoked) for longer than the retention, with every
//! index entry, and nothing else.

use std::time::Duration;

use serde_json::{Value, json};

use crate::support::sinks::wait_until;
use crate::support::{TestServer, uid};

fn create(s: &TestServer, resource: u128, hours: u32) -> String {
    let body = json!({"ResourceType": "Quote", "ResourceUid": uid(resource), "RecipientEmail": "p@q.co", "ExpiresInHours": hours});
    s.post("/v1/customerlink", body).expect(200)["Link"]["CustomerLinkUID"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[test]
fn purge_removes_long_retired_links_and_their_index_entries_only() {
    let s = TestServer::start_with(|c| {
        c.purge.interval = Duration::from_millis(30);
        c.purge.retention_ms = 10 * 3_600_000;
        c.purge.batch_size = 1;
    });
    let expires_1h = create(&s, 1, 1);
    let expires_2h = create(&s, 1, 2);
    let long_lived = create(&s, 1, 720);
    let revoked = create(&s, 2, 720);
    let revoked_later = create(&s, 2, 720);
    s.post(&format!("/v1/customerlink/{revoked}/revoke"), json!({}))
        .expect(200);
    s.clock.advance_hours(3);
    s.post(
        &format!("/v1/customerlink/{revoked_later}/revoke"),
        json!({}),
    )
    .expect(200);

    // Now = +12h: retired before +2h is purged. The 1h link (expired at +1h) and the link
    // revoked at 0 go; the 2h link expired exactly at the boundary and the later revocation stay.
    s.clock.advance_hours(9);
    wait_until(
        || s.get(&format!("/v1/customerlink/{expires_1h}")).status == 404,
        "purge",
    );
    wait_until(
        || s.get(&format!("/v1/customerlink/{revoked}")).status == 404,
        "purge",
    );
    for kept in [&expires_2h, &long_lived, &revoked_later] {
        s.get(&format!("/v1/customerlink/{kept}")).expect(200);
    }
    let listed: Vec<Value> = s
        .get(&format!("/v1/customerlink/resource/Quote/{}", uid(1)))
        .expect(200)["Links"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(listed.len(), 2);
    assert_eq!(s.get("/v1/customerlink").expect(200)["Total"], 3);

    let out = s.check();
    assert!(out.contains("links 3 revoked 1"), "{out}");
}

/// Issue 14: a purge round forgets every log past the log retention, not one batch's worth
/// (100 links) per round; before, the logs of the rest stayed until later rounds, and a
/// purge of many links left most of their logs' pages in use.
#[test]
fn a_purge_round_forgets_every_log_past_the_retention() {
    let s = TestServer::start_with(|c| {
        c.purge.interval = Duration::from_secs(3600);
        c.purge.retention_ms = 3_600_000;
    });
    let links: Vec<String> = (0..120).map(|i| create(&s, 10 + i, 1)).collect();
    let (first, last) = (&links[0], &links[links.len() - 1]);
    // +3h: one round purges every link (expired at +1h, retired before +2h); their logs stay
    // for the retention, under a tombstone dated +3h.
    s.clock.advance_hours(3);
    wait_until(
        || s.get(&format!("/v1/customerlink/{last}")).status == 404,
        "purge",
    );
    for uid in [first, last] {
        s.get(&format!("/v1/customerlink/{uid}/log")).expect(200);
    }
    // +5h: one round, whose cutoff (+4h) passed every tombstone, forgets every log.
    s.clock.advance_hours(2);
    for uid in [first, last] {
        wait_until(
            || s.get(&format!("/v1/customerlink/{uid}/log")).status == 404,
            "log past the retention forgotten",
        );
    }
    s.check();
}
