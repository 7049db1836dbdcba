//! Bulk revocation (issue 15 §2): `POST /v1/customerlink/revoke` revokes every matching link
//! of the caller's tenant — by resource, recipient contact or creator, optionally by status —
//! logs each with the reason, ends its grants, answers how many, and is safe to repeat; a call
//! without a subject is refused. On either store.

use serde_json::{Value, json};

use crate::grants::{introspect, open, quote, server_with_resource_key};
use crate::support::{TestServer, error_fields, uid};

fn link(s: &TestServer, resource: u128, extra: Value) -> String {
    let mut body = json!({"ResourceType": "Quote", "ResourceUid": uid(resource),
                          "RecipientEmail": "a@example.com"});
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    let created = s.post("/v1/customerlink", body).expect(200);
    created["Link"]["CustomerLinkUID"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn status(s: &TestServer, uid: &str) -> String {
    s.get(&format!("/v1/customerlink/{uid}")).expect(200)["Link"]["Status"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn revoke(s: &TestServer, body: Value) -> Value {
    s.post("/v1/customerlink/revoke", body).expect(200)
}

#[test]
fn revokes_every_link_of_a_resource_once_with_the_reason_and_ends_their_grants() {
    let (s, rs_key) = server_with_resource_key(|_| {});
    let (token, first) = quote(&s, 24);
    let grant = open(&s, &token);
    let others: Vec<String> = (0..2).map(|_| link(&s, 1, json!({}))).collect();
    let elsewhere = link(&s, 2, json!({}));
    let body =
        json!({"ResourceType": "quote", "ResourceUid": uid(1), "Reason": "Policy cancelled"});
    let answer = revoke(&s, body.clone());
    assert_eq!(answer["Revoked"], 3, "{answer}");
    let mut listed: Vec<String> = answer["CustomerLinkUIDs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u.as_str().unwrap().replace('-', ""))
        .collect();
    listed.sort();
    let mut expected: Vec<String> = [&first, &others[0], &others[1]]
        .iter()
        .map(|u| u.replace('-', ""))
        .collect();
    expected.sort();
    assert_eq!(listed, expected);
    for u in [&first, &others[0], &others[1]] {
        assert_eq!(status(&s, u), "Revoked");
    }
    assert_eq!(status(&s, &elsewhere), "Active");
    assert_eq!(introspect(&s, &rs_key, &grant), json!({"Active": false}));
    let portal = crate::support::Req::new(s.addr, "GET", &format!("/portal/{token}"))
        .header("Accept", "application/json")
        .send();
    assert_eq!(portal.status, 404, "the portal page is gone: {portal:?}");
    let log = s.get(&format!("/v1/customerlink/{first}/log")).expect(200);
    let revoked = log["AccessLog"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["EventType"] == "Revoked")
        .cloned()
        .expect("a Revoked row");
    assert_eq!(revoked["DetailMessage"], "Policy cancelled", "{log}");

    let again = revoke(&s, body);
    assert_eq!(
        (
            again["Revoked"].as_u64(),
            again["CustomerLinkUIDs"].as_array().map(Vec::len)
        ),
        (Some(0), Some(0))
    );
}

#[test]
fn contact_creator_and_status_filters_narrow_what_is_revoked() {
    let s = TestServer::start();
    s.put(
        "/v1/contact/7",
        json!({"ContactId": 7, "Email": "c@example.com", "FirstName": "C"}),
    )
    .expect(200);
    let of_contact = link(&s, 1, json!({"RecipientContactId": 7}));
    let expired = link(&s, 2, json!({"RecipientContactId": 7, "ExpiresInHours": 1}));
    let not_of_contact = link(&s, 1, json!({}));
    s.clock.advance_hours(2);
    let live = link(&s, 3, json!({"RecipientContactId": 7}));
    let answer = revoke(&s, json!({"RecipientContactId": 7, "Status": "Expired"}));
    assert_eq!(answer["Revoked"], 1, "{answer}");
    assert_eq!(status(&s, &expired), "Revoked");
    assert_eq!(
        status(&s, &of_contact),
        "Active",
        "not expired: not this call's"
    );
    assert_eq!(status(&s, &live), "Active");
    let answer = revoke(&s, json!({"RecipientContactId": 7}));
    assert_eq!(answer["Revoked"], 2, "{answer}");
    assert_eq!(status(&s, &not_of_contact), "Active", "another recipient's");

    let creator = s
        .get(&format!("/v1/customerlink/{not_of_contact}"))
        .expect(200)["Link"]["CreatedByUserId"]
        .as_str()
        .unwrap()
        .to_owned();
    let answer = revoke(&s, json!({"CreatedByUserId": creator}));
    assert_eq!(answer["Revoked"], 1, "{answer}");
    assert_eq!(status(&s, &not_of_contact), "Revoked");
}

#[test]
fn a_call_without_a_subject_is_refused_and_other_tenants_are_untouched() {
    let (s, b) = TestServer::with_second_tenant(|_| {});
    let theirs = link(&s, 1, json!({}));
    for body in [
        json!({}),
        json!({"Status": "Active"}),
        json!({"ResourceType": "Quote"}),
        json!({"RecipientContactId": 0, "Reason": "all"}),
    ] {
        let refused = s.post("/v1/customerlink/revoke", body.clone()).expect(400);
        assert!(!error_fields(&refused).is_empty(), "{body}: {refused}");
    }
    let answer = s
        .req("POST", "/v1/customerlink/revoke")
        .bearer(&b)
        .json(&json!({"ResourceType": "Quote", "ResourceUid": uid(1)}))
        .send()
        .expect(200);
    assert_eq!(answer["Revoked"], 0);
    assert_eq!(status(&s, &theirs), "Active");
}

#[test]
fn many_links_are_revoked_in_batches_through_any_route_and_format() {
    let s = TestServer::start();
    for _ in 0..450 {
        link(&s, 9, json!({}));
    }
    let body = format!("{{ResourceType:Quote,ResourceUid:{},Reason:bulk}}", uid(9));
    let resp = s
        .req("POST", "/jsv/reply/CustomerLinkBulkRevokeRequest")
        .raw_body(body.into_bytes())
        .send();
    assert_eq!(resp.status, 200, "{resp:?}");
    assert!(
        resp.body.starts_with("{Revoked:450,CustomerLinkUIDs:["),
        "{}",
        &resp.body[..60]
    );
    let page = s.get("/v1/customerlink?Status=Active").expect(200);
    assert_eq!(page["Total"], 0, "{page}");
}
