//! JSON written from a [`Node`], for the cases the direct serde path cannot serve: camelCase
//! member names, JSONL rows and JSONP. Null members are omitted, default values are written,
//! Guids are 32 hex digits and dates ISO 8601 with 7 fraction digits and `Z`
//! (servicestack-wire.md §2.2–2.3), exactly as the direct path writes them.

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
    serde_json::to_vec(&to_value(node, casing)).unwrap_or_default()
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
