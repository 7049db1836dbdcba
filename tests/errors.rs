//! Error bodies byte for byte as ServiceStack writes them (issue 11 items 3, 5, 7): the
//! operation's response DTO as the root (XML), FluentValidation's messages and `Meta`, and
//! ServiceStack's texts for bind, parse and wrong-verb errors.

use serde_json::{Value, json};

use crate::support::{Resp, TestServer, uid};

const XML_HEAD: &str = "<?xml version=\"1.0\" encoding=\"utf-8\"?>";
const XSI: &str = "http://www.w3.org/2001/XMLSchema-instance";
const API_NS: &str = "http://schemas.datacontract.org/2004/07/CRM.AgencyPlatform.API.Internal";
const SS_NS: &str = "http://schemas.servicestack.net/types";

fn status(resp: &Resp, code: u16) -> Value {
    let body = resp.expect(code);
    body["ResponseStatus"].clone()
}

#[test]
fn issue_11_validation_errors_carry_fluent_validation_meta_and_split_names() {
    let s = TestServer::start();
    let resp = s.post(
        "/v1/customerlink",
        json!({
            "ResourceType": "Quote",
            "ResourceUid": uid(1),
            "RecipientEmail": "not-an-email",
            "RecipientPhone": "555",
            "MaxViews": 0,
        }),
    );
    assert_eq!(resp.reason, "Email");
    let body = resp.expect(400);
    let errors = json!([
        {
            "ErrorCode": "Email",
            "FieldName": "RecipientEmail",
            "Message": "'Recipient Email' is not a valid email address.",
            "Meta": {"PropertyName": "Recipient Email", "PropertyValue": "not-an-email"}
        },
        {
            "ErrorCode": "Phone",
            "FieldName": "RecipientPhone",
            "Message": "'Recipient Phone' is not a valid phone number: use international form, e.g. +15551234567.",
            "Meta": {"PropertyName": "Recipient Phone", "PropertyValue": "555"}
        },
        {
            "ErrorCode": "InclusiveBetween",
            "FieldName": "MaxViews",
            "Message": "'Max Views' must be between 1 and 50. You entered 0.",
            "Meta": {"From": "1", "To": "50", "PropertyName": "Max Views", "PropertyValue": "0"}
        }
    ]);
    assert_eq!(
        body,
        json!({"ResponseStatus": {
            "ErrorCode": "Email",
            "Message": "'Recipient Email' is not a valid email address.",
            "Errors": errors,
        }})
    );
}

#[test]
fn issue_11_comparison_and_range_rules_put_their_values_in_meta() {
    let s = TestServer::start();
    let take = status(&s.get("/v1/customerlink?Take=501"), 400);
    assert_eq!(
        take["Errors"],
        json!([{
            "ErrorCode": "InclusiveBetween",
            "FieldName": "Take",
            "Message": "'Take' must be between 1 and 500. You entered 501.",
            "Meta": {"From": "1", "To": "500", "PropertyName": "Take", "PropertyValue": "501"}
        }])
    );
    let contact = status(&s.put("/v1/contact/0", json!({"FirstName": "Ann"})), 400);
    assert_eq!(
        contact["Errors"][0],
        json!({
            "ErrorCode": "GreaterThan",
            "FieldName": "ContactId",
            "Message": "'Contact Id' must be greater than '0'.",
            "Meta": {
                "ComparisonValue": "0",
                "ComparisonProperty": "",
                "PropertyName": "Contact Id",
                "PropertyValue": "0"
            }
        })
    );
    let email = status(&s.put("/v1/contact/7", json!({"EmailWork": "nope"})), 400);
    assert_eq!(
        email["Message"],
        "'Email Work' is not a valid email address."
    );
    let enum_ = status(&s.get("/v1/customerlink?Status=Lost"), 400);
    assert_eq!(
        enum_["Errors"][0]["Message"],
        "'Status' has a range of values which does not include 'Lost'."
    );
}

