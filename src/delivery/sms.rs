//! SMS through a configurable gateway: Twilio's Messages API (any compatible provider, by
//! base URL), a generic HTTP gateway with URL/body templates (Kannel, Jasmin …), or `log` for
//! development. 2xx is success; 429, 5xx and network trouble are transient; other 4xx are
//! permanent. Gateway answers are not copied into errors: they may echo the message text,
//! which carries the link.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::header::{AUTHORIZATION, CONTENT_TYPE, HeaderValue};
use hyper::{Method, Request, StatusCode};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

use super::SendError;
use crate::config::{BodyEncoding, HttpAuth, SmsSettings};
use crate::domain::delivery::mask;

type HttpsClient = Client<hyper_rustls::HttpsConnector<HttpConnector>, Full<Bytes>>;

/// A request for the gateway and how long to wait for its answer.
pub type GatewayRequest = (Request<Full<Bytes>>, std::time::Duration);

/// A configured gateway.
#[derive(Clone)]
pub struct SmsSender {
    settings: SmsSettings,
    client: HttpsClient,
}

impl std::fmt::Debug for SmsSender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmsSender").finish_non_exhaustive()
    }
}

impl SmsSender {
    pub fn new(settings: &SmsSettings) -> SmsSender {
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_webpki_roots()
            .https_or_http()
            .enable_http1()
            .build();
        SmsSender {
            settings: settings.clone(),
            client: Client::builder(TokioExecutor::new()).build(https),
        }
    }

    /// Sends `text` to `to` (E.164).
    pub async fn send(&self, to: &str, text: &str) -> Result<(), SendError> {
        let Some((request, timeout)) = self.request(to, text)? else {
            tracing::info!(to = %mask(to), chars = text.chars().count(), "SMS (log gateway): not sent anywhere");
            return Ok(());
        };
        let response = tokio::time::timeout(timeout, self.client.request(request))
            .await
            .map_err(|_| SendError::transient("SMS gateway did not answer in time".into()))?
            .map_err(|e| {
                SendError::transient(format!("SMS gateway unreachable: {}", connect_reason(&e)))
            })?;
        let status = response.status();
        let _ = tokio::time::timeout(timeout, response.into_body().collect()).await;
        classify(status)
    }

    /// The gateway request for `text` to `to` and its timeout, without sending it (`None`
    /// for the log gateway). Never panics, whatever the text: a request that cannot be built
    /// is a permanent failure.
    pub fn request(&self, to: &str, text: &str) -> Result<Option<GatewayRequest>, SendError> {
        Ok(Some(match &self.settings {
            SmsSettings::Log => return Ok(None),
            SmsSettings::Twilio {
                base_url,
                account_sid,
                auth_token,
                from,
                messaging_service_sid,
                timeout,
            } => {
                let url = format!("{base_url}/2010-04-01/Accounts/{account_sid}/Messages.json");
                let mut form = form_urlencoded::Serializer::new(String::new());
                form.append_pair("To", to);
                match (messaging_service_sid, from) {
                    (Some(sid), _) => form.append_pair("MessagingServiceSid", sid),
                    (None, Some(from)) => form.append_pair("From", from),
                    (None, None) => &mut form,
                };
                form.append_pair("Body", text);
                let auth = basic(account_sid, auth_token.expose());
                (
                    build(
                        Method::POST,
                        &url,
                        Some(("application/x-www-form-urlencoded", form.finish())),
                        Some(auth),
                    )?,
                    *timeout,
                )
            }
            SmsSettings::Http {
                method,
                url,
                body,
                encoding,
                auth,
                from,
                timeout,
            } => {
                let from = from.as_deref().unwrap_or("");
                let url = fill(url, to, from, text, Escape::Url);
                let body = match encoding {
                    BodyEncoding::None => None,
                    BodyEncoding::Form => Some((
                        "application/x-www-form-urlencoded",
                        fill(body, to, from, text, Escape::Url),
                    )),
                    BodyEncoding::Json => {
                        Some(("application/json", fill(body, to, from, text, Escape::Json)))
                    }
                };
                let method = Method::from_bytes(method.as_bytes())
                    .map_err(|_| SendError::permanent("sms.method is not an HTTP method".into()))?;
                let auth = auth_header(auth);
                (build(method, &url, body, auth)?, *timeout)
            }
        }))
    }
}

