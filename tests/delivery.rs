//! Delivering links: real SMTP conversations with a sink, SMS through a gateway stand-in,
//! consent, the durable outbox across relay outages and restarts, resend, send limits.

use std::sync::Arc;
use std::time::Duration;

use customerlink::config::{Config, EmailSettings, SmsSettings};
use customerlink::domain::token::{HashKeys, LinkToken, Secret};
use serde_json::{Value, json};

use crate::support::sinks::{SmsGateway, SmtpSink, wait_until};
use crate::support::{TestServer, email_via, uid};

/// The outbox worker's interval here: moving the clock this far runs a round.
const WORKER_INTERVAL: Duration = Duration::from_millis(50);

fn with_email(c: &mut Config, sink_url: String) {
    c.email = Some(EmailSettings {
        reply_to: Some("help@example.test".into()),
        ..email_via(sink_url)
    });
    c.delivery.worker_interval = WORKER_INTERVAL;
    c.delivery.backoff_initial = Duration::from_secs(60);
}

fn with_twilio(c: &mut Config, gateway: &SmsGateway) {
    c.sms = Some(SmsSettings::Twilio {
        base_url: gateway.base_url(),
        account_sid: "AC0001".into(),
        auth_token: Secret::new("tw-secret".into()),
        from: Some("+15550001111".into()),
        messaging_service_sid: None,
        timeout: Duration::from_secs(3),
    });
}

fn email_link(s: &TestServer, to: &str) -> Value {
    let body = json!({"ResourceType": "Quote", "ResourceUid": uid(1), "RecipientEmail": to, "DeliverEmail": true});
    s.post("/v1/customerlink", body).expect(200)
}

fn token_of(body: &Value) -> String {
    crate::support::portal_token(body)
}

/// The keyed hash the server stores for a token (recomputed from the data folder's secret).
fn hash_of(s: &TestServer, token: &str) -> String {
    let master: [u8; 32] = std::fs::read(s.data.join("master.key"))
        .unwrap()
        .try_into()
        .unwrap();
    HashKeys::derive(&Secret::new(master))
        .token(
            customerlink::domain::share::Family::CustomerLink,
            &LinkToken::parse(token).unwrap(),
        )
        .to_hex()
}

#[test]
fn email_goes_out_with_the_portal_url_and_correct_headers() {
    let sink = SmtpSink::start();
    let s = TestServer::start_with(|c| with_email(c, sink.url()));
    let body = email_link(&s, "ann@example.com");
    assert_eq!(body["DeliveryErrors"], json!([]), "{body}");
    assert_eq!(body["Link"]["DeliveryChannels"], "Email");
    let mail = sink.wait_for(1).remove(0);
    assert_eq!(mail.rcpt, ["ann@example.com"]);
    assert_eq!(
        mail.header("Subject").as_deref(),
        Some("Default: your Quote is ready")
    );
    assert_eq!(mail.header("To").as_deref(), Some("ann@example.com"));
    assert!(mail.header("From").unwrap().contains("links@example.test"));
    assert_eq!(
        mail.header("Reply-To").as_deref(),
        Some("help@example.test")
    );
    assert!(mail.header("Date").is_some() && mail.header("Message-ID").is_some());
    assert!(mail.data.contains("multipart/alternative") && mail.data.contains("text/html"));
    let url = body["PortalUrl"].as_str().unwrap();
    assert!(mail.unwrapped().contains(url), "{}", mail.data);
    assert_eq!(
        hash_of(&s, &token_of(&body)),
        body["Link"]["TokenHash"],
        "the mailed URL is the link's"
    );
    assert!(!mail.data.contains("<img"), "no tracking pixels");
    let d = s.deliveries(&body);
    assert_eq!(
        (
            d[0]["Channel"].as_str(),
            d[0]["Status"].as_str(),
            d[0]["Attempts"].as_u64()
        ),
        (Some("Email"), Some("Sent"), Some(1))
    );
}

