//! Signed webhooks (issue 15 §1): endpoints per tenant (`PUT`/`GET`/`DELETE /v1/webhook`),
//! their secret shown once, URL and event validation, and (below) events delivered through
//! the outbox, signed per Standard Webhooks 1.0. On either store.

use serde_json::{Value, json};

use crate::support::{TestServer, error_fields};

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
