//! Each request is looked up once (issue 12 item 4): the metrics label names what dispatch ran
//! — after `X-Http-Method-Override`, and for the portal's browser pages — and a request timeout
//! answers in the format the request negotiated.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use crate::support::{Req, TestServer, uid};

/// The count of `customerlink_http_requests_total` for an operation and status (0 if absent).
fn requests(s: &TestServer, operation: &str, status: u16) -> u64 {
    let metrics = Req::new(s.addr, "GET", "/metrics").send().body;
    let (op, st) = (
        format!("operation=\"{operation}\""),
        format!("status=\"{status}\""),
    );
    metrics
        .lines()
        .filter(|l| l.starts_with("customerlink_http_requests_total{"))
        .filter(|l| l.contains(&op) && l.contains(&st))
        .find_map(|l| l.rsplit(' ').next()?.trim().parse().ok())
        .unwrap_or(0)
}

#[test]
fn the_label_follows_the_method_override() {
    let s = TestServer::start();
    let r = s
        .req("POST", &format!("/v1/customerlink/{}", uid(7)))
        .header("X-Http-Method-Override", "GET")
        .send();
    assert_eq!(r.status, 404, "{r:#?}");
    assert_eq!(requests(&s, "CustomerLinkRequest", 404), 1);
    assert_eq!(requests(&s, "WrongVerb", 404), 0);
}

#[test]
fn browser_pages_are_labelled_as_pages() {
    let s = TestServer::start();
    let r = Req::new(s.addr, "GET", "/portal/not-a-token")
        .header("Accept", "text/html")
        .send();
    assert_eq!(r.status, 404, "{r:#?}");
    assert!(r.body.contains("This link is not available"), "{r:#?}");
    assert_eq!(requests(&s, "PortalPage", 404), 1);
    assert_eq!(requests(&s, "PortalLandingRequest", 404), 0);
}

#[test]
fn a_request_timeout_answers_in_the_negotiated_format() {
    let s = TestServer::start_with(|c| {
        c.http.request_timeout = Duration::from_millis(300);
        c.http.body_read_timeout = Duration::from_secs(30);
    });
    let mut stream = TcpStream::connect(s.addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    // A body announced and never sent keeps the request in hand past its timeout.
    let head = format!(
        "POST /v1/customerlink HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {}\r\nAccept: application/xml\r\nContent-Type: application/xml\r\nContent-Length: 10\r\n\r\n",
        s.addr, s.key
    );
    stream.write_all(head.as_bytes()).unwrap();
    let (mut raw, mut chunk) = (Vec::new(), [0u8; 4096]);
    let text = loop {
        let n = stream.read(&mut chunk).unwrap_or(0);
        raw.extend_from_slice(&chunk[..n]);
        let text = String::from_utf8_lossy(&raw).to_ascii_lowercase();
        if n == 0 || text.contains("</customerlinkcreateresponse>") {
            break text;
        }
    };
    assert!(text.starts_with("http/1.1 503"), "{text}");
    assert!(text.contains("content-type: application/xml"), "{text}");
    assert!(text.contains("<customerlinkcreateresponse"), "{text}");
}
