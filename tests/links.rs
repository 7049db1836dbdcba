//! Creating, reading, listing and revoking links: every server-decided field, for every kind
//! of recipient.

use serde_json::{Value, json};

use customerlink::clock::Clock;

use crate::support::{TestServer, uid};

const HOUR_MS: i64 = 3_600_000;

fn millis(date: &Value) -> i64 {
    let text = date
        .as_str()
        .unwrap_or_else(|| panic!("not a date: {date}"));
    assert!(
        text.ends_with('Z') && text.len() == 28,
        "ServiceStack ISO form with 7 digits: {text}"
    );
    let dt =
        time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).unwrap();
    i64::try_from(dt.unix_timestamp_nanos() / 1_000_000).unwrap()
}

fn is_guid_n(v: &Value) -> bool {
    v.as_str().is_some_and(|s| {
        s.len() == 32
            && s.chars()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
    })
}

#[test]
fn create_ad_hoc_email_link_sets_every_server_decided_field() {
    let s = TestServer::start();
    let now = s.clock.now().as_i64();
    let body = s
        .post(
            "/v1/customerlink",
            json!({"ResourceType": "Quote", "ResourceUid": uid(10), "RecipientEmail": "ann@example.com", "DeliverEmail": true}),
        )
        .expect(200);
    let link = &body["Link"];
    assert_eq!(link["CustomerLinkId"], 1);
    assert!(is_guid_n(&link["CustomerLinkUID"]));
    assert!(is_guid_n(&link["TenantId"]) && is_guid_n(&link["CreatedByUserId"]));
    assert_eq!(link["TokenHash"].as_str().map(str::len), Some(64));
    assert_eq!(link["ResourceType"], "Quote");
    assert_eq!(link["ResourceUid"], uid(10));
    assert_eq!(link["SensitivityTier"], "Standard");
    assert_eq!(link["RequireOtp"], false);
    assert!(link.get("OtpChannel").is_none(), "null members are omitted");
    assert_eq!(
        link["DeliveryChannels"], "",
        "nothing queued: no relay is configured"
    );
    assert_eq!(link["RecipientEmail"], "ann@example.com");
    assert_eq!(link["RecipientType"], "AdHoc");
    assert_eq!(link["RecipientDisplayName"], "ann@example.com");
    assert_eq!(link["SmsConsentSnapshot"], false);
    assert_eq!(link["Status"], "Active");
    assert_eq!(link["ViewCount"], 0);
    assert_eq!(link["MaxViews"], 50);
    assert_eq!(millis(&link["CreatedAtUtc"]), now);
    assert_eq!(millis(&link["ExpiresAtUtc"]), now + 168 * HOUR_MS);
    assert!(link.get("RevokedAtUtc").is_none());
    assert_eq!(
        body["DeliveryErrors"],
        json!(["Email not sent: no SMTP relay is configured."])
    );
    let url = body["PortalUrl"].as_str().unwrap();
    let token = url
        .strip_prefix("https://links.example.test/portal/")
        .expect("portal url on public url");
    assert_eq!(token.len(), 43);
    let hash_hex = link["TokenHash"].as_str().unwrap();
    assert!(!hash_hex.contains(token), "the hash is not the token");
}

