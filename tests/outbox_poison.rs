//! A delivery can never hold the outbox hostage: one whose attempts keep ending without an
//! outcome (the process dies mid-send, again and again) is given up as `Failed` instead of
//! being handed to the worker forever.

use std::time::Duration;

use customerlink::clock::Clock;
use customerlink::config::{Config, EmailSettings, FileConfig, Overrides};
use customerlink::domain::token::Secret;
use customerlink::store::Store;
use customerlink::store::commands::LeaseDue;
use serde_json::json;

use crate::support::sinks::SmtpSink;
use crate::support::{TestServer, uid};

fn with_dead_relay(c: &mut Config, port: u16) {
    c.email = Some(EmailSettings {
        smtp_url: Secret::new(format!("smtp://127.0.0.1:{port}")),
        from: "links@example.test".into(),
        from_name: None,
        reply_to: None,
        ca_file: None,
        timeout: Duration::from_secs(3),
    });
    c.delivery.worker_interval = Duration::from_secs(3600);
}

#[test]
fn a_delivery_whose_attempts_never_finish_is_given_up() {
    let port = SmtpSink::start().stop();
    let s = TestServer::start_with(|c| with_dead_relay(c, port));
    let created = s
        .post(
            "/v1/customerlink",
            json!({"ResourceType": "Quote", "ResourceUid": uid(1), "RecipientEmail": "ann@example.com", "DeliverEmail": true}),
        )
        .expect(200);
    let link_uid = created["Link"]["CustomerLinkUID"]
        .as_str()
        .unwrap()
        .to_owned();
    let (dir, clock) = s.stop();
    let dir = dir.unwrap();

    // Workers that lease the delivery and die before recording anything.
    let overrides = Overrides {
        data: Some(dir.path().to_owned()),
        ..Overrides::default()
    };
    let config = Config::resolve(overrides, FileConfig::default()).unwrap();
    let store = Store::open(&config.database_path(), &config.writer).unwrap();
    let mut now = clock.now() + 3_600_000;
    let mut leased = Vec::new();
    for _ in 0..4 {
        let op = LeaseDue {
            now,
            lease_until: now + 1,
            limit: 32,
        };
        let due = store.write_blocking(op).unwrap();
        leased.push(due.len());
        now += 10;
    }
    store.close().unwrap();
    assert_eq!(
        leased,
        [1, 1, 1, 0],
        "handed out three times, then given up"
    );

    let s = TestServer::start_in(dir.path(), clock, |c| with_dead_relay(c, port));
    let d = s.get(&format!("/v1/customerlink/{link_uid}")).expect(200)["Deliveries"][0].clone();
    assert_eq!(d["Status"], "Failed", "{d}");
    assert!(
        d["LastError"].as_str().unwrap().contains("never finished"),
        "{d}"
    );
    let log = s.get(&format!("/v1/customerlink/{link_uid}/log")).body;
    assert!(log.contains("DeliveryFailed"), "{log}");
}
