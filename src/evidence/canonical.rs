//! The canonical byte form of an evidence document, which its `Signature` signs: the JSON
//! document without its top-level `Signature` (and `ResponseStatus`), members whose value is
//! null dropped at every level, object keys sorted by their UTF-8 bytes, no whitespace,
//! strings escaped as JSON requires and nothing more (non-ASCII stays UTF-8). The same bytes
//! come out of Python's `json.dumps(doc, sort_keys=True, separators=(",", ":"),
//! ensure_ascii=False)` after dropping nulls (docs/evidence.md); documents hold no floats.

use serde_json::Value;

/// Members of the reply that the signature does not cover.
const UNSIGNED: &[&str] = &["Signature", "ResponseStatus"];

/// The bytes the document's signature is made over (see the module doc).
pub fn canonical_json(doc: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    match doc {
        Value::Object(members) => {
            let signed = members
                .iter()
                .filter(|(k, _)| !UNSIGNED.contains(&k.as_str()));
            write_object(signed, &mut out);
        }
        other => write(other, &mut out),
    }
    out
}

fn write(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::Object(members) => write_object(members.iter(), out),
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write(item, out);
            }
            out.push(b']');
        }
        scalar => out.extend_from_slice(scalar.to_string().as_bytes()),
    }
}

fn write_object<'a>(members: impl Iterator<Item = (&'a String, &'a Value)>, out: &mut Vec<u8>) {
    let mut members: Vec<_> = members.filter(|(_, v)| !v.is_null()).collect();
    members.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    out.push(b'{');
    for (i, (key, value)) in members.into_iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(Value::String(key.clone()).to_string().as_bytes());
        out.push(b':');
        write(value, out);
    }
    out.push(b'}');
}

#[cfg(test)]
mod tests {
    use super::canonical_json;
    use serde_json::json;

    #[test]
    fn sorts_keys_drops_nulls_and_the_signature_and_escapes_minimally() {
        let doc = json!({"b": 1, "Signature": "x", "a": {"z": null, "y": ["é\n", null, true]}});
        let text = String::from_utf8(canonical_json(&doc)).unwrap();
        assert_eq!(text, r#"{"a":{"y":["é\n",null,true]},"b":1}"#);
    }
}
