//! The ServiceStack wire: negotiation, routes, casing, JSONP, CORS, method override, and
//! request bodies in JSV, XML and form encoding — all through the real server.

use serde_json::{Value, json};

use crate::support::{Resp, SEED_JSV, TestServer, error_fields, filled_seed_jsv, link_uid, uid};

fn create_json(s: &TestServer) -> Value {
    s.quote_link(1, "a@b.co")
}

#[test]
fn format_is_chosen_by_suffix_callback_format_parameter_then_accept() {
    let s = TestServer::start();
    let u = link_uid(&create_json(&s));
    let get = |path: &str, accept: Option<&str>| -> Resp {
        let req = s.req("GET", path);
        match accept {
            Some(a) => req.header("Accept", a).send(),
            None => req.send(),
        }
    };
    let cases = [
        (
            format!("/v1/customerlink/{u}.jsv"),
            Some("application/json"),
            "application/jsv",
        ),
        (format!("/v1/customerlink/{u}.xml"), None, "application/xml"),
        (format!("/v1/customerlink/{u}.csv"), None, "text/csv"),
        (format!("/v1/customerlink/{u}.jsonl"), None, "text/jsonl"),
        (
            format!("/v1/customerlink/{u}?format=jsv"),
            Some("application/xml"),
            "application/jsv",
        ),
        (
            format!("/v1/customerlink/{u}"),
            Some("text/jsv"),
            "application/jsv",
        ),
        (
            format!("/v1/customerlink/{u}"),
            Some("application/xml"),
            "application/xml",
        ),
        (
            format!("/v1/customerlink/{u}"),
            Some("text/html,*/*"),
            "application/json; charset=utf-8",
        ),
        (
            format!("/v1/customerlink/{u}"),
            None,
            "application/json; charset=utf-8",
        ),
    ];
    for (path, accept, content_type) in cases {
        let r = get(&path, accept);
        assert_eq!(
            (r.status, r.header("content-type")),
            (200, Some(content_type)),
            "{path} {accept:?}: {r:#?}"
        );
    }
    let jsv = get(&format!("/v1/customerlink/{u}.jsv"), None).body;
    assert!(
        jsv.starts_with("{Link:{RecipientDisplayName:a@b.co,RecipientType:AdHoc,Status:Active,"),
        "{jsv}"
    );
    assert!(jsv.contains("RequireOtp:False"), "{jsv}");
}

#[test]
fn jsonp_wraps_replies_and_errors_with_status_200() {
    let s = TestServer::start();
    let u = link_uid(&create_json(&s));
    let ok = s.get(&format!("/v1/customerlink/{u}?callback=show"));
    assert_eq!(ok.header("content-type"), Some("text/javascript"));
    assert!(
        ok.body.starts_with("show({\"Link\":") && ok.body.ends_with(')'),
        "{}",
        ok.body
    );
    let missing = s.get(&format!("/v1/customerlink/{}?callback=alert(1)", uid(9)));
    assert_eq!(missing.status, 200);
    assert!(
        missing
            .body
            .starts_with("alert_1_({\"ResponseStatus\":{\"ErrorCode\":\"NotFound\""),
        "{}",
        missing.body
    );
}

#[test]
fn predefined_routes_reach_every_operation_by_name() {
    let s = TestServer::start();
    let body = json!({"ResourceType": "Quote", "ResourceUid": uid(2), "RecipientEmail": "a@b.co"});
    for path in [
        "/api/CustomerLinkCreateRequest",
        "/json/reply/customerlinkcreaterequest",
    ] {
        s.post(path, body.clone()).expect(200);
    }
    let jsv = s
        .req("POST", "/jsv/reply/CustomerLinkCreateRequest")
        .raw_body(
            format!(
                "{{ResourceType:Quote,ResourceUid:{},RecipientEmail:a@b.co}}",
                uid(2)
            )
            .into_bytes(),
        )
        .send();
    assert_eq!(
        (jsv.status, jsv.header("content-type")),
        (200, Some("application/jsv")),
        "{jsv:#?}"
    );
    let listed = s
        .get(&format!(
            "/api/CustomerLinkListRequest?ResourceType=Quote&ResourceUid={}",
            uid(2)
        ))
        .expect(200);
    assert_eq!(listed["Links"].as_array().unwrap().len(), 3);
    let lines = s.get("/jsonl/reply/CustomerLinkQueryRequest");
    assert_eq!(lines.header("content-type"), Some("text/jsonl"));
    assert_eq!(lines.body.lines().count(), 3, "{}", lines.body);
    s.get("/api/NoSuchRequest").expect(404);
}