#[test]
fn relay_down_is_reported_and_retried_after_a_restart_without_duplicates() {
    let sink = SmtpSink::start();
    let port = sink.port;
    let url = sink.url();
    drop(sink);
    let s = TestServer::start_with(|c| with_email(c, url.clone()));
    let body = email_link(&s, "bob@example.com");
    let errors = body["DeliveryErrors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{body}");
    let error = errors[0].as_str().unwrap();
    assert!(
        error.starts_with("Email to b***@example.com failed (will be retried)"),
        "{error}"
    );
    assert!(!error.contains(&token_of(&body)), "no token in errors");
    assert_eq!(
        body["Link"]["DeliveryChannels"], "Email",
        "queued even though the first attempt failed"
    );
    let d = s.deliveries(&body);
    assert_eq!(
        (d[0]["Status"].as_str(), d[0]["Attempts"].as_u64()),
        (Some("Queued"), Some(1))
    );
    assert!(d[0]["LastError"].is_string() && d[0]["NextAttemptAtUtc"].is_string());

    let (dir, clock) = s.stop();
    let dir = dir.unwrap();
    let sink = SmtpSink::start_on(port);
    let s = TestServer::start_in(dir.path(), Arc::clone(&clock), |c| {
        with_email(c, url.clone())
    });
    clock.advance_millis(61_000);
    let mail = sink.wait_for(1).remove(0);
    assert_eq!(mail.rcpt, ["bob@example.com"]);
    assert!(
        mail.unwrapped()
            .contains(body["PortalUrl"].as_str().unwrap()),
        "the retry carries the same URL"
    );
    wait_until(|| s.deliveries(&body)[0]["Status"] == "Sent", "status Sent");
    assert_eq!(s.deliveries(&body)[0]["Attempts"], 2);
    clock.advance_millis(3_600_000);
    s.job_round("outbox", WORKER_INTERVAL);
    assert_eq!(
        sink.mails().len(),
        1,
        "no duplicate after more worker rounds"
    );
}

#[test]
fn permanent_refusal_is_not_retried() {
    let sink = SmtpSink::start();
    sink.refuse_permanently();
    let s = TestServer::start_with(|c| with_email(c, sink.url()));
    let body = email_link(&s, "nobody@example.com");
    let error = body["DeliveryErrors"][0].as_str().unwrap_or_default();
    assert!(
        error.contains("(not retried)") && error.contains("550"),
        "{body}"
    );
    s.clock.advance_millis(7_200_000);
    s.job_round("outbox", WORKER_INTERVAL);
    let d = s.deliveries(&body);
    assert_eq!(
        (d[0]["Status"].as_str(), d[0]["Attempts"].as_u64()),
        (Some("Failed"), Some(1))
    );
    assert!(sink.mails().is_empty());
}

#[test]
fn sms_goes_through_a_twilio_compatible_gateway_with_basic_auth() {
    let gateway = SmsGateway::start();
    let s = TestServer::start_with(|c| with_twilio(c, &gateway));
    s.put(
        "/v1/contact/5",
        json!({"Name": "Cy", "Phone": "+46 70 123 45 67", "SMSOptIn": true}),
    )
    .expect(200);
    let body = s
        .post("/v1/customerlink", json!({"ResourceType": "Invoice", "ResourceUid": uid(2), "RecipientContactId": 5, "DeliverSms": true}))
        .expect(200);
    assert_eq!(body["DeliveryErrors"], json!([]), "{body}");
    assert_eq!(body["Link"]["DeliveryChannels"], "Sms");
    let request = gateway.wait_for(1).remove(0);
    assert_eq!(request.method, "POST");
    assert_eq!(request.target, "/2010-04-01/Accounts/AC0001/Messages.json");
    assert_eq!(
        request.header("authorization"),
        Some("Basic QUMwMDAxOnR3LXNlY3JldA==")
    );
    let form = request.form();
    let field = |name: &str| form.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    assert_eq!(field("To").as_deref(), Some("+46701234567"));
    assert_eq!(field("From").as_deref(), Some("+15550001111"));
    let text = field("Body").unwrap();
    assert!(
        text.contains(body["PortalUrl"].as_str().unwrap()) && text.chars().count() <= 160,
        "{text}"
    );
}

