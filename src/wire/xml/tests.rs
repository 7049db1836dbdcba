//! Tests of the XML reader and writer.
use super::*;
use crate::wire::bind::{Sources, bind};
use crate::wire::node::to_node;
use crate::wire::status::ResponseStatus;
use uuid::Uuid;

/// The members of the create request this test binds (the wire knows no API DTO).
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
#[allow(non_snake_case, reason = "ServiceStack member names")]
struct CreateRequest {
    ResourceUid: Option<crate::wire::types::Guid>,
    #[serde(deserialize_with = "crate::wire::types::lenient::opt_bool")]
    DeliverEmail: Option<bool>,
    #[serde(deserialize_with = "crate::wire::types::lenient::opt_i32")]
    MaxViews: Option<i32>,
}

const ROOT_NS: &str = r#"xmlns:i="http://www.w3.org/2001/XMLSchema-instance" xmlns="http://schemas.datacontract.org/2004/07/CRM.AgencyPlatform.API.Internal""#;

fn obj(type_name: &'static str, members: Vec<(&'static str, Node)>) -> Node {
    Node::Object { type_name, members }
}

fn s(text: &str) -> Node {
    Node::Str(text.to_owned())
}

#[test]
fn writes_a_create_response() {
    let error = obj(
        "ResponseError",
        vec![
            ("ErrorCode", s("NotEmpty")),
            ("FieldName", s("ResourceType")),
        ],
    );
    let status = obj(
        "ResponseStatus",
        vec![
            ("ErrorCode", s("NotEmpty")),
            ("Message", s("'Resource Type' <empty>")),
            ("StackTrace", Node::Null),
            ("Errors", Node::List(vec![error])),
            ("Meta", Node::Map(vec![("k".into(), s("v"))])),
        ],
    );
    let link = obj(
        "CustomerLinkExtended",
        vec![
            ("Status", s("Active")),
            ("CustomerLinkUID", Node::Guid(Uuid::from_u128(0xab))),
            ("CreatedAtUtc", Node::Date(1_709_649_000_000)),
            ("ExpiresAtUtc", Node::Date(1_709_649_000_120)),
            ("RevokedAtUtc", Node::Null),
            ("RequireOtp", Node::Bool(false)),
            ("MaxViews", Node::UInt(5)),
        ],
    );
    let response = obj(
        "CustomerLinkCreateResponse",
        vec![
            ("ResponseStatus", status),
            ("Link", link),
            ("PortalUrl", s("https://x/p?a=1&b=2")),
            ("DeliveryErrors", Node::List(vec![s("sms: no phone")])),
        ],
    );
    let expected = format!(
        "{DECLARATION}<CustomerLinkCreateResponse {ROOT_NS}>\
         <DeliveryErrors xmlns:d2p1=\"{ARRAYS_NS}\"><d2p1:string>sms: no phone</d2p1:string></DeliveryErrors>\
         <Link><CreatedAtUtc>2024-03-05T14:30:00Z</CreatedAtUtc>\
         <CustomerLinkUID>00000000-0000-0000-0000-0000000000ab</CustomerLinkUID>\
         <ExpiresAtUtc>2024-03-05T14:30:00.12Z</ExpiresAtUtc><MaxViews>5</MaxViews>\
         <RequireOtp>false</RequireOtp><RevokedAtUtc i:nil=\"true\" /><Status>Active</Status></Link>\
         <PortalUrl>https://x/p?a=1&amp;b=2</PortalUrl>\
         <ResponseStatus xmlns:d2p1=\"{SERVICESTACK_NS}\"><d2p1:ErrorCode>NotEmpty</d2p1:ErrorCode>\
         <d2p1:Message>'Resource Type' &lt;empty&gt;</d2p1:Message><d2p1:StackTrace i:nil=\"true\" />\
         <d2p1:Errors><d2p1:ResponseError><d2p1:ErrorCode>NotEmpty</d2p1:ErrorCode>\
         <d2p1:FieldName>ResourceType</d2p1:FieldName></d2p1:ResponseError></d2p1:Errors>\
         <d2p1:Meta xmlns:d3p1=\"{ARRAYS_NS}\"><d3p1:KeyValueOfstringstring><d3p1:Key>k</d3p1:Key>\
         <d3p1:Value>v</d3p1:Value></d3p1:KeyValueOfstringstring></d2p1:Meta></ResponseStatus>\
         </CustomerLinkCreateResponse>"
    );
    assert_eq!(write(&response), expected);
}

