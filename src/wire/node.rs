//! A format-neutral tree of a serialised DTO. Every format except the default PascalCase JSON
//! is written from it, so each DTO still has exactly one serde derive. Unlike
//! `serde_json::Value` it remembers what the formats need: DTO type names (XML list items),
//! members skipped because they are null (XML writes `i:nil`), and which strings are Guids
//! and dates (each format writes those its own way).

use serde::ser::{self, Serialize};
use uuid::Uuid;

use super::types::{Guid, UtcDateTime};

/// Newtype names by which [`Guid`] and [`UtcDateTime`] make themselves known to this serializer.
pub(super) const GUID_TOKEN: &str = "$customerlink::Guid";
pub(super) const DATE_TOKEN: &str = "$customerlink::UtcDateTime";

/// One serialised value.
#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    Null,
    Bool(bool),
    Int(i64),
    UInt(u64),
    Float(f64),
    Str(String),
    /// A UTC instant, Unix milliseconds.
    Date(i64),
    Guid(Uuid),
    List(Vec<Node>),
    /// A DTO: its type name and members in declaration order; null members are `Node::Null`.
    Object {
        type_name: &'static str,
        members: Vec<(&'static str, Node)>,
    },
    /// A dictionary; its keys are data and are never re-cased.
    Map(Vec<(String, Node)>),
}

/// Why a value could not become a [`Node`] (only for shapes DTOs never use).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct NodeError(String);

impl ser::Error for NodeError {
    fn custom<T: std::fmt::Display>(msg: T) -> Self {
        NodeError(msg.to_string())
    }
}

/// Serialises any DTO into a [`Node`].
pub fn to_node<T: Serialize + ?Sized>(value: &T) -> Result<Node, NodeError> {
    value.serialize(NodeSerializer)
}

impl Node {
    /// The records JSONL writes: a list's items; for a DTO its first list member other than
    /// `ResponseStatus`, else its first object member as one record, else the DTO itself.
    /// (CSV decides from the type instead, see `wire::csv::Shape`.)
    pub fn rows(&self) -> Vec<&Node> {
        match self {
            Node::List(items) => items.iter().collect(),
            Node::Object { members, .. } => {
                let others = || members.iter().filter(|(name, _)| *name != "ResponseStatus");
                let list = others().find_map(|(_, value)| match value {
                    Node::List(items) => Some(items),
                    _ => None,
                });
                if let Some(items) = list {
                    return items.iter().collect();
                }
                let object = others().find(|(_, value)| matches!(value, Node::Object { .. }));
                vec![object.map_or(self, |(_, value)| value)]
            }
            _ => vec![self],
        }
    }
}

struct NodeSerializer;

fn int<T: TryInto<i64>>(v: T) -> Node {
    v.try_into().map_or(Node::Null, Node::Int)
}

impl ser::Serializer for NodeSerializer {
    type Ok = Node;
    type Error = NodeError;
    type SerializeSeq = SeqBuilder;
    type SerializeTuple = SeqBuilder;
    type SerializeTupleStruct = SeqBuilder;
    type SerializeTupleVariant = SeqBuilder;
    type SerializeMap = MapBuilder;
    type SerializeStruct = StructBuilder;
    type SerializeStructVariant = StructBuilder;

