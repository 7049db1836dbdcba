//! Near-miss resource types never fall to a weaker tier (issue 10, item 17): invisible
//! characters and compatibility forms are normalised away, look-alike letters are refused,
//! and an unknown type gets the strictest tier under the shipped policy.

use serde_json::{Value, json};

use crate::support::{TestServer, error_fields, uid};

fn create(s: &TestServer, resource_type: &str) -> crate::support::Resp {
    s.req("POST", "/v1/customerlink")
        .json(&json!({"ResourceType": resource_type, "ResourceUid": uid(9), "RecipientEmail": "a@example.com"}))
        .send()
}

fn tier_of(link: &Value) -> (&str, bool, u64) {
    (
        link["SensitivityTier"].as_str().unwrap(),
        link["RequireOtp"].as_bool().unwrap(),
        link["MaxViews"].as_u64().unwrap(),
    )
}

#[test]
fn near_misses_of_claim_get_the_restricted_tier() {
    let s = TestServer::start();
    for near in [
        "Claim\u{200b}",
        "\u{feff}Cl\u{200d}aim",
        "ＣＬＡＩＭ",
        "Claims",
    ] {
        let r = create(&s, near).expect(200);
        assert_eq!(
            tier_of(&r["Link"]),
            ("Restricted", true, 3),
            "{near:?}: {r}"
        );
    }
    let r = create(&s, "Claim\u{200b}").expect(200);
    assert_eq!(
        r["Link"]["ResourceType"], "Claim",
        "stored in its clean form"
    );
}

#[test]
fn unknown_types_get_the_strictest_tier_and_known_ones_keep_theirs() {
    let s = TestServer::start();
    let r = create(&s, "Spaceship").expect(200);
    assert_eq!(tier_of(&r["Link"]), ("Restricted", true, 3));
    let r = create(&s, "quote").expect(200);
    assert_eq!(tier_of(&r["Link"]), ("Standard", false, 50));
}

#[test]
fn look_alike_letters_are_a_field_error() {
    let s = TestServer::start();
    for look_alike in ["Claım", "\u{0421}laim"] {
        let r = create(&s, look_alike);
        assert_eq!(r.status, 400, "{look_alike:?}: {r:?}");
        assert_eq!(error_fields(&r.json()), ["ResourceType"], "{look_alike:?}");
    }
}
