//! The portal's HTML as maud templates: the markup is checked at compile time, no template
//! file is read at run time, and every value placed in it goes through maud's escaping (the
//! portal's one HTML escaper), so a tenant name or token can never inject markup. Every word
//! comes from the catalogue of the page's one locale (`domain::catalogue`), `lang` included.

use maud::{Markup, PreEscaped, html};

use crate::domain::catalogue::{fill, text};
use crate::domain::locale::Locale;

/// What the landing page shows of a link.
#[derive(Debug)]
pub struct LinkView<'a> {
    pub tenant_name: &'a str,
    pub resource_type: &'a str,
    pub view_count: u32,
    pub max_views: u32,
}

/// The tenant's branding on a page: its stylesheet (accent) and logo, each a same-origin URL
/// with a content version, so the CSP stays `'self'` and the assets can be cached long.
#[derive(Debug, Default)]
pub struct Brand {
    /// `/brand/{TenantId}/style.css?v=…` when the tenant has an accent.
    pub stylesheet: Option<String>,
    /// `/brand/{TenantId}/logo.png?v=…` and its alternative text, when it has a logo.
    pub logo: Option<(String, String)>,
}

/// A whole page in `locale`: `title` in the head, the tenant's logo (if any) and `body` in
/// `<main>`.
pub fn document(locale: Locale, title: &str, brand: &Brand, body: Markup) -> String {
    html! {
        (PreEscaped("<!doctype html>"))
        html lang=(locale.tag()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) }
                link rel="stylesheet" href="/portal/style.css";
                @if let Some(href) = &brand.stylesheet {
                    link rel="stylesheet" href=(href);
                }
            }
            body {
                main {
                    @if let Some((src, alt)) = &brand.logo {
                        img class="logo" src=(src) alt=(alt);
                    }
                    (body)
                }
            }
        }
    }
    .into_string()
}

/// The confirmation form shown before another site's navigation may replace the open link
/// (`base`: `/portal` or `/share`).
pub fn confirm_switch(locale: Locale, base: &str, token: &str) -> Markup {
    let t = |key| text(locale, key);
    html! {
        h1 { (t("page.switch.heading")) }
        p { (t("page.switch.body")) }
        form method="post" action={ (base) "/switch" } {
            input type="hidden" name="Token" value=(token);
            button type="submit" { (t("page.switch.button")) }
        }
        p class="small" { a href=(base) { (t("page.switch.back")) } }
    }
}

/// A form post from another origin.
pub fn not_allowed(locale: Locale, base: &str) -> Markup {
    let t = |key| text(locale, key);
    html! {
        h1 { (t("page.not_allowed.title")) }
        p { (t("page.not_allowed.body")) " " a href=(base) { (t("page.not_allowed.back")) } "." }
    }
}

/// Unknown, expired, revoked, used-up and locked links all look the same, and all offer to
/// ask for a new link (a same-origin form post to `{base}/reissue`, answered the same for
/// every link: `notice` `reissue` then says so).
pub fn unavailable(locale: Locale, base: &str, notice: &str) -> Markup {
    html! {
        h1 { (text(locale, "page.unavailable.heading")) }
        p { (text(locale, "page.unavailable.body")) }
        @if notice == "reissue" {
            p class="notice" role="status" { (text(locale, "notice.reissue")) }
        } @else {
            form method="post" action={ (base) "/reissue" } {
                button type="submit" class="secondary" { (text(locale, "page.unavailable.reissue")) }
            }
        }
    }
}

/// A counted view of a resource type no application is configured to show.
pub fn opened_nowhere(locale: Locale) -> Markup {
    html! {
        h1 { (text(locale, "page.opened.title")) }
        p { (text(locale, "page.opened.body")) }
    }
}

/// The landing page of a link that may be opened now.
pub fn can_view(locale: Locale, link: &LinkView<'_>, notice: &str) -> Markup {
    let kind = link.resource_type;
    let heading = fill(
        locale,
        "page.view.heading",
        &[
            ("tenant", link.tenant_name),
            ("a", article(kind)),
            ("type", kind),
        ],
    );
    html! {
        h1 { (heading) }
        (notice_markup(locale, notice))
        form method="post" action="/portal/open" {
            button type="submit" { (fill(locale, "page.view.button", &[("type", kind)])) }
        }
        p class="small" { (count(locale, "page.view.count", link)) }
    }
}