    fn serialize_bool(self, v: bool) -> Result<Node, NodeError> {
        Ok(Node::Bool(v))
    }
    fn serialize_i8(self, v: i8) -> Result<Node, NodeError> {
        Ok(int(v))
    }
    fn serialize_i16(self, v: i16) -> Result<Node, NodeError> {
        Ok(int(v))
    }
    fn serialize_i32(self, v: i32) -> Result<Node, NodeError> {
        Ok(int(v))
    }
    fn serialize_i64(self, v: i64) -> Result<Node, NodeError> {
        Ok(Node::Int(v))
    }
    fn serialize_u8(self, v: u8) -> Result<Node, NodeError> {
        Ok(Node::UInt(v.into()))
    }
    fn serialize_u16(self, v: u16) -> Result<Node, NodeError> {
        Ok(Node::UInt(v.into()))
    }
    fn serialize_u32(self, v: u32) -> Result<Node, NodeError> {
        Ok(Node::UInt(v.into()))
    }
    fn serialize_u64(self, v: u64) -> Result<Node, NodeError> {
        Ok(Node::UInt(v))
    }
    fn serialize_f32(self, v: f32) -> Result<Node, NodeError> {
        Ok(Node::Float(v.into()))
    }
    fn serialize_f64(self, v: f64) -> Result<Node, NodeError> {
        Ok(Node::Float(v))
    }
    fn serialize_char(self, v: char) -> Result<Node, NodeError> {
        Ok(Node::Str(v.to_string()))
    }
    fn serialize_str(self, v: &str) -> Result<Node, NodeError> {
        Ok(Node::Str(v.to_owned()))
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<Node, NodeError> {
        Ok(Node::List(
            v.iter().map(|b| Node::UInt((*b).into())).collect(),
        ))
    }
    fn serialize_none(self) -> Result<Node, NodeError> {
        Ok(Node::Null)
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<Node, NodeError> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<Node, NodeError> {
        Ok(Node::Null)
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<Node, NodeError> {
        Ok(Node::Null)
    }
    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
    ) -> Result<Node, NodeError> {
        Ok(Node::Str(variant.to_owned()))
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        name: &'static str,
        value: &T,
    ) -> Result<Node, NodeError> {
        let inner = value.serialize(NodeSerializer)?;
        Ok(match (name, inner) {
            (GUID_TOKEN, Node::Str(s)) => Guid::parse(&s).map_or(Node::Str(s), |g| Node::Guid(g.0)),
            (DATE_TOKEN, Node::Str(s)) => {
                UtcDateTime::parse(&s).map_or(Node::Str(s), |d| Node::Date(d.0))
            }
            (_, inner) => inner,
        })
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<Node, NodeError> {
        Ok(Node::Map(vec![(
            variant.to_owned(),
            value.serialize(NodeSerializer)?,
        )]))
    }
    fn serialize_seq(self, len: Option<usize>) -> Result<SeqBuilder, NodeError> {
        Ok(SeqBuilder(Vec::with_capacity(len.unwrap_or(0))))
    }
    fn serialize_tuple(self, len: usize) -> Result<SeqBuilder, NodeError> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_struct(self, _: &'static str, len: usize) -> Result<SeqBuilder, NodeError> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        len: usize,
    ) -> Result<SeqBuilder, NodeError> {
        self.serialize_seq(Some(len))
    }
    fn serialize_map(self, _: Option<usize>) -> Result<MapBuilder, NodeError> {
        Ok(MapBuilder::default())
    }
    fn serialize_struct(self, name: &'static str, len: usize) -> Result<StructBuilder, NodeError> {
        Ok(StructBuilder {
            type_name: name,
            members: Vec::with_capacity(len),
        })
    }
    fn serialize_struct_variant(
        self,
        name: &'static str,
        _: u32,
        _: &'static str,
        len: usize,
    ) -> Result<StructBuilder, NodeError> {
        self.serialize_struct(name, len)
    }
}

struct SeqBuilder(Vec<Node>);

impl SeqBuilder {
    fn push<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), NodeError> {
        self.0.push(value.serialize(NodeSerializer)?);
        Ok(())
    }
}

macro_rules! seq_impl {
    ($trait:ident, $method:ident) => {
        impl ser::$trait for SeqBuilder {
            type Ok = Node;
            type Error = NodeError;
            fn $method<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), NodeError> {
                self.push(value)
            }
            fn end(self) -> Result<Node, NodeError> {
                Ok(Node::List(self.0))
            }
        }
    };
}

seq_impl!(SerializeSeq, serialize_element);
seq_impl!(SerializeTuple, serialize_element);
seq_impl!(SerializeTupleStruct, serialize_field);
seq_impl!(SerializeTupleVariant, serialize_field);

#[derive(Default)]
struct MapBuilder {
    entries: Vec<(String, Node)>,
    key: Option<String>,
}

impl ser::SerializeMap for MapBuilder {
    type Ok = Node;
    type Error = NodeError;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), NodeError> {
        self.key = Some(match key.serialize(NodeSerializer)? {
            Node::Str(s) => s,
            Node::Int(i) => i.to_string(),
            Node::UInt(u) => u.to_string(),
            other => return Err(NodeError(format!("unsupported map key {other:?}"))),
        });
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), NodeError> {
        let key = self
            .key
            .take()
            .ok_or_else(|| NodeError("map value without key".into()))?;
        self.entries.push((key, value.serialize(NodeSerializer)?));
        Ok(())
    }
    fn end(self) -> Result<Node, NodeError> {
        Ok(Node::Map(self.entries))
    }
}

struct StructBuilder {
    type_name: &'static str,
    members: Vec<(&'static str, Node)>,
}

impl ser::SerializeStruct for StructBuilder {
    type Ok = Node;
    type Error = NodeError;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), NodeError> {
        self.members.push((key, value.serialize(NodeSerializer)?));
        Ok(())
    }
    /// serde calls this for members skipped by `skip_serializing_if` (our null members).
    fn skip_field(&mut self, key: &'static str) -> Result<(), NodeError> {
        self.members.push((key, Node::Null));
        Ok(())
    }
    fn end(self) -> Result<Node, NodeError> {
        Ok(Node::Object {
            type_name: self.type_name,
            members: self.members,
        })
    }
}

impl ser::SerializeStructVariant for StructBuilder {
    type Ok = Node;
    type Error = NodeError;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), NodeError> {
        ser::SerializeStruct::serialize_field(self, key, value)
    }
    fn end(self) -> Result<Node, NodeError> {
        ser::SerializeStruct::end(self)
    }
}

#[cfg(test)]
mod tests {
    #![allow(non_snake_case)]
    use super::*;
    use serde::Serialize;

    #[derive(Serialize)]
    struct Item {
        When: UtcDateTime,
        Id: Guid,
    }

    #[derive(Serialize)]
    struct Reply {
        #[serde(skip_serializing_if = "Option::is_none")]
        Missing: Option<String>,
        Items: Vec<Item>,
        Flag: bool,
    }

    #[test]
    fn keeps_type_names_nulls_guids_and_dates() {
        let reply = Reply {
            Missing: None,
            Items: vec![Item {
                When: UtcDateTime(1_000),
                Id: Guid(Uuid::from_u128(1)),
            }],
            Flag: true,
        };
        let node = to_node(&reply).unwrap();
        let Node::Object { type_name, members } = &node else {
            panic!("{node:?}")
        };
        assert_eq!(*type_name, "Reply");
        assert_eq!(members[0], ("Missing", Node::Null));
        let Node::List(items) = &members[1].1 else {
            panic!()
        };
        let Node::Object { type_name, members } = &items[0] else {
            panic!()
        };
        assert_eq!(*type_name, "Item");
        assert_eq!(members[0].1, Node::Date(1_000));
        assert_eq!(members[1].1, Node::Guid(Uuid::from_u128(1)));
        assert_eq!(node.rows().len(), 1);
        // serde_json still sees plain strings.
        let json = serde_json::to_string(&reply).unwrap();
        assert!(
            json.contains("\"When\":\"1970-01-01T00:00:01.0000000Z\""),
            "{json}"
        );
    }
}
