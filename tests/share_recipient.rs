//! Document shares, the recipient's side (issue 17): `/share/{Token}` landing, passcode and
//! verify on the platform's wire, the streamed download counting one view per download
//! (parallel downloads against `MaxViews`, ranges under the download cookie), the portal's
//! headers, indistinguishable failures, the access log and the browser pages — on either
//! store.

use std::sync::Arc;

use serde_json::{Value, json};

use crate::shares::{share, upload};
use crate::support::sinks::SmtpSink;
use crate::support::{Req, Resp, TestServer, email_via};

fn start(sink: &SmtpSink) -> TestServer {
    TestServer::start_with(|c| {
        c.email = Some(email_via(sink.url()));
        c.portal.requests_per_minute = 1000;
    })
}

/// The token at the end of a share reply's `ShareUrl`.
fn token_of(reply: &Value) -> String {
    let url = reply["ShareUrl"].as_str().expect("a ShareUrl");
    url.rsplit('/').next().unwrap().to_owned()
}

fn share_id(reply: &Value) -> u64 {
    reply["DocumentShare"][0]["DocumentShareId"]
        .as_u64()
        .unwrap()
}

fn recipient(s: &TestServer, method: &str, path: &str) -> Req {
    Req::new(s.addr, method, path).header("Accept", "application/json")
}

fn view_count(s: &TestServer, attachment: &str) -> u64 {
    let listed = s
        .get(&format!("/v1/documentshare/attachment/{attachment}"))
        .expect(200);
    listed["DocumentShare"][0]["ViewCount"].as_u64().unwrap()
}

