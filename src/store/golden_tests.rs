//! Golden bytes: one fully populated sample of every record the store keeps, encoded as the
//! store encodes it (MessagePack arrays, schema 2), compared with pinned bytes; and the same
//! sample as the build that wrote the first data files stored it (named fields, schema 1),
//! which must still decode to it. The field order is the format, so moving a field fails here. A type change that moves a single stored byte (an id
//! newtype, an instant type, an enum replacing a string) fails here before an old file fails
//! to open. Samples are built through `into()`/`parse()` so they compile over either form of a
//! field's type.

use uuid::Uuid;

use super::codec::{decode, encode};
use super::idempotency::IdempotencyRecord;
use crate::domain::contact::Contact;
use crate::domain::delivery::{DeliveryKind, DeliveryRecord, DeliveryStatus};
use crate::domain::link::{LinkRecord, RecipientType};
use crate::domain::otp::OtpState;
use crate::domain::policy::Channel;
use crate::domain::portal::{AccessEvent, AccessLogEntry, Actor, GrantRecord};
use crate::domain::tenant::{ApiKeyRecord, CasingPin, Tenant};

/// Lower-case hex of `bytes`.
fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Encodes `value`, compares with `expected` and decodes it back unchanged.
fn check<T>(value: &T, expected: &str, schema_1: &str)
where
    T: serde::Serialize + serde::de::DeserializeOwned + PartialEq + std::fmt::Debug,
{
    let bytes = encode(value).unwrap();
    assert_eq!(hex(&bytes), expected, "stored bytes of {value:?} changed");
    assert_eq!(&decode::<T>(&bytes).unwrap(), value);
    assert_eq!(
        &decode::<T>(&unhex(schema_1)).unwrap(),
        value,
        "a record written by schema 1 no longer reads"
    );
}

fn unhex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
        .collect()
}

fn uuid(n: u128) -> Uuid {
    Uuid::from_u128(0x0102_0304_0506_0708_090a_0b0c_0d0e_0f00 + n)
}

fn actor() -> Actor {
    Actor {
        ip: Some("203.0.113.9".into()),
        user_agent: Some("curl/8".into()),
        user_id: Some(uuid(3).into()),
    }
}

fn otp() -> OtpState {
    OtpState {
        code_hash: [0xc0; 32].into(),
        sealed_code: vec![1, 2, 3],
        issued_at: 1_700_000_000_100_i64.into(),
        expires_at: 1_700_000_600_100_i64.into(),
        tries: 2,
        sent_at: vec![1_700_000_000_100_i64.into(), 1_700_000_060_100_i64.into()],
    }
}

fn link() -> LinkRecord {
    LinkRecord {
        link_id: 42,
        uid: uuid(1).into(),
        tenant_id: uuid(2).into(),
        token_hash: [0xab; 32].into(),
        resource_type: "Quote".into(),
        resource_uid: uuid(4),
        sensitivity_tier: "Confidential".into(),
        require_otp: true,
        otp_channel: Some("Sms".parse().unwrap()),
        delivery_channels: "Email,Sms".parse().unwrap(),
        recipient_contact_id: Some(17.into()),
        recipient_email: Some("a@b.co".into()),
        recipient_phone: Some("+15550100".into()),
        recipient_display_name: Some("Ann".into()),
        recipient_type: RecipientType::Contact,
        sms_consent_snapshot: true,
        created_by_user_id: uuid(3).into(),
        created_by_agent_id: Some(5),
        created_at: 1_700_000_000_000_i64.into(),
        expires_at: 1_700_086_400_000_i64.into(),
        max_views: 10,
        view_count: 3,
        revoked_at: Some(1_700_000_500_000_i64.into()),
        revoked_by_user_id: Some(uuid(5).into()),
        resent_at: vec![1_700_000_200_000_i64.into()],
        otp_digits: 8,
        otp: Some(otp()),
        otp_failures: 4,
        locked_at: Some(1_700_000_400_000_i64.into()),
        locale: None,
    }
}

