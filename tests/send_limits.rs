//! Send limits are per tenant: another tenant sending to the same address neither uses up nor
//! reveals a tenant's hourly budget for it.

use customerlink::config::Config;
use serde_json::json;

use crate::support::sinks::SmtpSink;
use crate::support::{TestServer, email_via, uid};

fn with_email(c: &mut Config, sink: &SmtpSink) {
    c.email = Some(email_via(sink.url()));
    c.delivery.per_recipient_per_hour = 2;
}

#[test]
fn another_tenant_exhausting_an_address_leaves_this_tenants_budget_alone() {
    let sink = SmtpSink::start();
    let (s, b) = TestServer::with_second_tenant(|c| with_email(c, &sink));
    let body = |n: u128| json!({"ResourceType": "Quote", "ResourceUid": uid(n), "RecipientEmail": "Shared@Example.com", "DeliverEmail": true});
    let as_b = |n: u128| {
        s.req("POST", "/v1/customerlink")
            .bearer(&b)
            .json(&body(n))
            .send()
            .expect(200)
    };
    for n in 1..=2 {
        assert_eq!(as_b(n)["DeliveryErrors"], json!([]), "B's own budget");
    }
    let refused = as_b(3);
    assert!(
        refused["DeliveryErrors"][0]
            .as_str()
            .is_some_and(|e| e.contains("this recipient reached its limit")),
        "B is over its limit for the address: {refused}"
    );
    let a = s.post("/v1/customerlink", body(10)).expect(200);
    assert_eq!(
        a["DeliveryErrors"],
        json!([]),
        "tenant A still has its whole budget for the address: {a}"
    );
    assert_eq!(a["Link"]["DeliveryChannels"], "Email");
    sink.wait_for(3);
}
