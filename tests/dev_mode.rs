//! Issue 16 §1: development mode. Email and SMS land in a bounded mailbox in the data folder
//! (kept across restarts, files 0600) shown at `/dev/mailbox` in HTML and JSON; the built-in
//! policy hands off to `/dev/resource`, which exchanges the grant and shows the introspection
//! fields; none of it exists outside dev mode; a non-loopback address is refused.

use serde_json::{Value, json};

use crate::support::sinks::wait_until;
use crate::support::{Req, TestServer, cli, portal_token, uid};

fn dev() -> TestServer {
    TestServer::start_with(|c| c.dev = true)
}

/// The mailbox as JSON (`/dev/mailbox.json`).
fn mailbox(s: &TestServer) -> Vec<Value> {
    let listing = Req::new(s.addr, "GET", "/dev/mailbox.json")
        .send()
        .expect(200);
    listing["Messages"].as_array().cloned().unwrap_or_default()
}

/// Creates a link of `resource` for `uid(n)` emailed to `email`; returns the create response.
fn deliver(s: &TestServer, resource: &str, n: u128, email: &str) -> Value {
    let body = json!({"ResourceType": resource, "ResourceUid": uid(n), "RecipientEmail": email, "DeliverEmail": true});
    s.post("/v1/customerlink", body).expect(200)
}

fn html(s: &TestServer, path: &str) -> String {
    let r = Req::new(s.addr, "GET", path)
        .header(
            "Accept",
            "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
        )
        .send();
    assert_eq!(r.status, 200, "{r:#?}");
    assert!(r.header("content-type").unwrap().starts_with("text/html"));
    r.body
}

#[test]
fn issue_16_dev_mode_keeps_a_created_link_s_email_in_the_mailbox_with_a_working_portal_url() {
    let s = dev();
    let created = deliver(&s, "Quote", 1, "ann@example.com");
    let token = portal_token(&created);
    assert_eq!(s.deliveries(&created)[0]["Status"], "Sent", "{created}");
    let messages = mailbox(&s);
    assert_eq!(messages.len(), 1);
    let m = &messages[0];
    assert_eq!(
        (m["Channel"].as_str(), m["To"].as_str()),
        (Some("Email"), Some("ann@example.com"))
    );
    let url = m["Links"][0].as_str().unwrap();
    assert_eq!(url, created["PortalUrl"].as_str().unwrap());
    assert!(m["Text"].as_str().unwrap().contains(url));
    let page = html(&s, "/dev/mailbox");
    assert!(
        page.contains(&format!("<a href=\"{url}\">{url}</a>")),
        "{page}"
    );
    let path = url.strip_prefix("https://links.example.test").unwrap();
    Req::new(s.addr, "GET", path).send().expect(200);
    assert!(path.ends_with(&token));
}

#[test]
fn issue_16_the_mailbox_answers_json_by_suffix_format_or_accept_and_holds_passcodes() {
    let s = dev();
    let created = deliver(&s, "Document", 2, "bo@example.com");
    let token = portal_token(&created);
    Req::new(s.addr, "POST", &format!("/portal/{token}/otp"))
        .send()
        .expect(200);
    wait_until(|| mailbox(&s).len() == 2, "the passcode in the mailbox");
    let by_format = Req::new(s.addr, "GET", "/dev/mailbox?format=json")
        .send()
        .expect(200);
    let by_accept = Req::new(s.addr, "GET", "/dev/mailbox")
        .header("Accept", "application/json")
        .send()
        .expect(200);
    assert_eq!(by_format, by_accept);
    let newest = &by_format["Messages"][0];
    let text = newest["Text"].as_str().unwrap();
    assert!(
        text.chars().filter(char::is_ascii_digit).count() >= 6,
        "{text}"
    );
    assert!(newest["Id"].as_u64() > by_format["Messages"][1]["Id"].as_u64());
}

#[test]
fn issue_16_dev_pages_are_unknown_routes_outside_dev_mode() {
    let s = TestServer::start();
    let unknown = Req::new(s.addr, "GET", "/dev/nothing").send();
    assert_eq!(unknown.status, 404);
    for path in [
        "/dev/mailbox",
        "/dev/mailbox.json",
        "/dev/resource?grant=x&tenant=y",
    ] {
        let r = Req::new(s.addr, "GET", path).send();
        assert_eq!(r.status, 404, "{path}: {r:#?}");
        let same = unknown
            .body
            .replace("/dev/nothing", path.split('?').next().unwrap());
        assert_eq!(
            r.body.replace(".json", ""),
            same.replace(".json", ""),
            "{path}"
        );
    }
    deliver(&s, "Quote", 3, "cy@example.com");
    assert!(!s.data.join("dev-mailbox").exists());
}

