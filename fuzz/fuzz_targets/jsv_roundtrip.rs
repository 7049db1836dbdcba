#![no_main]
//! `jsv_roundtrip`: structured trees (via `arbitrary`) → `Node` → `jsv::write` (PascalCase and
//! camelCase) → `jsv::parse` must give exactly the value the reader's documented rules
//! promise: every string exactly as written, edge blanks included (ServiceStack's writer
//! never quotes them and the reader keeps them); every scalar a string (`True`/`False`, decimal integers, Guids as 32 hex digits),
//! null members and null dictionary values omitted, lists in order, a null list element an
//! empty slot (so a list whose only item is null reads back as `[]`), `""` the empty string.

use customerlink::wire::casing::Casing;
use customerlink::wire::jsv;
use customerlink::wire::node::Node;
use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;
use serde_json::{Map, Value};
use uuid::Uuid;

/// DTO member names: PascalCase-ish, as DTOs declare them (including runs of capitals, digits
/// and underscores, whose camelCase forms differ and can collide, e.g. `ID`/`Id` → `id`).
const NAMES: [&str; 16] = [
    "Id",
    "ID",
    "Name",
    "ResourceType",
    "ResourceUid",
    "CustomerLinkUID",
    "SMSOptIn",
    "URLValue",
    "Tags",
    "Items",
    "Meta",
    "ResponseStatus",
    "X",
    "A1",
    "Value_2",
    "already",
];

/// Containers deeper than this become strings, so the reader's 64-level limit is never hit.
const MAX_DEPTH: usize = 24;

#[derive(Debug, Arbitrary)]
enum Tree {
    Null,
    Bool(bool),
    Int(i64),
    UInt(u64),
    Str(String),
    Guid(u128),
    List(Vec<Tree>),
    /// A DTO; member names are picked from [`NAMES`] by index.
    Object(Vec<(u8, Tree)>),
    /// A dictionary; its keys are arbitrary data.
    Map(Vec<(String, Tree)>),
}

#[derive(Debug, Arbitrary)]
struct Root {
    members: Vec<(u8, Tree)>,
}

fuzz_target!(|root: Root| {
    let node = object(&root.members, 0);
    for casing in [Casing::Pascal, Casing::Camel] {
        let written = jsv::write(&node, casing);
        let parsed = jsv::parse(&written)
            .unwrap_or_else(|e| panic!("our own JSV does not parse ({casing:?}): {e}\n{written}"));
        let expected = expected(&node, casing);
        assert_eq!(
            parsed, expected,
            "round trip ({casing:?}) changed the value\nwritten: {written}"
        );
    }
});

fn object(members: &[(u8, Tree)], depth: usize) -> Node {
    Node::Object {
        type_name: "T",
        members: members
            .iter()
            .map(|(i, t)| (NAMES[usize::from(*i) % NAMES.len()], build(t, depth + 1)))
            .collect(),
    }
}

fn build(tree: &Tree, depth: usize) -> Node {
    let too_deep = depth >= MAX_DEPTH;
    match tree {
        Tree::Null => Node::Null,
        Tree::Bool(b) => Node::Bool(*b),
        Tree::Int(i) => Node::Int(*i),
        Tree::UInt(u) => Node::UInt(*u),
        Tree::Str(s) => Node::Str(s.clone()),
        Tree::Guid(g) => Node::Guid(Uuid::from_u128(*g)),
        Tree::List(_) | Tree::Object(_) | Tree::Map(_) if too_deep => Node::Str("deep".into()),
        Tree::List(items) => Node::List(items.iter().map(|t| build(t, depth + 1)).collect()),
        Tree::Object(members) => object(members, depth),
        Tree::Map(entries) => Node::Map(
            entries
                .iter()
                .map(|(k, t)| (k.clone(), build(t, depth + 1)))
                .collect(),
        ),
    }
}

/// A dictionary key as read back: member names are trimmed (as ServiceStack trims them), and
/// the writer quotes a key only for an escape char (then it is kept exactly), so an unquoted
/// key loses its edge blanks. No request DTO has a dictionary.
fn map_key(key: &str) -> String {
    const ESCAPE_CHARS: [char; 9] = ['"', ':', ',', '{', '}', '[', ']', '\r', '\n'];
    if key.is_empty() || key.contains(ESCAPE_CHARS) {
        key.to_owned()
    } else {
        key.trim_matches([' ', '\t']).to_owned()
    }
}

/// The value `jsv::parse` must return for `write(node, casing)`. Later members with the same
/// (cased) name overwrite earlier ones, as the reader's map does.
fn expected(node: &Node, casing: Casing) -> Value {
    let text = |s: String| Value::String(s);
    match node {
        Node::Null => Value::Null,
        Node::Bool(b) => text(if *b { "True" } else { "False" }.into()),
        Node::Int(i) => text(i.to_string()),
        Node::UInt(u) => text(u.to_string()),
        Node::Str(s) => text(s.clone()),
        Node::Guid(g) => text(g.simple().to_string()),
        Node::List(items) if matches!(items.as_slice(), [Node::Null]) => Value::Array(vec![]),
        Node::List(items) => Value::Array(items.iter().map(|n| expected(n, casing)).collect()),
        Node::Object { members, .. } => members_of(
            members
                .iter()
                .map(|(k, v)| (casing.apply(k).into_owned(), v)),
            casing,
        ),
        Node::Map(entries) => members_of(entries.iter().map(|(k, v)| (map_key(k), v)), casing),
        Node::Float(_) | Node::Date(_) => unreachable!("not generated"),
    }
}

fn members_of<'a>(entries: impl Iterator<Item = (String, &'a Node)>, casing: Casing) -> Value {
    let mut map = Map::new();
    for (key, value) in entries.filter(|(_, v)| **v != Node::Null) {
        map.insert(key, expected(value, casing));
    }
    Value::Object(map)
}