#[test]
fn issue_11_xml_errors_have_the_operation_response_dto_as_root() {
    let s = TestServer::start();
    let resp = s
        .req("POST", "/v1/customerlink")
        .header("Accept", "application/xml")
        .json(&json!({"ResourceType": "Quote", "ResourceUid": uid(1)}))
        .send();
    assert_eq!(resp.status, 400);
    let message = "A recipient is required: 'Recipient Contact Id', 'Recipient Email' or \
                   'Recipient Phone'.";
    assert_eq!(
        resp.body,
        format!(
            "{XML_HEAD}<CustomerLinkCreateResponse xmlns:i=\"{XSI}\" xmlns=\"{API_NS}\">\
             <ResponseStatus xmlns:d2p1=\"{SS_NS}\"><d2p1:ErrorCode>NotEmpty</d2p1:ErrorCode>\
             <d2p1:Message>{message}</d2p1:Message><d2p1:StackTrace i:nil=\"true\" />\
             <d2p1:Errors><d2p1:ResponseError><d2p1:ErrorCode>NotEmpty</d2p1:ErrorCode>\
             <d2p1:FieldName>RecipientContactId</d2p1:FieldName>\
             <d2p1:Message>{message}</d2p1:Message><d2p1:Meta \
             xmlns:d5p1=\"http://schemas.microsoft.com/2003/10/Serialization/Arrays\">\
             <d5p1:KeyValueOfstringstring><d5p1:Key>PropertyName</d5p1:Key>\
             <d5p1:Value>Recipient Contact Id</d5p1:Value></d5p1:KeyValueOfstringstring>\
             </d2p1:Meta></d2p1:ResponseError></d2p1:Errors><d2p1:Meta i:nil=\"true\" />\
             </ResponseStatus></CustomerLinkCreateResponse>"
        )
    );
    let missing = s
        .req("GET", &format!("/v1/customerlink/{}.xml", uid(9)))
        .send();
    assert_eq!(missing.status, 404);
    assert!(
        missing.body.starts_with(&format!(
            "{XML_HEAD}<CustomerLinkResponse xmlns:i=\"{XSI}\" xmlns=\"{API_NS}\">\
             <ResponseStatus xmlns:d2p1=\"{SS_NS}\"><d2p1:ErrorCode>NotFound</d2p1:ErrorCode>"
        )),
        "{missing:#?}"
    );
    let deleted = s.req("DELETE", "/v1/contact/99.xml").send();
    assert_eq!(deleted.status, 404);
    assert!(
        deleted.body.starts_with(&format!(
            "{XML_HEAD}<EmptyResponse xmlns:i=\"{XSI}\" xmlns=\"{SS_NS}\"><ResponseStatus>\
             <ErrorCode>NotFound</ErrorCode>"
        )),
        "{deleted:#?}"
    );
    for (method, path) in [("GET", "/nowhere.xml"), ("PUT", "/v1/customerlink.xml")] {
        let r = s.req(method, path).send();
        assert!(
            r.body.starts_with(&format!(
                "{XML_HEAD}<ErrorResponse xmlns:i=\"{XSI}\" xmlns=\"{SS_NS}\"><ResponseStatus>"
            )),
            "{method} {path}: {r:#?}"
        );
    }
}

#[test]
fn issue_11_json_error_bodies_keep_their_shape() {
    let s = TestServer::start();
    let missing = s.get(&format!("/v1/customerlink/{}", uid(9)));
    assert_eq!(
        missing.body,
        format!(
            "{{\"ResponseStatus\":{{\"ErrorCode\":\"NotFound\",\"Message\":\"Customer link {} \
             not found\",\"Errors\":[]}}}}",
            uid(9)
        )
    );
}

#[test]
fn issue_11_wrong_verbs_name_the_method_as_servicestack_does() {
    let s = TestServer::start();
    let api = status(&s.req("PUT", "/api/CustomerLinkRequest").send(), 405);
    assert_eq!(
        api,
        json!({
            "ErrorCode": "NotImplementedException",
            "Message": "Could not find method named Put(CustomerLinkRequest) or \
                        Any(CustomerLinkRequest) on Service CustomerLinkService",
            "Errors": [],
        })
    );
    let contact = status(&s.req("PATCH", "/v1/contact/5").send(), 405);
    assert_eq!(
        contact["Message"],
        "Could not find method named Patch(ContactPutRequest) or Any(ContactPutRequest) on \
         Service ContactService"
    );
}

