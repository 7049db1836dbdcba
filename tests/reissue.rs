//! Issue 16 §2: "Ask for a new link". `POST /portal/{Token}/reissue` answers the same bytes
//! for every token; behind it the tier's `reissue` policy decides: `auto` re-sends an expired
//! or used-up link with a new token (never a revoked one), `notify` logs `ReissueRequested`
//! and raises `link.reissue_requested`, `off` does nothing; requests are limited per link and
//! per address. On either store. Mail lands in the dev mailbox.

use std::time::Duration;

use customerlink::config::Config;
use serde_json::{Value, json};

use crate::support::sinks::{SmsGateway, wait_until};
use crate::support::{Req, Resp, TestServer, link_uid, portal_token, uid};

/// Quote (Standard) re-issues automatically, Document (Confidential) notifies, Claim
/// (Restricted) keeps the default, off.
fn policy(c: &mut Config) {
    let text = customerlink::domain::policy::DEFAULT_POLICY
        .replace(
            "[tiers.Standard]\n",
            "[tiers.Standard]\nreissue = \"auto\"\n",
        )
        .replace(
            "[tiers.Confidential]\n",
            "[tiers.Confidential]\nreissue = \"notify\"\n",
        );
    std::fs::create_dir_all(&c.data_dir).unwrap();
    std::fs::write(c.data_dir.join("policy.toml"), text).unwrap();
    c.dev = true;
    c.portal.requests_per_minute = 10_000;
}

fn server(tweak: impl FnOnce(&mut Config)) -> TestServer {
    TestServer::start_with(|c| {
        policy(c);
        tweak(c);
    })
}

/// A link of `resource` emailed to `email`, living one hour.
fn link(s: &TestServer, resource: &str, n: u128, email: &str) -> Value {
    let body = json!({"ResourceType": resource, "ResourceUid": uid(n), "RecipientEmail": email,
        "DeliverEmail": true, "ExpiresInHours": 1});
    s.post("/v1/customerlink", body).expect(200)
}

fn ask(s: &TestServer, token: &str) -> Resp {
    Req::new(s.addr, "POST", &format!("/portal/{token}/reissue")).send()
}

fn mailbox(s: &TestServer) -> Vec<Value> {
    let listing = Req::new(s.addr, "GET", "/dev/mailbox.json")
        .send()
        .expect(200);
    listing["Messages"].as_array().cloned().unwrap_or_default()
}

fn events(s: &TestServer, created: &Value) -> Vec<String> {
    let log = s
        .get(&format!("/v1/customerlink/{}/log", link_uid(created)))
        .expect(200);
    log["AccessLog"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["EventType"].as_str().unwrap().to_owned())
        .collect()
}

/// Waits until the re-issue job has finished whatever was queued before this call.
fn settle(s: &TestServer) {
    s.job_round("reissue", Duration::from_secs(1));
}

fn expire(s: &TestServer) {
    s.clock.advance_millis(2 * 3_600_000);
}

/// Status and body with the per-request headers (date, request id) left out.
fn answer(r: &Resp) -> (u16, String, Vec<(String, String)>) {
    let mut headers: Vec<_> = r
        .headers
        .iter()
        .filter(|(n, _)| n != "date" && n != "x-request-id")
        .cloned()
        .collect();
    headers.sort();
    (r.status, r.body.clone(), headers)
}

#[test]
fn issue_16_the_answer_is_byte_identical_for_unknown_revoked_and_expired_tokens() {
    let s = server(|_| {});
    let revoked = link(&s, "Quote", 1, "a@example.com");
    s.delete(&format!("/v1/customerlink/{}", link_uid(&revoked)))
        .expect(200);
    let expired = link(&s, "Quote", 2, "b@example.com");
    let live = link(&s, "Quote", 3, "c@example.com");
    expire(&s);
    let unknown = "A".repeat(43);
    let tokens = [
        portal_token(&revoked),
        portal_token(&expired),
        portal_token(&live),
        unknown,
        "x".into(),
    ];
    let answers: Vec<_> = tokens.iter().map(|t| answer(&ask(&s, t))).collect();
    assert_eq!(answers[0].0, 200, "{:?}", answers[0]);
    for other in &answers[1..] {
        assert_eq!(other, &answers[0]);
    }
    let pages: Vec<_> = tokens[..4]
        .iter()
        .map(|t| {
            let r = Req::new(s.addr, "POST", "/portal/reissue")
                .header("Cookie", &format!("cl_t={t}"))
                .header("Sec-Fetch-Site", "same-origin")
                .send();
            answer(&r)
        })
        .collect();
    assert_eq!(pages[0].0, 303);
    assert!(pages.iter().all(|p| p == &pages[0]));
    let page = Req::new(s.addr, "GET", "/portal?m=reissue")
        .header("Cookie", &format!("cl_t={}", tokens[1]))
        .send();
    assert!(
        page.body.contains("If a new link can be sent"),
        "{}",
        page.body
    );
}