#[test]
fn issue_16_the_mailbox_is_bounded_and_survives_a_restart_in_private_files() {
    let s = dev();
    deliver(&s, "Quote", 4, "di@example.com");
    let (server, ()) = s.restart_after(|_| (), |c| c.dev = true);
    let kept = mailbox(&server);
    assert_eq!(kept.len(), 1, "kept across the restart");
    let folder = server.data.join("dev-mailbox");
    for entry in std::fs::read_dir(&folder).unwrap() {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = entry.unwrap().metadata().unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
    for id in 2..=200u64 {
        let filler = json!({"id": id, "at": 0, "channel": "Sms", "to": "+15550100", "subject": "", "text": "filler"});
        std::fs::write(folder.join(format!("{id:012}.json")), filler.to_string()).unwrap();
    }
    assert_eq!(mailbox(&server).len(), 200);
    deliver(&server, "Quote", 5, "ed@example.com");
    let after = mailbox(&server);
    assert_eq!(after.len(), 200, "the oldest went");
    assert_eq!(after[0]["To"], "ed@example.com");
    assert_eq!(after[0]["Id"], 201);
    assert!(after.iter().all(|m| m["Id"] != 1));
}

#[test]
fn issue_16_dev_resource_exchanges_a_real_grant_and_shows_the_introspection_fields() {
    let s = dev();
    let created = deliver(&s, "Quote", 6, "fa@example.com");
    let token = portal_token(&created);
    let opened = Req::new(s.addr, "POST", &format!("/portal/{token}/open"))
        .send()
        .expect(200);
    let target = opened["TargetUrl"].as_str().unwrap();
    let path = target.strip_prefix("https://links.example.test").unwrap();
    assert!(path.starts_with("/dev/resource?type=Quote&"), "{target}");
    let page = html(&s, path);
    let link = &created["Link"];
    for field in [
        "CustomerLinkUID",
        "TenantId",
        "ResourceUid",
        "RecipientEmail",
        "ExpiresAtUtc",
    ] {
        assert!(
            page.contains(&format!("<dt>{field}</dt>")),
            "{field}: {page}"
        );
    }
    assert!(page.contains(&format!("<dd>{}</dd>", uid(6))));
    assert!(page.contains(&format!(
        "<dd>{}</dd>",
        link["CustomerLinkUID"].as_str().unwrap()
    )));
    assert!(page.contains("<dd>fa@example.com</dd>") && page.contains("<dd>true</dd>"));
    let again = Req::new(s.addr, "GET", path)
        .header("Accept", "application/json")
        .send()
        .expect(200);
    assert_eq!(again["Active"], false, "a grant is exchanged once: {again}");
}

#[test]
fn issue_16_an_operator_policy_keeps_its_own_resource_urls_in_dev_mode() {
    let policy = customerlink::domain::policy::DEFAULT_POLICY;
    let s = TestServer::start_with(|c| {
        c.dev = true;
        c.policy_file = c.data_dir.join("policy.toml");
        std::fs::create_dir_all(&c.data_dir).unwrap();
        std::fs::write(
            &c.policy_file,
            policy.replace("default_resource_url", "# none"),
        )
        .unwrap();
    });
    let open = |resource: &str, n: u128| {
        let created = s
            .post(
                "/v1/customerlink",
                json!({"ResourceType": resource, "ResourceUid": uid(n), "RecipientEmail": "g@example.com"}),
            )
            .expect(200);
        let token = portal_token(&created);
        let opened = Req::new(s.addr, "POST", &format!("/portal/{token}/open"))
            .send()
            .expect(200);
        opened["TargetUrl"].as_str().unwrap().to_owned()
    };
    assert!(open("Quote", 7).starts_with("http://127.0.0.1:9090/quotes/"));
    assert!(open("Invoice", 8).starts_with("http://127.0.0.1:9090/invoices/"));
}

#[test]
fn issue_16_dev_mode_refuses_a_non_loopback_address_unless_forced() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    let (code, _, err) = cli(&["serve", "--dev", "--listen", "0.0.0.0:0", "--data", data]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("--dev-allow-remote"), "{err}");
    assert!(!dir.path().join("dev-mailbox").exists());
}
