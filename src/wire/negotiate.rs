//! Content negotiation in ServiceStack's order (servicestack-wire.md §3.1): a `.ext` suffix,
//! then `?callback=` (JSONP), then `?format=`, then a `/fmt/` first path segment, then
//! `Accept`. When nothing decides we answer JSON — a deliberate difference: ServiceStack would
//! send its HTML report page, which no API client wants. Also maps request Content-Types
//! (with the `text/jsv`, `text/json`, `text/xml` aliases) to the body's format.

use super::Format;

/// What the request asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Negotiated {
    pub format: Format,
    /// JSONP callback name, already sanitised.
    pub jsonp: Option<String>,
    /// The path with a format suffix removed (what routing sees).
    pub path: String,
    /// Which rule decided; predefined routes keep their own format unless the request said
    /// so explicitly (suffix, JSONP, `?format=`, `/fmt/`).
    pub decided_by: Decided,
}

/// The negotiation rule that chose the format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decided {
    Suffix,
    Callback,
    FormatParameter,
    FirstSegment,
    Accept,
    Default,
}

/// Decides the response format.
pub fn negotiate(
    path: &str,
    query: &[(String, String)],
    accept: Option<&str>,
    content_type: Option<&str>,
) -> Negotiated {
    let (path, by_suffix) = strip_suffix(path);
    let callback = super::form::get(query, "callback")
        .filter(|c| !c.is_empty())
        .map(sanitise_callback);
    let by = |decided: Decided| move |format: Format| (format, decided);
    let (format, decided_by) = by_suffix
        .map(by(Decided::Suffix))
        .or_else(|| callback.as_ref().map(|_| (Format::Json, Decided::Callback)))
        .or_else(|| {
            super::form::get(query, "format")
                .and_then(|f| Format::from_name(f.split('.').next().unwrap_or(f)))
                .map(by(Decided::FormatParameter))
        })
        .or_else(|| by_first_segment(&path).map(by(Decided::FirstSegment)))
        .or_else(|| {
            accept
                .and_then(|a| by_accept(a, content_type))
                .map(by(Decided::Accept))
        })
        .unwrap_or((Format::Json, Decided::Default));
    let jsonp = callback.filter(|_| format == Format::Json);
    Negotiated {
        format,
        jsonp,
        path,
        decided_by,
    }
}

/// How a request body is to be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyKind {
    Structured(Format),
    Form,
}

/// The body format of a Content-Type (parameters ignored); `None` when unsupported.
pub fn body_kind(content_type: &str) -> Option<BodyKind> {
    let media = media_type(content_type);
    if media.eq_ignore_ascii_case("application/x-www-form-urlencoded") {
        Some(BodyKind::Form)
    } else if media.is_empty() {
        Some(BodyKind::Structured(Format::Json))
    } else {
        format_of(media).map(BodyKind::Structured)
    }
}

/// The media type of a header value: parameters dropped, trimmed, case kept (every
/// comparison ignores ASCII case, so no lower-cased copy is made per request).
fn media_type(text: &str) -> &str {
    text.split(';').next().unwrap_or("").trim()
}

/// [`Format::from_media_type`], ignoring ASCII case.
fn format_of(media: &str) -> Option<Format> {
    if media.bytes().any(|b| b.is_ascii_uppercase()) {
        Format::from_media_type(&media.to_ascii_lowercase())
    } else {
        Format::from_media_type(media)
    }
}

/// `/v1/customerlink/x.json` → (`/v1/customerlink/x`, JSON).
fn strip_suffix(path: &str) -> (String, Option<Format>) {
    let last_segment_start = path.rfind('/').map_or(0, |i| i + 1);
    if let Some(dot) = path[last_segment_start..].rfind('.') {
        let dot = last_segment_start + dot;
        if let Some(format) = Format::from_name(&path[dot + 1..]) {
            return (path[..dot].to_owned(), Some(format));
        }
    }
    (path.to_owned(), None)
}

/// `/json/…`, `/xml/…`, `/jsv/…`, `/csv/…` (3–4 characters, as ServiceStack checks).
fn by_first_segment(path: &str) -> Option<Format> {
    let first = path.trim_start_matches('/').split('/').next()?;
    if (3..=4).contains(&first.len()) {
        Format::from_name(first)
    } else {
        None
    }
}

