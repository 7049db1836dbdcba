//! The portal's HTML as maud templates: the markup is checked at compile time, no template
//! file is read at run time, and every value placed in it goes through maud's escaping (the
//! portal's one HTML escaper), so a tenant name or token can never inject markup.

use maud::{Markup, PreEscaped, html};

/// What the landing page shows of a link.
#[derive(Debug)]
pub struct LinkView<'a> {
    pub tenant_name: &'a str,
    pub resource_type: &'a str,
    pub view_count: u32,
    pub max_views: u32,
}

/// A whole page: `title` in the head, `body` in `<main>`.
pub fn document(title: &str, body: Markup) -> String {
    html! {
        (PreEscaped("<!doctype html>"))
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) }
                link rel="stylesheet" href="/portal/style.css";
            }
            body { main { (body) } }
        }
    }
    .into_string()
}

/// The confirmation form shown before another site's navigation may replace the open link
/// (`base`: `/portal` or `/share`).
pub fn confirm_switch(base: &str, token: &str) -> Markup {
    html! {
        h1 { "You have another link open" }
        p { "Continue with this one? The link you had open stays valid; you can open it again from its message." }
        form method="post" action={ (base) "/switch" } {
            input type="hidden" name="Token" value=(token);
            button type="submit" { "Continue with this link" }
        }
        p class="small" { a href=(base) { "Back to the link you had open" } }
    }
}

/// A form post from another origin.
pub fn not_allowed(base: &str) -> Markup {
    html! {
        h1 { "Not allowed" }
        p { "This form must be sent from this site. " a href=(base) { "Back to your link" } "." }
    }
}

/// Unknown, expired, revoked, used-up and locked links all look the same, and all offer to
/// ask for a new link (a same-origin form post to `{base}/reissue`, answered the same for
/// every link: `notice` `reissue` then says so).
pub fn unavailable(base: &str, notice: &str) -> Markup {
    html! {
        h1 { "This link is not available" }
        p { "It may have expired or been used up. Ask the sender for a new one." }
        @if notice == "reissue" {
            p class="notice" role="status" { (REISSUE_REQUESTED) }
        } @else {
            form method="post" action={ (base) "/reissue" } {
                button type="submit" class="secondary" { "Ask for a new link" }
            }
        }
    }
}

/// The answer to "Ask for a new link", the same for every link.
const REISSUE_REQUESTED: &str = super::reissue::REISSUE_REQUESTED;

/// A counted view of a resource type no application is configured to show.
pub fn opened_nowhere() -> Markup {
    html! {
        h1 { "Opened" }
        p { "The view was counted, but no application is configured to show this kind of resource. Please contact the sender." }
    }
}

/// The landing page of a link that may be opened now.
pub fn can_view(link: &LinkView<'_>, notice: &str) -> Markup {
    html! {
        h1 { (link.tenant_name) " shared " (article(link.resource_type)) " " (link.resource_type) " with you" }
        (notice_markup(notice))
        form method="post" action="/portal/open" {
            button type="submit" { "Open the " (link.resource_type) }
        }
        p class="small" {
            "Each opening counts as one view (" (link.view_count) " of " (link.max_views) " used)."
        }
    }
}

/// A share's landing page once it may be downloaded: the document's name and a Download
/// button (a same-origin `GET /share/download`, which counts the view).
pub fn document_ready(link: &LinkView<'_>, document_name: &str, notice: &str) -> Markup {
    html! {
        h1 { (link.tenant_name) " shared a document with you" }
        (notice_markup(notice))
        p class="document" { (document_name) }
        form method="get" action="/share/download" {
            button type="submit" { "Download" }
        }
        p class="small" {
            "Each download counts as one view (" (link.view_count) " of " (link.max_views) " used)."
        }
    }
}

/// Who asks for a passcode and how it goes out, on which surface (`/portal` or `/share`).
#[derive(Debug)]
pub struct CodeView<'a> {
    pub base: &'a str,
    pub tenant_name: &'a str,
    pub channel: &'a str,
}

/// The landing page of a link that needs a passcode first; `code_form` shows the code entry.
pub fn needs_code(shown: &CodeView<'_>, notice: &str, code_form: bool, code_sent: bool) -> Markup {
    let CodeView {
        base,
        tenant_name,
        channel,
    } = shown;
    html! {
        h1 { (tenant_name) " shared something with you" }
        p { "To make sure it reaches the right person, we will send a one-time code by " (channel) "." }
        (notice_markup(notice))
        @if code_form {
            form method="post" action={ (base) "/verify" } {
                label for="code" { "One-time code" }
                input id="code" name="Code" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9 -]*" required autofocus;
                button type="submit" { "Verify" }
            }
        }
        form method="post" action={ (base) "/otp" } {
            button type="submit" class="secondary" {
                @if code_sent { "Send the code again" } @else { "Send me a code" }
            }
        }
    }
}

/// The status line for the `m` query parameter of `/portal` (nothing for an unknown one).
fn notice_markup(notice: &str) -> Markup {
    let (class, role, text) = match notice {
        "sent" => (
            "notice",
            "status",
            "If this link is valid, a code is on its way. You can ask for another in a minute.",
        ),
        "wrong" => (
            "error",
            "alert",
            "That code is not valid. Check it, or ask for a new one.",
        ),
        "wait" => (
            "error",
            "alert",
            "Too many attempts. Please wait a while and try again.",
        ),
        "code" => ("error", "alert", "Please verify the one-time code first."),
        "verified" => ("notice", "status", "Code accepted."),
        _ => return html! {},
    };
    html! { p class=(class) role=(role) { (text) } }
}

/// `a` or `an` before a resource type name.
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
        let page = document("A & B", can_view(&link, "verified"));
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
            channel: "email",
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
            can_view(&link, "").into_string(),
            "<h1>Acme shared a Document with you</h1><form method=\"post\" action=\"/portal/open\">\
             <button type=\"submit\">Open the Document</button></form><p class=\"small\">Each \
             opening counts as one view (0 of 20 used).</p>"
        );
        assert_eq!(
            needs_code(&shown("Acme"), "sent", true, true).into_string(),
            "<h1>Acme shared something with you</h1><p>To make sure it reaches the right person, \
             we will send a one-time code by email.</p><p class=\"notice\" role=\"status\">If this \
             link is valid, a code is on its way. You can ask for another in a minute.</p><form \
             method=\"post\" action=\"/portal/verify\"><label for=\"code\">One-time code</label>\
             <input id=\"code\" name=\"Code\" inputmode=\"numeric\" autocomplete=\"one-time-code\" \
             pattern=\"[0-9 -]*\" required autofocus><button type=\"submit\">Verify</button></form>\
             <form method=\"post\" action=\"/portal/otp\"><button type=\"submit\" \
             class=\"secondary\">Send the code again</button></form>"
        );
        let page = needs_code(&shown("Acme"), "other", false, false).into_string();
        assert!(page.contains("class=\"secondary\">Send me a code</button>"));
        assert!(!page.contains("role=") && !page.contains("id=\"code\""));
    }

    #[test]
    fn the_switch_form_carries_the_token_escaped() {
        let body = confirm_switch("/portal", "a\"b").into_string();
        assert!(body.contains("<input type=\"hidden\" name=\"Token\" value=\"a&quot;b\">"));
    }
}
