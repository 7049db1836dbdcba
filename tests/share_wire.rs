//! The document-share family in every wire format, as the customer-link family (issue 17):
//! DataContract XML (base-class members first, each class's alphabetically; the list wrapped in
//! `<DocumentShare><DocumentShareExtended>`; errors typed as the operation's response), CSV
//! (the share list flattened), JSV request binding of every member, JSONL, form posts, the
//! predefined routes, AutoBatch, the 405 text, and `/openapi.json`.

use serde_json::{Value, json};

use crate::shares::{share, upload};
use crate::support::{Resp, TestServer, error_fields};

const API_NS: &str = "http://schemas.datacontract.org/2004/07/CRM.AgencyPlatform.API.Internal";

/// `DocumentShare`'s members alphabetically, then `DocumentShareExtended`'s own.
const XML_ORDER: [&str; 26] = [
    "AttachmentId",
    "CreatedAtUtc",
    "CreatedByAgentId",
    "CreatedByUserId",
    "DeliveryChannels",
    "DocumentShareId",
    "DocumentShareUID",
    "ExpiresAtUtc",
    "Locale",
    "MaxViews",
    "OtpChannel",
    "RecipientContactId",
    "RecipientEmail",
    "RecipientPhone",
    "RequireOtp",
    "RevokedAtUtc",
    "RevokedByUserId",
    "SensitivityTier",
    "SmsConsentSnapshot",
    "TokenHash",
    "ViewCount",
    "AttachmentName",
    "CreatedByName",
    "RecipientDisplayName",
    "RecipientType",
    "Status",
];

/// `DocumentShareExtended`'s members in declaration order (subclass first).
const SHARE_MEMBERS: [&str; 26] = [
    "AttachmentName",
    "RecipientDisplayName",
    "RecipientType",
    "CreatedByName",
    "Status",
    "DocumentShareId",
    "DocumentShareUID",
    "TokenHash",
    "AttachmentId",
    "SensitivityTier",
    "RequireOtp",
    "OtpChannel",
    "DeliveryChannels",
    "RecipientContactId",
    "RecipientEmail",
    "RecipientPhone",
    "SmsConsentSnapshot",
    "CreatedByUserId",
    "CreatedByAgentId",
    "CreatedAtUtc",
    "ExpiresAtUtc",
    "MaxViews",
    "ViewCount",
    "RevokedAtUtc",
    "RevokedByUserId",
    "Locale",
];

const LOG_MEMBERS: [&str; 9] = [
    "DocumentShareAccessLogId",
    "DocumentShareId",
    "EventType",
    "Outcome",
    "DetailMessage",
    "IpAddress",
    "UserAgent",
    "ActorUserId",
    "CreatedAtUtc",
];

/// A Guid as DataContract writes it (`8-4-4-4-12`), from the N form.
fn dashed(n: &str) -> String {
    format!(
        "{}-{}-{}-{}-{}",
        &n[..8],
        &n[8..12],
        &n[12..16],
        &n[16..20],
        &n[20..]
    )
}

/// The names of the elements directly inside the first `<{parent}>…</{parent}>` (whose members
/// are all scalars).
fn members_of(xml: &str, parent: &str) -> Vec<String> {
    let open = format!("<{parent}>");
    let start = xml.find(&open).expect(&open) + open.len();
    let end = start + xml[start..].find(&format!("</{parent}>")).unwrap();
    xml[start..end]
        .split('<')
        .filter(|tag| !tag.is_empty() && !tag.starts_with('/'))
        .map(|tag| {
            let end = tag.find([' ', '>', '/']).unwrap_or(tag.len());
            tag[..end].to_owned()
        })
        .collect()
}

fn posted(s: &TestServer, path: &str, content_type: &str, accept: &str, body: &str) -> Resp {
    s.req("POST", path)
        .header("Content-Type", content_type)
        .header("Accept", accept)
        .raw_body(body.as_bytes().to_vec())
        .send()
}

fn only(reply: &Value) -> &Value {
    let list = reply["DocumentShare"].as_array().expect("a list");
    assert_eq!(list.len(), 1, "{reply}");
    &list[0]
}

