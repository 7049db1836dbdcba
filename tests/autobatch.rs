//! ServiceStack AutoBatch (issue 11 item 2): `POST /api/{Op}[]` and `/{fmt}/reply/{Op}[]` run an
//! array of requests in order and answer the array of replies with `X-AutoBatch-Completed`;
//! the first failure stops the batch and answers its error, marked with its index.

use serde_json::{Value, json};

use crate::support::{TestServer, uid};

fn create_request(n: u128) -> Value {
    json!({"resourceType": "Quote", "resourceUid": uid(n), "recipientEmail": "a@b.co"})
}

fn link_ids(body: &Value, key: &str) -> Vec<u64> {
    body.as_array()
        .unwrap_or_else(|| panic!("an array: {body}"))
        .iter()
        .map(|r| {
            r[key]["customerLinkId"]
                .as_u64()
                .or(r[key]["CustomerLinkId"].as_u64())
                .unwrap()
        })
        .collect()
}

#[test]
fn a_batch_runs_in_order_and_answers_every_reply() {
    let s = TestServer::start();
    let batch = json!([create_request(1), create_request(2), create_request(3)]);
    let r = s
        .req("POST", "/api/CustomerLinkCreateRequest[]")
        .json(&batch)
        .send();
    let body = r.expect(200);
    assert_eq!(r.header("x-autobatch-completed"), Some("3"), "{r:#?}");
    assert_eq!(
        link_ids(&body, "link"),
        [1, 2, 3],
        "camelCase on /api: {body}"
    );
    assert_eq!(body[1]["link"]["resourceUid"], uid(2));

    // /json/reply with the escaped brackets some clients send; PascalCase names there.
    let pascal =
        json!([{"ResourceType": "Quote", "ResourceUid": uid(4), "RecipientEmail": "a@b.co"}]);
    let r = s
        .req("POST", "/json/reply/CustomerLinkCreateRequest%5B%5D")
        .json(&pascal)
        .send();
    assert_eq!(link_ids(&r.expect(200), "Link"), [4]);
    let uids: Vec<Value> = body
        .as_array()
        .unwrap()
        .iter()
        .map(|r| json!({"customerLinkUID": r["link"]["customerLinkUID"]}))
        .collect();
    let got = s
        .req("POST", "/api/CustomerLinkRequest[]")
        .json(&Value::Array(uids))
        .send()
        .expect(200);
    assert_eq!(link_ids(&got, "link"), [1, 2, 3]);

    let empty = s
        .req("POST", "/api/CustomerLinkRequest[]")
        .json(&json!([]))
        .send();
    assert_eq!(empty.expect(200), json!([]));
    assert_eq!(empty.header("x-autobatch-completed"), Some("0"));
}

#[test]
fn the_first_failure_stops_the_batch_and_is_marked_as_servicestack_marks_it() {
    let s = TestServer::start();
    let bad = json!({"resourceType": "Quote", "recipientEmail": "a@b.co"});
    let batch = json!([create_request(1), bad, create_request(3)]);
    let r = s
        .req("POST", "/api/CustomerLinkCreateRequest[]")
        .json(&batch)
        .send();
    let body = r.expect(400);
    assert_eq!(r.header("x-autobatch-completed"), Some("1"), "{r:#?}");
    let status = &body["responseStatus"];
    assert_eq!(status["meta"]["AutoBatchIndex"], "1", "{body}");
    assert_eq!(status["errors"][0]["fieldName"], "ResourceUid", "{body}");
    let all = s.get("/v1/customerlink").expect(200);
    assert_eq!(
        all["Total"], 1,
        "the request before ran, the one after did not: {all}"
    );

    let missing = s
        .req("POST", "/api/CustomerLinkRequest[]")
        .json(&json!([{"customerLinkUID": uid(77)}]))
        .send();
    assert_eq!(missing.status, 404, "{missing:#?}");
    assert_eq!(missing.header("x-autobatch-completed"), Some("0"));
    assert_eq!(
        missing.json()["responseStatus"]["meta"]["AutoBatchIndex"],
        "0"
    );
}

