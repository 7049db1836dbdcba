//! `POST /admin/keys/{KEY_ID}/revoke`: `customerlink key revoke` on a running server. Only
//! the operator key (as for `/admin/backup`) may call it; the revocation is a durable write
//! through the writer, and the key cache forgets the key before the answer, so the key is
//! refused from the next request on.

use hyper::header::HeaderMap;
use hyper::{Method, Response, StatusCode};

use super::super::body::ResponseBody;
use super::{bearer, text, unauthorized};
use crate::api::AppState;
use crate::ops::operator;
use crate::store::commands::RevokeApiKey;
use crate::wire::types::Guid;

/// The answer if `path` is the revoke route; `None` otherwise.
pub(super) async fn handle(
    state: &AppState,
    method: &Method,
    path: &str,
    headers: &HeaderMap,
) -> Option<Response<ResponseBody>> {
    let id = path.strip_prefix("/admin/keys/")?.strip_suffix("/revoke")?;
    if method != Method::POST {
        return Some(text(StatusCode::METHOD_NOT_ALLOWED, "use POST\n"));
    }
    let key_file = state.config.data_dir.join(operator::OPERATOR_KEY_FILE);
    if !bearer(headers).is_some_and(|k| operator::key_matches(&key_file, k)) {
        return Some(unauthorized());
    }
    let Some(key_id) = Guid::parse(id).map(|g| g.0) else {
        return Some(text(StatusCode::BAD_REQUEST, "not a key id\n"));
    };
    let op = RevokeApiKey {
        key_id,
        at: state.clock.now(),
    };
    Some(match state.store.write(op).await {
        Ok(false) => text(StatusCode::NOT_FOUND, "no such API key\n"),
        Ok(true) => {
            state.key_cache.forget(key_id);
            tracing::info!(key = %key_id.simple(), "API key revoked by the operator");
            text(StatusCode::OK, "revoked\n")
        }
        Err(e) => {
            tracing::error!(error = %e, "API key revocation failed");
            text(
                StatusCode::INTERNAL_SERVER_ERROR,
                "revocation failed; see the server log\n",
            )
        }
    })
}