#[test]
fn xml_in_and_datacontract_xml_out_with_the_base_members_first() {
    let s = TestServer::start();
    let attachment = upload(&s, "policy.pdf", b"%PDF-1.7 a policy");
    let body = format!(
        "<DocumentShareCreateRequest xmlns:i=\"http://www.w3.org/2001/XMLSchema-instance\" \
         xmlns=\"{API_NS}\"><AttachmentId>{}</AttachmentId><ExpiresInHours>0</ExpiresInHours>\
         <IsAdhoc>true</IsAdhoc><MaxViews>0</MaxViews><RecipientContactId>0</RecipientContactId>\
         <RecipientEmail>ann@example.com</RecipientEmail></DocumentShareCreateRequest>",
        dashed(&attachment)
    );
    let xml = "application/xml";
    let created = posted(&s, "/v1/documentshare", xml, xml, &body);
    assert_eq!(
        (created.status, created.header("content-type")),
        (200, Some(xml)),
        "{created:#?}"
    );
    let root = format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?><DocumentShareResponse \
         xmlns:i=\"http://www.w3.org/2001/XMLSchema-instance\" xmlns=\"{API_NS}\">"
    );
    assert!(created.body.starts_with(&root), "{}", created.body);
    assert!(
        created
            .body
            .contains("<DocumentShare><DocumentShareExtended><AttachmentId>"),
        "the list wrapper is named after the item type: {}",
        created.body
    );
    assert_eq!(
        members_of(&created.body, "DocumentShareExtended"),
        XML_ORDER
    );
    for part in [
        format!("<AttachmentId>{}</AttachmentId>", dashed(&attachment)),
        "<RecipientContactId i:nil=\"true\" />".to_owned(),
        "<AttachmentName>policy.pdf</AttachmentName>".to_owned(),
        "<RequireOtp>true</RequireOtp>".to_owned(),
        "<ShareUrl>http".to_owned(),
    ] {
        assert!(created.body.contains(&part), "{part}: {}", created.body);
    }

    share(&s, &attachment, json!({"RecipientEmail": "bo@example.com"}));
    let listed = s.get(&format!("/v1/documentshare/attachment/{attachment}.xml"));
    assert_eq!(listed.status, 200, "{listed:#?}");
    assert_eq!(listed.body.matches("<DocumentShareExtended>").count(), 2);
    assert!(
        listed.body.contains("<ShareUrl i:nil=\"true\" />"),
        "{}",
        listed.body
    );
    let log = s.get("/v1/documentshare/1/log.xml");
    assert!(
        log.body
            .contains("<AccessLog><DocumentShareAccessLog><ActorUserId>"),
        "{}",
        log.body
    );
    assert_eq!(
        members_of(&log.body, "DocumentShareAccessLog"),
        [
            "ActorUserId",
            "CreatedAtUtc",
            "DetailMessage",
            "DocumentShareAccessLogId",
            "DocumentShareId",
            "EventType",
            "IpAddress",
            "Outcome",
            "UserAgent",
        ]
    );
}

#[test]
fn xml_errors_are_typed_as_the_operations_response() {
    let s = TestServer::start();
    let attachment = upload(&s, "a.txt", b"text");
    let body = format!(
        "<DocumentShareCreateRequest><AttachmentId>{attachment}</AttachmentId>\
         <RecipientEmail>a@b.co</RecipientEmail><SensitivityTier>Standard</SensitivityTier>\
         </DocumentShareCreateRequest>"
    );
    let weak = posted(
        &s,
        "/xml/reply/DocumentShareCreateRequest",
        "application/xml",
        "*/*",
        &body,
    );
    assert_eq!(
        (weak.status, weak.header("content-type")),
        (400, Some("application/xml")),
        "{weak:#?}"
    );
    assert!(
        weak.body.contains("<DocumentShareResponse ")
            && weak
                .body
                .contains("<d2p1:FieldName>SensitivityTier</d2p1:FieldName>"),
        "{}",
        weak.body
    );
    let missing = s.get("/v1/documentshare/999/log.xml");
    assert_eq!(missing.status, 404);
    assert!(
        missing.body.contains("<DocumentShareLogResponse ")
            && missing
                .body
                .contains("<d2p1:ErrorCode>NotFound</d2p1:ErrorCode>"),
        "{}",
        missing.body
    );
    let revoke = s
        .req("POST", "/v1/documentshare/999/revoke.xml")
        .json(&json!({}))
        .send();
    assert_eq!(revoke.status, 404);
    assert!(
        revoke.body.contains("<DocumentShareResponse "),
        "{}",
        revoke.body
    );
}

