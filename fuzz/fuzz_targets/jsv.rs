#![no_main]
//! `jsv`: the JSV reader (`wire::jsv::parse` for `text/jsv` bodies, `parse_value` for query
//! values) on arbitrary UTF-8. Never panics; an error's offset lies inside the text; a body
//! `parse` accepts, `parse_value` reads identically; what `parse` returns survives
//! `write` → `parse` (modulo the reader's documented null rules); and the result binds.

mod common;

use customerlink::wire::casing::Casing;
use customerlink::wire::jsv;
use customerlink::wire::node::Node;
use libfuzzer_sys::{Corpus, fuzz_target};
use serde_json::Value;

fuzz_target!(|data: &[u8]| -> Corpus {
    let Ok(text) = std::str::from_utf8(data) else {
        return Corpus::Reject;
    };
    let as_value = jsv::parse_value(text);
    if let Err(e) = &as_value {
        assert!(e.offset <= text.len(), "offset {} past the end", e.offset);
    }
    match jsv::parse(text) {
        Err(e) => assert!(e.offset <= text.len(), "offset {} past the end", e.offset),
        Ok(value) => {
            assert!(value.is_object(), "a body parses to an object: {value:?}");
            assert_eq!(
                as_value.as_ref().ok(),
                Some(&value),
                "parse_value disagrees with parse"
            );
            let written = jsv::write(&to_node(&value), Casing::Pascal);
            let reread = jsv::parse(&written)
                .unwrap_or_else(|e| panic!("re-reading our own JSV {written:?} failed: {e}"));
            assert_eq!(
                reread,
                normalised(&value),
                "write → parse changed {written:?}"
            );
            common::bind_all(common::Input {
                body: Some(&value),
                ..common::Input::default()
            });
        }
    }
    Corpus::Keep
});

/// What the reader produced, as a tree the writer takes: objects become dictionaries (their
/// keys are data, quoted when needed), every scalar a string.
fn to_node(value: &Value) -> Node {
    match value {
        Value::Null => Node::Null,
        Value::String(s) => Node::Str(s.clone()),
        Value::Array(items) => Node::List(items.iter().map(to_node).collect()),
        Value::Object(map) => Node::Map(map.iter().map(|(k, v)| (k.clone(), to_node(v))).collect()),
        other => {
            unreachable!("the JSV reader only makes strings, nulls, lists and objects: {other:?}")
        }
    }
}

/// A key as it reads back once written: the writer quotes a key only for an escape char (it is
/// then kept exactly); an unquoted key is trimmed like every member name.
fn written_key(key: &str) -> String {
    const ESCAPE_CHARS: [char; 9] = ['"', ':', ',', '{', '}', '[', ']', '\r', '\n'];
    if key.is_empty() || key.contains(ESCAPE_CHARS) {
        key.to_owned()
    } else {
        key.trim_matches([' ', '\t']).to_owned()
    }
}

/// The reader's documented view of a written value: null members are not written, a list
/// whose only item is null is written `[]`, which reads back as an empty list, and unquoted
/// keys lose their edge blanks.
fn normalised(value: &Value) -> Value {
    match value {
        Value::Array(items) if items.len() == 1 && items[0].is_null() => Value::Array(vec![]),
        Value::Array(items) => Value::Array(items.iter().map(normalised).collect()),
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (written_key(k), normalised(v)))
                .collect(),
        ),
        other => other.clone(),
    }
}
