//! Issue 11 item 8: `Vary: Accept` on replies whose format Accept chose (or could have
//! chosen), and JSON strings escaped as ServiceStack.Text's `JsonUtils.WriteString` escapes them.

use crate::support::{Resp, TestServer};

fn varies_on_accept(r: &Resp) -> bool {
    r.headers.iter().filter(|(n, _)| n == "vary").any(|(_, v)| {
        v.split(',')
            .any(|p| p.trim().eq_ignore_ascii_case("accept"))
    })
}

#[test]
fn vary_accept_only_where_accept_could_choose_the_format() {
    let s = TestServer::start();
    let created = s.quote_link(1, "a@b.co");
    let u = created["Link"]["CustomerLinkUID"]
        .as_str()
        .unwrap()
        .to_owned();
    let get = |path: &str, accept: Option<&str>| {
        let req = s.req("GET", path);
        match accept {
            Some(a) => req.header("Accept", a).send(),
            None => req.send(),
        }
    };
    let path = format!("/v1/customerlink/{u}");
    for (r, what) in [
        (get(&path, Some("application/xml")), "Accept chose XML"),
        (get(&path, Some("application/json")), "Accept chose JSON"),
        (get(&path, None), "no Accept: one would choose"),
        (get("/v1/customerlink/nope", Some("text/jsv")), "errors too"),
        (
            get("/api/ContactListRequest", None),
            "/api: Accept may choose the casing",
        ),
    ] {
        assert!(varies_on_accept(&r), "{what}: {r:#?}");
    }
    for (r, what) in [
        (
            get(&format!("{path}.json"), Some("application/xml")),
            "suffix",
        ),
        (get(&format!("{path}?format=jsv"), None), "?format="),
        (
            get("/xml/reply/ContactListRequest", None),
            "/xml/reply route",
        ),
        (
            get("/json/reply/ContactListRequest", Some("text/jsv")),
            "/json/reply route",
        ),
    ] {
        assert!(!varies_on_accept(&r), "{what}: {r:#?}");
    }
}

#[test]
fn json_control_characters_are_escaped_as_servicestack_writes_them() {
    // Names refuse control characters (they reach mail headers), so the text comes back the
    // way every client can provoke: a value that does not bind, echoed in the error.
    let s = TestServer::start();
    let value = "a\u{1f}b\u{7f}c\u{85}d\u{b}e\té\"";
    let sent = "a%1Fb%7Fc%C2%85d%0Be%09%C3%A9%22";
    let expected = r#"'a\u001Fb\u007Fc\u0085d\u000Be\té\"'"#;
    for query in ["", "&jsconfig=eccn", "&callback=f"] {
        let r = s.get(&format!("/v1/customerlink?Take={sent}{query}"));
        assert!(r.body.contains(expected), "{query}: {}", r.body);
    }
    let r = s.get(&format!("/v1/customerlink?Take={sent}"));
    assert_eq!(r.status, 400);
    let message = r.json()["ResponseStatus"]["Errors"][0]["Message"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(message.contains(value), "{message}");
}