#[test]
fn csv_flattens_the_share_list_and_the_access_log() {
    let s = TestServer::start();
    let header = format!("{}\r\n", SHARE_MEMBERS.join(","));
    let attachment = upload(&s, "a.txt", b"text");
    let path = format!("/v1/documentshare/attachment/{attachment}.csv");
    let empty = s.get(&path);
    assert_eq!(
        (empty.status, empty.header("content-type")),
        (200, Some("text/csv"))
    );
    assert_eq!(empty.body, header, "an empty list writes its header row");
    assert_eq!(
        empty.header("content-disposition"),
        Some("attachment;filename=\"DocumentShareListRequest.csv\"")
    );

    let body = json!({"AttachmentId": attachment, "RecipientEmail": "ann@example.com",
                      "RecipientContactId": 0, "IsAdhoc": true});
    let created = s
        .req("POST", "/v1/documentshare?format=csv")
        .json(&body)
        .send();
    assert_eq!(created.status, 200, "{created:#?}");
    assert!(
        created.body.starts_with(&header),
        "the share list, not DeliveryErrors, is the first list: {}",
        created.body
    );
    assert!(
        created.body[header.len()..].starts_with("a.txt,ann@example.com,AdHoc,,Active,1,"),
        "{}",
        created.body
    );
    share(&s, &attachment, json!({"RecipientEmail": "bo@example.com"}));
    let listed = s.get(&path);
    let rows: Vec<&str> = listed.body.split_terminator("\r\n").collect();
    assert_eq!(rows.len(), 3, "{}", listed.body);
    assert!(rows[1].starts_with("a.txt,bo@example.com,AdHoc,,Active,2,"));
    assert!(rows[2].starts_with("a.txt,ann@example.com,AdHoc,,Active,1,"));
    assert!(
        rows.iter()
            .all(|r| r.split(',').count() == SHARE_MEMBERS.len()),
        "{}",
        listed.body
    );

    let log = s.get("/v1/documentshare/1/log?format=csv");
    let rows: Vec<&str> = log.body.split_terminator("\r\n").collect();
    assert_eq!(rows[0], LOG_MEMBERS.join(","), "{}", log.body);
    assert!(rows[1].starts_with("1,1,Created,Success,"), "{}", log.body);
}

