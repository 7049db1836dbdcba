//! The browser flow's token cookie: only a well-formed token is ever written into `Set-Cookie`
//! (no path bytes reflected), and a navigation another site started cannot replace the link
//! a recipient has open; a fresh link from webmail with no cookie still goes straight in.

use crate::support::{Req, Resp, TestServer};

fn token(s: &TestServer, n: u128) -> String {
    let created = s.quote_link(n, "a@example.com");
    crate::support::portal_token(&created)
}

fn browse(s: &TestServer, path: &str) -> Req {
    Req::new(s.addr, "GET", path).header("Accept", "text/html,application/xhtml+xml")
}

fn swapped_to(r: &Resp, token: &str) -> bool {
    r.status == 303
        && r.header("location") == Some("/portal")
        && r.header("set-cookie")
            .is_some_and(|c| c.starts_with(&format!("cl_t={token}; Path=/portal;")))
}

#[test]
fn only_a_well_formed_token_reaches_set_cookie() {
    let s = TestServer::start();
    for path in [
        "/portal/x%3B%20Domain%3Dexample.test",
        "/portal/x;%20Domain=example.test",
        "/portal/%0d%0aSet-Cookie:%20a=b",
        &format!("/portal/{}%3B", "A".repeat(42)),
        &format!("/portal/{}", "A".repeat(44)),
        &format!("/portal/{}", "A+".repeat(21) + "A"),
    ] {
        let r = browse(&s, path).send();
        assert_eq!(r.header("set-cookie"), None, "{path}: {r:#?}");
        assert_eq!(r.status, 404, "{path}: {r:#?}");
        assert!(
            r.body.contains("This link is not available"),
            "{path}: {}",
            r.body
        );
        assert_eq!(r.header("x-frame-options"), Some("DENY"), "{path}");
    }
    let unknown = "A".repeat(43);
    let r = browse(&s, &format!("/portal/{unknown}")).send();
    assert!(
        swapped_to(&r, &unknown),
        "a well-formed token is kept: {r:#?}"
    );
}

#[test]
fn a_cross_site_navigation_cannot_replace_an_open_link() {
    let s = TestServer::start();
    let (mine, theirs) = (token(&s, 1), token(&s, 2));
    let current = format!("cl_t={mine}");

    // A fresh link from webmail with no cookie yet: straight in.
    let r = browse(&s, &format!("/portal/{theirs}"))
        .header("Sec-Fetch-Site", "cross-site")
        .send();
    assert!(swapped_to(&r, &theirs), "{r:#?}");

    // The same link again, or a typed/bookmarked or same-origin navigation: straight in.
    for (site, cookie, to) in [
        ("cross-site", &current, &mine),
        ("none", &current, &theirs),
        ("same-origin", &current, &theirs),
    ] {
        let r = browse(&s, &format!("/portal/{to}"))
            .header("Sec-Fetch-Site", site)
            .header("Cookie", cookie)
            .send();
        assert!(swapped_to(&r, to), "{site}: {r:#?}");
    }

    // Another site's navigation with a different link open: asked first, cookie untouched.
    for site in [Some("cross-site"), Some("same-site"), None] {
        let mut req = browse(&s, &format!("/portal/{theirs}")).header("Cookie", &current);
        if let Some(site) = site {
            req = req.header("Sec-Fetch-Site", site);
        }
        let r = req.send();
        assert_eq!(r.status, 200, "{site:?}: {r:#?}");
        assert_eq!(r.header("set-cookie"), None, "{site:?}");
        assert!(
            r.body.contains("You have another link open")
                && r.body.contains("action=\"/portal/switch\""),
            "{}",
            r.body
        );
        assert_eq!(r.header("x-frame-options"), Some("DENY"));
    }

    // The confirmation is a same-origin form post; another origin cannot send it.
    let form = format!("Token={theirs}");
    let switch = |site: &str| {
        Req::new(s.addr, "POST", "/portal/switch")
            .header("Content-Type", "application/x-www-form-urlencoded")
            .header("Cookie", &current)
            .header("Sec-Fetch-Site", site)
            .raw_body(form.clone().into_bytes())
            .send()
    };
    let forged = switch("cross-site");
    assert_eq!(
        (forged.status, forged.header("set-cookie")),
        (403, None),
        "{forged:#?}"
    );
    let confirmed = switch("same-origin");
    assert!(swapped_to(&confirmed, &theirs), "{confirmed:#?}");
    let bad = Req::new(s.addr, "POST", "/portal/switch")
        .header("Content-Type", "application/x-www-form-urlencoded")
        .header("Sec-Fetch-Site", "same-origin")
        .raw_body(b"Token=x%3B%20Domain%3Dexample.test".to_vec())
        .send();
    assert_eq!((bad.status, bad.header("set-cookie")), (404, None));
}