#[test]
fn generic_http_gateway_fills_its_templates() {
    let gateway = SmsGateway::start();
    let url = format!(
        "{}/cgi-bin/sendsms?to={{to}}&text={{text}}&from={{from}}",
        gateway.base_url()
    );
    let s = TestServer::start_with(|c| {
        c.sms = Some(SmsSettings::Http {
            method: "GET".into(),
            url: url.clone(),
            body: String::new(),
            encoding: customerlink::config::BodyEncoding::None,
            auth: customerlink::config::HttpAuth::Bearer(Secret::new("gw-token".into())),
            from: Some("ACME".into()),
            timeout: Duration::from_secs(3),
        });
        c.policy_file = std::path::PathBuf::from("/nonexistent");
    });
    s.put(
        "/v1/contact/6",
        json!({"Name": "Di", "Phone": "+15551230000", "SMSOptIn": true}),
    )
    .expect(200);
    let body = s
        .post("/v1/customerlink", json!({"ResourceType": "Quote", "ResourceUid": uid(3), "RecipientContactId": 6, "DeliverSms": true}))
        .expect(200);
    assert_eq!(body["DeliveryErrors"], json!([]), "{body}");
    let request = gateway.wait_for(1).remove(0);
    assert_eq!(request.method, "GET");
    assert!(
        request
            .target
            .starts_with("/cgi-bin/sendsms?to=%2B15551230000&text="),
        "{}",
        request.target
    );
    assert_eq!(request.header("authorization"), Some("Bearer gw-token"));
    let query = request.query();
    let text = &query.iter().find(|(k, _)| k == "text").unwrap().1;
    assert!(text.contains(body["PortalUrl"].as_str().unwrap()), "{text}");
    assert_eq!(
        query
            .iter()
            .find(|(k, _)| k == "from")
            .map(|(_, v)| v.as_str()),
        Some("ACME")
    );
}

#[test]
fn consent_rules_decide_which_channels_are_used() {
    let gateway = SmsGateway::start();
    let sink = SmtpSink::start();
    let s = TestServer::start_with(|c| {
        with_twilio(c, &gateway);
        with_email(c, sink.url());
    });
    s.put(
        "/v1/contact/1",
        json!({"Name": "No Opt", "EmailWork": "n@example.com", "Phone": "+15550000001"}),
    )
    .expect(200);
    s.put("/v1/contact/2", json!({"Name": "Dnc", "EmailWork": "d@example.com", "Phone": "+15550000002", "SMSOptIn": true, "DoNotContact": true}))
        .expect(200);
    let create = |body: Value| s.post("/v1/customerlink", body).expect(200);
    let no_opt = create(
        json!({"ResourceType": "Quote", "ResourceUid": uid(4), "RecipientContactId": 1, "DeliverSms": true, "DeliverEmail": true}),
    );
    assert_eq!(no_opt["Link"]["DeliveryChannels"], "Email");
    assert!(
        no_opt["DeliveryErrors"][0]
            .as_str()
            .unwrap()
            .contains("SMSOptIn"),
        "{no_opt}"
    );
    let dnc = create(
        json!({"ResourceType": "Quote", "ResourceUid": uid(4), "RecipientContactId": 2, "DeliverSms": true, "DeliverEmail": true}),
    );
    assert_eq!(dnc["Link"]["DeliveryChannels"], "");
    assert_eq!(dnc["DeliveryErrors"].as_array().unwrap().len(), 2, "{dnc}");
    assert!(
        dnc["DeliveryErrors"][0]
            .as_str()
            .unwrap()
            .contains("DoNotContact")
    );
    let adhoc = create(
        json!({"ResourceType": "Quote", "ResourceUid": uid(4), "RecipientPhone": "+15550000003", "DeliverSms": true}),
    );
    assert_eq!(adhoc["Link"]["DeliveryChannels"], "");
    assert!(
        adhoc["DeliveryErrors"][0]
            .as_str()
            .unwrap()
            .contains("ad-hoc"),
        "{adhoc}"
    );
    assert_eq!(adhoc["Link"]["SmsConsentSnapshot"], false);
    sink.wait_for(1);
    s.job_round("outbox", WORKER_INTERVAL);
    assert!(gateway.requests().is_empty(), "no SMS without consent");
    assert_eq!(sink.mails().len(), 1, "DoNotContact blocks email too");
}

#[test]
fn a_policy_may_allow_ad_hoc_sms() {
    let gateway = SmsGateway::start();
    let policy = tempfile::NamedTempFile::new().unwrap();
    let text = customerlink::domain::policy::DEFAULT_POLICY
        .replace("allow_adhoc_sms = false", "allow_adhoc_sms = true");
    std::fs::write(policy.path(), text).unwrap();
    let s = TestServer::start_with(|c| {
        with_twilio(c, &gateway);
        c.policy_file = policy.path().to_owned();
    });
    let body = s
        .post("/v1/customerlink", json!({"ResourceType": "Quote", "ResourceUid": uid(5), "RecipientPhone": "+15550000004", "DeliverSms": true}))
        .expect(200);
    assert_eq!(body["DeliveryErrors"], json!([]), "{body}");
    assert_eq!(gateway.wait_for(1).len(), 1);
}

