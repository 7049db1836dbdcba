//! wire: the ServiceStack wire — turning request bytes into DTOs and DTOs into response bytes,
//! with ServiceStack's rules for names, Guids, dates and errors. Knows nothing of redb or of
//! the domain; every DTO gets every format from its one serde derive.

pub mod bind;
pub mod casing;
pub mod csv;
pub mod encode;
pub mod form;
pub mod json;
pub mod jsv;
pub mod negotiate;
pub mod node;
pub mod status;
pub mod types;
pub mod xml;

/// A wire format, for responses and request bodies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Jsv,
    Xml,
    Csv,
    Jsonl,
}

impl Format {
    /// The exact Content-Type ServiceStack sends for this format (servicestack-wire.md §3.2).
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Json => "application/json; charset=utf-8",
            Format::Jsv => "application/jsv",
            Format::Xml => "application/xml",
            Format::Csv => "text/csv",
            Format::Jsonl => "text/jsonl",
        }
    }

    /// A format by its short name (`json`, `jsv`, `xml`, `csv`, `jsonl`), case-insensitive.
    pub fn from_name(name: &str) -> Option<Format> {
        [
            Format::Json,
            Format::Jsv,
            Format::Xml,
            Format::Csv,
            Format::Jsonl,
        ]
        .into_iter()
        .find(|f| f.name().eq_ignore_ascii_case(name))
    }

    /// A format by media type, including ServiceStack's aliases `text/json`, `text/jsv`,
    /// `text/xml` (and `application/jsonl`).
    pub fn from_media_type(media: &str) -> Option<Format> {
        match media {
            "application/json" | "text/json" => Some(Format::Json),
            "application/jsv" | "text/jsv" => Some(Format::Jsv),
            "application/xml" | "text/xml" => Some(Format::Xml),
            "text/csv" => Some(Format::Csv),
            "text/jsonl" | "application/jsonl" | "application/x-ndjson" => Some(Format::Jsonl),
            _ => None,
        }
    }

    /// The short name, as used in `?format=` and `/{fmt}/reply/`.
    pub fn name(self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::Jsv => "jsv",
            Format::Xml => "xml",
            Format::Csv => "csv",
            Format::Jsonl => "jsonl",
        }
    }
}
