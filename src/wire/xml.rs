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

use quick_xml::Reader;
use quick_xml::events::{BytesRef, BytesStart, Event};
use serde_json::{Map, Value};
use time::OffsetDateTime;

use super::node::Node;

const DECLARATION: &str = r#"<?xml version="1.0" encoding="utf-8"?>"#;
const XSI_NS: &str = "http://www.w3.org/2001/XMLSchema-instance";
const API_NS: &str = "http://schemas.datacontract.org/2004/07/CRM.AgencyPlatform.API.Internal";
const SERVICESTACK_NS: &str = "http://schemas.servicestack.net/types";
const ARRAYS_NS: &str = "http://schemas.microsoft.com/2003/10/Serialization/Arrays";

/// ServiceStack's contracts: their own namespace, members in `[DataMember(Order)]` order.
const SERVICESTACK_TYPES: [&str; 3] = ["ResponseStatus", "ResponseError", "ErrorResponse"];

/// Members a DTO adds to its base class (`CustomerLinkExtended : CustomerLink`); the
/// serializer writes the base class's members first.
const DERIVED_MEMBERS: &[(&str, &[&str])] = &[(
    "CustomerLinkExtended",
    &["RecipientDisplayName", "RecipientType", "Status"],
)];

/// Deepest element nesting [`parse`] accepts.
const MAX_DEPTH: usize = 64;

/// Element names DataContractSerializer gives the items of a list of primitives.
const PRIMITIVE_ITEMS: [&str; 9] = [
    "string", "int", "long", "boolean", "guid", "dateTime", "double", "decimal", "anyType",
];

/// Renders `node` as a DataContract XML document.
pub fn write(node: &Node) -> String {
    let (name, ns) = match node {
        Node::Object { type_name, .. } => (contract_name(type_name), type_ns(type_name)),
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

/// Escapes text content. CR is written as a character reference so it survives the reader's
/// line-end normalisation; characters XML 1.0 forbids become U+FFFD.
fn push_escaped(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\r' => out.push_str("&#xD;"),
            '\t' | '\n' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'.. => {
                out.push(c);
            }
            _ => out.push('\u{FFFD}'),
        }
    }
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

/// Why a request body is not acceptable XML.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct XmlError {
    pub message: String,
}

impl XmlError {
    fn new(message: impl Into<String>) -> Self {
        XmlError {
            message: message.into(),
        }
    }
}

impl std::fmt::Display for XmlError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for XmlError {}

fn fail(what: &str) -> impl Fn(quick_xml::Error) -> XmlError + '_ {
    move |e| XmlError::new(format!("{what}: {e}"))
}

/// An element being read.
struct Frame {
    name: String,
    nil: bool,
    text: String,
    children: Vec<(String, Value)>,
}

/// Parses a DataContract-style request body: the root's child elements become the members of
/// an object (local names; prefixes dropped); text-only elements become strings, empty or
/// `i:nil` ones null, repeated children arrays. DTDs and unknown entities are refused.
pub fn parse(bytes: &[u8]) -> Result<Value, XmlError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let text = std::str::from_utf8(bytes)
        .map_err(|e| XmlError::new(format!("The XML body is not valid UTF-8: {e}")))?;
    let mut reader = Reader::from_str(text);
    let mut stack: Vec<Frame> = Vec::new();
    let mut root = None;
    loop {
        let event = reader.read_event().map_err(fail("Malformed XML"))?;
        match event {
            Event::Start(e) => stack.push(open(&stack, root.is_some(), &e)?),
            Event::Empty(e) => {
                let frame = open(&stack, root.is_some(), &e)?;
                close(&mut stack, &mut root, frame);
            }
            Event::End(_) => {
                let frame = stack
                    .pop()
                    .ok_or_else(|| XmlError::new("Unexpected end tag"))?;
                close(&mut stack, &mut root, frame);
            }
            Event::Text(t) => add_text(&mut stack, &t.xml10_content().map_err(encoding)?)?,
            Event::CData(c) => add_text(&mut stack, &c.decode().map_err(encoding)?)?,
            Event::GeneralRef(r) => add_text(&mut stack, &resolve(&r)?)?,
            Event::DocType(_) => return Err(XmlError::new("DTDs are not allowed")),
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
            Event::Eof => break,
        }
    }
    if !stack.is_empty() {
        return Err(XmlError::new("Unexpected end of the XML document"));
    }
    root.ok_or_else(|| XmlError::new("The XML body has no root element"))
}

