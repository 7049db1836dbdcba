//! Bad input to link creation: one field error per offending field, unreadable and oversized
//! bodies, unknown routes and verbs — and never a half-written link.

use serde_json::{Value, json};

use crate::support::{TestServer, error_fields, uid};

/// A valid creation request with `changes` applied (a `null` change removes the member).
fn create_body(changes: Value) -> Value {
    let mut body = json!({"ResourceType": "Quote", "ResourceUid": uid(1), "RecipientEmail": "ann@example.com"});
    let (Some(members), Some(changes)) = (body.as_object_mut(), changes.as_object()) else {
        panic!("objects expected");
    };
    for (key, value) in changes {
        if value.is_null() {
            members.remove(key);
        } else {
            members.insert(key.clone(), value.clone());
        }
    }
    body
}

/// Posts `changes` over a valid request; asserts a 400 naming exactly `fields`.
fn assert_rejected(s: &TestServer, changes: Value, fields: &[&str]) -> Value {
    let sent = create_body(changes);
    let resp = s.post("/v1/customerlink", sent.clone());
    let body = resp.expect(400);
    let status = &body["ResponseStatus"];
    let code = status["ErrorCode"].as_str().unwrap_or_default();
    assert!(!code.is_empty(), "{sent}: {resp:#?}");
    assert_eq!(resp.reason, code, "reason phrase is the ErrorCode: {sent}");
    assert!(
        status["Message"].as_str().is_some_and(|m| !m.is_empty()),
        "{sent}: {body}"
    );
    let mut got = error_fields(&body);
    got.sort();
    let mut want: Vec<String> = fields.iter().map(|f| (*f).to_owned()).collect();
    want.sort();
    assert_eq!(got, want, "{sent}: {body}");
    for e in status["Errors"].as_array().into_iter().flatten() {
        assert!(
            e["ErrorCode"].as_str().is_some_and(|c| !c.is_empty()),
            "{e}"
        );
        assert!(e["Message"].as_str().is_some_and(|m| !m.is_empty()), "{e}");
    }
    body
}

fn assert_nothing_stored(s: &TestServer) {
    let list = s.get("/v1/customerlink").expect(200);
    assert_eq!(list["Total"], 0, "no link was written: {list}");
}

#[test]
fn missing_or_empty_resource_is_named() {
    let s = TestServer::start();
    assert_rejected(&s, json!({"ResourceType": null}), &["ResourceType"]);
    assert_rejected(&s, json!({"ResourceType": "  "}), &["ResourceType"]);
    assert_rejected(&s, json!({"ResourceUid": null}), &["ResourceUid"]);
    let nil = "00000000000000000000000000000000";
    assert_rejected(&s, json!({"ResourceUid": nil}), &["ResourceUid"]);
    assert_rejected(
        &s,
        json!({"ResourceType": null, "ResourceUid": null}),
        &["ResourceType", "ResourceUid"],
    );
    assert_nothing_stored(&s);
}

#[test]
fn recipient_problems_are_named() {
    let s = TestServer::start();
    assert_rejected(&s, json!({"RecipientEmail": null}), &["RecipientContactId"]);
    assert_rejected(&s, json!({"RecipientEmail": "ann@"}), &["RecipientEmail"]);
    assert_rejected(
        &s,
        json!({"RecipientEmail": "ann example.com"}),
        &["RecipientEmail"],
    );
    assert_rejected(
        &s,
        json!({"RecipientEmail": null, "RecipientPhone": "555-1234"}),
        &["RecipientPhone"],
    );
    assert_rejected(
        &s,
        json!({"RecipientEmail": null, "RecipientContactId": 404}),
        &["RecipientContactId"],
    );
    // Every offending field is reported, not just the first.
    assert_rejected(
        &s,
        json!({"ResourceType": null, "RecipientEmail": "nope", "RecipientPhone": "12"}),
        &["ResourceType", "RecipientEmail", "RecipientPhone"],
    );
    assert_nothing_stored(&s);
}

#[test]
fn blank_recipient_addresses_are_no_recipient() {
    let s = TestServer::start();
    assert_rejected(&s, json!({"RecipientEmail": ""}), &["RecipientContactId"]);
    assert_rejected(
        &s,
        json!({"RecipientEmail": "  ", "RecipientPhone": " "}),
        &["RecipientContactId"],
    );
    assert_nothing_stored(&s);
}

#[test]
fn delivery_needs_an_address_on_its_channel() {
    let s = TestServer::start();
    assert_rejected(
        &s,
        json!({"RecipientEmail": null, "RecipientPhone": "+15551234567", "DeliverEmail": true}),
        &["DeliverEmail"],
    );
    assert_rejected(&s, json!({"DeliverSms": true}), &["DeliverSms"]);
    assert_rejected(
        &s,
        json!({"RecipientEmail": null, "RecipientPhone": "+15551234567", "DeliverEmail": true, "DeliverSms": true}),
        &["DeliverEmail"],
    );
    assert_nothing_stored(&s);
}