#[test]
fn camel_case_requests_get_camel_case_replies_and_jsconfig_overrides() {
    let s = TestServer::start();
    let camel = s
        .post(
            "/api/CustomerLinkCreateRequest",
            json!({"resourceType": "Quote", "resourceUid": uid(3), "recipientEmail": "a@b.co"}),
        )
        .expect(200);
    assert_eq!(camel["link"]["customerLinkId"], 1);
    assert!(camel["link"]["customerLinkUID"].is_string(), "{camel}");
    assert_eq!(camel["deliveryErrors"], json!([]));
    let pascal = s
        .post(
            "/v1/customerlink?jsconfig=TextCase:PascalCase",
            json!({"resourceType": "Quote", "resourceUid": uid(3), "recipientEmail": "a@b.co"}),
        )
        .expect(200);
    assert_eq!(pascal["Link"]["CustomerLinkId"], 2);
    let forced = s.get("/v1/customerlink?jsconfig=eccn").expect(200);
    assert_eq!(forced["total"], 2);
    let error = s
        .post("/v1/customerlink", json!({"resourceType": "Quote"}))
        .expect(400);
    assert_eq!(
        error["responseStatus"]["errors"][0]["fieldName"], "ResourceUid",
        "field names stay PascalCase"
    );
}

#[test]
fn the_seed_jsv_sample_binds_compact_and_pretty() {
    let s = TestServer::start();
    let send = |body: &str| {
        s.req("POST", "/v1/customerlink")
            .header("Content-Type", "text/jsv")
            .header("Accept", "text/jsv")
            .raw_body(body.as_bytes().to_vec())
            .send()
    };
    // Verbatim, the sample is all placeholders: the empty Guid and the zero limits are refused
    // field by field, which proves every member was read.
    let verbatim = send(SEED_JSV);
    assert_eq!(
        (verbatim.status, verbatim.header("content-type")),
        (400, Some("application/jsv")),
        "{verbatim:#?}"
    );
    for field in [
        "ResourceUid",
        "RecipientEmail",
        "RecipientPhone",
        "ExpiresInHours",
        "MaxViews",
    ] {
        assert!(
            verbatim.body.contains(&format!("FieldName:{field}")),
            "{field}: {}",
            verbatim.body
        );
    }
    let filled = filled_seed_jsv(4).replace("DeliverEmail: False", "DeliverEmail: True");
    let pretty = send(&filled);
    assert_eq!(pretty.status, 200, "{pretty:#?}");
    assert!(
        pretty
            .body
            .contains("RecipientEmail:ann@example.com,RecipientPhone:+15551234567"),
        "{}",
        pretty.body
    );
    assert!(
        pretty.body.contains("MaxViews:3")
            && pretty
                .body
                .contains("DeliveryErrors:[\"Email not sent: no SMTP relay is configured.\"]"),
        "{}",
        pretty.body
    );
    // Compact as ServiceStack's writer writes it: no blank after `:` (on one line such a
    // blank would belong to the value, as it does in ServiceStack).
    let compact: String = filled.lines().map(|l| l.replacen(": ", ":", 1)).collect();
    let compact = send(&compact);
    assert_eq!(compact.status, 200, "{compact:#?}");
}

