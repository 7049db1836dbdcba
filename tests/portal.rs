//! The recipient portal over HTTP: landing without side effects, indistinguishable failures,
//! atomic view counting, passcodes with their budgets, lock and unlock, hand-off grants,
//! the access log, the browser flow and the portal's rate limit.

use std::sync::Arc;
use std::time::Duration;

use customerlink::config::Config;
use serde_json::{Value, json};

use crate::support::sinks::SmtpSink;
use crate::support::{
    Req, Resp, TestServer, create_key_with_roles, email_via, new_tenant_key, uid,
};

fn with_email(c: &mut Config, sink: &SmtpSink) {
    c.email = Some(email_via(sink.url()));
}

fn create(s: &TestServer, body: Value) -> (String, String) {
    let r = s.post("/v1/customerlink", body).expect(200);
    let token = crate::support::portal_token(&r);
    (
        token,
        r["Link"]["CustomerLinkUID"].as_str().unwrap().to_owned(),
    )
}

fn quote(s: &TestServer, max_views: u32) -> (String, String) {
    create(
        s,
        json!({"ResourceType": "Quote", "ResourceUid": uid(1), "RecipientEmail": "a@example.com", "MaxViews": max_views}),
    )
}

fn document(s: &TestServer) -> (String, String) {
    create(
        s,
        json!({"ResourceType": "Document", "ResourceUid": uid(2), "RecipientEmail": "doc@example.com"}),
    )
}

/// A portal request without the staff key.
fn portal(s: &TestServer, method: &str, path: &str) -> Req {
    Req::new(s.addr, method, path)
}

fn link(s: &TestServer, uid: &str) -> Value {
    s.get(&format!("/v1/customerlink/{uid}")).expect(200)["Link"].clone()
}

fn code_from(mail: &crate::support::sinks::Mail) -> String {
    let text = mail.unwrapped();
    let at = text.find("your code is ").expect("code in the mail") + "your code is ".len();
    text[at..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect()
}

fn session_cookie(r: &Resp) -> String {
    let set = r.header("set-cookie").expect("a session cookie");
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Strict") && set.contains("Path=/portal"),
        "{set}"
    );
    set.split(';').next().unwrap().to_owned()
}

#[test]
fn landing_and_head_change_nothing_and_show_no_details_before_verification() {
    let s = TestServer::start();
    let (token, link_uid) = quote(&s, 5);
    for _ in 0..3 {
        let r = portal(&s, "GET", &format!("/portal/{token}")).send();
        let body = r.expect(200);
        assert_eq!(
            (
                body["Status"].as_str(),
                body["CanView"].as_bool(),
                body["ResourceType"].as_str()
            ),
            (Some("Active"), Some(true), Some("Quote"))
        );
        assert_eq!(body["Title"], "Default");
        for (h, v) in [
            ("cache-control", "no-store"),
            ("referrer-policy", "no-referrer"),
            ("x-robots-tag", "noindex, nofollow"),
        ] {
            assert_eq!(r.header(h), Some(v));
        }
        assert!(
            r.header("content-security-policy")
                .unwrap()
                .contains("frame-ancestors 'none'")
        );
        assert_eq!(
            portal(&s, "HEAD", &format!("/portal/{token}"))
                .send()
                .status,
            200
        );
    }
    assert_eq!(
        link(&s, &link_uid)["ViewCount"],
        0,
        "GET and HEAD consume no view"
    );
    let (doc_token, _) = document(&s);
    let body = portal(&s, "GET", &format!("/portal/{doc_token}"))
        .send()
        .expect(200);
    assert_eq!(
        (
            body["CanView"].as_bool(),
            body["RequireOtp"].as_bool(),
            body["OtpChannel"].as_str()
        ),
        (Some(false), Some(true), Some("Email"))
    );
    assert!(
        body.get("ResourceType").is_none(),
        "nothing about the resource before verification: {body}"
    );
}

