//! JSON written from a [`Node`], for the cases the direct serde path cannot serve: camelCase
//! member names, JSONL rows and JSONP. Null members are omitted, default values are written,
//! Guids are 32 hex digits and dates ISO 8601 with 7 fraction digits and `Z`
//! (servicestack-wire.md §2.2–2.3), exactly as the direct path writes them. Both paths write
//! through [`to_writer`], so strings are escaped as ServiceStack.Text escapes them.

use std::io;

use serde::Serialize;
use serde_json::ser::{CharEscape, CompactFormatter, Formatter};
use serde_json::{Map, Value};

use super::casing::Casing;
use super::node::Node;
use super::types::UtcDateTime;

/// The JSON value of a node with member names in `casing`.
pub fn to_value(node: &Node, casing: Casing) -> Value {
    match node {
        Node::Null => Value::Null,
        Node::Bool(b) => Value::Bool(*b),
        Node::Int(i) => Value::from(*i),
        Node::UInt(u) => Value::from(*u),
        Node::Float(f) => serde_json::Number::from_f64(*f).map_or(Value::Null, Value::Number),
        Node::Str(s) => Value::String(s.clone()),
        Node::Date(ms) => Value::String(UtcDateTime(*ms).to_wire()),
        Node::Guid(g) => Value::String(g.simple().to_string()),
        Node::List(items) => Value::Array(items.iter().map(|i| to_value(i, casing)).collect()),
        Node::Object { members, .. } => Value::Object(
            members
                .iter()
                .filter(|(_, v)| *v != Node::Null)
                .map(|(k, v)| (casing.apply(k).into_owned(), to_value(v, casing)))
                .collect(),
        ),
        Node::Map(entries) => Value::Object(
            entries
                .iter()
                .filter(|(_, v)| *v != Node::Null)
                .map(|(k, v)| (k.clone(), to_value(v, casing)))
                .collect::<Map<_, _>>(),
        ),
    }
}

/// Compact JSON text of a node.
pub fn write(node: &Node, casing: Casing) -> Vec<u8> {
    let mut out = Vec::with_capacity(256);
    match to_writer(&mut out, &to_value(node, casing)) {
        Ok(()) => out,
        Err(_) => Vec::new(),
    }
}

/// Compact JSON of any serde value, strings escaped as ServiceStack.Text writes them.
pub fn to_writer<W: io::Write, T: Serialize + ?Sized>(
    writer: W,
    value: &T,
) -> serde_json::Result<()> {
    value.serialize(&mut serde_json::Serializer::with_formatter(
        writer,
        ServiceStackStrings,
    ))
}

/// ServiceStack.Text's `JsonUtils.WriteString` (ServiceStack.Text/src/ServiceStack.Text/Json/
/// JsonUtils.cs) with its defaults (`EscapeUnicode` and `EscapeHtmlChars` off): `\n \r \t
/// \" \\ \f \b` short; every other .NET control character (`char.IsControl`: U+0000–U+001F
/// and U+007F–U+009F) as `\uXXXX` with upper-case hex (`IntToHex`); everything else verbatim.
/// serde_json alone writes lower-case hex and leaves DEL and the C1 controls raw.
struct ServiceStackStrings;

impl Formatter for ServiceStackStrings {
    fn write_string_fragment<W: ?Sized + io::Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        // DEL is 0x7F and every C1 control starts with 0xC2 in UTF-8: most strings are ASCII
        // without DEL, which one branch-free pass tells (`b + 1` has its top bit set exactly
        // for 0x7F..=0xFE, and UTF-8 never holds 0xFF).
        let plain = fragment
            .bytes()
            .fold(0u8, |seen, b| seen | b.wrapping_add(1))
            & 0x80
            == 0;
        if plain || !fragment.bytes().any(|b| b == 0x7F || b == 0xC2) {
            return writer.write_all(fragment.as_bytes());
        }
        let mut start = 0;
        for (i, c) in fragment.char_indices() {
            if ('\u{7f}'..='\u{9f}').contains(&c) {
                writer.write_all(fragment.get(start..i).unwrap_or_default().as_bytes())?;
                write!(writer, "\\u{:04X}", u32::from(c))?;
                start = i + c.len_utf8();
            }
        }
        writer.write_all(fragment.get(start..).unwrap_or_default().as_bytes())
    }

    fn write_char_escape<W: ?Sized + io::Write>(
        &mut self,
        writer: &mut W,
        char_escape: CharEscape,
    ) -> io::Result<()> {
        match char_escape {
            CharEscape::AsciiControl(byte) => write!(writer, "\\u{byte:04X}"),
            other => CompactFormatter.write_char_escape(writer, other),
        }
    }
}

/// JSON Lines: one compact JSON object per row (see [`Node::rows`]), each ending in `\n`.
pub fn write_lines(node: &Node, casing: Casing) -> Vec<u8> {
    let mut out = Vec::new();
    for row in node.rows() {
        out.extend(write(row, casing));
        out.push(b'\n');
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(non_snake_case)]
    use super::*;

    #[test]
    fn strings_are_escaped_as_servicestack_text_escapes_them() {
        let mut out = Vec::new();
        to_writer(
            &mut out,
            "a\u{1f}b\u{7f}c\u{85}d\u{a0}é\n\t\"\\\u{0}\u{b}/<",
        )
        .unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "\"a\\u001Fb\\u007Fc\\u0085d\u{a0}é\\n\\t\\\"\\\\\\u0000\\u000B/<\""
        );
    }
    use crate::wire::node::to_node;
    use crate::wire::types::Guid;
    use serde::Serialize;

    #[derive(Serialize)]
    struct Row {
        CustomerLinkUID: Guid,
        #[serde(skip_serializing_if = "Option::is_none")]
        RevokedAtUtc: Option<UtcDateTime>,
        ViewCount: u32,
    }

    #[derive(Serialize)]
    struct Reply {
        Links: Vec<Row>,
    }

    #[test]
    fn camel_case_and_the_direct_path_agree_on_values() {
        let reply = Reply {
            Links: vec![Row {
                CustomerLinkUID: Guid(uuid::Uuid::from_u128(255)),
                RevokedAtUtc: None,
                ViewCount: 0,
            }],
        };
        let node = to_node(&reply).unwrap();
        let pascal = String::from_utf8(write(&node, Casing::Pascal)).unwrap();
        assert_eq!(pascal, serde_json::to_string(&reply).unwrap());
        let camel = String::from_utf8(write(&node, Casing::Camel)).unwrap();
        assert_eq!(
            camel,
            r#"{"links":[{"customerLinkUID":"000000000000000000000000000000ff","viewCount":0}]}"#
        );
        let lines = String::from_utf8(write_lines(&node, Casing::Pascal)).unwrap();
        assert_eq!(
            lines,
            "{\"CustomerLinkUID\":\"000000000000000000000000000000ff\",\"ViewCount\":0}\n"
        );
    }
}