#[test]
fn batches_are_bounded_authenticated_and_not_offered_for_portal_operations() {
    let s = TestServer::start();
    let many = Value::Array(
        (0..101)
            .map(|n| json!({"customerLinkUID": uid(n)}))
            .collect(),
    );
    let r = s
        .req("POST", "/api/CustomerLinkRequest[]")
        .json(&many)
        .send();
    let body = r.expect(400);
    let message = body["responseStatus"]["message"]
        .as_str()
        .unwrap_or_default();
    assert!(message.contains("at most 100"), "{body}");

    let object = s
        .req("POST", "/api/CustomerLinkRequest[]")
        .json(&json!({"customerLinkUID": uid(1)}))
        .send();
    assert_eq!(object.status, 400, "{object:#?}");

    let anonymous = s
        .req("POST", "/api/CustomerLinkCreateRequest[]")
        .without("Authorization")
        .json(&json!([create_request(1)]))
        .send();
    assert_eq!(anonymous.status, 401, "{anonymous:#?}");
    assert_eq!(s.get("/v1/customerlink").expect(200)["Total"], 0);

    let portal = s
        .req("POST", "/api/PortalVerifyRequest[]")
        .without("Authorization")
        .json(&json!([{"token": "x", "code": "123456"}]))
        .send();
    assert_eq!(portal.status, 404, "{portal:#?}");
    assert_eq!(
        portal.header("cache-control"),
        Some("no-store"),
        "portal policy applies"
    );
}

#[test]
fn a_retried_batch_with_an_idempotency_key_creates_nothing_twice() {
    let s = TestServer::start();
    let batch = json!([create_request(1), create_request(2)]);
    let send = || {
        s.req("POST", "/api/CustomerLinkCreateRequest[]")
            .header("Idempotency-Key", "batch-1")
            .json(&batch)
            .send()
            .expect(200)
    };
    let first = send();
    let again = send();
    assert_eq!(link_ids(&first, "link"), [1, 2]);
    assert_eq!(link_ids(&again, "link"), [1, 2], "{again}");
    assert_eq!(s.get("/v1/customerlink").expect(200)["Total"], 2);
}

#[test]
fn batches_answer_in_the_predefined_routes_format() {
    let s = TestServer::start();
    let jsv = s
        .req("POST", "/jsv/reply/CustomerLinkCreateRequest[]")
        .header("Content-Type", "application/jsv")
        .raw_body(
            format!(
                "[{{ResourceType:Quote,ResourceUid:{},RecipientEmail:a@b.co}}]",
                uid(5)
            )
            .into_bytes(),
        )
        .send();
    assert_eq!(jsv.status, 200, "{jsv:#?}");
    assert_eq!(jsv.header("content-type"), Some("application/jsv"));
    assert!(jsv.body.starts_with("[{Link:{"), "{}", jsv.body);

    // An XML reply is DataContractSerializer's `T[]`.
    let xml = s
        .req("POST", "/api/CustomerLinkCreateRequest[]?format=xml")
        .json(
            &json!([{"ResourceType": "Quote", "ResourceUid": uid(6), "RecipientEmail": "a@b.co"}]),
        )
        .send();
    assert_eq!(xml.status, 200, "{xml:#?}");
    let root = xml
        .body
        .split_once("?>")
        .map(|(_, rest)| rest)
        .unwrap_or_default();
    assert!(
        root.starts_with("<ArrayOfCustomerLinkCreateResponse "),
        "{}",
        xml.body
    );
    assert!(
        root.ends_with("</ArrayOfCustomerLinkCreateResponse>"),
        "{}",
        xml.body
    );
    // XML batch bodies are not read (no client of this API sends them).
    let xml_body = s
        .req("POST", "/xml/reply/CustomerLinkRequest[]")
        .header("Content-Type", "application/xml")
        .raw_body(
            b"<ArrayOfCustomerLinkRequest><CustomerLinkRequest /></ArrayOfCustomerLinkRequest>"
                .to_vec(),
        )
        .send();
    assert_eq!(xml_body.status, 400, "{xml_body:#?}");
}