#[test]
fn unknown_expired_revoked_exhausted_and_locked_look_the_same() {
    let s = TestServer::start_with(|c| c.portal.verify_attempts_per_address = 100);
    let unavailable = |token: &str| {
        let r = portal(&s, "GET", &format!("/portal/{token}")).send();
        assert_eq!(r.status, 404, "{token}: {r:#?}");
        r.body
    };
    let reference = unavailable(&"A".repeat(43));
    assert_eq!(unavailable("not-a-token"), reference);
    let (revoked, uid_r) = quote(&s, 5);
    s.post(&format!("/v1/customerlink/{uid_r}/revoke"), json!({}))
        .expect(200);
    assert_eq!(unavailable(&revoked), reference);
    let (exhausted, _) = quote(&s, 1);
    portal(&s, "POST", &format!("/portal/{exhausted}/open"))
        .send()
        .expect(200);
    assert_eq!(unavailable(&exhausted), reference);
    let (locked, _) = document(&s);
    for _ in 0..10 {
        portal(&s, "POST", &format!("/portal/{locked}/verify"))
            .json(&json!({"Code": "000000"}))
            .send();
    }
    assert_eq!(unavailable(&locked), reference);
    let (expiring, _) = create(
        &s,
        json!({"ResourceType": "Quote", "ResourceUid": uid(3), "RecipientEmail": "e@example.com", "ExpiresInHours": 1}),
    );
    s.clock.advance_hours(1);
    assert_eq!(unavailable(&expiring), reference);
    let open = portal(&s, "POST", &format!("/portal/{revoked}/open")).send();
    assert_eq!(open.status, 404);
}

#[test]
fn parallel_opens_succeed_exactly_max_views_times() {
    let s = Arc::new(TestServer::start_with(|c| {
        c.portal.requests_per_minute = 1000
    }));
    let (token, link_uid) = quote(&s, 3);
    let threads: Vec<_> = (0..24)
        .map(|_| {
            let (s, token) = (Arc::clone(&s), token.clone());
            std::thread::spawn(move || {
                portal(&s, "POST", &format!("/portal/{token}/open"))
                    .send()
                    .status
            })
        })
        .collect();
    let statuses: Vec<u16> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        3,
        "{statuses:?}"
    );
    assert_eq!(statuses.iter().filter(|s| **s == 404).count(), 21);
    assert_eq!(link(&s, &link_uid)["ViewCount"], 3);
    assert_eq!(link(&s, &link_uid)["Status"], "Exhausted");
}

#[test]
fn passcode_flow_with_resend_of_the_same_code_and_cookie_scoping() {
    let sink = SmtpSink::start();
    let s = TestServer::start_with(|c| with_email(c, &sink));
    let (token, link_uid) = document(&s);
    let denied = portal(&s, "POST", &format!("/portal/{token}/open")).send();
    assert_eq!(
        (denied.status, denied.json()["Status"].as_str()),
        (403, Some("CodeRequired"))
    );
    let sent = portal(&s, "POST", &format!("/portal/{token}/otp"))
        .send()
        .expect(200);
    assert_eq!(sent["OtpSent"], true);
    let code = code_from(&sink.wait_for(1)[0]);
    assert_eq!(code.len(), 6);
    portal(&s, "POST", &format!("/portal/{token}/otp"))
        .send()
        .expect(200);
    s.job_round("outbox", Duration::from_secs(5));
    assert_eq!(sink.mails().len(), 1, "cooldown: nothing sent within 60 s");
    s.clock.advance_millis(61_000);
    portal(&s, "POST", &format!("/portal/{token}/otp"))
        .send()
        .expect(200);
    assert_eq!(
        code_from(&sink.wait_for(2)[1]),
        code,
        "a resend re-sends the live code"
    );
    let unknown = portal(&s, "POST", &format!("/portal/{}/otp", "B".repeat(43)))
        .send()
        .expect(200);
    assert_eq!(unknown, sent, "the same answer for an unknown token");

    let wrong = portal(&s, "POST", &format!("/portal/{token}/verify"))
        .json(&json!({"Code": "999999x"}))
        .send()
        .expect(200);
    assert_eq!(wrong["Verified"], false);
    let right = portal(&s, "POST", &format!("/portal/{token}/verify"))
        .json(&json!({"Code": format!("{} {}", &code[..3], &code[3..])}))
        .send();
    assert_eq!(right.json()["Verified"], true, "{right:#?}");
    let cookie = session_cookie(&right);

    let (other_token, _) = document(&s);
    let foreign = portal(&s, "POST", &format!("/portal/{other_token}/open"))
        .header("Cookie", &cookie)
        .send();
    assert_eq!(
        foreign.status, 403,
        "a cookie of link A does not open link B"
    );
    let opened = portal(&s, "POST", &format!("/portal/{token}/open"))
        .header("Cookie", &cookie)
        .send()
        .expect(200);
    assert_eq!(opened["Status"], "Opened");
    assert!(
        opened["TargetUrl"]
            .as_str()
            .unwrap()
            .contains(&format!("grant={}", opened["Grant"].as_str().unwrap()))
    );
    assert_eq!(link(&s, &link_uid)["ViewCount"], 1);
    let landing = portal(&s, "GET", &format!("/portal/{token}"))
        .header("Cookie", &cookie)
        .send()
        .expect(200);
    assert_eq!(
        (
            landing["CanView"].as_bool(),
            landing["ResourceType"].as_str()
        ),
        (Some(true), Some("Document"))
    );
    s.post(&format!("/v1/customerlink/{link_uid}/resend"), json!({}))
        .expect(200);
    let after_resend = portal(&s, "POST", &format!("/portal/{token}/open"))
        .header("Cookie", &cookie)
        .send();
    assert_eq!(
        after_resend.status, 404,
        "the old token and its sessions are gone"
    );
}

