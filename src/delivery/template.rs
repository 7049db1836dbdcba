//! Message templates: subject, text and HTML bodies and the SMS text, per tenant and per
//! locale, with a handful of placeholders. Plain substitution (no logic), HTML-escaped in
//! HTML, so a recipient name can never inject markup. A message is in one language: for
//! English, the tenant's set then `[default]`; for another locale, the tenant's
//! `[tenants."id".locales.xx]`, then the file's `[locales.xx]`, then the built-in ones — never
//! an English text. The passcode message's words come from the catalogue.

use std::collections::HashMap;

use serde::Deserialize;

use crate::domain::TenantId;
use crate::domain::catalogue;
use crate::domain::locale::Locale;
use crate::domain::text::is_name_char;

/// The templates built into the binary (the repository's `data/templates.toml`).
pub const DEFAULT_TEMPLATES: &str = include_str!("../../data/templates.toml");

/// One set of templates; in a tenant override every key is optional.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct TemplateSet {
    sender_name: Option<String>,
    reply_to: Option<String>,
    subject: Option<String>,
    text: Option<String>,
    html: Option<String>,
    sms: Option<String>,
    /// In `[default]` and a tenant's set only: the sets of other languages, by tag.
    #[serde(default)]
    locales: HashMap<String, TemplateSet>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TemplateFile {
    default: TemplateSet,
    /// `[locales.es]`: the default set of another language (complete, or completed from the
    /// built-in one).
    #[serde(default)]
    locales: HashMap<String, TemplateSet>,
    #[serde(default)]
    tenants: HashMap<String, TemplateSet>,
}

/// All templates, validated at start-up.
#[derive(Debug, Clone)]
pub struct Templates {
    default: TemplateSet,
    /// Every supported locale but English: the file's set, then the built-in one.
    locales: HashMap<Locale, Vec<TemplateSet>>,
    tenants: HashMap<TenantId, TemplateSet>,
}

/// What a message is about.
#[derive(Debug, Clone)]
pub struct MessageContext<'a> {
    pub portal_url: &'a str,
    pub recipient_name: &'a str,
    pub tenant_name: &'a str,
    pub resource_type: &'a str,
    /// Already formatted for people, in `locale` (`2026-12-05 04:00 UTC`).
    pub expires_at: &'a str,
    /// The message's language.
    pub locale: Locale,
    /// The tenant's accent colour (`#RRGGBB`) for `{AccentColor}`; a neutral blue without one.
    pub accent: &'a str,
}

/// A rendered message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub sender_name: Option<String>,
    pub reply_to: Option<String>,
    pub subject: String,
    pub text: String,
    pub html: String,
    pub sms: String,
}

impl Templates {
    /// Parses a templates file; every template of the default set must be present.
    pub fn parse(text: &str) -> Result<Templates, String> {
        let file: TemplateFile = toml::from_str(text).map_err(|e| e.to_string())?;
        let d = &file.default;
        for (name, value) in [
            ("subject", &d.subject),
            ("text", &d.text),
            ("html", &d.html),
            ("sms", &d.sms),
        ] {
            if value.is_none() {
                return Err(format!("[default] needs `{name}`"));
            }
        }
        header_safe("[default]", d)?;
        if !d.locales.is_empty() {
            return Err("[default] has no `locales`; write `[locales.xx]`".into());
        }
        let mut tenants = HashMap::new();
        for (id, set) in file.tenants {
            let section = format!("[tenants.\"{id}\"]");
            let tenant = crate::wire::types::Guid::parse(&id)
                .ok_or_else(|| format!("{section}: not a tenant id"))?;
            header_safe(&section, &set)?;
            locale_sets(&section, &set.locales)?;
            tenants.insert(TenantId::from(tenant.0), set);
        }
        locale_sets("", &file.locales)?;
        Ok(Templates {
            default: file.default,
            locales: with_built_in(file.locales)?,
            tenants,
        })
    }

    /// The sets a message in `locale` for `tenant` draws from, first wins: one language only.
    fn chain(&self, tenant: TenantId, locale: Locale) -> Vec<&TemplateSet> {
        let own = self.tenants.get(&tenant);
        if locale == Locale::En {
            return own.into_iter().chain([&self.default]).collect();
        }
        let own = own.and_then(|t| t.locales.get(locale.tag()));
        let defaults = self.locales.get(&locale).into_iter().flatten();
        own.into_iter().chain(defaults).collect()
    }

