//! Reply casing (issue 11 item 1): never from the User-Agent. Custom routes answer PascalCase;
//! `/api/{Op}` answers camelCase to JSON-only clients (`Accept: application/json`, the Python
//! client) and PascalCase otherwise (the TypeScript client) — unless the operation's own DTO
//! member names, the key's pin, the server setting or `?jsconfig=` say otherwise. Errors raised
//! before routing follow the same rule.

use serde_json::{Value, json};

use crate::support::{Resp, TestServer, cli, create_key, link_uid, uid};

const PYTHON_REQUESTS: &str = "python-requests/2.32.3";

fn create(s: &TestServer, n: u128) -> String {
    link_uid(&s.quote_link(n, "a@b.co"))
}

fn get_as(s: &TestServer, path: &str, agent: &str) -> Resp {
    s.req("GET", path).header("User-Agent", agent).send()
}

#[test]
fn plain_http_on_a_custom_route_gets_pascal_case_whatever_the_user_agent() {
    let s = TestServer::start();
    let u = create(&s, 1);
    for agent in [PYTHON_REQUESTS, "curl/8.5.0", "MyIntegration/1.0"] {
        let body = get_as(&s, &format!("/v1/customerlink/{u}"), agent).expect(200);
        assert_eq!(
            body["Link"]["CustomerLinkUID"],
            u.as_str(),
            "{agent}: {body}"
        );
        assert!(body.get("link").is_none(), "{agent}: {body}");
    }
}

#[test]
fn query_keys_that_are_not_members_of_the_operation_do_not_flip_casing() {
    let s = TestServer::start();
    let u = create(&s, 2);
    for query in ["utm_source=mail", "v=1", "utm_source=x&Take=5", "_=1"] {
        let body = get_as(
            &s,
            &format!("/v1/customerlink/{u}?{query}"),
            PYTHON_REQUESTS,
        );
        let body = body.expect(200);
        assert!(body["Link"].is_object(), "?{query}: {body}");
        let list = s.get(&format!("/v1/customerlink?{query}")).expect(200);
        assert!(list["Links"].is_array(), "?{query}: {list}");
    }
    // A member of the operation's DTO, spelt in camelCase, does decide.
    let camel = s.get("/v1/customerlink?utm_source=x&take=5").expect(200);
    assert!(camel["links"].is_array(), "{camel}");
}

#[test]
fn the_api_route_answers_member_less_requests_by_what_they_accept_never_by_user_agent() {
    let s = TestServer::start();
    s.put("/v1/contact/7", json!({"Name": "Ann"})).expect(200);
    let json_only = |path: &str, agent: &str| {
        s.req("GET", path)
            .header("User-Agent", agent)
            .header("Accept", "application/json")
            .send()
    };
    // The Python client: Accept: application/json, whatever its User-Agent.
    for agent in ["MyIntegration/1.0", PYTHON_REQUESTS, "node"] {
        let list = json_only("/api/ContactListRequest", agent).expect(200);
        assert_eq!(list["contacts"][0]["contactId"], 7, "{agent}: {list}");
        assert_eq!(list["total"], 1, "{agent}: {list}");
    }
    // The TypeScript client sets no Accept (fetch sends */*) and reads PascalCase, whatever its User-Agent.
    for agent in ["node", PYTHON_REQUESTS] {
        let list = get_as(&s, "/api/ContactListRequest", agent).expect(200);
        assert_eq!(list["Total"], 1, "{agent}: {list}");
    }
    // A POST of `{}` (a DTO whose members are all null) names no member either.
    let empty = s
        .req("POST", "/api/CustomerLinkCreateRequest")
        .header("User-Agent", "MyIntegration/1.0")
        .header("Accept", "application/json")
        .json(&json!({}))
        .send();
    let body = empty.expect(400);
    assert!(body["responseStatus"]["errors"].is_array(), "{body}");
    // PascalCase member names of the operation's DTO ask for PascalCase.
    let pascal = json_only("/api/ContactListRequest?Take=5", "x").expect(200);
    assert_eq!(pascal["Total"], 1, "{pascal}");
    // /{fmt}/reply/ and the custom routes keep PascalCase.
    for path in ["/json/reply/ContactListRequest", "/v1/contact"] {
        let reply = json_only(path, PYTHON_REQUESTS).expect(200);
        assert_eq!(reply["Total"], 1, "{path}: {reply}");
    }
}

