//! The dev pages' HTML (maud, every value escaped). English only, all page text here.

use maud::{Markup, PreEscaped, html};

use super::DevMailboxMessage;
use crate::api::dto::GrantIntrospectResponse;

/// A whole dev page, styled like the portal.
fn document(title: &str, body: Markup) -> String {
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

/// `/dev/mailbox`: every kept message, newest first, its links clickable.
pub fn mailbox(messages: &[DevMailboxMessage]) -> String {
    let body = html! {
        h1 { "Development mailbox" }
        p class="small" {
            "Development mode: email and SMS are kept here, not sent (the newest "
            (crate::delivery::mailbox::KEEP) ")."
        }
        @if messages.is_empty() {
            p { "No messages yet." }
        }
        @for m in messages {
            article class="message" id={ "m" (m.Id) } {
                h2 {
                    @if m.Subject.is_empty() { "Text message" } @else { (m.Subject) }
                }
                p class="small" {
                    (m.Channel) " to " (m.To) " at " (m.SentAtUtc.to_wire())
                }
                pre { (linked(&m.Text)) }
            }
        }
    };
    document("Development mailbox", body)
}

/// A message's text with each `http(s)://` URL as a link.
fn linked(text: &str) -> Markup {
    html! {
        @for piece in text.split_inclusive(char::is_whitespace) {
            @let word = piece.trim_end();
            @if word.starts_with("http://") || word.starts_with("https://") {
                a href=(word) { (word) } (&piece[word.len()..])
            } @else {
                (piece)
            }
        }
    }
}

/// `/dev/resource`: what a resource application receives for the grant it was handed.
pub fn resource(received: &GrantIntrospectResponse) -> String {
    let uid = |g: Option<crate::wire::types::Guid>| g.map(|g| g.0.simple().to_string());
    let rows: [(&str, Option<String>); 10] = [
        ("CustomerLinkUID", uid(received.CustomerLinkUID)),
        (
            "CustomerLinkId",
            received.CustomerLinkId.map(|i| i.to_string()),
        ),
        ("TenantId", uid(received.TenantId)),
        ("ResourceType", received.ResourceType.clone()),
        ("ResourceUid", uid(received.ResourceUid)),
        (
            "RecipientDisplayName",
            received.RecipientDisplayName.clone(),
        ),
        ("RecipientEmail", received.RecipientEmail.clone()),
        ("RecipientPhone", received.RecipientPhone.clone()),
        ("ExpiresAtUtc", received.ExpiresAtUtc.map(|t| t.to_wire())),
        ("Active", Some(received.Active.to_string())),
    ];
    let body = html! {
        h1 { "Resource application (development)" }
        @if received.Active {
            p class="notice" role="status" {
                "The grant was exchanged. A resource application would now show this resource to the recipient."
            }
        } @else {
            p class="error" role="alert" {
                "No active grant: it was already exchanged, has expired, or is missing."
            }
        }
        p class="small" { "The introspection answer (POST /v1/customerlink/grant/introspect):" }
        dl {
            @for (name, value) in &rows {
                @if let Some(value) = value {
                    dt { (name) }
                    dd { (value) }
                }
            }
        }
    };
    document("Resource application (development)", body)
}
