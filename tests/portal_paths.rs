//! The portal's request path: a dead token (revoked, expired, exhausted, locked) takes the
//! same path as one never issued — one store read and no durable write — and a passcode
//! request answers before the relay does (the code goes through the durable outbox).

use std::net::TcpListener;
use std::time::Duration;

use customerlink::config::Config;
use serde_json::{Value, json};

use crate::support::sinks::{SmtpSink, wait_until};
use crate::support::{Req, TestServer, email_via, portal_token, uid};

fn with_email(c: &mut Config, url: String) {
    c.email = Some(email_via(url));
    // Only a wake-up can make the worker send within these tests' patience.
    c.delivery.worker_interval = Duration::from_secs(3600);
    c.purge.interval = Duration::from_secs(3600);
    c.portal.verify_attempts_per_address = 1000;
}

fn commits(s: &TestServer) -> u64 {
    let metrics = Req::new(s.addr, "GET", "/metrics").send().body;
    metrics
        .lines()
        .find_map(|l| l.strip_prefix("customerlink_writer_commits_total "))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("no commit counter in {metrics}"))
}

fn document(s: &TestServer, n: u128) -> Value {
    s.post(
        "/v1/customerlink",
        json!({"ResourceType": "Document", "ResourceUid": uid(n), "RecipientEmail": "doc@example.com"}),
    )
    .expect(200)
}

fn portal(s: &TestServer, token: &str, step: &str) -> crate::support::Resp {
    let req = Req::new(s.addr, "POST", &format!("/portal/{token}/{step}"));
    match step {
        "verify" => req.json(&json!({"Code": "123456"})).send(),
        _ => req.send(),
    }
}

#[test]
fn dead_and_unknown_tokens_cost_the_same_no_write() {
    let sink = SmtpSink::start();
    let s = TestServer::start_with(|c| with_email(c, sink.url()));
    let doc = document(&s, 1);
    let dead = portal_token(&doc);
    let uid = doc["Link"]["CustomerLinkUID"].as_str().unwrap();
    s.post(&format!("/v1/customerlink/{uid}/revoke"), json!({}))
        .expect(200);
    let unknown = "C".repeat(43);
    // The jobs' first rounds (run at start) write too; the clock stays, so none follows.
    for job in ["purge", "outbox", "landing_log"] {
        wait_until(|| s.job_rounds(job) >= 1, job);
    }
    for step in ["otp", "verify"] {
        for token in [dead.as_str(), unknown.as_str()] {
            let before = commits(&s);
            let answers: Vec<(u16, String)> = (0..5)
                .map(|_| {
                    let r = portal(&s, token, step);
                    (r.status, r.body)
                })
                .collect();
            assert_eq!(
                commits(&s),
                before,
                "{step} with a {} token wrote to the store: {answers:?}",
                if token == unknown { "unknown" } else { "dead" }
            );
        }
        assert_eq!(
            portal(&s, &dead, step).body,
            portal(&s, &unknown, step).body,
            "{step}: the same answer"
        );
    }
    // A denied open of a dead link is still logged, in the landing log's next batch: many
    // denials cost a commit or two in all, not one each.
    let before = commits(&s);
    for _ in 0..20 {
        assert_eq!(portal(&s, &dead, "open").status, 404);
        assert_eq!(portal(&s, &unknown, "open").status, 404);
    }
    s.flush_landing_log();
    wait_until(
        || {
            s.get(&format!("/v1/customerlink/{uid}/log"))
                .body
                .contains("OpenDenied")
        },
        "the denied opens to be logged",
    );
    let spent = commits(&s) - before;
    assert!(spent <= 3, "20 denied opens took {spent} commits");
}

/// A relay that accepts connections and never says a word.
fn silent_relay() -> (TcpListener, String) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("smtp://127.0.0.1:{}", listener.local_addr().unwrap().port());
    (listener, url)
}

#[test]
fn a_passcode_request_answers_before_a_silent_relay_does() {
    let (relay, url) = silent_relay();
    let s = TestServer::start_with(|c| with_email(c, url));
    let doc = document(&s, 2);
    let token = portal_token(&doc);
    portal(&s, &token, "otp").expect(200);
    let uid = doc["Link"]["CustomerLinkUID"].as_str().unwrap();
    let d = s.get(&format!("/v1/customerlink/{uid}")).expect(200)["Deliveries"][0].clone();
    assert_eq!(d["Kind"], "Passcode", "queued durably: {d}");
    assert!(
        d["LastError"].is_null(),
        "answered before the attempt on the silent relay ended (its timeout is 3 s): {d}"
    );
    drop(relay);
}

#[test]
fn a_queued_passcode_goes_out_at_once_through_the_woken_worker() {
    let sink = SmtpSink::start();
    let s = TestServer::start_with(|c| with_email(c, sink.url()));
    let doc = document(&s, 3);
    let token = portal_token(&doc);
    // After the worker's first round (at start), only a wake runs one: the clock stays.
    wait_until(|| s.job_rounds("outbox") >= 1, "the worker's first round");
    portal(&s, &token, "otp").expect(200);
    let mail = sink.wait_for(1).remove(0);
    let text = mail.unwrapped();
    let at = text.find("your code is ").expect("a code") + "your code is ".len();
    let code: String = text[at..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    let verified = Req::new(s.addr, "POST", &format!("/portal/{token}/verify"))
        .json(&json!({"Code": code}))
        .send()
        .expect(200);
    assert_eq!(verified["Verified"], true);
    let uid = doc["Link"]["CustomerLinkUID"].as_str().unwrap();
    // The worker records the outcome just after the relay took the message.
    wait_until(
        || s.get(&format!("/v1/customerlink/{uid}")).json()["Deliveries"][0]["Status"] == "Sent",
        "the passcode delivery to be recorded as sent",
    );
    let log = s.get(&format!("/v1/customerlink/{uid}/log")).expect(200);
    let rows: Vec<(String, String, String)> = log["AccessLog"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["EventType"] == "OtpSent")
        .map(|r| {
            let text = |k: &str| r[k].as_str().unwrap_or_default().to_owned();
            (text("Outcome"), text("DetailMessage"), text("IpAddress"))
        })
        .collect();
    assert_eq!(
        rows,
        [
            ("Info".into(), "queued for Email".into(), "127.0.0.1".into()),
            ("Success".into(), "sent by Email".into(), String::new()),
        ],
        "who asked, then the outcome: {log}"
    );
    let d = s.get(&format!("/v1/customerlink/{uid}")).expect(200)["Deliveries"][0].clone();
    assert_eq!(
        (d["Kind"].as_str(), d["Status"].as_str()),
        (Some("Passcode"), Some("Sent"))
    );
}