#[test]
fn jsconfig_overrides_the_route_and_the_member_names() {
    let s = TestServer::start();
    let u = create(&s, 3);
    let camel = s
        .get(&format!("/v1/customerlink/{u}?jsconfig=eccn"))
        .expect(200);
    assert!(camel["link"].is_object(), "{camel}");
    let pascal = s.get("/api/ContactListRequest?jsconfig=epcn").expect(200);
    assert_eq!(pascal["Total"], 0, "{pascal}");
    let pascal = s
        .get("/api/ContactListRequest?take=3&jsconfig=TextCase:PascalCase")
        .expect(200);
    assert_eq!(pascal["Total"], 0, "{pascal}");
}

#[test]
fn errors_raised_before_routing_follow_the_same_rule() {
    let s = TestServer::start_with(|c| c.http.max_body_bytes = 4096);
    let status = |r: &Resp, key: &str| -> Value {
        let body = r.json();
        assert!(body.get(key).is_some(), "{key} in {r:#?}");
        body
    };
    let json_only = |method: &str, path: &str| {
        s.req(method, path)
            .header("Accept", "application/json")
            .header("User-Agent", "MyIntegration/1.0")
    };
    status(
        &json_only("GET", "/api/NoSuchRequest").send(),
        "responseStatus",
    );
    status(&s.get("/api/NoSuchRequest"), "ResponseStatus");
    status(
        &json_only("GET", "/v1/no-such-route").send(),
        "ResponseStatus",
    );
    let anonymous = |path: &str| json_only("GET", path).without("Authorization").send();
    status(&anonymous("/api/ContactListRequest"), "responseStatus");
    status(&anonymous("/v1/contact"), "ResponseStatus");
    status(&anonymous("/v1/contact?jsconfig=eccn"), "responseStatus");
    let big = vec![b' '; 8192];
    let too_large = |path: &str| {
        json_only("POST", path)
            .header("Content-Type", "application/json")
            .raw_body(big.clone())
            .send()
    };
    let r = too_large("/api/CustomerLinkCreateRequest");
    assert_eq!(r.status, 413, "{r:#?}");
    status(&r, "responseStatus");
    let r = too_large("/v1/customerlink");
    assert_eq!(r.status, 413, "{r:#?}");
    status(&r, "ResponseStatus");
}

#[test]
fn a_key_can_pin_its_casing() {
    let s = TestServer::start();
    let (dir, clock) = s.stop();
    let dir = dir.expect("server owned its data folder");
    let d = dir.path().to_str().unwrap().to_owned();
    let (code, tenant, err) = cli(&["tenant", "create", "--name", "Pinned", "--data", &d]);
    assert_eq!(code, 0, "{err}");
    let tenant = tenant.trim().to_owned();
    let user = "5f1b0c6e2d7a4b8c9d0e1f2a3b4c5d6e";
    let key =
        |casing: &str| create_key(dir.path(), &tenant, &["--name", casing, "--casing", casing]);
    let (camel, pascal) = (key("camel"), key("pascal"));
    let (code, _, err) = cli(&[
        "key", "create", "--data", &d, "--tenant", &tenant, "--user", user, "--casing", "snake",
    ]);
    assert_ne!(code, 0, "an unknown casing is refused: {err}");
    let (_, list, _) = cli(&["key", "list", "--tenant", &tenant, "--data", &d]);
    let casing_of = |name: &str| {
        list.lines()
            .map(|l| l.split('\t').collect::<Vec<_>>())
            .find(|cols| cols[3] == name)
            .map(|cols| cols[5].to_owned())
    };
    assert_eq!(casing_of("camel").as_deref(), Some("camel"), "{list}");
    assert_eq!(casing_of("pascal").as_deref(), Some("pascal"), "{list}");

    let s = TestServer::start_in(dir.path(), clock, |_| {});
    let get = |key: &str, path: &str| {
        let req = s.req("GET", path).bearer(key);
        req.header("Accept", "application/json").send().expect(200)
    };
    assert_eq!(get(&pascal, "/api/ContactListRequest?take=1")["Total"], 0);
    assert_eq!(get(&pascal, "/api/ContactListRequest")["Total"], 0);
    assert_eq!(get(&camel, "/v1/contact?Take=1")["total"], 0);
    assert_eq!(get(&camel, "/v1/contact?jsconfig=epcn")["Total"], 0);
    let created = s
        .req("POST", "/v1/customerlink")
        .bearer(&camel)
        .json(&json!({"ResourceType": "Quote", "ResourceUid": uid(9), "RecipientEmail": "a@b.co"}))
        .send()
        .expect(200);
    assert!(created["link"]["customerLinkUID"].is_string(), "{created}");
}
