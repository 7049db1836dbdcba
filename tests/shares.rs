//! Document shares, staff side (issue 17): create, list by attachment, resend, log, revoke and
//! delete on the platform's wire (member order, a list even for one share, no TenantId), the
//! caller's tier choice bounded by the policy, shares kept apart from customer links, and
//! tenant isolation — on either store.

use serde_json::{Value, json};

use crate::support::{Req, TestServer, error_fields};

/// Uploads `data` as `name`; answers the AttachmentId.
pub fn upload(s: &TestServer, name: &str, data: &[u8]) -> String {
    let reply = s
        .req("PUT", "/v1/attachment")
        .header("Content-Type", "application/octet-stream")
        .header(
            "Content-Disposition",
            &format!("attachment; filename=\"{name}\""),
        )
        .raw_body(data.to_vec())
        .send()
        .expect(200);
    reply["AttachmentId"].as_str().unwrap().to_owned()
}

/// Shares `attachment` with an ad-hoc email recipient (no delivery); answers the reply.
pub fn share(s: &TestServer, attachment: &str, extra: Value) -> Value {
    let mut body = json!({
        "AttachmentId": attachment,
        "RecipientContactId": 0,
        "RecipientEmail": "ann@example.com",
        "IsAdhoc": true,
        "ExpiresInHours": 0,
        "MaxViews": 0,
    });
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    s.post("/v1/documentshare", body).expect(200)
}

fn only(reply: &Value) -> &Value {
    let list = reply["DocumentShare"].as_array().expect("a list");
    assert_eq!(list.len(), 1, "{reply}");
    &list[0]
}

fn id(reply: &Value) -> u64 {
    only(reply)["DocumentShareId"].as_u64().unwrap()
}

#[test]
fn create_answers_the_platforms_shape_with_the_policys_tier_for_documents() {
    let s = TestServer::start();
    let attachment = upload(&s, "policy.pdf", b"%PDF-1.7 a policy");
    let reply = share(&s, &attachment, json!({}));
    let url = reply["ShareUrl"].as_str().unwrap();
    assert!(url.contains("/share/"), "{url}");
    let keys: Vec<&str> = only(&reply)
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "AttachmentName",
            "RecipientDisplayName",
            "RecipientType",
            "Status",
            "DocumentShareId",
            "DocumentShareUID",
            "TokenHash",
            "AttachmentId",
            "SensitivityTier",
            "RequireOtp",
            "OtpChannel",
            "DeliveryChannels",
            "RecipientEmail",
            "SmsConsentSnapshot",
            "CreatedByUserId",
            "CreatedAtUtc",
            "ExpiresAtUtc",
            "MaxViews",
            "ViewCount",
        ],
        "members in the platform's order, nulls omitted, no TenantId"
    );
    let one = only(&reply);
    assert_eq!(one["AttachmentName"], "policy.pdf");
    assert_eq!(one["SensitivityTier"], "Confidential");
    assert_eq!(one["RequireOtp"], true);
    assert_eq!(one["OtpChannel"], "Email");
    assert_eq!(one["MaxViews"], 20, "0 takes the tier's default");
    assert_eq!(one["RecipientType"], "AdHoc");
    assert_eq!(one["Status"], "Active");
    assert_eq!(
        one["AttachmentId"].as_str().unwrap().replace('-', ""),
        attachment.replace('-', "")
    );
}

#[test]
fn the_caller_may_tighten_the_tier_but_never_loosen_it() {
    let s = TestServer::start();
    let attachment = upload(&s, "claim.txt", b"a claim");
    let strict = share(
        &s,
        &attachment,
        json!({"SensitivityTier": "Restricted", "OtpChannel": "Email", "MaxViews": 2}),
    );
    let one = only(&strict);
    assert_eq!(one["SensitivityTier"], "Restricted");
    assert_eq!(
        (one["OtpChannel"].as_str(), one["MaxViews"].as_u64()),
        (Some("Email"), Some(2))
    );
    let body = json!({"AttachmentId": attachment, "RecipientEmail": "a@b.co",
                      "SensitivityTier": "Standard"});
    let weak = s.post("/v1/documentshare", body).expect(400);
    assert_eq!(error_fields(&weak), ["SensitivityTier"], "{weak}");
    let body = json!({"AttachmentId": attachment, "RecipientEmail": "a@b.co", "MaxViews": 21});
    let over = s.post("/v1/documentshare", body).expect(400);
    assert_eq!(error_fields(&over), ["MaxViews"], "{over}");
    let body = json!({"AttachmentId": attachment, "RecipientEmail": "a@b.co",
                      "DeliveryChannels": "Pigeon"});
    let bad = s.post("/v1/documentshare", body).expect(400);
    assert_eq!(error_fields(&bad), ["DeliveryChannels"], "{bad}");
    let body = json!({"AttachmentId": "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0",
                      "RecipientEmail": "a@b.co"});
    let missing = s.post("/v1/documentshare", body).expect(400);
    assert_eq!(error_fields(&missing), ["AttachmentId"], "{missing}");
}