#[test]
fn jsv_binds_every_member_of_a_create() {
    let s = TestServer::start();
    let attachment = upload(&s, "a.txt", b"text");
    let jsv = |body: &str, accept: &str| posted(&s, "/v1/documentshare", "text/jsv", accept, body);
    // The metadata page's layout (tab-indented, a blank after each `:`), every member set.
    let pretty = format!(
        "{{\n\tAttachmentId: {attachment},\n\tRecipientContactId: 0,\n\t\
         RecipientEmail: ann@example.com,\n\tRecipientPhone: +15551234567,\n\tIsAdhoc: True,\n\t\
         SensitivityTier: Restricted,\n\tRequireOtp: True,\n\tOtpChannel: Sms,\n\t\
         DeliveryChannels: \"Email,Sms\",\n\tExpiresInHours: 5,\n\tMaxViews: 2\n}}"
    );
    let reply = jsv(&pretty, "application/json");
    let reply = reply.expect(200);
    let one = only(&reply);
    assert_eq!(one["AttachmentId"], attachment.as_str());
    assert_eq!(one["RecipientEmail"], "ann@example.com");
    assert_eq!(one["RecipientPhone"], "+15551234567");
    assert_eq!(one["RecipientType"], "AdHoc");
    assert!(one.get("RecipientContactId").is_none(), "{one}");
    assert_eq!(
        (
            &one["SensitivityTier"],
            &one["RequireOtp"],
            &one["OtpChannel"]
        ),
        (&json!("Restricted"), &json!(true), &json!("Sms"))
    );
    assert_eq!(one["MaxViews"], 2);
    let at = |m: &str| time_ms(one[m].as_str().unwrap());
    assert_eq!(at("ExpiresAtUtc") - at("CreatedAtUtc"), 5 * 3_600_000);
    assert_eq!(
        reply["DeliveryErrors"],
        json!([
            "Email not sent: no SMTP relay is configured.",
            "Sms not sent: no SMS gateway is configured."
        ]),
        "both channels were asked for"
    );

    // Compact, as ServiceStack writes JSV, answered in JSV.
    let compact = format!(
        "{{AttachmentId:{attachment},RecipientContactId:0,RecipientEmail:ann@example.com,\
         IsAdhoc:True,ExpiresInHours:0,MaxViews:0}}"
    );
    let reply = jsv(&compact, "text/jsv");
    assert_eq!(reply.status, 200, "{reply:#?}");
    let prefix = "{DocumentShare:[{AttachmentName:a.txt,RecipientDisplayName:ann@example.com,\
                  RecipientType:AdHoc,Status:Active,DocumentShareId:2,DocumentShareUID:";
    assert!(reply.body.starts_with(prefix), "{}", reply.body);
    assert!(
        reply.body.contains(&format!(
            ",AttachmentId:{attachment},SensitivityTier:Confidential,RequireOtp:True,\
             OtpChannel:Email,DeliveryChannels:\"\",RecipientEmail:ann@example.com,\
             SmsConsentSnapshot:False,"
        )) && reply
            .body
            .contains(",MaxViews:20,ViewCount:0}],ShareUrl:\"http"),
        "{}",
        reply.body
    );

    // IsAdhoc:True sets a contact id aside; without it the contact must exist.
    let contact = |adhoc: &str| {
        jsv(
            &format!(
                "{{AttachmentId:{attachment},RecipientContactId:7,RecipientEmail:a@b.co{adhoc}}}"
            ),
            "application/json",
        )
    };
    let adhoc = contact(",IsAdhoc:True").expect(200);
    assert_eq!(only(&adhoc)["RecipientType"], "AdHoc");
    assert!(only(&adhoc).get("RecipientContactId").is_none());
    let named = contact("").expect(400);
    assert_eq!(error_fields(&named), ["RecipientContactId"], "{named}");
    let bad = jsv(
        &format!("{{AttachmentId:{attachment},IsAdhoc:Maybe}}"),
        "application/json",
    );
    assert_eq!(error_fields(&bad.expect(400)), ["IsAdhoc"]);
}

/// Milliseconds of an ISO 8601 UTC time as the JSON replies write it (`…T…:ss.fffffffZ`).
fn time_ms(text: &str) -> i64 {
    let format = time::format_description::well_known::Rfc3339;
    let at = time::OffsetDateTime::parse(text, &format).expect(text);
    (at.unix_timestamp_nanos() / 1_000_000) as i64
}

#[test]
fn jsonl_writes_one_share_or_log_row_per_line() {
    let s = TestServer::start();
    let attachment = upload(&s, "a.txt", b"text");
    share(&s, &attachment, json!({}));
    share(&s, &attachment, json!({"RecipientEmail": "bo@example.com"}));
    let lines = s.get(&format!("/v1/documentshare/attachment/{attachment}.jsonl"));
    assert_eq!(lines.header("content-type"), Some("text/jsonl"));
    let rows: Vec<Value> = lines
        .body
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let ids: Vec<&Value> = rows.iter().map(|r| &r["DocumentShareId"]).collect();
    assert_eq!(ids, [&json!(2), &json!(1)], "{}", lines.body);
    let log = s.get("/jsonl/reply/DocumentShareLogRequest?DocumentShareId=2");
    assert_eq!(log.header("content-type"), Some("text/jsonl"));
    let first: Value = serde_json::from_str(log.body.lines().next().unwrap()).unwrap();
    assert_eq!(first["EventType"], "Created", "{}", log.body);
}

