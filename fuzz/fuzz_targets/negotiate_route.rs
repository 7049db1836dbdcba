#![no_main]
//! `negotiate_route`: content negotiation and routing on arbitrary (method, path, query,
//! Accept, Content-Type) tuples, with paths built from the API's own vocabulary plus arbitrary
//! segments. Never panics, and:
//! - a suffix-decided format removed exactly `.{ext}` from the path, otherwise the path is
//!   unchanged; JSONP only with JSON and a sanitised, non-empty callback;
//! - `body_kind` ignores media-type case and parameters;
//! - a custom-route match has the verb among its verbs and binds exactly the route's
//!   `{Variables}`; a predefined-route match has the verb or is a POST, and has no variables;
//! - routing ignores ASCII case of verb and path literals;
//! - the request DTOs bind from the matched path variables and the query without panicking.

mod common;

use customerlink::api::routes::{self, Miss, ROUTES};
use customerlink::wire::Format;
use customerlink::wire::form::pairs;
use customerlink::wire::negotiate::{Decided, body_kind, negotiate};
use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;

const VERBS: &[&str] = &[
    "GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "get", "Post",
];

const WORDS: &[&str] = &[
    "v1",
    "customerlink",
    "CustomerLink",
    "contact",
    "resource",
    "revoke",
    "resend",
    "unlock",
    "log",
    "grant",
    "introspect",
    "portal",
    "otp",
    "verify",
    "open",
    "PortalVerifyRequest",
    "GrantIntrospectRequest",
    "CustomerLinkLogRequest",
    "api",
    "json",
    "xml",
    "jsv",
    "csv",
    "jsonl",
    "reply",
    "oneway",
    "CustomerLinkCreateRequest",
    "customerlinkqueryrequest",
    "CustomerLinkRequest",
    "CustomerLinkRevokeRequest",
    "CustomerLinkListRequest",
    "ContactPutRequest",
    "ContactListRequest",
    "0f1e2d3c4b5a69788796a5b4c3d2e1f0",
    "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0",
    "7",
    "Quote%20X",
    "%FF",
    "openapi.json",
    "",
];

const EXTS: &[&str] = &["json", "xml", "jsv", "csv", "jsonl", "JSON", "Xml", "pdf"];

const MEDIA: &[&str] = &[
    "application/json",
    "application/xml",
    "application/jsv",
    "text/jsv",
    "text/json",
    "text/xml",
    "text/csv",
    "text/jsonl",
    "application/x-www-form-urlencoded",
    "*/*",
    "text/html",
    "",
];

#[derive(Debug, Arbitrary)]
enum Verb {
    Known(u8),
    Other(String),
}

#[derive(Debug, Arbitrary)]
enum Seg {
    Word(u8),
    Raw(String),
}

/// Query parameter names that steer the wire or bind DTO members.
const QUERY_KEYS: &[&str] = &[
    "format",
    "FORMAT",
    "callback",
    "jsconfig",
    "Take",
    "Skip",
    "Status",
    "CustomerLinkUID",
    "contactid",
    "ResourceType",
    "X-Http-Method-Override",
    "",
];

const QUERY_VALUES: &[&str] = &[
    "json",
    "xml",
    "jsv",
    "csv",
    "jsonl",
    "JSV.whatever",
    "pdf",
    "cb",
    "a.b(alert)<x>",
    "tc:cc",
    "eccn:false",
    "0f1e2d3c4b5a69788796a5b4c3d2e1f0",
    "-1",
    "",
];

#[derive(Debug, Arbitrary)]
enum Text {
    Word(u8),
    Raw(String),
}

#[derive(Debug, Arbitrary)]
enum Param {
    Pair(u8, Text),
    Raw(String),
}

#[derive(Debug, Arbitrary)]
enum Header {
    Media(Vec<(u8, Option<String>)>),
    Raw(String),
}

#[derive(Debug, Arbitrary)]
struct Input {
    verb: Verb,
    path: Vec<Seg>,
    trailing_slash: bool,
    ext: Option<u8>,
    raw_path: Option<String>,
    query: Vec<Param>,
    accept: Option<Header>,
    content_type: Option<Header>,
}

fn pick<'a>(list: &[&'a str], i: u8) -> &'a str {
    list[usize::from(i) % list.len()]
}

fn header(h: &Header) -> String {
    match h {
        Header::Raw(s) => s.clone(),
        Header::Media(entries) => entries
            .iter()
            .map(|(i, params)| match params {
                Some(p) => format!("{};{p}", pick(MEDIA, *i)),
                None => pick(MEDIA, *i).to_owned(),
            })
            .collect::<Vec<_>>()
            .join(", "),
    }
}