#[test]
fn form_bodies_and_query_values_bind_like_servicestack() {
    let s = TestServer::start();
    let form = format!(
        "ResourceType=Quote&ResourceUid={}&RecipientEmail=a%40b.co&MaxViews=4",
        uid(5)
    );
    let r = s
        .req("POST", "/v1/customerlink")
        .header("Content-Type", "application/x-www-form-urlencoded")
        .raw_body(form.into_bytes())
        .send();
    assert_eq!(r.expect(200)["Link"]["MaxViews"], 4);
    let query_wins = s
        .req("POST", "/v1/customerlink?MaxViews=2")
        .json(&json!({"ResourceType": "Quote", "ResourceUid": uid(5), "RecipientEmail": "a@b.co", "MaxViews": 9}))
        .send();
    assert_eq!(
        query_wins.expect(200)["Link"]["MaxViews"],
        2,
        "query overrides body on custom routes"
    );
    let bad = s
        .req("POST", "/v1/customerlink?MaxViews=lots")
        .json(&json!({}))
        .send()
        .expect(400);
    assert!(error_fields(&bad).contains(&"MaxViews".to_owned()), "{bad}");
}

#[test]
fn method_override_cors_and_options() {
    let s = TestServer::start();
    let u = link_uid(&create_json(&s));
    let revoked = s
        .req("POST", &format!("/v1/customerlink/{u}"))
        .header("X-Http-Method-Override", "DELETE")
        .send()
        .expect(200);
    assert_eq!(revoked["Link"]["Status"], "Revoked");
    let preflight = s
        .req("OPTIONS", "/v1/customerlink")
        .without("Authorization")
        .header("Origin", "https://app.example")
        .header("Access-Control-Request-Method", "POST")
        .send();
    assert_eq!(preflight.status, 200);
    assert_eq!(preflight.header("access-control-allow-origin"), Some("*"));
    let allowed = preflight
        .header("access-control-allow-headers")
        .unwrap_or_default()
        .to_ascii_lowercase();
    for h in ["authorization", "content-type", "x-api-key"] {
        assert!(allowed.contains(h), "{allowed}");
    }
    let normal = s.get("/v1/customerlink");
    assert_eq!(normal.header("access-control-allow-origin"), Some("*"));
}

#[test]
fn unsupported_or_broken_bodies_are_clear_4xx_in_the_negotiated_format() {
    let s = TestServer::start();
    let send = |ct: &str, body: &[u8]| {
        s.req("POST", "/v1/customerlink")
            .header("Content-Type", ct)
            .raw_body(body.to_vec())
            .send()
    };
    assert_eq!(send("image/png", b"\x89PNG").status, 415);
    for (ct, body) in [
        ("text/jsv", b"{ResourceType:\"unterminated".as_slice()),
        ("text/jsv", b"not an object"),
        ("application/jsv", b"{A:\xff\xfe}"),
        ("application/json", b"{\"a\":"),
        ("application/json", "[".repeat(10_000).as_bytes()),
    ] {
        let r = send(ct, body);
        assert_eq!(r.status, 400, "{ct} {body:?}: {r:#?}");
        assert_eq!(
            r.json()["ResponseStatus"]["ErrorCode"],
            "SerializationException"
        );
    }
    let as_xml = s
        .req("POST", "/v1/customerlink.xml")
        .header("Content-Type", "application/json")
        .raw_body(b"{".to_vec())
        .send();
    assert_eq!(
        (as_xml.status, as_xml.header("content-type")),
        (400, Some("application/xml"))
    );
    let huge = s
        .req("POST", "/v1/customerlink?format=jsv")
        .header("Content-Type", "application/json")
        .raw_body(vec![b' '; 70_000])
        .send();
    assert_eq!(
        (huge.status, huge.header("content-type")),
        (413, Some("application/jsv")),
        "{huge:#?}"
    );
    assert_eq!(huge.reason, "RequestEntityTooLarge");
}

#[test]
fn openapi_describes_exactly_the_routes_the_server_answers() {
    let s = TestServer::start();
    let doc = s
        .req("GET", "/openapi.json")
        .without("Authorization")
        .send()
        .expect(200);
    assert_eq!(doc["openapi"], "3.1.0");
    let paths = doc["paths"].as_object().unwrap();
    assert!(paths.len() >= 6, "{paths:?}");
    for (path, item) in paths {
        for verb in item.as_object().unwrap().keys() {
            let concrete = path
                .replace("{CustomerLinkUID}", &uid(99))
                .replace("{ResourceUid}", &uid(98))
                .replace("{ResourceType}", "Quote")
                .replace("{ContactId}", "5");
            let r = s
                .req(&verb.to_ascii_uppercase(), &concrete)
                .json(&json!({}))
                .send();
            let unrouted = r.status == 405 || r.body.contains("No operation at");
            assert!(
                !unrouted,
                "{verb} {path} is described but not served: {r:#?}"
            );
        }
    }
}