#[test]
fn a_link_keeps_its_bytes() {
    check(
        &link(),
        "dc001e2ac4100102030405060708090a0b0c0d0e0f01c4100102030405060708090a0b0c0d0e0f02c420ababababababababababababababababababababababababababababababababa551756f7465c4100102030405060708090a0b0c0d0e0f04ac436f6e666964656e7469616cc3a3536d73a9456d61696c2c536d7311a66140622e636fa92b3135353530313030a3416e6ea7436f6e74616374c3c4100102030405060708090a0b0c0d0e0f0305cf0000018bcfe56800cf0000018bd50bc4000a03cf0000018bcfed0920c4100102030405060708090a0b0c0d0e0f0591cf0000018bcfe875400896c420c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c403010203cf0000018bcfe56864cf0000018bcfee90240292cf0000018bcfe56864cf0000018bcfe652c404cf0000018bcfeb8280c0",
        "de001da76c696e6b5f69642aa3756964c4100102030405060708090a0b0c0d0e0f01a974656e616e745f6964c4100102030405060708090a0b0c0d0e0f02aa746f6b656e5f68617368dc0020ccabccabccabccabccabccabccabccabccabccabccabccabccabccabccabccabccabccabccabccabccabccabccabccabccabccabccabccabccabccabccabccabad7265736f757263655f74797065a551756f7465ac7265736f757263655f756964c4100102030405060708090a0b0c0d0e0f04b073656e73697469766974795f74696572ac436f6e666964656e7469616cab726571756972655f6f7470c3ab6f74705f6368616e6e656ca3536d73b164656c69766572795f6368616e6e656c73a9456d61696c2c536d73b4726563697069656e745f636f6e746163745f696411af726563697069656e745f656d61696ca66140622e636faf726563697069656e745f70686f6e65a92b3135353530313030b6726563697069656e745f646973706c61795f6e616d65a3416e6eae726563697069656e745f74797065a7436f6e74616374b4736d735f636f6e73656e745f736e617073686f74c3b2637265617465645f62795f757365725f6964c4100102030405060708090a0b0c0d0e0f03b3637265617465645f62795f6167656e745f696405aa637265617465645f6174cf0000018bcfe56800aa657870697265735f6174cf0000018bd50bc400a96d61785f76696577730aaa766965775f636f756e7403aa7265766f6b65645f6174cf0000018bcfed0920b27265766f6b65645f62795f757365725f6964c4100102030405060708090a0b0c0d0e0f05a9726573656e745f617491cf0000018bcfe87540aa6f74705f64696769747308a36f747086a9636f64655f68617368dc0020ccc0ccc0ccc0ccc0ccc0ccc0ccc0ccc0ccc0ccc0ccc0ccc0ccc0ccc0ccc0ccc0ccc0ccc0ccc0ccc0ccc0ccc0ccc0ccc0ccc0ccc0ccc0ccc0ccc0ccc0ccc0ccc0ab7365616c65645f636f646593010203a96973737565645f6174cf0000018bcfe56864aa657870697265735f6174cf0000018bcfee9024a5747269657302a773656e745f617492cf0000018bcfe56864cf0000018bcfe652c4ac6f74705f6661696c7572657304a96c6f636b65645f6174cf0000018bcfeb8280",
    );
}

