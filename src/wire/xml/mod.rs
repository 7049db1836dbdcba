//! XML in ServiceStack's DataContract style (`application/xml`: `DataContractSerializer` over
//! `XmlWriter.Create`, UTF-8 without BOM; servicestack-wire.md §3.2, §4.1; trendsic-api.md §4
//! "Placeholder rendering", XML column). [`write`] renders a response [`Node`] the way a .NET
//! `XmlServiceClient` expects it; [`parse`] turns a request body into the `serde_json::Value`
//! that `bind` consumes.
//!
//! DataContractSerializer reads members in order and skips any it meets out of order, so order
//! is part of the contract: base-class members first, then each class's own, alphabetically
//! (ordinal). ServiceStack's own types (`ResponseStatus`, `ResponseError`, `ErrorResponse`)
//! declare `[DataMember(Order = n)]`, i.e. declaration order, and live in
//! `http://schemas.servicestack.net/types`. Namespace prefixes follow the serializer's
//! `d{depth}p1` scheme.

use std::fmt::Write as _;

use time::OffsetDateTime;

use super::node::Node;

const DECLARATION: &str = r#"<?xml version="1.0" encoding="utf-8"?>"#;
const XSI_NS: &str = "http://www.w3.org/2001/XMLSchema-instance";
const API_NS: &str = "http://schemas.datacontract.org/2004/07/CRM.AgencyPlatform.API.Internal";
const SERVICESTACK_NS: &str = "http://schemas.servicestack.net/types";
const ARRAYS_NS: &str = "http://schemas.microsoft.com/2003/10/Serialization/Arrays";

/// ServiceStack's contracts: their own namespace, members in `[DataMember(Order)]` order.
/// `EmptyResponse` is ServiceStack's own (`ServiceStack.EmptyResponse`, `[DataContract]`).
const SERVICESTACK_TYPES: [&str; 4] = [
    "ResponseStatus",
    "ResponseError",
    "ErrorResponse",
    "EmptyResponse",
];

/// Members a DTO adds to its base class (`CustomerLinkExtended : CustomerLink`,
/// `DocumentShareExtended : DocumentShare`); the serializer writes the base class's members
/// first.
const DERIVED_MEMBERS: &[(&str, &[&str])] = &[
    (
        "CustomerLinkExtended",
        &["RecipientDisplayName", "RecipientType", "Status"],
    ),
    (
        "DocumentShareExtended",
        &[
            "AttachmentName",
            "RecipientDisplayName",
            "RecipientType",
            "CreatedByName",
            "Status",
        ],
    ),
];

/// Element names DataContractSerializer gives the items of a list of primitives.
const PRIMITIVE_ITEMS: [&str; 9] = [
    "string", "int", "long", "boolean", "guid", "dateTime", "double", "decimal", "anyType",
];

/// Renders `node` as a DataContract XML document (a list, e.g. an AutoBatch reply, as
/// DataContractSerializer writes `T[]`: `<ArrayOf{T}>` in `T`'s namespace).
pub fn write(node: &Node) -> String {
    let array_name;
    let (name, ns) = match node {
        Node::Object { type_name, .. } => (contract_name(type_name), type_ns(type_name)),
        Node::List(items) => {
            let (ns, item) = item_contract(items);
            array_name = format!("ArrayOf{item}");
            (array_name.as_str(), ns)
        }
        _ => ("Response", API_NS),
    };
    let root = Scope {
        parent: None,
        ns,
        prefix: String::new(),
    };
    let mut out = String::from(DECLARATION);
    let attrs = format!(" xmlns:i=\"{XSI_NS}\" xmlns=\"{ns}\"");
    element(&mut out, &root, 1, ns, name, node, &attrs);
    out
}

/// The namespaces in scope: each element that declares one links to its parent's scope.
struct Scope<'a> {
    parent: Option<&'a Scope<'a>>,
    ns: &'static str,
    prefix: String,
}

impl Scope<'_> {
    fn prefix_of(&self, ns: &str) -> Option<&str> {
        if self.ns == ns {
            Some(&self.prefix)
        } else {
            self.parent?.prefix_of(ns)
        }
    }

    fn qualify(&self, ns: &str, name: &str) -> String {
        match self.prefix_of(ns) {
            Some(prefix) if !prefix.is_empty() => format!("{prefix}:{name}"),
            _ => name.to_owned(),
        }
    }
}

fn element(
    out: &mut String,
    scope: &Scope<'_>,
    depth: usize,
    ns: &'static str,
    name: &str,
    value: &Node,
    attrs: &str,
) {
    let tag = scope.qualify(ns, name);
    let _ = write!(out, "<{tag}{attrs}");
    if matches!(value, Node::Null) {
        out.push_str(" i:nil=\"true\" />");
        return;
    }
    let declared;
    let inner = match children_ns(value).filter(|ns| scope.prefix_of(ns).is_none()) {
        Some(ns) => {
            declared = Scope {
                parent: Some(scope),
                ns,
                prefix: format!("d{depth}p1"),
            };
            let _ = write!(out, " xmlns:{}=\"{ns}\"", declared.prefix);
            &declared
        }
        None => scope,
    };
    let open = out.len();
    out.push('>');
    content(out, inner, depth + 1, value);
    if out.len() == open + 1 {
        out.truncate(open);
        out.push_str(" />");
    } else {
        let _ = write!(out, "</{tag}>");
    }
}