#[test]
fn wrong_codes_use_up_code_address_and_link_budgets_until_staff_unlock() {
    let sink = SmtpSink::start();
    let s = TestServer::start_with(|c| with_email(c, &sink));
    let (token, _) = document(&s);
    for _ in 0..3 {
        portal(&s, "POST", &format!("/portal/{token}/verify"))
            .json(&json!({"Code": "000000"}))
            .send()
            .expect(200);
    }
    let limited = portal(&s, "POST", &format!("/portal/{token}/verify"))
        .json(&json!({"Code": "000000"}))
        .send();
    assert_eq!(
        limited.status, 429,
        "the per-address budget is tighter than the link's"
    );
    assert!(limited.header("retry-after").is_some());
    drop(s);

    let s = TestServer::start_with(|c| {
        with_email(c, &sink);
        c.portal.verify_attempts_per_address = 100;
    });
    let (token, link_uid) = document(&s);
    portal(&s, "POST", &format!("/portal/{token}/otp"))
        .send()
        .expect(200);
    let code = code_from(&sink.wait_for(sink.mails().len().max(1))[sink.mails().len() - 1]);
    for _ in 0..5 {
        portal(&s, "POST", &format!("/portal/{token}/verify"))
            .json(&json!({"Code": "000000"}))
            .send()
            .expect(200);
    }
    let dead = portal(&s, "POST", &format!("/portal/{token}/verify"))
        .json(&json!({"Code": code}))
        .send()
        .expect(200);
    assert_eq!(dead["Verified"], false, "5 wrong tries kill the code");
    for _ in 0..4 {
        portal(&s, "POST", &format!("/portal/{token}/verify"))
            .json(&json!({"Code": "000000"}))
            .send();
    }
    assert_eq!(link(&s, &link_uid)["Status"], "Locked");
    assert_eq!(
        portal(&s, "GET", &format!("/portal/{token}")).send().status,
        404
    );
    let unlocked = s
        .post(&format!("/v1/customerlink/{link_uid}/unlock"), json!({}))
        .expect(200);
    assert_eq!(unlocked["Link"]["Status"], "Active");
    s.clock.advance_millis(61_000);
    // The code goes out through the outbox, just after the answer.
    let n = sink.mails().len() + 1;
    portal(&s, "POST", &format!("/portal/{token}/otp"))
        .send()
        .expect(200);
    let fresh = code_from(&sink.wait_for(n)[n - 1]);
    let ok = portal(&s, "POST", &format!("/portal/{token}/verify"))
        .json(&json!({"Code": fresh}))
        .send()
        .expect(200);
    assert_eq!(ok["Verified"], true);
    let events: Vec<String> = s
        .get(&format!("/v1/customerlink/{link_uid}/log"))
        .expect(200)["AccessLog"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["EventType"].as_str().unwrap().to_owned())
        .collect();
    for expected in [
        "Created",
        "OtpSent",
        "OtpFailed",
        "Locked",
        "Unlocked",
        "OtpVerified",
    ] {
        assert!(
            events.iter().any(|e| e == expected),
            "{expected} missing from {events:?}"
        );
    }
}