    /// Renders every part for a tenant in the context's locale (the tenant's overrides
    /// first, then the defaults of that locale). Sender name and Reply-To are not words:
    /// without a set of the locale naming them, the English chain's are used.
    pub fn render(&self, tenant: TenantId, ctx: &MessageContext<'_>) -> Rendered {
        let chain = self.chain(tenant, ctx.locale);
        let english = self.chain(tenant, Locale::En);
        let first = |sets: &[&TemplateSet], f: fn(&TemplateSet) -> &Option<String>| {
            sets.iter().find_map(|t| f(t).clone())
        };
        let pick = |f: fn(&TemplateSet) -> &Option<String>| -> String {
            first(&chain, f).unwrap_or_default()
        };
        let optional = |f: fn(&TemplateSet) -> &Option<String>| -> Option<String> {
            first(&chain, f).or_else(|| first(&english, f))
        };
        Rendered {
            sender_name: optional(|t| &t.sender_name).map(|s| fill(&s, ctx, false)),
            reply_to: optional(|t| &t.reply_to).map(|s| fill(&s, ctx, false)),
            subject: fill(&pick(|t| &t.subject), ctx, false).replace(['\r', '\n'], " "),
            text: fill(&pick(|t| &t.text), ctx, false).trim().to_owned(),
            html: fill(&pick(|t| &t.html), ctx, true).trim().to_owned(),
            sms: fill(&pick(|t| &t.sms), ctx, false).trim().to_owned(),
        }
    }

    /// The passcode message: the tenant's sender name and Reply-To from its templates, the
    /// code in the subject line's place, the text, the HTML and the SMS.
    pub fn passcode(&self, tenant: TenantId, ctx: &MessageContext<'_>, code: &str) -> Rendered {
        let (locale, name) = (ctx.locale, ctx.tenant_name);
        let text = catalogue::fill(locale, "otp.text", &[("tenant", name), ("code", code)]);
        let mut message = self.render(tenant, ctx);
        message.subject =
            catalogue::fill(locale, "otp.subject", &[("tenant", name)]).replace(['\r', '\n'], " ");
        let line = catalogue::fill(locale, "otp.html", &[("tenant", name)]);
        message.html = maud::html! {
            p { (line) }
            p style="font-size: 1.5em; letter-spacing: 0.2em" { b { (code) } }
        }
        .into_string();
        message.text = format!("{text}\n");
        message.sms = text;
        message
    }
}

/// Checks `[locales.xx]` sets: a supported tag, no nested `locales`, header-safe parts.
fn locale_sets(parent: &str, sets: &HashMap<String, TemplateSet>) -> Result<(), String> {
    for (tag, set) in sets {
        let section = format!("{parent}[locales.{tag}]");
        if Locale::parse(tag).is_none_or(|l| l.tag() != tag.as_str() || l == Locale::En) {
            return Err(format!(
                "{section}: not a supported locale other than en (write the tag in lower case)"
            ));
        }
        if !set.locales.is_empty() {
            return Err(format!("{section} cannot hold `locales`"));
        }
        header_safe(&section, set)?;
    }
    Ok(())
}

/// The file's locale sets followed by the built-in ones, for every supported locale but
/// English; the built-in file must cover each one completely.
fn with_built_in(
    mut file: HashMap<String, TemplateSet>,
) -> Result<HashMap<Locale, Vec<TemplateSet>>, String> {
    let built_in: TemplateFile = toml::from_str(DEFAULT_TEMPLATES).map_err(|e| e.to_string())?;
    let mut built_in = built_in.locales;
    let mut out = HashMap::new();
    for locale in Locale::ALL.into_iter().filter(|l| *l != Locale::En) {
        let Some(shipped) = built_in.remove(locale.tag()) else {
            return Err(format!(
                "the built-in templates lack [locales.{}]",
                locale.tag()
            ));
        };
        out.insert(
            locale,
            file.remove(locale.tag())
                .into_iter()
                .chain([shipped])
                .collect(),
        );
    }
    Ok(out)
}

/// The parts that become mail headers may not hold a line break or another control
/// character as written (what placeholders bring in is checked when the message is built).
fn header_safe(section: &str, set: &TemplateSet) -> Result<(), String> {
    for (name, value) in [
        ("sender_name", &set.sender_name),
        ("reply_to", &set.reply_to),
        ("subject", &set.subject),
    ] {
        if value
            .as_deref()
            .is_some_and(|v| !v.chars().all(is_name_char))
        {
            return Err(format!(
                "{section} `{name}` must not contain line breaks or other control characters"
            ));
        }
    }
    Ok(())
}

fn fill(template: &str, ctx: &MessageContext<'_>, html: bool) -> String {
    let value = |v: &str| if html { escape_html(v) } else { v.to_owned() };
    template
        .replace("{PortalUrl}", &value(ctx.portal_url))
        .replace("{RecipientName}", &value(ctx.recipient_name))
        .replace("{TenantName}", &value(ctx.tenant_name))
        .replace("{ResourceType}", &value(ctx.resource_type))
        .replace("{ExpiresAt}", &value(ctx.expires_at))
        .replace("{AccentColor}", &value(ctx.accent))
}