/// The passcode of the `n`-th mail (1-based) the sink received.
fn code(sink: &SmtpSink, n: usize) -> String {
    let text = sink.wait_for(n)[n - 1].unwrapped();
    let at = text.find("your code is ").expect("code in the mail") + "your code is ".len();
    text[at..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect()
}

/// The `name=value` of the `Set-Cookie` header that sets `name`.
fn set_cookie(r: &Resp, name: &str) -> Option<String> {
    r.headers
        .iter()
        .filter(|(n, _)| n == "set-cookie")
        .map(|(_, v)| v)
        .find(|v| v.starts_with(&format!("{name}=")))
        .cloned()
}

fn pair(set: &str) -> String {
    set.split(';').next().unwrap().to_owned()
}

/// Asks for a passcode, verifies it; answers the session cookie (`cl_s=…`).
fn verified(s: &TestServer, sink: &SmtpSink, token: &str, mails: usize) -> String {
    recipient(s, "POST", &format!("/share/{token}/otp"))
        .send()
        .expect(200);
    let code = code(sink, mails);
    let ok = recipient(s, "POST", &format!("/share/{token}/verify"))
        .json(&json!({"Code": code}))
        .send();
    assert_eq!(ok.json()["Verified"], true, "{ok:#?}");
    let set = set_cookie(&ok, "cl_s").expect("a session cookie");
    assert!(
        set.contains("Path=/share;") && set.contains("HttpOnly") && set.contains("SameSite=Strict"),
        "{set}"
    );
    pair(&set)
}

fn keys(v: &Value) -> Vec<&str> {
    v.as_object().unwrap().keys().map(String::as_str).collect()
}

#[test]
fn the_landing_has_the_platforms_shape_and_names_the_document_only_after_the_passcode() {
    let sink = SmtpSink::start();
    let s = start(&sink);
    let attachment = upload(&s, "policy.txt", b"the policy");
    let token = token_of(&share(&s, &attachment, json!({})));
    let before = recipient(&s, "GET", &format!("/share/{token}"))
        .send()
        .expect(200);
    assert_eq!(
        keys(&before),
        [
            "Status",
            "RequireOtp",
            "OtpChannel",
            "OtpSent",
            "CanView",
            "Message"
        ],
        "{before}"
    );
    assert_eq!(
        (
            &before["CanView"],
            &before["RequireOtp"],
            &before["OtpSent"]
        ),
        (&json!(false), &json!(true), &json!(false))
    );
    let session = verified(&s, &sink, &token, 1);
    let after = recipient(&s, "GET", &format!("/share/{token}"))
        .header("Cookie", &session)
        .send()
        .expect(200);
    assert_eq!(
        keys(&after),
        [
            "Status",
            "RequireOtp",
            "OtpChannel",
            "OtpSent",
            "DocumentName",
            "CanView",
            "Message"
        ],
        "{after}"
    );
    assert_eq!(
        (&after["DocumentName"], &after["CanView"]),
        (&json!("policy.txt"), &json!(true))
    );
    for spelling in [
        format!("/api/ShareLandingRequest?Token={token}"),
        format!("/json/reply/ShareLandingRequest?Token={token}"),
    ] {
        let other = recipient(&s, "GET", &spelling)
            .header("Cookie", &session)
            .send();
        assert_eq!(other.status, 200, "{spelling}: {other:?}");
        assert_eq!(
            other.header("x-frame-options"),
            Some("DENY"),
            "the portal's headers on every spelling"
        );
    }
    let jsv = Req::new(s.addr, "GET", &format!("/share/{token}"))
        .header("Accept", "text/jsv")
        .send();
    assert!(
        jsv.body.starts_with(
            "{Status:Active,RequireOtp:True,OtpChannel:Email,OtpSent:False,CanView:False"
        ),
        "{}",
        jsv.body
    );
}

#[test]
fn a_verified_download_streams_the_file_with_the_portals_headers_and_logs_it() {
    let sink = SmtpSink::start();
    let s = start(&sink);
    let attachment = upload(&s, "claim form.txt", b"name: ______");
    let created = share(&s, &attachment, json!({"MaxViews": 3}));
    let token = token_of(&created);
    let path = format!("/share/{token}/download");
    let denied = recipient(&s, "GET", &path).send();
    assert_eq!(
        (denied.status, denied.json()["Status"].as_str()),
        (403, Some("CodeRequired"))
    );
    assert_eq!(
        view_count(&s, &attachment),
        0,
        "no view without the passcode"
    );
    let wrong = recipient(&s, "POST", &format!("/share/{token}/verify"))
        .json(&json!({"Code": "000000x"}))
        .send()
        .expect(200);
    assert_eq!(keys(&wrong), ["Verified", "Status", "Message"]);
    let session = verified(&s, &sink, &token, 1);
    let head = recipient(&s, "HEAD", &path)
        .header("Cookie", &session)
        .send();
    assert_eq!(head.status, 405, "a HEAD counts no view: {head:?}");
    let file = recipient(&s, "GET", &path)
        .header("Cookie", &session)
        .send();
    assert_eq!((file.status, file.body.as_str()), (200, "name: ______"));
    for (name, value) in [
        ("content-type", "text/plain; charset=utf-8"),
        ("cache-control", "no-store"),
        ("x-content-type-options", "nosniff"),
        ("referrer-policy", "no-referrer"),
        ("x-frame-options", "DENY"),
        ("accept-ranges", "bytes"),
        ("content-length", "12"),
    ] {
        assert_eq!(file.header(name), Some(value), "{name}: {file:#?}");
    }
    let disposition = file.header("content-disposition").unwrap();
    assert!(
        disposition.starts_with("attachment;")
            && disposition.contains("filename*=UTF-8''claim%20form%2Etxt"),
        "{disposition}"
    );
    let grant = set_cookie(&file, "cl_d").expect("a download cookie");
    assert!(
        grant.contains("Path=/share;")
            && grant.contains("HttpOnly")
            && grant.contains("Max-Age=300"),
        "{grant}"
    );
    assert_eq!(view_count(&s, &attachment), 1);
    let log = s
        .get(&format!("/v1/documentshare/{}/log", share_id(&created)))
        .expect(200);
    let rows = log["AccessLog"].as_array().unwrap();
    let opened = rows
        .iter()
        .find(|r| r["EventType"] == "Opened")
        .unwrap_or_else(|| panic!("{log}"));
    assert_eq!(opened["DetailMessage"], "Downloaded, view 1 of 3", "{log}");
    let spelled = recipient(
        &s,
        "GET",
        &format!("/api/ShareDownloadRequest?Token={token}"),
    )
    .header("Cookie", &session)
    .send();
    assert_eq!(
        (spelled.status, spelled.body.as_str()),
        (200, "name: ______")
    );
    assert_eq!(
        view_count(&s, &attachment),
        2,
        "the predefined route downloads too"
    );
    for event in ["OtpSent", "OtpFailed", "OtpVerified", "OpenDenied"] {
        assert!(
            rows.iter().any(|r| r["EventType"] == event),
            "{event}: {log}"
        );
    }
}

#[test]
fn parallel_downloads_succeed_exactly_max_views_times() {
    let sink = SmtpSink::start();
    let s = Arc::new(start(&sink));
    let attachment = upload(&s, "a.txt", b"parallel");
    let token = token_of(&share(&s, &attachment, json!({"MaxViews": 3})));
    let session = verified(&s, &sink, &token, 1);
    let threads: Vec<_> = (0..16)
        .map(|_| {
            let (s, token, session) = (Arc::clone(&s), token.clone(), session.clone());
            std::thread::spawn(move || {
                let r = recipient(&s, "GET", &format!("/share/{token}/download"))
                    .header("Cookie", &session)
                    .send();
                (r.status, r.body)
            })
        })
        .collect();
    let answers: Vec<(u16, String)> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    let served: Vec<_> = answers
        .iter()
        .filter(|(status, _)| *status == 200)
        .collect();
    assert_eq!(served.len(), 3, "{answers:?}");
    assert!(served.iter().all(|(_, body)| body == "parallel"));
    assert_eq!(
        answers.iter().filter(|(status, _)| *status == 404).count(),
        13
    );
    assert_eq!(view_count(&s, &attachment), 3);
}

/// A text file over two chunks (64 KiB each), so ranges cross a chunk boundary.
fn big_text() -> Vec<u8> {
    (0..150_000u32)
        .map(|i| b"abcdefghijklmnopqrstuvwxyz"[(i % 26) as usize])
        .collect()
}

#[test]
fn ranges_are_served_and_count_one_view_per_download() {
    let sink = SmtpSink::start();
    let s = start(&sink);
    let data = big_text();
    let attachment = upload(&s, "big.txt", &data);
    let created = share(&s, &attachment, json!({"MaxViews": 1}));
    let token = token_of(&created);
    let path = format!("/share/{token}/download");
    let session = verified(&s, &sink, &token, 1);
    let first = recipient(&s, "GET", &path)
        .header("Cookie", &session)
        .header("Range", "bytes=65530-65545")
        .send();
    assert_eq!(first.status, 206, "{first:#?}");
    assert_eq!(first.body.as_bytes(), &data[65530..=65545]);
    assert_eq!(
        first.header("content-range"),
        Some("bytes 65530-65545/150000")
    );
    assert_eq!(first.header("content-length"), Some("16"));
    assert_eq!(view_count(&s, &attachment), 1, "the range counted the view");
    let grant = pair(&set_cookie(&first, "cl_d").expect("a download cookie"));
    let cookies = format!("{session}; {grant}");
    let rest = recipient(&s, "GET", &path)
        .header("Cookie", &cookies)
        .header("Range", "bytes=100000-")
        .send();
    assert_eq!(
        rest.status, 206,
        "the last view's download goes on: {rest:#?}"
    );
    assert_eq!(rest.body.as_bytes(), &data[100_000..]);
    assert!(
        set_cookie(&rest, "cl_d").is_none(),
        "no new view, no new grant"
    );
    let tail = recipient(&s, "GET", &path)
        .header("Cookie", &cookies)
        .header("Range", "bytes=-10")
        .send();
    assert_eq!(tail.body.as_bytes(), &data[149_990..]);
    let whole = recipient(&s, "GET", &path)
        .header("Cookie", &cookies)
        .send();
    assert_eq!((whole.status, whole.body.len()), (200, 150_000));
    assert!(whole.body.as_bytes() == data.as_slice());
    let outside = recipient(&s, "GET", &path)
        .header("Cookie", &cookies)
        .header("Range", "bytes=150000-")
        .send();
    assert_eq!(outside.status, 416, "{outside:#?}");
    assert_eq!(outside.header("content-range"), Some("bytes */150000"));
    assert_eq!(view_count(&s, &attachment), 1, "one download, one view");

    let without = recipient(&s, "GET", &path)
        .header("Cookie", &session)
        .header("Range", "bytes=0-9")
        .send();
    assert_eq!(
        without.status, 404,
        "no grant: a new download of a used-up share"
    );
    s.post(
        &format!("/v1/documentshare/{}/revoke", share_id(&created)),
        json!({}),
    )
    .expect(200);
    let revoked = recipient(&s, "GET", &path)
        .header("Cookie", &cookies)
        .header("Range", "bytes=0-9")
        .send();
    assert_eq!(
        revoked.status, 404,
        "a revocation ends the download's grant"
    );
}

#[test]
fn unusable_shares_answer_exactly_like_an_unknown_token() {
    let sink = SmtpSink::start();
    let s = start(&sink);
    let attachment = upload(&s, "a.txt", b"text");
    let unknown = "B".repeat(43);
    let revoked = share(&s, &attachment, json!({}));
    s.post(
        &format!("/v1/documentshare/{}/revoke", share_id(&revoked)),
        json!({}),
    )
    .expect(200);
    let gone_file = upload(&s, "b.txt", b"more");
    let gone = share(&s, &gone_file, json!({}));
    s.delete(&format!("/v1/attachment/{gone_file}?Force=true"))
        .expect(200);
    let used_up = share(&s, &attachment, json!({"MaxViews": 1}));
    let session = verified(&s, &sink, &token_of(&used_up), 1);
    let last = recipient(
        &s,
        "GET",
        &format!("/share/{}/download", token_of(&used_up)),
    )
    .header("Cookie", &session)
    .send();
    assert_eq!(last.status, 200, "{last:?}");
    let expiring = share(&s, &attachment, json!({"ExpiresInHours": 1}));
    let link = s.quote_link(1, "a@b.co");
    let customer_link = crate::support::portal_token(&link);
    s.clock.advance_millis(2 * 3600 * 1000);
    let answers = |token: &str| {
        [
            recipient(&s, "GET", &format!("/share/{token}")).send(),
            recipient(&s, "GET", &format!("/share/{token}/download")).send(),
            recipient(&s, "POST", &format!("/share/{token}/verify"))
                .json(&json!({"Code": "123456"}))
                .send(),
        ]
        .map(|r| (r.status, r.body))
    };
    let reference = answers(&unknown);
    assert_eq!(reference[0].0, 404, "{reference:?}");
    assert_eq!(reference[0].1, reference[1].1, "landing and download alike");
    for token in [
        token_of(&revoked),
        token_of(&gone),
        token_of(&expiring),
        token_of(&used_up),
        customer_link,
    ] {
        assert_eq!(answers(&token), reference, "{token}");
    }
    s.flush_landing_log();
    crate::support::sinks::wait_until(
        || {
            let path = format!("/v1/documentshare/{}/log", share_id(&revoked));
            s.get(&path).expect(200)["AccessLog"]
                .as_array()
                .unwrap()
                .iter()
                .any(|r| r["EventType"] == "OpenDenied")
        },
        "a dead share's download is logged in the landing log's next batch",
    );
}

#[test]
fn the_browser_swaps_the_token_for_a_cookie_and_downloads_after_the_passcode() {
    let sink = SmtpSink::start();
    let s = start(&sink);
    let attachment = upload(&s, "note.txt", b"a note");
    let token = token_of(&share(&s, &attachment, json!({})));
    let html = |method: &str, path: &str, cookie: &str| {
        Req::new(s.addr, method, path)
            .header("Accept", "text/html")
            .header("Cookie", cookie)
    };
    let first = html("GET", &format!("/share/{token}"), "").send();
    assert_eq!(
        (first.status, first.header("location")),
        (303, Some("/share"))
    );
    let set = set_cookie(&first, "cl_t").expect("the token cookie");
    assert!(
        set.contains("Path=/share;") && set.contains("HttpOnly"),
        "{set}"
    );
    let link = pair(&set);
    let page = html("GET", "/share", &link).send();
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains("action=\"/share/otp\"") && !page.body.contains("note.txt"),
        "no document name before the passcode: {}",
        page.body
    );
    assert!(!page.body.contains(&token) && !page.body.contains("<script"));
    let csp = page.header("content-security-policy").unwrap();
    assert!(csp.starts_with("default-src 'none'"), "{csp}");
    let sent = html("POST", "/share/otp", &link)
        .header("Sec-Fetch-Site", "same-origin")
        .send();
    assert_eq!(sent.header("location"), Some("/share?m=sent"));
    let body = format!("Code={}", code(&sink, 1));
    let ok = html("POST", "/share/verify", &link)
        .header("Sec-Fetch-Site", "same-origin")
        .header("Content-Type", "application/x-www-form-urlencoded")
        .raw_body(body.into_bytes())
        .send();
    assert_eq!(ok.header("location"), Some("/share?m=verified"), "{ok:#?}");
    let cookies = format!("{link}; {}", pair(&set_cookie(&ok, "cl_s").unwrap()));
    let ready = html("GET", "/share", &cookies).send();
    assert!(
        ready.body.contains("note.txt") && ready.body.contains("action=\"/share/download\""),
        "{}",
        ready.body
    );
    let foreign = html("GET", "/share/download", &cookies)
        .header("Sec-Fetch-Site", "cross-site")
        .send();
    assert_eq!(foreign.status, 403, "another site cannot spend a view");
    assert_eq!(view_count(&s, &attachment), 0);
    let file = html("GET", "/share/download", &cookies)
        .header("Sec-Fetch-Site", "same-origin")
        .send();
    assert_eq!((file.status, file.body.as_str()), (200, "a note"));
    assert_eq!(view_count(&s, &attachment), 1);
    let no_code = html("GET", "/share/download", &link)
        .header("Sec-Fetch-Site", "same-origin")
        .send();
    assert_eq!(no_code.header("location"), Some("/share?m=code"));
}