#[test]
fn xml_bodies_in_and_datacontract_xml_out() {
    let s = TestServer::start();
    let body = format!(
        "<CustomerLinkCreateRequest xmlns:i=\"http://www.w3.org/2001/XMLSchema-instance\" \
         xmlns=\"http://schemas.datacontract.org/2004/07/CRM.AgencyPlatform.API.Internal\">\
         <DeliverEmail>true</DeliverEmail><RecipientEmail>x@y.co</RecipientEmail>\
         <ResourceType>Quote</ResourceType><ResourceUid>{}</ResourceUid></CustomerLinkCreateRequest>",
        "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
    );
    let r = s
        .req("POST", "/v1/customerlink")
        .header("Content-Type", "application/xml")
        .header("Accept", "application/xml")
        .raw_body(body.into_bytes())
        .send();
    assert_eq!(
        (r.status, r.header("content-type")),
        (200, Some("application/xml")),
        "{r:#?}"
    );
    let xml = &r.body;
    assert!(
        xml.starts_with("<?xml version=\"1.0\" encoding=\"utf-8\"?><CustomerLinkCreateResponse "),
        "{xml}"
    );
    assert!(xml.contains(
        "xmlns=\"http://schemas.datacontract.org/2004/07/CRM.AgencyPlatform.API.Internal\""
    ));
    assert!(
        xml.contains("<ResourceUid>0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0</ResourceUid>"),
        "dashed Guids: {xml}"
    );
    assert!(xml.contains("<RevokedAtUtc i:nil=\"true\" />"), "{xml}");
    assert!(
        xml.contains("<DeliveryChannels />")
            && xml.contains(
                "<d2p1:string>Email not sent: no SMTP relay is configured.</d2p1:string>"
            ),
        "{xml}"
    );
    let members = [
        "CreatedAtUtc",
        "CustomerLinkId",
        "ExpiresAtUtc",
        "MaxViews",
        "TokenHash",
        "ViewCount",
    ];
    let positions: Vec<usize> = members
        .iter()
        .map(|m| xml.find(&format!("<{m}>")).unwrap())
        .collect();
    assert!(
        positions.windows(2).all(|w| w[0] < w[1]),
        "members in alphabetical order: {xml}"
    );
    let error = s
        .req("POST", "/xml/reply/CustomerLinkCreateRequest")
        .raw_body(b"<CustomerLinkCreateRequest><ResourceType>Quote</ResourceType></CustomerLinkCreateRequest>".to_vec())
        .send();
    assert_eq!(
        (error.status, error.header("content-type")),
        (400, Some("application/xml")),
        "{error:#?}"
    );
    assert!(
        error.body.contains("<CustomerLinkCreateResponse ")
            && error
                .body
                .contains("<d2p1:FieldName>ResourceUid</d2p1:FieldName>"),
        "{}",
        error.body
    );
}

#[test]
fn csv_writes_the_first_list_as_rows_with_its_attachment_name() {
    let s = TestServer::start();
    create_json(&s);
    s.quote_link(1, "b@c.co");
    let r = s.get(&format!("/v1/customerlink/resource/Quote/{}.csv", uid(1)));
    assert_eq!(r.status, 200, "{r:#?}");
    assert_eq!(
        r.header("content-disposition"),
        Some("attachment;filename=\"CustomerLinkListRequest.csv\"")
    );
    let lines: Vec<&str> = r.body.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert_eq!(lines.len(), 3, "{}", r.body);
    assert!(
        lines[0].starts_with("RecipientDisplayName,RecipientType,Status,CustomerLinkId,"),
        "{}",
        lines[0]
    );
    assert!(
        lines[1].starts_with("b@c.co,AdHoc,Active,2,"),
        "newest first: {}",
        lines[1]
    );
}
