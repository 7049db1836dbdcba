//! Reading a request body into what binding needs: a structured value (JSON, JSV or XML, by
//! Content-Type — or by the predefined route's own format) and/or form fields. CSV and JSONL
//! request bodies are not accepted (415): no client sends them to this API.

use serde_json::Value;

use super::Request;
use super::error::ApiError;
use crate::wire::bind::{BindError, not_an_object};
use crate::wire::negotiate::{BodyKind, body_kind};
use crate::wire::{self, Format};

/// A parsed body.
#[derive(Debug, Default)]
pub struct Body {
    pub value: Option<Value>,
    pub form: Vec<(String, String)>,
}

impl Body {
    /// Member names the client used (to mirror its casing); for a batch, those of its first
    /// request.
    pub fn member_names(&self) -> impl Iterator<Item = &str> {
        let first = match &self.value {
            Some(Value::Array(items)) => items.first(),
            other => other.as_ref(),
        };
        let structured = match first {
            Some(Value::Object(map)) => Some(map.keys().map(String::as_str)),
            _ => None,
        };
        structured
            .into_iter()
            .flatten()
            .chain(self.form.iter().map(|(k, _)| k.as_str()))
    }
}

/// Form fields of an `application/x-www-form-urlencoded` body (empty otherwise).
pub fn form_fields(req: &Request) -> Vec<(String, String)> {
    let is_form = content_type(req).and_then(body_kind) == Some(BodyKind::Form);
    match std::str::from_utf8(&req.body) {
        Ok(text) if is_form => wire::form::pairs(text),
        _ => Vec::new(),
    }
}

/// Parses the body. `predefined` is the format a predefined route forces on its body; form
/// bodies stay forms everywhere. A `batch` body is a list of requests.
pub fn read(
    req: &Request,
    predefined: Option<Format>,
    batch: bool,
    form: Vec<(String, String)>,
) -> Result<Body, ApiError> {
    if req.body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Body { value: None, form });
    }
    let declared = content_type(req);
    let kind = match declared.map(body_kind) {
        Some(Some(BodyKind::Form)) => return Ok(Body { value: None, form }),
        Some(kind) => predefined.map(BodyKind::Structured).or(kind),
        None => Some(BodyKind::Structured(predefined.unwrap_or(Format::Json))),
    };
    let format = match kind {
        Some(BodyKind::Structured(format @ (Format::Json | Format::Jsv | Format::Xml))) => format,
        _ => {
            return Err(ApiError::UnsupportedMediaType(
                declared.unwrap_or_default().to_owned(),
            ));
        }
    };
    // ServiceStack names the request's Content-Type in the error (servicestack-wire.md §4.3).
    let media = declared
        .and_then(|d| d.split(';').next())
        .map(str::trim)
        .filter(|d| !d.is_empty())
        .unwrap_or_else(|| media_type(format))
        .to_owned();
    match parse(&req.body, format, batch) {
        // A batch's shape (a list) is checked by the batch itself.
        Ok(value) if batch => Ok(Body {
            value: Some(value),
            form,
        }),
        Ok(value @ Value::Object(_)) => Ok(Body {
            value: Some(value),
            form,
        }),
        Ok(_) => Err(not_an_object(Some(media)).into()),
        Err(detail) => Err(BindError::Unreadable {
            content_type: Some(media),
            detail,
        }
        .into()),
    }
}

fn content_type(req: &Request) -> Option<&str> {
    req.headers
        .get(hyper::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
}

/// The media type of a format, without parameters.
fn media_type(format: Format) -> &'static str {
    let full = format.content_type();
    full.split(';').next().unwrap_or(full)
}

/// Parses a structured body; the error says why without quoting the body.
fn parse(bytes: &[u8], format: Format, batch: bool) -> Result<Value, String> {
    match format {
        Format::Json => serde_json::from_slice(bytes).map_err(|e| e.to_string()),
        Format::Xml => wire::xml::parse(bytes).map_err(|e| e.to_string()),
        _ => {
            let text = std::str::from_utf8(bytes).map_err(|e| e.to_string())?;
            if batch {
                return wire::jsv::parse_value(text.trim()).map_err(|e| e.to_string());
            }
            wire::jsv::parse(text).map_err(|e| e.to_string())
        }
    }
}