#[test]
fn list_resend_log_revoke_and_delete_work_by_share_number() {
    let s = TestServer::start();
    let attachment = upload(&s, "quote.pdf", b"%PDF-1.4 quote");
    let first = share(&s, &attachment, json!({}));
    let second = share(&s, &attachment, json!({"RecipientEmail": "bo@example.com"}));
    let listed = s
        .get(&format!("/v1/documentshare/attachment/{attachment}"))
        .expect(200);
    let ids: Vec<u64> = listed["DocumentShare"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["DocumentShareId"].as_u64().unwrap())
        .collect();
    assert_eq!(ids, [id(&second), id(&first)], "newest first");
    assert!(
        listed.get("ShareUrl").is_none(),
        "no token to show: {listed}"
    );

    let resent = s
        .post(
            &format!("/v1/documentshare/{}/resend", id(&first)),
            json!({}),
        )
        .expect(200);
    assert_ne!(resent["ShareUrl"], first["ShareUrl"], "a new token");
    assert_ne!(only(&resent)["TokenHash"], only(&first)["TokenHash"]);

    let revoked = s
        .post(
            &format!("/v1/documentshare/{}/revoke", id(&first)),
            json!({}),
        )
        .expect(200);
    assert_eq!(only(&revoked)["Status"], "Revoked");
    assert!(only(&revoked)["RevokedAtUtc"].is_string());
    let deleted = s
        .delete(&format!("/v1/documentshare/{}", id(&second)))
        .expect(200);
    assert_eq!(only(&deleted)["Status"], "Revoked");
    let again = s
        .post(
            &format!("/v1/documentshare/{}/resend", id(&first)),
            json!({}),
        )
        .expect(409);
    assert_eq!(again["ResponseStatus"]["ErrorCode"], "Conflict", "{again}");

    let log = s
        .get(&format!("/v1/documentshare/{}/log", id(&first)))
        .expect(200);
    let rows = log["AccessLog"].as_array().unwrap();
    let events: Vec<&str> = rows
        .iter()
        .map(|r| r["EventType"].as_str().unwrap())
        .collect();
    assert_eq!(events.first(), Some(&"Created"), "{log}");
    assert!(
        events.contains(&"Resent") && events.contains(&"Revoked"),
        "{log}"
    );
    assert_eq!(rows[0]["DocumentShareId"].as_u64(), Some(id(&first)));
    assert!(rows[0]["DocumentShareAccessLogId"].is_u64(), "{log}");
}