#[test]
fn issue_16_auto_re_issues_an_expired_link_with_a_new_url_and_never_a_revoked_one() {
    let s = server(|_| {});
    let revoked = link(&s, "Quote", 1, "rev@example.com");
    s.delete(&format!("/v1/customerlink/{}", link_uid(&revoked)))
        .expect(200);
    let created = link(&s, "Quote", 2, "exp@example.com");
    let old = portal_token(&created);
    expire(&s);
    let before = mailbox(&s).len();
    ask(&s, &portal_token(&revoked)).expect(200);
    ask(&s, &old).expect(200);
    wait_until(
        || mailbox(&s).len() == before + 1,
        "the re-issued link's email",
    );
    let newest = &mailbox(&s)[0];
    assert_eq!(newest["To"], "exp@example.com");
    let url = newest["Links"][0].as_str().unwrap();
    let new = url.rsplit('/').next().unwrap();
    assert_ne!(new, old);
    let landing = Req::new(s.addr, "GET", &format!("/portal/{new}"))
        .send()
        .expect(200);
    assert_eq!(landing["Status"], "Active", "{landing}");
    Req::new(s.addr, "GET", &format!("/portal/{old}"))
        .send()
        .expect(404);
    let log = events(&s, &created);
    let tail: Vec<&str> = log.iter().rev().take(2).rev().map(String::as_str).collect();
    assert!(log.iter().any(|e| e == "ReissueRequested"), "{log:?}");
    assert!(tail.contains(&"Resent"), "{log:?}");
    settle(&s);
    assert!(
        !events(&s, &revoked)
            .iter()
            .any(|e| e == "ReissueRequested" || e == "Resent")
    );
    let to_revoked = mailbox(&s)
        .iter()
        .filter(|m| m["To"] == "rev@example.com")
        .count();
    assert_eq!(to_revoked, 1, "only its original email");
    let link = s
        .get(&format!("/v1/customerlink/{}", link_uid(&created)))
        .expect(200);
    assert_eq!(link["Link"]["ViewCount"], 0, "{link}");
}

#[test]
fn issue_16_notify_logs_and_raises_the_webhook_and_off_does_nothing() {
    let receiver = SmsGateway::start();
    let s = server(|c| c.delivery.worker_interval = Duration::from_millis(50));
    let url = format!("{}/hooks/crm", receiver.base_url());
    s.put(
        "/v1/webhook/crm",
        json!({"Url": url, "Events": ["link.reissue_requested"]}),
    )
    .expect(200);
    let notify = link(&s, "Document", 1, "doc@example.com");
    let off = link(&s, "Claim", 2, "claim@example.com");
    expire(&s);
    let mails = mailbox(&s).len();
    ask(&s, &portal_token(&off)).expect(200);
    ask(&s, &portal_token(&notify)).expect(200);
    wait_until(
        || events(&s, &notify).iter().any(|e| e == "ReissueRequested"),
        "the row",
    );
    s.job_round("outbox", Duration::from_millis(50));
    let got = receiver.wait_for(1);
    let body: Value = serde_json::from_str(&got[0].body).unwrap();
    assert_eq!(body["type"], "link.reissue_requested");
    let named = body["data"]["CustomerLinkUID"]
        .as_str()
        .unwrap()
        .replace('-', "");
    assert_eq!(named, link_uid(&notify).replace('-', ""), "{body}");
    settle(&s);
    assert!(!events(&s, &off).iter().any(|e| e == "ReissueRequested"));
    assert_eq!(mailbox(&s).len(), mails, "notify and off send nothing");
    assert_eq!(receiver.requests().len(), 1);
}

#[test]
fn issue_16_re_issue_requests_are_limited_per_link_and_per_address() {
    let s = server(|c| {
        c.portal.reissues_per_link_per_hour = 2;
        c.portal.reissues_per_address_per_hour = 5;
    });
    let a = link(&s, "Document", 1, "a@example.com");
    let b = link(&s, "Document", 2, "b@example.com");
    expire(&s);
    for _ in 0..4 {
        ask(&s, &portal_token(&a)).expect(200);
    }
    ask(&s, &portal_token(&b)).expect(200);
    ask(&s, &portal_token(&b)).expect(200);
    settle(&s);
    let count = |created: &Value| {
        events(&s, created)
            .iter()
            .filter(|e| *e == "ReissueRequested")
            .count()
    };
    assert_eq!(count(&a), 2, "per link");
    assert_eq!(count(&b), 1, "the address's fifth request was its last");
}

#[test]
fn issue_16_a_document_share_is_re_issued_at_share_reissue() {
    let s = TestServer::start_with(|c| {
        policy(c);
        let file = c.data_dir.join("policy.toml");
        let text = std::fs::read_to_string(&file).unwrap();
        std::fs::write(
            &file,
            text.replace("reissue = \"notify\"", "reissue = \"auto\""),
        )
        .unwrap();
    });
    let attachment = crate::shares::upload(&s, "terms.txt", b"the terms");
    let extra = json!({"DeliveryChannels": "Email", "ExpiresInHours": 1});
    let created = crate::shares::share(&s, &attachment, extra);
    let old = created["ShareUrl"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_owned();
    wait_until(|| mailbox(&s).len() == 1, "the share's email");
    expire(&s);
    let answered = Req::new(s.addr, "POST", &format!("/share/{old}/reissue")).send();
    assert_eq!(
        answer(&answered),
        answer(&ask(&s, &old)),
        "the same answer as the portal's"
    );
    wait_until(|| mailbox(&s).len() == 2, "the re-issued share's email");
    let url = mailbox(&s)[0]["Links"][0].as_str().unwrap().to_owned();
    let new = url.rsplit('/').next().unwrap();
    assert!(url.contains("/share/") && new != old, "{url}");
    let landing = Req::new(s.addr, "GET", &format!("/share/{new}")).send();
    assert_eq!(landing.status, 200, "{landing:#?}");
}
