//! Writing a reply: one DTO, the negotiated format, casing and JSONP. The common case —
//! PascalCase JSON — goes straight through serde; every other combination goes through the
//! format-neutral [`Node`] tree.

use bytes::Bytes;
use schemars::JsonSchema;
use serde::Serialize;

use super::casing::Casing;
use super::node::{Node, to_node};
use super::{Format, csv, json, jsv, xml};

/// How a reply is to be written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Style {
    pub format: Format,
    pub casing: Casing,
    /// JSONP callback (already sanitised); only with JSON.
    pub jsonp: Option<String>,
    /// The request DTO name (CSV's attachment file name).
    pub operation: &'static str,
}

impl Default for Style {
    fn default() -> Self {
        Style {
            format: Format::Json,
            casing: Casing::Pascal,
            jsonp: None,
            operation: "Response",
        }
    }
}

/// An encoded reply body and the headers that describe it.
#[derive(Debug, Clone)]
pub struct Encoded {
    pub content_type: &'static str,
    pub content_disposition: Option<String>,
    pub body: Bytes,
}

/// Encodes `dto` in `style`. Fails only on a value serde cannot represent (a bug). CSV needs
/// the type itself (its columns and which member is written, [`csv::Shape`]), hence
/// `JsonSchema`, which every DTO derives for `/openapi.json`.
pub fn encode<T: Serialize + JsonSchema>(dto: &T, style: &Style) -> Result<Encoded, String> {
    let plain = |body: Vec<u8>| Encoded {
        content_type: style.format.content_type(),
        content_disposition: None,
        body: Bytes::from(body),
    };
    if style.format == Format::Json && style.casing == Casing::Pascal && style.jsonp.is_none() {
        // Sized for a typical reply, so the buffer rarely grows.
        let mut body = Vec::with_capacity(1024);
        return json::to_writer(&mut body, dto)
            .map(|()| plain(body))
            .map_err(|e| e.to_string());
    }
    let node = to_node(dto).map_err(|e| e.to_string())?;
    let csv_shape = (style.format == Format::Csv).then(csv::Shape::of::<T>);
    Ok(encode_node(&node, style, csv_shape))
}

/// Encodes an already serialised value (e.g. the list of an AutoBatch's replies) in `style`.
/// CSV takes its columns from `csv_shape` (the type's), else from the value itself.
pub fn encode_node(node: &Node, style: &Style, csv_shape: Option<csv::Shape>) -> Encoded {
    let plain = |body: Vec<u8>| Encoded {
        content_type: style.format.content_type(),
        content_disposition: None,
        body: Bytes::from(body),
    };
    match style.format {
        Format::Json => match &style.jsonp {
            Some(callback) => {
                let mut body = Vec::with_capacity(callback.len() + 64);
                body.extend_from_slice(callback.as_bytes());
                body.push(b'(');
                body.extend(json::write(node, style.casing));
                body.push(b')');
                Encoded {
                    content_type: "text/javascript",
                    content_disposition: None,
                    body: Bytes::from(body),
                }
            }
            None => plain(json::write(node, style.casing)),
        },
        Format::Jsonl => plain(json::write_lines(node, style.casing)),
        Format::Jsv => plain(jsv::write(node, style.casing).into_bytes()),
        Format::Xml => plain(xml::write(node).into_bytes()),
        Format::Csv => Encoded {
            content_disposition: Some(csv::content_disposition(style.operation)),
            ..plain(
                csv::write(
                    node,
                    &csv_shape.unwrap_or_else(|| csv::Shape::of_node(node)),
                )
                .into_bytes(),
            )
        },
    }
}
