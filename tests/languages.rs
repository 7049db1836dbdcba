//! The recipient's language (issue 16 §3): a `Locale` on create, stored on the link and used
//! by its pages, link email and passcode message; `Accept-Language` for pages of links without
//! one; an unsupported locale refused; a Spanish page carrying no English string of the
//! catalogue; per-tenant, per-locale template overrides — on either store.

use std::time::Duration;

use base64::Engine as _;
use customerlink::config::Config;
use customerlink::domain::catalogue::EN;
use serde_json::{Value, json};

use crate::support::sinks::{Mail, SmtpSink};
use crate::support::{Req, Resp, TestServer, email_via, error_fields, uid};

fn with_email(c: &mut Config, sink: &SmtpSink) {
    c.email = Some(email_via(sink.url()));
}

fn create(s: &TestServer, extra: Value) -> Value {
    let mut body = json!({"ResourceType": "Quote", "ResourceUid": uid(1),
        "RecipientEmail": "ana@example.com", "DeliverEmail": true});
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    s.post("/v1/customerlink", body).expect(200)
}

/// The browser page of a token, with `Accept-Language` when given.
fn page(s: &TestServer, token: &str, accept_language: Option<&str>) -> Resp {
    let mut r = Req::new(s.addr, "GET", "/portal").header("Cookie", &format!("cl_t={token}"));
    if let Some(al) = accept_language {
        r = r.header("Accept-Language", al);
    }
    r.send()
}

/// The mail's headers and parts decoded: RFC 2047 words, quoted-printable and base64 bodies.
pub fn decoded(mail: &Mail) -> String {
    let b64 = base64::engine::general_purpose::STANDARD;
    let mut out = String::new();
    let mut base64_part = false;
    let (head, body) = mail.data.split_once("\r\n\r\n").unwrap_or((&mail.data, ""));
    let joined = format!(
        "{}\r\n\r\n{}",
        head.replace("?=\r\n =?", "?==?"),
        body.replace("=\r\n", "")
    );
    for line in joined.split("\r\n") {
        let lower = line.to_ascii_lowercase();
        if lower.starts_with("content-transfer-encoding:") {
            base64_part = lower.contains("base64");
        }
        let piece = match b64.decode(line.trim()) {
            Ok(bytes) if base64_part && !line.trim().is_empty() => {
                String::from_utf8_lossy(&bytes).into_owned()
            }
            _ => decode_words(&quoted_printable(line)),
        };
        out.push_str(&piece);
        out.push('\n');
    }
    out
}

