//! `customerlink key revoke` while the server runs (issue 10, item 16): it goes through the
//! operator channel, is durable, and the key — already in the server's key cache — is
//! refused from the very next request.

use std::path::Path;

use crate::support::{Req, TestServer, cli, create_key, link_tenant, uid};

#[test]
fn revoking_a_key_while_the_server_runs_takes_effect_at_once() {
    let s = TestServer::start();
    let tenant = link_tenant(&s.quote_link(1, "a@example.com"));
    let (s, (doomed, doomed_id)) = s.restart_after(
        |data| {
            let doomed = create_key(data, &tenant, &["--name", "doomed"]);
            (doomed, key_id(data, &tenant, "doomed"))
        },
        |_| {},
    );
    let d = s.data.to_str().unwrap().to_owned();
    let d = d.as_str();

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

    let (_dir, _) = s.stop();
    let (_, list, _) = cli(&["key", "list", "--tenant", &tenant, "--data", d]);
    let row = list.lines().find(|l| l.contains("\tdoomed\t")).unwrap();
    assert!(row.contains("\trevoked\t"), "durable: {list}");
}

/// The id of `tenant`'s key named `name`, as `key list` shows it.
fn key_id(data: &Path, tenant: &str, name: &str) -> String {
    let d = data.to_str().unwrap();
    let (_, list, _) = cli(&["key", "list", "--tenant", tenant, "--data", d]);
    list.lines()
        .find(|l| l.contains(&format!("\t{name}\t")))
        .and_then(|l| l.split('\t').next())
        .unwrap()
        .to_owned()
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