fn encoding(e: quick_xml::encoding::EncodingError) -> XmlError {
    XmlError::new(format!("Malformed XML: {e}"))
}

fn open(stack: &[Frame], root_done: bool, e: &BytesStart<'_>) -> Result<Frame, XmlError> {
    if root_done {
        return Err(XmlError::new("Content after the root element"));
    }
    if stack.len() >= MAX_DEPTH {
        return Err(XmlError::new(format!(
            "XML nested deeper than {MAX_DEPTH} elements"
        )));
    }
    let name = std::str::from_utf8(e.local_name().as_ref())
        .map_err(|_| XmlError::new("Malformed XML: element name is not UTF-8"))?
        .to_owned();
    Ok(Frame {
        name,
        nil: is_nil(e)?,
        text: String::new(),
        children: Vec::new(),
    })
}

fn is_nil(e: &BytesStart<'_>) -> Result<bool, XmlError> {
    for attr in e.attributes() {
        let attr = attr.map_err(|e| XmlError::new(format!("Malformed XML attribute: {e}")))?;
        if attr.key.local_name().as_ref() == b"nil" {
            let value = attr
                .unescape_value()
                .map_err(fail("Malformed XML attribute"))?;
            return Ok(value.trim() == "true");
        }
    }
    Ok(false)
}

fn close(stack: &mut [Frame], root: &mut Option<Value>, mut frame: Frame) {
    match stack.last_mut() {
        Some(parent) => parent
            .children
            .push((std::mem::take(&mut frame.name), value_of(frame))),
        None => *root = Some(object_of(frame.children)),
    }
}

fn add_text(stack: &mut [Frame], text: &str) -> Result<(), XmlError> {
    match stack.last_mut() {
        Some(frame) => frame.text.push_str(text),
        None if text.trim().is_empty() => {}
        None => return Err(XmlError::new("Text outside the root element")),
    }
    Ok(())
}

/// `&lt;` and the other predefined entities, and character references; nothing else.
fn resolve(r: &BytesRef<'_>) -> Result<String, XmlError> {
    if let Some(c) = r.resolve_char_ref().map_err(fail("Malformed XML"))? {
        return Ok(c.to_string());
    }
    let name = r.decode().map_err(encoding)?;
    quick_xml::escape::resolve_predefined_entity(&name)
        .map(str::to_owned)
        .ok_or_else(|| XmlError::new(format!("Unknown XML entity '&{name};'")))
}

fn value_of(frame: Frame) -> Value {
    if frame.nil || (frame.children.is_empty() && frame.text.is_empty()) {
        Value::Null
    } else if frame.children.is_empty() {
        Value::String(frame.text)
    } else if is_list(&frame.children) {
        Value::Array(frame.children.into_iter().map(|(_, v)| v).collect())
    } else {
        object_of(frame.children)
    }
}

/// Two or more children of one name, or one child named like a primitive list item.
fn is_list(children: &[(String, Value)]) -> bool {
    let Some((first, _)) = children.first() else {
        return false;
    };
    children.iter().all(|(name, _)| name == first)
        && (children.len() > 1 || PRIMITIVE_ITEMS.contains(&first.as_str()))
}