#[test]
fn issue_11_values_that_do_not_bind_are_named_as_sent() {
    let s = TestServer::start();
    let query = status(
        &s.get("/v1/customerlink?take=abc&SKIP=-&jsconfig=epcn"),
        400,
    );
    assert_eq!(
        query,
        json!({
            "ErrorCode": "SerializationException",
            "Message": "Unable to bind to request 'CustomerLinkQueryRequest'",
            "Errors": [
                {
                    "ErrorCode": "SerializationException",
                    "FieldName": "take",
                    "Message": "'abc' is an Invalid value for 'take'"
                },
                {
                    "ErrorCode": "SerializationException",
                    "FieldName": "SKIP",
                    "Message": "'-' is an Invalid value for 'SKIP'"
                }
            ],
        })
    );
    let body = status(
        &s.post(
            "/v1/customerlink?jsconfig=epcn",
            json!({"maxViews": "many", "ResourceUid": 5}),
        ),
        400,
    );
    assert_eq!(
        body["Message"],
        "Unable to bind to request 'CustomerLinkCreateRequest'"
    );
    let sent: Vec<(&str, &str)> = body["Errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["FieldName"].as_str().unwrap_or_default(),
                e["Message"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        sent,
        [
            ("maxViews", "'many' is an Invalid value for 'maxViews'"),
            ("ResourceUid", "'5' is an Invalid value for 'ResourceUid'"),
        ]
    );
}

#[test]
fn issue_11_a_passcode_that_does_not_bind_is_not_echoed() {
    let s = TestServer::start();
    let resp = s
        .req("POST", "/portal/some-token/verify")
        .without("Authorization")
        .json(&json!({"Code": 123_456}))
        .send();
    let status = status(&resp, 400);
    assert_eq!(status["Errors"][0]["Message"], "Invalid Value for 'Code'");
    assert!(!resp.body.contains("123456"), "{}", resp.body);
}

#[test]
fn issue_11_unreadable_bodies_say_which_dto_could_not_be_read() {
    let s = TestServer::start();
    let resp = s
        .req("POST", "/v1/customerlink")
        .header("Content-Type", "application/json; charset=utf-8")
        .raw_body(b"{\"ResourceType\":".to_vec())
        .send();
    assert_eq!(resp.reason, "SerializationException");
    assert_eq!(
        status(&resp, 400),
        json!({
            "ErrorCode": "SerializationException",
            "Message": "Could not deserialize 'application/json' request using \
                        CRM.AgencyPlatform.API.Internal.CustomerLinkCreateRequest'\n\
                        Error: EOF while parsing a value at line 1 column 16",
            "Errors": [],
        })
    );
    let list = s
        .req("POST", "/json/reply/CustomerLinkCreateRequest")
        .raw_body(b"[1]".to_vec())
        .send();
    assert_eq!(
        status(&list, 400)["Message"],
        "Could not deserialize 'application/json' request using \
         CRM.AgencyPlatform.API.Internal.CustomerLinkCreateRequest'\n\
         Error: Type definitions should start with a '{'"
    );
}

#[test]
fn issue_11_path_values_that_do_not_bind_are_named_by_the_route() {
    let s = TestServer::start();
    let status = status(&s.get("/v1/customerlink/not-a-guid"), 400);
    assert_eq!(
        status["Errors"],
        json!([{
            "ErrorCode": "SerializationException",
            "FieldName": "CustomerLinkUID",
            "Message": "'not-a-guid' is an Invalid value for 'CustomerLinkUID'"
        }])
    );
    assert_eq!(
        status["Message"],
        "Unable to bind to request 'CustomerLinkRequest'"
    );
}

#[test]
fn issue_11_errors_before_the_body_is_read_are_the_operations_errors_too() {
    let s = TestServer::start_with(|c| c.http.max_body_bytes = 64);
    let resp = s
        .req("POST", "/v1/customerlink.xml")
        .json(&json!({"ResourceType": "Quote".repeat(20)}))
        .send();
    assert_eq!(resp.status, 413, "{resp:#?}");
    assert!(
        resp.body.starts_with(&format!(
            "{XML_HEAD}<CustomerLinkCreateResponse xmlns:i=\"{XSI}\" xmlns=\"{API_NS}\">"
        )),
        "{resp:#?}"
    );
}