#[test]
fn grants_are_exchanged_once_by_a_resource_server_of_the_same_tenant() {
    let s = TestServer::start();
    let (token, link_uid) = quote(&s, 5);
    let tenant = link(&s, &link_uid)["TenantId"].as_str().unwrap().to_owned();
    let (s, (rs_key, other_key)) = s.restart_after(
        |data| {
            let rs_key = create_key_with_roles(data, &tenant, &["ResourceServer"]);
            (rs_key, new_tenant_key(data, "Other").1)
        },
        |_| {},
    );
    let introspect = |key: &str, grant: &str| {
        s.req("POST", "/v1/customerlink/grant/introspect")
            .bearer(key)
            .json(&json!({"Grant": grant}))
            .send()
    };

    let opened = portal(&s, "POST", &format!("/portal/{token}/open"))
        .send()
        .expect(200);
    let grant = opened["Grant"].as_str().unwrap();
    assert_eq!(
        introspect(&s.key, grant).status,
        403,
        "an ordinary staff key may not introspect"
    );
    assert_eq!(introspect(&other_key, grant).status, 403);
    let active = introspect(&rs_key, grant).expect(200);
    assert_eq!(active["Active"], true);
    assert_eq!(
        (
            active["CustomerLinkUID"].as_str(),
            active["TenantId"].as_str()
        ),
        (Some(link_uid.as_str()), Some(tenant.as_str()))
    );
    assert_eq!(
        (
            active["ResourceType"].as_str(),
            active["ResourceUid"].as_str()
        ),
        (Some("Quote"), Some(uid(1).as_str()))
    );
    assert_eq!(active["RecipientEmail"], "a@example.com");
    assert!(active["ExpiresAtUtc"].is_string());
    assert_eq!(
        introspect(&rs_key, grant).expect(200)["Active"],
        false,
        "a grant is exchanged once"
    );
    let second = portal(&s, "POST", &format!("/portal/{token}/open"))
        .send()
        .expect(200);
    s.clock.advance_millis(5 * 60_000 + 1);
    assert_eq!(
        introspect(&rs_key, second["Grant"].as_str().unwrap()).expect(200)["Active"],
        false,
        "expired"
    );
    assert_eq!(
        introspect(&rs_key, "garbage").expect(200),
        json!({"Active": false})
    );
}

#[test]
fn the_browser_flow_moves_the_token_into_a_cookie_and_redirects_to_the_resource() {
    let s = TestServer::start();
    let (token, link_uid) = quote(&s, 5);
    let first = portal(&s, "GET", &format!("/portal/{token}"))
        .header("Accept", "text/html,application/xhtml+xml")
        .send();
    assert_eq!(
        (first.status, first.header("location")),
        (303, Some("/portal"))
    );
    let set = first.header("set-cookie").unwrap();
    assert!(
        set.starts_with(&format!("cl_t={token};")) && set.contains("HttpOnly"),
        "{set}"
    );
    let cookie = format!("cl_t={token}");
    let page = portal(&s, "GET", "/portal")
        .header("Cookie", &cookie)
        .send();
    assert_eq!(
        (page.status, page.header("content-type")),
        (200, Some("text/html; charset=utf-8"))
    );
    assert!(
        page.body.contains("Default shared a Quote with you")
            && page.body.contains("action=\"/portal/open\""),
        "{}",
        page.body
    );
    assert!(!page.body.contains(&token), "the token is not in the page");
    assert_eq!(link(&s, &link_uid)["ViewCount"], 0);
    let foreign = portal(&s, "POST", "/portal/open")
        .header("Cookie", &cookie)
        .header("Origin", "https://evil.example")
        .send();
    assert_eq!(foreign.status, 403);
    let open = portal(&s, "POST", "/portal/open")
        .header("Cookie", &cookie)
        .header("Origin", "https://links.example.test")
        .send();
    assert_eq!(open.status, 303, "{open:#?}");
    let location = open.header("location").unwrap();
    assert!(
        location.starts_with(&format!("http://127.0.0.1:9090/quotes/{}?tenant=", uid(1)))
            && location.contains("&grant="),
        "{location}"
    );
    assert_eq!(link(&s, &link_uid)["ViewCount"], 1);
    let css = portal(&s, "GET", "/portal/style.css").send();
    assert_eq!(
        (css.status, css.header("content-type")),
        (200, Some("text/css; charset=utf-8"))
    );
    let gone = portal(&s, "GET", "/portal").send();
    assert_eq!(gone.status, 404, "no cookie: nothing to show");
}