#[test]
fn passcode_cooldown_address_limit_and_lockout_hold_for_shares() {
    let sink = SmtpSink::start();
    let s = start(&sink);
    let attachment = upload(&s, "a.txt", b"text");
    let token = token_of(&share(&s, &attachment, json!({})));
    let otp = format!("/share/{token}/otp");
    let sent = recipient(&s, "POST", &otp).send().expect(200);
    assert_eq!(
        keys(&sent),
        ["Status", "RequireOtp", "OtpSent", "CanView", "Message"]
    );
    sink.wait_for(1);
    recipient(&s, "POST", &otp).send().expect(200);
    s.job_round("outbox", std::time::Duration::from_secs(5));
    assert_eq!(sink.mails().len(), 1, "cooldown: nothing sent within 60 s");
    let wrong = || {
        recipient(&s, "POST", &format!("/share/{token}/verify"))
            .json(&json!({"Code": "000000"}))
            .send()
    };
    for _ in 0..3 {
        assert_eq!(wrong().status, 200);
    }
    let limited = wrong();
    assert_eq!(limited.status, 429, "the per-address verify budget");
    assert!(limited.header("retry-after").is_some());
    drop(s);

    let s = TestServer::start_with(|c| {
        c.email = Some(email_via(sink.url()));
        c.portal.verify_attempts_per_address = 100;
    });
    let attachment = upload(&s, "a.txt", b"text");
    let token = token_of(&share(&s, &attachment, json!({})));
    for _ in 0..10 {
        recipient(&s, "POST", &format!("/share/{token}/verify"))
            .json(&json!({"Code": "000000"}))
            .send();
    }
    let listed = s
        .get(&format!("/v1/documentshare/attachment/{attachment}"))
        .expect(200);
    assert_eq!(listed["DocumentShare"][0]["Status"], "Locked", "{listed}");
    let unknown = recipient(&s, "GET", &format!("/share/{}", "B".repeat(43))).send();
    for path in [
        format!("/share/{token}"),
        format!("/share/{token}/download"),
    ] {
        let locked = recipient(&s, "GET", &path).send();
        assert_eq!(
            (locked.status, &locked.body),
            (404, &unknown.body),
            "{path}"
        );
    }
}