/// A share's landing page once it may be downloaded: the document's name and a Download
/// button (a same-origin `GET /share/download`, which counts the view).
pub fn document_ready(
    locale: Locale,
    link: &LinkView<'_>,
    document_name: &str,
    notice: &str,
) -> Markup {
    let tenant = [("tenant", link.tenant_name)];
    html! {
        h1 { (fill(locale, "page.document.heading", &tenant)) }
        (notice_markup(locale, notice))
        p class="document" { (document_name) }
        form method="get" action="/share/download" {
            button type="submit" { (text(locale, "page.document.button")) }
        }
        p class="small" { (count(locale, "page.document.count", link)) }
    }
}

/// A viewable link's page with, last, until when the link may be used (in `locale`'s
/// writing of dates; shown only once the recipient may view, like everything of the link).
pub fn with_expiry(locale: Locale, body: Markup, date: &str) -> Markup {
    html! {
        (body)
        p class="small" { (fill(locale, "page.expires", &[("date", date)])) }
    }
}

/// "Each … counts as one view (n of m used)."
fn count(locale: Locale, key: &'static str, link: &LinkView<'_>) -> String {
    let (used, max) = (link.view_count.to_string(), link.max_views.to_string());
    fill(locale, key, &[("used", &used), ("max", &max)])
}

/// Who asks for a passcode and how it goes out, on which surface (`/portal` or `/share`).
#[derive(Debug)]
pub struct CodeView<'a> {
    pub base: &'a str,
    pub tenant_name: &'a str,
    /// The catalogue key of the channel's name (`channel.email`, `channel.sms`).
    pub channel: &'static str,
}

/// The landing page of a link that needs a passcode first; `code_form` shows the code entry.
pub fn needs_code(
    locale: Locale,
    shown: &CodeView<'_>,
    notice: &str,
    code_form: bool,
    code_sent: bool,
) -> Markup {
    let t = |key| text(locale, key);
    let CodeView {
        base,
        tenant_name,
        channel,
    } = shown;
    let heading = fill(locale, "page.code.heading", &[("tenant", tenant_name)]);
    let body = fill(locale, "page.code.body", &[("channel", t(channel))]);
    html! {
        h1 { (heading) }
        p { (body) }
        (notice_markup(locale, notice))
        @if code_form {
            form method="post" action={ (base) "/verify" } {
                label for="code" { (t("page.code.label")) }
                input id="code" name="Code" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9 -]*" required autofocus;
                button type="submit" { (t("page.code.verify")) }
            }
        }
        form method="post" action={ (base) "/otp" } {
            button type="submit" class="secondary" {
                @if code_sent { (t("page.code.resend")) } @else { (t("page.code.send")) }
            }
        }
    }
}

/// The status line for the `m` query parameter of `/portal` (nothing for an unknown one).
fn notice_markup(locale: Locale, notice: &str) -> Markup {
    let (class, role, key) = match notice {
        "sent" => ("notice", "status", "notice.sent"),
        "wrong" => ("error", "alert", "notice.wrong"),
        "wait" => ("error", "alert", "notice.wait"),
        "code" => ("error", "alert", "notice.code"),
        "verified" => ("notice", "status", "notice.verified"),
        _ => return html! {},
    };
    html! { p class=(class) role=(role) { (text(locale, key)) } }
}

