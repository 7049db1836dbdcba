//! The outbox with two instances running: every queued delivery sent exactly once, also
//! after the relay was down and through a relay slower than the worker's lease.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use customerlink::clock::ManualClock;
use customerlink::config::Config;
use serde_json::json;

use super::*;
use crate::support::sinks::SmtpSink;
use crate::support::{TestServer, email_via, uid};

/// How far the clock moves to make a failed delivery due again: past the 1 s backoff, far
/// below the worker's lease (60 s and two attempt timeouts), so a lease never expires
/// under an attempt in progress. (Moving it past the lease during a round makes the other
/// instance retake and send what is being sent: that is what a lease expiry means.)
const RETRY: Duration = Duration::from_secs(2);

/// Two instances sending through `sink`, sharing one clock (as synced hosts do).
fn senders(site: &Site, sink_url: &str) -> (TestServer, TestServer) {
    let clock = Arc::new(ManualClock::new());
    let tweak = |c: &mut Config| {
        c.email = Some(email_via(sink_url));
        c.delivery.backoff_initial = Duration::from_secs(1);
        c.delivery.backoff_max = Duration::from_secs(1);
        c.delivery.attempt_timeout = Duration::from_secs(5);
        c.delivery.worker_interval = Duration::from_millis(50);
        c.delivery.max_attempts = 50;
    };
    let a = site.instance("a", Arc::clone(&clock), tweak);
    let mut b = site.instance("b", clock, tweak);
    b.key = a.key.clone();
    (a, b)
}

/// Runs outbox rounds on both instances until `sink` holds `n` messages (a first attempt
/// that outlived its create call is retried 30 s later: the clock moves until then).
fn send_until(pair: &(TestServer, TestServer), sink: &SmtpSink, n: usize) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while sink.mails().len() < n {
        assert!(
            Instant::now() < deadline,
            "only {} sent",
            sink.mails().len()
        );
        for s in [&pair.0, &pair.1] {
            s.job_round("outbox", RETRY);
        }
    }
}

/// Asserts the sink holds exactly one message for each of `recipients` (and nothing else).
fn exactly_once(sink: &SmtpSink, recipients: &BTreeSet<String>) {
    let mails = sink.mails();
    let got: Vec<String> = mails.iter().flat_map(|m| m.rcpt.clone()).collect();
    let distinct: BTreeSet<String> = got.iter().cloned().collect();
    assert_eq!(got.len(), recipients.len(), "duplicates or strays: {got:?}");
    assert_eq!(&distinct, recipients);
}

#[test]
fn queued_deliveries_are_sent_exactly_once_by_two_running_instances() {
    let sink = SmtpSink::start();
    let site = Site::new();
    let pair = Arc::new(senders(&site, &sink.url()));
    let p = Arc::clone(&pair);
    let created = at_once(16, move |i| {
        let body = json!({"ResourceType": "Quote", "ResourceUid": uid(i as u128 + 1), "RecipientEmail": format!("m{i}@example.com"), "DeliverEmail": true});
        either(&p, i).post("/v1/customerlink", body)
    });
    assert!(
        created.iter().all(|r| r.status == 200),
        "{:?}",
        statuses(&created)
    );
    let recipients: BTreeSet<String> = (0..16).map(|i| format!("m{i}@example.com")).collect();
    send_until(&pair, &sink, 16);
    for s in [&pair.0, &pair.1] {
        s.job_round("outbox", Duration::from_secs(5));
    }
    exactly_once(&sink, &recipients);
}

#[test]
fn deliveries_queued_while_the_relay_was_down_go_out_once_when_it_returns() {
    let port = SmtpSink::start().stop();
    let site = Site::new();
    let pair = Arc::new(senders(&site, &format!("smtp://127.0.0.1:{port}")));
    let p = Arc::clone(&pair);
    let created = at_once(12, move |i| {
        let body = json!({"ResourceType": "Quote", "ResourceUid": uid(i as u128 + 1), "RecipientEmail": format!("q{i}@example.com"), "DeliverEmail": true});
        either(&p, i).post("/v1/customerlink", body)
    });
    assert!(
        created.iter().all(|r| r.status == 200),
        "{:?}",
        statuses(&created)
    );
    // Both instances try (and fail) a while, each lease going to one of them.
    for _ in 0..3 {
        for s in [&pair.0, &pair.1] {
            s.job_round("outbox", RETRY);
        }
    }
    for r in &created {
        let deliveries = either(&pair, 0).deliveries(&r.json());
        let d = &deliveries[0];
        assert_eq!(d["Status"], "Queued", "{d}");
        assert!(
            d["Attempts"].as_u64().unwrap() >= 2,
            "retried while down: {d}"
        );
    }
    let sink = SmtpSink::start_on(port);
    let recipients: BTreeSet<String> = (0..12).map(|i| format!("q{i}@example.com")).collect();
    send_until(&pair, &sink, 12);
    for s in [&pair.0, &pair.1] {
        s.job_round("outbox", RETRY);
    }
    exactly_once(&sink, &recipients);
}

#[test]
fn a_slow_relay_gets_each_message_once_though_a_round_outlives_its_lease() {
    // Each message takes 2.5 s of the shared clock: a round of 32 (80 s) outlives the
    // worker's 70 s lease (60 s + two 5 s attempt timeouts), so the other instance retakes
    // the rest of the round while the first is still working through it.
    let port = SmtpSink::start().stop();
    let site = Site::new();
    let pair = Arc::new(senders(&site, &format!("smtp://127.0.0.1:{port}")));
    let p = Arc::clone(&pair);
    let created = at_once(40, move |i| {
        let body = json!({"ResourceType": "Quote", "ResourceUid": uid(i as u128 + 1), "RecipientEmail": format!("s{i}@example.com"), "DeliverEmail": true});
        either(&p, i).post("/v1/customerlink", body)
    });
    assert!(
        created.iter().all(|r| r.status == 200),
        "{:?}",
        statuses(&created)
    );
    let sink = SmtpSink::start_on(port);
    sink.each_message_takes(Arc::clone(&pair.0.clock), 2_500);
    let recipients: BTreeSet<String> = (0..40).map(|i| format!("s{i}@example.com")).collect();
    send_until(&pair, &sink, 40);
    for s in [&pair.0, &pair.1] {
        s.job_round("outbox", RETRY);
    }
    exactly_once(&sink, &recipients);
}