fn query_text(params: &[Param]) -> String {
    params
        .iter()
        .map(|p| match p {
            Param::Raw(raw) => raw.clone(),
            Param::Pair(key, Text::Word(value)) => {
                format!("{}={}", pick(QUERY_KEYS, *key), pick(QUERY_VALUES, *value))
            }
            Param::Pair(key, Text::Raw(value)) => format!("{}={value}", pick(QUERY_KEYS, *key)),
        })
        .collect::<Vec<_>>()
        .join("&")
}

fuzz_target!(|input: Input| {
    let verb = match &input.verb {
        Verb::Known(i) => pick(VERBS, *i).to_owned(),
        Verb::Other(s) => s.clone(),
    };
    let path = match &input.raw_path {
        Some(raw) => raw.clone(),
        None => {
            let mut p: String = input
                .path
                .iter()
                .map(|s| match s {
                    Seg::Word(i) => format!("/{}", pick(WORDS, *i)),
                    Seg::Raw(r) => format!("/{r}"),
                })
                .collect();
            if input.trailing_slash || p.is_empty() {
                p.push('/');
            }
            if let Some(e) = input.ext {
                p.push('.');
                p.push_str(pick(EXTS, e));
            }
            p
        }
    };
    let query = pairs(&query_text(&input.query));
    let accept = input.accept.as_ref().map(header);
    let content_type = input.content_type.as_ref().map(header);

    // Negotiation.
    let n = negotiate(&path, &query, accept.as_deref(), content_type.as_deref());
    if n.decided_by == Decided::Suffix {
        let ext = path
            .strip_prefix(n.path.as_str())
            .and_then(|rest| rest.strip_prefix('.'))
            .unwrap_or_else(|| panic!("{path:?} → {:?} did not remove a suffix", n.path));
        assert!(
            ext.eq_ignore_ascii_case(n.format.name()),
            "{ext} vs {:?}",
            n.format
        );
        assert!(!ext.contains('/'), "the suffix is in the last segment");
    } else {
        assert_eq!(n.path, path, "no suffix, no change");
    }
    if let Some(cb) = &n.jsonp {
        assert_eq!(n.format, Format::Json, "JSONP only wraps JSON");
        assert!(!cb.is_empty());
        assert!(
            cb.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '_'),
            "unsanitised callback {cb:?}"
        );
    }
    if matches!(n.decided_by, Decided::Callback | Decided::Default) {
        assert_eq!(n.format, Format::Json);
    }
    if let Some(ct) = &content_type {
        let kind = body_kind(ct);
        assert_eq!(
            kind,
            body_kind(&ct.to_ascii_uppercase()),
            "case matters in {ct:?}"
        );
        assert_eq!(
            kind,
            body_kind(&format!("{ct};charset=utf-8")),
            "params matter"
        );
    }

    // Routing, on the path negotiation leaves (as the server does).
    let found = routes::find(&verb, &n.path);
    match &found {
        Ok(m) if m.predefined.is_none() => {
            assert!(
                m.route.verbs.iter().any(|v| v.eq_ignore_ascii_case(&verb)),
                "{verb} routed to {:?}",
                m.route.verbs
            );
            let declared: Vec<&str> = m
                .route
                .path
                .split('/')
                .filter_map(|p| p.strip_prefix('{').and_then(|p| p.strip_suffix('}')))
                .collect();
            let bound: Vec<&str> = m.vars.iter().map(|(k, _)| k.as_str()).collect();
            assert_eq!(declared, bound, "path variables");
        }
        Ok(m) => {
            assert!(
                m.route.verbs.iter().any(|v| v.eq_ignore_ascii_case(&verb))
                    || verb.eq_ignore_ascii_case("POST"),
                "{verb} routed to predefined {:?}",
                m.route.verbs
            );
            assert!(m.vars.is_empty());
        }
        Err(Miss::WrongVerb(name)) => {
            assert!(
                ROUTES.iter().any(|r| r.request == *name),
                "unknown DTO {name}"
            );
        }
        Err(Miss::NotFound) => {}
    }
    let upper = routes::find(&verb.to_ascii_uppercase(), &n.path.to_ascii_uppercase());
    match (&found, &upper) {
        (Ok(a), Ok(b)) => assert_eq!(
            (a.route.op, a.route.path, a.predefined),
            (b.route.op, b.route.path, b.predefined),
            "case changed the route"
        ),
        (Err(a), Err(b)) => assert_eq!(a, b, "case changed the miss"),
        (a, b) => panic!("case changed routing: {a:?} vs {b:?}"),
    }

    // Binding from path variables and query, as the server does for the matched route.
    if let Ok(m) = found {
        common::bind_all(common::Input {
            path: &m.vars,
            query: &query,
            ..common::Input::default()
        });
    }
});