#[test]
fn shares_and_customer_links_never_answer_for_each_other() {
    let s = TestServer::start();
    let attachment = upload(&s, "a.txt", b"text");
    let reply = share(&s, &attachment, json!({}));
    let share_uid = only(&reply)["DocumentShareUID"]
        .as_str()
        .unwrap()
        .to_owned();
    s.get(&format!("/v1/customerlink/{share_uid}")).expect(404);
    let page = s.get("/v1/customerlink").expect(200);
    assert_eq!(page["Total"], 0, "shares are not customer links: {page}");
    let link = s.quote_link(1, "a@b.co");
    let link_id = link["Link"]["CustomerLinkId"].as_u64().unwrap();
    s.get(&format!("/v1/documentshare/{link_id}/log"))
        .expect(404);
    s.post(&format!("/v1/documentshare/{link_id}/revoke"), json!({}))
        .expect(404);
    // Each family's token means nothing on the other's surface.
    let share_token = reply["ShareUrl"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap();
    let portal = Req::new(s.addr, "GET", &format!("/portal/{share_token}"))
        .header("Accept", "application/json")
        .send();
    let portal_link = crate::support::portal_token(&link);
    let known = Req::new(s.addr, "GET", &format!("/portal/{portal_link}"))
        .header("Accept", "application/json")
        .send();
    assert_eq!(known.status, 200, "{known:?}");
    assert_ne!(
        portal.status, 200,
        "a share's token opens no portal page: {portal:?}"
    );
}

#[test]
fn another_tenants_share_answers_like_a_missing_one() {
    let (s, b) = TestServer::with_second_tenant(|_| {});
    let attachment = upload(&s, "a.txt", b"text");
    let reply = share(&s, &attachment, json!({}));
    let n = id(&reply);
    for (method, path) in [
        ("GET", format!("/v1/documentshare/{n}/log")),
        ("POST", format!("/v1/documentshare/{n}/revoke")),
        ("POST", format!("/v1/documentshare/{n}/resend")),
        ("DELETE", format!("/v1/documentshare/{n}")),
        ("GET", format!("/v1/documentshare/attachment/{attachment}")),
    ] {
        let theirs = s.req(method, &path).bearer(&b).json(&json!({})).send();
        assert_eq!(theirs.status, 404, "{method} {path}: {theirs:?}");
    }
    let body = json!({"AttachmentId": attachment, "RecipientEmail": "a@b.co"});
    let theirs = s
        .req("POST", "/v1/documentshare")
        .bearer(&b)
        .json(&body)
        .send();
    assert_eq!(error_fields(&theirs.expect(400)), ["AttachmentId"]);
}

#[test]
fn the_share_reply_is_the_same_in_jsv() {
    let s = TestServer::start();
    let attachment = upload(&s, "a.txt", b"text");
    let body = format!(
        "{{AttachmentId:{attachment},RecipientContactId:0,RecipientEmail:ann@example.com,\
         IsAdhoc:True,ExpiresInHours:0,MaxViews:0}}"
    );
    let resp = s
        .req("POST", "/v1/documentshare")
        .header("Content-Type", "text/jsv")
        .header("Accept", "text/jsv")
        .raw_body(body.into_bytes())
        .send();
    assert_eq!(resp.status, 200, "{resp:?}");
    assert!(
        resp.body
            .starts_with("{DocumentShare:[{AttachmentName:a.txt,RecipientDisplayName:"),
        "{}",
        resp.body
    );
    assert!(resp.body.contains(",ShareUrl:\"http"), "{}", resp.body);
}

#[test]
fn an_attachment_with_live_shares_is_deleted_only_when_forced() {
    let s = TestServer::start();
    let attachment = upload(&s, "a.txt", b"text");
    let reply = share(&s, &attachment, json!({}));
    let refused = s
        .delete(&format!("/v1/attachment/{attachment}"))
        .expect(409);
    assert_eq!(
        refused["ResponseStatus"]["ErrorCode"], "Conflict",
        "{refused}"
    );
    s.post(
        &format!("/v1/documentshare/{}/revoke", id(&reply)),
        json!({}),
    )
    .expect(200);
    s.delete(&format!("/v1/attachment/{attachment}"))
        .expect(200);

    let other = upload(&s, "b.txt", b"more text");
    share(&s, &other, json!({}));
    s.delete(&format!("/v1/attachment/{other}?Force=true"))
        .expect(200);
    s.get(&format!("/v1/attachment/{other}")).expect(404);
}

#[test]
fn a_share_is_mailed_with_its_share_url_and_sms_needs_consent() {
    let sink = crate::support::sinks::SmtpSink::start();
    let s = TestServer::start_with(|c| c.email = Some(crate::support::email_via(sink.url())));
    let attachment = upload(&s, "policy.pdf", b"%PDF-1.7 policy");
    let reply = share(
        &s,
        &attachment,
        json!({"DeliveryChannels": "Email,Sms", "RecipientPhone": "+442079460958"}),
    );
    let url = reply["ShareUrl"].as_str().unwrap();
    let errors = reply["DeliveryErrors"]
        .as_array()
        .expect("the SMS was refused");
    assert_eq!(errors.len(), 1, "{reply}");
    assert_eq!(only(&reply)["DeliveryChannels"], "Email");
    let mail = sink.wait_for(1).remove(0);
    assert!(mail.unwrapped().contains(url), "{}", mail.data);
    assert_eq!(
        mail.header("Subject").as_deref(),
        Some("Default: your document is ready")
    );
    assert!(
        !mail.data.contains(SHARE_MARKER),
        "the marker type is never shown"
    );

    let resent = s
        .post(
            &format!("/v1/documentshare/{}/resend", id(&reply)),
            json!({}),
        )
        .expect(200);
    let mail = sink.wait_for(2).remove(1);
    let new_url = resent["ShareUrl"].as_str().unwrap();
    assert_ne!(new_url, url);
    assert!(mail.unwrapped().contains(new_url), "{}", mail.data);
}

const SHARE_MARKER: &str = "§DocumentShare";

#[test]
fn an_attachment_outlives_its_last_share_by_the_retention_window() {
    let s = TestServer::start_with(|c| {
        c.purge.interval = std::time::Duration::from_millis(30);
        c.purge.retention_ms = 24 * 3_600_000;
        c.attachments.retention_ms = 2 * 86_400_000;
    });
    let attachment = upload(&s, "kept.txt", b"kept while shared");
    let reply = share(&s, &attachment, json!({"ExpiresInHours": 1}));
    // Past the attachment's own window, but a share still holds it.
    s.clock.advance_hours(49);
    let n = id(&reply);
    crate::support::sinks::wait_until(
        || s.get(&format!("/v1/documentshare/{n}/log")).status == 404,
        "the purge of the expired share",
    );
    let uid = only(&reply)["DocumentShareUID"]
        .as_str()
        .unwrap()
        .to_owned();
    let kept = s.get(&format!("/v1/customerlink/{uid}/log")).expect(200);
    assert_eq!(
        kept["AccessLog"][0]["EventType"], "Created",
        "the log outlives the share"
    );
    let file = format!("/v1/attachment/{attachment}");
    assert_eq!(s.get(&file).status, 200, "a share held it");
    // Released by that purge: the window starts again from there.
    s.clock.advance_hours(47);
    s.job_round("purge", std::time::Duration::from_millis(30));
    assert_eq!(
        s.get(&file).status,
        200,
        "within the window from its release"
    );
    s.clock.advance_hours(2);
    crate::support::sinks::wait_until(
        || s.get(&file).status == 404,
        "the purge of the released attachment",
    );
    let body = json!({"AttachmentId": attachment, "RecipientEmail": "a@b.co"});
    let gone = s.post("/v1/documentshare", body).expect(400);
    assert_eq!(error_fields(&gone), ["AttachmentId"]);
}
