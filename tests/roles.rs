//! Key roles decided by the operation (issue 10, item 15): a key whose only role is
//! `ResourceServer` exchanges grants and nothing else; staff keys keep every staff operation
//! and still may not exchange grants.

use serde_json::json;
use tempfile::TempDir;

use crate::support::{Req, TestServer, cli, uid};

/// Adds a key with `roles` to the server's tenant (the server is restarted around the CLI);
/// the data folder comes first so that it outlives the server when the tuple is dropped.
fn with_key(s: TestServer, tenant: &str, roles: &[&str]) -> (TempDir, TestServer, String) {
    let (dir, clock) = s.stop();
    let dir = dir.unwrap();
    let d = dir.path().to_str().unwrap();
    let mut args = vec!["key", "create", "--data", d, "--tenant", tenant, "--user"];
    let user = uid(77);
    args.push(&user);
    for role in roles {
        args.extend(["--role", role]);
    }
    let (code, key, err) = cli(&args);
    assert_eq!(code, 0, "{err}");
    let s = TestServer::start_in(dir.path(), clock, |_| {});
    (dir, s, key.trim().to_owned())
}

#[test]
fn a_resource_server_key_exchanges_grants_and_nothing_else() {
    let s = TestServer::start();
    let created = s
        .post(
            "/v1/customerlink",
            json!({"ResourceType": "Quote", "ResourceUid": uid(1), "RecipientEmail": "a@example.com"}),
        )
        .expect(200);
    let link = created["Link"]["CustomerLinkUID"]
        .as_str()
        .unwrap()
        .to_owned();
    let tenant = created["Link"]["TenantId"].as_str().unwrap().to_owned();
    let token = crate::support::portal_token(&created);
    s.put(
        "/v1/contact/1",
        json!({"FirstName": "A", "EmailWork": "a@example.com"}),
    )
    .expect(200);
    let (_dir, s, rs_key) = with_key(s, &tenant, &["ResourceServer"]);

    let create =
        json!({"ResourceType": "Quote", "ResourceUid": uid(2), "RecipientEmail": "b@example.com"});
    let staff_ops: Vec<(&str, String, Option<serde_json::Value>)> = vec![
        ("POST", "/v1/customerlink".into(), Some(create.clone())),
        (
            "POST",
            "/api/CustomerLinkCreateRequest".into(),
            Some(create),
        ),
        ("GET", "/v1/customerlink".into(), None),
        (
            "GET",
            format!("/v1/customerlink/resource/Quote/{}", uid(1)),
            None,
        ),
        ("GET", format!("/v1/customerlink/{link}"), None),
        ("GET", format!("/v1/customerlink/{link}/log"), None),
        (
            "POST",
            format!("/v1/customerlink/{link}/revoke"),
            Some(json!({})),
        ),
        ("DELETE", format!("/v1/customerlink/{link}"), None),
        (
            "POST",
            format!("/v1/customerlink/{link}/resend"),
            Some(json!({})),
        ),
        (
            "POST",
            format!("/v1/customerlink/{link}/unlock"),
            Some(json!({})),
        ),
        ("GET", "/v1/contact".into(), None),
        ("GET", "/v1/contact/1".into(), None),
        (
            "PUT",
            "/v1/contact/1".into(),
            Some(json!({"FirstName": "Evil"})),
        ),
        ("DELETE", "/v1/contact/1".into(), None),
    ];
    for (method, path, body) in &staff_ops {
        let mut req = Req::new(s.addr, method, path).bearer(&rs_key);
        if let Some(body) = body {
            req = req.json(body);
        }
        let r = req.send();
        assert_eq!(r.status, 403, "{method} {path}: {r:?}");
        assert_eq!(
            r.json()["ResponseStatus"]["ErrorCode"],
            "Forbidden",
            "{method} {path}"
        );
    }
    assert_eq!(
        s.get(&format!("/v1/customerlink/{link}")).expect(200)["Link"]["Status"],
        "Active",
        "nothing was revoked"
    );
    assert_eq!(
        s.get("/v1/contact/1").expect(200)["Contact"]["FirstName"],
        "A"
    );
    assert_eq!(
        s.get("/v1/customerlink").expect(200)["Total"],
        1,
        "nothing was created"
    );

    let grant = Req::new(s.addr, "POST", &format!("/portal/{token}/open"))
        .send()
        .expect(200)["Grant"]
        .as_str()
        .unwrap()
        .to_owned();
    let introspect = |key: &str| {
        Req::new(s.addr, "POST", "/v1/customerlink/grant/introspect")
            .bearer(key)
            .json(&json!({"Grant": grant}))
            .send()
    };
    assert_eq!(
        introspect(&s.key).status,
        403,
        "a plain staff key still may not"
    );
    assert_eq!(introspect(&rs_key).expect(200)["Active"], true);
}

#[test]
fn a_key_with_resource_server_and_another_role_keeps_staff_operations() {
    let s = TestServer::start();
    let created = s
        .post(
            "/v1/customerlink",
            json!({"ResourceType": "Quote", "ResourceUid": uid(1), "RecipientEmail": "a@example.com"}),
        )
        .expect(200);
    let tenant = created["Link"]["TenantId"].as_str().unwrap().to_owned();
    let (_dir, s, both) = with_key(s, &tenant, &["ResourceServer", "Agent"]);
    let r = Req::new(s.addr, "GET", "/v1/customerlink")
        .bearer(&both)
        .send();
    assert_eq!(r.status, 200, "{r:?}");
    let r = Req::new(s.addr, "POST", "/v1/customerlink/grant/introspect")
        .bearer(&both)
        .json(&json!({"Grant": "nope"}))
        .send();
    assert_eq!(r.expect(200)["Active"], false);
}
