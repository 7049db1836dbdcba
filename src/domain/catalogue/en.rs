//! The English catalogue: every recipient-facing string, by key (sorted; see `super`).

/// Key → text; `{name}` marks a value filled in at render time.
pub const EN: &[(&str, &str)] = &[
    ("channel.email", "email"),
    ("channel.sms", "text message"),
    ("mail.anonymous", "there"),
    ("notice.code", "Please verify the one-time code first."),
    (
        "notice.reissue",
        "Thank you. If a new link can be sent, it is on its way to the address the link was sent to.",
    ),
    (
        "notice.sent",
        "If this link is valid, a code is on its way. You can ask for another in a minute.",
    ),
    ("notice.verified", "Code accepted."),
    (
        "notice.wait",
        "Too many attempts. Please wait a while and try again.",
    ),
    (
        "notice.wrong",
        "That code is not valid. Check it, or ask for a new one.",
    ),
    (
        "otp.html",
        "{tenant}: your code is valid for 10 minutes. Do not share it.",
    ),
    ("otp.subject", "{tenant}: your verification code"),
    (
        "otp.text",
        "{tenant}: your code is {code}. It is valid for 10 minutes. Do not share it.",
    ),
    (
        "page.code.body",
        "To make sure it reaches the right person, we will send a one-time code by {channel}.",
    ),
    ("page.code.heading", "{tenant} shared something with you"),
    ("page.code.label", "One-time code"),
    ("page.code.resend", "Send the code again"),
    ("page.code.send", "Send me a code"),
    ("page.code.verify", "Verify"),
    ("page.document.button", "Download"),
    (
        "page.document.count",
        "Each download counts as one view ({used} of {max} used).",
    ),
    (
        "page.document.heading",
        "{tenant} shared a document with you",
    ),
    ("page.expires", "This link can be used until {date}."),
    ("page.logo", "{tenant} logo"),
    ("page.not_allowed.back", "Back to your link"),
    (
        "page.not_allowed.body",
        "This form must be sent from this site.",
    ),
    ("page.not_allowed.title", "Not allowed"),
    (
        "page.opened.body",
        "The view was counted, but no application is configured to show this kind of resource. Please contact the sender.",
    ),
    ("page.opened.title", "Opened"),
    ("page.switch.back", "Back to the link you had open"),
    (
        "page.switch.body",
        "Continue with this one? The link you had open stays valid; you can open it again from its message.",
    ),
    ("page.switch.button", "Continue with this link"),
    ("page.switch.heading", "You have another link open"),
    ("page.switch.title", "Another link"),
    (
        "page.unavailable.body",
        "It may have expired or been used up. Ask the sender for a new one.",
    ),
    ("page.unavailable.heading", "This link is not available"),
    ("page.unavailable.reissue", "Ask for a new link"),
    ("page.unavailable.title", "Link not available"),
    ("page.view.button", "Open the {type}"),
    (
        "page.view.count",
        "Each opening counts as one view ({used} of {max} used).",
    ),
    ("page.view.heading", "{tenant} shared {a} {type} with you"),
];