fn object_of(children: Vec<(String, Value)>) -> Value {
    Value::Object(children.into_iter().collect::<Map<_, _>>())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::dto::CustomerLinkCreateRequest;
    use crate::wire::bind::{Sources, bind};
    use crate::wire::node::to_node;
    use crate::wire::status::ResponseStatus;
    use uuid::Uuid;

    const ROOT_NS: &str = r#"xmlns:i="http://www.w3.org/2001/XMLSchema-instance" xmlns="http://schemas.datacontract.org/2004/07/CRM.AgencyPlatform.API.Internal""#;

    fn obj(type_name: &'static str, members: Vec<(&'static str, Node)>) -> Node {
        Node::Object { type_name, members }
    }

    fn s(text: &str) -> Node {
        Node::Str(text.to_owned())
    }

    #[test]
    fn writes_a_create_response() {
        let error = obj(
            "ResponseError",
            vec![
                ("ErrorCode", s("NotEmpty")),
                ("FieldName", s("ResourceType")),
            ],
        );
        let status = obj(
            "ResponseStatus",
            vec![
                ("ErrorCode", s("NotEmpty")),
                ("Message", s("'Resource Type' <empty>")),
                ("StackTrace", Node::Null),
                ("Errors", Node::List(vec![error])),
                ("Meta", Node::Map(vec![("k".into(), s("v"))])),
            ],
        );
        let link = obj(
            "CustomerLinkExtended",
            vec![
                ("Status", s("Active")),
                ("CustomerLinkUID", Node::Guid(Uuid::from_u128(0xab))),
                ("CreatedAtUtc", Node::Date(1_709_649_000_000)),
                ("ExpiresAtUtc", Node::Date(1_709_649_000_120)),
                ("RevokedAtUtc", Node::Null),
                ("RequireOtp", Node::Bool(false)),
                ("MaxViews", Node::UInt(5)),
            ],
        );
        let response = obj(
            "CustomerLinkCreateResponse",
            vec![
                ("ResponseStatus", status),
                ("Link", link),
                ("PortalUrl", s("https://x/p?a=1&b=2")),
                ("DeliveryErrors", Node::List(vec![s("sms: no phone")])),
            ],
        );
        let expected = format!(
            "{DECLARATION}<CustomerLinkCreateResponse {ROOT_NS}>\
             <DeliveryErrors xmlns:d2p1=\"{ARRAYS_NS}\"><d2p1:string>sms: no phone</d2p1:string></DeliveryErrors>\
             <Link><CreatedAtUtc>2024-03-05T14:30:00Z</CreatedAtUtc>\
             <CustomerLinkUID>00000000-0000-0000-0000-0000000000ab</CustomerLinkUID>\
             <ExpiresAtUtc>2024-03-05T14:30:00.12Z</ExpiresAtUtc><MaxViews>5</MaxViews>\
             <RequireOtp>false</RequireOtp><RevokedAtUtc i:nil=\"true\" /><Status>Active</Status></Link>\
             <PortalUrl>https://x/p?a=1&amp;b=2</PortalUrl>\
             <ResponseStatus xmlns:d2p1=\"{SERVICESTACK_NS}\"><d2p1:ErrorCode>NotEmpty</d2p1:ErrorCode>\
             <d2p1:Message>'Resource Type' &lt;empty&gt;</d2p1:Message><d2p1:StackTrace i:nil=\"true\" />\
             <d2p1:Errors><d2p1:ResponseError><d2p1:ErrorCode>NotEmpty</d2p1:ErrorCode>\
             <d2p1:FieldName>ResourceType</d2p1:FieldName></d2p1:ResponseError></d2p1:Errors>\
             <d2p1:Meta xmlns:d3p1=\"{ARRAYS_NS}\"><d3p1:KeyValueOfstringstring><d3p1:Key>k</d3p1:Key>\
             <d3p1:Value>v</d3p1:Value></d3p1:KeyValueOfstringstring></d2p1:Meta></ResponseStatus>\
             </CustomerLinkCreateResponse>"
        );
        assert_eq!(write(&response), expected);
    }

    #[test]
    fn lists_base_members_first_and_servicestack_types() {
        let link = |id| {
            obj(
                "CustomerLinkExtended",
                vec![("Status", s("Active")), ("ViewCount", Node::Int(id))],
            )
        };
        let list = obj(
            "CustomerLinkListResponse",
            vec![
                ("Links", Node::List(vec![link(1), link(2)])),
                ("Tags", Node::List(vec![])),
            ],
        );
        let body = write(&list);
        assert!(
            body.ends_with(
                "<Links><CustomerLinkExtended><ViewCount>1</ViewCount><Status>Active</Status>\
                 </CustomerLinkExtended><CustomerLinkExtended><ViewCount>2</ViewCount>\
                 <Status>Active</Status></CustomerLinkExtended></Links><Tags /></CustomerLinkListResponse>"
            ),
            "{body}"
        );
        let contact = obj("ContactDto", vec![("Name", s("Ann"))]);
        let body = write(&obj(
            "ContactListResponse",
            vec![("Contacts", Node::List(vec![contact]))],
        ));
        assert!(
            body.contains("<Contacts><Contact><Name>Ann</Name></Contact></Contacts>"),
            "{body}"
        );
        let error = crate::wire::status::ErrorResponse {
            ResponseStatus: ResponseStatus {
                ErrorCode: "NotFound".into(),
                ..ResponseStatus::default()
            },
        };
        let body = write(&to_node(&error).unwrap_or(Node::Null));
        assert!(
            body.ends_with(&format!(
                "<ErrorResponse xmlns:i=\"{XSI_NS}\" xmlns=\"{SERVICESTACK_NS}\"><ResponseStatus>\
                 <ErrorCode>NotFound</ErrorCode><Message i:nil=\"true\" /><StackTrace i:nil=\"true\" />\
                 <Errors /><Meta i:nil=\"true\" /></ResponseStatus></ErrorResponse>"
            )),
            "{body}"
        );
    }

    #[test]
    fn escapes_text_and_replaces_forbidden_characters() {
        let body = write(&obj("R", vec![("A", s("a\r\nb\u{1}c\"'>\u{FFFF}"))]));
        assert!(
            body.contains("<A>a&#xD;\nb\u{FFFD}c\"'&gt;\u{FFFD}</A>"),
            "{body}"
        );
        assert_eq!(
            parse(body.as_bytes()),
            Ok(serde_json::json!({"A": "a\r\nb\u{FFFD}c\"'>\u{FFFD}"}))
        );
    }

    #[test]
    fn parses_a_create_request() {
        let xml = format!(
            "\u{FEFF}<?xml version=\"1.0\"?>\n<CustomerLinkCreateRequest {ROOT_NS}>\n  \
             <DeliverEmail>true</DeliverEmail><ResourceType>Quote</ResourceType>\
             <ResourceUid>01234567-89ab-cdef-0123-456789abcdef</ResourceUid>\
             <RecipientEmail i:nil=\"true\" /><MaxViews>3</MaxViews><RecipientPhone />\
             <!-- c --><Note> a &lt;&#x42;&gt; <![CDATA[<x>]]></Note>\n</CustomerLinkCreateRequest>"
        );
        let value = parse(xml.as_bytes());
        let expected = serde_json::json!({
            "DeliverEmail": "true", "ResourceType": "Quote",
            "ResourceUid": "01234567-89ab-cdef-0123-456789abcdef", "RecipientEmail": null,
            "MaxViews": "3", "RecipientPhone": null, "Note": " a <B> <x>",
        });
        assert_eq!(value, Ok(expected));
        let dto: CustomerLinkCreateRequest = bind(Sources {
            body: value.ok(),
            ..Sources::default()
        })
        .unwrap_or_default();
        assert_eq!(dto.DeliverEmail, Some(true));
        assert_eq!(dto.MaxViews, Some(3));
        assert!(dto.ResourceUid.is_some());
    }

    #[test]
    fn parses_lists_and_nested_objects() {
        let xml = "<R xmlns:a=\"x\"><Tags><a:string>one</a:string></Tags>\
                   <Ids><a:int>1</a:int><a:int>2</a:int></Ids><Home><City>X</City></Home></R>";
        assert_eq!(
            parse(xml.as_bytes()),
            Ok(serde_json::json!({"Tags": ["one"], "Ids": ["1", "2"], "Home": {"City": "X"}}))
        );
    }

    #[test]
    fn refuses_bad_documents_without_panicking() {
        let deep = format!("{}{}", "<a>".repeat(1000), "</a>".repeat(1000));
        for bad in [
            "",
            "<a><b></a>",
            "<a>",
            "<a/><b/>",
            "text",
            "<a>&foo;</a>",
            "<a>x & y</a>",
            "<!DOCTYPE a [<!ENTITY e SYSTEM \"file:///etc/passwd\">]><a>&e;</a>",
            "<a x='1' x='2'/>",
            deep.as_str(),
        ] {
            assert!(parse(bad.as_bytes()).is_err(), "{bad:.40}");
        }
        assert!(parse(b"<a>\xff\xfe</a>").is_err());
    }
}