#[test]
fn lists_base_members_first_and_servicestack_types() {
    let link = |id| {
        obj(
            "CustomerLinkExtended",
            vec![("Status", s("Active")), ("ViewCount", Node::Int(id))],
        )
    };
    let list = obj(
        "CustomerLinkListResponse",
        vec![
            ("Links", Node::List(vec![link(1), link(2)])),
            ("Tags", Node::List(vec![])),
        ],
    );
    let body = write(&list);
    assert!(
        body.ends_with(
            "<Links><CustomerLinkExtended><ViewCount>1</ViewCount><Status>Active</Status>\
             </CustomerLinkExtended><CustomerLinkExtended><ViewCount>2</ViewCount>\
             <Status>Active</Status></CustomerLinkExtended></Links><Tags /></CustomerLinkListResponse>"
        ),
        "{body}"
    );
    let contact = obj("ContactDto", vec![("Name", s("Ann"))]);
    let body = write(&obj(
        "ContactListResponse",
        vec![("Contacts", Node::List(vec![contact]))],
    ));
    assert!(
        body.contains("<Contacts><Contact><Name>Ann</Name></Contact></Contacts>"),
        "{body}"
    );
    let error = crate::wire::status::ErrorResponse {
        ResponseStatus: ResponseStatus {
            ErrorCode: "NotFound".into(),
            ..ResponseStatus::default()
        },
    };
    let body = write(&to_node(&error).unwrap_or(Node::Null));
    assert!(
        body.ends_with(&format!(
            "<ErrorResponse xmlns:i=\"{XSI_NS}\" xmlns=\"{SERVICESTACK_NS}\"><ResponseStatus>\
             <ErrorCode>NotFound</ErrorCode><Message i:nil=\"true\" /><StackTrace i:nil=\"true\" />\
             <Errors /><Meta i:nil=\"true\" /></ResponseStatus></ErrorResponse>"
        )),
        "{body}"
    );
}

#[test]
fn escapes_text_and_replaces_forbidden_characters() {
    let body = write(&obj("R", vec![("A", s("a\r\nb\u{1}c\"'>\u{FFFF}"))]));
    assert!(
        body.contains("<A>a&#xD;\nb\u{FFFD}c\"'&gt;\u{FFFD}</A>"),
        "{body}"
    );
    assert_eq!(
        parse(body.as_bytes()),
        Ok(serde_json::json!({"A": "a\r\nb\u{FFFD}c\"'>\u{FFFD}"}))
    );
}

#[test]
fn parses_a_create_request() {
    let xml = format!(
        "\u{FEFF}<?xml version=\"1.0\"?>\n<CustomerLinkCreateRequest {ROOT_NS}>\n  \
         <DeliverEmail>true</DeliverEmail><ResourceType>Quote</ResourceType>\
         <ResourceUid>01234567-89ab-cdef-0123-456789abcdef</ResourceUid>\
         <RecipientEmail i:nil=\"true\" /><MaxViews>3</MaxViews><RecipientPhone />\
         <!-- c --><Note> a &lt;&#x42;&gt; <![CDATA[<x>]]></Note>\n</CustomerLinkCreateRequest>"
    );
    let value = parse(xml.as_bytes());
    let expected = serde_json::json!({
        "DeliverEmail": "true", "ResourceType": "Quote",
        "ResourceUid": "01234567-89ab-cdef-0123-456789abcdef", "RecipientEmail": null,
        "MaxViews": "3", "RecipientPhone": null, "Note": " a <B> <x>",
    });
    assert_eq!(value, Ok(expected));
    let dto: CreateRequest = bind(Sources {
        body: value.ok(),
        ..Sources::default()
    })
    .unwrap_or_default();
    assert_eq!(dto.DeliverEmail, Some(true));
    assert_eq!(dto.MaxViews, Some(3));
    assert!(dto.ResourceUid.is_some());
}

#[test]
fn parses_lists_and_nested_objects() {
    let xml = "<R xmlns:a=\"x\"><Tags><a:string>one</a:string></Tags>\
               <Ids><a:int>1</a:int><a:int>2</a:int></Ids><Home><City>X</City></Home></R>";
    assert_eq!(
        parse(xml.as_bytes()),
        Ok(serde_json::json!({"Tags": ["one"], "Ids": ["1", "2"], "Home": {"City": "X"}}))
    );
}

#[test]
fn refuses_bad_documents_without_panicking() {
    let deep = format!("{}{}", "<a>".repeat(1000), "</a>".repeat(1000));
    for bad in [
        "",
        "<a><b></a>",
        "<a>",
        "<a/><b/>",
        "text",
        "<a>&foo;</a>",
        "<a>x & y</a>",
        "<!DOCTYPE a [<!ENTITY e SYSTEM \"file:///etc/passwd\">]><a>&e;</a>",
        "<a x='1' x='2'/>",
        deep.as_str(),
    ] {
        assert!(parse(bad.as_bytes()).is_err(), "{bad:.40}");
    }
    assert!(parse(b"<a>\xff\xfe</a>").is_err());
}
