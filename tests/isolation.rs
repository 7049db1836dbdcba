//! Tenant isolation: another tenant's links and contacts are invisible and untouchable on every
//! route, and answer exactly like ones that do not exist.

use serde_json::{Value, json};

use crate::support::{Resp, TestServer, error_fields, link_uid, uid};

/// Tenant A (the initial key, `s.key`) and tenant B (`b`) on one server.
struct Tenants {
    s: TestServer,
    b: String,
}

impl Tenants {
    fn start() -> Tenants {
        let (s, b) = TestServer::with_second_tenant(|_| {});
        Tenants { s, b }
    }

    /// A request as tenant B.
    fn as_b(&self, method: &str, path: &str, body: Option<Value>) -> Resp {
        let req = self.s.req(method, path).bearer(&self.b);
        match body {
            Some(body) => req.json(&body).send(),
            None => req.send(),
        }
    }

    /// Tenant A creates a link for resource `Quote/uid(r)`; returns its uid.
    fn a_link(&self, r: u128) -> String {
        link_uid(&self.s.quote_link(r, "a@b.co"))
    }
}

/// Asserts a 404 and returns its body with `id` replaced, to compare with a missing one's.
fn not_found_body(resp: &Resp, id: &str) -> String {
    let body = resp.expect(404);
    assert_eq!(body["ResponseStatus"]["ErrorCode"], "NotFound", "{resp:#?}");
    resp.body.replace(id, "<ID>")
}

#[test]
fn another_tenants_link_reads_exactly_like_a_missing_one() {
    let t = Tenants::start();
    let link = t.a_link(1);
    let missing = uid(999);
    let path = |u: &str| format!("/v1/customerlink/{u}");
    let foreign = t.as_b("GET", &path(&link), None);
    let absent = t.as_b("GET", &path(&missing), None);
    assert_eq!(
        not_found_body(&foreign, &link),
        not_found_body(&absent, &missing)
    );
    // The same holds for revoking, on both routes.
    for (method, suffix, body) in [("DELETE", "", None), ("POST", "/revoke", Some(json!({})))] {
        let foreign = t.as_b(method, &format!("{}{suffix}", path(&link)), body.clone());
        let absent = t.as_b(method, &format!("{}{suffix}", path(&missing)), body);
        assert_eq!(
            not_found_body(&foreign, &link),
            not_found_body(&absent, &missing),
            "{method} {suffix}"
        );
    }
    let own = t.s.get(&path(&link)).expect(200);
    assert_eq!(own["Link"]["Status"], "Active");
    assert!(own["Link"].get("RevokedAtUtc").is_none(), "{own}");
    assert!(own["Link"].get("RevokedByUserId").is_none(), "{own}");
}

#[test]
fn predefined_api_routes_are_isolated_too() {
    let t = Tenants::start();
    let link = t.a_link(3);
    t.s.put("/v1/contact/5", json!({"Name": "Ann A"}))
        .expect(200);
    let get = format!("/api/CustomerLinkRequest?CustomerLinkUID={link}");
    t.s.get(&get).expect(200);
    t.as_b("GET", &get, None).expect(404);
    let revoke = json!({"CustomerLinkUID": link});
    t.as_b("DELETE", "/api/CustomerLinkRevokeRequest", Some(revoke))
        .expect(404);
    let list = format!(
        "/api/CustomerLinkListRequest?ResourceType=Quote&ResourceUid={}",
        uid(3)
    );
    assert_eq!(t.as_b("GET", &list, None).expect(200)["Links"], json!([]));
    assert_eq!(
        t.as_b("GET", "/api/CustomerLinkQueryRequest", None)
            .expect(200)["Total"],
        0
    );
    t.as_b("GET", "/api/ContactRequest?ContactId=5", None)
        .expect(404);
    t.as_b("DELETE", "/api/ContactDeleteRequest?ContactId=5", None)
        .expect(404);
    assert_eq!(
        t.as_b("GET", "/api/ContactListRequest", None).expect(200)["Total"],
        0
    );
    let own = t.s.get(&format!("/v1/customerlink/{link}")).expect(200);
    assert_eq!(own["Link"]["Status"], "Active");
    t.s.get("/v1/contact/5").expect(200);
}

