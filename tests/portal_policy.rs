//! The portal's rate limit and security headers follow the operation a request reaches, not
//! the spelling of its path: every alias of a portal operation (case, doubled slashes, the
//! predefined `/api/{Op}` and `/{fmt}/reply/{Op}` routes) is limited and carries the headers,
//! on success and on every error the operation answers.

use serde_json::json;

use crate::support::{Req, Resp, TestServer};

const PER_MINUTE: u32 = 3;

/// The headers every portal answer carries.
fn assert_portal_headers(r: &Resp, what: &str) {
    for (name, value) in [
        ("referrer-policy", "no-referrer"),
        ("x-frame-options", "DENY"),
        ("x-robots-tag", "noindex, nofollow"),
        ("cache-control", "no-store"),
    ] {
        assert_eq!(r.header(name), Some(value), "{name} on {what}: {r:#?}");
    }
    assert!(
        r.header("content-security-policy")
            .is_some_and(|c| c.contains("frame-ancestors 'none'")),
        "CSP on {what}: {r:#?}"
    );
}

fn token(s: &TestServer) -> String {
    let created = s.quote_link(1, "a@example.com");
    crate::support::portal_token(&created)
}

/// `PER_MINUTE` answers that are not 429, then a 429; all with the portal headers.
fn assert_limited(s: &TestServer, what: &str, send: impl Fn() -> Resp) {
    for i in 0..PER_MINUTE {
        let r = send();
        assert_ne!(r.status, 429, "request {i} of {what} limited too early");
        assert_ne!(r.status, 0, "no answer to {what}");
        assert_portal_headers(&r, what);
    }
    let r = send();
    assert_eq!(r.status, 429, "{what} is not limited: {r:#?}");
    assert_portal_headers(&r, what);
    s.clock.advance_millis(60_000);
}

#[test]
fn every_alias_of_a_portal_operation_is_limited_and_carries_the_portal_headers() {
    let s = TestServer::start_with(|c| c.portal.requests_per_minute = PER_MINUTE);
    let t = token(&s);
    let get = |path: String| move || Req::new(s.addr, "GET", &path).send();
    let post = |path: String, body: serde_json::Value| {
        move || Req::new(s.addr, "POST", &path).json(&body).send()
    };
    let aliases: Vec<(String, Box<dyn Fn() -> Resp + '_>)> = vec![
        (
            "lower-case custom route".into(),
            Box::new(get(format!("/portal/{t}"))),
        ),
        ("upper case".into(), Box::new(get(format!("/PORTAL/{t}")))),
        ("mixed case".into(), Box::new(get(format!("/Portal/{t}")))),
        (
            "doubled slash".into(),
            Box::new(get(format!("//portal/{t}"))),
        ),
        (
            "format suffix".into(),
            Box::new(get(format!("/Portal/{t}.json"))),
        ),
        (
            "/api/{Op}".into(),
            Box::new(get(format!("/api/PortalLandingRequest?Token={t}"))),
        ),
        (
            "/json/reply/{Op}".into(),
            Box::new(get(format!("/json/reply/PortalLandingRequest?Token={t}"))),
        ),
        (
            "/xml/reply/{Op}, lower case".into(),
            Box::new(get(format!("/xml/reply/portallandingrequest?Token={t}"))),
        ),
        (
            "POST /api/PortalOtpRequest".into(),
            Box::new(post("/api/PortalOtpRequest".into(), json!({"Token": t}))),
        ),
        (
            "POST /json/reply/PortalOpenRequest (403 CodeRequired)".into(),
            Box::new(post(
                "/json/reply/PortalOpenRequest".into(),
                json!({"Token": t}),
            )),
        ),
        (
            "POST /PORTAL/{t}/verify (400 without a code)".into(),
            Box::new(post(format!("/PORTAL/{t}/verify"), json!({}))),
        ),
        (
            "unknown token (404 unavailable)".into(),
            Box::new(get(format!("/Portal/{}", "A".repeat(43)))),
        ),
        (
            "wrong verb on a portal path (405)".into(),
            Box::new(move || Req::new(s.addr, "DELETE", &format!("//PORTAL/{t}")).send()),
        ),
        (
            "browser page".into(),
            Box::new(get("/portal/style.css".into())),
        ),
    ];
    for (what, send) in &aliases {
        assert_limited(&s, what, send);
    }
}

#[test]
fn staff_operations_get_neither_the_portal_limit_nor_its_headers() {
    let s = TestServer::start_with(|c| c.portal.requests_per_minute = 1);
    for _ in 0..3 {
        let r = s.get("/api/CustomerLinkQueryRequest");
        assert_eq!(r.status, 200, "{r:#?}");
        assert_eq!(r.header("x-frame-options"), None);
    }
}

#[test]
fn errors_answered_before_the_operation_runs_carry_the_portal_headers_too() {
    let s = TestServer::start_with(|c| c.http.max_body_bytes = 1024);
    let big = json!({"Token": "A".repeat(43), "Code": "1".repeat(2000)});
    for path in ["/API/PortalVerifyRequest", "//Portal/x/verify"] {
        let r = Req::new(s.addr, "POST", path).json(&big).send();
        assert_eq!(r.status, 413, "{path}: {r:#?}");
        assert_portal_headers(&r, path);
    }
}