#[test]
fn a_link_with_email_passcodes_and_one_channel_keeps_its_bytes() {
    let link = LinkRecord {
        otp_channel: Some("Email".parse().unwrap()),
        delivery_channels: "Email".parse().unwrap(),
        ..link()
    };
    check(
        &link,
        "dc001e2ac4100102030405060708090a0b0c0d0e0f01c4100102030405060708090a0b0c0d0e0f02c420ababababababababababababababababababababababababababababababababa551756f7465c4100102030405060708090a0b0c0d0e0f04ac436f6e666964656e7469616cc3a5456d61696ca5456d61696c11a66140622e636fa92b3135353530313030a3416e6ea7436f6e74616374c3c4100102030405060708090a0b0c0d0e0f0305cf0000018bcfe56800cf0000018bd50bc4000a03cf0000018bcfed0920c4100102030405060708090a0b0c0d0e0f0591cf0000018bcfe875400896c420c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c403010203cf0000018bcfe56864cf0000018bcfee90240292cf0000018bcfe56864cf0000018bcfe652c404cf0000018bcfeb8280c0",
        "de001da76c696e6b5f69642aa3756964c4100102030405060708090a0b0c0d0e0f01a974656e616e745f6964c4100102030405060708090a0b0c0d0e0f02aa746f6b656e5f68617368dc0020ccabccabccabccabccabccabccabccabccabccabccabccabccabccabccabccabccabccabccabccabccabccabccabccabccabccabccabccabccabccabccabccabad7265736f757263655f74797065a551756f7465ac7265736f757263655f756964c4100102030405060708090a0b0c0d0e0f04b073656e73697469766974795f74696572ac436f6e666964656e7469616cab726571756972655f6f7470c3ab6f74705f6368616e6e656ca5456d61696cb164656c69766572795f6368616e6e656c73a5456d61696cb4726563697069656e745f636f6e746163745f696411af726563697069656e745f656d61696ca66140622e636faf726563697069656e745f70686f6e65a92b3135353530313030b6726563697069656e745f646973706c61795f6e616d65a3416e6eae726563697069656e745f74797065a7436f6e74616374b4736d735f636f6e73656e745f736e617073686f74c3b2637265617465645f62795f757365725f6964c4100102030405060708090a0b0c0d0e0f03b3637265617465645f62795f6167656e745f696405aa637265617465645f6174cf0000018bcfe56800aa657870697265735f6174cf0000018bd50bc400a96d61785f76696577730aaa766965775f636f756e7403aa7265766f6b65645f6174cf0000018bcfed0920b27265766f6b65645f62795f757365725f6964c4100102030405060708090a0b0c0d0e0f05a9726573656e745f617491cf0000018bcfe87540aa6f74705f64696769747308a36f747086a9636f64655f68617368dc0020ccc0ccc0ccc0ccc0ccc0ccc0ccc0ccc0ccc0ccc0ccc0ccc0ccc0ccc0ccc0ccc0ccc0ccc0ccc0ccc0ccc0ccc0ccc0ccc0ccc0ccc0ccc0ccc0ccc0ccc0ccc0ccc0ab7365616c65645f636f646593010203a96973737565645f6174cf0000018bcfe56864aa657870697265735f6174cf0000018bcfee9024a5747269657302a773656e745f617492cf0000018bcfe56864cf0000018bcfe652c4ac6f74705f6661696c7572657304a96c6f636b65645f6174cf0000018bcfeb8280",
    );
}

#[test]
fn a_tenant_keeps_its_bytes() {
    let tenant = Tenant {
        tenant_id: uuid(2).into(),
        name: "Acme".into(),
        created_at: 1_600_000_000_000_i64.into(),
        accent: None,
        logo: None,
    };
    check(
        &tenant,
        "95c4100102030405060708090a0b0c0d0e0f02a441636d65cf00000174876e8000c0c0",
        "83a974656e616e745f6964c4100102030405060708090a0b0c0d0e0f02a46e616d65a441636d65aa637265617465645f6174cf00000174876e8000",
    );
}

#[test]
fn an_api_key_keeps_its_bytes() {
    let key = ApiKeyRecord {
        key_id: uuid(6),
        tenant_id: uuid(2).into(),
        user_id: uuid(3).into(),
        agent_id: Some(5),
        name: Some("ci".into()),
        roles: vec!["ResourceServer".into()],
        created_at: 1_600_000_000_000_i64.into(),
        revoked_at: Some(1_600_000_100_000_i64.into()),
        casing: Some(CasingPin::Camel),
    };
    check(
        &key,
        "99c4100102030405060708090a0b0c0d0e0f06c4100102030405060708090a0b0c0d0e0f02c4100102030405060708090a0b0c0d0e0f0305a2636991ae5265736f75726365536572766572cf00000174876e8000cf00000174877006a0a543616d656c",
        "89a66b65795f6964c4100102030405060708090a0b0c0d0e0f06a974656e616e745f6964c4100102030405060708090a0b0c0d0e0f02a7757365725f6964c4100102030405060708090a0b0c0d0e0f03a86167656e745f696405a46e616d65a26369a5726f6c657391ae5265736f75726365536572766572aa637265617465645f6174cf00000174876e8000aa7265766f6b65645f6174cf00000174877006a0a6636173696e67a543616d656c",
    );
}