/// A value for an operator's HTML template, through maud's escaper (`&<>"`); `'` is written
/// as a reference too, because a template may quote an attribute with it.
fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let _ = std::fmt::Write::write_str(&mut maud::Escaper::new(&mut out), text);
    out.replace('\'', "&#39;")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx<'a>(name: &'a str) -> MessageContext<'a> {
        MessageContext {
            portal_url: "https://l.example/portal/abc",
            recipient_name: name,
            tenant_name: "Acme",
            resource_type: "Quote",
            expires_at: "2026-12-05 04:00 UTC",
            locale: Locale::En,
            accent: "#0b57d0",
        }
    }

    #[test]
    fn shipped_templates_render_and_the_sms_fits_one_segment() {
        let t = Templates::parse(DEFAULT_TEMPLATES).unwrap();
        let r = t.render(TenantId::from_u128(0), &ctx("Ann"));
        assert_eq!(r.subject, "Acme: your Quote is ready");
        assert!(
            r.text.contains("https://l.example/portal/abc") && r.text.starts_with("Hello Ann,")
        );
        assert!(
            r.html
                .contains("<a href=\"https://l.example/portal/abc\" style=\"color: #0b57d0\">")
        );
        assert_eq!(r.sender_name.as_deref(), Some("Acme"));
        let long_url = format!("https://links.example.com/portal/{}", "x".repeat(43));
        let sms = t
            .render(
                TenantId::from_u128(0),
                &MessageContext {
                    portal_url: &long_url,
                    ..ctx("Ann")
                },
            )
            .sms;
        assert!(sms.len() <= 160, "{} chars: {sms}", sms.len());
    }

    #[test]
    fn names_cannot_inject_html_or_headers() {
        let t = Templates::parse(DEFAULT_TEMPLATES).unwrap();
        let r = t.render(TenantId::from_u128(0), &ctx("<script>x</script>"));
        assert!(r.html.contains("&lt;script&gt;") && !r.html.contains("<script>"));
        let t = Templates::parse(&DEFAULT_TEMPLATES.replace(
            "subject = \"{TenantName}: your {ResourceType} is ready\"",
            "subject = \"{RecipientName}\"",
        ))
        .unwrap();
        assert_eq!(
            t.render(TenantId::from_u128(0), &ctx("a\r\nBcc: x"))
                .subject,
            "a  Bcc: x"
        );
    }

    #[test]
    fn tenant_overrides_win() {
        let text = format!(
            "{DEFAULT_TEMPLATES}\n[tenants.\"0f1e2d3c4b5a69788796a5b4c3d2e1f0\"]\nsubject = \"Hi from Acme\"\n"
        );
        let t = Templates::parse(&text).unwrap();
        let tenant = uuid::Uuid::from_u128(0x0f1e2d3c4b5a69788796a5b4c3d2e1f0);
        assert_eq!(
            t.render(TenantId::from(tenant), &ctx("Ann")).subject,
            "Hi from Acme"
        );
        assert_eq!(
            t.render(TenantId::from_u128(0), &ctx("Ann")).subject,
            "Acme: your Quote is ready"
        );
        assert!(Templates::parse("[default]\nsubject = \"x\"").is_err());
    }

    #[test]
    fn a_locale_draws_only_from_its_own_sets() {
        let text = format!(
            "{DEFAULT_TEMPLATES}\n[tenants.\"0f1e2d3c4b5a69788796a5b4c3d2e1f0\"]\nsubject = \"Hi\"\n"
        );
        let t = Templates::parse(&text).unwrap();
        let tenant = TenantId::from(uuid::Uuid::from_u128(0x0f1e2d3c4b5a69788796a5b4c3d2e1f0));
        let es = MessageContext {
            locale: Locale::Es,
            ..ctx("Ana")
        };
        let r = t.render(tenant, &es);
        assert_eq!(
            r.subject, "Acme: su Quote está disponible",
            "not the English override"
        );
        assert!(r.text.starts_with("Hola, Ana:"), "{}", r.text);
        let p = t.passcode(tenant, &es, "123456");
        assert_eq!(p.subject, "Acme: su código de verificación");
        assert!(p.sms.contains("su código es 123456"), "{}", p.sms);
        assert!(
            Templates::parse(&format!(
                "{DEFAULT_TEMPLATES}\n[locales.fr]\nsubject = \"x\"\n"
            ))
            .is_err()
        );
        let only_default = "[default]\nsubject = \"s\"\ntext = \"t\"\nhtml = \"h\"\nsms = \"m\"\n";
        let r = Templates::parse(only_default).unwrap().render(tenant, &es);
        assert!(
            r.subject.contains("está disponible"),
            "an old file: the built-in Spanish"
        );
    }

    #[test]
    fn header_parts_with_line_breaks_are_refused_at_load() {
        let bad = format!(
            "{DEFAULT_TEMPLATES}\n[tenants.\"0f1e2d3c4b5a69788796a5b4c3d2e1f0\"]\nsender_name = \"A\\r\\nBcc: x@example.com\"\n"
        );
        let e = Templates::parse(&bad).unwrap_err();
        assert!(
            e.contains("sender_name") && e.contains("line breaks"),
            "{e}"
        );
    }
}
