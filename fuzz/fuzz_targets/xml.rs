#![no_main]
//! `xml`: DataContract XML request bodies (`wire::xml::parse`) on arbitrary bytes. Never
//! panics; refuses DTDs and unknown entities; an accepted document is an object (the root's
//! children) whose leaves are strings or nulls, and it binds into every request DTO.

mod common;

use customerlink::wire::xml;
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    match xml::parse(data) {
        Ok(value) => {
            assert!(value.is_object(), "the root becomes an object: {value:?}");
            assert_leaves(&value);
            common::bind_all(common::Input {
                body: Some(&value),
                ..common::Input::default()
            });
        }
        Err(e) => assert!(!e.message.is_empty()),
    }
});

/// The reader makes only objects, arrays, strings and nulls.
fn assert_leaves(value: &Value) {
    match value {
        Value::Object(map) => map.values().for_each(assert_leaves),
        Value::Array(items) => items.iter().for_each(assert_leaves),
        Value::String(_) | Value::Null => {}
        other => panic!("unexpected {other:?} from the XML reader"),
    }
}
