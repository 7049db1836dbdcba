//! Email over an SMTP relay with lettre (tokio, rustls — no OpenSSL). The relay is configured
//! by URL; a private CA file can be trusted for on-prem relays. Messages are multipart
//! text + HTML with Date and Message-ID, From/Reply-To per tenant, and no tracking.

use std::fmt::Write as _;

use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use super::SendError;
use super::template::Rendered;
use crate::config::EmailSettings;

/// A configured relay.
#[derive(Clone)]
pub struct EmailSender {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: lettre::Address,
    default_name: Option<String>,
    default_reply_to: Option<String>,
}

impl std::fmt::Debug for EmailSender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmailSender")
            .field("from", &self.from)
            .finish_non_exhaustive()
    }
}

impl EmailSender {
    /// Builds the transport (no connection is made yet).
    pub fn new(settings: &EmailSettings) -> Result<EmailSender, String> {
        let url = settings.smtp_url.expose();
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|e| format!("email.smtp_url: {e}"))?
            .timeout(Some(settings.timeout));
        if let Some(ca_file) = &settings.ca_file {
            builder = builder.tls(tls_with_ca(url, ca_file)?);
        }
        let from = settings
            .from
            .parse()
            .map_err(|e| format!("email.from: {e}"))?;
        Ok(EmailSender {
            transport: builder.build(),
            from,
            default_name: settings.from_name.clone(),
            default_reply_to: settings.reply_to.clone(),
        })
    }

    /// Sends one message. 5xx answers are permanent failures; 4xx, timeouts and connection
    /// problems are transient; a message that cannot be built is a permanent failure.
    pub async fn send(&self, to: &str, message: &Rendered) -> Result<(), SendError> {
        let email = self.build(to, message)?;
        self.transport
            .send(email)
            .await
            .map(|_| ())
            .map_err(|e| SendError {
                permanent: e.is_permanent(),
                reason: format!("SMTP relay: {e}"),
            })
    }

    /// Builds the message without sending it. Never panics, whatever the rendered text
    /// holds: every header goes through lettre's fallible parsers and encoders.
    pub fn build(&self, to: &str, message: &Rendered) -> Result<Message, SendError> {
        let to: Mailbox = to
            .parse()
            .map_err(|e| SendError::permanent(format!("bad recipient address: {e}")))?;
        let name = message
            .sender_name
            .clone()
            .or_else(|| self.default_name.clone());
        let from = writable(Mailbox::new(name, self.from.clone()), "sender name")?;
        let mut builder = Message::builder()
            .from(from)
            .to(writable(to, "recipient address")?)
            .subject(message.subject.replace(['\r', '\n'], " "))
            .message_id(None);
        if let Some(reply_to) = message.reply_to.as_ref().or(self.default_reply_to.as_ref()) {
            let reply_to: Mailbox = reply_to
                .parse()
                .map_err(|e| SendError::permanent(format!("bad Reply-To: {e}")))?;
            builder = builder.reply_to(writable(reply_to, "Reply-To")?);
        }
        builder
            .multipart(MultiPart::alternative_plain_html(
                message.text.clone(),
                message.html.clone(),
            ))
            .map_err(|e| SendError::permanent(format!("message not built: {e}")))
    }
}

/// lettre writes an address header through the mailbox's `Display`, which refuses a name it
/// cannot carry (one with a line break) by returning an error — and lettre then panics on
/// it. Writing the mailbox once here, where the error is a value, turns that case into a
/// permanent delivery failure instead.
fn writable(mailbox: Mailbox, what: &str) -> Result<Mailbox, SendError> {
    let mut probe = String::new();
    match write!(probe, "{mailbox}") {
        Ok(()) => Ok(mailbox),
        Err(_) => Err(SendError::permanent(format!(
            "the {what} cannot be written in a mail header (it contains a line break)"
        ))),
    }
}

/// TLS parameters trusting `ca_file` for the relay host, in the mode the URL asks for.
fn tls_with_ca(url: &str, ca_file: &std::path::Path) -> Result<Tls, String> {
    let parsed = url::Url::parse(url).map_err(|e| format!("email.smtp_url: {e}"))?;
    let host = parsed
        .host_str()
        .ok_or("email.smtp_url: no host")?
        .to_owned();
    let pem =
        std::fs::read(ca_file).map_err(|e| format!("email.ca_file {}: {e}", ca_file.display()))?;
    let cert = Certificate::from_pem(&pem).map_err(|e| format!("email.ca_file: {e}"))?;
    let params = TlsParameters::builder(host)
        .add_root_certificate(cert)
        .build()
        .map_err(|e| format!("email.ca_file: {e}"))?;
    let mode = parsed
        .query_pairs()
        .find(|(k, _)| k == "tls")
        .map(|(_, v)| v.into_owned());
    Ok(match (parsed.scheme(), mode.as_deref()) {
        ("smtps", _) => Tls::Wrapper(params),
        (_, Some("opportunistic")) => Tls::Opportunistic(params),
        _ => Tls::Required(params),
    })
}
