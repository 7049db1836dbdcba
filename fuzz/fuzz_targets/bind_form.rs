#![no_main]
//! `bind_form`: query strings and `application/x-www-form-urlencoded` bodies. The input is
//! `QUERY\nFORM` (UTF-8; without a newline it is only a query): `wire::form::pairs` on both,
//! then binding into every request DTO with `Sources { query, form, .. }`. Never panics; the
//! path-segment decoder `percent_decode` is the identity on text without `%` and inverts
//! `%XX` encoding.

mod common;

use customerlink::wire::form::{get, pairs, percent_decode};
use libfuzzer_sys::{Corpus, fuzz_target};

fuzz_target!(|data: &[u8]| -> Corpus {
    let Ok(text) = std::str::from_utf8(data) else {
        return Corpus::Reject;
    };
    let (query_text, form_text) = text.split_once('\n').unwrap_or((text, ""));
    let query = pairs(query_text);
    let form = pairs(form_text);
    for (key, value) in query.iter().chain(&form) {
        assert!(
            !key.is_empty() || !value.is_empty() || text.contains('='),
            "empty pair"
        );
    }
    if let Some((k, v)) = query.first() {
        let found = get(&query, &k.to_ascii_uppercase());
        assert_eq!(
            found,
            Some(v.as_str()),
            "get is case-insensitive and finds the first"
        );
    }
    common::bind_all(common::Input {
        query: &query,
        form: &form,
        ..common::Input::default()
    });
    // Percent-decoding (path segments) on the raw text.
    let decoded = percent_decode(text);
    if !text.contains('%') {
        assert_eq!(decoded.as_deref(), Some(text), "nothing to decode");
    }
    let upper: String = text.bytes().map(|b| format!("%{b:02X}")).collect();
    assert_eq!(percent_decode(&upper).as_deref(), Some(text));
    let lower: String = text.bytes().map(|b| format!("%{b:02x}")).collect();
    assert_eq!(percent_decode(&lower).as_deref(), Some(text));
    Corpus::Keep
});