fn quoted_printable(line: &str) -> String {
    let bytes = line.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'=', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (c, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn decode_words(text: &str) -> String {
    let b64 = base64::engine::general_purpose::STANDARD;
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find("=?") {
        out.push_str(&rest[..at]);
        let word = &rest[at + 2..];
        let parts: Vec<&str> = word.splitn(3, '?').collect();
        let Some(end) = parts.get(2).and_then(|p| p.find("?=")) else {
            out.push_str(&rest[at..]);
            return out;
        };
        let payload = &parts[2][..end];
        let text = if parts[1].eq_ignore_ascii_case("b") {
            String::from_utf8_lossy(&b64.decode(payload).unwrap_or_default()).into_owned()
        } else {
            quoted_printable(&payload.replace('_', " "))
        };
        out.push_str(&text);
        rest = &parts[2][end + 2..];
    }
    out.push_str(rest);
    out
}

/// The visible text of a page: tags removed.
fn visible(html: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                out.push(' ');
            }
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out
}

/// Fails when `html` shows any English catalogue text (each literal run between placeholders
/// of at least two words), or is not marked `lang="es"`.
fn assert_all_spanish(html: &str) {
    assert!(html.contains("<html lang=\"es\">"), "{html}");
    let shown = visible(html);
    for (key, english) in EN {
        for run in english.split(['{', '}']).step_by(2) {
            let run = run
                .trim()
                .trim_matches(|c: char| c.is_ascii_punctuation())
                .trim();
            if run.split_whitespace().count() >= 2 || run.len() >= 6 {
                assert!(
                    !shown.contains(run),
                    "English `{key}` ({run:?}) on: {shown}"
                );
            }
        }
    }
}

#[test]
fn issue16_a_links_locale_is_stored_and_speaks_on_its_pages_and_in_its_email() {
    let sink = SmtpSink::start();
    let s = TestServer::start_with(|c| with_email(c, &sink));
    let created = create(&s, json!({"Locale": "es-MX"}));
    assert_eq!(created["Link"]["Locale"], "es", "stored by its language");
    let link_uid = created["Link"]["CustomerLinkUID"].as_str().unwrap();
    let read = s.get(&format!("/v1/customerlink/{link_uid}")).expect(200);
    assert_eq!(read["Link"]["Locale"], "es");
    let mail = decoded(&sink.wait_for(1)[0]);
    assert!(mail.contains("Default: su Quote está disponible"), "{mail}");
    assert!(
        mail.contains("Hola, cliente:") && mail.contains("El enlace caduca el "),
        "{mail}"
    );
    assert!(
        mail.contains(" de 20") && !mail.contains("your Quote"),
        "{mail}"
    );
    let token = crate::support::portal_token(&created);
    // The link's language wins over the browser's.
    let shown = page(&s, &token, Some("en-US,en;q=0.9"));
    assert_eq!(shown.status, 200, "{shown:#?}");
    assert!(
        shown
            .body
            .contains("Default ha compartido con usted: Quote"),
        "{}",
        shown.body
    );
    assert_all_spanish(&shown.body);
    let until = shown
        .body
        .split("Este enlace se puede usar hasta el ")
        .nth(1);
    let date = until
        .and_then(|u| u.split(" UTC.").next())
        .unwrap_or_default();
    assert!(
        date.matches(" de ").count() == 2 && date.contains(", ") && date.len() < 40,
        "a date written in Spanish (`5 de diciembre de 2026, 04:00`): {date:?}"
    );
    let plain = create(&s, json!({"DeliverEmail": false}));
    assert!(
        plain["Link"].get("Locale").is_none(),
        "no Locale: the member is left out"
    );
}

#[test]
fn issue16_pages_of_links_without_a_locale_follow_accept_language() {
    let s = TestServer::start();
    let token = crate::support::portal_token(&create(&s, json!({"DeliverEmail": false})));
    let es = page(&s, &token, Some("fr-FR, es;q=0.8, en;q=0.5"));
    assert!(es.body.contains("Abrir: Quote"), "{}", es.body);
    assert_all_spanish(&es.body);
    let en = page(&s, &token, Some("en-GB"));
    assert!(en.body.contains("<html lang=\"en\">") && en.body.contains("Open the Quote"));
    let none = page(&s, &token, None);
    assert!(
        none.body.contains("Default shared a Quote with you"),
        "English by default"
    );
    let gone = page(&s, "not-a-token", Some("es"));
    assert_eq!(gone.status, 404);
    assert!(
        gone.body.contains("<title>Enlace no disponible</title>"),
        "{}",
        gone.body
    );
    assert_all_spanish(&gone.body);
}

#[test]
fn issue16_an_unsupported_locale_is_refused_with_the_supported_ones() {
    let s = TestServer::start();
    let body = json!({"ResourceType": "Quote", "ResourceUid": uid(1),
        "RecipientEmail": "ana@example.com", "Locale": "fr"});
    let r = s.post("/v1/customerlink", body).expect(400);
    assert_eq!(error_fields(&r), ["Locale"]);
    let message = r["ResponseStatus"]["Errors"][0]["Message"]
        .as_str()
        .unwrap();
    assert!(message.contains("en, es"), "{message}");
}

#[test]
fn issue16_the_passcode_message_is_in_the_links_language() {
    let sink = SmtpSink::start();
    let s = TestServer::start_with(|c| with_email(c, &sink));
    let created = create(
        &s,
        json!({"ResourceType": "Document", "DeliverEmail": false, "Locale": "es"}),
    );
    let token = crate::support::portal_token(&created);
    Req::new(s.addr, "POST", &format!("/portal/{token}/otp"))
        .send()
        .expect(200);
    s.job_round("outbox", Duration::from_secs(5));
    let mail = decoded(&sink.wait_for(1)[0]);
    assert!(
        mail.contains("Default: su código de verificación"),
        "{mail}"
    );
    assert!(
        mail.contains("Default: su código es ") && !mail.contains("your code"),
        "{mail}"
    );
}

#[test]
fn issue16_a_document_share_carries_its_locale() {
    let s = TestServer::start();
    let file = crate::shares::upload(&s, "informe.pdf", b"%PDF-1.4 hola");
    let made = crate::shares::share(&s, &file, json!({"Locale": "es"}));
    assert_eq!(made["DocumentShare"][0]["Locale"], "es", "{made}");
    let url = made["ShareUrl"].as_str().unwrap();
    let token = url.rsplit('/').next().unwrap();
    let shown = Req::new(s.addr, "GET", "/share")
        .header("Cookie", &format!("cl_t={token}"))
        .header("Accept-Language", "en")
        .send();
    assert!(shown.body.contains("<html lang=\"es\">"), "{}", shown.body);
    assert_all_spanish(&shown.body);
}

#[test]
fn issue16_a_tenant_override_template_applies_to_its_locale_only() {
    let sink = SmtpSink::start();
    let s = TestServer::start_with(|c| with_email(c, &sink));
    let tenant = crate::support::link_tenant(&create(&s, json!({"DeliverEmail": false})));
    let port = sink.url();
    let (s, ()) = s.restart_after(
        |data| {
            let file = format!(
                "{}\n[tenants.\"{tenant}\".locales.es]\nsubject = \"Su {{ResourceType}} de Acme\"\n",
                customerlink::delivery::template::DEFAULT_TEMPLATES
            );
            std::fs::write(data.join("templates.toml"), file).unwrap();
        },
        |c| c.email = Some(email_via(port)),
    );
    create(&s, json!({"Locale": "es"}));
    create(&s, json!({"RecipientEmail": "bo@example.com"}));
    let mails: Vec<String> = sink.wait_for(2).iter().map(decoded).collect();
    let subject = |to: &str| {
        let mail = mails.iter().find(|m| m.contains(to)).unwrap();
        let line = mail.lines().find(|l| l.starts_with("Subject:")).unwrap();
        line.to_owned()
    };
    assert_eq!(subject("ana@example.com"), "Subject: Su Quote de Acme");
    assert_eq!(
        subject("bo@example.com"),
        "Subject: Default: your Quote is ready"
    );
}
