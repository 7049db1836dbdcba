//! `customerlink key revoke` while the server runs (issue 10, item 16): it goes through the
//! operator channel, is durable, and the key — already in the server's key cache — is
//! refused from the very next request.

use serde_json::json;

use crate::support::{Req, TestServer, cli, uid};

#[test]
fn revoking_a_key_while_the_server_runs_takes_effect_at_once() {
    let s = TestServer::start();
    let created = s
        .post(
            "/v1/customerlink",
            json!({"ResourceType": "Quote", "ResourceUid": uid(1), "RecipientEmail": "a@example.com"}),
        )
        .expect(200);
    let tenant = created["Link"]["TenantId"].as_str().unwrap().to_owned();
    let (dir, clock) = s.stop();
    let dir = dir.unwrap();
    let d = dir.path().to_str().unwrap();
    let user = uid(8);
    let args = [
        "key", "create", "--data", d, "--tenant", &tenant, "--user", &user, "--name", "doomed",
    ];
    let (code, doomed, err) = cli(&args);
    assert_eq!(code, 0, "{err}");
    let doomed = doomed.trim().to_owned();
    let (_, list, _) = cli(&["key", "list", "--tenant", &tenant, "--data", d]);
    let doomed_id = list
        .lines()
        .find(|l| l.contains("\tdoomed\t"))
        .and_then(|l| l.split('\t').next())
        .unwrap()
        .to_owned();

    let s = TestServer::start_in(dir.path(), clock, |_| {});
    let list_links = |key: &str| {
        Req::new(s.addr, "GET", "/v1/customerlink")
            .bearer(key)
            .send()
    };
    assert_eq!(list_links(&doomed).status, 200, "valid, and now cached");

    let (code, out, err) = cli(&["key", "revoke", &doomed_id, "--data", d]);
    assert_eq!((code, out.trim()), (0, doomed_id.as_str()), "{err}");
    assert_eq!(list_links(&doomed).status, 401, "refused at once");
    assert_eq!(list_links(&s.key).status, 200, "other keys keep working");

    let (code, _, err) = cli(&["key", "revoke", &uid(99), "--data", d]);
    assert_eq!(code, 1);
    assert!(err.contains("no API key"), "{err}");

    let _ = s.stop();
    let (_, list, _) = cli(&["key", "list", "--tenant", &tenant, "--data", d]);
    let row = list.lines().find(|l| l.contains("\tdoomed\t")).unwrap();
    assert!(row.contains("\trevoked\t"), "durable: {list}");
}

#[test]
fn the_revoke_route_needs_the_operator_key() {
    let s = TestServer::start();
    let path = format!("/admin/keys/{}/revoke", uid(1));
    let r = Req::new(s.addr, "POST", &path).bearer(&s.key).send();
    assert_eq!(r.status, 401, "a tenant API key is not the operator key");
    let r = Req::new(s.addr, "POST", &path).send();
    assert_eq!(r.status, 401);
}
