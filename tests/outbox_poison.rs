//! A delivery can never hold the outbox hostage: one whose attempts keep ending without an
//! outcome (the process dies mid-send, again and again) is given up as `Failed` instead of
//! being handed to the worker forever.

use std::path::Path;
use std::time::Duration;

use customerlink::clock::{Clock, UnixMillis};
use customerlink::config::Config;
use customerlink::store::commands::LeaseDue;
use serde_json::json;

use crate::support::sinks::SmtpSink;
use crate::support::{TestServer, email_via, link_uid, open_store, uid};

fn with_dead_relay(c: &mut Config, port: u16) {
    c.email = Some(email_via(format!("smtp://127.0.0.1:{port}")));
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
    let link_uid = link_uid(&created);
    let first_lease = s.clock.now().plus_ms(3_600_000);
    let (s, leased) = s.restart_after(
        |data| lease_and_die(data, first_lease),
        |c| with_dead_relay(c, port),
    );
    assert_eq!(
        leased,
        [1, 1, 1, 0],
        "handed out three times, then given up"
    );

    let d = s.get(&format!("/v1/customerlink/{link_uid}")).expect(200)["Deliveries"][0].clone();
    assert_eq!(d["Status"], "Failed", "{d}");
    assert!(
        d["LastError"].as_str().unwrap().contains("never finished"),
        "{d}"
    );
    let log = s.get(&format!("/v1/customerlink/{link_uid}/log")).body;
    assert!(log.contains("DeliveryFailed"), "{log}");
}

/// Workers that lease the delivery and die before recording anything, 10 ms apart from
/// `now`: how many deliveries each lease handed out.
fn lease_and_die(data: &Path, mut now: UnixMillis) -> Vec<usize> {
    let store = open_store(data);
    let mut leased = Vec::new();
    for _ in 0..4 {
        let op = LeaseDue {
            now,
            lease_until: now.plus_ms(1),
            limit: 32,
        };
        leased.push(store.write_blocking(op).unwrap().len());
        now = now.plus_ms(10);
    }
    store.close().unwrap();
    leased
}