fn content(out: &mut String, scope: &Scope<'_>, depth: usize, value: &Node) {
    match value {
        Node::Object { type_name, members } => {
            let ns = type_ns(type_name);
            for (name, member) in ordered(type_name, members) {
                element(out, scope, depth, ns, name, member, "");
            }
        }
        Node::List(items) => {
            let (ns, name) = item_contract(items);
            for item in items {
                element(out, scope, depth, ns, name, item, "");
            }
        }
        Node::Map(entries) => map_entries(out, scope, depth, entries),
        Node::Null => {}
        Node::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Node::Int(i) => out.push_str(&i.to_string()),
        Node::UInt(u) => out.push_str(&u.to_string()),
        Node::Float(f) if f.is_nan() => out.push_str("NaN"),
        Node::Float(f) if f.is_infinite() => out.push_str(if *f > 0.0 { "INF" } else { "-INF" }),
        Node::Float(f) => out.push_str(&f.to_string()),
        Node::Str(s) => push_escaped(out, s),
        Node::Date(ms) => out.push_str(&xsd_date(*ms)),
        Node::Guid(g) => out.push_str(&g.hyphenated().to_string()),
    }
}

/// `<d2p1:KeyValueOfstringstring><d2p1:Key>k</d2p1:Key><d2p1:Value>v</d2p1:Value>…`.
fn map_entries(out: &mut String, scope: &Scope<'_>, depth: usize, entries: &[(String, Node)]) {
    let entry = scope.qualify(ARRAYS_NS, "KeyValueOfstringstring");
    let key = scope.qualify(ARRAYS_NS, "Key");
    for (k, v) in entries {
        let _ = write!(out, "<{entry}><{key}>");
        push_escaped(out, k);
        let _ = write!(out, "</{key}>");
        element(out, scope, depth + 1, ARRAYS_NS, "Value", v, "");
        let _ = write!(out, "</{entry}>");
    }
}

/// The namespace the children of `value`'s element live in, if it has any.
fn children_ns(value: &Node) -> Option<&'static str> {
    match value {
        Node::Object { type_name, .. } => Some(type_ns(type_name)),
        Node::Map(_) => Some(ARRAYS_NS),
        Node::List(items) if !items.is_empty() => Some(item_contract(items).0),
        _ => None,
    }
}

/// Namespace and element name of a list's items, decided by its first non-null item.
fn item_contract(items: &[Node]) -> (&'static str, &'static str) {
    let name = match items.iter().find(|n| !matches!(n, Node::Null)) {
        Some(Node::Object { type_name, .. }) => {
            return (type_ns(type_name), contract_name(type_name));
        }
        Some(Node::Str(_)) => "string",
        Some(Node::Bool(_)) => "boolean",
        Some(Node::Int(_) | Node::UInt(_)) => "int",
        Some(Node::Float(_)) => "double",
        Some(Node::Date(_)) => "dateTime",
        Some(Node::Guid(_)) => "guid",
        Some(Node::List(_)) => "ArrayOfanyType",
        Some(Node::Map(_)) => "ArrayOfKeyValueOfstringstring",
        Some(Node::Null) | None => "anyType",
    };
    (ARRAYS_NS, name)
}

fn type_ns(type_name: &str) -> &'static str {
    if SERVICESTACK_TYPES.contains(&type_name) {
        SERVICESTACK_NS
    } else {
        API_NS
    }
}

/// The .NET contract name: Rust-side `…Dto` structs (named so to avoid clashing with
/// domain types) stand for the ServiceStack class without the suffix (`ContactDto` → `Contact`).
fn contract_name(type_name: &'static str) -> &'static str {
    type_name.strip_suffix("Dto").unwrap_or(type_name)
}

/// Members in DataContract order (see the module doc).
fn ordered<'a>(
    type_name: &str,
    members: &'a [(&'static str, Node)],
) -> Vec<&'a (&'static str, Node)> {
    let mut sorted: Vec<_> = members.iter().collect();
    if !SERVICESTACK_TYPES.contains(&type_name) {
        let derived = DERIVED_MEMBERS
            .iter()
            .find(|(t, _)| *t == type_name)
            .map_or(&[][..], |(_, names)| *names);
        sorted.sort_by_key(|(name, _)| (derived.contains(name), *name));
    }
    sorted
}

/// Escapes text content with quick_xml's `&<>` escaper. CR is written as a character
/// reference so it survives the reader's line-end normalisation; characters XML 1.0 forbids
/// become U+FFFD.
fn push_escaped(out: &mut String, text: &str) {
    let allowed: std::borrow::Cow<'_, str> = if text.chars().all(xml_char) {
        text.into()
    } else {
        text.chars()
            .map(|c| if xml_char(c) { c } else { '\u{FFFD}' })
            .collect::<String>()
            .into()
    };
    let escaped = quick_xml::escape::partial_escape(allowed);
    for (i, part) in escaped.split('\r').enumerate() {
        if i > 0 {
            out.push_str("&#xD;");
        }
        out.push_str(part);
    }
}

/// Whether XML 1.0 allows `c` in text.
fn xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

/// A UTC `DateTime` as DataContract writes it: `2024-03-05T14:30:00Z`, `…:00.123Z`.
fn xsd_date(ms: i64) -> String {
    let nanos = i128::from(ms) * 1_000_000;
    let dt = OffsetDateTime::from_unix_timestamp_nanos(nanos).unwrap_or(OffsetDateTime::UNIX_EPOCH);
    let mut text = format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        dt.year(),
        u8::from(dt.month()),
        dt.day(),
        dt.hour(),
        dt.minute(),
        dt.second()
    );
    let ticks = dt.nanosecond() / 100;
    if ticks != 0 {
        let fraction = format!("{ticks:07}");
        text.push('.');
        text.push_str(fraction.trim_end_matches('0'));
    }
    text.push('Z');
    text
}

mod read;

pub use read::{XmlError, parse};

#[cfg(test)]
mod tests;
