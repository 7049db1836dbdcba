//! A tenant's branding (issue 16 §4): `customerlink tenant set` validates the name, accent
//! and logo and changes nothing on a refusal; the logo and the accent's stylesheet are served
//! from our own origin (long cache, nosniff) and linked from the tenant's pages under the
//! unchanged CSP; the HTML email carries the accent and the new name — on either store.

use std::path::Path;

use serde_json::json;

use crate::support::sinks::SmtpSink;
use crate::support::{Req, TestServer, cli, email_via, portal_token, uid};

/// A 2×2 red PNG.
const PNG: &[u8] = b"\x89\x50\x4e\x47\x0d\x0a\x1a\x0a\x00\x00\x00\x0d\x49\x48\x44\x52\x00\x00\x00\x02\x00\x00\x00\x02\x08\x02\x00\x00\x00\xfd\xd4\x9a\x73\x00\x00\x00\x10\x49\x44\x41\x54\x78\x9c\x63\x58\xc5\xc0\x00\x44\x0c\x10\x0a\x00\x15\x4e\x02\xa9\xb1\xa4\x8b\xff\x00\x00\x00\x00\x49\x45\x4e\x44\xae\x42\x60\x82";

/// The pages' CSP before branding existed: branding must not widen it.
const CSP: &str =
    "default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; frame-ancestors 'none'";

fn set(data: &Path, tenant: &str, args: &[&str]) -> (i32, String, String) {
    let d = data.to_str().unwrap();
    let mut all = vec!["tenant", "set", tenant, "--data", d];
    all.extend(args);
    cli(&all)
}

#[test]
fn issue16_tenant_set_refuses_bad_names_accents_and_logos_and_then_changes_nothing() {
    let s = TestServer::start();
    let tenant = s.tenant_id();
    let (s, ()) = s.restart_after(
        |data| {
            let file = |name: &str, bytes: &[u8]| {
                let path = data.join(name);
                std::fs::write(&path, bytes).unwrap();
                path.to_str().unwrap().to_owned()
            };
            let gif = file("logo.gif", b"GIF89a\x01\x00\x01\x00");
            let mut big = PNG.to_vec();
            big.resize(256 * 1024 + 1, 0);
            let big = file("big.png", &big);
            let cases: [(&[&str], &str); 6] = [
                (&["--accent", "#12345"], "#RRGGBB"),
                (&["--accent", "red"], "#RRGGBB"),
                (&["--name", "Acme\nBcc: x@example.com"], "line breaks"),
                (&["--name", &"x".repeat(101)], "1 to 100 characters"),
                (&["--logo", &gif], "not a PNG"),
                (&["--logo", &big], "256 KiB"),
            ];
            for (args, said) in cases {
                let mut all = args.to_vec();
                all.extend(["--accent", "#00aa00"]); // valid, and must not be applied
                let (code, _, err) = set(data, &tenant, &all);
                assert!(code != 0 && err.contains(said), "{args:?}: {code} {err}");
            }
            let unknown = set(data, &uid(77), &["--accent", "#00aa00"]);
            assert!(
                unknown.0 != 0 && unknown.2.contains("no tenant"),
                "{unknown:?}"
            );
        },
        |_| {},
    );
    let token = portal_token(&s.quote_link(1, "a@example.com"));
    let page = Req::new(s.addr, "GET", "/portal")
        .header("Cookie", &format!("cl_t={token}"))
        .send();
    assert!(page.body.contains("Default shared") && !page.body.contains("/brand/"));
}

#[test]
fn issue16_branding_is_served_from_our_origin_and_shows_on_pages_and_in_email() {
    let sink = SmtpSink::start();
    let mail_url = sink.url();
    let s = TestServer::start();
    let tenant = s.tenant_id();
    let (s, ()) = s.restart_after(
        |data| {
            let logo = data.join("logo.png");
            std::fs::write(&logo, PNG).unwrap();
            let args = [
                "--name",
                "Acme Seguros",
                "--accent",
                "#AA0000",
                "--logo",
                logo.to_str().unwrap(),
            ];
            let (code, out, err) = set(data, &tenant, &args);
            assert_eq!(code, 0, "{out}{err}");
        },
        |c| c.email = Some(email_via(mail_url)),
    );
    let body = json!({"ResourceType": "Quote", "ResourceUid": uid(1),
        "RecipientEmail": "ana@example.com", "DeliverEmail": true});
    let token = portal_token(&s.post("/v1/customerlink", body).expect(200));
    let page = Req::new(s.addr, "GET", "/portal")
        .header("Cookie", &format!("cl_t={token}"))
        .send();
    assert_eq!(page.header("content-security-policy"), Some(CSP));
    assert!(
        page.body.contains("Acme Seguros shared a Quote with you"),
        "{}",
        page.body
    );
    let style = format!("<link rel=\"stylesheet\" href=\"/brand/{tenant}/style.css?v=aa0000\">");
    assert!(page.body.contains(&style), "{}", page.body);
    let logo_tag = format!("<img class=\"logo\" src=\"/brand/{tenant}/logo.png?v=");
    assert!(page.body.contains(&logo_tag), "{}", page.body);
    assert!(page.body.contains("alt=\"Acme Seguros logo\""));

    let logo = Req::new(s.addr, "GET", &format!("/brand/{tenant}/logo.png?v=1")).send();
    assert_eq!(logo.status, 200);
    assert_eq!(logo.header("content-type"), Some("image/png"));
    assert_eq!(
        logo.header("content-length"),
        Some(PNG.len().to_string().as_str())
    );
    assert_eq!(logo.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(
        logo.header("cache-control"),
        Some("public, max-age=31536000, immutable")
    );
    let css = Req::new(s.addr, "GET", &format!("/brand/{tenant}/style.css")).send();
    assert_eq!(css.header("content-type"), Some("text/css; charset=utf-8"));
    assert!(
        css.body
            .contains("--accent: #aa0000; --on-accent: #ffffff;"),
        "{}",
        css.body
    );
    let none = Req::new(s.addr, "GET", &format!("/brand/{}/logo.png", uid(77))).send();
    assert_eq!((none.status, none.body.as_str()), (404, ""));
    assert_eq!(
        page.header("cache-control"),
        Some("no-store"),
        "pages stay uncached"
    );

    let mail = crate::languages::decoded(&sink.wait_for(1)[0]);
    assert!(mail.contains("Acme Seguros: your Quote is ready"), "{mail}");
    assert!(mail.contains("style=\"color: #aa0000\""), "{mail}");
}