#[test]
fn form_posts_bind_every_member() {
    let s = TestServer::start();
    let attachment = upload(&s, "a.txt", b"text");
    let form = format!(
        "AttachmentId={attachment}&RecipientContactId=0&RecipientEmail=ann%40example.com\
         &IsAdhoc=true&SensitivityTier=Restricted&RequireOtp=true&OtpChannel=Email\
         &DeliveryChannels=&ExpiresInHours=2&MaxViews=3"
    );
    let form_type = "application/x-www-form-urlencoded";
    let reply = posted(
        &s,
        "/v1/documentshare",
        form_type,
        "application/json",
        &form,
    );
    let one = only(&reply.expect(200)).clone();
    assert_eq!(
        (
            &one["SensitivityTier"],
            &one["MaxViews"],
            &one["RecipientEmail"]
        ),
        (&json!("Restricted"), &json!(3), &json!("ann@example.com"))
    );
    let id = one["DocumentShareId"].as_u64().unwrap();
    let revoked = posted(
        &s,
        "/api/DocumentShareRevokeRequest",
        form_type,
        "application/json",
        &format!("DocumentShareId={id}"),
    );
    assert_eq!(only(&revoked.expect(200))["Status"], "Revoked");
}

#[test]
fn predefined_routes_and_autobatch_reach_every_share_operation() {
    let s = TestServer::start();
    let attachment = upload(&s, "a.txt", b"text");
    let camel = s
        .post(
            "/api/DocumentShareCreateRequest",
            json!({"attachmentId": attachment, "recipientContactId": 0,
                   "recipientEmail": "ann@example.com", "isAdhoc": true}),
        )
        .expect(200);
    assert_eq!(camel["documentShare"][0]["documentShareId"], 1, "{camel}");
    assert!(camel["shareUrl"].is_string(), "{camel}");
    let body = json!({"AttachmentId": attachment, "RecipientEmail": "bo@example.com"});
    let pascal = s
        .post("/json/reply/documentsharecreaterequest", body.clone())
        .expect(200);
    assert_eq!(only(&pascal)["DocumentShareId"], 2);
    let listed = s
        .get(&format!(
            "/api/DocumentShareListRequest?AttachmentId={attachment}"
        ))
        .expect(200);
    assert_eq!(listed["DocumentShare"].as_array().unwrap().len(), 2);
    s.post(
        "/json/reply/DocumentShareResendRequest",
        json!({"DocumentShareId": 2}),
    )
    .expect(200);
    let log = s
        .get("/json/reply/DocumentShareLogRequest?DocumentShareId=2")
        .expect(200);
    assert_eq!(log["AccessLog"][1]["EventType"], "Resent", "{log}");

    let batch = s
        .req("POST", "/api/DocumentShareCreateRequest[]")
        .json(&json!([body, {"AttachmentId": attachment, "RecipientEmail": "cy@example.com"}]))
        .send();
    assert_eq!(batch.header("x-autobatch-completed"), Some("2"));
    let replies = batch.expect(200);
    let ids: Vec<&Value> = replies
        .as_array()
        .unwrap()
        .iter()
        .map(|r| &r["DocumentShare"][0]["DocumentShareId"])
        .collect();
    assert_eq!(ids, [&json!(3), &json!(4)], "{replies}");
    let weak = json!({"AttachmentId": attachment, "RecipientEmail": "a@b.co",
                      "SensitivityTier": "Standard"});
    let failed = s
        .req("POST", "/api/DocumentShareCreateRequest[]")
        .json(&json!([body, weak]))
        .send();
    assert_eq!(failed.header("x-autobatch-completed"), Some("1"));
    let failed = failed.expect(400);
    assert_eq!(failed["ResponseStatus"]["Meta"]["AutoBatchIndex"], "1");
    assert_eq!(error_fields(&failed), ["SensitivityTier"]);
    let xml = s
        .req("POST", "/api/DocumentShareRevokeRequest[]?format=xml")
        .json(&json!([{"DocumentShareId": 3}, {"DocumentShareId": 4}]))
        .send();
    assert_eq!(xml.status, 200, "{xml:#?}");
    assert!(
        xml.body.contains("<ArrayOfDocumentShareResponse ")
            && xml.body.matches("<Status>Revoked</Status>").count() == 2,
        "{}",
        xml.body
    );
}

#[test]
fn a_wrong_verb_names_the_share_service() {
    let s = TestServer::start();
    let put = s.req("PUT", "/v1/documentshare").json(&json!({})).send();
    assert_eq!(put.status, 405, "{put:#?}");
    assert_eq!(
        put.json()["ResponseStatus"]["Message"],
        "Could not find method named Put(DocumentShareCreateRequest) or \
         Any(DocumentShareCreateRequest) on Service DocumentShareService"
    );
}

