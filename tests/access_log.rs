//! Issue 10, item 3: a token holder cannot erase the access log. Denials are aggregated per
//! address (one row with a count, first and last time), and lifecycle rows are never evicted.

use serde_json::{Value, json};

use crate::support::sinks::wait_until;
use crate::support::{Req, TestServer, portal_token, uid};

fn log_rows(s: &TestServer, link_uid: &str) -> Vec<Value> {
    s.get(&format!("/v1/customerlink/{link_uid}/log"))
        .expect(200)["AccessLog"]
        .as_array()
        .unwrap()
        .clone()
}

#[test]
fn issue_10_denied_opens_are_aggregated_and_never_evict_lifecycle_rows() {
    let s = TestServer::start_with(|c| c.portal.requests_per_minute = 100_000);
    let created = s
        .post(
            "/v1/customerlink",
            json!({"ResourceType": "Quote", "ResourceUid": uid(1), "RecipientEmail": "a@example.com", "MaxViews": 1}),
        )
        .expect(200);
    let token = portal_token(&created);
    let link_uid = created["Link"]["CustomerLinkUID"].as_str().unwrap();
    let open = || {
        Req::new(s.addr, "POST", &format!("/portal/{token}/open"))
            .header("User-Agent", "Opener/1.0")
            .send()
    };
    open().expect(200);
    for n in 0..300 {
        if n == 150 {
            s.clock.advance_millis(60_000);
        }
        assert_eq!(open().status, 404, "the only view is used up");
    }
    s.post(&format!("/v1/customerlink/{link_uid}/revoke"), json!({}))
        .expect(200);

    // Denials of a dead link are written by the landing log's next batch.
    s.flush_landing_log();
    wait_until(
        || {
            log_rows(&s, link_uid)
                .iter()
                .any(|r| r["EventType"] == "OpenDenied" && r["Count"] == 300)
        },
        "the denied opens are logged",
    );
    let rows = log_rows(&s, link_uid);
    let events: Vec<&str> = rows
        .iter()
        .map(|r| r["EventType"].as_str().unwrap())
        .collect();
    assert_eq!(
        events,
        ["Created", "Opened", "OpenDenied", "Revoked"],
        "{rows:#?}"
    );
    let opened = &rows[1];
    assert_eq!(
        (opened["IpAddress"].as_str(), opened["UserAgent"].as_str()),
        (Some("127.0.0.1"), Some("Opener/1.0")),
        "the opener's address survives"
    );
    assert_eq!(opened["Count"], 1);
    let denied = &rows[2];
    assert_eq!(denied["Count"], 300, "{denied}");
    assert_eq!(denied["IpAddress"], "127.0.0.1");
    assert_eq!(denied["DetailMessage"], "Exhausted");
    let (first, last) = (
        denied["FirstAtUtc"].as_str().unwrap(),
        denied["LastAtUtc"].as_str().unwrap(),
    );
    assert!(first < last, "{first} .. {last}");
    assert_eq!(denied["CreatedAtUtc"].as_str(), Some(first));
    // The noise index agrees with the log.
    s.check();
}