#[test]
fn a_delivery_keeps_its_bytes() {
    let delivery = DeliveryRecord {
        delivery_id: 77,
        link_uid: uuid(1).into(),
        tenant_id: uuid(2).into(),
        channel: Channel::Sms,
        to: "+15550100".into(),
        sealed_token: vec![9, 8, 7],
        status: DeliveryStatus::Sent,
        attempts: 2,
        next_attempt_at: 1_700_000_030_000_i64.into(),
        last_error: Some("timeout".into()),
        created_at: 1_700_000_000_000_i64.into(),
        sent_at: Some(1_700_000_031_000_i64.into()),
        kind: DeliveryKind::Passcode,
        unfinished_leases: 1,
        webhook: None,
    };
    check(
        &delivery,
        "9f4dc4100102030405060708090a0b0c0d0e0f01c4100102030405060708090a0b0c0d0e0f02a3536d73a92b3135353530313030c403090807a453656e7402cf0000018bcfe5dd30a774696d656f7574cf0000018bcfe56800cf0000018bcfe5e118a850617373636f646501c0",
        "8eab64656c69766572795f69644da86c696e6b5f756964c4100102030405060708090a0b0c0d0e0f01a974656e616e745f6964c4100102030405060708090a0b0c0d0e0f02a76368616e6e656ca3536d73a2746fa92b3135353530313030ac7365616c65645f746f6b656e93090807a6737461747573a453656e74a8617474656d70747302af6e6578745f617474656d70745f6174cf0000018bcfe5dd30aa6c6173745f6572726f72a774696d656f7574aa637265617465645f6174cf0000018bcfe56800a773656e745f6174cf0000018bcfe5e118a46b696e64a850617373636f6465b1756e66696e69736865645f6c656173657301",
    );
}

#[test]
fn a_grant_keeps_its_bytes() {
    let grant = GrantRecord {
        link_uid: uuid(1).into(),
        link_id: 42,
        tenant_id: uuid(2).into(),
        resource_type: "Quote".into(),
        resource_uid: uuid(4),
        recipient_display_name: Some("Ann".into()),
        recipient_email: Some("a@b.co".into()),
        recipient_phone: Some("+15550100".into()),
        expires_at: 1_700_000_300_000_i64.into(),
        token_hash: [0xab; 32].into(),
    };
    check(
        &grant,
        "9ac4100102030405060708090a0b0c0d0e0f012ac4100102030405060708090a0b0c0d0e0f02a551756f7465c4100102030405060708090a0b0c0d0e0f04a3416e6ea66140622e636fa92b3135353530313030cf0000018bcfe9fbe0c420abababababababababababababababababababababababababababababababab",
        "8aa86c696e6b5f756964c4100102030405060708090a0b0c0d0e0f01a76c696e6b5f69642aa974656e616e745f6964c4100102030405060708090a0b0c0d0e0f02ad7265736f757263655f74797065a551756f7465ac7265736f757263655f756964c4100102030405060708090a0b0c0d0e0f04b6726563697069656e745f646973706c61795f6e616d65a3416e6eaf726563697069656e745f656d61696ca66140622e636faf726563697069656e745f70686f6e65a92b3135353530313030aa657870697265735f6174cf0000018bcfe9fbe0aa746f6b656e5f68617368dc0020ccabccabccabccabccabccabccabccabccabccabccabccabccabccabccabccabccabccabccabccabccabccabccabccabccabccabccabccabccabccabccabccab",
    );
}

