//! Behind a reverse proxy: only when the TCP peer is a trusted proxy is the client address
//! taken from its header (the rightmost untrusted hop), so the portal's per-address limit
//! and the access log see the real client; anyone else's header is ignored. (The test client
//! connects from 127.0.0.1.)

use customerlink::config::{Cidr, ClientIpHeader, Config};
use serde_json::Value;

use crate::support::{Req, TestServer};

fn trusting_loopback(c: &mut Config) {
    c.http.trusted_proxies = vec![Cidr::parse("127.0.0.1/32").unwrap()];
    c.portal.requests_per_minute = 2;
}

fn link(s: &TestServer) -> (String, String) {
    let created = s.quote_link(1, "a@example.com");
    let uid = created["Link"]["CustomerLinkUID"].as_str().unwrap();
    (crate::support::portal_token(&created), uid.to_owned())
}

fn landing(s: &TestServer, token: &str, header: &str, value: &str) -> u16 {
    Req::new(s.addr, "GET", &format!("/portal/{token}"))
        .header(header, value)
        .send()
        .status
}

/// The address of the link's `Opened` access-log row.
fn opened_from(s: &TestServer, link_uid: &str) -> Value {
    let log = s
        .get(&format!("/v1/customerlink/{link_uid}/log"))
        .expect(200);
    let rows = log["AccessLog"].as_array().unwrap();
    let opened = rows.iter().find(|r| r["EventType"] == "Opened");
    opened.map(|r| r["IpAddress"].clone()).unwrap_or_default()
}

#[test]
fn a_spoofed_header_from_an_untrusted_peer_is_ignored() {
    let s = TestServer::start_with(|c| c.portal.requests_per_minute = 2);
    let (token, link_uid) = link(&s);
    let xff = "X-Forwarded-For";
    assert_eq!(landing(&s, &token, xff, "198.51.100.1"), 200);
    assert_eq!(landing(&s, &token, xff, "198.51.100.2"), 200);
    assert_eq!(
        landing(&s, &token, xff, "198.51.100.3"),
        429,
        "one budget: the header is not believed"
    );
    s.clock.advance_millis(60_000);
    Req::new(s.addr, "POST", &format!("/portal/{token}/open"))
        .header(xff, "198.51.100.1")
        .send()
        .expect(200);
    assert_eq!(opened_from(&s, &link_uid), "127.0.0.1");
}

#[test]
fn behind_a_trusted_proxy_each_forwarded_client_has_its_own_budget_and_log_address() {
    let s = TestServer::start_with(trusting_loopback);
    let (token, link_uid) = link(&s);
    let xff = "X-Forwarded-For";
    // A client that itself sent a spoofed X-Forwarded-For: the proxy appended the real peer.
    let a = "6.6.6.6, 203.0.113.7";
    assert_eq!(landing(&s, &token, xff, a), 200);
    assert_eq!(landing(&s, &token, xff, a), 200);
    assert_eq!(landing(&s, &token, xff, a), 429, "A's budget is spent");
    assert_eq!(
        landing(&s, &token, xff, "203.0.113.8"),
        200,
        "B has its own budget"
    );
    assert_eq!(
        landing(&s, &token, xff, "7.7.7.7, 203.0.113.7"),
        429,
        "only the rightmost untrusted hop counts"
    );
    s.clock.advance_millis(60_000);
    Req::new(s.addr, "POST", &format!("/portal/{token}/open"))
        .header(xff, "6.6.6.6, 203.0.113.7, 127.0.0.1")
        .send()
        .expect(200);
    assert_eq!(opened_from(&s, &link_uid), "203.0.113.7");
}

#[test]
fn the_forwarded_header_with_an_ipv6_node_and_port() {
    let s = TestServer::start_with(|c| {
        trusting_loopback(c);
        c.http.client_ip_header = ClientIpHeader::Forwarded;
    });
    let (token, link_uid) = link(&s);
    Req::new(s.addr, "POST", &format!("/portal/{token}/open"))
        .header("Forwarded", "for=\"[2001:db8::1]:1234\";proto=https")
        .header("X-Forwarded-For", "198.51.100.1")
        .send()
        .expect(200);
    assert_eq!(opened_from(&s, &link_uid), "2001:db8::1");
}