#[test]
fn another_tenants_links_are_not_listed() {
    let t = Tenants::start();
    let a_links = [t.a_link(5), t.a_link(5)];
    let by_resource = format!("/v1/customerlink/resource/Quote/{}", uid(5));
    let b = t.as_b("GET", &by_resource, None).expect(200);
    assert_eq!(b["Links"], json!([]));
    for query in ["", "?Status=Active", "?Skip=0&Take=500"] {
        let b = t
            .as_b("GET", &format!("/v1/customerlink{query}"), None)
            .expect(200);
        assert_eq!(b["Total"], 0, "{query}");
        assert_eq!(b["Links"], json!([]), "{query}");
    }
    // B's own link on the same resource is the only one B sees, and A does not see it.
    let b_link = t
        .as_b(
            "POST",
            "/v1/customerlink",
            Some(
                json!({"ResourceType": "Quote", "ResourceUid": uid(5), "RecipientEmail": "b@b.co"}),
            ),
        )
        .expect(200);
    let b_uid = b_link["Link"]["CustomerLinkUID"].clone();
    let b = t.as_b("GET", &by_resource, None).expect(200);
    assert_eq!(b["Links"].as_array().map(Vec::len), Some(1));
    assert_eq!(b["Links"][0]["CustomerLinkUID"], b_uid);
    assert_eq!(
        t.as_b("GET", "/v1/customerlink", None).expect(200)["Total"],
        1
    );
    let a = t.s.get(&by_resource).expect(200);
    let uids: Vec<&Value> = a["Links"]
        .as_array()
        .expect("links")
        .iter()
        .map(|l| &l["CustomerLinkUID"])
        .collect();
    assert_eq!(uids, [&json!(a_links[1]), &json!(a_links[0])]);
    assert_eq!(t.s.get("/v1/customerlink").expect(200)["Total"], 2);
}

#[test]
fn another_tenants_contacts_are_invisible_and_undeletable() {
    let t = Tenants::start();
    let a =
        t.s.put(
            "/v1/contact/5",
            json!({"Name": "Ann A", "EmailWork": "ann@a.example"}),
        )
        .expect(200);
    let foreign = t.as_b("GET", "/v1/contact/5", None);
    let absent = t.as_b("GET", "/v1/contact/6", None);
    assert_eq!(not_found_body(&foreign, "5"), not_found_body(&absent, "6"));
    let foreign = t.as_b("DELETE", "/v1/contact/5", None);
    let absent = t.as_b("DELETE", "/v1/contact/6", None);
    assert_eq!(not_found_body(&foreign, "5"), not_found_body(&absent, "6"));
    let list = t.as_b("GET", "/v1/contact", None).expect(200);
    assert_eq!(list["Contacts"], json!([]));
    assert_eq!(list["Total"], 0);
    let still = t.s.get("/v1/contact/5").expect(200);
    assert_eq!(
        still["Contact"], a["Contact"],
        "A's contact survives B's delete"
    );
}

#[test]
fn another_tenants_contact_cannot_be_a_recipient() {
    let t = Tenants::start();
    t.s.put(
        "/v1/contact/5",
        json!({"Name": "Ann A", "EmailWork": "ann@a.example"}),
    )
    .expect(200);
    let resp = t.as_b(
        "POST",
        "/v1/customerlink",
        Some(json!({"ResourceType": "Quote", "ResourceUid": uid(7), "RecipientContactId": 5})),
    );
    let body = resp.expect(400);
    assert_eq!(error_fields(&body), ["RecipientContactId"]);
    assert_eq!(
        t.as_b("GET", "/v1/customerlink", None).expect(200)["Total"],
        0
    );
    assert_eq!(t.s.get("/v1/customerlink").expect(200)["Total"], 0);
}

#[test]
fn put_on_the_same_contact_id_makes_a_separate_contact() {
    let t = Tenants::start();
    let a =
        t.s.put(
            "/v1/contact/5",
            json!({"FirstName": "Ann", "EmailWork": "ann@a.example", "Phone": "+15551230001"}),
        )
        .expect(200);
    let b = t
        .as_b(
            "PUT",
            "/v1/contact/5",
            Some(json!({"FirstName": "Bob", "EmailWork": "bob@b.example"})),
        )
        .expect(200);
    assert_eq!(b["Contact"]["ContactId"], 5);
    assert_eq!(b["Contact"]["FirstName"], "Bob");
    assert!(b["Contact"].get("Phone").is_none(), "nothing of A's: {b}");
    assert_ne!(b["Contact"]["ContactGUID"], a["Contact"]["ContactGUID"]);
    assert_eq!(
        t.s.get("/v1/contact/5").expect(200)["Contact"],
        a["Contact"]
    );
    let b_get = t.as_b("GET", "/v1/contact/5", None).expect(200);
    assert_eq!(b_get["Contact"], b["Contact"]);
    assert_eq!(t.s.get("/v1/contact").expect(200)["Total"], 1);
    assert_eq!(t.as_b("GET", "/v1/contact", None).expect(200)["Total"], 1);
    // B deleting its own contact 5 leaves A's alone.
    t.as_b("DELETE", "/v1/contact/5", None).expect(200);
    assert_eq!(
        t.s.get("/v1/contact/5").expect(200)["Contact"],
        a["Contact"]
    );
}