/// ServiceStack matches Accept entries by prefix against its own preference order and takes
/// the best server-side rank; `*/*` means "the request's own Content-Type".
fn by_accept(accept: &str, content_type: Option<&str>) -> Option<Format> {
    const PREFERENCE: [(&str, Format); 3] = [
        ("application/json", Format::Json),
        ("application/xml", Format::Xml),
        ("application/jsv", Format::Jsv),
    ];
    let entries = || accept.split(',').map(media_type);
    let starts_with = |entry: &str, media: &str| {
        entry
            .as_bytes()
            .get(..media.len())
            .is_some_and(|head| head.eq_ignore_ascii_case(media.as_bytes()))
    };
    // Which preferred types some entry names, in one pass over the entries.
    let mut named = [false; PREFERENCE.len()];
    for entry in entries() {
        for (seen, (media, _)) in named.iter_mut().zip(PREFERENCE) {
            *seen |= starts_with(entry, media);
        }
    }
    let request_type = content_type.map(media_type);
    let mut best: Option<usize> = None;
    for (rank, (media, _)) in PREFERENCE.iter().enumerate() {
        if named[rank] {
            if request_type.is_some_and(|t| t.eq_ignore_ascii_case(media)) {
                return Some(PREFERENCE[rank].1);
            }
            best = Some(best.map_or(rank, |b: usize| b.min(rank)));
        }
    }
    if let Some(rank) = best {
        return PREFERENCE.get(rank).map(|(_, f)| *f);
    }
    if entries().any(|e| e == "*/*") {
        return request_type.and_then(format_of);
    }
    entries().find_map(format_of)
}

/// ServiceStack's `SafeVarRef`: anything outside `[A-Za-z0-9._]` becomes `_`.
fn sanitise_callback(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn format(path: &str, query: &[(&str, &str)], accept: Option<&str>) -> Format {
        negotiate(path, &q(query), accept, None).format
    }

    #[test]
    fn precedence_suffix_callback_format_segment_accept() {
        let n = negotiate(
            "/v1/customerlink/abc.xml",
            &q(&[("format", "jsv")]),
            Some("application/json"),
            None,
        );
        assert_eq!(
            (n.format, n.path.as_str()),
            (Format::Xml, "/v1/customerlink/abc")
        );
        assert_eq!(
            format("/v1/x", &[("callback", "cb"), ("format", "xml")], None),
            Format::Json
        );
        assert_eq!(
            format(
                "/v1/x",
                &[("format", "JSV.whatever")],
                Some("application/xml")
            ),
            Format::Jsv
        );
        assert_eq!(
            format("/xml/reply/Op", &[], Some("application/json")),
            Format::Xml
        );
        assert_eq!(
            format("/jsonl/reply/Op", &[], None),
            Format::Json,
            "5-char segments are not formats"
        );
        assert_eq!(
            format("/v1/x", &[("format", "pdf")], Some("text/csv")),
            Format::Csv
        );
        assert_eq!(format("/v1/x", &[], None), Format::Json);
    }

    #[test]
    fn accept_uses_server_preference_and_aliases() {
        assert_eq!(
            format(
                "/v1/x",
                &[],
                Some("application/xml, application/json;q=0.1")
            ),
            Format::Json
        );
        assert_eq!(format("/v1/x", &[], Some("text/jsv")), Format::Jsv);
        assert_eq!(format("/v1/x", &[], Some("text/jsonl")), Format::Jsonl);
        let n = negotiate("/v1/x", &[], Some("*/*"), Some("application/jsv"));
        assert_eq!(n.format, Format::Jsv);
        let n = negotiate(
            "/v1/x",
            &[],
            Some("application/json, application/xml"),
            Some("application/xml"),
        );
        assert_eq!(
            n.format,
            Format::Xml,
            "the request's own type wins among matches"
        );
    }

    #[test]
    fn jsonp_names_are_sanitised() {
        let n = negotiate("/v1/x", &q(&[("callback", "a.b(alert)<x>")]), None, None);
        assert_eq!(n.jsonp.as_deref(), Some("a.b_alert__x_"));
        let n = negotiate("/v1/x.xml", &q(&[("callback", "cb")]), None, None);
        assert_eq!((n.format, n.jsonp), (Format::Xml, None));
    }

    #[test]
    fn body_kinds() {
        assert_eq!(
            body_kind("text/jsv"),
            Some(BodyKind::Structured(Format::Jsv))
        );
        assert_eq!(
            body_kind("application/json; charset=utf-8"),
            Some(BodyKind::Structured(Format::Json))
        );
        assert_eq!(
            body_kind("text/xml"),
            Some(BodyKind::Structured(Format::Xml))
        );
        assert_eq!(
            body_kind("application/x-www-form-urlencoded"),
            Some(BodyKind::Form)
        );
        assert_eq!(body_kind("image/png"), None);
    }
}