/// The `(name, value)` header a configured gateway authentication sends, if any.
fn auth_header(auth: &HttpAuth) -> Option<(String, String)> {
    match auth {
        HttpAuth::None => None,
        HttpAuth::Basic { username, password } => Some(basic(username, password.expose())),
        HttpAuth::Bearer(token) => Some((
            AUTHORIZATION.as_str().to_owned(),
            format!("Bearer {}", token.expose()),
        )),
        HttpAuth::Header { name, value } => Some((name.clone(), value.expose().clone())),
    }
}

fn classify(status: StatusCode) -> Result<(), SendError> {
    if status.is_success() {
        return Ok(());
    }
    let reason = format!("SMS gateway answered {}", status.as_u16());
    if status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error() {
        Err(SendError::transient(reason))
    } else {
        Err(SendError::permanent(reason))
    }
}

/// The connection error without URL or credentials.
fn connect_reason(e: &hyper_util::client::legacy::Error) -> &'static str {
    if e.is_connect() {
        "connection failed"
    } else {
        "request failed"
    }
}

fn basic(user: &str, password: &str) -> (String, String) {
    (
        AUTHORIZATION.as_str().to_owned(),
        format!("Basic {}", STANDARD.encode(format!("{user}:{password}"))),
    )
}

fn build(
    method: Method,
    url: &str,
    body: Option<(&str, String)>,
    auth: Option<(String, String)>,
) -> Result<Request<Full<Bytes>>, SendError> {
    let mut builder = Request::builder().method(method).uri(url);
    if let Some((name, value)) = auth {
        let value = HeaderValue::from_str(&value).map_err(|_| {
            SendError::permanent("SMS gateway credentials are not valid header text".into())
        })?;
        builder = builder.header(name, value);
    }
    let body = match body {
        Some((content_type, text)) => {
            builder = builder.header(CONTENT_TYPE, content_type);
            Bytes::from(text)
        }
        None => Bytes::new(),
    };
    builder
        .body(Full::new(body))
        .map_err(|_| SendError::permanent("SMS gateway URL is not valid".into()))
}

#[derive(Clone, Copy)]
enum Escape {
    Url,
    Json,
}

/// Substitutes `{to}`, `{from}` and `{text}`, escaped for where they land.
fn fill(template: &str, to: &str, from: &str, text: &str, escape: Escape) -> String {
    let esc = |v: &str| match escape {
        Escape::Url => form_urlencoded::byte_serialize(v.as_bytes()).collect::<String>(),
        Escape::Json => {
            let quoted = serde_json::to_string(v).unwrap_or_default();
            quoted
                .get(1..quoted.len().saturating_sub(1))
                .unwrap_or("")
                .to_owned()
        }
    };
    template
        .replace("{to}", &esc(to))
        .replace("{from}", &esc(from))
        .replace("{text}", &esc(text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_escape_for_their_place() {
        let url = fill(
            "http://k/send?to={to}&text={text}",
            "+1555",
            "",
            "a b&c=/x",
            Escape::Url,
        );
        assert_eq!(url, "http://k/send?to=%2B1555&text=a+b%26c%3D%2Fx");
        let json = fill(
            r#"{"to":"{to}","msg":"{text}"}"#,
            "+1555",
            "",
            "say \"hi\"\n",
            Escape::Json,
        );
        assert_eq!(json, r#"{"to":"+1555","msg":"say \"hi\"\n"}"#);
    }

    #[test]
    fn statuses_are_classified() {
        assert!(classify(StatusCode::CREATED).is_ok());
        assert!(classify(StatusCode::BAD_REQUEST).unwrap_err().permanent);
        assert!(
            !classify(StatusCode::TOO_MANY_REQUESTS)
                .unwrap_err()
                .permanent
        );
        assert!(!classify(StatusCode::BAD_GATEWAY).unwrap_err().permanent);
    }
}
