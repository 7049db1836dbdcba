#![no_main]
//! `message_text`: every text field an administrator or staff member can set — tenant name,
//! contact name / first / last name, template `sender_name`, `reply_to`, `subject`, `text`,
//! `html`, `sms`, a recipient address and the resource type — driven through message
//! rendering, the lettre email builder (to the formatted bytes) and every SMS gateway's
//! request builder. Nothing may panic; a name that cannot be a header must come back as an
//! error, and a built email's header block must not gain a line a field smuggled in.
//!
//! Input: the fields separated by 0x1E (record separator), each read as lossy UTF-8, in the
//! order of [`FIELDS`]; missing fields are empty. Seeds in `fuzz/seeds/message_text/`.

use std::sync::OnceLock;
use std::time::Duration;

use customerlink::config::{BodyEncoding, EmailSettings, HttpAuth, SmsSettings};
use customerlink::delivery::email::EmailSender;
use customerlink::delivery::sms::SmsSender;
use customerlink::delivery::template::{DEFAULT_TEMPLATES, MessageContext, Templates};
use customerlink::domain::contact::Contact;
use customerlink::domain::locale::Locale;
use customerlink::domain::text::name_error;
use customerlink::domain::token::Secret;
use libfuzzer_sys::fuzz_target;

/// What each 0x1E-separated part of the input sets.
const FIELDS: [&str; 12] = [
    "tenant_name",
    "contact_name",
    "first_name",
    "last_name",
    "sender_name",
    "reply_to",
    "subject",
    "text",
    "html",
    "sms",
    "resource_type",
    "recipient_address",
];

/// The senders never connect: only their builders run. The SMTP pool needs a runtime.
struct Senders {
    _runtime: tokio::runtime::Runtime,
    email: EmailSender,
    sms: Vec<SmsSender>,
}

fn senders() -> &'static Senders {
    static SENDERS: OnceLock<Senders> = OnceLock::new();
    SENDERS.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let email = {
            let _entered = runtime.enter();
            EmailSender::new(&EmailSettings {
                smtp_url: Secret::new("smtp://127.0.0.1:9".into()),
                from: "links@example.test".into(),
                from_name: Some("Fallback".into()),
                reply_to: None,
                ca_file: None,
                timeout: Duration::from_secs(1),
            })
            .expect("email sender")
        };
        let timeout = Duration::from_secs(1);
        let http = |encoding, url: &str, body: &str| SmsSettings::Http {
            method: "POST".into(),
            url: url.into(),
            body: body.into(),
            encoding,
            auth: HttpAuth::Bearer(Secret::new("t".into())),
            from: Some("Acme".into()),
            timeout,
        };
        let sms = [
            SmsSettings::Twilio {
                base_url: "http://127.0.0.1:9".into(),
                account_sid: "AC1".into(),
                auth_token: Secret::new("s".into()),
                from: Some("+15550001111".into()),
                messaging_service_sid: None,
                timeout,
            },
            http(
                BodyEncoding::None,
                "http://127.0.0.1:9/send?to={to}&text={text}",
                "",
            ),
            http(
                BodyEncoding::Form,
                "http://127.0.0.1:9/send",
                "to={to}&from={from}&text={text}",
            ),
            http(
                BodyEncoding::Json,
                "http://127.0.0.1:9/send",
                r#"{"to":"{to}","text":"{text}"}"#,
            ),
        ]
        .iter()
        .map(SmsSender::new)
        .collect();
        Senders {
            _runtime: runtime,
            email,
            sms,
        }
    })
}

/// A TOML basic string holding `s` exactly.
fn toml_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fuzz_target!(|data: &[u8]| {
    let mut parts = data.split(|b| *b == 0x1e).map(String::from_utf8_lossy);
    let mut field = || parts.next().map(|p| p.into_owned()).unwrap_or_default();
    let [
        tenant_name,
        contact_name,
        first,
        last,
        sender,
        reply_to,
        subject,
        text,
        html,
        sms,
        resource_type,
        to,
    ] = std::array::from_fn::<String, { FIELDS.len() }, _>(|_| field());

    // Entry validation: a name is refused exactly when it holds a control character.
    for name in [&tenant_name, &contact_name, &first, &last] {
        let refused = name_error("Name", Some(name)).is_some();
        assert_eq!(
            refused,
            name.chars()
                .any(|c| c.is_control() || matches!(c, '\u{2028}' | '\u{2029}'))
        );
    }
    // What older data (stored before validation) can still hold goes through unchecked.
    let contact = Contact {
        tenant_id: uuid::Uuid::nil().into(),
        contact_id: 1.into(),
        contact_guid: uuid::Uuid::nil(),
        first_name: Some(first),
        last_name: Some(last),
        name: Some(contact_name),
        email_work: Some("ann@example.com".into()),
        email_personal: None,
        phone: None,
        sms_opt_in: true,
        do_not_contact: false,
        active: true,
        deleted: false,
        updated_at: customerlink::domain::UnixMillis::EPOCH,
    };
    let _ = contact.clone().validate();
    let recipient_name = contact.display_name().unwrap_or_default();

    let tenant = customerlink::domain::TenantId::from_u128(1);
    let header_parts = [
        ("sender_name", &sender),
        ("reply_to", &reply_to),
        ("subject", &subject),
    ];
    let body_parts = [("text", &text), ("html", &html), ("sms", &sms)];
    let section = |parts: &[(&str, &String)]| {
        let overrides = parts
            .iter()
            .filter(|(_, v)| !v.is_empty())
            .map(|(k, v)| format!("{k} = {}\n", toml_string(v)))
            .collect::<String>();
        format!(
            "{DEFAULT_TEMPLATES}\n[tenants.\"{}\"]\n{overrides}",
            tenant.simple()
        )
    };
    let all: Vec<_> = header_parts.iter().chain(&body_parts).copied().collect();
    let templates = match Templates::parse(&section(&all)) {
        Ok(t) => t,
        Err(e) => {
            // Refused at load only for a control character in a header part as written.
            assert!(
                header_parts
                    .iter()
                    .any(|(_, v)| v
                        .chars()
                        .any(|c| name_error("x", Some(&c.to_string())).is_some())),
                "{e}"
            );
            Templates::parse(&section(&body_parts)).expect("body overrides always load")
        }
    };
    let ctx = MessageContext {
        portal_url: "https://links.example.test/portal/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        recipient_name: &recipient_name,
        tenant_name: &tenant_name,
        resource_type: &resource_type,
        expires_at: "2026-12-05 04:00 UTC",
        // English: the tenant overrides above are the English set a Spanish message skips.
        locale: Locale::En,
        accent: "#1a2b3c",
    };
    let senders = senders();
    let to = if to.is_empty() {
        "ann@example.com".to_owned()
    } else {
        to
    };
    for message in [
        templates.render(tenant, &ctx),
        templates.passcode(tenant, &ctx, "123456"),
    ] {
        if let Ok(email) = senders.email.build(&to, &message) {
            let bytes = email.formatted();
            let head_end = bytes
                .windows(4)
                .position(|w| w == b"\r\n\r\n")
                .expect("a header block");
            let head = String::from_utf8_lossy(&bytes[..head_end]);
            for line in head.split("\r\n") {
                assert!(
                    line.starts_with([' ', '\t']) || line.contains(':'),
                    "a header line that is neither a header nor a continuation: {line:?}"
                );
                assert!(!line.to_ascii_lowercase().starts_with("bcc:"), "{line:?}");
            }
        }
        for sms_sender in &senders.sms {
            let _ = sms_sender.request("+15551234567", &message.sms);
        }
    }
});
