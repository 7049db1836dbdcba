//! Names with line breaks: refused where they enter (CLI, API, templates file), and a name
//! that reaches a mail header anyway (data stored by an older version) fails that one
//! delivery permanently with a clear error — no panic, no closed connection, and the outbox
//! worker keeps sending.

use std::time::Duration;

use customerlink::config::Config;
use customerlink::domain::UnixMillis;
use customerlink::domain::tenant::Tenant;
use customerlink::store::commands::CreateTenant;
use serde_json::{Value, json};

use crate::support::sinks::{SmtpSink, wait_until};
use crate::support::{
    Req, TestServer, cli, email_via, error_fields, link_tenant, new_tenant_key, open_store,
    portal_token, uid,
};

fn with_email(c: &mut Config, url: &str) {
    c.email = Some(email_via(url));
    c.delivery.worker_interval = Duration::from_millis(50);
    c.delivery.backoff_initial = Duration::from_millis(100);
}

#[test]
fn the_cli_refuses_a_tenant_name_with_a_line_break() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let (code, out, err) = cli(&["tenant", "create", "--name", "Acme\r\nLtd", "--data", d]);
    assert_ne!(code, 0, "refused: {out}{err}");
    assert!(out.trim().is_empty(), "no tenant id printed: {out}");
    assert!(err.contains("line breaks"), "a clear reason: {err}");
    let (code, out, err) = cli(&["tenant", "create", "--name", "Acme Ltd", "--data", d]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.trim().len(), 32, "{out}");
}

#[test]
fn the_api_refuses_contact_names_with_control_characters() {
    let s = TestServer::start();
    for (field, value) in [
        ("FirstName", "Ann\r\nBcc: x@example.com"),
        ("LastName", "Lee\n"),
        ("Name", "Ann\u{0}Lee"),
    ] {
        let mut contact = json!({"EmailWork": "ann@example.com"});
        contact[field] = Value::from(value);
        let r = s.put("/v1/contact/7", contact);
        let body = r.expect(400);
        assert_eq!(error_fields(&body), [field], "{body}");
        assert!(
            body["ResponseStatus"]["Errors"][0]["Message"]
                .as_str()
                .is_some_and(|m| m.contains("line breaks")),
            "{body}"
        );
    }
    s.put(
        "/v1/contact/7",
        json!({"FirstName": "Ågot", "LastName": "O'Brien-Ødegård", "EmailWork": "ann@example.com"}),
    )
    .expect(200);
}

/// Tenant A (the initial key) has a name with a line break, written by the store directly
/// as an older version could have (its sender name in the shipped templates); tenant B (`b`)
/// has a plain name. The relay is down at first.
struct Poisoned {
    s: TestServer,
    b: String,
    relay_port: u16,
}

fn poisoned_tenant() -> Poisoned {
    let first = TestServer::start();
    let tenant = link_tenant(&first.quote_link(9, "x@example.com"));
    let relay_port = SmtpSink::start().stop();
    let (s, b) = first.restart_after(
        |data| {
            let store = open_store(data);
            store
                .write_blocking(CreateTenant(Tenant {
                    tenant_id: uuid::Uuid::parse_str(&tenant).unwrap().into(),
                    name: "Acme\r\nBcc: victim@example.com".into(),
                    created_at: UnixMillis::EPOCH,
                    accent: None,
                    logo: None,
                }))
                .unwrap();
            store.close().unwrap();
            new_tenant_key(data, "Tenant B").1
        },
        |c| with_email(c, &format!("smtp://127.0.0.1:{relay_port}")),
    );
    Poisoned { s, b, relay_port }
}

#[test]
fn a_sender_name_that_cannot_be_a_header_fails_its_delivery_and_nothing_else() {
    let p = poisoned_tenant();
    let s = &p.s;
    let quote = |n: u128| json!({"ResourceType": "Quote", "ResourceUid": uid(n), "RecipientEmail": "ann@example.com", "DeliverEmail": true});
    let body = s.post("/v1/customerlink", quote(1)).expect(200);
    let error = body["DeliveryErrors"][0].as_str().unwrap_or_default();
    assert!(
        error.contains("not retried") && error.contains("sender name cannot be written"),
        "a permanent, clear failure: {body}"
    );
    let d = s.deliveries(&body);
    assert_eq!(d[0]["Status"], "Failed", "{d:?}");
    assert!(d[0]["LastError"].as_str().unwrap().contains("sender name"));

    // The passcode request answers; its message fails the same clear way.
    let doc = s
        .post(
            "/v1/customerlink",
            json!({"ResourceType": "Document", "ResourceUid": uid(2), "RecipientEmail": "doc@example.com"}),
        )
        .expect(200);
    let token = portal_token(&doc);
    Req::new(s.addr, "POST", &format!("/portal/{token}/otp"))
        .send()
        .expect(200);
    wait_until(
        || {
            s.deliveries(&doc)
                .first()
                .is_some_and(|d| d["Status"] == "Failed")
        },
        "the passcode delivery to fail",
    );
    let passcode = &s.deliveries(&doc)[0];
    assert_eq!(passcode["Kind"], "Passcode");
    assert!(
        passcode["LastError"]
            .as_str()
            .unwrap()
            .contains("sender name")
    );

    // Tenant B's delivery, queued while the relay is down, still goes out: the worker lives.
    let b = s
        .req("POST", "/v1/customerlink")
        .bearer(&p.b)
        .json(&quote(3))
        .send()
        .expect(200);
    assert!(
        b["DeliveryErrors"][0]
            .as_str()
            .is_some_and(|e| e.contains("will be retried")),
        "{b}"
    );
    let sink = SmtpSink::start_on(p.relay_port);
    s.clock.advance_millis(600_000);
    let mail = sink.wait_for(1).remove(0);
    assert_eq!(mail.rcpt, ["ann@example.com"]);
    assert!(!mail.data.contains("victim"), "{}", mail.data);
    let b_uid = b["Link"]["CustomerLinkUID"].as_str().unwrap().to_owned();
    wait_until(
        || {
            s.req("GET", &format!("/v1/customerlink/{b_uid}"))
                .bearer(&p.b)
                .send()
                .json()["Deliveries"][0]["Status"]
                == "Sent"
        },
        "tenant B's delivery to be recorded as sent",
    );
}