#[test]
fn expiry_and_view_limits_follow_the_tier() {
    let s = TestServer::start();
    for hours in [0, -1, 721] {
        assert_rejected(&s, json!({"ExpiresInHours": hours}), &["ExpiresInHours"]);
    }
    for views in [0, -3, 51] {
        assert_rejected(&s, json!({"MaxViews": views}), &["MaxViews"]);
    }
    assert_rejected(
        &s,
        json!({"ExpiresInHours": 0, "MaxViews": 51}),
        &["ExpiresInHours", "MaxViews"],
    );
    // Claim is Restricted: 72 hours and 3 views at most.
    assert_rejected(
        &s,
        json!({"ResourceType": "Claim", "ExpiresInHours": 73, "MaxViews": 4}),
        &["ExpiresInHours", "MaxViews"],
    );
    assert_nothing_stored(&s);
    // The caps themselves are allowed.
    let ok = s
        .post(
            "/v1/customerlink",
            create_body(json!({"ExpiresInHours": 720, "MaxViews": 50})),
        )
        .expect(200);
    assert_eq!(ok["Link"]["MaxViews"], 50);
}

#[test]
fn unreadable_bodies_are_serialization_exceptions() {
    let s = TestServer::start();
    for raw in [
        &b"{\"ResourceType\": \"Quote\","[..],
        b"not json",
        b"[1, 2]",
        b"\"Quote\"",
    ] {
        let resp = s
            .req("POST", "/v1/customerlink")
            .header("Content-Type", "application/json")
            .raw_body(raw.to_vec())
            .send();
        let body = resp.expect(400);
        let text = String::from_utf8_lossy(raw);
        assert_eq!(
            body["ResponseStatus"]["ErrorCode"], "SerializationException",
            "{text}"
        );
        assert_eq!(resp.reason, "SerializationException", "{text}");
        assert!(body["ResponseStatus"]["Message"].is_string(), "{text}");
    }
    assert_nothing_stored(&s);
}

#[test]
fn wrong_typed_values_name_their_field() {
    let s = TestServer::start();
    let cases = [
        (json!({"MaxViews": "many"}), "MaxViews"),
        (json!({"ResourceUid": 5}), "ResourceUid"),
        (json!({"ResourceUid": "not-a-guid"}), "ResourceUid"),
        (json!({"ExpiresInHours": 1.5}), "ExpiresInHours"),
        (
            json!({"ExpiresInHours": 3_000_000_000_i64}),
            "ExpiresInHours",
        ),
        (json!({"DeliverEmail": "perhaps"}), "DeliverEmail"),
        (json!({"RecipientContactId": [1]}), "RecipientContactId"),
        (json!({"RecipientEmail": {"a": 1}}), "RecipientEmail"),
    ];
    for (changes, field) in cases {
        let body = assert_rejected(&s, changes, &[field]);
        assert_eq!(
            body["ResponseStatus"]["ErrorCode"],
            "SerializationException"
        );
    }
    assert_nothing_stored(&s);
}

#[test]
fn bodies_over_64_kib_are_refused() {
    const LIMIT: usize = 64 * 1024;
    let s = TestServer::start();
    let padded = |len: usize| {
        let mut raw = create_body(json!({})).to_string().into_bytes();
        raw.resize(len, b' ');
        raw
    };
    let resp = s
        .req("POST", "/v1/customerlink")
        .header("Content-Type", "application/json")
        .raw_body(padded(LIMIT + 1))
        .send();
    let body = resp.expect(413);
    assert_eq!(body["ResponseStatus"]["ErrorCode"], "RequestEntityTooLarge");
    assert_nothing_stored(&s);
    // Exactly at the limit is fine.
    s.req("POST", "/v1/customerlink")
        .header("Content-Type", "application/json")
        .raw_body(padded(LIMIT))
        .send()
        .expect(200);
}

#[test]
fn unknown_routes_are_404_and_wrong_verbs_405() {
    let s = TestServer::start();
    let u = uid(3);
    for path in [
        "/v1/nope".to_owned(),
        "/v2/customerlink".to_owned(),
        format!("/v1/customerlink/{u}/revoke/now"),
        "/v1/contact/1/2".to_owned(),
        "/api/NoSuchRequest".to_owned(),
    ] {
        let resp = s.get(&path);
        let body = resp.expect(404);
        assert_eq!(body["ResponseStatus"]["ErrorCode"], "NotFound", "{path}");
    }
    for (method, path) in [
        ("PATCH", "/v1/customerlink".to_owned()),
        ("PUT", format!("/v1/customerlink/{u}")),
        ("GET", format!("/v1/customerlink/{u}/revoke")),
        ("POST", "/v1/contact".to_owned()),
        ("POST", "/v1/contact/1".to_owned()),
        ("DELETE", "/v1/contact".to_owned()),
    ] {
        let resp = s.req(method, &path).json(&json!({})).send();
        let body = resp.expect(405);
        let code = body["ResponseStatus"]["ErrorCode"]
            .as_str()
            .unwrap_or_default();
        assert!(!code.is_empty(), "{method} {path}");
    }
    assert_nothing_stored(&s);
    assert_eq!(s.get("/v1/contact").expect(200)["Total"], 0);
}