#[test]
fn create_for_a_contact_copies_addresses_and_consent() {
    let s = TestServer::start();
    s.put(
        "/v1/contact/7",
        json!({"FirstName": "Bo", "LastName": "Lind", "EmailWork": "bo@work.example", "Phone": "+46 70 123 45 67", "SMSOptIn": true}),
    )
    .expect(200);
    let body = s
        .post(
            "/v1/customerlink",
            json!({"ResourceType": "Claim", "ResourceUid": uid(11), "RecipientContactId": 7, "DeliverSms": true, "ExpiresInHours": 5, "MaxViews": 2}),
        )
        .expect(200);
    let link = &body["Link"];
    assert_eq!(link["RecipientType"], "Contact");
    assert_eq!(link["RecipientContactId"], 7);
    assert_eq!(link["RecipientDisplayName"], "Bo Lind");
    assert_eq!(link["RecipientEmail"], "bo@work.example");
    assert_eq!(link["RecipientPhone"], "+46701234567");
    assert_eq!(link["SmsConsentSnapshot"], true);
    assert_eq!(link["SensitivityTier"], "Restricted");
    assert_eq!(link["RequireOtp"], true);
    assert_eq!(link["OtpChannel"], "Sms");
    assert_eq!(
        link["DeliveryChannels"], "",
        "nothing queued: no SMS gateway is configured"
    );
    assert_eq!(
        body["DeliveryErrors"],
        json!(["Sms not sent: no SMS gateway is configured."])
    );
    assert_eq!(link["MaxViews"], 2);
    assert_eq!(
        millis(&link["ExpiresAtUtc"]) - millis(&link["CreatedAtUtc"]),
        5 * HOUR_MS
    );
}

#[test]
fn contact_without_opt_in_or_with_do_not_contact_has_no_sms_consent() {
    let s = TestServer::start();
    s.put(
        "/v1/contact/1",
        json!({"Name": "No Opt", "Phone": "+15551234567"}),
    )
    .expect(200);
    s.put(
        "/v1/contact/2",
        json!({"Name": "Dnc", "Phone": "+15551234568", "SMSOptIn": true, "DoNotContact": true}),
    )
    .expect(200);
    for id in [1, 2] {
        let body = s
            .post("/v1/customerlink", json!({"ResourceType": "Invoice", "ResourceUid": uid(12), "RecipientContactId": id}))
            .expect(200);
        assert_eq!(body["Link"]["SmsConsentSnapshot"], false, "contact {id}");
    }
}

#[test]
fn create_ad_hoc_phone_link_normalises_the_number() {
    let s = TestServer::start();
    let body = s
        .post(
            "/v1/customerlink",
            json!({"ResourceType": "Document", "ResourceUid": uid(13), "RecipientPhone": "0044 20 7946 0958"}),
        )
        .expect(200);
    let link = &body["Link"];
    assert_eq!(link["RecipientPhone"], "+442079460958");
    assert_eq!(link["RecipientType"], "AdHoc");
    assert_eq!(link["RecipientDisplayName"], "+442079460958");
    assert_eq!(link["SensitivityTier"], "Confidential");
    assert_eq!(
        link["OtpChannel"], "Sms",
        "only channel the recipient can receive"
    );
    assert_eq!(link["SmsConsentSnapshot"], false);
    assert_eq!(link["DeliveryChannels"], "");
}

#[test]
fn ids_increase_and_get_returns_the_stored_link() {
    let s = TestServer::start();
    let mut uids = Vec::new();
    for i in 1..=3 {
        let body = s
            .post("/v1/customerlink", json!({"ResourceType": "Quote", "ResourceUid": uid(20), "RecipientEmail": "a@b.co"}))
            .expect(200);
        assert_eq!(body["Link"]["CustomerLinkId"], i);
        uids.push(body["Link"]["CustomerLinkUID"].as_str().unwrap().to_owned());
    }
    let got = s.get(&format!("/v1/customerlink/{}", uids[1])).expect(200);
    assert_eq!(got["Link"]["CustomerLinkId"], 2);
    assert_eq!(got["Link"]["CustomerLinkUID"], uids[1]);
    // Dashed and braced Guid forms find the same link.
    let u = &uids[1];
    let dashed = format!(
        "{}-{}-{}-{}-{}",
        &u[..8],
        &u[8..12],
        &u[12..16],
        &u[16..20],
        &u[20..]
    );
    s.get(&format!("/v1/customerlink/{dashed}")).expect(200);
    s.get(&format!("/v1/customerlink/%7B{dashed}%7D"))
        .expect(200);
    s.get(&format!("/v1/customerlink/{}", uid(999))).expect(404);
}

