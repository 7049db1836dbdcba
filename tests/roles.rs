//! Key roles decided by the operation (issue 10, item 15): a key whose only role is
//! `ResourceServer` exchanges grants and nothing else; staff keys keep every staff operation
//! and still may not exchange grants.

use serde_json::json;

use crate::support::{Req, TestServer, create_key_with_roles, link_tenant, link_uid, uid};

/// Adds a key with `roles` to the server's tenant (the server is restarted around the CLI).
fn with_key(s: TestServer, tenant: &str, roles: &[&str]) -> (TestServer, String) {
    s.restart_after(|data| create_key_with_roles(data, tenant, roles), |_| {})
}

#[test]
fn a_resource_server_key_exchanges_grants_and_nothing_else() {
    let s = TestServer::start();
    let created = s.quote_link(1, "a@example.com");
    let link = link_uid(&created);
    let tenant = link_tenant(&created);
    let token = crate::support::portal_token(&created);
    s.put(
        "/v1/contact/1",
        json!({"FirstName": "A", "EmailWork": "a@example.com"}),
    )
    .expect(200);
    let (s, rs_key) = with_key(s, &tenant, &["ResourceServer"]);

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
    let tenant = link_tenant(&s.quote_link(1, "a@example.com"));
    let (s, both) = with_key(s, &tenant, &["ResourceServer", "Agent"]);
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
