//! Webhook events over HTTP, signed as Standard Webhooks 1.0 says: `webhook-id` (stable across
//! retries), `webhook-timestamp` (Unix seconds of this attempt) and `webhook-signature:
//! v1,<base64 HMAC-SHA256(secret, "{id}.{timestamp}.{body}")>`, the secret being the bytes
//! `whsec_` carries. 2xx is success; any other answer or no answer is retried with the
//! `[delivery]` backoff. Answers are not copied into errors beyond their status.

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use http_body_util::Full;
use hyper::header::{CONTENT_TYPE, HeaderValue};
use hyper::{Method, Request};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

use super::SendError;
use crate::domain::webhook::WebhookMessage;

type HttpsClient = Client<hyper_rustls::HttpsConnector<HttpConnector>, Full<Bytes>>;

/// Posts signed events; cheap to clone.
#[derive(Clone)]
pub struct WebhookSender {
    client: HttpsClient,
    timeout: Duration,
    /// Failures in a row after which an endpoint is switched off.
    pub max_failures: u32,
}

impl std::fmt::Debug for WebhookSender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookSender").finish_non_exhaustive()
    }
}

/// The `webhook-signature` value of one attempt.
pub fn signature(secret: &[u8], id: &str, timestamp: i64, body: &str) -> String {
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret);
    let signed = format!("{id}.{timestamp}.{body}");
    let tag = ring::hmac::sign(&key, signed.as_bytes());
    format!("v1,{}", STANDARD.encode(tag.as_ref()))
}

impl WebhookSender {
    pub fn new(settings: &crate::config::WebhookSettings) -> WebhookSender {
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_webpki_roots()
            .https_or_http()
            .enable_http1()
            .build();
        WebhookSender {
            client: Client::builder(TokioExecutor::new()).build(https),
            timeout: settings.timeout,
            max_failures: settings.max_consecutive_failures,
        }
    }

    /// POSTs `message` to `url`, signed with `secret` at `timestamp` (Unix seconds).
    pub async fn send(
        &self,
        url: &str,
        secret: &[u8],
        message: &WebhookMessage,
        timestamp: i64,
    ) -> Result<(), SendError> {
        let request = build(url, secret, message, timestamp)?;
        let response = tokio::time::timeout(self.timeout, self.client.request(request))
            .await
            .map_err(|_| SendError::transient("the endpoint did not answer in time".into()))?
            .map_err(|e| {
                let why = if e.is_connect() {
                    "connection failed"
                } else {
                    "request failed"
                };
                SendError::transient(format!("the endpoint is unreachable: {why}"))
            })?;
        // Only the status matters; the answer's body is not read (dropping it closes the
        // connection instead of waiting on a slow or lying receiver).
        let status = response.status();
        drop(response);
        if status.is_success() {
            Ok(())
        } else {
            Err(SendError::transient(format!(
                "the endpoint answered {}",
                status.as_u16()
            )))
        }
    }
}

/// The signed request; one that cannot be built (a URL the store should have refused) is a
/// permanent failure.
fn build(
    url: &str,
    secret: &[u8],
    message: &WebhookMessage,
    timestamp: i64,
) -> Result<Request<Full<Bytes>>, SendError> {
    let header = |v: String| {
        HeaderValue::from_str(&v).map_err(|_| SendError::permanent("an unsendable header".into()))
    };
    Request::builder()
        .method(Method::POST)
        .uri(url)
        .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
        .header("webhook-id", header(message.id.clone())?)
        .header("webhook-timestamp", header(timestamp.to_string())?)
        .header(
            "webhook-signature",
            header(signature(secret, &message.id, timestamp, &message.body))?,
        )
        .body(Full::new(Bytes::from(message.body.clone())))
        .map_err(|_| SendError::permanent("the endpoint URL cannot be requested".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example of the Standard Webhooks spec's reference libraries (their test vector).
    #[test]
    fn signs_like_the_reference_libraries() {
        let secret = STANDARD
            .decode("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
            .unwrap_or_default();
        let body = r#"{"test": 2432232314}"#;
        assert_eq!(
            signature(&secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }
}
