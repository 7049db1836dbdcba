//! Staff authentication: the three ways to present an API key, and the one 401 every missing,
//! unknown, malformed, wrongly presented or revoked key gets, on every operation.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::{Value, json};

use crate::support::{Req, Resp, TestServer, cli, new_tenant_key, uid};

/// Asserts the 401 shape: JSON ResponseStatus, `Unauthorized`, no field errors, a challenge.
fn assert_unauthorized(resp: &Resp, what: &str) -> Value {
    assert_eq!(resp.status, 401, "{what}: {resp:#?}");
    let body = resp.json();
    assert_eq!(
        body["ResponseStatus"]["ErrorCode"], "Unauthorized",
        "{what}"
    );
    assert_eq!(body["ResponseStatus"]["Errors"], json!([]), "{what}");
    let challenge = resp.header("WWW-Authenticate").unwrap_or_default();
    assert!(
        !challenge.is_empty(),
        "{what}: no WWW-Authenticate: {resp:#?}"
    );
    assert!(
        resp.header("Content-Type")
            .is_some_and(|ct| ct.starts_with("application/json")),
        "{what}: {resp:#?}"
    );
    body
}

/// `GET /v1/customerlink` with no key at all.
fn anonymous(s: &TestServer) -> Req {
    s.req("GET", "/v1/customerlink").without("Authorization")
}

fn basic(key: &str) -> String {
    format!("Basic {}", STANDARD.encode(format!("{key}:")))
}

/// A well-formed key (`clk_` + 43 base64url characters) that no server ever issued.
fn never_issued_key() -> String {
    format!("clk_{}", URL_SAFE_NO_PAD.encode([0x5a_u8; 32]))
}

#[test]
fn bearer_basic_and_x_api_key_all_authenticate() {
    let s = TestServer::start();
    let forms = [
        ("Authorization", format!("Bearer {}", s.key)),
        ("Authorization", format!("bearer {}", s.key)),
        ("Authorization", basic(&s.key)),
        ("X-Api-Key", s.key.clone()),
    ];
    for (header, value) in forms {
        let body = anonymous(&s).header(header, &value).send().expect(200);
        assert_eq!(body["Total"], 0, "{header}: {value}");
        assert_eq!(body["Links"], json!([]), "{header}: {value}");
    }
}

#[test]
fn every_operation_needs_a_key_and_nothing_happens_without_one() {
    let s = TestServer::start();
    let link = json!({"ResourceType": "Quote", "ResourceUid": uid(1), "RecipientEmail": "a@b.co"});
    let u = uid(2);
    let operations = [
        ("POST", "/v1/customerlink".to_owned(), Some(link.clone())),
        ("GET", "/v1/customerlink".to_owned(), None),
        ("GET", format!("/v1/customerlink/resource/Quote/{u}"), None),
        ("GET", format!("/v1/customerlink/{u}"), None),
        ("DELETE", format!("/v1/customerlink/{u}"), None),
        (
            "POST",
            format!("/v1/customerlink/{u}/revoke"),
            Some(json!({})),
        ),
        ("GET", "/v1/contact".to_owned(), None),
        (
            "PUT",
            "/v1/contact/3".to_owned(),
            Some(json!({"Name": "X"})),
        ),
        ("GET", "/v1/contact/3".to_owned(), None),
        ("DELETE", "/v1/contact/3".to_owned(), None),
        (
            "POST",
            "/api/CustomerLinkCreateRequest".to_owned(),
            Some(link),
        ),
    ];
    for (method, path, body) in &operations {
        let mut req = s.req(method, path).without("Authorization");
        if let Some(body) = body {
            req = req.json(body);
        }
        assert_unauthorized(&req.send(), &format!("{method} {path}"));
    }
    assert_eq!(s.get("/v1/customerlink").expect(200)["Total"], 0);
    assert_eq!(s.get("/v1/contact").expect(200)["Total"], 0);
}

#[test]
fn unknown_malformed_and_wrongly_presented_keys_get_the_same_401() {
    let s = TestServer::start();
    let reference = assert_unauthorized(&anonymous(&s).send(), "missing key");
    let unknown = never_issued_key();
    assert_eq!(unknown.len(), 47);
    let bare = s
        .key
        .strip_prefix("clk_")
        .expect("issued keys start with clk_");
    let attempts = [
        // Unknown but well formed, in every accepted form.
        ("Authorization", format!("Bearer {unknown}")),
        ("Authorization", basic(&unknown)),
        ("X-Api-Key", unknown.clone()),
        // Malformed.
        ("Authorization", "Bearer clk_short".to_owned()),
        ("Authorization", format!("Bearer {bare}")),
        ("Authorization", format!("Bearer {}x", s.key)),
        (
            "Authorization",
            format!("Bearer {}", &s.key[..s.key.len() - 1]),
        ),
        ("Authorization", "Bearer".to_owned()),
        ("Authorization", "Bearer ".to_owned()),
        ("Authorization", "Basic !!!not-base64!!!".to_owned()),
        ("X-Api-Key", String::new()),
        ("X-Api-Key", "not a key".to_owned()),
        // The right key under a wrong scheme, or none.
        ("Authorization", format!("Token {}", s.key)),
        ("Authorization", format!("Digest {}", s.key)),
        ("Authorization", s.key.clone()),
        ("Authorization", format!("Basic {}", s.key)),
    ];
    for (header, value) in attempts {
        let what = format!("{header}: {value}");
        let body = assert_unauthorized(&anonymous(&s).header(header, &value).send(), &what);
        assert_eq!(body, reference, "{what}: every failure answers alike");
    }
}

#[test]
fn revoked_key_is_refused_and_other_keys_keep_working() {
    let s = TestServer::start();
    let (dir, clock) = s.stop();
    let dir = dir.expect("server owned its data folder");
    let data = dir.path().to_str().expect("utf-8 path").to_owned();
    let (tenant, key) = new_tenant_key(dir.path(), "Second");

    let s = TestServer::start_in(dir.path(), clock, |_| {});
    s.req("GET", "/v1/customerlink")
        .bearer(&key)
        .send()
        .expect(200);
    let (_, clock) = s.stop();

    let (code, list, err) = cli(&["key", "list", "--tenant", &tenant, "--data", &data]);
    assert_eq!(code, 0, "{err}");
    let lines: Vec<Vec<&str>> = list.lines().map(|l| l.split('\t').collect()).collect();
    assert_eq!(lines.len(), 1, "one key in the new tenant: {list}");
    assert_eq!(lines[0][2], "active", "{list}");
    let key_id = lines[0][0].to_owned();
    let (code, out, err) = cli(&["key", "revoke", &key_id, "--data", &data]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.trim(), key_id);
    let (code, list, err) = cli(&["key", "list", "--tenant", &tenant, "--data", &data]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        list.lines().next().map(|l| l.split('\t').nth(2)),
        Some(Some("revoked"))
    );

    let s = TestServer::start_in(dir.path(), clock, |_| {});
    let refused = [
        anonymous(&s).bearer(&key),
        anonymous(&s).header("Authorization", &basic(&key)),
        anonymous(&s).header("X-Api-Key", &key),
    ];
    let reference = assert_unauthorized(&anonymous(&s).send(), "missing key");
    for req in refused {
        let body = assert_unauthorized(&req.send(), "revoked key");
        assert_eq!(body, reference);
    }
    s.get("/v1/customerlink").expect(200);
}