#[test]
fn resend_rotates_the_token_and_is_rate_limited_and_refused_when_revoked() {
    let sink = SmtpSink::start();
    let s = TestServer::start_with(|c| with_email(c, sink.url()));
    let first = email_link(&s, "eve@example.com");
    let uid = first["Link"]["CustomerLinkUID"]
        .as_str()
        .unwrap()
        .to_owned();
    sink.wait_for(1);
    let second = s
        .post(&format!("/v1/customerlink/{uid}/resend"), json!({}))
        .expect(200);
    assert_ne!(second["PortalUrl"], first["PortalUrl"]);
    assert_eq!(second["DeliveryErrors"], json!([]), "{second}");
    let new_hash = second["Link"]["TokenHash"].as_str().unwrap();
    assert_eq!(hash_of(&s, &token_of(&second)), new_hash);
    assert_ne!(
        hash_of(&s, &token_of(&first)),
        new_hash,
        "the old URL no longer matches the link"
    );
    let mails = sink.wait_for(2);
    assert!(
        mails[1]
            .unwrapped()
            .contains(second["PortalUrl"].as_str().unwrap())
    );
    let statuses: Vec<Value> = s
        .deliveries(&second)
        .iter()
        .map(|d| d["Status"].clone())
        .collect();
    assert_eq!(statuses, [json!("Sent"), json!("Sent")]);

    let too_soon = s.post(&format!("/v1/customerlink/{uid}/resend"), json!({}));
    assert_eq!(too_soon.status, 429, "{too_soon:#?}");
    assert!(too_soon.header("retry-after").is_some());
    s.clock.advance_millis(61_000);
    s.post(&format!("/v1/customerlink/{uid}/resend"), json!({}))
        .expect(200);
    s.post(&format!("/v1/customerlink/{uid}/revoke"), json!({}))
        .expect(200);
    s.clock.advance_millis(61_000);
    let revoked = s.post(&format!("/v1/customerlink/{uid}/resend"), json!({}));
    assert_eq!(revoked.status, 409, "{revoked:#?}");
    s.post(
        &format!("/v1/customerlink/{}/resend", crate::support::uid(77)),
        json!({}),
    )
    .expect(404);
}

#[test]
fn send_limits_turn_floods_into_delivery_errors() {
    let sink = SmtpSink::start();
    let s = TestServer::start_with(|c| {
        with_email(c, sink.url());
        c.delivery.per_recipient_per_hour = 2;
        c.delivery.per_tenant_per_hour = 3;
    });
    for _ in 0..2 {
        assert_eq!(
            email_link(&s, "flood@example.com")["DeliveryErrors"],
            json!([])
        );
    }
    let third = email_link(&s, "flood@example.com");
    assert!(
        third["DeliveryErrors"][0]
            .as_str()
            .unwrap()
            .contains("this recipient reached its limit of 2"),
        "{third}"
    );
    assert_eq!(third["Link"]["DeliveryChannels"], "");
    assert_eq!(
        email_link(&s, "other@example.com")["DeliveryErrors"],
        json!([])
    );
    let over_tenant = email_link(&s, "fourth@example.com");
    assert!(
        over_tenant["DeliveryErrors"][0]
            .as_str()
            .unwrap()
            .contains("the tenant reached its limit of 3"),
        "{over_tenant}"
    );
    assert_eq!(sink.wait_for(3).len(), 3);
    s.clock.advance_millis(3_600_000);
    assert_eq!(
        email_link(&s, "flood@example.com")["DeliveryErrors"],
        json!([]),
        "limits are per hour"
    );
}

#[test]
fn purge_takes_a_links_deliveries_with_it_and_check_agrees() {
    let sink = SmtpSink::start();
    let url = sink.url();
    drop(sink);
    let s = TestServer::start_with(|c| {
        with_email(c, url.clone());
        c.purge.interval = Duration::from_millis(30);
        c.purge.retention_ms = 3_600_000;
    });
    let body = email_link(&s, "gone@example.com");
    let kept = email_link(&s, "kept@example.com");
    let uid = body["Link"]["CustomerLinkUID"].as_str().unwrap().to_owned();
    s.post(&format!("/v1/customerlink/{uid}/revoke"), json!({}))
        .expect(200);
    s.clock.advance_millis(2 * 3_600_000);
    wait_until(
        || s.get(&format!("/v1/customerlink/{uid}")).status == 404,
        "purge",
    );
    assert_eq!(s.deliveries(&kept).len(), 1);
    let out = s.check();
    assert!(out.contains("links 1 revoked 0 deliveries 1"), "{out}");
}