#[test]
fn list_by_resource_is_newest_first_and_only_that_resource() {
    let s = TestServer::start();
    for (rt, r) in [("Quote", 30), ("Quote", 31), ("Quote", 30), ("Invoice", 30)] {
        s.post(
            "/v1/customerlink",
            json!({"ResourceType": rt, "ResourceUid": uid(r), "RecipientEmail": "a@b.co"}),
        )
        .expect(200);
    }
    let body = s
        .get(&format!("/v1/customerlink/resource/Quote/{}", uid(30)))
        .expect(200);
    let ids: Vec<_> = body["Links"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["CustomerLinkId"].as_u64().unwrap())
        .collect();
    assert_eq!(ids, [3, 1]);
    let none = s
        .get(&format!("/v1/customerlink/resource/Quote/{}", uid(32)))
        .expect(200);
    assert_eq!(none["Links"], json!([]));
}

#[test]
fn tenant_listing_pages_and_filters_by_status() {
    let s = TestServer::start();
    let mut uids = Vec::new();
    for _ in 0..5 {
        let body = s
            .post("/v1/customerlink", json!({"ResourceType": "Quote", "ResourceUid": uid(40), "RecipientEmail": "a@b.co"}))
            .expect(200);
        uids.push(body["Link"]["CustomerLinkUID"].as_str().unwrap().to_owned());
    }
    s.post(&format!("/v1/customerlink/{}/revoke", uids[0]), json!({}))
        .expect(200);
    let page = s.get("/v1/customerlink?Skip=1&Take=2").expect(200);
    assert_eq!(page["Total"], 5);
    let ids: Vec<_> = page["Links"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["CustomerLinkId"].as_u64().unwrap())
        .collect();
    assert_eq!(ids, [4, 3]);
    let revoked = s.get("/v1/customerlink?Status=Revoked").expect(200);
    assert_eq!(revoked["Total"], 1);
    assert_eq!(revoked["Links"][0]["CustomerLinkUID"], uids[0]);
    // camelCase query names get a camelCase reply (DESIGN.md wire decisions).
    let active = s.get("/v1/customerlink?status=active&take=10").expect(200);
    assert_eq!(active["total"], 4);
    assert_eq!(active["links"].as_array().map(Vec::len), Some(4));
    s.get("/v1/customerlink?Take=501").expect(400);
    s.get("/v1/customerlink?Status=Sleeping").expect(400);
}

#[test]
fn revoke_sets_fields_once_and_both_routes_work() {
    let s = TestServer::start();
    let body = s.quote_link(50, "a@b.co");
    let link_uid = body["Link"]["CustomerLinkUID"].as_str().unwrap().to_owned();
    let first = s
        .post(&format!("/v1/customerlink/{link_uid}/revoke"), json!({}))
        .expect(200);
    assert_eq!(first["Link"]["Status"], "Revoked");
    assert_eq!(
        first["Link"]["RevokedByUserId"],
        body["Link"]["CreatedByUserId"]
    );
    let revoked_at = first["Link"]["RevokedAtUtc"].clone();
    assert!(revoked_at.is_string());
    s.clock.advance_hours(1);
    let again = s
        .delete(&format!("/v1/customerlink/{link_uid}"))
        .expect(200);
    assert_eq!(
        again["Link"]["RevokedAtUtc"], revoked_at,
        "revoking again is a no-op"
    );
    s.delete(&format!("/v1/customerlink/{}", uid(77)))
        .expect(404);
}

#[test]
fn status_is_computed_when_read() {
    let s = TestServer::start();
    let body = s
        .post(
            "/v1/customerlink",
            json!({"ResourceType": "Quote", "ResourceUid": uid(60), "RecipientEmail": "a@b.co", "ExpiresInHours": 2}),
        )
        .expect(200);
    let path = format!(
        "/v1/customerlink/{}",
        body["Link"]["CustomerLinkUID"].as_str().unwrap()
    );
    assert_eq!(s.get(&path).expect(200)["Link"]["Status"], "Active");
    s.clock.advance_hours(2);
    assert_eq!(s.get(&path).expect(200)["Link"]["Status"], "Expired");
}
