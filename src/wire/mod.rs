//! wire: the ServiceStack wire — turning request bytes into DTOs and DTOs into response bytes,
//! with ServiceStack's rules for names, Guids, dates and errors. Knows nothing of redb or of
//! the domain; every DTO gets every format from its one serde derive.

pub mod bind;
pub mod casing;
pub mod node;
pub mod status;
pub mod types;

use bytes::Bytes;
use serde::Serialize;

/// A response format. JSON is the default when nothing in the request decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
}

impl Format {
    /// The exact Content-Type ServiceStack sends for this format.
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Json => "application/json; charset=utf-8",
        }
    }
}

/// Serialises a DTO in `format`. Fails only on a value serde cannot represent (a bug).
pub fn encode<T: Serialize>(value: &T, format: Format) -> Result<Bytes, String> {
    match format {
        Format::Json => serde_json::to_vec(value)
            .map(Bytes::from)
            .map_err(|e| e.to_string()),
    }
}