#[test]
fn portal_requests_are_rate_limited_per_address() {
    let s = TestServer::start_with(|c| c.portal.requests_per_minute = 5);
    let (token, _) = quote(&s, 5);
    let statuses: Vec<u16> = (0..7)
        .map(|_| portal(&s, "GET", &format!("/portal/{token}")).send().status)
        .collect();
    assert_eq!(statuses, [200, 200, 200, 200, 200, 429, 429]);
    s.get("/v1/customerlink").expect(200);
    s.clock.advance_millis(60_000);
    assert_eq!(
        portal(&s, "GET", &format!("/portal/{token}")).send().status,
        200
    );
}

#[test]
fn the_access_log_outlives_the_link() {
    let s = TestServer::start_with(|c| {
        c.purge.interval = Duration::from_millis(30);
        c.purge.retention_ms = 3_600_000;
    });
    let (token, link_uid) = quote(&s, 5);
    portal(&s, "GET", &format!("/portal/{token}"))
        .header("User-Agent", "Scanner/1.0")
        .send()
        .expect(200);
    // The landing view is logged in the landing log's next batch: let it land first.
    s.flush_landing_log();
    crate::support::sinks::wait_until(
        || {
            s.get(&format!("/v1/customerlink/{link_uid}/log"))
                .body
                .contains("LandingViewed")
        },
        "landing log",
    );
    let metrics = Req::new(s.addr, "GET", "/metrics").send().body;
    assert!(
        metrics.contains("customerlink_portal_landing_views_logged_total 1\n")
            && metrics.contains("customerlink_portal_landing_views_dropped_total 0\n"),
        "{metrics}"
    );
    portal(&s, "POST", &format!("/portal/{token}/open"))
        .send()
        .expect(200);
    s.post(&format!("/v1/customerlink/{link_uid}/revoke"), json!({}))
        .expect(200);
    portal(&s, "POST", &format!("/portal/{token}/open")).send();
    // A dead link's denied open is logged in the landing log's next batch: let it land.
    s.flush_landing_log();
    crate::support::sinks::wait_until(
        || {
            s.get(&format!("/v1/customerlink/{link_uid}/log"))
                .body
                .contains("OpenDenied")
        },
        "denied open logged",
    );
    s.clock.advance_hours(2);
    crate::support::sinks::wait_until(
        || s.get(&format!("/v1/customerlink/{link_uid}")).status == 404,
        "purge",
    );
    let log = s
        .get(&format!("/v1/customerlink/{link_uid}/log"))
        .expect(200);
    let rows = log["AccessLog"].as_array().unwrap();
    let events: Vec<&str> = rows
        .iter()
        .map(|e| e["EventType"].as_str().unwrap())
        .collect();
    assert_eq!(
        events,
        [
            "Created",
            "LandingViewed",
            "Opened",
            "Revoked",
            "OpenDenied",
            "Purged"
        ],
        "{log}"
    );
    let viewed = &rows[1];
    assert_eq!(
        (viewed["IpAddress"].as_str(), viewed["UserAgent"].as_str()),
        (Some("127.0.0.1"), Some("Scanner/1.0"))
    );
    assert_eq!(rows[3]["ActorUserId"], rows[0]["ActorUserId"]);
    assert_eq!(rows[4]["DetailMessage"], "Revoked");
    assert!(rows.iter().all(|r| r["CustomerLinkId"] == 1));
    // Grants, logs and tombstones agree with the records.
    s.check();
}
