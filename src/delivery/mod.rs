//! delivery: getting a link to its recipient — email over SMTP, SMS over an HTTP gateway —
//! from a durable outbox. `outbox` runs one attempt of one queued delivery (used right away by
//! the create call and later by the retry worker); `email`, `sms` talk to the outside world;
//! `template` renders the messages. In dev mode `mailbox` replaces both as the last hop.

pub mod email;
pub mod mailbox;
pub mod outbox;
pub mod sms;
pub mod template;
pub mod webhook;

use crate::config::Config;
use email::EmailSender;
use sms::SmsSender;
use template::{DEFAULT_TEMPLATES, Templates};

/// Why a message did not go out. `reason` is shown to staff: it never contains a token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendError {
    /// Retrying will not help (rejected recipient, bad request).
    pub permanent: bool,
    pub reason: String,
}

impl SendError {
    pub fn permanent(reason: String) -> Self {
        SendError {
            permanent: true,
            reason,
        }
    }

    pub fn transient(reason: String) -> Self {
        SendError {
            permanent: false,
            reason,
        }
    }
}

/// The configured channels and templates, and the outbox worker's doorbell.
#[derive(Debug, Clone)]
pub struct Deliverer {
    pub email: Option<EmailSender>,
    pub sms: Option<SmsSender>,
    /// Dev mode: every email and SMS is kept here instead of being sent.
    pub mailbox: Option<mailbox::Mailbox>,
    pub templates: Templates,
    /// Posts webhook events, signed.
    pub webhook: webhook::WebhookSender,
    /// Rung once a write that queued a delivery due at once (a passcode, a webhook event) has
    /// committed (`WriterObserver::deliveries_queued`), so the worker does not wait for its
    /// interval.
    pub wake: std::sync::Arc<tokio::sync::Notify>,
}

impl Deliverer {
    /// Builds the senders and loads the templates (the data folder's, else the built-in ones).
    pub fn from_config(config: &Config) -> Result<Deliverer, String> {
        let email = config.email.as_ref().map(EmailSender::new).transpose()?;
        let sms = config.sms.as_ref().map(SmsSender::new);
        let (name, text) = match std::fs::read_to_string(&config.templates_file) {
            Ok(text) => (config.templates_file.display().to_string(), text),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                ("(built-in)".to_owned(), DEFAULT_TEMPLATES.to_owned())
            }
            Err(e) => return Err(format!("{}: {e}", config.templates_file.display())),
        };
        let templates = Templates::parse(&text).map_err(|e| format!("templates {name}: {e}"))?;
        let mailbox = config
            .dev
            .then(|| mailbox::Mailbox::new(config.dev_mailbox_path()));
        Ok(Deliverer {
            email,
            sms,
            mailbox,
            templates,
            webhook: webhook::WebhookSender::new(&config.webhooks),
            wake: Default::default(),
        })
    }

    /// Whether a message on `channel` can go anywhere (a relay, a gateway or the mailbox).
    pub fn can_send(&self, channel: crate::domain::policy::Channel) -> bool {
        use crate::domain::policy::Channel;
        self.mailbox.is_some()
            || match channel {
                Channel::Email => self.email.is_some(),
                Channel::Sms => self.sms.is_some(),
            }
    }
}