/// `a` or `an` before a resource type name (English's `{a}`; other languages do without).
fn article(word: &str) -> &'static str {
    match word.chars().next().map(|c| c.to_ascii_lowercase()) {
        Some('a' | 'e' | 'i' | 'o' | 'u') => "an",
        _ => "a",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_escaped_and_markup_is_kept() {
        let link = LinkView {
            tenant_name: "<b>\"Acme\" & Co</b>",
            resource_type: "Invoice",
            view_count: 1,
            max_views: 3,
        };
        let page = document(
            Locale::En,
            "A & B",
            &Brand::default(),
            can_view(Locale::En, &link, "verified"),
        );
        assert!(
            page.starts_with("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">")
        );
        assert!(page.contains("<title>A &amp; B</title>"));
        assert!(page.contains(
            "<h1>&lt;b&gt;&quot;Acme&quot; &amp; Co&lt;/b&gt; shared an Invoice with you</h1>\
             <p class=\"notice\" role=\"status\">Code accepted.</p>"
        ));
        assert!(page.contains("(1 of 3 used).</p></main></body></html>"));
    }

    fn shown(tenant_name: &str) -> CodeView<'_> {
        CodeView {
            base: "/portal",
            tenant_name,
            channel: "channel.email",
        }
    }

    #[test]
    fn the_landing_bodies_are_byte_identical_to_the_former_markup() {
        let link = LinkView {
            tenant_name: "Acme",
            resource_type: "Document",
            view_count: 0,
            max_views: 20,
        };
        assert_eq!(
            can_view(Locale::En, &link, "").into_string(),
            "<h1>Acme shared a Document with you</h1><form method=\"post\" action=\"/portal/open\">\
             <button type=\"submit\">Open the Document</button></form><p class=\"small\">Each \
             opening counts as one view (0 of 20 used).</p>"
        );
        assert_eq!(
            needs_code(Locale::En, &shown("Acme"), "sent", true, true).into_string(),
            "<h1>Acme shared something with you</h1><p>To make sure it reaches the right person, \
             we will send a one-time code by email.</p><p class=\"notice\" role=\"status\">If this \
             link is valid, a code is on its way. You can ask for another in a minute.</p><form \
             method=\"post\" action=\"/portal/verify\"><label for=\"code\">One-time code</label>\
             <input id=\"code\" name=\"Code\" inputmode=\"numeric\" autocomplete=\"one-time-code\" \
             pattern=\"[0-9 -]*\" required autofocus><button type=\"submit\">Verify</button></form>\
             <form method=\"post\" action=\"/portal/otp\"><button type=\"submit\" \
             class=\"secondary\">Send the code again</button></form>"
        );
        let page = needs_code(Locale::En, &shown("Acme"), "other", false, false).into_string();
        assert!(page.contains("class=\"secondary\">Send me a code</button>"));
        assert!(!page.contains("role=") && !page.contains("id=\"code\""));
    }

    #[test]
    fn every_page_in_every_locale_finds_all_its_keys() {
        let link = LinkView {
            tenant_name: "Acme",
            resource_type: "Quote",
            view_count: 0,
            max_views: 2,
        };
        for locale in Locale::ALL {
            let mut bodies = vec![
                confirm_switch(locale, "/portal", "t"),
                not_allowed(locale, "/portal"),
                unavailable(locale, "/portal", ""),
                unavailable(locale, "/portal", "reissue"),
                opened_nowhere(locale),
                with_expiry(
                    locale,
                    document_ready(locale, &link, "a.pdf", "verified"),
                    "d",
                ),
            ];
            for notice in ["sent", "wrong", "wait", "code", "verified"] {
                bodies.push(can_view(locale, &link, notice));
                let code = CodeView {
                    channel: "channel.sms",
                    ..shown("Acme")
                };
                bodies.push(needs_code(locale, &code, notice, true, false));
                bodies.push(needs_code(locale, &shown("Acme"), notice, false, true));
            }
            for body in bodies {
                let page = body.into_string();
                for prefix in ["page.", "notice.", "channel.", "{"] {
                    assert!(
                        !page.contains(prefix),
                        "{locale:?}: a key or placeholder in {page}"
                    );
                }
            }
        }
    }

    #[test]
    fn the_switch_form_carries_the_token_escaped() {
        let body = confirm_switch(Locale::En, "/portal", "a\"b").into_string();
        assert!(body.contains("<input type=\"hidden\" name=\"Token\" value=\"a&quot;b\">"));
    }
}
