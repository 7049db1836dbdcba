//! Signed webhooks (issue 15 §1): endpoints per tenant (`PUT`/`GET`/`DELETE /v1/webhook`),
//! their secret shown once, URL and event validation, and (below) events delivered through
//! the outbox, signed per Standard Webhooks 1.0. On either store.

use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use customerlink::config::Config;
use serde_json::{Value, json};

use crate::support::sinks::{GatewayRequest, SmsGateway, SmtpSink, wait_until};
use crate::support::{Req, TestServer, email_via, error_fields, link_uid, portal_token, uid};

fn endpoint(url: &str, events: &[&str]) -> Value {
    json!({"Url": url, "Events": events})
}

#[test]
fn an_endpoint_is_created_listed_rotated_and_deleted_with_its_secret_shown_once() {
    let s = TestServer::start();
    let made = s
        .put(
            "/v1/webhook/crm",
            endpoint("https://hooks.example.com/in", &["link.opened"]),
        )
        .expect(200);
    let secret = made["Secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("whsec_"), "{made}");
    assert_eq!(made["Webhook"]["Name"], "crm");
    assert_eq!(made["Webhook"]["Enabled"], true);
    assert_eq!(made["Webhook"]["Events"], json!(["link.opened"]));

    let changed = s
        .put(
            "/v1/webhook/crm",
            endpoint(
                "https://hooks.example.com/v2",
                &["link.created", "link.opened"],
            ),
        )
        .expect(200);
    assert!(changed.get("Secret").is_none(), "shown once: {changed}");
    assert_eq!(changed["Webhook"]["Url"], "https://hooks.example.com/v2");

    let mut rotate = endpoint("https://hooks.example.com/v2", &["link.opened"]);
    rotate["RotateSecret"] = json!(true);
    let rotated = s.put("/v1/webhook/crm", rotate).expect(200);
    let new_secret = rotated["Secret"].as_str().unwrap();
    assert!(new_secret.starts_with("whsec_") && new_secret != secret);

    let listed = s.get("/v1/webhook").expect(200);
    assert_eq!(listed["Webhooks"].as_array().unwrap().len(), 1, "{listed}");
    assert_eq!(listed["Webhooks"][0]["ConsecutiveFailures"], 0);
    assert!(
        !listed.to_string().contains("whsec_"),
        "never listed: {listed}"
    );

    s.delete("/v1/webhook/crm").expect(200);
    assert_eq!(s.get("/v1/webhook").expect(200)["Webhooks"], json!([]));
    s.delete("/v1/webhook/crm").expect(404);
}

#[test]
fn urls_must_be_http_on_allowed_hosts_and_events_known() {
    let s = TestServer::start_with(|c| {
        c.webhooks.allowed_hosts = Some(vec!["hooks.example.com".into()]);
    });
    for url in [
        "ftp://hooks.example.com/x",
        "hooks.example.com/x",
        "http://10.0.0.1/x",
        "http://localhost:9/",
    ] {
        let resp = s.put("/v1/webhook/crm", endpoint(url, &["link.opened"]));
        assert_eq!(error_fields(&resp.expect(400)), ["Url"], "{url}");
    }
    let resp = s.put(
        "/v1/webhook/crm",
        endpoint("https://hooks.example.com/x", &["link.nope"]),
    );
    assert_eq!(error_fields(&resp.expect(400)), ["Events"]);
    let resp = s.put(
        "/v1/webhook/bad%20name",
        endpoint("https://hooks.example.com/x", &["link.opened"]),
    );
    assert_eq!(error_fields(&resp.expect(400)), ["Name"]);
    assert_eq!(
        s.get("/v1/webhook").expect(200)["Webhooks"],
        json!([]),
        "nothing stored"
    );
    s.put(
        "/v1/webhook/crm",
        endpoint("https://HOOKS.example.com:8443/x", &["link.opened"]),
    )
    .expect(200);
}

#[test]
fn another_tenants_endpoints_are_invisible() {
    let (s, b) = TestServer::with_second_tenant(|_| {});
    s.put(
        "/v1/webhook/crm",
        endpoint("https://hooks.example.com/a", &["link.opened"]),
    )
    .expect(200);
    let theirs = s.req("GET", "/v1/webhook").bearer(&b).send().expect(200);
    assert_eq!(theirs["Webhooks"], json!([]));
    s.req("DELETE", "/v1/webhook/crm")
        .bearer(&b)
        .send()
        .expect(404);
    assert_eq!(
        s.get("/v1/webhook").expect(200)["Webhooks"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

const WORKER_INTERVAL: Duration = Duration::from_millis(50);

fn fast_worker(c: &mut Config) {
    c.delivery.worker_interval = WORKER_INTERVAL;
}

/// Subscribes `name` at `receiver` to `events`; returns the secret's bytes.
fn subscribe(
    s: &TestServer,
    key: &str,
    name: &str,
    receiver: &SmsGateway,
    events: &[&str],
) -> Vec<u8> {
    let url = format!("{}/hooks/{name}", receiver.base_url());
    let made = s
        .req("PUT", &format!("/v1/webhook/{name}"))
        .bearer(key)
        .json(&endpoint(&url, events))
        .send()
        .expect(200);
    let secret = made["Secret"].as_str().unwrap();
    STANDARD
        .decode(secret.strip_prefix("whsec_").unwrap())
        .unwrap()
}

/// Checks a request's Standard Webhooks signature with `secret` (ring's HMAC verify) and
/// returns its body as JSON.
fn verified(request: &GatewayRequest, secret: &[u8]) -> Value {
    let id = request.header("webhook-id").unwrap();
    let timestamp = request.header("webhook-timestamp").unwrap();
    let signature = request.header("webhook-signature").unwrap();
    let tag = STANDARD
        .decode(signature.strip_prefix("v1,").unwrap())
        .unwrap();
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret);
    let signed = format!("{id}.{timestamp}.{}", request.body);
    ring::hmac::verify(&key, signed.as_bytes(), &tag).expect("a valid signature");
    assert!(id.starts_with("msg_"), "{id}");
    serde_json::from_str(&request.body).unwrap()
}

fn types(requests: &[GatewayRequest]) -> Vec<String> {
    requests
        .iter()
        .map(|r| {
            serde_json::from_str::<Value>(&r.body).unwrap()["type"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect()
}

/// The worker's interval is an hour and the manual clock never moves: only the commit that
/// queued the event can start the round that sends it.
#[test]
fn an_event_goes_out_when_its_write_commits_not_at_the_workers_next_interval() {
    let s = TestServer::start_with(|c| c.delivery.worker_interval = Duration::from_secs(3600));
    let receiver = SmsGateway::start();
    let secret = subscribe(&s, &s.key, "crm", &receiver, &["link.created"]);
    let created = s
        .post(
            "/v1/customerlink",
            json!({"ResourceType": "Quote", "ResourceUid": uid(8), "RecipientEmail": "a@example.com"}),
        )
        .expect(200);
    let got = receiver.wait_for(1);
    let body = verified(&got[0], &secret);
    assert_eq!(body["type"], "link.created");
    assert_eq!(
        body["data"]["CustomerLinkUID"]
            .as_str()
            .unwrap()
            .replace('-', ""),
        link_uid(&created).replace('-', "")
    );
    s.check();
}

#[test]
fn events_are_delivered_signed_and_only_to_the_links_tenant() {
    let (s, b) = TestServer::with_second_tenant(fast_worker);
    let (mine, theirs) = (SmsGateway::start(), SmsGateway::start());
    let events = [
        "link.created",
        "link.opened",
        "link.exhausted",
        "link.revoked",
    ];
    let secret = subscribe(&s, &s.key, "crm", &mine, &events);
    subscribe(&s, &b, "crm", &theirs, &events);
    let created = s
        .post(
            "/v1/customerlink",
            json!({"ResourceType": "Quote", "ResourceUid": uid(7), "RecipientEmail": "a@example.com",
                   "MaxViews": 1}),
        )
        .expect(200);
    let token = portal_token(&created);
    Req::new(s.addr, "POST", &format!("/portal/{token}/open"))
        .send()
        .expect(200);
    s.job_round("outbox", WORKER_INTERVAL);
    let got = mine.wait_for(3);
    let mut kinds = types(&got);
    kinds.sort();
    assert_eq!(kinds, ["link.created", "link.exhausted", "link.opened"]);
    let uid_of_link = link_uid(&created);
    for request in &got {
        assert_eq!(
            (request.method.as_str(), request.target.as_str()),
            ("POST", "/hooks/crm")
        );
        let body = verified(request, &secret);
        let data = &body["data"];
        assert_eq!(
            data["CustomerLinkUID"].as_str().unwrap().replace('-', ""),
            uid_of_link.replace('-', "")
        );
        assert_eq!(data["ResourceType"], "Quote");
        assert!(
            data["RecipientDisplayName"].is_string() && data["Status"].is_string(),
            "{body}"
        );
        assert_eq!(data["MaxViews"], 1);
        assert!(body["timestamp"].is_string());
        assert!(!request.body.contains(&token), "never the token");
    }
    let opened = got.iter().find(|r| r.body.contains("link.opened")).unwrap();
    assert_eq!(verified(opened, &secret)["data"]["ViewCount"], 1);
    s.job_round("outbox", WORKER_INTERVAL);
    assert!(
        theirs.requests().is_empty(),
        "another tenant's events are never delivered"
    );
    assert_eq!(mine.requests().len(), 3, "each event once");
    let listed = s.get("/v1/webhook").expect(200);
    assert!(
        listed["Webhooks"][0]["LastSuccessAtUtc"].is_string(),
        "{listed}"
    );
    s.check();
}

#[test]
fn a_failed_event_is_retried_after_a_restart_with_the_same_webhook_id() {
    let receiver = SmsGateway::start();
    receiver.answer_with(503);
    let s = TestServer::start_with(fast_worker);
    subscribe(&s, &s.key.clone(), "crm", &receiver, &["link.created"]);
    s.quote_link(1, "a@example.com");
    s.job_round("outbox", WORKER_INTERVAL);
    let first = receiver.wait_for(1).remove(0);
    let id = first.header("webhook-id").unwrap().to_owned();
    let state = s.get("/v1/webhook").expect(200)["Webhooks"][0].clone();
    assert_eq!(state["ConsecutiveFailures"], 1, "{state}");
    assert!(
        state["LastError"].as_str().unwrap().contains("503"),
        "{state}"
    );

    let (dir, clock) = s.stop();
    let dir = dir.unwrap();
    receiver.answer_with(200);
    let s = TestServer::start_in(dir.path(), Arc::clone(&clock), fast_worker);
    clock.advance_millis(3_600_000);
    s.job_round("outbox", WORKER_INTERVAL);
    let all = receiver.wait_for(2);
    assert_eq!(
        all[1].header("webhook-id"),
        Some(id.as_str()),
        "the same webhook-id"
    );
    assert_eq!(all[1].body, first.body, "the same event");
    assert_ne!(
        all[1].header("webhook-timestamp"),
        first.header("webhook-timestamp")
    );
    let state = s.get("/v1/webhook").expect(200)["Webhooks"][0].clone();
    assert_eq!(state["ConsecutiveFailures"], 0, "{state}");
    assert!(state["LastSuccessAtUtc"].is_string(), "{state}");
    s.job_round("outbox", WORKER_INTERVAL);
    assert_eq!(receiver.requests().len(), 2, "delivered once");
}

#[test]
fn an_endpoint_failing_too_often_in_a_row_is_disabled_with_a_metric() {
    let receiver = SmsGateway::start();
    receiver.answer_with(500);
    let s = TestServer::start_with(|c| {
        fast_worker(c);
        c.webhooks.max_consecutive_failures = 2;
    });
    subscribe(&s, &s.key.clone(), "crm", &receiver, &["link.created"]);
    for n in 1..=3 {
        s.quote_link(n, "a@example.com");
    }
    s.job_round("outbox", WORKER_INTERVAL);
    wait_until(
        || s.get("/v1/webhook").expect(200)["Webhooks"][0]["Enabled"] == false,
        "disabled",
    );
    let state = s.get("/v1/webhook").expect(200)["Webhooks"][0].clone();
    assert_eq!(state["ConsecutiveFailures"], 2, "{state}");
    assert!(state["DisabledAtUtc"].is_string(), "{state}");
    let metrics = Req::new(s.addr, "GET", "/metrics").send().body;
    assert!(
        metrics.contains("customerlink_webhook_endpoints_disabled_total 1"),
        "{metrics}"
    );
    s.clock.advance_millis(3_600_000);
    s.job_round("outbox", WORKER_INTERVAL);
    assert_eq!(
        receiver.requests().len(),
        2,
        "nothing more goes to a disabled endpoint"
    );
    s.quote_link(9, "a@example.com");
    s.job_round("outbox", WORKER_INTERVAL);
    assert_eq!(
        receiver.requests().len(),
        2,
        "no new events are queued for it"
    );
}

#[test]
fn the_expiry_pass_announces_each_expired_link_once() {
    const PURGE: Duration = Duration::from_millis(50);
    let receiver = SmsGateway::start();
    let s = TestServer::start_with(|c| {
        fast_worker(c);
        c.purge.interval = PURGE;
    });
    subscribe(&s, &s.key.clone(), "crm", &receiver, &["link.expired"]);
    s.job_round("purge", PURGE);
    let body = |n: u128| {
        json!({"ResourceType": "Quote", "ResourceUid": uid(n),
                                "RecipientEmail": "a@example.com", "ExpiresInHours": 1})
    };
    let expiring = link_uid(&s.post("/v1/customerlink", body(1)).expect(200));
    let revoked = link_uid(&s.post("/v1/customerlink", body(2)).expect(200));
    s.post(&format!("/v1/customerlink/{revoked}/revoke"), json!({}))
        .expect(200);
    s.clock.advance_millis(2 * 3_600_000);
    s.job_round("purge", PURGE);
    s.job_round("outbox", WORKER_INTERVAL);
    let got = receiver.wait_for(1);
    assert_eq!(types(&got), ["link.expired"]);
    let event: Value = serde_json::from_str(&got[0].body).unwrap();
    assert_eq!(
        event["data"]["CustomerLinkUID"]
            .as_str()
            .unwrap()
            .replace('-', ""),
        expiring.replace('-', "")
    );
    assert_eq!(event["data"]["Status"], "Expired");
    s.job_round("purge", PURGE);
    s.job_round("outbox", WORKER_INTERVAL);
    assert_eq!(
        receiver.requests().len(),
        1,
        "announced once; a revoked link does not expire"
    );
}

#[test]
fn a_resend_keeps_the_links_queued_events_and_announces_itself() {
    let sink = SmtpSink::start();
    let receiver = SmsGateway::start();
    let s = TestServer::start_with(|c| {
        c.email = Some(email_via(sink.url()));
        fast_worker(c);
    });
    let events = ["link.created", "link.delivered", "link.resent"];
    subscribe(&s, &s.key.clone(), "crm", &receiver, &events);
    let body = json!({"ResourceType": "Quote", "ResourceUid": uid(3),
                      "RecipientEmail": "eve@example.com", "DeliverEmail": true});
    let created = s.post("/v1/customerlink", body).expect(200);
    sink.wait_for(1);
    let uid = link_uid(&created);
    s.post(&format!("/v1/customerlink/{uid}/resend"), json!({}))
        .expect(200);
    s.job_round("outbox", WORKER_INTERVAL);
    let mut kinds = types(&receiver.wait_for(4));
    kinds.sort();
    assert_eq!(
        kinds,
        [
            "link.created",
            "link.delivered",
            "link.delivered",
            "link.resent"
        ],
        "the events queued before the resend are not superseded with its old token"
    );
}
