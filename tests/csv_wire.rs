//! CSV replies byte for byte as ServiceStack's `CsvSerializer` writes a `[DataContract]` DTO
//! (issue 11 item 6; `T/CsvSerializer.cs` `GetWriteFn`, `T/CsvWriter.cs` `Write`/`WriteRow`).
//! The expected bytes are built from the DTO declarations and those rules: the first list
//! member other than `ResponseStatus` is written; its header row is the item type's members in
//! declaration order, written even for an empty list; a `List<string>` is one header-less row,
//! so an empty one is `\r\n`; rows end with CRLF.

use serde_json::json;

use crate::support::{Resp, TestServer, uid};

/// `CustomerLinkExtended`'s members, in declaration order.
const LINK_HEADER: &str = "RecipientDisplayName,RecipientType,Status,CustomerLinkId,\
CustomerLinkUID,TokenHash,ResourceType,ResourceUid,SensitivityTier,RequireOtp,OtpChannel,\
DeliveryChannels,RecipientContactId,RecipientEmail,RecipientPhone,SmsConsentSnapshot,\
CreatedByUserId,CreatedByAgentId,CreatedAtUtc,ExpiresAtUtc,MaxViews,ViewCount,RevokedAtUtc,\
RevokedByUserId,TenantId,Locale\r\n";

/// `CustomerLinkDelivery`'s members.
const DELIVERY_HEADER: &str =
    "DeliveryId,Kind,Channel,Status,Attempts,LastError,CreatedAtUtc,SentAtUtc,NextAttemptAtUtc\r\n";

/// `Contact`'s members.
const CONTACT_HEADER: &str = "ContactId,ContactGUID,FirstName,LastName,Name,EmailWork,\
EmailPersonal,Phone,SMSOptIn,DoNotContact,Active,Deleted\r\n";

fn csv(r: &Resp) -> &str {
    assert_eq!(
        (r.status, r.header("content-type")),
        (200, Some("text/csv")),
        "{r:#?}"
    );
    &r.body
}

#[test]
fn an_empty_list_writes_its_header_row() {
    let s = TestServer::start();
    assert_eq!(csv(&s.get("/v1/customerlink?format=csv")), LINK_HEADER);
    let by_resource = s.get(&format!("/v1/customerlink/resource/Quote/{}.csv", uid(9)));
    assert_eq!(csv(&by_resource), LINK_HEADER);
    assert_eq!(csv(&s.get("/v1/contact.csv")), CONTACT_HEADER);
}

/// `CustomerLinkCreateResponse`'s first list is `DeliveryErrors` (`List<string>`), which wins
/// over the earlier `Link`; `CsvWriter<string>` writes it as one row.
#[test]
fn a_create_writes_its_delivery_errors_row_even_when_empty() {
    let s = TestServer::start();
    let create = |body: serde_json::Value| {
        s.req("POST", "/v1/customerlink?format=csv")
            .json(&body)
            .send()
    };
    let quiet =
        create(json!({"ResourceType": "Quote", "ResourceUid": uid(1), "RecipientEmail": "a@b.co"}));
    assert_eq!(csv(&quiet), "\r\n");
    let failed = create(json!({
        "ResourceType": "Quote", "ResourceUid": uid(1), "RecipientEmail": "a@b.co",
        "DeliverEmail": true,
    }));
    assert_eq!(
        csv(&failed),
        "Email not sent: no SMTP relay is configured.\r\n"
    );
}

/// `CustomerLinkResponse`'s list member is `Deliveries`: a link with none writes the
/// `CustomerLinkDelivery` header, not an empty body.
#[test]
fn getting_one_link_writes_its_deliveries_table() {
    let s = TestServer::start();
    let created = s.quote_link(2, "a@b.co");
    let link = created["Link"]["CustomerLinkUID"].as_str().unwrap();
    assert_eq!(
        csv(&s.get(&format!("/v1/customerlink/{link}.csv"))),
        DELIVERY_HEADER
    );
}

/// Columns come from the type: members null in the first row (no `LastName`, no addresses)
/// keep their columns, and the rows line up under them.
#[test]
fn members_null_in_the_first_row_keep_their_columns() {
    let s = TestServer::start();
    s.put(
        "/v1/contact/1",
        json!({"FirstName": "Al", "Phone": "+15551234567"}),
    )
    .expect(200);
    s.put(
        "/v1/contact/2",
        json!({"FirstName": "Bo", "LastName": "Lind", "EmailWork": "bo@x.example", "EmailPersonal": "bo@y.example"}),
    )
    .expect(200);
    let listed = s.get("/v1/contact?format=csv");
    let body = csv(&listed);
    assert!(body.starts_with(CONTACT_HEADER), "{body}");
    let rows: Vec<Vec<&str>> = body
        .trim_end_matches("\r\n")
        .split("\r\n")
        .skip(1)
        .map(|row| row.split(',').collect())
        .collect();
    assert_eq!(rows.len(), 2, "{body}");
    let columns = CONTACT_HEADER.trim_end().split(',').count();
    assert!(rows.iter().all(|r| r.len() == columns), "{body}");
    let al = rows.iter().find(|r| r[2] == "Al").unwrap();
    assert_eq!((al[3], al[5], al[6], al[7]), ("", "", "", "+15551234567"));
    let bo = rows.iter().find(|r| r[2] == "Bo").unwrap();
    assert_eq!(
        (bo[3], bo[5], bo[6]),
        ("Lind", "bo@x.example", "bo@y.example")
    );
}
