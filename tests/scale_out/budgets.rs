//! Per-link budgets spent through two instances at once: views, passcode tries (the lock),
//! grant exchange and resend rotation.

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;

use super::*;
use crate::support::sinks::SmtpSink;
use crate::support::{Req, email_via, link_tenant, link_uid, portal_token, uid};

#[test]
fn opens_spread_over_two_instances_succeed_exactly_max_views_times() {
    let site = Site::new();
    let pair = Arc::new(site.pair(|_| {}));
    let (token, link) = quote(&pair.0, 1, 3, "v@example.com");
    let p = Arc::clone(&pair);
    let opens = at_once(24, move |i| portal(either(&p, i), "open", &token).send());
    let codes = statuses(&opens);
    assert_eq!(codes.iter().filter(|c| **c == 200).count(), 3, "{codes:?}");
    assert_eq!(codes.iter().filter(|c| **c == 404).count(), 21, "{codes:?}");
    for s in [&pair.0, &pair.1] {
        let shown = s.get(&format!("/v1/customerlink/{link}")).expect(200);
        assert_eq!(shown["Link"]["ViewCount"], 3);
        assert_eq!(shown["Link"]["Status"], "Exhausted");
        assert_eq!(count(&events(s, &link), "Opened"), 3);
    }
}

#[test]
fn wrong_passcodes_from_two_instances_spend_one_budget_and_lock_the_link_once() {
    let sink = SmtpSink::start();
    let site = Site::new();
    let pair = Arc::new(site.pair(|c| c.email = Some(email_via(sink.url()))));
    let created = pair
        .0
        .post(
            "/v1/customerlink",
            json!({"ResourceType": "Document", "ResourceUid": uid(2), "RecipientEmail": "d@example.com"}),
        )
        .expect(200);
    let (token, link) = (portal_token(&created), link_uid(&created));
    portal(&pair.1, "otp", &token).send().expect(200);
    let p = Arc::clone(&pair);
    let t = token.clone();
    let tries = at_once(30, move |i| {
        portal(either(&p, i), "verify", &t)
            .json(&json!({"Code": "000000"}))
            .send()
    });
    assert!(
        tries.iter().all(|r| r.status == 200 || r.status == 404),
        "{:?}",
        statuses(&tries)
    );
    let verified = tries
        .iter()
        .filter(|r| r.status == 200 && r.json()["Verified"] == true);
    assert_eq!(verified.count(), 0);
    for s in [&pair.0, &pair.1] {
        let shown = s.get(&format!("/v1/customerlink/{link}")).expect(200);
        assert_eq!(shown["Link"]["Status"], "Locked");
        assert_eq!(count(&events(s, &link), "Locked"), 1, "locked once");
        assert_eq!(portal(s, "open", &token).send().status, 404);
    }
}

#[test]
fn a_grant_is_exchanged_once_across_instances() {
    let site = Site::new();
    let pair = site.pair(|_| {});
    let (token, _) = quote(&pair.0, 3, 5, "g@example.com");
    let tenant = link_tenant(&pair.0.quote_link(4, "t@example.com"));
    // An admin command against the database while both instances run.
    let rs_key = site.create_key(&tenant, &uid(0x5a), &["--role", "ResourceServer"]);
    let grant = portal(&pair.1, "open", &token).send().expect(200)["Grant"]
        .as_str()
        .unwrap()
        .to_owned();
    let pair = Arc::new(pair);
    let p = Arc::clone(&pair);
    let answers = at_once(12, move |i| {
        Req::new(
            either(&p, i).addr,
            "POST",
            "/v1/customerlink/grant/introspect",
        )
        .bearer(&rs_key)
        .json(&json!({"Grant": grant}))
        .send()
    });
    let active: Vec<bool> = answers
        .iter()
        .map(|r| r.expect(200)["Active"] == true)
        .collect();
    assert_eq!(active.iter().filter(|a| **a).count(), 1, "{active:?}");
}

#[test]
fn a_resend_on_one_instance_kills_the_old_url_on_both_at_once() {
    let site = Site::new();
    let pair = Arc::new(site.pair(|c| c.delivery.resend_cooldown = Duration::ZERO));
    let (old, link) = quote(&pair.0, 5, 50, "r@example.com");
    assert_eq!(
        portal(&pair.1, "open", &old).send().status,
        200,
        "served by b"
    );
    let resent = pair
        .0
        .post(&format!("/v1/customerlink/{link}/resend"), json!({}))
        .expect(200);
    let fresh = portal_token(&resent);
    for s in [&pair.0, &pair.1] {
        assert_eq!(portal(s, "open", &old).send().status, 404, "old URL dead");
    }
    assert_eq!(portal(&pair.1, "open", &fresh).send().status, 200);

    // Resends from both instances at once: whichever are accepted, one URL survives.
    let p = Arc::clone(&pair);
    let l = link.clone();
    let resends = at_once(8, move |i| {
        either(&p, i).post(&format!("/v1/customerlink/{l}/resend"), json!({}))
    });
    let tokens: Vec<String> = resends
        .iter()
        .filter(|r| r.status == 200)
        .map(|r| portal_token(&r.json()))
        .collect();
    assert!(!tokens.is_empty(), "{:?}", statuses(&resends));
    let live: Vec<&String> = tokens
        .iter()
        .filter(|t| portal(&pair.1, "open", t).send().status == 200)
        .collect();
    assert_eq!(live.len(), 1, "one URL survives {} resends", tokens.len());
    assert_eq!(portal(&pair.0, "open", &fresh).send().status, 404);
}