/// One access-log row per outcome the service writes.
#[test]
fn access_log_rows_keep_their_bytes() {
    let row = |outcome: &str| AccessLogEntry {
        id: 9,
        link_uid: uuid(1).into(),
        link_id: 42,
        tenant_id: uuid(2).into(),
        event: AccessEvent::OpenDenied,
        outcome: outcome.parse().unwrap(),
        detail: Some("Expired".into()),
        actor: actor(),
        at: 1_700_000_000_000_i64.into(),
        count: 3,
        last_at: Some(1_700_000_900_000_i64.into()),
        chain: None,
    };
    for (outcome, expected, schema_1) in [
        (
            "Success",
            "9c09c4100102030405060708090a0b0c0d0e0f012ac4100102030405060708090a0b0c0d0e0f02aa4f70656e44656e696564a753756363657373a74578706972656493ab3230332e302e3131332e39a66375726c2f38c4100102030405060708090a0b0c0d0e0f03cf0000018bcfe5680003cf0000018bcff323a0c0",
            "8ba2696409a86c696e6b5f756964c4100102030405060708090a0b0c0d0e0f01a76c696e6b5f69642aa974656e616e745f6964c4100102030405060708090a0b0c0d0e0f02a56576656e74aa4f70656e44656e696564a76f7574636f6d65a753756363657373a664657461696ca745787069726564a56163746f7283a26970ab3230332e302e3131332e39aa757365725f6167656e74a66375726c2f38a7757365725f6964c4100102030405060708090a0b0c0d0e0f03a26174cf0000018bcfe56800a5636f756e7403a76c6173745f6174cf0000018bcff323a0",
        ),
        (
            "Failure",
            "9c09c4100102030405060708090a0b0c0d0e0f012ac4100102030405060708090a0b0c0d0e0f02aa4f70656e44656e696564a74661696c757265a74578706972656493ab3230332e302e3131332e39a66375726c2f38c4100102030405060708090a0b0c0d0e0f03cf0000018bcfe5680003cf0000018bcff323a0c0",
            "8ba2696409a86c696e6b5f756964c4100102030405060708090a0b0c0d0e0f01a76c696e6b5f69642aa974656e616e745f6964c4100102030405060708090a0b0c0d0e0f02a56576656e74aa4f70656e44656e696564a76f7574636f6d65a74661696c757265a664657461696ca745787069726564a56163746f7283a26970ab3230332e302e3131332e39aa757365725f6167656e74a66375726c2f38a7757365725f6964c4100102030405060708090a0b0c0d0e0f03a26174cf0000018bcfe56800a5636f756e7403a76c6173745f6174cf0000018bcff323a0",
        ),
        (
            "Info",
            "9c09c4100102030405060708090a0b0c0d0e0f012ac4100102030405060708090a0b0c0d0e0f02aa4f70656e44656e696564a4496e666fa74578706972656493ab3230332e302e3131332e39a66375726c2f38c4100102030405060708090a0b0c0d0e0f03cf0000018bcfe5680003cf0000018bcff323a0c0",
            "8ba2696409a86c696e6b5f756964c4100102030405060708090a0b0c0d0e0f01a76c696e6b5f69642aa974656e616e745f6964c4100102030405060708090a0b0c0d0e0f02a56576656e74aa4f70656e44656e696564a76f7574636f6d65a4496e666fa664657461696ca745787069726564a56163746f7283a26970ab3230332e302e3131332e39aa757365725f6167656e74a66375726c2f38a7757365725f6964c4100102030405060708090a0b0c0d0e0f03a26174cf0000018bcfe56800a5636f756e7403a76c6173745f6174cf0000018bcff323a0",
        ),
    ] {
        check(&row(outcome), expected, schema_1);
    }
}

/// A lifecycle row sealed into its chain: the stored bytes, and its hash (a test vector for
/// docs/evidence.md's row encoding; a changed hash would break every stored chain).
#[test]
fn a_chained_access_log_row_keeps_its_bytes_and_its_hash() {
    let mut row = AccessLogEntry {
        id: 9,
        link_uid: uuid(1).into(),
        link_id: 42,
        tenant_id: uuid(2).into(),
        event: AccessEvent::Revoked,
        outcome: "Success".parse().unwrap(),
        detail: Some("Policy cancelled".into()),
        actor: actor(),
        at: 1_700_000_000_000_i64.into(),
        count: 1,
        last_at: None,
        chain: None,
    };
    row.seal([7; 32]);
    let hash = row.chain.map(|c| hex(&c.hash)).unwrap_or_default();
    assert_eq!(
        hash,
        "93e896db1b6c0fe4f4619b58ac09aa30e8b48619777c93e52990215c5f3b5ddb"
    );
    check(
        &row,
        "9c09c4100102030405060708090a0b0c0d0e0f012ac4100102030405060708090a0b0c0d0e0f02a75265766f6b6564a753756363657373b0506f6c6963792063616e63656c6c656493ab3230332e302e3131332e39a66375726c2f38c4100102030405060708090a0b0c0d0e0f03cf0000018bcfe5680001c092c4200707070707070707070707070707070707070707070707070707070707070707c42093e896db1b6c0fe4f4619b58ac09aa30e8b48619777c93e52990215c5f3b5ddb",
        "8ca2696409a86c696e6b5f756964c4100102030405060708090a0b0c0d0e0f01a76c696e6b5f69642aa974656e616e745f6964c4100102030405060708090a0b0c0d0e0f02a56576656e74a75265766f6b6564a76f7574636f6d65a753756363657373a664657461696cb0506f6c6963792063616e63656c6c6564a56163746f7283a26970ab3230332e302e3131332e39aa757365725f6167656e74a66375726c2f38a7757365725f6964c4100102030405060708090a0b0c0d0e0f03a26174cf0000018bcfe56800a5636f756e7401a76c6173745f6174c0a5636861696e82a9707265765f68617368dc00200707070707070707070707070707070707070707070707070707070707070707a468617368dc0020cc93cce8cc96ccdb1b6c0fcce4ccf461cc9b58ccac09ccaa30cce8ccb4cc8619777ccc93cce529cc90215c5f3b5dccdb",
    );
}