#[test]
fn openapi_describes_every_share_operation_by_its_platform_names() {
    let s = TestServer::start();
    let doc = s
        .req("GET", "/openapi.json")
        .without("Authorization")
        .send()
        .expect(200);
    let schema_of = |path: &str, verb: &str| {
        doc["paths"][path][verb]["requestBody"]["content"]["application/json"]["schema"]["$ref"]
            .clone()
    };
    let reply_of = |path: &str, verb: &str| {
        doc["paths"][path][verb]["responses"]["200"]["content"]["application/json"]["schema"]
            ["$ref"]
            .clone()
    };
    let schemas = |name: &str| format!("#/components/schemas/{name}");
    let rows = [
        (
            "/v1/documentshare",
            "post",
            "DocumentShareCreateRequest",
            "DocumentShareResponse",
        ),
        (
            "/v1/documentshare/attachment/{AttachmentId}",
            "get",
            "DocumentShareListRequest",
            "DocumentShareResponse",
        ),
        (
            "/v1/documentshare/{DocumentShareId}/resend",
            "post",
            "DocumentShareResendRequest",
            "DocumentShareResponse",
        ),
        (
            "/v1/documentshare/{DocumentShareId}/log",
            "get",
            "DocumentShareLogRequest",
            "DocumentShareLogResponse",
        ),
        (
            "/v1/documentshare/{DocumentShareId}/revoke",
            "post",
            "DocumentShareRevokeRequest",
            "DocumentShareResponse",
        ),
        (
            "/v1/documentshare/{DocumentShareId}",
            "delete",
            "DocumentShareRevokeRequest",
            "DocumentShareResponse",
        ),
    ];
    for (path, verb, request, response) in rows {
        let op = &doc["paths"][path][verb];
        assert_eq!(op["operationId"], format!("{request}.{verb}"), "{path}");
        assert_eq!(reply_of(path, verb), schemas(response), "{path}");
        if verb == "post" {
            assert_eq!(schema_of(path, verb), schemas(request), "{path}");
        }
        let defined = &doc["components"]["schemas"][request]["properties"];
        assert!(defined.is_object(), "no schema named {request}");
    }
    let param = &doc["paths"]["/v1/documentshare/{DocumentShareId}/log"]["get"]["parameters"][0];
    assert_eq!(
        (&param["name"], &param["in"]),
        (&json!("DocumentShareId"), &json!("path"))
    );

    let members = |name: &str| -> Vec<String> {
        doc["components"]["schemas"][name]["properties"]
            .as_object()
            .unwrap_or_else(|| panic!("no schema {name}"))
            .keys()
            .cloned()
            .collect()
    };
    assert_eq!(
        members("DocumentShareCreateRequest"),
        [
            "AttachmentId",
            "RecipientContactId",
            "RecipientEmail",
            "RecipientPhone",
            "IsAdhoc",
            "SensitivityTier",
            "RequireOtp",
            "OtpChannel",
            "DeliveryChannels",
            "ExpiresInHours",
            "MaxViews",
            "Locale",
        ]
    );
    assert_eq!(members("DocumentShareExtended"), SHARE_MEMBERS);
    assert_eq!(members("DocumentShareAccessLog"), LOG_MEMBERS);
    assert_eq!(members("DocumentShareListRequest"), ["AttachmentId"]);
    for name in [
        "DocumentShareResendRequest",
        "DocumentShareLogRequest",
        "DocumentShareRevokeRequest",
    ] {
        assert_eq!(members(name), ["DocumentShareId"], "{name}");
    }
    let response = &doc["components"]["schemas"]["DocumentShareResponse"]["properties"];
    assert_eq!(
        response["DocumentShare"]["items"]["$ref"],
        schemas("DocumentShareExtended")
    );
    assert!(response["ShareUrl"].is_object() && response["ResponseStatus"].is_object());
    assert_eq!(
        doc["components"]["schemas"]["DocumentShareResponse"]["required"],
        json!(["DocumentShare"]),
        "DeliveryErrors and ShareUrl are omitted when empty"
    );
    assert_eq!(
        doc["components"]["schemas"]["DocumentShareLogResponse"]["properties"]["AccessLog"]["items"]
            ["$ref"],
        schemas("DocumentShareAccessLog")
    );
}