#[test]
fn a_contact_keeps_its_bytes() {
    let contact = Contact {
        tenant_id: uuid(2).into(),
        contact_id: 17.into(),
        contact_guid: uuid(7),
        first_name: Some("Ann".into()),
        last_name: Some("Lee".into()),
        name: Some("Ann Lee".into()),
        email_work: Some("a@b.co".into()),
        email_personal: Some("ann@home.example".into()),
        phone: Some("+15550100".into()),
        sms_opt_in: true,
        do_not_contact: false,
        active: true,
        deleted: false,
        updated_at: 1_700_000_000_000_i64.into(),
    };
    check(
        &contact,
        "9ec4100102030405060708090a0b0c0d0e0f0211c4100102030405060708090a0b0c0d0e0f07a3416e6ea34c6565a7416e6e204c6565a66140622e636fb0616e6e40686f6d652e6578616d706c65a92b3135353530313030c3c2c3c2cf0000018bcfe56800",
        "8ea974656e616e745f6964c4100102030405060708090a0b0c0d0e0f02aa636f6e746163745f696411ac636f6e746163745f67756964c4100102030405060708090a0b0c0d0e0f07aa66697273745f6e616d65a3416e6ea96c6173745f6e616d65a34c6565a46e616d65a7416e6e204c6565aa656d61696c5f776f726ba66140622e636fae656d61696c5f706572736f6e616cb0616e6e40686f6d652e6578616d706c65a570686f6e65a92b3135353530313030aa736d735f6f70745f696ec3ae646f5f6e6f745f636f6e74616374c2a6616374697665c3a764656c65746564c2aa757064617465645f6174cf0000018bcfe56800",
    );
}

#[test]
fn an_idempotency_record_keeps_its_bytes() {
    let record = IdempotencyRecord {
        operation: "CustomerLinkCreateRequest".into(),
        fingerprint: [0x5a; 32],
        link_uid: uuid(1).into(),
        sealed_token: vec![4, 5, 6],
        delivery_errors: vec!["Sms: no phone".into()],
        created_at: 1_700_000_000_000_i64.into(),
    };
    check(
        &record,
        "96b9437573746f6d65724c696e6b43726561746552657175657374c4205a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5ac4100102030405060708090a0b0c0d0e0f01c40304050691ad536d733a206e6f2070686f6e65cf0000018bcfe56800",
        "86a96f7065726174696f6eb9437573746f6d65724c696e6b43726561746552657175657374ab66696e6765727072696e74dc00205a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5aa86c696e6b5f756964c4100102030405060708090a0b0c0d0e0f01ac7365616c65645f746f6b656e93040506af64656c69766572795f6572726f727391ad536d733a206e6f2070686f6e65aa637265617465645f6174cf0000018bcfe56800",
    );
}

/// Optional fields are written as nil, never left out: in an array a skipped field would shift
/// every field after it (a logo read back as the accent colour).
#[test]
fn a_tenant_with_a_logo_and_no_accent_reads_back_as_written() {
    let tenant = Tenant {
        tenant_id: uuid(2).into(),
        name: "Acme".into(),
        created_at: 1_600_000_000_000_i64.into(),
        accent: None,
        logo: crate::domain::brand::Png::parse(b"\x89PNG\r\n\x1a\nrest".to_vec()).ok(),
    };
    assert!(tenant.logo.is_some());
    assert_eq!(decode::<Tenant>(&encode(&tenant).unwrap()).unwrap(), tenant);
}
